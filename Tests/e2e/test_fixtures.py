"""Fixture format: the JSON Schema in seed/ matches what the server accepts and what it exports."""
import json
import sys
import time
import subprocess
from pathlib import Path

import jsonschema
import requests
import yaml

import support

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "seed" / "schema.json").read_text())


def seed_check(path: str) -> subprocess.CompletedProcess:
    """`scw-mock seed check PATH`: exit code, the ok line on stdout, one problem a line on stderr."""
    return subprocess.run([str(support.binary_path()), "seed", "check", str(path)], capture_output=True, text=True, timeout=60)


def seed_ok(path) -> str:
    """`seed check` accepts the fixtures; returns its ok line."""
    out = seed_check(path)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def seed_problems(path) -> list[str]:
    """`seed check` refuses the fixtures (exit code 2); returns its problem lines."""
    out = seed_check(path)
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    return out.stderr.strip().splitlines()


def test_the_example_world_follows_the_schema():
    jsonschema.validate(yaml.safe_load((REPO / "seed" / "example.yaml").read_text()), SCHEMA)


def test_the_exported_state_follows_the_schema_and_seed_check_accepts_it(server, tmp_path):
    state = requests.get(f"{server.url}/_mock/state", timeout=30).json()
    jsonschema.validate(state, SCHEMA)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert seed_ok(str(path)) == "ok: 1 fixture file(s)"


def test_seed_check_reports_every_problem_with_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("api_keys:\n  - {access_key: nope, secret_key: 00000000-0000-4000-8000-000000000009}\n"
                   "namespaces:\n  - {name: Bad_}\ncontainers:\n  - {namespace: x, name: c, port: \"eighty\"}\n")
    lines = seed_problems(str(bad))
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
        url = support.parse_export_line(proc.stdout.readline().rstrip("\n"))["SCW_API_URL"]
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


def _seeded_server(tmp_path, seeds, **kw):
    return support.MockServer(db_path=tmp_path / "s.sqlite", seed_paths=seeds, workdir=tmp_path, key_size=2048, **kw).start()


def _container_statuses(server):
    body = server.get("/containers/v1/regions/fr-par/containers").json()
    return {c["name"]: (c["status"], c.get("error_message")) for c in body["containers"]}


def _stay_ready(server, names, seconds=3.0):
    """Every named container reaches ready, then stays ready for a while (a killed process would show error)."""
    support.poll_until(lambda: _container_statuses(server), lambda s: all(s.get(n, ("",))[0] in ("ready", "error") for n in names), 30)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        statuses = _container_statuses(server)
        assert all(statuses[n][0] == "ready" for n in names), statuses
        time.sleep(0.2)


def test_seeded_containers_run_and_stay_ready_at_start_and_after_resets(tmp_path):
    """The seed's deploys are not killed by the start-up sweep of leftovers, nor deployed twice (audit gap 1)."""
    server = _seeded_server(tmp_path, [REPO / "seed"], runtime=True)
    try:
        names = ["private-api", "public-web"]
        _stay_ready(server, names)
        for _ in range(2):
            assert requests.post(f"{server.url}/_mock/reset", timeout=60).status_code == 200
        _stay_ready(server, names)
        assert requests.get(f"{server.url}/_mock/invoke/5eed0000-0000-4000-8000-0000000000a1/", timeout=30).status_code == 200
    finally:
        server.stop()


def test_seed_check_of_the_seed_folder_skips_the_schema():
    assert seed_ok(str(REPO / "seed")) == "ok: 1 fixture file(s)"


def test_seed_check_reports_unknown_keys_and_writes_no_token_file(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("namepsaces:\n  - {name: demo}\nnamespaces:\n  - {name: ok}\ncontainers:\n  - namespace: ok\n    name: web\n"
                   "    imgae: nginx:latest\ntokens:\n  - {namespace: ok}\ntoken_file: tokens.json\n")
    lines = seed_problems(str(bad))
    assert any(l.startswith(f"{bad}:1: namepsaces: unknown field; expected one of organizations, projects") for l in lines), lines
    assert any(l.startswith(f"{bad}:8: containers[0].imgae: unknown field; expected one of ") for l in lines), lines
    good = tmp_path / "good.yaml"
    good.write_text("namespaces:\n  - {name: ok}\ntokens:\n  - {namespace: ok}\ntoken_file: tokens.json\n")
    seed_ok(str(good))
    assert not (tmp_path / "tokens.json").exists()


def test_runtime_seed_takes_yaml_and_its_image_mappings(tmp_path):
    # Posted command mappings need the operator's opt-in (refused otherwise: test_security_seed.py).
    server = _seeded_server(tmp_path, [], runtime=True, extra_args=["--trust-posted-seeds"])
    try:
        program = ("import os, http.server as h\n"
                   "class H(h.BaseHTTPRequestHandler):\n"
                   "    def do_GET(self):\n"
                   "        self.send_response(200); self.end_headers(); self.wfile.write(b'mapped')\n"
                   "h.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
        body = yaml.safe_dump({
            "images": [{"image": "example.com/mapped:*", "command": [sys.executable, "-c", program]}],
            "namespaces": [{"name": "live"}],
            "containers": [{"id": "5eed0000-0000-4000-8000-0000000000d1", "namespace": "live", "name": "mapped",
                            "image": "example.com/mapped:1"}],
        })
        r = requests.post(f"{server.url}/_mock/seed", data=body, headers={"Content-Type": "application/yaml"}, timeout=60)
        assert r.status_code == 200, r.text
        support.poll_until(lambda: _container_statuses(server), lambda s: s.get("mapped", ("",))[0] in ("ready", "error"), 30)
        assert _container_statuses(server)["mapped"][0] == "ready", _container_statuses(server)
        r = requests.get(f"{server.url}/_mock/invoke/5eed0000-0000-4000-8000-0000000000d1/", timeout=30)
        assert r.text == "mapped"
        # A reset goes back to the seed's mappings (none here): the same image now runs the built-in sample app.
        assert requests.post(f"{server.url}/_mock/reset", timeout=60).status_code == 200
        ns = server.post("/containers/v1/regions/fr-par/namespaces", {"name": "after-reset"}).json()
        support.poll_until(lambda: server.get(f"/containers/v1/regions/fr-par/namespaces/{ns['id']}").json()["status"],
                           lambda st: st == "ready", 30)
        c = server.post("/containers/v1/regions/fr-par/containers",
                        {"namespace_id": ns["id"], "name": "unmapped", "image": "example.com/mapped:2"}).json()
        support.poll_until(lambda: _container_statuses(server), lambda s: s.get("unmapped", ("",))[0] in ("ready", "error"), 30)
        assert _container_statuses(server)["unmapped"][0] == "ready", _container_statuses(server)
        r = requests.get(f"{server.url}/_mock/invoke/{c['id']}/", timeout=30)
        assert r.status_code == 200 and r.text != "mapped", r.text
    finally:
        server.stop()


def test_seeded_functions_get_their_code_and_are_deployed(tmp_path):
    """A function entry's `code` (a folder, or a zip file) is uploaded as through the upload URL and the function deployed."""
    import io
    import zipfile
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "handler.py").write_text("def handle(event, context):\n    return {'body': 'hi'}\n")
    (tmp_path / "hello" / "lib").mkdir()
    (tmp_path / "hello" / "lib" / "util.py").write_text("X = 1\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handle = () => 'hi'\n")
    (tmp_path / "code.zip").write_bytes(buf.getvalue())
    fixture = tmp_path / "world.yaml"
    fixture.write_text(
        "namespaces:\n  - {name: fns, kind: function}\n"
        "functions:\n"
        "  - {namespace: fns, name: from-folder, runtime: python311, handler: handler.handle, code: hello}\n"
        "  - {namespace: fns, name: from-zip, runtime: node22, code: code.zip}\n"
        "  - {namespace: fns, name: no-code, runtime: node22}\n")
    server = _seeded_server(tmp_path, [fixture])
    try:
        fb = "/functions/v1beta1/regions/fr-par"
        functions = {f["name"]: f for f in server.get(f"{fb}/functions").json()["functions"]}
        statuses, _ = support.poll_until(
            lambda: {n: server.get(f"{fb}/functions/{f['id']}").json()["status"] for n, f in functions.items()},
            lambda s: s["from-folder"] in ("ready", "error") and s["from-zip"] in ("ready", "error"), 30)
        assert statuses == {"from-folder": "ready", "from-zip": "ready", "no-code": "created"}, statuses
        url = server.get(f"{fb}/functions/{functions['from-folder']['id']}/download-url").json()["url"]
        with zipfile.ZipFile(io.BytesIO(requests.get(url, timeout=30).content)) as z:
            assert sorted(z.namelist()) == ["handler.py", "lib/util.py"]
        url = server.get(f"{fb}/functions/{functions['from-zip']['id']}/download-url").json()["url"]
        assert requests.get(url, timeout=30).content == buf.getvalue()
        state = requests.get(f"{server.url}/_mock/state", timeout=30).json()
    finally:
        server.stop()
    # The exported state carries the code (code_base64) and whether each function was deployed: a server seeded with
    # it has the same functions, in the same statuses, with byte-identical code.
    jsonschema.validate(state, SCHEMA)
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "state.json").write_text(json.dumps(state))
    again = support.MockServer(db_path=tmp_path / "again" / "s.sqlite", seed_paths=[tmp_path / "again" / "state.json"],
                               workdir=tmp_path / "again", key_size=2048).start()
    try:
        statuses, _ = support.poll_until(
            lambda: {n: again.get(f"{fb}/functions/{f['id']}").json()["status"] for n, f in functions.items()},
            lambda s: s["from-folder"] in ("ready", "error") and s["from-zip"] in ("ready", "error"), 30)
        assert statuses == {"from-folder": "ready", "from-zip": "ready", "no-code": "created"}, statuses
        url = again.get(f"{fb}/functions/{functions['from-zip']['id']}/download-url").json()["url"]
        assert requests.get(url, timeout=30).content == buf.getvalue()
    finally:
        again.stop()
    bad = tmp_path / "bad.yaml"
    bad.write_text("namespaces:\n  - {name: fns, kind: function}\nfunctions:\n"
                   "  - {namespace: fns, name: a, runtime: node22, code: missing-folder}\n"
                   "  - {namespace: fns, name: b, runtime: node22, code: world.yaml}\n")
    problems = "\n".join(seed_problems(bad))
    assert "functions[0].code: no such file or folder missing-folder" in problems, problems
    assert "functions[1].code: expected a zip archive or a folder, got world.yaml" in problems, problems
