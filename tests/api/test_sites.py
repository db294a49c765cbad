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


def check_sites(
    client: TestClient, cms_data: Path, code: str, place: str, cbsa: str
) -> dict[str, dict[str, Any]]:
    """Each site's total is its professional fee plus its facility fee, recomputed here from
    the files' text: OPPS rate x (0.60 x WI + 0.40), ASC rate x (0.50 x WI + 0.50), the
    geographic wage index of ``cbsa``; beneficiary: 20% of the professional fee plus the
    OPPS copayment (20% of the adjusted rate rounded up, capped at 1,632.00) or 20% of the
    ASC payment. Returns the sites by name."""
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
    for site in found.values():
        assert Decimal(site["difference_from_office"]) == (
            Decimal(site["total"]) - Decimal(found["office"]["total"])
        )
    ranked = [s for s in body["sites"] if s["payable"] and not s["notes"]]
    assert body["lowest"] == min(ranked, key=lambda s: Decimal(s["total"]))["site"]
    return found


def totals(found: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(name, site["total"], site["beneficiary"]) for name, site in found.items()]


def test_colonoscopy_45378_in_manhattan(client: TestClient, cms_data: Path) -> None:
    """45378 (diagnostic colonoscopy), ZIP 10001 (Manhattan, RVU25D), CBSA 35614 (1.2961).
    office: MPFS non-facility 378.23; beneficiary 20% = 75.65.
    hospital outpatient: MPFS facility 202.85 + OPPS (T) 911.71 x (0.60 x 1.2961 + 0.40)
    = 911.71 x 1.17766 = 1,073.6844 -> 1,073.68; total 1,276.53; beneficiary 40.57 + the
    copayment 20% x 1,073.68 = 214.736, rounded up to 214.74 (as CMS rounds the minimum
    copayment): 255.31.
    ASC: 202.85 + 489.47 (A2) x (0.50 x 1.2961 + 0.50) = 489.47 x 1.14805 = 561.936 ->
    561.94; total 764.79; beneficiary 40.57 + 112.39 = 152.96. Lowest: the office."""
    found = check_sites(client, cms_data, "45378", "zip=10001", "35614")
    assert totals(found) == [("office", "378.23", "75.65"),
                             ("hospital_outpatient", "1276.53", "255.31"),
                             ("asc", "764.79", "152.96")]  # fmt: skip


def test_cataract_66984_in_rural_alabama(client: TestClient, cms_data: Path) -> None:
    """66984 (cataract removal with lens), ZIP 35004 (Alabama), state rural area 01 (0.7579).
    office: CMS marks the non-facility setting NA, so the office amount (479.31, computed
    with the facility PE as CMS publishes it) carries a note and is not ranked.
    hospital outpatient: 479.31 + OPPS (J1) 2,280.73 x (0.60 x 0.7579 + 0.40) = 2,280.73 x
    0.85474 = 1,949.431 -> 1,949.43; total 2,428.74; beneficiary 95.86 + 389.886 rounded up
    389.89 = 485.75.
    ASC: 479.31 + 1,214.31 x (0.50 x 0.7579 + 0.50) = 1,214.31 x 0.87895 = 1,067.318 ->
    1,067.32; total 1,546.63; beneficiary 95.86 + 213.46 = 309.32. Lowest: the ASC."""
    found = check_sites(client, cms_data, "66984", "zip=35004", "01")
    assert found["office"]["notes"]
    assert totals(found) == [("office", "479.31", "95.86"),
                             ("hospital_outpatient", "2428.74", "485.75"),
                             ("asc", "1546.63", "309.32")]  # fmt: skip


def test_upper_gi_biopsy_43239_in_san_francisco(client: TestClient, cms_data: Path) -> None:
    """43239 (EGD with biopsy), ZIP 94110 (San Francisco), CBSA 41884 (1.7309).
    office: 472.01; beneficiary 94.40.
    hospital outpatient: 153.46 + OPPS (T) 937.56 x (0.60 x 1.7309 + 0.40) = 937.56 x
    1.43854 = 1,348.7176 -> 1,348.72; total 1,502.18; beneficiary 30.69 + 269.744 rounded up
    269.75 = 300.44.
    ASC: 153.46 + 503.39 x (0.50 x 1.7309 + 0.50) = 503.39 x 1.36545 = 687.354 -> 687.35;
    total 840.81; beneficiary 30.69 + 137.47 = 168.16. Lowest: the office."""
    found = check_sites(client, cms_data, "43239", "zip=94110", "41884")
    assert totals(found) == [("office", "472.01", "94.40"),
                             ("hospital_outpatient", "1502.18", "300.44"),
                             ("asc", "840.81", "168.16")]  # fmt: skip


def test_knee_arthroscopy_29881_in_chicago(client: TestClient, cms_data: Path) -> None:
    """29881 (knee arthroscopy with meniscectomy), ZIP 60601, CBSA 16984 (1.0008).
    office: NA in the office (591.72, with a note; not ranked).
    hospital outpatient: 591.72 + OPPS (J1) 3,244.61 x (0.60 x 1.0008 + 0.40) = 3,244.61 x
    1.00048 = 3,246.1674 -> 3,246.17; total 3,837.89; beneficiary 118.34 + 649.234 rounded
    up 649.24 = 767.58.
    ASC: 591.72 + 1,579.16 x 1.0004 = 1,579.7917 -> 1,579.79; total 2,171.51; beneficiary
    118.34 + 315.96 = 434.30. Lowest: the ASC."""
    found = check_sites(client, cms_data, "29881", "zip=60601", "16984")
    assert totals(found) == [("office", "591.72", "118.34"),
                             ("hospital_outpatient", "3837.89", "767.58"),
                             ("asc", "2171.51", "434.30")]  # fmt: skip


def test_epidural_injection_64483_in_phoenix(client: TestClient, cms_data: Path) -> None:
    """64483 (transforaminal epidural injection, lumbar), ZIP 85004, CBSA 38060 (1.0163).
    office: 231.14; beneficiary 46.23.
    hospital outpatient: 105.93 + OPPS (T) 890.29 x (0.60 x 1.0163 + 0.40) = 890.29 x
    1.00978 = 898.997 -> 899.00; total 1,004.93; beneficiary 21.19 + 179.80 = 200.99.
    ASC: 105.93 + 477.94 x 1.00815 = 481.835 -> 481.84; total 587.77; beneficiary 21.19 +
    96.37 = 117.56. Lowest: the office."""
    found = check_sites(client, cms_data, "64483", "zip=85004", "38060")
    assert totals(found) == [("office", "231.14", "46.23"),
                             ("hospital_outpatient", "1004.93", "200.99"),
                             ("asc", "587.77", "117.56")]  # fmt: skip


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
