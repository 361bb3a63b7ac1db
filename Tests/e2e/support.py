"""Shared helpers for the scw-mock end-to-end suite.

The suite drives the real `scw-mock` binary: it is started on `--port 0`, the single `export ...` line it prints on
stdout is parsed, and the tests talk to it through the official Scaleway Python SDK and through `requests`.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / ".build" / "debug" / "scw-mock"

STARTUP_DEADLINE = 15.0  # seconds to wait for the export line
KEY_POOL_DEADLINE = 60.0  # seconds to wait for the key pool to fill after start
READY_DEADLINE = 30.0  # seconds a namespace may take to become ready (its RSA key may still be generating)
KEY_SIZE = 2048  # namespace RSA keys in tests: 2048 bits (~75 ms each) instead of the default 4096 (~1 s)
KEY_POOL = 16  # keys generated ahead; a namespace created while the pool is empty waits for its key
SHUTDOWN_DEADLINE = 15.0  # seconds to wait for a graceful exit after SIGTERM
HTTP_TIMEOUT = 30.0

# --- identities ------------------------------------------------------------------------------------------------------

# Always present in the mock.
DEFAULT_ACCESS_KEY = "SCWMOCK0000000000000"
DEFAULT_SECRET_KEY = "00000000-0000-4000-8000-000000000000"
DEFAULT_PROJECT = "00000000-0000-4000-8000-000000000001"
DEFAULT_ORG = DEFAULT_PROJECT

# Written to the seed file by the fixtures.
OTHER_PROJECT = "11111111-1111-4111-8111-111111111111"
OTHER_ORG = OTHER_PROJECT
OTHER_ACCESS_KEY = "SCWOTHER000000000000"
OTHER_SECRET_KEY = "22222222-2222-4222-8222-222222222222"

EXPIRED_ACCESS_KEY = "SCWEXPIRED0000000000"
EXPIRED_SECRET_KEY = "33333333-3333-4333-8333-333333333333"

UNKNOWN_SECRET_KEY = "44444444-4444-4444-8444-444444444444"

SEED_YAML = f"""\
projects:
  - id: {OTHER_PROJECT}
    name: other
api_keys:
  - access_key: {OTHER_ACCESS_KEY}
    secret_key: {OTHER_SECRET_KEY}
    projects: [{OTHER_PROJECT}]
  - access_key: {EXPIRED_ACCESS_KEY}
    secret_key: {EXPIRED_SECRET_KEY}
    projects: [{DEFAULT_PROJECT}]
    expires_at: "2020-01-01T00:00:00Z"
"""

EXPORT_LINE_RE = re.compile(
    r"^export SCW_API_URL=http://127\.0\.0\.1:(?P<port>[0-9]+) "
    r"SCW_ACCESS_KEY=SCWMOCK0000000000000 "
    r"SCW_SECRET_KEY=00000000-0000-4000-8000-000000000000 "
    r"SCW_DEFAULT_PROJECT_ID=00000000-0000-4000-8000-000000000001 "
    r"SCW_DEFAULT_REGION=fr-par$"
)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# --- API kinds -------------------------------------------------------------------------------------------------------

# "cb" = containers v1beta1, "c1" = containers v1, "fn" = functions v1beta1
API_PREFIX = {
    "cb": "/containers/v1beta1",
    "c1": "/containers/v1",
    "fn": "/functions/v1beta1",
}
ALL_APIS = ("cb", "c1", "fn")
BETA_APIS = ("cb", "fn")

ARGON_V1BETA1_PREFIX = "$argon2id$v=19$m=65536,t=1,p=2$"
ARGON_V1_PREFIX = "$argon2id$v=19$m=65536,t=3,p=64$"

V1BETA1_NOT_FOUND = {"message": "Namespace was not found"}


def v1_not_found(ns_id: str) -> dict:
    return {"message": "resource is not found", "resource": "namespace", "resource_id": ns_id, "type": "not_found"}


def not_found_body(api: str, ns_id: str) -> dict:
    return v1_not_found(ns_id) if api == "c1" else V1BETA1_NOT_FOUND


def denied(reason: str) -> dict:
    return {
        "message": "authentication is denied",
        "method": "api_key",
        "reason": reason,
        "type": "denied_authentication",
    }


def permissions_denied(action: str) -> dict:
    return {
        "details": [{"action": action, "resource": "namespace"}],
        "message": "insufficient permissions",
        "type": "permissions_denied",
    }


CONFLICT_BODY = {"message": "Namespace already exist"}


def ns_path(api: str, region: str = "fr-par", ns_id: Optional[str] = None) -> str:
    path = f"{API_PREFIX[api]}/regions/{region}/namespaces"
    return f"{path}/{ns_id}" if ns_id else path


def uniq(prefix: str = "e2e") -> str:
    """A namespace name nobody else in the session uses: `<prefix>-<10 hex>`."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def registry_prefix(name: str) -> str:
    """Name lowercased, alphanumerics only, first 20 characters."""
    return re.sub(r"[^a-z0-9]", "", name.lower())[:20]


# --- argon2 ----------------------------------------------------------------------------------------------------------

def verifies(phc: str, plaintext: str) -> bool:
    # Imported here so that scripts/bench.py and scripts/soak.py can use this module without argon2-cffi.
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    try:
        return PasswordHasher().verify(phc, plaintext)
    except VerifyMismatchError:
        return False


# --- timestamps ------------------------------------------------------------------------------------------------------

TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$")


def fraction_digits(ts: str) -> int:
    m = TS_RE.match(ts)
    assert m, f"not an RFC 3339 UTC timestamp: {ts!r}"
    return len(m.group(2) or "")


def round_to_micros(ts9: str) -> str:
    """'2025-10-31T16:31:42.206272634Z' -> '2025-10-31T16:31:42.206273Z' (half-up, with carry)."""
    import datetime as dt

    m = TS_RE.match(ts9)
    assert m and len(m.group(2)) == 9, ts9
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    nanos = int(m.group(2))
    micros = (nanos + 500) // 1000
    t = base + dt.timedelta(microseconds=micros)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"


# --- tokens (JWT) ----------------------------------------------------------------------------------------------------

TOKEN_HEADER = b'{"alg":"RS256","typ":"JWT"}'
TOKEN_NOT_FOUND = {"message": "Token was not found"}
TOKEN_KEYS = {"id", "token", "public_key", "status", "expires_at", "description"}
PKCS1_PEM_RE = re.compile(r"^-----BEGIN RSA PUBLIC KEY-----\n(?:[A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END RSA PUBLIC KEY-----\n$")


def tokens_path(api: str, region: str = "fr-par", token_id: Optional[str] = None) -> str:
    path = f"{API_PREFIX[api]}/regions/{region}/tokens"
    return f"{path}/{token_id}" if token_id else path


def issue_jwt_path(api: str, region: str = "fr-par") -> str:
    return f"{API_PREFIX[api]}/regions/{region}/issue-jwt"


def b64url_decode(segment: str) -> bytes:
    assert re.fullmatch(r"[A-Za-z0-9_-]*", segment), f"not canonical unpadded base64url: {segment[:40]!r}"
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_segments(token: str) -> tuple[bytes, bytes, bytes]:
    parts = token.split(".")
    assert len(parts) == 3, token
    return tuple(b64url_decode(p) for p in parts)  # type: ignore[return-value]


def expected_payload(*, namespace_id: str, application_id: str, jti: str, iat: int, exp: Optional[int]) -> bytes:
    """Scaleway's exact payload bytes: compact JSON, keys in the recorded order, `exp` only when an expiry was set."""
    claims: dict[str, Any] = {
        "application_claim": [{"namespace_id": namespace_id, "application_id": application_id}],
        "version": 2,
        "aud": "functions",
    }
    if exp is not None:
        claims["exp"] = exp
    claims.update({"jti": jti, "iat": iat, "iss": "SCALEWAY", "nbf": iat, "sub": "token"})
    return json.dumps(claims, separators=(",", ":")).encode()


def check_jwt(
    token: str,
    public_key_pem: str,
    *,
    namespace_id: str = "",
    application_id: str = "",
    jti: Optional[str] = None,
    exp: Optional[int] = None,
) -> dict:
    """Check a token byte for byte against Scaleway's layout and verify it with PyJWT; returns the claims."""
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    header, payload, signature = jwt_segments(token)
    assert header == TOKEN_HEADER, header
    keys = [k for k, _ in json.loads(payload, object_pairs_hook=lambda pairs: pairs)]
    order = ["application_claim", "version", "aud"] + (["exp"] if exp is not None else []) + ["jti", "iat", "iss", "nbf", "sub"]
    assert keys == order, f"payload key order {keys}"
    claims = json.loads(payload)
    assert isinstance(claims["iat"], int) and abs(claims["iat"] - time.time()) <= 60, claims
    if jti is not None:
        assert claims["jti"] == jti
    assert payload == expected_payload(
        namespace_id=namespace_id, application_id=application_id, jti=claims["jti"], iat=claims["iat"], exp=exp
    ), payload
    key = load_pem_public_key(public_key_pem.encode())
    assert len(signature) == key.key_size // 8
    decoded = jwt.decode(token, public_key_pem, algorithms=["RS256"], audience="functions", issuer="SCALEWAY")
    assert decoded == claims
    return claims


# --- server process --------------------------------------------------------------------------------------------------


def binary_path() -> Path:
    return Path(os.environ.get("SCW_MOCK_BIN", str(DEFAULT_BINARY)))


def parse_export_line(line: str) -> Optional[dict[str, str]]:
    """The variables of the `export SCW_API_URL=... SCW_DEFAULT_REGION=fr-par` line the server prints first on stdout
    (well-known identity, 127.0.0.1 only), or None when the line is anything else."""
    if not EXPORT_LINE_RE.match(line):
        return None
    return dict(kv.split("=", 1) for kv in line[len("export ") :].split(" "))


def retry_text_file_busy(start: Callable[[], Any], deadline_s: float = 30.0) -> Any:
    """Run `start` (which executes the binary), retrying while a concurrent `swift build` is still writing it (ETXTBSY)."""
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            return start()
        except OSError as e:
            if e.errno != errno.ETXTBSY or time.monotonic() > give_up:
                raise
            time.sleep(0.2)


@dataclass
class Key:
    access_key: str
    secret_key: str
    project_id: str


DEFAULT_KEY = Key(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_PROJECT)
OTHER_KEY = Key(OTHER_ACCESS_KEY, OTHER_SECRET_KEY, OTHER_PROJECT)
EXPIRED_KEY = Key(EXPIRED_ACCESS_KEY, EXPIRED_SECRET_KEY, DEFAULT_PROJECT)


@dataclass
class MockServer:
    """One running scw-mock process."""

    db_path: Path
    seed_paths: list[Path]
    workdir: Path
    transition_delay: Optional[float] = None
    key_size: Optional[int] = KEY_SIZE  # None: the server's own default (no flag)
    key_pool: Optional[int] = KEY_POOL
    binary: Optional[Path] = None  # default: binary_path()
    listen_port: int = 0  # `--port`; 0 = a free port, read back from the export line
    wait_for_pool: bool = True
    runtime: bool = False
    proc: Optional[subprocess.Popen] = None
    export_line: str = ""
    env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)  # more `serve` flags (e.g. --allowed-host, --control-token)
    url: str = ""
    port: int = 0
    stderr_path: Optional[Path] = None
    returncode: Optional[int] = None
    launched_at: float = 0.0  # time.perf_counter() just before the exec
    export_line_at: Optional[float] = None  # time.perf_counter() when the export line arrived
    keys: dict[str, Key] = field(
        default_factory=lambda: {"default": DEFAULT_KEY, "other": OTHER_KEY, "expired": EXPIRED_KEY}
    )

    # -- lifecycle --

    def start(self) -> "MockServer":
        """Launch, wait for the export line and (with wait_for_pool) for a full key pool."""
        self.launch()
        self.wait_export_line()
        if self.wait_for_pool:
            try:
                self.wait_for_key_pool()
            except BaseException:
                self._kill()
                raise
        return self

    def launch(self) -> float:
        """Exec the server without waiting for it; returns `launched_at`."""
        binary = self.binary or binary_path()
        assert binary.is_file(), f"scw-mock binary not found at {binary} (set SCW_MOCK_BIN)"
        args = [str(binary), "serve", "--port", str(self.listen_port), "--database", str(self.db_path)]
        for seed in self.seed_paths:
            args += ["--seed", str(seed)]
        if self.transition_delay is not None:
            args += ["--transition-delay", str(self.transition_delay)]
        if self.key_size is not None:
            args += ["--key-size", str(self.key_size)]
        if self.key_pool is not None:
            args += ["--key-pool", str(self.key_pool)]
        args += list(self.extra_args)
        self.stderr_path = self.workdir / f"scw-mock-{uuid.uuid4().hex[:6]}.stderr.log"
        stderr = open(self.stderr_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_MOCK_")}
        if not self.runtime:
            # API-level suite: deploys settle after --transition-delay instead of launching local processes
            # (set through the environment so that binaries without the runtime simply ignore it)
            env["SCW_MOCK_RUNTIME"] = "off"
        self.launched_at = time.perf_counter()
        try:
            self.proc = retry_text_file_busy(
                lambda: subprocess.Popen(
                    args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env, text=True
                )
            )
        finally:
            stderr.close()

        self._lines: "queue.Queue[str]" = queue.Queue()
        lines, proc = self._lines, self.proc

        def reader() -> None:
            line = proc.stdout.readline()
            self.export_line_at = time.perf_counter()
            lines.put(line)

        threading.Thread(target=reader, daemon=True).start()
        return self.launched_at

    def wait_export_line(self, deadline_s: float = STARTUP_DEADLINE) -> None:
        """Wait for the export line and read the URL, port and variables from it (fails if it does not come)."""
        lines, proc = self._lines, self.proc
        deadline = time.monotonic() + deadline_s
        line: Optional[str] = None
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
                break
            except queue.Empty:
                if proc.poll() is not None and lines.empty():
                    # the reader may still deliver "" for EOF; give it one more chance
                    try:
                        line = lines.get(timeout=0.5)
                    except queue.Empty:
                        pass
                    break
        if not line:
            self._kill()
            raise AssertionError(
                f"scw-mock did not print its export line within {deadline_s}s "
                f"(exit code {proc.returncode}); stderr:\n{self.stderr_tail()}"
            )
        self.export_line = line.rstrip("\n")
        env = parse_export_line(self.export_line)
        if env is None:
            self._kill()
            raise AssertionError(f"unexpected export line: {self.export_line!r}")
        self.env = env
        self.url = env["SCW_API_URL"]
        self.port = int(self.url.rsplit(":", 1)[1])

    def key_pool_status(self) -> dict:
        r = self.get("/_mock/health", token=None)
        assert r.status_code == 200, r.text
        return r.json()["key_pool"]

    def wait_for_key_pool(self, deadline_s: float = KEY_POOL_DEADLINE) -> dict:
        """Poll /_mock/health until the key pool is full (namespaces created now are ready on the next read)."""
        pool, _ = poll_until(self.key_pool_status, lambda p: p["ready"] >= p["target"], deadline_s, interval=0.05)
        assert pool["bits"] == self.key_size, pool
        return pool

    def stop(self) -> int:
        """SIGTERM, wait for a graceful exit, return the exit code (kill and fail if it hangs)."""
        proc = self.proc
        assert proc is not None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=SHUTDOWN_DEADLINE)
            except subprocess.TimeoutExpired:
                self._kill()
                raise AssertionError(
                    f"scw-mock did not exit within {SHUTDOWN_DEADLINE}s of SIGTERM; stderr:\n{self.stderr_tail()}"
                )
        self.returncode = proc.returncode
        self.trailing_stdout = proc.stdout.read()
        proc.stdout.close()
        return proc.returncode

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stderr_tail(self, n: int = 40) -> str:
        if not self.stderr_path or not self.stderr_path.exists():
            return ""
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])

    # -- raw HTTP --

    def request(
        self,
        method: str,
        path: str,
        *,
        token: Optional[str] = DEFAULT_SECRET_KEY,
        json_body: Any = None,
        data: Any = None,
        params: Any = None,
        headers: Optional[dict] = None,
    ) -> requests.Response:
        h = dict(headers or {})
        if token is not None:
            h["X-Auth-Token"] = token
        if json_body is not None:
            import json as _json

            data = _json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        return requests.request(
            method, self.url + path, data=data, params=params, headers=h, timeout=HTTP_TIMEOUT
        )

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)

    # -- convenience --

    def create_ns(self, api: str, body: Optional[dict] = None, *, region: str = "fr-par", token: str = DEFAULT_SECRET_KEY) -> dict:
        body = dict(body or {})
        body.setdefault("name", uniq())
        r = self.post(ns_path(api, region), body, token=token)
        assert r.status_code == 200, f"create failed: {r.status_code} {r.text}"
        return r.json()

    def get_ns(self, api: str, ns_id: str, *, region: str = "fr-par", token: str = DEFAULT_SECRET_KEY) -> dict:
        r = self.get(ns_path(api, region, ns_id), token=token)
        assert r.status_code == 200, f"get failed: {r.status_code} {r.text}"
        return r.json()

    def wait_ready(self, api: str, ns_id: str, *, region: str = "fr-par", token: str = DEFAULT_SECRET_KEY,
                   deadline_s: float = READY_DEADLINE) -> dict:
        """Poll GET until the namespace is `ready` (its key may still be generating); returns that GET's body."""
        ns, _ = poll_until(
            lambda: self.get_ns(api, ns_id, region=region, token=token), lambda n: n["status"] == "ready", deadline_s
        )
        return ns

    def list_ns(self, api: str, *, region: str = "fr-par", token: str = DEFAULT_SECRET_KEY, **params) -> dict:
        r = self.get(ns_path(api, region), params=params, token=token)
        assert r.status_code == 200, f"list failed: {r.status_code} {r.text}"
        return r.json()


def poll_until(fetch: Callable[[], Any], done: Callable[[Any], bool], deadline_s: float, interval: float = 0.05):
    """Call fetch() until done(value) or the deadline passes (failing then); returns (value, seconds elapsed).
    The polling itself is `wait_until`'s."""
    start = time.monotonic()
    last: list[Any] = []

    def attempt() -> bool:
        last[:] = [fetch()]
        return done(last[0])

    if not wait_until(attempt, deadline_s, interval):
        raise AssertionError(f"condition not reached within {deadline_s}s; last value: {last[0]!r}")
    return last[0], time.monotonic() - start


# --- SDK -------------------------------------------------------------------------------------------------------------


def sdk_wait_ready(api_client: Any, ns_id: str, deadline_s: float = READY_DEADLINE, **kw):
    """Poll `get_namespace` through an SDK API object until `ready` (the namespace's key may still be generating)."""
    ns, _ = poll_until(lambda: api_client.get_namespace(namespace_id=ns_id, **kw), lambda n: n.status == "ready", deadline_s)
    return ns



@dataclass
class Sdk:
    client: Any
    cb: Any  # ContainerV1Beta1API
    c1: Any  # ContainerV1API
    fn: Any  # FunctionV1Beta1API

    def api(self, kind: str):
        return getattr(self, kind)


def make_client(server: MockServer, key: Key = DEFAULT_KEY):
    from scaleway import Client

    return Client(
        access_key=key.access_key,
        secret_key=key.secret_key,
        api_url=server.url,
        default_project_id=key.project_id,
        default_region="fr-par",
    )


def make_sdk(server: MockServer, key: Key = DEFAULT_KEY) -> Sdk:
    from scaleway.container.v1 import ContainerV1API
    from scaleway.container.v1beta1 import ContainerV1Beta1API
    from scaleway.function.v1beta1 import FunctionV1Beta1API

    client = make_client(server, key)
    return Sdk(client=client, cb=ContainerV1Beta1API(client), c1=ContainerV1API(client), fn=FunctionV1Beta1API(client))


def write_seed(directory: Path) -> Path:
    seed = directory / "seed.yaml"
    if not seed.exists():
        seed.write_text(SEED_YAML)
    return seed


class ServerFactory:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.started: list[MockServer] = []

    def __call__(
        self,
        *,
        db_path: Optional[Path] = None,
        transition_delay: Optional[float] = None,
        extra_seeds: Optional[list[Path]] = None,
        key_pool: int = KEY_POOL,
        key_size: int = KEY_SIZE,
        wait_for_pool: bool = True,
        extra_args: Optional[list[str]] = None,
    ) -> MockServer:
        db = db_path or self.workdir / f"state-{uuid.uuid4().hex[:8]}.sqlite"
        seeds = [write_seed(self.workdir)] + list(extra_seeds or [])
        srv = MockServer(
            db_path=db,
            seed_paths=seeds,
            workdir=self.workdir,
            transition_delay=transition_delay,
            key_pool=key_pool,
            key_size=key_size,
            wait_for_pool=wait_for_pool,
            extra_args=list(extra_args or []),
        )
        self.started.append(srv)  # registered before start so a failed start is still cleaned up
        srv.start()
        return srv

    def stop_all(self) -> None:
        failures = []
        for srv in self.started:
            if srv.proc is not None and srv.returncode is None:
                try:
                    rc = srv.stop()
                    if rc != 0:
                        failures.append(f"{srv.url}: exit code {rc}\n{srv.stderr_tail()}")
                except AssertionError as e:  # hung
                    failures.append(str(e))
        assert not failures, "scw-mock did not shut down cleanly:\n" + "\n".join(failures)


def processes_with(app_id: str) -> list[int]:
    """Live pids (not zombies) whose environment carries the platform's SCW_APPLICATION_ID=<app_id>: every process of
    a container or function, descendants included (they inherit the environment)."""
    needle = f"SCW_APPLICATION_ID={app_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in env and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def keyed_request(base_url: str, method: str, path: str, key: Optional[str], timeout: float = 60, **kw) -> requests.Response:
    """One call with `X-Auth-Token: key` (none when key is falsy) added to the caller's headers: the `call` of the
    suites that run their own server."""
    headers = kw.pop("headers", {})
    if key:
        headers["X-Auth-Token"] = key
    return requests.request(method, base_url + path, headers=headers, timeout=timeout, **kw)


def proc_stat(pid: int) -> Optional[tuple[str, int]]:
    """(state, ppid) of a pid, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rfind(")") + 2:].split()
    return rest[0], int(rest[1])


def alive(pid: int) -> bool:
    """Whether a pid is a live process (not gone, not a zombie)."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def wait_until(predicate, deadline, interval=0.05):
    """Polls until predicate() is truthy or `deadline` seconds pass; returns its last value. The one polling loop of
    the suite and of scripts/bench.py and scripts/soak.py."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)
