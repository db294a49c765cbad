"""The express lane (``api/express.py``) answers exactly as the layered stack behind it.

Two apps on the session's database, each with its own state and caches: one is called
through ``Express`` (the fast path's GETs in one call), the other through its ``stack``
(security headers, request ids and metrics, boundary, limits, fast path), with the same
requests in the same order. Status, every header but a generated request id, and body
must match, for distinct computed queries drawn from the real data, for the refusals of
every layer, for conditional requests, with keys required and with rate limits on.
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any

import pytest

from cms_pricing.api.app import create_app
from cms_pricing.api.express import Express
from cms_pricing.config import Settings
from cms_pricing.service.state import ServiceState

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

REFUSALS = [
    "/codes/price?code=99213",  # zip or locality is required
    "/codes/price?code=99213&zip=2000",  # malformed ZIP
    "/codes/price?code=99213&zip=99999",  # unknown ZIP
    "/codes/price?code=ZZZZZ&zip=94110",  # unknown code
    "/codes/price?code=99213&zip=94110&zip=94110",  # repeated parameter
    "/codes/price?code=99213&zip=94110&bogus=1",  # unknown parameter
    "/codes/price?code=99213&zip=94110&pos=22&setting=office",  # disagreeing place
    "/codes/price?code=99213&zip=94110&date=2025-13-01",
    "/codes/price?code=99213&zip=94110&release=RVU19A",
    "/codes/price?code=%FF&zip=94110",
    "/codes/price?code=99213&zip=94110&" + "x" * 9000,  # 414 from the limits layer
    "/codes/price?schedule=clfs&code=80053",
    "/codes/price?code=99213&locality=0111205&modifier=26",
    "/reference/localities?zip=94110",
    "/reference/schedules",
    "/releases",
    "/health",
]


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "method": "GET",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "asgi": {"version": "3.0"},
    }


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> Answer:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, headers), receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], list(start["headers"]), body


def _comparable(answer: Answer, request_id: bytes | None) -> Answer:
    """Without a generated request id (an echoed one must match) and the seconds to reset."""
    status, headers, body = answer
    kept = []
    for name, value in headers:
        if name == b"x-request-id" and request_id is None:
            assert value  # made up, so never the same twice
            continue
        kept.append((name, re.sub(rb";t=\d+", b";t=T", value)))
    return status, kept, body


def _distinct(state: ServiceState, size: int, seed: int) -> list[str]:
    """Distinct ``/codes/price`` queries over the real data: codes of the latest release,
    every ZIP, both settings, some places of service, dates across 2025."""
    snapshot = state.loaded.snapshot
    release = snapshot.select_release()
    codes = sorted(release.codes)
    zips = sorted(snapshot.zips)
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < size:
        query = f"code={rng.choice(codes)}&zip={rng.choice(zips)}"
        pick = rng.random()
        if pick < 0.3:
            query += "&setting=facility"
        elif pick < 0.5:
            query += f"&pos={rng.choice(['02', '10', '11', '19', '21', '22', '23'])}"
        if rng.random() < 0.5:
            query += f"&date=2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        out.add("/codes/price?" + query)
    return sorted(out)


@pytest.fixture(scope="module")
def pair(settings: Settings) -> tuple[Express, Any, ServiceState]:
    """(express app, the stack of a twin app, a loaded state): response cache as shipped."""
    return _pair(settings)


def _pair(settings: Settings) -> tuple[Express, Any, ServiceState]:
    states = [ServiceState(settings), ServiceState(settings)]
    for state in states:
        state.load()
    express, twin = (create_app(settings, state) for state in states)
    assert isinstance(express, Express) and isinstance(twin, Express)
    return express, twin.stack, states[0]


def _same(express: Any, stack: Any, paths: list[str], headers: list[tuple[bytes, bytes]]) -> int:
    given_id = next((value for name, value in headers if name == b"x-request-id"), None)

    async def run() -> int:
        compared = 0
        for path in paths:
            fast = await _call(express, path, headers)
            slow = await _call(stack, path, headers)
            assert _comparable(fast, given_id) == _comparable(slow, given_id), path
            etag = dict(fast[1]).get(b"etag")
            if etag is not None:  # the conditional request: 304 from both
                again = [*headers, (b"if-none-match", etag)]
                fast_304 = await _call(express, path, again)
                assert fast_304[0] == 304
                assert _comparable(fast_304, given_id) == _comparable(
                    await _call(stack, path, again), given_id
                )
            compared += 1
        return compared

    return asyncio.run(run())


def test_distinct_queries_and_refusals_answer_alike(
    pair: tuple[Express, Any, ServiceState],
) -> None:
    express, stack, state = pair
    paths = _distinct(state, 1500, seed=14) + REFUSALS
    assert _same(express, stack, paths, []) == len(paths)
    statuses = {asyncio.run(_call(express, p, []))[0] for p in REFUSALS}
    assert {400, 404, 414, 422} <= statuses  # the refusals of each layer were compared


def test_an_echoed_request_id_and_cache_hits_answer_alike(
    pair: tuple[Express, Any, ServiceState],
) -> None:
    express, stack, state = pair
    paths = _distinct(state, 200, seed=15)
    headers = [(b"x-request-id", b"test-express-1")]
    _same(express, stack, paths, headers)
    _same(express, stack, paths, headers)  # now answered by each app's local cache
    status, answer_headers, _ = asyncio.run(_call(express, paths[0], headers))
    assert status == 200
    assert (b"x-cache", b"local") in answer_headers
    assert (b"x-request-id", b"test-express-1") in answer_headers


@pytest.mark.parametrize(
    "environment",
    [
        {"CMS_PRICING_REQUIRE_KEYS": "true"},
        {"CMS_PRICING_RATE_LIMITS": "true", "CMS_PRICING_ANON_LIMIT_READ": "40/min"},
        {"CMS_PRICING_RESPONSE_CACHE_SIZE": "0", "CMS_PRICING_METRICS": "false"},
    ],
    ids=["keys-required", "rate-limited", "no-cache-no-metrics"],
)
def test_every_setting_answers_alike(
    ingested_url: str, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)
    express, stack, state = _pair(settings)
    paths = _distinct(state, 60, seed=16) + REFUSALS
    _same(express, stack, paths, [])
    statuses = {asyncio.run(_call(express, p, []))[0] for p in paths[:3]}
    if "CMS_PRICING_REQUIRE_KEYS" in environment:
        assert statuses == {401}
    if "CMS_PRICING_RATE_LIMITS" in environment:
        assert statuses == {429}  # 40 a minute, long spent by the comparison


def test_a_failure_inside_is_the_500_envelope_of_the_stack(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    express, stack, _state = _pair(settings)

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("boom: SELECT secret FROM keys")

    for app in (express, stack):  # the twin's answerer is another object: break both
        monkeypatch.setattr(app.answerer, "answer", broken)
    path = "/codes/price?code=99213&zip=94110"
    fast = asyncio.run(_call(express, path, []))
    slow = asyncio.run(_call(stack, path, []))
    assert fast[0] == 500
    assert _comparable(fast, None) == _comparable(slow, None)
    assert b"boom" not in fast[2] and b"SELECT" not in fast[2]
    assert any(name == b"x-request-id" for name, _value in fast[1])
