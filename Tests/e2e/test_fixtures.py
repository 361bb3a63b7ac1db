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
    # file:line: field: what was expected
    assert f"{bad}:2: api_keys[0].access_key: expected SCW followed by 17 characters A-Z or 0-9" in lines
    assert any(l.startswith(f"{bad}:4: namespaces[0].name: namespace name must begin") for l in lines)
    assert any(l.startswith(f"{bad}:6: containers[0].port:") for l in lines)


def test_faults_reach_the_official_sdk_as_its_exceptions(server):
    """PUT /_mock/faults answers with Scaleway's body for the status, which the SDK raises as ScalewayException."""
    from scaleway import Client
    from scaleway.container.v1 import ContainerV1API
    from scaleway_core.api import ScalewayException

    api = ContainerV1API(Client(access_key=support.DEFAULT_ACCESS_KEY, secret_key=support.DEFAULT_SECRET_KEY, api_url=server.url,
                                default_project_id=support.DEFAULT_PROJECT, default_region="fr-par"))
    rules = {"faults": [{"method": "GET", "path": "/containers/v1/regions/*/namespaces", "status": 503, "count": 1},
                        {"method": "GET", "path": "/containers/v1/regions/*/namespaces/*", "status": 404, "count": 1}]}
    assert requests.put(f"{server.url}/_mock/faults", json=rules, timeout=30).status_code == 200
    try:
        try:
            api.list_namespaces()
            raise AssertionError("the injected 503 did not reach the SDK")
        except ScalewayException as e:
            assert e.status_code == 503
            assert e.response.json() == {"message": "error while authenticating, please retry later"}
        ns_id = "11111111-2222-4333-8444-555555555555"
        try:
            api.get_namespace(namespace_id=ns_id)
            raise AssertionError("the injected 404 did not reach the SDK")
        except ScalewayException as e:
            assert e.status_code == 404
            assert e.response.json() == {"message": "resource is not found", "resource": "namespace", "resource_id": ns_id, "type": "not_found"}
        # Counted rules are used up: the next call goes through.
        assert isinstance(api.list_namespaces().namespaces, list)
    finally:
        requests.delete(f"{server.url}/_mock/faults", timeout=30)


def test_reset_to_the_example_world_is_fast(tmp_path):
    """POST /_mock/reset with the example seed (target < 50 ms)."""
    proc = subprocess.Popen([str(support.binary_path()), "serve", "--port", "0", "--database", str(tmp_path / "s.sqlite"),
                             "--seed", str(REPO / "seed"), "--runtime", "off", "--key-size", "2048"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        url = proc.stdout.readline().split("SCW_API_URL=")[1].split()[0]
        durations = []
        for _ in range(5):
            r = requests.post(f"{url}/_mock/reset", timeout=30)
            assert r.status_code == 200
            durations.append(r.json()["duration_ms"])
        names = sorted(c["name"] for c in requests.get(f"{url}/containers/v1/regions/fr-par/containers",
                                                        headers={"X-Auth-Token": support.DEFAULT_SECRET_KEY}, timeout=30).json()["containers"])
        assert names == ["private-api", "public-web"]
        print(f"reset_ms={sorted(durations)}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
