"""Plan lines of OPPS and ASC: the rules between facility lines, wage places, /plans/sites.

Real data: RVU25A (in force 2025-01-01) and the ZIP file, the CY 2025 OPPS final rule
(Addenda B, D1), the January 2025 ASC addenda and the 2025 wage index, ingested into SQLite.
Figures (Addendum B, national): 45378 T 911.71 (minimum copayment 182.35), 43239 T 937.56
(187.52), 64483 T 890.29 (178.06), 66984 J1 2280.73 (456.15), 29881 J1 3244.61 (648.93),
96372 Q1 71.17, 36415 Q4 (no rate). Addendum AA: 45378 489.47, 43239 503.39, 66984 1214.31,
29881 1579.16, 64483 477.94, all discounted (Y). ``deductible_remaining: 0`` keeps the
beneficiary figures to copayments and coinsurance.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.api.plan_examples import SITES_EXAMPLE
from cms_pricing.api.plan_schemas import SITES_BODY_EXAMPLE
from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.reference.publish import ingest_path
from servers import new_key

SOURCES = (
    "2025/rvu25a",
    "2025/zip-locality-2025q4",
    "2025/clfs-2025q1",
    "2025/opps-cy2025-final-rule",
    "2025/asc-2025q1",
    "2025/opps-wage-index-2025",
)
DATE = "2025-03-03"


def D(text: str) -> Decimal:
    return Decimal(text)


def cent(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, cms_data: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('facility') / 'facility.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    for folder in SOURCES:
        ingest_path(engine, cms_data / folder, progress=lambda _line: None)
    engine.dispose()
    settings = Settings(DATABASE_URL=url, CMS_DATA_DIR=None)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        test_client.headers["X-API-Key"] = new_key(url, "read", "bulk", "plans:write")
        yield test_client


def price(client: TestClient, lines: list[dict[str, Any]], **plan: Any) -> dict[str, Any]:
    body = {"zip": "10001", "date": DATE, "deductible_remaining": "0", "lines": lines, **plan}
    response = client.post("/plans/price", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def opps(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "schedule": "opps", **fields}


def asc(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "schedule": "asc", **fields}


def allowed(answer: dict[str, Any]) -> list[str | None]:
    return [line["allowed"] for line in answer["lines"]]


def rules(line: dict[str, Any]) -> list[str]:
    return [a["rule"] for a in line["adjustments"]]


def test_opps_t_discount_colonoscopy_and_egd(client: TestClient) -> None:
    """45378 (T, 911.71) + 43239 (T, 937.56): 43239 ranks first and is paid in full;
    45378 x 50% = 455.855 -> 455.86. Total 1393.42. Copayments: 187.52 + 182.35 x 50% =
    91.175 -> 91.18; 278.70 (the deductible is met)."""
    answer = price(client, [opps("45378"), opps("43239")])
    assert allowed(answer) == ["455.86", "937.56"]
    assert answer["totals"]["allowed"] == "1393.42"
    first, second = answer["lines"]
    assert "opps_multiple_procedure" in rules(first)
    assert "opps_multiple_procedure" not in rules(second)
    cut = next(a for a in first["adjustments"] if a["rule"] == "opps_multiple_procedure")
    assert cut["percent"] == "50" and "ch. 4" in cut["citation"]
    assert (first["copayment"], second["copayment"]) == ("91.18", "187.52")
    assert answer["cost_sharing"]["coinsurance"] == "278.70"
    assert answer["cost_sharing"]["program"] == "1114.72"  # 1393.42 - 278.70


def test_opps_units_of_one_t_line(client: TestClient) -> None:
    """64483 (T, 890.29) x 2 units alone: unit 1 100%, unit 2 50%: 890.29 x 1.5 = 1335.435
    -> 1335.44; copayment 178.06 x 1.5 = 267.09. With 45378 (911.71, ranked first) both
    units are 50%: 890.29 x 1 = 890.29, copayment 178.06."""
    alone = price(client, [opps("64483", units=2)])
    assert allowed(alone) == ["1335.44"]
    assert alone["lines"][0]["copayment"] == "267.09"
    explained = [a["explanation"] for a in alone["lines"][0]["adjustments"]]
    assert any(text.startswith("unit 2:") for text in explained)
    both = price(client, [opps("45378"), opps("64483", units=2)])
    assert allowed(both) == ["911.71", "890.29"]
    assert both["lines"][1]["copayment"] == "178.06"


def test_opps_comprehensive_apc_knee_arthroscopy(client: TestClient) -> None:
    """29881 (J1, 3244.61) + 66984 (J1, 2280.73) + 45378 (T) + 96372 (Q1): the highest J1,
    29881, is the primary service; every other OPPS line is packaged into line 0 (0.00).
    Total 3244.61; copayment 648.93 only."""
    answer = price(client, [opps("29881"), opps("66984"), opps("45378"), opps("96372")])
    assert allowed(answer) == ["3244.61", "0.00", "0.00", "0.00"]
    assert [line["packaged_into"] for line in answer["lines"]] == [None, 0, 0, 0]
    assert "opps_comprehensive_apc" in rules(answer["lines"][0])
    words = answer["lines"][1]["adjustments"][-1]["explanation"]
    assert "line 0" in words and "Addendum J are not applied" in words
    assert answer["totals"]["allowed"] == "3244.61"
    assert answer["cost_sharing"]["coinsurance"] == "648.93"


def test_opps_cataract_alone(client: TestClient) -> None:
    """66984 (J1, national 2280.73) alone: the primary service, paid 2280.73; copayment
    456.15 (Addendum B's minimum unadjusted copayment, 20% of the rate rounded up)."""
    answer = price(client, [opps("66984")])
    assert allowed(answer) == ["2280.73"]
    assert answer["lines"][0]["copayment"] == "456.15"


def test_opps_conditional_packaging(client: TestClient) -> None:
    """96372 (Q1) with 45378 (T): packaged into line 0; alone it is paid 71.17. 36415 (Q4)
    with 45378: packaged; alone it is not paid under OPPS (CLFS: the note says so)."""
    with_t = price(client, [opps("45378"), opps("96372"), opps("36415")])
    assert allowed(with_t) == ["911.71", "0.00", "0.00"]
    assert [line["packaged_into"] for line in with_t["lines"]] == [None, 0, 0]
    assert with_t["lines"][1]["copayment"] == "0.00"
    assert allowed(price(client, [opps("96372")])) == ["71.17"]
    lab = price(client, [opps("36415")])["lines"][0]
    assert lab["allowed"] is None and lab["paid"] is False
    assert any("clfs line" in note for note in lab["notes"])


def test_asc_discount_colonoscopy_and_egd(client: TestClient) -> None:
    """ASC 45378 (489.47) + 43239 (503.39), both flagged Y: 43239 100%, 45378 x 50% =
    244.735 -> 244.74. Total 748.13; coinsurance 20% = 149.626 -> 149.63."""
    answer = price(client, [asc("45378"), asc("43239")])
    assert allowed(answer) == ["244.74", "503.39"]
    assert "asc_multiple_procedure" in rules(answer["lines"][0])
    assert "ch. 14" in answer["lines"][0]["adjustments"][-1]["citation"]
    assert answer["cost_sharing"]["coinsurance"] == "149.63"


def test_asc_epidural_and_knee(client: TestClient) -> None:
    """ASC 29881 (1579.16) + 64483 (477.94): 29881 100%, 64483 50% = 238.97. Total 1818.13."""
    answer = price(client, [asc("64483"), asc("29881")])
    assert allowed(answer) == ["238.97", "1579.16"]
    assert answer["totals"]["allowed"] == "1818.13"


def test_wage_index_plan_level_and_line_level(client: TestClient) -> None:
    """Plan wage_index 0.9 applies to line 0; line 1 has its own 1.2961. ASC (labor share
    50%): 66984 1214.31 x (0.5 x 0.9 + 0.5) = 1153.5945 -> 1153.59; 29881 1579.16 x
    (0.5 x 1.2961 + 0.5) = 1812.9456 -> 1812.95. Ranked by the adjusted payment, 29881 is
    paid in full and 66984 at 50%: 1153.59 x 50% = 576.795 -> 576.80."""
    answer = price(client, [asc("66984"), asc("29881", wage_index="1.2961")], wage_index="0.9")
    big = cent(D("1579.16") * (D("0.5") * D("1.2961") + D("0.5")))
    small = cent(D("1214.31") * (D("0.5") * D("0.9") + D("0.5")))
    assert big == D("1812.95") and small == D("1153.59")
    assert allowed(answer) == [str(cent(small * D("0.5"))), str(big)]
    geography = [dict(line["quote"].get("geography") or {}) for line in answer["lines"]]
    assert geography[0] != geography[1]


def test_cbsa_wage_adjusts_opps(client: TestClient) -> None:
    """A plan cbsa (35614, New York) wage-adjusts OPPS lines: 45378 is paid above its
    national 911.71 (labor share 60%); the MPFS line beside it is unchanged."""
    answer = price(client, [opps("45378"), {"code": "45378", "setting": "facility"}], cbsa="35614")
    assert D(answer["lines"][0]["allowed"]) > D("911.71")
    national = price(client, [{"code": "45378", "setting": "facility"}])
    assert answer["lines"][1]["allowed"] == national["lines"][0]["allowed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cbsa": "35614", "wage_index": "1.1", "lines": [opps("45378")]}, "wage_index"),
        ({"lines": [opps("45378", cbsa="35614", wage_index="1.1")]}, "lines.0.wage_index"),
        ({"lines": [{"code": "45378", "cbsa": "35614"}]}, "lines.0.cbsa"),
        (
            {"lines": [opps("45378"), {"code": "80053", "schedule": "clfs", "cbsa": "35614"}]},
            "lines.1.cbsa",
        ),
        ({"lines": [{"code": "45378", "wage_index": "1.1"}]}, "lines.0.wage_index"),
        ({"lines": [opps("45378", state="NY")]}, "lines.0.state"),
    ],
)
def test_refusals(client: TestClient, body: dict[str, Any], field: str) -> None:
    """Both cbsa and wage_index at one level, or either on a line of another schedule: 422."""
    response = client.post("/plans/price", json={"zip": "10001", "date": DATE, **body})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_saved_plan_keeps_cbsa_and_wage_index(client: TestClient) -> None:
    """A saved plan reads back with its plan-level cbsa and a line's wage_index."""
    body = {
        "name": "colonoscopy, NY",
        "zip": "10001",
        "date": DATE,
        "cbsa": "35614",
        "lines": [opps("45378"), asc("43239", wage_index="1.2961"), {"code": "45378"}],
    }
    created = client.post("/plans", json=body)
    assert created.status_code == 201, created.text
    read = client.get(f"/plans/{created.json()['id']}").json()["plan"]
    assert read["cbsa"] == "35614"
    assert read["lines"][1]["wage_index"] == "1.2961"
    assert "wage_index" not in read["lines"][0] and "cbsa" not in read["lines"][2]
    priced = client.get(f"/plans/{created.json()['id']}/price")
    assert priced.status_code == 200, priced.text


def test_plan_sites(client: TestClient) -> None:
    """45378 + 43239 at each site, national facility fees. Office: MPFS non-facility only.
    Hospital outpatient: MPFS facility + OPPS 937.56 + 455.86 (T discount) = 1393.42 of
    facility fees. ASC: MPFS facility + 503.39 + 244.74 = 748.13."""
    body = {
        "zip": "10001",
        "date": DATE,
        "deductible_remaining": "0",
        "lines": [{"code": "45378"}, {"code": "43239"}],
    }
    response = client.post("/plans/sites", json=body)
    assert response.status_code == 200, response.text
    sites = {s["site"]: s for s in response.json()["sites"]}
    assert set(sites) == {"office", "hospital_outpatient", "asc"}
    assert sites["office"]["totals"]["facility"] == "0.00"
    assert sites["hospital_outpatient"]["totals"]["facility"] == "1393.42"
    assert sites["asc"]["totals"]["facility"] == "748.13"
    office = D(sites["office"]["totals"]["allowed"])
    hopd = sites["hospital_outpatient"]
    assert D(hopd["difference"]["allowed"]) == D(hopd["totals"]["allowed"]) - office
    assert hopd["lines"][0]["facility"] == "455.86"
    assert response.json()["facility_fees"] == "national"


def test_plan_sites_inpatient_only(client: TestClient) -> None:
    """33533 (CABG) is OPPS status C (inpatient only) and not on the ASC list: both facility
    sites are not payable and say why (no made-up total); the office still answers."""
    body = {"zip": "10001", "date": DATE, "lines": [{"code": "33533"}]}
    response = client.post("/plans/sites", json=body)
    assert response.status_code == 200, response.text
    sites = {s["site"]: s for s in response.json()["sites"]}
    assert sites["hospital_outpatient"]["payable"] is False
    assert "inpatient" in sites["hospital_outpatient"]["reason"]
    assert sites["hospital_outpatient"]["totals"]["allowed"] is None
    assert sites["asc"]["payable"] is False
    assert sites["office"]["payable"] is True


def test_plan_sites_refuses_facility_lines(client: TestClient) -> None:
    body = {"zip": "10001", "lines": [opps("45378")]}
    response = client.post("/plans/sites", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "lines.0.schedule"


def test_the_documented_sites_example_is_a_real_answer(client: TestClient) -> None:
    """POST /plans/sites with the documented body answers the documented (abbreviated)
    example's figures: each site's totals, lines and differences."""
    response = client.post("/plans/sites", json=SITES_BODY_EXAMPLE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lowest"] == SITES_EXAMPLE["lowest"]
    for got, documented in zip(body["sites"], SITES_EXAMPLE["sites"], strict=True):
        assert got["site"] == documented["site"]
        for name in ("allowed", "professional", "facility"):
            assert got["totals"][name] == documented["totals"][name]
        assert got["beneficiary"] == documented["beneficiary"]
        assert got["difference"]["allowed"] == documented["difference"]["allowed"]
        figures = [(x["code"], x["professional"], x["facility"]) for x in got["lines"]]
        expected = [(x["code"], x["professional"], x["facility"]) for x in documented["lines"]]
        assert figures == expected
