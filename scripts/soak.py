#!/usr/bin/env python3
"""Soak test of scw-mock; run it through scripts/soak, which builds the release binary first.

The driver starts the real binary on a fresh database (`serve --port 0 --runtime on --key-size 2048 --key-pool 8`,
127.0.0.1 only), creates a namespace and a container running the built-in sample app (image `sample:latest`),
waits until it is `ready`, then starts a SEPARATE load process (this file with --load-worker) that runs a mixed
load for --seconds from a few threads, each with its own keep-alive requests.Session:

  read     60%  GET the namespace, GET the sample container (must stay `ready`), LIST the namespace's containers
  write    20%  create or delete a container in the namespace; each thread keeps at most --keep containers alive
               (create while under it, else delete its oldest). Creations are v1beta1 without an image (stored
               as `created`, no process) except every --deploy-every-th, which is a v1 create of `sample:latest`
               (a deploy: a real process starts, and is deleted later, often while still starting)
  token    10%  POST /containers/v1beta1/regions/fr-par/tokens {"container_id": <sample container>}
  gateway  10%  GET /_mock/invoke/<sample container>/ (the sample app echoes the request; the answer is checked)

Every unexpected status, unexpected body or exception is an error. Meanwhile this process samples the server's
RSS (/proc/<pid>/status VmRSS) and open file descriptors (/proc/<pid>/fd) every --sample-interval seconds. The
first --warmup-fraction of the run is warm-up: the "start" RSS is the first sample after it, the "end" RSS the
last sample taken while the load still ran; for fds, start and end are the lowest of the first (last) three
samples after warm-up, since a deployed container alive at one sampling instant holds a few fds for a moment.

After the load: every container whose creation was acknowledged and that was not deleted must still be listed,
and no deleted one may be; no process whose environment holds SCW_APPLICATION_ID of a deleted container may be
left (/proc/*/environ); SIGTERM must stop the server with exit code 0 and leave none of its processes behind.

The figures block goes to stdout (key=value lines, as scripts/bench prints them); progress goes to stderr.
Exit status 0 only when the verdict is PASS: zero errors, RSS growth after warm-up within
max(--rss-tolerance-pct % of start, --rss-tolerance-mib MiB), fd growth within --fd-tolerance, nothing lost,
nothing leaked, clean shutdown. 2 on a setup failure (server did not start, sample container not ready).

Tiers: CI runs `scripts/soak.py --seconds 20` with the debug binary (Tests/e2e/test_soak.py); the long tier is
`scripts/soak` (600 s on the release build). The load is paced (--rate requests/s in total, 0 = as fast as the
threads go) so it stays moderate on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

# Starting the server, reading its export line and polling are the end-to-end suite's helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "e2e"))
from support import MockServer, wait_until  # noqa: E402

HOST = "127.0.0.1"
TOKEN = "00000000-0000-4000-8000-000000000000"
REGION = "fr-par"
C1 = f"/containers/v1/regions/{REGION}"
CB = f"/containers/v1beta1/regions/{REGION}"
IMAGE = "sample:latest"
# One cycle of ten operations per thread (shuffled per cycle): 6 reads, 2 writes, 1 token, 1 gateway call.
MIX = ["read"] * 6 + ["write"] * 2 + ["token"] + ["gateway"]
KINDS = ["read", "write", "token", "gateway"]


def log(message: str) -> None:
    print(f"soak: {message}", file=sys.stderr, flush=True)


class SoakError(Exception):
    """A setup failure that ends the run (exit status 2)."""


# ---------------------------------------------------------------------------------------------------------
# Settings


def env_num(name: str, default, kind=float):
    raw = os.environ.get(name)
    return kind(raw) if raw not in (None, "") else default


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/soak",
        description="Soak scw-mock on 127.0.0.1 with a mixed load from a second process. Flags override SOAK_* env vars.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seconds", type=float, default=env_num("SOAK_SECONDS", 600.0),
                   help="length of the load (env SOAK_SECONDS); CI uses 20")
    p.add_argument("--threads", type=int, default=env_num("SOAK_THREADS", 4, int),
                   help="load threads, each with its own keep-alive connection (env SOAK_THREADS)")
    p.add_argument("--rate", type=float, default=env_num("SOAK_RATE", 150.0),
                   help="target requests/s of all threads together, 0 = unpaced (env SOAK_RATE)")
    p.add_argument("--keep", type=int, default=env_num("SOAK_KEEP", 3, int),
                   help="containers each thread keeps alive before it deletes its oldest (env SOAK_KEEP)")
    p.add_argument("--deploy-every", type=int, default=env_num("SOAK_DEPLOY_EVERY", 10, int),
                   help="every Nth container creation deploys sample:latest (a real process), 0 = never"
                        " (env SOAK_DEPLOY_EVERY)")
    p.add_argument("--sample-interval", type=float, default=env_num("SOAK_SAMPLE_INTERVAL", 0.0),
                   help="seconds between RSS/fd samples; 0 = seconds/60 clamped to [0.5, 5] (env SOAK_SAMPLE_INTERVAL)")
    p.add_argument("--warmup-fraction", type=float, default=env_num("SOAK_WARMUP_FRACTION", 0.1),
                   help="part of the run that is warm-up, not judged for RSS/fd growth (env SOAK_WARMUP_FRACTION)")
    p.add_argument("--rss-tolerance-pct", type=float, default=env_num("SOAK_RSS_TOLERANCE_PCT", 20.0),
                   help="allowed RSS growth after warm-up, percent of the start figure (env SOAK_RSS_TOLERANCE_PCT)")
    p.add_argument("--rss-tolerance-mib", type=float, default=env_num("SOAK_RSS_TOLERANCE_MIB", 15.0),
                   help="allowed RSS growth after warm-up in MiB; the larger of the two applies (env SOAK_RSS_TOLERANCE_MIB)")
    p.add_argument("--fd-tolerance", type=int, default=env_num("SOAK_FD_TOLERANCE", 20, int),
                   help="allowed growth of the server's open fds after warm-up (env SOAK_FD_TOLERANCE)")
    p.add_argument("--ready-timeout", type=float, default=env_num("SOAK_READY_TIMEOUT", 120.0),
                   help="bound on each set-up wait: server start, namespace and sample container ready (env SOAK_READY_TIMEOUT)")
    p.add_argument("--binary", default=os.environ.get("SCW_MOCK_BIN", ""),
                   help="the scw-mock binary (env SCW_MOCK_BIN; scripts/soak builds and sets it)")
    p.add_argument("--json", dest="json_path", default=os.environ.get("SOAK_JSON") or None,
                   help="also write the figures as JSON to this file (env SOAK_JSON)")
    p.add_argument("--keep-temp", action="store_true", default=os.environ.get("SOAK_KEEP_TEMP") == "1",
                   help="keep the temp folder (database, server log) (env SOAK_KEEP_TEMP=1)")
    p.add_argument("--load-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.load_worker:
        return args
    if args.seconds <= 0 or args.threads < 1 or args.keep < 1 or args.rate < 0 or args.deploy_every < 0:
        p.error("--seconds, --threads and --keep must be positive; --rate and --deploy-every >= 0")
    if not 0 <= args.warmup_fraction < 1:
        p.error("--warmup-fraction must be in [0, 1)")
    if not args.binary or not os.access(args.binary, os.X_OK):
        p.error("give the scw-mock binary with --binary or SCW_MOCK_BIN (scripts/soak builds and sets it)")
    args.binary = os.path.abspath(args.binary)
    if args.sample_interval <= 0:
        args.sample_interval = min(5.0, max(0.5, args.seconds / 60.0))
    return args


# ---------------------------------------------------------------------------------------------------------
# /proc readings


def read_rss_mib(pid: int) -> Optional[float]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def count_fds(pid: int) -> Optional[int]:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> Optional[float]:
    """utime + stime of a process and of its reaped children (the app processes it started), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return sum(int(x) for x in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime (fields 14-17)


def processes_with_env(names: dict[str, set[str]]) -> dict[int, tuple[str, str]]:
    """Processes whose environment sets one of the variables in `names` to one of its values:
    {pid: (variable, value)}. Zombies are skipped (they hold no resources and are their parent's to reap)."""
    found: dict[int, tuple[str, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                raw = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state in ("Z", "X"):
            continue
        for item in raw.split(b"\0"):
            key, _, value = item.decode(errors="replace").partition("=")
            if key in names and value in names[key]:
                found[int(entry)] = (key, value)
                break
    return found


# ---------------------------------------------------------------------------------------------------------
# Server


class Server(MockServer):
    """The server under load: started and read as the end-to-end suite does (Tests/e2e/support.py), with the
    runtime on and 2048-bit keys, on a fresh database in `workdir`."""

    def __init__(self, binary: str, workdir: str):
        super().__init__(db_path=Path(workdir) / "db.sqlite", seed_paths=[], workdir=Path(workdir), key_size=2048,
                         key_pool=8, wait_for_pool=False, runtime=True, binary=Path(binary), extra_args=["--host", HOST])

    def start(self, timeout: float) -> None:
        log(f"starting {self.binary} serve on {HOST} (runtime on, --key-size 2048 --key-pool 8)")
        try:
            self.launch()
        except OSError as e:
            raise SoakError(f"cannot start {self.binary}: {e}")
        try:
            self.wait_export_line(timeout)
        except AssertionError as e:
            raise SoakError(str(e)) from None

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def alive(self) -> bool:
        return self.running()

    def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM, SIGKILL after `timeout`; returns the exit code (None if it had to be killed)."""
        if not self.proc:
            return None
        code: Optional[int] = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"server did not exit {timeout:.0f}s after SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
                code = None
        return code

    def log_tail(self, lines: int = 25) -> str:
        return "".join(f"  | {line}\n" for line in self.stderr_tail(lines).splitlines())


# ---------------------------------------------------------------------------------------------------------
# Load process (runs as `soak.py --load-worker`: config as JSON on stdin, result as JSON in cfg["result_path"])


class Worker(threading.Thread):
    def __init__(self, index: int, cfg: dict, stop_at: float):
        super().__init__(name=f"load-{index}", daemon=True)
        self.index = index
        self.cfg = cfg
        self.stop_at = stop_at
        self.rng = random.Random(index * 7919 + 1)
        self.counts = collections.Counter()
        self.latency: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: list[dict] = []
        self.error_count = 0
        self.live: collections.deque[tuple[str, bool]] = collections.deque()  # (id, deployed), oldest first
        self.deleted: list[str] = []
        self.unknown: list[str] = []  # container names whose create got no answer (cannot tell whether it exists)
        self.created = 0
        self.deployed = 0
        self.seq = 0
        self.read_turn = 0

    def error(self, kind: str, what: str, resp=None, exc: Optional[BaseException] = None) -> None:
        self.error_count += 1
        if len(self.errors) < 20:
            item = {"kind": kind, "what": what, "t": round(time.monotonic() - self.cfg["t0"], 2)}
            if resp is not None:
                item["status"] = resp.status_code
                item["body"] = resp.text[:300]
            if exc is not None:
                item["exception"] = f"{type(exc).__name__}: {exc}"[:300]
            self.errors.append(item)

    def call(self, session, method: str, path: str, **kw):
        return session.request(method, self.cfg["url"] + path, timeout=self.cfg["timeout"], **kw)

    def run(self) -> None:
        import requests
        session = requests.Session()
        session.headers["X-Auth-Token"] = TOKEN
        interval = self.cfg["threads"] / self.cfg["rate"] if self.cfg["rate"] > 0 else 0.0
        # Threads start spread over one interval so the paced load is smooth.
        due = time.monotonic() + interval * self.index / self.cfg["threads"]
        cycle: list[str] = []
        while True:
            now = time.monotonic()
            if now >= self.stop_at:
                break
            if interval:
                if due > now:
                    time.sleep(min(due - now, self.stop_at - now))
                    if time.monotonic() >= self.stop_at:
                        break
                due = max(due + interval, time.monotonic() - 1.0)  # catch up at most one second of backlog
            if not cycle:
                cycle = MIX[:]
                self.rng.shuffle(cycle)
            kind = cycle.pop()
            t = time.perf_counter()
            try:
                getattr(self, "op_" + kind)(session)
            except requests.RequestException as e:
                self.error(kind, "exception", exc=e)
            except Exception as e:  # a body that is not what was expected (bad JSON, missing field)
                self.error(kind, "unexpected answer", exc=e)
            self.counts[kind] += 1
            self.latency[kind].append((time.perf_counter() - t) * 1e3)
        session.close()

    # -- operations -----------------------------------------------------------------------------------------

    def op_read(self, s) -> None:
        cfg = self.cfg
        turn = self.read_turn % 3
        self.read_turn += 1
        if turn == 0:
            r = self.call(s, "GET", f"{C1}/namespaces/{cfg['namespace_id']}")
            if r.status_code != 200 or r.json().get("id") != cfg["namespace_id"] or r.json().get("status") != "ready":
                self.error("read", "GET namespace", r)
        elif turn == 1:
            r = self.call(s, "GET", f"{C1}/containers/{cfg['container_id']}")
            if r.status_code != 200 or r.json().get("status") != "ready":
                self.error("read", "GET sample container (expected ready)", r)
        else:
            r = self.call(s, "GET", f"{C1}/containers", params={"namespace_id": cfg["namespace_id"], "page_size": 20})
            if r.status_code != 200 or not isinstance(r.json().get("containers"), list) or r.json().get("total_count", 0) < 1:
                self.error("read", "LIST containers", r)

    def op_write(self, s) -> None:
        cfg = self.cfg
        if len(self.live) < cfg["keep"]:
            self.seq += 1
            self.created += 1
            name = f"s{self.index}-{self.seq}"
            deploy = cfg["deploy_every"] > 0 and self.created % cfg["deploy_every"] == 0
            if deploy:
                path, body, status = f"{C1}/containers", {"namespace_id": cfg["namespace_id"], "name": name, "image": IMAGE}, "creating"
            else:  # v1beta1 without an image: stored, never deployed
                path, body, status = f"{CB}/containers", {"namespace_id": cfg["namespace_id"], "name": name}, "created"
            try:
                r = self.call(s, "POST", path, json=body)
            except Exception:
                self.unknown.append(name)
                raise
            if r.status_code != 200 or r.json().get("name") != name or r.json().get("status") != status:
                self.error("write", f"create container ({'v1, deployed' if deploy else 'v1beta1, not deployed'})", r)
                if r.status_code == 200:
                    self.unknown.append(name)
                return
            self.live.append((r.json()["id"], deploy))
            if deploy:
                self.deployed += 1
        else:
            cid, _ = self.live.popleft()
            r = self.call(s, "DELETE", f"{C1}/containers/{cid}")
            if r.status_code != 200 or r.json().get("status") != "deleting":
                self.error("write", "delete container", r)
                self.unknown.append(cid)
                return
            self.deleted.append(cid)

    def op_token(self, s) -> None:
        r = self.call(s, "POST", f"{CB}/tokens", json={"container_id": self.cfg["container_id"]})
        body = r.json() if r.status_code == 200 else {}
        if r.status_code != 200 or body.get("token", "").count(".") != 2 or body.get("container_id") != self.cfg["container_id"]:
            self.error("token", "create token", r)

    def op_gateway(self, s) -> None:
        r = self.call(s, "GET", f"/_mock/invoke/{self.cfg['container_id']}/")
        if r.status_code != 200:
            self.error("gateway", "invoke", r)
            return
        echo = r.json()
        if echo.get("path") != "/" or echo.get("env", {}).get("SCW_APPLICATION_ID") != self.cfg["container_id"]:
            self.error("gateway", "invoke echo", r)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def load_worker_main() -> int:
    cfg = json.loads(sys.stdin.readline())
    cfg["t0"] = time.monotonic()
    stop_at = cfg["t0"] + cfg["seconds"]
    workers = [Worker(i, cfg, stop_at) for i in range(cfg["threads"])]
    print(json.dumps({"started": True}), flush=True)
    for w in workers:
        w.start()
    deadline = stop_at + cfg["timeout"] + 30  # a request in flight at the end may take up to its timeout
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - cfg["t0"]
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stuck = [w.name for w in workers if w.is_alive()]
    counts = collections.Counter()
    latency: dict[str, list[float]] = {k: [] for k in KINDS}
    result = {"elapsed": elapsed, "errors": [], "error_count": 0, "live": [], "deleted": [], "unknown": [],
              "created": 0, "deployed": 0, "stuck_threads": stuck, "deployed_live": [],
              "cpu_s": usage.ru_utime + usage.ru_stime}
    for w in workers:
        counts.update(w.counts)
        for k in KINDS:
            latency[k] += w.latency[k]
        result["errors"] += w.errors
        result["error_count"] += w.error_count
        result["live"] += [cid for cid, _ in w.live]
        result["deployed_live"] += [cid for cid, deployed in w.live if deployed]
        result["deleted"] += w.deleted
        result["unknown"] += w.unknown
        result["created"] += w.created
        result["deployed"] += w.deployed
    result["counts"] = dict(counts)
    result["latency_ms"] = {}
    for k, values in latency.items():
        values.sort()
        result["latency_ms"][k] = {"p50": percentile(values, 0.50), "p99": percentile(values, 0.99),
                                   "max": values[-1] if values else 0.0}
    # The result (thousands of ids) goes to a file: a pipe would block on it once its buffer is full.
    with open(cfg["result_path"] + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(cfg["result_path"] + ".tmp", cfg["result_path"])
    print(json.dumps({"done": True}), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------------------
# Driver


class Api:
    """Set-up and verification calls from the driver process (not part of the measured load)."""

    def __init__(self, url: str):
        import requests
        self.url = url
        self.s = requests.Session()
        self.s.headers["X-Auth-Token"] = TOKEN

    def call(self, method: str, path: str, expect: int = 200, **kw):
        r = self.s.request(method, self.url + path, timeout=30, **kw)
        if r.status_code != expect:
            raise SoakError(f"{method} {path}: expected {expect}, got {r.status_code}: {r.text[:300]}")
        return r.json()

    def wait_status(self, path: str, wanted: str, timeout: float) -> dict:
        last: dict = {}

        def settled() -> bool:
            last["body"] = self.call("GET", path)
            return last["body"].get("status") in (wanted, "error")

        wait_until(settled, timeout, interval=0.1)
        body = last["body"]
        if body.get("status") != wanted:
            raise SoakError(f"{path} is {body.get('status')!r} (wanted {wanted!r}): {json.dumps(body)[:400]}")
        return body

    def list_containers(self, namespace_id: str) -> set[str]:
        ids: set[str] = set()
        page = 1
        while True:
            body = self.call("GET", f"{C1}/containers", params={"namespace_id": namespace_id, "page_size": 100, "page": page})
            ids |= {c["id"] for c in body["containers"]}
            if len(body["containers"]) < 100 or len(ids) >= body["total_count"]:
                return ids
            page += 1


def run(args: argparse.Namespace) -> int:
    tmp = tempfile.mkdtemp(prefix="scw-mock-soak-")
    server = Server(args.binary, tmp)
    load: Optional[subprocess.Popen] = None
    loadavg_start = os.getloadavg()[0]
    figures: dict = {"binary": args.binary, "cpus": os.cpu_count(), "seconds": args.seconds, "threads": args.threads,
                     "rate_target": args.rate, "keep": args.keep, "deploy_every": args.deploy_every}
    problems: list[str] = []
    try:
        try:
            server.start(args.ready_timeout)
            log(f"server pid {server.pid} at {server.url}; temp {tmp}")
            api = Api(server.url)
            ns = api.call("POST", f"{C1}/namespaces", json={"name": "soak"})
            api.wait_status(f"{C1}/namespaces/{ns['id']}", "ready", args.ready_timeout)
            main = api.call("POST", f"{C1}/containers", json={"namespace_id": ns["id"], "name": "sample", "image": IMAGE})
            api.wait_status(f"{C1}/containers/{main['id']}", "ready", args.ready_timeout)
            r = api.s.get(f"{server.url}/_mock/invoke/{main['id']}/", timeout=30)
            if r.status_code != 200:
                raise SoakError(f"the sample container does not answer through the gateway: {r.status_code} {r.text[:300]}")
        except (SoakError, OSError, ValueError) as e:
            log(f"set-up FAILED: {e}")
            log("server log:\n" + server.log_tail())
            return 2
        except Exception as e:  # requests errors
            log(f"set-up FAILED: {type(e).__name__}: {e}")
            log("server log:\n" + server.log_tail())
            return 2
        main_pids = processes_with_env({"SCW_APPLICATION_ID": {main["id"]}})
        run_ids: set[str] = set()
        for pid in main_pids:
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    for item in f.read().split(b"\0"):
                        if item.startswith(b"SCW_MOCK_RUN_ID="):
                            run_ids.add(item.split(b"=", 1)[1].decode())
            except OSError:
                pass
        log(f"namespace {ns['id']}, sample container {main['id']} ready (pids {sorted(main_pids) or '?'});"
            f" load: {args.seconds:.0f}s, {args.threads} threads, rate {args.rate or 'unpaced'}")

        # -- the load, from a second process ------------------------------------------------------------------
        cfg = {"url": server.url, "namespace_id": ns["id"], "container_id": main["id"], "seconds": args.seconds,
               "threads": args.threads, "rate": args.rate, "keep": args.keep, "deploy_every": args.deploy_every,
               "timeout": 30.0, "result_path": os.path.join(tmp, "load-result.json")}
        load = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--load-worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert load.stdin and load.stdout
        load.stdin.write(json.dumps(cfg) + "\n")
        load.stdin.close()
        if "started" not in (load.stdout.readline() or ""):
            raise SoakError("the load process did not start")
        threading.Thread(target=lambda: load.stdout.read(), daemon=True).start()  # never let its stdout fill up
        t0 = time.monotonic()
        cpu0 = cpu_seconds(server.pid)
        samples: list[tuple[float, float, int]] = []  # (seconds since load start, RSS MiB, fds)
        server_died = False
        next_sample = t0
        next_progress = t0 + max(30.0, args.seconds / 10)
        hard_end = t0 + args.seconds + 90  # the load's own bound (request timeout + join) is seconds + 60
        while load.poll() is None:
            now = time.monotonic()
            if now > hard_end:
                log("the load process is still running long after its end")
                break
            if now >= next_sample:
                rss, fds = read_rss_mib(server.pid), count_fds(server.pid)
                if rss is None or fds is None or not server.alive():
                    server_died = True
                    log("the server is gone!")
                    break
                if load.poll() is None:  # only samples taken while the load still runs count
                    samples.append((time.monotonic() - t0, rss, fds))
                next_sample += args.sample_interval
            if now >= next_progress and samples:
                log(f"t={now - t0:.0f}s RSS {samples[-1][1]:.1f} MiB, {samples[-1][2]} fds")
                next_progress += max(30.0, args.seconds / 10)
            time.sleep(min(0.05, max(0.0, next_sample - time.monotonic())))
        try:
            load.wait(timeout=max(5.0, hard_end + 30 - time.monotonic()))
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()
            problems.append("the load process did not exit")
        if load.returncode != 0 or not os.path.exists(cfg["result_path"]):
            raise SoakError(f"the load process failed (exit {load.returncode})")
        with open(cfg["result_path"]) as f:
            res = json.load(f)
        cpu1 = cpu_seconds(server.pid)
        server_cpu_pct = 100.0 * (cpu1 - cpu0) / res["elapsed"] if cpu0 is not None and cpu1 is not None else float("nan")
        load_cpu_pct = 100.0 * res["cpu_s"] / res["elapsed"]
        if res["stuck_threads"]:
            problems.append(f"load threads still blocked at the end: {res['stuck_threads']}")
        if server_died:
            problems.append("the server died during the run")

        # -- verification ------------------------------------------------------------------------------------
        deleted = set(res["deleted"])
        live = set(res["live"])
        lost: list[str] = []
        not_deleted: list[str] = []
        leaked: dict[int, tuple[str, str]] = {}
        if not server_died:
            listed = api.list_containers(ns["id"])
            expected = live | {main["id"]}
            lost = sorted(expected - listed)
            not_deleted = sorted(deleted & listed)
            for cid in sorted(live)[:50]:  # each one readable by id too
                r = api.s.get(f"{server.url}{C1}/containers/{cid}", timeout=30)
                if r.status_code != 200 and cid not in lost:
                    lost.append(cid)
            # Deletion stops a process with SIGTERM, then SIGKILL after 2 s: allow it to finish.
            if deleted:
                wait_until(lambda: not processes_with_env({"SCW_APPLICATION_ID": deleted}), 15, interval=0.25)
                leaked = processes_with_env({"SCW_APPLICATION_ID": deleted})
            if api.call("GET", f"{C1}/containers/{main['id']}").get("status") != "ready":
                problems.append("the sample container is no longer ready")
        settle = (read_rss_mib(server.pid), count_fds(server.pid))
        children_live = len(processes_with_env({"SCW_APPLICATION_ID": live | {main["id"]}}))
        exit_code = server.stop()
        outlived: dict[int, tuple[str, str]] = {}
        if run_ids:
            wait_until(lambda: not processes_with_env({"SCW_MOCK_RUN_ID": run_ids}), 5, interval=0.25)
            outlived = processes_with_env({"SCW_MOCK_RUN_ID": run_ids})

        # -- figures -----------------------------------------------------------------------------------------
        elapsed = res["elapsed"]
        total = sum(res["counts"].values())
        warm = args.warmup_fraction * args.seconds
        judged = [s for s in samples if s[0] >= warm] or samples[-1:]
        rss_start = judged[0][1] if judged else 0.0
        rss_end = judged[-1][1] if judged else 0.0
        # fds: the lowest of the first (last) three judged samples, so that the pipes and connections of a deployed
        # container that happens to be alive at one sampling instant do not count; a leak raises the floor.
        fd_start = min((s[2] for s in judged[:3]), default=0)
        fd_end = min((s[2] for s in judged[-3:]), default=0)
        rss_max = max((s[1] for s in judged), default=0.0)
        fd_max = max((s[2] for s in judged), default=0)
        rss_tol = max(rss_start * args.rss_tolerance_pct / 100.0, args.rss_tolerance_mib)
        slope = 0.0  # least-squares RSS trend after warm-up, MiB per minute
        if len(judged) >= 3:
            xs, ys = [s[0] for s in judged], [s[1] for s in judged]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            den = sum((x - mx) ** 2 for x in xs)
            slope = 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0

        if res["error_count"]:
            problems.append(f"{res['error_count']} request errors")
        if rss_end - rss_start > rss_tol:
            problems.append(f"RSS grew {rss_end - rss_start:.1f} MiB after warm-up (tolerance {rss_tol:.1f})")
        if fd_end - fd_start > args.fd_tolerance:
            problems.append(f"open fds grew by {fd_end - fd_start} after warm-up (tolerance {args.fd_tolerance})")
        if lost:
            problems.append(f"{len(lost)} acknowledged containers lost: {lost[:5]}")
        if not_deleted:
            problems.append(f"{len(not_deleted)} deleted containers still listed: {not_deleted[:5]}")
        if leaked:
            problems.append(f"{len(leaked)} processes of deleted containers left: "
                            + ", ".join(f"pid {p} ({v})" for p, (_, v) in sorted(leaked.items())[:5]))
        if exit_code != 0:
            problems.append(f"server exit code after SIGTERM: {exit_code}")
        if outlived:
            problems.append(f"{len(outlived)} processes of the mock outlived it: pids {sorted(outlived)[:10]}")
        verdict = "PASS" if not problems else "FAIL"

        figures.update({
            "duration_s": round(elapsed, 1), "requests": total, "rps": round(total / elapsed, 1),
            "kinds": {k: {"n": res["counts"].get(k, 0), "rps": round(res["counts"].get(k, 0) / elapsed, 1),
                          **{q: round(v, 1) for q, v in res["latency_ms"][k].items()}} for k in KINDS},
            "errors": res["error_count"], "error_samples": res["errors"],
            "rss_mib": {"start": round(rss_start, 1), "end": round(rss_end, 1), "max": round(rss_max, 1),
                        "tolerance": round(rss_tol, 1), "slope_per_min": round(slope, 2),
                        "first_sample": round(samples[0][1], 1) if samples else None,
                        "after_load": round(settle[0], 1) if settle[0] else None},
            "fds": {"start": fd_start, "end": fd_end, "max": fd_max, "tolerance": args.fd_tolerance, "after_load": settle[1]},
            "cpu_pct": {"server": round(server_cpu_pct, 1), "load": round(load_cpu_pct, 1), "of": 100 * (os.cpu_count() or 1)},
            "warmup_s": round(warm, 1), "samples": len(samples),
            "containers": {"created": res["created"], "deployed": res["deployed"], "deleted": len(deleted),
                           "live_at_end": len(live), "unknown": len(res["unknown"]), "lost": len(lost),
                           "deleted_but_listed": len(not_deleted)},
            "processes": {"live_app_processes": children_live, "leaked": len(leaked), "outlived": len(outlived)},
            "server_exit": exit_code, "verdict": verdict, "problems": problems,
        })
        if args.json_path:
            with open(args.json_path, "w") as f:
                json.dump(figures, f, indent=2)

        for e in res["errors"]:
            log(f"error sample: {json.dumps(e)}")
        if verdict != "PASS":
            log("server log:\n" + server.log_tail())
        k = figures["kinds"]
        print()
        print(f"== scw-mock soak ({args.binary}, {os.cpu_count()} cpus, 127.0.0.1; loadavg at start"
              f" {loadavg_start:.2f}, at end {os.getloadavg()[0]:.2f}) ==")
        print(f"soak_duration_s={elapsed:.1f} threads={args.threads} rate_target={args.rate or 'unpaced'}"
              f" warmup_s={warm:.1f} samples={len(samples)} every={args.sample_interval:g}s")
        print(f"soak_requests total={total} rps={total / elapsed:.1f}")
        for kind in KINDS:
            print(f"soak_{kind} n={k[kind]['n']} rps={k[kind]['rps']} p50_ms={k[kind]['p50']}"
                  f" p99_ms={k[kind]['p99']} max_ms={k[kind]['max']}")
        print(f"soak_cpu_pct server={server_cpu_pct:.0f} load={load_cpu_pct:.0f} (of {100 * (os.cpu_count() or 1)};"
              " server includes the app processes it reaped)")
        print(f"soak_errors={res['error_count']}")
        print(f"soak_rss_mib start={rss_start:.1f} end={rss_end:.1f} max={rss_max:.1f}"
              f" growth={rss_end - rss_start:+.1f} tolerance={rss_tol:.1f} slope_per_min={slope:+.2f}"
              f" first_sample={figures['rss_mib']['first_sample']} after_load={figures['rss_mib']['after_load']}")
        print(f"soak_fds start={fd_start} end={fd_end} max={fd_max} growth={fd_end - fd_start:+d}"
              f" tolerance={args.fd_tolerance} after_load={settle[1]}")
        c = figures["containers"]
        print(f"soak_containers created={c['created']} deployed={c['deployed']} deleted={c['deleted']}"
              f" live_at_end={c['live_at_end']} lost={c['lost']} deleted_but_listed={c['deleted_but_listed']}"
              f" unknown={c['unknown']}")
        print(f"soak_processes leaked={len(leaked)} outlived_mock={len(outlived)} app_processes_at_end={children_live}")
        print(f"soak_server_exit={exit_code}")
        for problem in problems:
            print(f"soak_problem {problem}")
        print(f"soak_verdict={verdict}")
        return 0 if verdict == "PASS" else 1
    except SoakError as e:
        log(f"FAILED: {e}")
        log("server log:\n" + server.log_tail())
        return 2
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        server.stop()
        if args.keep_temp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.load_worker:
        return load_worker_main()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
