"""HTTP caching: Cache-Control per class, strong ETags, 304s, and the local answer layer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

PRICE = "/codes/price?code=99213&zip=94110&year=2025"


@pytest.mark.parametrize(
    ("url", "control"),
    [
        (PRICE, "public, max-age=900"),
        ("/reference/localities?zip=94110", "public, max-age=3600"),
        ("/reference/codes/99213", "public, max-age=3600"),
        ("/releases", "public, max-age=3600"),
        ("/openapi.json", "public, max-age=86400"),
        ("/docs", "public, max-age=86400"),
        ("/codes/price?code=99213&zip=94110&release=RVU25B", "public, max-age=31536000, immutable"),
        ("/reference/codes/99213?release=RVU25A", "public, max-age=31536000, immutable"),
        ("/codes/price?code=ZZZZZ&zip=94110", "no-store"),
        ("/codes/price?code=99213&zip=abc", "no-store"),
        ("/health", "no-store"),
        ("/ready", "no-store"),
    ],
)
def test_cache_control_per_class(local_client: TestClient, url: str, control: str) -> None:
    """Pricing 15 min, reference 1 h, docs 24 h, pinned answers immutable, errors no-store."""
    assert local_client.get(url).headers["cache-control"] == control


def test_ttls_are_configurable(make_client: Callable[..., TestClient]) -> None:
    """The TTL settings drive the max-age of each class."""
    with make_client(CMS_PRICING_TTL_PRICING=60) as client:
        assert client.get(PRICE).headers["cache-control"] == "public, max-age=60"


def test_if_none_match_answers_304_without_a_body(local_client: TestClient) -> None:
    """A matching If-None-Match gets 304 with the ETag and no body; a stale one gets 200."""
    first = local_client.get(PRICE)
    tag = first.headers["etag"]
    assert tag.startswith('"')
    again = local_client.get(PRICE, headers={"if-none-match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    stale = local_client.get(PRICE, headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_equivalent_queries_share_the_entry_and_the_etag(local_client: TestClient) -> None:
    """Reordered parameters are the same answer: the same ETag, served from the local layer."""
    first = local_client.get("/codes/price?code=99214&zip=10001&setting=office")
    second = local_client.get("/codes/price?setting=OFFICE&zip=10001&code=99214")
    assert first.headers["x-cache"] == "miss"
    assert second.headers["x-cache"] == "local"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.content == first.content


def test_pinned_etag_differs_from_unpinned(local_client: TestClient) -> None:
    """Pinned and unpinned answers carry tags from different versions."""
    pinned = local_client.get("/codes/price?code=99213&zip=94110&release=RVU25D")
    latest = local_client.get("/codes/price?code=99213&zip=94110")
    assert pinned.content == latest.content
    assert pinned.headers["etag"] != latest.headers["etag"]


def test_expired_local_entries_are_recomputed(make_client: Callable[..., TestClient]) -> None:
    """With a TTL of 0 the local layer never answers: every request is computed."""
    with make_client(CMS_PRICING_TTL_PRICING=0) as client:
        assert client.get(PRICE).headers["x-cache"] == "miss"
        assert client.get(PRICE).headers["x-cache"] == "miss"
