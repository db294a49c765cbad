"""Request metrics in one process: names, labels, buckets, SLA classes and the off switch."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from scrapes import samples, total

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.observability.metrics import SLA_BUDGETS, WARNING_SHARE

PRICE = "/codes/price?code=99213&zip=94110&year=2025"


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def test_requests_are_counted_under_their_route_template(client: TestClient) -> None:
    """Fast-path, FastAPI and unknown paths count under the template, never the raw path."""
    before = scrape(client)
    client.get(PRICE)
    client.get("/reference/codes/99213")
    client.get("/reference/codes/99214")
    client.get("/no/such/thing")
    client.get("/openapi.json")
    after = scrape(client)

    def delta(endpoint: str, status: str) -> float:
        labels = {"method": "GET", "endpoint": endpoint, "status": status}
        return total(after, "api_requests_total", **labels) - total(
            before, "api_requests_total", **labels
        )

    assert delta("/codes/price", "200") == 1
    assert delta("/reference/codes/{code}", "200") == 2
    assert delta("unmatched", "404") == 1
    assert delta("/openapi.json", "200") == 1
    endpoints = {dict(lab)["endpoint"] for (name, lab) in after if name == "api_requests_total"}
    assert not any(e.startswith("/reference/codes/9") or e == "/no/such/thing" for e in endpoints)


def test_odd_methods_share_one_label(client: TestClient) -> None:
    """A made-up HTTP method is counted as method="other", so it cannot grow the label set."""
    before = total(scrape(client), "api_requests_total", method="other")
    response = client.request("BREW", "/codes/price")
    assert response.status_code == 405
    assert total(scrape(client), "api_requests_total", method="other") == before + 1


def test_histogram_has_every_sla_line_and_fine_buckets(client: TestClient) -> None:
    """Buckets include each budget, its 80% warning line and steps below 10 ms."""
    client.get(PRICE)
    found = scrape(client)
    bounds = {
        float(dict(lab)["le"])
        for (name, lab) in found
        if name == "api_request_duration_seconds_bucket" and dict(lab)["endpoint"] == "/codes/price"
    }
    required = {0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 1.0}
    required |= {round(b * WARNING_SHARE, 3) for b in SLA_BUDGETS.values()}
    assert required <= bounds
    assert len({b for b in bounds if b < 0.01}) >= 5
    count = total(found, "api_request_duration_seconds_count", endpoint="/codes/price")
    assert count == total(found, "api_requests_total", endpoint="/codes/price")


def test_each_endpoint_carries_its_sla_class(client: TestClient) -> None:
    """api_endpoint_info maps templates to classes; api_sla_budget_seconds gives each budget."""
    found = scrape(client)
    info = {
        (dict(lab)["method"], dict(lab)["endpoint"]): dict(lab)["sla_class"]
        for (name, lab) in found
        if name == "api_endpoint_info"
    }
    assert info[("GET", "/codes/price")] == "pricing"
    assert info[("GET", "/reference/codes/{code}")] == "reference"
    assert info[("GET", "/releases")] == "reference"
    assert info[("GET", "/health")] == "read"
    assert info[("POST", "/admin/cache/invalidate")] == "write"
    budgets = {
        dict(lab)["sla_class"]: v
        for (name, lab), v in found.items()
        if name == "api_sla_budget_seconds"
    }
    assert budgets == SLA_BUDGETS


def test_service_gauges_are_exported(client: TestClient) -> None:
    """Pool, process, release freshness and ingestion gauges carry real values."""
    found = scrape(client)
    assert total(found, "api_db_pool_capacity") >= total(found, "api_db_pool_size") > 0
    assert total(found, "api_process_resident_memory_bytes") > 10_000_000
    assert total(found, "api_process_cpu_seconds_total") > 0
    assert total(found, "api_process_cpu_cores") >= 1
    assert total(found, "api_release_loaded_info", release="RVU25D") == 1
    loaded = total(found, "api_release_loaded_published_timestamp_seconds")
    assert loaded == total(found, "api_release_newest_published_timestamp_seconds") > 0
    assert total(found, "api_ingestion_runs", outcome="published") >= 4
    assert total(found, "api_ingestion_rejected_files") == 0
    assert total(found, "api_active_connections") == 0  # the scrape itself is left out


def test_metrics_answers_only_get(client: TestClient) -> None:
    """POST /metrics is a 405 envelope, not a 500."""
    response = client.post("/metrics")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.fixture
def metrics_off(settings: Settings) -> TestClient:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    return TestClient(app, raise_server_exceptions=False)


def test_the_switch_turns_metrics_off(metrics_off: TestClient, client: TestClient) -> None:
    """CMS_PRICING_METRICS=false: no /metrics endpoint and no counting; ids still echoed."""
    before = total(scrape(client), "api_requests_total", endpoint="/health")
    with metrics_off as off:
        response = off.get("/health")
        assert response.status_code == 200
        assert response.headers["x-request-id"]
        assert off.get("/metrics").status_code == 404
    assert total(scrape(client), "api_requests_total", endpoint="/health") == before
