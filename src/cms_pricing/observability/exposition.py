"""``GET /metrics`` and the worker's part of the cross-process store.

In a server started by ``cms-pricing serve`` (the metrics folder is owned by this process's
parent, see ``observability.shared``) each worker flushes its registry to the folder every
``CMS_PRICING_METRICS_FLUSH_SECONDS`` from the ASGI lifespan, and the worker answering a
scrape flushes, then merges every worker's file. Anywhere else (tests, one process) a
scrape reads this process's registry directly.

The body is the Prometheus text format 0.0.4; any method but GET or HEAD is a 405 envelope.
Rendering (sampling, a database query, file reads) runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric

from cms_pricing.config import Settings
from cms_pricing.errors import envelope
from cms_pricing.observability import metrics, shared
from cms_pricing.observability.recorder import Recorder
from cms_pricing.observability.samplers import ProcessSampler, ServiceSampler, sample_database
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service.state import ServiceState

log = logging.getLogger(__name__)
NOT_ALLOWED = envelope("method_not_allowed", "GET /metrics only")


def metrics_directory(settings: Settings) -> Path:
    """Where the workers of the server on ``settings.port`` keep their snapshots."""
    if settings.metrics_dir is not None:
        return settings.metrics_dir
    return Path(tempfile.gettempdir()) / f"cms-pricing-metrics-{settings.port}"


class Families:
    """Already collected metric families, in the shape ``generate_latest`` reads."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> list[Metric]:
        return self._families


class Exporter:
    def __init__(self, settings: Settings, state: ServiceState, recorder: Recorder) -> None:
        self.directory = metrics_directory(settings)
        self.flush_seconds = settings.metrics_flush_seconds
        self.state = state
        self.recorder = recorder
        self.shared = False
        self._scrapes = 0  # scrapes in progress, left out of api_active_connections
        self._process = ProcessSampler()
        self._service = ServiceSampler(state)
        self._flusher: asyncio.Task[None] | None = None
        self._lock = threading.Lock()  # the flush timer (event loop) vs a scrape (a thread)

    # -- lifespan: start and stop flushing -------------------------------------------------

    async def lifespan(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def on_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.stop()
            return message

        async def on_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.start()
            await send(message)

        await app(scope, on_receive, on_send)

    def start(self) -> None:
        self.shared = shared.owned_by(self.directory, os.getppid())
        if self.shared and self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self.shared:
            self.flush(final=True)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                self.flush(final=False)
            except Exception:  # a full disk must not stop later flushes or the worker
                log.exception("metrics: flushing this worker's snapshot failed")

    def flush(self, final: bool) -> None:
        with self._lock:
            self._sample()
            families = shared.snapshot(metrics.REGISTRY)
            shared.write(self.directory, os.getpid(), families, final)

    def _sample(self) -> None:
        metrics.ACTIVE.set(self.recorder.active - self._scrapes)
        self._process.sample()
        self._service.sample()

    # -- scrape ----------------------------------------------------------------------------

    async def respond(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _send(send, 405, NOT_ALLOWED, b"application/json")
            return
        self._scrapes += 1
        try:
            body = await asyncio.to_thread(self.render)
        finally:
            self._scrapes -= 1
        content = body if scope["method"] == "GET" else b""
        await _send(send, 200, content, CONTENT_TYPE_PLAIN_0_0_4.encode(), len(body))

    def render(self) -> bytes:
        sample_database(self.state.engine)
        if not self.shared:
            with self._lock:
                self._sample()
            return generate_latest(metrics.REGISTRY)
        self.flush(final=False)
        return generate_latest(Families(shared.merge(shared.read_all(self.directory))))


async def _send(
    send: Send, status: int, body: bytes, content_type: bytes, length: int | None = None
) -> None:
    size = len(body) if length is None else length
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % size)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
