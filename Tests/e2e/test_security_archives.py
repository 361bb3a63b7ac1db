"""Function archives, uploads and pre-signed URLs, attacked the way a
user or an attacker would, against the real binary with the runtime on.

- Archives are unpacked in process within Scaleway's limits: a zip bomb (by ratio, or by a header that lies about
  sizes), too many entries, an entry escaping the folder (`../`) and a symbolic link end the deploy in `error` with
  a message naming the limit, and leave no partial folder behind.
- The unpacked code lives in a private folder (0700) that redeploy, delete and shutdown remove.
- A pre-signed upload URL accepts exactly the size it grants, up to 100 MiB (a 20 MiB archive goes through the
  SDK's flow: upload-url, PUT, deploy); other sizes are refused before the body is stored.
- Pre-signed URLs point at the server's own address whatever `Host` the request carried.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import stat
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

import support
from support import MockServer, make_sdk, uniq, write_seed

FN = "/functions/v1beta1/regions/fr-par"
MiB = 1024 * 1024

# The fixture mapping the runtime to a command: it serves, from the unpacked code, the folder it runs in and its files.
RUNNER = (
    "import http.server, json, os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def log_message(self, *a): pass\n"
    "    def do_GET(self):\n"
    "        files, modes = {}, {}\n"
    "        for folder, _, names in os.walk('.'):\n"
    "            for n in names:\n"
    "                p = os.path.join(folder, n)\n"
    "                files[os.path.relpath(p, '.')] = os.path.getsize(p)\n"
    "                modes[os.path.relpath(p, '.')] = os.stat(p).st_mode & 0o777\n"
    "        b = json.dumps({'cwd': os.getcwd(), 'files': files, 'modes': modes}).encode()\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
    "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"
)


def start_server(workdir: Path) -> MockServer:
    """The real binary with the runtime on and python3 runtimes mapped to RUNNER."""
    mapping = workdir / "runtimes.yaml"
    mapping.write_text(json.dumps({"runtimes": [{"runtime": "python3*", "command": [sys.executable, "-c", RUNNER]}]}))
    return MockServer(db_path=workdir / f"state-{uuid.uuid4().hex[:6]}.sqlite", seed_paths=[write_seed(workdir), mapping],
                      workdir=workdir, runtime=True, key_pool=4).start()


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("archives"))
    yield srv
    assert srv.stop() == 0, srv.stderr_tail()


@pytest.fixture(scope="module")
def fn_ns(mock):
    ns = mock.create_ns("fn", {"name": uniq("arch")})
    return mock.wait_ready("fn", ns["id"])


def new_function(mock: MockServer, ns_id: str) -> str:
    r = mock.post(f"{FN}/functions", {"namespace_id": ns_id, "name": uniq("f"), "runtime": "python311"})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def upload(mock: MockServer, fid: str, archive: bytes) -> None:
    grant = mock.get(f"{FN}/functions/{fid}/upload-url", params={"content_length": len(archive)}).json()
    r = requests.put(grant["url"], data=archive, headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert r.status_code == 200, r.text


def deploy(mock: MockServer, fid: str, deadline: float = 30.0) -> dict:
    assert mock.post(f"{FN}/functions/{fid}/deploy", {}).status_code == 200
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        f = mock.get(f"{FN}/functions/{fid}").json()
        if f["status"] not in ("pending", "creating", "updating"):
            return f
        time.sleep(0.05)
    raise AssertionError(f"function {fid} stayed {f['status']}")


def deployed_with(mock: MockServer, ns_id: str, archive: bytes) -> tuple[str, dict]:
    fid = new_function(mock, ns_id)
    upload(mock, fid, archive)
    return fid, deploy(mock, fid)


def zip_of(files: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def private_roots(mock: MockServer) -> list[Path]:
    """The server's private folders under the temporary directory (named after its pid)."""
    return sorted(Path(tempfile.gettempdir()).glob(f"scw-mock-private-{mock.proc.pid}-*"))


def code_folders(mock: MockServer, fid: str) -> list[Path]:
    return [p for root in private_roots(mock) for p in root.glob(f"code-{fid}-*")]


def invoke(mock: MockServer, fid: str) -> dict:
    r = requests.get(f"{mock.url}/_mock/invoke/{fid}/", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def assert_refused(f: dict, *words: str) -> None:
    assert f["status"] == "error", f
    for word in words:
        assert word in (f["error_message"] or ""), f["error_message"]


# --- unpacking limits ------------------------------------------------------------------------------------------------


def test_a_zip_bomb_by_ratio_is_refused(mock, fn_ns):
    bomb = zip_of({"handler.py": "def handle(e, c): return {}\n", "bomb.bin": bytes(64 * MiB)})
    assert len(bomb) < MiB  # 64 MiB of zeros deflate to about 64 KiB: a ratio near 1000
    fid, f = deployed_with(mock, fn_ns["id"], bomb)
    assert_refused(f, "bomb.bin", "expands more than 200 times")
    assert code_folders(mock, fid) == []  # the partial folder is gone


def test_a_header_that_lies_about_the_size_gains_nothing(mock, fn_ns):
    # 8 MiB of zeros whose headers claim 1000 bytes: the bytes are counted as they are written.
    archive = bytearray(zip_of({"liar.bin": bytes(8 * MiB)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(archive))).infolist()[0]
    central = int.from_bytes(archive[-6:-2], "little")  # the end record's offset of the central directory
    for at in (info.header_offset + 22, central + 24):  # uncompressed size in the local and the central header
        assert archive[at:at + 4] == info.file_size.to_bytes(4, "little")
        archive[at:at + 4] = (1000).to_bytes(4, "little")
    assert zipfile.ZipFile(io.BytesIO(bytes(archive))).infolist()[0].file_size == 1000
    fid, f = deployed_with(mock, fn_ns["id"], bytes(archive))
    assert_refused(f, "liar.bin", "more bytes than its header declares")
    assert code_folders(mock, fid) == []


def test_too_many_entries_are_refused(mock, fn_ns):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(20_001):
            zf.writestr(f"d/{i}", b"")
    fid, f = deployed_with(mock, fn_ns["id"], buf.getvalue())
    assert_refused(f, "more than 20000 entries")
    assert code_folders(mock, fid) == []


def test_an_entry_escaping_the_folder_is_refused(mock, fn_ns):
    marker = f"escaped-{uuid.uuid4().hex}.py"
    for name in (f"../{marker}", f"lib/../../{marker}", f"/tmp/{marker}"):
        fid, f = deployed_with(mock, fn_ns["id"], zip_of({"handler.py": "x = 1\n", name: "print('owned')\n"}))
        assert_refused(f, name, "points outside the function's folder")
        assert code_folders(mock, fid) == []
    for root in private_roots(mock) + [Path(tempfile.gettempdir()), Path("/tmp")]:
        assert not (root / marker).exists()
    # A `..` that stays inside the archive's root is only a path, and is unpacked where it points.
    fid, f = deployed_with(mock, fn_ns["id"], zip_of({"lib/../handler.py": "x = 1\n"}))
    assert f["status"] == "ready", f
    assert invoke(mock, fid)["files"] == {"handler.py": 6}


def test_a_symbolic_link_entry_is_refused(mock, fn_ns):
    link = zipfile.ZipInfo("passwd")
    link.create_system = 3  # unix
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "x = 1\n")
        zf.writestr(link, "/etc/passwd")
    fid, f = deployed_with(mock, fn_ns["id"], buf.getvalue())
    assert_refused(f, '"passwd"', "symbolic link")
    assert code_folders(mock, fid) == []


# --- the code folder -------------------------------------------------------------------------------------------------


def test_code_runs_in_a_private_folder_removed_on_redeploy_delete_and_shutdown(tmp_path):
    mock = start_server(tmp_path)
    try:
        ns = mock.wait_ready("fn", mock.create_ns("fn", {"name": uniq("priv")})["id"])
        tool = zipfile.ZipInfo("bin/tool")
        tool.create_system = 3  # unix, mode 0755: the owner's execute bit is kept, nothing for others
        tool.external_attr = (stat.S_IFREG | 0o755) << 16
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("handler.py", "x = 1\n")
            zf.writestr("lib/util.py", "y = 2\n")
            zf.writestr(tool, "#!/bin/sh\n")
        fid, f = deployed_with(mock, ns["id"], buf.getvalue())
        assert f["status"] == "ready", f
        seen = invoke(mock, fid)
        first = Path(seen["cwd"])
        assert seen["files"] == {"handler.py": 6, "lib/util.py": 6, "bin/tool": 10}
        assert seen["modes"] == {"handler.py": 0o600, "lib/util.py": 0o600, "bin/tool": 0o700}
        assert stat.S_IMODE(first.stat().st_mode) == 0o700 and stat.S_IMODE((first / "lib").stat().st_mode) == 0o700
        assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700 and first.parent in private_roots(mock)

        # Redeploy with new code: a new folder, the old one removed.
        upload(mock, fid, zip_of({"handler.py": "x = 22\n"}))
        assert deploy(mock, fid)["status"] == "ready"
        second = Path(invoke(mock, fid)["cwd"])
        assert second != first and not first.exists() and second.is_dir()

        # Delete: the folder goes with the function.
        assert mock.delete(f"{FN}/functions/{fid}").status_code == 200
        support.poll_until(lambda: second.exists(), lambda exists: not exists, 10)

        # Shutdown: the server's whole private folder goes.
        other, f = deployed_with(mock, ns["id"], zip_of({"handler.py": "x = 3\n"}))
        assert f["status"] == "ready", f
        third = Path(invoke(mock, other)["cwd"])
        roots = private_roots(mock)
        assert roots and third.parent in roots
    finally:
        assert mock.stop() == 0, mock.stderr_tail()
    assert not third.exists() and not any(r.exists() for r in roots)


# --- uploads ---------------------------------------------------------------------------------------------------------


def test_a_20_mib_archive_goes_through_the_sdk_flow_and_deploys(mock, fn_ns):
    sdk = make_sdk(mock)
    fid = new_function(mock, fn_ns["id"])
    blob = random.Random(12).randbytes(20 * MiB)  # incompressible: the archive is over 20 MiB
    archive = zip_of({"handler.py": "x = 1\n", "assets/blob.bin": blob}, compression=zipfile.ZIP_STORED)
    assert len(archive) > 20 * MiB
    up = sdk.fn.get_function_upload_url(function_id=fid, content_length=len(archive))
    headers = {name: values[0] for name, values in up.headers.items()}
    assert headers["content-length"] == str(len(archive))

    # A body of another size than granted is refused and leaves the grant usable.
    r = requests.put(up.url, data=archive[:-1], headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert r.status_code == 403 and r.json()["type"] == "permissions_denied", r.text
    r = requests.put(up.url, data=archive, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    assert requests.put(up.url, data=archive, headers=headers, timeout=60).status_code == 403  # one use

    f = deploy(mock, fid)
    assert f["status"] == "ready", f
    assert invoke(mock, fid)["files"] == {"handler.py": 6, "assets/blob.bin": 20 * MiB}
    got = requests.get(sdk.fn.get_function_download_url(function_id=fid).url, timeout=60)
    assert got.status_code == 200 and got.content == archive


def test_a_body_over_the_grant_is_cut_and_over_100_mib_refused_at_once(mock, fn_ns):
    fid = new_function(mock, fn_ns["id"])
    url = mock.get(f"{FN}/functions/{fid}/upload-url", params={"content_length": 1000}).json()["url"]
    path = url[len(mock.url):]
    host, port = mock.url.removeprefix("http://").split(":")

    def put_head(length: int, chunked: bytes | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.putrequest("PUT", path)
        if chunked is None:
            conn.putheader("Content-Length", str(length))
        else:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        if chunked is not None:
            conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunked), chunked))
        r = conn.getresponse()
        body = json.loads(r.read() or b"{}")
        conn.close()
        return r.status, body

    # Declared over Scaleway's 100 MiB: 413 before any byte of the body.
    status, body = put_head(100 * MiB + 1)
    assert status == 413 and "104857600" in body["message"], body
    # Declared over the grant: 403 without reading the body; a chunked body over the grant is cut where it passes it.
    assert put_head(50 * MiB)[0] == 403
    assert put_head(0, chunked=b"x" * 1001)[0] == 403
    # The grant is still usable for exactly what it grants.
    archive = zip_of({"pad.txt": "p"}, compression=zipfile.ZIP_STORED)
    archive = zip_of({"pad.txt": "p" * (1000 - len(archive) + 1)}, compression=zipfile.ZIP_STORED)
    assert len(archive) == 1000
    assert requests.put(url, data=archive, timeout=30).status_code == 200


# --- pre-signed URLs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["203.0.113.9:8443", "localhost:1", "127.0.0.1"])
def test_presigned_urls_ignore_a_forged_host_header(mock, fn_ns, forged):
    fid = new_function(mock, fn_ns["id"])
    r = mock.get(f"{FN}/functions/{fid}/upload-url", params={"content_length": 10}, headers={"Host": forged})
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith(f"{mock.url}/_mock/uploads/functions/{fid}?token="), r.json()
    assert mock.url.startswith("http://127.0.0.1:")
    upload(mock, fid, zip_of({"handler.py": "x = 1\n"}))
    r = mock.get(f"{FN}/functions/{fid}/download-url", headers={"Host": forged})
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith(f"{mock.url}/_mock/downloads/functions/{fid}?token="), r.json()
