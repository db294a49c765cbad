"""The priced-plan cache: keyed by the plan's normalised content and the snapshot fingerprint,
bounded, least recently used out first."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from cms_pricing.api.plans import PlanPriceCache, priced_answer
from cms_pricing.cache.policy import CacheClass
from cms_pricing.cache.shared import NullSharedCache
from cms_pricing.config import Settings
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.service.offload import Offload

PLAN = Plan((PlanLine("99213"),), locality="1320201", release_id="RVU25D")


def service_of(snapshot: Snapshot) -> Any:
    """What ``priced_answer`` reads of the service: the snapshot, the generation, and a shared
    layer (none here)."""
    return SimpleNamespace(
        loaded=SimpleNamespace(snapshot=snapshot, zip_meta=None, version="v"),
        generation=0,
        shared=NullSharedCache(),
        policy=SimpleNamespace(ttl={CacheClass.PRICING: 900}),
    )


def priced(service: Any, cache: PlanPriceCache, plan: Plan) -> bytes:
    """``priced_answer`` with in-process pricing (no offload children)."""
    offload = Offload(Settings(CMS_PRICING_EXPENSIVE_PROCESSES=0), service)
    return asyncio.run(priced_answer(service, offload, cache, plan))


def test_equal_plans_are_priced_once(real_snapshot: Snapshot) -> None:
    """The second ask of an equal plan (a new but equal object) returns the cached bytes
    object itself, and the cache holds one entry."""
    cache = PlanPriceCache()
    first = priced(service_of(real_snapshot), cache, PLAN)
    again = priced(service_of(real_snapshot), cache, replace(PLAN))
    assert again is first and len(cache) == 1


def test_another_snapshot_fingerprint_is_another_entry(real_snapshot: Snapshot) -> None:
    """New data (a new fingerprint) never meets an answer computed from the old data."""
    cache = PlanPriceCache()
    priced(service_of(real_snapshot), cache, PLAN)
    newer = replace(real_snapshot, fingerprint="another-release")
    priced(service_of(newer), cache, PLAN)
    assert len(cache) == 2


def test_another_plan_content_is_another_entry(real_snapshot: Snapshot) -> None:
    """Changing a line's units changes the key."""
    cache = PlanPriceCache()
    priced(service_of(real_snapshot), cache, PLAN)
    priced(service_of(real_snapshot), cache, replace(PLAN, lines=(PlanLine("99213", units=2),)))
    assert len(cache) == 2


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    """With room for two, reading "a" then adding "c" drops "b": "a" and "c" are hits."""
    cache = PlanPriceCache(capacity=2)
    computed: list[str] = []

    def compute(key: str) -> bytes:
        computed.append(key)
        return key.encode()

    for key in ("a", "b", "a", "c", "a", "c", "b"):
        cache.get_or_compute(key, lambda key=key: compute(key))  # type: ignore[misc]
    assert computed == ["a", "b", "c", "b"]
    assert len(cache) == 2
