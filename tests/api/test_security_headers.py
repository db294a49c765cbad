"""Every response carries nosniff, no-referrer and a CSP, whichever layer answers it: the fast
path (200, errors, 304), FastAPI's routes and errors, bulk CSV, plans, admin, /metrics, the
docs assets and an unexpected 500 (api/headers.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from cms_pricing.api import handlers
from cms_pricing.api.app import create_app
from cms_pricing.config import Settings

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
PRICE = "/codes/price?code=99213&zip=94110&year=2025"
PLAN = {"zip": "10001", "date": "2025-11-03", "lines": [{"code": "99213"}]}
CSV = {"content": b"code,zip\n99213,10001\n", "headers": {"content-type": "text/csv"}}

# (what answers, method, url, request keywords, expected status)
CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("fast path answer", "GET", PRICE, {}, 200),
    ("fast path error", "GET", "/codes/price?code=99213&zip=abc", {}, 400),
    ("fast path not found", "GET", "/reference/codes/ZZZZZ", {}, 404),
    ("fast path reference", "GET", "/reference/localities?zip=94110", {}, 200),
    ("operations", "GET", "/health", {}, 200),
    ("readiness", "GET", "/ready", {}, 200),
    ("FastAPI schema", "GET", "/openapi.json", {}, 200),
    ("FastAPI unknown path", "GET", "/no/such/endpoint", {}, 404),
    ("FastAPI wrong method", "DELETE", "/releases", {}, 405),
    ("bulk JSON", "POST", "/codes/price/bulk", {"json": {"lines": [{"code": "99213"}]}}, 200),
    ("bulk CSV", "POST", "/codes/price/bulk", CSV, 200),
    ("plan pricing", "POST", "/plans/price", {"json": PLAN}, 200),
    ("plan validation", "POST", "/plans/price", {"json": {"lines": []}}, 400),
    (
        "admin refused",
        "POST",
        "/admin/cache/invalidate",
        {"json": {}, "headers": {"X-API-Key": "not-a-key"}},
        401,
    ),
    ("metrics", "GET", "/metrics", {}, 200),
    ("docs logo", "GET", "/redoc/logo-mini.svg", {}, 200),
]


def assert_secured(response: Response, policy: str = JSON_POLICY) -> None:
    headers = response.headers
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("referrer-policy") == ["no-referrer"]
    assert headers.get_list("content-security-policy") == [policy]


@pytest.mark.parametrize(
    ("method", "url", "keywords", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_every_answer_class_carries_the_security_headers(
    client: TestClient, method: str, url: str, keywords: dict[str, Any], status: int
) -> None:
    """JSON, CSV, text and image answers, successes and errors, each get nosniff,
    no-referrer and the load-nothing CSP exactly once."""
    response = client.request(method, url, **keywords)
    assert response.status_code == status, response.text
    assert_secured(response)


def test_a_304_carries_the_security_headers(client: TestClient) -> None:
    """A conditional GET answered 304 from the fast path's cache still carries them."""
    etag = client.get(PRICE).headers["etag"]
    response = client.get(PRICE, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert_secured(response)


def test_docs_assets_carry_the_security_headers(client: TestClient) -> None:
    """Static assets (JS, CSS, PNG) get nosniff, so a browser never runs them as another type."""
    links = re.findall(r'(?:src|href)="(/docs/static/[^"]+)"', client.get("/docs").text)
    assert len(links) == 3
    for link in links:
        assert_secured(client.get(link))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_keep_their_own_policy(client: TestClient, page: str) -> None:
    """The docs pages send their own CSP (scripts and styles from 'self'), once, not the
    load-nothing one; nosniff and no-referrer are still added."""
    response = client.get(page)
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; script-src 'self'")
    assert_secured(response, policy)


def test_an_unexpected_500_carries_the_security_headers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that raises is answered by the 500 envelope, with the headers too."""

    def boom(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(handlers, "locate", boom)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/codes/price?code=99213&zip=94110&setting=facility")
    assert response.status_code == 500
    assert b"a bug" not in response.content and b"Traceback" not in response.content
    assert response.json()["error"]["code"] == "internal_error"
    assert_secured(response)
