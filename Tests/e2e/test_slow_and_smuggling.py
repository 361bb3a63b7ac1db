"""Slow clients, oversized bodies and request smuggling through the gateway (reliability catalog A21, A22, A24).

A21: a `Content-Length` far over the server's limit (WireJSON.maxBodyBytes = ScwRequestContext.maxUploadSize, 10 MiB)
     with the body never sent gets a 413 at once; an endless chunked body is cut off.
A22: slowloris heads, slow bodies and slow readers (plain sockets, in the manner of slowhttptest -H/-B/-X) neither
     starve a side probe nor grow the server's file descriptors without bound, and the descriptors come back after the
     attackers leave. The server sets HTTP1Channel `idleTimeout` = 60 s (Application+build.swift) and has no setting to
     lower it, so the timeout-dependent checks run a server with SCW_MOCK_IDLE_TIMEOUT=2 (ignored today) and are
     expected failures until such a setting, a body deadline and a write-stall timeout exist.
A24: the A23 smuggling payloads sent to `/_mock/invoke/{id}/...` in front of a deliberately lax child (a raw-socket
     Python server that records every byte it receives, per connection): each is refused with 400 and a close, the
     request pipelined behind it never runs, and the child sees exactly one well-formed request per accepted client
     request, never a smuggled `GET /admin`.

Every server here is a private process (the slow-client test counts its file descriptors). The bugs this file found
(no early 413, endless chunked bodies, no body deadline or write-stall timeout, two Host headers, HTTP/1.0 with
Transfer-Encoding, a refused request's head reaching the child, the OpenAPI document rebuilt per call) are fixed;
their tests now guard against regressions."""
from __future__ import annotations

import json
import math
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

import support

TOKEN = support.DEFAULT_SECRET_KEY
KEY = b"X-Auth-Token: " + TOKEN.encode() + b"\r\n"
NS = "/containers/v1/regions/fr-par/namespaces"
C1 = "/containers/v1/regions/fr-par"
MAX_BODY = 10 * 1024 * 1024  # WireJSON.maxBodyBytes


# --- a private server --------------------------------------------------------------------------------------------------


class Mock:
    """The real binary on a free port, with its own database; `env` is added to its environment."""

    def __init__(self, tmp: Path, *, runtime: bool = False, env: dict[str, str] | None = None):
        tmp.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:6]
        args = [str(support.binary_path()), "serve", "--port", "0", "--database", str(tmp / f"state-{tag}.sqlite"),
                "--key-size", "2048", "--key-pool", "2", "--runtime", "on" if runtime else "off", "--ready-timeout", "10"]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_MOCK_")}
        full_env.update(env or {})
        self.stderr_path = tmp / f"scw-mock-{tag}.stderr.log"
        with open(self.stderr_path, "wb") as stderr:
            self.proc = support.retry_text_file_busy(lambda: subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=full_env, text=True))
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=support.STARTUP_DEADLINE)
        except queue.Empty:
            line = ""
        m = support.EXPORT_LINE_RE.match(line.rstrip("\n"))
        if not m:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"no export line: {line!r}; stderr:\n{self.stderr_tail()}")
        self.port = int(m.group("port"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.pid = self.proc.pid

    def call(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, self.url + path, headers={"X-Auth-Token": TOKEN}, timeout=30, **kw)

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stderr_tail(self, n: int = 30) -> str:
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=support.SHUTDOWN_DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"scw-mock did not exit after SIGTERM; stderr:\n{self.stderr_tail()}")
        self.proc.stdout.close()
        return self.proc.returncode


def stopped_cleanly(mock: Mock) -> None:
    rc = mock.stop()
    assert rc == 0, f"scw-mock exited with {rc}; stderr:\n{mock.stderr_tail()}"


def poll(check, deadline: float, interval: float = 0.1):
    """Calls `check` until it returns something truthy or the deadline passes; returns the last value."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


# --- raw HTTP helpers --------------------------------------------------------------------------------------------------


def read_responses(s: socket.socket, first_deadline: float = 5.0, quiet: float = 0.8,
                   enough: int | None = None) -> tuple[bytes, bool]:
    """Reads until the server closes, or `enough` complete responses arrived, or `first_deadline` passes without a
    byte, or `quiet` seconds pass with nothing new after at least one byte. Returns (bytes, closed by the server)."""
    out = b""
    end = time.monotonic() + first_deadline
    while True:
        if enough is not None and out:
            parsed, complete = parse_responses(out)
            if complete and len(parsed) >= enough:
                return out, False
        wait = (end - time.monotonic()) if not out else quiet
        if wait <= 0:
            return out, False
        ready, _, _ = select.select([s], [], [], wait)
        if not ready:
            return out, False
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return out, True
        if not chunk:
            return out, True
        out += chunk


def parse_responses(raw: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """Splits what a server sent into (status, body) pairs, framed by Content-Length or chunked coding (a response with
    neither runs to the end); the last pair may be incomplete. Also returns whether `raw` ends exactly where a framed
    response ends."""
    out, pos = [], 0
    while pos < len(raw):
        end = raw.find(b"\r\n\r\n", pos)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", raw[pos:])
        if end < 0 or not m:
            return out, False
        head, pos = raw[pos:end].lower(), end + 4
        length = re.search(rb"\r\ncontent-length: *(\d+)", head)
        done = False
        if length:
            body, pos = raw[pos:pos + int(length.group(1))], pos + int(length.group(1))
            done = pos <= len(raw)
        elif re.search(rb"\r\ntransfer-encoding: *chunked", head):
            body = b""
            while (eol := raw.find(b"\r\n", pos)) >= 0 and re.fullmatch(rb"[0-9a-fA-F]+", raw[pos:eol]):
                size = int(raw[pos:eol], 16)
                body, pos = body + raw[eol + 2:eol + 2 + size], eol + 2 + size + 2
                if size == 0:
                    done = pos <= len(raw)
                    break
        else:
            body, pos = raw[pos:], len(raw)
        out.append((int(m.group(1)), body))
        if not done:
            return out, False
    return out, True


def responses(raw: bytes) -> list[tuple[int, bytes]]:
    return parse_responses(raw)[0]


def statuses(raw: bytes) -> list[int]:
    return [status for status, _ in responses(raw)]


def server_sockets(server_port: int) -> dict[int, tuple[str, int]]:
    """The server's side of its TCP connections, from /proc/net/tcp: {client port: (state, bytes queued unsent)}.
    State "01" is ESTABLISHED."""
    table = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
        if int(local.split(":")[1], 16) == server_port:
            table[int(remote.split(":")[1], 16)] = (state, int(queues.split(":")[0], 16))
    return table


def server_closed(server_port: int, socks: list[socket.socket]) -> list[bool]:
    """For each client socket, whether the server has closed its end: the server-side socket is gone or has left
    ESTABLISHED (a close with unsent data leaves it in FIN_WAIT1 while the client, which does not read, still looks
    established), or the client socket itself saw a FIN or a reset."""
    table = server_sockets(server_port)
    result = []
    for s in socks:
        if s.fileno() < 0:
            result.append(True)
            continue
        client_state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        result.append(table.get(s.getsockname()[1], ("gone", 0))[0] != "01" or client_state != 1)
    return result


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- A21: oversized and endless bodies ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    mock = Mock(tmp_path_factory.mktemp("a21"))
    yield mock
    stopped_cleanly(mock)


def test_a21_a_body_over_the_limit_is_413(api):
    """Control: a real 11 MiB body is refused with 413 (the limit is 10 MiB)."""
    size = MAX_BODY + 1024 * 1024
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as s:
        s.sendall(f"POST {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY +
                  f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())

        def pump():
            try:
                s.sendall(b"{" + b" " * (size - 1))
            except OSError:
                pass
        sender = threading.Thread(target=pump, daemon=True)
        sender.start()
        out, _ = read_responses(s, first_deadline=15)
    assert statuses(out)[:1] == [413], out[:200]
    assert b"request_too_large" in out


def test_a21_a_huge_content_length_with_no_body_is_413_at_once(api):
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as s:
        started = time.monotonic()
        s.sendall(f"POST {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY +
                  b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
        out, closed = read_responses(s, first_deadline=3)
        elapsed = time.monotonic() - started
    assert statuses(out)[:1] == [413], f"after {elapsed:.1f}s (closed={closed}): {out[:200]!r}"


def test_a21_an_endless_chunked_body_is_cut_off(api):
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as s:
        s.sendall(f"POST {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY +
                  b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        s.setblocking(False)
        started = time.monotonic()
        out, sent, answered_at, cut_at = b"", 0, None, None
        while cut_at is None and time.monotonic() - started < 20 and (answered_at is None or time.monotonic() - answered_at < 3):
            readable, writable, _ = select.select([s], [s], [], 0.2)
            try:
                if readable:
                    data = s.recv(65536)
                    if not data:
                        cut_at = time.monotonic()
                        break
                    out += data
                    if answered_at is None and b"\r\n\r\n" in out:
                        answered_at = time.monotonic()
                if writable:
                    sent += s.send(chunk)
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                cut_at = time.monotonic()
    assert statuses(out)[:1] == [413], out[:200]
    assert cut_at is not None, f"still open {time.monotonic() - answered_at:.1f}s after the 413, {sent >> 20} MiB sent"
    assert cut_at - answered_at < 3


# --- A22: slow clients -------------------------------------------------------------------------------------------------

SLOWLORIS, SLOW_BODY, SLOW_READ, STALLED = 300, 100, 40, 10
COSTLY_DOC = "/_mock/openapi.json"  # 47 KB, rebuilt on every call


class Attack(threading.Thread):
    """Keeps slowloris, slow-body and slow-read connections open and trickling until `stop()`."""

    def __init__(self, port: int, counts: dict[str, int], interval: float = 2.0):
        super().__init__(daemon=True)
        self.port, self.counts, self.interval = port, counts, interval
        self.socks: dict[str, list[socket.socket]] = {kind: [] for kind in counts}
        self.ticks = 0
        self.opened = 0
        self.errors: list[str] = []
        self._halt = threading.Event()

    def opening(self, kind: str) -> bytes:
        if kind == "slowloris":
            return f"GET {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY
        if kind == "slowbody":
            return (f"POST {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY +
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"name\":\"")
        if kind == "slowread":  # 100 pipelined list calls, never read (their answers fit in the kernel's buffers)
            return (f"GET {NS} HTTP/1.1\r\nHost: localhost\r\n".encode() + KEY + b"\r\n") * 100
        # stalled: 70 pipelined GETs of the 47 KB document, never read: 3.3 MB, more than the kernel buffers, so the
        # server is left with a response it cannot write
        return f"GET {COSTLY_DOC} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() * 70

    def run(self):
        try:
            for kind, count in self.counts.items():
                for _ in range(count):
                    if self._halt.is_set():
                        return
                    s = socket.socket()
                    if kind in ("slowread", "stalled"):
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    s.settimeout(15)
                    s.connect(("127.0.0.1", self.port))
                    s.sendall(self.opening(kind))
                    s.setblocking(False)
                    self.socks[kind].append(s)
                    self.opened += 1
        except OSError as e:
            self.errors.append(f"opening: {e!r}")
        n = 0
        while not self._halt.wait(self.interval):
            n += 1
            for kind in ("slowloris", "slowbody"):
                for s in self.socks.get(kind, []):
                    if s.fileno() < 0:
                        continue
                    try:
                        if s.recv(4096) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass
                    except OSError:  # closed or reset by the server
                        s.close()
                        continue
                    try:
                        s.send(f"X-Slow-{n}: x\r\n".encode() if kind == "slowloris" else b"a")
                    except BlockingIOError:
                        pass
                    except OSError:
                        s.close()
            self.ticks += 1

    def stop(self):
        self._halt.set()
        self.join(timeout=30)
        for socks in self.socks.values():
            for s in socks:
                s.close()


# The side probe runs in its own process, as a monitoring client would: in this process it would share the
# interpreter lock with the attackers' thread, which costs it hundreds of milliseconds on a loaded machine.
PROBE_PY = r"""
import json, sys, time, requests
url, token, n, give_up = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
latencies = []
for _ in range(n):
    started = time.monotonic()
    try:
        r = requests.get(url, headers={"X-Auth-Token": token}, timeout=give_up)
        if r.status_code != 200:
            sys.exit("status %d: %s" % (r.status_code, r.text[:200]))
    except requests.Timeout:
        latencies.append(give_up)
        break
    latencies.append(time.monotonic() - started)
    if latencies[-1] >= give_up:
        break
print(json.dumps(latencies))
"""


def probe(mock: Mock, n: int, samples: list[int] | None = None, give_up: float = 30.0) -> list[float]:
    """`n` authenticated list calls, each on a new connection, from a separate process; returns their latencies in
    seconds, stopping after the first one that takes `give_up` seconds or more. Samples the server's descriptor count
    meanwhile into `samples`."""
    proc = subprocess.Popen([sys.executable, "-c", PROBE_PY, mock.url + NS, TOKEN, str(n), str(give_up)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:
        if samples is not None:
            samples.append(mock.fds())
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return json.loads(out)


def cpu_seconds(mock: Mock) -> float:
    fields = Path(f"/proc/{mock.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled(mock: Mock, window: float = 0.5, busy: float = 0.1) -> bool:
    """Whether the server used less than `busy` CPU seconds in the next `window` seconds."""
    before = cpu_seconds(mock)
    time.sleep(window)
    return cpu_seconds(mock) - before < busy


PROBE_P99 = 0.5  # seconds: generous, for a debug build on a busy 2-core machine ...
PROBE_SLOWDOWN = 5  # ... or this many times the probe's own p99 without the attack, if the machine is that loaded


def test_a22_slow_clients_neither_starve_a_probe_nor_leak_descriptors(tmp_path):
    """300 slowloris heads, 100 slow bodies (Content-Length 100000, a byte every 2 s) and 50 slow readers (40 that
    pipeline 100 list calls, 10 that leave the server blocked writing the OpenAPI document), all held open; once the
    server has served what they sent, 50 probe calls."""
    mock = Mock(tmp_path)
    attack = None
    try:
        probe(mock, 5)
        base_fds, base_rss = mock.fds(), mock.rss_kib()
        quiet = probe(mock, 50)
        counts = {"slowloris": SLOWLORIS, "slowbody": SLOW_BODY, "slowread": SLOW_READ, "stalled": STALLED}
        total = sum(counts.values())
        attack = Attack(mock.port, counts)
        attack.start()
        assert poll(lambda: attack.opened == total or attack.errors, 60) and not attack.errors, attack.errors
        accepted = poll(lambda: mock.fds() >= base_fds + int(total * 0.95), 30)
        assert accepted, f"the server holds {mock.fds() - base_fds} of {total} attack connections"
        # The pipelined calls are real work (4,000 list calls, ~600 documents); the probe measures the held
        # connections, not that burst (test_a22_slow_readers_of_a_costly_document_do_not_starve_a_probe does).
        assert poll(lambda: settled(mock), 60, interval=0), "the server stayed busy"
        table = server_sockets(mock.port)
        blocked = [table.get(s.getsockname()[1], ("gone", 0))[1] for s in attack.socks["stalled"]]
        assert all(queued > 0 for queued in blocked), f"the server is not blocked writing to every stalled reader: {blocked}"
        assert poll(lambda: attack.ticks >= 2, 30), "the attackers did not trickle"
        samples = [mock.fds()]
        latencies = probe(mock, 50, samples)
        p50, p99 = quantile(latencies, 0.5), quantile(latencies, 0.99)
        peak_fds, peak_rss = max(samples), mock.rss_kib()
        held = {kind: len(socks) - sum(server_closed(mock.port, socks)) for kind, socks in attack.socks.items()}
        report = (f"quiet p50 {quantile(quiet, .5) * 1000:.1f} ms p99 {quantile(quiet, .99) * 1000:.1f} ms; under attack "
                  f"p50 {p50 * 1000:.1f} ms p99 {p99 * 1000:.1f} ms; fds base {base_fds} peak {peak_fds}; "
                  f"rss base {base_rss} KiB under attack {peak_rss} KiB; attack connections still open {held}; "
                  f"unsent bytes queued to the stalled readers {min(blocked)}-{max(blocked)}")
        print("\nA22:", report)
        assert mock.proc.poll() is None, mock.stderr_tail()
        assert p99 < max(PROBE_P99, PROBE_SLOWDOWN * quantile(quiet, 0.99)), report
        assert peak_fds <= base_fds + total + 64, report
        attack.stop()
        attack = None
        back = poll(lambda: mock.fds() <= base_fds + 8, 30)
        print(f"A22: fds after the attackers left {mock.fds()} (base {base_fds}); rss {mock.rss_kib()} KiB")
        assert back, f"fds stay at {mock.fds()} after the attackers left (base {base_fds}); {report}"
        assert probe(mock, 1)[0] < 1.0
    finally:
        if attack is not None:
            attack.stop()
        stopped_cleanly(mock)


COSTLY_READERS = 100


def test_a22_slow_readers_of_a_costly_document_do_not_starve_a_probe(tmp_path):
    mock = Mock(tmp_path)
    attack = Attack(mock.port, {"stalled": COSTLY_READERS})
    try:
        probe(mock, 5)
        attack.start()
        assert poll(lambda: attack.opened == COSTLY_READERS or attack.errors, 30) and not attack.errors, attack.errors
        # Once the server has written what the readers' socket buffers hold (a burst of about half a second), it must
        # go quiet: a document rebuilt per pipelined call kept it busy for tens of seconds and starved the probe.
        assert poll(lambda: settled(mock), 20), "the server stayed busy serving readers that never read"
        latencies = probe(mock, 20, give_up=PROBE_P99 * 2)
        print(f"\nA22 costly slow readers: probe latencies {[round(x * 1000) for x in latencies]} ms")
        assert len(latencies) == 20 and quantile(latencies, 0.99) < PROBE_P99, latencies
    finally:
        attack.stop()
        stopped_cleanly(mock)


# The timeout-dependent checks. With the current configuration a connection that never completes its head is closed
# 60 s after it opened (Hummingbird's idle timer is only reset by complete HTTP parts), a slow body is never cut (every
# body part resets the idle timer) and a client that never reads is never cut (no timeout runs while a response is in
# progress). Each check asks for a cut within CUT_WITHIN seconds of a server started with SCW_MOCK_IDLE_TIMEOUT=2.
IDLE_ENV = {"SCW_MOCK_IDLE_TIMEOUT": "2"}
CUT_WITHIN = 6.0


@pytest.fixture(scope="module")
def cuts(tmp_path_factory) -> dict[str, tuple[int, int]]:
    """Five connections of each slow kind, watched for CUT_WITHIN seconds: {kind: (cut by the server, opened)}. The slow
    readers are "stalled" ones: the server is left blocked writing to them."""
    mock = Mock(tmp_path_factory.mktemp("a22-timeouts"), env=IDLE_ENV)
    attack = Attack(mock.port, {"slowloris": 5, "slowbody": 5, "stalled": 5}, interval=1.0)
    try:
        attack.start()
        assert poll(lambda: attack.opened == 15 or attack.errors, 30) and not attack.errors, attack.errors
        started = time.monotonic()

        def cut() -> dict[str, tuple[int, int]]:
            return {kind: (sum(server_closed(mock.port, socks)), len(socks)) for kind, socks in attack.socks.items()}
        poll(lambda: all(n == total for n, total in cut().values()), CUT_WITHIN, interval=0.2)
        result = cut()
        print(f"\nA22 timeouts: connections cut by the server within {time.monotonic() - started:.1f}s: {result}")
        yield result
    finally:
        attack.stop()
        stopped_cleanly(mock)




def test_a22_slowloris_headers_are_cut_by_the_idle_timeout(cuts):
    assert cuts["slowloris"][0] == cuts["slowloris"][1], cuts


def test_a22_a_slow_body_is_cut(cuts):
    assert cuts["slowbody"][0] == cuts["slowbody"][1], cuts


def test_a22_a_client_that_never_reads_is_cut(cuts):
    assert cuts["stalled"][0] == cuts["stalled"][1], cuts


# --- A24: smuggling through the gateway --------------------------------------------------------------------------------

# A deliberately lax HTTP server: it records every byte of every connection (one file per connection under
# $A24_RECORD_DIR, written before parsing), splits heads on a blank line (CRLF or bare LF), lets the last header win,
# strips spaces before colons, prefers any Transfer-Encoding that mentions "chunked" over Content-Length, and answers
# each request it parses with a 200 whose body echoes the request line.
LAX_PY = r'''
import itertools, os, socket, threading
record, counter = os.environ["A24_RECORD_DIR"], itertools.count()

def chunked(b):
    body = b""
    while True:
        i = b.find(b"\n")
        if i < 0:
            return None
        try:
            size = int(b[:i].strip().split(b";")[0] or b"0", 16)
        except ValueError:
            size = 0
        b = b[i + 1:]
        if size <= 0:
            j = b.find(b"\n")
            return None if j < 0 else (body, b[j + 1:])
        if len(b) < size + 2:
            return None
        body, b = body + b[:size], b[size + 2:]

def serve(c, n):
    buf = b""
    with c, open(os.path.join(record, "conn-%06d.bin" % n), "ab", buffering=0) as f:
        while True:
            try:
                data = c.recv(65536)
            except OSError:
                return
            if not data:
                return
            f.write(data)
            buf += data
            while True:
                ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") for i in [buf.find(sep)] if i >= 0]
                if not ends:
                    break
                i, n_sep = min(ends)
                lines = buf[:i].replace(b"\r\n", b"\n").split(b"\n")
                rest = buf[i + n_sep:]
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(b":")
                    headers[k.strip().lower()] = v.strip()
                if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                    parsed = chunked(rest)
                    if parsed is None:
                        break
                    rest = parsed[1]
                else:
                    try:
                        length = int(headers.get(b"content-length", b"0"))
                    except ValueError:
                        length = 0
                    if len(rest) < length:
                        break
                    rest = rest[length:]
                buf = rest
                reply = b"ok " + lines[0]
                try:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(reply) + reply)
                except OSError:
                    return

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen(128)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c, next(counter)), daemon=True).start()
'''

SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"
CONTROL_BODY = b"GET /control-in-a-body HTTP/1.1\r\nHost: localhost\r\n\r\n"  # a request-shaped body that must stay a body


def a24_cases(p: bytes) -> dict[str, tuple[bytes, bool]]:
    """{case: (payload, well formed)}; `p` is the gateway prefix `/_mock/invoke/{id}`. Every malformed payload, and
    the pipelining control, is followed on the same connection by a well-formed `GET {p}/a24/{case}-follower`."""
    te_body = b"0\r\n\r\n" + SMUGGLED
    cases = {
        # well-formed controls: each must reach the child exactly once
        "ok-get": (b"GET " + p + b"/a24/ok-get HTTP/1.1\r\nHost: localhost\r\n\r\n", True),
        "ok-sized-body": (b"POST " + p + b"/a24/ok-sized-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
                          % len(CONTROL_BODY) + CONTROL_BODY, True),
        "ok-chunked": (b"POST " + p + b"/a24/ok-chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nhello\r\n0\r\n\r\n", True),
        "ok-pipelined": (b"GET " + p + b"/a24/ok-pipelined HTTP/1.1\r\nHost: localhost\r\n\r\n", True),
        # A23 shapes, most carrying a smuggled GET /admin that a lax parser would see as a second request
        "cl-te": (b"POST " + p + b"/a24/cl-te HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
                  % len(te_body) + te_body, False),
        "te-cl": (b"POST " + p + b"/a24/te-cl HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                  + te_body, False),
        "two-content-lengths": (b"POST " + p + b"/a24/two-content-lengths HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, False),
        "te-xchunked": (b"POST " + p + b"/a24/te-xchunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n" + te_body, False),
        "te-chunked-identity": (b"POST " + p + b"/a24/te-chunked-identity HTTP/1.1\r\nHost: localhost\r\n"
                                b"Transfer-Encoding: chunked, identity\r\n\r\n" + te_body, False),
        "space-before-colon": (b"POST " + p + b"/a24/space-before-colon HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n"
                               b"Content-Length: 0\r\n\r\n" + te_body, False),
        "obs-fold": (b"POST " + p + b"/a24/obs-fold HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n"
                     + te_body, False),
        "chunk-size-0x": (b"POST " + p + b"/a24/chunk-size-0x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"0x10\r\n0123456789abcdef\r\n" + te_body, False),
        "chunk-size-overflow": (b"POST " + p + b"/a24/chunk-size-overflow HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"FFFFFFFFFFFFFFFFFF1\r\nx\r\n" + te_body, False),
        "bare-lf": (b"POST " + p + b"/a24/bare-lf HTTP/1.1\nHost: x\nContent-Length: %d\n\n" % len(SMUGGLED) + SMUGGLED, False),
        "http10-te": (b"POST " + p + b"/a24/http10-te HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + te_body, False),
        "two-hosts": (b"GET " + p + b"/a24/two-hosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", False),
        "no-colon-then-pipelined": (b"GET " + p + b"/a24/no-colon-then-pipelined HTTP/1.1\r\nHost x\r\n\r\n", False),
    }
    follower = lambda name: b"GET " + p + b"/a24/" + name.encode() + b"-follower HTTP/1.1\r\nHost: localhost\r\n\r\n"
    return {name: (payload + (follower(name) if not ok or name == "ok-pipelined" else b""), ok)
            for name, (payload, ok) in cases.items()}


MALFORMED_ATTEMPTS = 5
MALFORMED = [name for name, (_, ok) in a24_cases(b"/x").items() if not ok]
WELL_FORMED = [name for name, (_, ok) in a24_cases(b"/x").items() if ok]

class StrictError(ValueError):
    pass


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def strict_requests(data: bytes) -> list[tuple[bytes | None, str | None]]:
    """Reads a child connection's bytes as RFC 9112 requests, refusing anything a lax parser could read differently
    (bare CR/LF, obs-fold, space before a colon, several or no Host, CL with TE, several CL or TE, a coding other than
    chunked, bad chunk sizes, a truncated body). Returns [(target, None if well formed else why)]; parsing stops at the
    first request that is not well formed (its target is None when even its request line is unreadable)."""
    out, pos = [], 0
    while pos < len(data):
        target = None
        try:
            end = data.find(b"\r\n\r\n", pos)
            line_end = data.find(b"\r\n", pos)
            m = re.fullmatch(rb"([A-Z]+) (/[\x21-\x7e]*) HTTP/1\.1", data[pos:line_end] if line_end >= 0 else data[pos:])
            if not m:
                raise StrictError(f"bad request line {data[pos:pos + 80]!r}")
            target = m.group(2)
            if end < 0:
                raise StrictError("truncated head")
            lines, pos = data[pos:end].split(b"\r\n"), end + 4
            if any(b"\r" in line or b"\n" in line for line in lines):
                raise StrictError("bare CR or LF")
            headers = []
            for line in lines[1:]:
                name, colon, value = line.partition(b":")
                if not colon or not _TOKEN.fullmatch(name):
                    raise StrictError(f"bad header line {line!r} (obs-fold, space before the colon or no colon)")
                value = value.strip(b" \t")
                if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value):
                    raise StrictError(f"control character in {line!r}")
                headers.append((name.lower(), value))
            names = [n for n, _ in headers]
            if names.count(b"host") != 1:
                raise StrictError(f"{names.count(b'host')} Host headers")
            lengths = [v for n, v in headers if n == b"content-length"]
            codings = [v for n, v in headers if n == b"transfer-encoding"]
            if (lengths and codings) or len(lengths) > 1 or len(codings) > 1:
                raise StrictError(f"ambiguous framing {lengths!r} {codings!r}")
            if codings:
                if codings[0].lower() != b"chunked":
                    raise StrictError(f"transfer coding {codings[0]!r}")
                while True:
                    eol = data.find(b"\r\n", pos)
                    size_line = data[pos:eol] if eol >= 0 else data[pos:]
                    if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_line):
                        raise StrictError(f"bad or missing chunk size {data[pos:pos + 40]!r}")
                    size, pos = int(size_line, 16), eol + 2
                    if size == 0:
                        if data[pos:pos + 2] != b"\r\n":
                            raise StrictError("trailers or no final CRLF")
                        pos += 2
                        break
                    if data[pos + size:pos + size + 2] != b"\r\n":
                        raise StrictError("chunk data truncated or not followed by CRLF")
                    pos += size + 2
            elif lengths:
                if not re.fullmatch(rb"[0-9]{1,10}", lengths[0]):
                    raise StrictError(f"Content-Length {lengths[0]!r}")
                if len(data) - pos < int(lengths[0]):
                    raise StrictError("body shorter than its Content-Length")
                pos += int(lengths[0])
            out.append((target, None))
        except StrictError as e:
            out.append((target, str(e)))
            break
    return out


@pytest.fixture(scope="module")
def gateway_run(tmp_path_factory):
    """One runtime server, one public container running the lax child, every A24 payload sent on its own connection:
    once if well formed, MALFORMED_ATTEMPTS times if not (whether a refused request's head leaks to the child is a race
    between the parser's error and the upstream write, so one attempt would not tell reliably). Returns
    {"client": {case: [(bytes read, closed) per attempt]}, "conns": [bytes of each child connection]}."""
    tmp = tmp_path_factory.mktemp("a24")
    record = tmp / "recorded"
    record.mkdir()
    mock = Mock(tmp, runtime=True)
    try:
        ns = mock.call("POST", NS, json={"name": "a24"})
        assert ns.status_code == 200, ns.text
        r = mock.call("POST", f"{C1}/containers", json={
            "namespace_id": ns.json()["id"], "name": "lax", "image": "sample:latest", "privacy": "public",
            "command": [sys.executable, "-c", LAX_PY], "environment_variables": {"A24_RECORD_DIR": str(record)}})
        assert r.status_code == 200, r.text
        cid = r.json()["id"]
        body = poll(lambda: (b := mock.call("GET", f"{C1}/containers/{cid}").json())["status"] in ("ready", "error") and b, 30)
        assert body and body["status"] == "ready", body
        client: dict[str, list[tuple[bytes, bool]]] = {}
        for name, (payload, ok) in a24_cases(f"/_mock/invoke/{cid}".encode()).items():
            for _ in range(1 if ok else MALFORMED_ATTEMPTS):
                with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as s:
                    s.sendall(payload)
                    client.setdefault(name, []).append(read_responses(s, enough=1 if ok and name != "ok-pipelined" else 2))

        def recorded() -> list[bytes]:
            return [f.read_bytes() for f in sorted(record.iterdir())]
        # The child writes what it reads before parsing it; wait until every request it answered is on disk.
        answered = sum(len(re.findall(rb"ok [A-Z]+ /a24/", out)) for attempts in client.values() for out, _ in attempts)
        poll(lambda: sum(len(re.findall(rb"(?:^|\n)[A-Z]+ /a24/", b)) for b in recorded()) >= answered, 5)
        assert mock.proc.poll() is None, mock.stderr_tail()
        yield {"client": client, "conns": recorded()}
    finally:
        stopped_cleanly(mock)


def child_saw(run, target: bytes) -> list[str | None]:
    """What the child made of each request it received for `target`: None (well formed) or why not."""
    return [why for data in run["conns"] for t, why in strict_requests(data) if t == target]


def answered(run, case: str, target: bytes) -> int:
    """How many answers of the child the client got for `target` on the connections of `case`."""
    return sum(1 for out, _ in run["client"][case] for _, body in responses(out)
               if re.fullmatch(rb"ok [A-Z]+ " + re.escape(target) + rb" HTTP/1\.1", body))


GATEWAY_STATUS_BUGS: dict[str, str] = {}  # fixed: ConnectionGuard refuses them
CHILD_BUGS: dict[str, str] = {}  # fixed: the fast path sends the head with the first body part


def xfail_for(bugs: dict[str, str]):
    return lambda cases: [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=bugs[c])) if c in bugs else c
                          for c in cases]


@pytest.mark.parametrize("case", xfail_for(GATEWAY_STATUS_BUGS)(MALFORMED))
def test_a24_a_malformed_request_is_400_and_closed_and_its_follower_never_runs(gateway_run, case):
    for out, closed in gateway_run["client"][case]:
        assert statuses(out) == [400], f"{case}: {out[:400]!r}"
        assert closed, f"{case}: the connection stayed open after {out[:80]!r}"


@pytest.mark.parametrize("case", WELL_FORMED)
def test_a24_a_well_formed_request_is_answered_by_the_child(gateway_run, case):
    [(out, _)] = gateway_run["client"][case]
    assert answered(gateway_run, case, f"/a24/{case}".encode()) == 1, out[:400]
    if case == "ok-pipelined":
        assert answered(gateway_run, case, f"/a24/{case}-follower".encode()) == 1, out[:800]


@pytest.mark.parametrize("case", xfail_for(CHILD_BUGS)(WELL_FORMED + MALFORMED))
def test_a24_the_child_sees_one_well_formed_request_per_accepted_request(gateway_run, case):
    """A well-formed request (and the pipelining control's follower) reaches the child exactly once; a malformed one,
    and what was pipelined behind it, reaches it only as often as the gateway let it through (answered it)."""
    for target in (f"/a24/{case}".encode(), f"/a24/{case}-follower".encode()):
        seen = child_saw(gateway_run, target)
        assert all(why is None for why in seen), f"{target!r} reached the child not well formed: {seen}"
        if case in WELL_FORMED:
            expected = 1 if target == f"/a24/{case}".encode() or case == "ok-pipelined" else 0
        else:
            expected = answered(gateway_run, case, target)
        assert len(seen) == expected, f"{target!r}: the child saw {len(seen)}, expected {expected}"


def test_a24_no_smuggled_request_reaches_the_child(gateway_run):
    everything = b"".join(gateway_run["conns"])
    assert b"/admin" not in everything, everything[max(0, everything.find(b"/admin") - 300):][:600]
    assert CONTROL_BODY in everything  # the request-shaped control body did arrive, as a body
    targets = [t for data in gateway_run["conns"] for t, _ in strict_requests(data)]
    assert all(t is not None and t.startswith(b"/a24/") for t in targets), targets


