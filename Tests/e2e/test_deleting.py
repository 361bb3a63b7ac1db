"""`DELETE` then `GET`: on Scaleway a deleted resource reads as `deleting` for a few seconds before its `GET` answers
404. Under `--transition-delay`, the mock keeps every deleted namespace, container, function, cron, domain and trigger
readable by id as `deleting` for that long (mock time), on both API versions, so that the SDKs' `wait_for_*` helpers and
post-delete waits (Ansible's modules poll `GET` until 404) see the deletion happen. Without a delay, 404 comes at once.

What a user sees, with `scw-mock serve --transition-delay 2`:
    DELETE /containers/v1/regions/fr-par/containers/{id}   -> 200 {"status": "deleting", ...}
    GET    /containers/v1/regions/fr-par/containers/{id}   -> 200 {"status": "deleting", ...}   (for 2 seconds)
    GET    /containers/v1/regions/fr-par/containers/{id}   -> 404
"""
import time

import pytest
from scaleway_core.api import ScalewayException

from attach_support import C1, CB, FN, expect
from support import ServerFactory, make_sdk, uniq, wait_until

DELAY = 2.0


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("scw-mock-deleting"))
    srv = factory(transition_delay=DELAY)
    yield srv
    factory.stop_all()


def created(srv, path, body):
    return expect(srv.post(path, body), 200)["id"]


def ready(srv, path):
    assert wait_until(lambda: srv.get(path).json().get("status") == "ready", DELAY + 10), srv.get(path).text


def test_every_resource_reads_as_deleting_for_the_delay_then_404(slow):
    # One of each resource, on each API that serves it.
    namespaces = {api: created(slow, f"{base}/namespaces", {"name": uniq(api), "project_id": "00000000-0000-4000-8000-000000000001"})
                  for api, base in (("cb", CB), ("c1", C1), ("fn", FN))}
    for api, base in (("cb", CB), ("c1", C1), ("fn", FN)):
        ready(slow, f"{base}/namespaces/{namespaces[api]}")
    spare = {api: created(slow, f"{base}/namespaces", {"name": uniq("spare"), "project_id": "00000000-0000-4000-8000-000000000001"})
             for api, base in (("c1", C1), ("fn", FN))}
    cb_container = created(slow, f"{CB}/containers", {"namespace_id": namespaces["cb"], "name": uniq("cb")})
    c1_container = created(slow, f"{C1}/containers", {"namespace_id": namespaces["c1"], "name": uniq("c1"), "image": "nginx:latest"})
    function = created(slow, f"{FN}/functions", {"namespace_id": namespaces["fn"], "name": uniq("fn"), "runtime": "python311"})
    resources = {
        "cb cron": f"{CB}/crons/" + created(slow, f"{CB}/crons", {"container_id": cb_container, "schedule": "5 4 * * *"}),
        "fn cron": f"{FN}/crons/" + created(slow, f"{FN}/crons", {"function_id": function, "schedule": "5 4 * * *"}),
        "cb domain": f"{CB}/domains/" + created(slow, f"{CB}/domains", {"container_id": cb_container, "hostname": f"{uniq('d')}.example.com"}),
        "c1 domain": f"{C1}/domains/" + created(slow, f"{C1}/domains", {"container_id": c1_container, "hostname": f"{uniq('d')}.example.com"}),
        "cb trigger": f"{CB}/triggers/" + created(slow, f"{CB}/triggers", {
            "name": uniq("t"), "container_id": cb_container,
            "scw_nats_config": {"subject": "s", "mnq_nats_account_id": "AD6CMPHV", "mnq_project_id": "00000000-0000-4000-8000-000000000001",
                                "mnq_region": "fr-par"}}),
        "c1 trigger": f"{C1}/triggers/" + created(slow, f"{C1}/triggers", {
            "name": uniq("t"), "container_id": c1_container, "cron_config": {"schedule": "5 4 * * *", "timezone": "UTC"}}),
        "cb container": f"{CB}/containers/{cb_container}",
        "c1 container": f"{C1}/containers/{c1_container}",
        "function": f"{FN}/functions/{function}",
        "cb namespace": f"{CB}/namespaces/{spare['c1']}",  # v1beta1 serves the same container namespaces
        "c1 namespace": f"{C1}/namespaces/{namespaces['c1']}",
        "fn namespace": f"{FN}/namespaces/{spare['fn']}",
    }
    for path in resources.values():
        if "/crons/" not in path and "/containers/" not in path and "/functions/" not in path:
            ready(slow, path)

    # Attachments and applications first, then the namespaces that hold none of them any more.
    for name, path in resources.items():
        gone = expect(slow.delete(path), 200)
        assert gone["status"] == "deleting", (name, gone)
    deleted_at = time.monotonic()
    for name, path in resources.items():
        r = slow.get(path)
        assert r.status_code == 200 and r.json()["status"] == "deleting", (name, r.status_code, r.text)
        assert slow.delete(path).status_code == 404, name  # the row is gone: a second DELETE finds nothing
    assert time.monotonic() - deleted_at < DELAY - 0.5, "the reads took too long to see the window"

    assert wait_until(lambda: all(slow.get(p).status_code == 404 for p in resources.values()), DELAY + 5)
    assert time.monotonic() - deleted_at >= DELAY - 0.3


def test_the_sdk_waiter_polls_through_deleting_until_404(slow):
    sdk = make_sdk(slow)
    ns = sdk.c1.create_namespace(name=uniq("w"))
    sdk.c1.wait_for_namespace(namespace_id=ns.id)
    c = sdk.c1.create_container(namespace_id=ns.id, name=uniq("w"), image="nginx:latest")
    sdk.c1.wait_for_container(container_id=c.id)
    assert sdk.c1.delete_container(container_id=c.id).status == "deleting"
    started = time.monotonic()
    assert sdk.c1.get_container(container_id=c.id).status == "deleting"
    with pytest.raises(ScalewayException) as gone:
        sdk.c1.wait_for_container(container_id=c.id)  # polls while `deleting` (a transient status), then 404
    assert gone.value.status_code == 404
    assert time.monotonic() - started >= DELAY - 0.5, "the waiter saw 404 before the deletion's delay was over"


def test_a_reset_forgets_deletions_in_progress(slow):
    ns = created(slow, f"{C1}/namespaces", {"name": uniq("r"), "project_id": "00000000-0000-4000-8000-000000000001"})
    ready(slow, f"{C1}/namespaces/{ns}")
    expect(slow.delete(f"{C1}/namespaces/{ns}"), 200)
    assert slow.get(f"{C1}/namespaces/{ns}").json()["status"] == "deleting"
    expect(slow.post("/_mock/reset", {}), 200)
    assert slow.get(f"{C1}/namespaces/{ns}").status_code == 404


def test_another_tenant_cannot_read_a_deletion(slow):
    """The deleting window answers only the caller who could read the resource before: another organization's key
    gets the same refusal for a deleted container as for a live one, and never its body."""
    from support import OTHER_SECRET_KEY

    ns = created(slow, f"{C1}/namespaces", {"name": uniq("t"), "project_id": "00000000-0000-4000-8000-000000000001"})
    ready(slow, f"{C1}/namespaces/{ns}")
    cid = created(slow, f"{C1}/containers", {"namespace_id": ns, "name": uniq("t"), "image": "nginx:latest"})
    live = slow.get(f"{C1}/containers/{cid}", token=OTHER_SECRET_KEY)
    assert live.status_code in (403, 404), live.text
    expect(slow.delete(f"{C1}/containers/{cid}"), 200)
    assert slow.get(f"{C1}/containers/{cid}").json()["status"] == "deleting"
    gone = slow.get(f"{C1}/containers/{cid}", token=OTHER_SECRET_KEY)
    assert (gone.status_code, gone.json()) == (live.status_code, live.json())
