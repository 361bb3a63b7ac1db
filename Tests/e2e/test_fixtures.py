"""Fixture format (issue 7): the JSON Schema in seed/ matches what the server accepts and what it exports."""
import json
import subprocess
from pathlib import Path

import jsonschema
import requests
import yaml

import support

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "seed" / "schema.json").read_text())


def test_the_example_world_follows_the_schema():
    jsonschema.validate(yaml.safe_load((REPO / "seed" / "example.yaml").read_text()), SCHEMA)


def test_the_exported_state_follows_the_schema_and_seed_check_accepts_it(server, tmp_path):
    state = requests.get(f"{server.url}/_mock/state", timeout=30).json()
    jsonschema.validate(state, SCHEMA)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    out = subprocess.run([str(support.binary_path()), "seed", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: 1 fixture file(s)"


def test_seed_check_reports_every_problem_with_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("api_keys:\n  - {access_key: nope, secret_key: 00000000-0000-4000-8000-000000000009}\n"
                   "namespaces:\n  - {name: Bad_}\ncontainers:\n  - {namespace: x, name: c, port: \"eighty\"}\n")
    out = subprocess.run([str(support.binary_path()), "seed", "check", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert f"{bad}: api_keys[0].access_key: expected SCW followed by 17 characters A-Z or 0-9" in lines
    assert any(l.startswith(f"{bad}: namespaces[0].name: namespace name must begin") for l in lines)
    assert any(l.startswith(f"{bad}: containers[0].port:") for l in lines)
