"""Security headers on every HTTP response, whichever layer answers.

``SecurityHeaders(app)`` is the outermost ASGI wrapper (``create_app``), so the fast path,
FastAPI, the error envelopes, ``/metrics``, the middleware's 500 and every ``304`` pass
through it. Each ``http.response.start`` gets:

| header | value |
|---|---|
| ``X-Content-Type-Options`` | ``nosniff`` |
| ``Referrer-Policy`` | ``no-referrer`` |
| ``Content-Security-Policy`` | ``default-src 'none'; frame-ancestors 'none'`` |

The rate-limit headers the access check left in ``scope[EXTRA]`` (``api/access.py``:
``RateLimit-Policy``, ``RateLimit``) are added to the answer of that request too.

The policy is added only when the response has none: JSON, CSV and text answers load
nothing, so nothing is allowed; the docs pages (``api.docs``) send their own, naming what
Swagger UI and ReDoc load from 'self'. Answers the server writes itself, for requests it
refuses before the app (Granian's 414, 431, 400 on a bad request line), never reach ASGI
and carry none of these.

The wrapper reads every other attribute (``app``, ``state``) from the app it wraps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send

CSP = b"content-security-policy"
EXTRA = "cms.headers"  # api/access.py: headers an inner layer adds to this request's answer
DEFAULT_POLICY = b"default-src 'none'; frame-ancestors 'none'"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
WITH_POLICY = (*ALWAYS, (CSP, DEFAULT_POLICY))


def secured(
    headers: Sequence[tuple[bytes, bytes]], extra: Sequence[tuple[bytes, bytes]] | None = None
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers (a policy already given is kept) and ``extra``."""
    added: tuple[tuple[bytes, bytes], ...] = WITH_POLICY
    for name, _value in headers:  # a loop: any() over a generator cost twice as much
        if name == CSP:
            added = ALWAYS
            break
    return [*headers, *added, *extra] if extra else [*headers, *added]


class SecurityHeaders:
    def __init__(self, inner: ASGIApp) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(message.get("headers", ()), scope.get(EXTRA))
            await send(message)

        await self._inner(scope, receive, sending)
