"""The service as the regression gate serves it, with an optional slowdown for the gate's trial.

``build()`` returns the product's app (``cms_pricing.api.asgi:build``) unchanged, unless
``GATE_PRICE_DELAY_US`` is a positive number of microseconds: then every ``GET /codes/price``
first burns that much CPU on the event loop, as a slower pricing path would. The variable is
read here only, in a bench-side wrapper; the product carries no test hook. ``bench/gate.py``
serves this factory for the baseline, the check and the trial alike, so the only difference
between them is the delay.
"""

from __future__ import annotations

import os
import time

from cms_pricing.api.asgi import build as build_service
from cms_pricing.protocol import ASGIApp, Receive, Scope, Send

DELAY_ENV = "GATE_PRICE_DELAY_US"


def burn(seconds: float) -> None:
    """Busy-wait: a CPU cost like slower code, not a sleep that other requests could overlap."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class Delayed:
    """Wraps an ASGI app; ``GET /codes/price`` costs ``delay_us`` more CPU."""

    def __init__(self, app: ASGIApp, delay_us: float) -> None:
        self.app = app
        self.delay = delay_us / 1e6

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/codes/price":
            burn(self.delay)
        await self.app(scope, receive, send)


def build() -> ASGIApp:
    app = build_service()
    delay_us = float(os.environ.get(DELAY_ENV, "0"))
    return Delayed(app, delay_us) if delay_us > 0 else app
