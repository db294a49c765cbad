"""The application layer: ready-to-send answers in each worker process.

An ``Entry`` holds the status, the full header list and the body, so a hit costs one dict
pop and re-insert and one clock read. Entries expire after their class's TTL, and the whole
cache is dropped with the snapshot that produced it or on an invalidation.

Bounds (docs/limits.md), so no mix of requests can grow a worker without limit: at most
``capacity`` entries and at most ``max_bytes`` bytes, an entry's size being its key, body
and headers plus ``ENTRY_OVERHEAD`` (the objects around them); the least recently used go
first (popular answers stay under a long-tailed mix). A key over ``max_key`` characters,
or an entry bigger than the whole budget, is simply not stored. The store is an
``OrderedDict``: a plain dict finds its oldest key by skipping every slot deleted since its
last resize, which made each eviction cost tens of microseconds once every query was new
(docs/performance.md, issue 14).

Single flight: computing an answer never awaits, so within a worker N concurrent identical
requests cannot start N computations; the first fills the entry before the event loop runs
the others. Answers that await (the shared Redis layer) go through ``SingleFlight``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple


class Entry(NamedTuple):
    """One kept answer. A tuple: cheap to make (one per computed answer, issue 14). Its
    headers are a tuple of byte pairs, which the collector stops tracking, so a kept answer
    is one tracked object (a subclass of tuple stays tracked), not an object and a list."""

    status: int
    body: bytes
    headers: Sequence[tuple[bytes, bytes]]  # content-type, length, etag, cache-control
    etag: bytes | None
    expires: float  # time.monotonic() deadline
    weight: int = -1  # its body and headers in bytes, when its maker counted them (weigh)


MAX_KEY = 1024
# CPython cost of one entry beyond its bytes: the Entry, its header list and tuples, the key
# and body object headers and the dict slot (tracemalloc over 20,000 price answers: 440).
ENTRY_OVERHEAD = 512


def compact(entry: Entry) -> Entry:
    """``entry`` with its body in an allocation of its own size, to be kept. orjson writes
    into a growing buffer and hands it over as the bytes object: a 1.4 KB answer held a
    16 KB allocation (tracemalloc), so 50,000 kept answers took 4 times the cache's byte
    budget in resident memory (measured: 408 MB of RSS for a budget that counted 102 MB)."""
    exact = memoryview(entry.body).tobytes()
    return Entry(entry.status, exact, entry.headers, entry.etag, entry.expires, entry.weight)


def weigh(body: bytes, headers: Sequence[tuple[bytes, bytes]]) -> int:
    """The bytes of an answer's body and headers (``Entry.weight``)."""
    total = len(body)
    for name, value in headers:
        total += len(name) + len(value)
    return total


def entry_size(key: str, entry: Entry) -> int:
    """What ``entry`` under ``key`` counts against the byte budget."""
    weight = entry.weight if entry.weight >= 0 else weigh(entry.body, entry.headers)
    return len(key) + weight + ENTRY_OVERHEAD


class LocalCache:
    def __init__(self, capacity: int, max_bytes: int = 128 << 20, max_key: int = MAX_KEY) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.max_key = max_key
        self.bytes = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            return None
        if entry.expires < time.monotonic():
            del entries[key]
            self.bytes -= entry_size(key, entry)
            return None
        entries.move_to_end(key)  # the order is least recently used first
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if self.capacity <= 0 or len(key) > self.max_key:
            return
        size = entry_size(key, entry)
        if size > self.max_bytes:
            return
        entries = self._entries
        old = entries.pop(key, None)
        if old is not None:
            self.bytes -= entry_size(key, old)
        while entries and (len(entries) >= self.capacity or self.bytes + size > self.max_bytes):
            self._evict_oldest()
        entries[key] = entry
        self.bytes += size

    def _evict_oldest(self) -> None:
        key, entry = self._entries.popitem(last=False)
        self.bytes -= entry_size(key, entry)

    def __len__(self) -> int:
        return len(self._entries)
