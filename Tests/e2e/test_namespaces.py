"""Namespaces through the official Scaleway Python SDK (ContainerV1Beta1API, ContainerV1API, FunctionV1Beta1API)."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from scaleway.container.v1beta1 import Secret as CbSecret
from scaleway.function.v1beta1 import Secret as FnSecret
from scaleway_core.api import ScalewayException

from support import (
    ALL_APIS,
    ARGON_V1_PREFIX,
    ARGON_V1BETA1_PREFIX,
    BETA_APIS,
    DEFAULT_ORG,
    DEFAULT_PROJECT,
    OTHER_KEY,
    OTHER_PROJECT,
    OTHER_SECRET_KEY,
    UUID_RE,
    make_sdk,
    not_found_body,
    registry_prefix,
    sdk_wait_ready,
    uniq,
    verifies,
)

SECRET_CLS = {"cb": CbSecret, "fn": FnSecret}
TRANSIENT_AFTER_CREATE = {"cb": "pending", "c1": "creating", "fn": "pending"}
TRANSIENT_AFTER_UPDATE = {"cb": "pending", "c1": "updating", "fn": "pending"}


def beta_secrets(ns) -> dict[str, str]:
    """v1beta1 [{key, hashed_value}] -> {key: hash} (order checked separately where it matters)."""
    return {s.key: s.hashed_value for s in ns.secret_environment_variables}


def secrets_of(api: str, ns) -> dict[str, str]:
    return dict(ns.secret_environment_variables) if api == "c1" else beta_secrets(ns)


def create(sdk, api: str, name: str | None = None, **kw):
    return sdk.api(api).create_namespace(name=name or uniq(api), **kw)


# --- create / get ----------------------------------------------------------------------------------------------------


def test_v1beta1_container_namespace_create_then_get(sdk):
    name = uniq("cb-create")
    ns = sdk.cb.create_namespace(
        name=name,
        description="my description",
        environment_variables={"A": "1", "B_2": "two"},
        secret_environment_variables=[CbSecret(key="S1", value="first_secret"), CbSecret(key="S2", value="second")],
        tags=["t1", "t2"],
    )
    assert ns.status == "pending"
    assert ns.name == name
    assert ns.description == "my description"
    assert ns.environment_variables == {"A": "1", "B_2": "two"}
    assert ns.tags == ["t1", "t2"]
    assert ns.project_id == DEFAULT_PROJECT
    assert ns.organization_id == DEFAULT_ORG
    assert ns.region == "fr-par"
    assert UUID_RE.match(ns.id)
    assert ns.registry_namespace_id == ""
    assert ns.registry_endpoint == ""
    assert ns.error_message is None
    assert ns.vpc_integration_activated is False
    assert [s.key for s in ns.secret_environment_variables] == ["S1", "S2"]
    hashes = beta_secrets(ns)
    for key, plain in (("S1", "first_secret"), ("S2", "second")):
        assert hashes[key].startswith(ARGON_V1BETA1_PREFIX), hashes[key]
        assert verifies(hashes[key], plain)
    assert not verifies(hashes["S1"], "second")

    got = sdk_wait_ready(sdk.cb, ns.id)
    assert got.id == ns.id and got.name == name
    assert got.registry_endpoint == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(name)}{ns.id[:8]}"
    assert UUID_RE.match(got.registry_namespace_id)
    assert got.registry_namespace_id != ns.id
    assert beta_secrets(got) == hashes
    assert got.environment_variables == {"A": "1", "B_2": "two"}
    assert got.tags == ["t1", "t2"]
    assert got.error_message is None


def test_v1beta1_registry_prefix_is_first_20_alnum_chars_plus_id(sdk):
    name = "abcdefghij-klmnopqrst-" + uuid.uuid4().hex[:12]
    ns = sdk.cb.create_namespace(name=name)
    got = sdk_wait_ready(sdk.cb, ns.id)
    assert got.registry_endpoint == f"rg.fr-par.scw.cloud/funcscwabcdefghijklmnopqrst{ns.id[:8]}"


def test_v1beta1_registry_endpoint_uses_region(sdk):
    name = uniq("ams")
    ns = sdk.cb.create_namespace(name=name, region="nl-ams")
    assert ns.region == "nl-ams"
    got = sdk_wait_ready(sdk.cb, ns.id, region="nl-ams")
    assert got.registry_endpoint == f"rg.nl-ams.scw.cloud/funcscw{registry_prefix(name)}{ns.id[:8]}"


def test_v1_container_namespace_create_then_get(sdk):
    name = uniq("c1-create")
    ns = sdk.c1.create_namespace(
        name=name,
        description="v1 ns",
        environment_variables={"FOO": "bar"},
        secret_environment_variables={"SECRET_1": "value1", "SECRET_2": "value2"},
        tags=["a"],
    )
    assert ns.status == "creating"
    assert ns.name == name
    assert ns.description == "v1 ns"
    assert ns.environment_variables == {"FOO": "bar"}
    assert ns.tags == ["a"]
    assert ns.project_id == DEFAULT_PROJECT and ns.organization_id == DEFAULT_ORG
    assert ns.region == "fr-par"
    assert ns.error_message is None
    assert sorted(ns.secret_environment_variables) == ["SECRET_1", "SECRET_2"]
    for key, plain in (("SECRET_1", "value1"), ("SECRET_2", "value2")):
        h = ns.secret_environment_variables[key]
        assert h.startswith(ARGON_V1_PREFIX), h
        assert verifies(h, plain)

    got = sdk_wait_ready(sdk.c1, ns.id)
    assert got.secret_environment_variables == ns.secret_environment_variables
    assert got.environment_variables == {"FOO": "bar"}


def test_function_namespace_create_then_get(sdk):
    name = uniq("fn-create")
    ns = sdk.fn.create_namespace(
        name=name,
        environment_variables={"X": "y"},
        secret_environment_variables=[FnSecret(key="TOKEN", value="bar_secret")],
    )
    assert ns.status == "pending"
    assert ns.registry_endpoint == "" and ns.registry_namespace_id == ""
    assert ns.error_message is None
    assert ns.project_id == DEFAULT_PROJECT
    [secret] = ns.secret_environment_variables
    assert secret.key == "TOKEN"
    assert secret.hashed_value.startswith(ARGON_V1BETA1_PREFIX)
    assert verifies(secret.hashed_value, "bar_secret")

    got = sdk_wait_ready(sdk.fn, ns.id)
    assert re.fullmatch(rf"rg\.fr-par\.scw\.cloud/funcscw{registry_prefix(name)}[a-z0-9]{{8}}", got.registry_endpoint), (
        got.registry_endpoint
    )
    # functions use a random suffix, not the id
    assert UUID_RE.match(got.registry_namespace_id) and got.registry_namespace_id != ns.id
    assert beta_secrets(got) == {"TOKEN": secret.hashed_value}


def test_container_namespace_is_shared_by_v1beta1_and_v1(sdk):
    beta = sdk.cb.create_namespace(
        name=uniq("shared-b"),
        environment_variables={"K": "v"},
        secret_environment_variables=[CbSecret(key="S", value="s1")],
    )
    via_v1 = sdk_wait_ready(sdk.c1, beta.id)
    assert via_v1.name == beta.name
    assert via_v1.environment_variables == {"K": "v"}
    assert via_v1.secret_environment_variables == beta_secrets(beta)

    v1 = sdk.c1.create_namespace(name=uniq("shared-1"), secret_environment_variables={"T": "t1"})
    via_beta = sdk_wait_ready(sdk.cb, v1.id)
    assert via_beta.name == v1.name
    assert beta_secrets(via_beta) == v1.secret_environment_variables
    assert via_beta.registry_endpoint == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(v1.name)}{v1.id[:8]}"


# --- update ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
def test_update_environment_variables_replaces_the_map(sdk, api):
    ns = create(sdk, api, environment_variables={"A": "1", "B": "2"})
    sdk_wait_ready(sdk.api(api), ns.id)

    upd = sdk.api(api).update_namespace(namespace_id=ns.id, environment_variables={"C": "3"})
    assert upd.status == TRANSIENT_AFTER_UPDATE[api]
    assert upd.environment_variables == {"C": "3"}
    got = sdk.api(api).get_namespace(namespace_id=ns.id)
    assert got.status == "ready"
    assert got.environment_variables == {"C": "3"}

    cleared = sdk.api(api).update_namespace(namespace_id=ns.id, environment_variables={})
    assert cleared.environment_variables == {}
    assert sdk.api(api).get_namespace(namespace_id=ns.id).environment_variables == {}


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_update_secrets_merges(sdk, api):
    Secret = SECRET_CLS[api]
    ns = create(
        sdk,
        api,
        environment_variables={"KEEP": "me"},
        secret_environment_variables=[Secret("S1", "a"), Secret("S2", "b"), Secret("S3", "c")],
    )
    before = beta_secrets(ns)
    sdk_wait_ready(sdk.api(api), ns.id)

    upd = sdk.api(api).update_namespace(
        namespace_id=ns.id,
        # value None is marshalled as {"key": "S1"}: delete S1
        secret_environment_variables=[Secret("S1", None), Secret("S2", "b2"), Secret("S4", "d")],
    )
    assert upd.status == "pending"
    after = beta_secrets(upd)
    assert set(after) == {"S2", "S3", "S4"}
    assert after["S3"] == before["S3"]  # unlisted: kept byte-identical
    assert after["S2"] != before["S2"]
    assert verifies(after["S2"], "b2") and not verifies(after["S2"], "b")
    assert verifies(after["S4"], "d")
    assert upd.environment_variables == {"KEEP": "me"}  # env untouched by a secrets-only patch

    got = sdk.api(api).get_namespace(namespace_id=ns.id)
    assert got.status == "ready"
    assert beta_secrets(got) == after


def test_v1_update_secrets_replaces_the_map(sdk):
    ns = sdk.c1.create_namespace(
        name=uniq("c1-sec"),
        secret_environment_variables={"SECRET_1": "first", "SECRET_2": "second", "SECRET_3": "third"},
    )
    before = dict(ns.secret_environment_variables)
    sdk_wait_ready(sdk.c1, ns.id)

    upd = sdk.c1.update_namespace(
        namespace_id=ns.id, secret_environment_variables={"SECRET_1": "", "SECRET_2": "updated_value2"}
    )
    assert upd.status == "updating"
    assert sorted(upd.secret_environment_variables) == ["SECRET_1", "SECRET_2"]  # SECRET_3 dropped
    assert upd.secret_environment_variables["SECRET_1"] == before["SECRET_1"]  # "" keeps the hash byte-identical
    assert upd.secret_environment_variables["SECRET_2"] != before["SECRET_2"]
    assert verifies(upd.secret_environment_variables["SECRET_2"], "updated_value2")
    got = sdk.c1.get_namespace(namespace_id=ns.id)
    assert got.status == "ready"
    assert got.secret_environment_variables == upd.secret_environment_variables

    second = sdk.c1.update_namespace(
        namespace_id=ns.id, secret_environment_variables={"SECRET_2": "", "SECRET_KEY_1": "value1"}
    )
    assert sorted(second.secret_environment_variables) == ["SECRET_2", "SECRET_KEY_1"]
    assert second.secret_environment_variables["SECRET_2"] == upd.secret_environment_variables["SECRET_2"]
    assert second.secret_environment_variables["SECRET_KEY_1"].startswith(ARGON_V1_PREFIX)
    assert verifies(second.secret_environment_variables["SECRET_KEY_1"], "value1")

    # field absent: untouched
    desc = sdk.c1.update_namespace(namespace_id=ns.id, description="only description")
    assert desc.secret_environment_variables == second.secret_environment_variables

    cleared = sdk.c1.update_namespace(namespace_id=ns.id, secret_environment_variables={})
    assert cleared.secret_environment_variables == {}
    assert sdk.c1.get_namespace(namespace_id=ns.id).secret_environment_variables == {}


def test_v1_update_environment_keeps_secrets(sdk):
    ns = sdk.c1.create_namespace(
        name=uniq("c1-env"), environment_variables={"A": "1"}, secret_environment_variables={"S": "x"}
    )
    sdk_wait_ready(sdk.c1, ns.id)
    upd = sdk.c1.update_namespace(namespace_id=ns.id, environment_variables={"B": "2"})
    assert upd.status == "updating"
    assert upd.environment_variables == {"B": "2"}
    assert upd.secret_environment_variables == ns.secret_environment_variables


def test_v1_update_description_and_tags_only_stays_ready(sdk):
    ns = sdk.c1.create_namespace(
        name=uniq("c1-desc"), environment_variables={"A": "1"}, secret_environment_variables={"S": "x"}
    )
    sdk_wait_ready(sdk.c1, ns.id)
    upd = sdk.c1.update_namespace(namespace_id=ns.id, description="new description", tags=["x", "y"])
    assert upd.status == "ready"
    assert upd.description == "new description"
    assert upd.tags == ["x", "y"]
    assert upd.environment_variables == {"A": "1"}
    assert upd.secret_environment_variables == ns.secret_environment_variables
    got = sdk.c1.get_namespace(namespace_id=ns.id)
    assert (got.status, got.description, got.tags) == ("ready", "new description", ["x", "y"])


@pytest.mark.parametrize("api", ALL_APIS)
def test_update_moves_updated_at_forward(sdk, api):
    ns = create(sdk, api)
    got = sdk.api(api).get_namespace(namespace_id=ns.id)
    upd = sdk.api(api).update_namespace(namespace_id=ns.id, description="changed")
    assert upd.description == "changed"
    # the PATCH answer has 9 digits (truncated to µs by the SDK), the GET 6 rounded ones
    assert abs((upd.created_at - got.created_at).total_seconds()) <= 1e-6
    assert upd.updated_at > got.updated_at


# --- delete ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
def test_delete_returns_deleting_then_404(sdk, api):
    ns = create(sdk, api, environment_variables={"A": "1"})
    deleted = sdk.api(api).delete_namespace(namespace_id=ns.id)
    assert deleted.id == ns.id
    assert deleted.name == ns.name
    assert deleted.status == "deleting"
    assert deleted.environment_variables == {"A": "1"}

    with pytest.raises(ScalewayException) as get_err:
        sdk.api(api).get_namespace(namespace_id=ns.id)
    assert get_err.value.status_code == 404
    assert get_err.value.response.json() == not_found_body(api, ns.id)

    with pytest.raises(ScalewayException) as del_err:
        sdk.api(api).delete_namespace(namespace_id=ns.id)
    assert del_err.value.status_code == 404
    assert del_err.value.response.json() == not_found_body(api, ns.id)

    with pytest.raises(ScalewayException) as patch_err:
        sdk.api(api).update_namespace(namespace_id=ns.id, description="x")
    assert patch_err.value.status_code == 404

    assert ns.id not in {n.id for n in sdk.api(api).list_namespaces_all(name=None)}


# --- waiters ---------------------------------------------------------------------------------------------------------


def test_wait_for_namespace_returns_ready(sdk):
    """The SDK waiter sleeps at least 1 s before its first read: the three APIs wait in parallel."""
    created = {api: create(sdk, api) for api in ALL_APIS}
    for api, ns in created.items():
        assert ns.status == TRANSIENT_AFTER_CREATE[api]
    with ThreadPoolExecutor(len(created)) as pool:
        futures = {api: pool.submit(sdk.api(api).wait_for_namespace, namespace_id=ns.id) for api, ns in created.items()}
        for api, future in futures.items():
            waited = future.result(timeout=60)
            assert (waited.status, waited.id) == ("ready", created[api].id), api


# --- lists (each test runs its own server so totals are exact) ----------------------------------------------------


def _create_named(sdk, api, names):
    return [sdk.api(api).create_namespace(name=n).id for n in names]


@pytest.mark.parametrize("api", ALL_APIS)
def test_list_paging_and_list_all(fresh_server, api):
    sdk = make_sdk(fresh_server)
    names = [f"e-{api}-pg", f"c-{api}-pg", f"a-{api}-pg", f"d-{api}-pg", f"b-{api}-pg"]
    ids = _create_named(sdk, api, names)
    a = sdk.api(api)

    for page, expected in ((1, ids[0:2]), (2, ids[2:4]), (3, ids[4:5]), (4, []), (99, [])):
        res = a.list_namespaces(page=page, page_size=2, order_by="created_at_asc")
        assert [n.id for n in res.namespaces] == expected, f"page {page}"
        assert res.total_count == 5, f"page {page}"

    assert [n.id for n in a.list_namespaces_all(page_size=2)] == ids
    # without page_size the helper stops only on an empty page
    assert [n.id for n in a.list_namespaces_all()] == ids

    everything = a.list_namespaces()
    assert everything.total_count == 5
    assert [n.id for n in everything.namespaces] == ids  # default order created_at_asc
    assert {n.project_id for n in everything.namespaces} == {DEFAULT_PROJECT}


@pytest.mark.parametrize("api", ALL_APIS)
def test_list_order_by(fresh_server, api):
    sdk = make_sdk(fresh_server)
    names = [f"c-{api}-ord", f"a-{api}-ord", f"d-{api}-ord", f"b-{api}-ord"]
    ids = _create_named(sdk, api, names)
    by_name = [i for _, i in sorted(zip(names, ids))]
    a = sdk.api(api)

    def listed(order):
        res = a.list_namespaces(order_by=order)
        assert res.total_count == 4
        return [n.id for n in res.namespaces]

    assert listed("created_at_asc") == ids
    assert listed("created_at_desc") == ids[::-1]
    assert listed("name_asc") == by_name
    assert listed("name_desc") == by_name[::-1]
    # order and paging combine
    assert [n.id for n in a.list_namespaces_all(order_by="name_desc", page_size=3)] == by_name[::-1]


@pytest.mark.parametrize("api", ALL_APIS)
def test_list_default_and_maximum_page_size(fresh_server, api):
    ids = [fresh_server.create_ns(api, {"name": f"n{i:02d}-{api}"})["id"] for i in range(21)]

    default = fresh_server.list_ns(api)
    assert default["total_count"] == 21
    assert [n["id"] for n in default["namespaces"]] == ids[:20]

    zero = fresh_server.list_ns(api, page_size=0)
    assert [n["id"] for n in zero["namespaces"]] == ids[:20]
    assert zero["total_count"] == 21

    page2 = fresh_server.list_ns(api, page=2)
    assert [n["id"] for n in page2["namespaces"]] == ids[20:]
    assert page2["total_count"] == 21

    hundred = fresh_server.list_ns(api, page_size=100)
    assert [n["id"] for n in hundred["namespaces"]] == ids
    assert fresh_server.list_ns(api, page_size=100, page=2) == {"namespaces": [], "total_count": 21}


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_name_filter_is_case_insensitive_substring(fresh_server, api):
    sdk = make_sdk(fresh_server)
    alpha, beta, alphabet = _create_named(sdk, api, ["alpha-one", "beta-two", "alphabet-three"])
    a = sdk.api(api)

    res = a.list_namespaces(name="ALPHA")
    assert [n.id for n in res.namespaces] == [alpha, alphabet]
    assert res.total_count == 2

    res = a.list_namespaces(name="Two")
    assert [n.id for n in res.namespaces] == [beta]
    assert res.total_count == 1

    assert [n.id for n in a.list_namespaces_all(name="t-t")] == [alphabet]
    res = a.list_namespaces(name="zzz")
    assert (res.namespaces, res.total_count) == ([], 0)
    # filter + paging: total_count counts the matches, not the page
    res = a.list_namespaces(name="alpha", page_size=1, page=2)
    assert [n.id for n in res.namespaces] == [alphabet]
    assert res.total_count == 2


def test_v1_ignores_name_filter(fresh_server):
    sdk = make_sdk(fresh_server)
    ids = _create_named(sdk, "c1", ["alpha-one", "beta-two", "alphabet-three"])
    res = sdk.c1.list_namespaces(name="alpha")
    assert [n.id for n in res.namespaces] == ids
    assert res.total_count == 3
    res = sdk.c1.list_namespaces(name="zzz")
    assert res.total_count == 3


@pytest.mark.parametrize("api", ALL_APIS)
def test_list_project_and_organization_filters(fresh_server, api):
    mine = make_sdk(fresh_server)
    theirs = make_sdk(fresh_server, OTHER_KEY)
    p1 = mine.api(api).create_namespace(name=f"p1-{api}")
    p2 = theirs.api(api).create_namespace(name=f"p2-{api}")
    assert (p1.project_id, p1.organization_id) == (DEFAULT_PROJECT, DEFAULT_ORG)
    assert (p2.project_id, p2.organization_id) == (OTHER_PROJECT, OTHER_PROJECT)

    res = mine.api(api).list_namespaces(project_id=DEFAULT_PROJECT)
    assert ([n.id for n in res.namespaces], res.total_count) == ([p1.id], 1)
    res = mine.api(api).list_namespaces(organization_id=DEFAULT_ORG)
    assert ([n.id for n in res.namespaces], res.total_count) == ([p1.id], 1)
    res = theirs.api(api).list_namespaces()  # SDK sends project_id=<its default project>
    assert ([n.id for n in res.namespaces], res.total_count) == ([p2.id], 1)
    res = theirs.api(api).list_namespaces(organization_id=OTHER_PROJECT)
    assert ([n.id for n in res.namespaces], res.total_count) == ([p2.id], 1)

    # no filters at all (raw): each key only sees its own project
    raw_mine = fresh_server.list_ns(api)
    assert [n["id"] for n in raw_mine["namespaces"]] == [p1.id]
    raw_theirs = fresh_server.list_ns(api, token=OTHER_SECRET_KEY)
    assert [n["id"] for n in raw_theirs["namespaces"]] == [p2.id]
    assert raw_theirs["total_count"] == 1
