"""GET /codes/price?schedule=...: CLFS, DMEPOS, ASP and anesthesia through the whole app.

Expected amounts come from the CMS files' own text (read here with the ``csv`` module, not
with the service's parsers) or are worked by hand in the docstrings.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from cms_pricing.api import schemas

ANSWER = TypeAdapter(schemas.AnyPriceOut)
CLFS_CSV = Path("2025/clfs-2025q1/CLFS 2025 Q1V1.csv")
ASP_CSV = Path(
    "2025/asp-2025q1/section 508 version of Jan 2025 ASP Pricing File updated 030725.csv"
)


def price(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"/codes/price?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    ANSWER.validate_python(body)  # the documented union, discriminated by schedule
    return body


def refused(client: TestClient, query: str, status: int) -> dict[str, Any]:
    response = client.get(f"/codes/price?{query}")
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


def test_clfs_80053_is_the_national_limit(client: TestClient) -> None:
    """80053 (comprehensive metabolic panel) in CLFS 2025 Q1: RATE 00010.56, indicator N;
    the same for the CLIA-waived QW row. No deductible or coinsurance for clinical lab."""
    body = price(client, "schedule=clfs&code=80053&year=2025")
    assert (body["schedule"], body["amount_cents"], body["amount"]) == ("clfs", 1056, "10.56")
    assert body["release"]["id"] == "CLFS-2025Q1" and len(body["release"]["sha256"]) == 64
    assert body["components"]["indicator"] == "N"
    assert body["cost_sharing"] == {"deductible_applies": False, "coinsurance_rate": "0",
                                    "copayment_cents": None, "copayment": None}  # fmt: skip
    waived = price(client, "schedule=clfs&code=80053&modifier=QW")
    assert (waived["modifiers"], waived["amount"]) == (["QW"], "10.56")


def test_dmepos_e0601_rr_in_california(client: TestClient) -> None:
    """E0601-RR (CPAP rental) in CA: the file's CA (NR) 49.12 and CA (R) 91.03. A ZIP in the
    rural ZIP file gets the rural fee; 96101 (Alturas, Modoc County) is listed there."""
    rural = price(client, "schedule=dmepos&code=E0601&modifier=RR&state=CA&rural=true")
    urban = price(client, "schedule=dmepos&code=E0601&modifier=RR&state=CA&rural=false")
    assert (rural["amount"], urban["amount"]) == ("91.03", "49.12")
    by_zip = price(client, "schedule=dmepos&code=E0601&modifier=RR&zip=96101")
    assert by_zip["geography"]["rural"] is True
    assert by_zip["geography"]["rural_source"] == "zip file"
    assert by_zip["amount"] == "91.03"
    assert by_zip["cost_sharing"] == {"deductible_applies": True, "coinsurance_rate": "0.20",
                                      "copayment_cents": None, "copayment": None}  # fmt: skip


def test_dmepos_kansas_zip_uses_the_ks_column(client: TestClient) -> None:
    """ZIP 66044 (Lawrence) is 'EK' in the ZIP5 file; DMEPOS has a KS column, not EK."""
    body = price(client, "schedule=dmepos&code=E0601&modifier=RR&zip=66044&rural=false")
    assert body["geography"]["state"] == "KS"


def test_asp_j1100_four_units_rounds_once(client: TestClient) -> None:
    """J1100 (dexamethasone, 1 MG): limit 0.108 per unit; 4 units = 0.432 -> 0.43 (rounding
    each unit first would give 4 x 0.11 = 0.44)."""
    body = price(client, "schedule=asp&code=J1100&units=4")
    assert (body["amount_cents"], body["amount"]) == (43, "0.43")
    assert body["components"]["payment_limit_per_unit"] == "0.108"
    assert body["components"]["arithmetic"] == "0.108 x 4 = 0.432"


def test_anesthesia_00100_in_manhattan(client: TestClient) -> None:
    """00100 for 60 minutes in Manhattan (ZIP 10001, locality 1320201, ANES2025 CF 22.76):
    (5 base + 60/15 = 4.0 time units) x 22.76 = 204.84; QK (medical direction) pays half,
    102.42. The answer names the base-unit file and the CF's release."""
    body = price(client, "schedule=anesthesia&code=00100&zip=10001&minutes=60&modifier=AA")
    assert (body["amount_cents"], body["amount"]) == (20484, "204.84")
    assert body["release"]["id"] == "ANESBU-2022"
    assert body["components"]["conversion_factor"] == "22.76"
    assert "RVU25D" in body["components"]["conversion_factor_source"]
    half = price(client, "schedule=anesthesia&code=00100&locality=1320201&minutes=60&modifier=QK")
    assert half["amount"] == "102.42"


def test_mpfs_status_j_names_the_anesthesia_query(client: TestClient) -> None:
    """An anesthesia code asked of the MPFS is status J, not payable there, and says which
    query prices it."""
    body = client.get("/codes/price?code=00100&zip=10001").json()
    assert (body["schedule"], body["status"], body["payable"]) == ("mpfs", "J", False)
    assert any("schedule=anesthesia&code=00100" in note for note in body["notes"])


def test_mpfs_answers_keep_their_contract(client: TestClient) -> None:
    """schedule=mpfs and no schedule give the same bytes (one canonical form, one ETag)."""
    plain = client.get("/codes/price?code=99213&zip=94110")
    named = client.get("/codes/price?schedule=mpfs&code=99213&zip=94110")
    assert plain.content == named.content
    assert plain.headers["etag"] == named.headers["etag"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [("schedule=clfs&code=80053&date=2025-07-01", 404, "date"),  # only Q1 is published
     ("schedule=clfs&code=99999", 404, "code"),
     ("schedule=clfs&code=80053&modifier=RR", 404, "modifier"),
     ("schedule=dmepos&code=E0601&modifier=RR&state=GU", 404, "state"),
     ("schedule=dmepos&code=E0601&modifier=ZZ&state=CA", 404, "modifier"),
     ("schedule=asp&code=99213", 404, "code"),
     ("schedule=anesthesia&code=99213&zip=10001&minutes=30", 404, "code"),
     ("schedule=anesthesia&code=00100&zip=10001&minutes=30&modifier=RR", 422, "modifier"),
     ("schedule=asp&code=J1100&zip=10001", 422, "zip"),
     ("schedule=ipps&code=45378", 400, "schedule")],
)  # fmt: skip
def test_refusals_name_their_field(client: TestClient, query: str, status: int, field: str) -> None:
    """Each refusal is in the envelope with the status of its kind and the field named."""
    assert refused(client, query, status)["details"]["field"] == field


def test_fast_path_and_documented_route_answer_alike(
    client: TestClient, routes_only: TestClient
) -> None:
    """The fast path and the FastAPI route give the same bytes for every schedule."""
    for query in ("schedule=clfs&code=80053", "schedule=asp&code=J1100&units=2",
                  "schedule=dmepos&code=E0601&modifier=RR&state=CA",
                  "schedule=anesthesia&code=00100&zip=10001&minutes=60"):  # fmt: skip
        fast = client.get(f"/codes/price?{query}")
        routed = routes_only.get(f"/codes/price?{query}")
        assert (fast.status_code, fast.content) == (routed.status_code, routed.content)


def test_spellings_of_one_request_share_an_etag(client: TestClient) -> None:
    """Case and order do not make a second answer: one canonical form, one ETag."""
    first = client.get("/codes/price?schedule=dmepos&code=e0601&modifier=rr&state=ca")
    second = client.get("/codes/price?state=CA&modifier=RR&code=E0601&schedule=DMEPOS")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


def test_releases_and_schedules_list_every_dataset(client: TestClient) -> None:
    """/releases lists every dataset with its schedule; /reference/schedules groups them."""
    listed = client.get("/releases").json()
    schemas.ReleasesOut.model_validate(listed)
    assert {r["schedule"] for r in listed["releases"]} == {"mpfs"}
    assert {(d["schedule"], d["id"]) for d in listed["datasets"]} == {
        ("anesthesia", "ANESBU-2022"), ("asp", "ASP-2025Q1"), ("clfs", "CLFS-2025Q1"),
        ("dmepos", "DMEPOS-2025Q1"), ("opps", "OPPS-2025"), ("asc", "ASC-2025Q1"),
        ("wage_index", "OPPSWI-2025"),
    }  # fmt: skip
    grouped = client.get("/reference/schedules").json()
    schemas.SchedulesOut.model_validate(grouped)
    by_name = {s["schedule"]: s for s in grouped["schedules"]}
    assert [d["id"] for d in by_name["mpfs"]["datasets"]] == ["RVU25A", "RVU25B", "RVU25C",
                                                             "RVU25D"]  # fmt: skip
    dmepos = by_name["dmepos"]["datasets"][0]
    assert (dmepos["effective_from"], dmepos["effective_to"]) == ("2025-01-01", "2025-03-31")
    assert {f["kind"] for f in dmepos["files"]} == {
        "dmepos", "dmepen", "dme_rural_zip", "cba_fee", "cba_zip", "cba_mail_order"
    }  # fmt: skip
    asc = by_name["asc"]["datasets"][0]
    assert (asc["id"], asc["effective_from"], asc["effective_to"]) == (
        "ASC-2025Q1", "2025-01-01", "2025-03-31"
    )  # fmt: skip
    assert {f["kind"] for f in asc["files"]} == {"asc_aa", "asc_bb", "asc_indicators",
                                                 "asc_devices"}  # fmt: skip
    assert by_name["opps"]["title"] != "opps" and by_name["wage_index"]["datasets"]


def _file_rows(cms_data: Path, path: Path, header_first: str) -> list[dict[str, str]]:
    text = (cms_data / path).read_bytes().decode("latin-1")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_first))
    return list(csv.DictReader(io.StringIO("\n".join(lines[start:]))))


def bulk(client: TestClient, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results of ``POST /codes/price/bulk`` for ``lines`` (10,000 a request)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(lines), 10_000):
        response = client.post("/codes/price/bulk", json={"lines": lines[start : start + 10_000]})
        assert response.status_code == 200, response.text[:500]
        out.extend(response.json()["results"])
    return out


@pytest.mark.slow
def test_every_clfs_row_through_the_api(client: TestClient, cms_data: Path) -> None:
    """Every row of the CLFS .csv through bulk pricing (which prices each line as
    GET /codes/price does): indicator N answers the file's RATE to the cent, indicator L
    answers payable false with no amount."""
    rows = _file_rows(cms_data, CLFS_CSV, "YEAR,")
    assert len(rows) == 2087
    lines = [{"schedule": "clfs", "code": r["HCPCS"], "modifier": r["MOD"]} for r in rows]
    for row, result in zip(rows, bulk(client, lines), strict=True):
        assert "error" not in result, result
        if row["INDICATOR"] == "L":
            assert (result["payable"], result["amount"]) == (False, None), row
        else:
            assert result["amount"] == str(Decimal(row["RATE"]).quantize(Decimal("0.01"))), row


@pytest.mark.slow
def test_every_asp_row_through_the_api(client: TestClient, cms_data: Path) -> None:
    """Every row of the ASP file at 1 unit (bulk): the amount is the file's three-decimal
    limit rounded half-up to the cent; N/A answers payable false. The per-unit limit is
    checked to the three decimals on single GETs for a sample."""
    rows = _file_rows(cms_data, ASP_CSV, "HCPCS Code")
    assert len(rows) == 877
    lines = [{"schedule": "asp", "code": r["HCPCS Code"]} for r in rows]
    for row, result in zip(rows, bulk(client, lines), strict=True):
        limit = row["Payment Limit"].strip()
        if limit == "N/A":
            assert result["payable"] is False, row
            continue
        cents = Decimal(limit).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert result["amount"] == str(cents), row["HCPCS Code"]
    for row in rows[::50]:
        if row["Payment Limit"].strip() != "N/A":
            body = price(client, f"schedule=asp&code={row['HCPCS Code']}")
            assert body["components"]["payment_limit_per_unit"] == row["Payment Limit"].strip()


@pytest.mark.slow
def test_dmepos_cells_through_the_api(client: TestClient, cms_data: Path) -> None:
    """Every 20th non-zero cell of DMEPOS_JAN (code, modifiers, state, NR or R), priced in
    bulk by state with rural true or false, equals the file's cell to the cent (the engine's
    own test covers every cell)."""
    rows = _file_rows(cms_data, Path("2025/dmepos-2025q1/DMEPOS_JAN.csv"), "HCPCS,")
    states = [name[:2] for name in rows[0] if name and name.endswith("(NR)")]
    cells = [
        (row, state, rural)
        for row in rows
        for state in states
        for rural in (False, True)
        if Decimal(row[f"{state} ({'R' if rural else 'NR'})"] or "0") != 0
    ][::20]
    assert len(cells) > 10_000
    lines = [
        {"schedule": "dmepos", "code": row["HCPCS"], "modifier": row["Mod"],
         "modifier2": row["Mod2"], "state": state, "rural": rural}
        for row, state, rural in cells
    ]  # fmt: skip
    for (row, state, rural), result in zip(cells, bulk(client, lines), strict=True):
        expected = Decimal(row[f"{state} ({'R' if rural else 'NR'})"])
        assert result["amount"] == str(expected), (row["HCPCS"], state, rural, result)
