"""A raw ASGI app that costs a set amount of Python CPU per request: the ceiling's cost curve.

``bench/distinct_mix.py --burn 10,20,...`` serves it next to the ceiling and the service, in
the same run, once per amount. Each request busy-waits ``BURN_US`` microseconds on the event
loop, then answers with a body the size of a ``/codes/price`` answer (``BODY_BYTES``, 1,376 by
default) and as many headers as the service sends. The share of the ceiling each amount
reaches says how much Python time per request a target share leaves: the service's own share
read against this curve is what it costs per request under load, server included.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from raw_asgi import Send, respond

BURN_S = float(os.environ.get("BURN_US", "0")) / 1e6
SIZE = int(os.environ.get("BODY_BYTES", "1376"))
BODY = b'{"filler":"' + b"x" * (SIZE - 14) + b'"}'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", b"%d" % len(BODY)),
    (b"cache-control", b"public, max-age=900"),
    (b"etag", b'"4e48ff8082123a3da45db586"'),
    (b"x-cache", b"miss"),
    (b"x-request-id", b"2fe284e9f383-1"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
clock = time.perf_counter


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Send,
) -> None:
    if scope["type"] != "http":
        return
    end = clock() + BURN_S
    while clock() < end:
        pass
    await respond(send, HEADERS, BODY)
