"""The pure pieces of the cache: keys, entity tags, entries, single flight, framing."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import orjson
import pytest

from cms_pricing.api.fastpath import make_entry
from cms_pricing.cache import keys
from cms_pricing.cache.invalidation import prefixes_for
from cms_pricing.cache.local import (
    ENTRY_OVERHEAD,
    Entry,
    LocalCache,
    compact,
    entry_size,
    weigh,
)
from cms_pricing.cache.shared import pack, unpack
from cms_pricing.cache.singleflight import SingleFlight
from cms_pricing.errors import BadRequest
from cms_pricing.service import queries


def entry(body: bytes = b"{}", ttl: float = 60) -> Entry:
    return Entry(200, body, [], b'"x"', time.monotonic() + ttl)


def test_equivalent_queries_share_one_canonical_form() -> None:
    """Order, case of case-insensitive values and blank parameters do not change the key."""
    a = queries.canonical(queries.price_query("zip=94110&code=99213&setting=Office&modifier="))
    b = queries.canonical(queries.price_query("code=99213&setting=office&zip=94110"))
    assert a == b == "code=99213&setting=office&zip=94110"


def test_pinned_release_is_recognised() -> None:
    """``release=`` pins the answer; the id is upper-cased like the engine reads it."""
    assert queries.price_query("code=99213&zip=94110&release=rvu25b").release_id == "RVU25B"


def test_etag_is_strong_quoted_and_depends_on_version_and_query() -> None:
    """Same version and query give the same tag; a new data version gives a new one."""
    tag = keys.etag("v1", "/codes/price", "code=99213")
    assert tag.startswith(b'"') and tag.endswith(b'"') and not tag.startswith(b"W/")
    assert tag == keys.etag("v1", "/codes/price", "code=99213")
    assert tag != keys.etag("v2", "/codes/price", "code=99213")
    assert tag != keys.etag("v1", "/codes/price", "code=99214")


def test_local_cache_expires_entries() -> None:
    """An entry past its TTL is gone."""
    cache = LocalCache(10)
    cache.put("fresh", entry())
    cache.put("stale", entry(ttl=-1))
    assert cache.get("fresh") is not None
    assert cache.get("stale") is None
    assert len(cache) == 1


def test_local_cache_is_bounded_least_recently_used_first() -> None:
    """At capacity the least recently used entry makes room; capacity 0 keeps nothing."""
    cache = LocalCache(2)
    cache.put("a", entry())
    cache.put("b", entry())
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("c", entry())
    assert (cache.get("a") is not None, cache.get("b"), cache.get("c") is not None) == (
        True,
        None,
        True,
    )
    off = LocalCache(0)
    off.put("a", entry())
    assert off.get("a") is None


def test_single_flight_runs_one_computation_for_concurrent_callers() -> None:
    """Ten concurrent identical lookups share one computation and its result."""
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "answer"

    async def scenario() -> list[str]:
        flights: SingleFlight[str] = SingleFlight()
        return list(await asyncio.gather(*(flights.run("k", compute) for _ in range(10))))

    assert asyncio.run(scenario()) == ["answer"] * 10
    assert calls == 1


def test_single_flight_shares_failures_and_then_retries() -> None:
    """A failed flight fails its waiters; the next lookup computes again."""
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("boom")
        return "ok"

    async def scenario() -> tuple[list[object], str]:
        flights: SingleFlight[str] = SingleFlight()
        first = await asyncio.gather(
            *(flights.run("k", compute) for _ in range(3)), return_exceptions=True
        )
        return list(first), await flights.run("k", compute)

    failures, retried = asyncio.run(scenario())
    assert all(isinstance(f, RuntimeError) for f in failures)
    assert (retried, calls) == ("ok", 2)


@pytest.mark.parametrize("body", [b'{"small":1}', b'{"big":"' + b"x" * 5000 + b'"}'])
def test_shared_values_round_trip(body: bytes) -> None:
    """Packed answers unpack to the same status, tag and body; large ones are compressed."""
    packed = pack(200, b'"tag"', body)
    assert unpack(packed) == (200, b'"tag"', body)
    if len(body) > 2048:
        assert len(packed) < len(body) // 4


def test_invalidation_prefixes() -> None:
    """Scopes map to shared-key prefixes; a bad scope or foreign pattern is refused."""
    assert prefixes_for("all", "") == ("cms-pricing:v1:",)
    assert prefixes_for("release", "rvu25b") == ("cms-pricing:v1:rel:RVU25B:",)
    with pytest.raises(BadRequest):
        prefixes_for("pattern", "other-app:")
    with pytest.raises(BadRequest):
        prefixes_for("release", "RVU 25")


@pytest.mark.parametrize(
    ("etag", "extra"),
    [(b'"0123456789abcdef01234567"', ()), (None, ()), (None, (("Retry-After", "30"),))],
)
def test_an_entry_weighs_what_its_body_and_headers_hold(
    etag: bytes | None, extra: tuple[tuple[str, str], ...]
) -> None:
    """The computed answer's entry (made without a loop) counts against the cache's byte
    budget exactly what ``weigh`` counts for any entry, and its headers are what they were."""
    made = make_entry(200, b'{"amount":"73.35"}', etag, b"public, max-age=900", 60, extra=extra)
    expected = [(b"content-type", b"application/json"), (b"content-length", b"18"),
                (b"cache-control", b"public, max-age=900")]  # fmt: skip
    expected += [(b"etag", etag)] if etag else []
    expected += [(n.encode(), v.encode()) for n, v in extra]
    assert list(made.headers) == expected
    assert made.weight == weigh(made.body, made.headers) > len(made.body)
    assert entry_size("k", made) == 1 + made.weight + ENTRY_OVERHEAD
    untallied = made._replace(weight=-1)
    assert entry_size("k", untallied) == entry_size("k", made)


def test_a_kept_answer_holds_no_more_memory_than_its_bytes() -> None:
    """orjson hands over its growing buffer as the answer's bytes (a 1.4 KB answer held 16 KB):
    ``compact`` gives a kept entry a body of its own size, so the byte budget is what the
    cache really holds."""
    payload = {f"field_{i}": "v" * 40 for i in range(30)}
    tracemalloc.start()
    try:
        made = [make_entry(200, orjson.dumps(payload), b'"t"', b"public", 60) for _ in range(200)]
        loose = tracemalloc.get_traced_memory()[0]
        kept = [compact(entry) for entry in made]
        del made
        tight = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    size = len(kept[0].body)
    assert 1000 < size == len(kept[-1].body)
    assert loose / len(kept) > 4 * size  # what orjson's bodies held
    assert tight / len(kept) < 2 * size  # what the kept ones hold
    assert all(entry.body == orjson.dumps(payload) for entry in kept)
