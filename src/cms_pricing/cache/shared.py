"""The shared layer: Redis, optional, and never a reason for a request to fail.

``RedisSharedCache`` wraps ``redis.asyncio`` with a short timeout
(``CMS_PRICING_REDIS_TIMEOUT_MS``). The first failure, of a request or of the ping every
2 s, marks it *degraded* and logs once; while degraded every call returns at once (a miss,
a skipped write) and a background task pings Redis every second until it answers, then
logs the recovery once. ``NullSharedCache``
stands in when ``REDIS_URL`` is not set, so callers never branch on configuration.

Values are the answer framed compactly: ``status`` and ``etag`` on a first line, then the
body, zlib-compressed when that saves more than it costs (bodies over 2 KiB).
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Protocol

from redis.exceptions import RedisError

from cms_pricing.cache.clients import async_client

log = logging.getLogger(__name__)

FAULTS = (RedisError, OSError, asyncio.TimeoutError)
_COMPRESS_OVER = 2048


def pack(status: int, etag: bytes | None, body: bytes) -> bytes:
    compressed = len(body) > _COMPRESS_OVER
    payload = zlib.compress(body, 1) if compressed else body
    head = b"%d %s %s\n" % (status, b"z" if compressed else b"-", etag or b"-")
    return head + payload


def unpack(value: bytes) -> tuple[int, bytes | None, bytes]:
    head, _, payload = value.partition(b"\n")
    status, mode, etag = head.split(b" ", 2)
    body = zlib.decompress(payload) if mode == b"z" else payload
    return int(status), (None if etag == b"-" else etag), body


class SharedCache(Protocol):
    @property
    def state(self) -> str: ...  # "ok", "degraded" or "disabled"

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: int) -> None: ...

    async def close(self) -> None: ...

    async def watch(self) -> None: ...


class NullSharedCache:
    """No Redis configured: every lookup misses, every write is dropped."""

    state = "disabled"

    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        return None

    async def close(self) -> None:
        return None

    async def watch(self) -> None:
        return None


class RedisSharedCache:
    def __init__(self, url: str, timeout_ms: int) -> None:
        seconds = timeout_ms / 1000
        self._client = async_client(url, socket_timeout=seconds, socket_connect_timeout=seconds)
        self._healthy = True
        self._reconnect: asyncio.Task[None] | None = None

    @property
    def state(self) -> str:
        return "ok" if self._healthy else "degraded"

    async def get(self, key: str) -> bytes | None:
        if not self._healthy:
            return None
        try:
            value = await self._client.get(key)
        except FAULTS as exc:
            self._fault(exc)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        if not self._healthy or ttl <= 0:
            return
        try:
            await self._client.set(key, value, ex=ttl)
        except FAULTS as exc:
            self._fault(exc)

    async def close(self) -> None:
        if self._reconnect is not None:
            self._reconnect.cancel()
        await self._client.aclose()

    async def watch(self, interval: float = 2.0) -> None:
        """Ping Redis now and then, so a fault shows on /ready even when no request needed
        Redis (answers served from the local layer never touch it)."""
        while True:
            await asyncio.sleep(interval)
            if not self._healthy:
                continue
            try:
                await self._client.ping()
            except FAULTS as exc:
                self._fault(exc)

    def _fault(self, exc: BaseException) -> None:
        if not self._healthy:
            return
        self._healthy = False
        log.warning("redis unavailable, serving from local layers: %r", exc)
        self._reconnect = asyncio.get_running_loop().create_task(self._wait_for_redis())

    async def _wait_for_redis(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._client.ping()
            except FAULTS:
                continue
            self._healthy = True
            log.warning("redis is back; shared cache resumed")
            return


def shared_cache(url: str | None, timeout_ms: int) -> SharedCache:
    return RedisSharedCache(url, timeout_ms) if url else NullSharedCache()
