"""One limit across instances, through the whole app: two apps on one Redis (a single server
and a cluster) share a key's allowance, and a Redis that dies mid-load leaves the service
answering with per-worker limits, which ``/ready`` reports (docs/auth.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis_nodes import RedisNode

from servers import apps, copy_database, new_key

PRICE = "/codes/price?code=99213&zip=94110&date=2025-06-01"
Make = Callable[[str], TestClient]


@pytest.fixture
def db_url(ingested_url: str, tmp_path: Path) -> str:
    return copy_database(ingested_url, tmp_path)


@pytest.fixture
def instances(db_url: str) -> Iterator[Make]:
    """Apps (instances of the service) on one database, each with the Redis URL given."""
    with apps(
        DATABASE_URL=db_url,
        CMS_DATA_DIR=None,
        CMS_PRICING_RATE_LIMITS=True,
        CMS_PRICING_REQUIRE_KEYS=True,
        CMS_PRICING_EXPENSIVE_PROCESSES=0,
        CMS_PRICING_WORKERS=2,
        CMS_PRICING_REDIS_TIMEOUT_MS=200,
    ) as build:
        yield lambda redis_url: build(REDIS_URL=redis_url)


def key_with(db_url: str, read: str) -> dict[str, str]:
    return {"X-API-Key": new_key(db_url, "read", name="shared", read=read)}


def statuses(client: TestClient, headers: dict[str, str], count: int) -> list[int]:
    # The limit is checked before any cache answers.
    return [client.get(PRICE, headers=headers).status_code for _ in range(count)]


def shared_limit_holds(make: Make, db_url: str, redis_url: str) -> None:
    first, second = make(redis_url), make(redis_url)
    headers = key_with(db_url, read="10/min")
    answers = statuses(first, headers, 8) + statuses(second, headers, 8)
    assert answers.count(200) == 10, answers  # 10 in all, not 10 each
    assert answers.count(429) == 6
    assert first.get("/ready").json()["rate_limits"] == "redis"


def test_two_instances_share_one_limit_on_redis(instances: Make, db_url: str) -> None:
    shared_limit_holds(instances, db_url, "redis://127.0.0.1:6379/9")


def test_two_instances_share_one_limit_on_a_redis_cluster(
    instances: Make, db_url: str, cluster_url: str
) -> None:
    shared_limit_holds(instances, db_url, cluster_url)


def test_redis_failing_mid_load_leaves_per_worker_limits(
    instances: Make, db_url: str, own_redis: RedisNode
) -> None:
    client = instances(own_redis.url)
    headers = key_with(db_url, read="600/min")
    assert statuses(client, headers, 5) == [200] * 5
    ready: dict[str, Any] = client.get("/ready").json()
    assert ready["rate_limits"] == "redis"
    own_redis.kill()
    answers = statuses(client, headers, 400)
    # Per-worker limits while Redis is down: 600 / 2 workers = 300 per worker, then 429s;
    # never an error of the service.
    assert set(answers) <= {200, 429}
    assert 250 <= answers.count(200) <= 310, answers.count(200)
    ready = client.get("/ready").json()
    assert ready["rate_limits"] == "degraded"
    assert ready["status"] == "degraded"
