"""The README's two commands work on a fresh Debian machine with only Swift on it: `scripts/serve` and `scripts/test`
first run `scripts/deps`, which installs the Debian packages the build (libargon2, SQLite, zlib) and the tests (python3,
venv) need when they are missing, or says exactly what to run when it cannot.

These tests run `scripts/deps` against stand-ins for `dpkg`, `apt-get` and `id` (a PATH of small shell scripts), so
that the machine's own packages are left alone."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def shims(tmp_path, installed, uid, apt_fails=False):
    """A PATH where dpkg knows only `installed`, apt-get records its arguments, and id -u says `uid`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "dpkg").write_text("#!/bin/sh\n[ \"$1\" = -s ] || exit 2\ncase \" %s \" in *\" $2 \"*) exit 0;; esac\nexit 1\n"
                                  % " ".join(installed))
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n" + ("exit 100\n" if apt_fails else "exit 0\n"))
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for shim in bin_dir.iterdir():
        shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
    return env, log


def deps(step, env):
    return subprocess.run([str(ROOT / "scripts" / "deps"), step], env=env, capture_output=True, text=True, timeout=30)


def test_as_root_the_missing_build_packages_are_installed(tmp_path):
    env, log = shims(tmp_path, installed=["libsqlite3-dev", "zlib1g-dev"], uid=0)
    r = deps("build", env)
    assert r.returncode == 0, r.stderr
    assert "installing the missing Debian packages: libargon2-dev" in r.stderr
    lines = log.read_text().splitlines()
    assert lines[0].startswith("update")
    assert lines[1].split()[-1] == "libargon2-dev" and "install" in lines[1]


def test_without_root_the_exact_command_is_printed_and_the_step_fails(tmp_path):
    env, log = shims(tmp_path, installed=["zlib1g-dev"], uid=1000)
    r = deps("test", env)
    assert r.returncode == 1
    assert "Install them with: sudo apt-get install -y libargon2-dev libsqlite3-dev python3 python3-venv" in r.stderr
    assert not log.exists()  # nothing was attempted


def test_a_failed_install_says_what_to_run(tmp_path):
    env, _ = shims(tmp_path, installed=[], uid=0, apt_fails=True)
    r = deps("build", env)
    assert r.returncode == 1
    assert "run it yourself: apt-get install -y libargon2-dev libsqlite3-dev zlib1g-dev" in r.stderr


def test_nothing_is_done_when_everything_is_there(tmp_path):
    everything = ["libargon2-dev", "libsqlite3-dev", "zlib1g-dev", "python3", "python3-venv", "docker-compose", "chromium",
                  "chromium-driver", "podman"]
    env, log = shims(tmp_path, installed=everything, uid=0)
    for step in ("build", "test", "ci"):
        r = deps(step, env)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    assert not log.exists()


def test_the_readme_commands_are_the_scripts_that_check():
    readme = (ROOT / "README.md").read_text()
    assert "scripts/serve " in readme and "scripts/test " in readme
    assert "scripts/deps build" in (ROOT / "scripts" / "serve").read_text()
    assert "scripts/deps test" in (ROOT / "scripts" / "test").read_text()
