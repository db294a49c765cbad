"""Saved plans over HTTP and in the store, on SQLite and on PostgreSQL.

Create (with Idempotency-Key), read (ETag), list (cursor pages), replace and delete (If-Match:
428 without, 412 when stale), price; and the write guarantees: a failed write leaves nothing
half written, and concurrent writers cannot both win.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cms_pricing.db import plans as store
from cms_pricing.db.repository import create_db_engine
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.errors import PreconditionFailed

SAVED: dict[str, Any] = {
    "name": "TKA episode",
    "zip": "10001",
    "date": "2025-11-03",
    "setting": "facility",
    "lines": [{"code": "27447"}, {"code": "29881", "modifiers": ["51"]}],
}


@pytest.fixture
def db(plan_db_url: str) -> Iterator[Engine]:
    """A second engine on the API's database, to look at what the API wrote."""
    engine = create_db_engine(plan_db_url)
    yield engine
    engine.dispose()


def create(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> Any:
    response = client.post("/plans", json=body or SAVED, headers=headers)
    assert response.status_code == 201, response.text
    return response


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def line_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(store.LINES)) or 0)


# -- create, read, price -------------------------------------------------------------------------


def test_create_then_read_then_price(plan_client: TestClient) -> None:
    """POST answers 201 with the plan, ETag "v1" and Location; GET answers the same plan and
    ETag; GET /plans/{id}/price prices it (27447 1465.45 + 29881 313.33 = 1778.78) naming
    the release."""
    made = create(plan_client)
    plan_id = made.json()["id"]
    assert made.headers["etag"] == '"v1"' and made.headers["location"] == f"/plans/{plan_id}"
    read = plan_client.get(f"/plans/{plan_id}")
    assert read.status_code == 200 and read.headers["etag"] == '"v1"'
    assert read.json()["plan"]["lines"][1] == {
        "code": "29881", "modifiers": ["51"], "units": 1, "setting": None, "pos": None,
        "provider": "",
    }  # fmt: skip
    priced = plan_client.get(f"/plans/{plan_id}/price").json()
    assert priced["plan"] == {"id": plan_id, "version": 1, "etag": '"v1"'}
    assert priced["price"]["totals"]["allowed"] == "1778.78"
    assert priced["price"]["release"]["id"] == "RVU25D"


def test_create_validates_by_pricing_and_stores_nothing_when_bad(
    plan_client: TestClient, db: Engine, owner: str
) -> None:
    """An unknown code (422, lines.0.code: on /plans a 404 means no such plan), a modifier
    the code refuses (422) and a missing name (400) are refused, and no row is written."""
    before = (store.count_plans(db, owner=owner), line_rows(db))
    bad_code = {**SAVED, "lines": [{"code": "0000Z"}]}
    response = plan_client.post("/plans", json=bad_code)
    assert response.status_code == 422
    assert error_of(response)["details"]["field"] == "lines.0.code"
    refused = {**SAVED, "lines": [{"code": "43239", "modifiers": ["50", "TC"]}]}
    assert plan_client.post("/plans", json=refused).status_code == 422
    nameless = {k: v for k, v in SAVED.items() if k != "name"}
    response = plan_client.post("/plans", json=nameless)
    assert response.status_code == 400 and error_of(response)["details"] == {"field": "name"}
    assert (store.count_plans(db, owner=owner), line_rows(db)) == before


def test_unknown_plan_is_404_everywhere(plan_client: TestClient) -> None:
    """GET, PUT, DELETE and price of an id that does not exist are 404 envelopes."""
    missing = "pln_000000000000000000000000"
    headers = {"If-Match": '"v1"'}
    responses = [
        plan_client.get(f"/plans/{missing}"),
        plan_client.get(f"/plans/{missing}/price"),
        plan_client.put(f"/plans/{missing}", json=SAVED, headers=headers),
        plan_client.delete(f"/plans/{missing}", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 404
        assert error_of(response)["details"] == {"field": "id"}


# -- idempotency ---------------------------------------------------------------------------------


def test_same_key_same_body_returns_the_first_answer(
    plan_client: TestClient, db: Engine, owner: str
) -> None:
    """A retried create gets the first plan back (same body, Idempotent-Replayed) and no second
    plan is written."""
    key = secrets.token_hex(8)
    first = create(plan_client, **{"Idempotency-Key": key})
    count = store.count_plans(db, owner=owner)
    again = create(plan_client, **{"Idempotency-Key": key})
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert store.count_plans(db, owner=owner) == count


def test_same_key_other_body_is_409(plan_client: TestClient) -> None:
    """The same key with another body is a conflict naming the header."""
    key = secrets.token_hex(8)
    create(plan_client, **{"Idempotency-Key": key})
    response = plan_client.post(
        "/plans", json={**SAVED, "name": "other"}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 409
    assert error_of(response)["details"] == {"field": "Idempotency-Key"}


def test_blank_idempotency_key_is_400(plan_client: TestClient) -> None:
    """An empty Idempotency-Key is malformed."""
    response = plan_client.post("/plans", json=SAVED, headers={"Idempotency-Key": ""})
    assert response.status_code == 400


def test_concurrent_creates_with_one_key_make_one_plan(db: Engine, owner: str) -> None:
    """Eight threads create with one key at once: one plan is written and every thread gets
    the same answer."""
    plan = Plan((PlanLine("99213"),), zip="10001")
    idem = store.Idempotency(secrets.token_hex(8), "a" * 64)
    before = store.count_plans(db, owner=owner)
    answers: list[str] = []

    def render(stored: store.StoredPlan) -> tuple[int, str]:
        return 201, stored.public_id

    def worker() -> None:
        answer = store.create_plan(
            db, "race", plan, sha="s" * 64, idem=idem, render=render, owner=owner
        )
        answers.append(answer.body)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and len(set(answers)) == 1
    assert store.count_plans(db, owner=owner) == before + 1


# -- concurrency ---------------------------------------------------------------------------------


def test_replace_needs_if_match_and_refuses_a_stale_one(plan_client: TestClient) -> None:
    """PUT without If-Match is 428; with the current ETag 200 and ETag "v2"; with the old one
    412 naming the current version; an unreadable tag is 412; "*" replaces any version."""
    plan_id = create(plan_client).json()["id"]
    url = f"/plans/{plan_id}"
    changed = {**SAVED, "name": "renamed"}
    assert plan_client.put(url, json=changed).status_code == 428
    ok = plan_client.put(url, json=changed, headers={"If-Match": '"v1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"v2"'
    assert ok.json()["name"] == "renamed"
    stale = plan_client.put(url, json=changed, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    assert error_of(stale)["details"] == {"field": "If-Match", "current_version": 2}
    garbage = plan_client.put(url, json=changed, headers={"If-Match": "nonsense"})
    assert garbage.status_code == 400  # malformed: not a version at all
    star = plan_client.put(url, json=changed, headers={"If-Match": "*"})
    assert star.status_code == 200 and star.headers["etag"] == '"v3"'


def test_replace_replaces_the_lines_and_revalidates(plan_client: TestClient) -> None:
    """A PUT with one line leaves one line; a PUT with a bad line is refused and changes
    nothing (the plan keeps version 1 and its two lines)."""
    plan_id = create(plan_client).json()["id"]
    url = f"/plans/{plan_id}"
    bad = {**SAVED, "lines": [{"code": "0000Z"}]}
    assert plan_client.put(url, json=bad, headers={"If-Match": '"v1"'}).status_code == 422
    kept = plan_client.get(url).json()
    assert kept["version"] == 1 and kept["lines"] == 2
    one = {**SAVED, "lines": [{"code": "99213"}]}
    assert plan_client.put(url, json=one, headers={"If-Match": '"v1"'}).status_code == 200
    assert plan_client.get(url).json()["plan"]["lines"][0]["code"] == "99213"


def test_delete_needs_if_match(plan_client: TestClient, db: Engine) -> None:
    """DELETE without If-Match is 428, with a stale one 412 (nothing deleted), with the current
    one 204; afterwards the plan is 404 and its lines are gone."""
    plan_id = create(plan_client).json()["id"]
    url = f"/plans/{plan_id}"
    lines_before = line_rows(db)
    assert plan_client.delete(url).status_code == 428
    assert plan_client.delete(url, headers={"If-Match": '"v9"'}).status_code == 412
    assert line_rows(db) == lines_before
    assert plan_client.delete(url, headers={"If-Match": '"v1"'}).status_code == 204
    assert plan_client.get(url).status_code == 404
    assert line_rows(db) == lines_before - 2


def test_concurrent_updates_with_one_version_let_exactly_one_win(
    plan_client: TestClient, db: Engine, owner: str
) -> None:
    """Six threads update version 1 at once through the store: one succeeds, five get 412."""
    plan_id = create(plan_client).json()["id"]
    plan = Plan((PlanLine("99213"),), zip="10001")
    outcomes: list[str] = []

    def worker(n: int) -> None:
        try:
            store.update_plan(
                db, plan_id, expected=1, name=f"w{n}", plan=plan, sha="s" * 64, owner=owner
            )
            outcomes.append("ok")
        except PreconditionFailed:
            outcomes.append("412")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["412"] * 5 + ["ok"]
    assert plan_client.get(f"/plans/{plan_id}").json()["version"] == 2


# -- atomic writes -------------------------------------------------------------------------------


def test_a_create_that_fails_midway_writes_nothing(db: Engine, owner: str) -> None:
    """The answer is rendered inside the transaction after the plan and lines are inserted;
    when that fails, neither the plan, its lines nor the idempotency key remain."""
    before = (store.count_plans(db, owner=owner), line_rows(db))
    plan = Plan((PlanLine("99213"), PlanLine("99214")), zip="10001")

    def broken(_stored: store.StoredPlan) -> tuple[int, str]:
        raise RuntimeError("disk full")

    idem = store.Idempotency(secrets.token_hex(8), "b" * 64)
    with pytest.raises(RuntimeError):
        store.create_plan(db, "half", plan, sha="s" * 64, idem=idem, render=broken, owner=owner)
    assert (store.count_plans(db, owner=owner), line_rows(db)) == before
    with db.connect() as conn:
        keys = conn.scalar(select(func.count()).where(store.KEYS.c.key == idem.key))
    assert keys == 0


def test_an_update_that_fails_midway_changes_nothing(
    db: Engine, monkeypatch: pytest.MonkeyPatch, owner: str
) -> None:
    """If writing the new lines fails after the plan row was updated, the update rolls back:
    same version, same name, same lines."""
    plan = Plan((PlanLine("99213"), PlanLine("99214")), zip="10001")
    made = store.create_plan(db, "before", plan, sha="s" * 64, idem=None,
                             render=lambda s: (201, s.public_id), owner=owner)  # fmt: skip

    def broken(*_args: object) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(store, "_insert_lines", broken)
    with pytest.raises(RuntimeError):
        store.update_plan(db, made.body, expected=1, name="after", owner=owner,
                          plan=Plan((PlanLine("99213"),), zip="10001"), sha="t" * 64)  # fmt: skip
    monkeypatch.undo()
    kept = store.get_plan(db, made.body, owner=owner)
    assert (kept.version, kept.name) == (1, "before")
    assert kept.plan is not None and len(kept.plan.lines) == 2


# -- list ----------------------------------------------------------------------------------------


def test_list_pages_with_a_cursor_oldest_first(plan_client: TestClient) -> None:
    """Five new plans appear once each, in creation order, across pages of at most two; the
    last page has no next_cursor."""
    tag = secrets.token_hex(4)
    made = [create(plan_client, {**SAVED, "name": f"{tag}-{n}"}).json()["id"] for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = plan_client.get("/plans", params=params).json()
        assert len(page["plans"]) <= 2
        seen += [p["id"] for p in page["plans"] if p["name"].startswith(tag)]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


def test_list_refuses_a_bad_cursor_and_limit(plan_client: TestClient) -> None:
    """A cursor this API did not give and a limit outside 1-100 are 400s naming them."""
    response = plan_client.get("/plans", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400 and error_of(response)["details"] == {"field": "cursor"}
    response = plan_client.get("/plans", params={"limit": 0})
    assert response.status_code == 400 and error_of(response)["details"] == {"field": "limit"}
    assert plan_client.get("/plans", params={"limit": 101}).status_code == 400


def test_deleting_a_plan_releases_its_idempotency_key(plan_client: TestClient) -> None:
    """A create replayed after its plan was deleted must not answer 201 naming a plan that
    no longer exists: the delete releases the key, and the retry creates a new plan."""
    key = {"Idempotency-Key": secrets.token_hex(8)}
    first = plan_client.post("/plans", json=SAVED, headers=key)
    assert first.status_code == 201
    gone = plan_client.delete(f"/plans/{first.json()['id']}", headers={"If-Match": "*"})
    assert gone.status_code == 204
    again = plan_client.post("/plans", json=SAVED, headers=key)
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert plan_client.get(f"/plans/{again.json()['id']}").status_code == 200
