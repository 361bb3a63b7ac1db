"""Process contract: the export line, /_mock/health, graceful SIGTERM."""

from __future__ import annotations

import time

from support import DEFAULT_SECRET_KEY, UUID_RE, ns_path


def test_export_line_is_exact_and_usable(server):
    assert server.export_line == (
        f"export SCW_API_URL=http://127.0.0.1:{server.port} SCW_ACCESS_KEY=SCWMOCK0000000000000 "
        "SCW_SECRET_KEY=00000000-0000-4000-8000-000000000000 "
        "SCW_DEFAULT_PROJECT_ID=00000000-0000-4000-8000-000000000001 SCW_DEFAULT_REGION=fr-par"
    )
    assert 0 < server.port < 65536
    # the advertised credentials work as printed
    r = server.get(ns_path("c1"), token=server.env["SCW_SECRET_KEY"])
    assert r.status_code == 200, r.text


def test_health_needs_no_key(server):
    r = server.get("/_mock/health", token=None)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == "ready"
    assert body["auth"] == "enforced"
    assert body["database"] == str(server.db_path)
    assert isinstance(body["version"], str) and body["version"] != ""
    assert UUID_RE.match(r.headers["X-Request-Id"])


def test_two_servers_get_distinct_ports_and_own_databases(server, fresh_server):
    assert fresh_server.port != server.port
    created = fresh_server.create_ns("c1")
    # invisible on the session server: different database
    r = server.get(ns_path("c1", ns_id=created["id"]))
    assert r.status_code == 404, r.text


def test_sigterm_exits_zero_and_stdout_has_one_line(server_factory):
    srv = server_factory(key_pool=2)
    assert srv.get("/_mock/health", token=None).status_code == 200
    rc = srv.stop()
    assert rc == 0, srv.stderr_tail()
    assert srv.trailing_stdout == "", f"stdout after the export line: {srv.trailing_stdout!r}"


def test_sigterm_with_open_keepalive_connection_exits_zero(server_factory):
    import requests

    srv = server_factory(key_pool=2)
    session = requests.Session()  # keeps the TCP connection open
    assert session.get(srv.url + ns_path("cb"), headers={"X-Auth-Token": DEFAULT_SECRET_KEY}).status_code == 200
    rc = srv.stop()
    session.close()
    assert rc == 0, srv.stderr_tail()


def test_sigterm_during_key_generation_exits_zero_promptly(server_factory, tmp_path):
    """4096-bit keys take about a second each: SIGTERM stops after the keys in progress, not after the whole pool."""
    db = tmp_path / "pool.sqlite"
    srv = server_factory(db_path=db, key_pool=12, key_size=4096, wait_for_pool=False)
    pool = srv.key_pool_status()
    assert pool["target"] == 12 and pool["ready"] < 12, pool
    t0 = time.monotonic()
    rc = srv.stop()
    elapsed = time.monotonic() - t0
    assert rc == 0, srv.stderr_tail()
    assert elapsed < 10, f"shutdown took {elapsed:.1f}s"
    # the pool was not completed before exiting (the keys made so far are kept; --key-pool 0 generates none)
    again = server_factory(db_path=db, key_pool=0, key_size=4096)
    kept = again.key_pool_status()
    assert kept["target"] == 0 and kept["ready"] < 12, kept


def test_health_reports_the_key_pool(server):
    pool = server.key_pool_status()
    assert set(pool) == {"bits", "ready", "target"}
    assert pool["bits"] == 2048 and pool["target"] == server.key_pool
    assert 0 <= pool["ready"] <= pool["target"]
