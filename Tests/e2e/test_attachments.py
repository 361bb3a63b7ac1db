"""Crons, custom domains and triggers of containers through the official SDK: ContainerV1Beta1API (crons, domains,
v1beta1 triggers) and ContainerV1API (domains with tags, cron/SQS/NATS triggers), with the v1beta1 cron ids readable
as v1 cron triggers, statuses while transient, waiters and cascades."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from scaleway.container.v1 import (
    CreateTriggerRequestCronConfig,
    CreateTriggerRequestDestinationConfig,
    CreateTriggerRequestNATSConfig,
    CreateTriggerRequestSQSConfig,
    UpdateTriggerRequestCronConfig,
    UpdateTriggerRequestDestinationConfig,
    UpdateTriggerRequestSQSConfig,
)
from scaleway.container.v1beta1 import (
    CreateTriggerRequestMnqNatsClientConfig,
    CreateTriggerRequestMnqSqsClientConfig,
    CreateTriggerRequestSqsClientConfig,
)
from scaleway.container.v1beta1 import UpdateTriggerRequestSqsClientConfig as CbUpdateSqs

from attach_support import (
    B1_ONE_OF_ERROR,
    C1,
    CB,
    CONTAINER_NOT_FOUND,
    CRON_NOT_FOUND,
    DOMAIN_CONFLICT,
    DOMAIN_NOT_FOUND,
    HOSTNAME_ERROR,
    INVALID,
    SCHEDULE_ERROR,
    TIMEZONE_ERROR,
    TRIGGER_NOT_FOUND_GET,
    TS0_RE,
    TS6_RE,
    UUID_RE,
    ModuleServers,
    expect,
    new_c1_container,
    new_cb_container,
    new_function,
    ready_namespace,
    required_error,
    sdk_error,
    trigger_not_found_delete,
    v1_typed_not_found,
)
from support import DEFAULT_PROJECT, OTHER_PROJECT, make_sdk, uniq

SLOW_DELAY = 1.0  # --transition-delay of this module's dedicated server

C1_DOMAIN_KEYS = {"id", "hostname", "container_id", "status", "created_at", "updated_at", "tags"}  # + error_message once settled
C1_TRIGGER_KEYS = {
    "id", "name", "description", "tags", "status", "container_id", "destination_config", "source_type", "created_at",
    "updated_at",
}  # fmt: skip (+ error_message once settled, + exactly one config)
DEFAULT_DESTINATION = {"http_path": "/", "http_method": "post"}
METHOD_ERROR = {
    "details": [
        {
            "argument_name": "destination_config.http_method",
            "help_message": "http_method must be one of get, post, put, patch, delete",
            "reason": "format",
        }
    ],
    "message": INVALID,
    "type": "invalid_arguments",
}


def parse_ts(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z" if "." in ts else "%Y-%m-%dT%H:%M:%S%z")


def ceil_second(ts: str, plus: float = 0.0) -> str:
    """v1 updated_at once settled at created_at + plus: cut to whole seconds, unless that would put it before
    created_at (then the microsecond value), so it is never later than the real instant."""
    created = parse_ts(ts)
    t = created + dt.timedelta(seconds=plus)
    whole = t.replace(microsecond=0)
    if whole >= created:
        return whole.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hostname(tag: str = "h") -> str:
    return f"{uniq(tag)}.example.com"


@pytest.fixture(scope="module")
def cns(server) -> dict:
    return ready_namespace(server, "cb")


@pytest.fixture
def cid(server, cns) -> str:
    """A fresh v1beta1 container per test (attachments of other tests never show up in its lists)."""
    return new_cb_container(server, cns["id"])["id"]


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    servers = ModuleServers(tmp_path_factory.mktemp("attachments-slow"))
    srv = servers.start(transition_delay=SLOW_DELAY)
    yield srv
    servers.stop_all()


# --- containers v1beta1: crons ---------------------------------------------------------------------------------------


def test_cb_cron_lifecycle(server, sdk, cid):
    c = sdk.cb.create_cron(container_id=cid, schedule="5 4 * * *", args={"test": "scw", "n": 3})
    assert (c.name, c.status, c.args) == (f"cron-{c.id}", "pending", {"test": "scw", "n": 3})
    raw = expect(server.get(f"{CB}/crons/{c.id}"), 200)
    assert raw == {"id": c.id, "container_id": cid, "schedule": "5 4 * * *", "args": {"n": 3, "test": "scw"}, "status": "ready",
                   "name": f"cron-{c.id}"}  # fmt: skip
    named = expect(server.post(f"{CB}/crons", {"container_id": cid, "schedule": "0 0 1,15 * 7", "name": "twice-monthly",
                                                "args": {"deep": {"list": [1, {"x": None}], "flag": False}}}), 200)  # fmt: skip
    assert named == {"id": named["id"], "container_id": cid, "schedule": "0 0 1,15 * 7", "status": "pending", "name": "twice-monthly",
                     "args": {"deep": {"list": [1, {"x": None}], "flag": False}}}  # fmt: skip

    listed = sdk.cb.list_crons(container_id=cid)
    assert (listed.total_count, [x.id for x in listed.crons]) == (2, [c.id, named["id"]])
    assert {x.status for x in listed.crons} == {"ready"}
    assert [x.id for x in sdk.cb.list_crons(container_id=cid, order_by="created_at_desc").crons] == [named["id"], c.id]
    assert [x.id for x in sdk.cb.list_crons_all(container_id=cid, page_size=1)] == [c.id, named["id"]]
    p2 = sdk.cb.list_crons(container_id=cid, page=2, page_size=1)
    assert (p2.total_count, [x.id for x in p2.crons]) == (2, [named["id"]])

    upd = expect(server.patch(f"{CB}/crons/{c.id}", {"schedule": "*/5 1-3 * JAN MON-FRI", "name": "nightly"}), 200)
    assert upd == {"id": c.id, "container_id": cid, "schedule": "*/5 1-3 * JAN MON-FRI", "args": {"n": 3, "test": "scw"},
                   "status": "pending", "name": "nightly"}  # fmt: skip (partial: args kept)
    upd = sdk.cb.update_cron(cron_id=c.id, args={"only": "args"})
    assert (upd.schedule, upd.name, upd.args) == ("*/5 1-3 * JAN MON-FRI", "nightly", {"only": "args"})
    assert sdk.cb.update_cron(cron_id=c.id, container_id=cid, name="same-container").name == "same-container"
    assert sdk.cb.get_cron(cron_id=c.id).status == "ready"

    deleted = expect(server.delete(f"{CB}/crons/{c.id}"), 200)
    assert (deleted["status"], deleted["name"], deleted["args"]) == ("deleting", "same-container", {"only": "args"})
    assert sdk_error(sdk.cb.get_cron, cron_id=c.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.cb.delete_cron, cron_id=c.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.cb.update_cron, cron_id=c.id, name="x") == (404, CRON_NOT_FOUND)
    assert [x.id for x in sdk.cb.list_crons(container_id=cid).crons] == [named["id"]]


def test_cb_cron_errors(server, sdk, cns, cid):
    for schedule in ("61 * * * *", "5 4 * *", "* * 32 * *", "* * * 13 *", "*/0 * * * *", "* 24 * * *", "5 4 * * * *", "a b c d e"):
        assert sdk_error(sdk.cb.create_cron, container_id=cid, schedule=schedule) == (400, SCHEDULE_ERROR), schedule
    for schedule in ("*/5 1-3 * JAN MON-FRI", "0 0 1,15 * 7", "59 23 31 12 0", "0-30/15 * * * *"):
        assert sdk.cb.create_cron(container_id=cid, schedule=schedule).schedule == schedule
    c = sdk.cb.create_cron(container_id=cid, schedule="5 4 * * *")
    assert sdk_error(sdk.cb.update_cron, cron_id=c.id, schedule="61 * * * *") == (400, SCHEDULE_ERROR)
    assert sdk.cb.get_cron(cron_id=c.id).schedule == "5 4 * * *"

    expect(server.get(f"{CB}/crons"), 400, required_error("container_id"))  # the SDK always sends it
    expect(server.post(f"{CB}/crons", {"schedule": "5 4 * * *"}), 400, required_error("container_id"))
    expect(server.post(f"{CB}/crons", {"container_id": cid}), 400, required_error("schedule"))
    missing = str(uuid.uuid4())
    assert sdk_error(sdk.cb.create_cron, container_id=missing, schedule="5 4 * * *") == (404, CONTAINER_NOT_FOUND)
    assert sdk_error(sdk.cb.get_cron, cron_id=missing) == (404, CRON_NOT_FOUND)
    other = new_cb_container(server, cns["id"])["id"]
    moved = sdk_error(sdk.cb.update_cron, cron_id=c.id, container_id=other)
    assert moved == (400, {"details": [{"argument_name": "container_id", "help_message": "a cron cannot move to another container",
                                        "reason": "constraint"}], "message": INVALID, "type": "invalid_arguments"})  # fmt: skip


def test_cb_cron_is_a_v1_cron_trigger(server, sdk, cid):
    c = sdk.cb.create_cron(container_id=cid, schedule="*/5 1-3 * JAN MON-FRI", args={"test": "scw", "n": 3}, name="nightly")
    raw = expect(server.get(f"{C1}/triggers/{c.id}"), 200)
    created_at = raw.pop("created_at")
    assert TS6_RE.match(created_at) and raw.pop("updated_at") == ceil_second(created_at)
    assert raw == {
        "id": c.id, "name": "nightly", "description": "", "tags": [], "status": "ready", "error_message": "",
        "container_id": cid, "destination_config": DEFAULT_DESTINATION, "source_type": "cron",
        "cron_config": {"schedule": "*/5 1-3 * JAN MON-FRI", "timezone": "UTC", "body": '{"n":3,"test":"scw"}', "headers": {}},
    }  # fmt: skip
    t = sdk.c1.get_trigger(trigger_id=c.id)
    assert json.loads(t.cron_config.body) == {"test": "scw", "n": 3}
    assert [x.id for x in sdk.c1.list_triggers(container_id=cid, trigger_type="cron").triggers] == [c.id]
    assert sdk.c1.list_triggers(container_id=cid, trigger_type="sqs").total_count == 0
    # a v1 PATCH is seen through the v1beta1 cron
    sdk.c1.update_trigger(trigger_id=c.id, cron_config=UpdateTriggerRequestCronConfig(schedule="0 * * * *", body='{"v":1}'))
    back = sdk.cb.get_cron(cron_id=c.id)
    assert (back.schedule, back.args, back.name) == ("0 * * * *", {"v": 1}, "nightly")
    # crons are not v1beta1 triggers
    assert sdk_error(sdk.cb.get_trigger, trigger_id=c.id) == (404, TRIGGER_NOT_FOUND_GET)
    assert sdk.cb.list_triggers(container_id=cid).total_count == 0
    sdk.c1.delete_trigger(trigger_id=c.id)
    assert sdk_error(sdk.cb.get_cron, cron_id=c.id) == (404, CRON_NOT_FOUND)


# --- containers v1beta1: domains -------------------------------------------------------------------------------------


def test_cb_domains(server, sdk, cns, cid):
    host = hostname("app")
    posted = expect(server.post(f"{CB}/domains", {"container_id": cid, "hostname": host.upper()}), 200)
    did = posted["id"]
    assert posted == {"id": did, "hostname": host, "container_id": cid, "url": "", "status": "pending", "error_message": None}
    got = expect(server.get(f"{CB}/domains/{did}"), 200)
    assert got == {"id": did, "hostname": host, "container_id": cid, "url": f"https://{host}", "status": "ready", "error_message": None}
    d = sdk.cb.get_domain(domain_id=did)
    assert (d.hostname, d.url, d.status, d.container_id) == (host, f"https://{host}", "ready", cid)

    second = sdk.cb.create_domain(hostname=f"api.{host}", container_id=cid)
    assert (second.status, second.url) == ("pending", "")
    listed = sdk.cb.list_domains(container_id=cid)
    assert (listed.total_count, [x.id for x in listed.domains]) == (2, [did, second.id])
    assert [x.id for x in sdk.cb.list_domains_all(container_id=cid, order_by="created_at_desc")] == [second.id, did]
    expect(server.get(f"{CB}/domains"), 400, required_error("container_id"))

    # hostnames are unique across the mock, whatever the case, container, API or version
    other = new_cb_container(server, cns["id"])["id"]
    assert sdk_error(sdk.cb.create_domain, hostname=host, container_id=cid) == (409, DOMAIN_CONFLICT)
    assert sdk_error(sdk.cb.create_domain, hostname=host.upper(), container_id=other) == (409, DOMAIN_CONFLICT)
    assert sdk_error(sdk.c1.create_domain, hostname=host, container_id=other) == (409, DOMAIN_CONFLICT)
    fns = ready_namespace(server, "fn")
    assert sdk_error(sdk.fn.create_domain, hostname=host, function_id=new_function(server, fns["id"])["id"]) == (409, DOMAIN_CONFLICT)

    for bad in ("localhost", "-bad.example.com", "bad-.example.com", "under_score.example.com", "a..b.example.com",
                "example.123", "spa ce.example.com", "x" * 64 + ".example.com"):  # fmt: skip
        assert sdk_error(sdk.cb.create_domain, hostname=bad, container_id=cid) == (400, HOSTNAME_ERROR), bad
    assert sdk_error(sdk.cb.create_domain, hostname=hostname(), container_id=str(uuid.uuid4())) == (404, CONTAINER_NOT_FOUND)

    deleted = sdk.cb.delete_domain(domain_id=did)
    assert (deleted.id, deleted.status, deleted.hostname) == (did, "deleting", host)
    assert sdk_error(sdk.cb.get_domain, domain_id=did) == (404, DOMAIN_NOT_FOUND)
    assert sdk_error(sdk.cb.delete_domain, domain_id=did) == (404, DOMAIN_NOT_FOUND)
    assert sdk.cb.create_domain(hostname=host, container_id=other).container_id == other  # released


# --- containers v1beta1: triggers ------------------------------------------------------------------------------------


def test_cb_triggers(server, sdk, cns, cid):
    nats = expect(server.post(f"{CB}/triggers", {
        "name": "test-container-trigger-nats", "container_id": cid,
        "scw_nats_config": {"subject": "TestSubject", "mnq_nats_account_id": "AD6CMPHV", "mnq_project_id": DEFAULT_PROJECT,
                            "mnq_region": "fr-par", "mnq_credential_id": "ignored-on-input"},
    }), 200)  # fmt: skip
    tid = nats["id"]
    config = {"subject": "TestSubject", "mnq_nats_account_id": "AD6CMPHV", "mnq_project_id": DEFAULT_PROJECT, "mnq_region": "fr-par"}
    assert nats == {"id": tid, "name": "test-container-trigger-nats", "description": "", "input_type": "scw_nats", "status": "pending",
                    "error_message": None, "container_id": cid, "scw_nats_config": {**config, "mnq_credential_id": None}}  # fmt: skip
    got = expect(server.get(f"{CB}/triggers/{tid}"), 200)
    credential = got["scw_nats_config"].pop("mnq_credential_id")
    assert UUID_RE.match(credential) and got == {**nats, "status": "ready", "scw_nats_config": config}

    sqs = sdk.cb.create_trigger(
        name="scw-sqs", container_id=cid, description="orders",
        scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="orders", mnq_project_id=DEFAULT_PROJECT, mnq_region="nl-ams"),
    )  # fmt: skip
    assert (sqs.status, sqs.input_type, sqs.scw_sqs_config.mnq_region, sqs.scw_sqs_config.mnq_credential_id) == ("pending", "scw_sqs", "nl-ams", None)
    plain = sdk.cb.create_trigger(
        name="aws", container_id=cid,
        sqs_config=CreateTriggerRequestSqsClientConfig(endpoint="https://sqs.example", queue_url="https://sqs.example/q",
                                                       access_key="AK", secret_key="do-not-echo"),
    )  # fmt: skip
    raw_plain = expect(server.get(f"{CB}/triggers/{plain.id}"), 200)
    assert raw_plain["sqs_config"] == {"endpoint": "https://sqs.example", "queue_url": "https://sqs.example/q", "access_key": "AK"}
    assert set(raw_plain) == {"id", "name", "description", "input_type", "status", "error_message", "container_id", "sqs_config"}

    listed = sdk.cb.list_triggers(container_id=cid)
    assert (listed.total_count, [t.id for t in listed.triggers]) == (3, [tid, sqs.id, plain.id])
    assert [t.id for t in sdk.cb.list_triggers(container_id=cid, order_by="created_at_desc").triggers] == [plain.id, sqs.id, tid]
    assert [t.id for t in sdk.cb.list_triggers_all(container_id=cid, page_size=2)] == [tid, sqs.id, plain.id]
    in_ns = [t.id for t in sdk.cb.list_triggers_all(namespace_id=cns["id"])]
    assert [i for i in in_ns if i in (tid, sqs.id, plain.id)] == [tid, sqs.id, plain.id]
    assert "do-not-echo" not in server.get(f"{CB}/triggers", params={"container_id": cid}).text

    described = expect(server.patch(f"{CB}/triggers/{tid}", {"description": "d"}), 200)
    assert described == {**got, "description": "d", "scw_nats_config": {**config, "mnq_credential_id": credential}}  # stays ready
    rekeyed = sdk.cb.update_trigger(trigger_id=plain.id, sqs_config=CbUpdateSqs(access_key="AK2", secret_key="new-secret"))
    assert (rekeyed.status, rekeyed.sqs_config.access_key, rekeyed.sqs_config.secret_key) == ("pending", "AK2", None)
    assert sdk.cb.get_trigger(trigger_id=plain.id).status == "ready"

    expect(server.post(f"{CB}/triggers", {"name": "none", "container_id": cid}), 400, B1_ONE_OF_ERROR)
    both = {"name": "both", "container_id": cid, "scw_sqs_config": {"queue": "q"}, "scw_nats_config": {"subject": "s"}}
    expect(server.post(f"{CB}/triggers", both), 400, B1_ONE_OF_ERROR)
    missing = str(uuid.uuid4())
    assert sdk_error(sdk.cb.create_trigger, name="x", container_id=missing,
                     scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="q", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par")
                     ) == (404, CONTAINER_NOT_FOUND)  # fmt: skip

    deleted = expect(server.delete(f"{CB}/triggers/{tid}"), 200)
    assert (deleted["status"], deleted["description"]) == ("deleting", "d")
    assert sdk_error(sdk.cb.get_trigger, trigger_id=tid) == (404, TRIGGER_NOT_FOUND_GET)
    assert sdk_error(sdk.cb.delete_trigger, trigger_id=tid) == (404, trigger_not_found_delete(tid))
    assert sdk_error(sdk.cb.update_trigger, trigger_id=tid, name="x")[0] == 404
    assert sdk_error(sdk.cb.get_trigger, trigger_id=missing) == (404, TRIGGER_NOT_FOUND_GET)


# --- containers v1: domains ------------------------------------------------------------------------------------------


def test_c1_domains(server, sdk, cns, cid):
    host = hostname("v1")
    posted = expect(server.post(f"{C1}/domains", {"container_id": cid, "hostname": host, "tags": ["a", "b"]}), 200)
    did = posted["id"]
    assert set(posted) == C1_DOMAIN_KEYS  # error_message omitted while creating
    assert (posted["status"], posted["tags"], posted["hostname"], posted["container_id"]) == ("creating", ["a", "b"], host, cid)
    assert TS6_RE.match(posted["created_at"]) and posted["updated_at"] == posted["created_at"]

    got = expect(server.get(f"{C1}/domains/{did}"), 200)
    assert set(got) == C1_DOMAIN_KEYS | {"error_message"}
    assert (got["status"], got["error_message"], got["created_at"]) == ("ready", "", posted["created_at"])
    assert got["updated_at"] == ceil_second(posted["created_at"])  # settled: whole seconds unless before created_at

    upd = sdk.c1.update_domain(domain_id=did, tags=["x"])
    assert (upd.tags, upd.status, upd.error_message) == (["x"], "ready", "")
    raw = expect(server.get(f"{C1}/domains/{did}"), 200)
    assert raw["tags"] == ["x"] and TS6_RE.match(raw["updated_at"]) and raw["updated_at"] > posted["created_at"]
    assert sdk.c1.update_domain(domain_id=did, tags=[]).tags == []

    # same domain through v1beta1
    b1 = sdk.cb.get_domain(domain_id=did)
    assert (b1.hostname, b1.url, b1.status) == (host, f"https://{host}", "ready")

    b = sdk.c1.create_domain(container_id=cid, hostname=f"b-{host}")
    a = sdk.c1.create_domain(container_id=cid, hostname=f"a-{host}")
    assert (a.status, a.tags, a.error_message) == ("creating", [], None)
    order = {"hostname_asc": [a.id, b.id, did], "hostname_desc": [did, b.id, a.id], "created_at_asc": [did, b.id, a.id],
             "created_at_desc": [a.id, b.id, did]}  # fmt: skip
    for order_by, ids in order.items():
        listed = sdk.c1.list_domains(container_id=cid, order_by=order_by)
        assert (listed.total_count, [x.id for x in listed.domains]) == (3, ids), order_by
    page = sdk.c1.list_domains(container_id=cid, order_by="hostname_asc", page=2, page_size=2)
    assert (page.total_count, [x.id for x in page.domains]) == (3, [did])
    assert [x.id for x in sdk.c1.list_domains_all(namespace_id=cns["id"], order_by="hostname_asc") if x.container_id == cid] == order["hostname_asc"]
    raw_list = expect(server.get(f"{C1}/domains", params={"container_id": cid}), 200)
    assert list(raw_list) == ["domains", "total_count"] and {x["status"] for x in raw_list["domains"]} == {"ready"}

    assert sdk_error(sdk.c1.create_domain, container_id=cid, hostname="not a hostname") == (400, HOSTNAME_ERROR)
    deleted = expect(server.delete(f"{C1}/domains/{did}"), 200)
    assert deleted["status"] == "deleting" and "error_message" not in deleted and set(deleted) == C1_DOMAIN_KEYS
    assert sdk_error(sdk.c1.get_domain, domain_id=did) == (404, v1_typed_not_found("domain", did))
    assert sdk_error(sdk.c1.delete_domain, domain_id=did) == (404, v1_typed_not_found("domain", did))
    assert sdk_error(sdk.c1.update_domain, domain_id=did, tags=["z"]) == (404, v1_typed_not_found("domain", did))


# --- containers v1: triggers -----------------------------------------------------------------------------------------


def test_c1_cron_trigger(server, sdk, cid):
    posted = expect(server.post(f"{C1}/triggers", {
        "container_id": cid, "name": "tf-tests-container-cron-basic",
        "cron_config": {"schedule": "5 4 * * *", "timezone": "Europe/Paris", "body": '{"test":"scw"}', "headers": {"X-Source": "e2e"}},
    }), 200)  # fmt: skip
    tid = posted["id"]
    assert set(posted) == C1_TRIGGER_KEYS | {"cron_config"}  # no error_message while creating
    assert (posted["status"], posted["source_type"], posted["destination_config"], posted["tags"]) == ("creating", "cron", DEFAULT_DESTINATION, [])
    assert posted["cron_config"] == {"schedule": "5 4 * * *", "timezone": "Europe/Paris", "body": '{"test":"scw"}', "headers": {"X-Source": "e2e"}}
    assert TS6_RE.match(posted["created_at"]) and posted["updated_at"] == posted["created_at"]

    got = expect(server.get(f"{C1}/triggers/{tid}"), 200)
    assert (got["status"], got["error_message"], got["updated_at"]) == ("ready", "", ceil_second(posted["created_at"]))

    renamed = expect(server.patch(f"{C1}/triggers/{tid}", {"name": "renamed"}), 200)
    assert (renamed["name"], renamed["status"], renamed["error_message"]) == ("renamed", "ready", "")  # name only: stays ready
    assert TS6_RE.match(renamed["updated_at"])

    upd = sdk.c1.update_trigger(trigger_id=tid, cron_config=UpdateTriggerRequestCronConfig(schedule="0 * * * *", headers={"X-Source": "e2e"}))
    assert (upd.status, upd.error_message, upd.cron_config.schedule, upd.cron_config.timezone) == ("updating", None, "0 * * * *", "Europe/Paris")
    raw_upd = expect(server.get(f"{C1}/triggers/{tid}"), 200)
    assert (raw_upd["status"], raw_upd["cron_config"]["body"], raw_upd["cron_config"]["headers"]) == ("ready", '{"test":"scw"}', {"X-Source": "e2e"})
    moved = sdk.c1.update_trigger(trigger_id=tid, destination_config=UpdateTriggerRequestDestinationConfig(http_path="/tick", http_method="get"))
    assert (moved.status, moved.destination_config.http_path, moved.destination_config.http_method) == ("updating", "/tick", "get")
    tagged = sdk.c1.update_trigger(trigger_id=tid, tags=["t1"], description="desc")
    assert (tagged.status, tagged.tags, tagged.description) == ("ready", ["t1"], "desc")

    base = {"container_id": cid, "name": "bad"}
    expect(server.post(f"{C1}/triggers", {**base, "cron_config": {"schedule": "5 4 * * *"}}), 400, required_error("cron_config.timezone"))
    expect(server.post(f"{C1}/triggers", {**base, "cron_config": {"schedule": "5 4 * * *", "timezone": "Mars/Olympus"}}), 400, TIMEZONE_ERROR)
    assert sdk_error(sdk.c1.create_trigger, container_id=cid, name="bad",
                     cron_config=CreateTriggerRequestCronConfig(schedule="61 * * * *", timezone="UTC", body="", headers={})
                     ) == (400, SCHEDULE_ERROR)  # fmt: skip
    expect(server.post(f"{C1}/triggers", {**base, "cron_config": {"schedule": "5 4 * * *", "timezone": "UTC"},
                                          "destination_config": {"http_method": "connect"}}), 400, METHOD_ERROR)  # fmt: skip
    two = {**base, "cron_config": {"schedule": "5 4 * * *", "timezone": "UTC"}, "nats_config": {"server_urls": ["nats://n:4222"], "subject": "s"}}
    one_of = expect(server.post(f"{C1}/triggers", two), 400)
    assert one_of["type"] == "invalid_arguments" and one_of["details"][0]["reason"] == "constraint"
    assert sdk_error(sdk.c1.update_trigger, trigger_id=tid, cron_config=UpdateTriggerRequestCronConfig(timezone="Mars/Olympus", headers=None)) == (400, TIMEZONE_ERROR)
    assert sdk.c1.get_trigger(trigger_id=tid).cron_config.timezone == "Europe/Paris"

    deleted = expect(server.delete(f"{C1}/triggers/{tid}"), 200)
    assert deleted["status"] == "deleting" and "error_message" not in deleted
    assert sdk_error(sdk.c1.get_trigger, trigger_id=tid) == (404, v1_typed_not_found("trigger", tid))
    assert sdk_error(sdk.c1.delete_trigger, trigger_id=tid) == (404, v1_typed_not_found("trigger", tid))
    assert sdk_error(sdk.c1.update_trigger, trigger_id=tid, name="x") == (404, v1_typed_not_found("trigger", tid))


def test_c1_sqs_and_nats_triggers(server, sdk, cns, cid):
    sqs = sdk.c1.create_trigger(
        container_id=cid, name="b-sqs", description="queue", tags=["q"],
        destination_config=CreateTriggerRequestDestinationConfig(http_path="/events", http_method="put"),
        sqs_config=CreateTriggerRequestSQSConfig(region="fr-par", endpoint="https://sqs.mnq.fr-par.scaleway.com",
                                                 access_key_id="DXosmXr9", secret_access_key="SQS-SECRET-VALUE",
                                                 queue_url="https://sqs.mnq.fr-par.scaleway.com/project-x/TestQueue"),
    )  # fmt: skip
    assert (sqs.status, sqs.source_type, sqs.tags, sqs.destination_config.http_method) == ("creating", "sqs", ["q"], "put")
    raw = expect(server.get(f"{C1}/triggers/{sqs.id}"), 200)
    assert set(raw) == C1_TRIGGER_KEYS | {"error_message", "sqs_config"}
    assert raw["sqs_config"] == {"region": "fr-par", "endpoint": "https://sqs.mnq.fr-par.scaleway.com", "access_key_id": "DXosmXr9",
                                 "queue_url": "https://sqs.mnq.fr-par.scaleway.com/project-x/TestQueue"}  # fmt: skip
    assert raw["destination_config"] == {"http_path": "/events", "http_method": "put"}

    nats = sdk.c1.create_trigger(
        container_id=cid, name="a-nats",
        nats_config=CreateTriggerRequestNATSConfig(server_urls=["nats://nats.mnq.fr-par.scaleway.com:4222"], subject="TestSubject",
                                                   credentials_file_content="-----BEGIN NATS USER JWT-----\nNATS-SECRET\n"),
    )  # fmt: skip
    raw_nats = expect(server.get(f"{C1}/triggers/{nats.id}"), 200)
    assert raw_nats["nats_config"] == {"server_urls": ["nats://nats.mnq.fr-par.scaleway.com:4222"], "subject": "TestSubject"}
    assert (raw_nats["source_type"], raw_nats["destination_config"]) == ("nats", DEFAULT_DESTINATION)
    cron = sdk.c1.create_trigger(container_id=cid, name="c-cron",
                                 cron_config=CreateTriggerRequestCronConfig(schedule="0 0 * * *", timezone="UTC", body="", headers={}))

    listing = server.get(f"{C1}/triggers", params={"container_id": cid}).text
    assert "SQS-SECRET-VALUE" not in listing and "NATS-SECRET" not in listing
    assert [t.id for t in sdk.c1.list_triggers(container_id=cid, trigger_type="sqs").triggers] == [sqs.id]
    assert [t.id for t in sdk.c1.list_triggers(container_id=cid, trigger_type="nats").triggers] == [nats.id]
    every = sdk.c1.list_triggers(container_id=cid)
    assert (every.total_count, [t.id for t in every.triggers]) == (3, [sqs.id, nats.id, cron.id])
    assert [t.name for t in sdk.c1.list_triggers(container_id=cid, order_by="name_asc").triggers] == ["a-nats", "b-sqs", "c-cron"]
    assert [t.name for t in sdk.c1.list_triggers(container_id=cid, order_by="name_desc").triggers] == ["c-cron", "b-sqs", "a-nats"]
    assert [t.id for t in sdk.c1.list_triggers_all(container_id=cid, page_size=1)] == [sqs.id, nats.id, cron.id]
    in_ns = [t.id for t in sdk.c1.list_triggers_all(namespace_id=cns["id"], trigger_type="sqs")]
    assert sqs.id in in_ns and nats.id not in in_ns
    bad_type = expect(server.get(f"{C1}/triggers", params={"container_id": cid, "trigger_type": "kafka"}), 400)
    assert bad_type["details"][0]["argument_name"] == "trigger_type"

    # config PATCHes: nulls inside a config keep the stored values; secrets never come back
    upd = expect(server.patch(f"{C1}/triggers/{nats.id}", {"nats_config": {"subject": "Other", "server_urls": None}}), 200)
    assert (upd["status"], upd["nats_config"]) == ("updating", {"server_urls": ["nats://nats.mnq.fr-par.scaleway.com:4222"], "subject": "Other"})
    assert "error_message" not in upd
    upd = sdk.c1.update_trigger(trigger_id=sqs.id, sqs_config=UpdateTriggerRequestSQSConfig(secret_access_key="ROTATED-SECRET"))
    assert (upd.status, upd.sqs_config.access_key_id) == ("updating", "DXosmXr9")
    after = server.get(f"{C1}/triggers/{sqs.id}")
    assert after.json()["status"] == "ready" and "ROTATED-SECRET" not in after.text

    # the v1beta1 view of a user-credential SQS trigger
    b1 = expect(server.get(f"{CB}/triggers/{sqs.id}"), 200)
    assert (b1["input_type"], b1["sqs_config"]) == ("sqs", {"endpoint": "https://sqs.mnq.fr-par.scaleway.com", "access_key": "DXosmXr9",
                                                           "queue_url": "https://sqs.mnq.fr-par.scaleway.com/project-x/TestQueue"})  # fmt: skip


# --- cascades --------------------------------------------------------------------------------------------------------


def test_deleting_a_container_or_namespace_deletes_its_attachments(server, sdk):
    ns = ready_namespace(server, "cb")
    cid = new_cb_container(server, ns["id"])["id"]
    v1cid = new_c1_container(server, ns["id"])["id"]
    host, host2 = hostname("cas"), hostname("cas2")
    cron = sdk.cb.create_cron(container_id=cid, schedule="5 4 * * *")
    domain = sdk.cb.create_domain(hostname=host, container_id=cid)
    b1 = sdk.cb.create_trigger(name="t", container_id=cid,
                               scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="q", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par"))
    v1 = sdk.c1.create_trigger(container_id=cid, name="v1",
                               cron_config=CreateTriggerRequestCronConfig(schedule="0 0 * * *", timezone="UTC", body="", headers={}))
    token = sdk.cb.create_token(container_id=cid)
    # attachments of the container that stays
    keep_cron = sdk.cb.create_cron(container_id=v1cid, schedule="0 1 * * *")
    keep_domain = sdk.c1.create_domain(container_id=v1cid, hostname=host2)

    assert sdk.cb.delete_container(container_id=cid).status == "deleting"
    assert sdk_error(sdk.cb.get_cron, cron_id=cron.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.cb.get_domain, domain_id=domain.id) == (404, DOMAIN_NOT_FOUND)
    assert sdk_error(sdk.cb.get_trigger, trigger_id=b1.id) == (404, TRIGGER_NOT_FOUND_GET)
    assert sdk_error(sdk.c1.get_trigger, trigger_id=v1.id) == (404, v1_typed_not_found("trigger", v1.id))
    assert sdk_error(sdk.cb.get_token, token_id=token.id)[0] == 404
    assert sdk.cb.get_cron(cron_id=keep_cron.id).status == "ready"
    assert sdk.c1.list_domains(namespace_id=ns["id"]).total_count == 1
    assert sdk.c1.create_domain(container_id=v1cid, hostname=host).hostname == host  # released

    assert sdk.c1.delete_namespace(namespace_id=ns["id"]).status == "deleting"
    assert sdk_error(sdk.cb.get_cron, cron_id=keep_cron.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.c1.get_domain, domain_id=keep_domain.id) == (404, v1_typed_not_found("domain", keep_domain.id))
    assert sdk.c1.list_domains(namespace_id=ns["id"]).total_count == 0
    assert sdk.c1.list_triggers(namespace_id=ns["id"]).total_count == 0


# --- transient statuses on a server with --transition-delay ---------------------------------------------------------


def test_transient_statuses_and_waiters(slow):
    s = make_sdk(slow)
    ns = ready_namespace(slow, "cb")
    cid = new_cb_container(slow, ns["id"])["id"]
    cron = s.cb.create_cron(container_id=cid, schedule="5 4 * * *")
    b1_domain = s.cb.create_domain(hostname=hostname("slow"), container_id=cid)
    b1_trigger = s.cb.create_trigger(
        name="slow", container_id=cid,
        scw_nats_config=CreateTriggerRequestMnqNatsClientConfig(subject="s", mnq_nats_account_id="ACC", mnq_project_id=DEFAULT_PROJECT,
                                                                mnq_region="fr-par"),
    )  # fmt: skip
    v1_domain = expect(slow.post(f"{C1}/domains", {"container_id": cid, "hostname": hostname("slow1")}), 200)
    v1_trigger = s.c1.create_trigger(container_id=cid, name="slow-cron",
                                     cron_config=CreateTriggerRequestCronConfig(schedule="5 4 * * *", timezone="Europe/Paris", body="", headers={}))

    assert expect(slow.get(f"{CB}/crons/{cron.id}"), 200)["status"] == "pending"
    d = expect(slow.get(f"{CB}/domains/{b1_domain.id}"), 200)
    assert (d["status"], d["url"], d["error_message"]) == ("pending", "", None)
    t = expect(slow.get(f"{CB}/triggers/{b1_trigger.id}"), 200)
    assert (t["status"], t["scw_nats_config"]["mnq_credential_id"]) == ("pending", None)  # containers say `pending`
    d1 = expect(slow.get(f"{C1}/domains/{v1_domain['id']}"), 200)
    assert d1["status"] == "creating" and "error_message" not in d1 and d1["updated_at"] == d1["created_at"]
    t1 = expect(slow.get(f"{C1}/triggers/{v1_trigger.id}"), 200)
    assert t1["status"] == "creating" and "error_message" not in t1
    # the cron seen as a v1 trigger is creating too
    assert expect(slow.get(f"{C1}/triggers/{cron.id}"), 200)["status"] == "creating"

    with ThreadPoolExecutor(max_workers=5) as pool:
        jobs = {
            "cron": pool.submit(s.cb.wait_for_cron, cron_id=cron.id),
            "b1_domain": pool.submit(s.cb.wait_for_domain, domain_id=b1_domain.id),
            "b1_trigger": pool.submit(s.cb.wait_for_trigger, trigger_id=b1_trigger.id),
            "v1_domain": pool.submit(s.c1.wait_for_domain, domain_id=v1_domain["id"]),
            "v1_trigger": pool.submit(s.c1.wait_for_trigger, trigger_id=v1_trigger.id),
        }
        done = {k: v.result(timeout=30) for k, v in jobs.items()}
    assert {k: v.status for k, v in done.items()} == dict.fromkeys(jobs, "ready")
    assert done["b1_domain"].url == f"https://{b1_domain.hostname}"
    assert UUID_RE.match(done["b1_trigger"].scw_nats_config.mnq_credential_id)
    assert (done["v1_domain"].error_message, done["v1_trigger"].error_message) == ("", "")

    settled = expect(slow.get(f"{C1}/domains/{v1_domain['id']}"), 200)
    assert settled["updated_at"] == ceil_second(v1_domain["created_at"], plus=SLOW_DELAY)  # whole seconds after the delay

    # a config PATCH is `updating` for the delay, a name PATCH is not
    upd = s.c1.update_trigger(trigger_id=v1_trigger.id, cron_config=UpdateTriggerRequestCronConfig(schedule="0 * * * *"))
    assert upd.status == "updating" and s.c1.get_trigger(trigger_id=v1_trigger.id).status == "updating"
    assert expect(slow.patch(f"{C1}/triggers/{v1_trigger.id}", {"name": "renamed"}), 200)["status"] == "updating"
    assert s.c1.wait_for_trigger(trigger_id=v1_trigger.id).status == "ready"
    assert s.c1.update_trigger(trigger_id=v1_trigger.id, name="again").status == "ready"


# --- validation the mock must not relax -----------------------------------------------------------------------------


def test_v1_cron_timezone_must_be_an_iana_name(server, sdk, cid):
    base = {"container_id": cid, "name": "tz"}
    for timezone in ("Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+2"):
        t = expect(server.post(f"{C1}/triggers", {**base, "cron_config": {"schedule": "5 4 * * *", "timezone": timezone}}), 200)
        assert t["cron_config"]["timezone"] == timezone
    # offsets and ICU custom ids are not IANA time zone names (Go's time.LoadLocation rejects them too)
    for timezone in ("Mars/Olympus", "europe/paris", "", "+02:00", "GMT+2", "UTC+01:00"):
        r = server.post(f"{C1}/triggers", {**base, "cron_config": {"schedule": "5 4 * * *", "timezone": timezone}})
        assert (r.status_code, r.json()) == (400, TIMEZONE_ERROR), timezone


def test_v1beta1_cron_args_must_be_a_json_object(server, sdk, cid):
    # `args` is a JSON object (protobuf Struct; SDKs type it as a map): other JSON values are refused
    for args in ([1, 2], "text", 3, True):
        r = server.post(f"{CB}/crons", {"container_id": cid, "schedule": "5 4 * * *", "args": args})
        assert r.status_code == 400 and r.json()["type"] == "invalid_arguments", (args, r.status_code, r.text)
        assert r.json()["details"][0]["argument_name"] == "args", r.text


def test_v1_cron_trigger_with_a_non_object_body_reads_as_a_cron_with_object_args(server, sdk, cid):
    # a v1 body is any string, but v1beta1 readers (Go SDK `*scw.JSONObject`, Python `dict`) need `args` to be an object
    for body in ("", "hello", "[1,2]"):
        t = sdk.c1.create_trigger(container_id=cid, name="b", cron_config=CreateTriggerRequestCronConfig(
            schedule="5 4 * * *", timezone="UTC", body=body, headers={}))
        cron = expect(server.get(f"{CB}/crons/{t.id}"), 200)
        assert isinstance(cron["args"], dict), (body, cron["args"])


# --- audit fixes: PATCH sentinels, foreign configs, list filters, cron PATCH status ----------------------------------


def test_c1_update_trigger_only_http_path_through_the_sdk(server, sdk, cid):
    t = sdk.c1.create_trigger(container_id=cid, name="path-only",
                              destination_config=CreateTriggerRequestDestinationConfig(http_path="/old", http_method="put"),
                              cron_config=CreateTriggerRequestCronConfig(schedule="5 4 * * *", timezone="UTC", body="", headers={}))  # fmt: skip
    # the SDK sends http_method "unknown_http_method" here: it means "leave as is"
    upd = sdk.c1.update_trigger(trigger_id=t.id, destination_config=UpdateTriggerRequestDestinationConfig(http_path="/new"))
    assert (upd.destination_config.http_path, upd.destination_config.http_method) == ("/new", "put")
    got = sdk.c1.get_trigger(trigger_id=t.id)
    assert (got.destination_config.http_path, got.destination_config.http_method) == ("/new", "put")


def test_c1_trigger_patch_with_another_source_types_config_is_refused(server, sdk, cid):
    sqs = sdk.c1.create_trigger(
        container_id=cid, name="sqs-only",
        sqs_config=CreateTriggerRequestSQSConfig(region="fr-par", endpoint="https://sqs.mnq.fr-par.scaleway.com", access_key_id="AK",
                                                 secret_access_key="S", queue_url="https://sqs.mnq.fr-par.scaleway.com/p/Q"),
    )  # fmt: skip
    body = expect(server.patch(f"{C1}/triggers/{sqs.id}", {"name": "renamed", "nats_config": {"subject": "s"}}), 400)
    assert body["type"] == "invalid_arguments" and body["details"][0]["argument_name"] == "nats_config"
    got = expect(server.get(f"{C1}/triggers/{sqs.id}"), 200)
    assert (got["name"], got["source_type"], "nats_config" in got) == ("sqs-only", "sqs", False)

    scw = sdk.cb.create_trigger(name="scw", container_id=cid,
                                scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="q", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par"))  # fmt: skip
    status, body = sdk_error(sdk.c1.update_trigger, trigger_id=scw.id, sqs_config=UpdateTriggerRequestSQSConfig(access_key_id="AK2"))
    assert status == 400 and body["details"][0]["argument_name"] == "sqs_config"
    assert sdk.cb.get_trigger(trigger_id=scw.id).scw_sqs_config.queue == "q"


def test_c1_trigger_type_matches_v1beta1_platform_triggers(server, sdk, cid):
    scw_sqs = sdk.cb.create_trigger(name="a", container_id=cid,
                                    scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="q", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par"))  # fmt: skip
    scw_nats = sdk.cb.create_trigger(
        name="b", container_id=cid,
        scw_nats_config=CreateTriggerRequestMnqNatsClientConfig(subject="s", mnq_nats_account_id="ACC", mnq_project_id=DEFAULT_PROJECT,
                                                                mnq_region="fr-par"),
    )  # fmt: skip
    assert [t.id for t in sdk.c1.list_triggers(container_id=cid, trigger_type="sqs").triggers] == [scw_sqs.id]
    assert [t.id for t in sdk.c1.list_triggers(container_id=cid, trigger_type="nats").triggers] == [scw_nats.id]
    assert sdk.c1.list_triggers(container_id=cid, trigger_type="cron").total_count == 0


def test_trigger_and_domain_lists_apply_project_filters(server, sdk, other_sdk, cid):
    t = sdk.c1.create_trigger(container_id=cid, name="p", cron_config=CreateTriggerRequestCronConfig(schedule="5 4 * * *", timezone="UTC",
                                                                                                     body="", headers={}))  # fmt: skip
    d = sdk.c1.create_domain(container_id=cid, hostname=hostname("proj"))
    assert [x.id for x in sdk.c1.list_triggers(container_id=cid, project_id=DEFAULT_PROJECT).triggers] == [t.id]
    assert [x.id for x in sdk.c1.list_domains(container_id=cid, project_id=DEFAULT_PROJECT).domains] == [d.id]
    # a project outside the key's scope: the same 403 as a container list
    for api, project in ((other_sdk, DEFAULT_PROJECT), (sdk, OTHER_PROJECT)):
        for call in (api.c1.list_triggers, api.c1.list_domains, api.cb.list_triggers, api.c1.list_containers):
            status, body = sdk_error(call, project_id=project)
            assert (status, body["type"], body["message"]) == (403, "permissions_denied", "insufficient permissions"), call


def test_cb_cron_patch_goes_pending_then_ready(slow):
    s = make_sdk(slow)
    ns = ready_namespace(slow, "cb")
    cid = new_cb_container(slow, ns["id"])["id"]
    cron = s.cb.wait_for_cron(cron_id=s.cb.create_cron(container_id=cid, schedule="5 4 * * *").id)
    assert cron.status == "ready"
    assert s.cb.update_cron(cron_id=cron.id, name="renamed").status == "pending"  # even a name-only PATCH
    assert expect(slow.get(f"{CB}/crons/{cron.id}"), 200)["status"] == "pending"
    assert s.cb.wait_for_cron(cron_id=cron.id).status == "ready"


ORG_WIDE_SEED = f"""
projects:
  - id: 55555555-5555-4555-8555-555555555555
    organization_id: {DEFAULT_PROJECT}
    name: second
api_keys:
  - access_key: SCWORGWIDE0000000000
    secret_key: 66666666-6666-4666-8666-666666666666
    organization_id: {DEFAULT_PROJECT}
    default_project_id: {DEFAULT_PROJECT}
"""


def test_trigger_and_domain_lists_filter_by_project_for_an_organization_wide_key(server_factory, tmp_path):
    from support import Key

    seed = tmp_path / "org-wide.yaml"
    seed.write_text(ORG_WIDE_SEED)
    srv = server_factory(extra_seeds=[seed])
    second = "55555555-5555-4555-8555-555555555555"
    s = make_sdk(srv, Key("SCWORGWIDE0000000000", "66666666-6666-4666-8666-666666666666", DEFAULT_PROJECT))
    ids = {}
    for project in (DEFAULT_PROJECT, second):
        ns = s.cb.create_namespace(name=uniq("proj"), project_id=project)
        cid = s.cb.create_container(namespace_id=ns.id, name=uniq("c")[:20]).id
        ids[project] = (
            s.c1.create_trigger(container_id=cid, name="t", cron_config=CreateTriggerRequestCronConfig(schedule="5 4 * * *", timezone="UTC",
                                                                                                     body="", headers={})).id,
            s.cb.create_trigger(name="b", container_id=cid, scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(
                queue="q", mnq_project_id=project, mnq_region="fr-par")).id,
            s.c1.create_domain(container_id=cid, hostname=hostname("proj")).id,
        )  # fmt: skip
    for project, (v1_trigger, b1_trigger, domain) in ids.items():
        assert {t.id for t in s.c1.list_triggers_all(project_id=project)} == {v1_trigger, b1_trigger}
        assert [t.id for t in s.cb.list_triggers_all(project_id=project)] == [b1_trigger]
        assert [d.id for d in s.c1.list_domains_all(project_id=project)] == [domain]
    everything = expect(srv.get(f"{C1}/triggers", token="66666666-6666-4666-8666-666666666666"), 200)
    assert everything["total_count"] == 4
