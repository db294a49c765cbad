"""Fixtures of the look-up page's tests: the app on the session's ingested database, and a
real ``cms-pricing serve`` for the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings


@pytest.fixture(scope="session")
def client(ingested_url: str) -> Iterator[TestClient]:
    """The whole app (fast path in front of FastAPI) on the real files, anonymous."""
    settings = Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
