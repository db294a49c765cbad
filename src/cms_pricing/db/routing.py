"""Which database answers: writes on the primary, reads on a replica when there is one.

Contract (docs/scaling.md):

- ``Databases.primary`` is the engine for every write (ingest, saved-plan writes, the
  invalidation log) and for reads that must see the newest commit.
- ``Databases.read(fn, *args)`` runs the read ``fn(engine, *args)`` on a replica (round
  robin over ``DATABASE_REPLICA_URLS``); when the replica cannot be reached (a connection
  error, not a query's own error) the same read runs on the primary, so no request fails,
  and that replica is left out for ``CMS_PRICING_DB_REPLICA_RETRY_SECONDS``, then tried again
  by the next read: reads go back to it once it answers.
- Without replicas (and always on SQLite) every read runs on the primary.
- When the primary cannot be reached either, the read raises ``errors.DatabaseUnavailable``
  (503 with ``Retry-After``), never the driver's error (``db/failures.py``).

Replicas are asynchronous: a read may miss a commit made a few milliseconds earlier.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from cms_pricing.config import Settings
from cms_pricing.db.failures import translating
from cms_pricing.db.repository import PoolOptions, create_db_engine
from cms_pricing.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
UNREACHABLE = (OperationalError, InterfaceError, DatabaseUnavailable)


class Databases:
    def __init__(
        self, primary: Engine, replicas: Sequence[Engine] = (), retry_s: float = 5.0
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self._retry_s = retry_s
        self._down_until = [0.0] * len(self.replicas)
        self._turn = itertools.cycle(range(len(self.replicas)))

    @classmethod
    def from_settings(cls, settings: Settings) -> Databases:
        pool = PoolOptions(
            size=settings.db_pool_size,
            overflow=settings.db_max_overflow,
            pre_ping=settings.db_pool_pre_ping,
            recycle_s=settings.db_pool_recycle_s,
        )
        primary = create_db_engine(settings.database_url, pool)
        replicas = [create_db_engine(url, pool) for url in settings.database_replica_urls]
        return cls(primary, replicas, settings.db_replica_retry_s)

    def read(self, fn: Callable[Concatenate[Engine, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(engine, ...)`` on a reachable replica, else on the primary."""
        index = self._next_replica()
        if index is not None:
            reached = True
            try:
                return fn(self.replicas[index], *args, **kwargs)
            except UNREACHABLE as exc:
                reached = False
                self._mark_down(index, exc)
            finally:
                if reached:  # an answer, or the query's own error (NotFound): it is up
                    self._mark_up(index)
        with translating():
            return fn(self.primary, *args, **kwargs)

    def _next_replica(self) -> int | None:
        now = time.monotonic()
        for _ in self.replicas:
            index = next(self._turn)
            if self._down_until[index] <= now:
                return index
        return None

    def _mark_down(self, index: int, exc: BaseException) -> None:
        if self._down_until[index] == 0.0:
            log.warning("read replica %d unreachable, reading from the primary: %r", index, exc)
        self._down_until[index] = time.monotonic() + self._retry_s

    def _mark_up(self, index: int) -> None:
        if self._down_until[index] != 0.0:
            self._down_until[index] = 0.0
            log.warning("read replica %d is back; reads use it again", index)

    def dispose(self) -> None:
        for engine in (self.primary, *self.replicas):
            engine.dispose()
