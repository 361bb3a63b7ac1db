"""Persistence across restarts and transient statuses with --transition-delay."""

from __future__ import annotations

import time

import pytest

from support import (
    BETA_APIS,
    OTHER_SECRET_KEY,
    CONFLICT_BODY,
    ServerFactory,
    make_sdk,
    not_found_body,
    ns_path,
    poll_until,
    registry_prefix,
    uniq,
    verifies,
)

DELAY = 2.0


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


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_update_is_pending_then_ready(slow_server, api):
    srv = slow_server
    ns = srv.create_ns(api)
    poll_until(lambda: srv.get_ns(api, ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)
    t0 = time.monotonic()
    r = srv.patch(ns_path(api, ns_id=ns["id"]), {"secret_environment_variables": [{"key": "K", "value": "v"}]})
    assert r.json()["status"] == "pending"
    assert srv.get_ns(api, ns["id"])["status"] == "pending"
    poll_until(lambda: srv.get_ns(api, ns["id"]), lambda n: n["status"] == "ready", DELAY + 5)
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
    r = srv.get(ns_path("cb", ns_id=ns["id"]))
    assert (r.status_code, r.json()) == (404, not_found_body("cb", ns["id"]))
