"""Keys, scopes, rate limits and ownership through the whole app (docs/auth.md).

Each test gets a private copy of the session's database (every real 2025 release) and an app
with the settings it names; rate limits are on here (the suite turns them off elsewhere).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from servers import apps, copy_database, eventually, new_key

PRICE = "/codes/price?code=99213&zip=94110&date=2025-06-01"
ADMIN_TOKEN = "bootstrap-token-for-tests"
PLAN = {
    "name": "knee",
    "zip": "94110",
    "date": "2025-06-01",
    "lines": [{"code": "99213"}],
}

Make = Callable[..., TestClient]


@pytest.fixture
def db_url(ingested_url: str, tmp_path: Path) -> str:
    return copy_database(ingested_url, tmp_path)


@pytest.fixture
def make(db_url: str) -> Iterator[Make]:
    with apps(
        DATABASE_URL=db_url,
        CMS_DATA_DIR=None,
        CMS_PRICING_RATE_LIMITS=True,
        CMS_PRICING_ADMIN_TOKEN=ADMIN_TOKEN,
        CMS_PRICING_EXPENSIVE_PROCESSES=0,
        CMS_PRICING_WORKERS=1,  # the whole local allowance in this one process
    ) as build:
        yield build


def rate_limited(client: TestClient) -> float:
    """``api_rate_limited_total{scope_class="read"}`` now (the counters are the process's,
    shared by every app a test worker builds)."""
    metrics = client.get("/metrics", headers=bearer(ADMIN_TOKEN)).text
    found = re.search(r'^api_rate_limited_total\{scope_class="read"\} (\S+)$', metrics, re.M)
    return float(found[1]) if found else 0.0


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_required_keys_refuse_anonymous_and_bad_keys_alike(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    missing = client.get(PRICE)
    assert missing.status_code == 401
    assert error_of(missing)["code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == 'Bearer realm="cms-pricing"'
    key = new_key(db_url, "read")
    unknown = client.get(PRICE, headers=bearer("cmsp_000000000000_" + "x" * 43))
    wrong = client.get(PRICE, headers=bearer(key[:-1] + ("A" if key[-1] != "A" else "B")))
    for refused in (unknown, wrong):
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert unknown.json() == wrong.json()  # nothing tells an unknown key from a wrong one
    assert client.get("/health").status_code == 200  # probes stay open
    assert client.get("/ready").status_code == 200
    assert client.get("/metrics").status_code == 401  # metrics need an admin key now


def test_a_key_prices_in_either_header_with_rate_limit_headers(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True, CMS_PRICING_LIMIT_READ="100/min")
    key = new_key(db_url, "read")
    by_bearer = client.get(PRICE, headers=bearer(key))
    by_header = client.get(PRICE, headers={"X-API-Key": key})
    assert by_bearer.status_code == by_header.status_code == 200
    assert by_bearer.json() == by_header.json()
    assert by_bearer.headers["ratelimit-policy"] == '"read";q=100;w=60'
    assert by_bearer.headers["ratelimit"].startswith('"read";r=99;t=')
    assert by_header.headers["ratelimit"].startswith('"read";r=98;t=')


def test_a_missing_scope_is_403(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    reader, pricer = new_key(db_url, "read"), new_key(db_url, "bulk")
    bulk = client.post(
        "/codes/price/bulk",
        json={"lines": [{"code": "99213", "zip": "94110"}]},
        headers=bearer(reader),
    )
    assert bulk.status_code == 403
    assert error_of(bulk)["code"] == "forbidden"
    assert client.post("/plans", json=PLAN, headers=bearer(reader)).status_code == 403
    assert client.get("/admin/keys", headers=bearer(reader)).status_code == 403
    assert client.get(PRICE, headers=bearer(pricer)).status_code == 403


def test_anonymous_callers_read_and_bulk_only_when_keys_are_optional(make: Make) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=False)
    assert client.get(PRICE).status_code == 200
    bulk = client.post("/codes/price/bulk", json={"lines": [{"code": "99213", "zip": "94110"}]})
    assert bulk.status_code == 200
    assert bulk.headers["ratelimit-policy"] == '"bulk";q=20000;w=60'
    assert client.get("/metrics").status_code == 200
    for refused in (
        client.post("/plans", json=PLAN),
        client.get("/plans"),
        client.get("/admin/keys"),
        client.post("/admin/cache/invalidate", json={"scope": "all"}),
    ):
        assert refused.status_code == 401, refused.text


def test_over_the_quota_is_429_and_other_callers_are_untouched(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    limited_before = rate_limited(client)
    small = new_key(db_url, "read", read="3/min")
    other = new_key(db_url, "read")
    answers = [client.get(PRICE, headers=bearer(small)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 20
    assert limited.headers["ratelimit"].startswith('"read";r=0;t=')
    assert client.get(PRICE, headers=bearer(other)).status_code == 200
    assert rate_limited(client) == limited_before + 1  # counted by class, never by key


def test_bulk_lines_count_in_the_bulk_limit(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    key = new_key(db_url, "bulk", bulk="10/min")
    lines = {"lines": [{"code": "99213", "zip": "94110"}] * 8}
    first = client.post("/codes/price/bulk", json=lines, headers=bearer(key))
    assert first.status_code == 200
    second = client.post("/codes/price/bulk", json=lines, headers=bearer(key))
    assert second.status_code == 200  # 2 units left at admission: it goes on, into debt
    third = client.post("/codes/price/bulk", json=lines, headers=bearer(key))
    assert third.status_code == 429
    assert error_of(third)["code"] == "rate_limited"


def test_admin_token_manages_keys_over_http(make: Make) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    admin = bearer(ADMIN_TOKEN)
    made = client.post(
        "/admin/keys",
        json={"name": "claims team", "scopes": ["read"], "quota": {"read": "600/min"}},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    key, key_id = body["key"], body["id"]
    assert key.startswith(f"cmsp_{key_id}_")
    assert client.get(PRICE, headers=bearer(key)).status_code == 200
    listed = client.get("/admin/keys", headers=admin).json()["keys"]
    assert key not in str(listed) and "hash" not in str(listed)
    (mine,) = [k for k in listed if k["id"] == key_id]
    assert mine["quota"] == {"read": "600/min"} and mine["state"] == "active"

    rotated = client.post(f"/admin/keys/{key_id}/rotate?grace_minutes=5", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["key"]
    assert new != key
    assert client.get(PRICE, headers=bearer(key)).status_code == 200  # within the grace
    assert client.get(PRICE, headers=bearer(new)).status_code == 200

    again = client.post(f"/admin/keys/{key_id}/rotate", headers=admin).json()["key"]
    assert client.get(PRICE, headers=bearer(new)).status_code == 401  # no grace: gone
    assert client.get(PRICE, headers=bearer(again)).status_code == 200

    revoked = client.post(f"/admin/keys/{key_id}/revoke", headers=admin)
    assert revoked.json()["state"] == "revoked"
    assert client.get(PRICE, headers=bearer(again)).status_code == 401
    bad = client.post("/admin/keys", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_request"


def test_an_admin_key_can_create_keys_and_the_token_can_be_unset(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=True, CMS_PRICING_ADMIN_TOKEN=None)
    admin_key = new_key(db_url, "admin")
    assert client.get("/admin/keys", headers=bearer(ADMIN_TOKEN)).status_code == 401
    made = client.post(
        "/admin/keys", json={"name": "n", "scopes": ["read"]}, headers=bearer(admin_key)
    )
    assert made.status_code == 201


def test_plans_belong_to_their_key(make: Make, db_url: str) -> None:
    client = make(CMS_PRICING_REQUIRE_KEYS=False)
    alice = bearer(new_key(db_url, "read", "bulk", "plans:write"))
    bob = bearer(new_key(db_url, "read", "bulk", "plans:write"))
    idem = {"Idempotency-Key": "same-key-for-both"}
    mine = client.post("/plans", json=PLAN, headers={**alice, **idem})
    assert mine.status_code == 201, mine.text
    plan_id = mine.json()["id"]
    assert client.get(f"/plans/{plan_id}", headers=alice).status_code == 200
    theirs = client.get(f"/plans/{plan_id}", headers=bob)
    assert theirs.status_code == 404
    unknown = client.get("/plans/plan_doesnotexist", headers=bob)
    assert error_of(theirs)["code"] == error_of(unknown)["code"] == "not_found"
    assert client.get(f"/plans/{plan_id}/price", headers=bob).status_code == 404
    assert (
        client.delete(f"/plans/{plan_id}", headers={**bob, "If-Match": '"v1"'}).status_code == 404
    )
    assert client.get("/plans", headers=bob).json()["plans"] == []
    # The same Idempotency-Key from another key is another request, not a replay.
    replayed = client.post("/plans", json=PLAN, headers={**bob, **idem})
    assert replayed.status_code == 201 and replayed.json()["id"] != plan_id
    assert [p["id"] for p in client.get("/plans", headers=alice).json()["plans"]] == [plan_id]


def test_a_key_made_elsewhere_works_within_a_second(make: Make, db_url: str) -> None:
    """A worker looks an unknown key up again at most once a second (service/keyring.py)."""
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    assert client.get(PRICE, headers=bearer("cmsp_000000000000_" + "y" * 43)).status_code == 401
    key = new_key(db_url, "read")  # by another process, as `cms-pricing keys create` would
    waited = eventually(lambda: client.get(PRICE, headers=bearer(key)).status_code == 200, 3)
    assert waited is not None and waited <= 1.5


def test_anonymous_limits_count_per_address_behind_a_trusted_proxy(make: Make) -> None:
    """TestClient's peer is "testclient": trusted, its X-Forwarded-For names the client."""
    trusting = make(CMS_PRICING_ANON_LIMIT_READ="2/min", CMS_PRICING_TRUSTED_PROXIES="testclient")
    one, two = {"X-Forwarded-For": "10.0.0.9, 192.0.2.1"}, {"X-Forwarded-For": "192.0.2.2"}
    assert [trusting.get(PRICE, headers=one).status_code for _ in range(3)] == [200, 200, 429]
    assert trusting.get(PRICE, headers=two).status_code == 200  # another client
    # From a peer that is not trusted the header is ignored: one bucket for the peer.
    plain = make(CMS_PRICING_ANON_LIMIT_READ="2/min")
    answers = [
        plain.get(PRICE, headers=h).status_code for h in (one, two, {"X-Forwarded-For": "x"})
    ]
    assert answers == [200, 200, 429]


def test_large_allowances_are_taken_in_batches_and_still_exact(make: Make, db_url: str) -> None:
    """1,200/min: the worker takes 12 units at a time (service.ratelimit.lease_size) and
    spends them without asking the limiter, yet RateLimit counts down one a request and no
    more than the allowance (plus what refilled meanwhile) is ever admitted."""
    client = make(CMS_PRICING_REQUIRE_KEYS=True)
    key = bearer(new_key(db_url, "read", read="1200/min"))
    started = time.monotonic()
    answers = [client.get(PRICE, headers=key) for _ in range(1300)]
    seconds = time.monotonic() - started
    left = [int(a.headers["ratelimit"].split("r=")[1].split(";")[0]) for a in answers[:30]]
    assert left == list(range(1199, 1169, -1))
    admitted = sum(a.status_code == 200 for a in answers)
    refilled = 1200 / 60 * seconds
    assert 1200 <= admitted <= 1200 + refilled + 1, (admitted, seconds)
    assert {a.status_code for a in answers} == {200, 429}


def test_bulk_debt_leaves_no_batched_units_to_spend(make: Make) -> None:
    """1,200 lines/min is taken 12 at a time; a 1,300-line request spends the 11 taken ahead
    first and puts the rest on the bucket (into debt), so the next request is refused, not
    admitted on units the worker still held."""
    client = make(CMS_PRICING_ANON_LIMIT_BULK="1200/min")
    lines = {"lines": [{"code": "99213", "zip": "94110"}] * 1300}
    assert client.post("/codes/price/bulk", json=lines).status_code == 200
    refused = client.post("/codes/price/bulk", json={"lines": lines["lines"][:1]})
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "rate_limited"
