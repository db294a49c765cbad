"""The express lane: the fast path's GETs through every layer's rules in one call.

``create_app`` stacks five ASGI layers (security headers, request ids and metrics, the
boundary, the limits, the fast path). Each wraps ``send`` in a coroutine of its own, so a
computed answer paid about 10 us of its 40 us in the layers alone (docs/performance.md,
issue 14). ``Express`` sits outside the stack and answers a ``GET`` of one of the fast
path's plain routes (``boundary.FAST_PATHS``: ``/codes/price``, ``/reference/localities``,
``/releases``, ...) itself, applying what each layer would, in the order they would:

1. the request id (the caller's ``X-Request-ID`` when valid, else a new one) and the request
   metrics (``observability.middleware.Instrumented``);
2. the caller's key, scope and rate limit (``Access.admit``, as the boundary calls it);
3. the query and path length (``api/limits.py``: 414);
4. the answer through the caches (``fastpath.Answerer``) and ``If-None-Match``
   (``fastpath.respond``);
5. the security and rate-limit headers (``headers.secured``).

Every other request (HEAD, OPTIONS, other methods, other paths, ``/metrics``, lifespan)
goes to the stack. The helpers above are the layers' own, so a rule lives in one place; a
test (``tests/api/test_express.py``) checks that both give the same status, headers and body
for every request of a distinct mix and for the refusals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from cms_pricing.api.boundary import FAST_PATHS, refusal
from cms_pricing.api.endpoints import Endpoint
from cms_pricing.api.fastpath import Answerer, respond
from cms_pricing.api.headers import EXTRA, secured
from cms_pricing.api.limits import uri_too_long
from cms_pricing.errors import PricingError
from cms_pricing.observability import logs
from cms_pricing.observability.middleware import HEADER, Instrumented, internal_error
from cms_pricing.protocol import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

Parts = tuple[int, list[tuple[bytes, bytes]], bytes]


class Express:
    """``stack`` with its fast-path GETs answered in one call (module docstring)."""

    def __init__(
        self,
        stack: ASGIApp,
        observed: Instrumented,
        answerer: Answerer,
        admit: Any,
        max_query: int,
    ) -> None:
        self.stack = stack
        self._observed = observed
        self._answerer = answerer
        self._admit = admit  # Access.admit, or None
        self._max_query = max_query

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stack, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            endpoint = FAST_PATHS.get(scope["path"])
            if endpoint is not None:
                await self._get(endpoint, scope, send)
                return
        await self.stack(scope, receive, send)

    async def _get(self, endpoint: Endpoint, scope: Scope, send: Send) -> None:
        request_id = self._observed.request_id(scope["headers"])
        token = logs.REQUEST_ID.set(request_id)
        recorder = self._observed.recorder
        started = time.perf_counter()
        if recorder is not None:
            recorder.begin()
        status = 500
        try:
            try:
                status, headers, body = await self._answer(endpoint, scope)
            except Exception:
                log.exception("unexpected error")
                status, headers, body = internal_error()
            headers.append((HEADER, request_id.encode()))
            start = {"type": "http.response.start", "status": status}
            start["headers"] = secured(headers, scope.get(EXTRA))
            await send(start)
            await send({"type": "http.response.body", "body": body})
        finally:
            if recorder is not None:
                recorder.end("GET", scope["path"], status, time.perf_counter() - started)
            logs.REQUEST_ID.reset(token)

    async def _answer(self, endpoint: Endpoint, scope: Scope) -> Parts:
        if self._admit is not None:
            try:
                await self._admit(scope, endpoint)
            except PricingError as exc:
                return refusal(exc)
        query = scope["query_string"]
        limit = self._max_query
        if len(query) > limit or len(scope["path"]) > limit:
            return refusal(uri_too_long(limit))
        entry, layer = await self._answerer.answer(endpoint, "", query)
        return respond(scope, entry, layer)
