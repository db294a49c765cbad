"""The ceiling: a raw ASGI app that answers every request with a fixed 400-byte JSON body.

``bench/price_load.py`` serves it with the same server and worker count as the service, in
the same run, so "share of the ceiling" compares like with like on a noisy machine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

BODY = b'{"filler":"' + b"x" * 386 + b'"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]


Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def respond(send: Send, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Send,
) -> None:
    if scope["type"] == "http":
        await respond(send, HEADERS, BODY)
