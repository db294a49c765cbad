"""Rate limits and quotas per caller and endpoint class (issue 15; docs/auth.md).

``Rate`` is an allowance of ``count`` units per ``seconds`` (a unit is a request, or a bulk
line): written ``600/min``, ``20/s``, ``5000/h`` or ``100000/day`` in settings, on the command
line (``cms-pricing keys create --quota read=600/min``) and in stored quotas.

``Limiter`` enforces rates on buckets named by the caller (``key:<id>:read``,
``ip:<addr>:bulk``; any text). A rate q/w allows a burst of q units, refilled evenly at one
unit every w/q seconds, by GCRA (the generic cell rate algorithm): a bucket is one number,
its *theoretical arrival time* (TAT); a request of n units is admitted when
``max(TAT, now) + n*w/q - now <= w`` and moves TAT there. It is a token bucket in a different
bookkeeping: one float per bucket, no refill timer, and ``remaining``, ``reset`` (seconds until
the bucket is full again) and ``retry_after`` (seconds until n units fit) come out exactly.
A bucket whose TAT has passed is full and carries no information, so it can be forgotten.

``check()`` is the hot path: synchronous, no I/O (``bench/ratelimit_cost.py`` times it).
``take()`` is ``check()`` plus, when that returns ``None``, one round trip to Redis.
``spend()`` charges units after admission (bulk lines), past the limit if need be, without
I/O. ``status()`` is ``"local"``, ``"redis"`` or ``"degraded"``. A ``Decision`` is a tuple,
so always true: test ``decision.allowed``.

Without Redis (``status() == "local"``) each worker runs GCRA in memory on the whole rate: a
caller whose requests reach several workers of an instance can get up to ``workers`` x q
(configure Redis to share one limit).

With Redis (``redis://`` or ``redis+cluster://``) the bucket lives in Redis, under
``<prefix>{<bucket>}`` (one key; the hash tag keeps a cluster from caring what the bucket text
holds), and GCRA runs in a Lua script on Redis ``TIME``, so instances share no clock. A
worker *leases* units: one script call debits up to L units from the shared bucket and the
worker spends them locally in ``check()`` until they run out or the lease ends
(``lease_seconds``, default 1 s); its next call gives the unspent units back. Lease rule:
``lease_size(rate)`` is 1 for rates under 1000 units (exact: a round trip per unit), else
``min(q // 100, units refilled in one lease period, 1000)``; a worker starts a bucket at
1 unit and doubles its lease each time one runs out while live (halving when one lapses), so
a quiet bucket leases a unit or two and a busy one reaches L after about ten round trips. A
refused lease is remembered until one unit is free again, so a throttled caller costs no
round trips. Tolerance: every admitted unit was debited in Redis before it was spent, so a
burst on a full bucket admits at most q across every worker and instance; units spent later
than they were debited shift admissions by at most one lease each, so in any interval the
instances admit at most N x L units more than one exact shared GCRA would (N = workers,
across instances, holding a lease on the bucket; L as above: 1 for q < 1000, never over
1000). Units a worker never gives back (its lease evicted, the worker gone) are
under-admission, at most N x L, until the bucket refills.

A Redis call that fails or takes longer than ``timeout_ms`` answers that request from a
per-worker limit in memory, the rate divided by ``workers`` (at least 1 unit), reports
``"degraded"`` and keeps answering per worker for ``backoff_seconds``; then one request tries
Redis again and, when it answers, the limiter is ``"redis"`` again. Nothing is raised to the
caller. While degraded an instance admits about q, so M instances admit about M x q.

Memory: each table (GCRA state; leases) holds at most ``max_buckets`` buckets (default
50,000). Past that, full buckets and lapsed leases are dropped, then those closest to full
(smallest debt: the least forgiven) down to 7/8 of the cap; each sweep is paid by the cap/8
insertions before the next, and refused requests insert nothing. An entry costs about 50
bytes (GCRA) or 110 bytes (lease) plus its bucket text (49 + length bytes), at most 260 bytes
with 100-character buckets (tests/ratelimit measure it): the default bounds a worker at
50,000 x 260 bytes = 13 MB a table. ``buckets()`` counts the entries held.

``headers()`` writes ``RateLimit-Policy`` and ``RateLimit`` as in
draft-ietf-httpapi-ratelimit-headers-10 (27 September 2025): each a structured-field Item
whose value is the policy name as an sf-String (quoted; the editor's copy has since accepted
a Token as well, so the String stays valid), with ``q`` and ``w`` for the policy and ``r``
(units remaining) and ``t`` (seconds) for the current state. ``t`` is the seconds until the
bucket is full again (the draft leaves the moment to the server); on a refusal it is the
``Retry-After`` value instead, as the draft asks that both name the same moment.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from cms_pricing.cache.clients import async_client

log = logging.getLogger(__name__)

UNITS = {"s": 1, "min": 60, "h": 3600, "day": 86400}
_RATE = re.compile(r"^([1-9][0-9]{0,9})/(s|min|h|day)$")

MAX_BUCKETS = 50_000
EXACT_BELOW = 1000  # rates under this many units lease 1 unit at a time
MAX_LEASE = 1000
_NOISE = 1e-6  # float noise tolerated in unit counts and seconds

_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"600/min"`` -> ``Rate(600, 60)``; ``ValueError`` naming the accepted forms."""
        match = _RATE.match(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is not a rate: write COUNT/UNIT with UNIT one of s, min, h, day "
                "(e.g. 600/min)"
            )
        return cls(int(match[1]), UNITS[match[2]])

    def __str__(self) -> str:
        unit = next(name for name, seconds in UNITS.items() if seconds == self.seconds)
        return f"{self.count}/{unit}"


class Decision(NamedTuple):
    allowed: bool
    limit: int  # the rate's count (q)
    window: int  # the rate's seconds (w)
    remaining: int  # units left now, >= 0
    reset: int  # whole seconds until the bucket is full again, >= 0
    retry_after: int  # 0 when allowed, else whole seconds (>= 1) until `cost` units fit


def lease_size(rate: Rate, lease_seconds: float = 1.0) -> int:
    """The most units a worker leases from the shared bucket in one round trip."""
    if rate.count < EXACT_BELOW:
        return 1
    refill = math.ceil(rate.count * lease_seconds / rate.seconds)
    return max(1, min(rate.count // 100, refill, MAX_LEASE))


def headers(name: str, decision: Decision) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit`` (plus ``Retry-After`` on a refusal)."""
    policy = policy_header(name, decision.limit, decision.window)
    quoted = sf_string(name)
    if decision.allowed:
        return [policy, state_header(quoted, decision.remaining, decision.reset)]
    wait = decision.retry_after
    return [policy, state_header(quoted, decision.remaining, wait), (b"retry-after", b"%d" % wait)]


def policy_header(name: str, limit: int, window: int) -> tuple[bytes, bytes]:
    """``RateLimit-Policy: "<name>";q=<limit>;w=<window>``."""
    return (b"ratelimit-policy", b"%s;q=%d;w=%d" % (sf_string(name), limit, window))


def state_header(quoted: bytes, remaining: int, seconds: int) -> tuple[bytes, bytes]:
    """``RateLimit: <quoted>;r=<remaining>;t=<seconds>`` (``quoted``: ``sf_string(name)``)."""
    return (b"ratelimit", b"%s;r=%d;t=%d" % (quoted, remaining, seconds))


@functools.lru_cache(maxsize=64)
def sf_string(name: str) -> bytes:
    """``name`` as a structured-field String (quoted)."""
    if not name.isascii() or not name.isprintable():
        raise ValueError(f"{name!r} is not a structured-field string (printable ASCII only)")
    return b'"%s"' % name.replace("\\", "\\\\").replace('"', '\\"').encode()


# The hot path builds its answers without NamedTuple's generated __new__ (half the cost).
_new = tuple.__new__
_up = math.ceil


def _ceil(seconds: float) -> int:
    """Whole seconds rounded up, ignoring float noise; never negative."""
    whole = math.ceil(seconds - _NOISE)
    return whole if whole > 0 else 0


def _prune(table: dict[str, _V], until: Callable[[_V], float], now: float, keep: int) -> None:
    """Drop the entries whose moment has passed (no information), then, above ``keep``,
    those whose moment comes soonest."""
    for key in [key for key, value in table.items() if until(value) <= now]:
        del table[key]
    excess = len(table) - keep
    if excess > 0:
        for key, _ in heapq.nsmallest(excess, table.items(), key=lambda item: until(item[1])):
            del table[key]


class _Lease:
    """Units this worker leased from one shared bucket (or a remembered refusal)."""

    __slots__ = ("denied", "expires", "full_at", "owed", "shared", "size", "units")

    def __init__(self, units: int, expires: float, shared: int, full_at: float) -> None:
        self.units = units  # leased units still to spend
        self.expires = expires  # local clock: the lease (or the refusal) ends
        self.shared = shared  # units left in the shared bucket after the lease
        self.full_at = full_at  # local clock: the shared bucket is full again
        self.size = 1  # units asked for last time
        self.denied = False
        self.owed = 0  # units spent beyond the lease, to debit on the next round trip


def _lease_expiry(lease: _Lease) -> float:
    return lease.expires


# GCRA on Redis TIME (microseconds). ARGV: q, w in us, units needed, units wanted, units given
# back (negative: units owed, spent beyond a lease). Grants min(wanted, free) when at least
# `needed` are free. Returns granted, units free after the grant (negative when in debt past
# the window), microseconds until the bucket is full.
_LEASE_LUA = """
local q, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local need, want, back = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local per = window / q
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if back >= 0 then
  tat = math.max(tat - back * per, now)
else
  tat = math.max(tat, now) - back * per
end
local free = math.floor((now + window - tat) / per + 1e-6)
local granted = 0
if free >= need then
  granted = math.min(want, free)
  tat = tat + granted * per
end
if tat > now then
  if granted > 0 or back ~= 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', math.ceil(tat)),
               'PX', math.ceil((tat - now) / 1000) + 1)
  end
elseif back > 0 then
  redis.call('DEL', KEYS[1])
end
return {granted, free - granted, math.ceil(tat - now)}
"""


class Limiter:
    """Per-bucket rates: GCRA in memory, or leased from a bucket shared in Redis."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        workers: int = 1,
        clock: Callable[[], float] = time.monotonic,
        timeout_ms: int = 50,
        backoff_seconds: float = 5.0,
        lease_seconds: float = 1.0,
        max_buckets: int = MAX_BUCKETS,
        prefix: str = "cms:rl:",
    ) -> None:
        self._workers = max(1, workers)
        self._clock = clock
        self._timeout = timeout_ms / 1000
        self._backoff = backoff_seconds
        self._lease_seconds = lease_seconds
        self._max = max_buckets
        self._keep = max_buckets - max_buckets // 8
        self._prefix = prefix
        self._tats: dict[str, float] = {}
        self._leases: dict[str, _Lease] = {}
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._healthy = True
        self._retry_at = -math.inf
        self._client = None
        if redis_url:
            options = {"socket_timeout": self._timeout, "socket_connect_timeout": self._timeout}
            self._client = async_client(redis_url, **options)
            self._script = self._client.register_script(_LEASE_LUA)

    def status(self) -> str:
        if self._client is None:
            return "local"
        return "redis" if self._healthy else "degraded"

    def buckets(self) -> int:
        """Buckets held in this worker's memory (GCRA states and leases)."""
        return len(self._tats) + len(self._leases)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def check(self, bucket: str, rate: Rate, cost: int = 1) -> Decision | None:
        """The decision from this worker's state alone, or ``None`` when the shared bucket
        must be asked (``take()`` does that)."""
        now = self._clock()
        if self._client is None:
            return self._local(bucket, rate, cost, now, 1)
        if not self._healthy and now < self._retry_at:
            return self._local(bucket, rate, cost, now, self._workers)
        lease = self._leases.get(bucket)
        if lease is None or now >= lease.expires:
            return None
        if lease.units >= cost:
            lease.units -= cost
            reset = _up(lease.full_at - now - _NOISE)
            left = lease.shared + lease.units
            return _new(Decision, (True, rate.count, rate.seconds, left, max(reset, 0), 0))
        if lease.denied:
            wait = lease.expires - now + (cost - 1) * rate.seconds / rate.count
            reset = _ceil(lease.full_at - now)
            return Decision(False, rate.count, rate.seconds, lease.shared, reset, _ceil(wait) or 1)
        return None

    def spend(self, bucket: str, rate: Rate, units: int) -> None:
        """Charge ``units`` already admitted (bulk lines counted after the body was read),
        even past the limit: later requests wait the debt off. No I/O: with Redis the units
        come out of this worker's lease, and what it does not cover is debited on the
        bucket's next round trip (lost, as under-charge, if the lease is evicted first)."""
        if units <= 0:
            return
        now = self._clock()
        if self._client is None or (not self._healthy and now < self._retry_at):
            self._debit(bucket, rate, units, now, 1 if self._client is None else self._workers)
            return
        lease = self._leases.get(bucket)
        if lease is None:
            lease = _Lease(0, now + self._lease_seconds, 0, now)
            self._store(bucket, lease, now, 1, False)
        used = min(units, lease.units)
        lease.units -= used
        if used < units:
            lease.owed += units - used
            lease.expires = now  # the next request settles the debt in Redis first

    async def take(self, bucket: str, rate: Rate, cost: int = 1) -> Decision:
        """``check()``, and when it cannot answer, one lease round trip (shared by the
        requests of this worker waiting on the same bucket)."""
        while True:
            decision = self.check(bucket, rate, cost)
            if decision is not None:
                return decision
            pending = self._inflight.get(bucket)
            if pending is None:
                break
            await asyncio.wait([pending])  # not shield: a waiter's cancellation stays its own
        done = asyncio.get_running_loop().create_future()
        self._inflight[bucket] = done
        try:
            return await self._lease(bucket, rate, cost)
        finally:
            del self._inflight[bucket]
            done.set_result(None)

    def _local(self, bucket: str, rate: Rate, cost: int, now: float, workers: int) -> Decision:
        """GCRA in this worker's memory on the rate divided by ``workers`` (at least 1)."""
        seconds = rate.seconds
        per = seconds / (rate.count // workers or 1)
        debt = self._tat(bucket, now) - now + cost * per
        if debt <= seconds + _NOISE:
            self._tats[bucket] = now + debt
            left = int((seconds - debt) / per + _NOISE)
            return _new(Decision, (True, rate.count, seconds, left, _up(debt - _NOISE), 0))
        held = debt - cost * per
        left = max(0, int((seconds - held) / per + _NOISE))
        wait = _ceil(debt - seconds) or 1
        return Decision(False, rate.count, seconds, left, _ceil(held), wait)

    def _debit(self, bucket: str, rate: Rate, units: int, now: float, workers: int) -> None:
        per = rate.seconds / (rate.count // workers or 1)
        self._tats[bucket] = self._tat(bucket, now) + units * per

    def _tat(self, bucket: str, now: float) -> float:
        """The bucket's TAT, ``now`` when it is full or new (making room for a new one)."""
        tat = self._tats.get(bucket)
        if tat is None:
            if len(self._tats) >= self._max:
                _prune(self._tats, float, now, self._keep)
            return now
        return tat if tat > now else now

    async def _lease(self, bucket: str, rate: Rate, cost: int) -> Decision:
        now = self._clock()
        if not self._healthy:
            self._retry_at = now + self._backoff  # one probe per back-off period
        old = self._leases.pop(bucket, None)
        size = self._next_size(old, rate, now)
        back = old.units - old.owed if old is not None else 0
        window_us = rate.seconds * 1_000_000
        args = [rate.count, window_us, cost, max(cost, size), back]
        try:
            async with asyncio.timeout(self._timeout):
                reply = await self._script(keys=[f"{self._prefix}{{{bucket}}}"], args=args)
        # Any failure of the shared store, not only RedisError: redis-py's cluster errors
        # (RedisClusterException) are plain Exceptions, and no caller may see them.
        except Exception as exc:
            self._fault(exc)
            return self._local(bucket, rate, cost, self._clock(), self._workers)
        if not self._healthy:
            self._healthy = True
            log.warning("redis answers again; rate limits are shared again")
        granted, free, full_us = (int(value) for value in reply)
        return self._record(bucket, rate, cost, (granted, free, full_us / 1e6), size)

    def _next_size(self, old: _Lease | None, rate: Rate, now: float) -> int:
        """Double the lease while leases run out live; halve it when one lapses."""
        if old is None:
            return 1
        if now < old.expires and not old.denied:
            return min(lease_size(rate, self._lease_seconds), old.size * 2)
        return min(lease_size(rate, self._lease_seconds), max(1, old.size // 2))

    def _record(
        self, bucket: str, rate: Rate, cost: int, reply: tuple[int, int, float], size: int
    ) -> Decision:
        granted, free, full = reply
        free = max(0, free)
        now = self._clock()
        per = rate.seconds / rate.count
        if granted == 0:
            one_free = full + per - rate.seconds
            if one_free > 0:
                self._store(bucket, _Lease(0, now + one_free, free, now + full), now, size, True)
            wait = _ceil(full + cost * per - rate.seconds) or 1
            return Decision(False, rate.count, rate.seconds, free, _ceil(full), wait)
        lease = _Lease(granted - cost, now + self._lease_seconds, free, now + full)
        self._store(bucket, lease, now, size, False)
        left = free + granted - cost
        return Decision(True, rate.count, rate.seconds, left, _ceil(full), 0)

    def _store(self, bucket: str, lease: _Lease, now: float, size: int, denied: bool) -> None:
        lease.size, lease.denied = size, denied
        if len(self._leases) >= self._max:
            _prune(self._leases, _lease_expiry, now, self._keep)
        self._leases[bucket] = lease

    def _fault(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self._backoff
        if self._healthy:
            self._healthy = False
            log.warning("redis unavailable, rate limits are per worker for now: %r", exc)
