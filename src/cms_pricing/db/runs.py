"""Liveness of ingestion runs: who runs each, a heartbeat, and marking the dead ones failed.

Contract:

- ``owner()`` is what ``repository.start_run`` writes into a new run: this ``host``
  (``socket.gethostname()``; a container's own name), this ``pid`` and ``heartbeat_at``.
- ``heartbeat(engine, run_id)`` renews the run's ``heartbeat_at`` every ``BEAT_SECONDS``
  from a daemon thread while the block runs. A beat that cannot be written (SQLite busy
  during a long write, a database blip) is skipped and logged, never raised.
- A ``running`` run is **stale** when either its process is known to be gone (same host,
  and no process ``pid`` is alive there, or it is a zombie), or its heartbeat (its start for
  rows from before migration 0004) is older than ``STALE_AFTER_SECONDS``: this covers runs
  from other hosts and a pid reused by another process. A live run on this host is never
  stale, however long its write takes.
- ``reap_stale(engine)`` marks every stale run ``failed`` with the reason in ``message`` and
  ``finished_at`` now, and returns what it marked. ``cms-pricing ingest`` (``ingest_path``)
  and ``cms-pricing serve`` call it first. The update is conditional on the row still being
  ``running``, so a run that finishes at that moment keeps its own outcome.
- ``outcome_counts(engine)`` counts runs by outcome for the ``api_ingestion_runs`` gauge, a
  stale ``running`` run counted as ``failed`` (the sampler only reads).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from cms_pricing.db import models as m

log = logging.getLogger(__name__)

RUNS = m.Base.metadata.tables["ingestion_runs"]
BEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 600.0  # 20 missed beats


@dataclass(frozen=True, slots=True)
class Reaped:
    run_id: int
    dataset_id: str | None
    reason: str


def _now() -> datetime:
    return datetime.now(UTC)


def owner() -> dict[str, Any]:
    """The columns that tie a new run to this process."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "heartbeat_at": _now()}


def beat(engine: Engine, run_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(heartbeat_at=_now()))


def _beat_until(engine: Engine, run_id: int, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            beat(engine, run_id)
        except SQLAlchemyError as exc:
            log.warning("ingestion run %d: heartbeat skipped: %s", run_id, type(exc).__name__)


@contextmanager
def heartbeat(engine: Engine, run_id: int, every_s: float = BEAT_SECONDS) -> Iterator[None]:
    """Renew run ``run_id``'s heartbeat while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat_until, args=(engine, run_id, stop, every_s), daemon=True,
        name=f"ingest-heartbeat-{run_id}",
    )  # fmt: skip
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def process_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (not Linux): trust kill(0)
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def stale_reason(row: Any, host: str, now: datetime, stale_after_s: float) -> str | None:
    """Why the ``running`` run ``row`` is dead, or None while it may still be running."""
    here = row.host == host and row.pid is not None
    if here and row.pid == os.getpid():
        return None  # this very process is running it
    if here and not process_alive(row.pid):
        return f"the ingest process (pid {row.pid} on {host}) is gone; the run never finished"
    silent = (now - (row.heartbeat_at or row.started_at)).total_seconds()
    if silent <= stale_after_s:
        return None
    where = f"pid {row.pid} on {row.host}" if row.host else "a process from before heartbeats"
    return f"no heartbeat from the ingest process ({where}) for {silent:.0f} s"


def _stale(engine: Engine, stale_after_s: float) -> list[tuple[Any, str]]:
    host, now = socket.gethostname(), _now()
    stmt = select(RUNS).where(RUNS.c.outcome == "running").order_by(RUNS.c.id)
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
    found = [(row, stale_reason(row, host, now, stale_after_s)) for row in rows]
    return [(row, reason) for row, reason in found if reason is not None]


def reap_stale(engine: Engine, stale_after_s: float = STALE_AFTER_SECONDS) -> list[Reaped]:
    """Mark every stale ``running`` run ``failed`` with its reason; returns what was marked."""
    reaped: list[Reaped] = []
    for row, reason in _stale(engine, stale_after_s):
        values = {"outcome": "failed", "finished_at": _now(), "message": reason}
        with engine.begin() as conn:
            done = conn.execute(
                update(RUNS).where(RUNS.c.id == row.id, RUNS.c.outcome == "running").values(values)
            )
        if done.rowcount == 1:
            log.warning("ingestion run %d (%s) marked failed: %s", row.id, row.dataset_id, reason)
            reaped.append(Reaped(row.id, row.dataset_id, reason))
    return reaped


def outcome_counts(engine: Engine, stale_after_s: float = STALE_AFTER_SECONDS) -> dict[str, int]:
    """Runs by outcome, a stale ``running`` run counted as ``failed``."""
    stmt = select(RUNS.c.outcome, func.count()).group_by(RUNS.c.outcome)
    with engine.connect() as conn:
        counts = {str(outcome): int(n) for outcome, n in conn.execute(stmt)}
    stale = len(_stale(engine, stale_after_s)) if counts.get("running") else 0
    if stale:
        counts["running"] -= stale
        counts["failed"] = counts.get("failed", 0) + stale
    return counts
