"""Limits over real HTTP: a `cms-pricing serve` process (Granian, one worker) on loopback.

The service's own limits answer in the JSON envelope; what Granian answers by itself (a
head over its buffer, too many headers, a request target over 65,534 bytes, a malformed
request) is pinned here exactly as docs/limits.md describes it, so an upgrade that changes
it fails this file. The body and head timeouts are set to 1 s.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import Server, copy_database, get, serve

BULK = b"POST /codes/price/bulk HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("limits")
    env = {
        "DATABASE_URL": copy_database(ingested_url, folder),
        "CMS_PRICING_BODY_TIMEOUT_SECONDS": "1",
    }
    with serve(env, folder / "serve.log", workers=1) as server:
        yield server


@pytest.fixture
def port(served: Server) -> int:
    return int(served.base.rsplit(":", 1)[1])


def exchange(port: int, data: bytes, wait: float = 10) -> bytes:
    """Send ``data`` on a fresh connection, then read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def parsed(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def get_raw(port: int, target: bytes, headers: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    request = b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers
    return parsed(exchange(port, request + b"\r\n"))


def envelope(body: bytes) -> dict[str, Any]:
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


def test_query_over_8_kib_is_414_in_the_envelope(port: int) -> None:
    """9,000 nines in ``zip``: the service's 414 ``uri_too_long``, JSON, not cacheable."""
    status, headers, body = get_raw(port, b"/codes/price?code=99213&zip=" + b"9" * 9000)
    assert (status, headers["content-type"], headers["cache-control"]) == (
        414,
        "application/json",
        "no-store",
    )
    assert envelope(body)["details"] == {"limit": 8192}


def test_target_up_to_granians_limit_still_gets_the_envelope(port: int) -> None:
    """65,000 bytes of query: past our limit, under Granian's, so still our JSON 414."""
    status, _headers, body = get_raw(port, b"/codes/price?zip=" + b"9" * 65000)
    assert (status, envelope(body)["code"]) == (414, "uri_too_long")


def test_target_over_65534_bytes_is_granians_empty_414(port: int) -> None:
    """Granian (hyper) refuses a request target over 65,534 bytes itself: empty 414."""
    status, headers, body = get_raw(port, b"/codes/price?zip=" + b"9" * 70000)
    assert (status, headers["content-length"], body) == (414, "0", b"")


def test_a_head_over_the_buffer_is_granians_empty_431(port: int) -> None:
    """One 140,000-byte header overflows the 128 KiB head buffer: empty 431."""
    status, headers, body = get_raw(port, b"/health", b"X-Big: " + b"a" * 140_000 + b"\r\n")
    assert (status, headers["content-length"], body) == (431, "0", b"")


def test_large_headers_under_the_buffer_reach_the_app(port: int) -> None:
    """A 100,000-byte header fits the head buffer: the app answers."""
    status, _headers, _body = get_raw(port, b"/health", b"X-Big: " + b"a" * 100_000 + b"\r\n")
    assert status == 200


def test_more_than_100_header_lines_is_granians_empty_431(port: int) -> None:
    """100 header lines pass; 101 are refused by Granian with an empty 431."""
    ninety_eight = b"".join(b"X-H%d: v\r\n" % i for i in range(98))  # + Host + Connection
    assert get_raw(port, b"/health", ninety_eight)[0] == 200
    status, _headers, body = get_raw(port, b"/health", ninety_eight + b"X-One-More: v\r\n")
    assert (status, body) == (431, b"")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
        b"POST /plans HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    ],
)
def test_a_malformed_request_is_granians_empty_400(port: int, request_bytes: bytes) -> None:
    """A bad request line, version, header line or Content-Length: empty 400, then close."""
    status, headers, body = parsed(exchange(port, request_bytes))
    assert (status, headers["content-length"], body) == (400, "0", b"")


def test_a_declared_body_over_the_bulk_limit_is_413_before_it_is_sent(port: int) -> None:
    """``Content-Length: 100000000`` on bulk: the JSON 413 arrives with no body byte sent."""
    status, headers, body = parsed(exchange(port, BULK + b"Content-Length: 100000000\r\n\r\n"))
    assert (status, headers["content-type"]) == (413, "application/json")
    assert envelope(body) == {
        "code": "payload_too_large",
        "message": "the request body may be at most 4194304 bytes here",
        "details": {"limit": 4194304},
    }


def test_other_endpoints_have_the_256_kib_limit(port: int) -> None:
    """A 300,000-byte plan declared: 413 naming the general 256 KiB limit."""
    request = (
        b"POST /plans/price HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 300000\r\n\r\n"
    )
    status, _headers, body = parsed(exchange(port, request))
    assert (status, envelope(body)["details"]) == (413, {"limit": 262144})


def test_a_chunked_body_past_the_limit_is_413_while_it_is_still_arriving(port: int) -> None:
    """4.1 MiB sent chunked (no length) to bulk: 413 once 4 MiB have passed; the client has
    not finished (no final zero-length chunk is ever sent)."""
    piece = b"a" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(66))
    request = BULK + b"Transfer-Encoding: chunked\r\n\r\n" + chunks
    status, _headers, body = parsed(exchange(port, request))
    assert (status, envelope(body)["code"]) == (413, "payload_too_large")


def test_a_stalled_body_is_408_after_the_timeout(port: int) -> None:
    """10 of 100 declared bytes, then silence: JSON 408 after about 1 s (the set timeout)."""
    started = time.monotonic()
    raw = exchange(port, BULK + b"Content-Length: 100\r\n\r\n" + b'{"lines":')
    elapsed = time.monotonic() - started
    status, headers, body = parsed(raw)
    assert (status, headers["content-type"], envelope(body)["code"]) == (
        408,
        "application/json",
        "request_timeout",
    )
    assert 0.9 <= elapsed < 5


def test_a_stalled_head_is_closed_without_an_answer(port: int) -> None:
    """A head that never ends: Granian closes the connection after the timeout, no bytes."""
    started = time.monotonic()
    raw = exchange(port, b"GET /health HTTP/1.1\r\nHost: t\r\n")
    assert raw == b""
    assert 0.9 <= time.monotonic() - started < 5


def test_a_body_within_the_limit_is_priced(port: int) -> None:
    """A one-line bulk body arrives whole through the limits and is priced."""
    body = b'{"lines":[{"code":"99213","zip":"94110","date":"2025-11-03"}]}'
    request = BULK + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    status, _headers, answer = parsed(exchange(port, request))
    assert status == 200
    assert json.loads(answer)["priced"] == 1


def test_the_service_still_answers_after_all_of_it(served: Server) -> None:
    """The worker survived every refusal above (no crash, no restart needed)."""
    assert get(served.url("/health"))[0] == 200


def test_the_docs_name_every_figure_pinned_here() -> None:
    """docs/limits.md exists and names every Granian figure this file pins."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
    for figure in ("65,534", "128 KiB", "100 header", "431", "8 KiB", "256 KiB", "4 MiB"):
        assert figure in text, figure
