"""Running real images: `--runtime container` runs each container's image through a Docker-compatible engine
(README "Running real images (Docker/Podman)"), behind the same gateway and with the same environment as processes.

These tests drive Podman (Debian's `podman`, rootful) through its Docker-compatible API socket, started here with
`podman system service` on a private storage folder, and point the mock at it with `DOCKER_HOST`. Nothing is
downloaded: the image is built offline from a root filesystem holding this build's `scw-mock` binary and the shared
libraries `ldd` lists, imported with `podman import`; its entrypoint is `scw-mock sample-app`, which validates
`X-Auth-Token` against `SCW_PUBLIC_KEY` itself. The production name `rg.fr-par.scw.cloud/team/sample:1.0` is
mapped to that local tag by a fixture's `images: [{image, engine_image}]`.

Where Podman is missing or cannot run a container (not root, no kernel support), the module is skipped with one line.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

import support

KEY = support.DEFAULT_SECRET_KEY
C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"
LOCAL_IMAGE = "localhost/scw-mock-sample:e2e"
PRODUCTION_IMAGE = "rg.fr-par.scw.cloud/team/sample:1.0"
MAPPING = f"""\
images:
  - image: "rg.fr-par.scw.cloud/team/sample:*"
    engine_image: "{LOCAL_IMAGE}"
"""


# --- the engine --------------------------------------------------------------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.socket_path)


class Engine:
    """Podman's API service on a private socket and storage, and its command line on the same storage."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = str(folder / "podman.sock")
        self.flags = ["--root", str(folder / "root"), "--runroot", str(folder / "run"), "--storage-driver", "vfs",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
        self.service = None

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["podman", *self.flags, *args], capture_output=True, text=True, check=check, timeout=300)

    def start(self) -> bool:
        """Starts the API service; False when it does not answer within 20 s (see service.log)."""
        self.service = subprocess.Popen(["podman", *self.flags, "system", "service", "--time=0", f"unix://{self.socket}"],
                                        stdout=subprocess.DEVNULL, stderr=open(self.folder / "service.log", "wb"))
        return support.wait_until(lambda: self.answers(), 20)

    def answers(self) -> bool:
        try:
            return self.api("GET", "/_ping")[0] == 200
        except OSError:
            return False

    def api(self, method: str, path: str):
        conn = UnixHTTPConnection(self.socket)
        try:
            conn.request(method, path, headers={"Host": "localhost"})
            r = conn.getresponse()
            body = r.read()
            return r.status, (json.loads(body) if body and r.getheader("Content-Type", "").startswith("application/json") else body)
        finally:
            conn.close()

    def containers(self, **labels: str) -> list[dict]:
        """Every container (running or not) carrying these labels (`scw-mock.application-id`, `scw-mock.instance`…)."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        status, body = self.api("GET", "/containers/json?all=true&filters=" + urllib.parse.quote(filters))
        assert status == 200, body
        return body

    def stop(self) -> None:
        if self.service and self.service.poll() is None:
            self.service.send_signal(signal.SIGTERM)
            try:
                self.service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait()


def image_rootfs(tar_path: Path) -> None:
    """A root filesystem with this build's scw-mock binary at /scw-mock and the shared libraries it loads."""
    binary = support.binary_path()
    libraries = []
    for line in subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 and parts[2].startswith("/") else parts[0]
        if path.startswith("/"):
            libraries.append(path)
    with tarfile.open(tar_path, "w") as tar:
        tar.add(binary, arcname="scw-mock")
        for library in libraries:
            tar.add(os.path.realpath(library), arcname=library.lstrip("/"))
        folder = tarfile.TarInfo("tmp")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(folder)


@pytest.fixture(scope="module")
def engine():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman): the container runtime is not tested here")
    if os.geteuid() != 0:
        pytest.skip("podman tests need root (rootful podman): the container runtime is not tested here")
    # A short path: unix socket paths are limited to 108 bytes.
    folder = Path("/tmp") / f"scw-engine-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    eng = Engine(folder)
    try:
        if not eng.start():
            pytest.skip(f"podman's API service does not start here: {(folder / 'service.log').read_text().strip()[-200:]}")
        image_rootfs(folder / "rootfs.tar")
        eng.podman("import", "--change", 'ENTRYPOINT ["/scw-mock", "sample-app"]', "--change", "ENV SCW_MOCK_SAMPLE_HOST=0.0.0.0",
                   str(folder / "rootfs.tar"), LOCAL_IMAGE)
        (folder / "rootfs.tar").unlink()
        tried = eng.podman("run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none",
                           "--entrypoint", "/scw-mock", LOCAL_IMAGE, "--help", check=False)
        if tried.returncode != 0:
            pytest.skip(f"podman cannot run a container here: {(tried.stderr.strip().splitlines() or ['?'])[-1]}")
        previous = os.environ.get("DOCKER_HOST")
        os.environ["DOCKER_HOST"] = f"unix://{eng.socket}"
        yield eng
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
    finally:
        eng.stop()
        eng.podman("rm", "--all", "--force", check=False)
        shutil.rmtree(folder, ignore_errors=True)


# --- the mock ----------------------------------------------------------------------------------------------------------


def start_mock(server_factory, tmp_path: Path, *flags: str, db_path: Path | None = None, runtime: str = "container"):
    seed = tmp_path / "images.yaml"
    seed.write_text(MAPPING)
    return server_factory(db_path=db_path, extra_seeds=[seed], extra_args=["--runtime", runtime, "--ready-timeout", "20", *flags])


def create_container(srv, name: str, **body) -> str:
    ns = srv.post(f"{C1}/namespaces", {"name": support.uniq("eng")}).json()["id"]
    srv.wait_ready("c1", ns)
    r = srv.post(f"{C1}/containers", {"namespace_id": ns, "name": name, "image": PRODUCTION_IMAGE, **body})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def settled(srv, cid: str, deadline: float = 60.0) -> dict:
    body, _ = support.poll_until(lambda: srv.get(f"{C1}/containers/{cid}").json(), lambda c: c["status"] in ("ready", "error"),
                                 deadline, interval=0.1)
    return body


def invoke(srv, cid: str, path: str = "/", token: str | None = None) -> requests.Response:
    headers = {"X-Auth-Token": token} if token else {}
    return requests.get(f"{srv.url}/_mock/invoke/{cid}{path}", headers=headers, timeout=30)


def log_lines(srv, cid: str) -> list[dict]:
    return srv.get(f"/_mock/containers/{cid}/logs", token=None).json()["lines"]


# --- tests -------------------------------------------------------------------------------------------------------------


def test_a_private_image_validates_tokens_itself(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path, "--private-auth", "container")
    cid = create_container(srv, "private-api", privacy="private", environment_variables={"GREETING": "hello"},
                           secret_environment_variables={"API_SECRET": "s3cret"})
    container = settled(srv, cid)
    assert container["status"] == "ready", container["error_message"]

    # The image's own verifier refuses a call without a token, and accepts one the tokens API issued.
    refused = invoke(srv, cid)
    assert refused.status_code == 401 and refused.json()["error"] == "missing X-Auth-Token"
    token = srv.post(f"{CB}/tokens", {"container_id": cid}).json()["token"]
    answered = invoke(srv, cid, "/hello", token=token)
    assert answered.status_code == 200, answered.text
    echo = answered.json()
    assert echo["path"] == "/hello"
    # The platform's environment, as processes get it: PORT is the declared port, published on loopback.
    env = echo["env"]
    assert env["PORT"] == "8080"
    assert env["SCW_PUBLIC"] == "false" and env["SCW_APPLICATION_ID"] == cid
    assert env["SCW_NAMESPACE_ID"] == container["namespace_id"]
    assert env["SCW_PUBLIC_KEY"].startswith("-----BEGIN RSA PUBLIC KEY-----")
    assert env["GREETING"] == "hello" and env["API_SECRET"] == "s3cret"

    # The engine's container carries the mock's labels and publishes the port on loopback only.
    [listed] = engine.containers(**{"scw-mock.application-id": cid})
    assert listed["Labels"]["scw-mock.namespace-id"] == container["namespace_id"]
    assert listed["Image"] in (LOCAL_IMAGE, LOCAL_IMAGE.removeprefix("localhost/"))
    assert {p["IP"] for p in listed["Ports"] if p.get("PublicPort")} == {"127.0.0.1"}
    status, inspected = engine.api("GET", f"/containers/{listed['Id']}/json")
    assert inspected["HostConfig"]["Privileged"] is False and not inspected["HostConfig"].get("Binds")
    assert inspected["HostConfig"]["Memory"] == container["memory_limit_bytes"]
    assert inspected["HostConfig"]["NanoCpus"] == container["mvcpu_limit"] * 1_000_000

    # The engine's log stream fills the same log as processes.
    lines = [line["line"] for line in log_lines(srv, cid)]
    assert any(line.startswith("created container ") for line in lines), lines
    assert any(line.startswith("ready on port ") for line in lines), lines


def test_a_crashing_image_ends_in_error_with_its_exit_code_and_output(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path)
    # `command` replaces the image's entrypoint, as on Scaleway: here a subcommand the program does not know.
    cid = create_container(srv, "crasher", command=["/scw-mock"], args=["no-such-subcommand"])
    container = settled(srv, cid)
    assert container["status"] == "error"
    message = container["error_message"]
    assert message.startswith("Container is unable to start OR is not listening on port 8080: container exited with code 64"), message
    assert "no-such-subcommand" in message  # the program's own last lines
    assert engine.containers(**{"scw-mock.application-id": cid}) == []  # nothing left in the engine


def test_an_http_probe_applies_to_the_image_as_to_processes(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path, "--private-auth", "container", "--ready-timeout", "4")
    probe = {"failure_threshold": 3, "interval": "10s", "timeout": "1s", "http": {"path": "/healthz"}}
    # A public image answers its probe; a private one that checks tokens itself answers the probe 401: not ready.
    ok = create_container(srv, "probed", liveness_probe=probe)
    refused = create_container(srv, "probe-refused", liveness_probe=probe, privacy="private")
    assert settled(srv, ok)["status"] == "ready"
    container = settled(srv, refused)
    assert container["status"] == "error"
    assert container["error_message"] == ("Container is unable to start OR does not respond to HTTP requests on port 8080 and path "
                                          "/healthz: did not answer HTTP requests on PORT 8080 and path /healthz within 4s")
    assert engine.containers(**{"scw-mock.application-id": refused}) == []


def test_a_slow_starter_is_waited_for(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path)
    # The sample app waits SAMPLE_START_DELAY_MS before it listens: an image that takes its time to start.
    cid = create_container(srv, "slow-starter", environment_variables={"SAMPLE_START_DELAY_MS": "4000"})
    # A call that arrives while the image starts is held by the gateway until the workload listens, then answered.
    started = time.monotonic()
    early = invoke(srv, cid, "/early")
    waited = time.monotonic() - started
    assert early.status_code == 200, early.text
    assert early.json()["path"] == "/early"
    assert waited >= 4.0, waited
    assert settled(srv, cid)["status"] == "ready"


def test_a_missing_image_reads_as_scaleways_error(engine, server_factory, tmp_path):
    # `auto` finds the engine (DOCKER_HOST) and uses it.
    srv = start_mock(server_factory, tmp_path, runtime="auto")
    cid = create_container(srv, "missing", image="localhost/scw-mock-no-such-image:1.0")
    container = settled(srv, cid)
    assert container["status"] == "error"
    assert container["error_message"].startswith("Image was not found in container registry. "), container["error_message"]
    assert len(container["error_message"]) > len("Image was not found in container registry. ")  # + the engine's reason


def test_a_crash_restarts_the_image_and_a_redeploy_replaces_its_container(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path)
    cid = create_container(srv, "restarted")
    assert settled(srv, cid)["status"] == "ready"
    [first] = engine.containers(**{"scw-mock.application-id": cid})

    # A ready container that dies (here SIGKILLed through /_mock) is started again in a new engine container.
    assert srv.post(f"/_mock/containers/{cid}/crash", token=None).status_code == 200
    assert support.wait_until(lambda: [c["Id"] for c in engine.containers(**{"scw-mock.application-id": cid})] not in ([], [first["Id"]]), 20)
    assert support.wait_until(lambda: invoke(srv, cid).status_code == 200, 20)
    lines = [line["line"] for line in log_lines(srv, cid)]
    assert "container exited with code 137" in lines and "restarting in 250 ms" in lines, lines

    # A redeploy starts a new container and removes the old one once the new one is ready.
    [second] = engine.containers(**{"scw-mock.application-id": cid})
    assert srv.post(f"{C1}/containers/{cid}/redeploy", {}).json()["status"] == "updating"
    assert settled(srv, cid)["status"] == "ready"
    assert support.wait_until(lambda: [c["Id"] for c in engine.containers(**{"scw-mock.application-id": cid})] not in ([], [second["Id"]]), 20)
    assert support.wait_until(lambda: len(engine.containers(**{"scw-mock.application-id": cid})) == 1, 20)
    assert invoke(srv, cid).status_code == 200


def test_scale_to_zero_removes_an_idle_container_and_the_next_call_starts_it(engine, server_factory, tmp_path):
    srv = start_mock(server_factory, tmp_path, "--scale-to-zero", "1")
    idle = create_container(srv, "idle", min_scale=0)
    warm = create_container(srv, "warm", min_scale=1)
    assert settled(srv, idle)["status"] == "ready" and settled(srv, warm)["status"] == "ready"
    assert support.wait_until(lambda: engine.containers(**{"scw-mock.application-id": idle}) == [], 15)
    assert len(engine.containers(**{"scw-mock.application-id": warm})) == 1
    assert srv.get(f"{C1}/containers/{idle}").json()["status"] == "ready"
    # The next call waits for a new container (a cold start, in the logs).
    answered = invoke(srv, idle, "/again")
    assert answered.status_code == 200 and answered.json()["path"] == "/again"
    lines = [line["line"] for line in log_lines(srv, idle)]
    assert any(line.startswith("scaled to zero") for line in lines) and "cold start" in lines, lines
    assert len(engine.containers(**{"scw-mock.application-id": idle})) == 1


def test_delete_and_a_killed_server_leave_no_container(engine, server_factory, tmp_path):
    db = tmp_path / "kept.sqlite"
    srv = start_mock(server_factory, tmp_path, db_path=db)
    deleted = create_container(srv, "deleted")
    kept = create_container(srv, "kept")
    assert settled(srv, deleted)["status"] == "ready" and settled(srv, kept)["status"] == "ready"
    assert len(engine.containers(**{"scw-mock.application-id": deleted})) == 1

    # DELETE removes the container from the engine.
    assert srv.delete(f"{C1}/containers/{deleted}").status_code == 200
    assert support.wait_until(lambda: engine.containers(**{"scw-mock.application-id": deleted}) == [], 15)

    # kill -9 of the server leaves its container behind; the next start on the same store removes it and runs the
    # container again (it was ready), in a new engine container.
    [orphan] = engine.containers(**{"scw-mock.application-id": kept})
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=10)
    srv.returncode = srv.proc.returncode
    again = start_mock(server_factory, tmp_path, db_path=db)
    assert support.wait_until(lambda: invoke(again, kept).status_code == 200, 60)
    assert support.wait_until(lambda: orphan["Id"] not in [c["Id"] for c in engine.containers(**{"scw-mock.application-id": kept})], 15)

    # A graceful stop removes every container of the instance.
    assert again.stop() == 0
    assert engine.containers(**{"scw-mock.application-id": kept}) == []


# --- without an engine (these run everywhere) --------------------------------------------------------------------------


def test_container_mode_refuses_to_start_without_an_engine(tmp_path):
    """A CI job that asked for real images must not silently test processes instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_MOCK_")}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    run = subprocess.run([str(support.binary_path()), "serve", "--port", "0", "--database", ":memory:", "--runtime", "container"],
                         env=env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert run.returncode != 0
    assert f"--runtime container: cannot reach the engine at unix://{tmp_path}/no-engine.sock" in run.stderr, run.stderr


def test_auto_mode_without_an_engine_runs_processes(server_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    srv = server_factory(extra_args=["--runtime", "auto", "--ready-timeout", "20"])
    ns = srv.post(f"{C1}/namespaces", {"name": support.uniq("auto")}).json()["id"]
    srv.wait_ready("c1", ns)
    cid = srv.post(f"{C1}/containers", {"namespace_id": ns, "name": "fallback", "image": PRODUCTION_IMAGE}).json()["id"]
    assert settled(srv, cid)["status"] == "ready"
    # The built-in sample app, as a local process: PORT is a free local port, not the declared one.
    assert any(line["line"].startswith("started pid ") for line in log_lines(srv, cid))
    assert invoke(srv, cid).json()["env"]["PORT"] != "8080"


def test_a_posted_fixture_may_map_images_for_the_engine_but_not_commands(server_factory):
    """`engine_image` names an image, as any container's `image` does: data that anyone who reaches the port may post.
    A `command` runs a program on the mock's machine: refused unless the server trusts posted seeds."""
    srv = server_factory()
    engine_only = "images:\n  - {image: 'rg.fr-par.scw.cloud/team/web:*', engine_image: 'localhost/web:dev'}\n"
    r = srv.request("POST", "/_mock/seed", token=None, data=engine_only, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    with_command = "images:\n  - {image: 'rg.fr-par.scw.cloud/team/web:*', engine_image: 'localhost/web:dev', command: [sh]}\n"
    r = srv.request("POST", "/_mock/seed", token=None, data=with_command, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 400 and "images[0].command" in r.text, r.text
