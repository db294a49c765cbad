"""Saved plans belong to the key that saved them, over HTTP on SQLite and on PostgreSQL
(docs/auth.md, "Ownership"); the store's side is tests/storage/test_plan_owner.py."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.testclient import TestClient

from servers import new_key

PLAN: dict[str, Any] = {"name": "mine", "zip": "10001", "date": "2025-11-03",
                        "lines": [{"code": "99213"}]}  # fmt: skip


def test_another_key_sees_none_of_my_plans(plan_client: TestClient, plan_db_url: str) -> None:
    other = {"Authorization": f"Bearer {new_key(plan_db_url, 'read', 'plans:write')}"}
    idem = secrets.token_hex(8)
    made = plan_client.post("/plans", json=PLAN, headers={"Idempotency-Key": idem})
    assert made.status_code == 201, made.text
    plan_id = made.json()["id"]
    etag = {"If-Match": made.headers["etag"]}
    for response in (
        plan_client.get(f"/plans/{plan_id}", headers=other),
        plan_client.get(f"/plans/{plan_id}/price", headers=other),
        plan_client.put(f"/plans/{plan_id}", json=PLAN, headers={**other, **etag}),
        plan_client.delete(f"/plans/{plan_id}", headers={**other, **etag}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    listed = plan_client.get("/plans?limit=100", headers=other).json()["plans"]
    assert plan_id not in [p["id"] for p in listed]
    # Mine is untouched by all of that, and the same Idempotency-Key is theirs to use too.
    assert plan_client.get(f"/plans/{plan_id}").json()["version"] == 1
    theirs = plan_client.post("/plans", json=PLAN, headers={**other, "Idempotency-Key": idem})
    assert theirs.status_code == 201 and theirs.json()["id"] != plan_id
    assert "idempotent-replayed" not in theirs.headers


def test_saved_plans_need_a_key(plan_client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    for response in (
        plan_client.get("/plans", headers=anonymous),
        plan_client.post("/plans", json=PLAN, headers=anonymous),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
