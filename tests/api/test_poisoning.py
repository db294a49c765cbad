"""No request can change what another caller gets (issue 10's cache-poisoning variants).

Each variant used to answer 400 and then make the valid query answer 400 to every caller of
the worker for the class TTL (or the reverse: a bad query answered 200 from the valid
query's cached entry). Both orders are checked here, through the whole app (fast path and
caches) and through the documented routes alone.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

VALID = "/codes/price?code=99214&zip=10001"
VARIANTS = [
    (VALID, VALID + "&bogus="),
    (VALID, VALID + "&zip="),
    (VALID, VALID + "&code="),
    (VALID, VALID + "&bogus"),
    (VALID, "/codes/price?code=99214&zip=10001&pos=22%26zip%3D10001"),
    (VALID, "/codes/price?code=99214&pos=22%26zip%3D10001"),
    ("/reference/localities?zip=94110", "/reference/localities?zip=94110&foo="),
    ("/releases", "/releases?x="),
    ("/reference/codes/99213", "/reference/codes/99213?bogus="),
]


def _answer(client: TestClient, url: str) -> tuple[int, bytes]:
    response = client.get(url)
    return response.status_code, response.content


@pytest.mark.parametrize(("valid", "bad"), VARIANTS)
@pytest.mark.parametrize("which", ["client", "routes_only"])
def test_a_bad_query_leaves_the_valid_answer_intact(
    valid: str, bad: str, which: str, request: pytest.FixtureRequest
) -> None:
    """valid -> bad (x3) -> valid: the bad one is 400 every time, the valid one unchanged."""
    client: TestClient = request.getfixturevalue(which)
    before = _answer(client, valid)
    assert before[0] == 200
    for _ in range(3):
        status, body = _answer(client, bad)
        assert status == 400, body
        assert b'"bad_request"' in body
    assert _answer(client, valid) == before


@pytest.mark.parametrize(("valid", "bad"), VARIANTS)
def test_a_bad_query_first_does_not_poison_the_valid_one(
    valid: str, bad: str, empty_cache_client: TestClient
) -> None:
    """bad first (cold cache), then valid: the valid query is answered 200."""
    assert empty_cache_client.get(bad).status_code == 400
    assert empty_cache_client.get(valid).status_code == 200
    assert empty_cache_client.get(bad).status_code == 400


@pytest.mark.parametrize(
    "alias",
    [VALID + "&release=", VALID + "&modifier=", "/codes/price?zip=10001&code=99214",
 "/codes/price?code=99214&zip=10001&setting=Office"],
)  # fmt: skip
def test_equivalent_spellings_get_the_valid_answer(alias: str, client: TestClient) -> None:
    """A blank known parameter, another order, case or padding is the same query: the same
    bytes as the valid one, before and after it is cached."""
    before = _answer(client, VALID)
    assert _answer(client, alias) == before
    assert _answer(client, VALID) == before


def test_huge_values_are_refused_without_echoing_them(client: TestClient) -> None:
    """A 60,000-character zip is a 414 (over the query limit); a 8,000-character one is a 400
    whose body quotes only a bounded part of it."""
    assert client.get("/codes/price?code=99213&zip=" + "9" * 60_000).status_code == 414
    response = client.get("/codes/price?code=99213&zip=" + "9" * 8_000)
    assert response.status_code == 400
    assert len(response.content) < 400
    assert response.headers["cache-control"] == "no-store"
