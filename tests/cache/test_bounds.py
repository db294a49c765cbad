"""The local cache's bounds: bytes as well as entries, and a largest key (no Redis needed)."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from cms_pricing.cache.local import ENTRY_OVERHEAD, MAX_KEY, Entry, LocalCache, entry_size

HEADERS = [(b"content-type", b"application/json")]


def entry(body: bytes = b"{}", ttl: float = 60) -> Entry:
    return Entry(200, body, list(HEADERS), None, time.monotonic() + ttl)


def sized(key: str, body: bytes) -> int:
    return entry_size(key, entry(body))


def test_an_entry_counts_its_key_body_headers_and_a_fixed_overhead() -> None:
    """Size = key characters + body bytes + header bytes + ``ENTRY_OVERHEAD``."""
    assert sized("k" * 10, b"b" * 100) == 10 + 100 + len(b"content-typeapplication/json") + (
        ENTRY_OVERHEAD
    )


def test_the_byte_budget_evicts_the_least_recently_used_first() -> None:
    """Three entries fit; a fourth pushes out the one used longest ago, not the oldest put."""
    one = sized("a", b"x" * 1000)
    cache = LocalCache(100, max_bytes=3 * one)
    for key in "abc":
        cache.put(key, entry(b"x" * 1000))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("d", entry(b"x" * 1000))
    assert [k for k in "abcd" if cache.get(k) is not None] == ["a", "c", "d"]
    assert cache.bytes == 3 * one


def test_one_large_answer_can_push_out_several_small_ones() -> None:
    """Eviction continues until the new entry fits in bytes."""
    small = sized("s0", b"x" * 100)
    cache = LocalCache(100, max_bytes=10 * small)
    for n in range(10):
        cache.put(f"s{n}", entry(b"x" * 100))
    cache.put("big", entry(b"x" * (5 * small)))
    assert len(cache) <= 5
    assert cache.get("big") is not None
    assert cache.get("s9") is not None  # the most recent small ones stay
    assert cache.get("s0") is None


def test_an_entry_bigger_than_the_whole_budget_is_not_stored() -> None:
    """It would evict everything and still not fit: the cache is left as it was."""
    cache = LocalCache(100, max_bytes=2000)
    cache.put("small", entry())
    cache.put("huge", entry(b"x" * 2000))
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_a_key_over_the_bound_is_not_stored() -> None:
    """Keys longer than ``max_key`` (default ``MAX_KEY`` = 1 KiB) are simply not cached."""
    cache = LocalCache(100)
    cache.put("k" * MAX_KEY, entry())
    cache.put("k" * (MAX_KEY + 1), entry())
    assert cache.get("k" * MAX_KEY) is not None
    assert cache.get("k" * (MAX_KEY + 1)) is None
    assert len(cache) == 1


def test_replacing_a_key_counts_it_once() -> None:
    """A second put under the same key replaces the first in the byte count."""
    cache = LocalCache(100)
    cache.put("k", entry(b"x" * 500))
    cache.put("k", entry(b"x" * 10))
    assert cache.bytes == sized("k", b"x" * 10)
    assert len(cache) == 1


def test_an_expired_entry_gives_back_its_bytes() -> None:
    """A get that finds an expired entry drops it and its size."""
    cache = LocalCache(100)
    cache.put("stale", entry(ttl=-1))
    assert cache.get("stale") is None
    assert (cache.bytes, len(cache)) == (0, 0)


def test_the_entry_count_bound_still_holds() -> None:
    """``capacity`` entries at most, whatever the byte budget."""
    cache = LocalCache(2, max_bytes=1 << 30)
    for key in "abc":
        cache.put(key, entry())
    assert len(cache) == 2
    assert cache.get("a") is None


OPS = st.lists(
    st.tuples(
        st.sampled_from(["put", "get"]),
        st.text("abcdef", min_size=1, max_size=3),
        st.integers(0, 3000),
        st.booleans(),
    ),
    max_size=60,
)


@given(OPS, st.integers(1, 8), st.integers(0, 12_000))
def test_any_sequence_keeps_both_bounds_and_an_exact_count(
    ops: list[tuple[str, str, int, bool]], capacity: int, budget: int
) -> None:
    """After any puts and gets (some expired): entries <= capacity, bytes <= budget, and the
    byte count equals the sum of the stored entries' sizes."""
    cache = LocalCache(capacity, max_bytes=budget)
    for op, key, size, fresh in ops:
        if op == "put":
            cache.put(key, entry(b"x" * size, ttl=60 if fresh else -1))
        else:
            cache.get(key)
    stored = cache._entries  # the invariant is about the private store itself
    assert len(stored) <= capacity
    assert cache.bytes == sum(entry_size(k, e) for k, e in stored.items()) <= budget
