"""Property: every raw query either gets the answer of its canonical form or is refused,
with or without a warm cache (issue 10, item 1).

Raw query strings are drawn from a grammar of real and bogus names, valid and invalid
values, percent-encoded spellings (including encoded ``&`` and ``=``), blanks, repeats and
padding, and sent through the whole ASGI app (boundary, fast path, caches) with the raw bytes
untouched. The expected answer is computed without any cache: the handler applied to the
parsed query. Between examples the local cache is sometimes dropped, so both cold and warm
lookups (raw aliases and canonical entries left by earlier, different queries) are tried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms_pricing.api import handlers, wire
from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.errors import PricingError
from cms_pricing.service import queries
from cms_pricing.service.state import Reply, ServiceState

VALUES: dict[str, list[str]] = {
    "code": ["99213", "99214", "g0121", "0446T", "ABCDE", "9921", "99213 ", "70551"],
    "zip": ["94110", "10001", "94110-1234", "941101234", "00000", "9411", "99999"],
    "locality": ["0111205", "1320201", "011120"],
    "setting": ["office", "FACILITY", "Office", "home"],
    "pos": ["11", "3", "03", "22", "100", "22&zip=10001"],
    "modifier": ["", "26", "tc", "53", "59"],
    "date": ["2025-01-01", "2025-07-02", "2025-W27-3", "2024-12-31"],
    "year": ["2025", "2024", "25"],
    "release": ["rvu25a", "RVU25D", "RVU99X", ""],
}
NAMES = [*VALUES, "bogus", "Code", "zip ", ""]


def _encode(text: str, how: int) -> str:
    if how == 0:
        return text.replace(" ", "+").replace("&", "%26").replace("=", "%3D")
    if how == 1:
        return quote(text, safe="")
    return "".join(f"%{b:02X}" for b in text.encode())  # every byte encoded


@st.composite
def raw_queries(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(NAMES))
        value = draw(st.sampled_from(VALUES.get(name, ["1", ""])))
        how = draw(st.integers(0, 2))
        if draw(st.booleans()):
            parts.append(f"{_encode(name, how)}={_encode(value, how)}")
        else:
            parts.append(_encode(name, how))
    base = draw(st.sampled_from([["code=99213", "zip=94110"], ["code=99214", "zip=10001"], []]))
    mixed = draw(st.permutations([*base, *parts]))
    return "&".join(mixed)


@pytest.fixture(scope="module")
def app_and_state(ingested_url: str) -> Iterator[tuple[TestClient, Any, ServiceState]]:
    settings_ = Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)
    state = ServiceState(settings_)
    app = create_app(settings_, state)
    with TestClient(app) as client:
        yield client, app, state


async def _asgi_get(app: Any, path: str, query: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": query, "headers": [], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": ""}  # fmt: skip
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def _parsed(raw: str) -> tuple[Any, PricingError | None]:
    try:
        return queries.price_query(raw), None
    except PricingError as exc:
        return None, exc


def _expected(state: ServiceState, typed: Any) -> tuple[int, bytes]:
    try:
        result = handlers.price(state, typed)
    except PricingError as exc:
        return exc.status_code, exc.body()
    reply = result if isinstance(result, Reply) else Reply(200, wire.dumps(result))
    return reply.status, reply.body


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=raw_queries(), cold=st.booleans())
def test_every_query_gets_its_canonical_answer_or_is_refused(
    app_and_state: tuple[TestClient, Any, ServiceState], raw: str, cold: bool
) -> None:
    """Same status and bytes as the uncached answer of the canonical query, or a 400."""
    client, app, state = app_and_state
    if cold:
        state.drop_local()
    status, body = client.portal.call(_asgi_get, app, "/codes/price", raw.encode())  # type: ignore[union-attr]
    typed, refused = _parsed(raw)
    if refused is not None:  # 400, or 422 for fields that do not combine
        assert (status, body) == (refused.status_code, refused.body()), raw
        assert refused.status_code in (400, 422)
        return
    assert (status, body) == _expected(state, typed), raw
    canonical = queries.price_canonical(typed).encode()
    again = client.portal.call(_asgi_get, app, "/codes/price", canonical)  # type: ignore[union-attr]
    assert again == (status, body), raw
