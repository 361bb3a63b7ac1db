"""Scaleway's "Restricting access to a container" page (containers docs, 2021), followed step by step.

This product grew from that page, so its own example must work against the mock:

1. Make the container private (`privacy: private`).
2. "Generating a JWT token / Using curl": the page issues the token for a *containers* namespace through the
   **functions** API, with its exact curl:

       curl --location --request GET \\
         'https://api.scaleway.com/functions/v1beta1/regions/fr-par/issue-jwt?namespace_id={your_namespace_id}&expires_at=2022-06-22T00%3A00%3A00Z' \\
         --header 'X-Auth-Token: {your_scaleway_API_key}'

   (the page also shows `/issue-jwt?container_id=…` for a token of one container).
3. Call the container with the token in `X-Auth-Token`.
4. "It needs to be configured inside the container": the container validates the token itself with the public key
   injected as `SCW_PUBLIC_KEY` (and `SCW_NAMESPACE_ID` / `SCW_APPLICATION_ID` for the claims).

The mock once answered step 2 with 404 "Namespace was not found" (the functions API looked only at function
namespaces). Each test runs the real binary with the runtime on; the deployed container is the built-in sample app,
which validates `X-Auth-Token` with `SCW_PUBLIC_KEY` under `--private-auth container` (step 4 as the page means it)
and echoes its environment. Under `--private-auth edge` (the default, as Scaleway does today) the mock's gateway
checks the token, so the same token must also be one the gateway accepts, whichever API issued it.
"""
from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests

import support

KEY = support.DEFAULT_SECRET_KEY
CB = "/containers/v1beta1/regions/fr-par"
# The page's date, 2022-06-22, is in the past now and the mock refuses an `expires_at` in the past (as Scaleway
# did), and the mock clock only moves forward: same URL shape and encoding (`%3A`), a date in the future.
EXPIRES_AT_QUERY = "2036-06-22T00%3A00%3A00Z"
EXPIRES_AT_EPOCH = 2097705600  # 2036-06-22T00:00:00Z


@pytest.fixture(params=["container", "edge"])
def mock(request, tmp_path):
    """The real binary, runtime on, `--private-auth container` (the page's in-container validation) or `edge`."""
    srv = support.MockServer(db_path=tmp_path / "state.sqlite", seed_paths=[support.write_seed(tmp_path)], workdir=tmp_path,
                             runtime=True, key_pool=4,
                             extra_args=["--runtime", "on", "--private-auth", request.param, "--ready-timeout", "15"])
    srv.private_auth = request.param
    srv.start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0, srv.stderr_tail()


def wait_ready(mock, cid: str, deadline: float = 30.0) -> dict:
    end = time.monotonic() + deadline
    while True:
        body = mock.get(f"{CB}/containers/{cid}").json()
        if body["status"] in ("ready", "error"):
            assert body["status"] == "ready", body
            return body
        assert time.monotonic() < end, body
        time.sleep(0.05)


def call_container(mock, cid: str, token: str | None) -> requests.Response:
    """`curl -H "X-Auth-Token: <token>" <container endpoint>` (through the mock's gateway)."""
    return requests.get(f"{mock.url}/_mock/invoke/{cid}/", headers={"X-Auth-Token": token} if token else {}, timeout=30)


def deployed_container(mock) -> tuple[str, str]:
    """A containers namespace with one deployed (public) container: the page's prerequisites."""
    ns = mock.post(f"{CB}/namespaces", {"name": support.uniq("page")}).json()["id"]
    r = mock.post(f"{CB}/containers", {"namespace_id": ns, "name": "my-app", "registry_image": "rg.fr-par.scw.cloud/page/app:latest"})
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    wait_ready(mock, cid)  # created with an image: deployed right away
    return ns, cid


def make_private(mock, cid: str) -> None:
    """Step 1: make the container private; without a token it no longer answers."""
    r = mock.patch(f"{CB}/containers/{cid}", {"privacy": "private"})
    assert r.status_code == 200 and r.json()["privacy"] == "private", r.text
    wait_ready(mock, cid)
    end = time.monotonic() + 30
    # The new privacy reaches the running process (in-container validation) or the gateway.
    while (r := call_container(mock, cid, None)).status_code == 200:
        assert time.monotonic() < end, r.text
        time.sleep(0.1)
    assert r.status_code == (401 if mock.private_auth == "container" else 403), r.text


def issue_jwt_with_the_pages_curl(mock, query: str) -> dict:
    """Step 2: the page's curl, URL written out as the page has it (no client-side re-encoding)."""
    r = requests.get(f"{mock.url}/functions/v1beta1/regions/fr-par/issue-jwt?{query}",
                     headers={"X-Auth-Token": KEY}, allow_redirects=True, timeout=30)  # --location
    assert r.status_code == 200, r.text  # the mock once answered 404 "Namespace was not found"
    return r.json()


def validate_like_the_page(token: str, env: dict, application_id: str) -> dict:
    """Step 4, as user code inside the container would: verify with SCW_PUBLIC_KEY, then check the claims against
    SCW_NAMESPACE_ID / SCW_APPLICATION_ID."""
    claims = jwt.decode(token, env["SCW_PUBLIC_KEY"], algorithms=["RS256"], audience="functions", issuer="SCALEWAY")
    [claim] = claims["application_claim"]
    assert claim["namespace_id"] == env["SCW_NAMESPACE_ID"] or claim["application_id"] == env["SCW_APPLICATION_ID"], claims
    assert claim["application_id"] in ("", application_id), claims
    return claims


def test_the_pages_namespace_token_example(mock):
    ns, cid = deployed_container(mock)
    # Step 1: "Making your container private".
    make_private(mock, cid)

    # Step 2: "Generating a JWT token", the page's curl on the functions API for this containers namespace.
    issued = issue_jwt_with_the_pages_curl(mock, f"namespace_id={ns}&expires_at={EXPIRES_AT_QUERY}")
    assert issued["namespace_id"] == ns and issued["expires_at"] == "2036-06-22T00:00:00Z", issued
    claims = support.check_jwt(issued["token"], issued["public_key"], namespace_id=ns, jti=issued["id"], exp=EXPIRES_AT_EPOCH)

    # Step 3: call the container with the token.
    r = call_container(mock, cid, issued["token"])
    assert r.status_code == 200, r.text
    env = r.json()["env"]
    if mock.private_auth == "container":
        # Step 4 inside the container: the sample app verified the token with SCW_PUBLIC_KEY before answering, and
        # received it untouched.
        assert r.json()["headers"]["x-auth-token"] == issued["token"]
        tampered = issued["token"][:-4] + ("AAAA" if not issued["token"].endswith("AAAA") else "BBBB")
        bad = call_container(mock, cid, tampered)
        assert bad.status_code == 401 and bad.json()["error"].startswith("bad signature"), bad.text
    else:
        # Today's platform: the gateway checked it (a token the store issued, whichever API) and kept it.
        assert "x-auth-token" not in r.json()["headers"]
    # Step 4, as the page's user code: the key injected in the container verifies the token.
    assert env["SCW_PUBLIC_KEY"] == issued["public_key"] and env["SCW_NAMESPACE_ID"] == ns
    assert validate_like_the_page(issued["token"], env, cid) == claims


def test_the_pages_container_token_example(mock):
    ns, cid = deployed_container(mock)
    other_ns, other = deployed_container(mock)
    make_private(mock, cid)
    make_private(mock, other)

    # Step 2, the page's `/issue-jwt?container_id=…` form, still through the functions API.
    issued = issue_jwt_with_the_pages_curl(mock, f"container_id={cid}&expires_at={EXPIRES_AT_QUERY}")
    assert issued["container_id"] == cid and "function_id" not in issued and "namespace_id" not in issued, issued
    support.check_jwt(issued["token"], issued["public_key"], application_id=cid, jti=issued["id"], exp=EXPIRES_AT_EPOCH)

    # Step 3: it opens this container, and only this one.
    r = call_container(mock, cid, issued["token"])
    assert r.status_code == 200, r.text
    validate_like_the_page(issued["token"], r.json()["env"], cid)
    assert call_container(mock, other, issued["token"]).status_code in (401, 403)

    # Legacy tokens stay out of the tokens API, whichever API issued them.
    for api in support.BETA_APIS:
        assert mock.get(support.tokens_path(api)).json()["total_count"] == 0


def test_unknown_ids_are_still_refused_by_the_pages_curl(mock):
    r = requests.get(f"{mock.url}/functions/v1beta1/regions/fr-par/issue-jwt?namespace_id={uuid.uuid4()}&expires_at={EXPIRES_AT_QUERY}",
                     headers={"X-Auth-Token": KEY}, timeout=30)
    assert (r.status_code, r.json()) == (404, support.V1BETA1_NOT_FOUND)
