"""Redis clients for one Redis server or a Redis Cluster, chosen by the URL's scheme.

``REDIS_URL=redis://host:port/db`` (or ``rediss://``) is one server. ``redis+cluster://host:port``
(or ``rediss+cluster://``) is a Redis Cluster reached through any of its nodes: redis-py's
``RedisCluster`` (sync and asyncio) discovers the others and routes each key to the master
of its slot. Everything that talks to Redis (the shared layer, release events, invalidation)
gets its client here, so no caller branches on the topology.

A cluster has one database (no ``/db``) and broadcasts ``PUBLISH`` to every node, so
release events need nothing special; pattern invalidation scans every master
(``cms_pricing.cache.invalidation``).
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis

SyncClient = redis.Redis | redis.RedisCluster
AsyncClient = aioredis.Redis | aioredis.RedisCluster


def is_cluster(url: str) -> bool:
    return url.split("://", 1)[0].endswith("+cluster")


def _plain(url: str) -> str:
    return url.replace("+cluster://", "://", 1)


def sync_client(url: str, **options: Any) -> SyncClient:
    if is_cluster(url):
        return redis.RedisCluster.from_url(_plain(url), **options)
    return redis.Redis.from_url(url, **options)


def async_client(url: str, **options: Any) -> AsyncClient:
    if is_cluster(url):
        return aioredis.RedisCluster.from_url(_plain(url), **options)
    return aioredis.Redis.from_url(url, **options)
