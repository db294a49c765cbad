"""The shared Redis layer and manual invalidation, against the real Redis server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from tests_support import REDIS_URL, TOKEN

from cms_pricing.cache.invalidation import delete_prefix
from cms_pricing.cli import main
from cms_pricing.config import get_settings
from cms_pricing.observability.metrics import REGISTRY
from conftest import state_of

LOCALITY = "/reference/localities?year=2025"  # the whole list: worth sharing


def shared_keys(db: redis.Redis) -> list[str]:
    return sorted(k.decode() for k in db.scan_iter(match="cms-pricing:*"))


def test_reference_answers_are_shared_between_instances(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """One instance computes and stores a reference answer; the other is served from Redis."""
    first, second = shared_pair
    computed = first.get(LOCALITY)
    assert computed.headers["x-cache"] == "miss"
    from_redis = second.get(LOCALITY)
    assert from_redis.headers["x-cache"] == "redis"
    assert (from_redis.content, from_redis.headers["etag"]) == (
        computed.content,
        computed.headers["etag"],
    )
    assert second.get(LOCALITY).headers["x-cache"] == "local"


def test_shared_keys_are_namespaced_by_release_and_hash(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """Keys name the release and its hash, so a revised release never meets old entries."""
    first, _second = shared_pair
    sha = first.get("/releases").json()["releases"][3]["sha256"]
    first.get(LOCALITY)
    [key] = [k for k in shared_keys(redis_db) if ":rel:" in k]
    assert key.startswith(f"cms-pricing:v1:rel:RVU25D:{sha[:12]}:")
    assert ":reference:" in key


def test_cheap_answers_stay_local(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """A price, one code's rows and one ZIP's locality cost less to compute than a Redis
    round trip: none of them is written to Redis."""
    first, _second = shared_pair
    first.get("/codes/price?code=99213&zip=94110")
    first.get("/reference/codes/99213")
    first.get("/reference/localities?zip=94110")
    assert shared_keys(redis_db) == []


def test_prefix_deletion_uses_scan_and_unlink_in_batches(redis_db: redis.Redis) -> None:
    """1,234 keys under a prefix go in batches of UNLINK after SCAN; KEYS is never called;
    keys outside the prefix stay."""
    for n in range(1234):
        redis_db.set(f"cms-pricing:v1:rel:RVU25B:k{n}", b"x")
    redis_db.set("cms-pricing:v1:rel:RVU25C:keep", b"x")
    redis_db.config_resetstat()
    assert delete_prefix(redis_db, "cms-pricing:v1:rel:RVU25B:") == 1234
    stats = redis_db.info("commandstats")
    assert "cmdstat_keys" not in stats
    assert stats["cmdstat_unlink"]["calls"] == 3  # 500 + 500 + 234
    assert stats["cmdstat_scan"]["calls"] >= 2
    assert shared_keys(redis_db) == ["cms-pricing:v1:rel:RVU25C:keep"]


def admin(client: TestClient, body: dict[str, str], token: str | None = TOKEN) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return client.post("/admin/cache/invalidate", json=body, headers=headers)


def test_admin_invalidation_needs_the_token(
    shared_pair: tuple[TestClient, TestClient], make_client: Callable[..., TestClient]
) -> None:
    """No token: 401; a wrong token: 401; without CMS_PRICING_ADMIN_TOKEN the token a client
    sends is just an unknown key: 401 too (only admin keys get in; docs/auth.md); all in the
    envelope, with WWW-Authenticate."""
    first, _second = shared_pair
    for token in (None, "wrong"):
        response = admin(first, {"scope": "all"}, token)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith('Bearer realm="cms-pricing"')
    with make_client(CMS_PRICING_ADMIN_TOKEN=None) as disabled:
        assert admin(disabled, {"scope": "all"}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"scope": "everything"}, {"scope": "pattern", "target": "other:"}, {"scope": "release"}],
)
def test_admin_invalidation_rejects_bad_requests(
    shared_pair: tuple[TestClient, TestClient], body: dict[str, str]
) -> None:
    """A bad scope or target is a 400 in the envelope, and nothing is invalidated."""
    first, _second = shared_pair
    response = admin(first, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_admin_invalidation_of_one_release(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """Invalidating RVU25D deletes its shared keys (not RVU25A's) and this instance's local
    answers; the other instance drops its own when it applies the logged invalidation."""
    first, second = shared_pair
    first.get("/reference/localities?release=RVU25D")
    first.get("/reference/localities?release=RVU25A")
    second.get("/reference/localities?release=RVU25A")
    response = admin(first, {"scope": "release", "target": "rvu25d"})
    assert response.status_code == 200
    assert response.json()["redis_keys_deleted"] == 1
    [kept] = [k for k in shared_keys(redis_db) if ":rel:" in k]
    assert kept.startswith("cms-pricing:v1:rel:RVU25A:")
    assert first.get("/reference/localities?release=RVU25A").headers["x-cache"] == "redis"
    # The other instance hears the pub/sub event; its poller would catch up without Redis.
    assert eventually(
        lambda: second.get("/reference/localities?release=RVU25A").headers["x-cache"] == "redis"
    )
    assert state_of(second).refresh() == "current"  # the logged invalidation is already applied


def eventually(check: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_cli_invalidates_everything(
    shared_pair: tuple[TestClient, TestClient],
    redis_db: redis.Redis,
    ingested_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cms-pricing cache invalidate` deletes every shared key and instances drop theirs."""
    first, _second = shared_pair
    first.get(LOCALITY)
    assert shared_keys(redis_db)
    monkeypatch.setenv("DATABASE_URL", ingested_url)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    try:
        assert main(["cache", "invalidate"]) == 0
    finally:
        get_settings.cache_clear()
    assert "1 redis keys deleted" in capsys.readouterr().out
    assert shared_keys(redis_db) == []
    # The instance hears the CLI's pub/sub event on its own event loop, a moment later.
    assert eventually(lambda: first.get(LOCALITY).headers["x-cache"] == "miss")


PLAN = {"locality": "0111205", "release": "RVU25D", "lines": [{"code": "27447"}, {"code": "99213"}]}


def redis_plan_hits() -> float:
    value = REGISTRY.get_sample_value(
        "api_cache_hits_total", {"layer": "redis", "cache_type": "pricing"}
    )
    return value or 0.0


def test_priced_plans_are_shared_between_instances(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """A plan priced by one instance is stored in Redis under its release; the other
    instance answers the same plan from Redis with the same bytes."""
    first, second = shared_pair
    computed = first.post("/plans/price", json=PLAN)
    assert computed.status_code == 200, computed.text
    [key] = shared_keys(redis_db)
    assert key.startswith("cms-pricing:v1:rel:RVU25D:") and ":plan:" in key
    before = redis_plan_hits()
    again = second.post("/plans/price", json=PLAN)
    assert again.content == computed.content
    assert redis_plan_hits() == before + 1


def test_invalidation_empties_the_local_plan_cache(
    shared_pair: tuple[TestClient, TestClient], redis_db: redis.Redis
) -> None:
    """After invalidating everything, the same plan is no longer a local hit: it goes back
    to Redis (emptied too) and is priced again."""
    first, _second = shared_pair
    first.post("/plans/price", json=PLAN)
    assert admin(first, {"scope": "all"}).status_code == 200
    assert shared_keys(redis_db) == []
    assert first.post("/plans/price", json=PLAN).status_code == 200
    assert len(shared_keys(redis_db)) == 1  # priced again and stored again
