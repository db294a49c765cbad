"""Connections: the listen backlog and Granian's per-worker backpressure come from the
settings (``CMS_PRICING_BACKLOG``, ``CMS_PRICING_BACKPRESSURE``), and a real server holds
more than Granian's old 1,024 connections at once (docs/limits.md, "Connections")."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from cms_pricing.api.server import granian
from cms_pricing.config import Settings
from servers import copy_database, serve

HELD = 1_100  # past Granian's default of 1,024 (backlog 1024 / workers)
HEALTH = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


def test_the_defaults_reach_granian() -> None:
    """By default the backlog is 2,048 and each worker may serve backlog / workers
    connections at once (Granian's own rule)."""
    server = granian(Settings(CMS_PRICING_WORKERS=2))
    assert (server.backlog, server.backpressure, server.workers) == (2048, 1024, 2)


def test_the_settings_reach_granian() -> None:
    """``CMS_PRICING_BACKLOG`` and ``CMS_PRICING_BACKPRESSURE`` are what Granian is given."""
    settings = Settings(
        CMS_PRICING_WORKERS=3, CMS_PRICING_BACKLOG=4096, CMS_PRICING_BACKPRESSURE=300
    )
    server = granian(settings)
    assert (server.backlog, server.backpressure) == (4096, 300)


def _answered(sock: socket.socket) -> bool:
    sock.sendall(HEALTH)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    return data.startswith(b"HTTP/1.1 200")


def _held(port: int, count: int) -> Iterator[bool]:
    """``count`` keep-alive connections opened one after another and all kept open, each
    answering one request."""
    with ExitStack() as stack:
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            yield _answered(sock)


def test_one_worker_serves_more_than_1024_connections_at_once(
    tmp_path: Path, ingested_url: str
) -> None:
    """One worker with the default settings: 1,100 connections open at the same time each
    get their answer (with Granian's defaults the 1,025th was accepted by the kernel and
    never answered)."""
    env = {"DATABASE_URL": copy_database(ingested_url, tmp_path)}
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        port = int(server.base.rsplit(":", 1)[1])
        assert sum(_held(port, HELD)) == HELD
