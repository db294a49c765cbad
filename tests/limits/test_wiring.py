"""The limits as wired by ``create_app``: in front of the fast path and FastAPI, inside the
metrics middleware (so refused requests are counted), on the session's real data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cms_pricing.api.app import create_app
from cms_pricing.api.plan_schemas import PLAN_EXAMPLE
from cms_pricing.config import Settings


@pytest.fixture(scope="module")
def client(ingested_url: str) -> Iterator[TestClient]:
    settings = Settings(
        DATABASE_URL=ingested_url,
        CMS_DATA_DIR=None,
        CMS_PRICING_MAX_BODY_BYTES=4096,
        CMS_PRICING_MAX_BULK_BODY_BYTES=8192,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def requests_counted(client: TestClient, method: str, status: str) -> float:
    text = client.get("/metrics").text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "api_requests_total"
        and s.labels.get("method") == method
        and s.labels.get("status") == status
    )


def test_a_long_query_is_414_through_the_whole_app_and_counted(client: TestClient) -> None:
    """An 8,200-character ZIP: 414 envelope with ``no-store``, and one more 414 in metrics."""
    before = requests_counted(client, "GET", "414")
    response = client.get("/codes/price?code=99213&zip=" + "9" * 8200)
    assert response.status_code == 414
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"]["code"] == "uri_too_long"
    assert "x-request-id" in response.headers  # answered inside the observability middleware
    assert requests_counted(client, "GET", "414") == before + 1


def test_a_query_just_under_the_limit_is_answered_by_the_handler(client: TestClient) -> None:
    """8,000 nines in ``zip`` (query under 8 KiB) reach the handler: its 400 names the field."""
    response = client.get("/codes/price?code=99213&zip=" + "9" * 8000)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"field": "zip"}


def test_an_oversized_plan_body_is_413_and_counted(client: TestClient) -> None:
    """A plan body over the configured 4 KiB: 413 ``payload_too_large`` naming the limit."""
    before = requests_counted(client, "POST", "413")
    response = client.post(
        "/plans/price",
        content=b'{"pad":"' + b"x" * 5000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "the request body may be at most 4096 bytes here",
        "details": {"limit": 4096},
    }
    assert requests_counted(client, "POST", "413") == before + 1


def test_bodies_within_the_limit_still_reach_fastapi(client: TestClient) -> None:
    """The buffered body is replayed to the routes: a real plan prices as before."""
    response = client.post("/plans/price", json=PLAN_EXAMPLE)
    assert response.status_code == 200
    assert response.json()["lines"]


def test_bulk_gets_its_own_larger_limit(client: TestClient) -> None:
    """6 KiB passes the bulk endpoint (8 KiB limit) that would fail every other body."""
    lines = [{"code": "99213", "zip": "10001"}] * 150
    body = (
        '{"lines":[' + ",".join('{"code":"99213","zip":"10001"}' for _ in lines) + "]}"
    ).encode()
    assert 4096 < len(body) <= 8192
    response = client.post(
        "/codes/price/bulk", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["count"] == 150


def test_long_distinct_queries_leave_nothing_in_the_response_cache(client: TestClient) -> None:
    """50 distinct 2,000-character ZIPs (under the query limit, over the 1 KiB key bound) are
    answered, and the worker's response cache neither grows nor changes its byte count."""
    cache = client.app.state.current.cache  # type: ignore[attr-defined]
    before = (len(cache), cache.bytes)
    for n in range(50):
        response = client.get(f"/codes/price?code=99213&zip={n}{'9' * 2000}")
        assert response.status_code == 400
    assert (len(cache), cache.bytes) == before
