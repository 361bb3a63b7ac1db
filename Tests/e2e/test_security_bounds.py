"""Bounds on the work one caller can make the mock do (reliability catalog C13 and A28).

- Scaleway's documented quotas (100 namespaces of a kind per project, 1,000 containers / functions per organization,
  50 custom domains per container or function) answer 403 `quotas_exceeded` with Scaleway's body, through the API and
  through `POST /_mock/seed`; `--quota-multiplier 0` lifts them.
- `--secret-hash-cost fast` hashes secrets with cheap Argon2id parameters that still verify.
- A large fixture starts without generating its namespaces' RSA keys: they are `ready` at once and each is keyed on
  first use (a token), and keeps that key across a reset.
"""

from __future__ import annotations

import os
import time

import pytest
import requests
from scaleway.container.v1beta1 import Secret as CbSecret
from scaleway_core.api import ScalewayException

from support import DEFAULT_PROJECT, HTTP_TIMEOUT, make_sdk, verifies

FAST_PREFIX = "$argon2id$v=19$m=1024,t=1,p=1$"
C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"


def quota_body(resource: str, quota: int, current: int) -> dict:
    return {
        "details": [{"current": current, "quota": quota, "resource": resource}],
        "message": "quota(s) exceeded for this resource",
        "type": "quotas_exceeded",
    }


def post_seed(server, text: str) -> requests.Response:
    return requests.post(f"{server.url}/_mock/seed", data=text, headers={"Content-Type": "application/yaml"}, timeout=120)


def namespaces_yaml(prefix: str, count: int, kind: str = "container", region: str = "fr-par") -> str:
    return "namespaces:\n" + "".join(f"  - {{name: {prefix}-{i}, kind: {kind}, region: {region}}}\n" for i in range(count))


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- namespaces ------------------------------------------------------------------------------------------------------


def test_namespace_quota_is_scaleways_error_through_the_sdk(server_factory):
    srv = server_factory(key_pool=2)
    sdk = make_sdk(srv)
    # 100 container namespaces in the default project (through a fixture: no RSA work), then one more by the SDK.
    r = post_seed(srv, namespaces_yaml("q", 100))
    assert r.status_code == 200, r.text
    for api in ("c1", "cb"):  # both container APIs count the same namespaces
        with pytest.raises(ScalewayException) as caught:
            sdk.api(api).create_namespace(name=f"over-{api}")
        assert caught.value.status_code == 403
        assert caught.value.response.json() == quota_body("serverless_containers_namespaces", 100, 100)
    # Nothing was created, and other kinds and regions have their own count.
    assert srv.list_ns("c1", page_size=1)["total_count"] == 100
    assert sdk.fn.create_namespace(name="fn-still-fine").name == "fn-still-fine"
    assert sdk.c1.create_namespace(name="ams-still-fine", region="nl-ams").region == "nl-ams"
    # Deleting one frees a place.
    victim = srv.list_ns("c1", page_size=1)["namespaces"][0]["id"]
    assert srv.delete(f"{C1}/namespaces/{victim}").status_code == 200
    assert sdk.c1.create_namespace(name="after-delete").name == "after-delete"


def test_posted_seed_over_the_namespace_quota_is_refused_whole(server_factory):
    srv = server_factory(key_pool=2)
    r = post_seed(srv, namespaces_yaml("big", 101, kind="function"))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "invalid_arguments"
    assert [d["argument_name"] for d in body["details"]] == ["namespaces[100]"], body
    assert "quota" in body["details"][0]["help_message"], body
    # Refused whole: not even the first 100 were written.
    assert srv.list_ns("fn", page_size=1)["total_count"] == 0


def test_quota_multiplier_raises_the_quotas_and_zero_lifts_them(server_factory):
    doubled = server_factory(key_pool=2, extra_args=["--quota-multiplier", "2"])
    assert post_seed(doubled, namespaces_yaml("q", 200)).status_code == 200
    r = doubled.post(f"{C1}/namespaces", {"name": "over", "project_id": DEFAULT_PROJECT})
    assert r.status_code == 403, r.text
    assert r.json() == quota_body("serverless_containers_namespaces", 200, 200)

    unbounded = server_factory(key_pool=2, extra_args=["--quota-multiplier", "0"])
    assert post_seed(unbounded, namespaces_yaml("q", 150)).status_code == 200
    assert make_sdk(unbounded).c1.create_namespace(name="one-more").name == "one-more"
    assert unbounded.list_ns("c1", page_size=1)["total_count"] == 151


# --- containers, functions, domains ----------------------------------------------------------------------------------


def test_container_and_function_quotas_per_organization(server_factory):
    srv = server_factory(key_pool=2)
    # 1,000 of each over ten namespaces of each kind, through a fixture (deploy: false: nothing runs).
    doc = namespaces_yaml("cns", 10) + "".join(f"  - {{name: fns-{i}, kind: function}}\n" for i in range(10))
    doc += "containers:\n" + "".join(f"  - {{namespace: cns-{i % 10}, name: c-{i}, deploy: false}}\n" for i in range(1000))
    doc += "functions:\n" + "".join(
        f"  - {{namespace: fns-{i % 10}, name: f-{i}, runtime: python311, deploy: false}}\n" for i in range(1000))
    r = post_seed(srv, doc)
    assert r.status_code == 200, r.text
    ns = srv.list_ns("c1", page_size=1)["namespaces"][0]["id"]
    r = srv.post(f"{C1}/containers", {"namespace_id": ns, "name": "one-too-many", "image": "nginx:latest"})
    assert r.status_code == 403, r.text
    assert r.json() == quota_body("serverless_containers_containers", 1000, 1000)
    r = srv.post(f"{CB}/containers", {"namespace_id": ns, "name": "one-too-many"})
    assert r.status_code == 403, r.text
    fns = srv.list_ns("fn", page_size=1)["namespaces"][0]["id"]
    r = srv.post("/functions/v1beta1/regions/fr-par/functions", {"namespace_id": fns, "name": "one-too-many", "runtime": "python311"})
    assert r.status_code == 403, r.text
    assert r.json() == quota_body("serverless_functions_functions", 1000, 1000)
    # A fixture cannot go past it either.
    r = post_seed(srv, f"containers:\n  - {{namespace: {ns}, name: by-seed, deploy: false}}\n")
    assert r.status_code == 400 and "quota" in r.text, r.text


def test_custom_domain_quota_per_container(server):
    ns = server.wait_ready("c1", server.create_ns("c1")["id"])
    r = server.post(f"{C1}/containers", {"namespace_id": ns["id"], "name": "domains", "image": "nginx:latest"})
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    for i in range(50):
        r = server.post(f"{C1}/domains", {"container_id": cid, "hostname": f"d{i}.{cid[:8]}.example.com"})
        assert r.status_code == 200, r.text
    r = server.post(f"{C1}/domains", {"container_id": cid, "hostname": f"d50.{cid[:8]}.example.com"})
    assert r.status_code == 403, r.text
    assert r.json() == quota_body("serverless_containers_domains", 50, 50)


# --- secret hash cost ------------------------------------------------------------------------------------------------


def test_fast_secret_hash_cost_gives_cheap_verifiable_hashes(server_factory):
    srv = server_factory(key_pool=2, extra_args=["--secret-hash-cost", "fast"])
    sdk = make_sdk(srv)
    v1 = sdk.c1.create_namespace(name="fast-v1", secret_environment_variables={"TOKEN": "s3cret-v1"})
    beta = sdk.cb.create_namespace(name="fast-beta", secret_environment_variables=[CbSecret(key="TOKEN", value="s3cret-b")])
    hashes = [v1.secret_environment_variables["TOKEN"], beta.secret_environment_variables[0].hashed_value]
    for phc, plain in zip(hashes, ["s3cret-v1", "s3cret-b"]):
        assert phc.startswith(FAST_PREFIX), phc
        assert verifies(phc, plain)
        assert not verifies(phc, plain + "x")
    r = srv.post(f"{C1}/containers", {"namespace_id": v1.id, "name": "fast", "image": "nginx:latest",
                                      "secret_environment_variables": {"K": "v"}})
    assert r.status_code == 200, r.text
    phc = r.json()["secret_environment_variables"]["K"]
    assert phc.startswith(FAST_PREFIX) and verifies(phc, "v"), phc


# --- lazy keys for large fixtures ------------------------------------------------------------------------------------


def test_large_seed_starts_without_generating_keys_and_keys_on_first_use(server_factory, tmp_path):
    count = 2000
    seed = tmp_path / "many.yaml"
    seed.write_text(namespaces_yaml("many", count))
    started = time.monotonic()
    # Over Scaleway's 100 per project: an operator's load-test fixture needs the quota lifted.
    srv = server_factory(key_pool=2, extra_seeds=[seed], extra_args=["--quota-multiplier", "0"])
    startup = time.monotonic() - started
    assert startup < 30, f"start took {startup:.1f}s"
    # Give a background forge time to show itself: the pool is full, so any CPU now would be keys for the fixture.
    time.sleep(2)
    cpu_before = cpu_seconds(srv.proc.pid)
    time.sleep(3)
    burnt = cpu_seconds(srv.proc.pid) - cpu_before
    assert burnt < 1.0, f"{burnt:.2f}s of CPU while idle: keys are being generated for the fixture"
    keys = requests.get(f"{srv.url}/_mock/jwks.json", timeout=HTTP_TIMEOUT).json()["keys"]
    assert keys == [], f"{len(keys)} namespace keys exist before any was used"

    # Every seeded namespace is ready at once; the last one gets its key when a token is asked for.
    page = srv.list_ns("cb", page_size=100, order_by="created_at_desc")
    assert page["total_count"] == count
    assert {n["status"] for n in page["namespaces"]} == {"ready"}
    last = page["namespaces"][0]
    asked = time.monotonic()
    token = make_sdk(srv).cb.create_token(namespace_id=last["id"])
    assert time.monotonic() - asked < 10
    public = requests.get(f"{srv.url}/_mock/namespaces/{last['id']}/public-key", timeout=HTTP_TIMEOUT).text
    assert public == token.public_key
    kids = [k["kid"] for k in requests.get(f"{srv.url}/_mock/jwks.json", timeout=HTTP_TIMEOUT).json()["keys"]]
    assert kids == [last["id"]]

    # The key made on first use survives a reset to the seeded state (tokens issued with it keep verifying).
    assert requests.post(f"{srv.url}/_mock/reset", timeout=HTTP_TIMEOUT).status_code in (200, 204)
    again = requests.get(f"{srv.url}/_mock/namespaces/{last['id']}/public-key", timeout=HTTP_TIMEOUT).text
    assert again == public
