"""The rate limiter's hot path, in process: what one ``Limiter.check()`` costs.

    .venv/bin/python bench/ratelimit_cost.py [--calls N] [--rounds N] [--redis URL]

Times ``check()`` on its hit path (every call answered from the worker's own state) against a
baseline loop that calls a no-op with the same arguments, in alternating rounds (which goes
first alternates), and prints microseconds per call for each, the difference (the limiter's
own cost) and the ratio, best round of each:

- ``local``: no Redis, GCRA in memory, on one bucket and cycling over 10,000 buckets (the
  hard case: every call a different dictionary entry);
- ``leased``: Redis configured, spending units this worker leased (1000 a lease once grown),
  on one bucket and cycling over 100; the round trips that refill the leases happen between
  timed chunks and are not counted (they are 1 in 1000 calls at most).

The last column puts the difference against 21.8 us, the Python time a request may take at
60% of the server's ceiling (docs/performance.md): the limiter's share of a request. Needs
the Redis at ``--redis`` (default ``redis://127.0.0.1:6379/8``; keys under a fresh prefix,
deleted afterwards). docs/auth.md records the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable

import redis

from cms_pricing.service.ratelimit import Decision, Limiter, Rate

REQUEST_US = 21.8
RATE = Rate(1_000_000_000, 60)  # never refuses within a run: every call is a hit
LEASE = 1000
Check = Callable[[str, Rate], Decision | None]


def _noop(_bucket: str, _rate: Rate) -> Decision | None:
    return None


def _loop(check: Check, buckets: list[str]) -> float:
    start = time.perf_counter()
    for bucket in buckets:
        check(bucket, RATE)
    return time.perf_counter() - start


class Rounds:
    """Best seconds of each side over alternating rounds."""

    def __init__(self) -> None:
        self.best = {"baseline": float("inf"), "check": float("inf")}

    def run(self, round_no: int, check: Check, buckets: list[str]) -> None:
        sides = [("baseline", _noop), ("check", check)]
        for name, function in sides if round_no % 2 == 0 else sides[::-1]:
            self.best[name] = min(self.best[name], _loop(function, buckets))

    def report(self, label: str, calls: int) -> None:
        base, check = (self.best[name] / calls * 1e6 for name in ("baseline", "check"))
        print(f"{label:<28} baseline {base:6.3f} us  check {check:6.3f} us  "
              f"limiter {check - base:6.3f} us  ratio {check / base:5.2f}  "
              f"{(check - base) / REQUEST_US:6.1%} of a request")  # fmt: skip


def local(calls: int, rounds: int, spread: int) -> None:
    limiter = Limiter(None)
    names = [f"ip:10.0.{n >> 8}.{n & 255}:read" for n in range(spread)]
    buckets = (names * (calls // spread + 1))[:calls]
    timing = Rounds()
    for round_no in range(rounds):
        timing.run(round_no, limiter.check, buckets)
    timing.report(f"local, {spread} bucket(s)", len(buckets))


async def leased(url: str, calls: int, rounds: int, spread: int) -> None:
    prefix = f"bench-ratelimit:{uuid.uuid4().hex}:"
    limiter = Limiter(url, prefix=prefix, lease_seconds=3600, timeout_ms=2000)
    names = [f"key:{n:012x}:read" for n in range(spread)]
    chunk = names * (LEASE - 1)  # what one full lease per bucket covers
    try:
        for _ in range(12):  # grow every bucket's lease to its full size
            await _refill(limiter, names)
        timing, timed = Rounds(), 0
        for round_no in range(rounds):
            timed = 0
            while timed < calls:
                await _refill(limiter, names)
                timing.run(round_no, limiter.check, chunk)
                timed += len(chunk)
        assert limiter.status() == "redis", limiter.status()
        timing.report(f"leased, {spread} bucket(s)", len(chunk))
    finally:
        await limiter.close()
        with redis.Redis.from_url(url) as client:
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)


async def _refill(limiter: Limiter, names: list[str]) -> None:
    """Spend what is left of each lease, then lease again (the lease doubles up to 1000)."""
    for name in names:
        while limiter.check(name, RATE) is not None:
            pass
        await limiter.take(name, RATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args()
    for spread in (1, 10_000):
        local(args.calls, args.rounds, spread)
    for spread in (1, 100):
        asyncio.run(leased(args.redis, args.calls, args.rounds, spread))


if __name__ == "__main__":
    main()
