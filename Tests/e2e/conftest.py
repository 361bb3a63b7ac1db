"""Fixtures that run the real scw-mock binary.

- `server`: one process for the whole session (fresh temp database, seed with a second project, a key scoped to it,
  and an expired key). Teardown sends SIGTERM and asserts exit code 0.
- `server_factory`: start extra processes (own database, optional --transition-delay, restart on the same database);
  every process still running at teardown is stopped the same way and must exit 0.
- `fresh_server`: a private process for tests that need exact list totals.
- `sdk` / `other_sdk`: official-SDK clients (ContainerV1Beta1API, ContainerV1API, FunctionV1Beta1API) for the
  well-known key and for the key scoped to the second project.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Callable, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import support  # noqa: E402
from support import MockServer, make_sdk  # noqa: E402


def _write_seed(directory: Path) -> Path:
    seed = directory / "seed.yaml"
    if not seed.exists():
        seed.write_text(support.SEED_YAML)
    return seed


def _stop_and_check(server: MockServer) -> None:
    rc = server.stop()
    assert rc == 0, f"scw-mock exited with {rc} after SIGTERM; stderr:\n{server.stderr_tail()}"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> MockServer:
    workdir = tmp_path_factory.mktemp("scw-mock-session")
    srv = MockServer(db_path=workdir / "state.sqlite", seed_paths=[_write_seed(workdir)], workdir=workdir).start()
    yield srv
    _stop_and_check(srv)


class ServerFactory:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.started: list[MockServer] = []

    def __call__(
        self,
        *,
        db_path: Optional[Path] = None,
        transition_delay: Optional[float] = None,
        extra_seeds: Optional[list[Path]] = None,
    ) -> MockServer:
        db = db_path or self.workdir / f"state-{uuid.uuid4().hex[:8]}.sqlite"
        seeds = [_write_seed(self.workdir)] + list(extra_seeds or [])
        srv = MockServer(db_path=db, seed_paths=seeds, workdir=self.workdir, transition_delay=transition_delay)
        srv.start()
        self.started.append(srv)
        return srv

    def stop_all(self) -> None:
        failures = []
        for srv in self.started:
            if srv.proc is not None and srv.returncode is None:
                try:
                    rc = srv.stop()
                    if rc != 0:
                        failures.append(f"{srv.url}: exit code {rc}\n{srv.stderr_tail()}")
                except AssertionError as e:  # hung
                    failures.append(str(e))
        assert not failures, "scw-mock did not shut down cleanly:\n" + "\n".join(failures)


@pytest.fixture
def server_factory(tmp_path) -> Callable[..., MockServer]:
    factory = ServerFactory(tmp_path)
    yield factory
    factory.stop_all()


@pytest.fixture
def fresh_server(server_factory) -> MockServer:
    return server_factory()


@pytest.fixture(scope="session")
def sdk(server):
    return make_sdk(server, support.DEFAULT_KEY)


@pytest.fixture(scope="session")
def other_sdk(server):
    return make_sdk(server, support.OTHER_KEY)
