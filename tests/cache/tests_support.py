"""Constants and helpers the cache tests share with their fixtures."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cms_pricing.api.express import Express
from cms_pricing.service.state import ServiceState

REDIS_URL = "redis://127.0.0.1:6379/5"
TOKEN = "test-admin-token"


def state_of(client: TestClient) -> ServiceState:
    app = client.app
    assert isinstance(app, Express)
    state: ServiceState = app.state
    return state
