"""Reliability catalog C08/C09: forged tokens expire, and revocation survives a reset.

- C08: `POST /_mock/tokens/forge` kind `not_yet_valid` is genuinely signed; without `exp` it became, once its `nbf`
  had passed (clock advance, or an hour), a permanent credential for every private container of the namespace. Now
  every kind carries `exp` (at most one hour after `nbf`), and the gateway accepts only tokens the store issued.
- C09: `POST /_mock/reset` restored the revocation list of the seeded state, so a token deleted through the tokens
  API verified again (and was no longer listed, so it could not be revoked again). Now the gateway accepts a token
  only if the store knows its `jti` and it is not revoked: tokens minted after the seed are unknown after a reset,
  while the seed's tokens (fixture `tokens:` and `token_file`) and legacy `issue-jwt` tokens keep working.

Each test runs the real binary with the runtime on (`--private-auth edge`, the default) and calls a private seeded
container (the built-in sample app) through `/_mock/invoke/<id>/`.
"""
from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import support

KEY = support.DEFAULT_SECRET_KEY
CB = "/containers/v1beta1/regions/fr-par"
NS = "5ec12000-0000-4000-8000-0000000000c1"
PRIVATE = "5ec12000-0000-4000-8000-0000000000a1"
SEEDED_TOKEN = "5ec12000-0000-4000-8000-0000000000e1"  # a fixture token with a fixed id
SEED = f"""\
namespaces:
  - id: {NS}
    name: sec-tokens
    kind: container
    key_file: ns-key.pem
containers:
  - id: {PRIVATE}
    namespace: sec-tokens
    name: private-api
    image: rg.fr-par.scw.cloud/sectokens/api:latest
    privacy: private
tokens:
  - id: {SEEDED_TOKEN}
    namespace: sec-tokens
    description: seeded with an id
  - container: private-api
    description: seeded without an id
token_file: tokens.json
"""


class Mock:
    """The real binary, runtime on, seeded with SEED; restartable on its database."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = workdir / "state.sqlite"
        self.seed = workdir / "seed.yaml"
        self.seed.write_text(SEED)
        # The namespace's key is the fixture's, so it stays the same whichever way a reset goes back to the seed.
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (workdir / "ns-key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
        self.start()

    def start(self):
        args = [str(support.binary_path()), "serve", "--port", "0", "--database", str(self.db), "--seed", str(self.seed),
                "--key-size", "2048", "--key-pool", "2", "--runtime", "on", "--ready-timeout", "15"]
        self.stderr = open(self.workdir / "stderr.log", "ab")
        self.proc = support.retry_text_file_busy(lambda: subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL, text=True))
        line = self.proc.stdout.readline()
        env = support.parse_export_line(line.rstrip("\n"))
        assert env, f"no export line: {line!r}"
        self.url = env["SCW_API_URL"]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.stderr.close()
        return rc

    def call(self, method, path, key=KEY, **kw):
        return support.keyed_request(self.url, method, path, key, **kw)

    def invoke(self, token, app=PRIVATE) -> requests.Response:
        return requests.get(f"{self.url}/_mock/invoke/{app}/", headers={"X-Auth-Token": token}, timeout=30)

    def token_file(self) -> dict:
        return json.loads((self.workdir / "tokens.json").read_text())

    def seeded(self, description: str) -> str:
        """The token file's JWT of the fixture token with this description."""
        listed = self.call("GET", f"{CB}/tokens", params={"page_size": 100}).json()["tokens"]
        token_id = next(t["id"] for t in listed if t["description"] == description)
        return self.token_file()[token_id]

    def mint(self, **scope) -> dict:
        r = self.call("POST", f"{CB}/tokens", json=scope)
        assert r.status_code == 200, r.text
        return r.json()

    def reset(self, **params):
        r = self.call("POST", "/_mock/reset", key=None, params=params)
        assert r.status_code == 200, r.text

    def wait_serving(self, deadline=60.0):
        """The private container answers the API key (its process runs again, e.g. after a reset)."""
        end = time.monotonic() + deadline
        while (r := self.invoke(KEY)).status_code != 200:
            assert time.monotonic() < end, (r.status_code, r.text)
            time.sleep(0.1)

    def accepted(self, token) -> bool:
        r = self.invoke(token)
        assert r.status_code in (200, 403), (r.status_code, r.text)
        return r.status_code == 200

    def refusal(self, token) -> str:
        r = self.invoke(token)
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["type"] == "permissions_denied", r.text
        return r.json()["message"]

    def listed_ids(self) -> set:
        return {t["id"] for t in self.call("GET", f"{CB}/tokens", params={"page_size": 100}).json()["tokens"]}

    def advance(self, seconds: int):
        r = self.call("POST", "/_mock/clock", key=None, json={"advance_seconds": seconds})
        assert r.status_code == 200, r.text

    def now(self) -> int:
        return int(time.time() + float(self.call("GET", "/_mock/clock", key=None).json()["offset_seconds"]))


@pytest.fixture
def mock(tmp_path):
    m = Mock(tmp_path)
    m.wait_serving()
    yield m
    if m.proc.poll() is None:
        assert m.stop() == 0


def payload(token: str) -> dict:
    seg = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def forge(m: Mock, kind: str) -> str:
    scope = {"container_id": PRIVATE} if kind == "wrong_container" else {"namespace_id": NS}
    r = m.call("POST", "/_mock/tokens/forge", key=None, json={"kind": kind, **scope})
    assert r.status_code == 200, (kind, r.text)
    return r.json()["token"]


def forge_kinds(m: Mock) -> list[str]:
    r = m.call("POST", "/_mock/tokens/forge", key=None, json={"kind": "?", "namespace_id": NS})
    return r.json()["details"][0]["help_message"].split("one of ", 1)[1].split(", ")


# --- C08: forged tokens expire -----------------------------------------------------------------------------------------

def test_every_forge_kind_carries_exp(mock):
    kinds = forge_kinds(mock)
    assert "not_yet_valid" in kinds and len(kinds) >= 9, kinds
    for kind in kinds:
        claims = payload(forge(mock, kind))
        assert isinstance(claims.get("exp"), int), (kind, claims)
        if kind != "tampered_payload":  # its payload's far exp is the attack (the signature covers another exp)
            assert claims["exp"] <= claims["nbf"] + 3600, (kind, claims)


def test_forged_not_yet_valid_lives_at_most_an_hour_and_never_opens_the_gateway(mock):
    token = forge(mock, "not_yet_valid")
    claims = payload(token)
    now = mock.now()
    assert claims["nbf"] > now + 60 and now < claims["exp"] <= claims["nbf"] + 3600, claims
    # It is genuinely signed by the namespace key (an offline verifier accepts it between nbf and exp, then never).
    pem = mock.call("GET", f"/_mock/namespaces/{NS}/public-key?format=spki", key=None).text
    key = serialization.load_pem_public_key(pem.encode())
    h, p, s = token.split(".")
    key.verify(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert "not yet valid" in mock.refusal(token)
    # Its hour comes: the gateway still refuses it (it is not a token the store issued) ...
    mock.advance(claims["nbf"] - now + 5)
    assert "unknown" in mock.refusal(token)
    # ... and once its exp has passed it is expired for every verifier.
    mock.advance(3600)
    assert mock.refusal(token) == "token expired"
    # Real tokens still pass on the moved clock.
    assert mock.accepted(mock.mint(namespace_id=NS)["token"])


def test_a_token_signed_with_the_exported_key_is_refused_at_the_gateway(mock):
    """The private key is test data (`GET /_mock/state`), so a well-formed token signed with it proves nothing: the
    gateway wants a token id the store issued."""
    state = mock.call("GET", "/_mock/state", key=None).json()
    pem = next(n["key_pem"] for n in state["namespaces"] if n["id"] == NS)
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    now = mock.now()
    body = {"application_claim": [{"namespace_id": NS, "application_id": ""}], "version": 2, "aud": "functions",
            "jti": str(uuid.uuid4()), "iat": now, "iss": "SCALEWAY", "nbf": now, "sub": "token"}
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing_input = b64(b'{"alg":"RS256","typ":"JWT"}') + "." + b64(json.dumps(body, separators=(",", ":")).encode())
    token = signing_input + "." + b64(private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))
    assert "unknown" in mock.refusal(token)


# --- C09: revocation survives reset ------------------------------------------------------------------------------------

def test_a_revoked_token_stays_refused_after_a_reset(mock):
    minted = mock.mint(namespace_id=NS)
    assert mock.accepted(minted["token"])
    assert mock.call("DELETE", f"{CB}/tokens/{minted['id']}").status_code == 200
    assert "revoked" in mock.refusal(minted["token"])
    for _ in range(2):
        mock.reset()
        mock.wait_serving()
        assert not mock.accepted(minted["token"])
        assert minted["id"] not in mock.listed_ids()


def test_tokens_minted_after_the_seed_are_refused_after_a_reset(mock):
    minted = {"namespace token": mock.mint(namespace_id=NS)["token"], "container token": mock.mint(container_id=PRIVATE)["token"]}
    legacy = mock.call("GET", f"{CB}/issue-jwt", params={"namespace_id": NS})
    assert legacy.status_code == 200, legacy.text
    minted["issue-jwt token"] = legacy.json()["token"]
    for what, token in minted.items():
        assert mock.accepted(token), what
    mock.reset()
    mock.wait_serving()
    for what, token in minted.items():
        assert "unknown" in mock.refusal(token), what


def test_seeded_tokens_still_work_after_resets(mock):
    seeded = {"with id": mock.token_file()[SEEDED_TOKEN], "without id": mock.seeded("seeded without an id")}
    for what, token in seeded.items():
        assert mock.accepted(token), what
    # Revoking a seeded token lasts until the next reset, which goes back to the seeded state: the token is listed
    # again (so it can be revoked again) and works again.
    assert mock.call("DELETE", f"{CB}/tokens/{SEEDED_TOKEN}").status_code == 200
    assert "revoked" in mock.refusal(seeded["with id"])
    for _ in range(2):
        mock.reset()
        mock.wait_serving()
        assert SEEDED_TOKEN in mock.listed_ids()
        for what, token in seeded.items():
            assert mock.accepted(token), what


def test_legacy_issue_jwt_tokens_work_at_the_gateway_and_stay_unlisted(mock):
    for scope in ({"namespace_id": NS}, {"container_id": PRIVATE}):
        r = mock.call("GET", f"{CB}/issue-jwt", params=scope)
        assert r.status_code == 200, r.text
        assert mock.accepted(r.json()["token"]), scope
        assert r.json()["id"] not in mock.listed_ids()
        assert mock.call("DELETE", f"{CB}/tokens/{r.json()['id']}").status_code == 404


def test_a_reset_of_a_reused_database_wipes_and_reseeds_with_the_same_rule(mock):
    """A store that existed before this start is reset by wiping and seeding again (not from a copy): tokens minted
    after the seed are refused there too, the fixture token with an id keeps its JWTs, and the token file the seeding
    rewrote holds working JWTs for the others. `?to=empty` forgets every token."""
    assert mock.stop() == 0
    mock.start()
    mock.wait_serving()
    with_id = mock.token_file()[SEEDED_TOKEN]
    assert mock.accepted(with_id)
    minted = mock.mint(namespace_id=NS)
    revoked = mock.mint(container_id=PRIVATE)
    assert mock.accepted(minted["token"]) and mock.accepted(revoked["token"])
    assert mock.call("DELETE", f"{CB}/tokens/{revoked['id']}").status_code == 200
    mock.reset()
    mock.wait_serving()
    assert "unknown" in mock.refusal(minted["token"])
    assert not mock.accepted(revoked["token"])
    assert mock.accepted(with_id) and mock.accepted(mock.token_file()[SEEDED_TOKEN])
    assert mock.accepted(mock.seeded("seeded without an id"))
    mock.reset(to="empty")
    r = mock.invoke(with_id)
    assert r.status_code in (403, 404), (r.status_code, r.text)
