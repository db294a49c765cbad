"""The application layer: ready-to-send answers in each worker process.

An ``Entry`` holds the status, the full header list and the body, so a hit costs one dict
pop and re-insert and one clock read. Entries expire after their class's TTL, the cache
holds at most ``capacity`` entries (the least recently used goes first: popular answers
stay under a long-tailed mix), and the whole cache is dropped with the snapshot that
produced it or on an invalidation.

Single flight: computing an answer never awaits, so within a worker N concurrent identical
requests cannot start N computations; the first fills the entry before the event loop runs
the others. Answers that await (the shared Redis layer) go through ``SingleFlight``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]  # complete: content-type, length, etag, cache-control
    etag: bytes | None
    expires: float  # time.monotonic() deadline


class LocalCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[str, Entry] = {}

    def get(self, key: str) -> Entry | None:
        entries = self._entries
        entry = entries.pop(key, None)
        if entry is None or entry.expires < time.monotonic():
            return None
        entries[key] = entry  # re-inserted last: the dict's order is least recently used first
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if self.capacity <= 0:
            return
        entries = self._entries
        if key not in entries and len(entries) >= self.capacity:
            del entries[next(iter(entries))]
        entries[key] = entry

    def __len__(self) -> int:
        return len(self._entries)
