"""GET /codes/price over HTTP: the wire contract, release selection and the fast path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api import schemas


def price(client: TestClient, query: str) -> dict[str, object]:
    response = client.get(f"/codes/price?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    schemas.PriceOut.model_validate(body)
    return body


def test_99213_in_san_francisco_matches_cms(client: TestClient) -> None:
    """99213 at ZIP 94110 in 2025: CMS publishes $109.15 office and $73.35 facility.

    RVU25D: work 1.30, PE 1.35 (non-facility) / 0.57 (facility), MP 0.10; GPCI 01112-05:
    work 1.088, PE 1.419, MP 0.445; CF 32.3465.
    office:   (1.30 x 1.088 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465 = 109.154881575 -> 109.15
    facility: (1.30 x 1.088 + 0.57 x 1.419 + 0.10 x 0.445) x 32.3465 = 73.353128445 -> 73.35
    """
    office = price(client, "code=99213&zip=94110&setting=office&year=2025")
    facility = price(client, "code=99213&zip=94110&setting=facility&year=2025")
    assert (office["amount_cents"], office["amount"]) == (10915, "109.15")
    assert (facility["amount_cents"], facility["amount"]) == (7335, "73.35")
    assert office["release"]["id"] == "RVU25D"  # type: ignore[index]
    geo = office["geography"]
    assert geo["carrier"] == "01112" and geo["locality"] == "05"  # type: ignore[index]
    assert geo["state"] == "CA" and geo["match"] == "zip5"  # type: ignore[index]


def test_money_fields_are_cents_next_to_decimal_strings(client: TestClient) -> None:
    """Every money figure goes out as integer cents and the same value as a decimal string;
    non-participating is 95% and the limiting charge 109.25% of the fee schedule amount."""
    body = price(client, "code=99213&zip=94110&year=2025")
    for name in ("amount", "non_participating", "limiting_charge"):
        as_string = body[name]
        assert isinstance(as_string, str)
        assert body[f"{name}_cents"] == int(as_string.replace(".", ""))
    assert body["non_participating"] == "103.69"  # 109.15 x 0.95 = 103.6925
    assert body["limiting_charge"] == "119.25"  # 109.15 x 1.0925 = 119.246375


def test_arithmetic_is_shown(client: TestClient) -> None:
    """The answer shows the formula with its own numbers so a caller can redo it."""
    components = price(client, "code=99213&zip=94110&year=2025")["components"]
    assert components["arithmetic"].startswith(
        "(1.30 x 1.088 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465"
    )  # type: ignore[index]
    assert components["conversion_factor"] == "32.3465"  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "release"),
    [
        ("date=2025-01-01", "RVU25A"),
        ("date=2025-03-31", "RVU25A"),
        ("date=2025-04-01", "RVU25B"),
        ("date=2025-09-30", "RVU25C"),
        ("date=2025-12-31", "RVU25D"),
        ("year=2025", "RVU25D"),
        ("release=rvu25b", "RVU25B"),
        ("", "RVU25D"),
    ],
)
def test_release_selection(client: TestClient, query: str, release: str) -> None:
    """A date of service picks the release in force that day; year its latest; release pins."""
    body = price(client, f"code=99213&zip=94110&{query}")
    assert body["release"]["id"] == release  # type: ignore[index]
    assert len(body["release"]["sha256"]) == 64  # type: ignore[index]


def test_locality_given_directly_skips_the_zip(client: TestClient) -> None:
    """locality=0111205 is CMS's carrier+locality form; it prices like ZIP 94110."""
    by_zip = price(client, "code=99213&zip=94110&year=2025")
    by_locality = price(client, "code=99213&locality=0111205&year=2025")
    assert by_locality["amount_cents"] == by_zip["amount_cents"]
    assert by_locality["geography"]["match"] == "locality"  # type: ignore[index]


def test_place_of_service_maps_to_setting(client: TestClient) -> None:
    """POS 22 (outpatient hospital) is a facility; POS 11 (office) is not."""
    assert price(client, "code=99213&zip=94110&pos=22")["setting"] == "facility"
    assert price(client, "code=99213&zip=94110&pos=11")["setting"] == "office"
    assert price(client, "code=99213&zip=94110&pos=22")["amount_cents"] == 7335


def test_non_payable_code_has_no_price(client: TestClient) -> None:
    """An anesthesia code (status J) answers with its data, payable false and no amount."""
    body = price(client, "code=00100&zip=94110&year=2025")
    assert body["payable"] is False and body["status"] == "J"
    assert body["amount_cents"] is None and body["amount"] is None
    assert body["status_reason"]


def test_fast_path_and_documented_route_answer_alike(
    client: TestClient, routes_only: TestClient
) -> None:
    """The fast path and the FastAPI route give byte-identical answers, errors included."""
    for query in (
        "code=99213&zip=94110&year=2025",
        "code=71046&modifier=26&zip=10001&date=2025-05-05",
        "code=99213&zip=9411",
        "code=ZZZZZ&zip=94110",
    ):
        fast = client.get(f"/codes/price?{query}")
        documented = routes_only.get(f"/codes/price?{query}")
        assert (fast.status_code, fast.content) == (documented.status_code, documented.content)


def test_repeated_request_is_served_from_the_response_cache(client: TestClient) -> None:
    """A second identical request returns the very same bytes (served from the cache)."""
    first = client.get("/codes/price?code=99214&zip=60601&year=2025")
    second = client.get("/codes/price?code=99214&zip=60601&year=2025")
    assert first.content == second.content
