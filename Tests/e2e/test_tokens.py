"""Tokens (containers and functions v1beta1), the legacy issue-jwt, namespace keys, seeds with key files, the CLI.

Every JWT the mock returns is checked byte for byte against Scaleway's layout (support.check_jwt) and verified with
PyJWT against the public key the same answer (or /_mock/namespaces/{id}/public-key) gives.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from scaleway_core.api import ScalewayException

from support import (
    BETA_APIS,
    DEFAULT_PROJECT,
    OTHER_PROJECT,
    OTHER_SECRET_KEY,
    PKCS1_PEM_RE,
    REPO_ROOT,
    TOKEN_KEYS,
    TOKEN_NOT_FOUND,
    UUID_RE,
    V1BETA1_NOT_FOUND,
    b64url_encode,
    binary_path,
    check_jwt,
    issue_jwt_path,
    jwt_segments,
    ns_path,
    retry_text_file_busy,
    tokens_path,
    v1_not_found,
    verifies,
)

APP_ARG = {"cb": "container_id", "fn": "function_id"}
APP_NOT_FOUND = {"cb": {"message": "Container was not found"}, "fn": {"message": "Function was not found"}}
FUTURE = "2036-05-06T16:42:11+02:00"
FUTURE_UTC = "2036-05-06T14:42:11Z"
FUTURE_EPOCH = int(dt.datetime(2036, 5, 6, 14, 42, 11, tzinfo=dt.timezone.utc).timestamp())
KEYS_DIR = REPO_ROOT / "Keys"


def token_denied(action: str) -> dict:
    return {
        "details": [{"action": action, "resource": "token"}],
        "message": "insufficient permissions",
        "type": "permissions_denied",
    }


def public_key(server, ns_id: str, fmt: str | None = None) -> str:
    r = server.get(f"/_mock/namespaces/{ns_id}/public-key", token=None, params={"format": fmt} if fmt else None)
    assert r.status_code == 200, r.text
    return r.text


def assert_invalid(r, argument_name: str, reason: str):
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "invalid_arguments" and body["message"] == "invalid argument(s)", body
    assert [(d["argument_name"], d["reason"]) for d in body["details"]] == [(argument_name, reason)], body
    assert all(d["help_message"] for d in body["details"]), body


@pytest.fixture(scope="module")
def nss(server):
    """One ready namespace per v1beta1 API on the session server (tokens wait for the key anyway)."""
    return {api: server.wait_ready(api, server.create_ns(api)["id"]) for api in BETA_APIS}


# --- create / get / list / delete through the SDK --------------------------------------------------------------------


@pytest.mark.parametrize("api", BETA_APIS)
def test_namespace_token_lifecycle_through_the_sdk(server, sdk, api):
    a = sdk.api(api)
    ns = server.create_ns(api)
    expires = dt.datetime(2036, 5, 6, 16, 42, 11, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    created = a.create_token(namespace_id=ns["id"], description="ci token", expires_at=expires)
    assert UUID_RE.match(created.id)
    assert created.status == "creating"
    assert created.namespace_id == ns["id"]
    assert getattr(created, APP_ARG[api]) is None
    assert created.description == "ci token"
    assert created.expires_at == dt.datetime(2036, 5, 6, 14, 42, 11, tzinfo=dt.timezone.utc)
    assert PKCS1_PEM_RE.match(created.public_key), created.public_key
    assert created.public_key == public_key(server, ns["id"])
    check_jwt(created.token, created.public_key, namespace_id=ns["id"], jti=created.id, exp=FUTURE_EPOCH)

    got = a.get_token(token_id=created.id)
    assert (got.token, got.public_key, got.status) == ("<hidden>", "", "ready")
    assert (got.id, got.namespace_id, got.description, got.expires_at) == (
        created.id,
        ns["id"],
        "ci token",
        created.expires_at,
    )

    listed = a.list_tokens(namespace_id=ns["id"])
    assert listed.total_count == 1
    [item] = listed.tokens
    assert (item.id, item.token, item.public_key, item.status) == (created.id, "<hidden>", "", "ready")
    assert [t.id for t in a.list_tokens_all(namespace_id=ns["id"])] == [created.id]

    deleted = a.delete_token(token_id=created.id)
    assert (deleted.id, deleted.token, deleted.public_key, deleted.status) == (created.id, "", "", "deleting")
    assert deleted.namespace_id == ns["id"]
    for call in (a.get_token, a.delete_token):
        with pytest.raises(ScalewayException) as err:
            call(token_id=created.id)
        assert (err.value.status_code, err.value.response.json()) == (404, TOKEN_NOT_FOUND)
    assert a.list_tokens(namespace_id=ns["id"]).total_count == 0


def test_wait_for_token(sdk, nss):
    """The SDK waiter sleeps at least 1 s before its first read: both APIs wait in parallel."""
    created = {api: sdk.api(api).create_token(namespace_id=nss[api]["id"]) for api in BETA_APIS}
    assert {t.status for t in created.values()} == {"creating"}
    with ThreadPoolExecutor(2) as pool:
        futures = {api: pool.submit(sdk.api(api).wait_for_token, token_id=t.id) for api, t in created.items()}
        for api, future in futures.items():
            waited = future.result(timeout=60)
            assert (waited.id, waited.status, waited.token) == (created[api].id, "ready", "<hidden>"), api


@pytest.mark.parametrize("api", BETA_APIS)
def test_token_wire_shapes(server, nss, api):
    ns_id = nss[api]["id"]
    r = server.post(tokens_path(api), {"namespace_id": ns_id})
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == TOKEN_KEYS | {"namespace_id"}  # only the id that was set
    assert (created["status"], created["expires_at"], created["description"]) == ("creating", None, "")
    assert created["public_key"] == public_key(server, ns_id)
    check_jwt(created["token"], created["public_key"], namespace_id=ns_id, jti=created["id"])  # no exp

    got = server.get(tokens_path(api, token_id=created["id"]))
    assert got.status_code == 200, got.text
    assert got.json() == dict(created, token="<hidden>", public_key="", status="ready")
    assert got.headers["Content-Type"] == "application/json"

    listed = server.get(tokens_path(api), params={"namespace_id": ns_id})
    assert created["id"] in [t["id"] for t in listed.json()["tokens"]]
    assert all(t["token"] == "<hidden>" and t["public_key"] == "" for t in listed.json()["tokens"])

    r = server.delete(tokens_path(api, token_id=created["id"]))
    assert r.status_code == 200, r.text
    assert r.json() == dict(created, token="", public_key="", status="deleting")
    for method in ("GET", "DELETE"):
        r = server.request(method, tokens_path(api, token_id=created["id"]))
        assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND), method


@pytest.mark.parametrize(
    "sent,answered",
    [
        ("2036-05-06T16:42:11+02:00", "2036-05-06T14:42:11Z"),
        ("2036-05-06T14:42:11Z", "2036-05-06T14:42:11Z"),
        ("2036-05-06T14:42:11.987654321Z", "2036-05-06T14:42:11Z"),
        ("2036-05-06T09:12:11-05:30", "2036-05-06T14:42:11Z"),
        ("2036-05-07T00:42:11+10:00", "2036-05-06T14:42:11Z"),
        ("2036-12-31T23:30:00-01:00", "2037-01-01T00:30:00Z"),
    ],
)
def test_expires_at_is_answered_in_utc_seconds_and_becomes_exp(server, nss, sent, answered):
    r = server.post(tokens_path("cb"), {"namespace_id": nss["cb"]["id"], "expires_at": sent})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_at"] == answered
    exp = int(dt.datetime.strptime(answered, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())
    check_jwt(body["token"], body["public_key"], namespace_id=nss["cb"]["id"], jti=body["id"], exp=exp)
    assert server.get(tokens_path("cb", token_id=body["id"])).json()["expires_at"] == answered


# --- bad inputs ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", BETA_APIS)
def test_exactly_one_scope_is_required(server, sdk, nss, api):
    ns_id = nss[api]["id"]
    assert_invalid(server.post(tokens_path(api), {}), "namespace_id", "constraint")
    assert_invalid(server.post(tokens_path(api), {"description": "x"}), "namespace_id", "constraint")
    assert_invalid(
        server.post(tokens_path(api), {"namespace_id": ns_id, APP_ARG[api]: str(uuid.uuid4())}),
        APP_ARG[api],
        "constraint",
    )
    # the SDK sends {} when no scope is given
    with pytest.raises(ScalewayException) as err:
        sdk.api(api).create_token()
    assert err.value.status_code == 400


@pytest.mark.parametrize("api", BETA_APIS)
@pytest.mark.parametrize(
    "body,argument,reason",
    [
        ({"expires_at": "2022-01-02T00:00:00Z"}, "expires_at", "constraint"),
        ({"expires_at": "2020-01-01T00:00:00+02:00"}, "expires_at", "constraint"),
        ({"expires_at": "tomorrow"}, "expires_at", "format"),
        ({"expires_at": "2036-13-01T00:00:00Z"}, "expires_at", "format"),
        ({"expires_at": "2036-05-06"}, "expires_at", "format"),
        ({"expires_at": "2036-05-06T14:42:11"}, "expires_at", "format"),
        ({"description": "d" * 256}, "description", "constraint"),
    ],
    ids=["past-2022", "past-offset", "word", "month-13", "date-only", "no-offset", "description-256"],
)
def test_bad_token_fields(server, nss, api, body, argument, reason):
    ns_id = nss[api]["id"]
    assert_invalid(server.post(tokens_path(api), dict(body, namespace_id=ns_id)), argument, reason)
    # nothing was stored
    listed = server.get(tokens_path(api), params={"namespace_id": ns_id, "page_size": 100}).json()["tokens"]
    assert all(t["description"] != body.get("description") for t in listed)


@pytest.mark.parametrize("api", BETA_APIS)
def test_description_of_255_characters_is_accepted(server, nss, api):
    r = server.post(tokens_path(api), {"namespace_id": nss[api]["id"], "description": "\u00e9" * 255})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "\u00e9" * 255


@pytest.mark.parametrize("api", BETA_APIS)
def test_unknown_or_foreign_scopes_are_404(server, nss, api):
    other_api = "fn" if api == "cb" else "cb"
    missing = str(uuid.uuid4())
    r = server.post(tokens_path(api), {"namespace_id": missing})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)
    r = server.post(tokens_path(api), {APP_ARG[api]: missing})
    assert (r.status_code, r.json()) == (404, APP_NOT_FOUND[api])
    # a namespace of the other kind, or in another region, does not exist here
    r = server.post(tokens_path(api), {"namespace_id": nss[other_api]["id"]})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)
    r = server.post(tokens_path(api, region="nl-ams"), {"namespace_id": nss[api]["id"]})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)
    # a namespace id passed as the application id
    r = server.post(tokens_path(api), {APP_ARG[api]: nss[api]["id"]})
    assert (r.status_code, r.json()) == (404, APP_NOT_FOUND[api])
    for field in ("namespace_id", APP_ARG[api]):
        assert_invalid(server.post(tokens_path(api), {field: "not-a-uuid"}), field, "format")
    assert_invalid(server.get(tokens_path(api, token_id="not-a-uuid")), "token_id", "format")
    for method in ("GET", "DELETE"):
        r = server.request(method, tokens_path(api, token_id=missing))
        assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND), method


def test_tokens_are_per_api(server, nss):
    cb = server.post(tokens_path("cb"), {"namespace_id": nss["cb"]["id"]}).json()
    fn = server.post(tokens_path("fn"), {"namespace_id": nss["fn"]["id"]}).json()
    for api, foreign in (("cb", fn), ("fn", cb)):
        for method in ("GET", "DELETE"):
            r = server.request(method, tokens_path(api, token_id=foreign["id"]))
            # recorded quirk: deleting a functions token id on the containers endpoint → "Container was not found"
            expected = APP_NOT_FOUND["cb"] if (api, method) == ("cb", "DELETE") else TOKEN_NOT_FOUND
            assert (r.status_code, r.json()) == (404, expected), (api, method)
        ids = [t["id"] for t in server.get(tokens_path(api), params={"page_size": 100}).json()["tokens"]]
        assert foreign["id"] not in ids
    # both survived the cross-API attempts
    assert server.get(tokens_path("cb", token_id=cb["id"])).status_code == 200
    assert server.get(tokens_path("fn", token_id=fn["id"])).status_code == 200
    r = server.get(tokens_path("cb", region="nl-ams", token_id=cb["id"]))
    assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)


@pytest.mark.parametrize("api", BETA_APIS)
def test_another_projects_key_is_403(server, sdk, other_sdk, nss, api):
    ns_id = nss[api]["id"]
    mine = sdk.api(api).create_token(namespace_id=ns_id)
    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).create_token(namespace_id=ns_id)
    assert (err.value.status_code, err.value.response.json()) == (403, token_denied("write"))
    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).get_token(token_id=mine.id)
    assert (err.value.status_code, err.value.response.json()) == (403, token_denied("read"))
    with pytest.raises(ScalewayException) as err:
        other_sdk.api(api).delete_token(token_id=mine.id)
    assert (err.value.status_code, err.value.response.json()) == (403, token_denied("write"))
    r = server.get(issue_jwt_path(api), params={"namespace_id": ns_id}, token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (403, token_denied("write"))
    assert mine.id not in {t.id for t in other_sdk.api(api).list_tokens_all()}
    assert sdk.api(api).get_token(token_id=mine.id).status == "ready"

    # and the other project's own namespace works for its key only
    theirs_ns = server.create_ns(api, token=OTHER_SECRET_KEY)
    theirs = other_sdk.api(api).create_token(namespace_id=theirs_ns["id"])
    check_jwt(theirs.token, theirs.public_key, namespace_id=theirs_ns["id"], jti=theirs.id)
    with pytest.raises(ScalewayException) as err:
        sdk.api(api).get_token(token_id=theirs.id)
    assert (err.value.status_code, err.value.response.json()) == (403, token_denied("read"))


@pytest.mark.parametrize("api", BETA_APIS)
def test_token_routes_need_a_key(server, nss, api):
    some = str(uuid.uuid4())
    for method, path in (
        ("POST", tokens_path(api)),
        ("GET", tokens_path(api)),
        ("GET", tokens_path(api, token_id=some)),
        ("DELETE", tokens_path(api, token_id=some)),
        ("GET", issue_jwt_path(api) + f"?namespace_id={nss[api]['id']}"),
    ):
        r = server.request(method, path, token=None, json_body={"namespace_id": nss[api]["id"]} if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["type"] == "denied_authentication"


@pytest.mark.parametrize("api", BETA_APIS)
def test_wrong_methods_on_token_routes_are_json_405(server, api):
    some = str(uuid.uuid4())
    for method, path in (
        ("PUT", tokens_path(api)),
        ("PATCH", tokens_path(api, token_id=some)),
        ("POST", tokens_path(api, token_id=some)),
        ("HEAD", tokens_path(api)),
        ("OPTIONS", tokens_path(api, token_id=some)),
        ("POST", issue_jwt_path(api)),
        ("HEAD", issue_jwt_path(api)),
    ):
        r = server.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/json"
        if method != "HEAD":
            assert r.json()["type"] == "method_not_allowed"


# --- lists -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", BETA_APIS)
def test_list_filters_paging_and_order(server, sdk, api):
    a = sdk.api(api)
    ns = server.create_ns(api)
    other_ns = server.create_ns(api)
    ids = [a.create_token(namespace_id=ns["id"], description=f"t{i}").id for i in range(5)]
    other = a.create_token(namespace_id=other_ns["id"]).id

    for page, expected in ((1, ids[0:2]), (2, ids[2:4]), (3, ids[4:]), (4, [])):
        res = a.list_tokens(namespace_id=ns["id"], page=page, page_size=2, order_by="created_at_asc")
        assert ([t.id for t in res.tokens], res.total_count) == (expected, 5), page
    res = a.list_tokens(namespace_id=ns["id"], order_by="created_at_desc")
    assert [t.id for t in res.tokens] == ids[::-1]
    assert [t.id for t in a.list_tokens_all(namespace_id=ns["id"], page_size=2)] == ids
    assert [t.id for t in a.list_tokens_all(namespace_id=other_ns["id"])] == [other]
    assert [t.description for t in a.list_tokens_all(namespace_id=ns["id"])] == [f"t{i}" for i in range(5)]
    everything = [t.id for t in a.list_tokens_all(page_size=100)]
    assert set(ids + [other]) <= set(everything)

    for params, argument in (
        ({"order_by": "name_asc"}, "order_by"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"namespace_id": "nope"}, "namespace_id"),
        ({APP_ARG[api]: "nope"}, APP_ARG[api]),
    ):
        r = server.get(tokens_path(api), params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["details"][0]["argument_name"] == argument, params


# --- issue-jwt (legacy, not stored) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", BETA_APIS)
def test_issue_jwt_returns_a_token_that_is_not_stored(server, nss, api):
    ns_id = nss[api]["id"]
    before = server.get(tokens_path(api), params={"namespace_id": ns_id, "page_size": 100}).json()["total_count"]
    r = server.get(issue_jwt_path(api), params={"namespace_id": ns_id, "expires_at": "2036-01-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == TOKEN_KEYS | {"namespace_id"}
    assert (body["status"], body["expires_at"], body["namespace_id"]) == ("ready", "2036-01-02T00:00:00Z", ns_id)
    assert body["public_key"] == public_key(server, ns_id)
    exp = int(dt.datetime(2036, 1, 2, tzinfo=dt.timezone.utc).timestamp())
    check_jwt(body["token"], body["public_key"], namespace_id=ns_id, jti=body["id"], exp=exp)

    r = server.get(tokens_path(api, token_id=body["id"]))
    assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)
    r = server.delete(tokens_path(api, token_id=body["id"]))
    assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)
    after = server.get(tokens_path(api), params={"namespace_id": ns_id, "page_size": 100}).json()
    assert after["total_count"] == before
    assert body["id"] not in [t["id"] for t in after["tokens"]]

    # without expires_at: no exp claim, expires_at null
    r = server.get(issue_jwt_path(api), params={"namespace_id": ns_id})
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] is None
    check_jwt(r.json()["token"], r.json()["public_key"], namespace_id=ns_id, jti=r.json()["id"])


@pytest.mark.parametrize(
    "raw_query_value,answered",
    [
        ("2036-01-02T00:00:00Z", "2036-01-02T00:00:00Z"),
        ("2036-01-02T00:00:00%2B02:00", "2036-01-01T22:00:00Z"),  # URL-encoded '+'
        ("2036-01-02T00:00:00+02:00", "2036-01-01T22:00:00Z"),  # raw '+' arrives as a space
        ("2036-01-02T00%3A00%3A00-01%3A00", "2036-01-02T01:00:00Z"),
    ],
    ids=["utc", "encoded-plus", "raw-plus", "encoded-colons"],
)
def test_issue_jwt_expires_at_query_forms(server, nss, raw_query_value, answered):
    ns_id = nss["cb"]["id"]
    r = requests.get(
        f"{server.url}{issue_jwt_path('cb')}?namespace_id={ns_id}&expires_at={raw_query_value}",
        headers={"X-Auth-Token": server.env["SCW_SECRET_KEY"]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] == answered
    exp = int(dt.datetime.strptime(answered, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())
    check_jwt(r.json()["token"], r.json()["public_key"], namespace_id=ns_id, jti=r.json()["id"], exp=exp)


@pytest.mark.parametrize("api", BETA_APIS)
def test_issue_jwt_bad_inputs(server, nss, api):
    ns_id = nss[api]["id"]
    path = issue_jwt_path(api)
    # the 2021 docs' example date is in the past now
    assert_invalid(server.get(path, params={"namespace_id": ns_id, "expires_at": "2022-01-02T00:00:00Z"}), "expires_at", "constraint")
    assert_invalid(server.get(path, params={"namespace_id": ns_id, "expires_at": "2022-01-02"}), "expires_at", "format")
    assert_invalid(server.get(path), "namespace_id", "constraint")
    assert_invalid(server.get(path, params={"namespace_id": ns_id, APP_ARG[api]: str(uuid.uuid4())}), APP_ARG[api], "constraint")
    assert_invalid(server.get(path, params={"namespace_id": "nope"}), "namespace_id", "format")
    r = server.get(path, params={"namespace_id": str(uuid.uuid4())})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)
    r = server.get(path, params={APP_ARG[api]: str(uuid.uuid4())})
    assert (r.status_code, r.json()) == (404, APP_NOT_FOUND[api])


def test_issue_jwt_accepts_the_serverless_plugins_expiration_date(server, nss):
    r = server.get(issue_jwt_path("fn"), params={"namespace_id": nss["fn"]["id"], "expiration_date": "2036-01-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] == "2036-01-02T00:00:00Z"


def test_issue_jwt_for_a_real_function(server, nss):
    import jwt

    ns_id = nss["fn"]["id"]
    created = server.post("/functions/v1beta1/regions/fr-par/functions", {"namespace_id": ns_id, "name": "jwt-fn", "runtime": "python311"})
    assert created.status_code == 200, created.text
    fid = created.json()["id"]
    r = server.get(issue_jwt_path("fn"), params={"function_id": fid, "expires_at": "2036-01-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == TOKEN_KEYS | {"function_id"} and body["function_id"] == fid
    assert body["public_key"] == public_key(server, ns_id)  # the function's namespace key
    exp = int(dt.datetime(2036, 1, 2, tzinfo=dt.timezone.utc).timestamp())
    check_jwt(body["token"], body["public_key"], application_id=fid, jti=body["id"], exp=exp)
    claims = jwt.decode(body["token"], body["public_key"], algorithms=["RS256"], audience="functions", issuer="SCALEWAY")
    assert claims["application_claim"] == [{"namespace_id": "", "application_id": fid}]
    assert claims["exp"] == exp and claims["sub"] == "token" and claims["version"] == 2
    # another namespace's key does not verify it
    other = server.post("/functions/v1beta1/regions/fr-par/namespaces", {"name": "jwt-fn-other"}).json()["id"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], public_key(server, server.wait_ready("fn", other)["id"]), algorithms=["RS256"], audience="functions")


def test_iat_equals_the_response_date(server, nss):
    """Scaleway's tokens: `iat` is the response's `Date` (Hummingbird's own Date is cached and lags up to a second)."""
    from email.utils import parsedate_to_datetime

    for i in range(20):
        api = BETA_APIS[i % 2]
        if i % 4 < 2:
            r = server.post(tokens_path(api), {"namespace_id": nss[api]["id"]})
        else:
            r = server.get(issue_jwt_path(api), params={"namespace_id": nss[api]["id"]})
        assert r.status_code == 200, r.text
        iat = json.loads(jwt_segments(r.json()["token"])[1])["iat"]
        assert int(parsedate_to_datetime(r.headers["Date"]).timestamp()) == iat, (i, r.headers["Date"], iat)
        assert r.headers["Date"].endswith(" GMT") and "X-Scw-Mock-Date" not in r.headers
        time.sleep(0.1)  # spread over two seconds, across second boundaries


# --- public keys -----------------------------------------------------------------------------------------------------


def test_public_key_endpoint_formats_and_jwks(server, nss):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    ns_id = nss["cb"]["id"]
    r = server.get(f"/_mock/namespaces/{ns_id}/public-key", token=None)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-pem-file")
    assert PKCS1_PEM_RE.match(r.text), r.text
    pkcs1 = load_pem_public_key(r.content)
    assert pkcs1.key_size == 2048 and pkcs1.public_numbers().e == 65537
    spki_text = public_key(server, ns_id, "spki")
    assert spki_text.startswith("-----BEGIN PUBLIC KEY-----\n") and spki_text.endswith("-----END PUBLIC KEY-----\n")
    assert load_pem_public_key(spki_text.encode()).public_numbers() == pkcs1.public_numbers()
    assert public_key(server, ns_id, "pkcs1") == r.text
    # every namespace has its own key
    assert public_key(server, nss["fn"]["id"]) != r.text

    r = server.get(f"/_mock/namespaces/{ns_id}/public-key", token=None, params={"format": "der"})
    assert_invalid(r, "format", "format")
    missing = str(uuid.uuid4())
    r = server.get(f"/_mock/namespaces/{missing}/public-key", token=None)
    assert (r.status_code, r.json()) == (404, v1_not_found(missing))

    r = server.get("/_mock/jwks.json", token=None)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    keys = {k["kid"]: k for k in r.json()["keys"]}
    assert set(r.json()) == {"keys"}
    jwk = keys[ns_id]
    assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}
    assert (jwk["kty"], jwk["use"], jwk["alg"], jwk["e"]) == ("RSA", "sig", "RS256", "AQAB")
    n = pkcs1.public_numbers().n
    assert jwk["n"] == b64url_encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))
    assert nss["fn"]["id"] in keys
    # a token verifies with the JWK through PyJWT too
    import jwt

    body = server.post(tokens_path("cb"), {"namespace_id": ns_id}).json()
    key = jwt.PyJWK(jwk).key
    assert jwt.decode(body["token"], key, algorithms=["RS256"], audience="functions", issuer="SCALEWAY")["jti"] == body["id"]


@pytest.mark.parametrize("api", BETA_APIS)
def test_namespace_delete_removes_its_tokens_and_key(server, api):
    ns = server.create_ns(api)
    token = server.post(tokens_path(api), {"namespace_id": ns["id"]}).json()
    assert public_key(server, ns["id"]) == token["public_key"]
    assert server.delete(ns_path(api, ns_id=ns["id"])).status_code == 200

    r = server.get(tokens_path(api, token_id=token["id"]))
    assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)
    r = server.get(tokens_path(api), params={"namespace_id": ns["id"]})
    assert r.status_code == 200 and r.json() == {"tokens": [], "total_count": 0}
    r = server.get(f"/_mock/namespaces/{ns['id']}/public-key", token=None)
    assert (r.status_code, r.json()) == (404, v1_not_found(ns["id"]))
    assert ns["id"] not in {k["kid"] for k in server.get("/_mock/jwks.json", token=None).json()["keys"]}
    r = server.post(tokens_path(api), {"namespace_id": ns["id"]})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)


# --- restart ---------------------------------------------------------------------------------------------------------


def test_keys_and_tokens_survive_a_restart(server_factory, tmp_path):
    db = tmp_path / "keys.sqlite"
    first = server_factory(db_path=db, key_pool=2)
    ns = first.create_ns("cb")
    fns = first.create_ns("fn")
    token = first.post(tokens_path("cb"), {"namespace_id": ns["id"], "expires_at": FUTURE}).json()
    ftoken = first.post(tokens_path("fn"), {"namespace_id": fns["id"]}).json()
    legacy = first.get(issue_jwt_path("cb"), params={"namespace_id": ns["id"]}).json()
    pems = {i: first.get(f"/_mock/namespaces/{i}/public-key", token=None).content for i in (ns["id"], fns["id"])}
    spki = first.get(f"/_mock/namespaces/{ns['id']}/public-key?format=spki", token=None).content
    jwks = first.get("/_mock/jwks.json", token=None).json()
    assert first.stop() == 0, first.stderr_tail()

    second = server_factory(db_path=db, key_pool=2)
    for ns_id, pem in pems.items():
        assert second.get(f"/_mock/namespaces/{ns_id}/public-key", token=None).content == pem
    assert second.get(f"/_mock/namespaces/{ns['id']}/public-key?format=spki", token=None).content == spki
    assert second.get("/_mock/jwks.json", token=None).json() == jwks
    pem = pems[ns["id"]].decode()
    check_jwt(token["token"], pem, namespace_id=ns["id"], jti=token["id"], exp=FUTURE_EPOCH)
    check_jwt(legacy["token"], pem, namespace_id=ns["id"], jti=legacy["id"])
    check_jwt(ftoken["token"], pems[fns["id"]].decode(), namespace_id=fns["id"], jti=ftoken["id"])
    got = second.get(tokens_path("cb", token_id=token["id"])).json()
    assert got == dict(token, token="<hidden>", public_key="", status="ready")
    assert second.get(tokens_path("fn", token_id=ftoken["id"])).status_code == 200
    # a token issued after the restart is signed by the same key
    again = second.post(tokens_path("cb"), {"namespace_id": ns["id"]}).json()
    assert again["public_key"].encode() == pems[ns["id"]]
    check_jwt(again["token"], pem, namespace_id=ns["id"], jti=again["id"])
    assert second.get_ns("cb", ns["id"])["status"] == "ready"


# --- seeds with key files, `keys generate`, `token verify` -----------------------------------------------------------


SEED_CNS = "5eed0000-0000-4000-8000-0000000000c1"
SEED_FNS = "5eed0000-0000-4000-8000-0000000000f1"
SEED_GEN = "5eed0000-0000-4000-8000-0000000000c2"


def run_cli(*args: str, check_rc: int | None = None) -> subprocess.CompletedProcess:
    r = retry_text_file_busy(lambda: subprocess.run([str(binary_path()), *args], capture_output=True, text=True, timeout=60))
    if check_rc is not None:
        assert r.returncode == check_rc, (args, r.returncode, r.stdout, r.stderr)
    return r


def load_private(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def pkcs1_public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()


def sign(private_key, header_payload: str) -> str:
    return b64url_encode(private_key.sign(header_payload.encode(), padding.PKCS1v15(), hashes.SHA256()))


def forge(private_key, payload: bytes) -> str:
    """A token in Scaleway's layout signed with a key we hold (to make ones the API never issues, e.g. expired)."""
    head = b64url_encode(b'{"alg":"RS256","typ":"JWT"}') + "." + b64url_encode(payload)
    return head + "." + sign(private_key, head)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A server seeded with the committed development keys and a key made by `scw-mock keys generate`."""
    from support import ServerFactory

    workdir = tmp_path_factory.mktemp("scw-mock-seeded")
    generated = workdir / "generated.pem"
    gen = run_cli("keys", "generate", "--out", str(generated), "--bits", "2048", check_rc=0)
    seed = workdir / "namespaces.yaml"
    seed.write_text(
        f"""\
namespaces:
  - id: {SEED_CNS}
    name: seeded-containers
    kind: container
    region: fr-par
    project_id: {DEFAULT_PROJECT}
    description: from a seed
    environment_variables: {{GREETING: hello}}
    secret_environment_variables: {{TOKEN: s3cret}}
    tags: [seeded, dev]
    key_file: {KEYS_DIR / "dev-namespace-1.pem"}
  - id: {SEED_FNS}
    name: seeded-functions
    kind: function
    region: nl-ams
    project_id: {OTHER_PROJECT}
    key_file: {KEYS_DIR / "dev-namespace-3-pkcs1.pem"}
  - id: {SEED_GEN}
    name: seeded-generated
    kind: container
    key_file: {generated}
"""
    )
    factory = ServerFactory(workdir)
    srv = factory(extra_seeds=[seed], key_pool=2)
    srv.generated_key = generated
    srv.generate_output = gen
    srv.workdir_path = workdir
    yield srv
    factory.stop_all()


def test_keys_generate_writes_a_private_pem_with_mode_0600(seeded, tmp_path):
    path: Path = seeded.generated_key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n") and text.endswith("-----END PRIVATE KEY-----\n")
    key = load_private(path)
    assert key.key_size == 2048 and key.public_key().public_numbers().e == 65537
    assert str(path) in seeded.generate_output.stdout
    # never overwrites, refuses other sizes
    r = run_cli("keys", "generate", "--out", str(path), "--bits", "2048")
    assert r.returncode != 0 and path.read_text() == text
    r = run_cli("keys", "generate", "--out", str(tmp_path / "small.pem"), "--bits", "1024")
    assert r.returncode != 0 and not (tmp_path / "small.pem").exists()


@pytest.mark.parametrize(
    "ns_id,api,region,key_file,bits",
    [
        (SEED_CNS, "cb", "fr-par", "dev-namespace-1.pem", 4096),
        (SEED_FNS, "fn", "nl-ams", "dev-namespace-3-pkcs1.pem", 2048),
        (SEED_GEN, "cb", "fr-par", None, 2048),
    ],
    ids=["pkcs8-4096", "pkcs1-2048", "generated"],
)
def test_seeded_namespace_uses_its_key_file(seeded, ns_id, api, region, key_file, bits):
    private = load_private(KEYS_DIR / key_file if key_file else seeded.generated_key)
    assert private.key_size == bits
    expected_pem = pkcs1_public_pem(private)
    assert public_key(seeded, ns_id) == expected_pem
    spki = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key(seeded, ns_id, "spki").encode() == spki

    token_key = OTHER_SECRET_KEY if ns_id == SEED_FNS else seeded.env["SCW_SECRET_KEY"]
    r = seeded.post(tokens_path(api, region=region), {"namespace_id": ns_id, "expires_at": FUTURE}, token=token_key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["public_key"] == expected_pem
    check_jwt(body["token"], expected_pem, namespace_id=ns_id, jti=body["id"], exp=FUTURE_EPOCH)
    # RS256 (PKCS#1 v1.5) is deterministic: signing the same bytes with the seeded key gives the same signature
    head, _, sig = body["token"].rpartition(".")
    assert sig == sign(private, head)
    if bits == 4096:
        assert len(body["token"]) == 1063  # the recorded size of a namespace token with exp


def test_seeded_namespaces_have_their_fields(seeded):
    got = seeded.wait_ready("cb", SEED_CNS)
    assert (got["name"], got["description"], got["project_id"], got["region"]) == (
        "seeded-containers",
        "from a seed",
        DEFAULT_PROJECT,
        "fr-par",
    )
    assert got["environment_variables"] == {"GREETING": "hello"}
    assert got["tags"] == ["seeded", "dev"]
    [secret] = got["secret_environment_variables"]
    assert secret["key"] == "TOKEN" and verifies(secret["hashed_value"], "s3cret")
    assert seeded.wait_ready("c1", SEED_CNS)["secret_environment_variables"] == {"TOKEN": secret["hashed_value"]}

    fn = seeded.wait_ready("fn", SEED_FNS, region="nl-ams", token=OTHER_SECRET_KEY)
    assert (fn["name"], fn["project_id"], fn["region"]) == ("seeded-functions", OTHER_PROJECT, "nl-ams")
    r = seeded.get(ns_path("cb", "nl-ams", SEED_FNS), token=OTHER_SECRET_KEY)
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)
    generated = seeded.wait_ready("cb", SEED_GEN)
    assert (generated["region"], generated["project_id"]) == ("fr-par", DEFAULT_PROJECT)  # the defaults


def test_token_verify_cli(seeded, tmp_path):
    private = load_private(KEYS_DIR / "dev-namespace-1.pem")
    pem_file = tmp_path / "ns.pem"
    pem_file.write_text(public_key(seeded, SEED_CNS))
    other_pem_file = tmp_path / "other.pem"
    other_pem_file.write_text(public_key(seeded, SEED_GEN))
    spki_file = tmp_path / "ns-spki.pem"
    spki_file.write_text(public_key(seeded, SEED_CNS, "spki"))

    body = seeded.post(tokens_path("cb"), {"namespace_id": SEED_CNS, "expires_at": FUTURE}).json()
    token = body["token"]
    payload = jwt_segments(token)[1]

    for key_file in (pem_file, spki_file):
        r = run_cli("token", "verify", "--public-key", str(key_file), "--namespace-id", SEED_CNS, token, check_rc=0)
        lines = r.stdout.splitlines()
        assert lines[0] == "valid", r.stdout
        assert json.loads("\n".join(lines[1:])) == json.loads(payload)

    def refused(token_text: str, *args: str) -> str:
        r = run_cli("token", "verify", *args, token_text)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert r.stdout.startswith("invalid: "), r.stdout
        return r.stdout

    # another namespace's token (same key file, wrong namespace)
    assert "token is for another namespace" in refused(token, "--public-key", str(pem_file), "--namespace-id", SEED_GEN)
    # the key of another namespace
    assert "bad signature" in refused(token, "--public-key", str(other_pem_file), "--namespace-id", SEED_CNS)
    # a tampered payload: same signature, one claim changed
    head, pay, sig = token.split(".")
    tampered_payload = payload.replace(SEED_CNS.encode(), SEED_GEN.encode())
    tampered = f"{head}.{b64url_encode(tampered_payload)}.{sig}"
    assert "bad signature" in refused(tampered, "--public-key", str(pem_file), "--namespace-id", SEED_GEN)
    # an expired token, signed with the seeded key
    now = int(time.time())
    expired_payload = json.dumps(
        {
            "application_claim": [{"namespace_id": SEED_CNS, "application_id": ""}],
            "version": 2,
            "aud": "functions",
            "exp": now - 120,
            "jti": str(uuid.uuid4()),
            "iat": now - 600,
            "iss": "SCALEWAY",
            "nbf": now - 600,
            "sub": "token",
        },
        separators=(",", ":"),
    ).encode()
    expired = forge(private, expired_payload)
    assert "token expired" in refused(expired, "--public-key", str(pem_file), "--namespace-id", SEED_CNS)
    # the same forged layout with a future exp is valid: the CLI checks claims, not who issued it
    fresh = forge(private, expired_payload.replace(str(now - 120).encode(), str(now + 600).encode()))
    run_cli("token", "verify", "--public-key", str(pem_file), "--namespace-id", SEED_CNS, fresh, check_rc=0)
    # alg none is refused
    none_token = b64url_encode(b'{"alg":"none","typ":"JWT"}') + "." + pay + "."
    assert "algorithm not allowed: none" in refused(none_token, "--public-key", str(pem_file), "--namespace-id", SEED_CNS)
    # garbage
    refused("not.a.jwt", "--public-key", str(pem_file), "--namespace-id", SEED_CNS)


def test_token_verify_cli_prints_the_tokens_own_payload_and_distinct_exit_codes(seeded, tmp_path):
    private = load_private(KEYS_DIR / "dev-namespace-1.pem")
    pem_file = tmp_path / "ns.pem"
    pem_file.write_text(public_key(seeded, SEED_CNS))
    now = int(time.time())
    # an `aud` array and an extra member: printed as the token carries them, not rebuilt
    payload = (
        '{"application_claim":[{"namespace_id":"%s","application_id":""}],"version":2,"aud":["functions","other"],'
        '"exp":%d,"jti":"j-1","iat":%d,"iss":"SCALEWAY","nbf":%d,"sub":"token","extra":{"k":[1,2]}}' % (SEED_CNS, now + 600, now, now)
    )
    r = run_cli("token", "verify", "--public-key", str(pem_file), "--namespace-id", SEED_CNS, forge(private, payload.encode()), check_rc=0)
    assert r.stdout == "valid\n" + payload + "\n"

    token = seeded.post(tokens_path("cb"), {"namespace_id": SEED_CNS, "expires_at": FUTURE}).json()["token"]
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    for key_file, why in ((tmp_path / "missing.pem", "cannot read the file"), (not_a_key, "not a PEM RSA public key")):
        r = run_cli("token", "verify", "--public-key", str(key_file), "--namespace-id", SEED_CNS, token, check_rc=2)
        assert r.stdout == "" and r.stderr == f"error: --public-key {key_file}: {why}\n", r.stderr
    run_cli("token", "verify", "--public-key", str(pem_file), token, check_rc=64)  # neither --namespace-id nor --container-id
    help_text = run_cli("token", "verify", "--help", check_rc=0).stdout
    assert "0 valid; 1 refused" in help_text and "2 the public key file" in help_text and "64 bad arguments" in help_text


def test_keys_export_writes_the_namespace_key_while_the_server_runs(server, tmp_path):
    """`scw-mock keys export` reads the running mock's database: the key it writes signs exactly like the namespace's
    tokens (same public key), with mode 0600; unknown namespaces and existing files are refused."""
    ns = server.create_ns("c1")
    r = server.post(f"/containers/v1beta1/regions/fr-par/tokens", {"namespace_id": ns["id"]})
    assert r.status_code == 200, r.text
    token = r.json()
    out = tmp_path / "exported.pem"
    run_cli("keys", "export", "--database", str(server.db_path), "--namespace-id", ns["id"], "--out", str(out), check_rc=0)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert pkcs1_public_pem(load_private(out)) == token["public_key"]
    verified = run_cli("token", "verify", "--public-key", str(out.with_suffix(".pub")), "--namespace-id", ns["id"], token["token"])
    assert verified.returncode == 2  # no such public key file yet: the exit code for an unreadable key
    out.with_suffix(".pub").write_text(token["public_key"])
    run_cli("token", "verify", "--public-key", str(out.with_suffix(".pub")), "--namespace-id", ns["id"], token["token"], check_rc=0)
    again = run_cli("keys", "export", "--database", str(server.db_path), "--namespace-id", ns["id"], "--out", str(out))
    assert again.returncode != 0 and "already exists" in again.stderr
    missing = run_cli("keys", "export", "--database", str(server.db_path), "--namespace-id", str(uuid.uuid4()), "--out", str(tmp_path / "x.pem"))
    assert missing.returncode == 1 and "no namespace" in missing.stderr and not (tmp_path / "x.pem").exists()
