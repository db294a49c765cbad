"""The ASGI middleware around the whole app: request ids, request metrics, ``/metrics``.

``instrument(app, settings)`` wraps the fast path (and so FastAPI behind it); every HTTP
request passes through it, whichever layer answers. For each request it:

- takes the caller's ``X-Request-ID`` when valid (``logs.VALID_ID``) or makes one, keeps it
  in ``logs.REQUEST_ID`` for log lines, and adds it to the response headers, whatever the
  status (404s, 4xx and 5xx included);
- counts the request in ``api_requests_total`` and ``api_request_duration_seconds`` under
  its route template and ``api_active_connections`` while it runs (unless
  ``CMS_PRICING_METRICS=false``);
- answers ``GET /metrics`` itself (``observability.exposition``), without FastAPI;
- turns an exception raised before the response started into the JSON 500 envelope (with
  the request id), logged with its trace; the server never answers with a bare 500.

A response slower than its SLA budget or with a 5xx status is logged as one JSON line.

The wrapper delegates every other attribute (``app``, ``state``) to the app it wraps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from cms_pricing.config import Settings
from cms_pricing.errors import INTERNAL_ERROR, PricingError
from cms_pricing.observability import logs
from cms_pricing.observability.exposition import Exporter
from cms_pricing.observability.recorder import Recorder
from cms_pricing.observability.routes import METRICS_PATH, RouteTable
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service.state import ServiceState

log = logging.getLogger(__name__)

HEADER = b"x-request-id"
Guard = Callable[[Scope], Awaitable[None]]


def instrument(
    app: ASGIApp,
    state: ServiceState,
    routes: Iterable[tuple[str, str, str]],
    settings: Settings,
    guard: Guard | None = None,
) -> Instrumented:
    """``app`` behind the observability middleware (metrics off: request ids only).

    ``routes`` are the ``(method, template, SLA class)`` rows of the endpoint table; ``guard``
    checks a ``/metrics`` request first (``api/access.py``: the key and scope it needs) and
    raises the ``PricingError`` to answer instead."""
    logs.configure()
    table = RouteTable(routes)
    if not settings.metrics_enabled:
        return Instrumented(app, None, None)
    recorder = Recorder(table)
    return Instrumented(app, recorder, Exporter(settings, state, recorder), guard)


class Instrumented:
    """Adds behaviour around ``inner`` and reads every other attribute from it
    (``__getattr__``: ``app``, ``state``), so the two never disagree."""

    def __init__(
        self,
        inner: ASGIApp,
        recorder: Recorder | None,
        exporter: Exporter | None,
        guard: Guard | None = None,
    ):
        self._inner = inner
        self._recorder = recorder
        self._exporter = exporter
        self._guard = guard
        self._ids = logs.RequestIds()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan" and self._exporter is not None:
            await self._exporter.lifespan(self._inner, scope, receive, send)
        else:
            await self._inner(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = self.request_id(scope["headers"])
        token = logs.REQUEST_ID.set(request_id)
        response = Response(send, (HEADER, request_id.encode()))
        recorder = self._recorder
        started = time.perf_counter()
        if recorder is not None:
            recorder.begin()
        try:
            await self._dispatch(scope, receive, response)
        except Exception:
            log.exception("unexpected error")
            if response.started:
                raise  # too late for an envelope; the server closes the connection
            await _answer_500(response)
        finally:
            if recorder is not None:
                elapsed = time.perf_counter() - started
                recorder.end(scope["method"], scope["path"], response.status, elapsed)
            logs.REQUEST_ID.reset(token)

    async def _dispatch(self, scope: Scope, receive: Receive, response: Response) -> None:
        exporter = self._exporter
        if exporter is not None and scope["path"] == METRICS_PATH:
            if self._guard is not None:
                try:
                    await self._guard(scope)
                except PricingError as exc:
                    await _answer(response, exc.status_code, exc.body(), exc.headers)
                    return
            await exporter.respond(scope, response.send)
        else:
            await self._inner(scope, receive, response.send)

    @property
    def recorder(self) -> Recorder | None:
        return self._recorder

    def request_id(self, headers: list[tuple[bytes, bytes]]) -> str:
        for name, value in headers:
            if name == HEADER:
                given = logs.accepted(value)
                if given is not None:
                    return given
        return self._ids.new()


async def _answer_500(response: Response) -> None:
    await _answer(response, 500, INTERNAL_ERROR)


def internal_error() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 500 envelope of a request that failed before its answer started."""
    return 500, _envelope_headers(INTERNAL_ERROR, ()), INTERNAL_ERROR


async def _answer(
    response: Response, status: int, body: bytes, extra: tuple[tuple[str, str], ...] = ()
) -> None:
    """An error envelope from this middleware (a refused ``/metrics`` request, a 500)."""
    headers = _envelope_headers(body, extra)
    await response.send({"type": "http.response.start", "status": status, "headers": headers})
    await response.send({"type": "http.response.body", "body": body})


def _envelope_headers(body: bytes, extra: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"cache-control", b"no-store"),
        *((name.encode(), value.encode()) for name, value in extra),
    ]


class Response:
    """The server's ``send`` with the request id added and the status remembered."""

    __slots__ = ("_header", "_send", "started", "status")

    def __init__(self, send: Send, header: tuple[bytes, bytes]) -> None:
        self._send = send
        self._header = header
        self.status = 500  # what the client sees if the app never starts a response
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            message["headers"] = [*message.get("headers", ()), self._header]
        await self._send(message)
