"""The hot path: snapshot-backed GET endpoints answered straight from ASGI.

A FastAPI request costs more than the whole pricing computation (see docs/performance.md),
so ``FastPath`` sits in front of the FastAPI app and answers the read endpoints itself,
calling the same handler functions the documented routes call. Everything else (docs,
OpenAPI, unknown paths, other methods, lifespan) goes to FastAPI unchanged.

Answers of cacheable routes are kept as ready-to-send bytes in the loaded bundle's
``ResponseCache``, keyed by path and raw query string.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cms_pricing.api import handlers
from cms_pricing.api.handlers import Handler
from cms_pricing.api.state import Reply, ServiceState
from cms_pricing.errors import NotReady

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# path -> (handler, answers may be cached for the life of the snapshot)
EXACT: dict[str, tuple[Handler, bool]] = {
    "/codes/price": (handlers.price, True),
    "/releases": (handlers.releases, True),
    "/reference/localities": (handlers.localities, True),
    "/health": (handlers.health, False),
    "/ready": (handlers.ready, False),
}
# path prefix -> handler taking the rest of the path as its argument
PREFIXED: tuple[tuple[str, Handler], ...] = (("/reference/codes/", handlers.code_reference),)

JSON_HEADERS = [(b"content-type", b"application/json")]


def route(path: str) -> tuple[Handler, bool, str] | None:
    exact = EXACT.get(path)
    if exact is not None:
        return exact[0], exact[1], ""
    for prefix, handler in PREFIXED:
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return handler, True, path[len(prefix) :]
    return None


def answer(state: ServiceState, path: str, query: bytes) -> Reply | None:
    """The reply for a GET, or None when the fast path does not serve ``path``."""
    found = route(path)
    if found is None:
        return None
    handler, cacheable, arg = found
    if not cacheable:
        return handler(state, query.decode("latin-1"), arg)
    try:
        cache = state.loaded.cache
    except NotReady:
        return handler(state, query.decode("latin-1"), arg)
    key = path.encode() + b"?" + query
    reply = cache.get(key)
    if reply is None:
        reply = handler(state, query.decode("latin-1"), arg)
        cache.put(key, reply)
    return reply


class FastPath:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            reply = answer(self.state, scope["path"], scope["query_string"])
            if reply is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": reply.status,
                        "headers": [
                            *JSON_HEADERS,
                            (b"content-length", str(len(reply.body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": reply.body})
                return
        await self.app(scope, receive, send)
