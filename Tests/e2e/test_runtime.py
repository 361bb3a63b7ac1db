"""Runtime and gateway: deployed containers and functions run as local processes with the platform's
environment, and calls reach them through the gateway, which enforces privacy.

Each test starts its own server with the runtime on (the rest of the suite runs with `--runtime off`)."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import support

KEY = support.DEFAULT_SECRET_KEY
H = {"X-Auth-Token": KEY}
C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"
FN = "/functions/v1beta1/regions/fr-par"


class Mock:
    """The real binary with the runtime on."""

    def __init__(self, tmp: Path, *extra: str):
        self.db = tmp / "state.sqlite"
        seed = tmp / "seed.yaml"
        seed.write_text(support.SEED_YAML)
        args = [str(support.binary_path()), "serve", "--port", "0", "--database", str(self.db), "--seed", str(seed),
                "--key-size", "2048", "--key-pool", "4", "--runtime", "on", "--ready-timeout", "3", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.environ.get("MOCK_STDERR", os.devnull), "w"), stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        env = support.parse_export_line(line.rstrip("\n"))
        assert env, f"no export line: {line!r}"
        self.url = env["SCW_API_URL"]

    def call(self, method, path, key=KEY, **kw):
        return support.keyed_request(self.url, method, path, key, timeout=30, **kw)

    def namespace(self, name, **body):
        return self.call("POST", f"{C1}/namespaces", json={"name": name, **body}).json()["id"]

    def container(self, ns, name, **body):
        r = self.call("POST", f"{C1}/containers", json={"namespace_id": ns, "name": name, "image": "sample:latest", **body})
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def wait_status(self, cid, wanted=("ready", "error"), deadline=20.0):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            body = self.call("GET", f"{C1}/containers/{cid}").json()
            if body["status"] in wanted:
                return body
            time.sleep(0.05)
        raise AssertionError(f"container {cid} stayed {body['status']}")

    def invoke(self, app_id, path="/", token=None, **kw):
        headers = {"X-Auth-Token": token} if token else {}
        return requests.request(kw.pop("method", "GET"), f"{self.url}/_mock/invoke/{app_id}{path}", headers=headers, timeout=30, **kw)

    def pids_of(self, app_id):
        logs = self.call("GET", f"/_mock/containers/{app_id}/logs", key=None).json()["lines"]
        return [int(m.group(1)) for l in logs if (m := re.match(r"started pid (\d+)", l["line"]))]

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_gone(pid, deadline=5.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def mock(tmp_path):
    m = Mock(tmp_path)
    yield m
    if m.proc.poll() is None:
        assert m.stop() == 0


def test_sample_app_gets_the_platform_environment_and_is_reachable(mock):
    ns = mock.namespace("rt-env", environment_variables={"SHARED": "ns", "NSVAR": "n"}, secret_environment_variables={"NS_SECRET": "s1"})
    cid = mock.container(ns, "web", environment_variables={"SHARED": "container", "CVAR": "c"},
                         secret_environment_variables={"C_SECRET": "s2"})
    assert mock.call("GET", f"{C1}/containers/{cid}").json()["status"] in ("creating", "ready")
    body = mock.wait_status(cid)
    assert body["status"] == "ready", body
    assert body["error_message"] == ""
    key = mock.call("POST", f"{CB}/tokens", json={"namespace_id": ns}).json()["public_key"]
    r = mock.invoke(cid, "/hello?x=1", method="POST", data=b"payload")
    assert r.status_code == 200
    echo = r.json()
    env = echo["env"]
    assert (echo["method"], echo["path"], echo["query"], echo["body"]) == ("POST", "/hello", "x=1", "payload")
    assert env["SCW_PUBLIC"] == "true"
    assert env["SCW_PUBLIC_KEY"] == key
    assert env["SCW_NAMESPACE_ID"] == ns and env["SCW_APPLICATION_ID"] == cid
    assert env["SHARED"] == "container" and env["NSVAR"] == "n" and env["CVAR"] == "c"
    assert env["NS_SECRET"] == "s1" and env["C_SECRET"] == "s2"
    assert int(env["PORT"]) > 0 and env["PORT"] != "8080"
    # The edge's headers.
    assert echo["headers"]["x-forwarded-proto"] == "http" and echo["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f-]{36}", echo["headers"]["x-request-id"])
    # The same call through the container's own host name.
    host = body["public_endpoint"].removeprefix("https://")
    via_host = requests.get(f"{mock.url}/by-host", headers={"Host": host}, timeout=30)
    assert via_host.status_code == 200 and via_host.json()["path"] == "/by-host"
    # Bodies pass as they came: a sized body keeps its length, and a GET does not grow a chunked empty body (a
    # process that answers without reading it closes with unread bytes, and the kernel's reset cuts the answer).
    assert echo["headers"].get("content-length") == "7" and "transfer-encoding" not in echo["headers"]
    assert "transfer-encoding" not in via_host.json()["headers"] and via_host.json()["body"] == ""


def test_command_app_python_http_server(mock):
    ns = mock.namespace("rt-cmd")
    script = ("import http.server, os\n"
              "class H(http.server.BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        b = ('hello from ' + os.environ['SCW_APPLICATION_ID']).encode()\n"
              "        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
              "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
    cid = mock.container(ns, "py", command=[sys.executable, "-c", script])
    assert mock.wait_status(cid)["status"] == "ready"
    r = mock.invoke(cid, "/")
    assert r.status_code == 200 and r.text == f"hello from {cid}"


def test_a_crashing_command_ends_in_error_with_its_stderr(mock):
    ns = mock.namespace("rt-crash")
    cid = mock.container(ns, "crash", command=["sh", "-c", "echo boom-on-stderr >&2; exit 3"])
    body = mock.wait_status(cid)
    assert body["status"] == "error"
    assert "exited with code 3" in body["error_message"] and "boom-on-stderr" in body["error_message"]
    assert mock.invoke(cid).status_code == 503


def test_a_command_that_never_listens_ends_in_error(mock):
    ns = mock.namespace("rt-silent")
    cid = mock.container(ns, "silent", command=["sleep", "60"])
    body = mock.wait_status(cid, deadline=15)
    assert body["status"] == "error" and "did not listen on PORT" in body["error_message"], body
    pids = mock.pids_of(cid)
    assert pids and wait_gone(pids[0])


def test_command_not_found(mock):
    ns = mock.namespace("rt-missing")
    cid = mock.container(ns, "missing", command=["definitely-not-a-command-xyz"])
    body = mock.wait_status(cid)
    assert body["status"] == "error" and "command not found" in body["error_message"]


# Every kind `POST /_mock/tokens/forge` makes, and how the sample app (`--private-auth container`) refuses it:
# status and the start of its reason.
FORGED_AT_THE_PROCESS = {
    "expired": (401, "token expired"),
    "not_yet_valid": (401, "token not yet valid"),
    "wrong_namespace": (403, "token is for another namespace"),
    "wrong_container": (403, "token is for another container or function"),
    "tampered_signature": (401, "bad signature"),
    "tampered_payload": (401, "bad signature"),
    "alg_none": (401, "algorithm not allowed: none"),
    "hs256_public_key": (401, "algorithm not allowed: HS256"),
    "other_key": (401, "bad signature"),
}


def forged_tokens(m, ns, cid):
    """{kind: (token, status at the process, reason)} for every forge kind, for namespace `ns` / container `cid`."""
    r = m.call("POST", "/_mock/tokens/forge", key=None, json={"kind": "?", "namespace_id": ns})
    offered = r.json()["details"][0]["help_message"].split("one of ", 1)[1].split(", ")
    assert sorted(offered) == sorted(FORGED_AT_THE_PROCESS)  # no kind left untested
    out = {}
    for kind, (status, reason) in FORGED_AT_THE_PROCESS.items():
        scope = {"container_id": cid} if kind == "wrong_container" else {"namespace_id": ns}
        r = m.call("POST", "/_mock/tokens/forge", key=None, json={"kind": kind, **scope})
        assert r.status_code == 200, (kind, r.text)
        out[kind] = (r.json()["token"], status, reason)
    return out


def test_private_container_at_the_edge(mock):
    ns = mock.namespace("rt-private")
    other_ns = mock.namespace("rt-other")
    cid = mock.container(ns, "priv", privacy="private")
    sibling = mock.container(ns, "sibling", privacy="private")
    mock.wait_status(cid)
    tok = lambda **b: mock.call("POST", f"{CB}/tokens", json=b).json()["token"]
    ns_token, c_token, sibling_token, other_token = tok(namespace_id=ns), tok(container_id=cid), tok(container_id=sibling), tok(namespace_id=other_ns)
    revoked = mock.call("POST", f"{CB}/tokens", json={"namespace_id": ns}).json()
    assert mock.call("DELETE", f"{CB}/tokens/{revoked['id']}").status_code == 200
    refused = {
        "no header": None, "garbage": "garbage", "other namespace": other_token, "sibling": sibling_token,
        "revoked": revoked["token"], "other project's key": support.OTHER_SECRET_KEY,
        # every kind of forged token
        **{f"forged {kind}": token for kind, (token, _, _) in forged_tokens(mock, ns, cid).items()},
    }
    assert len(refused) == 6 + len(FORGED_AT_THE_PROCESS)
    for what, token in refused.items():
        r = mock.invoke(cid, "/", token=token)
        assert r.status_code == 403, (what, r.status_code, r.text)
        assert r.json()["type"] == "permissions_denied" and r.json()["message"], what
    for what, token in {"namespace token": ns_token, "container token": c_token, "API key": KEY}.items():
        r = mock.invoke(cid, "/", token=token)
        assert r.status_code == 200, (what, r.text)
        # The credential stops at the gateway.
        assert "x-auth-token" not in r.json()["headers"], what


def test_the_gateway_writes_a_line_per_call_into_the_application_log(mock):
    ns = mock.namespace("rt-gwlog")
    public = mock.container(ns, "pub")
    private = mock.container(ns, "priv", privacy="private")
    assert mock.wait_status(public)["status"] == "ready" and mock.wait_status(private)["status"] == "ready"
    answered = mock.invoke(public, "/hello?x=1")
    assert answered.status_code == 200
    assert mock.invoke(private, "/secret").status_code == 403  # no token: refused at the edge

    def gateway_lines(cid):
        lines = mock.call("GET", f"/_mock/containers/{cid}/logs", key=None).json()["lines"]
        return [l["line"] for l in lines if l["stream"] == "gateway"]

    # Next to the process's output, the log says what the gateway did with each call: answered, with its status,
    # time and request id, or refused, with the reason.
    [line] = gateway_lines(public)
    assert re.fullmatch(r"GET /hello\?x=1 → 200 in [0-9.]+ ms \(request [0-9a-f-]{36}\)", line), line
    assert answered.headers["X-Request-Id"] in line
    [refusal] = gateway_lines(private)
    assert refusal.startswith("GET /secret → 403 refused: "), refusal
    # Deleting the container forgets its gateway lines.
    assert mock.call("DELETE", f"{C1}/containers/{public}").status_code == 200
    assert support.wait_until(lambda: mock.call("GET", f"/_mock/containers/{public}/logs", key=None).status_code == 404
                              or gateway_lines(public) == [], 5)


def test_private_container_validated_by_the_process(tmp_path):
    m = Mock(tmp_path, "--private-auth", "container")
    try:
        ns = m.namespace("rt-self")
        other = m.namespace("rt-self-other")
        cid = m.container(ns, "priv", privacy="private")
        assert m.wait_status(cid)["status"] == "ready"
        tok = lambda **b: m.call("POST", f"{CB}/tokens", json=b).json()["token"]
        assert m.invoke(cid).status_code == 401
        assert m.invoke(cid, token="garbage").status_code == 401
        assert m.invoke(cid, token=tok(namespace_id=other)).status_code == 401  # other key: bad signature
        for kind, (token, status, reason) in forged_tokens(m, ns, cid).items():
            r = m.invoke(cid, token=token)
            assert r.status_code == status and r.json()["error"].startswith(reason), (kind, r.status_code, r.text)
        ok = m.invoke(cid, token=tok(namespace_id=ns))
        assert ok.status_code == 200 and ok.json()["headers"]["x-auth-token"]
        assert m.invoke(cid, token=tok(container_id=cid)).status_code == 200
    finally:
        assert m.stop() == 0


def test_delete_redeploy_and_shutdown_leave_no_process(mock):
    ns = mock.namespace("rt-stop")
    a = mock.container(ns, "a")
    b = mock.container(ns, "b")
    mock.wait_status(a)
    mock.wait_status(b)
    pid_a, pid_b = mock.pids_of(a)[0], mock.pids_of(b)[0]
    assert alive(pid_a) and alive(pid_b)
    assert mock.call("DELETE", f"{C1}/containers/{a}").status_code == 200
    assert wait_gone(pid_a)
    # Redeploy replaces the process: the old one goes once the new one is ready.
    assert mock.call("POST", f"{C1}/containers/{b}/redeploy", json={}).json()["status"] == "updating"
    assert mock.wait_status(b)["status"] == "ready"
    assert wait_gone(pid_b)
    new_b = mock.pids_of(b)[-1]
    assert new_b != pid_b and alive(new_b)
    assert mock.stop() == 0
    assert wait_gone(new_b)


def test_sigkill_of_the_server_kills_its_processes(tmp_path):
    m = Mock(tmp_path)
    ns = m.namespace("rt-kill")
    cid = m.container(ns, "k")
    m.wait_status(cid)
    pid = m.pids_of(cid)[0]
    m.stop(signal.SIGKILL)
    assert wait_gone(pid, deadline=3), "a launched process outlived the server"


def test_ready_containers_run_again_after_a_restart(tmp_path):
    m = Mock(tmp_path)
    ns = m.namespace("rt-restart")
    cid = m.container(ns, "again")
    m.wait_status(cid)
    assert m.stop() == 0
    m2 = Mock(tmp_path)
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and m2.invoke(cid).status_code != 200:
            time.sleep(0.1)
        assert m2.invoke(cid).status_code == 200
    finally:
        assert m2.stop() == 0


def test_functions_run_once_code_is_uploaded(mock):
    ns = mock.call("POST", f"{FN}/namespaces", json={"name": "rt-fn"}).json()["id"]
    fid = mock.call("POST", f"{FN}/functions", json={"namespace_id": ns, "name": "f", "runtime": "python312"}).json()["id"]
    assert mock.call("POST", f"{FN}/functions/{fid}/deploy", json={}).json()["status"] == "pending"
    end = time.monotonic() + 10
    while mock.call("GET", f"{FN}/functions/{fid}").json()["status"] == "pending" and time.monotonic() < end:
        time.sleep(0.05)
    failed = mock.call("GET", f"{FN}/functions/{fid}").json()
    assert failed["status"] == "error" and failed["error_message"] == "internal error"
    grant = mock.call("GET", f"{FN}/functions/{fid}/upload-url", params={"content_length": 4}).json()
    assert requests.put(grant["url"], data=b"PK\x03\x04", headers={"Content-Type": "application/octet-stream"}, timeout=30).status_code == 200
    mock.call("POST", f"{FN}/functions/{fid}/deploy", json={})
    end = time.monotonic() + 10
    while mock.call("GET", f"{FN}/functions/{fid}").json()["status"] != "ready" and time.monotonic() < end:
        time.sleep(0.05)
    r = mock.invoke(fid, "/run")
    assert r.status_code == 200 and r.json()["env"]["SCW_APPLICATION_ID"] == fid and r.json()["env"]["SCW_HANDLER"] == "handler.handle"


def test_reset_stops_processes_of_containers_it_removes(mock):
    ns = mock.namespace("rt-reset")
    cid = mock.container(ns, "gone")
    mock.wait_status(cid)
    pid = mock.pids_of(cid)[0]
    assert mock.call("POST", "/_mock/reset", key=None).status_code == 200
    assert wait_gone(pid)
    assert mock.call("GET", f"{C1}/containers/{cid}").status_code == 404


def test_http_probe_must_pass_and_errors_use_scaleway_wording(mock):
    ns = mock.namespace("rt-probe")
    failing = ("import http.server, os\n"
               "class H(http.server.BaseHTTPRequestHandler):\n"
               "    def do_GET(self):\n"
               "        self.send_response(500); self.send_header('Content-Length', '0'); self.end_headers()\n"
               "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
    probe = {"failure_threshold": 3, "interval": "10s", "timeout": "1s", "http": {"path": "/healthz"}}
    bad = mock.container(ns, "bad", command=[sys.executable, "-c", failing], liveness_probe=probe, port=80)
    good = mock.container(ns, "good", liveness_probe=probe)
    assert mock.wait_status(good)["status"] == "ready"
    body = mock.wait_status(bad, deadline=20)
    assert body["status"] == "error"
    assert body["error_message"].startswith("Container is unable to start OR does not respond to HTTP requests on port 80 and path /healthz")


def test_public_domain_names_the_endpoints(tmp_path):
    m = Mock(tmp_path, "--public-domain", "localtest.me")
    try:
        ns = m.namespace("rt-domain")
        cid = m.container(ns, "web")
        body = m.wait_status(cid)
        assert body["public_endpoint"] == f"https://rtdomain{ns[:8]}-web.localtest.me"
        r = requests.get(f"{m.url}/x", headers={"Host": f"rtdomain{ns[:8]}-web.localtest.me"}, timeout=30)
        assert r.status_code == 200 and r.json()["path"] == "/x"
    finally:
        assert m.stop() == 0


def test_cron_triggers_fire_on_schedule_by_the_mock_clock(mock):
    ns = mock.namespace("rt-cron")
    cid = mock.container(ns, "cron")
    mock.wait_status(cid)
    trigger = mock.call("POST", f"{C1}/triggers", json={
        "container_id": cid, "name": "every-minute", "destination_config": {"http_path": "/tick", "http_method": "post"},
        "cron_config": {"schedule": "* * * * *", "timezone": "UTC", "body": '{"n":1}'}}).json()
    # Move the clock over a minute boundary rather than waiting for one.
    assert mock.call("POST", "/_mock/clock", key=None, json={"advance_seconds": 61}).status_code == 200
    end = time.monotonic() + 10
    fired = []
    while time.monotonic() < end and not fired:
        lines = mock.call("GET", f"/_mock/containers/{cid}/logs", key=None).json()["lines"]
        fired = [l["line"] for l in lines if f"cron {trigger['id']}" in l["line"]]
        time.sleep(0.1)
    assert fired and fired[0].endswith("fired: POST /tick → 200"), fired


def test_fixture_image_and_runtime_mappings(tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(
        "import http.server, os\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        b = ('image app ' + os.environ['GREETING'] + ' ' + os.environ['CVAR']).encode()\n"
        "        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
        "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
    runner = ("import http.server, importlib, json, os, sys\n"
              "sys.path.insert(0, os.getcwd())\n"
              "module, name = os.environ['SCW_HANDLER'].rsplit('.', 1)\n"
              "handle = getattr(importlib.import_module(module), name)\n"
              "class H(http.server.BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        b = json.dumps(handle({'path': self.path}, {})).encode()\n"
              "        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
              "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
    seed = tmp_path / "mappings.yaml"
    seed.write_text(json.dumps({
        "images": [{"image": "demo/app:*", "command": [sys.executable, "app.py"], "working_directory": "app",
                    "environment": {"GREETING": "hello"}}],
        "runtimes": [{"runtime": "python3*", "command": [sys.executable, "-c", runner]}],
    }))
    m = Mock(tmp_path, "--seed", str(seed))
    try:
        ns = m.namespace("rt-map")
        cid = m.container(ns, "mapped", image="demo/app:1.2", environment_variables={"CVAR": "c"})
        assert m.wait_status(cid)["status"] == "ready"
        r = m.invoke(cid)
        assert r.status_code == 200 and r.text == "image app hello c"
        # A function with the python312 runtime runs the mapped runner in its unpacked code.
        import io, zipfile
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("handler.py", "def handle(event, context):\n    return {'body': 'fn says hi', 'path': event['path']}\n")
        zipped = buf.getvalue()
        fns = m.call("POST", f"{FN}/namespaces", json={"name": "rt-map-fn"}).json()["id"]
        fid = m.call("POST", f"{FN}/functions", json={"namespace_id": fns, "name": "f", "runtime": "python312"}).json()["id"]
        grant = m.call("GET", f"{FN}/functions/{fid}/upload-url", params={"content_length": len(zipped)}).json()
        assert requests.put(grant["url"], data=zipped, headers={"Content-Type": "application/octet-stream"}, timeout=30).status_code == 200
        m.call("POST", f"{FN}/functions/{fid}/deploy", json={})
        end = time.monotonic() + 15
        while m.call("GET", f"{FN}/functions/{fid}").json()["status"] == "pending" and time.monotonic() < end:
            time.sleep(0.05)
        assert m.call("GET", f"{FN}/functions/{fid}").json()["status"] == "ready"
        assert m.invoke(fid, "/p").json() == {"body": "fn says hi", "path": "/p"}
    finally:
        assert m.stop() == 0


def test_scale_to_zero_stops_idle_processes_and_cold_starts_them(tmp_path):
    m = Mock(tmp_path, "--scale-to-zero", "1")
    try:
        ns = m.namespace("rt-zero")
        idle = m.container(ns, "idle", min_scale=0)
        warm = m.container(ns, "warm", min_scale=1)
        m.wait_status(idle)
        m.wait_status(warm)
        first = m.pids_of(idle)[0]
        warm_pid = m.pids_of(warm)[0]
        assert wait_gone(first, deadline=6), "an idle min_scale 0 process was not stopped"
        assert alive(warm_pid)
        assert m.call("GET", f"{C1}/containers/{idle}").json()["status"] == "ready"
        r = m.invoke(idle, "/again")
        assert r.status_code == 200 and r.json()["path"] == "/again"
        lines = [l["line"] for l in m.call("GET", f"/_mock/containers/{idle}/logs", key=None).json()["lines"]]
        assert any(l.startswith("scaled to zero") for l in lines) and "cold start" in lines
        assert len(m.pids_of(idle)) == 2
    finally:
        assert m.stop() == 0


SERVER_PY = ("import http.server, os\n"
             "class H(http.server.BaseHTTPRequestHandler):\n"
             "    def log_message(self, *a): pass\n"
             "    def do_GET(self):\n"
             "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')\n"
             "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")


processes_with = support.processes_with


def test_an_output_flood_neither_stalls_the_process_nor_the_server(mock):
    ns = mock.namespace("rt-flood")
    cid = mock.container(ns, "flood", command=["sh", "-c", f"yes flood-line & exec {sys.executable} -c \"$APP\""],
                         environment_variables={"APP": SERVER_PY})
    assert mock.wait_status(cid)["status"] == "ready"
    time.sleep(1)
    for _ in range(20):
        assert mock.invoke(cid).text == "ok"
    started = time.monotonic()
    assert mock.call("GET", f"{C1}/namespaces").status_code == 200
    assert time.monotonic() - started < 1
    logs = mock.call("GET", f"/_mock/containers/{cid}/logs", key=None).json()
    # The process's output is kept bounded (the gateway's own lines about the 20 calls come on top, bounded apart).
    output = [l for l in logs["lines"] if l["stream"] != "gateway"]
    assert logs["dropped"] > 0 and len(output) <= 2001
    assert len(logs["lines"]) - len(output) == 20
    assert mock.call("DELETE", f"{C1}/containers/{cid}").status_code == 200
    end = time.monotonic() + 5
    while processes_with(cid) and time.monotonic() < end:
        time.sleep(0.1)
    assert processes_with(cid) == []


def test_a_double_forked_grandchild_does_not_outlive_its_container(mock):
    ns = mock.namespace("rt-daemon")
    cid = mock.container(ns, "daemon", command=["sh", "-c", f"setsid sleep 300 & exec {sys.executable} -c \"$APP\""],
                         environment_variables={"APP": SERVER_PY})
    assert mock.wait_status(cid)["status"] == "ready"
    assert len(processes_with(cid)) >= 2
    assert mock.call("DELETE", f"{C1}/containers/{cid}").status_code == 200
    end = time.monotonic() + 5
    while processes_with(cid) and time.monotonic() < end:
        time.sleep(0.1)
    assert processes_with(cid) == []


def test_gateway_side_faults_fail_the_next_deploy_or_crash_the_process(mock):
    ns = mock.namespace("rt-faults")
    cid = mock.container(ns, "f")
    assert mock.wait_status(cid)["status"] == "ready"
    pid = mock.pids_of(cid)[0]
    assert mock.call("POST", f"/_mock/containers/{cid}/crash", key=None).json() == {"status": "crashed"}
    assert wait_gone(pid)
    # The crash is recorded and the process restarted with back-off.
    end = time.monotonic() + 10
    while len(mock.pids_of(cid)) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    assert len(mock.pids_of(cid)) == 2 and mock.invoke(cid).status_code == 200
    assert mock.call("POST", f"/_mock/containers/{cid}/fail-next-deploy", key=None).json() == {"status": "armed"}
    assert mock.call("POST", f"{C1}/containers/{cid}/redeploy", json={}).status_code == 200
    body = mock.wait_status(cid, wanted=("error",))
    assert "deploy failed (injected by /_mock)" in body["error_message"]
    # Only the next deploy: the one after succeeds.
    mock.call("POST", f"{C1}/containers/{cid}/redeploy", json={})
    assert mock.wait_status(cid, wanted=("ready",))["status"] == "ready"
    assert mock.call("POST", f"/_mock/containers/11111111-1111-4111-8111-111111111111/crash", key=None).status_code == 404
    # A container's id under /_mock/functions/ is not found, even though its process runs and has logs.
    assert mock.call("POST", f"/_mock/functions/{cid}/crash", key=None).status_code == 404
    assert mock.call("GET", f"/_mock/functions/{cid}/logs", key=None).status_code == 404
    assert mock.call("GET", f"/_mock/containers/{cid}/logs", key=None).status_code == 200


def test_the_mock_clock_expires_tokens_at_the_gateway(mock):
    ns = mock.namespace("rt-clock")
    cid = mock.container(ns, "p", privacy="private")
    mock.wait_status(cid)
    now = mock.call("GET", "/_mock/clock", key=None).json()["now"]
    year = int(now[:4])
    token = mock.call("POST", f"{CB}/tokens", json={"container_id": cid, "expires_at": f"{year + 1}-01-01T00:00:00Z"}).json()["token"]
    assert mock.invoke(cid, token=token).status_code == 200
    mock.call("POST", "/_mock/clock", key=None, json={"to": f"{year + 1}-01-01T00:00:01Z"})
    r = mock.invoke(cid, token=token)
    assert r.status_code == 403 and r.json()["message"] == "token expired"


def watchdog_of(server_pid):
    """The `scw-mock watchdog` the server started (its child), or None."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == server_pid and b"watchdog" in cmdline:
                return int(entry.name)
    return None


def start_daemon_container(m, name):
    ns = m.namespace(name)
    cid = m.container(ns, "d", command=["sh", "-c", f"setsid sleep 300 & exec {sys.executable} -c \"$APP\""],
                      environment_variables={"APP": SERVER_PY})
    assert m.wait_status(cid)["status"] == "ready"
    assert len(processes_with(cid)) >= 2
    return cid


def test_a_double_forked_daemon_dies_with_a_sigkilled_server(tmp_path):
    # The parent-death signal only reaches the direct child; the watchdog sees the server's pipe close and sweeps
    # every process carrying one of its markers, the setsid daemon included.
    m = Mock(tmp_path)
    cid = start_daemon_container(m, "rt-daemon-kill")
    assert watchdog_of(m.proc.pid) is not None
    m.stop(signal.SIGKILL)
    end = time.monotonic() + 3
    while processes_with(cid) and time.monotonic() < end:
        time.sleep(0.05)
    assert processes_with(cid) == [], "a double-forked daemon outlived the SIGKILLed server"


def test_a_daemon_that_survived_server_and_watchdog_is_removed_at_the_next_start(tmp_path):
    # If the watchdog is killed too, and `run-child` (which otherwise stops its tree when the server dies), the marker
    # file lets the next start sweep.
    m = Mock(tmp_path)
    cid = start_daemon_container(m, "rt-leftover")
    watchdog = watchdog_of(m.proc.pid)
    # Frozen first, so that it cannot see its workload die and restart it (a restart would start a new watchdog,
    # which would sweep the daemon when the server is killed below).
    os.kill(m.proc.pid, signal.SIGSTOP)
    os.kill(watchdog, signal.SIGKILL)
    for pid in processes_with(cid):
        if b"run-child" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
            os.kill(pid, signal.SIGKILL)
    m.stop(signal.SIGKILL)
    time.sleep(0.5)
    survivors = processes_with(cid)
    assert survivors, "expected the double-forked sleep to survive (its watchdog was killed too)"
    m2 = Mock(tmp_path)
    try:
        end = time.monotonic() + 10
        while any(p in processes_with(cid) for p in survivors) and time.monotonic() < end:
            time.sleep(0.1)
        assert not any(p in processes_with(cid) for p in survivors)
    finally:
        assert m2.stop() == 0


def raw_exchange(url, data, expect_responses, deadline=10.0, half_close=False):
    """Sends raw bytes on one connection (then ends its side of it when `half_close`) and reads until
    `expect_responses` complete responses arrived (each with a Content-Length or chunked body) or the server closed;
    returns (responses, closed)."""
    import socket
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(deadline)
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        buffer, responses, closed = b"", [], False
        while len(responses) < expect_responses:
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
                if "content-length" in headers:
                    n = int(headers["content-length"])
                    if len(rest) < n:
                        break
                    responses.append((lines[0], headers, rest[:n]))
                    buffer = rest[n:]
                elif headers.get("transfer-encoding") == "chunked":
                    body, cursor, complete = b"", rest, False
                    while b"\r\n" in cursor:
                        size_line, after = cursor.split(b"\r\n", 1)
                        size = int(size_line, 16)
                        if len(after) < size + 2:
                            break
                        if size == 0:
                            complete = True
                            cursor = after[2:]
                            break
                        body, cursor = body + after[:size], after[size + 2:]
                    if not complete:
                        break
                    responses.append((lines[0], headers, body))
                    buffer = cursor
                else:
                    responses.append((lines[0], headers, rest))
                    buffer = b""
                if len(responses) >= expect_responses:
                    break
            if len(responses) >= expect_responses:
                break
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buffer += chunk
        if not closed:
            s.settimeout(0.5)
            try:
                closed = s.recv(1) == b""
            except OSError:
                pass
        return responses, closed


def test_gateway_pipelining_mixes_calls_and_api_requests_in_order(mock):
    # The gateway's fast path answers calls on the connection itself; pipelined calls and API requests on one
    # connection are still answered one by one, in order.
    ns = mock.namespace("rt-pipe")
    cid = mock.container(ns, "p")
    assert mock.wait_status(cid)["status"] == "ready"
    call = lambda path: f"GET /_mock/invoke/{cid}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    api = f"GET {C1}/namespaces/{ns} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {KEY}\r\n\r\n".encode()
    post = f"POST /_mock/invoke/{cid}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello".encode()
    responses, closed = raw_exchange(mock.url, call("/one") + api + call("/two?x=1") + post + api + call("/three"), 6)
    assert [r[0].split(" ")[1] for r in responses] == ["200"] * 6, responses
    assert json.loads(responses[0][2])["path"] == "/one"
    assert json.loads(responses[1][2])["id"] == ns
    second = json.loads(responses[2][2])
    assert (second["path"], second["query"]) == ("/two", "x=1")
    third = json.loads(responses[3][2])
    assert (third["method"], third["body"]) == ("POST", "hello")
    assert json.loads(responses[5][2])["path"] == "/three"
    assert not closed
    # Every call got its own request id, also shown to the process.
    ids = {r[1]["x-request-id"] for r in responses if "x-request-id" in r[1]}
    assert len(ids) >= 4
    assert responses[0][1]["server"] == "Scaleway API Gateway (scw-mock)" and "date" in responses[0][1]


def test_a_caller_that_ends_its_side_after_sending_still_gets_every_answer(mock):
    # As `printf 'GET …' | nc -N` does: the requests, then the end of the caller's output. Calls are answered as API
    # requests are, in order, and then the connection ends.
    ns = mock.namespace("rt-half")
    cid = mock.container(ns, "h")
    assert mock.wait_status(cid)["status"] == "ready"
    call = f"GET /_mock/invoke/{cid}/half HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    api = f"GET {C1}/namespaces/{ns} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {KEY}\r\n\r\n".encode()
    for data, count in ((call, 1), (api, 1), (call + api + call, 3)):
        responses, closed = raw_exchange(mock.url, data, count, half_close=True)
        assert [r[0].split(" ")[1] for r in responses] == ["200"] * count, (data, responses)
        assert closed, data
    assert json.loads(responses[0][2])["path"] == "/half" and json.loads(responses[1][2])["id"] == ns


def test_gateway_connection_close_and_chunked_uploads(mock):
    ns = mock.namespace("rt-close")
    cid = mock.container(ns, "c")
    assert mock.wait_status(cid)["status"] == "ready"
    chunked = (f"POST /_mock/invoke/{cid}/chunks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n").encode()
    closing = f"GET /_mock/invoke/{cid}/bye HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    responses, closed = raw_exchange(mock.url, chunked + closing, 2)
    assert [r[0].split(" ")[1] for r in responses] == ["200", "200"], responses
    assert json.loads(responses[0][2])["body"] == "abcdefg"
    assert json.loads(responses[0][2])["headers"].get("transfer-encoding") == "chunked"  # passed on as it came
    assert json.loads(responses[1][2])["path"] == "/bye"
    assert closed, "Connection: close was not honoured"
    # Unknown applications and refused calls are answered the same way by both paths.
    responses, _ = raw_exchange(mock.url, b"GET /_mock/invoke/00000000-0000-4000-8000-00000000dead/ HTTP/1.1\r\nHost: localhost\r\n\r\n", 1)
    assert responses[0][0].split(" ")[1] == "404" and json.loads(responses[0][2])["type"] == "not_found"


def test_gateway_reuses_connections_to_the_process_and_survives_its_restarts(mock):
    ns = mock.namespace("rt-reuse")
    cid = mock.container(ns, "r", command=[sys.executable, "-c", SERVER_PY])
    assert mock.wait_status(cid)["status"] == "ready"
    with requests.Session() as s:
        for _ in range(50):
            assert s.get(f"{mock.url}/_mock/invoke/{cid}/", timeout=30).text == "ok"
        # The process dies; the next call after its restart gets through (stale pooled connections are not used).
        pid = mock.pids_of(cid)[-1]
        assert mock.call("POST", f"/_mock/containers/{cid}/crash", key=None).status_code == 200
        assert wait_gone(pid)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            r = s.get(f"{mock.url}/_mock/invoke/{cid}/", timeout=30)
            if r.status_code == 200:
                break
            assert r.status_code in (502, 503), r.text
            time.sleep(0.1)
        assert r.status_code == 200 and r.text == "ok"


def test_processes_still_start_after_the_binary_was_replaced(tmp_path, monkeypatch):
    # A rebuild while the mock runs replaces its file; the sample app, run-child and the watchdog are subcommands of
    # this binary, so they must still start (through /proc/self/exe).
    import shutil
    copy = tmp_path / "scw-mock-copy"
    shutil.copy2(support.binary_path(), copy)
    monkeypatch.setenv("SCW_MOCK_BIN", str(copy))
    m = Mock(tmp_path)
    try:
        copy.unlink()
        ns = m.namespace("rt-replaced")
        cid = m.container(ns, "after-rebuild")
        assert m.wait_status(cid)["status"] == "ready"
        assert m.invoke(cid, "/x").json()["path"] == "/x"
    finally:
        assert m.stop() == 0


def test_a_connection_busy_with_gateway_calls_is_not_closed_as_idle_but_an_idle_one_is(tmp_path):
    # With --idle-timeout 1: one keep-alive connection that makes a call every 0.3 s for 2.5 s keeps working (the calls
    # are activity, although the API never sees them); left alone past the timeout, it is closed.
    m = Mock(tmp_path, "--idle-timeout", "1")
    try:
        ns = m.namespace("rt-idle")
        cid = m.container(ns, "idle")
        assert m.wait_status(cid)["status"] == "ready"
        port = int(m.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            reader = s.makefile("rb")
            started = time.monotonic()
            calls = 0
            while time.monotonic() - started < 2.5:
                s.sendall(f"GET /_mock/invoke/{cid}/tick HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                status = reader.readline()
                assert status.startswith(b"HTTP/1.1 200"), status
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                calls += 1
                time.sleep(0.3)
            assert calls >= 6
            time.sleep(2.0)
            s.settimeout(3)
            assert s.recv(1) == b"", "an idle connection must be closed after --idle-timeout"
    finally:
        if m.proc.poll() is None:
            assert m.stop() == 0
