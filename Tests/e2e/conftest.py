"""Fixtures that run the real scw-mock binary.

Every process runs with `--key-size 2048 --key-pool N` and is only handed to a test once `/_mock/health` shows a
full key pool (support.MockServer.wait_for_key_pool), so namespaces created afterwards get their RSA key at once.
A namespace created while the pool is empty stays transient until its key exists: tests that need a namespace
`ready` poll for it (MockServer.wait_ready / support.sdk_wait_ready) instead of trusting the next GET.

- `server`: one process for the whole session (fresh temp database, seed with a second project, a key scoped to it,
  and an expired key). Teardown sends SIGTERM and asserts exit code 0.
- `server_factory`: start extra processes (own database, optional --transition-delay, restart on the same database);
  every process still running at teardown is stopped the same way and must exit 0.
- `fresh_server`: a private process (small key pool) for tests that need exact list totals.
- `sdk` / `other_sdk`: official-SDK clients (ContainerV1Beta1API, ContainerV1API, FunctionV1Beta1API) for the
  well-known key and for the key scoped to the second project.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import support  # noqa: E402
from support import MockServer, ServerFactory, make_sdk, write_seed  # noqa: E402

FRESH_KEY_POOL = 6


def _stop_and_check(server: MockServer) -> None:
    rc = server.stop()
    assert rc == 0, f"scw-mock exited with {rc} after SIGTERM; stderr:\n{server.stderr_tail()}"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> MockServer:
    workdir = tmp_path_factory.mktemp("scw-mock-session")
    srv = MockServer(db_path=workdir / "state.sqlite", seed_paths=[write_seed(workdir)], workdir=workdir).start()
    yield srv
    _stop_and_check(srv)


@pytest.fixture
def server_factory(tmp_path) -> Callable[..., MockServer]:
    factory = ServerFactory(tmp_path)
    yield factory
    factory.stop_all()


@pytest.fixture
def fresh_server(server_factory) -> MockServer:
    # a small pool: these tests count namespaces and seldom need more than a few ready at once
    return server_factory(key_pool=FRESH_KEY_POOL)


@pytest.fixture(scope="session")
def sdk(server):
    return make_sdk(server, support.DEFAULT_KEY)


@pytest.fixture(scope="session")
def other_sdk(server):
    return make_sdk(server, support.OTHER_KEY)
