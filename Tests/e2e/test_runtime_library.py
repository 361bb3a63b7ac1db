"""The runtime's processes, probes and cron deliveries cost no thread each and never hold up the server.

Processes are started with swift-subprocess (output read as async streams, exits awaited on one shared loop), and
readiness probes and cron deliveries are async calls on SwiftNIO's event loops: a process that accepts connections but
never answers delays only its own deploy or cron run, never other calls to the mock.
"""
import os
import sys
import time

import pytest
import requests

from support import DEFAULT_SECRET_KEY, keyed_request, wait_until

C1 = "/containers/v1/regions/fr-par"

# Accepts connections (the kernel completes them from the backlog) and never reads or answers.
SILENT = (
    "import os, socket, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(os.environ['PORT']))); s.listen(64)\n"
    "time.sleep(120)\n"
)


@pytest.fixture
def mock(server_factory):
    return server_factory(extra_args=["--runtime", "on", "--ready-timeout", "6"])


def call(m, method, path, **kw):
    return keyed_request(m.url, method, path, DEFAULT_SECRET_KEY, timeout=30, **kw)


def namespace(m, name):
    ns = call(m, "POST", f"{C1}/namespaces", json={"name": name}).json()["id"]
    assert wait_until(lambda: call(m, "GET", f"{C1}/namespaces/{ns}").json()["status"] == "ready", 30)
    return ns


def container(m, ns, name, **body):
    r = call(m, "POST", f"{C1}/containers", json={"namespace_id": ns, "name": name, "image": "sample:latest", **body})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def status_of(m, cid):
    return call(m, "GET", f"{C1}/containers/{cid}").json()["status"]


def wait_ready(m, cid, deadline=30):
    assert wait_until(lambda: status_of(m, cid) in ("ready", "error"), deadline)
    assert status_of(m, cid) == "ready", call(m, "GET", f"{C1}/containers/{cid}").json()


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def slowest(fetch, seconds):
    """Calls `fetch` over and over for `seconds` and returns the slowest call's duration."""
    worst = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        fetch()
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.02)
    return worst


def test_running_processes_cost_the_server_no_thread_each(mock):
    ns = namespace(mock, "rtlib-threads")
    # The first launch starts what is shared for good (the watchdog, the library's process and I/O loops).
    wait_ready(mock, container(mock, ns, "warm"))
    time.sleep(0.5)
    before = threads(mock.proc.pid)
    ids = [container(mock, ns, f"c{i}") for i in range(10)]
    for cid in ids:
        wait_ready(mock, cid)
    time.sleep(0.5)
    after = threads(mock.proc.pid)
    # Two reader threads per process used to be the cost: 10 processes, 20 threads.
    assert after - before < 5, f"{after - before} more server threads for 10 running processes ({before} -> {after})"


def test_a_probe_left_unanswered_does_not_hold_up_other_calls(mock):
    ns = namespace(mock, "rtlib-probe")
    other = container(mock, ns, "other")
    wait_ready(mock, other)
    probe = {"failure_threshold": 3, "interval": "10s", "timeout": "1s", "http": {"path": "/healthz"}}
    silent = container(mock, ns, "silent", command=[sys.executable, "-c", SILENT], liveness_probe=probe)
    assert wait_until(lambda: any("started pid" in l["line"] for l in
                                  call(mock, "GET", f"/_mock/containers/{silent}/logs").json()["lines"]), 10)
    # While the probe waits for an answer that never comes, the supervisor still answers at once.
    worst = slowest(lambda: call(mock, "GET", f"/_mock/containers/{other}/logs").raise_for_status(), 3)
    assert worst < 0.5, f"reading another container's logs took {worst:.2f}s while a probe waited"
    assert wait_until(lambda: status_of(mock, silent) == "error", 15)
    body = call(mock, "GET", f"{C1}/containers/{silent}").json()
    assert "does not respond to HTTP requests" in body["error_message"], body


def test_a_cron_run_left_unanswered_does_not_hold_up_the_server(mock):
    ns = namespace(mock, "rtlib-cron")
    silent = container(mock, ns, "silent", command=[sys.executable, "-c", SILENT])
    wait_ready(mock, silent)
    trigger = call(mock, "POST", f"{C1}/triggers", json={
        "container_id": silent, "name": "every-minute", "destination_config": {"http_path": "/tick", "http_method": "post"},
        "cron_config": {"schedule": "* * * * *", "timezone": "UTC", "body": "{}"}}).json()
    assert call(mock, "POST", "/_mock/clock", json={"advance_seconds": 61}).status_code == 200
    # The delivery waits up to 5 s for an answer; meanwhile every call (each on a new connection) answers at once.
    worst = slowest(lambda: requests.get(f"{mock.url}/_mock/health", timeout=30).raise_for_status(), 3)
    assert worst < 0.5, f"a health check took {worst:.2f}s while a cron run waited for its answer"

    def outcome():
        lines = call(mock, "GET", f"/_mock/containers/{silent}/logs").json()["lines"]
        return [l["line"] for l in lines if f"cron {trigger['id']}" in l["line"]]

    assert wait_until(lambda: outcome(), 10), "the cron run was never logged"
    assert outcome()[0].endswith("fired: POST /tick → no answer"), outcome()
