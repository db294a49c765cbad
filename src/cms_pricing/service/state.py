"""What one server process holds: settings, the database engine and the loaded data.

The loaded data (``Loaded``) is one immutable bundle: the engine snapshot of every
published release, the content version it was read at, and the answers already computed
from it (the local cache). Loading builds a new bundle and swaps the reference in one
assignment, so a request sees either the old bundle or the new one, never a mix, and
cached answers die with the snapshot that produced them.

Freshness (docs/caching.md): ``refresh()`` compares the database's content version and
newest invalidation with what this process applied, reloads or drops local answers when
they differ, and is called by the poller every ``CMS_PRICING_POLL_SECONDS`` and at once
by Redis pub/sub events.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import Engine

from cms_pricing.cache import events
from cms_pricing.cache.local import LocalCache
from cms_pricing.cache.policy import CachePolicy
from cms_pricing.cache.shared import SharedCache, shared_cache
from cms_pricing.config import Settings
from cms_pricing.db import replacements
from cms_pricing.db.repository import (
    content_version,
    last_invalidation,
    list_releases,
    list_schedule_datasets,
    list_zip_datasets,
    load_published,
    load_schedule_datasets,
    ping,
)
from cms_pricing.db.routing import Databases
from cms_pricing.engine.compiled import Compiled, Writer
from cms_pricing.engine.compiled_tables import schedule_metas
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import NotReady
from cms_pricing.reference import years
from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    Replacement,
    ScheduleData,
    ZipData,
    ZipMeta,
)
from cms_pricing.service import snapfile

log = logging.getLogger(__name__)


class Reply(NamedTuple):
    status: int
    body: bytes


@dataclass(frozen=True)
class Loaded:
    snapshot: Snapshot  # every dataset: row objects, or views over a mapped compiled file
    # CLFS, DMEPOS, ASP, OPPS, ASC, anesthesia, wage index (compiled: metadata, no rows)
    schedules: tuple[ScheduleData, ...]
    version: str  # the database's content version when this was read
    loaded_at: float
    cache: LocalCache
    rows: tuple[ReleaseData, ...] = ()  # objects mode: the rows, reused by the next load
    zips: ZipData | None = None
    # The versions corrections replaced, by (kind, dataset id) (db/replacements.py).
    replaced: Mapping[tuple[str, str], tuple[Replacement, ...]] = field(default_factory=dict)

    @property
    def releases(self) -> tuple[ReleaseMeta, ...]:
        return self.snapshot.release_metas

    @property
    def zip_meta(self) -> ZipMeta | None:
        return self.snapshot.zip_meta


def _freeze_heap(first: bool) -> None:
    """Move the snapshot's million long-lived objects out of the garbage collector's sight.

    Without this every full collection walks the whole snapshot and stalls requests for tens
    of milliseconds (the p99 of the benchmark). Frozen objects are still freed by reference
    counting when the last reference goes, so an old snapshot is released after a reload;
    only the first load pays for a full collection.
    """
    if first:
        gc.collect()
    gc.freeze()


def _limits_off() -> str:
    return "off"


class ServiceState:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        # Writes use ``engine`` (the primary); release reads go through ``databases.read``.
        given = Databases(engine) if engine is not None else None
        self.databases = given or Databases.from_settings(settings)
        self.engine = self.databases.primary
        self.policy = CachePolicy.from_settings(settings)
        # The rate limiter's state for /ready (api/access.py sets it: local, redis, degraded).
        self.limits_status: Callable[[], str] = _limits_off
        self.shared: SharedCache = shared_cache(settings.redis_url, settings.redis_timeout_ms)
        self.snapshot_dir = settings.snapshot_folder
        self._loaded: Loaded | None = None
        self._applied_invalidation = 0
        self._tasks: list[asyncio.Task[None]] = []
        # Bumped whenever local answers must go: caches outside ``Loaded`` (priced plans)
        # put it in their keys.
        self.generation = 0

    # -- loading ----------------------------------------------------------------------------

    def load(self, primary: bool = False) -> Loaded:
        """Read every published release from the database (a replica unless ``primary``)
        and swap it in."""
        started = time.perf_counter()
        read = self._reader(primary)
        self._applied_invalidation = read(last_invalidation)
        version = read(content_version)  # read first: a later publish reloads again
        before = self._loaded
        rows: tuple[ReleaseData, ...] = ()
        zips = None
        constants = years.load()  # the packaged year constants, checked once per process
        if self.settings.snapshot_mode == "compiled":
            compiled = self._compiled(read)
            snapshot = Snapshot.open(compiled, constants=constants)
            # Metadata only: the tables are views over the file.
            others = [ScheduleData(meta) for meta in schedule_metas(compiled)]
        else:
            others = read(load_schedule_datasets, before.schedules if before else ())
            previous = before.snapshot if before else None
            reuse = before.rows if before else ()
            found, zips = read(load_published, reuse, before.zips if before else None)
            rows = tuple(found)
            snapshot = Snapshot.from_rows(rows, zips, others, previous, constants=constants)
        loaded = Loaded(
            snapshot=snapshot,
            schedules=tuple(others),
            version=version,
            loaded_at=time.time(),
            cache=self._new_cache(),
            rows=rows,
            zips=zips,
            replaced=read(replacements.by_dataset),
        )
        self._loaded = loaded
        self.generation += 1
        _freeze_heap(first=before is None)
        log.info(
            "loaded %d releases (%s) in %.2fs",
            len(snapshot.releases),
            self.settings.snapshot_mode,
            time.perf_counter() - started,
        )
        return loaded

    def _compiled(self, read: Callable[..., Any]) -> Compiled:
        """The compiled MPFS snapshot of what the database lists (service/snapfile.py)."""
        metas = read(list_releases)
        zip_metas = read(list_zip_datasets)
        schedules = read(list_schedule_datasets)

        def compile_into(writer: Writer) -> None:
            read(snapfile.write_published, writer)

        zip_meta = zip_metas[-1] if zip_metas else None
        listed = snapfile.Listed(metas, zip_meta, schedules)
        return snapfile.open_current(self.snapshot_dir, listed, compile_into)

    def drop_local(self) -> None:
        """Forget every answer this process computed (the data stays loaded)."""
        if self._loaded is not None:
            self._loaded = replace(self._loaded, cache=self._new_cache())
        self.generation += 1

    def _new_cache(self) -> LocalCache:
        settings = self.settings
        return LocalCache(settings.response_cache_size, settings.response_cache_bytes)

    @property
    def loaded(self) -> Loaded:
        loaded = self._loaded
        if loaded is None or not loaded.releases:
            raise NotReady("no CMS release is loaded yet; run `cms-pricing ingest PATH`")
        return loaded

    @property
    def current(self) -> Loaded | None:
        return self._loaded if self._loaded is not None and self._loaded.releases else None

    @property
    def is_loaded(self) -> bool:
        return self.current is not None

    def database_ok(self) -> bool:
        return ping(self.engine)

    # -- freshness --------------------------------------------------------------------------

    def _reader(self, primary: bool) -> Callable[..., Any]:
        if primary:
            return lambda fn, *args: fn(self.engine, *args)
        return self.databases.read

    def refresh(self, primary: bool = False) -> str:
        """Bring this process up to date with the database: "reloaded", "dropped" or "current".

        The poller reads a replica; an event reads the primary (``primary=True``), because
        a replica may not have replayed the commit the event announces yet."""
        read = self._reader(primary)
        version = read(content_version)
        if self._loaded is None or version != self._loaded.version:
            self.load(primary)
            return "reloaded"
        newest = read(last_invalidation)
        if newest > self._applied_invalidation:
            self._applied_invalidation = newest
            self.drop_local()
            return "dropped"
        return "current"

    async def on_event(self, event: dict[str, Any]) -> None:
        # Both kinds are committed to the database before they are announced, so one
        # refresh from the primary reloads or drops exactly once.
        if event.get("type") in ("published", "invalidated"):
            await asyncio.to_thread(self.refresh, True)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # a database hiccup must not end polling
                log.exception("refresh from the database failed; will retry")

    def start_background(self) -> None:
        """Start the poller, and the event listener when Redis is configured."""
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._poll()))
        if self.settings.redis_url:
            self._tasks.append(loop.create_task(self.shared.watch()))
            self._tasks.append(
                loop.create_task(events.listen(self.settings.redis_url, self.on_event))
            )

    async def stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.shared.close()
