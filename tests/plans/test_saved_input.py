"""Saved-plan endpoints with ids, versions and cursors no row can match: 4xx, never a 500.

Before issue 10 each of these reached the driver (SQLite ``OverflowError`` at 2**63,
PostgreSQL refusing a NUL or an int4 over 2**31-1) and answered 500 ``internal_error``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PLAN = {"name": "knee", "zip": "10001", "date": "2025-11-03", "lines": [{"code": "27447"}]}


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.fixture
def plan_id(plan_client: TestClient) -> str:
    response = plan_client.post("/plans", json=PLAN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("version", ["v2147483648", "v9223372036854775808", "v" + "9" * 20])
def test_an_if_match_version_beyond_any_column_is_412(
    plan_client: TestClient, plan_id: str, version: str
) -> None:
    """PUT and DELETE with If-Match naming a version no plan can reach: 412 with the current
    version, and the plan is unchanged."""
    headers = {"If-Match": f'"{version}"'}
    put = plan_client.put(f"/plans/{plan_id}", json=PLAN, headers=headers)
    delete = plan_client.delete(f"/plans/{plan_id}", headers=headers)
    for response in (put, delete):
        assert response.status_code == 412, response.text
        assert _error(response)["details"] == {"field": "If-Match", "current_version": 1}
    assert plan_client.get(f"/plans/{plan_id}").headers["etag"] == '"v1"'


@pytest.mark.parametrize("bad_id", ["pln_%00", "pln_%C3%A9", "pln_" + "a" * 300])
def test_an_id_no_plan_can_have_is_404(plan_client: TestClient, bad_id: str) -> None:
    """GET, PUT and DELETE of an id with a NUL, non-ASCII letters or over 32 characters."""
    etag = {"If-Match": '"v1"'}
    for response in (
        plan_client.get(f"/plans/{bad_id}"),
        plan_client.put(f"/plans/{bad_id}", json=PLAN, headers=etag),
        plan_client.delete(f"/plans/{bad_id}", headers=etag),
    ):
        assert response.status_code == 404, response.text
        assert _error(response)["details"] == {"field": "id"}


def test_a_cursor_past_any_id_is_an_empty_last_page(plan_client: TestClient) -> None:
    """A well-formed cursor with an id beyond the column's range: an empty page, no next."""
    for number in (2**31, 2**63, 10**30):
        cursor = f"p{number}"
        response = plan_client.get("/plans", params={"cursor": cursor})
        assert response.status_code == 200, response.text
        assert response.json() == {"plans": [], "next_cursor": None}


def test_a_non_ascii_cursor_is_400(plan_client: TestClient) -> None:
    """A cursor with non-ASCII letters is not one this API gave: 400 on ``cursor``."""
    response = plan_client.get("/plans", params={"cursor": "é"})
    assert response.status_code == 400, response.text
    assert _error(response)["details"] == {"field": "cursor"}
