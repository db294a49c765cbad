"""Size and time limits on every request, enforced before the app sees it (docs/limits.md).

``Limits(app, settings, body_limit)`` wraps the fast path (inside the observability
middleware, so the answers below are counted like any other). For each HTTP request:

- a path or query string longer than ``CMS_PRICING_MAX_QUERY_BYTES`` is answered
  ``414 uri_too_long``, so no cache key, log line or error message ever holds more;
- ``GET`` and ``HEAD`` then go straight to the app (the hot path pays two length checks);
- any other method has its body read here, at most ``body_limit(method, path)`` bytes
  (default: ``CMS_PRICING_MAX_BULK_BODY_BYTES`` for ``POST /codes/price/bulk``,
  ``CMS_PRICING_MAX_BODY_BYTES`` for every other path):
  a declared ``Content-Length`` over the limit is ``413 payload_too_large`` at once, with
  the body unread; a chunked body is ``413`` as soon as it passes the limit (reading stops);
  a body not complete ``CMS_PRICING_BODY_TIMEOUT_SECONDS`` after the request arrived is
  ``408 request_timeout``. The app then receives the whole body as one message; later
  ``receive()`` calls reach the server (``http.disconnect``).
- a client that disconnects while its body arrives gets no answer (no one would read it).

Every answer is the JSON envelope (``errors.PricingError.body``) with
``content-type: application/json`` and ``cache-control: no-store``.

The wrapper delegates every other attribute (``app``, ``state``) to the app it wraps.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from cms_pricing.api.endpoints import BY_NAME
from cms_pricing.config import Settings
from cms_pricing.errors import (
    ClientClosed,
    PayloadTooLarge,
    PricingError,
    RequestTimeout,
    UriTooLong,
)
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send

BULK_PATH = BY_NAME["bulk"].path
WITHOUT_BODY = frozenset({"GET", "HEAD"})
BodyLimit = Callable[[str, str], int]


def default_body_limit(settings: Settings) -> BodyLimit:
    """The bulk endpoint's limit for ``POST /codes/price/bulk``, the general one elsewhere."""
    bulk, other = settings.max_bulk_body_bytes, settings.max_body_bytes

    def body_limit(_method: str, path: str) -> int:
        return bulk if path == BULK_PATH else other

    return body_limit


class Limits:
    def __init__(
        self, inner: ASGIApp, settings: Settings, body_limit: BodyLimit | None = None
    ) -> None:
        self._inner = inner
        self._max_query = settings.max_query_bytes
        self._timeout = settings.body_timeout_s
        self._body_limit = body_limit or default_body_limit(settings)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        limit = self._max_query
        if len(scope["query_string"]) > limit or len(scope["path"]) > limit:
            await answer(send, uri_too_long(limit))
            return
        if scope["method"] not in WITHOUT_BODY:
            try:
                receive = await self._buffered(scope, receive, time.monotonic())
            except PricingError as exc:
                await answer(send, exc)
                return
            except _Disconnected:
                await _gone(send)
                return
        await self._inner(scope, receive, send)

    async def _buffered(self, scope: Scope, receive: Receive, started: float) -> Receive:
        limit = self._body_limit(scope["method"], scope["path"])
        declared = declared_length(scope["headers"])
        if declared is not None and declared > limit:
            raise too_large(limit)
        remaining = max(0.0, started + self._timeout - time.monotonic())
        try:
            async with asyncio.timeout(remaining):
                body = await read_body(receive, limit)
        except TimeoutError:
            raise RequestTimeout(
                f"the request body did not arrive within {self._timeout:g} seconds",
                limit_seconds=self._timeout,
            ) from None
        return replay(body, receive)


class _Disconnected(Exception):
    """The client went away before its body was complete."""


async def _gone(send: Send) -> None:
    """Record a client that left mid-body as 499 (the metrics read the status); nobody
    reads the answer, and sending it may fail on the closed connection."""
    with contextlib.suppress(Exception):
        await answer(send, ClientClosed("the client closed the connection mid-body"))


def uri_too_long(limit: int) -> UriTooLong:
    return UriTooLong(
        f"the path and the query string may each be at most {limit} bytes", limit=limit
    )


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body may be at most {limit} bytes here", limit=limit)


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The ``Content-Length`` a request declares (None when absent; the server has already
    refused a malformed one)."""
    for name, value in headers:
        if name == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() else None
    return None


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body; ``PayloadTooLarge`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then defers to the server's."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receiving() -> Message:
        return pending.pop() if pending else await receive()

    return receiving


async def answer(send: Send, exc: PricingError) -> None:
    """``exc`` as the JSON envelope, never stored by anyone."""
    body = exc.body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"cache-control", b"no-store"),
        *((name.encode(), value.encode()) for name, value in exc.headers),
    ]
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
