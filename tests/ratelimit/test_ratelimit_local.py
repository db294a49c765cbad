"""The limiter without Redis: GCRA in memory, on a fake clock, and the header text."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from cms_pricing.service.ratelimit import Decision, Limiter, Rate, headers, lease_size


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_burst_of_q_then_one_unit_every_w_over_q(clock: FakeClock) -> None:
    """6/min: six at once (remaining 5..0, reset 10..60 s), the seventh waits exactly 10 s."""
    limiter = Limiter(None, clock=clock)
    rate = Rate(6, 60)
    burst = [limiter.check("ip:a:read", rate) for _ in range(7)]
    assert burst == [
        Decision(True, 6, 60, 5, 10, 0),
        Decision(True, 6, 60, 4, 20, 0),
        Decision(True, 6, 60, 3, 30, 0),
        Decision(True, 6, 60, 2, 40, 0),
        Decision(True, 6, 60, 1, 50, 0),
        Decision(True, 6, 60, 0, 60, 0),
        Decision(False, 6, 60, 0, 60, 10),
    ]
    clock.now += 4
    assert limiter.check("ip:a:read", rate) == Decision(False, 6, 60, 0, 56, 6)
    clock.now += 6
    assert limiter.check("ip:a:read", rate) == Decision(True, 6, 60, 0, 60, 0)
    clock.now += 35  # 25 s of debt left, 3.5 units free
    assert limiter.check("ip:a:read", rate) == Decision(True, 6, 60, 2, 35, 0)
    clock.now += 600
    assert limiter.check("ip:a:read", rate) == Decision(True, 6, 60, 5, 10, 0)
    assert limiter.check("ip:b:read", rate) == Decision(True, 6, 60, 5, 10, 0)


def test_cost_above_one_and_retry_after_for_that_cost(clock: FakeClock) -> None:
    """10 per 10 s: 4 units leave 6; 7 more are refused until 1 s has refilled one unit."""
    limiter = Limiter(None, clock=clock)
    rate = Rate(10, 10)
    assert limiter.check("key:x:bulk", rate, 4) == Decision(True, 10, 10, 6, 4, 0)
    assert limiter.check("key:x:bulk", rate, 7) == Decision(False, 10, 10, 6, 4, 1)
    assert limiter.check("key:x:bulk", rate, 6) == Decision(True, 10, 10, 0, 10, 0)
    assert limiter.check("key:x:bulk", rate, 3) == Decision(False, 10, 10, 0, 10, 3)
    clock.now += 2.5
    assert limiter.check("key:x:bulk", rate, 3) == Decision(False, 10, 10, 2, 8, 1)


def test_the_spec_example_and_fractional_intervals(clock: FakeClock) -> None:
    """6000/min: one request leaves 5999 and 0.01 s of debt, shown as t=1."""
    limiter = Limiter(None, clock=clock)
    decision = limiter.check("ip:a:read", Rate(6000, 60))
    assert decision == Decision(True, 6000, 60, 5999, 1, 0)
    answers = [limiter.check("ip:b:read", Rate(6000, 60)) for _ in range(6001)]
    assert [d.allowed for d in answers if d is not None] == [True] * 6000 + [False]


def test_spend_charges_past_the_limit(clock: FakeClock) -> None:
    """Lines counted after admission are charged even beyond q: later requests wait them off."""
    limiter = Limiter(None, clock=clock)
    rate = Rate(10, 10)
    assert limiter.check("key:x:bulk", rate).allowed  # type: ignore[union-attr]
    limiter.spend("key:x:bulk", rate, 29)  # 30 units: 20 s past the limit
    assert limiter.check("key:x:bulk", rate) == Decision(False, 10, 10, 0, 30, 21)
    clock.now += 21
    assert limiter.check("key:x:bulk", rate) == Decision(True, 10, 10, 0, 10, 0)


def test_without_redis_each_worker_enforces_the_whole_rate(clock: FakeClock) -> None:
    """``workers`` divides the rate only while Redis is failing (test_ratelimit_degraded):
    with no Redis configured a worker admits q by itself."""
    limiter = Limiter(None, workers=4, clock=clock)
    admitted = [limiter.check("ip:b:read", Rate(100, 60)) for _ in range(120)]
    assert sum(d.allowed for d in admitted if d is not None) == 100


def test_take_without_redis_is_check_and_status_is_local(clock: FakeClock) -> None:
    limiter = Limiter(None, clock=clock)
    decision = asyncio.run(limiter.take("ip:a:read", Rate(6, 60)))
    assert decision == Decision(True, 6, 60, 5, 10, 0)
    assert limiter.status() == "local"
    asyncio.run(limiter.close())


def test_headers_text() -> None:
    """The draft's structured fields: quoted policy name, q/w, r/t; Retry-After on 429 with
    t naming the same moment."""
    assert headers("read", Decision(True, 6000, 60, 5999, 1, 0)) == [
        (b"ratelimit-policy", b'"read";q=6000;w=60'),
        (b"ratelimit", b'"read";r=5999;t=1'),
    ]
    assert headers("plans-write", Decision(False, 600, 60, 0, 60, 3)) == [
        (b"ratelimit-policy", b'"plans-write";q=600;w=60'),
        (b"ratelimit", b'"plans-write";r=0;t=3'),
        (b"retry-after", b"3"),
    ]
    assert headers('a"b\\c', Decision(True, 1, 1, 0, 1, 0))[0] == (
        b"ratelimit-policy",
        b'"a\\"b\\\\c";q=1;w=1',
    )
    with pytest.raises(ValueError, match="structured-field string"):
        headers("lecture\u00e9", Decision(True, 1, 1, 0, 1, 0))


def test_lease_rule() -> None:
    """Small rates lease one unit (exact); larger ones 1% of q, at most what refills in one
    lease period and at most 1000."""
    assert lease_size(Rate(600, 60)) == 1
    assert lease_size(Rate(999, 1)) == 1
    assert lease_size(Rate(6000, 60)) == 60
    assert lease_size(Rate(60000, 60)) == 600
    assert lease_size(Rate(200000, 60)) == 1000
    assert lease_size(Rate(100000, 86400)) == 2


def test_memory_is_bounded_under_many_client_addresses(clock: FakeClock) -> None:
    """50,000 distinct addresses in a 1,000-bucket table: it never holds more than 1,000,
    and a caller deep in debt is not the one forgotten."""
    limiter = Limiter(None, clock=clock, max_buckets=1000)
    rate = Rate(6000, 60)
    while limiter.check("key:heavy:read", rate).allowed:  # type: ignore[union-attr]
        pass
    for n in range(50_000):
        limiter.check(f"ip:10.{n >> 16}.{(n >> 8) & 255}.{n & 255}:read", rate)
        assert limiter.buckets() <= 1000
    assert not limiter.check("key:heavy:read", rate).allowed  # type: ignore[union-attr]


def test_the_documented_bytes_per_bucket(clock: FakeClock) -> None:
    """A full table of 100-character buckets, their text included, stays within the module
    docstring's 260 bytes an entry."""
    limiter = Limiter(None, clock=clock, max_buckets=20_000)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(20_000):
        limiter.check(f"key:{n:012x}:read".ljust(100, "x"), Rate(6000, 60))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert limiter.buckets() == 20_000
    assert used / 20_000 <= 260, used / 20_000
