""""No escapes" (reliability catalog section 6b): a workload's descendant that leaves its session
(`setsid`), clears its environment (`env -i`, so it carries neither `SCW_APPLICATION_ID` nor the sweep marker) and
double-forks (orphaned at once) must still die with its workload: on DELETE, on a graceful shutdown of the server, on
`kill -9` of the server and its watchdog together, and when the program itself crashes.

README ("Running containers and functions"): every process runs under `scw-mock run-child`, which is the child
subreaper of the workload, so such orphans are reparented to it instead of to init, and it stops every descendant
(SIGTERM, SIGKILL after 2 s) whatever ends the workload.

The workload is a container `command` run without a shell that happens to be `/bin/sh -c SCRIPT`: SCRIPT starts two
escapees, each writing its pid to a file, then execs a small HTTP server on `PORT`:
- A: `setsid env -i sh -c '... exec sleep'` in the background (a grandchild in its own session, no environment);
- B: the same inside a subshell that exits at once (double-forked, orphaned), and ignoring SIGTERM (SIGKILL path).
"""
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

import support

C1 = "/containers/v1/regions/fr-par"
GRACE = 2.0  # README: SIGTERM, then SIGKILL after 2 s
SLEEP = shutil.which("sleep")

SCRIPT = (
    # A: own session, empty environment (pid file path passed as $0: env -i leaves no variable to read it from)
    f"setsid env -i /bin/sh -c 'echo $$ >> \"$0\"; exec {SLEEP} 300' \"$ESCAPE_A\" & "
    # B: the same, double-forked through a subshell that exits at once, and deaf to SIGTERM
    f"( setsid env -i /bin/sh -c 'trap \"\" TERM; echo $$ >> \"$0\"; exec {SLEEP} 300' \"$ESCAPE_B\" & ); "
    'exec "$APP_PYTHON" -m http.server "$PORT" --bind 127.0.0.1 --directory "$APP_DIR"'
)


proc_stat = support.proc_stat
alive = support.alive


wait_until = support.wait_until


def watchdog_of(server_pid):
    """The `scw-mock watchdog` the server started (its child), or None."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        st = proc_stat(entry.name)
        if st and st[1] == server_pid and b"watchdog" in cmdline:
            return int(entry.name)
    return None


class Escapees:
    """The pid files of one workload's escapees (one line per start); every survivor is SIGKILLed at teardown (a
    failing run leaves none)."""

    def __init__(self, directory: Path):
        self.a = directory / "escape-a.pid"
        self.b = directory / "escape-b.pid"
        self.pids = []  # the last start's
        self.seen = set()  # every start's

    def environment(self, directory: Path):
        return {"ESCAPE_A": str(self.a), "ESCAPE_B": str(self.b), "APP_PYTHON": sys.executable, "APP_DIR": str(directory)}

    def wait_started(self, cid):
        def read():
            try:
                pids = [int(self.a.read_text().split()[-1]), int(self.b.read_text().split()[-1])]
            except (OSError, ValueError, IndexError):
                return None
            return pids if not self.seen & set(pids) else None
        pids = wait_until(read, 10)
        assert pids, "the escapees did not start"
        self.pids = pids
        self.seen |= set(pids)
        for pid in pids:
            assert wait_until(lambda: alive(pid) and Path(f"/proc/{pid}/cmdline").read_bytes().startswith(SLEEP.encode()), 5)
            # Preconditions: what makes them escapes today. A cleared environment (no SCW_APPLICATION_ID, no sweep marker),
            # their own session (out of the workload's process group).
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"SCW_" not in environ, f"escapee {pid} kept the platform's variables: {environ!r}"
            assert os.getsid(pid) == pid, f"escapee {pid} did not leave its session"
            assert pid not in support.processes_with(cid)
        return pids

    def survivors(self):
        return sorted(p for p in self.seen if alive(p))

    def assert_dead(self, deadline, what):
        gone = wait_until(lambda: not self.survivors(), deadline)
        assert gone, f"escapees {self.survivors()} (sleep, own session, cleared environment) survived {what}"

    def kill_survivors(self):
        for pid in self.survivors():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def escapees(tmp_path):
    found = Escapees(tmp_path)
    yield found
    found.kill_survivors()


@pytest.fixture
def mock(tmp_path):
    srv = support.MockServer(db_path=tmp_path / "state.sqlite", seed_paths=[support.write_seed(tmp_path)], workdir=tmp_path,
                             key_pool=2, runtime=True).start()
    yield srv
    if srv.running():
        assert srv.stop() == 0, srv.stderr_tail()


def deploy_escaping_workload(mock, escapees, tmp_path):
    ns = mock.create_ns("c1", {"name": support.uniq("escape")})
    mock.wait_ready("c1", ns["id"])
    r = mock.post(f"{C1}/containers", {"namespace_id": ns["id"], "name": "escape", "image": "sample:latest",
                                        "command": ["/bin/sh", "-c", SCRIPT],
                                        "environment_variables": escapees.environment(tmp_path)})
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    body, _ = support.poll_until(lambda: mock.get(f"{C1}/containers/{cid}").json(),
                                 lambda b: b["status"] in ("ready", "error"), 20)
    assert body["status"] == "ready", (body, mock.get(f"/_mock/containers/{cid}/logs", token=None).text)
    assert requests.get(f"{mock.url}/_mock/invoke/{cid}/", timeout=10).status_code == 200
    escapees.wait_started(cid)
    return cid


def test_escaped_grandchildren_die_on_delete(mock, escapees, tmp_path):
    cid = deploy_escaping_workload(mock, escapees, tmp_path)
    started = time.monotonic()
    r = mock.delete(f"{C1}/containers/{cid}")
    assert r.status_code == 200, r.text
    # The one deaf to SIGTERM is SIGKILLed after the grace period, before DELETE's stop completes.
    escapees.assert_dead(GRACE + 3, "DELETE of their container")
    assert time.monotonic() - started < GRACE + 3


def test_escaped_grandchildren_die_on_graceful_shutdown(mock, escapees, tmp_path):
    deploy_escaping_workload(mock, escapees, tmp_path)
    assert mock.stop() == 0, mock.stderr_tail()
    escapees.assert_dead(1, "a graceful SIGTERM shutdown of the server")


def test_escaped_grandchildren_die_when_server_and_watchdog_are_killed(mock, escapees, tmp_path):
    deploy_escaping_workload(mock, escapees, tmp_path)
    watchdog = watchdog_of(mock.proc.pid)
    assert watchdog is not None, "precondition: the server runs a watchdog"
    os.kill(watchdog, signal.SIGKILL)
    mock.proc.kill()
    mock.proc.wait(timeout=10)
    escapees.assert_dead(GRACE + 3, "kill -9 of the server and its watchdog together")


def test_escaped_grandchildren_die_when_the_program_crashes(mock, escapees, tmp_path):
    cid = deploy_escaping_workload(mock, escapees, tmp_path)
    first = list(escapees.pids)
    r = mock.post(f"/_mock/containers/{cid}/crash", token=None)
    assert r.status_code < 300, r.text
    # A container ends with its main process: what it left behind goes with it, before the restart.
    escapees.assert_dead(GRACE + 3, "a crash of their workload's program")
    assert all(not alive(p) for p in first)
    # The restart starts new escapees, which DELETE removes.
    escapees.wait_started(cid)
    assert mock.delete(f"{C1}/containers/{cid}").status_code == 200
    escapees.assert_dead(GRACE + 3, "DELETE after a restart")
