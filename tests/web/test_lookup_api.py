"""GET /codes/{code}/prices and GET /codes/{code}/localities on the real files, through the
whole app: each figure is the one ``GET /codes/price`` answers for the same inputs (whole
answers compared), every locality of the release is present, and bad input is a 4xx in the
one error envelope. Then the page itself: its headers, its assets and its CSP."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api import examples, schemas
from cms_pricing.api.lookup import POLICY
from servers import apps

PLACE_PARAMS = {
    "mpfs": ("zip", "locality", "setting"),
    "anesthesia": ("zip", "locality", "minutes"),
    "dmepos": ("zip",),
    "opps": ("cbsa",),
    "asc": ("cbsa",),
}


def ok(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def same_question(code: str, entry: dict[str, Any], asked: dict[str, str]) -> str:
    """The ``/codes/price`` query asking what ``entry`` of ``/codes/{code}/prices`` answers."""
    schedule = entry["schedule"]
    query = {"code": code} if schedule == "mpfs" else {"schedule": schedule, "code": code}
    query |= {k: v for k, v in asked.items() if k in PLACE_PARAMS.get(schedule, ())}
    answer = entry["answer"]
    if schedule == "dmepos":
        names = ("modifier", "modifier2", "modifier3")
        query |= dict(zip(names, answer["modifiers"], strict=False))
    if schedule == "asp":
        query["units"] = "1"
    return "/codes/price?" + urlencode(query)


@pytest.mark.parametrize(
    ("code", "asked"),
    [
        ("99213", {"zip": "94110"}),
        ("99213", {"locality": "0111205", "setting": "facility"}),
        ("45378", {"zip": "10001", "cbsa": "35614"}),
        ("80053", {"zip": "94110"}),
        ("E0601", {"zip": "94110"}),
        ("J1100", {"zip": "60601"}),
        ("00100", {"zip": "94110", "minutes": "60"}),
    ],
)
def test_every_schedule_answers_as_codes_price_does(
    client: TestClient, code: str, asked: dict[str, str]
) -> None:
    """Each schedule's entry carries the whole answer ``/codes/price`` gives for the same code,
    place and schedule, and its amount in cents and as a decimal string."""
    body = ok(client, f"/codes/{code}/prices?{urlencode(asked)}")
    schemas.CodePricesOut.model_validate(body)
    assert body["code"] == code and body["prices"]
    for entry in body["prices"]:
        assert entry["answer"] is not None, entry
        assert entry["answer"] == ok(client, same_question(code, entry, asked))
        assert entry["amount_cents"] == entry["answer"]["amount_cents"]
        assert entry["amount"] == entry["answer"]["amount"]
        assert entry["payable"] == entry["answer"]["payable"]
    listed = {e["schedule"] for e in body["prices"]}
    assert listed.isdisjoint(body["absent"])
    assert listed | set(body["absent"]) == {"mpfs", "clfs", "dmepos", "asp", "anesthesia",
                                            "opps", "asc"}  # fmt: skip


def test_prices_name_each_schedule_that_pays_the_code(client: TestClient) -> None:
    """45378 (a colonoscopy) is paid by the MPFS, OPPS and the ASC list; 80053 (a lab
    panel) by the CLFS only, the MPFS listing it as not paid under the fee schedule."""
    colonoscopy = ok(client, "/codes/45378/prices?zip=94110")
    payable = {e["schedule"] for e in colonoscopy["prices"] if e["payable"]}
    assert payable == {"mpfs", "opps", "asc"}
    panel = ok(client, "/codes/80053/prices?zip=94110")
    assert {e["schedule"] for e in panel["prices"] if e["payable"]} == {"clfs"}
    mpfs = next(e for e in panel["prices"] if e["schedule"] == "mpfs")
    assert mpfs["amount_cents"] is None and mpfs["reason"]


def test_anesthesia_without_minutes_is_listed_unpriced(client: TestClient) -> None:
    """An anesthesia code without ``minutes`` is listed with the reason, never a made-up sum."""
    body = ok(client, "/codes/00100/prices?zip=94110")
    entry = next(e for e in body["prices"] if e["schedule"] == "anesthesia")
    assert entry == {**entry, "payable": False, "amount_cents": None, "answer": None}
    assert "minutes" in entry["reason"]


def test_every_locality_at_once(client: TestClient) -> None:
    """All 109 localities of the release, each the amount ``/codes/price`` answers there,
    with the lowest and highest named."""
    body = ok(client, "/codes/99213/localities?setting=facility")
    schemas.CodeAreasOut.model_validate(body)
    release = body["release"]["id"]
    listed = ok(client, f"/reference/localities?release={release}")["localities"]
    assert [a["area"] for a in body["areas"]] == [x["carrier_locality"] for x in listed]
    assert body["count"] == len(body["areas"]) == 109
    for area in body["areas"]:
        query = urlencode({"code": "99213", "locality": area["area"], "setting": "facility",
                           "release": release})  # fmt: skip
        single = ok(client, f"/codes/price?{query}")
        assert (area["amount_cents"], area["amount"]) == (
            single["amount_cents"],
            single["amount"],
        )
        assert area["state"] == single["geography"]["state"]
    cheapest = min(body["areas"], key=lambda a: a["amount_cents"])
    dearest = max(body["areas"], key=lambda a: a["amount_cents"])
    assert body["lowest"]["amount_cents"] == cheapest["amount_cents"]
    assert body["highest"]["amount_cents"] == dearest["amount_cents"]


def test_dmepos_in_every_state(client: TestClient) -> None:
    """``schedule=dmepos``: one fee per state with a fee column, each as ``/codes/price``
    answers it for that state."""
    body = ok(client, "/codes/E0601/localities?schedule=dmepos&modifier=RR")
    schemas.CodeAreasOut.model_validate(body)
    assert body["kind"] == "state" and body["modifiers"] == ["RR"]
    assert body["count"] >= 50
    for area in body["areas"]:
        query = urlencode({"schedule": "dmepos", "code": "E0601", "modifier": "RR",
                           "state": area["area"], "release": body["release"]["id"]})  # fmt: skip
        assert area["amount_cents"] == ok(client, f"/codes/price?{query}")["amount_cents"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/codes/99213/prices?zip=00000", 404, "zip"),
        ("/codes/99213/prices?zip=9411", 400, "zip"),
        ("/codes/99213/prices?locality=9999999", 404, "locality"),
        ("/codes/99213/prices", 422, "zip"),
        ("/codes/99213/prices?zip=94110&locality=0111205", 422, "locality"),
        ("/codes/99213/prices?zip=94110&setting=home", 400, "setting"),
        ("/codes/99213/prices?zip=94110&minutes=0", 400, "minutes"),
        ("/codes/99213/prices?zip=94110&cbsa=1", 400, "cbsa"),
        ("/codes/99213/prices?zip=94110&bogus=1", 400, "bogus"),
        ("/codes/992%2013/prices?zip=94110", 400, "code"),
        ("/codes/ZZZZZ/prices?zip=94110", 404, "code"),
        ("/codes/99213/localities?schedule=clfs", 422, "schedule"),
        ("/codes/99213/localities?modifier2=RR", 422, "modifier2"),
        ("/codes/E0601/localities?schedule=dmepos&setting=office", 422, "setting"),
        ("/codes/E0601/localities?schedule=dmepos", 404, "modifier"),
        ("/codes/99213/localities?modifier=QW", 422, "modifier"),
        ("/codes/99213/localities?release=RVU99Z", 404, "release"),
        ("/codes/99213/localities?date=2024-01-01", 404, "date"),
        ("/codes/ZZZZZ/localities", 404, "code"),
    ],
)
def test_bad_input_is_a_4xx_envelope(
    client: TestClient, path: str, status: int, field: str
) -> None:
    """Bad input is a 4xx in the one envelope naming the field, never a 500."""
    response = client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    schemas.ErrorEnvelope.model_validate(body)
    assert body["error"]["details"]["field"] == field


def test_answers_are_cached_by_canonical_query(client: TestClient) -> None:
    """Two spellings of one question share one cached answer and ETag; the ETag revalidates."""
    first = client.get("/codes/99214/prices?zip=94110&setting=office")
    again = client.get("/codes/99214/prices?setting=OFFICE&zip=94110")
    assert first.status_code == again.status_code == 200
    assert first.headers["etag"] == again.headers["etag"]
    assert again.headers["x-cache"] == "local" and first.content == again.content
    assert "max-age" in first.headers["cache-control"]
    revalidated = client.get(
        "/codes/99214/prices?zip=94110", headers={"If-None-Match": first.headers["etag"]}
    )
    assert revalidated.status_code == 304
    areas = client.get("/codes/99214/localities")
    assert (
        client.get("/codes/99214/localities?setting=office").headers["etag"]
        == (areas.headers["etag"])
    )


def test_descriptors_only_when_configured(ingested_url: str) -> None:
    """No AMA descriptor unless ``CMS_PRICING_SERVE_DESCRIPTORS`` is on."""
    with apps(DATABASE_URL=ingested_url, CMS_DATA_DIR=None) as build:
        plain = build().get("/codes/99213/prices?zip=94110").json()
        licensed = build(CMS_PRICING_SERVE_DESCRIPTORS=True)
        described = licensed.get("/codes/99213/prices?zip=94110").json()
    assert "description" not in plain
    assert isinstance(described["description"], str) and described["description"]
    schemas.CodePricesOut.model_validate(described)


@pytest.mark.parametrize(
    ("example", "model"),
    [(examples.CODE_PRICES, schemas.CodePricesOut),
     (examples.CODE_LOCALITIES, schemas.CodeAreasOut)],
)  # fmt: skip
def test_examples_match_their_schemas(example: dict[str, Any], model: Any) -> None:
    """The documented examples validate against the schemas the endpoints declare."""
    model.model_validate(example)


def test_both_endpoints_are_documented(client: TestClient) -> None:
    """Both endpoints are in /openapi.json with their parameters; the page is not."""
    paths = client.get("/openapi.json").json()["paths"]
    prices = paths["/codes/{code}/prices"]["get"]
    assert {p["name"] for p in prices["parameters"]} >= {"code", "zip", "locality", "date"}
    assert "/codes/{code}/localities" in paths
    assert "/" not in paths and "/lookup" not in paths


# -- the page --------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)


@pytest.mark.parametrize("path", ["/", "/lookup", "/lookup?codes=99213,99214&where=94110"])
def test_the_page_is_served_with_a_self_only_policy(client: TestClient, path: str) -> None:
    """The page: HTML with the labelled fields, one external script and no inline one, a CSP
    naming 'self' only, revalidated on every load."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == POLICY
    assert "'unsafe-inline'" not in POLICY and "http" not in POLICY
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    scripts = SCRIPT.findall(html)
    assert len(scripts) == 1 and scripts[0][1].strip() == ""
    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)  # no inline handler
    assert '<label for="codes">Codes</label>' in html
    assert '<label for="where">ZIP or locality</label>' in html
    assert "{{" not in html and "http://" not in html and "https://" not in html


def test_assets_are_immutable_by_digest(client: TestClient) -> None:
    """Each asset's URL names its digest: immutable there, ``no-cache`` under another digest;
    an unknown name is a 404 envelope."""
    html = client.get("/").text
    urls = re.findall(r'(?:src|href)="(/lookup/static/[0-9a-f]{16}/[a-z.]+)"', html)
    assert {u.rsplit("/", 1)[1] for u in urls} == {"lookup.js", "lookup.css", "icon.svg"}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
    other = client.get("/lookup/static/0000000000000000/lookup.js")
    assert other.status_code == 200 and other.headers["cache-control"] == "no-cache"
    assert client.get("/lookup/static/0000000000000000/secrets.txt").status_code == 404
    assert (
        client.get("/lookup/static/0000000000000000/lookup.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )


def test_the_page_says_when_keys_are_required(ingested_url: str) -> None:
    """With keys required the page is still served (it asks for a key), and says so."""
    settings: dict[str, Any] = {"DATABASE_URL": ingested_url, "CMS_DATA_DIR": None}
    with apps(**settings) as build:
        required = build(CMS_PRICING_REQUIRE_KEYS=True).get("/")
        optional = build().get("/")
    assert required.status_code == 200 and 'data-keys="required"' in required.text
    assert 'data-keys="optional"' in optional.text


LOOKUP_REDIS = "redis://127.0.0.1:6379/11"  # tests/web's own database (tests/cache: 5-9)


def test_the_locality_chart_is_shared_through_redis(ingested_url: str) -> None:
    """Every locality's MPFS price (109 prices) is computed once for all instances: a second
    instance answers it from Redis, byte for byte with the same ETag. The DMEPOS chart is
    not shared (its dataset is not in the shared key's release scope)."""
    import redis  # noqa: PLC0415 - only this test talks to Redis

    store = redis.Redis.from_url(LOOKUP_REDIS)
    store.flushdb()
    try:
        with apps(DATABASE_URL=ingested_url, CMS_DATA_DIR=None, REDIS_URL=LOOKUP_REDIS) as build:
            first, second = build(), build()
            computed = first.get("/codes/99213/localities?setting=facility")
            shared = second.get("/codes/99213/localities?setting=facility")
            dme = "/codes/E0601/localities?schedule=dmepos&modifier=RR"
            first.get(dme)
            local_only = second.get(dme)
    finally:
        store.flushdb()
        store.close()
    assert (computed.headers["x-cache"], shared.headers["x-cache"]) == ("miss", "redis")
    assert shared.content == computed.content
    assert shared.headers["etag"] == computed.headers["etag"]
    assert local_only.headers["x-cache"] == "miss"
