"""Deterministic mode, for golden tests of your own: the same client script against a fresh mock gets byte-identical
answers, ids, timestamps, generated names, secret hashes and JWTs included.

    scw-mock serve --clock 2024-01-01T00:00:00Z --freeze-clock --deterministic-ids --transition-delay 5

- `--clock RFC3339` starts the mock's clock at that instant (past included); `--freeze-clock` keeps it still there,
  so every `created_at`, `updated_at`, token `iat` is that instant until the script moves the clock:
      POST /_mock/clock {"advance_seconds": 5}                  -> moves the frozen instant; transitions settle by it
      POST /_mock/clock {"to": "2001-01-01T00:00:00Z"}           -> any instant, past included
      POST /_mock/clock {"frozen": false}                        -> runs on from where it stood (no jump)
      POST /_mock/reset                                          -> back to the configured start, frozen as configured
- `--deterministic-ids` (`--id-seed N` for another, equally stable, series) makes ids, generated names, endpoint
  suffixes, secret salts, upload-URL tokens and request ids from counters, and gives namespaces the built-in public
  development keys (those of `Keys/`) in turn, so tokens are signed by the same key in every run.

Give your resources names: the SDKs make up random names on the client side when you leave them out.
"""
import datetime
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
import scaleway_core.api
from scaleway.container.v1 import ContainerV1API
from scaleway.container.v1beta1 import ContainerV1Beta1API
from scaleway.function.v1beta1 import FunctionV1Beta1API
from scaleway.function.v1beta1.types import Secret

import support
from support import MockServer, ServerFactory, make_client, write_seed

C1 = "/containers/v1/regions/fr-par"

START = "2024-01-01T00:00:00Z"
DELAY = 5
GOLDEN_FLAGS = ["--clock", START, "--freeze-clock", "--deterministic-ids"]


def clock(srv, **change) -> dict:
    r = srv.post("/_mock/clock", change, token=None) if change else srv.get("/_mock/clock", token=None)
    assert r.status_code == 200, r.text
    return r.json()


def instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def golden_script(srv):
    """One user's script through the official SDK (plus one raw call); returns its container token and the raw answer."""
    client = make_client(srv)
    c1, cb, fn = ContainerV1API(client), ContainerV1Beta1API(client), FunctionV1Beta1API(client)
    settle = lambda: clock(srv, advance_seconds=DELAY)  # noqa: E731  transitions last DELAY seconds of mock time

    ns = c1.create_namespace(name="golden", environment_variables={"STAGE": "test", "REGION": "par"},
                             secret_environment_variables={"DB_PASSWORD": "hunter2", "API_KEY": "k"}, tags=["a", "b"])
    settle()
    c1.wait_for_namespace(namespace_id=ns.id)
    app = c1.create_container(namespace_id=ns.id, name="web", image="nginx:latest",
                              secret_environment_variables={"TOKEN": "t0ps3cret"}, environment_variables={"X": "1"})
    settle()
    c1.wait_for_container(container_id=app.id)
    c1.redeploy_container(container_id=app.id)
    settle()
    c1.wait_for_container(container_id=app.id)
    token = cb.create_token(container_id=app.id, description="ci", expires_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    cb.list_tokens(container_id=app.id)
    c1.list_containers(namespace_id=ns.id)

    fns = fn.create_namespace(name="golden-fn", secret_environment_variables=[Secret(key="S", value="v")])
    settle()
    fn.wait_for_namespace(namespace_id=fns.id)
    f = fn.create_function(namespace_id=fns.id, name="hello", runtime="python311", handler="handler.handle")
    fn.get_function_upload_url(function_id=f.id, content_length=1024)
    cron = fn.create_cron(function_id=f.id, schedule="5 4 * * *", args={"hello": "world"}, name="nightly")
    settle()
    fn.wait_for_cron(cron_id=cron.id)
    fn.create_token(function_id=f.id)
    # A namespace created without a name gets a generated one (`cns-<adjective>-<scientist>`).
    generated = support.keyed_request(srv.url, "POST", "/containers/v1beta1/regions/fr-par/namespaces", support.DEFAULT_SECRET_KEY, json={})

    c1.update_container(container_id=app.id, min_scale=1, description="scaled")
    settle()
    c1.wait_for_container(container_id=app.id)
    fn.delete_function(function_id=f.id)
    c1.delete_container(container_id=app.id)
    c1.delete_namespace(namespace_id=ns.id)
    return token, generated.content


def record_calls(monkeypatch, base_url: str) -> list[tuple]:
    """Every answer the SDK receives, captured under its own request method. The two servers listen on different
    ports (`--port 0`), which pre-signed URLs show: the base URL is written as `{mock}` (with a fixed `--port`, there
    would be nothing to replace)."""
    calls: list[tuple] = []
    original = scaleway_core.api.API._request

    def recording(self, method, path, *args, **kwargs):
        response = original(self, method, path, *args, **kwargs)
        body = response.content.replace(base_url.encode(), b"{mock}")
        calls.append((method, path, response.status_code, body, response.headers.get("X-Request-Id")))
        return response

    monkeypatch.setattr(scaleway_core.api.API, "_request", recording)
    return calls


def run_on_fresh_server(tmp_path, monkeypatch, name, flags):
    factory = ServerFactory(tmp_path / name)
    (tmp_path / name).mkdir()
    try:
        srv = factory(transition_delay=DELAY, extra_args=flags)
        calls = record_calls(monkeypatch, srv.url)
        jwt, generated = golden_script(srv)
        monkeypatch.undo()
        return calls + [("POST", "(raw) namespaces", 200, generated, None)], jwt
    finally:
        factory.stop_all()


def test_the_same_script_against_two_fresh_servers_gets_byte_identical_answers(tmp_path, monkeypatch):
    first, first_jwt = run_on_fresh_server(tmp_path, monkeypatch, "one", GOLDEN_FLAGS)
    second, second_jwt = run_on_fresh_server(tmp_path, monkeypatch, "two", GOLDEN_FLAGS)

    assert len(first) == len(second) > 20
    for a, b in zip(first, second):
        assert a[:4] == b[:4], f"{a[0]} {a[1]} answered differently:\n{a[3]!r}\n{b[3]!r}"
    assert [c[4] for c in first] == [c[4] for c in second]  # X-Request-Id too
    assert (first_jwt.token, first_jwt.public_key) == (second_jwt.token, second_jwt.public_key)
    # The answers are the real thing, not placeholders: ids are version 4 UUIDs, every timestamp is the frozen clock
    # (moved only by the script), secrets are Argon2id hashes, and the token verifies under its namespace's key.
    ns = json.loads(first[0][3])
    assert support.UUID_RE.match(ns["id"]) and ns["id"][14] == "4"
    assert ns["created_at"].startswith("2024-01-01T00:00:00")
    hashes = ns["secret_environment_variables"]  # v1: {name: Argon2id PHC string}
    assert support.verifies(hashes["DB_PASSWORD"], "hunter2")
    ids = {json.loads(c[3]).get("id") for c in first if c[0] == "POST" and c[2] == 200}
    assert len(ids) == 8  # every creation got its own id (a redeploy answers with the container's)
    assert json.loads(first[-1][3])["name"].startswith("cns-")
    # The first namespace signs with the first built-in development key, Keys/dev-namespace-1.pem (public test material).
    claims = jwt.decode(first_jwt.token, first_jwt.public_key, algorithms=["RS256"], audience="functions", issuer="SCALEWAY")
    assert claims["iat"] == int(instant(START).timestamp()) + 3 * DELAY
    fixture = load_pem_private_key((support.REPO_ROOT / "Keys" / "dev-namespace-1.pem").read_bytes(), None)
    assert load_pem_public_key(first_jwt.public_key.encode()).public_numbers() == fixture.public_key().public_numbers()


def test_another_id_seed_gives_other_ids_as_reproducibly(tmp_path, monkeypatch):
    default, _ = run_on_fresh_server(tmp_path, monkeypatch, "seed0", GOLDEN_FLAGS)
    seeded, _ = run_on_fresh_server(tmp_path, monkeypatch, "seed7", GOLDEN_FLAGS + ["--id-seed", "7"])
    assert json.loads(default[0][3])["id"] != json.loads(seeded[0][3])["id"]
    assert json.loads(default[0][3])["created_at"] == json.loads(seeded[0][3])["created_at"]


@pytest.fixture
def factory(tmp_path):
    f = ServerFactory(tmp_path)
    yield f
    f.stop_all()


def test_clock_can_start_in_the_past(factory):
    srv = factory(extra_args=["--clock", "2020-02-29T12:00:00Z"])
    ns = srv.create_ns("c1", {"name": "leap-day"})
    assert ns["created_at"].startswith("2020-02-29T12:00:")
    state = clock(srv)
    assert state["now"].startswith("2020-02-29T12:0") and state["offset_seconds"] < 0 and state["frozen"] is False


def test_a_frozen_clock_stamps_everything_with_the_frozen_instant_and_settles_only_when_moved(factory):
    srv = factory(transition_delay=30, extra_args=["--clock", START, "--freeze-clock"])
    ns = srv.create_ns("c1", {"name": "frozen"})
    assert instant(ns["created_at"]) == instant(ns["updated_at"]) == instant(START)
    assert ns["status"] == "pending" or ns["status"] == "creating"
    assert clock(srv) == {"now": "2024-01-01T00:00:00.000000Z", "offset_seconds": pytest.approx(clock(srv)["offset_seconds"]), "frozen": True}

    # Real time passing changes nothing; mock time short of the transition delay does not settle it either.
    time.sleep(1)
    assert srv.get_ns("c1", ns["id"])["status"] == ns["status"]
    assert clock(srv, advance_seconds=29)["now"] == "2024-01-01T00:00:29.000000Z"
    assert srv.get_ns("c1", ns["id"])["status"] == ns["status"]
    clock(srv, advance_seconds=1)
    settled = srv.get_ns("c1", ns["id"])
    assert settled["status"] == "ready"
    assert instant(settled["updated_at"]) == instant("2024-01-01T00:00:30Z")

    # Unfrozen, the clock runs on from the frozen instant, without a jump.
    running = clock(srv, frozen=False)
    assert running["frozen"] is False
    assert datetime.timedelta(0) <= instant(running["now"]) - instant("2024-01-01T00:00:30Z") < datetime.timedelta(seconds=5)


def test_the_clock_can_be_set_to_the_past_and_a_reset_returns_to_the_configured_start(factory):
    srv = factory(extra_args=["--clock", START, "--freeze-clock", "--deterministic-ids"])
    assert clock(srv, to="2001-01-01T00:00:00Z")["now"] == "2001-01-01T00:00:00.000000Z"
    first = srv.create_ns("c1", {"name": "past"})
    assert first["created_at"].startswith("2001-01-01T00:00:00")
    # Freezing and placing in one call: the clock stands at exactly that instant.
    assert clock(srv, frozen=False)["frozen"] is False
    assert clock(srv, frozen=True, to="1999-12-31T23:59:59Z")["now"] == "1999-12-31T23:59:59.000000Z"
    # A reset puts the clock back to --clock (frozen, as configured), and the ids back to where they started: the
    # same calls after each reset get the same answers, as after a fresh start.
    assert srv.post("/_mock/reset", token=None).status_code == 200
    assert clock(srv) | {"offset_seconds": 0} == {"now": "2024-01-01T00:00:00.000000Z", "offset_seconds": 0, "frozen": True}
    again = srv.create_ns("c1", {"name": "past"})
    assert again["id"] == first["id"] and again["created_at"].startswith("2024-01-01T00:00:00")


def test_crons_fire_by_the_clock_after_it_was_set_back(tmp_path):
    """Crons follow the mock's clock both ways: set back a year, the next minute boundary fires them again."""
    srv = MockServer(db_path=tmp_path / "cron.sqlite", seed_paths=[write_seed(tmp_path)], workdir=tmp_path, runtime=True,
                     extra_args=["--clock", START]).start()
    try:
        ns = srv.create_ns("c1", {"name": "cron-past"})
        srv.wait_ready("c1", ns["id"])
        app = srv.post(f"{C1}/containers", {"namespace_id": ns["id"], "name": "ticker", "image": "sample:latest"}).json()
        assert support.wait_until(lambda: srv.get(f"{C1}/containers/{app['id']}").json()["status"] == "ready", 20)
        trigger = srv.post(f"{C1}/triggers", {"container_id": app["id"], "name": "every-minute",
                                              "cron_config": {"schedule": "* * * * *", "timezone": "UTC"}}).json()
        clock(srv, to="2023-01-01T00:00:30Z")
        time.sleep(0.6)  # the scheduler ticks four times a second
        clock(srv, advance_seconds=60)

        def fired():
            lines = srv.get(f"/_mock/containers/{app['id']}/logs", token=None).json()["lines"]
            return [entry["line"] for entry in lines if f"cron {trigger['id']}" in entry["line"]]
        assert support.wait_until(fired, 10), srv.get(f"/_mock/containers/{app['id']}/logs", token=None).text
    finally:
        srv.stop()
