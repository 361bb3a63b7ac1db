"""Authentication (401) and project scoping (403), raw and through the SDK."""

from __future__ import annotations

import pytest
from scaleway_core.api import ScalewayException

from support import (
    ALL_APIS,
    DEFAULT_ACCESS_KEY,
    DEFAULT_PROJECT,
    DEFAULT_SECRET_KEY,
    EXPIRED_KEY,
    EXPIRED_SECRET_KEY,
    OTHER_PROJECT,
    OTHER_SECRET_KEY,
    UNKNOWN_SECRET_KEY,
    Key,
    denied,
    make_sdk,
    ns_path,
    permissions_denied,
    sdk_wait_ready,
    uniq,
)

BAD_TOKENS = [
    (None, "invalid_argument"),
    ("", "invalid_argument"),
    ("abc", "invalid_argument"),
    (DEFAULT_ACCESS_KEY, "invalid_argument"),
    (f"Bearer {DEFAULT_SECRET_KEY}", "invalid_argument"),
    (DEFAULT_SECRET_KEY + "0", "invalid_argument"),
    (DEFAULT_SECRET_KEY.replace("-", ""), "invalid_argument"),
    (UNKNOWN_SECRET_KEY, "not_found"),
    (EXPIRED_SECRET_KEY, "expired"),
]
BAD_TOKEN_IDS = ["missing", "empty", "garbage", "access-key", "bearer", "too-long", "no-dashes", "unknown", "expired"]


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("token,reason", BAD_TOKENS, ids=BAD_TOKEN_IDS)
def test_bad_tokens_on_list(server, api, token, reason):
    r = server.get(ns_path(api), token=token)
    assert r.status_code == 401, r.text
    assert r.json() == denied(reason)
    assert r.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize(
    "token,reason",
    [(None, "invalid_argument"), (UNKNOWN_SECRET_KEY, "not_found"), (EXPIRED_SECRET_KEY, "expired")],
    ids=["missing", "unknown", "expired"],
)
def test_bad_tokens_on_every_method_leave_the_namespace_alone(server, api, token, reason):
    ns = server.create_ns(api, {"description": "untouched"})
    attempts = [
        server.post(ns_path(api), {"name": uniq("denied")}, token=token),
        server.get(ns_path(api, ns_id=ns["id"]), token=token),
        server.patch(ns_path(api, ns_id=ns["id"]), {"description": "hacked"}, token=token),
        server.delete(ns_path(api, ns_id=ns["id"]), token=token),
    ]
    for r in attempts:
        assert r.status_code == 401, (r.request.method, r.text)
        assert r.json() == denied(reason), r.request.method
    got = server.wait_ready(api, ns["id"])
    assert got["description"] == "untouched"


@pytest.mark.parametrize("api", ALL_APIS)
def test_auth_is_checked_before_existence(server, api):
    import uuid

    r = server.get(ns_path(api, ns_id=str(uuid.uuid4())), token=None)
    assert (r.status_code, r.json()) == (401, denied("invalid_argument"))


def test_header_name_is_case_insensitive(server):
    r = server.get(ns_path("c1"), token=None, headers={"x-auth-token": DEFAULT_SECRET_KEY})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "key,reason",
    [(Key("SCWUNKNOWN0000000000", UNKNOWN_SECRET_KEY, DEFAULT_PROJECT), "not_found"), (EXPIRED_KEY, "expired")],
    ids=["unknown", "expired"],
)
@pytest.mark.parametrize("api", ALL_APIS)
def test_sdk_surfaces_401(server, key, reason, api):
    sdk = make_sdk(server, key)
    with pytest.raises(ScalewayException) as err:
        sdk.api(api).list_namespaces()
    assert err.value.status_code == 401
    assert err.value.response.json() == denied(reason)
    with pytest.raises(ScalewayException) as err:
        sdk.api(api).create_namespace(name=uniq("sdk401"))
    assert err.value.status_code == 401


# --- project scoping -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
def test_scoped_key_cannot_touch_another_projects_namespace(server, api):
    mine = server.create_ns(api, {"description": "owned by P1", "environment_variables": {"A": "1"}})

    r = server.get(ns_path(api, ns_id=mine["id"]), token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, permissions_denied("read"))
    r = server.patch(ns_path(api, ns_id=mine["id"]), {"description": "stolen"}, token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    r = server.patch(ns_path(api, ns_id=mine["id"]), {"environment_variables": {}}, token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    r = server.delete(ns_path(api, ns_id=mine["id"]), token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))

    got = server.wait_ready(api, mine["id"])
    assert got["description"] == "owned by P1"
    assert got["environment_variables"] == {"A": "1"}


@pytest.mark.parametrize("api", ALL_APIS)
def test_owner_key_cannot_touch_the_scoped_projects_namespace(server, api):
    theirs = server.create_ns(api, token=OTHER_SECRET_KEY)
    assert theirs["project_id"] == OTHER_PROJECT
    assert theirs["organization_id"] == OTHER_PROJECT
    r = server.get(ns_path(api, ns_id=theirs["id"]))
    assert (r.status_code, r.json()) == (403, permissions_denied("read"))
    r = server.delete(ns_path(api, ns_id=theirs["id"]))
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    server.wait_ready(api, theirs["id"], token=OTHER_SECRET_KEY)


@pytest.mark.parametrize("api", ALL_APIS)
def test_scoped_key_cannot_create_in_another_project(server, api):
    name = uniq("xproj")
    r = server.post(ns_path(api), {"name": name, "project_id": DEFAULT_PROJECT}, token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    r = server.post(ns_path(api), {"name": name, "project_id": OTHER_PROJECT})
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    r = server.post(ns_path(api), {"name": name, "project_id": "99999999-9999-4999-8999-999999999999"})
    assert (r.status_code, r.json()) == (403, permissions_denied("write"))
    # nothing was created under that name anywhere the owner can see
    assert name not in {n["name"] for n in server.list_ns(api, page_size=100)["namespaces"]}


@pytest.mark.parametrize("api", ALL_APIS)
def test_scoped_key_lists_only_its_project(server, api):
    mine = server.create_ns(api)
    theirs = server.create_ns(api, token=OTHER_SECRET_KEY)

    their_list = server.list_ns(api, token=OTHER_SECRET_KEY, page_size=100)
    their_ids = [n["id"] for n in their_list["namespaces"]]
    assert theirs["id"] in their_ids and mine["id"] not in their_ids
    assert {n["project_id"] for n in their_list["namespaces"]} == {OTHER_PROJECT}
    assert their_list["total_count"] == len(their_ids)

    my_ids = [n["id"] for n in server.list_ns(api, page_size=100, order_by="created_at_desc")["namespaces"]]
    assert mine["id"] in my_ids and theirs["id"] not in my_ids

    for params in ({"project_id": DEFAULT_PROJECT}, {"organization_id": DEFAULT_PROJECT}):
        r = server.get(ns_path(api), params=params, token=OTHER_SECRET_KEY)
        assert (r.status_code, r.json()) == (403, permissions_denied("read")), params
    unknown = "99999999-9999-4999-8999-999999999999"
    for params in (
        {"project_id": OTHER_PROJECT},
        {"organization_id": OTHER_PROJECT},
        {"project_id": unknown},
        {"organization_id": unknown},
    ):
        r = server.get(ns_path(api), params=params)
        assert (r.status_code, r.json()) == (403, permissions_denied("read")), params


@pytest.mark.parametrize("api", ALL_APIS)
def test_scoped_key_through_the_sdk(server, other_sdk, sdk, api):
    mine = sdk.api(api).create_namespace(name=uniq("sdk-p1"))
    theirs = other_sdk.api(api).create_namespace(name=uniq("sdk-p2"))
    assert theirs.project_id == OTHER_PROJECT

    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).get_namespace(namespace_id=mine.id)
    assert err.value.status_code == 403
    assert err.value.response.json() == permissions_denied("read")

    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).update_namespace(namespace_id=mine.id, description="x")
    assert err.value.status_code == 403
    assert err.value.response.json() == permissions_denied("write")

    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).delete_namespace(namespace_id=mine.id)
    assert err.value.status_code == 403

    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).list_namespaces(project_id=DEFAULT_PROJECT)
    assert err.value.status_code == 403

    listed = other_sdk.api(api).list_namespaces_all()
    assert theirs.id in {n.id for n in listed}
    assert mine.id not in {n.id for n in listed}
    assert {n.project_id for n in listed} == {OTHER_PROJECT}
    assert sdk_wait_ready(sdk.api(api), mine.id).id == mine.id
