"""GET /codes/{code}/sites: one procedure at the office, the hospital outpatient department
and the ambulatory surgical center, through the whole app on the real files.

The facility rates are read here from the CMS files' own text (Addendum B and Addendum AA,
with the ``csv`` module, not the service's parsers); the professional fees are the
service's own ``/codes/price`` answers (tested against the RVU files elsewhere). Each
docstring works the arithmetic by hand.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api import examples, schemas

CENT = Decimal("0.01")
OPPS_B = Path("2025/opps-cy2025-final-rule/2025 NFRM Addendum B.11122024.txt")
ASC_AA = Path("2025/asc-2025q1/508-Version-Jan-2025-ASC-AA.csv")
WAGE = Path("2025/opps-wage-index-2025/cbsa-wage-index-2025.csv")


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "").strip('"'))


@cache
def opps_rates(cms_data: Path) -> dict[str, tuple[str, Decimal]]:
    text = (cms_data / OPPS_B).read_bytes().decode("iso-8859-1")
    rows = csv.reader(io.StringIO(text), delimiter="\t")
    return {r[0]: (r[3].strip(), _money(r[6])) for r in rows if len(r) > 6 and r[6].startswith("$")
            and r[0] != "HCPCS Code"}  # fmt: skip


@cache
def asc_rates(cms_data: Path) -> dict[str, Decimal]:
    text = (cms_data / ASC_AA).read_bytes().decode("iso-8859-1")
    return {r[0]: _money(r[6]) for r in csv.reader(io.StringIO(text)) if len(r) > 6 and r[6]
            and r[6].startswith("$")}  # fmt: skip


@cache
def geographic_index(cms_data: Path, cbsa: str) -> Decimal:
    with (cms_data / WAGE).open() as handle:
        return next(Decimal(r["geographicWageIndex"]) for r in csv.DictReader(handle)
                    if r["cbsa"] == cbsa)  # fmt: skip


def sites(client: TestClient, code: str, query: str) -> dict[str, Any]:
    response = client.get(f"/codes/{code}/sites?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    schemas.SitesOut.model_validate(body)
    return body


def professional(client: TestClient, code: str, place: str, setting: str) -> Decimal:
    response = client.get(f"/codes/price?code={code}&{place}&setting={setting}")
    assert response.status_code == 200, response.text
    return Decimal(response.json()["amount"])


def by_site(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {site["site"]: site for site in body["sites"]}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def check_totals(site: dict[str, Any], parts: list[Decimal], share: Decimal) -> None:
    total = sum(parts, Decimal(0))
    assert Decimal(site["total"]) == total and site["total_cents"] == int(total * 100)
    assert Decimal(site["beneficiary"]) == share
    assert Decimal(site["medicare"]) == total - share


@pytest.mark.parametrize(
    ("code", "place", "cbsa"),
    [("45378", "zip=10001", "35614"),  # colonoscopy, Manhattan, New York CBSA
     ("66984", "zip=35004", "01"),  # cataract surgery, Alabama, Alabama's rural area
     ("43239", "zip=94110", "41884"),  # upper GI endoscopy with biopsy, San Francisco
     ("29881", "zip=60601", "16984"),  # knee arthroscopy with meniscectomy, Chicago
     ("64483", "zip=85004", "38060")],  # transforaminal epidural injection, Phoenix
)  # fmt: skip
def test_five_procedures_at_every_site(
    client: TestClient, cms_data: Path, code: str, place: str, cbsa: str
) -> None:
    """Each site's total is its professional fee plus its facility fee.

    45378 in Manhattan at CBSA 35614 (geographic wage index 1.2961), worked by hand:
    office: the MPFS non-facility amount, 378.23; beneficiary 20% = 75.65.
    hospital outpatient: MPFS facility 202.85 + OPPS 911.71 x (0.60 x 1.2961 + 0.40)
    = 911.71 x 1.17766 = 1,073.6844 -> 1,073.68; total 1,276.53; beneficiary 40.57 (20% of
    202.85) + the copayment, 20% of 1,073.68 = 214.736, rounded up to 214.74 (the way CMS's
    minimum copayments are rounded): 255.31.
    ASC: 202.85 + 489.47 x (0.50 x 1.2961 + 0.50) = 489.47 x 1.14805 = 561.936 -> 561.94;
    total 764.79; beneficiary 40.57 + 112.39 = 152.96. The office is the lowest total.
    The other four codes follow the same arithmetic at their own CBSA (all status T or J1 in
    Addendum B and A2 in Addendum AA, none with a national copayment).
    """
    body = sites(client, code, f"{place}&cbsa={cbsa}")
    found = by_site(body)
    wi = geographic_index(cms_data, cbsa)
    status, opps_rate = opps_rates(cms_data)[code]
    assert status in ("T", "J1")
    office_fee = professional(client, code, place, "office")
    facility_fee = professional(client, code, place, "facility")
    opps = cents(opps_rate * (Decimal("0.60") * wi + Decimal("0.40")))
    asc = cents(asc_rates(cms_data)[code] * (Decimal("0.50") * wi + Decimal("0.50")))
    prof_share = cents(facility_fee * Decimal("0.20"))
    check_totals(found["office"], [office_fee], cents(office_fee * Decimal("0.20")))
    copayment = min((opps * Decimal("0.20")).quantize(CENT, ROUND_CEILING), Decimal("1632.00"))
    check_totals(found["hospital_outpatient"], [facility_fee, opps], prof_share + copayment)
    check_totals(found["asc"], [facility_fee, asc], prof_share + cents(asc * Decimal("0.20")))
    assert Decimal(found["hospital_outpatient"]["facility"]["amount"]) == opps
    assert found["hospital_outpatient"]["facility"]["geography"]["wage_index"] == str(wi)
    assert Decimal(found["asc"]["difference_from_office"]) == (
        Decimal(found["asc"]["total"]) - Decimal(found["office"]["total"])
    )
    ranked = [s for s in body["sites"] if s["payable"] and not s["notes"]]
    assert body["lowest"] == min(ranked, key=lambda s: Decimal(s["total"]))["site"]


def test_without_a_wage_index_the_facility_fees_are_national(
    client: TestClient, cms_data: Path
) -> None:
    """29881 in Chicago without cbsa: OPPS 3,244.61 and ASC 1,579.16 as the files write
    them, labelled national; the copayment is Addendum B's minimum, 648.93."""
    body = sites(client, "29881", "zip=60601")
    assert body["place"]["facility_fees"] == "national"
    found = by_site(body)
    outpatient, asc = found["hospital_outpatient"]["facility"], found["asc"]["facility"]
    assert outpatient["amount"] == "3244.61" and asc["amount"] == "1579.16"
    assert outpatient["cost_sharing"]["copayment"] == "648.93"
    assert any("national" in note for note in body["notes"])
    given = sites(client, "29881", "zip=60601&wage_index=1")
    assert by_site(given)["hospital_outpatient"]["facility"]["amount"] == "3244.61"


def test_office_na_is_never_the_lowest(client: TestClient) -> None:
    """27447 (total knee arthroplasty) is NA in the office: shown with a note, not ranked.
    The OPPS copayment is capped at the inpatient deductible, 1,632.00: 20% of the
    wage-adjusted 15,152.74 would be 3,030.55. The ASC payment of a device-intensive (J8)
    procedure adjusts only its non-device part: 5,661.70 + (9,255.60 - 5,661.70) x 1.14805
    = 5,661.70 + 4,125.98 = 9,787.68."""
    body = sites(client, "27447", "zip=10001&cbsa=35614")
    found = by_site(body)
    assert found["office"]["notes"] and body["lowest"] == "asc"
    assert found["hospital_outpatient"]["facility"]["cost_sharing"]["copayment"] == "1632.00"
    assert found["asc"]["facility"]["amount"] == "9787.68"


def test_a_site_that_does_not_pay_says_why(client: TestClient) -> None:
    """50600 is inpatient only (status C): the hospital outpatient site is not payable and
    names the reason; no amount is made up. A state rural area with no pre-floor index (DC,
    09) cannot adjust an ASC payment: that site says so too."""
    body = sites(client, "50600", "zip=10001")
    outpatient = by_site(body)["hospital_outpatient"]
    assert outpatient["payable"] is False and outpatient["total"] is None
    assert "inpatient" in outpatient["reason"]
    dc = by_site(sites(client, "64483", "zip=20001&cbsa=09"))
    assert dc["asc"]["payable"] is False and "09" in dc["asc"]["reason"]
    assert dc["hospital_outpatient"]["facility"]["geography"]["column"] == "imputed_floor"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [("/codes/45378/sites?cbsa=35614", 422, "zip"),
     ("/codes/45378/sites?zip=10001&cbsa=35614&wage_index=1", 422, "wage_index"),
     ("/codes/45378/sites?zip=10001&cbsa=99999", 404, "cbsa"),
     ("/codes/45378/sites?zip=00000", 404, "zip"),
     ("/codes/ZZZZZ/sites?zip=10001", 404, "code"),
     ("/codes/45378/sites?zip=10001&schedule=opps", 400, "schedule"),
     ("/codes/4537/sites?zip=10001", 400, "code")],
)  # fmt: skip
def test_refusals(client: TestClient, path: str, status: int, field: str) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_the_example_is_a_real_answer(client: TestClient) -> None:
    """The documented example is this answer, less the hashes and times that change."""
    schemas.SitesOut.model_validate(examples.SITES)
    body = sites(client, "45378", "zip=10001&cbsa=35614")
    assert [s["total"] for s in body["sites"]] == [s["total"] for s in examples.SITES["sites"]]
