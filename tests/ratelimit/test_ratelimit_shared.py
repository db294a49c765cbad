"""One limit across instances: two ``Limiter`` objects (two instances) on one Redis, and on
a Redis Cluster, admit q together, not 2q, within the lease tolerance."""

from __future__ import annotations

import asyncio
import math
import time
import uuid

import pytest

from cms_pricing.service.ratelimit import Decision, Limiter, Rate


@pytest.fixture(params=["redis", "cluster"])
def store(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(URL, key prefix): the shared server, or a cluster of the module's own."""
    if request.param == "redis":
        url, prefix = request.getfixturevalue("shared_redis")
        return url, prefix
    return request.getfixturevalue("cluster_url"), f"test-ratelimit:{uuid.uuid4().hex}:"


async def _drain(limiters: list[Limiter], bucket: str, rate: Rate) -> tuple[int, float]:
    """Take one unit at a time, alternating instances, until every instance is refused:
    (units admitted, seconds it took)."""
    admitted, refused, started = 0, set(), time.monotonic()
    while len(refused) < len(limiters) and time.monotonic() - started < 30:
        for n, limiter in enumerate(limiters):
            decision = await limiter.take(bucket, rate)
            admitted += decision.allowed
            if decision.allowed:
                refused.discard(n)
            else:
                refused.add(n)
    return admitted, time.monotonic() - started


async def _shared_limit(url: str, prefix: str, rate: Rate) -> tuple[int, float, list[str]]:
    limiters = [Limiter(url, prefix=prefix, timeout_ms=2000) for _ in range(2)]
    try:
        admitted, seconds = await _drain(limiters, "key:abc:read", rate)
        return admitted, seconds, [limiter.status() for limiter in limiters]
    finally:
        for limiter in limiters:
            await limiter.close()


@pytest.mark.parametrize("rate", [Rate(500, 60), Rate(60000, 60)], ids=str)
def test_two_instances_share_one_limit(store: tuple[str, str], rate: Rate) -> None:
    """500/min leases one unit at a time (exact); 60000/min leases up to 600. Every unit is
    debited in Redis before it is spent, so the pair admits q plus what refilled meanwhile."""
    admitted, seconds, statuses = asyncio.run(_shared_limit(*store, rate))
    refilled = math.ceil(seconds * rate.count / rate.seconds)
    assert rate.count <= admitted <= rate.count + refilled + 1, (admitted, seconds)
    assert statuses == ["redis", "redis"]


def test_first_answer_and_headers_come_from_the_shared_bucket(
    shared_redis: tuple[str, str],
) -> None:
    """The first request leases one unit: remaining and reset are those of the shared
    bucket (6000/min after one request: 5999 left, full again within 1 s)."""

    async def scenario() -> tuple[Decision | None, Decision, Decision | None]:
        limiter = Limiter(shared_redis[0], prefix=shared_redis[1], timeout_ms=2000)
        try:
            before = limiter.check("ip:1.2.3.4:read", Rate(6000, 60))
            first = await limiter.take("ip:1.2.3.4:read", Rate(6000, 60))
            after = limiter.check("ip:1.2.3.4:read", Rate(6000, 60))
            return before, first, after
        finally:
            await limiter.close()

    before, first, after = asyncio.run(scenario())
    assert before is None  # no lease yet: the caller must take()
    assert first == Decision(True, 6000, 60, 5999, 1, 0)
    assert after is None  # the first lease is one unit


def test_unspent_units_go_back_when_a_lease_lapses(shared_redis: tuple[str, str]) -> None:
    """A worker's grown lease lapses (local clock moved on); its next round trip returns the
    unspent units, so the shared bucket is down only by what was admitted."""
    rate = Rate(1_000_000, 86400)  # 11.6 units refill a second: the test sees no refill
    now = [0.0]

    async def scenario() -> Decision:
        limiter = Limiter(
            shared_redis[0],
            prefix=shared_redis[1],
            clock=lambda: now[0],
            lease_seconds=1000,
            timeout_ms=2000,
        )
        try:
            for _ in range(2000):
                assert (await limiter.take("key:k:read", rate)).allowed
            now[0] += 1001
            return await limiter.take("key:k:read", rate)
        finally:
            await limiter.close()

    started = time.monotonic()
    decision = asyncio.run(scenario())
    refilled = math.ceil((time.monotonic() - started) * rate.count / rate.seconds)
    assert decision.allowed
    assert rate.count - 2001 <= decision.remaining <= rate.count - 2001 + refilled


def test_lease_table_is_bounded(shared_redis: tuple[str, str]) -> None:
    """Leases on 600 buckets in a 100-bucket table: never more than 100 held."""

    async def scenario() -> list[int]:
        limiter = Limiter(shared_redis[0], prefix=shared_redis[1], max_buckets=100)
        sizes = []
        try:
            for n in range(600):
                await limiter.take(f"ip:10.0.{n >> 8}.{n & 255}:read", Rate(6000, 60))
                sizes.append(limiter.buckets())
        finally:
            await limiter.close()
        return sizes

    assert max(asyncio.run(scenario())) <= 100


def test_spend_reaches_the_shared_bucket(shared_redis: tuple[str, str]) -> None:
    """Units spent past the lease (bulk lines after admission) are debited on the bucket's
        next round trip: 10/min, one request then 20 lines is 126 s of debt, 72 s to wait, for
    every instance."""

    async def scenario() -> list[Decision]:
        limiter = Limiter(shared_redis[0], prefix=shared_redis[1], timeout_ms=2000)
        other = Limiter(shared_redis[0], prefix=shared_redis[1], timeout_ms=2000)
        try:
            first = await limiter.take("key:b:bulk", Rate(10, 60))
            limiter.spend("key:b:bulk", Rate(10, 60), 20)
            settled = await limiter.take("key:b:bulk", Rate(10, 60))
            return [first, settled, await other.take("key:b:bulk", Rate(10, 60))]
        finally:
            await limiter.close()
            await other.close()

    assert asyncio.run(scenario()) == [
        Decision(True, 10, 60, 9, 6, 0),
        Decision(False, 10, 60, 0, 126, 72),
        Decision(False, 10, 60, 0, 126, 72),
    ]
