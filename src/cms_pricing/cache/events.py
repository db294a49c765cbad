"""Release and invalidation events on Redis pub/sub (channel ``cms-pricing:events``).

Messages are small JSON objects:

- ``{"type": "published", "version": "<content version>"}`` after an ingest publishes or
  replaces a dataset: every worker reloads from the database when its version differs.
- ``{"type": "invalidated", "id": <n>, "scope": "...", "target": "..."}`` after a manual
  invalidation: every worker drops its local answers.

Events are the fast path (well under a second). They are not the only path: every worker
also polls the database every ``CMS_PRICING_POLL_SECONDS`` (at most 60 s), so a missed
message, or no Redis at all, still leaves no instance stale for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from cms_pricing.cache.clients import async_client, sync_client
from cms_pricing.cache.shared import FAULTS

log = logging.getLogger(__name__)

CHANNEL = "cms-pricing:events"


def announce(redis_url: str | None, message: dict[str, Any]) -> bool:
    """Publish ``message`` (synchronously: the CLI and admin calls); False when it could not."""
    if not redis_url:
        return False
    client = sync_client(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.publish(CHANNEL, orjson.dumps(message))
    except FAULTS as exc:
        log.warning("could not announce %s on redis: %r", message.get("type"), exc)
        return False
    finally:
        client.close()
    return True


async def listen(redis_url: str, handle: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Deliver every event to ``handle`` until cancelled; reconnect after faults."""
    warned = False
    while True:
        client = async_client(redis_url, socket_connect_timeout=2)
        try:
            if isinstance(client, aioredis.RedisCluster):
                await client.initialize()  # its pub/sub picks a node from the slot map
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                warned = False
                await _pump(pubsub, handle)
        except FAULTS as exc:
            if not warned:
                log.warning("release events unavailable, polling only: %r", exc)
                warned = True
            await asyncio.sleep(1.0)
        finally:
            await client.aclose()


async def _pump(
    pubsub: aioredis.client.PubSub, handle: Callable[[dict[str, Any]], Awaitable[None]]
) -> None:
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None or message.get("type") != "message":
            continue
        try:
            event = orjson.loads(message["data"])
        except orjson.JSONDecodeError:
            log.warning("ignored a malformed event on %s", CHANNEL)
            continue
        if isinstance(event, dict):
            await handle(event)
