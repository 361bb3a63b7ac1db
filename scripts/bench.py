#!/usr/bin/env python3
"""Benchmark driver for scw-mock; run it through scripts/bench, which builds the release binary first.

Each section is one function registered in SECTIONS, in the order they run. A section gets the shared
Bench context and returns the summary lines it wants printed at the end (key=value pairs). Sections that
need a long-running server share one (Bench.server(), started lazily on a fresh database file) so that
memory figures reflect the load the earlier sections put on it; sections that need their own servers
(startup) start and stop them themselves.

To add a section (e.g. token creation rate, container GET/LIST with 10,000 containers, gateway
throughput): write `def section_name(b: Bench) -> list[str]`, decorate it with @section("name", "what it
measures"), and put any new knobs in Settings (with a BENCH_* env var and a flag).

Server and wrk share the machine's cores, so the figures only mean something on an otherwise idle machine:
before each section the driver waits (up to --quiet-wait seconds) for the machine to go quiet, waits for the
server's own background work (the RSA key pool) to finish before measuring, and prints for every wrk run the
CPU share of the server, of wrk and of everything else ("other"), plus the server's CPU time per request,
which depends little on what else runs.

Everything targets 127.0.0.1 only: the server is started with --host 127.0.0.1 and every URL is checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Optional

HOST = "127.0.0.1"
TOKEN = "00000000-0000-4000-8000-000000000000"
REGION = "fr-par"
WRK_INSTALL_HINT = "wrk is not installed; on Debian/Ubuntu: apt-get install -y wrk"


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A failure that ends the run with a message (and a non-zero status)."""


# ---------------------------------------------------------------------------------------------------------
# Settings


@dataclasses.dataclass
class Settings:
    binary: str
    only: list[str]
    duration: int          # wrk seconds per measured run
    connections: int       # wrk -c
    threads: int           # wrk -t
    warmup: int            # wrk seconds of warm-up before each measured run (0 = none)
    starts: int            # number of cold starts measured by `startup`
    settle: float          # seconds to let the server go idle before an RSS reading
    json_path: Optional[str]
    keep_temp: bool
    server_args: list[str]  # extra `scw-mock serve` flags for every server
    quiet_wait: float      # seconds to wait, before each section, for the rest of the machine to go quiet


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def parse_settings(argv: list[str]) -> Settings:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark scw-mock on 127.0.0.1 and print a summary. Flags override BENCH_* env vars.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                   help="comma-separated sections to run (env BENCH_ONLY); empty = all; see --list")
    p.add_argument("--list", action="store_true", help="list the sections and exit")
    p.add_argument("--duration", "-d", type=int, default=env_int("BENCH_DURATION", 10),
                   help="seconds per measured wrk run (env BENCH_DURATION)")
    p.add_argument("--connections", "-c", type=int, default=env_int("BENCH_CONNECTIONS", 50),
                   help="wrk connections (env BENCH_CONNECTIONS)")
    p.add_argument("--threads", "-t", type=int, default=env_int("BENCH_THREADS", 2),
                   help="wrk threads (env BENCH_THREADS)")
    p.add_argument("--warmup", type=int, default=env_int("BENCH_WARMUP", 2),
                   help="seconds of wrk warm-up before each measured run, 0 for none (env BENCH_WARMUP)")
    p.add_argument("--starts", type=int, default=env_int("BENCH_STARTS", 10),
                   help="cold starts measured by the startup section (env BENCH_STARTS)")
    p.add_argument("--settle", type=float, default=env_float("BENCH_SETTLE", 1.0),
                   help="seconds to wait idle before reading RSS (env BENCH_SETTLE)")
    p.add_argument("--json", dest="json_path", default=os.environ.get("BENCH_JSON") or None,
                   help="also write every figure as JSON to this file (env BENCH_JSON)")
    p.add_argument("--keep-temp", action="store_true", default=os.environ.get("BENCH_KEEP_TEMP") == "1",
                   help="keep the temp folder (databases, server logs) for inspection (env BENCH_KEEP_TEMP=1)")
    p.add_argument("--server-args", default=os.environ.get("BENCH_SERVER_ARGS", ""),
                   help="extra flags for every `scw-mock serve`, e.g. '--key-size 2048' (env BENCH_SERVER_ARGS)")
    p.add_argument("--quiet-wait", type=float, default=env_float("BENCH_QUIET_WAIT", 60),
                   help="before each section, wait up to this many seconds for the machine to be idle"
                        " (< 10%% busy for 3 s), since server and wrk share the cores; 0 = don't wait"
                        " (env BENCH_QUIET_WAIT)")
    args = p.parse_args(argv)

    if args.list:
        for name, (_, about) in SECTIONS.items():
            print(f"{name:16} {about}")
        sys.exit(0)

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    for name in ("duration", "connections", "threads", "starts"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    if args.threads > args.connections:
        p.error("--threads must be <= --connections (wrk needs a connection per thread)")

    binary = os.environ.get("SCW_MOCK_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        p.error("SCW_MOCK_BIN must name the scw-mock binary (scripts/bench sets it after building)")
    return Settings(binary=os.path.abspath(binary), only=only, duration=args.duration,
                    connections=args.connections, threads=args.threads, warmup=args.warmup,
                    starts=args.starts, settle=args.settle, json_path=args.json_path,
                    keep_temp=args.keep_temp, server_args=shlex.split(args.server_args),
                    quiet_wait=args.quiet_wait)


# ---------------------------------------------------------------------------------------------------------
# Server process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def child_env() -> dict[str, str]:
    """The environment without SCW_MOCK_* settings, so only our flags configure the server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SCW_MOCK_")}


def health_status(port: int, timeout: float = 1.0) -> Optional[int]:
    """Status code of GET /_mock/health over a raw socket, or None if nothing listens yet."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except (ConnectionRefusedError, ConnectionResetError, socket.timeout, OSError):
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle by the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def machine_total_seconds() -> float:
    with open("/proc/stat") as f:
        return sum(int(x) for x in f.readline().split()[1:9]) / CLOCK_TICKS


def wait_quiet(max_wait: float, threshold_pct: float = 10.0, windows: int = 3) -> tuple[float, bool]:
    """Waits until the whole machine is under `threshold_pct` busy for `windows` 1-second windows in a row,
    or `max_wait` seconds. Returns (seconds waited, whether it went quiet)."""
    t0 = time.monotonic()
    quiet = 0
    while quiet < windows:
        if time.monotonic() - t0 >= max_wait:
            return time.monotonic() - t0, False
        b0, a0 = machine_busy_seconds(), machine_total_seconds()
        time.sleep(1.0)
        b1, a1 = machine_busy_seconds(), machine_total_seconds()
        quiet = quiet + 1 if 100.0 * (b1 - b0) / max(a1 - a0, 1e-9) < threshold_pct else 0
    return time.monotonic() - t0, True


def children_cpu_seconds() -> float:
    """CPU of the reaped children of this process (wrk, once subprocess.run has returned)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclasses.dataclass
class CpuShare:
    """Where the cores went during a measured run, in percent of one core (so 2 cores = 200)."""
    server: float
    wrk: float
    other: float  # everything else on the machine: a high value means the figures are disturbed
    server_cpu_s: float  # CPU seconds the server spent during the run

    def line(self) -> str:
        return (f"cpu_pct server={self.server:.0f} wrk={self.wrk:.0f} other={self.other:.0f}"
                f" (of {os.cpu_count() * 100})")


def all_process_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of every process on the machine, by pid, with its command name."""
    out: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
            name = raw[raw.index("(") + 1:raw.rindex(")")]
            fields = raw.rpartition(")")[2].split()
            out[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
        except (OSError, ValueError):
            pass
    return out


class CpuMeter:
    def __init__(self, server_pid: int):
        self.pid = server_pid
        self.procs = all_process_cpu()
        self.t = time.monotonic()
        self.server = process_cpu_seconds(server_pid)
        self.machine = machine_busy_seconds()
        self.children = children_cpu_seconds()

    def stop(self) -> CpuShare:
        wall = time.monotonic() - self.t
        server = process_cpu_seconds(self.pid) - self.server
        kids = children_cpu_seconds() - self.children
        machine = machine_busy_seconds() - self.machine
        pct = lambda x: 100.0 * x / wall
        now = all_process_cpu()
        self.top_others = sorted(
            ((pct(cpu - self.procs.get(pid, ("", 0.0))[1]), pid, name) for pid, (name, cpu) in now.items()
             if pid not in (self.pid, os.getpid())), reverse=True)[:5]
        return CpuShare(server=pct(server), wrk=pct(kids), other=max(0.0, pct(machine - server - kids)),
                        server_cpu_s=server)


def read_vm(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM / Threads of a process from /proc, memory in MiB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024.0  # kB -> MiB
            elif key == "Threads":
                out[key] = int(rest.strip())
    return out


def _exited(proc: subprocess.Popen, timeout: float) -> bool:
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


class Server:
    """One scw-mock process on 127.0.0.1 with its own database file and stderr log in `workdir`."""

    def __init__(self, binary: str, workdir: str, name: str, extra_args: list[str] = ()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.workdir = workdir
        self.name = name
        self.database = os.path.join(workdir, f"{name}.sqlite")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self.export_line: Optional[str] = None
        self.export_line_at: Optional[float] = None  # perf_counter when the stdout line arrived
        self._stdout_thread: Optional[threading.Thread] = None
        self.terminated = False  # whether stop() had to send SIGTERM (else it had exited by itself)
        self.stop_ms: Optional[float] = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, port: int = 0) -> float:
        """Execs the server and returns perf_counter() taken just before the exec. Does not wait."""
        self._log = open(self.log_path, "wb")
        argv = [self.binary, "serve", "--host", HOST, "--port", str(port), "--database", self.database] + self.extra_args
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log, env=child_env(), cwd=self.workdir)
        self.port = port or None
        self._stdout_thread = threading.Thread(target=self._read_stdout, daemon=True)
        self._stdout_thread.start()
        return t0

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        line = self.proc.stdout.readline()
        self.export_line_at = time.perf_counter()
        self.export_line = line.decode(errors="replace").strip()
        for _ in self.proc.stdout:  # keep draining so the server never blocks on a full pipe
            pass

    def wait_export_line(self, timeout: float = 30.0) -> None:
        """Waits for the `export SCW_API_URL=...` line and takes the port from it (for --port 0)."""
        deadline = time.monotonic() + timeout
        while self.export_line is None:
            if self.proc and self.proc.poll() is not None:
                raise BenchError(f"{self.name}: server exited with {self.proc.returncode} before listening\n"
                                 + self.log_tail())
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: no export line after {timeout}s\n" + self.log_tail())
            time.sleep(0.005)
        m = re.search(r"SCW_API_URL=http://([0-9.]+):(\d+)", self.export_line)
        if not m and self.proc and _exited(self.proc, 1.0):
            raise BenchError(f"{self.name}: server exited with {self.proc.returncode} before listening\n"
                             + self.log_tail())
        if not m:
            raise BenchError(f"{self.name}: unexpected first stdout line: {self.export_line!r}")
        if m.group(1) != HOST:
            raise BenchError(f"{self.name}: server announced {m.group(1)}, refusing to target anything but {HOST}")
        announced = int(m.group(2))
        if self.port and announced != self.port:
            raise BenchError(f"{self.name}: asked for port {self.port}, server announced {announced}")
        self.port = announced

    def wait_healthy(self, timeout: float = 30.0, interval: float = 0.001) -> float:
        """Polls /_mock/health every `interval` s until it answers 200; returns perf_counter() of that answer."""
        assert self.port
        deadline = time.monotonic() + timeout
        while True:
            status = health_status(self.port)
            if status == 200:
                return time.perf_counter()
            if self.proc and self.proc.poll() is not None:
                raise BenchError(f"{self.name}: server exited with {self.proc.returncode} before healthy\n"
                                 + self.log_tail())
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: /_mock/health not 200 after {timeout}s (last {status})\n"
                                 + self.log_tail())
            time.sleep(interval)

    def wait_idle(self, timeout: float = 120.0, window: float = 0.5, threshold_pct: float = 3.0) -> float:
        """Waits until the server's CPU use stays under `threshold_pct` of a core for two windows in a row
        (background work such as the RSA key pool done); returns the seconds waited."""
        assert self.proc
        t0 = time.monotonic()
        quiet = 0
        while quiet < 2:
            before = process_cpu_seconds(self.proc.pid)
            time.sleep(window)
            used = process_cpu_seconds(self.proc.pid) - before
            quiet = quiet + 1 if 100.0 * used / window < threshold_pct else 0
            if time.monotonic() - t0 > timeout:
                log(f"{self.name}: still busy after {timeout}s; going on")
                break
        return time.monotonic() - t0 - 2 * window

    def start_and_wait(self) -> None:
        self.start(0)
        self.wait_export_line()
        self.wait_healthy()

    def vm(self) -> dict[str, float]:
        assert self.proc
        return read_vm(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM, then SIGKILL if it has not exited within `timeout`. Safe to call twice.
        Sets stop_ms to how long the server took to exit after SIGTERM."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.terminated = True
            t0 = time.perf_counter()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
                self.stop_ms = (time.perf_counter() - t0) * 1e3
            except subprocess.TimeoutExpired:
                log(f"{self.name}: did not exit {timeout}s after SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        if self._stdout_thread:
            self._stdout_thread.join(2)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                tail = f.readlines()[-lines:]
        except OSError:
            return ""
        return "".join(f"  | {l}" for l in tail)


# ---------------------------------------------------------------------------------------------------------
# HTTP client and wrk


def api(server: Server, method: str, path: str, body: Optional[dict] = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        headers = {"X-Auth-Token": TOKEN}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            data = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            data = {"_raw": raw.decode(errors="replace")}
        return resp.status, data
    finally:
        conn.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", value)
    if not m:
        raise BenchError(f"cannot parse wrk duration {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclasses.dataclass
class WrkResult:
    rps: float
    requests: int
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: str  # "" when none
    raw: str
    cpu: Optional[CpuShare] = None


def run_wrk(url: str, b: "Bench", duration: int, headers: dict[str, str]) -> WrkResult:
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to point wrk at {url}: only {HOST} is allowed")
    argv = ["wrk", f"-t{b.settings.threads}", f"-c{b.settings.connections}", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(url)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 60}s")
    out = done.stdout
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{out}{done.stderr}")

    def find(pattern: str) -> str:
        m = re.search(pattern, out, re.MULTILINE)
        if not m:
            raise BenchError(f"cannot find {pattern!r} in wrk output:\n{out}")
        return m.group(1)

    socket_errors = ""
    m = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    if m:
        socket_errors = m.group(1).strip()
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps=float(find(r"^Requests/sec:\s+([0-9.]+)")),
        requests=int(find(r"^\s+(\d+) requests in ")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p75_ms=_ms(find(r"^\s+75%\s+(\S+)")),
        p90_ms=_ms(find(r"^\s+90%\s+(\S+)")),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        max_ms=_ms(find(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)")),
        non_2xx=int(m.group(1)) if m else 0,
        socket_errors=socket_errors,
        raw=out)


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise BenchError(WRK_INSTALL_HINT)


# ---------------------------------------------------------------------------------------------------------
# Shared context


class Bench:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.tmp = tempfile.mkdtemp(prefix="scw-mock-bench-")
        self.figures: dict[str, dict] = {}  # section -> figures, for --json
        self._server: Optional[Server] = None
        self._server_error: Optional[str] = None
        self.rss_idle: Optional[dict[str, float]] = None  # shared server, once idle after start
        self.busy_after_start_s: Optional[float] = None  # how long the shared server kept a core busy after start
        self.load_sections: list[str] = []  # sections that put load on the shared server
        self._servers: list[Server] = []  # everything started, for cleanup

    def new_server(self, name: str, extra_args: list[str] = ()) -> Server:
        s = Server(self.settings.binary, self.tmp, name, self.settings.server_args + list(extra_args))
        self._servers.append(s)
        return s

    def server(self) -> Server:
        """The shared server (fresh database file), started on first use; its idle RSS is read then."""
        if self._server_error:
            raise BenchError(f"the shared server failed to start earlier: {self._server_error}")
        if self._server is None:
            s = self.new_server("shared")
            try:
                s.start_and_wait()
            except BenchError as e:
                self._server_error = str(e).splitlines()[0]
                raise
            self.busy_after_start_s = s.wait_idle()
            time.sleep(self.settings.settle)
            self.rss_idle = s.vm()
            self._server = s
            log(f"shared server pid {s.proc.pid} on {s.base_url}: busy {self.busy_after_start_s:.1f}s after start"
                f" (background work), then idle RSS {self.rss_idle['VmRSS']:.1f} MiB")
        return self._server

    def wrk(self, server: Server, path: str) -> WrkResult:
        """A warm-up run (if configured), then the measured run with the CPU share of server, wrk and the rest."""
        require_wrk()
        url = server.base_url + path
        if self.settings.warmup > 0:
            run_wrk(url, self, self.settings.warmup, {"X-Auth-Token": TOKEN})
        meter = CpuMeter(server.proc.pid)
        result = run_wrk(url, self, self.settings.duration, {"X-Auth-Token": TOKEN})
        result.cpu = meter.stop()
        if result.cpu.other > 25:
            top = ", ".join(f"{name}[{pid}] {p:.0f}%" for p, pid, name in meter.top_others if p >= 1)
            log(f"warning: other processes used {result.cpu.other:.0f}% of a core during the run"
                f" (top: {top or 'none visible: kernel/softirq or processes that exited'});"
                " the figures are disturbed (run on an idle machine)")
        return result

    def cleanup(self) -> None:
        for s in self._servers:
            try:
                rc = s.stop()
                if s.terminated and rc not in (0, -signal.SIGTERM):
                    log(f"{s.name}: exited with {rc} after SIGTERM\n{s.log_tail()}")
            except Exception as e:  # keep cleaning the others
                log(f"{s.name}: cleanup failed: {e}")
        if self.settings.keep_temp:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# Sections

SECTIONS: dict[str, tuple[Callable[[Bench], list[str]], str]] = {}


def section(name: str, about: str):
    def register(fn: Callable[[Bench], list[str]]):
        SECTIONS[name] = (fn, about)
        return fn
    return register


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def measure_starts(b: Bench, label: str, n: int, extra_args: list[str] = ()) -> dict[str, list[float]]:
    """n cold starts on fresh database files: exec -> export line, exec -> first 200 from /_mock/health
    (polled every ~1 ms over a raw socket on a port chosen beforehand), and SIGTERM -> exit."""
    out: dict[str, list[float]] = {"to_health_ms": [], "to_export_line_ms": [], "stop_ms": []}
    for i in range(n):
        s = b.new_server(f"{label}-{i}", extra_args)
        t0 = s.start(free_port())
        t_health = s.wait_healthy(interval=0.001)
        s.wait_export_line()
        s.stop()
        out["to_health_ms"].append((t_health - t0) * 1e3)
        out["to_export_line_ms"].append((s.export_line_at - t0) * 1e3)
        out["stop_ms"].append(s.stop_ms or 0.0)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(s.database + suffix):
                os.remove(s.database + suffix)
    return out


@section("startup", "exec -> first 200 from /_mock/health, each start on a fresh database file (target < 100 ms)")
def bench_startup(b: Bench) -> list[str]:
    n = b.settings.starts
    default = measure_starts(b, "startup", n)
    h = default["to_health_ms"]
    med = statistics.median(h)
    lines = [
        f"startup_ms_median={med:.1f} min={min(h):.1f} max={max(h):.1f} (n={n})  [target <100: {verdict(med < 100)}]",
        f"  startup_export_line_ms_median={statistics.median(default['to_export_line_ms']):.1f}"
        f" stop_ms_median={statistics.median(default['stop_ms']):.0f} max={max(default['stop_ms']):.0f}",
    ]

    # Diagnostics: the same without the background RSA key pool (it starts generating before the listener opens
    # and competes for the cores), and the floor of exec'ing the binary at all (loader, Swift runtime, Foundation).
    figures = {"default": default}
    try:
        no_pool = measure_starts(b, "startup-nopool", n, ["--key-pool", "0"])
        figures["key_pool_0"] = no_pool
        hp = no_pool["to_health_ms"]
        lines.append(f"  startup_key_pool0_ms_median={statistics.median(hp):.1f} min={min(hp):.1f} max={max(hp):.1f}"
                     f" stop_ms_median={statistics.median(no_pool['stop_ms']):.0f}")
    except BenchError as e:
        lines.append(f"  startup_key_pool0: n/a ({str(e).splitlines()[0]})")
    exec_only = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([b.settings.binary, "--version"], stdout=subprocess.DEVNULL, check=True, env=child_env())
        exec_only.append((time.perf_counter() - t0) * 1e3)
    figures["exec_version_ms"] = exec_only
    lines.append(f"  exec_version_ms_median={statistics.median(exec_only):.1f} (floor: exec + exit of `scw-mock --version`)")
    b.figures["startup"] = figures
    return lines


def wrk_lines(b: Bench, key: str, r: WrkResult) -> list[str]:
    """The two detail lines every wrk section prints under its headline."""
    if r.non_2xx or r.socket_errors:
        log(f"{key}: wrk saw errors:\n{r.raw}")
    return [
        f"  {key}_requests={r.requests} p90_ms={r.p90_ms:.2f} max_ms={r.max_ms:.2f}"
        f" non_2xx={r.non_2xx} socket_errors={r.socket_errors or 'none'}",
        f"  {key}_{r.cpu.line()} server_cpu_us_per_req={1e6 * r.cpu.server_cpu_s / r.requests:.0f}",
    ]


@section("get_health", "baseline: wrk GET /_mock/health (no auth, no database): the HTTP stack's ceiling")
def bench_get_health(b: Bench) -> list[str]:
    s = b.server()
    r = b.wrk(s, "/_mock/health")
    b.load_sections.append("get_health")
    b.figures["get_health"] = dataclasses.asdict(r)
    return [f"get_health_rps={r.rps:.0f} p50_ms={r.p50_ms:.2f} p99_ms={r.p99_ms:.2f}"
            f" (c={b.settings.connections}, t={b.settings.threads}, {b.settings.duration}s)"] + wrk_lines(b, "get_health", r)


@section("get_namespace", "wrk GET one namespace on the shared server (target >= 20,000 req/s, p99 < 5 ms)")
def bench_get_namespace(b: Bench) -> list[str]:
    require_wrk()
    s = b.server()
    base = f"/containers/v1beta1/regions/{REGION}/namespaces"
    status, ns = api(s, "POST", base, {"name": "bench-ns"})
    if status != 200 or "id" not in ns:
        raise BenchError(f"creating the namespace answered {status}: {ns}")
    path = f"{base}/{ns['id']}"
    status, got = api(s, "GET", path)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {got}")
    # Creating a namespace takes a key from the pool, which the server then refills in the background;
    # measure the GETs alone.
    refill = s.wait_idle()
    if refill > 0.2:
        log(f"get_namespace: server was busy {refill:.1f}s after the create (key pool refill)")

    r = b.wrk(s, path)
    b.load_sections.append("get_namespace")
    b.figures["get_namespace"] = dataclasses.asdict(r)
    lines = [
        f"get_namespace_rps={r.rps:.0f} p50_ms={r.p50_ms:.2f} p99_ms={r.p99_ms:.2f}"
        f" (c={b.settings.connections}, t={b.settings.threads}, {b.settings.duration}s)"
        f"  [target >=20000 rps: {verdict(r.rps >= 20000)}, p99<5ms: {verdict(r.p99_ms < 5)}]",
    ]
    return lines + wrk_lines(b, "get_namespace", r)


@section("rss", "VmRSS of the shared server when idle after start and after the load sections (target < 40 MiB)")
def bench_rss(b: Bench) -> list[str]:
    s = b.server()
    idle = b.rss_idle
    assert idle is not None
    s.wait_idle()
    time.sleep(b.settings.settle)
    now = s.vm()
    b.figures["rss"] = {"idle": idle, "after_load": now, "load_sections": b.load_sections}
    after = f"{now['VmRSS']:.1f}" if b.load_sections else "n/a"
    return [
        f"rss_idle_mib={idle['VmRSS']:.1f} rss_after_load_mib={after}"
        f"  [target idle <40: {verdict(idle['VmRSS'] < 40)}]",
        f"  rss_peak_mib={now['VmHWM']:.1f} threads={int(now['Threads'])}"
        f" busy_after_start_s={b.busy_after_start_s:.1f}"
        f" (after: {', '.join(b.load_sections) or 'no load section ran'})",
    ]


# ---------------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    settings = parse_settings(argv)
    chosen = settings.only or list(SECTIONS)

    # SIGTERM/SIGHUP end the run like Ctrl-C does, so the finally block still stops the servers.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    load_start = f"{os.getloadavg()[0]:.2f}"
    b = Bench(settings)
    summary: list[str] = []
    failed: list[str] = []
    try:
        log(f"binary {settings.binary}; sections {', '.join(chosen)}; temp {b.tmp}")
        for name in SECTIONS:  # registry order, so rss comes after the load sections
            if name not in chosen:
                continue
            if settings.quiet_wait > 0:
                waited, ok = wait_quiet(settings.quiet_wait)
                if not ok:
                    log(f"the machine stayed busy for {waited:.0f}s (other processes); running {name} anyway")
                elif waited > 4:
                    log(f"waited {waited:.0f}s for the machine to go quiet")
            log(f"section {name}...")
            fn, _ = SECTIONS[name]
            try:
                summary += fn(b)
            except BenchError as e:
                failed.append(name)
                log(f"section {name} FAILED: {e}")
                summary.append(f"{name}: FAILED ({str(e).splitlines()[0]})")
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        b.cleanup()

    if settings.json_path:
        with open(settings.json_path, "w") as f:
            json.dump(b.figures, f, indent=2)
    print()
    print(f"== scw-mock bench ({settings.binary}, {os.cpu_count()} cpus, 127.0.0.1;"
          f" loadavg at start {load_start}, at end {os.getloadavg()[0]:.2f}) ==")
    for line in summary:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
