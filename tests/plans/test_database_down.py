"""Saved-plan endpoints while PostgreSQL is down: 503 ``database_unavailable``, never a 500.

A private PostgreSQL (``tests/pgcluster.py``) is loaded with RVU25D and the 2025Q4 ZIP file,
the whole app is started over it, a plan is saved, then the server is stopped mid-test:
``POST /plans``, ``PUT``, ``DELETE``, ``GET /plans``, ``GET /plans/{id}`` and its ``/price``
each answer 503 in the envelope with ``Retry-After`` and no driver or SQL text. Started again,
the same requests succeed: the pool's pre-ping replaces the dead connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.reference.publish import ingest_path
from pgcluster import Cluster, private_cluster
from servers import new_key

pytestmark = pytest.mark.postgres

PLAN = {"name": "knee", "zip": "10001", "date": "2025-11-03", "lines": [{"code": "27447"}]}


@pytest.fixture(scope="module")
def cluster(cms_data: Path) -> Iterator[Cluster]:
    """A private PostgreSQL holding RVU25D and the 2025Q4 ZIP file."""
    with private_cluster() as running:
        engine = create_db_engine(running.url)
        try:
            migrate(engine)
            for folder in ("rvu25d", "zip-locality-2025q4"):
                ingest_path(engine, cms_data / "2025" / folder, progress=lambda _line: None)
        finally:
            engine.dispose()
        yield running


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> Iterator[TestClient]:
    settings = Settings(DATABASE_URL=cluster.url, CMS_DATA_DIR=None, CMS_PRICING_METRICS=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        test_client.headers["X-API-Key"] = new_key(cluster.url, "read", "bulk", "plans:write")
        yield test_client


def _requests(client: TestClient, plan_id: str) -> dict[str, Any]:
    etag = {"If-Match": '"v1"'}
    return {
        "POST /plans": client.post("/plans", json=PLAN),
        "PUT /plans/{id}": client.put(f"/plans/{plan_id}", json=PLAN, headers=etag),
        "DELETE /plans/{id}": client.delete(f"/plans/{plan_id}", headers=etag),
        "GET /plans": client.get("/plans"),
        "GET /plans/{id}": client.get(f"/plans/{plan_id}"),
        "GET /plans/{id}/price": client.get(f"/plans/{plan_id}/price"),
    }


def test_writes_and_reads_answer_503_while_the_database_is_down(
    client: TestClient, cluster: Cluster
) -> None:
    """With the server stopped, every saved-plan request is 503 database_unavailable with
    Retry-After, in the envelope, without SQL or driver words; after a restart they work."""
    created = client.post("/plans", json=PLAN)
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    cluster.stop()
    try:
        answers = _requests(client, plan_id)
    finally:
        cluster.start()
    for name, response in answers.items():
        assert response.status_code == 503, (name, response.text)
        assert response.headers["retry-after"] == "2", name
        assert response.json() == {"error": {
            "code": "database_unavailable",
            "message": "the database did not answer; retry in a moment",
            "details": {},
        }}, name  # fmt: skip
    assert client.get(f"/plans/{plan_id}").status_code == 200
    assert client.get("/codes/price", params={"code": "99213", "zip": "10001"}).status_code == 200


def test_prices_keep_answering_while_the_database_is_down(
    client: TestClient, cluster: Cluster
) -> None:
    """Pricing reads the loaded snapshot, not the database: it stays 200 during the outage."""
    cluster.stop()
    try:
        response = client.get("/codes/price", params={"code": "99214", "zip": "94110"})
        priced = client.post("/plans/price", json={k: v for k, v in PLAN.items() if k != "name"})
    finally:
        cluster.start()
    assert response.status_code == 200, response.text
    assert priced.status_code == 200, priced.text
