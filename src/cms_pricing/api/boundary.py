"""The one error boundary, and the HTTP rules every endpoint shares.

Handlers raise; this module turns every error into the one JSON envelope
(``errors.envelope``) with its status and headers (``Allow``, ``Retry-After``):

- ``Boundary(app)``, the ASGI layer in front of the fast path and FastAPI, applies the
  endpoint table (``api/endpoints.py``) before anything else runs: a path no endpoint has is
  404; ``OPTIONS`` is 204 with ``Allow``; a method the path does not take is 405 with
  ``Allow``; ``HEAD`` is answered as ``GET`` without the body; then ``Access.admit``
  (``api/access.py``; the fast path's GETs too) identifies the caller, checks the endpoint's
  scope and takes from its rate limit (401, 403, 429); for the routes FastAPI serves,
  unknown or repeated query parameters are 400 (``service.queries.read``) and a body whose
  content type the endpoint does not take (or that has none) is 415; a bulk request takes
  its admission budget here, before anything reads its body (503 ``overloaded`` when the
  budget is full). A ``PricingError``
  raised below it before the response started becomes its envelope here.
- ``install(app)`` gives FastAPI the same rendering: ``PricingError`` -> its envelope, a
  body that fails its model -> 400 naming the field (``lines.3.units``), the database not
  answering -> 503 ``database_unavailable`` with ``Retry-After``, a client that went away
  -> 499 (recorded, never a 5xx), anything else -> 500 ``internal_error`` (logged with its
  trace; no trace or SQL in the body).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from cms_pricing.api.access import Access
from cms_pricing.api.endpoints import ENDPOINTS
from cms_pricing.errors import (
    INTERNAL_ERROR,
    BadRequest,
    ClientClosed,
    DatabaseUnavailable,
    MethodNotAllowed,
    NotFound,
    PricingError,
    UnsupportedMediaType,
    echo,
)
from cms_pricing.observability.routes import RouteTable
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service import queries

log = logging.getLogger(__name__)

NO_STORE = (b"cache-control", b"no-store")
JSON = (b"content-type", b"application/json")

TABLE = RouteTable((e.method, e.path, e.sla) for e in ENDPOINTS)
BY_ROUTE = {(e.method, e.path): e for e in ENDPOINTS}
FAST = frozenset((e.method, e.path) for e in ENDPOINTS if e.parse is not None)
FAST_PATHS = {e.path: e for e in ENDPOINTS if e.parse is not None and "{" not in e.path}


def allowed(template: str) -> str:
    methods = set(TABLE.methods[template])
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods | {"OPTIONS"}))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _check_body(scope: Scope, bodies: tuple[str, ...]) -> None:
    given = _header(scope, b"content-type")
    kind = (given or "").split(";", maxsplit=1)[0].strip().lower()
    if kind not in bodies:
        raise UnsupportedMediaType(
            f"content type {echo(given or '(none)')}: send {' or '.join(bodies)}",
            field="content-type",
        )


Admit = Callable[[Any], AbstractContextManager[None]]
# Bulk bodies are up to 4 MiB: their budget is taken here, before the limits layer reads the
# body, so a refusal reads nothing. Plan and compare bodies are small, and their budget is
# taken in the route only when the answer is not cached (api/plans.py).
BEFORE_BODY = frozenset({"bulk"})


def _no_admission(_kind: Any) -> AbstractContextManager[None]:
    return nullcontext()


class Boundary:
    """The endpoint table's rules in front of ``app`` (module docstring)."""

    def __init__(
        self, app: ASGIApp, admit: Admit = _no_admission, access: Access | None = None
    ) -> None:
        self.app = app
        self.admit = admit
        self.access = access

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET":
            fast = FAST_PATHS.get(scope["path"])
            if fast is not None:
                # The hot path: the fast path answers every error of these itself.
                if self.access is not None:
                    try:
                        await self.access.admit(scope, fast)
                    except PricingError as exc:
                        await answer(send, exc)
                        return
                await self.app(scope, receive, send)
                return
        sent = Sent(send)
        try:
            await self._route(scope, receive, sent)
        except PricingError as exc:
            if sent.started:
                raise
            await answer(sent, exc)

    async def _route(self, scope: Scope, receive: Receive, send: Sent) -> None:
        method, path = scope["method"], scope["path"]
        template = TABLE.template(path)
        if template not in TABLE.methods:
            raise NotFound("no such endpoint", path=path[:200])
        if method == "OPTIONS":
            await _options(send, allowed(template))
            return
        if method == "HEAD" and ("GET", template) in BY_ROUTE:
            scope = {**scope, "method": "GET"}
            send = Sent(_without_body(send))
            method = "GET"
        endpoint = BY_ROUTE.get((method, template))
        if endpoint is None:
            raise MethodNotAllowed(
                f"{method[:16]} is not allowed on {template}", allow=allowed(template)
            )
        if self.access is not None:
            await self.access.admit(scope, endpoint)
        if (method, template) not in FAST:
            queries.read(scope["query_string"].decode("latin-1"), endpoint.query_names)
            if endpoint.bodies:
                _check_body(scope, endpoint.bodies)
        if endpoint.admission in BEFORE_BODY:
            with self.admit(endpoint.admission):  # Overloaded (503) at once when full
                await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Sent:
    """``send`` that remembers whether the response has started."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _without_body(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return sending


async def _options(send: Send, allow: str) -> None:
    headers = [(b"allow", allow.encode()), NO_STORE]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def refusal(exc: PricingError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body of ``exc``'s envelope."""
    body = exc.body()
    headers = [JSON, (b"content-length", b"%d" % len(body)), NO_STORE]
    headers.extend((name.encode(), value.encode()) for name, value in exc.headers)
    return exc.status_code, headers, body


async def answer(send: Send, exc: PricingError) -> None:
    """Send ``exc`` as the envelope, from ASGI."""
    status, headers, body = refusal(exc)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- FastAPI ---------------------------------------------------------------------------------


def response(exc: PricingError) -> Response:
    """``exc`` as a FastAPI response."""
    headers = {"cache-control": "no-store", **dict(exc.headers)}
    return Response(exc.body(), exc.status_code, headers, media_type="application/json")


def _validation(exc: RequestValidationError) -> BadRequest:
    problems = exc.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid"}
    where = [str(p) for p in first.get("loc", ())]
    if where and where[0] in ("body", "query", "header", "path"):
        where = where[1:]
    field = ".".join(where)[:200] or "body"
    message = str(first.get("msg", "invalid"))[:200]
    return BadRequest(f"invalid {field}: {message}", field=field)


def install(app: FastAPI) -> None:
    """FastAPI's exception handlers, all rendering through ``response``."""

    @app.exception_handler(PricingError)
    async def pricing(_request: Request, exc: PricingError) -> Response:
        return response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        return response(_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return response(NotFound("no such endpoint"))
        error = PricingError(str(exc.detail)[:200])
        error.status_code, error.code = exc.status_code, "http_error"
        return response(error)

    @app.exception_handler(ClientDisconnect)
    async def gone(_request: Request, _exc: ClientDisconnect) -> Response:
        return response(ClientClosed("the client closed the connection before the body ended"))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database(_request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return response(DatabaseUnavailable("the database did not answer; retry shortly"))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return Response(
            INTERNAL_ERROR, 500, {"cache-control": "no-store"}, media_type="application/json"
        )
