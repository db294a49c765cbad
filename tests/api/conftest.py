"""API fixtures: the app on the session's ingested SQLite database (``ingested_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.service.state import ServiceState
from servers import new_key


@pytest.fixture(scope="session")
def settings(ingested_url: str) -> Settings:
    return Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)


@pytest.fixture(scope="session")
def every_scope_key(ingested_url: str) -> str:
    """A key with every scope: saved plans need one (tests/auth tests who may call what)."""
    return new_key(ingested_url, "read", "bulk", "plans:write", "admin", name="api tests")


@pytest.fixture(scope="session")
def client(settings: Settings, every_scope_key: str) -> Iterator[TestClient]:
    """The whole app (fast path in front of FastAPI), started through its lifespan, calling
    with a key that has every scope."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        test_client.headers["X-API-Key"] = every_scope_key
        yield test_client


@pytest.fixture(scope="session")
def routes_only(settings: Settings) -> Iterator[TestClient]:
    """The FastAPI routes without the fast path in front: must answer identically."""
    app = create_app(settings)
    with TestClient(app.app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    """The app on a migrated but empty database: nothing published yet."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(create_db_engine(url))
    settings = Settings(DATABASE_URL=url, CMS_DATA_DIR=None)
    with TestClient(create_app(settings, ServiceState(settings))) as test_client:
        yield test_client


@pytest.fixture
def empty_cache_client(settings: Settings) -> Iterator[TestClient]:
    """The whole app with a cold local cache (a new state per test)."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
