"""A seed folder does not break itself.

A fixture with `token_file: tokens.json` (the README's own pattern) writes its token file into the seed folder; that
file is never read back as a fixture, so `serve --seed <folder>` starts again and `seed check <folder>` passes. A token
file that no fixture names any more is left out with a warning (exit 0). A stray JSON file that is no fixture at all
(`package.json`) still fails with exit code 2, with one line that says so and how to keep it out.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import support

TOKENS = "/containers/v1beta1/regions/fr-par/tokens"

WORLD = """\
namespaces:
  - {name: folder-world}
tokens:
  - {namespace: folder-world, description: ci}
token_file: tokens.json
"""


def seed_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(support.binary_path()), "seed", "check", str(path)], capture_output=True, text=True, timeout=60)


def seed_folder(tmp_path: Path, fixture: str = WORLD) -> Path:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "world.yaml").write_text(fixture)
    return folder


def test_a_folder_with_its_own_token_file_starts_again_and_checks_clean(tmp_path, server_factory):
    folder = seed_folder(tmp_path)
    db = tmp_path / "folder.sqlite"
    first = server_factory(db_path=db, extra_seeds=[folder])
    tokens = first.get(TOKENS).json()["tokens"]
    assert [t["description"] for t in tokens] == ["ci"]
    assert first.stop() == 0
    written = json.loads((folder / "tokens.json").read_text())
    assert list(written) == [tokens[0]["id"]]

    # The second start reads the same folder, tokens.json included: it is the fixture's output, not a fixture.
    second = server_factory(db_path=db, extra_seeds=[folder])
    assert [t["id"] for t in second.get(TOKENS).json()["tokens"]] == [tokens[0]["id"]]
    assert second.stop() == 0, second.stderr_tail()
    # And on a fresh database too (the token file is rewritten, still not read).
    third = server_factory(extra_seeds=[folder])
    assert [t["description"] for t in third.get(TOKENS).json()["tokens"]] == ["ci"]
    assert third.stop() == 0, third.stderr_tail()

    out = seed_check(folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: 1 fixture file(s)"
    assert "warning" not in out.stderr, out.stderr


def test_a_leftover_token_file_is_skipped_with_a_warning(tmp_path, server_factory):
    folder = seed_folder(tmp_path)
    srv = server_factory(extra_seeds=[folder])
    assert srv.stop() == 0
    # The fixture is edited: it no longer writes tokens.json, which stays behind.
    (folder / "world.yaml").write_text("namespaces:\n  - {name: folder-world}\n")
    out = seed_check(folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: 1 fixture file(s)"
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, out.stderr
    assert str(folder / "tokens.json") in warnings[0] and "token file" in warnings[0], warnings
    # The server starts on it as well.
    again = server_factory(extra_seeds=[folder])
    assert again.stop() == 0, again.stderr_tail()


def test_a_stray_json_file_is_refused_with_how_to_exclude_it(tmp_path):
    folder = seed_folder(tmp_path, "namespaces:\n  - {name: folder-world}\n")
    package = folder / "package.json"
    package.write_text(json.dumps({"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}, indent=2))
    out = seed_check(folder)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr  # one line for the file, not one per unknown key
    assert lines[0].startswith(f"{package}:1: -: not a fixture"), lines
    assert "move it out of the folder, or pass the fixture files by name" in lines[0], lines
    # Named by file, the fixture alone is read.
    out = seed_check(folder / "world.yaml")
    assert out.returncode == 0, out.stderr
