"""Run the HTTP server: Granian (Rust HTTP/1.1 front end) with one process per worker.

Granian was measured against uvicorn+httptools+uvloop on this 2-core machine with the same
raw ASGI app (docs/performance.md): about 52,000 vs 44,000 requests/s, so it is the default.
Any ASGI server can run ``cms_pricing.api.asgi:build`` (a factory) instead.

Shutdown contract (docs/scaling.md): on SIGTERM or SIGINT Granian's main process closes the
listening socket (new connections are refused), sends SIGTERM to every worker, which
finishes the requests it has in flight and runs the lifespan shutdown, and exits 0. A worker
still busy after ``CMS_PRICING_DRAIN_SECONDS`` is killed (the exit code is then 1), so a
stop is always bounded.

HTTP/1 limits Granian applies before the app sees a request (docs/limits.md, measured on
Granian 2.8): a request head (request line and headers) that fills ``HEAD_BUFFER_BYTES``
before it ends is ``431`` with an empty body; more than 100 header lines is ``431``; a
request target over 65,534 bytes is ``414``; a malformed request line, header or
``Content-Length`` is ``400``; a head not complete within ``CMS_PRICING_BODY_TIMEOUT_SECONDS``
closes the connection without an answer. Everything up to the service's own limits
(``api/limits.py``: 8 KiB query) reaches the app and is answered in the JSON envelope.

Connections (docs/limits.md): the listening socket queues up to ``CMS_PRICING_BACKLOG``
connections not yet accepted (the kernel caps it at ``net.core.somaxconn``), and each worker
serves at most ``CMS_PRICING_BACKPRESSURE`` at once (Granian's default: backlog / workers);
a connection past that is accepted by the kernel but not answered until one ends.

Start-up (docs/performance.md, "Start-up"): the app's modules are imported here, in the
main process, before Granian forks the workers, so a worker starts with them imported
(Granian's ``load_target`` finds them in ``sys.modules``) and only builds the app. The
objects they made are frozen out of the collector's sight (``gc.freeze``, as the ``gc``
documentation advises before ``fork``), so a worker's collections neither walk them nor
copy their pages.
"""

from __future__ import annotations

import gc
import os
import shutil

from granian import Granian
from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.server import MPServer, MTServer

from cms_pricing.api import asgi
from cms_pricing.config import Settings
from cms_pricing.observability import shared
from cms_pricing.observability.exposition import metrics_directory

# Above hyper's 65,534-byte request-target limit, so an over-long URI is a 414 rather than a
# 431, and a quarter of Granian's default (408 KiB), so an idle half-sent head holds less.
HEAD_BUFFER_BYTES = 128 * 1024
# What each worker calls to build the app; its module is imported above, before the fork.
TARGET = f"{asgi.__name__}:{asgi.build.__name__}"


def http1_settings(settings: Settings) -> HTTP1Settings:
    return HTTP1Settings(
        header_read_timeout=round(settings.body_timeout_s * 1000),
        max_buffer_size=HEAD_BUFFER_BYTES,
    )


def run(settings: Settings) -> None:
    # Workers merge their metrics through this folder: empty at start, removed at exit.
    folder = metrics_directory(settings)
    if settings.metrics_enabled:
        shared.prepare(folder, os.getpid())
    try:
        _serve(settings)
    finally:
        if settings.metrics_enabled:
            shutil.rmtree(folder, ignore_errors=True)


def granian(settings: Settings) -> MPServer | MTServer:
    """The server as configured, not started (``Granian`` is one of the two classes)."""
    return Granian(
        TARGET,
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.drain_seconds,
        backlog=settings.backlog,
        backpressure=settings.backpressure,
        http1_settings=http1_settings(settings),
    )


def _serve(settings: Settings) -> None:
    server = granian(settings)
    # ``cms-pricing serve`` imported everything with the collector off (cli.py).
    gc.freeze()
    gc.enable()
    server.serve()
