"""Process faults of the reliability catalog (/work/shared/reliability-catalog.md, section 3.2) in one place:
F05, F11, F12, F13, F14, F15 a/b/c, F16, F17, F18, F20, F22, F25, F27, and the process side of A17 (huge
environment) and A19 (literal argv).

Every scenario checks what the README promises ("Running containers and functions", "Behaviour worth knowing"):
the container ends in `error` with an `error_message` when its process cannot serve, the gateway answers 502 / 503
/ 504 quickly instead of hanging, a management GET keeps answering within 2 s during the fault, and nothing is left
behind: no process whose environment carries `SCW_APPLICATION_ID=<id>` (found through /proc/*/environ), no zombie
child of the server, and the server's fd count back near its baseline.

Rows that need no server of their own share one module-scoped server (`--ready-timeout 3`). The launched programs
are one small Python HTTP server (APP below) whose behaviour is chosen by environment variables and request paths.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import support

KEY = support.DEFAULT_SECRET_KEY
C1 = "/containers/v1/regions/fr-par"
PY = sys.executable
READY_TIMEOUT = 3  # --ready-timeout of the servers started here
GRACE = 2.0  # README: delete, redeploy and shutdown send SIGTERM to the group, SIGKILL after 2 s
FD_SLACK = 10

# The launched program. Startup knobs (environment): APP_DELAY seconds before binding, APP_HOST, APP_PORT_OFFSET,
# APP_MODE=mute (listens but never answers), APP_EXIT_AFTER (exits with code 7 that many seconds after binding),
# APP_FORK=plain|daemon|stubborn (a grandchild: in the group, double forked into its own session, or in the group
# ignoring SIGTERM), APP_LOG (a file that gets one line per request and
# "TERM" when SIGTERM arrives). Paths: /sleep?s=N, /segv, /abort, /argv, /reopen?s=N (close the listening socket for
# N seconds), anything else answers {"pid", "path"}.
# It clears its signal mask first (unless APP_KEEP_SIGNAL_MASK): the server hands its children a mask with SIGTERM
# blocked (see test_f05_f14_children_can_receive_sigterm), and without this every row below would only exercise the
# SIGKILL-after-2-s path and pay 2 s per delete.
APP = r'''
import http.server, json, os, resource, signal, socket, sys, time, urllib.parse
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if not os.environ.get("APP_KEEP_SIGNAL_MASK"):
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
port = int(os.environ["PORT"]) + int(os.environ.get("APP_PORT_OFFSET", "0"))
host = os.environ.get("APP_HOST", "127.0.0.1")
log = os.environ.get("APP_LOG")
def note(text):
    if log:
        with open(log, "a") as f:
            f.write(text + "\n")
if log:
    def on_term(*_):
        note("TERM")
        os._exit(0)
    signal.signal(signal.SIGTERM, on_term)
fork = os.environ.get("APP_FORK")
if fork:
    if os.fork() == 0:
        if fork == "daemon":
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
        if fork == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(300)
        os._exit(0)
time.sleep(float(os.environ.get("APP_DELAY", "0")))
if os.environ.get("APP_MODE") == "mute":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(64)
    while True:
        time.sleep(60)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        note("req " + url.path)
        if url.path == "/sleep":
            time.sleep(float(q.get("s", "1")))
        elif url.path == "/segv":
            import ctypes
            ctypes.string_at(0)
        elif url.path == "/abort":
            os.abort()
        elif url.path == "/argv":
            return self.reply({"argv": sys.argv[1:]})
        elif url.path == "/reopen":
            self.server.reopen_after = float(q.get("s", "1.5"))
        self.reply({"pid": os.getpid(), "path": url.path})
if os.environ.get("APP_EXIT_AFTER"):
    import threading
    threading.Timer(float(os.environ["APP_EXIT_AFTER"]), lambda: os._exit(7)).start()
while True:
    srv = http.server.ThreadingHTTPServer((host, port), H)
    srv.daemon_threads = True
    srv.timeout = 0.05
    srv.reopen_after = None
    while srv.reopen_after is None:
        srv.handle_request()
    srv.server_close()
    time.sleep(srv.reopen_after)
'''


# --- /proc helpers ---------------------------------------------------------------------------------------------------

proc_stat = support.proc_stat
alive = support.alive


processes_with = support.processes_with


def zombies_of(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = proc_stat(entry.name)
            if st and st[0] == "Z" and st[1] == pid:
                found.append(int(entry.name))
    return found


def children_of(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = proc_stat(entry.name)
            if st and st[1] == pid and st[0] != "Z":
                found.append(int(entry.name))
    return found


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid):
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            kind = re.sub(r"\[\d+\]|:\d+", "", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def env_of(pid):
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)


wait_until = support.wait_until


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- the server ------------------------------------------------------------------------------------------------------

class Server:
    """The real binary with the runtime on."""

    def __init__(self, tmp: Path, *extra: str, prefix=()):
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp
        self.db = tmp / "state.sqlite"
        seed = tmp / "seed.yaml"
        seed.write_text(support.SEED_YAML)
        self.args = [*prefix, str(support.binary_path()), "serve", "--port", "0", "--database", str(self.db), "--seed", str(seed),
                     "--key-size", "2048", "--key-pool", "4", "--runtime", "on", "--ready-timeout", str(READY_TIMEOUT), *extra]
        self.ids = []
        self.start()

    def start(self):
        self.stderr = open(self.tmp / "stderr.log", "a")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        env = support.parse_export_line(line.rstrip("\n"))
        assert env, f"no export line: {line!r}; stderr: {self.stderr_tail()}"
        self.url = env["SCW_API_URL"]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stderr_tail(self, n=8):
        """The server's fatal-error lines if it crashed, else its last lines."""
        try:
            lines = (self.tmp / "stderr.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        fatal = [l for l in lines if any(mark in l for mark in ("Fatal error", "crashed:", "Program crashed", "*** Signal"))]
        return "\n".join(fatal[:4] or lines[-n:])

    def call(self, method, path, key=KEY, timeout=30, **kw):
        return support.keyed_request(self.url, method, path, key, timeout=timeout, **kw)

    def namespace(self, name, **body):
        r = self.call("POST", f"{C1}/namespaces", json={"name": name, **body})
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def container(self, ns, name, **body):
        r = self.call("POST", f"{C1}/containers", json={"namespace_id": ns, "name": name, "image": "sample:latest", **body})
        assert r.status_code == 200, r.text
        self.ids.append(r.json()["id"])
        return r.json()["id"]

    def get(self, cid):
        return self.call("GET", f"{C1}/containers/{cid}").json()

    def wait_status(self, cid, wanted=("ready", "error"), deadline=20.0):
        body = wait_until(lambda: (lambda b: b if b["status"] in wanted else None)(self.get(cid)), deadline)
        assert body, f"container {cid} stayed {self.get(cid)['status']}; logs: {self.log_lines(cid)}"
        return body

    def invoke(self, app_id, path="/", timeout=30, **kw):
        return requests.request(kw.pop("method", "GET"), f"{self.url}/_mock/invoke/{app_id}{path}", timeout=timeout, **kw)

    def log_lines(self, app_id):
        r = self.call("GET", f"/_mock/containers/{app_id}/logs", key=None)
        return [l["line"] for l in r.json()["lines"]] if r.status_code == 200 else []

    def pids_of(self, app_id):
        return [int(m.group(1)) for l in self.log_lines(app_id) if (m := re.match(r"started pid (\d+)", l))]

    def delete(self, cid):
        r = self.call("DELETE", f"{C1}/containers/{cid}")
        assert r.status_code in (200, 404), r.text
        return r

    def assert_responsive(self, limit=2.0):
        """A management GET answers within `limit` seconds."""
        started = time.monotonic()
        r = self.call("GET", f"{C1}/namespaces", timeout=limit + 5)
        took = time.monotonic() - started
        assert r.status_code == 200 and took < limit, f"management GET took {took:.2f}s ({r.status_code})"

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stderr.close()

    def watchdogs(self):
        """Children of the server that are not launched applications (the process watchdog)."""
        return [p for p in children_of(self.pid) if b"SCW_APPLICATION_ID" not in env_of(p)]


def assert_no_orphans(*ids, deadline=5.0):
    clean = wait_until(lambda: not any(processes_with(i) for i in ids), deadline)
    assert clean, f"orphan processes: {({i: processes_with(i) for i in ids})}"


def assert_no_zombies(server_pid, deadline=3.0):
    assert wait_until(lambda: not zombies_of(server_pid), deadline), f"zombie children of the server: {zombies_of(server_pid)}"


class Scenario:
    """Baseline of the shared server at the start of a test; `finish` deletes the test's containers and checks that
    nothing is left behind."""

    def __init__(self, server):
        self.server = server
        self.baseline = fd_count(server.pid)
        self.ids = []

    def container(self, name, **body):
        cid = self.server.container(self.server.ns, name, **body)
        self.ids.append(cid)
        return cid

    def finish(self, fd_deadline=10):
        srv = self.server
        if self.ids:
            with ThreadPoolExecutor(len(self.ids)) as pool:
                list(pool.map(lambda cid: srv.delete(cid).status_code, self.ids))
        assert_no_orphans(*self.ids)
        assert_no_zombies(srv.pid)
        ok = wait_until(lambda: abs(fd_count(srv.pid) - self.baseline) <= FD_SLACK, fd_deadline)
        assert ok, f"server fds {fd_count(srv.pid)} vs baseline {self.baseline}: {fd_kinds(srv.pid)}"
        srv.assert_responsive()


@pytest.fixture(scope="module")
def app_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("apps") / "app.py"
    path.write_text(APP)
    return str(path)


def warm_up(server):
    """The first launch and the first proxied call open the gateway's client, event loops and the watchdog pipe for
    good; fd baselines are taken after it."""
    warm = server.container(server.ns, "warm-up")
    assert server.wait_status(warm)["status"] == "ready" and server.invoke(warm).status_code == 200
    server.delete(warm)
    assert_no_orphans(warm)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("processes"))
    server.ns = server.namespace("processes")
    warm_up(server)
    yield server
    if server.proc.poll() is None:
        assert server.stop() == 0, server.stderr_tail()
    assert_no_orphans(*server.ids)


@pytest.fixture
def scenario(srv):
    return Scenario(srv)


def in_thread(fn, *args, **kw):
    """Runs fn in a thread; the returned function joins it and gives the result (or raises its exception)."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args, **kw)
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join(timeout=60):
        t.join(timeout)
        assert not t.is_alive(), "background call did not finish"
        if "error" in box:
            raise box["error"]
        return box["value"]
    return join


def timed(fn, *args, **kw):
    started = time.monotonic()
    value = fn(*args, **kw)
    return value, time.monotonic() - started


# --- fds per launch -------------------------------------------------------------------------------------------------

def test_server_fds_return_to_baseline_after_many_launches(srv, scenario):
    # 12 launches: a leak of even one fd per launch (the stdout/stderr pipe ends once leaked 2) shows past the slack.
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: scenario.container(f"fd-{i}"), range(12)))
    for cid in ids:
        assert srv.wait_status(cid)["status"] == "ready"
    scenario.finish()


# --- F11: the child exits at start ------------------------------------------------------------------------------------

def test_f11_child_exiting_at_start_is_error_with_a_fast_gateway_answer_and_no_zombie(srv, scenario):
    cid = scenario.container("f11-exit", command=["sh", "-c", "echo F11-early-exit >&2; exit 1"])
    body = srv.wait_status(cid)
    assert body["status"] == "error", body
    assert body["error_message"].startswith("Container is unable to start OR is not listening on port 8080"), body
    assert "exited with code 1" in body["error_message"] and "F11-early-exit" in body["error_message"], body
    # Not running: the gateway says so at once (README: 503), it does not wait for the 10 s start window.
    r, took = timed(srv.invoke, cid)
    assert r.status_code == 503 and took < 2, (r.status_code, took, r.text)
    assert r.json()["message"]
    srv.assert_responsive()
    pids = srv.pids_of(cid)
    assert len(pids) == 1, srv.log_lines(cid)  # a process that never got ready is not restarted
    assert not alive(pids[0]) and pids[0] not in zombies_of(srv.pid)
    scenario.finish()


def test_f11_a_crash_loop_backs_off_then_ends_in_error(srv, scenario, app_file):
    # Ready, then dies 0.6 s later, every time: restarts with growing back-off, and more than 3 crashes in 60 s end in error.
    cid = scenario.container("f11-loop", command=[PY, app_file], environment_variables={"APP_EXIT_AFTER": "0.6"})
    body = srv.wait_status(cid, wanted=("error",), deadline=25)
    assert re.search(r"crashed \d+ times within 60s; last exit code 7", body["error_message"]), body
    lines = srv.log_lines(cid)
    backoffs = [int(m.group(1)) for l in lines if (m := re.match(r"restarting in (\d+) ms", l))]
    assert backoffs == [250, 500, 1000], lines
    assert len(srv.pids_of(cid)) == 4
    r, took = timed(srv.invoke, cid)
    assert r.status_code == 503 and took < 2, (r.status_code, took)
    scenario.finish()


# --- F12: the child dies mid-request ---------------------------------------------------------------------------------

def test_f12_child_dying_mid_request_gives_502_and_the_next_request_works_after_restart(srv, scenario, app_file):
    cid = scenario.container("f12-die", command=[PY, app_file])
    assert srv.wait_status(cid)["status"] == "ready"
    first = srv.invoke(cid).json()["pid"]
    for n, path in enumerate(["/segv", "/abort"], start=2):
        r, took = timed(srv.invoke, cid, path)
        assert r.status_code == 502 and took < 3, (path, r.status_code, took, r.text)
        assert r.json()["message"]
        srv.assert_responsive()
        assert wait_until(lambda: len(srv.pids_of(cid)) == n and srv.log_lines(cid)[-1].startswith("ready on port"), 10), srv.log_lines(cid)
        r = srv.invoke(cid)
        assert r.status_code == 200 and r.json()["pid"] != first, r.text
    assert srv.get(cid)["status"] == "ready"
    lines = srv.log_lines(cid)
    assert [l for l in lines if l.startswith("restarting in")] == ["restarting in 250 ms", "restarting in 500 ms"], lines
    assert not any(alive(p) for p in srv.pids_of(cid)[:-1])
    scenario.finish()


def test_f12_a_crash_is_noticed_while_a_grandchild_lives_on(srv, scenario, app_file):
    # `sh -c "helper & exec app"` is a common entrypoint; here the app itself forks a helper that just sleeps.
    cid = scenario.container("f12-helper", command=[PY, app_file], environment_variables={"APP_FORK": "plain"})
    try:
        assert srv.wait_status(cid)["status"] == "ready"
        first = srv.pids_of(cid)[0]
        assert srv.invoke(cid, "/abort").status_code == 502
        restarted = wait_until(lambda: len(srv.pids_of(cid)) == 2, 4)
        state = proc_stat(first)
        assert restarted, f"no restart 4 s after the crash; the crashed pid is {state} (state, ppid), server pid {srv.pid}"
        assert first not in zombies_of(srv.pid)
        r, took = timed(srv.invoke, cid)
        assert r.status_code == 200 and took < 2, (r.status_code, took)
    finally:
        scenario.finish()


# --- F13: the child hangs --------------------------------------------------------------------------------------------

def test_f13_a_child_that_never_listens_ends_in_error_after_the_ready_timeout(srv, scenario, app_file):
    never = scenario.container("f13-never", command=[PY, app_file], environment_variables={"APP_DELAY": "600"})
    srv.assert_responsive()
    body = srv.wait_status(never, deadline=READY_TIMEOUT + 10)
    assert body["status"] == "error" and "did not listen on PORT" in body["error_message"] and f"within {READY_TIMEOUT}s" in body["error_message"], body
    assert wait_until(lambda: not processes_with(never), 5)
    r, took = timed(srv.invoke, never)
    assert r.status_code == 503 and took < 2
    scenario.finish()


def test_f13_hung_calls_get_504_at_the_container_timeout_and_the_server_lives(tmp_path, app_file):
    # Its own server: a timed-out proxied call must not take the other rows down if it goes wrong.
    m = Server(tmp_path)
    m.ns = m.namespace("f13")
    warm_up(m)
    scenario = Scenario(m)
    # Binds but never answers; answers after timeout + 1 s.
    mute = scenario.container("f13-mute", command=[PY, app_file], environment_variables={"APP_MODE": "mute"}, timeout="2s")
    late = scenario.container("f13-late", command=[PY, app_file], timeout="2s")
    try:
        assert m.get(mute)["timeout"] == "2s"
        assert m.wait_status(mute)["status"] == "ready" and m.wait_status(late)["status"] == "ready"
        calls = [in_thread(timed, m.invoke, mute, "/"), in_thread(timed, m.invoke, late, "/sleep?s=3")]
        time.sleep(0.3)
        m.assert_responsive()
        for join in calls:
            r, took = join()
            assert r.status_code == 504 and 1.5 <= took < 5, (r.status_code, took, r.text)
            assert "timeout" in r.json()["message"]
        assert m.proc.poll() is None, f"the server died: {m.stderr_tail()}"
        m.assert_responsive()
        # The slow process still serves fast calls.
        assert m.invoke(late, "/").status_code == 200
        scenario.finish()
    finally:
        # SIGKILL: this server may be busy writing a crash report, and its shutdown is F05's subject, not this row's.
        if m.proc.poll() is None:
            m.stop(signal.SIGKILL)
        assert_no_orphans(*m.ids)


# --- F14: the child ignores SIGTERM ----------------------------------------------------------------------------------

def test_f14_a_child_ignoring_sigterm_is_killed_after_the_grace_period(srv, scenario, app_file):
    cid = scenario.container("f14-stubborn", command=["sh", "-c", 'trap "" TERM; exec "$0" "$1"', PY, app_file])
    assert srv.wait_status(cid)["status"] == "ready"
    pid = srv.pids_of(cid)[0]
    program = children_of(pid)[0]  # the logged pid is `scw-mock run-child`, which catches SIGTERM; the program is its child
    sig_ignored = int(re.search(r"SigIgn:\s*([0-9a-f]+)", Path(f"/proc/{program}/status").read_text()).group(1), 16)
    assert sig_ignored & (1 << (signal.SIGTERM - 1)), "precondition: the process ignores SIGTERM"
    join = in_thread(timed, srv.delete, cid)
    time.sleep(0.5)
    srv.assert_responsive()
    assert alive(pid), "a process ignoring SIGTERM should still be running during the grace period"
    r, took = join()
    assert r.status_code == 200 and GRACE - 0.5 <= took < GRACE + 2, (r.status_code, took)
    assert wait_until(lambda: not alive(pid), 1)
    scenario.finish()


def test_f05_f14_children_can_receive_sigterm(srv, scenario, app_file, tmp_path):
    term_log = tmp_path / "term.log"
    cid = scenario.container("sigterm", command=[PY, app_file], environment_variables={"APP_KEEP_SIGNAL_MASK": "1", "APP_LOG": str(term_log)})
    assert srv.wait_status(cid)["status"] == "ready"
    pid = srv.pids_of(cid)[0]
    try:
        blocked = int(re.search(r"SigBlk:\s*([0-9a-f]+)", Path(f"/proc/{pid}/status").read_text()).group(1), 16)
        r, took = timed(srv.delete, cid)
        assert r.status_code == 200
        assert term_log.exists() and "TERM" in term_log.read_text(), \
            f"SIGTERM never reached the program (SigBlk {blocked:016x}); delete took {took:.2f}s"
        assert took < 1, took
    finally:
        scenario.finish()


# --- F15: grandchildren ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["plain", "daemon", "stubborn"])
def test_f15_grandchildren_do_not_outlive_a_delete(srv, scenario, app_file, kind):
    cid = scenario.container(f"f15-{kind}", command=[PY, app_file], environment_variables={"APP_FORK": kind})
    assert srv.wait_status(cid)["status"] == "ready"
    assert wait_until(lambda: len(processes_with(cid)) >= 2, 5), processes_with(cid)
    if kind == "daemon":
        main_sid = os.getsid(srv.pids_of(cid)[0])

        def left_session():
            for p in processes_with(cid):
                try:
                    if os.getsid(p) != main_sid:
                        return True
                except ProcessLookupError:
                    pass
            return False
        assert wait_until(left_session, 5), "precondition: the grandchild left the session"
    r, took = timed(srv.delete, cid)
    assert r.status_code == 200 and took < GRACE + 2, took
    assert_no_orphans(cid, deadline=3)
    scenario.finish()


def test_f15b_a_daemon_does_not_survive_a_sigkill_of_the_server(tmp_path, app_file):
    m = Server(tmp_path)
    ns = m.namespace("f15-kill")
    cid = m.container(ns, "daemon", command=[PY, app_file], environment_variables={"APP_FORK": "daemon"})
    try:
        assert m.wait_status(cid)["status"] == "ready"
        assert wait_until(lambda: len(processes_with(cid)) >= 2, 5)
    finally:
        m.stop(signal.SIGKILL)
    assert wait_until(lambda: not processes_with(cid), 3), f"survivors 3 s after SIGKILL: {processes_with(cid)}"


# --- F16: output flood -----------------------------------------------------------------------------------------------

def test_f16_an_output_flood_is_drained_with_bounded_memory_and_a_responsive_api(srv, scenario, app_file):
    rss_before = rss_kib(srv.pid)
    cid = scenario.container("f16-flood", command=["sh", "-c", 'yes F16-out & yes F16-err >&2 & exec "$0" "$1"', PY, app_file])
    assert srv.wait_status(cid)["status"] == "ready"
    dropped = lambda: srv.call("GET", f"/_mock/containers/{cid}/logs", key=None).json()["dropped"]
    first = dropped()
    latencies = []
    for _ in range(10):
        _, took = timed(srv.assert_responsive)
        latencies.append(took)
        assert srv.invoke(cid).status_code == 200
    # Still draining: the counter of dropped lines keeps growing, so the pipes are read and the writers never block.
    assert wait_until(lambda: dropped() > first, 5)
    logs = srv.call("GET", f"/_mock/containers/{cid}/logs", key=None).json()
    # The process's output is bounded (the gateway's own lines about the calls above are bounded apart).
    output = [l for l in logs["lines"] if l["stream"] != "gateway"]
    assert len(output) <= 2001 and {"F16-out", "F16-err"} & {l["line"] for l in output}
    rss_growth_mib = (rss_kib(srv.pid) - rss_before) / 1024
    assert rss_growth_mib < 200, f"server RSS grew by {rss_growth_mib:.0f} MiB during the flood"
    assert max(latencies) < 2, latencies
    scenario.finish()


# --- F17: wrong or stolen port ---------------------------------------------------------------------------------------

def test_f17_a_child_on_the_wrong_port_is_error_and_one_on_all_interfaces_is_served(srv, scenario, app_file):
    wrong = scenario.container("f17-wrong", command=[PY, app_file], environment_variables={"APP_PORT_OFFSET": "1"})
    anywhere = scenario.container("f17-any", command=[PY, app_file], environment_variables={"APP_HOST": "0.0.0.0"})
    body = srv.wait_status(wrong, deadline=READY_TIMEOUT + 10)
    # (or "exited ... before listening on PORT" in the rare case PORT+1 is taken and the program fails to bind)
    assert body["status"] == "error" and re.search(r"did not listen on PORT|before listening on PORT", body["error_message"]), body
    assert wait_until(lambda: not processes_with(wrong), 5)
    assert srv.invoke(wrong).status_code == 503
    assert srv.wait_status(anywhere)["status"] == "ready"
    assert srv.invoke(anywhere, "/x").json()["path"] == "/x"
    scenario.finish()


class ForeignListener:
    """A listener that is not the container's process; records every byte it receives."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.received = []
        self.closed = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.5)
            try:
                data = conn.recv(65536)
                if data:
                    self.received.append(data)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


def test_f17_a_stolen_port_never_receives_requests(srv, scenario, app_file):
    # A slow starter (binds after 2 s, like a JVM) and a foreign process that grabs its PORT in that window.
    cid = scenario.container("f17-stolen", command=[PY, app_file], environment_variables={"APP_DELAY": "2"}, timeout="3s")
    port = wait_until(lambda: next((int(m.group(1)) for l in srv.log_lines(cid) if (m := re.match(r"started pid \d+ on port (\d+)", l))), None), 10)
    assert port
    foreign = ForeignListener(port)
    try:
        srv.wait_status(cid, deadline=READY_TIMEOUT + 10)
        statuses = []

        # Calls until the container is served by its own process (on another port) or reported in error: either is
        # a correct outcome; what must never happen is a call reaching the foreign listener.
        def settled():
            if srv.get(cid)["status"] == "error":
                return True
            r = srv.invoke(cid, "/own", timeout=10)
            statuses.append(r.status_code)
            return r.status_code == 200 and r.json().get("path") == "/own"
        assert wait_until(settled, 15, interval=0.2), statuses
        srv.assert_responsive()
        assert foreign.received == [], \
            f"the foreign listener on port {port} received {len(foreign.received)} requests, the first: {foreign.received[0][:300]!r}"
    finally:
        foreign.close()
        scenario.finish()


# --- F18: slow start, socket reopened -------------------------------------------------------------------------------

def test_f18_a_slow_starter_is_waited_for_and_a_socket_gap_gives_a_bounded_error(srv, scenario, app_file):
    cid = scenario.container("f18-slow", command=[PY, app_file], environment_variables={"APP_DELAY": "1.5"}, timeout="2s")
    # A call during the start is held until the process listens (README: up to 10 s), not refused.
    r, took = timed(srv.invoke, cid, "/early")
    assert r.status_code == 200 and r.json()["path"] == "/early" and took < READY_TIMEOUT + 2, (r.status_code, took)
    assert srv.get(cid)["status"] == "ready"
    pid = srv.invoke(cid).json()["pid"]
    # The process closes its socket for 1.5 s: calls in the gap end quickly with an error (or wait for the reopen),
    # never hang past the container's timeout.
    assert srv.invoke(cid, "/reopen?s=1.5").status_code == 200
    time.sleep(0.2)
    r, took = timed(srv.invoke, cid, "/gap")
    assert r.status_code in (200, 502, 503, 504) and took < 2 + 2, (r.status_code, took, r.text)
    if r.status_code != 200:
        assert r.json()["message"]
    srv.assert_responsive()
    assert wait_until(lambda: srv.invoke(cid, "/back").status_code == 200, 5)
    assert srv.invoke(cid).json()["pid"] == pid  # the same process: a reopened socket is not a crash
    scenario.finish()


# --- F20: parent-death signal caveat ---------------------------------------------------------------------------------

def test_f20_children_outlive_the_worker_thread_that_spawned_them(srv, scenario):
    """PR_SET_PDEATHSIG fires when the *thread* that forked the child exits. Spawn during a burst (so the spawning
    thread is likely a transient pool worker), let the burst's threads go idle and exit, and check the children live on."""
    def spawner(pid):
        for tid in os.listdir(f"/proc/{srv.pid}/task"):
            try:
                if str(pid) in Path(f"/proc/{srv.pid}/task/{tid}/children").read_text().split():
                    return tid
            except OSError:
                pass
        return None

    with ThreadPoolExecutor(12) as pool:
        # Only the status is kept: a retained response would keep its client socket (and a server fd) open.
        burst = [pool.submit(lambda: srv.call("GET", f"{C1}/namespaces").status_code) for _ in range(150)]
        ids = [scenario.container(f"f20-{i}") for i in range(4)]
        assert all(f.result() == 200 for f in burst)
    for cid in ids:
        assert srv.wait_status(cid)["status"] == "ready"
    pids = {cid: srv.pids_of(cid)[0] for cid in ids}
    threads_at_spawn = set(os.listdir(f"/proc/{srv.pid}/task"))
    spawners = {spawner(p) for p in pids.values()} - {None}
    # Idle until some of the burst's threads have exited (libdispatch retires idle workers after about 5 s).
    retired = wait_until(lambda: threads_at_spawn - set(os.listdir(f"/proc/{srv.pid}/task")), 7, interval=0.25)
    if spawners and retired and not spawners & retired:
        wait_until(lambda: spawners - set(os.listdir(f"/proc/{srv.pid}/task")), 1.5, interval=0.25)
    time.sleep(0.3)
    for cid, pid in pids.items():
        assert alive(pid), f"the process of {cid} died with its spawning thread"
        assert srv.pids_of(cid) == [pid], srv.log_lines(cid)
        assert srv.invoke(cid).status_code == 200
    scenario.finish()


# --- F22: fd exhaustion ----------------------------------------------------------------------------------------------

def test_f22_fd_exhaustion_is_survived_and_recovered(tmp_path, app_file):
    m = Server(tmp_path, prefix=["prlimit", "--nofile=256", "--"])
    held, sessions = [], []
    try:
        ns = m.namespace("f22")
        cid = m.container(ns, "before", command=[PY, app_file])
        assert m.wait_status(cid)["status"] == "ready"
        # Clients already connected (keep-alive) go on calling the API and the gateway while the fds run out.
        sessions = [requests.Session() for _ in range(12)]
        for session in sessions:
            assert session.get(m.url + f"{C1}/namespaces", headers={"X-Auth-Token": KEY}, timeout=10).status_code == 200
        baseline = fd_count(m.pid)

        def busy(session, until):
            outcomes = []
            while time.monotonic() < until:
                try:
                    outcomes.append(session.get(m.url + f"{C1}/namespaces", headers={"X-Auth-Token": KEY}, timeout=2).status_code)
                    outcomes.append(session.get(f"{m.url}/_mock/invoke/{cid}/", timeout=2).status_code)
                except requests.RequestException as e:
                    outcomes.append(type(e).__name__)
            return outcomes

        # The crash depends on timing (a monitor tick while work is queued), so a few rounds.
        for _ in range(3):
            for _ in range(300):
                s = socket.socket()
                s.settimeout(1)
                try:
                    s.connect(("127.0.0.1", m.port))
                except OSError:
                    s.close()
                    break
                held.append(s)
            assert len(held) + baseline > 256
            # The server holds connections up to its budget (the descriptor limit minus a reserve of 128 for the
            # store, processes and the runtime) and closes the rest as soon as they are accepted.
            assert wait_until(lambda: fd_count(m.pid) >= 120, 5), fd_count(m.pid)
            assert fd_count(m.pid) <= 256 - 48, fd_count(m.pid)
            until = time.monotonic() + 3
            with ThreadPoolExecutor(len(sessions)) as pool:
                outcomes = [o for batch in pool.map(lambda sess: busy(sess, until), sessions) for o in batch]
            # Errors are fine while exhausted; a crash or a hang is not.
            assert m.proc.poll() is None, f"the server died when it ran out of file descriptors ({len(outcomes)} calls made): {m.stderr_tail()}"
            for s in held:
                s.close()
            held.clear()
            assert wait_until(lambda: _answers(m), 15, interval=0.2), "the server did not recover after the connections closed"
            m.assert_responsive()
            assert wait_until(lambda: fd_count(m.pid) <= baseline + FD_SLACK, 10), (fd_count(m.pid), baseline)
        # Still runs and serves processes.
        assert m.invoke(cid).status_code == 200
        after = m.container(ns, "after", command=[PY, app_file])
        assert m.wait_status(after)["status"] == "ready" and m.invoke(after).status_code == 200
    finally:
        for s in held:
            s.close()
        for session in sessions:
            session.close()
        if m.proc.poll() is None:
            assert m.stop() == 0, m.stderr_tail()
    assert_no_orphans(*m.ids)


def _answers(m):
    try:
        return m.call("GET", f"{C1}/namespaces", timeout=2).status_code == 200
    except requests.RequestException:
        return False


# --- F25 / A17: spawn failures ---------------------------------------------------------------------------------------

def test_f25_a17_spawn_failures_end_in_error_with_the_server_up(srv, scenario, tmp_path):
    not_executable = tmp_path / "not-executable.sh"
    not_executable.write_text("#!/bin/sh\nexit 0\n")
    not_executable.chmod(0o644)
    # A17: 33 secrets of 64 KiB are within the API's limits (100 of 64 KiB) but over Linux's 2 MiB for execve.
    # Created through v1beta1 (an image-bearing create deploys), whose cheaper Argon2id profile halves the hashing
    # time, and in the background while the other rows run.
    secrets = [{"key": f"BIG_{i:02d}", "value": chr(ord("a") + i % 26) * 65536} for i in range(33)]
    create_huge = in_thread(srv.call, "POST", "/containers/v1beta1/regions/fr-par/containers", timeout=60, json={
        "namespace_id": srv.ns, "name": "a17-huge-env", "registry_image": "sample:latest", "secret_environment_variables": secrets})
    missing = scenario.container("f25-missing", command=["/nonexistent/definitely-not-here", "x"])
    noexec = scenario.container("f25-noexec", command=[str(not_executable)])
    r = create_huge()
    assert r.status_code == 200, r.text
    huge = r.json()["id"]
    scenario.ids.append(huge)
    srv.ids.append(huge)
    for cid in (huge, missing, noexec):
        body = srv.wait_status(cid)
        assert body["status"] == "error", body
        assert body["error_message"].startswith("Container is unable to start"), body
        # No half-started state: nothing was launched for it and nothing runs with its id.
        assert srv.pids_of(cid) == [] and processes_with(cid) == [], srv.log_lines(cid)
        r, took = timed(srv.invoke, cid)
        assert r.status_code == 503 and took < 2
    assert "environment" in srv.get(huge)["error_message"]
    assert "command not found" in srv.get(missing)["error_message"]
    srv.assert_responsive()
    # One value of 128 KiB is refused by the API itself (secrets are limited to 64 KiB).
    r = srv.call("POST", f"{C1}/containers", json={"namespace_id": srv.ns, "name": "a17-one-big", "image": "sample:latest",
                                                   "secret_environment_variables": {"ONE": "x" * (128 * 1024)}})
    assert r.status_code == 400, r.text
    # After the failures the server still launches processes.
    ok = scenario.container("f25-ok")
    assert srv.wait_status(ok)["status"] == "ready" and srv.invoke(ok).status_code == 200
    scenario.finish()


# --- A19: literal argv -----------------------------------------------------------------------------------------------

def test_a19_command_and_args_are_passed_as_literal_argv(srv, scenario, app_file, tmp_path):
    canary = tmp_path / "pwned"
    args = [f"; touch {canary}", f"$(touch {canary})", f"`touch {canary}`", "*", "a b", "'quoted'", '"dq"', "|", "&&", "\\n",
            f"> {canary}", "$HOME", "~", "", "--flag=x y"]
    cid = scenario.container("a19-argv", command=[PY, app_file], args=args)
    assert srv.wait_status(cid)["status"] == "ready"
    assert srv.invoke(cid, "/argv").json()["argv"] == args
    # Many arguments still go through as they are.
    many = [f"arg-{i}" for i in range(1000)]
    cid_many = scenario.container("a19-many", command=[PY, app_file], args=many)
    assert srv.wait_status(cid_many)["status"] == "ready"
    assert srv.invoke(cid_many, "/argv").json()["argv"] == many
    # `sh -c` is only a shell when asked for: the script is one argument and $0/$1 are the next ones.
    cid_sh = scenario.container("a19-sh", command=["sh", "-c", 'exec "$0" "$1" "$2"', PY, app_file, "$(id)"])
    assert srv.wait_status(cid_sh)["status"] == "ready"
    assert srv.invoke(cid_sh, "/argv").json()["argv"] == ["$(id)"]
    assert not canary.exists()
    # NUL cannot go into an argv: refused by the API; 10,000 arguments too (at most 1,000).
    for name, body in [("a19-nul", {"args": ["a\0b"]}), ("a19-nul-cmd", {"command": ["sh\0", "x"]}),
                       ("a19-10k", {"command": [PY], "args": ["x"] * 10000})]:
        r = srv.call("POST", f"{C1}/containers", json={"namespace_id": srv.ns, "name": name, "image": "sample:latest", **body})
        assert r.status_code == 400 and r.json()["type"] == "invalid_arguments", (name, r.status_code, r.text)
    scenario.finish()


# --- F05: graceful shutdown ------------------------------------------------------------------------------------------

def test_f05_graceful_shutdown_with_children_and_in_flight_requests(tmp_path, app_file):
    m = Server(tmp_path)
    ns = m.namespace("f05")
    term_log = tmp_path / "term.log"
    slow = m.container(ns, "slow", command=[PY, app_file], environment_variables={"APP_LOG": str(term_log)})
    stubborn = m.container(ns, "stubborn", command=["sh", "-c", 'trap "" TERM; exec "$0" "$1"', PY, app_file],
                           environment_variables={"APP_FORK": "stubborn"})
    daemon = m.container(ns, "daemon", command=[PY, app_file], environment_variables={"APP_FORK": "daemon"})
    plain = m.container(ns, "plain", command=[PY, app_file], environment_variables={"APP_FORK": "plain"})
    ids = (slow, stubborn, daemon, plain)
    for cid in ids:
        assert m.wait_status(cid)["status"] == "ready"
    assert wait_until(lambda: all(len(processes_with(c)) >= (1 if c == slow else 2) for c in ids), 5)
    watchdogs = m.watchdogs()
    server_pid = m.pid
    with ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(lambda: m.invoke(slow, "/sleep?s=1.5", timeout=30)) for _ in range(50)]
        # All 50 calls have reached the process before the signal.
        assert wait_until(lambda: term_log.exists() and term_log.read_text().count("req /sleep") == 50, 10)
        sent = time.monotonic()
        m.proc.send_signal(signal.SIGTERM)
        rc = m.proc.wait(timeout=20)
        exited = time.monotonic() - sent
        results = []
        for f in futures:
            try:
                results.append(f.result().status_code)
            except requests.RequestException as e:
                results.append(type(e).__name__)
    m.stderr.close()
    assert rc == 0, m.stderr_tail()
    # In-flight requests finish (README: "in-flight requests finish").
    assert results == [200] * 50, results
    # Drain (at most 1.5 s left of the calls), then TERM, KILL after the grace period, exit: within grace + 2 s of that.
    assert exited < 1.5 + GRACE + 2, exited
    # (APP clears the signal mask it inherits; test_f05_f14_children_can_receive_sigterm covers a program that does not)
    assert "TERM" in term_log.read_text(), "the child was not sent SIGTERM"
    assert_no_orphans(*ids, deadline=2)
    assert children_of(server_pid) == [] and zombies_of(server_pid) == []
    assert wait_until(lambda: not any(alive(p) for p in watchdogs), 3), "the watchdog outlived the server"


# --- F27: restart storm ----------------------------------------------------------------------------------------------

def test_f27_restart_storm_keeps_one_process_per_container_and_leaves_no_orphan(tmp_path, app_file):
    m = Server(tmp_path)
    ns = m.namespace("f27")
    ids = [m.container(ns, "sample", min_scale=1),
           m.container(ns, "app", min_scale=1, command=[PY, app_file], environment_variables={"APP_FORK": "daemon"})]

    def settled():
        for cid in ids:
            try:
                if m.invoke(cid, timeout=5).status_code != 200:
                    return False
            except requests.RequestException:
                return False
        # Exactly one main process per container: the server's child (`scw-mock run-child`) and the program under
        # it (the daemon container also has its grandchild).
        mains = {cid: [p for p in processes_with(cid) if proc_stat(p) and proc_stat(p)[1] == m.pid] for cid in ids}
        return mains if all(len(v) == 1 for v in mains.values()) and len(processes_with(ids[0])) == 2 \
            and len(processes_with(ids[1])) == 3 else False

    for cid in ids:
        assert m.wait_status(cid)["status"] == "ready"
    # Graceful and SIGKILL restarts, and kills right after start, before the processes are back.
    plan = [signal.SIGTERM, signal.SIGKILL, "early-kill", signal.SIGKILL, signal.SIGTERM, "early-kill"]
    for step in plan:
        if step == "early-kill":
            m.stop(signal.SIGKILL)
            m.start()
            time.sleep(0.05)
            m.stop(signal.SIGKILL)
        else:
            mains = wait_until(settled, 20, interval=0.1)
            assert mains, {cid: processes_with(cid) for cid in ids}
            ports = {env_of(p[0]).get(b"PORT") for p in mains.values()}
            assert len(ports) == len(ids), "two containers share a port"
            watchdogs = m.watchdogs()
            rc = m.stop(step)
            if step == signal.SIGTERM:
                assert rc == 0, m.stderr_tail()
            assert wait_until(lambda: not any(alive(p) for p in watchdogs), 3), "the watchdog outlived the server"
        m.start()
        m.assert_responsive(limit=5)
    assert wait_until(settled, 20, interval=0.1), {cid: processes_with(cid) for cid in ids}
    assert m.stop() == 0, m.stderr_tail()
    assert_no_orphans(*ids, deadline=3)
