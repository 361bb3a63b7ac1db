"""Containers through containers v1beta1 (ContainerV1Beta1API) and v1 (ContainerV1API): shapes, defaults, statuses,
secrets, validation, errors, lists, waiters and container tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import pytest
from scaleway.container.v1 import ContainerProbe, ContainerProbeHTTPProbe
from scaleway.container.v1 import ContainerScalingOption as V1ScalingOption
from scaleway.container.v1beta1 import ContainerHealthCheckSpec, ContainerHealthCheckSpecHTTPProbe
from scaleway.container.v1beta1 import Secret as CbSecret
from scaleway_core.api import ScalewayException

from support import (
    API_PREFIX,
    ARGON_V1_PREFIX,
    ARGON_V1BETA1_PREFIX,
    OTHER_PROJECT,
    OTHER_SECRET_KEY,
    TOKEN_NOT_FOUND,
    TS_RE,
    UUID_RE,
    V1BETA1_NOT_FOUND,
    ServerFactory,
    check_jwt,
    fraction_digits,
    ns_path,
    registry_prefix,
    round_to_micros,
    tokens_path,
    uniq,
    v1_not_found,
    verifies,
)

APIS = ("cb", "c1")
CB_NOT_FOUND = {"message": "Container was not found"}
DUPLICATE = {"message": "Container already exist"}
IMAGE = "nginx:1.29.4-alpine"
TRANSIENT = {"cb": "pending", "c1": "updating"}

CB_KEYS = {
    "id", "name", "namespace_id", "status", "environment_variables", "min_scale", "max_scale", "memory_limit",
    "cpu_limit", "timeout", "error_message", "privacy", "description", "registry_image", "max_concurrency",
    "domain_name", "protocol", "port", "secret_environment_variables", "http_option", "sandbox",
    "local_storage_limit", "scaling_option", "created_at", "updated_at", "ready_at", "health_check", "tags",
    "private_network_id", "command", "args", "region",
}  # fmt: skip
C1_KEYS = {
    "id", "name", "namespace_id", "description", "status", "error_message", "created_at", "updated_at", "min_scale",
    "max_scale", "memory_limit_bytes", "mvcpu_limit", "timeout", "privacy", "image", "protocol", "port",
    "https_connections_only", "sandbox", "local_storage_limit_bytes", "scaling_option", "tags", "command", "args",
    "environment_variables", "public_endpoint", "liveness_probe", "startup_probe", "secret_environment_variables",
    "region",
}  # fmt: skip (plus private_network_id when set)


# --- helpers ---------------------------------------------------------------------------------------------------------


def c_path(api: str, cid: Optional[str] = None, action: Optional[str] = None, region: str = "fr-par") -> str:
    path = f"{API_PREFIX[api]}/regions/{region}/containers"
    if cid:
        path += f"/{cid}"
    if action:
        path += f"/{action}"
    return path


def not_found(api: str, cid: str) -> dict:
    if api == "cb":
        return CB_NOT_FOUND
    return {"message": "resource is not found", "resource": "container", "resource_id": cid, "type": "not_found"}


def container_denied(action: str) -> dict:
    return {
        "details": [{"action": action, "resource": "container"}],
        "message": "insufficient permissions",
        "type": "permissions_denied",
    }


def create(server, api: str, ns_id: str, body: Optional[dict] = None, token: Optional[str] = None) -> dict:
    body = dict(body or {})
    body.setdefault("name", uniq("c")[:20])
    body["namespace_id"] = ns_id
    if api == "c1":
        body.setdefault("image", IMAGE)
    kw = {"token": token} if token else {}
    r = server.post(c_path(api), body, **kw)
    assert r.status_code == 200, f"create failed: {r.status_code} {r.text}"
    return r.json()


def get(server, api: str, cid: str) -> dict:
    r = server.get(c_path(api, cid))
    assert r.status_code == 200, r.text
    return r.json()


def patch(server, api: str, cid: str, body: dict) -> dict:
    r = server.patch(c_path(api, cid), body)
    assert r.status_code == 200, r.text
    return r.json()


def prefix(ns: dict) -> str:
    return registry_prefix(ns["name"]) + ns["id"][:8]


def domain(ns: dict, name: str, region: str = "fr-par") -> str:
    return f"{prefix(ns)}-{name}.functions.fnc.{region}.scw.cloud"


def cb_defaults(ns: dict, name: str) -> dict:
    return {
        "name": name,
        "namespace_id": ns["id"],
        "status": "created",
        "environment_variables": {},
        "min_scale": 0,
        "max_scale": 5,
        "memory_limit": 2048,
        "cpu_limit": 1000,
        "timeout": "300s",
        "error_message": None,
        "privacy": "public",
        "description": "",
        "registry_image": f"rg.fr-par.scw.cloud/funcscw{prefix(ns)}/{name}:latest",
        "max_concurrency": 50,
        "domain_name": domain(ns, name),
        "protocol": "http1",
        "port": 8080,
        "secret_environment_variables": [],
        "http_option": "enabled",
        "sandbox": "v2",
        "local_storage_limit": 1000,
        "scaling_option": {"concurrent_requests_threshold": 50},
        "ready_at": None,
        "health_check": {"failure_threshold": 30, "interval": "10s", "tcp": {}},
        "tags": [],
        "private_network_id": None,
        "command": [],
        "args": [],
        "region": "fr-par",
    }


def c1_defaults(ns: dict, name: str, image: str = IMAGE) -> dict:
    return {
        "name": name,
        "namespace_id": ns["id"],
        "description": "",
        "status": "creating",
        "min_scale": 0,
        "max_scale": 5,
        "memory_limit_bytes": 2048000000,
        "mvcpu_limit": 1000,
        "timeout": "300s",
        "privacy": "public",
        "image": image,
        "protocol": "http1",
        "port": 8080,
        "https_connections_only": False,
        "sandbox": "v2",
        "local_storage_limit_bytes": 1000000000,
        "scaling_option": {"concurrent_requests_threshold": 50},
        "tags": [],
        "command": [],
        "args": [],
        "environment_variables": {},
        "public_endpoint": "https://" + domain(ns, name),
        "liveness_probe": {"failure_threshold": 30, "interval": "10s", "timeout": "1s", "tcp": {}},
        "startup_probe": None,
        "secret_environment_variables": {},
        "region": "fr-par",
    }


def ts(stamp: str) -> dt.datetime:
    """An RFC 3339 UTC stamp with 0, 6 or 9 fractional digits as a datetime (to the microsecond)."""
    m = TS_RE.match(stamp)
    assert m, stamp
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    return base + dt.timedelta(microseconds=int((m.group(2) or "0")[:6].ljust(6, "0")))


def without(d: dict, *keys: str) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


def assert_invalid(r, argument_name: str, reason: Optional[str] = None):
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "invalid_arguments" and body["message"] == "invalid argument(s)", body
    names = [d["argument_name"] for d in body["details"]]
    assert argument_name in names, body
    detail = body["details"][names.index(argument_name)]
    assert detail["help_message"], body
    if reason:
        assert detail["reason"] == reason, body


# --- fixtures --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ns(server):
    """A ready container namespace whose long name exercises the 20-character prefix cut."""
    created = server.create_ns("cb", {"name": uniq("containers-namespace-long")})
    assert len(created["name"].replace("-", "")) > 20 and len(registry_prefix(created["name"])) == 20
    return server.wait_ready("cb", created["id"])


@pytest.fixture(scope="module")
def fn_ns(server):
    return server.create_ns("fn")


@pytest.fixture(scope="module")
def other_ns(server):
    return server.create_ns("cb", token=OTHER_SECRET_KEY)


@pytest.fixture(scope="module")
def vpc_ns(server):
    return server.create_ns("cb", {"activate_vpc_integration": True})


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """--transition-delay 5: deploys stay transient long enough to hit them."""
    factory = ServerFactory(tmp_path_factory.mktemp("scw-mock-slow-containers"))
    srv = factory(transition_delay=5, key_pool=2)
    yield srv
    factory.stop_all()


# --- create and read -------------------------------------------------------------------------------------------------


def test_v1beta1_create_without_image_is_created_with_defaults(server, sdk, ns):
    name = uniq("plain")[:20]
    created = create(server, "cb", ns["id"], {"name": name})
    assert set(created) == CB_KEYS
    assert without(created, "id", "created_at", "updated_at") == cb_defaults(ns, name)
    assert UUID_RE.match(created["id"])
    assert fraction_digits(created["created_at"]) == 9 and created["updated_at"] == created["created_at"]
    assert len(prefix(ns)) == 28

    got = get(server, "cb", created["id"])
    assert without(got, "created_at", "updated_at") == without(created, "created_at", "updated_at")
    assert got["status"] == "created"  # never deployed: stays created
    assert fraction_digits(got["created_at"]) == 6
    assert got["created_at"] == round_to_micros(created["created_at"])
    assert sdk.cb.get_container(container_id=created["id"]).registry_image == created["registry_image"]


def test_v1beta1_create_with_image_deploys_and_settles(server, sdk, ns):
    name = uniq("img")[:20]
    created = create(server, "cb", ns["id"], {"name": name, "registry_image": "nginx:latest"})
    assert created["status"] == "pending"
    assert without(created, "id", "created_at", "updated_at") == dict(
        cb_defaults(ns, name), status="pending", registry_image="nginx:latest"
    )
    got = get(server, "cb", created["id"])
    assert got["status"] == "ready"
    assert got["error_message"] is None
    assert fraction_digits(got["ready_at"]) == 6 and got["ready_at"] >= got["created_at"]
    assert got["updated_at"] >= got["created_at"]


def test_v1_create_with_defaults_then_ready(server, sdk, ns):
    name = uniq("v1")[:20]
    created = create(server, "c1", ns["id"], {"name": name})
    assert set(created) == C1_KEYS - {"error_message"}  # omitted while creating; private_network_id omitted
    assert without(created, "id", "created_at", "updated_at") == c1_defaults(ns, name)
    assert fraction_digits(created["created_at"]) == 6 and created["updated_at"] == created["created_at"]

    got = get(server, "c1", created["id"])
    assert set(got) == C1_KEYS
    assert (got["status"], got["error_message"]) == ("ready", "")
    assert without(got, "status", "error_message", "updated_at") == without(created, "status", "updated_at")
    # once the platform settles a deploy, v1 shows updated_at in whole seconds, unless cutting them would put it
    # before created_at (a deploy that settled within the same second): then the microsecond value
    assert (fraction_digits(got["updated_at"]) == 0 and ts(got["updated_at"]) >= ts(created["created_at"])) \
        or got["updated_at"] == created["created_at"]


def test_v1_image_is_required_and_v1beta1_name_and_namespace_are(server, ns):
    assert_invalid(server.post(c_path("c1"), {"namespace_id": ns["id"], "name": "x"}), "image", "required")
    assert_invalid(server.post(c_path("c1"), {"namespace_id": ns["id"], "image": IMAGE}), "name", "required")
    assert_invalid(server.post(c_path("c1"), {"name": "x", "image": IMAGE}), "namespace_id", "required")
    assert_invalid(server.post(c_path("cb"), {"namespace_id": ns["id"]}), "name", "required")
    assert_invalid(server.post(c_path("cb"), {"name": "x"}), "namespace_id", "required")
    assert_invalid(server.post(c_path("cb"), {"name": "x", "namespace_id": "nope"}), "namespace_id", "format")


def test_one_container_two_shapes(server, sdk, ns):
    # created through v1 with settings, read through v1beta1
    v1 = sdk.c1.create_container(
        namespace_id=ns["id"],
        name=uniq("both")[:20],
        image=IMAGE,
        memory_limit_bytes=256000000,
        mvcpu_limit=140,
        min_scale=1,
        max_scale=3,
        timeout="60s",
        privacy="private",
        description="shared",
        protocol="h2c",
        port=80,
        https_connections_only=True,
        local_storage_limit_bytes=2000000000,
        scaling_option=V1ScalingOption(concurrent_requests_threshold=None, cpu_usage_threshold=70, memory_usage_threshold=None),
        liveness_probe=ContainerProbe(
            failure_threshold=3, interval="20s", timeout="5s", http=ContainerProbeHTTPProbe(path="/health")
        ),
        environment_variables={"A": "1"},
        secret_environment_variables={"S": "v1-secret"},
        tags=["t"],
        command=["/bin/app"],
        args=["--flag"],
    )
    assert v1.status == "creating"
    beta = get(server, "cb", v1.id)
    expected_beta = dict(
        cb_defaults(ns, v1.name),
        status="ready",
        memory_limit=256,
        cpu_limit=140,
        min_scale=1,
        max_scale=3,
        timeout="60s",
        privacy="private",
        description="shared",
        protocol="h2c",
        port=80,
        http_option="redirected",
        local_storage_limit=2000,
        scaling_option={"cpu_usage_threshold": 70},
        health_check={"failure_threshold": 3, "interval": "20s", "http": {"path": "/health"}},
        environment_variables={"A": "1"},
        secret_environment_variables=[{"key": "S", "hashed_value": v1.secret_environment_variables["S"]}],
        tags=["t"],
        command=["/bin/app"],
        args=["--flag"],
        registry_image=IMAGE,
    )
    assert without(beta, "id", "created_at", "updated_at", "ready_at") == without(expected_beta, "ready_at")
    assert beta["ready_at"] is not None
    assert v1.public_endpoint == "https://" + beta["domain_name"]
    assert verifies(v1.secret_environment_variables["S"], "v1-secret")
    assert v1.secret_environment_variables["S"].startswith(ARGON_V1_PREFIX)

    # created through v1beta1, read through v1
    cb = sdk.cb.create_container(
        namespace_id=ns["id"],
        name=uniq("both")[:20],
        registry_image="rg.fr-par.scw.cloud/ns/app:1.0",
        memory_limit=512,
        http_option="enabled",
        secret_environment_variables=[CbSecret(key="T", value="beta-secret")],
        health_check=ContainerHealthCheckSpec(
            failure_threshold=5, interval="30s", http=ContainerHealthCheckSpecHTTPProbe(path="/ready")
        ),
        max_concurrency=80,
    )
    assert cb.status == "pending"
    assert cb.cpu_limit == 280  # derived from 512 MB
    seen = get(server, "c1", cb.id)
    assert seen["status"] == "ready" and seen["error_message"] == ""
    assert without(seen, "id", "created_at", "updated_at", "status", "error_message") == without(
        dict(
            c1_defaults(ns, cb.name, "rg.fr-par.scw.cloud/ns/app:1.0"),
            memory_limit_bytes=512000000,
            mvcpu_limit=280,
            liveness_probe={"failure_threshold": 5, "interval": "30s", "timeout": "1s", "http": {"path": "/ready"}},
            secret_environment_variables={"T": cb.secret_environment_variables[0].hashed_value},
            scaling_option={"concurrent_requests_threshold": 80},  # max_concurrency alone sets it
        ),
        "status",
    )
    assert cb.secret_environment_variables[0].hashed_value.startswith(ARGON_V1BETA1_PREFIX)
    # max_concurrency is v1beta1 only, and is kept across versions
    assert get(server, "cb", cb.id)["max_concurrency"] == 80
    # the SDK objects of both versions agree
    v1_view = sdk.c1.get_container(container_id=cb.id)
    beta_view = sdk.cb.get_container(container_id=v1.id)
    assert v1_view.public_endpoint == "https://" + cb.domain_name
    assert beta_view.domain_name == v1.public_endpoint[len("https://") :]


def test_never_deployed_v1beta1_container_through_v1(server, ns):
    """`created` has no v1 word; the mock's documented choice is `ready` with error_message ""."""
    created = create(server, "cb", ns["id"])
    seen = get(server, "c1", created["id"])
    assert (seen["status"], seen["error_message"]) == ("ready", "")
    assert seen["image"] == created["registry_image"]


@pytest.mark.parametrize("api", APIS)
def test_memory_without_cpu_derives_cpu(server, ns, api):
    def make(memory_mb: int, cpu: Optional[int] = None) -> dict:
        if api == "cb":
            body = {"memory_limit": memory_mb} | ({"cpu_limit": cpu} if cpu else {})
        else:
            body = {"memory_limit_bytes": memory_mb * 1000000} | ({"mvcpu_limit": cpu} if cpu else {})
        return create(server, api, ns["id"], body)

    cpu_key, mem_key, scale = ("cpu_limit", "memory_limit", 1) if api == "cb" else ("mvcpu_limit", "memory_limit_bytes", 1000000)
    for memory, derived in ((128, 70), (256, 140), (1024, 560)):
        c = make(memory)
        assert (c[mem_key], c[cpu_key]) == (memory * scale, derived), memory
    # an explicit CPU wins
    for memory, cpu in ((128, 1120), (256, 280)):
        c = make(memory, cpu)
        assert (c[mem_key], c[cpu_key]) == (memory * scale, cpu)
    # a later memory PATCH keeps the CPU
    c = make(256)
    patched = patch(server, api, c["id"], {mem_key: 512 * scale})
    assert (patched[mem_key], patched[cpu_key]) == (512 * scale, 140)


@pytest.mark.parametrize("api", APIS)
def test_durations_are_normalised(server, ns, api):
    probe_key = "health_check" if api == "cb" else "liveness_probe"
    probe = {"failure_threshold": 3, "interval": "10.000000000s", "http": {"path": "/test"}}
    if api == "c1":
        probe["timeout"] = "30.000000000s"
    c = create(server, api, ns["id"], {"timeout": "300.000000000s", probe_key: probe})
    assert c["timeout"] == "300s"
    expected_probe = {"failure_threshold": 3, "interval": "10s", "http": {"path": "/test"}}
    if api == "c1":
        expected_probe["timeout"] = "30s"
    assert c[probe_key] == expected_probe
    assert patch(server, api, c["id"], {"timeout": "60s"})["timeout"] == "60s"
    assert patch(server, api, c["id"], {"timeout": "900.000000000s"})["timeout"] == "900s"


def test_v1_startup_probe_and_probe_patches(server, ns):
    c = create(
        server,
        "c1",
        ns["id"],
        {"startup_probe": {"failure_threshold": 10, "interval": "5s", "timeout": "2s", "tcp": {}}},
    )
    assert c["startup_probe"] == {"failure_threshold": 10, "interval": "5s", "timeout": "2s", "tcp": {}}
    assert c["liveness_probe"] == {"failure_threshold": 30, "interval": "10s", "timeout": "1s", "tcp": {}}
    p = patch(server, "c1", c["id"], {"liveness_probe": {"failure_threshold": 4, "http": {"path": "/h"}}})
    assert p["liveness_probe"]["http"] == {"path": "/h"} and "tcp" not in p["liveness_probe"]
    assert p["liveness_probe"]["failure_threshold"] == 4
    assert p["startup_probe"] == c["startup_probe"]


def test_partial_probe_patches_keep_the_current_values(server, sdk, ns):
    probe = {"failure_threshold": 3, "interval": "20s", "timeout": "5s", "http": {"path": "/health"}}
    c = create(server, "c1", ns["id"], {"liveness_probe": probe, "startup_probe": probe})
    upd = sdk.c1.update_container(container_id=c["id"], liveness_probe=ContainerProbe(failure_threshold=9))
    assert (upd.liveness_probe.failure_threshold, upd.liveness_probe.interval, upd.liveness_probe.timeout) == (9, "20s", "5s")
    assert upd.liveness_probe.http.path == "/health"
    p = patch(server, "c1", c["id"], {"startup_probe": {"interval": "40s"}})
    assert p["startup_probe"] == dict(probe, interval="40s")
    b = patch(server, "cb", c["id"], {"health_check": {"failure_threshold": 4}})
    assert b["health_check"] == {"failure_threshold": 4, "interval": "20s", "http": {"path": "/health"}}
    assert get(server, "c1", c["id"])["liveness_probe"] == {"failure_threshold": 4, "interval": "20s", "timeout": "5s", "http": {"path": "/health"}}


def test_v1beta1_max_concurrency_is_the_concurrent_requests_threshold(server, ns):
    c = create(server, "cb", ns["id"], {"max_concurrency": 80})
    assert (c["max_concurrency"], c["scaling_option"]) == (80, {"concurrent_requests_threshold": 80})
    p = patch(server, "cb", c["id"], {"max_concurrency": 30})
    assert (p["max_concurrency"], p["scaling_option"]) == (30, {"concurrent_requests_threshold": 30})
    patch(server, "c1", c["id"], {"scaling_option": {"concurrent_requests_threshold": 40}})
    assert get(server, "cb", c["id"])["max_concurrency"] == 40


def test_non_integer_numbers_name_their_field(server, ns):
    c = create(server, "cb", ns["id"])
    assert_invalid(server.patch(c_path("cb", c["id"]), {"min_scale": 1.5}), "min_scale", "format")
    assert_invalid(server.patch(c_path("c1", c["id"]), {"liveness_probe": {"failure_threshold": 2.5}}), "liveness_probe.failure_threshold")


def test_v1beta1_secret_merge_keeps_the_limit(server, ns):
    c = create(server, "cb", ns["id"], {"secret_environment_variables": [{"key": f"S{i}", "value": "v"} for i in range(60)]})
    r = server.patch(c_path("cb", c["id"]), {"secret_environment_variables": [{"key": f"T{i}", "value": "v"} for i in range(41)]})
    assert_invalid(r, "secret_environment_variables", "constraint")
    assert len(get(server, "cb", c["id"])["secret_environment_variables"]) == 60


def test_v1beta1_bad_name_without_image_is_only_a_name_problem(server, ns):
    r = server.post(c_path("cb"), {"namespace_id": ns["id"], "name": "Bad_Name"})
    assert r.status_code == 400 and [d["argument_name"] for d in r.json()["details"]] == ["name"]


@pytest.mark.parametrize("api", APIS)
def test_unknown_sentinels_in_patch_mean_unchanged(server, ns, api):
    if api == "cb":
        body = {"privacy": "private", "protocol": "h2c", "sandbox": "v1", "http_option": "redirected"}
        sentinels = {
            "privacy": "unknown_privacy",
            "protocol": "unknown_protocol",
            "sandbox": "unknown_sandbox",
            "http_option": "unknown_http_option",
        }
    else:
        body = {"privacy": "private", "protocol": "h2c", "sandbox": "v1", "https_connections_only": True}
        sentinels = {"privacy": "unknown_privacy", "protocol": "unknown_protocol", "sandbox": "unknown_sandbox"}
    c = create(server, api, ns["id"], body)
    p = patch(server, api, c["id"], dict(sentinels, description="only this"))
    for field, value in body.items():
        assert p[field] == value, field
    assert p["description"] == "only this"
    # on create, the sentinels give the defaults
    d = create(server, api, ns["id"], dict(sentinels))
    assert (d["privacy"], d["protocol"], d["sandbox"]) == ("public", "http1", "v2")
    # an unknown value that is not the sentinel is refused
    assert_invalid(server.patch(c_path(api, c["id"]), {"privacy": "secret"}), "privacy")


def test_v1_https_flag_spellings(server, ns):
    c = create(server, "c1", ns["id"], {"https_connections_only": True})
    assert c["https_connections_only"] is True
    assert get(server, "cb", c["id"])["http_option"] == "redirected"
    # PATCH spells it https_connection_only (singular), as both SDKs do
    assert patch(server, "c1", c["id"], {"https_connection_only": False})["https_connections_only"] is False
    assert get(server, "cb", c["id"])["http_option"] == "enabled"
    assert patch(server, "cb", c["id"], {"http_option": "redirected"})["http_option"] == "redirected"
    assert get(server, "c1", c["id"])["https_connections_only"] is True


def test_private_network_is_accepted_without_vpc_integration(server, sdk, ns, vpc_ns):
    # Recorded 2026: `private_network_id` is accepted on create and PATCH whatever the namespace's
    # `vpc_integration_activated` (the 2025 400 "vpc integration must be activated on its parent namespace" is gone).
    assert server.get(ns_path("cb", ns_id=ns["id"])).json()["vpc_integration_activated"] is False
    network, other = str(uuid.uuid4()), str(uuid.uuid4())
    created = sdk.cb.create_container(namespace_id=ns["id"], name=uniq("pn")[:20], private_network_id=network)
    assert created.private_network_id == network
    assert sdk.cb.update_container(container_id=created.id, private_network_id=other).private_network_id == other
    v1 = sdk.c1.create_container(namespace_id=ns["id"], name=uniq("pn1")[:20], image=IMAGE, private_network_id=network)
    assert v1.private_network_id == network
    assert sdk.c1.update_container(container_id=v1.id, private_network_id=other).private_network_id == other
    assert get(server, "cb", v1.id)["private_network_id"] == other

    attached = create(server, "cb", vpc_ns["id"], {"private_network_id": network})
    assert attached["private_network_id"] == network
    assert get(server, "c1", attached["id"])["private_network_id"] == network
    assert_invalid(
        server.post(c_path("cb"), {"namespace_id": vpc_ns["id"], "name": "bad-pn", "private_network_id": "nope"}),
        "private_network_id",
        "format",
    )


def test_v1_private_network_is_omitted_when_unset_and_detached_by_empty_string(server, ns):
    network = str(uuid.uuid4())
    c = create(server, "c1", ns["id"], {"private_network_id": network})
    assert c["private_network_id"] == network
    p = patch(server, "c1", c["id"], {"private_network_id": ""})
    assert "private_network_id" not in p
    assert "private_network_id" not in get(server, "c1", c["id"])
    assert get(server, "cb", c["id"])["private_network_id"] is None


@pytest.mark.parametrize("api", APIS)
def test_lists_null_means_empty_and_patch_clears(server, ns, api):
    c = create(server, api, ns["id"], {"tags": None, "command": None, "args": None, "environment_variables": None})
    assert (c["tags"], c["command"], c["args"], c["environment_variables"]) == ([], [], [], {})
    c = create(server, api, ns["id"], {"tags": ["a"], "command": ["sh"], "args": ["-c", "x"], "environment_variables": {"A": "1"}})
    p = patch(server, api, c["id"], {"tags": [], "command": [], "args": [], "environment_variables": {}})
    assert (p["tags"], p["command"], p["args"], p["environment_variables"]) == ([], [], [], {})
    p = patch(server, api, c["id"], {"tags": None, "command": None, "description": "d"})
    assert (p["tags"], p["command"], p["description"]) == ([], [], "d")


# --- status machine --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"min_scale": 1},
        {"environment_variables": {"A": "1"}},
        {"registry_image": "nginx:latest"},
        {"privacy": "private"},
        {"secret_environment_variables": [{"key": "K", "value": "v"}]},
        {"redeploy": True},
    ],
    ids=["min_scale", "env", "image", "privacy", "secret", "redeploy-flag"],
)
def test_v1beta1_every_patch_but_metadata_redeploys(server, ns, body):
    c = create(server, "cb", ns["id"], {"registry_image": IMAGE})
    assert get(server, "cb", c["id"])["status"] == "ready"
    p = patch(server, "cb", c["id"], body)
    assert p["status"] == "pending"
    got = get(server, "cb", c["id"])
    assert got["status"] == "ready" and got["ready_at"] >= get(server, "cb", c["id"])["created_at"]


@pytest.mark.parametrize("api", APIS)
def test_description_and_tags_only_patch_redeploys_too(server, ns, api):
    # v1beta1: every PATCH redeploys → pending; v1: PATCH → updating (only namespaces keep their status)
    c = create(server, api, ns["id"], {"registry_image": IMAGE} if api == "cb" else None)
    ready = get(server, api, c["id"])
    assert ready["status"] == "ready"
    p = patch(server, api, c["id"], {"description": "meta", "tags": ["x"]})
    assert (p["status"], p["description"], p["tags"]) == ("pending" if api == "cb" else "updating", "meta", ["x"])
    assert ts(p["updated_at"]) > ts(ready["updated_at"]), f"updated_at went from {ready['updated_at']} to {p['updated_at']}"
    assert get(server, api, c["id"])["status"] == "ready"
    if api == "cb":
        # a never-deployed container deploys on any PATCH, description-only included (PATCH → pending)
        never = create(server, "cb", ns["id"])
        assert patch(server, "cb", never["id"], {"description": "meta"})["status"] == "pending"
        assert get(server, "cb", never["id"])["status"] == "ready"


def test_v1beta1_deploy(server, sdk, ns):
    c = create(server, "cb", ns["id"])
    deployed = sdk.cb.deploy_container(container_id=c["id"])
    assert deployed.status == "pending" and deployed.ready_at is None
    got = get(server, "cb", c["id"])
    assert got["status"] == "ready" and got["ready_at"] is not None
    again = sdk.cb.deploy_container(container_id=c["id"])
    assert again.status == "pending"
    assert sdk.cb.get_container(container_id=c["id"]).status == "ready"


def test_v1_update_and_redeploy(server, sdk, ns):
    c = sdk.c1.create_container(namespace_id=ns["id"], name=uniq("up")[:20], image=IMAGE)
    assert sdk.c1.get_container(container_id=c.id).status == "ready"
    upd = sdk.c1.update_container(container_id=c.id, min_scale=2)
    assert (upd.status, upd.min_scale) == ("updating", 2)
    r = server.patch(c_path("c1", c.id), {"max_scale": 4})
    assert r.json()["status"] == "updating" and "error_message" not in r.json()
    ready = get(server, "c1", c.id)
    assert (ready["status"], ready["error_message"], ready["max_scale"]) == ("ready", "", 4)
    redeployed = sdk.c1.redeploy_container(container_id=c.id)
    assert redeployed.status == "updating"
    assert sdk.c1.get_container(container_id=c.id).status == "ready"


def test_sdk_waiters(sdk, ns):
    """The SDK waiter sleeps at least 1 s before its first read, so every case waits at once, in parallel."""
    never = sdk.cb.create_container(namespace_id=ns["id"], name=uniq("w-never")[:20])
    deploying = sdk.cb.create_container(namespace_id=ns["id"], name=uniq("w-dep")[:20], registry_image=IMAGE)
    creating = sdk.c1.create_container(namespace_id=ns["id"], name=uniq("w-v1")[:20], image=IMAGE)
    redeployed = sdk.cb.create_container(namespace_id=ns["id"], name=uniq("w-redep")[:20])
    updated = sdk.c1.create_container(namespace_id=ns["id"], name=uniq("w-upd")[:20], image=IMAGE)
    assert sdk.cb.deploy_container(container_id=redeployed.id).status == "pending"
    assert sdk.c1.get_container(container_id=updated.id).status == "ready"
    assert sdk.c1.update_container(container_id=updated.id, port=80).status == "updating"
    assert (never.status, deploying.status, creating.status) == ("created", "pending", "creating")
    jobs = {
        "never": (sdk.cb, never.id),
        "deploying": (sdk.cb, deploying.id),
        "creating": (sdk.c1, creating.id),
        "redeployed": (sdk.cb, redeployed.id),
        "updated": (sdk.c1, updated.id),
    }
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {k: pool.submit(api.wait_for_container, container_id=cid) for k, (api, cid) in jobs.items()}
        waited = {k: f.result(timeout=60) for k, f in futures.items()}
    # `created` is terminal for the v1beta1 waiter: it returns a never-deployed container as is
    assert (waited["never"].status, waited["never"].ready_at) == ("created", None)
    assert waited["deploying"].status == "ready" and waited["deploying"].ready_at is not None
    assert waited["redeployed"].status == "ready" and waited["redeployed"].ready_at is not None
    assert waited["creating"].status == "ready" and waited["creating"].error_message == ""
    assert (waited["updated"].status, waited["updated"].port) == ("ready", 80)


def test_deploys_in_progress_refuse_another_deploy(slow):
    srv = slow
    ns = srv.create_ns("cb")
    beta = create(srv, "cb", ns["id"], {"registry_image": IMAGE})
    v1 = create(srv, "c1", ns["id"])
    never = create(srv, "cb", ns["id"])
    assert (beta["status"], v1["status"], never["status"]) == ("pending", "creating", "created")

    def transient(cid: str, state: str) -> dict:
        return {
            "current_state": state,
            "message": "resource is in a transient state",
            "resource": "container",
            "resource_id": cid,
            "type": "transient_state",
        }

    r = srv.post(c_path("cb", beta["id"], "deploy"), {})
    assert (r.status_code, r.json()) == (409, transient(beta["id"], "pending"))
    r = srv.post(c_path("c1", v1["id"], "redeploy"), {})
    assert (r.status_code, r.json()) == (409, transient(v1["id"], "creating"))
    r = srv.post(c_path("cb", v1["id"], "deploy"), {})
    assert (r.status_code, r.json()) == (409, transient(v1["id"], "pending"))
    r = srv.post(c_path("c1", beta["id"], "redeploy"), {})
    assert (r.status_code, r.json()) == (409, transient(beta["id"], "creating"))

    # still transient on read; v1 omits error_message while creating
    assert get(srv, "cb", beta["id"])["status"] == "pending"
    seen = get(srv, "c1", v1["id"])
    assert seen["status"] == "creating" and "error_message" not in seen
    # a PATCH during a deploy is accepted and joins it
    assert patch(srv, "cb", beta["id"], {"min_scale": 1})["status"] == "pending"
    assert patch(srv, "c1", v1["id"], {"description": "meta"})["status"] == "creating"
    # a never-deployed container can be deployed, then is transient too
    assert srv.post(c_path("cb", never["id"], "deploy"), {}).json()["status"] == "pending"
    r = srv.post(c_path("cb", never["id"], "deploy"), {})
    assert (r.status_code, r.json()) == (409, transient(never["id"], "pending"))
    # deleting a deploying container is allowed
    r = srv.delete(c_path("c1", v1["id"]))
    assert (r.status_code, r.json()["status"]) == (200, "deleting")


# --- secrets ---------------------------------------------------------------------------------------------------------


def test_v1beta1_container_secrets_merge(server, sdk, ns):
    c = sdk.cb.create_container(
        namespace_id=ns["id"],
        name=uniq("sec")[:20],
        secret_environment_variables=[CbSecret("ZETA", "z"), CbSecret("ALPHA", "a"), CbSecret("MID", "m")],
    )
    assert [s.key for s in c.secret_environment_variables] == ["ZETA", "ALPHA", "MID"]
    before = {s.key: s.hashed_value for s in c.secret_environment_variables}
    for key, plain in (("ZETA", "z"), ("ALPHA", "a"), ("MID", "m")):
        assert before[key].startswith(ARGON_V1BETA1_PREFIX) and verifies(before[key], plain)
    upd = sdk.cb.update_container(
        container_id=c.id,
        secret_environment_variables=[CbSecret("ZETA", None), CbSecret("MID", "m2"), CbSecret("NEW", "n")],
    )
    after = {s.key: s.hashed_value for s in upd.secret_environment_variables}
    assert set(after) == {"ALPHA", "MID", "NEW"}
    assert after["ALPHA"] == before["ALPHA"]
    assert verifies(after["MID"], "m2") and not verifies(after["MID"], "m")
    assert verifies(after["NEW"], "n")
    got = sdk.cb.get_container(container_id=c.id)
    assert {s.key: s.hashed_value for s in got.secret_environment_variables} == after


def test_v1_container_secrets_replace(server, sdk, ns):
    c = sdk.c1.create_container(
        namespace_id=ns["id"], name=uniq("sec1")[:20], image=IMAGE, secret_environment_variables={"S1": "one", "S2": "two"}
    )
    before = dict(c.secret_environment_variables)
    assert before["S1"].startswith(ARGON_V1_PREFIX) and verifies(before["S1"], "one")
    upd = sdk.c1.update_container(container_id=c.id, secret_environment_variables={"S1": "", "S3": "three"})
    assert sorted(upd.secret_environment_variables) == ["S1", "S3"]
    assert upd.secret_environment_variables["S1"] == before["S1"]
    assert verifies(upd.secret_environment_variables["S3"], "three")
    untouched = sdk.c1.update_container(container_id=c.id, description="x")
    assert untouched.secret_environment_variables == upd.secret_environment_variables
    cleared = patch(server, "c1", c.id, {"secret_environment_variables": {}})
    assert cleared["secret_environment_variables"] == {}


# --- validation ------------------------------------------------------------------------------------------------------

# (case id, v1beta1 body, v1beta1 argument, v1 body, v1 argument)
INVALID = [
    ("min-over-max", {"min_scale": 3, "max_scale": 2}, "min_scale", {"min_scale": 3, "max_scale": 2}, "min_scale"),
    ("max-scale-51", {"max_scale": 51}, "max_scale", {"max_scale": 51}, "max_scale"),
    ("cpu-69", {"cpu_limit": 69}, "cpu_limit", {"mvcpu_limit": 69}, "mvcpu_limit"),
    ("cpu-6001", {"cpu_limit": 6001}, "cpu_limit", {"mvcpu_limit": 6001}, "mvcpu_limit"),
    ("memory-127", {"memory_limit": 127}, "memory_limit", {"memory_limit_bytes": 127000000}, "memory_limit_bytes"),
    ("port-0", {"port": 0}, "port", {"port": 0}, "port"),
    ("port-65536", {"port": 65536}, "port", {"port": 65536}, "port"),
    ("port-8008", {"port": 8008}, "port", {"port": 8008}, "port"),
    ("port-9090", {"port": 9090}, "port", {"port": 9090}, "port"),
    ("env-PORT", {"environment_variables": {"PORT": "1"}}, "environment_variables.PORT", {"environment_variables": {"PORT": "1"}}, "environment_variables.PORT"),
    ("env-SCW", {"environment_variables": {"SCW_X": "1"}}, "environment_variables.SCW_X", {"environment_variables": {"SCW_X": "1"}}, "environment_variables.SCW_X"),
    ("image-upper", {"registry_image": "UPPER/case"}, "registry_image", {"image": "UPPER/case"}, "image"),
    ("image-space", {"registry_image": "a b"}, "registry_image", {"image": "a b"}, "image"),
    ("image-dotdot", {"registry_image": "../x"}, "registry_image", {"image": "../x"}, "image"),
    ("timeout-5m", {"timeout": "5m"}, "timeout", {"timeout": "5m"}, "timeout"),
    ("timeout-negative", {"timeout": "-1s"}, "timeout", {"timeout": "-1s"}, "timeout"),
    ("timeout-901s", {"timeout": "901s"}, "timeout", {"timeout": "901s"}, "timeout"),
    ("timeout-fraction", {"timeout": "1.5s"}, "timeout", {"timeout": "1.5s"}, "timeout"),
    ("probe-threshold-0", {"health_check": {"failure_threshold": 0, "tcp": {}}}, "health_check.failure_threshold", {"liveness_probe": {"failure_threshold": 0, "tcp": {}}}, "liveness_probe.failure_threshold"),
    ("probe-http-and-tcp", {"health_check": {"failure_threshold": 3, "http": {"path": "/"}, "tcp": {}}}, "health_check", {"liveness_probe": {"failure_threshold": 3, "http": {"path": "/"}, "tcp": {}}}, "liveness_probe"),
    ("scaling-two", {"scaling_option": {"concurrent_requests_threshold": 10, "cpu_usage_threshold": 50}}, "scaling_option", {"scaling_option": {"concurrent_requests_threshold": 10, "cpu_usage_threshold": 50}}, "scaling_option"),
    ("scaling-none", {"scaling_option": {}}, "scaling_option", {"scaling_option": {}}, "scaling_option"),
    ("storage-0", {"local_storage_limit": 0}, "local_storage_limit", {"local_storage_limit_bytes": 0}, "local_storage_limit_bytes"),
    ("max-concurrency-81", {"max_concurrency": 81}, "max_concurrency", None, None),
    ("http-option", {"http_option": "bogus"}, "http_option", None, None),
    ("name-upper", {"name": "Upper"}, "name", {"name": "Upper"}, "name"),
    ("name-35", {"name": "a" * 35}, "name", {"name": "a" * 35}, "name"),
    ("port-string", {"port": "80"}, "port", {"port": "80"}, "port"),
]  # fmt: skip
INVALID_CASES = [
    pytest.param(api, case, id=f"{case[0]}-{api}") for case in INVALID for api in APIS if case[1 if api == "cb" else 3] is not None
]


@pytest.mark.parametrize("api,case", INVALID_CASES)
def test_invalid_settings_are_400_in_the_apis_own_spelling(server, ns, api, case):
    _, cb_body, cb_arg, c1_body, c1_arg = case
    body = dict(cb_body if api == "cb" else c1_body)
    argument = cb_arg if api == "cb" else c1_arg
    body.setdefault("name", uniq("bad")[:20])
    body["namespace_id"] = ns["id"]
    if api == "c1":
        body.setdefault("image", IMAGE)
    assert_invalid(server.post(c_path(api), body), argument)


@pytest.mark.parametrize("api", APIS)
def test_invalid_patch_leaves_the_container_unchanged(server, ns, api):
    c = create(server, api, ns["id"], {"description": "keep"})
    cpu = "cpu_limit" if api == "cb" else "mvcpu_limit"
    for body, argument in (({cpu: 69}, cpu), ({"port": 8008}, "port"), ({"max_scale": 0}, "max_scale"), ({"timeout": "5m"}, "timeout")):
        assert_invalid(server.patch(c_path(api, c["id"]), dict(body, description="changed")), argument)
    got = get(server, api, c["id"])
    assert got["description"] == "keep" and got["port"] == 8080 and got["max_scale"] == 5


@pytest.mark.parametrize("api", APIS)
def test_valid_edge_values_are_accepted(server, ns, api):
    cpu, mem, image = ("cpu_limit", "memory_limit", "registry_image") if api == "cb" else ("mvcpu_limit", "memory_limit_bytes", "image")
    scale = 1 if api == "cb" else 1000000
    c = create(
        server,
        api,
        ns["id"],
        {cpu: 6000, mem: 128 * scale, "min_scale": 50, "max_scale": 50, "port": 65535, "timeout": "1s",
         image: "localhost:5000/my.repo/app_x-1:v1.0-rc.1", "environment_variables": {"SCWX": "1", "MY_PORT": "2"}},
    )  # fmt: skip
    assert (c[cpu], c[mem], c["min_scale"], c["port"], c["timeout"]) == (6000, 128 * scale, 50, 65535, "1s")
    digest = "rg.fr-par.scw.cloud/ns/app@sha256:" + "a" * 64
    assert create(server, api, ns["id"], {image: digest})[image] == digest
    assert create(server, api, ns["id"], {"port": 1})["port"] == 1


# --- where a container may live --------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_namespace_must_be_a_container_namespace_of_the_callers_project(server, ns, fn_ns, other_ns, api):
    missing = str(uuid.uuid4())
    expected_404 = (lambda i: V1BETA1_NOT_FOUND) if api == "cb" else v1_not_found
    for ns_id in (fn_ns["id"], missing):
        r = server.post(c_path(api), {"namespace_id": ns_id, "name": "x", "image": IMAGE})
        assert (r.status_code, r.json()) == (404, expected_404(ns_id))
    r = server.post(c_path(api, region="nl-ams"), {"namespace_id": ns["id"], "name": "x", "image": IMAGE})
    assert (r.status_code, r.json()) == (404, expected_404(ns["id"]))
    r = server.post(c_path(api), {"namespace_id": other_ns["id"], "name": "x", "image": IMAGE})
    assert (r.status_code, r.json()) == (403, container_denied("write"))
    # the other project's key may use its own namespace
    theirs = create(server, api, other_ns["id"], token=OTHER_SECRET_KEY)
    assert theirs["namespace_id"] == other_ns["id"]


@pytest.mark.parametrize("api", APIS)
def test_duplicate_names_in_a_namespace_conflict(server, ns, vpc_ns, api):
    other_api = "c1" if api == "cb" else "cb"
    name = uniq("dup")[:20]
    first = create(server, api, ns["id"], {"name": name})
    for a in (api, other_api):
        r = server.post(c_path(a), {"namespace_id": ns["id"], "name": name, "image": IMAGE})
        assert (r.status_code, r.json()) == (409, DUPLICATE), a
    # another namespace may use the name; after a delete the name is free again
    assert create(server, api, vpc_ns["id"], {"name": name})["name"] == name
    assert server.delete(c_path(api, first["id"])).status_code == 200
    assert create(server, other_api, ns["id"], {"name": name})["name"] == name


# --- errors, auth, methods -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_unknown_container_404_bodies(server, api):
    missing = str(uuid.uuid4())
    action = "deploy" if api == "cb" else "redeploy"
    for method, path, body in (
        ("GET", c_path(api, missing), None),
        ("PATCH", c_path(api, missing), {"description": "x"}),
        ("DELETE", c_path(api, missing), None),
        ("POST", c_path(api, missing, action), {}),
    ):
        r = server.request(method, path, json_body=body)
        assert (r.status_code, r.json()) == (404, not_found(api, missing)), method
        assert r.headers["Content-Type"] == "application/json"
    assert_invalid(server.get(c_path(api, "not-a-uuid")), "container_id", "format")


@pytest.mark.parametrize("api", APIS)
def test_containers_are_region_scoped(server, ns, api):
    c = create(server, api, ns["id"])
    r = server.get(c_path(api, c["id"], region="nl-ams"))
    assert (r.status_code, r.json()) == (404, not_found(api, c["id"]))
    ids = [x["id"] for x in server.get(c_path(api, region="nl-ams"), params={"page_size": 100}).json()["containers"]]
    assert c["id"] not in ids


@pytest.mark.parametrize("api", APIS)
def test_another_projects_key_gets_403(server, ns, api):
    c = create(server, api, ns["id"], {"description": "mine"})
    action = "deploy" if api == "cb" else "redeploy"
    for method, path, body, verb in (
        ("GET", c_path(api, c["id"]), None, "read"),
        ("PATCH", c_path(api, c["id"]), {"description": "theirs"}, "write"),
        ("POST", c_path(api, c["id"], action), {}, "write"),
        ("DELETE", c_path(api, c["id"]), None, "write"),
    ):
        r = server.request(method, path, json_body=body, token=OTHER_SECRET_KEY)
        assert (r.status_code, r.json()) == (403, container_denied(verb)), method
    listed = server.get(c_path(api), params={"namespace_id": ns["id"]}, token=OTHER_SECRET_KEY).json()
    assert listed == {"containers": [], "total_count": 0}
    r = server.get(c_path(api), params={"project_id": OTHER_PROJECT})
    assert (r.status_code, r.json()) == (403, container_denied("read"))
    assert get(server, api, c["id"])["description"] == "mine"
    r = server.get(c_path(api, c["id"]), token=None)
    assert r.status_code == 401 and r.json()["type"] == "denied_authentication"


@pytest.mark.parametrize("api", APIS)
def test_wrong_methods_on_container_routes_are_json_405(server, api):
    some = str(uuid.uuid4())
    action = "deploy" if api == "cb" else "redeploy"
    for method, path in (
        ("PUT", c_path(api)),
        ("DELETE", c_path(api)),
        ("PUT", c_path(api, some)),
        ("POST", c_path(api, some)),
        ("GET", c_path(api, some, action)),
        ("HEAD", c_path(api)),
        ("HEAD", c_path(api, some)),
        ("OPTIONS", c_path(api, some)),
        ("OPTIONS", c_path(api, some, action)),
    ):
        r = server.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/json"
        if method != "HEAD":
            assert r.json()["type"] == "method_not_allowed"
    # the other version's action does not exist
    other_action = "redeploy" if api == "cb" else "deploy"
    r = server.post(c_path(api, some, other_action), {})
    assert r.status_code == 404 and r.json()["type"] == "not_found"


# --- delete ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_delete_returns_deleting_then_404(server, sdk, ns, api):
    c = create(server, api, ns["id"], {"environment_variables": {"A": "1"}})
    deleted = sdk.api(api).delete_container(container_id=c["id"])
    assert (deleted.id, deleted.status, deleted.environment_variables) == (c["id"], "deleting", {"A": "1"})
    for a in APIS:
        for method in ("GET", "DELETE"):
            r = server.request(method, c_path(a, c["id"]))
            assert (r.status_code, r.json()) == (404, not_found(a, c["id"])), (a, method)
    with pytest.raises(ScalewayException) as err:
        sdk.api(api).get_container(container_id=c["id"])
    assert err.value.status_code == 404


def test_deleting_a_namespace_deletes_its_containers_and_their_tokens(server):
    ns = server.create_ns("cb")
    containers = [create(server, api, ns["id"]) for api in APIS]
    token = server.post(tokens_path("cb"), {"container_id": containers[0]["id"]}).json()
    assert server.delete(ns_path("cb", ns_id=ns["id"])).status_code == 200
    for c in containers:
        for api in APIS:
            r = server.get(c_path(api, c["id"]))
            assert (r.status_code, r.json()) == (404, not_found(api, c["id"]))
    for api in APIS:
        r = server.get(c_path(api), params={"namespace_id": ns["id"]})
        assert r.json() == {"containers": [], "total_count": 0}
    r = server.get(tokens_path("cb", token_id=token["id"]))
    assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)
    r = server.post(c_path("cb"), {"namespace_id": ns["id"], "name": "late"})
    assert (r.status_code, r.json()) == (404, V1BETA1_NOT_FOUND)


# --- container tokens ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_container_tokens(server, sdk, ns, api):
    c = create(server, api, ns["id"])
    pem = server.get(f"/_mock/namespaces/{ns['id']}/public-key", token=None).text
    token = sdk.cb.create_token(container_id=c["id"], description="app")
    assert (token.container_id, token.namespace_id, token.status) == (c["id"], None, "creating")
    assert token.public_key == pem
    check_jwt(token.token, pem, namespace_id="", application_id=c["id"], jti=token.id)

    r = server.post(tokens_path("cb"), {"container_id": c["id"], "expires_at": "2036-01-01T00:00:00+01:00"})
    raw = r.json()
    assert set(raw) == {"id", "token", "public_key", "status", "expires_at", "description", "container_id"}
    assert raw["expires_at"] == "2035-12-31T23:00:00Z"
    exp = int(dt.datetime(2035, 12, 31, 23, tzinfo=dt.timezone.utc).timestamp())
    check_jwt(raw["token"], pem, application_id=c["id"], jti=raw["id"], exp=exp)
    legacy = server.get(f"{API_PREFIX['cb']}/regions/fr-par/issue-jwt", params={"container_id": c["id"]}).json()
    assert legacy["container_id"] == c["id"] and legacy["status"] == "ready"
    check_jwt(legacy["token"], pem, application_id=c["id"], jti=legacy["id"])

    listed = sdk.cb.list_tokens(container_id=c["id"])
    assert sorted(t.id for t in listed.tokens) == sorted([token.id, raw["id"]]) and listed.total_count == 2
    # the functions API does not know containers
    r = server.post(tokens_path("fn"), {"function_id": c["id"]})
    assert (r.status_code, r.json()) == (404, {"message": "Function was not found"})

    # deleting the container deletes its tokens
    assert server.delete(c_path(api, c["id"])).status_code == 200
    for tid in (token.id, raw["id"]):
        r = server.get(tokens_path("cb", token_id=tid))
        assert (r.status_code, r.json()) == (404, TOKEN_NOT_FOUND)
    r = server.post(tokens_path("cb"), {"container_id": c["id"]})
    assert (r.status_code, r.json()) == (404, CB_NOT_FOUND)


# --- lists -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_list_filters_paging_and_order(server, sdk, api):
    a = sdk.api(api)
    home = server.create_ns("cb")
    elsewhere = server.create_ns("cb")
    names = ["delta-app", "alpha-app", "charlie-app", "bravo-app", "alpha-two"]
    ids = [create(server, api, home["id"], {"name": n})["id"] for n in names]
    stray = create(server, api, elsewhere["id"], {"name": "alpha-app"})["id"]
    by_name = [i for _, i in sorted(zip(names, ids))]

    res = a.list_containers(namespace_id=home["id"])
    assert ([c.id for c in res.containers], res.total_count) == (ids, 5)
    for page, expected in ((1, ids[:2]), (2, ids[2:4]), (3, ids[4:]), (4, [])):
        res = a.list_containers(namespace_id=home["id"], page=page, page_size=2, order_by="created_at_asc")
        assert ([c.id for c in res.containers], res.total_count) == (expected, 5), page
    for order, expected in (
        ("created_at_desc", ids[::-1]),
        ("name_asc", by_name),
        ("name_desc", by_name[::-1]),
    ):
        assert [c.id for c in a.list_containers(namespace_id=home["id"], order_by=order).containers] == expected, order
    assert [c.id for c in a.list_containers_all(namespace_id=home["id"], page_size=2)] == ids
    assert [c.id for c in a.list_containers_all(namespace_id=home["id"], order_by="name_desc", page_size=3)] == by_name[::-1]

    # name filter: case-insensitive substring, combined with paging
    res = a.list_containers(namespace_id=home["id"], name="ALPHA")
    assert ([c.id for c in res.containers], res.total_count) == ([ids[1], ids[4]], 2)
    res = a.list_containers(namespace_id=home["id"], name="alpha", page=2, page_size=1)
    assert ([c.id for c in res.containers], res.total_count) == ([ids[4]], 2)
    assert a.list_containers(namespace_id=home["id"], name="zzz").total_count == 0
    # without a namespace: every namespace of the project
    everywhere = {c.id for c in a.list_containers_all(namespace_id=None, name="alpha-app", page_size=100)}
    assert {ids[1], stray} <= everywhere
    # both versions list the same containers
    other = "c1" if api == "cb" else "cb"
    assert [c.id for c in sdk.api(other).list_containers(namespace_id=home["id"]).containers] == ids

    for params, argument in (
        ({"order_by": "foo"}, "order_by"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"namespace_id": "nope"}, "namespace_id"),
    ):
        assert_invalid(server.get(c_path(api), params=params), argument)
