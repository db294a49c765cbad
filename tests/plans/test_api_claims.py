"""The claim rules of plans over HTTP: line dates (priced, shown, saved), the rounding basis and
unrounded total, and the single-code rules on GET /codes/price (telehealth POS 02/10, PC/TC 5
and 8 by place of service, zero-RVU status R). SQLite and PostgreSQL (``plan_client``).

Amounts are RVU25D's in Manhattan (ZIP 10001 -> 1320201): 27447 facility 1465.45 (worked in
test_rules.py); 99213 office 101.06, facility 71.64; 99223 facility 188.00.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PLAN: dict[str, Any] = {
    "zip": "10001",
    "date": "2025-11-03",
    "setting": "facility",
    "lines": [{"code": "27447"}, {"code": "99223", "date": "2025-11-20"}],
}


def test_a_postoperative_visit_on_its_own_date_is_packaged_into_the_surgery(
    plan_client: TestClient,
) -> None:
    """99223 17 days after 27447 (global 090), same provider, no modifier 24: included in the
    global package (Pub. 100-04 ch. 12 sec. 40.1): allowed 0.00, packaged_into 0; the line
    shows its own date, the surgery the plan's."""
    body = plan_client.post("/plans/price", json=PLAN).json()
    visit = body["lines"][1]
    assert (visit["allowed"], visit["packaged_into"], visit["date"]) == ("0.00", 0, "2025-11-20")
    assert visit["adjustments"][0]["rule"] == "global_surgery"
    assert body["lines"][0]["date"] == "2025-11-03" and body["lines"][0]["packaged_into"] is None
    assert body["totals"] == {
        "allowed": "1465.45",
        "allowed_cents": 146545,
        "unrounded_allowed": "1465.447831620",
        "rounding": "claim",
        "complete": True,
    }


def test_modifier_24_pays_the_postoperative_visit(plan_client: TestClient) -> None:
    """The same visit with 24 (unrelated E/M in the postoperative period) is paid: 188.00."""
    lines = [PLAN["lines"][0], {**PLAN["lines"][1], "modifiers": ["24"]}]
    body = plan_client.post("/plans/price", json={**PLAN, "lines": lines}).json()
    assert [x["allowed"] for x in body["lines"]] == ["1465.45", "188.00"]
    assert body["totals"]["allowed"] == "1653.45"


def test_a_saved_plan_keeps_its_line_dates(plan_client: TestClient) -> None:
    """Saved, read back and priced: the line's date survives the database (migration 0008)
    and the saved plan prices as the posted one."""
    made = plan_client.post("/plans", json={**PLAN, "name": "TKA and a postop visit"})
    assert made.status_code == 201, made.text
    plan_id = made.json()["id"]
    read = plan_client.get(f"/plans/{plan_id}").json()
    assert read["plan"]["lines"][1]["date"] == "2025-11-20"
    assert "date" not in read["plan"]["lines"][0]
    priced = plan_client.get(f"/plans/{plan_id}/price").json()["price"]
    posted = plan_client.post("/plans/price", json=PLAN).json()
    assert priced["lines"] == posted["lines"] and priced["totals"] == posted["totals"]


def test_a_line_date_needs_every_line_dated(plan_client: TestClient) -> None:
    """A pinned release and no plan date: a dated line beside an undated one is 422 naming
    ``date``; with every line dated the plan is priced."""
    body = {k: v for k, v in PLAN.items() if k != "date"} | {"release": "RVU25D"}
    refused = plan_client.post("/plans/price", json=body)
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "date"
    dated = [{**PLAN["lines"][0], "date": "2025-11-03"}, PLAN["lines"][1]]
    answer = plan_client.post("/plans/price", json={**body, "lines": dated})
    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"][1]["packaged_into"] == 0


def test_a_line_date_no_release_covers_names_the_line(plan_client: TestClient) -> None:
    """A line dated before every loaded release (RVU25D starts 2025-10-01): a 4xx naming
    lines.1.date, never a 500."""
    lines = [PLAN["lines"][0], {"code": "99213", "date": "2024-01-02"}]
    response = plan_client.post("/plans/price", json={**PLAN, "lines": lines})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["details"]["field"] == "lines.1.date"


def test_malformed_line_date_is_400(plan_client: TestClient) -> None:
    lines = [{"code": "99213", "date": "2025-13-01"}]
    response = plan_client.post("/plans/price", json={**PLAN, "lines": lines})
    assert response.status_code in (400, 422)
    assert "lines" in str(response.json()["error"]["details"].get("field", ""))


def price(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/codes/price", params={"zip": "10001", **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_telehealth_pos_02_is_the_facility_rate_and_10_the_office_rate(
    plan_client: TestClient,
) -> None:
    """CY 2025 PFS final rule: POS 02 paid at the facility rate (99213: 71.64), POS 10 at the
    non-facility rate (101.06); each answer says so."""
    at_02 = price(plan_client, code="99213", pos="02")
    at_10 = price(plan_client, code="99213", pos="10")
    assert (at_02["amount"], at_02["setting"]) == ("71.64", "facility")
    assert (at_10["amount"], at_10["setting"]) == ("101.06", "office")
    assert any("POS 02" in n for n in at_02["notes"])
    assert any("POS 10" in n for n in at_10["notes"])


def test_place_of_service_decides_pctc_5_and_8(plan_client: TestClient) -> None:
    """PC/TC 5 (90471, incident-to) is not paid at POS 22; PC/TC 8 (85060) only for a hospital
    inpatient (POS 21: 25.41), not in the office. Not payable answers carry no money."""
    incident = price(plan_client, code="90471", pos="22")
    assert incident["payable"] is False and incident["amount"] is None
    assert "PC/TC indicator 5" in incident["status_reason"]
    office = price(plan_client, code="85060")
    assert office["payable"] is False and office["amount"] is None
    assert price(plan_client, code="85060", pos="21")["amount"] == "25.41"


def test_zero_rvu_status_r_is_not_priced(plan_client: TestClient) -> None:
    """0275T (status R, no RVUs): not payable and no amount, never 0.00; in a plan it is
    contractor priced, so the plan is incomplete."""
    quote = price(plan_client, code="0275T")
    assert quote["payable"] is False and quote["amount"] is None
    assert "contractor priced" in quote["status_reason"]
    plan = {"zip": "10001", "lines": [{"code": "0275T"}, {"code": "99213"}]}
    body = plan_client.post("/plans/price", json=plan).json()
    line = body["lines"][0]
    assert (line["allowed"], line["paid"], line["by_report"]) == (None, True, True)
    assert body["totals"]["complete"] is False and body["totals"]["allowed"] == "101.06"


def test_bulk_lines_follow_the_single_code_rules(plan_client: TestClient) -> None:
    """Bulk prices each line as GET /codes/price does, so the single-code rules hold there
    too: 99213 at POS 02 is the facility rate, 0275T and 85060 in the office carry no
    amount."""
    lines = [
        {"code": "99213", "zip": "10001", "pos": "02"},
        {"code": "0275T", "zip": "10001"},
        {"code": "85060", "zip": "10001"},
    ]
    response = plan_client.post("/codes/price/bulk", json={"lines": lines})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["amount"] == "71.64" and results[0]["setting"] == "facility"
    assert [(r["payable"], r["amount"]) for r in results[1:]] == [(False, None), (False, None)]
