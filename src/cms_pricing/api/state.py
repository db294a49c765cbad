"""What one server process holds: settings, the database engine and the loaded data.

The loaded data (``Loaded``) is one immutable bundle: the engine snapshot of every
published release, the ``/releases`` body, and the answers already computed from them.
Loading builds a new bundle and swaps the reference in one assignment, so a request sees
either the old bundle or the new one, never a mix, and cached answers die with the
snapshot that produced them.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Engine

from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, load_published, ping
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import NotReady
from cms_pricing.reference.datasets import ReleaseData, ZipData

log = logging.getLogger(__name__)


class Reply(NamedTuple):
    status: int
    body: bytes


class ResponseCache:
    """Ready-to-send answers keyed by route and raw query, first-in first-out when full.

    Answers are pure functions of (snapshot, route, query), so an entry never goes stale
    while its snapshot serves; the whole cache is dropped with the snapshot.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[bytes, Reply] = {}

    def get(self, key: bytes) -> Reply | None:
        return self._entries.get(key)

    def put(self, key: bytes, reply: Reply) -> None:
        if self.capacity <= 0:
            return
        entries = self._entries
        if len(entries) >= self.capacity:
            del entries[next(iter(entries))]
        entries[key] = reply

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Loaded:
    snapshot: Snapshot
    releases: tuple[ReleaseData, ...]
    zips: ZipData | None
    loaded_at: float
    cache: ResponseCache = field(compare=False)


def _freeze_heap() -> None:
    """Move the snapshot's million long-lived objects out of the garbage collector's sight.

    Without this every full collection walks the whole snapshot and stalls requests for tens
    of milliseconds (the p99 of the benchmark). A reload unfreezes first so the previous
    snapshot can still be freed once no request holds it.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ServiceState:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else create_db_engine(settings.database_url)
        self._loaded: Loaded | None = None

    def load(self) -> Loaded:
        """Read every published release from the database and swap it in."""
        started = time.perf_counter()
        releases, zips = load_published(self.engine)
        loaded = Loaded(
            snapshot=Snapshot.build(releases, zips),
            releases=tuple(releases),
            zips=zips,
            loaded_at=time.time(),
            cache=ResponseCache(self.settings.response_cache_size),
        )
        self._loaded = loaded
        _freeze_heap()
        log.info("loaded %d releases in %.2fs", len(releases), time.perf_counter() - started)
        return loaded

    @property
    def loaded(self) -> Loaded:
        loaded = self._loaded
        if loaded is None or not loaded.releases:
            raise NotReady("no CMS release is loaded yet; run `cms-pricing ingest PATH`")
        return loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None and bool(self._loaded.releases)

    def database_ok(self) -> bool:
        return ping(self.engine)
