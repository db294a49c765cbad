"""Redis failing under load: decisions keep coming from per-worker limits, ``status()`` says
``degraded``, and the shared limit returns when Redis does. The Redis killed here is one the
test started itself; a silent one is a socket that accepts and never answers."""

from __future__ import annotations

import asyncio
import socket
import time

from redis_nodes import RedisNode

from cms_pricing.service.ratelimit import Limiter, Rate

RATE = Rate(100, 60)  # leases one unit: every take() is a round trip while Redis is up


async def _admitted(limiter: Limiter, bucket: str, tries: int) -> int:
    return sum([(await limiter.take(bucket, RATE)).allowed for _ in range(tries)])


def test_redis_dying_mid_load_and_coming_back(own_redis: RedisNode) -> None:
    async def scenario() -> None:
        limiter = Limiter(own_redis.url, workers=4, backoff_seconds=0.3, timeout_ms=500)
        try:
            assert await _admitted(limiter, "key:a:read", 10) == 10
            assert limiter.status() == "redis"
            own_redis.kill()
            # The first failure answers at once from the worker's share: 100 / 4 = 25.
            assert await _admitted(limiter, "key:b:read", 40) == 25
            assert limiter.status() == "degraded"
            own_redis.start()  # empty: the shared buckets start full again
            deadline = time.monotonic() + 10
            while limiter.status() != "redis" and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                await limiter.take("key:c:read", RATE)
            assert limiter.status() == "redis"
            assert await _admitted(limiter, "key:d:read", 120) == 100
        finally:
            await limiter.close()

    asyncio.run(scenario())


def test_a_silent_redis_costs_one_timeout_then_answers_locally() -> None:
    """A server that accepts and never replies: the request that meets it waits the timeout
    (50 ms), the next ones do not wait at all while the back-off lasts."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"

        async def scenario() -> tuple[float, float, str]:
            limiter = Limiter(url, workers=2, timeout_ms=50, backoff_seconds=30)
            try:
                started = time.monotonic()
                first = await limiter.take("ip:a:read", RATE)
                middle = time.monotonic()
                rest = [await limiter.take("ip:a:read", RATE) for _ in range(60)]
                finished = time.monotonic()
                assert first.allowed
                assert sum(d.allowed for d in rest) == 49  # 50 per worker, one already spent
                return middle - started, finished - middle, limiter.status()
            finally:
                await limiter.close()

        first, rest, status = asyncio.run(scenario())
    assert first < 1.0
    assert rest < 0.1
    assert status == "degraded"
