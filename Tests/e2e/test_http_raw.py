"""Raw-socket requests (reliability catalog A23, A25, A26): smuggling shapes, malformed framing and odd methods get a
4xx, never a 5xx or a hang, and a request pipelined after a malformed one never runs."""
import socket

import pytest

import support

KEY = b"X-Auth-Token: " + support.DEFAULT_SECRET_KEY.encode() + b"\r\n"
NS = b"/containers/v1/regions/fr-par/namespaces"


def raw(server, data: bytes, wait: float = 1.0) -> tuple[bytes, bool]:
    """Sends bytes, returns (everything read, whether the server closed the connection)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out, True
                out += chunk
        except socket.timeout:
            return out, False


@pytest.mark.parametrize("name,data", [
    ("content-length and transfer-encoding", b"POST " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY +
     b"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("two content-lengths", b"POST " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}"),
    ("space before the colon", b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("chunk size overflow", b"POST " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n"),
    ("unknown method token", b"FOO /_mock/health HTTP/1.1\r\nHost: localhost\r\n\r\n"),
])
def test_malformed_framing_is_400_and_closes(server, name, data):
    out, closed = raw(server, data)
    assert out.startswith(b"HTTP/1.1 400"), (name, out[:80])
    assert closed, name


def test_a_request_pipelined_after_a_malformed_one_never_runs(server):
    follower = b"POST " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"Content-Length: 24\r\n\r\n" + b'{"name":"smuggled-ns-1"}'
    out, closed = raw(server, b"GET /_mock/health HTTP/1.1\r\nHost x\r\n\r\n" + follower)
    assert out.startswith(b"HTTP/1.1 400") and out.count(b"HTTP/1.1 ") == 1 and closed
    import requests
    names = [n["name"] for n in requests.get(server.url + NS.decode(), headers={"X-Auth-Token": support.DEFAULT_SECRET_KEY},
                                             params={"page_size": 100}, timeout=30).json()["namespaces"]]
    assert "smuggled-ns-1" not in names


@pytest.mark.parametrize("method", [b"TRACE", b"OPTIONS", b"HEAD", b"PUT"])
def test_odd_methods_are_4xx(server, method):
    out, _ = raw(server, method + b" " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"\r\n")
    assert out.split(b" ")[1] in (b"404", b"405"), out[:80]


@pytest.mark.parametrize("path", [b"/_mock/namespaces/..%2f..%2fetc%2fpasswd/public-key", b"/_mock/namespaces/%2e%2e/public-key",
                                  b"/_mock/invoke/..%2f..%2f/x", b"/containers/v1/regions/fr-par%2f..%2fnl-ams/namespaces"])
def test_path_traversal_is_refused(server, path):
    out, _ = raw(server, b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"\r\n")
    status = out.split(b" ")[1]
    assert status in (b"400", b"404"), (path, out[:120])
    assert b"root:" not in out


def test_http_1_0_closes_after_its_response_unless_kept_alive(server):
    out, closed = raw(server, b"GET /_mock/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and closed
    out, closed = raw(server, b"GET /_mock/health HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and not closed


def _head_and_body(out: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return int(lines[0].split(" ")[1]), headers, body


@pytest.mark.parametrize("name,data,status", [
    ("garbage request line", b"GARBAGE\r\n\r\n", 400),
    ("two host headers", b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nHost: y\r\n\r\n", 400),
    ("content-length over the limit", b"POST " + NS + b" HTTP/1.1\r\nHost: localhost\r\n" + KEY + b"Content-Length: 11534336\r\n\r\n{", 413),
    # Over the count limit (1,000 fields) but small enough to be read in one go (a client still sending when the
    # server closes would get a reset instead of the answer).
    ("headers over the limit", b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(1100)) + b"\r\n", 431),
])
def test_answers_given_before_the_router_carry_the_gateway_headers_and_a_json_body(server, name, data, status):
    """The connection guard's answers look like every other answer: JSON body, X-Request-Id, the security headers."""
    out, closed = raw(server, data)
    code, headers, body = _head_and_body(out)
    assert code == status, (name, out[:120])
    assert headers.get("content-type") == "application/json", (name, headers)
    assert len(headers.get("x-request-id", "")) == 36, (name, headers)
    for h in ("content-security-policy", "strict-transport-security", "x-content-type-options", "x-frame-options"):
        assert h in headers, (name, h, headers)
    import json
    assert json.loads(body)["message"], (name, body)
    assert closed, name
