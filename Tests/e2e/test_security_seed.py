"""Fixtures posted at run time are data only, and fixture documents are bounded (reliability catalog C03-C05).

- `POST /_mock/seed` refuses what acts on the mock's machine: command mappings (`images:`, `runtimes:`, their
  `working_directory`), and paths (`code`, `key_file`, `token_file`), with a 400 naming each field, and applies nothing
  of the document; `--trust-posted-seeds` lets them through. Inline content (`code_base64`, `key_pem`) stays allowed.
- `scw-mock seed check` warns (exit code unchanged) about paths that leave the fixture's folder.
- A YAML alias bomb, or a document with too many nodes or bytes, is refused with the limit, through `POST /_mock/seed`
  (400, cheap in memory and time) and through `--seed` (exit code 2).
- A token file is written 0600.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import requests
import yaml

import support

REPO = Path(__file__).resolve().parents[2]
KEY_1 = REPO / "Keys" / "dev-namespace-1.pem"
KEY_2 = REPO / "Keys" / "dev-namespace-2.pem"
NODE_LIMIT = 250000
C1 = "/containers/v1/regions/fr-par"
FB = "/functions/v1beta1/regions/fr-par"
TRUST_FLAG = "--trust-posted-seeds"

# A "billion laughs": ten levels of ten aliases, 10^9 nodes once expanded, about 500 bytes of text.
BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    + ["namespaces: *a9"]) + "\n"


def post_seed(server, document: dict, as_json: bool) -> requests.Response:
    """POST /_mock/seed the way a client would: JSON, or YAML sent as text/plain."""
    if as_json:
        return requests.post(f"{server.url}/_mock/seed", data=json.dumps(document),
                             headers={"Content-Type": "application/json"}, timeout=60)
    return requests.post(f"{server.url}/_mock/seed", data=yaml.safe_dump(document),
                         headers={"Content-Type": "text/plain"}, timeout=60)


def refused_fields(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "invalid_arguments" and body["message"] == "invalid argument(s)", body
    return {d["argument_name"]: d["help_message"] for d in body["details"]}


def zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def public_pkcs1(private_pem: Path) -> str:
    """The PKCS#1 PEM public key of a private key file (what GET /_mock/namespaces/{id}/public-key answers)."""
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(private_pem.read_bytes(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()


def namespace_names(server) -> set[str]:
    names = {n["name"] for n in server.get(f"{C1}/namespaces").json()["namespaces"]}
    return names | {n["name"] for n in server.get(f"{FB}/namespaces").json()["namespaces"]}


def reset_peak_rss(pid: int) -> int:
    """Resets the process's peak RSS (VmHWM) to its current RSS and returns that, in KiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return rss_kib(pid)


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory):
    """A server started without --trust-posted-seeds (the default)."""
    workdir = tmp_path_factory.mktemp("seed-untrusted")
    srv = support.MockServer(db_path=workdir / "s.sqlite", seed_paths=[], workdir=workdir, key_pool=2).start()
    yield srv
    assert srv.stop() == 0, srv.stderr_tail()


def secret_folder(tmp_path: Path) -> Path:
    """What an attacker would like to read: a folder of the mock's machine holding a secret."""
    folder = tmp_path / "victim"
    folder.mkdir(exist_ok=True)
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n")
    return folder


# One attack per field: the document, and the field the 400 must name.
ATTACKS = {
    "images.command": (lambda t: {"images": [{"image": "*", "command": ["sh", "-c", f"touch {t}/pwned"]}]},
                       ["images[0].command"]),
    "runtimes.command": (lambda t: {"runtimes": [{"runtime": "*", "command": ["sh", "-c", f"touch {t}/pwned"]}]},
                         ["runtimes[0].command"]),
    "working_directory": (lambda t: {"images": [{"image": "x", "command": ["true"], "working_directory": "/"}]},
                          ["images[0].command", "images[0].working_directory"]),
    "key_file": (lambda t: {"namespaces": [{"name": "stolen-key", "key_file": str(KEY_1)}]}, ["namespaces[0].key_file"]),
    "code": (lambda t: {"functions": [{"namespace": "fns", "name": "stolen", "runtime": "python311",
                                       "code": str(secret_folder(t))}]}, ["functions[0].code"]),
    "token_file": (lambda t: {"tokens": [{"namespace": "fns"}], "token_file": str(t / "written.json")}, ["token_file"]),
}


@pytest.mark.parametrize("as_json", [False, True], ids=["yaml-text-plain", "json"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_posted_fixture_refuses_commands_and_paths_and_applies_nothing(untrusted, tmp_path, attack, as_json):
    make, fields = ATTACKS[attack]
    document = make(tmp_path)
    # Data the same document carries: none of it may be applied once a field is refused.
    marker = f"m-{attack.replace('.', '-').replace('_', '-')}-{'j' if as_json else 'y'}"
    document["namespaces"] = document.get("namespaces", []) + [{"name": marker}, {"name": "fns", "kind": "function"}]
    refused = refused_fields(post_seed(untrusted, document, as_json))
    assert sorted(refused) == sorted(fields), refused
    for field in fields:
        assert TRUST_FLAG in refused[field], refused
    names = namespace_names(untrusted)
    assert marker not in names and "stolen-key" not in names, names
    assert "stolen" not in {f["name"] for f in untrusted.get(f"{FB}/functions").json()["functions"]}
    assert not (tmp_path / "written.json").exists()
    assert not (tmp_path / "pwned").exists()


def test_posted_fixture_names_every_refused_field_at_once(untrusted, tmp_path):
    document = {k: v for _, (make, _) in ATTACKS.items() for k, v in make(tmp_path).items() if k != "namespaces"}
    document["namespaces"] = [{"name": "a", "key_file": "x.pem"}, {"name": "b"}, {"name": "c", "key_file": "/etc/ssl/k.pem"}]
    refused = refused_fields(post_seed(untrusted, document, as_json=True))
    assert {"images[0].command", "runtimes[0].command", "namespaces[0].key_file", "namespaces[2].key_file",
            "functions[0].code", "token_file"} <= set(refused), refused


def test_inline_code_and_key_stay_allowed_without_the_flag(untrusted):
    archive = zip_bytes({"handler.py": "def handle(event, context):\n    return {'body': 'hi'}\n"})
    document = {
        "namespaces": [{"name": "inline-keyed", "key_pem": KEY_2.read_text()}, {"name": "inline-fns", "kind": "function"}],
        "functions": [{"namespace": "inline-fns", "name": "inline", "runtime": "python311", "handler": "handler.handle",
                       "code_base64": base64.b64encode(archive).decode()}],
    }
    r = post_seed(untrusted, document, as_json=False)
    assert r.status_code == 200, r.text
    state = requests.get(f"{untrusted.url}/_mock/state", timeout=30).json()
    keyed = next(n for n in state["namespaces"] if n["name"] == "inline-keyed")
    assert untrusted.get(f"/_mock/namespaces/{keyed['id']}/public-key", token=None).text == public_pkcs1(KEY_2)
    function = next(f for f in state["functions"] if f["name"] == "inline")
    assert base64.b64decode(function["code_base64"]) == archive


def test_the_opt_in_flag_lets_posted_fixtures_name_commands_and_files(server_factory, tmp_path):
    srv = server_factory(key_pool=2, extra_args=[TRUST_FLAG])
    folder = secret_folder(tmp_path)
    document = {
        "images": [{"image": "example.com/trusted:*", "command": ["true"], "working_directory": str(tmp_path)}],
        "runtimes": [{"runtime": "python3*", "command": ["true"]}],
        "namespaces": [{"name": "trusted", "key_file": str(KEY_1)}, {"name": "trusted-fns", "kind": "function"}],
        "functions": [{"namespace": "trusted-fns", "name": "from-folder", "runtime": "python311", "code": str(folder),
                       "deploy": False}],
        "tokens": [{"namespace": "trusted"}],
        "token_file": str(tmp_path / "tokens.json"),
    }
    r = post_seed(srv, document, as_json=True)
    assert r.status_code == 200, r.text
    state = requests.get(f"{srv.url}/_mock/state", timeout=30).json()
    trusted = next(n for n in state["namespaces"] if n["name"] == "trusted")
    assert srv.get(f"/_mock/namespaces/{trusted['id']}/public-key", token=None).text == public_pkcs1(KEY_1)
    code = base64.b64decode(next(f for f in state["functions"] if f["name"] == "from-folder")["code_base64"])
    with zipfile.ZipFile(io.BytesIO(code)) as z:
        assert z.namelist() == ["id_rsa"]
    tokens = tmp_path / "tokens.json"
    assert len(json.loads(tokens.read_text())) == 1
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600


def test_token_file_of_a_start_fixture_is_private(tmp_path):
    fixture = tmp_path / "world.yaml"
    fixture.write_text("namespaces:\n  - {name: world}\ntokens:\n  - {namespace: world, description: ci}\ntoken_file: tokens.json\n")
    old = os.umask(0o022)  # the usual umask: files default to world-readable
    try:
        srv = support.MockServer(db_path=tmp_path / "s.sqlite", seed_paths=[fixture], workdir=tmp_path, key_pool=2).start()
    finally:
        os.umask(old)
    try:
        tokens = tmp_path / "tokens.json"
        assert len(json.loads(tokens.read_text())) == 1
        assert stat.S_IMODE(tokens.stat().st_mode) == 0o600, oct(tokens.stat().st_mode)
    finally:
        assert srv.stop() == 0


# --- seed check: paths leaving the fixture's folder ------------------------------------------------------------------


def seed_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(support.binary_path()), "seed", "check", str(path)], capture_output=True, text=True, timeout=60)


def test_seed_check_warns_about_paths_leaving_the_fixture_folder(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "x.pem").write_text(KEY_1.read_text())
    (tmp_path / "code.zip").write_bytes(zip_bytes({"index.js": "exports.handle = () => 'hi'\n"}))
    folder = tmp_path / "fixtures" / "team"
    (folder / "sub").mkdir(parents=True)
    fixture = folder / "world.yaml"
    fixture.write_text(
        "namespaces:\n"
        "  - {name: up, key_file: ../../keys/x.pem}\n"
        f"  - {{name: abs, key_file: {keys / 'x.pem'}}}\n"
        "  - {name: fns, kind: function}\n"
        "functions:\n"
        "  - {namespace: fns, name: f, runtime: node22, code: ./sub/../../../code.zip}\n"
        "tokens:\n  - {namespace: up}\n"
        "token_file: /tmp/../etc/tokens.json\n")
    out = seed_check(fixture)
    # Warnings are not problems: the fixture is fine, the exit code stays 0.
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: 1 fixture file(s)"
    warnings = out.stderr.strip().splitlines()
    assert f"warning: {fixture}:2: namespaces[0].key_file: the path ../../keys/x.pem leads out of the fixture's folder" in warnings
    assert f"warning: {fixture}:3: namespaces[1].key_file: the path {keys / 'x.pem'} leads out of the fixture's folder" in warnings
    assert any(w.startswith(f"warning: {fixture}:6: functions[0].code: ") for w in warnings), warnings
    assert any(w.startswith(f"warning: {fixture}:9: token_file: ") for w in warnings), warnings
    assert len(warnings) == 4, warnings
    # Paths that stay inside the folder draw no warning; nor does the repository's example.
    (folder / "keys").mkdir()
    (folder / "keys" / "y.pem").write_text(KEY_2.read_text())
    inside = folder / "inside.yaml"
    inside.write_text("namespaces:\n  - {name: in, key_file: keys/../keys/y.pem}\ntokens:\n  - {namespace: in}\ntoken_file: out/../tokens.json\n")
    out = seed_check(inside)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    out = seed_check(REPO / "seed")
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr


def test_seed_check_prints_warnings_beside_problems(tmp_path):
    fixture = tmp_path / "bad.yaml"
    fixture.write_text("namespaces:\n  - {name: Bad_}\n  - {name: ok, key_file: /nonexistent/k.pem}\n")
    out = seed_check(fixture)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert f"warning: {fixture}:3: namespaces[1].key_file: the path /nonexistent/k.pem leads out of the fixture's folder" in lines
    assert f"{fixture}:3: namespaces[1].key_file: no such file /nonexistent/k.pem" in lines


# --- bounded documents -----------------------------------------------------------------------------------------------


def test_alias_bomb_through_post_is_refused_cheaply(untrusted):
    pid = untrusted.proc.pid
    before = reset_peak_rss(pid)
    started = time.monotonic()
    r = requests.post(f"{untrusted.url}/_mock/seed", data=BOMB, headers={"Content-Type": "text/plain"}, timeout=60)
    elapsed = time.monotonic() - started
    grown_mib = (rss_kib(pid, "VmHWM") - before) / 1024
    print(f"alias bomb: {len(BOMB)} bytes, answered in {elapsed * 1000:.1f} ms, peak RSS growth {grown_mib:.1f} MiB")
    refused = refused_fields(r)
    assert any(f"limit of {NODE_LIMIT} nodes" in message for message in refused.values()), refused
    assert elapsed < 1.0
    assert grown_mib < 50
    # The server is still answering.
    assert requests.get(f"{untrusted.url}/_mock/health", timeout=10).status_code == 200


def test_documents_with_too_many_nodes_are_refused_before_parsing(untrusted):
    document = "tags: [" + ",".join(["0"] * (NODE_LIMIT + 1)) + "]\n"
    pid = untrusted.proc.pid
    before = reset_peak_rss(pid)
    started = time.monotonic()
    r = requests.post(f"{untrusted.url}/_mock/seed", data=document, headers={"Content-Type": "text/plain"}, timeout=60)
    elapsed = time.monotonic() - started
    refused = refused_fields(r)
    assert any(f"limit of {NODE_LIMIT} separators" in message for message in refused.values()), refused
    assert (rss_kib(pid, "VmHWM") - before) / 1024 < 50
    assert elapsed < 5.0


def test_alias_bomb_and_huge_file_through_seed_exit_2_with_the_limit(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    started = time.monotonic()
    out = subprocess.run([str(support.binary_path()), "serve", "--port", "0", "--database", ":memory:", "--seed", str(bomb),
                          "--key-pool", "0"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env={k: v for k, v in os.environ.items() if not k.startswith("SCW_MOCK_")} | {"SCW_MOCK_RUNTIME": "off"})
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert time.monotonic() - started < 10
    assert f"{bomb}:1: -: the document expands (through its YAML aliases) to more than the limit of {NODE_LIMIT} nodes" in out.stderr
    assert seed_check(bomb).returncode == 2
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as f:
        f.write("description: |\n")
        line = "  " + "x" * 1022 + "\n"
        for _ in range(17 * 1024):
            f.write(line)
    out = seed_check(huge)
    assert out.returncode == 2, out
    assert f"{huge}: -: the document is larger than the limit of 16 MiB" in out.stderr, out.stderr
