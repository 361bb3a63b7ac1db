"""Persistence across restarts, namespace keys and readiness, refusals that must stay cheap, and transient statuses
with --transition-delay."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import (
    BETA_APIS,
    CONFLICT_BODY,
    DEFAULT_SECRET_KEY,
    OTHER_SECRET_KEY,
    ServerFactory,
    make_sdk,
    not_found_body,
    ns_path,
    poll_until,
    registry_prefix,
    uniq,
    verifies,
)

DELAY = 1.0  # seconds a transient status lasts on the slow server


# --- restart ---------------------------------------------------------------------------------------------------------


def test_restart_on_the_same_database_keeps_everything(server_factory, tmp_path):
    db = tmp_path / "persist.sqlite"
    first = server_factory(db_path=db)

    created = {
        "cb": first.create_ns(
            "cb",
            {
                "description": "beta",
                "environment_variables": {"A": "1"},
                "secret_environment_variables": [{"key": "S", "value": "beta_secret"}],
                "tags": ["x"],
            },
        ),
        "c1": first.create_ns(
            "c1", {"environment_variables": {"B": "2"}, "secret_environment_variables": {"T": "v1_secret"}}
        ),
        "fn": first.create_ns("fn", {"secret_environment_variables": [{"key": "F", "value": "fn_secret"}]}),
        "ams": first.create_ns("cb", region="nl-ams"),
        "p2": first.create_ns("fn", token=OTHER_SECRET_KEY),
    }
    for key, ns in created.items():
        api = "c1" if key == "c1" else ("fn" if key in ("fn", "p2") else "cb")
        first.wait_ready(
            api,
            ns["id"],
            region=ns["region"],
            token=OTHER_SECRET_KEY if key == "p2" else DEFAULT_SECRET_KEY,
        )
    gone = first.create_ns("c1")
    assert first.delete(ns_path("c1", ns_id=gone["id"])).status_code == 200
    # a v1 patch that keeps one secret hash and drops nothing else
    r = first.patch(ns_path("c1", ns_id=created["c1"]["id"]), {"secret_environment_variables": {"T": ""}})
    assert r.status_code == 200, r.text

    def snapshot(srv):
        return {
            "cb": srv.get_ns("cb", created["cb"]["id"]),
            "c1": srv.get_ns("c1", created["c1"]["id"]),
            "c1-as-beta": srv.get_ns("cb", created["c1"]["id"]),
            "fn": srv.get_ns("fn", created["fn"]["id"]),
            "ams": srv.get_ns("cb", created["ams"]["id"], region="nl-ams"),
            "p2": srv.get_ns("fn", created["p2"]["id"], token=OTHER_SECRET_KEY),
            "lists": {api: srv.list_ns(api, page_size=100) for api in ("cb", "c1", "fn")},
        }

    before = snapshot(first)
    assert before["c1"]["secret_environment_variables"] == created["c1"]["secret_environment_variables"]
    assert first.stop() == 0, first.stderr_tail()

    second = server_factory(db_path=db)
    assert second.port > 0
    after = snapshot(second)
    assert after == before

    assert verifies(after["cb"]["secret_environment_variables"][0]["hashed_value"], "beta_secret")
    assert verifies(after["c1"]["secret_environment_variables"]["T"], "v1_secret")
    assert verifies(after["fn"]["secret_environment_variables"][0]["hashed_value"], "fn_secret")
    r = second.get(ns_path("c1", ns_id=gone["id"]))
    assert (r.status_code, r.json()) == (404, not_found_body("c1", gone["id"]))
    # the unique-name index survived too
    r = second.post(ns_path("cb"), {"name": created["cb"]["name"]})
    assert (r.status_code, r.json()) == (409, CONFLICT_BODY)
    # and the restarted server keeps working on that data
    r = second.patch(ns_path("c1", ns_id=created["c1"]["id"]), {"secret_environment_variables": {"T": "", "U": "u"}})
    assert r.status_code == 200, r.text
    assert r.json()["secret_environment_variables"]["T"] == before["c1"]["secret_environment_variables"]["T"]


# --- namespace keys and readiness ------------------------------------------------------------------------------------


def test_next_get_after_create_is_ready_while_the_key_pool_is_warm(fresh_server):
    """The one place that relies on the 'next read is settled' rule: fewer namespaces than the pool holds."""
    pool = fresh_server.key_pool_status()
    assert pool == {"bits": 2048, "ready": pool["target"], "target": pool["target"]}
    assert pool["target"] > 3
    for api, transient in (("cb", "pending"), ("c1", "creating"), ("fn", "pending")):
        created = fresh_server.create_ns(api)
        assert created["status"] == transient, api
        got = fresh_server.get_ns(api, created["id"])
        assert got["status"] == "ready", api
        if api != "c1":
            assert got["registry_endpoint"] != "" and got["registry_namespace_id"] != "", api


def test_cold_key_pool_keeps_the_namespace_transient_until_its_key_exists(server_factory):
    """--key-pool 0 and 4096-bit keys (~1 s each): the namespace is created at once but waits for its key;
    a token request for it waits for the key instead of failing."""
    srv = server_factory(key_pool=0, key_size=4096)
    assert srv.key_pool_status() == {"bits": 4096, "ready": 0, "target": 0}
    t0 = time.monotonic()
    ns = srv.create_ns("cb")
    assert time.monotonic() - t0 < 0.9, "namespace creation must not wait for RSA"
    assert ns["status"] == "pending"
    early = srv.get_ns("cb", ns["id"])
    assert (early["status"], early["registry_endpoint"]) == ("pending", "")
    assert srv.get_ns("c1", ns["id"])["status"] == "creating"
    r = srv.get(f"/_mock/namespaces/{ns['id']}/public-key", token=None)
    assert r.status_code in (200, 404), r.text  # it may or may not exist yet; it must not be a server error

    r = srv.post("/containers/v1beta1/regions/fr-par/tokens", {"namespace_id": ns["id"]})
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["public_key"].startswith("-----BEGIN RSA PUBLIC KEY-----\n")
    ready = srv.wait_ready("cb", ns["id"])
    assert ready["registry_endpoint"] == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(ns['name'])}{ns['id'][:8]}"
    pem = srv.get(f"/_mock/namespaces/{ns['id']}/public-key", token=None)
    assert (pem.status_code, pem.text) == (200, token["public_key"])
    assert srv.key_pool_status() == {"bits": 4096, "ready": 0, "target": 0}


SLOW_SECRETS = {f"K{i}": f"v{i}" for i in range(10)}  # v1 Argon2id (t=3, 64 MiB, p=64): over a second of hashing here


@pytest.fixture(scope="module")
def refusal_targets(server):
    ns = server.create_ns("c1")
    container = server.post(
        "/containers/v1/regions/fr-par/containers", {"namespace_id": ns["id"], "name": "taken", "image": "nginx:latest"}
    )
    assert container.status_code == 200, container.text
    return {"ns": ns, "container": container.json()}


REFUSALS = {
    # name: (method, path template, body extras, token, expected status)
    "namespace-create-taken-name": ("POST", "/containers/v1/regions/fr-par/namespaces", {"name": "{ns_name}"}, None, 409),
    "namespace-patch-unknown": ("PATCH", "/containers/v1/regions/fr-par/namespaces/{missing}", {}, None, 404),
    "namespace-patch-other-project": ("PATCH", "/containers/v1/regions/fr-par/namespaces/{ns_id}", {}, OTHER_SECRET_KEY, 403),
    "container-create-taken-name": (
        "POST",
        "/containers/v1/regions/fr-par/containers",
        {"namespace_id": "{ns_id}", "name": "taken", "image": "nginx:latest"},
        None,
        409,
    ),
    "container-patch-unknown": ("PATCH", "/containers/v1/regions/fr-par/containers/{missing}", {}, None, 404),
    "container-patch-other-project": ("PATCH", "/containers/v1/regions/fr-par/containers/{cid}", {}, OTHER_SECRET_KEY, 403),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_writes_do_not_hash_secrets_first(server, refusal_targets, case):
    """A write that is refused (name taken, unknown id, another project) must not spend seconds of Argon2id first."""
    method, template, extras, token, status = REFUSALS[case]
    values = {
        "ns_name": refusal_targets["ns"]["name"],
        "ns_id": refusal_targets["ns"]["id"],
        "cid": refusal_targets["container"]["id"],
        "missing": str(uuid.uuid4()),
    }
    body = {k: v.format(**values) for k, v in extras.items()}
    body["secret_environment_variables"] = SLOW_SECRETS
    t0 = time.monotonic()
    r = server.request(method, template.format(**values), json_body=body, token=token or DEFAULT_SECRET_KEY)
    elapsed = time.monotonic() - t0
    assert r.status_code == status, r.text
    if status == 409:
        assert r.json() in (CONFLICT_BODY, {"message": "Container already exist"})
    assert elapsed < 0.6, f"{case}: the {status} took {elapsed:.2f}s; the secrets were hashed before the request was refused"


# --- transient statuses ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("scw-mock-slow"))
    srv = factory(transition_delay=DELAY)
    yield srv
    factory.stop_all()


def test_create_stays_transient_for_the_delay(slow_server):
    srv = slow_server
    t0 = time.monotonic()
    names = {api: uniq(f"slow-{api}") for api in ("cb", "c1", "fn")}
    created = {api: srv.create_ns(api, {"name": names[api]}) for api in names}
    assert created["cb"]["status"] == "pending"
    assert created["fn"]["status"] == "pending"
    assert created["c1"]["status"] == "creating"

    # immediately afterwards, still transient
    early = {api: srv.get_ns(api, created[api]["id"]) for api in names}
    assert early["cb"]["status"] == "pending"
    assert early["fn"]["status"] == "pending"
    assert early["c1"]["status"] == "creating"
    for api in BETA_APIS:
        assert (early[api]["registry_namespace_id"], early[api]["registry_endpoint"]) == ("", "")
    assert srv.get_ns("cb", created["c1"]["id"])["registry_endpoint"] == ""
    assert time.monotonic() - t0 < DELAY - 0.3, "setup took too long to observe the transient state"

    for api in names:
        got, _ = poll_until(lambda: srv.get_ns(api, created[api]["id"]), lambda ns: ns["status"] == "ready", DELAY + 5)
        if api == "cb":
            assert got["registry_endpoint"] == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(names[api])}{got['id'][:8]}"
        if api == "fn":
            assert got["registry_endpoint"].startswith(f"rg.fr-par.scw.cloud/funcscw{registry_prefix(names[api])}")
    elapsed = time.monotonic() - t0
    assert elapsed >= DELAY - 0.2, f"ready after {elapsed:.2f}s, expected about {DELAY}s"
    assert elapsed < DELAY + 4


def test_v1_update_is_transient_but_description_only_is_not(slow_server):
    srv = slow_server
    ns = srv.create_ns("c1")
    poll_until(lambda: srv.get_ns("c1", ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)

    r = srv.patch(ns_path("c1", ns_id=ns["id"]), {"description": "just text", "tags": ["t"]})
    assert r.json()["status"] == "ready"
    assert srv.get_ns("c1", ns["id"])["status"] == "ready"

    t0 = time.monotonic()
    r = srv.patch(ns_path("c1", ns_id=ns["id"]), {"environment_variables": {"A": "1"}})
    assert r.json()["status"] == "updating"
    assert srv.get_ns("c1", ns["id"])["status"] == "updating"
    # the same namespace through v1beta1 is transient too
    assert srv.get_ns("cb", ns["id"])["status"] in ("pending", "updating")
    got, _ = poll_until(lambda: srv.get_ns("c1", ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)
    assert time.monotonic() - t0 >= DELAY - 0.2
    assert got["environment_variables"] == {"A": "1"}
    assert got["description"] == "just text"


def test_v1beta1_update_is_pending_then_ready(slow_server):
    srv = slow_server
    nss = {api: srv.create_ns(api) for api in BETA_APIS}
    for api, ns in nss.items():
        poll_until(lambda: srv.get_ns(api, ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)
    t0 = time.monotonic()
    for api, ns in nss.items():
        r = srv.patch(ns_path(api, ns_id=ns["id"]), {"secret_environment_variables": [{"key": "K", "value": "v"}]})
        assert r.json()["status"] == "pending", api
        got = srv.get_ns(api, ns["id"])
        assert got["status"] == "pending", api
        assert got["registry_endpoint"] != "", "an update must not drop the registry of a ready namespace"
    for api, ns in nss.items():
        got, _ = poll_until(lambda: srv.get_ns(api, ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)
        assert [s["key"] for s in got["secret_environment_variables"]] == ["K"]
    assert time.monotonic() - t0 >= DELAY - 0.2


def test_sdk_waiter_on_a_slow_server(slow_server):
    sdk = make_sdk(slow_server)
    ns = sdk.c1.create_namespace(name=uniq("wait"))
    assert ns.status == "creating"
    t0 = time.monotonic()
    waited = sdk.c1.wait_for_namespace(namespace_id=ns.id)
    assert waited.status == "ready"
    assert time.monotonic() - t0 >= DELAY - 0.2


def test_delete_while_transient(slow_server):
    srv = slow_server
    ns = srv.create_ns("cb")
    r = srv.delete(ns_path("cb", ns_id=ns["id"]))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deleting"
    # As on Scaleway, the deletion reads as `deleting` for the transition delay, then 404 (test_deleting.py has every
    # resource).
    r = srv.get(ns_path("cb", ns_id=ns["id"]))
    assert (r.status_code, r.json()["status"]) == (200, "deleting")
    r, _ = poll_until(lambda: srv.get(ns_path("cb", ns_id=ns["id"])), lambda resp: resp.status_code == 404, DELAY + 3)
    assert (r.status_code, r.json()) == (404, not_found_body("cb", ns["id"]))


def test_restart_while_transient_still_settles(server_factory, tmp_path):
    db = tmp_path / "transient.sqlite"
    first = server_factory(db_path=db, transition_delay=DELAY)
    beta = first.create_ns("cb", {"environment_variables": {"A": "1"}})
    v1 = first.create_ns("c1")
    assert (beta["status"], v1["status"]) == ("pending", "creating")
    assert first.stop() == 0, first.stderr_tail()

    second = server_factory(db_path=db)
    got_beta, _ = poll_until(lambda: second.get_ns("cb", beta["id"]), lambda n: n["status"] == "ready", DELAY + 3)
    got_v1, _ = poll_until(lambda: second.get_ns("c1", v1["id"]), lambda n: n["status"] == "ready", DELAY + 3)
    assert got_beta["environment_variables"] == {"A": "1"}
    assert got_beta["registry_endpoint"] == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(beta['name'])}{beta['id'][:8]}"
    assert got_v1["name"] == v1["name"]


def test_sigterm_lets_an_in_flight_request_finish_and_persist(server_factory, tmp_path):
    db = tmp_path / "inflight.sqlite"
    first = server_factory(db_path=db)
    name = uniq("inflight")
    # v1 secrets are hashed with t=3,p=64: ten of them keep the request busy for a while
    body = {"name": name, "secret_environment_variables": {f"K{i}": f"v{i}" for i in range(10)}}
    result = {}

    def call():
        try:
            result["r"] = requests.post(
                first.url + ns_path("c1"), data=json.dumps(body), headers={"X-Auth-Token": DEFAULT_SECRET_KEY}, timeout=60
            )
        except Exception as e:  # noqa: BLE001
            result["error"] = e
        result["done_at"] = time.monotonic()

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.3)  # let the request reach the server; hashing keeps it busy well past this point
    signalled_at = time.monotonic()
    first.proc.send_signal(signal.SIGTERM)
    t.join(60)
    assert result["done_at"] > signalled_at, "the request finished before SIGTERM; the test proved nothing"
    assert first.stop() == 0, first.stderr_tail()
    assert "error" not in result, f"in-flight request was cut off by SIGTERM: {result.get('error')!r}"
    r = result["r"]
    assert r.status_code == 200, r.text
    created = r.json()
    assert len(created["secret_environment_variables"]) == 10

    second = server_factory(db_path=db)
    got = second.get_ns("c1", created["id"])
    assert got["secret_environment_variables"] == created["secret_environment_variables"]
    assert verifies(got["secret_environment_variables"]["K7"], "v7")


@pytest.mark.parametrize("api", ("cb", "c1", "fn"))
def test_concurrent_creates_with_one_name_have_exactly_one_winner(server, api):
    name = uniq("race")
    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(lambda _: server.post(ns_path(api), {"name": name}), range(12)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 11, [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json() == CONFLICT_BODY
    winners = [r.json()["id"] for r in responses if r.status_code == 200]
    listed = [n for n in server.list_ns(api, page_size=100, order_by="created_at_desc")["namespaces"] if n["name"] == name]
    assert [n["id"] for n in listed] == winners


def test_concurrent_distinct_creates_all_land(fresh_server):
    jobs = [(api, f"par-{api}-{i:02d}") for api in ("cb", "c1", "fn") for i in range(15)]
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda job: fresh_server.post(ns_path(job[0]), {"name": job[1]}), jobs))
    assert [r.status_code for r in responses] == [200] * len(jobs), [r.text for r in responses if r.status_code != 200]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == len(jobs)
    containers = fresh_server.list_ns("c1", page_size=100)
    assert containers["total_count"] == 30
    functions = fresh_server.list_ns("fn", page_size=100)
    assert functions["total_count"] == 15
    assert {n["id"] for n in containers["namespaces"]} | {n["id"] for n in functions["namespaces"]} == ids
