"""What the SDK hides: exact wire shapes, timestamps, error bodies, headers, validation, routing, isolation."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from support import (
    ALL_APIS,
    BETA_APIS,
    CONFLICT_BODY,
    DEFAULT_PROJECT,
    OTHER_SECRET_KEY,
    UUID_RE,
    V1BETA1_NOT_FOUND,
    fraction_digits,
    not_found_body,
    ns_path,
    registry_prefix,
    round_to_micros,
    uniq,
    v1_not_found,
)

V1BETA1_KEYS = {
    "id",
    "name",
    "organization_id",
    "project_id",
    "description",
    "status",
    "environment_variables",
    "secret_environment_variables",
    "registry_namespace_id",
    "registry_endpoint",
    "error_message",
    "tags",
    "created_at",
    "updated_at",
    "vpc_integration_activated",
    "region",
}
V1_KEYS = {
    "id",
    "name",
    "organization_id",
    "project_id",
    "description",
    "status",
    "environment_variables",
    "secret_environment_variables",
    "tags",
    "created_at",
    "updated_at",
    "region",
}
NAME_RULE = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def assert_invalid(r, argument_name: str, reason: str | None = None):
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "invalid_arguments", body
    assert body["message"] == "invalid argument(s)", body
    assert isinstance(body["details"], list) and body["details"], body
    detail = body["details"][0]
    assert detail["argument_name"] == argument_name, body
    assert detail["reason"] in ("required", "format", "constraint", "unknown"), body
    assert isinstance(detail["help_message"], str) and detail["help_message"], body
    if reason is not None:
        assert detail["reason"] == reason, body


# --- wire shapes and timestamps --------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_wire_shape_and_timestamps(server, api):
    name = uniq(f"wire-{api}")
    r = server.post(ns_path(api), {"name": name, "project_id": DEFAULT_PROJECT})
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == V1BETA1_KEYS
    assert created["error_message"] is None
    assert (created["registry_namespace_id"], created["registry_endpoint"]) == ("", "")
    assert created["status"] == "pending"
    assert created["secret_environment_variables"] == [] and created["environment_variables"] == {}
    assert created["tags"] == [] and created["description"] == ""
    assert created["vpc_integration_activated"] is False
    assert fraction_digits(created["created_at"]) == 9
    assert fraction_digits(created["updated_at"]) == 9
    assert created["created_at"] == created["updated_at"]

    got = server.wait_ready(api, created["id"])
    assert set(got) == V1BETA1_KEYS
    assert got["error_message"] is None
    assert fraction_digits(got["created_at"]) == 6
    assert fraction_digits(got["updated_at"]) == 6
    assert got["created_at"] == round_to_micros(created["created_at"])

    listed = server.list_ns(api, name=name)
    assert listed["namespaces"] == [got]
    assert listed["total_count"] == 1

    r = server.patch(ns_path(api, ns_id=created["id"]), {"description": "x"})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert set(patched) == V1BETA1_KEYS
    assert fraction_digits(patched["updated_at"]) == 9
    assert fraction_digits(patched["created_at"]) == 9
    assert round_to_micros(patched["created_at"]) == got["created_at"]
    assert patched["updated_at"] > patched["created_at"]
    after_patch = server.get_ns(api, created["id"])
    assert after_patch["updated_at"] == round_to_micros(patched["updated_at"])

    r = server.delete(ns_path(api, ns_id=created["id"]))
    assert r.status_code == 200, r.text
    deleted = r.json()
    assert set(deleted) == V1BETA1_KEYS
    assert deleted["status"] == "deleting"
    assert fraction_digits(deleted["created_at"]) == 9
    assert fraction_digits(deleted["updated_at"]) == 9
    assert round_to_micros(deleted["created_at"]) == got["created_at"]


def test_v1_wire_shape_and_timestamps(server):
    r = server.post(ns_path("c1"), {"name": uniq("wire-c1")})
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == V1_KEYS  # no registry fields, no vpc flag, error_message omitted
    assert created["status"] == "creating"
    assert created["secret_environment_variables"] == {} and created["environment_variables"] == {}
    assert created["tags"] == [] and created["description"] == ""
    assert created["project_id"] == created["organization_id"] == DEFAULT_PROJECT
    for stamp in ("created_at", "updated_at"):
        assert fraction_digits(created[stamp]) == 6

    got = server.wait_ready("c1", created["id"])
    assert set(got) == V1_KEYS
    assert got["created_at"] == created["created_at"]

    r = server.patch(ns_path("c1", ns_id=created["id"]), {"environment_variables": {"A": "1"}})
    patched = r.json()
    assert set(patched) == V1_KEYS
    assert patched["status"] == "updating"
    assert fraction_digits(patched["updated_at"]) == 6

    r = server.delete(ns_path("c1", ns_id=created["id"]))
    deleted = r.json()
    assert set(deleted) == V1_KEYS
    assert deleted["status"] == "deleting"
    assert fraction_digits(deleted["created_at"]) == 6


def test_post_defaults_project_from_key_when_project_id_absent(server):
    created = server.create_ns("cb", {"name": uniq("noproj")})
    assert created["project_id"] == DEFAULT_PROJECT
    assert created["organization_id"] == DEFAULT_PROJECT


# --- names -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api,prefix", [("cb", "cns"), ("fn", "ns")])
@pytest.mark.parametrize("body", [{}, {"name": None}], ids=["absent", "null"])
def test_v1beta1_generates_a_name_when_omitted(server, api, prefix, body):
    r = server.post(ns_path(api), body)
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    assert re.fullmatch(rf"{prefix}-[a-z]+-[a-z]+", name), name
    assert NAME_RULE.match(name) and len(name) <= 63
    got = server.wait_ready(api, r.json()["id"])
    assert got["name"] == name
    if api == "cb":
        assert got["registry_endpoint"] == f"rg.fr-par.scw.cloud/funcscw{registry_prefix(name)}{got['id'][:8]}"


@pytest.mark.parametrize("body", [{}, {"name": None}, {"description": "x"}], ids=["empty", "null", "other-fields"])
def test_v1_name_is_required(server, body):
    assert_invalid(server.post(ns_path("c1"), body), "name", "required")


BAD_NAMES = [
    "1abc",
    "Abc-def",
    "abc-",
    "-abc",
    "ab_c",
    "ab.c",
    "ab c",
    "abc\u00e9",
    "a" * 64,
]


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("bad", BAD_NAMES, ids=[n if len(n) < 10 else f"len{len(n)}" for n in BAD_NAMES])
def test_invalid_names_are_rejected(server, api, bad):
    assert_invalid(server.post(ns_path(api), {"name": bad}), "name")


@pytest.mark.parametrize("api", ALL_APIS)
def test_name_boundaries_are_accepted(server, api):
    longest = ("z" + uuid.uuid4().hex * 2)[:63]
    assert server.create_ns(api, {"name": longest})["name"] == longest
    dashed = f"a-{uuid.uuid4().hex[:6]}-b-0"
    assert server.create_ns(api, {"name": dashed})["name"] == dashed


def test_duplicate_names_conflict_within_kind_region_and_project(server):
    name = uniq("dup")
    server.create_ns("cb", {"name": name})
    r = server.post(ns_path("cb"), {"name": name})
    assert r.status_code == 409, r.text
    assert r.json() == CONFLICT_BODY
    # v1 shares the container namespace space
    r = server.post(ns_path("c1"), {"name": name})
    assert r.status_code == 409, r.text
    assert r.json() == CONFLICT_BODY
    # other kind, other region, other project: allowed
    fn = server.create_ns("fn", {"name": name})
    assert fn["name"] == name
    r = server.post(ns_path("fn"), {"name": name})
    assert (r.status_code, r.json()) == (409, CONFLICT_BODY)
    assert server.create_ns("cb", {"name": name}, region="nl-ams")["region"] == "nl-ams"
    other = server.create_ns("cb", {"name": name}, token=OTHER_SECRET_KEY)
    assert other["name"] == name and other["project_id"] != DEFAULT_PROJECT


# --- environment variables and secrets -------------------------------------------------------------------------------


BAD_ENV_KEYS = [
    ("1A", "format"),
    ("A B", "format"),
    ("A$", "format"),
    ("-A", "format"),
    (".A", "format"),
    ("", "format"),
    ("PORT", "constraint"),
    ("SCW_X", "constraint"),
    ("SCW_", "constraint"),
]


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("key,reason", BAD_ENV_KEYS, ids=[k or "empty" for k, _ in BAD_ENV_KEYS])
def test_invalid_environment_variable_keys(server, api, key, reason):
    r = server.post(ns_path(api), {"name": uniq("env"), "environment_variables": {key: "v"}})
    assert_invalid(r, f"environment_variables.{key}")


@pytest.mark.parametrize("api", ALL_APIS)
def test_valid_environment_variable_keys(server, api):
    env = {"_A": "1", "a.b-c_1": "2", "PORTAL": "3", "SCWX": "4", "MY_PORT": "5", "x": ""}
    assert server.create_ns(api, {"environment_variables": env})["environment_variables"] == env


@pytest.mark.parametrize("api", ALL_APIS)
def test_patch_validates_environment_and_leaves_namespace_unchanged(server, api):
    ns = server.create_ns(api, {"environment_variables": {"A": "1"}})
    server.wait_ready(api, ns["id"])
    r = server.patch(ns_path(api, ns_id=ns["id"]), {"environment_variables": {"PORT": "8080"}})
    assert_invalid(r, "environment_variables.PORT", "constraint")
    r = server.patch(ns_path(api, ns_id=ns["id"]), {"environment_variables": {f"K{i}": "v" for i in range(101)}})
    assert_invalid(r, "environment_variables", "constraint")
    got = server.get_ns(api, ns["id"])
    assert got["environment_variables"] == {"A": "1"}
    assert got["status"] == "ready"


@pytest.mark.parametrize("api", ALL_APIS)
def test_environment_variable_limits(server, api):
    hundred = {f"K{i}": "v" for i in range(100)}
    assert len(server.create_ns(api, {"environment_variables": hundred})["environment_variables"]) == 100
    r = server.post(ns_path(api), {"name": uniq("env"), "environment_variables": {f"K{i}": "v" for i in range(101)}})
    assert_invalid(r, "environment_variables", "constraint")

    # 1000 characters (not bytes): 1000 x "é" is 2000 bytes and still allowed
    for value in ("v" * 1000, "\u00e9" * 1000):
        assert server.create_ns(api, {"environment_variables": {"K": value}})["environment_variables"] == {"K": value}
    r = server.post(ns_path(api), {"name": uniq("env"), "environment_variables": {"K": "v" * 1001}})
    assert_invalid(r, "environment_variables.K", "constraint")


def _secrets_body(api: str, secrets: dict[str, str]):
    if api == "c1":
        return secrets
    return [{"key": k, "value": v} for k, v in secrets.items()]


@pytest.mark.parametrize("api", ALL_APIS)
def test_secret_limits(server, api):
    r = server.post(
        ns_path(api),
        {"name": uniq("sec"), "secret_environment_variables": _secrets_body(api, {f"K{i}": "v" for i in range(101)})},
    )
    assert_invalid(r, "secret_environment_variables", "constraint")

    # 65536 bytes is the limit, counted in bytes: "é" is 2 bytes
    for value in ("s" * 65536, "\u00e9" * 32768):
        created = server.create_ns(api, {"secret_environment_variables": _secrets_body(api, {"K": value})})
        secrets = created["secret_environment_variables"]
        keys = list(secrets) if api == "c1" else [s["key"] for s in secrets]
        assert keys == ["K"]
    for value in ("s" * 65537, "\u00e9" * 32768 + "s"):
        r = server.post(
            ns_path(api), {"name": uniq("sec"), "secret_environment_variables": _secrets_body(api, {"K": value})}
        )
        assert_invalid(r, "secret_environment_variables.K", "constraint")


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_secret_with_explicit_null_value_is_deleted(server, api):
    ns = server.create_ns(
        api, {"secret_environment_variables": [{"key": "S1", "value": "a"}, {"key": "S2", "value": "b"}]}
    )
    before = {s["key"]: s["hashed_value"] for s in ns["secret_environment_variables"]}
    r = server.patch(ns_path(api, ns_id=ns["id"]), {"secret_environment_variables": [{"key": "S1", "value": None}]})
    assert r.status_code == 200, r.text
    assert r.json()["secret_environment_variables"] == [{"key": "S2", "hashed_value": before["S2"]}]


@pytest.mark.parametrize("api", BETA_APIS)
def test_v1beta1_secrets_are_returned_in_request_order(server, api):
    ns = server.create_ns(
        api,
        {"secret_environment_variables": [{"key": k, "value": "x"} for k in ("ZETA", "ALPHA", "MID")]},
    )
    assert [s["key"] for s in ns["secret_environment_variables"]] == ["ZETA", "ALPHA", "MID"]
    assert [s["key"] for s in server.get_ns(api, ns["id"])["secret_environment_variables"]] == ["ZETA", "ALPHA", "MID"]


@pytest.mark.parametrize("api", ALL_APIS)
def test_explicit_nulls_mean_not_set(server, api):
    nulls = {"description": None, "tags": None, "environment_variables": None, "secret_environment_variables": None}
    created = server.create_ns(api, dict(nulls))
    assert created["description"] == ""
    assert created["tags"] == []
    assert created["environment_variables"] == {}
    assert created["secret_environment_variables"] == ({} if api == "c1" else [])

    ns = server.create_ns(
        api,
        {
            "description": "d",
            "tags": ["t"],
            "environment_variables": {"A": "1"},
            "secret_environment_variables": _secrets_body(api, {"S": "s"}),
        },
    )
    server.wait_ready(api, ns["id"])
    r = server.patch(ns_path(api, ns_id=ns["id"]), nulls)
    assert r.status_code == 200, r.text
    patched = r.json()
    for field in ("description", "tags", "environment_variables", "secret_environment_variables"):
        assert patched[field] == ns[field], field
    if api == "c1":
        assert patched["status"] == "ready"


# --- malformed requests ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def patch_targets(server):
    """One namespace per API that only ever receives refused PATCHes (its description stays "keep")."""
    return {api: server.create_ns(api, {"description": "keep"}) for api in ALL_APIS}


MALFORMED = ["{bad", "[]", "[1, 2]", '"text"', "42", '{"name": "x"', "{'name': 'x'}"]


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    "raw", MALFORMED, ids=["broken", "array", "array2", "string", "number", "truncated", "single-quotes"]
)
def test_malformed_json_body(server, patch_targets, api, method, raw):
    path = ns_path(api) if method == "POST" else ns_path(api, ns_id=patch_targets[api]["id"])
    r = server.request(method, path, data=raw, headers={"Content-Type": "application/json"})
    assert_invalid(r, "body", "format")


WRONG_TYPES = [
    ({"name": 3}, "name"),
    ({"name": ["a"]}, "name"),
    ({"description": 5}, "description"),
    ({"tags": "x"}, "tags"),
    ({"environment_variables": []}, "environment_variables"),
    ({"environment_variables": "A=1"}, "environment_variables"),
    ({"environment_variables": {"A": 1}}, "environment_variables.A"),
    ({"project_id": "not-a-uuid"}, "project_id"),
    ({"project_id": 7}, "project_id"),
]


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("body,argument", WRONG_TYPES, ids=[a + "-" + type(list(b.values())[0]).__name__ for b, a in WRONG_TYPES])
def test_wrong_types_on_create(server, api, body, argument):
    body = dict(body)
    if argument != "name":
        body["name"] = uniq("typ")
    assert_invalid(server.post(ns_path(api), body), argument)


@pytest.mark.parametrize(
    "api,secrets",
    [("cb", {}), ("cb", "x"), ("fn", {}), ("c1", []), ("c1", "x")],
    ids=["cb-object", "cb-string", "fn-object", "c1-array", "c1-string"],
)
def test_wrong_secret_container_type(server, api, secrets):
    assert_invalid(
        server.post(ns_path(api), {"name": uniq("typ"), "secret_environment_variables": secrets}),
        "secret_environment_variables",
        "format",
    )


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize(
    "body,argument",
    [
        ({"environment_variables": []}, "environment_variables"),
        ({"description": 5}, "description"),
        ({"tags": {"a": 1}}, "tags"),
    ],
    ids=["env-array", "description-int", "tags-object"],
)
def test_wrong_types_on_patch(server, patch_targets, api, body, argument):
    ns = patch_targets[api]
    assert_invalid(server.patch(ns_path(api, ns_id=ns["id"]), body), argument)
    assert server.get_ns(api, ns["id"])["description"] == "keep"


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_namespace_id_must_be_a_uuid(server, api, method):
    r = server.request(method, ns_path(api, ns_id="not-a-uuid"), json_body={} if method == "PATCH" else None)
    assert_invalid(r, "namespace_id", "format")


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize(
    "params,argument",
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": -1}, "page_size"),
        ({"page_size": "x"}, "page_size"),
        ({"page_size": "99999999999999999999"}, "page_size"),
        ({"order_by": "foo"}, "order_by"),
        ({"order_by": "NAME_ASC"}, "order_by"),
        ({"project_id": "nope"}, "project_id"),
        ({"organization_id": "nope"}, "organization_id"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "-".join(f"{k}={x}" for k, x in v.items()),
)
def test_bad_list_parameters(server, api, params, argument):
    assert_invalid(server.get(ns_path(api), params=params), argument)


# --- GET/DELETE ignore bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
def test_get_and_delete_ignore_request_bodies(server, api):
    ns = server.create_ns(api)
    for body in ("{}", "garbage{", '{"name": 3}'):
        r = server.request("GET", ns_path(api, ns_id=ns["id"]), data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, (body, r.text)
        assert r.json()["id"] == ns["id"]
        r = server.request("GET", ns_path(api), data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, (body, r.text)
    r = server.request("DELETE", ns_path(api, ns_id=ns["id"]), data="garbage{", headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deleting"


# --- 404 / 405 and headers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_missing_namespace_404_body(server, api, method):
    missing = str(uuid.uuid4())
    r = server.request(method, ns_path(api, ns_id=missing), json_body={"description": "x"} if method == "PATCH" else None)
    assert r.status_code == 404, r.text
    assert r.json() == not_found_body(api, missing)
    assert r.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("api", ALL_APIS)
def test_second_delete_is_404(server, api):
    ns = server.create_ns(api)
    assert server.delete(ns_path(api, ns_id=ns["id"])).status_code == 200
    for method in ("GET", "DELETE", "PATCH"):
        r = server.request(method, ns_path(api, ns_id=ns["id"]), json_body={"description": "x"} if method == "PATCH" else None)
        assert r.status_code == 404, (method, r.text)
        assert r.json() == not_found_body(api, ns["id"]), method


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/containers/v2/regions/fr-par/namespaces",
        "/containers/v1beta1/regions/fr-par/namespacez",
        "/functions/v1/regions/fr-par/namespaces",
        "/containers/v1/regions/fr-par/namespaces/00000000-0000-4000-8000-00000000000a/extra",
    ],
)
def test_unknown_routes_are_json_404(server, path):
    r = server.get(path)
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["type"] == "not_found"
    assert body["message"] == "resource is not found"
    assert UUID_RE.match(r.headers["X-Request-Id"])


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize(
    "method,item",
    [("PUT", True), ("POST", True), ("PUT", False), ("PATCH", False), ("DELETE", False)],
    ids=["PUT-item", "POST-item", "PUT-collection", "PATCH-collection", "DELETE-collection"],
)
def test_wrong_method_is_json_405(server, api, method, item):
    path = ns_path(api, ns_id=str(uuid.uuid4())) if item else ns_path(api)
    r = server.request(method, path, json_body={})
    assert r.status_code == 405, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["type"] == "method_not_allowed"
    assert isinstance(body["message"], str) and body["message"]
    assert UUID_RE.match(r.headers["X-Request-Id"])


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("method", ["OPTIONS", "HEAD"])
@pytest.mark.parametrize("item", [False, True], ids=["collection", "item"])
def test_head_and_options_on_a_known_route_are_json_405(server, api, method, item):
    """The route exists, only the method is wrong: 405 like PUT, not the unknown-route 404 (HEAD has no body)."""
    path = ns_path(api, ns_id=str(uuid.uuid4())) if item else ns_path(api)
    r = server.request(method, path)
    assert r.status_code == 405, f"{method} {path}: {r.status_code} {r.text}"
    assert r.headers["Content-Type"] == "application/json"
    assert UUID_RE.match(r.headers["X-Request-Id"])
    if method == "HEAD":
        assert r.content == b""
    else:
        assert r.json()["type"] == "method_not_allowed"


@pytest.mark.parametrize("body", ["[" * 100000 + "]" * 100000, '{"name": "deep", "tags": ' + "[" * 100000 + "]" * 100000 + "}"], ids=["array", "in-field"])
def test_deeply_nested_json_is_rejected_and_server_survives(server, body):
    r = server.request("POST", ns_path("cb"), data=body, headers={"Content-Type": "application/json"})
    assert_invalid(r, "body", "format")
    assert server.get("/_mock/health", token=None).json()["status"] == "ready"


def test_oversized_body_is_refused_with_json_and_server_survives(server):
    body = '{"name": "big", "description": "' + "a" * (12 << 20) + '"}'
    r = server.request("POST", ns_path("cb"), data=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 413), r.status_code
    assert r.headers["Content-Type"] == "application/json"
    assert isinstance(r.json()["message"], str)
    assert server.get("/_mock/health", token=None).json()["status"] == "ready"
    assert "big" not in {n["name"] for n in server.list_ns("cb", name="big", page_size=100)["namespaces"]}


def test_every_response_has_json_content_type_and_a_fresh_request_id(server):
    ns = server.create_ns("cb")
    responses = [
        server.get("/_mock/health", token=None),
        server.get(ns_path("cb")),
        server.get(ns_path("cb", ns_id=ns["id"])),
        server.post(ns_path("c1"), {"name": uniq("hdr")}),
        server.patch(ns_path("cb", ns_id=ns["id"]), {"description": "h"}),
        server.delete(ns_path("cb", ns_id=ns["id"])),
        server.get(ns_path("cb", ns_id=ns["id"])),  # 404
        server.get(ns_path("cb"), token=None),  # 401
        server.get(ns_path("cb"), params={"page": 0}),  # 400
        server.post(ns_path("cb"), {"name": "Bad"}),  # 400
        server.get("/nope"),  # 404 route
        server.request("PUT", ns_path("cb")),  # 405
        server.get(ns_path("cb", region="xx-yyy")),  # 400 region
    ]
    seen = set()
    for r in responses:
        assert r.headers.get("Content-Type") == "application/json", (r.request.method, r.url, r.headers)
        rid = r.headers.get("X-Request-Id", "")
        assert UUID_RE.match(rid), (r.url, rid)
        seen.add(rid)
        json.loads(r.content)  # every body is JSON
    assert len(seen) == len(responses)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 200, 404, 401, 400, 400, 404, 405, 400]


# --- regions and kinds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ALL_APIS)
@pytest.mark.parametrize("region", ["xx-yyy", "FR-PAR", "fr_par", "frpar"])
def test_unknown_region_is_400(server, api, region):
    some_id = str(uuid.uuid4())
    assert_invalid(server.get(ns_path(api, region)), "region")
    assert_invalid(server.post(ns_path(api, region), {"name": uniq("reg")}), "region")
    assert_invalid(server.get(ns_path(api, region, some_id)), "region")
    assert_invalid(server.patch(ns_path(api, region, some_id), {"description": "x"}), "region")
    assert_invalid(server.delete(ns_path(api, region, some_id)), "region")


@pytest.mark.parametrize("api", ALL_APIS)
def test_namespaces_are_region_scoped(server, api):
    ns = server.create_ns(api, {"description": "par"})
    for region in ("nl-ams", "pl-waw"):
        for method in ("GET", "PATCH", "DELETE"):
            r = server.request(
                method, ns_path(api, region, ns["id"]), json_body={"description": "x"} if method == "PATCH" else None
            )
            assert r.status_code == 404, (region, method, r.text)
            assert r.json() == not_found_body(api, ns["id"])
        ids = [n["id"] for n in server.list_ns(api, region=region, page_size=100)["namespaces"]]
        assert ns["id"] not in ids
    got = server.wait_ready(api, ns["id"])
    assert (got["region"], got["description"]) == ("fr-par", "par")

    waw = server.create_ns(api, region="pl-waw")
    assert waw["region"] == "pl-waw"
    assert server.get_ns(api, waw["id"], region="pl-waw")["region"] == "pl-waw"
    r = server.get(ns_path(api, "fr-par", waw["id"]))
    assert r.status_code == 404 and r.json() == not_found_body(api, waw["id"])


def test_container_and_function_namespaces_are_separate(server):
    cns = server.create_ns("cb")
    fns = server.create_ns("fn")
    for method in ("GET", "PATCH", "DELETE"):
        body = {"description": "x"} if method == "PATCH" else None
        r = server.request(method, ns_path("fn", ns_id=cns["id"]), json_body=body)
        assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND), method
        r = server.request(method, ns_path("cb", ns_id=fns["id"]), json_body=body)
        assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND), method
        r = server.request(method, ns_path("c1", ns_id=fns["id"]), json_body=body)
        assert (r.status_code, r.json()) == (404, v1_not_found(fns["id"])), method

    def all_ids(api):
        out, page = [], 1
        while True:
            res = server.list_ns(api, page=page, page_size=100)
            if not res["namespaces"]:
                return out
            out += [n["id"] for n in res["namespaces"]]
            page += 1

    fn_ids, cb_ids, c1_ids = all_ids("fn"), all_ids("cb"), all_ids("c1")
    assert fns["id"] in fn_ids and cns["id"] not in fn_ids
    assert cns["id"] in cb_ids and fns["id"] not in cb_ids
    assert cns["id"] in c1_ids and fns["id"] not in c1_ids
    assert sorted(cb_ids) == sorted(c1_ids)  # one container namespace space, two views
    # both survived the cross-kind attempts
    server.wait_ready("cb", cns["id"])
    server.wait_ready("fn", fns["id"])
