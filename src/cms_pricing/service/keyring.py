"""The API keys a worker accepts, held in memory and kept fresh from the database (docs/auth.md).

``KeyRing(engine, refresh_s)`` maps the SHA-256 of every key string valid now (each active
key's current secret, and a rotated key's previous secret until its grace period ends) to its
``ApiKey``. ``lookup(key)`` hashes what the caller sent and looks the hash up: one path for an
unknown key and a wrong one, so their timing does not differ, and no key string is kept.

Freshness: at most every ``refresh_s`` seconds a request starts a check of
``db.keys.keys_version`` in a thread (the request does not wait); when the marker changed the
whole map is reloaded. A key created, rotated or revoked anywhere is seen by every worker within
about ``refresh_s`` seconds (2 by default). A key this worker does not know yet is looked up
again at once (the change marker first, the whole map only when it moved), at most once per
second per worker, so a brand-new key works on its first request and a flood of made-up keys
costs the database one small query a second. The expiry of a
key is checked on every lookup.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine

from cms_pricing.db import keys as store
from cms_pricing.db.keys import ApiKey

log = logging.getLogger(__name__)

MISS_RELOAD_S = 1.0


class KeyRing:
    def __init__(self, engine: Engine, refresh_s: float) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self._by_hash: dict[str, tuple[ApiKey, float]] = {}
        self._version: str | None = None
        self._checked = -math.inf  # monotonic time of the last version check
        self._missed = -math.inf  # monotonic time of the last load an unknown key asked for
        self._busy = threading.Lock()
        self.generation = 0  # one more at every load

    def tick(self) -> None:
        """Start a check for changed keys when the last is ``refresh_s`` old (every request
        calls this, also when the caller's key is already known to it: ``api/access.py``)."""
        now = time.monotonic()
        if now - self._checked > self.refresh_s:
            self._checked = now
            self._refresh_soon()

    def lookup(self, key: str) -> ApiKey | None:
        """The active key ``key`` names, or None (unknown, wrong, expired or revoked)."""
        self.tick()
        now = time.monotonic()
        digest = store.hash_key(key)
        found = self._by_hash.get(digest)
        if found is None:
            found = self._after_miss(digest, now)
        if found is None:
            return None
        api_key, until = found
        return api_key if time.time() < until else None

    def reload(self) -> None:
        """Read every valid hash now (also called after this worker changed a key)."""
        with self._busy:
            self._load()

    def _after_miss(self, digest: str, now: float) -> tuple[ApiKey, float] | None:
        with self._busy:  # a reload under way (the refresh thread's) ends first
            found = self._by_hash.get(digest)
            if found is None and now - self._missed > MISS_RELOAD_S:
                self._missed = now  # misses ask at most once a second, whatever they send
                version = store.keys_version(self.engine)
                if version != self._version:  # a made-up key costs one small query, no load
                    self._load(version)
                    found = self._by_hash.get(digest)
        return found

    def _load(self, version: str | None = None) -> None:
        """Read every valid hash; ``version`` is the marker just read, when there is one."""
        version = version if version is not None else store.keys_version(self.engine)
        now = datetime.now(UTC)
        self._by_hash = {
            digest: (key, key.expires_at.timestamp() if key.expires_at else math.inf)
            for digest, key in store.active_hashes(self.engine, now).items()
        }
        self._version = version
        self.generation += 1  # what a caller remembered from the old map is stale

    def _check(self) -> None:
        try:
            version = store.keys_version(self.engine)
            if version != self._version:
                with self._busy:
                    self._load(version)
        except Exception:  # the database is down: keep the keys known until it is back
            log.warning("could not refresh the API keys", exc_info=True)

    def _refresh_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside an event loop (a test, a command): check now
            self._check()
            return
        loop.run_in_executor(None, self._check)
