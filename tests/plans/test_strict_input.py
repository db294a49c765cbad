"""Plan bodies follow the same field rules as every other request (service/queries.py).

Each case was accepted (or answered 500) before the one parser: a string for a boolean,
other scripts' digits in money, an ISO week date, control characters in free text.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PLAN: dict[str, Any] = {"zip": "10001", "lines": [{"code": "99213"}]}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"sequestration": "yes"}, "sequestration"), ({"sequestration": 1}, "sequestration"),
     ({"deductible_remaining": "١٠٠"}, "deductible_remaining"),
     ({"deductible_remaining": "1e3"}, "deductible_remaining"),
     ({"deductible_remaining": "NaN"}, "deductible_remaining"),
     ({"deductible_remaining": -1}, "deductible_remaining"),
     ({"date": "2025-W27-3"}, "date"), ({"date": 20250702}, "date"),
     ({"zip": "１0001"}, "zip"), ({"setting": "home"}, "setting"),
     ({"lines": [{"code": "99213", "provider": "dr\\u0000x"}]}, "lines.0.provider"),
     ({"lines": [{"code": "99213", "units": "٣"}]}, "lines.0.units"),
     ({"lines": [{"code": "9921ı"}]}, "lines.0.code")],
)  # fmt: skip
def test_lax_values_are_refused_with_the_field(
    plan_client: TestClient, change: dict[str, Any], field: str
) -> None:
    """Each lax value is a 400 naming its field, never a default or a 500."""
    body = {**PLAN, **change}
    if "\\u0000" in str(body):
        body = {**PLAN, "lines": [{"code": "99213", "provider": "dr\x00x"}]}
    response = plan_client.post("/plans/price", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["details"]["field"] == field


def test_nul_in_a_saved_plan_name_is_a_400_on_every_database(plan_client: TestClient) -> None:
    """A NUL character in a plan name never reaches the database (PostgreSQL refuses NUL)."""
    response = plan_client.post("/plans", json={**PLAN, "name": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "name"


def test_the_same_date_rule_for_get_and_post(plan_client: TestClient) -> None:
    """2025-W27-3 is refused by GET /codes/price and POST /plans/price alike."""
    get = plan_client.get("/codes/price?code=99213&zip=10001&date=2025-W27-3")
    post = plan_client.post("/plans/price", json={**PLAN, "date": "2025-W27-3"})
    assert get.status_code == post.status_code == 400


def test_strict_values_still_price(plan_client: TestClient) -> None:
    """A JSON boolean, ASCII money as text or number, and a YYYY-MM-DD date are accepted."""
    for change in ({"sequestration": True, "deductible_remaining": "100.00"},
                   {"deductible_remaining": 0, "date": "2025-11-03"}):  # fmt: skip
        response = plan_client.post("/plans/price", json={**PLAN, **change})
        assert response.status_code == 200, response.text
