"""Gauges read from the process and the service state, not counted per request.

``sample_process`` and ``sample_service`` run in every worker before each flush and
scrape (cheap: ``/proc`` reads and attribute lookups). ``sample_database`` runs only for a
scrape, in the worker answering it: two small queries (newest publish time, ingestion log
counts) per scrape, never per request. A failing database leaves the previous values and
is logged; a scrape never fails because of it.
"""

from __future__ import annotations

import logging
import os
import resource
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cms_pricing.db.repository import list_releases
from cms_pricing.db.runs import outcome_counts
from cms_pricing.errors import NotReady
from cms_pricing.observability import metrics
from cms_pricing.service.state import ServiceState

log = logging.getLogger(__name__)

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
NO_LIMIT = 1 << 60  # cgroup v2 writes "max"; anything this large means "no limit"


class ProcessSampler:
    """CPU seconds (as counter increments) and resident memory of this process."""

    def __init__(self) -> None:
        self._cpu = 0.0
        metrics.CPU_CORES.set(_cpu_cores())
        metrics.MEMORY_LIMIT.set(_memory_limit())

    def sample(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        if cpu > self._cpu:
            metrics.CPU_SECONDS.inc(cpu - self._cpu)
            self._cpu = cpu
        metrics.MEMORY.set(_resident_bytes())


def _resident_bytes() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_cores() -> float:
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    return float(len(os.sched_getaffinity(0)))


def _memory_limit() -> float:
    machine = os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE
    try:
        limit = int(Path("/sys/fs/cgroup/memory.max").read_text().strip())
    except (OSError, ValueError):
        return float(machine)
    return float(min(limit, machine)) if limit < NO_LIMIT else float(machine)


class ServiceSampler:
    """Database pool use and the newest release this worker serves."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._release: str | None = None

    def sample(self) -> None:
        _sample_pool(self.state.engine)
        try:
            refs = self.state.loaded.snapshot.releases
        except NotReady:
            return
        newest = max(refs, key=lambda r: _epoch(r.published_at))
        if newest.release_id != self._release:
            metrics.RELEASE_LOADED.clear()
            metrics.RELEASE_LOADED.labels(newest.release_id).set(1)
            self._release = newest.release_id
        metrics.RELEASE_LOADED_PUBLISHED.set(_epoch(newest.published_at))


def _sample_pool(engine: Engine) -> None:
    pool = engine.pool
    size = _call(pool, "size")
    metrics.DB_POOL_SIZE.set(size)
    metrics.DB_POOL_CHECKED_OUT.set(_call(pool, "checkedout"))
    metrics.DB_POOL_OVERFLOW.set(max(0, _call(pool, "overflow")))
    metrics.DB_POOL_CAPACITY.set(size + max(0, int(getattr(pool, "_max_overflow", 0))))


def _call(pool: object, name: str) -> int:
    method = getattr(pool, name, None)
    return int(method()) if callable(method) else 0


def sample_database(engine: Engine) -> None:
    try:
        newest = max((_epoch(m.published_at) for m in list_releases(engine)), default=0.0)
        rows = list(outcome_counts(engine).items())  # a stale "running" run counts as failed
    except SQLAlchemyError:
        log.warning("metrics: the database did not answer; database gauges keep old values")
        return
    metrics.RELEASE_NEWEST_PUBLISHED.set(newest)
    for outcome, runs in rows:
        metrics.INGESTION_RUNS.labels(outcome).set(runs)
    metrics.INGESTION_REJECTED.set(dict(rows).get("rejected", 0))


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0
