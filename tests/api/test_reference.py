"""Reference lookups, releases, health and docs over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cms_pricing.api import schemas
from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from servers import eventually


def test_all_localities_with_gpcis(client: TestClient) -> None:
    """Without a ZIP the answer lists all 109 localities of the release, keyed MAC+locality."""
    response = client.get("/reference/localities?year=2025")
    assert response.status_code == 200
    body = schemas.LocalitiesOut.model_validate(response.json())
    assert body.localities is not None and len(body.localities) == 109
    keys = {x.carrier_locality for x in body.localities}
    assert len(keys) == 109 and "0111205" in keys
    alaska = next(x for x in body.localities if x.state == "AK")
    assert alaska.gpci.work == "1.500"


def test_locality_of_a_zip(client: TestClient) -> None:
    """A ZIP answers its geography and its locality's GPCIs and anesthesia CF."""
    response = client.get("/reference/localities?zip=94110")
    assert response.status_code == 200
    body = schemas.LocalitiesOut.model_validate(response.json())
    assert body.geography is not None and body.locality is not None
    assert body.locality.carrier_locality == "0111205"
    assert body.locality.gpci.pe == "1.419"
    assert body.locality.anesthesia_cf is not None


def test_code_reference_rows_without_descriptors(client: TestClient) -> None:
    """A PC/TC-1 code lists its global, 26 and TC rows; no AMA descriptor by default."""
    response = client.get("/reference/codes/71046?release=RVU25D")
    assert response.status_code == 200
    body = schemas.CodeOut.model_validate(response.json())
    assert [r.modifier for r in body.rows] == ["", "26", "TC"]
    assert all(r.description is None for r in body.rows)
    assert "description" not in response.text


def test_unknown_code_reference_is_404(client: TestClient) -> None:
    """An unknown code is a 404 in the envelope; a malformed one a 400."""
    assert client.get("/reference/codes/ZZZZZ").status_code == 404
    assert client.get("/reference/codes/99213x").json()["error"]["code"] == "bad_request"


def test_releases_lists_every_release_with_hashes(client: TestClient) -> None:
    """/releases names the four 2025 releases, their dates, files and hashes, and the ZIP file;
    none was replaced by a correction."""
    response = client.get("/releases")
    body = schemas.ReleasesOut.model_validate(response.json())
    assert [(r.id, r.effective_from) for r in body.releases] == [
        ("RVU25A", "2025-01-01"),
        ("RVU25B", "2025-04-01"),
        ("RVU25C", "2025-07-01"),
        ("RVU25D", "2025-10-01"),
    ]
    assert body.releases[0].effective_to == "2025-03-31"
    assert {f.kind for f in body.releases[0].files} == {
        "pprrvu",
        "gpci",
        "locco",
        "anes",
        "oppscap",
    }
    assert [z.year_quarter for z in body.zip_datasets] == ["20254"]
    # Nothing was corrected: every dataset's list of replaced versions is empty.
    listed = [*body.releases, *body.zip_datasets, *body.datasets]
    assert [d.replaced for d in listed] == [[]] * len(listed)


def test_health_ready_and_docs(client: TestClient) -> None:
    """/health and /ready answer 200 with data loaded; /docs and the OpenAPI schema are served."""
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/codes/price", "/reference/localities", "/reference/codes/{code}"} <= set(paths)


def _ready(client: TestClient) -> tuple[int, Any]:
    response = client.get("/ready")
    return response.status_code, response.json()


READY = {
    "status": "ready",
    "release_loaded": True,
    "database": "ok",
    "redis": "disabled",
    "rate_limits": "off",  # the suite runs with CMS_PRICING_RATE_LIMITS=false (tests/conftest)
    "releases": ["RVU25A", "RVU25B", "RVU25C", "RVU25D"],
}


def test_ready_does_not_wait_for_the_expensive_work_children(settings: Settings) -> None:
    """As soon as the lifespan has started, /ready is 200 with the worker's data loaded
    while its expensive-work child still loads (``expensive: warming``); a plan priced
    meanwhile waits for that child and is answered; then /ready says ``ready``."""
    plan = {"zip": "94110", "date": "2025-11-03", "lines": [{"code": "99213"}]}
    with TestClient(create_app(settings)) as fresh:
        assert _ready(fresh) == (200, {**READY, "expensive": "warming"})
        assert fresh.post("/plans/price", json=plan).status_code == 200
        assert eventually(lambda: _ready(fresh)[1]["expensive"] == "ready", 30) is not None
        assert _ready(fresh) == (200, {**READY, "expensive": "ready"})


def test_ready_says_off_without_expensive_work_children(ingested_url: str) -> None:
    """With ``CMS_PRICING_EXPENSIVE_PROCESSES=0`` the work runs in the worker: ``off``."""
    settings = Settings(DATABASE_URL=ingested_url, CMS_PRICING_EXPENSIVE_PROCESSES=0)
    with TestClient(create_app(settings)) as inline:
        assert _ready(inline) == (200, {**READY, "expensive": "off"})


def test_descriptors_only_when_the_setting_allows(ingested_url: str) -> None:
    """CMS_PRICING_SERVE_DESCRIPTORS=true adds each row's descriptor (a licence decision)."""
    settings = Settings(DATABASE_URL=ingested_url, CMS_PRICING_SERVE_DESCRIPTORS=True)
    with TestClient(create_app(settings)) as licensed:
        body = schemas.CodeOut.model_validate(licensed.get("/reference/codes/99213").json())
    assert body.rows[0].description
