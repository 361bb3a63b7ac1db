"""JWT attack and edge-case catalog (reliability catalog section 1, rows J01-J24) against the real binary.

Every concrete token is checked by three verifiers:

- G  the gateway: a server with `--runtime on` (`--private-auth edge`), private containers whose process is a small
     Python HTTP server that appends one line per request it receives to a side-channel file. A rejection must be
     401/403 with a JSON body, and the side channel must not grow (the request never reached the process).
- V1 `scw-mock token verify --public-key FILE --namespace-id NS --container-id C -- TOKEN`: exit 1 and
     `invalid: <reason>` when refused, exit 0 and `valid` when accepted.
- V2 the built-in sample app under `--private-auth container`: the gateway passes requests through and the sample
     app validates `X-Auth-Token` itself (401/403 with `{"error": reason}`).

Tokens are forged with the namespaces' real private keys (exported by `GET /_mock/state`) over hand-built header and
payload bytes, so duplicate members, padding, encodings and so on are exact. Their `jti` is that of a real token of
the namespace (`World.jti`): the gateway accepts only token ids the store issued, so a hand-built token
with a fresh jti is refused whatever its claims, and the rows below are about the other checks. V1 and V2 share one namespace (the
container-mode server's) and the real clock; G uses the edge server's namespace and its mock clock (the offset is
read from `/_mock/clock` whenever a time-relative token is built).

`test_catalog` runs every concrete case (rows J00 controls, J01-J19) through G, V1 and V2; a refusal must also give
the reason the row is about (`Case.why`; the three verifiers share TokenFailure's wording). Rows or parts of rows
that only apply to some verifiers have their own tests: J10/J13 timing and memory and the 81 KiB field (HTTP layer:
G and V2), J20 revocation (G: the offline verifiers have no revocation list), J21 header transport and J22 public
containers (G and V2: V1 takes the token as an argument), exact J14-J16 boundaries on the mock clock (G), J23
(static grep of Sources/) and J24 (restart: G, V1, V2).

Two servers are started for the whole module (one per `--private-auth` mode); the last test (J24) crashes and
restarts both on their databases. A token that crashes a server (KNOWN_BUGS) gets it restarted on its database
(`crash_check`) so the rest of the module keeps running.

Namespace keys are 2048-bit here (`--key-size 2048`), so the catalog's "512-byte signature" rows are written
relative to the modulus size k (256 bytes here, 512 with the default 4096-bit keys).
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Optional

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

import support

KEY = support.DEFAULT_SECRET_KEY
C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"
REPO = Path(__file__).resolve().parents[2]

# A Swift runtime trap prints a symbolicated backtrace first (~10 s here); crashes found by this file should be quick.
NO_BACKTRACE = {**os.environ, "SWIFT_BACKTRACE": "enable=no"}
LEEWAY = 60  # README "Keys and tokens": nbf and iat get a 60 s leeway, exp is strict
MAX_TOKEN = 8192  # TokenVerifier.maxTokenLength: longer tokens are refused before any parsing
HTTP_FIELD_LIMIT = 80 * 1024  # swift-nio's default per-field limit: beyond it the HTTP layer answers 400
ARGV_LIMIT = 128 * 1024 - 1  # Linux MAX_ARG_STRLEN: V1 takes the token as one argv string

# The python process behind every private container of the edge server: one line per request on a side channel.
COUNTER_PY = r'''
import http.server, json, os
LOG = os.environ["JWT_CATALOG_LOG"]
APP = os.environ["SCW_APPLICATION_ID"]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with open(LOG, "a") as f:
            f.write(APP + " " + self.path + "\n")
        body = json.dumps({"app": APP, "path": self.path,
                           "x_auth_token": self.headers.get_all("X-Auth-Token") or []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
'''


# --- the binary ------------------------------------------------------------------------------------------------------

class Mock:
    """The real binary with the runtime on; can be crashed and restarted on the same database (J24)."""

    def __init__(self, workdir: Path, *extra: str):
        self.workdir = workdir
        self.db = workdir / "state.sqlite"
        self.extra = extra
        self.start()

    def start(self):
        args = [str(support.binary_path()), "serve", "--port", "0", "--database", str(self.db), "--key-size", "2048",
                "--key-pool", "4", "--runtime", "on", "--ready-timeout", "15", *self.extra]
        self.stderr = open(self.workdir / "stderr.log", "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL, text=True, env=NO_BACKTRACE)
        line = self.proc.stdout.readline()
        env = support.parse_export_line(line.rstrip("\n"))
        assert env, f"no export line: {line!r}"
        self.url = env["SCW_API_URL"]
        self.port = int(self.url.rsplit(":", 1)[1])
        # Keep stdout drained so the server can never block on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self, sig=signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.stderr.close()
        return rc

    def call(self, method, path, key=KEY, **kw):
        return support.keyed_request(self.url, method, path, key, **kw)

    def clock_offset(self) -> float:
        return float(self.call("GET", "/_mock/clock", key=None).json()["offset_seconds"])

    def set_clock(self, epoch: int):
        to = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = self.call("POST", "/_mock/clock", key=None, json={"to": to})
        assert r.status_code == 200, r.text

    def namespace(self, name) -> str:
        r = self.call("POST", f"{C1}/namespaces", json={"name": name})
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def container(self, ns, name, **body) -> str:
        end = time.monotonic() + 30
        while True:  # a name freed by a delete may stay taken for a moment
            r = self.call("POST", f"{C1}/containers", json={"namespace_id": ns, "name": name, "image": "sample:latest", **body})
            if r.status_code == 200 or time.monotonic() > end:
                break
            time.sleep(0.1)
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def wait_ready(self, *cids, deadline=60.0):
        end = time.monotonic() + deadline
        for cid in cids:
            while True:
                body = self.call("GET", f"{C1}/containers/{cid}").json()
                if body["status"] == "ready":
                    break
                assert body["status"] != "error" and time.monotonic() < end, body
                time.sleep(0.05)

    def mint(self, **body) -> dict:
        r = self.call("POST", f"{CB}/tokens", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def private_key(self, ns):
        state = self.call("GET", "/_mock/state", key=None).json()
        pem = next(n["key_pem"] for n in state["namespaces"] if n["id"] == ns)
        return serialization.load_pem_private_key(pem.encode(), password=None)

    def rss_kib(self) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))


# --- raw HTTP (exact header bytes, duplicate headers, oversize fields) ------------------------------------------------

@dataclass
class Resp:
    status: Optional[int]  # None: the connection was reset before a status line arrived
    headers: dict
    body: bytes
    elapsed: float
    closed: Optional[bool] = None

    def json(self):
        return json.loads(self.body)


def raw_request(port: int, path: str, headers: list[tuple[str, str]], *, check_close=False, timeout=60.0) -> Resp:
    """One request with exactly these header lines. Sending and reading are interleaved, so a server that answers an
    oversize request early (and stops reading) is heard at once instead of blocking a 10 MiB send."""
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    for name, value in headers:
        head += name.encode("latin-1") + b": " + value.encode("latin-1") + b"\r\n"
    head += b"Connection: close\r\n\r\n"
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setblocking(False)
    sent, buf, eof, reset = 0, b"", False, False
    try:
        while time.monotonic() - start < timeout and not (eof or reset or response_complete(buf)):
            readable, writable, _ = select.select([s], [s] if sent < len(head) else [], [], 0.5)
            if writable:
                try:
                    sent += s.send(head[sent:sent + 262144])
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    sent = len(head)  # the server stopped reading: its answer may still be readable
            if readable:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    reset = True
                    break
                if chunk:
                    buf += chunk
                else:
                    eof = True
        elapsed = time.monotonic() - start
        status, hdrs, body = None, {}, b""
        if b"\r\n\r\n" in buf:
            raw_head, body = buf.split(b"\r\n\r\n", 1)
            lines = raw_head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            for line in lines[1:]:
                k, _, v = line.partition(":")
                hdrs.setdefault(k.strip().lower(), []).append(v.strip())
            if "chunked" in ",".join(hdrs.get("transfer-encoding", [])):
                body = dechunk(body)
        closed = None
        if check_close:
            closed = eof or reset
            end = time.monotonic() + 10
            while not closed and time.monotonic() < end:
                if select.select([s], [], [], 0.5)[0]:
                    try:
                        closed = s.recv(65536) == b"" or closed
                    except ConnectionResetError:
                        closed = True
                    except BlockingIOError:
                        pass
        return Resp(status, hdrs, body, elapsed, closed)
    finally:
        s.close()


def response_complete(buf: bytes) -> bool:
    if b"\r\n\r\n" not in buf:
        return False
    raw_head, body = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", raw_head)
    if m:
        return len(body) >= int(m.group(1))
    if re.search(rb"(?im)^transfer-encoding:.*chunked", raw_head):
        return body.endswith(b"0\r\n\r\n")
    return False  # delimited by the close


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def http_layer_refusal_expected(token: str) -> bool:
    """A token the HTTP layer refuses before any verifier sees it: over the field limit, or splitting the header."""
    return len(token) > HTTP_FIELD_LIMIT - 64 or "\r" in token or "\n" in token


# --- forging ---------------------------------------------------------------------------------------------------------

HDR = b'{"alg":"RS256","typ":"JWT"}'
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64std(data: bytes) -> str:
    return base64.b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rs256(key, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def signed(key, h_seg: str, p_seg: str) -> str:
    """`h.p.sig` with an RS256 signature over exactly these segment strings."""
    return f"{h_seg}.{p_seg}.{b64u(rs256(key, f'{h_seg}.{p_seg}'.encode('latin-1')))}"


def spare_bits_set(seg: str) -> str:
    """The same bytes with a non-zero spare bit in the last character (non-canonical, RFC 4648 section 3.5)."""
    assert len(seg) % 4 in (2, 3), "segment has no spare bits"
    return seg[:-1] + ALPHABET[ALPHABET.index(seg[-1]) | 1]


def std_padding(seg: str) -> str:
    return seg + "=" * (-len(seg) % 4)


@cache
def attacker_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def attacker_cert_der() -> bytes:
    key = attacker_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SCALEWAY")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def jwk_of(key) -> dict:
    n = key.public_key().public_numbers().n
    return {"kty": "RSA", "n": b64u(n.to_bytes((n.bit_length() + 7) // 8, "big")), "e": "AQAB"}


class P:
    """A JSON object written member by member with raw JSON values, so duplicates and odd literals are possible."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def set(self, key, raw):
        for i, (k, _) in enumerate(self.pairs):
            if k == key:
                self.pairs[i] = (k, raw)
                return self
        self.pairs.append((key, raw))
        return self

    def drop(self, key):
        self.pairs = [(k, v) for k, v in self.pairs if k != key]
        return self

    def add(self, key, raw):
        self.pairs.append((key, raw))
        return self

    def text(self) -> str:
        return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in self.pairs) + "}"

    def bytes(self) -> bytes:
        return self.text().encode()


def jstr(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def app_claim(ns="", app="") -> str:
    return jstr([{"namespace_id": ns, "application_id": app}])


class World:
    """One server, its target namespace and containers, its keys and some real tokens."""

    mock: Mock
    mode: str
    ns: str
    other_ns: str
    targets: dict
    priv: object
    other_priv: object
    pkcs1_pem: str
    spki_pem: str
    tokens: dict
    jti: str
    key_file: Path
    log_path: Optional[Path]
    listener: "Listener"

    def now(self) -> float:
        """The verifier's clock: the mock clock for G, the real clock for V1/V2 (their offset stays 0)."""
        return time.time() + self.mock.clock_offset()

    def key(self, which):
        return {"ns": self.priv, "other": self.other_priv, "attacker": attacker_key()}[which]

    def child_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines() if self.log_path and self.log_path.exists() else []

    def modulus_bytes(self) -> int:
        return self.priv.key_size // 8


def claims(w: World, scope="ns", now: Optional[int] = None) -> P:
    """Scaleway's exact payload layout: application_claim, version, aud, (exp), jti, iat, iss, nbf, sub."""
    now = int(w.now()) if now is None else now
    if scope == "ns":
        claim = app_claim(ns=w.ns)
    elif scope == "other_ns":
        claim = app_claim(ns=w.other_ns)
    else:
        claim = app_claim(app=w.targets[scope])
    return P([("application_claim", claim), ("version", "2"), ("aud", '"functions"'), ("jti", jstr(w.jti)),
              ("iat", str(now)), ("iss", '"SCALEWAY"'), ("nbf", str(now)), ("sub", '"token"')])


def tok(w: World, *, header: bytes = HDR, key="ns", scope="ns", edit: Optional[Callable] = None,
        raw: Optional[Callable[[bytes], bytes]] = None) -> str:
    """A token signed by `key` (the target namespace's real key by default). `edit(p, now)` changes the claims,
    `raw(bytes)` the final payload bytes."""
    now = int(w.now())
    p = claims(w, scope, now)
    if edit:
        edit(p, now)
    payload = p.bytes()
    if raw:
        payload = raw(payload)
    return signed(w.key(key), b64u(header), b64u(payload))


def parts(w: World, **kw) -> tuple[str, str, str]:
    return tuple(tok(w, **kw).split("."))


def fit(make: Callable[[str], bytes], ok: Callable[[bytes], bool]) -> bytes:
    """make(filler) for the first filler of 'a's that satisfies ok."""
    for n in range(0, 12):
        data = make("a" * n)
        if ok(data):
            return data
    raise AssertionError("no filler fits")


def header_with(filler: str) -> bytes:
    return b'{"alg":"RS256","typ":"JWT","x":"' + filler.encode() + b'"}'


def seg_variant(w: World, which: str, transform: Callable[[str], str], *, header: bytes = HDR,
                edit: Optional[Callable] = None) -> str:
    """Apply `transform` to one encoded segment. For the header or payload the RS256 signature is computed over the
    transformed text, so only the encoding is wrong; for the signature segment the (valid) signature is re-spelled."""
    now = int(w.now())
    p = claims(w, "ns", now)
    if edit:
        edit(p, now)
    h_seg, p_seg = b64u(header), b64u(p.bytes())
    if which == "h":
        return signed(w.priv, transform(h_seg), p_seg)
    if which == "p":
        return signed(w.priv, h_seg, transform(p_seg))
    h, pp, s = signed(w.priv, h_seg, p_seg).split(".")
    return f"{h}.{pp}.{transform(s)}"


def std_alphabet_sig(w: World) -> str:
    """The signature respelled with '+' and '/' (retried until the signature holds a '-' or '_' to respell)."""
    while True:
        h, p, s = parts(w)
        if "-" in s or "_" in s:
            return f"{h}.{p}.{s.replace('-', '+').replace('_', '/')}"


def plus_slash_header() -> bytes:
    data = header_with("~~~~~~")  # three aligned '~' always encode to a '+' somewhere
    assert "-" in b64u(data) or "_" in b64u(data)
    return data


def plus_slash_edit(p: P, now: int):
    p.add("x", '"~~~~~~"')


def insert_mid(text: str, what: str) -> str:
    return text[: len(text) // 2] + what + text[len(text) // 2:]


def exact_length(w: World, total: int) -> str:
    """A valid token (target namespace key, valid claims) of exactly `total` characters (filler claim `x`)."""
    now = int(w.now())
    sig_len = len(b64u(b"\0" * w.modulus_bytes()))
    for hfill in range(0, 4):
        header = header_with("a" * hfill)
        h_seg = b64u(header)
        want_p = total - len(h_seg) - 2 - sig_len
        if want_p % 4 == 1:
            continue
        nbytes = want_p // 4 * 3 + {0: 0, 2: 1, 3: 2}[want_p % 4]
        base = claims(w, "ns", now).add("x", '""').bytes()
        p = claims(w, "ns", now).add("x", jstr("a" * (nbytes - len(base))))
        token = signed(w.priv, h_seg, b64u(p.bytes()))
        assert len(token) == total
        return token
    raise AssertionError("no exact fit")


# --- the catalog as concrete cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[World], str]
    accept: bool
    target: str = "main"
    only: tuple = ("G", "V1", "V2")
    note: str = ""

    @property
    def why(self) -> Optional[str]:
        """A pattern the refusal reason must match, so a token is refused for the reason the row is about (the three
        verifiers share TokenFailure's wording) and not, say, because the forge broke the signature."""
        if self.accept:
            return None
        if m := re.match(r"J17-(aud|iss|sub|version|jti|application_claim)-", self.id):
            return f"invalid claim: {m.group(1)}"
        for prefix, pattern in WHY:
            if self.id.startswith(prefix):
                return pattern
        return None


# Refusal reasons by row (first matching prefix wins).
WHY = [
    ("J00-garbage", "malformed token"),
    ("J01-", "algorithm not allowed: (?i:none)|not canonical unpadded base64url"),
    ("J02-", "algorithm not allowed: HS256"),
    ("J03-", "bad signature"),
    ("J04-", "algorithm not allowed"),
    ("J05-kid-16KiB", "longer than 8192"), ("J05-kid-64KiB", "longer than 8192"), ("J05-", "bad signature"),
    ("J06-", "bad signature"),
    ("J07-", "critical header"),
    ("J08-", "bad signature|empty signature|not canonical unpadded base64url|3 dot-separated parts"),
    ("J09-", "not canonical unpadded base64url"),
    ("J10-", "3 dot-separated parts|not canonical unpadded base64url|longer than 8192"),
    ("J11-", "duplicate member"),
    ("J12-", "malformed token: (payload|header):"),
    ("J13-", "longer than 8192|nested too deeply"),
    ("J14-", "token expired|invalid claim: exp"),
    ("J15-nbf-after-exp-both-past", "token expired"),
    ("J15-nbf", "not yet valid|invalid claim: nbf"),
    ("J15-iat", "issued in the future|invalid claim: iat"),
    ("J16-issuer-ahead-10min", "not yet valid"),
    ("J16-", "token expired"),
    ("J18-", "bad signature|another namespace|another container"),
    ("J19-", "another container"),
]


def alg_none(w, alg, sig: str):
    h, p, _ = parts(w)
    return f"{b64u(jstr({'alg': alg, 'typ': 'JWT'}).encode())}.{p}.{sig}"


def hs256(w, secret: bytes):
    h_seg, p_seg = b64u(b'{"alg":"HS256","typ":"JWT"}'), b64u(claims(w).bytes())
    mac = hmac.new(secret, f"{h_seg}.{p_seg}".encode(), hashlib.sha256).digest()
    return f"{h_seg}.{p_seg}.{b64u(mac)}"


def with_sig(w, sig: bytes) -> str:
    h, p, _ = parts(w)
    return f"{h}.{p}.{b64u(sig)}"


def flip_bit(w, index: int) -> str:
    h, p, s = parts(w)
    sig = bytearray(unb64u(s))
    sig[index] ^= 0x01
    return f"{h}.{p}.{b64u(bytes(sig))}"


def header_json(obj) -> bytes:
    return jstr(obj).encode()


def modulus(w) -> int:
    return w.priv.public_key().public_numbers().n


def pkcs1_der(w) -> bytes:
    return w.priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def spki_der(w) -> bytes:
    return w.priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def nested_payload(depth):
    return lambda p, now: p.add("x", "[" * depth + "]" * depth)


def edit_set(**members):
    """Set claims to raw JSON (callables get `now`); a value of None drops the claim."""
    def edit(p: P, now: int):
        for k, v in members.items():
            if v is None:
                p.drop(k)
            else:
                p.set(k, v(now) if callable(v) else v)
    return edit


def build_cases() -> list[Case]:
    C = Case
    cases = [
        # Controls: real tokens and the forge's exact layout pass every verifier.
        C("J00-real-namespace-token", lambda w: w.tokens["ns"], True),
        C("J00-real-container-token", lambda w: w.tokens["main"], True),
        C("J00-real-token-with-expires_at", lambda w: w.tokens["expiring"], True),
        C("J00-forged-exact-scaleway-layout", lambda w: tok(w), True),
        C("J00-forged-container-claim", lambda w: tok(w, scope="main"), True),
        C("J00-garbage", lambda w: "garbage", False),
    ]
    # J01 alg none (all case variants), with an empty and with a 512-byte garbage signature.
    for alg in ("none", "None", "NONE", "noNE"):
        cases.append(C(f"J01-alg-{alg}-empty-sig", lambda w, a=alg: alg_none(w, a, ""), False))
        cases.append(C(f"J01-alg-{alg}-512B-garbage-sig", lambda w, a=alg: alg_none(w, a, b64u(os.urandom(512))), False))
    # J02 HS256 keyed with the namespace public key in every spelling.
    cases += [
        C("J02-hs256-key-spki-pem", lambda w: hs256(w, w.spki_pem.encode()), False),
        C("J02-hs256-key-pkcs1-pem", lambda w: hs256(w, w.pkcs1_pem.encode()), False),
        C("J02-hs256-key-pkcs1-pem-no-newline", lambda w: hs256(w, w.pkcs1_pem.rstrip("\n").encode()), False),
        C("J02-hs256-key-spki-pem-no-newline", lambda w: hs256(w, w.spki_pem.rstrip("\n").encode()), False),
        C("J02-hs256-key-pkcs1-der", lambda w: hs256(w, pkcs1_der(w)), False),
        C("J02-hs256-key-spki-der", lambda w: hs256(w, spki_der(w)), False),
        C("J02-hs256-key-jwk-n", lambda w: hs256(w, jwk_of(w.priv)["n"].encode()), False),
    ]
    # J03 wrong key.
    cases += [
        C("J03-fresh-attacker-key", lambda w: tok(w, key="attacker"), False),
        C("J03-other-namespace-real-key", lambda w: tok(w, key="other"), False),
    ]
    # J04 valid RS256 signature under a wrong alg label.
    for label, hdr in [("HS256", {"alg": "HS256", "typ": "JWT"}), ("rs256", {"alg": "rs256", "typ": "JWT"}),
                       ("RS256-space", {"alg": "RS256 ", "typ": "JWT"}), ("PS256", {"alg": "PS256", "typ": "JWT"}),
                       ("missing", {"typ": "JWT"}), ("array", {"alg": ["RS256"], "typ": "JWT"}), ("null", {"alg": None, "typ": "JWT"})]:
        cases.append(C(f"J04-alg-{label}", lambda w, h=hdr: tok(w, header=header_json(h)), False))
    cases.append(C("J04-control-reordered-header", lambda w: tok(w, header=b'{"typ":"JWT","alg":"RS256"}'), True))
    # J05 kid: no effect on key choice. Signed by the namespace key: accepted whatever the kid says; signed by
    # another key: refused whatever the kid says. (No file or DB lookup uses it: the traversal kid is accepted.)
    for label, kid in [("traversal", "../../../../dev/null"), ("sqli", "' OR '1'='1"), ("nul", "a\u0000b")]:
        cases.append(C(f"J05-kid-{label}-namespace-key", lambda w, k=kid: tok(w, header=header_json({"alg": "RS256", "typ": "JWT", "kid": k})), True))
        cases.append(C(f"J05-kid-{label}-attacker-key", lambda w, k=kid: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "kid": k})), False))
    cases += [
        C("J05-kid-other-namespace-id-namespace-key",
          lambda w: tok(w, header=header_json({"alg": "RS256", "typ": "JWT", "kid": w.other_ns})), True),
        C("J05-kid-other-namespace-id-other-key",
          lambda w: tok(w, key="other", header=header_json({"alg": "RS256", "typ": "JWT", "kid": w.other_ns})), False),
        C("J05-kid-own-namespace-id-attacker-key",
          lambda w: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "kid": w.ns})), False),
        # Long kids: refused by the 8 KiB token cap before anything else (the recommended gateway cap); at 64 KiB the
        # token is past the HTTP field limit, so G and V2 see the HTTP layer's 400.
        C("J05-kid-16KiB-namespace-key",
          lambda w: tok(w, header=header_json({"alg": "RS256", "typ": "JWT", "kid": "k" * 16384})), False),
        C("J05-kid-64KiB-namespace-key",
          lambda w: tok(w, header=header_json({"alg": "RS256", "typ": "JWT", "kid": "k" * 65536})), False),
    ]
    # J06 key-by-reference headers: ignored (the loopback listener must see 0 connections, checked after every case).
    cases += [
        C("J06-jku-loopback-attacker-key", lambda w: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "jku": w.listener.url("jwks.json")})), False),
        C("J06-x5u-loopback-attacker-key", lambda w: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "x5u": w.listener.url("cert.pem")})), False),
        C("J06-embedded-jwk-attacker-key", lambda w: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "jwk": jwk_of(attacker_key())})), False),
        C("J06-embedded-x5c-attacker-key", lambda w: tok(w, key="attacker", header=header_json({"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(attacker_cert_der()).decode()]})), False),
        C("J06-jku-loopback-namespace-key-ignored", lambda w: tok(w, header=header_json({"alg": "RS256", "typ": "JWT", "jku": w.listener.url("jwks.json")})), True),
    ]
    # J07 crit.
    cases += [
        C("J07-crit-x-bind", lambda w: tok(w, header=b'{"alg":"RS256","crit":["x-bind"],"x-bind":1}'), False),
        C("J07-crit-empty-array", lambda w: tok(w, header=b'{"alg":"RS256","typ":"JWT","crit":[]}'), False),
        C("J07-crit-string-exp", lambda w: tok(w, header=b'{"alg":"RS256","typ":"JWT","crit":"exp"}'), False),
    ]
    # J08 signature stripping and boundary values (k = modulus bytes).
    cases += [
        C("J08-sig-empty-h.p.", lambda w: ".".join(parts(w)[:2]) + ".", False),
        C("J08-sig-missing-h.p", lambda w: ".".join(parts(w)[:2]), False),
        C("J08-sig-truncated-1-char", lambda w: tok(w)[:-1], False),
        C("J08-sig-truncated-4-chars", lambda w: tok(w)[:-4], False),
        C("J08-sig-k-minus-1-bytes", lambda w: with_sig(w, unb64u(parts(w)[2])[1:]), False),
        C("J08-sig-k-plus-1-bytes-leading-zero", lambda w: with_sig(w, b"\0" + unb64u(parts(w)[2])), False),
        C("J08-sig-k-zero-bytes", lambda w: with_sig(w, b"\0" * w.modulus_bytes()), False),
        C("J08-sig-0...01", lambda w: with_sig(w, (1).to_bytes(w.modulus_bytes(), "big")), False),
        C("J08-sig-equals-modulus", lambda w: with_sig(w, modulus(w).to_bytes(w.modulus_bytes(), "big")), False),
        C("J08-sig-all-ff-above-modulus", lambda w: with_sig(w, b"\xff" * w.modulus_bytes()), False),
        C("J08-sig-first-bit-flipped", lambda w: flip_bit(w, 0), False),
        C("J08-sig-last-bit-flipped", lambda w: flip_bit(w, -1), False),
    ]
    # J09 base64url variants; header/payload variants are signed over the variant text, so only the encoding is wrong.
    hdr_pad2 = lambda: fit(header_with, lambda b: len(b) % 3 == 1)  # canonical padding would be "=="
    hdr_spare = lambda: fit(header_with, lambda b: len(b) % 3 != 0)
    pay_pad1 = lambda p, now: p.add("x", jstr(fit(lambda f: f.encode(), lambda b: (len(p.bytes()) + 7 + len(b)) % 3 == 2).decode()))
    pay_mod0 = lambda p, now: p.add("x", jstr(fit(lambda f: f.encode(), lambda b: (len(p.bytes()) + 7 + len(b)) % 3 == 0).decode()))
    cases += [
        C("J09-control-canonical-with-fillers", lambda w: seg_variant(w, "h", lambda s: s, header=plus_slash_header(), edit=plus_slash_edit), True),
        C("J09-pad-header-==", lambda w: seg_variant(w, "h", std_padding, header=hdr_pad2()), False),
        C("J09-pad-header-=-on-unpadded-length", lambda w: seg_variant(w, "h", lambda s: s + "="), False),
        C("J09-pad-payload-=", lambda w: seg_variant(w, "p", std_padding, edit=pay_pad1), False),
        C("J09-pad-sig-==", lambda w: seg_variant(w, "s", std_padding), False),
        C("J09-pad-sig-=", lambda w: seg_variant(w, "s", lambda s: s + "="), False),
        C("J09-std-alphabet-header", lambda w: seg_variant(w, "h", lambda s: s.replace("-", "+").replace("_", "/"), header=plus_slash_header()), False),
        C("J09-std-alphabet-payload", lambda w: seg_variant(w, "p", lambda s: s.replace("-", "+").replace("_", "/"), edit=plus_slash_edit), False),
        C("J09-std-alphabet-sig", std_alphabet_sig, False),
        C("J09-space-in-header", lambda w: seg_variant(w, "h", lambda s: insert_mid(s, " ")), False),
        C("J09-space-in-payload", lambda w: seg_variant(w, "p", lambda s: insert_mid(s, " ")), False),
        C("J09-space-in-sig", lambda w: seg_variant(w, "s", lambda s: insert_mid(s, " ")), False),
        C("J09-tab-in-header", lambda w: seg_variant(w, "h", lambda s: insert_mid(s, "\t")), False),
        C("J09-tab-in-payload", lambda w: seg_variant(w, "p", lambda s: insert_mid(s, "\t")), False),
        C("J09-tab-in-sig", lambda w: seg_variant(w, "s", lambda s: insert_mid(s, "\t")), False),
        # CR/LF cannot travel inside an HTTP field: G and V2 see the HTTP layer refuse the request (400).
        C("J09-crlf-in-payload", lambda w: seg_variant(w, "p", lambda s: insert_mid(s, "\r\n")), False),
        C("J09-crlf-in-sig", lambda w: seg_variant(w, "s", lambda s: insert_mid(s, "\r\n")), False),
        C("J09-spare-bits-header", lambda w: seg_variant(w, "h", spare_bits_set, header=hdr_spare()), False),
        C("J09-spare-bits-payload", lambda w: seg_variant(w, "p", spare_bits_set, edit=pay_pad1), False),
        C("J09-spare-bits-sig", lambda w: seg_variant(w, "s", spare_bits_set), False),
        C("J09-len-1-mod-4-header", lambda w: seg_variant(w, "h", lambda s: s + "A"), False),
        C("J09-len-1-mod-4-payload", lambda w: seg_variant(w, "p", lambda s: s + "A", edit=pay_mod0), False),
        C("J09-len-1-mod-4-sig", lambda w: seg_variant(w, "s", lambda s: s + "AAA"), False),
    ]
    # J10 envelope shape. Tokens beyond the HTTP field limit are refused by the HTTP layer (400) for G and V2, and
    # cannot be passed to V1 at all beyond MAX_ARG_STRLEN (128 KiB), so the 1 MiB / 10 MiB rows skip V1.
    cases += [
        C("J10-2-segments", lambda w: ".".join(parts(w)[:2]), False),
        C("J10-4-segments", lambda w: (lambda t: t + "." + t.split(".")[2])(tok(w)), False),
        C("J10-trailing-dot", lambda w: tok(w) + ".", False),
        C("J10-5-segments", lambda w: tok(w) + "." + ".".join(parts(w)[:2]), False),
        C("J10-empty-header-signed", lambda w: signed(w.priv, "", b64u(claims(w).bytes())), False),
        C("J10-empty-payload-signed", lambda w: signed(w.priv, b64u(HDR), ""), False),
        C("J10-only-dots", lambda w: "..", False),
        C("J10-7KiB-of-dots", lambda w: "." * (7 * 1024), False),
        C("J10-100KiB-of-dots", lambda w: "." * (100 * 1024), False),
        C("J10-1MiB-of-dots", lambda w: "." * (1 << 20), False, only=("G", "V2")),
        C("J10-one-10MiB-segment", lambda w: "A" * (10 << 20) + "." + ".".join(parts(w)[1:]), False, only=("G", "V2")),
    ]
    # J11 duplicate members under a valid signature.
    cases += [
        C("J11-header-alg-RS256-then-none", lambda w: tok(w, header=b'{"alg":"RS256","alg":"none","typ":"JWT"}'), False),
        C("J11-header-alg-none-then-RS256", lambda w: tok(w, header=b'{"alg":"none","alg":"RS256","typ":"JWT"}'), False),
        C("J11-header-alg-RS256-twice", lambda w: tok(w, header=b'{"alg":"RS256","alg":"RS256","typ":"JWT"}'), False),
        C("J11-payload-namespace_id-target-then-other", lambda w: tok(w, edit=edit_set(application_claim=
          '[{"namespace_id":"%s","namespace_id":"%s","application_id":""}]' % (w.ns, w.other_ns))), False),
        C("J11-payload-namespace_id-other-then-target", lambda w: tok(w, edit=edit_set(application_claim=
          '[{"namespace_id":"%s","namespace_id":"%s","application_id":""}]' % (w.other_ns, w.ns))), False),
        C("J11-payload-aud-twice", lambda w: tok(w, edit=lambda p, now: p.add("aud", '"functions"')), False),
        C("J11-payload-exp-past-then-future", lambda w: tok(w, edit=lambda p, now: p.add("exp", str(now - 100)).add("exp", str(now + 3600))), False),
    ]
    # J12 encodings.
    utf16le_bom = lambda b: b"\xff\xfe" + b.decode().encode("utf-16-le")
    cases += [
        C("J12-payload-utf16le-bom", lambda w: tok(w, raw=utf16le_bom), False),
        C("J12-payload-utf16le", lambda w: tok(w, raw=lambda b: b.decode().encode("utf-16-le")), False),
        C("J12-payload-utf16be", lambda w: tok(w, raw=lambda b: b.decode().encode("utf-16-be")), False),
        C("J12-payload-utf8-bom", lambda w: tok(w, raw=lambda b: b"\xef\xbb\xbf" + b), False),
        C("J12-header-utf16le-bom", lambda w: tok(w, header=utf16le_bom(HDR)), False),
        C("J12-payload-invalid-utf8-ff", lambda w: tok(w, raw=lambda b: b.replace(b'"sub":"token"', b'"sub":"token","x":"\xff"')), False),
        C("J12-payload-overlong-utf8-slash", lambda w: tok(w, raw=lambda b: b.replace(b'"sub":"token"', b'"sub":"token","x":"\xc0\xaf"')), False),
        C("J12-payload-raw-utf8-surrogate", lambda w: tok(w, raw=lambda b: b.replace(b'"sub":"token"', b'"sub":"token","x":"\xed\xa0\x80"')), False),
        C("J12-payload-lone-high-surrogate-escape", lambda w: tok(w, edit=lambda p, now: p.add("x", '"\\ud800"')), False),
        C("J12-payload-lone-low-surrogate-escape", lambda w: tok(w, edit=lambda p, now: p.add("x", '"\\udc00"')), False),
        C("J12-payload-high-surrogate-then-letter", lambda w: tok(w, edit=lambda p, now: p.add("x", '"\\ud800\\u0041"')), False),
        C("J12-control-surrogate-pair-escape", lambda w: tok(w, edit=lambda p, now: p.add("x", '"\\ud83d\\ude00"')), True),
        C("J12-control-raw-utf8-multibyte", lambda w: tok(w, raw=lambda b: b.replace(b'"sub":"token"', '"sub":"token","x":"\u00e9\u20ac"'.encode())), True),
    ]
    # J13 oversize and nesting. Past 8 KiB the verifier refuses before parsing (README/TokenVerifier cap); past the
    # 80 KiB field limit the HTTP layer answers 400 (G, V2).
    cases += [
        C("J13-payload-nested-5000", lambda w: tok(w, edit=nested_payload(5000)), False),
        C("J13-header-nested-3000", lambda w: tok(w, header=b'{"alg":"RS256","typ":"JWT","x":' + b"[" * 3000 + b"]" * 3000 + b"}"), False),
        C("J13-payload-nested-100-under-size-cap", lambda w: tok(w, edit=nested_payload(100)), False),
        C("J13-header-nested-100-under-size-cap", lambda w: tok(w, header=b'{"alg":"RS256","typ":"JWT","x":' + b"[" * 100 + b"]" * 100 + b"}"), False),
        C("J13-header-value-80KiB", lambda w: tok(w, header=header_with("a" * (80 * 1024))), False),
        C("J13-header-value-1MiB", lambda w: tok(w, header=header_with("a" * (1 << 20))), False, only=("G", "V2")),
        C("J13-valid-token-of-exactly-8192-chars", lambda w: exact_length(w, MAX_TOKEN), True),
        C("J13-valid-token-of-8193-chars", lambda w: exact_length(w, MAX_TOKEN + 1), False),
        C("J13-valid-token-of-79KiB", lambda w: exact_length(w, 79 * 1024 - 64), False),
        C("J13-valid-token-of-81KiB", lambda w: exact_length(w, 81 * 1024), False),
    ]
    # J14 exp. The exact now+1 boundary on the gateway is in test_J14_J15_J16_gateway_boundaries_on_the_mock_clock;
    # here V1/V2 run on the real clock, so "just ahead" is now+2 (1-2 s of margin after rounding down).
    cases += [
        C("J14-exp-now-minus-1", lambda w: tok(w, edit=edit_set(exp=lambda n: str(n - 1))), False),
        C("J14-exp-now", lambda w: tok(w, edit=edit_set(exp=lambda n: str(n))), False),
        C("J14-exp-now-plus-2", lambda w: tok(w, edit=edit_set(exp=lambda n: str(n + 2))), True),
        C("J14-exp-absent-namespace-key", lambda w: tok(w), True, note="tokens created without expires_at carry no exp"),
        C("J14-exp-string", lambda w: tok(w, edit=edit_set(exp=lambda n: jstr(str(n + 3600)))), False),
        C("J14-exp-float-fraction", lambda w: tok(w, edit=edit_set(exp=lambda n: f"{n + 3600}.5")), False),
        C("J14-exp-float-integral", lambda w: tok(w, edit=edit_set(exp=lambda n: f"{n + 3600}.0")), False),
        C("J14-exp-exponent-form", lambda w: tok(w, edit=edit_set(exp=lambda n: f"{(n + 3600) / 1e9!r}e9")), False),
        C("J14-exp-negative", lambda w: tok(w, edit=edit_set(exp="-1")), False),
        C("J14-exp-1e300", lambda w: tok(w, edit=edit_set(exp="1e300")), False),
        C("J14-exp-2^53+1", lambda w: tok(w, edit=edit_set(exp=str(2 ** 53 + 1))), False),
        C("J14-exp-2^63", lambda w: tok(w, edit=edit_set(exp=str(2 ** 63))), False),
        C("J14-exp-null", lambda w: tok(w, edit=edit_set(exp="null")), False),
        C("J14-exp-true", lambda w: tok(w, edit=edit_set(exp="true")), False),
        C("J14-exp-year-2200-real-api-token", lambda w: w.tokens["year2200"], True),
        C("J14-exp-year-10000-past-verifier-range", lambda w: tok(w, edit=edit_set(exp="253402300800")), False),
        # Past 2262-04-11 (Int64 nanoseconds), see KNOWN_BUGS: the verifier traps on `exp * 1_000_000_000`.
        C("J14-exp-year-2300", lambda w: tok(w, edit=edit_set(exp="10413792000")), True, target="ovf1"),
        C("J14-exp-year-9999-last-second", lambda w: tok(w, edit=edit_set(exp="253402300799")), True, target="ovf2"),
    ]
    # J15 nbf/iat (L = 60 s; documented policy: iat and nbf are required integers, each may be at most L ahead).
    cases += [
        C("J15-nbf-now", lambda w: tok(w), True),
        C("J15-nbf-now-plus-1", lambda w: tok(w, edit=edit_set(nbf=lambda n: str(n + 1))), True),
        C("J15-nbf-now-plus-L-minus-5", lambda w: tok(w, edit=edit_set(nbf=lambda n: str(n + LEEWAY - 5))), True),
        C("J15-nbf-now-plus-L-plus-5", lambda w: tok(w, edit=edit_set(nbf=lambda n: str(n + LEEWAY + 5))), False),
        C("J15-nbf-after-exp-beyond-leeway", lambda w: tok(w, edit=edit_set(nbf=lambda n: str(n + 3600), exp=lambda n: str(n + 1800))), False),
        C("J15-nbf-after-exp-both-past", lambda w: tok(w, edit=edit_set(nbf=lambda n: str(n - 10), exp=lambda n: str(n - 20))), False),
        C("J15-nbf-missing", lambda w: tok(w, edit=edit_set(nbf=None)), False),
        C("J15-nbf-string", lambda w: tok(w, edit=edit_set(nbf=lambda n: jstr(str(n)))), False),
        C("J15-iat-far-future", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n + 3600))), False),
        C("J15-iat-within-leeway", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n + 30))), True),
        C("J15-iat-missing", lambda w: tok(w, edit=edit_set(iat=None)), False),
        C("J15-iat-negative", lambda w: tok(w, edit=edit_set(iat="-5")), False),
        C("J15-iat-float", lambda w: tok(w, edit=edit_set(iat=lambda n: f"{n}.25")), False),
        C("J15-iat-long-ago", lambda w: tok(w, edit=edit_set(iat="1", nbf="1")), True),
        C("J15-iat-year-2300", lambda w: tok(w, edit=edit_set(iat="10413792000")), False, target="ovf3"),
        C("J15-nbf-year-2300", lambda w: tok(w, edit=edit_set(nbf="10413792000")), False, target="ovf4"),
    ]
    # J16 clock skew, expressed as shifted tokens (V1/V2 run on the real clock; the gateway's own clock is moved in
    # test_J14_J15_J16_gateway_boundaries_on_the_mock_clock).
    cases += [
        C("J16-issuer-ahead-30s", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n + 30), nbf=lambda n: str(n + 30))), True),
        C("J16-issuer-behind-30s", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n - 30), nbf=lambda n: str(n - 30))), True),
        C("J16-issuer-ahead-10min", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n + 600), nbf=lambda n: str(n + 600))), False),
        C("J16-nearly-expired-verifier-30s-ahead", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n - 300), nbf=lambda n: str(n - 300), exp=lambda n: str(n - 10))), False,
          note="exp is strict (README): no leeway on exp"),
        C("J16-nearly-expired-issuer-30s-ahead", lambda w: tok(w, edit=edit_set(iat=lambda n: str(n + 30), nbf=lambda n: str(n + 30), exp=lambda n: str(n + 40))), True),
    ]
    # J17 claims. README: aud is "functions" or an array containing it, so ["functions","x"] is accepted.
    cl = lambda **m: (lambda w: tok(w, edit=edit_set(**m)))
    cases += [
        C("J17-aud-Functions", cl(aud='"Functions"'), False),
        C("J17-aud-functions-trailing-space", cl(aud='"functions "'), False),
        C("J17-aud-array-functions-x", cl(aud='["functions","x"]'), True),
        C("J17-aud-array-x-functions", cl(aud='["x","functions"]'), True),
        C("J17-aud-array-empty", cl(aud="[]"), False),
        C("J17-aud-array-Functions", cl(aud='["Functions"]'), False),
        C("J17-aud-nested-array", cl(aud='[["functions"]]'), False),
        C("J17-aud-missing", cl(aud=None), False),
        C("J17-aud-null", cl(aud="null"), False),
        C("J17-iss-scaleway-lowercase", cl(iss='"scaleway"'), False),
        C("J17-iss-trailing-space", cl(iss='"SCALEWAY "'), False),
        C("J17-iss-missing", cl(iss=None), False),
        C("J17-sub-user", cl(sub='"user"'), False),
        C("J17-sub-missing", cl(sub=None), False),
        C("J17-version-1", cl(version="1"), False),
        C("J17-version-string-2", cl(version='"2"'), False),
        C("J17-version-2.0", cl(version="2.0"), False),
        C("J17-version-missing", cl(version=None), False),
        C("J17-jti-missing", cl(jti=None), False),
        C("J17-jti-empty", cl(jti='""'), False),
        C("J17-application_claim-empty", cl(application_claim="[]"), False),
        C("J17-application_claim-missing", cl(application_claim=None), False),
        C("J17-application_claim-object-not-array", lambda w: tok(w, edit=edit_set(application_claim=jstr({"namespace_id": w.ns, "application_id": ""}))), False),
        C("J17-application_claim-two-entries-A-B", lambda w: tok(w, edit=edit_set(application_claim=jstr(
            [{"namespace_id": w.ns, "application_id": ""}, {"namespace_id": w.other_ns, "application_id": ""}]))), False),
        C("J17-application_claim-two-entries-A-A", lambda w: tok(w, edit=edit_set(application_claim=jstr(
            [{"namespace_id": w.ns, "application_id": ""}] * 2))), False),
        C("J17-application_claim-both-ids", lambda w: tok(w, edit=edit_set(application_claim=app_claim(w.ns, w.targets["main"]))), False),
        C("J17-application_claim-both-empty", cl(application_claim=app_claim("", "")), False),
        C("J17-application_claim-namespace-null", cl(application_claim='[{"namespace_id":null,"application_id":""}]'), False),
    ]
    # J18 cross-namespace.
    cases += [
        C("J18-real-token-of-other-namespace", lambda w: w.tokens["other_ns"], False),
        C("J18-other-key-claiming-target-namespace", lambda w: tok(w, key="other"), False),
        C("J18-target-key-claiming-other-namespace", lambda w: tok(w, scope="other_ns"), False),
        C("J18-container-claim-of-other-namespace", lambda w: tok(w, edit=edit_set(application_claim=app_claim(app=w.targets["foreign"]))), False),
    ]
    # J19 sibling containers and a container deleted then recreated under the same name.
    cases += [
        C("J19-sibling-container-token-on-main", lambda w: w.tokens["sibling"], False),
        C("J19-main-container-token-on-sibling", lambda w: w.tokens["main"], False, target="sibling"),
        C("J19-namespace-token-on-main", lambda w: w.tokens["ns"], True),
        C("J19-namespace-token-on-sibling", lambda w: w.tokens["ns"], True, target="sibling"),
        C("J19-sibling-container-token-on-sibling", lambda w: w.tokens["sibling"], True, target="sibling"),
        C("J19-old-token-of-deleted-container-on-recreated", lambda w: w.tokens["reborn_old"], False, target="recreated"),
        C("J19-new-token-on-recreated", lambda w: w.tokens["reborn_new"], True, target="recreated"),
        C("J19-namespace-token-on-recreated", lambda w: w.tokens["ns"], True, target="recreated"),
    ]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases


OVERFLOW_TARGETS = 4
CASES = build_cases()

# (case id, verifier) -> reason, for product bugs: the test stays as it should be and is marked xfail(strict=True).
# Fixed: exp/nbf/iat past 2262 used to overflow Int64 nanoseconds and kill every verifier (J14-exp-year-2300,
# J14-exp-year-9999-last-second, J15-iat-year-2300, J15-nbf-year-2300); they now compare in seconds.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def params():
    out = []
    for case in CASES:
        for v in ("G", "V1", "V2"):
            if v not in case.only:
                continue
            marks = []
            if (case.id, v) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(case.id, v)]))
            out.append(pytest.param(case, v, id=f"{case.id}-{v}", marks=marks))
    return out


# --- fixtures --------------------------------------------------------------------------------------------------------

class Listener:
    """A loopback TCP listener that counts connections (J06: no verifier may fetch jku/x5u)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        threading.Thread(target=self._run, daemon=True).start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def _run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    lst = Listener()
    yield lst
    lst.close()


def build_world(mock: Mock, mode: str, lst: Listener) -> World:
    w = World()
    w.mock, w.mode, w.listener = mock, mode, lst
    w.revoked = []
    w.ns = mock.namespace(f"jwt-{mode}-a")
    w.other_ns = mock.namespace(f"jwt-{mode}-b")
    w.log_path = mock.workdir / "child-requests.log" if mode == "edge" else None
    if w.log_path:
        w.log_path.write_text("")

    def private(ns, name):
        if mode == "edge":
            return mock.container(ns, name, privacy="private", command=[sys.executable, "-c", COUNTER_PY],
                                  environment_variables={"JWT_CATALOG_LOG": str(w.log_path)})
        return mock.container(ns, name, privacy="private")

    w.targets = {"main": private(w.ns, "main"), "sibling": private(w.ns, "sibling"),
                 "foreign": mock.container(w.other_ns, "foreign", privacy="private"),
                 "public": mock.container(w.ns, "public", privacy="public")}
    if mode == "edge":
        w.targets["echo"] = mock.container(w.ns, "echo", privacy="private")  # the sample app: echoes its env (J24)
    # Targets for the tokens that crash a verifier (see KNOWN_BUGS): one sample-app container per such case in
    # container mode, so each crash only takes down its own process; for G the gateway itself is what crashes.
    for n in range(1, OVERFLOW_TARGETS + 1):
        w.targets[f"ovf{n}"] = (w.targets["main"] if mode == "edge" else
                                mock.container(w.ns, f"ovf{n}", privacy="private", environment_variables={"SWIFT_BACKTRACE": "enable=no"}))
    # J19: a container token for "reborn", then "reborn" deleted and created again under the same name.
    reborn = private(w.ns, "reborn")
    reborn_old = mock.mint(container_id=reborn)["token"]
    assert mock.call("DELETE", f"{C1}/containers/{reborn}").status_code == 200
    w.targets["recreated"] = private(w.ns, "reborn")
    assert w.targets["recreated"] != reborn
    mock.wait_ready(*w.targets.values())

    minted = mock.mint(namespace_id=w.ns)
    w.pkcs1_pem = minted["public_key"]
    w.spki_pem = mock.call("GET", f"/_mock/namespaces/{w.ns}/public-key?format=spki", key=None).text
    assert w.spki_pem.startswith("-----BEGIN PUBLIC KEY-----") and w.pkcs1_pem.startswith("-----BEGIN RSA PUBLIC KEY-----")
    expires = datetime.datetime.fromtimestamp(int(w.now()) + 7200, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    w.tokens = {
        "ns": minted["token"],
        "main": mock.mint(container_id=w.targets["main"])["token"],
        "sibling": mock.mint(container_id=w.targets["sibling"])["token"],
        "other_ns": mock.mint(namespace_id=w.other_ns)["token"],
        "expiring": mock.mint(namespace_id=w.ns, expires_at=expires)["token"],
        "year2200": mock.mint(namespace_id=w.ns, expires_at="2200-01-01T00:00:00Z")["token"],
        "reborn_old": reborn_old,
        "reborn_new": mock.mint(container_id=w.targets["recreated"])["token"],
    }
    # The jti of hand-built tokens: one the store issued for this namespace (and never revokes), see the docstring.
    w.jti = json.loads(unb64u(w.tokens["ns"].split(".")[1]))["jti"]
    w.priv = mock.private_key(w.ns)
    w.other_priv = mock.private_key(w.other_ns)
    w.key_file = mock.workdir / "namespace-public.pem"
    w.key_file.write_text(w.pkcs1_pem)
    return w


@pytest.fixture(scope="module")
def edge(tmp_path_factory, listener):
    mock = Mock(tmp_path_factory.mktemp("jwt-edge"))
    try:
        yield build_world(mock, "edge", listener)
    finally:
        if mock.proc.poll() is None:
            assert mock.stop() == 0


@pytest.fixture(scope="module")
def cmode(tmp_path_factory, listener):
    mock = Mock(tmp_path_factory.mktemp("jwt-container"), "--private-auth", "container")
    try:
        yield build_world(mock, "container", listener)
    finally:
        if mock.proc.poll() is None:
            assert mock.stop() == 0


# --- the three verifiers ---------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    accepted: bool
    detail: str
    reason: Optional[str] = None  # the verifier's own words for a refusal (None: refused by the HTTP layer)


def verify_gateway(w: World, token: Optional[str], target: str = "main", headers=None, path=None) -> Outcome:
    """G: call the private container through the gateway; a refusal must not reach its process."""
    app = w.targets[target]
    path = path or f"/j/{uuid.uuid4().hex}"
    before = w.child_lines()
    hdrs = headers if headers is not None else [("X-Auth-Token", token)]
    r = raw_request(w.mock.port, f"/_mock/invoke/{app}{path}", hdrs)
    after = w.child_lines()
    detail = f"G status={r.status} body={r.body[:300]!r}"
    if r.status is None or r.status >= 500:
        crashed = crash_check(w)
        assert crashed is None, f"the server crashed (exit {crashed}) on this token and was restarted; {detail}"
    if r.status == 200:
        echo = r.json()
        assert echo["app"] == app and echo["path"] == path, detail
        assert echo["x_auth_token"] == [], "the gateway must not forward the credential"
        assert f"{app} {path}" in after[len(before):], "accepted but the process did not log the request"
        return Outcome(True, detail)
    assert after == before, f"refused ({detail}) but the process received: {after[len(before):]}"
    if r.status in (400, 431) or r.status is None:
        assert token is not None and http_layer_refusal_expected(token), f"unexpected HTTP-layer refusal: {detail}"
        return Outcome(False, detail)
    assert r.status in (401, 403), detail
    body = r.json()
    assert isinstance(body, dict) and body.get("message"), detail
    return Outcome(False, detail, body["message"])


def crash_check(w: World, grace=5.0) -> Optional[int]:
    """If the server died, restart it on its database (so the rest of the module keeps running) and return its exit
    code; None if it is alive."""
    end = time.monotonic() + grace
    while w.mock.proc.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    rc = w.mock.proc.poll()
    if rc is None:
        return None
    w.mock.stderr.close()
    w.mock.start()
    wait_serving(w)
    return rc


def wait_serving(w: World, deadline=60.0):
    """Every long-lived target answers 200 to a valid token again (after a restart)."""
    end = time.monotonic() + deadline
    for name, app in w.targets.items():
        if name.startswith("ovf"):
            continue
        token = w.tokens["other_ns" if name == "foreign" else "ns"]
        while raw_request(w.mock.port, f"/_mock/invoke/{app}/up", [("X-Auth-Token", token)]).status != 200:
            assert time.monotonic() < end, f"{w.mode}: {name} did not come back"
            time.sleep(0.1)


def verify_cli(w: World, token: str, target: str = "main") -> Outcome:
    """V1: `scw-mock token verify` with the namespace key, namespace and container."""
    assert len(token.encode()) <= ARGV_LIMIT, "V1 cannot take a token beyond MAX_ARG_STRLEN"
    p = subprocess.run([str(support.binary_path()), "token", "verify", "--public-key", str(w.key_file), "--namespace-id", w.ns,
                        "--container-id", w.targets[target], "--", token], capture_output=True, text=True, timeout=120, env=NO_BACKTRACE)
    detail = f"V1 rc={p.returncode} out={p.stdout[:300]!r} err={p.stderr[:300]!r}"
    if p.returncode == 0:
        assert p.stdout.startswith("valid\n"), detail
        return Outcome(True, detail)
    assert p.returncode == 1 and p.stdout.startswith("invalid: ") and len(p.stdout.strip()) > len("invalid:"), detail
    return Outcome(False, detail, p.stdout.strip().removeprefix("invalid: "))


def verify_sample_app(w: World, token: Optional[str], target: str = "main", headers=None, path=None) -> Outcome:
    """V2: the sample app validates the token itself (the gateway passes the request through)."""
    app = w.targets[target]
    path = path or f"/j/{uuid.uuid4().hex}"
    hdrs = headers if headers is not None else [("X-Auth-Token", token)]
    r = raw_request(w.mock.port, f"/_mock/invoke/{app}{path}", hdrs)
    detail = f"V2 status={r.status} body={r.body[:300]!r}"
    if r.status == 200:
        echo = r.json()
        assert echo["path"] == path and echo["env"]["SCW_APPLICATION_ID"] == app, detail
        return Outcome(True, detail)
    if r.status in (400, 431) or r.status is None:
        assert token is not None and http_layer_refusal_expected(token), f"unexpected HTTP-layer refusal: {detail}"
        return Outcome(False, detail)
    assert r.status in (401, 403), detail
    body = r.json()
    assert isinstance(body, dict) and body.get("error"), detail
    return Outcome(False, detail, body["error"])


def world_for(request, verifier) -> World:
    return request.getfixturevalue("edge" if verifier == "G" else "cmode")


def run_verifier(verifier, w, token, target="main") -> Outcome:
    return {"G": verify_gateway, "V1": verify_cli, "V2": verify_sample_app}[verifier](w, token, target)


# --- the catalog matrix ----------------------------------------------------------------------------------------------

def test_forge_reproduces_real_tokens_byte_for_byte(edge, cmode):
    """The forging machinery is exact: rebuilt with the real jti/iat and the exported private key, a real token comes
    out identical (RS256 PKCS#1 v1.5 is deterministic). Everything below relies on this."""
    for w in (edge, cmode):
        for which, scope in (("ns", "ns"), ("main", "main")):
            real = w.tokens[which]
            payload = json.loads(unb64u(real.split(".")[1]))
            p = claims(w, scope, payload["iat"]).set("jti", jstr(payload["jti"]))
            assert unb64u(real.split(".")[0]) == HDR
            assert signed(w.priv, b64u(HDR), b64u(p.bytes())) == real


@pytest.mark.parametrize("case,verifier", params())
def test_catalog(case: Case, verifier: str, request, listener):
    w = world_for(request, verifier)
    token = case.build(w)
    outcome = run_verifier(verifier, w, token, case.target)
    expected = "accept" if case.accept else "reject"
    assert outcome.accepted == case.accept, f"{case.id}: expected {expected}; {outcome.detail} {case.note}"
    if case.why and outcome.reason is not None:
        assert re.search(case.why, outcome.reason), f"{case.id}: refused for another reason: {outcome.reason!r}"
    # J06: no verifier ever connects to a URL a token names.
    assert listener.connections == 0, "a verifier fetched a key from jku/x5u"


# --- rows that only apply to some verifiers --------------------------------------------------------------------------

def test_J10_J13_refusals_are_fast_and_memory_stays_flat(edge, cmode):
    """J10/J13 timing (catalog: < 5 ms / <= 10 ms in-process; relaxed to < 200 ms for a whole HTTP round trip on a
    loaded machine, best of 3) and memory (RSS growth < 64 MiB after 10 MiB segments and 1 MiB of dots). G and V2."""
    for w, verify in ((edge, verify_gateway), (cmode, verify_sample_app)):
        tokens = {"7KiB-dots": "." * 7168, "4-segments": tok(w) + ".x", "79KiB-signed": exact_length(w, 79 * 1024 - 64),
                  "1MiB-dots": "." * (1 << 20), "100KiB-header": tok(w, header=header_with("a" * 102400))}
        for name, token in tokens.items():
            best = math.inf
            for _ in range(3):
                start = time.monotonic()
                assert not verify(w, token).accepted, name
                best = min(best, time.monotonic() - start)
            assert best < 0.2, f"{w.mode} {name}: refusal took {best * 1000:.0f} ms"
        rss = w.mock.rss_kib()
        big = "A" * (10 << 20) + "." + ".".join(parts(w)[1:])
        for _ in range(3):
            assert not verify(w, big).accepted
            assert not verify(w, "." * (1 << 20)).accepted
        assert w.mock.rss_kib() - rss < 64 * 1024, "memory grew while refusing oversize tokens"
        assert w.mock.call("GET", "/_mock/health", key=None).status_code == 200


def test_J13_81KiB_field_gets_400_and_the_connection_closes(edge, cmode):
    """J13 at the HTTP layer (G and V2 share it: the request never reaches a verifier): an X-Auth-Token of 81 KiB gets
    400 with Connection: close and the socket closes; 79 KiB still reaches the verifier and gets a 401/403."""
    for w in (edge, cmode):
        app = w.targets["main"]
        before = w.child_lines()
        r = raw_request(w.mock.port, f"/_mock/invoke/{app}/j81", [("X-Auth-Token", exact_length(w, 81 * 1024))], check_close=True)
        assert r.status in (400, 431), (w.mode, r.status, r.body)
        assert r.closed, f"{w.mode}: the connection stayed open after a 400"
        assert w.child_lines() == before
        r = raw_request(w.mock.port, f"/_mock/invoke/{app}/j79", [("X-Auth-Token", exact_length(w, 79 * 1024 - 64))])
        assert r.status in (401, 403) and r.json(), (w.mode, r.status, r.body)
        assert w.child_lines() == before


def test_J20_revocation_at_the_gateway(edge):
    """J20, gateway only: the sample app and `token verify` are offline verifiers with no revocation list (a revoked
    token still carries a valid signature), so revocation can only be enforced where the store is: the gateway."""
    w = edge
    for scope in ({"namespace_id": w.ns}, {"container_id": w.targets["main"]}):
        minted = w.mock.mint(**scope)
        assert verify_gateway(w, minted["token"]).accepted
        assert w.mock.call("DELETE", f"{CB}/tokens/{minted['id']}").status_code == 200
        # Read-your-writes: the very first request after the 200 is refused, and so is every spelling of it (J09).
        out = verify_gateway(w, minted["token"])
        assert not out.accepted and "revoked" in out.detail, out.detail
        h, p, s = minted["token"].split(".")
        for variant in (f"{h}.{p}.{std_padding(s)}", f"{h}.{p}.{spare_bits_set(s)}", f"{h}=.{p}.{s}", f" {h}.{p}.{s} "):
            assert not verify_gateway(w, variant).accepted, variant
        w.revoked.append(minted["token"])
    # A sound token whose jti the store never issued (signed here with the exported key) is refused too.
    out = verify_gateway(w, tok(w, edit=edit_set(jti=jstr(str(uuid.uuid4())))))
    assert not out.accepted and "unknown" in out.detail, out.detail
    # Deleting a namespace kills its key, its containers and its tokens.
    doomed = w.mock.namespace("jwt-edge-doomed")
    app = w.mock.container(doomed, "d", privacy="private")
    w.mock.wait_ready(app)
    token = w.mock.mint(namespace_id=doomed)["token"]
    assert raw_request(w.mock.port, f"/_mock/invoke/{app}/", [("X-Auth-Token", token)]).status == 200
    assert w.mock.call("DELETE", f"{C1}/namespaces/{doomed}").status_code == 200
    end = time.monotonic() + 30
    while (status := raw_request(w.mock.port, f"/_mock/invoke/{app}/", [("X-Auth-Token", token)]).status) == 200 and time.monotonic() < end:
        time.sleep(0.05)
    assert status in (401, 403, 404), status


@pytest.mark.parametrize("expires_at", ["2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_J14_tokens_api_survives_a_far_expires_at(expires_at, cmode):
    """Found while building J14's exp range (catalog A13 lists 9999-12-31T23:59:59Z as an input): the API must answer
    200 or 400, never die. Run on the container-mode server, which is restarted if it dies."""
    w = cmode
    try:
        r = w.mock.call("POST", f"{CB}/tokens", json={"namespace_id": w.ns, "expires_at": expires_at})
    except requests.ConnectionError as error:
        r = error
    crashed = crash_check(w, grace=0 if isinstance(r, requests.Response) else 5)
    assert crashed is None, f"the server died (exit {crashed}) on expires_at={expires_at} and was restarted"
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert verify_cli(w, r.json()["token"]).accepted


def valid_for(w):
    return w.tokens["ns"]


# J21: how the token travels (G and V2; V1 takes the token as an argument). `t` is a valid namespace token.
TRANSPORTS = [
    ("absent", lambda t: ([], ""), False),
    ("empty-value", lambda t: ([("X-Auth-Token", "")], ""), False),
    ("bearer-prefix", lambda t: ([("X-Auth-Token", "Bearer " + t)], ""), False),
    ("lowercase-name", lambda t: ([("x-auth-token", t)], ""), True),
    ("uppercase-name", lambda t: ([("X-AUTH-TOKEN", t)], ""), True),
    ("whitespace-around-value", lambda t: ([("X-Auth-Token", "  " + t + "\t")], ""), True),
    ("two-headers-both-valid", lambda t: ([("X-Auth-Token", t), ("X-Auth-Token", t)], ""), False),
    ("two-headers-valid-then-garbage", lambda t: ([("X-Auth-Token", t), ("X-Auth-Token", "garbage")], ""), False),
    ("two-headers-garbage-then-valid", lambda t: ([("X-Auth-Token", "garbage"), ("X-Auth-Token", t)], ""), False),
    ("two-headers-different-case", lambda t: ([("X-Auth-Token", t), ("x-auth-token", t)], ""), False),
    ("comma-combined", lambda t: ([("X-Auth-Token", t + ", " + t)], ""), False),
    ("query-token", lambda t: ([], "?token=" + t), False),
    ("query-x-auth-token", lambda t: ([], "?X-Auth-Token=" + t), False),
    ("authorization-bearer", lambda t: ([("Authorization", "Bearer " + t)], ""), False),
    ("authorization-bare", lambda t: ([("Authorization", t)], ""), False),
    ("authorization-garbage-plus-valid-header", lambda t: ([("Authorization", "Bearer garbage"), ("X-Auth-Token", t)], ""), True),
]


@pytest.mark.parametrize("verifier", ["G", "V2"])
@pytest.mark.parametrize("name,make,accept", TRANSPORTS, ids=[t[0] for t in TRANSPORTS])
def test_J21_header_transport(name, make, accept, verifier, request):
    w = world_for(request, verifier)
    headers, query = make(valid_for(w))
    path = f"/j21/{uuid.uuid4().hex}{query}"
    verify = verify_gateway if verifier == "G" else verify_sample_app
    out = verify(w, None, headers=headers, path=path)
    assert out.accepted == accept, out.detail
    if name == "absent" and verifier == "G":
        assert "status=403" in out.detail, "a missing token is 403, as real Scaleway answers"


@pytest.mark.parametrize("verifier", ["G", "V2"])
def test_J22_public_containers_ignore_tokens(verifier, request):
    """J22 (G and V2; not confirmed for real Scaleway, documented here): a public container lets every request
    through whatever X-Auth-Token says."""
    w = world_for(request, verifier)
    now = int(w.now())
    tokens = {"garbage": "garbage", "expired": tok(w, edit=edit_set(exp=str(now - 100))), "foreign": w.tokens["other_ns"],
              "alg-none": alg_none(w, "none", ""), "other-key": tok(w, key="attacker")}
    for what, token in tokens.items():
        path = f"/j22/{what}"
        r = raw_request(w.mock.port, f"/_mock/invoke/{w.targets['public']}{path}", [("X-Auth-Token", token)])
        assert r.status == 200 and r.json()["path"] == path, (what, r.status, r.body)


def test_J14_J15_J16_gateway_boundaries_on_the_mock_clock(edge):
    """G only: the gateway reads the mock clock, so the exact one-second boundaries can be pinned. Setting the clock
    to T gives now = T + (milliseconds); each step is retried with a later T if the machine stalled for a second."""
    w = edge

    def at(epoch, token) -> tuple[bool, float]:
        w.mock.set_clock(epoch)
        start = time.monotonic()
        accepted = verify_gateway(w, token).accepted
        return accepted, time.monotonic() - start

    def boundary(make_token, steps):
        """steps: [(offset from the anchor, expected accept)], with increasing offsets."""
        for attempt in range(3):
            anchor = math.ceil(w.now()) + 2 - min(off for off, _ in steps)  # the clock never goes back
            token = make_token(anchor)
            results = [at(anchor + off, token) for off, _ in steps]
            if all(elapsed < 0.9 for _, elapsed in results):
                assert [a for a, _ in results] == [e for _, e in steps], (results, steps)
                return
        pytest.fail("the machine was too slow to pin a one-second boundary three times")

    full = lambda anchor, **m: tok(w, edit=edit_set(**{k: str(v) for k, v in m.items()}))
    # J14: exp = E; now = E-1 accepts, now = E and now = E+1 refuse.
    boundary(lambda E: full(E, iat=E - 10, nbf=E - 10, exp=E), [(-1, True), (0, False), (1, False)])
    # J15: nbf = N; now = N-61 refuses, now = N-60 (nbf = now + L) and now = N (nbf == now) accept.
    boundary(lambda N: full(N, iat=N - 100, nbf=N), [(-61, False), (-60, True), (0, True)])
    # J15: iat = I, same leeway.
    boundary(lambda I: full(I, iat=I, nbf=I - 100), [(-61, False), (-60, True)])
    # J16: the gateway's clock runs 30 s ahead of the issuer: a fresh real token still passes; 10 min ahead of a
    # token that expires in 5 min: refused.
    fresh = w.mock.mint(namespace_id=w.ns)["token"]
    expiring = tok(w, edit=edit_set(exp=lambda n: str(n + 300)))
    assert w.mock.call("POST", "/_mock/clock", key=None, json={"advance_seconds": 30}).status_code == 200
    assert verify_gateway(w, fresh).accepted and verify_gateway(w, expiring).accepted
    assert w.mock.call("POST", "/_mock/clock", key=None, json={"advance_seconds": 600}).status_code == 200
    assert verify_gateway(w, fresh).accepted
    assert not verify_gateway(w, expiring).accepted


def test_J23_no_unsafe_jwt_configuration_in_sources():
    """J23 (static): nothing in Sources/ enables alg none, HMAC keys or key iteration."""
    hits = []
    for path in (REPO / "Sources").rglob("*"):
        if path.is_file() and path.suffix in (".swift", ".c", ".h"):
            text = path.read_text(errors="replace")
            for needle in ("addUnsecuredNone", "add(hmac:", "iteratingKeys: true"):
                if needle in text:
                    hits.append(f"{path.relative_to(REPO)}: {needle}")
    assert hits == []


def test_J24_key_survives_a_crash_and_old_tokens_still_verify(edge, cmode):
    """J24 (last: it restarts both servers). Kill -9 and restart on the same database: the SCW_PUBLIC_KEY handed to the
    relaunched processes is byte-identical, pre-crash tokens still pass all three verifiers, revoked ones stay revoked."""
    def echo_env(w, app, token):
        end = time.monotonic() + 60
        while True:
            r = raw_request(w.mock.port, f"/_mock/invoke/{app}/env", [("X-Auth-Token", token)])
            if r.status == 200 or time.monotonic() > end:
                break
            time.sleep(0.1)
        assert r.status == 200, (r.status, r.body)
        return r.json()["env"]

    probes = {"edge": (edge, edge.targets["echo"]), "container": (cmode, cmode.targets["main"])}
    before = {mode: echo_env(w, app, w.tokens["ns"]) for mode, (w, app) in probes.items()}
    for mode, (w, app) in probes.items():
        assert before[mode]["SCW_PUBLIC_KEY"] == w.pkcs1_pem
        assert w.mock.stop(signal.SIGKILL) == -signal.SIGKILL
        w.mock.start()
    for mode, (w, app) in probes.items():
        after = echo_env(w, app, w.tokens["ns"])
        assert after["SCW_PUBLIC_KEY"].encode() == before[mode]["SCW_PUBLIC_KEY"].encode(), mode
        assert w.mock.call("GET", f"/_mock/namespaces/{w.ns}/public-key", key=None).text == w.pkcs1_pem
    # Pre-crash tokens, three ways (once the relaunched processes listen again).
    for w in (edge, cmode):
        end = time.monotonic() + 60
        while raw_request(w.mock.port, f"/_mock/invoke/{w.targets['main']}/up", [("X-Auth-Token", w.tokens["ns"])]).status != 200:
            assert time.monotonic() < end, f"{w.mode}: main did not come back"
            time.sleep(0.1)
    for which in ("ns", "main"):
        assert verify_gateway(edge, edge.tokens[which]).accepted, which
        assert verify_cli(cmode, cmode.tokens[which]).accepted, which
        assert verify_sample_app(cmode, cmode.tokens[which]).accepted, which
    # J20 across restarts: revoked before the crash, still refused after it.
    assert edge.revoked
    for token in edge.revoked:
        out = verify_gateway(edge, token)
        assert not out.accepted and "revoked" in out.detail, out.detail
