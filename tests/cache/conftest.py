"""Cache fixtures: apps on the session's ingested database, with and without Redis.

Redis tests use the real server at 127.0.0.1:6379, database 5, flushed before each test,
so they never meet another suite's keys. If Redis is down the tests fail (CI starts it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from tests_support import REDIS_URL, TOKEN, state_of

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings


def app_client(ingested_url: str, **overrides: object) -> TestClient:
    # A generous Redis timeout: these tests check behaviour, and a loaded CI machine must
    # not turn a slow answer into a "degraded" shared layer (tests/cache/test_freshness.py
    # checks the fault path with a Redis that is really gone).
    values: dict[str, object] = {
        "CMS_PRICING_ADMIN_TOKEN": TOKEN,
        "CMS_PRICING_REDIS_TIMEOUT_MS": 2000,
        **overrides,
    }
    settings = Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None, **values)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def make_client(ingested_url: str) -> Callable[..., TestClient]:
    """Build an app client with settings overrides (use it as a context manager)."""
    return lambda **overrides: app_client(ingested_url, **overrides)


@pytest.fixture(scope="module")
def local_client(ingested_url: str) -> Iterator[TestClient]:
    """The app without Redis: local layers only (shared by a module's tests)."""
    with app_client(ingested_url) as client:
        yield client


@pytest.fixture(scope="module")
def redis_server() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_db(redis_server: redis.Redis) -> redis.Redis:
    """The test Redis database, flushed before the test."""
    redis_server.flushdb()
    return redis_server


@pytest.fixture(scope="module")
def _pair(ingested_url: str, redis_server: redis.Redis) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        app_client(ingested_url, REDIS_URL=REDIS_URL) as first,
        app_client(ingested_url, REDIS_URL=REDIS_URL) as second,
    ):
        yield first, second


@pytest.fixture
def shared_pair(
    _pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> tuple[TestClient, TestClient]:
    """Two independent app instances sharing one (flushed) Redis, local layers emptied."""
    for client in _pair:
        state_of(client).drop_local()
    return _pair
