"""Safe by default, at the edge (reliability catalog C01, C02, C07, C11): who may reach the API and /_mock at all.

A web page the developer visits can make the browser send requests to 127.0.0.1, either cross-site (with an `Origin`
or `Sec-Fetch-Site: cross-site`) or, after DNS rebinding, under the page's own name (`Host: rebind.attacker.example`).
Both are refused before any route runs; clients that are not browsers (the SDK, curl) are not affected. A tenant
cannot take one of the API's host names as a custom domain, and the store's files are owner-only.
"""

from __future__ import annotations

import os
import stat
import subprocess
import uuid

import requests

from support import DEFAULT_PROJECT, DEFAULT_SECRET_KEY, HTTP_TIMEOUT, make_sdk, uniq

C1 = "/containers/v1/regions/fr-par"
EVIL_HOST = "rebind.attacker.example"


def raw_get(server, path, headers, token=DEFAULT_SECRET_KEY):
    h = dict(headers)
    if token:
        h["X-Auth-Token"] = token
    return requests.get(server.url + path, headers=h, timeout=HTTP_TIMEOUT)


def namespace_count(server) -> int:
    return server.get(f"{C1}/namespaces").json()["total_count"]


def make_container(server) -> tuple[str, str]:
    ns = server.post(f"{C1}/namespaces", {"name": uniq("sec"), "project_id": DEFAULT_PROJECT}).json()
    server.wait_ready("c1", ns["id"])
    c = server.post(f"{C1}/containers", {"namespace_id": ns["id"], "name": uniq("app"), "image": "nginx:latest"})
    assert c.status_code == 200, c.text
    return ns["id"], c.json()["id"]


# --- C02: DNS rebinding (Host allow-list) -----------------------------------------------------------------------------


def test_rebound_host_cannot_read_state_or_drive_the_api(server):
    before = namespace_count(server)
    for method, path, token in [
        ("GET", "/_mock/state", None),
        ("GET", "/_mock/requests", None),
        ("GET", f"{C1}/namespaces", DEFAULT_SECRET_KEY),
        ("POST", f"{C1}/namespaces", DEFAULT_SECRET_KEY),
        ("POST", "/_mock/reset?to=empty", None),
    ]:
        headers = {"Host": f"{EVIL_HOST}:{server.port}"}
        if token:
            headers["X-Auth-Token"] = token
        r = requests.request(method, server.url + path, headers=headers, timeout=HTTP_TIMEOUT,
                             json={"name": uniq("evil"), "project_id": DEFAULT_PROJECT} if method == "POST" else None)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        body = r.json()
        assert body["type"] == "permissions_denied" and "--allowed-host" in body["message"], body
        assert "private_key" not in r.text and "secret_key" not in r.text
        assert r.headers.get("X-Request-Id") and r.headers.get("X-Content-Type-Options") == "nosniff"
        assert "Access-Control-Allow-Origin" not in r.headers
    assert namespace_count(server) == before


def test_names_of_this_server_are_allowed(server):
    for host in ["localhost", "127.0.0.1", "api.localhost", "[::1]", "127.0.0.1.", "LOCALHOST"]:
        r = raw_get(server, f"{C1}/namespaces", {"Host": f"{host}:{server.port}"})
        assert r.status_code == 200, (host, r.text)
        assert raw_get(server, "/_mock/health", {"Host": host}, token=None).status_code == 200


def test_allowed_host_flag_and_env_add_names(server_factory):
    srv = server_factory(extra_args=["--allowed-host", "scw-mock", "--allowed-host", ".ci.example.test"])
    for host in ["scw-mock", "scw-mock:7290", "runner.ci.example.test", "ci.example.test"]:
        assert raw_get(srv, f"{C1}/namespaces", {"Host": host}).status_code == 200, host
    for host in ["scw-mock.evil.example", "evilci.example.test", "example.test"]:
        assert raw_get(srv, f"{C1}/namespaces", {"Host": host}).status_code == 403, host


def test_application_hosts_still_reach_the_gateway(server):
    # A container's own domain name is neither an API host nor refused: the gateway answers for it (not running: 503).
    _, cid = make_container(server)
    domain = server.get(f"{C1}/containers/{cid}").json()["public_endpoint"].split("://")[-1].strip("/")
    r = requests.get(server.url + "/", headers={"Host": domain}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 503 and "not running" in r.json()["message"], r.text


# --- C01: cross-site requests ---------------------------------------------------------------------------------------


def test_cross_site_simple_post_cannot_reset_or_seed(server):
    before = namespace_count(server)
    assert before > 0 or server.post(f"{C1}/namespaces", {"name": uniq("keep"), "project_id": DEFAULT_PROJECT}).ok
    before = namespace_count(server)
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}
    r = requests.post(server.url + "/_mock/reset?to=empty", headers=page, data="x", timeout=HTTP_TIMEOUT)
    assert r.status_code == 403 and r.json()["type"] == "permissions_denied", r.text
    assert "Origin: http://evil.example" in r.json()["message"]
    r = requests.post(server.url + "/_mock/seed", headers=page, timeout=HTTP_TIMEOUT,
                      data=f"namespaces:\n  - {{name: {uniq('evil')}}}\n")
    assert r.status_code == 403, r.text
    # Even with a valid key (a page cannot know it, but the check does not depend on that).
    r = requests.post(server.url + f"{C1}/namespaces", timeout=HTTP_TIMEOUT,
                      headers={**page, "X-Auth-Token": DEFAULT_SECRET_KEY},
                      data='{"name":"evil","project_id":"%s"}' % DEFAULT_PROJECT)
    assert r.status_code == 403, r.text
    assert namespace_count(server) == before


def test_cross_site_reads_and_null_origin_are_refused(server):
    for headers in [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}, {"Origin": "https://localhost.evil.example"},
                    {"Origin": "http://127.0.0.1:1@evil.example"}]:
        r = raw_get(server, "/_mock/state", headers, token=None)
        assert r.status_code == 403, (headers, r.text)
        assert "secret_key" not in r.text
    # Preflights get no CORS grant either.
    r = requests.options(server.url + "/_mock/state", timeout=HTTP_TIMEOUT,
                         headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_no_mock_get_changes_state(server_factory):
    # A cross-site GET needs no preflight (an <img src>), and it is refused anyway; but even an allowed GET to /_mock
    # reads only: every GET route of the OpenAPI document, with real ids, leaves the exported state as it was.
    srv = server_factory()
    ns = srv.post(f"{C1}/namespaces", {"name": uniq("get"), "project_id": DEFAULT_PROJECT}).json()
    srv.wait_ready("c1", ns["id"])
    c = srv.post(f"{C1}/containers", {"namespace_id": ns["id"], "name": uniq("g"), "image": "nginx:latest"}).json()
    before = srv.get("/_mock/state", token=None).json()
    paths = srv.get("/_mock/openapi.json", token=None).json()["paths"]
    called = 0
    for path, operations in paths.items():
        if "get" not in operations or not path.startswith("/_mock/") or path.startswith("/_mock/invoke/"):
            continue
        concrete = (path.replace("{namespace_id}", ns["id"]).replace("{application_id}", c["id"])
                    .replace("{function_id}", c["id"]))
        assert "{" not in concrete, concrete
        r = srv.get(concrete, token=None)
        assert r.status_code < 500, (concrete, r.status_code)
        called += 1
    assert called >= 8
    assert srv.get("/_mock/state", token=None).json() == before


def test_same_site_pages_sdk_and_curl_keep_working(server):
    # A page served by this host, and the browser's own navigation, are fine.
    for headers in [{"Origin": f"http://localhost:{server.port}"}, {"Origin": f"http://127.0.0.1:{server.port}"},
                    {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}]:
        assert raw_get(server, f"{C1}/namespaces", headers).status_code == 200, headers
    # The official SDK sends neither Origin nor Sec-Fetch-*.
    sdk = make_sdk(server)
    ns = sdk.c1.create_namespace(name=uniq("sdk"), project_id=DEFAULT_PROJECT)
    assert sdk.c1.get_namespace(namespace_id=ns.id).id == ns.id
    # curl with and without a Content-Type.
    for extra in [[], ["-H", "Content-Type: text/plain"], ["-H", "Content-Type: application/json"]]:
        out = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", f"X-Auth-Token: {DEFAULT_SECRET_KEY}",
             *extra, "--data", '{"name":"%s","project_id":"%s"}' % (uniq("curl"), DEFAULT_PROJECT), server.url + f"{C1}/namespaces"],
            capture_output=True, text=True, timeout=30)
        assert out.stdout == "200", (extra, out.stdout, out.stderr)
    assert subprocess.run(["curl", "-fsS", "-o", "/dev/null", server.url + "/_mock/state"], timeout=30).returncode == 0


# --- control token and exposure warning ----------------------------------------------------------------------------


def test_control_token_guards_every_mock_route_but_health(server_factory):
    token = uuid.uuid4().hex
    srv = server_factory(extra_args=["--control-token", token])
    assert requests.get(srv.url + "/_mock/health", timeout=HTTP_TIMEOUT).status_code == 200
    for method, path in [("GET", "/_mock/state"), ("POST", "/_mock/reset?to=empty"), ("GET", "/_mock/requests"),
                         ("POST", "/_mock/seed"), ("GET", "/_mock/jwks.json"), ("GET", "/_mock/openapi.json"),
                         ("POST", "/_mock/tokens/forge")]:
        for given in [None, "wrong", token[:-1]]:
            headers = {"X-Mock-Token": given} if given else {}
            r = requests.request(method, srv.url + path, headers=headers, timeout=HTTP_TIMEOUT)
            assert r.status_code == 401, (method, path, given, r.text)
            assert r.json()["type"] == "denied_authentication" and "--control-token" in r.json()["message"]
    r = requests.get(srv.url + "/_mock/state", headers={"X-Mock-Token": token}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and "namespaces" in r.json()
    # The API keeps its own credential; the gateway's invoke route applies the application's privacy instead.
    assert srv.get(f"{C1}/namespaces").status_code == 200
    assert requests.get(srv.url + f"/_mock/invoke/{uuid.uuid4()}/", timeout=HTTP_TIMEOUT).status_code == 404


def test_non_loopback_bind_without_control_token_warns(server_factory, tmp_path):
    srv = server_factory(extra_args=["--host", "0.0.0.0"])
    warning = [line for line in srv.stderr_tail(200).splitlines() if "without --control-token" in line]
    assert len(warning) == 1 and "/_mock/state" in warning[0], srv.stderr_tail()
    quiet = server_factory(extra_args=["--host", "0.0.0.0", "--control-token", "t0ken"])
    assert "without --control-token" not in quiet.stderr_tail(200)
    loopback = server_factory()
    assert "without --control-token" not in loopback.stderr_tail(200)


# --- C07: custom domains cannot capture the API ---------------------------------------------------------------------


def test_custom_domain_cannot_take_an_api_host(server_factory):
    srv = server_factory(extra_args=["--allowed-host", "scw-mock.internal"])
    _, cid = make_container(srv)
    # An IP address or a bare name is no fully qualified domain name (refused as such already).
    for host in ["127.0.0.1", "localhost"]:
        assert srv.post(f"{C1}/domains", {"container_id": cid, "hostname": host}).status_code == 400, host
    for host in ["scw-mock.internal", "api.localhost", "SCW-MOCK.internal"]:
        r = srv.post(f"{C1}/domains", {"container_id": cid, "hostname": host})
        assert r.status_code == 400, (host, r.text)
        assert r.json() == {"message": f"could not validate domain [{host.lower()}]"}
    assert srv.get(f"{C1}/domains", params={"container_id": cid}).json()["total_count"] == 0
    # An ordinary name is still accepted.
    assert srv.post(f"{C1}/domains", {"container_id": cid, "hostname": "app.example.test"}).status_code == 200


def test_api_host_is_never_routed_to_a_workload(server_factory, tmp_path):
    db = tmp_path / "capture.sqlite"
    srv = server_factory(db_path=db)
    _, cid = make_container(srv)
    assert srv.post(f"{C1}/domains", {"container_id": cid, "hostname": "api.example.test"}).status_code == 200
    # Today that name routes to the container (not running here: 503) ...
    r = raw_get(srv, f"{C1}/namespaces", {"Host": "api.example.test"})
    assert r.status_code == 503, r.text
    srv.stop()
    # ... but once the operator says it names the API, API calls (and their secret keys) stay with the API.
    again = server_factory(db_path=db, extra_args=["--allowed-host", "api.example.test"])
    r = raw_get(again, f"{C1}/namespaces", {"Host": "api.example.test"})
    assert r.status_code == 200 and "namespaces" in r.json(), r.text


# --- C11: the store's files are owner-only ---------------------------------------------------------------------------


def test_store_files_are_private(server_factory, tmp_path):
    folder = tmp_path / "fresh-store"
    db = folder / "state.sqlite"
    old = os.umask(0o022)
    try:
        srv = server_factory(db_path=db)
    finally:
        os.umask(old)
    srv.post(f"{C1}/namespaces", {"name": uniq("perm"), "project_id": DEFAULT_PROJECT})
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]:
        assert path.exists(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    srv.stop()
    # A store left world-readable by an earlier version is made private at the next start.
    os.chmod(db, 0o644)
    server_factory(db_path=db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
