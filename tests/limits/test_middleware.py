"""The limits middleware's logic, driven directly over ASGI with a recording inner app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cms_pricing.api.limits import BULK_PATH, Limits, default_body_limit, replay
from cms_pricing.config import Settings
from cms_pricing.protocol import Message, Receive, Scope, Send

SMALL = {"CMS_PRICING_MAX_BODY_BYTES": 100, "CMS_PRICING_MAX_BULK_BODY_BYTES": 1000}


def settings(**values: Any) -> Settings:
    return Settings(DATABASE_URL="sqlite://", CMS_DATA_DIR=None, **{**SMALL, **values})


class Inner:
    """An app that records what it was given and reads its body through ``receive``."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.calls = 0
        self.marker = "inner attribute"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        if scope["method"] not in ("GET", "HEAD"):
            self.bodies.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope_of(
    method: str = "GET", path: str = "/codes/price", query: bytes = b"", length: int | None = None
) -> Scope:
    headers = [] if length is None else [(b"content-length", b"%d" % length)]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
    }


def messages(*chunks: bytes) -> tuple[Receive, list[int]]:
    """A ``receive`` giving ``chunks`` in turn (the last one final), then disconnects;
    the list counts how many messages were taken."""
    taken = [0]

    async def receive() -> Message:
        taken[0] += 1
        if taken[0] > len(chunks):
            return {"type": "http.disconnect"}
        last = taken[0] == len(chunks)
        return {"type": "http.request", "body": chunks[taken[0] - 1], "more_body": not last}

    return receive, taken


def run(app: Limits, scope: Scope, receive: Receive) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def answer(sent: list[Message]) -> tuple[int, dict[str, str], dict[str, Any]]:
    start, body = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, json.loads(body["body"])


def test_query_over_the_limit_is_414_in_the_envelope_and_never_reaches_the_app() -> None:
    """One byte over ``CMS_PRICING_MAX_QUERY_BYTES``: 414 ``uri_too_long``, not cacheable."""
    inner = Inner()
    app = Limits(inner, settings(CMS_PRICING_MAX_QUERY_BYTES=50))
    status, headers, body = answer(run(app, scope_of(query=b"q" * 51), messages(b"")[0]))
    assert status == 414
    assert headers == {
        "content-type": "application/json",
        "content-length": headers["content-length"],
        "cache-control": "no-store",
    }
    assert body == {
        "error": {
            "code": "uri_too_long",
            "message": "the path and the query string may each be at most 50 bytes",
            "details": {"limit": 50},
        }
    }
    assert inner.calls == 0


def test_query_and_path_at_the_limit_reach_the_app() -> None:
    """Exactly ``CMS_PRICING_MAX_QUERY_BYTES`` bytes is still accepted."""
    inner = Inner()
    app = Limits(inner, settings(CMS_PRICING_MAX_QUERY_BYTES=50))
    sent = run(app, scope_of(path="/" + "p" * 49, query=b"q" * 50), messages(b"")[0])
    assert sent[0]["status"] == 200
    assert inner.calls == 1


def test_a_path_over_the_limit_is_414() -> None:
    """A long path is a cache key too (``/reference/codes/{code}``): refused like a query."""
    app = Limits(Inner(), settings(CMS_PRICING_MAX_QUERY_BYTES=50))
    assert answer(run(app, scope_of(path="/" + "p" * 50), messages(b"")[0]))[0] == 414


def test_declared_length_over_the_limit_is_413_without_reading_the_body() -> None:
    """``Content-Length`` over the path's limit: 413 at once, ``receive`` never called."""
    inner = Inner()
    receive, taken = messages(b"x" * 101)
    status, _headers, body = answer(
        run(Limits(inner, settings()), scope_of("POST", "/plans", length=101), receive)
    )
    assert (status, body["error"]["code"], body["error"]["details"]) == (
        413,
        "payload_too_large",
        {"limit": 100},
    )
    assert taken == [0]
    assert inner.calls == 0


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    """No length declared: reading stops at the chunk that passes the limit, not the end."""
    receive, taken = messages(b"x" * 60, b"x" * 60, b"x" * 60, b"x" * 60)
    sent = run(Limits(Inner(), settings()), scope_of("POST", "/plans"), receive)
    assert answer(sent)[0] == 413
    assert taken == [2]


def test_a_body_within_the_limit_reaches_the_app_whole_in_one_message() -> None:
    """Chunks are joined; the app sees one ``http.request`` with the whole body."""
    inner = Inner()
    receive, _taken = messages(b"a" * 50, b"b" * 50)
    sent = run(Limits(inner, settings()), scope_of("POST", "/plans", length=100), receive)
    assert sent[0]["status"] == 200
    assert inner.bodies == [b"a" * 50 + b"b" * 50]


def test_the_bulk_path_has_its_own_larger_limit() -> None:
    """Default limits: bulk takes ``CMS_PRICING_MAX_BULK_BODY_BYTES``, others the general one."""
    limit = default_body_limit(settings())
    assert (limit("POST", BULK_PATH), limit("POST", "/plans"), limit("PUT", "/plans/x")) == (
        1000,
        100,
        100,
    )
    inner = Inner()
    receive, _taken = messages(b"x" * 900)
    assert run(Limits(inner, settings()), scope_of("POST", BULK_PATH), receive)[0]["status"] == 200
    assert inner.bodies == [b"x" * 900]


def test_a_supplied_body_limit_decides_by_method_and_path() -> None:
    """The caller's ``body_limit(method, path)`` replaces the defaults."""
    asked: list[tuple[str, str]] = []

    def limit(method: str, path: str) -> int:
        asked.append((method, path))
        return 5

    app = Limits(Inner(), settings(), limit)
    assert answer(run(app, scope_of("PATCH", "/x", length=6), messages(b"")[0]))[0] == 413
    assert asked == [("PATCH", "/x")]


def test_get_and_head_pass_the_servers_receive_untouched() -> None:
    """Reads never have their body read here (the hot path pays only the length checks)."""
    seen: list[Receive] = []
    receive, taken = messages(b"")

    async def inner(scope: Scope, got: Receive, send: Send) -> None:
        seen.append(got)

    for method in ("GET", "HEAD"):
        run(Limits(inner, settings()), scope_of(method), receive)
    assert seen == [receive, receive]
    assert taken == [0]


def test_a_body_that_does_not_arrive_in_time_is_408() -> None:
    """A client that stalls mid-body: 408 ``request_timeout`` once the timeout has passed."""
    stalled = asyncio.Event()

    async def receive() -> Message:
        await stalled.wait()  # never set: the rest of the body never comes
        return {"type": "http.request", "body": b"", "more_body": False}

    app = Limits(Inner(), settings(CMS_PRICING_BODY_TIMEOUT_SECONDS=0.05))
    status, _headers, body = answer(run(app, scope_of("POST", "/plans", length=10), receive))
    assert (status, body["error"]["code"]) == (408, "request_timeout")
    assert body["error"]["details"] == {"limit_seconds": 0.05}


def test_a_client_that_leaves_mid_body_is_recorded_as_499() -> None:
    """``http.disconnect`` while reading: the app is not called, and the answer nobody reads
    is a 499 (so the metrics record it, never as a 5xx)."""
    inner = Inner()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    sent = run(Limits(inner, settings()), scope_of("POST", "/plans"), receive)
    assert sent[0]["status"] == 499
    assert inner.calls == 0


def test_after_the_body_receive_reaches_the_server() -> None:
    """The replayed body comes once; the next ``receive`` is the server's own."""
    receive, _taken = messages(b"tail")

    async def both() -> list[Message]:
        replayed = replay(b"body", receive)
        return [await replayed(), await replayed()]

    first, second = asyncio.run(both())
    assert first == {"type": "http.request", "body": b"body", "more_body": False}
    assert second["body"] == b"tail"


def test_other_scopes_and_attributes_pass_through() -> None:
    """Lifespan goes to the app unchanged; ``app``/``state`` style attributes are the inner's."""
    calls: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])

    wrapped = Limits(inner, settings())
    asyncio.run(wrapped({"type": "lifespan"}, messages()[0], _no_send))
    assert calls == ["lifespan"]
    assert Limits(Inner(), settings()).marker == "inner attribute"


async def _no_send(message: Message) -> None:
    raise AssertionError(f"nothing should be sent: {message}")


@pytest.mark.parametrize("value", [b"abc", b"-1", b""])
def test_an_unreadable_declared_length_falls_back_to_counting(value: bytes) -> None:
    """A length the server let through but that is not digits is not trusted: the body is
    counted as it arrives instead."""
    scope = scope_of("POST", "/plans")
    scope["headers"] = [(b"content-length", value)]
    receive, _taken = messages(b"x" * 101)
    assert answer(run(Limits(Inner(), settings()), scope, receive))[0] == 413
