"""Bad input gets a 4xx in the one JSON error envelope: never a 500, never a trace."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api import schemas


def error(client: TestClient, url: str, status: int, method: str = "GET") -> dict[str, object]:
    response = client.request(method, url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    schemas.ErrorEnvelope.model_validate(body)
    assert "Traceback" not in response.text and "SELECT" not in response.text
    detail: dict[str, object] = body["error"]
    return detail


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("zip=94110", "code"),
        ("code=99213;DROP&zip=94110", "code"),
        ("code=99213&zip=9411", "zip"),
        ("code=99213&zip=94110-12", "zip"),
        ("code=99213&zip=abcde", "zip"),
        ("code=99213&locality=01112", "locality"),
        ("code=99213&zip=94110&setting=home", "setting"),
        ("code=99213&zip=94110&pos=1x", "pos"),
        ("code=99213&zip=94110&modifier=9", "modifier"),
        ("code=99213&zip=94110&date=2025-13-01", "date"),
        ("code=99213&zip=94110&date=yesterday", "date"),
        ("code=99213&zip=94110&year=25", "year"),
        ("code=99213&zip=94110&zipcode=94110", "zipcode"),
        ("code=99213&zip=94110&zip=10001", "zip"),
        ("code=99213&zip=%2094110", "zip"),
    ],
)
def test_malformed_parameter_is_400_naming_the_field(
    client: TestClient, query: str, field: str
) -> None:
    """A malformed, unknown or repeated parameter is a 400 whose details name it."""
    detail = error(client, f"/codes/price?{query}", 400)
    assert detail["code"] == "bad_request"
    assert detail["details"]["field"] == field  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("code=99213&zip=94110&date=2025-05-01&year=2025", "year"),
        ("code=99213&zip=94110&locality=0111205", "locality"),
        ("code=99213", "zip"),
        ("code=99213&zip=94110&pos=22&setting=office", "pos"),
        ("code=99213&zip=94110&modifier=99", "modifier"),  # another schedule's modifier
        ("code=99213&zip=94110&units=3", "units"),  # an ASP parameter on an MPFS query
    ],
)
def test_well_formed_fields_that_do_not_combine_are_422(
    client: TestClient, query: str, field: str
) -> None:
    """Each value is valid but together they cannot be priced: 422 naming the field (the
    OpenAPI schema describes each value; only these combinations are the engine's answer)."""
    detail = error(client, f"/codes/price?{query}", 422)
    assert detail["code"] == "unprocessable"
    assert detail["details"]["field"] == field  # type: ignore[index]


@pytest.mark.parametrize(
    "query",
    [
        "code=ZZZZZ&zip=94110",  # no such code
        "code=99213&zip=00000",  # well-formed ZIP not in CMS's file
        "code=99213&zip=94110&release=RVU19A",  # no such release
        "code=99213&zip=94110&date=2026-02-01",  # a year with no published release
        "code=99213&zip=94110&date=2024-12-31",  # before the first 2025 release
        "code=99213&locality=9999999",  # no such carrier-locality
    ],
)
def test_unknown_things_are_404(client: TestClient, query: str) -> None:
    """Well-formed requests for things the data does not hold are 404 not_found."""
    assert error(client, f"/codes/price?{query}", 404)["code"] == "not_found"


def test_modifier_26_on_a_physician_service_is_422(client: TestClient) -> None:
    """99213 has PC/TC indicator 0: 26 and TC do not apply, so the request is 422."""
    detail = error(client, "/codes/price?code=99213&zip=94110&modifier=26", 422)
    assert "PC/TC" in str(detail["message"])


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    """Framework errors (404 route, 405 method) use the same envelope."""
    assert error(client, "/no/such/thing", 404)["code"] == "not_found"
    assert error(client, "/codes/price?code=99213", 405, method="POST")["code"] == (
        "method_not_allowed"
    )


def test_empty_database_is_503_not_ready(empty_client: TestClient) -> None:
    """With nothing published, pricing and /ready answer 503 and /health stays 200."""
    assert error(empty_client, "/codes/price?code=99213&zip=94110", 503)["code"] == "not_ready"
    assert empty_client.get("/ready").status_code == 503
    assert empty_client.get("/health").status_code == 200
