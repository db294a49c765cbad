"""Manual invalidation: everything, one release, or a key prefix.

One function serves ``POST /admin/cache/invalidate`` and ``cms-pricing cache invalidate``:

1. record the invalidation in the database (every worker of every instance applies it at
   its next poll, with or without Redis);
2. delete the matching shared keys in Redis by prefix with ``SCAN`` + ``UNLINK`` in
   batches (never ``KEYS``, which blocks Redis while it walks the whole keyspace); on a
   Redis Cluster the scan runs on every master and each ``UNLINK`` names keys of one slot;
3. announce it on pub/sub so workers drop their local answers at once.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import redis
from redis.crc import key_slot
from sqlalchemy import Engine

from cms_pricing.cache import events, keys
from cms_pricing.cache.clients import SyncClient, sync_client
from cms_pricing.cache.shared import FAULTS
from cms_pricing.db.repository import record_invalidation
from cms_pricing.errors import BadRequest
from cms_pricing.service import queries

log = logging.getLogger(__name__)

SCOPES = ("all", "release", "pattern")
BATCH = 500
_GLOB = re.compile(r"([*?\[\]\\])")


@dataclass(frozen=True, slots=True)
class Invalidation:
    id: int
    scope: str
    target: str
    prefixes: tuple[str, ...]
    redis_keys_deleted: int | None  # None: no Redis configured, or it did not answer
    announced: bool


def prefixes_for(scope: str, target: str) -> tuple[str, ...]:
    """The shared-key prefixes an invalidation removes; BadRequest for a bad scope/target."""
    if scope == "all":
        return (keys.NAMESPACE,)
    if scope == "release":
        return (keys.release_prefix(queries.release(target, field="target")),)
    if scope == "pattern":
        if not target.startswith(keys.NAMESPACE):
            raise BadRequest(f"a pattern must start with {keys.NAMESPACE!r}", field="target")
        return (target,)
    raise BadRequest(f"scope must be one of {', '.join(SCOPES)}", field="scope")


def delete_prefix(client: SyncClient, prefix: str) -> int:
    """UNLINK every key that starts with ``prefix``, ``BATCH`` keys at a time."""
    match = _GLOB.sub(r"\\\1", prefix) + "*"
    if not isinstance(client, redis.RedisCluster):
        return _delete_matching(client, match, None)
    masters: list[Any] = client.get_primaries()  # type: ignore[no-untyped-call]  # untyped upstream
    return sum([_delete_matching(client, match, node) for node in masters])


def _delete_matching(client: SyncClient, match: str, node: Any) -> int:
    """SCAN one server (``node`` of a cluster, or the whole of a single Redis) and UNLINK."""
    deleted = 0
    batch: list[bytes] = []
    where = {"target_nodes": node} if node is not None else {}
    for key in client.scan_iter(match=match, count=1000, **where):
        batch.append(key)
        if len(batch) >= BATCH:
            deleted += _unlink(client, batch)
            batch.clear()
    if batch:
        deleted += _unlink(client, batch)
    return deleted


def _unlink(client: SyncClient, names: list[bytes]) -> int:
    if not isinstance(client, redis.RedisCluster):
        return int(client.unlink(*names))
    by_slot: defaultdict[int, list[bytes]] = defaultdict(list)
    for name in names:
        by_slot[key_slot(name)].append(name)
    return sum(int(client.unlink(*group)) for group in by_slot.values())


def _delete_shared(redis_url: str | None, prefixes: tuple[str, ...]) -> int | None:
    if not redis_url:
        return None
    client = sync_client(redis_url, socket_timeout=5, socket_connect_timeout=2)
    try:
        return sum(delete_prefix(client, prefix) for prefix in prefixes)
    except FAULTS as exc:
        log.warning("could not delete shared cache keys: %r", exc)
        return None
    finally:
        client.close()


def invalidate(engine: Engine, redis_url: str | None, scope: str, target: str = "") -> Invalidation:
    prefixes = prefixes_for(scope, target)
    invalidation_id = record_invalidation(engine, scope, target)
    deleted = _delete_shared(redis_url, prefixes)
    event = {"type": "invalidated", "id": invalidation_id, "scope": scope, "target": target}
    announced = events.announce(redis_url, event)
    return Invalidation(invalidation_id, scope, target, prefixes, deleted, announced)
