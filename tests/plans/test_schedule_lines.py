"""Plan lines of the other fee schedules (CLFS, DMEPOS, ASP, anesthesia), on both databases.

A non-MPFS line is priced alone, exactly as ``GET /codes/price?schedule=`` prices the same
request: every expectation of a line's amount below is fetched from that endpoint of the same
app, not copied from the plan code. The data: RVU25D, the 2025Q4 ZIP file, CLFS/DMEPOS/ASP
2025Q1 and the CY 2022 anesthesia base units (tests/plans/conftest.py). Plans here carry no
date: the MPFS release and each schedule's dataset are then the newest.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.plan_schemas import content_sha256
from cms_pricing.engine.plans import Plan, PlanLine

D = Decimal

MIXED_LINES: list[dict[str, Any]] = [
    {"code": "99213"},
    {"code": "80053", "schedule": "clfs"},
    {"code": "J1100", "schedule": "asp", "units": 4},
    {"code": "E0601", "schedule": "dmepos", "modifiers": ["RR"]},
    {"code": "00100", "schedule": "anesthesia", "minutes": 60, "modifiers": ["QK"]},
]


def single_prices(client: TestClient, zip_code: str) -> list[str]:
    """Each line of MIXED_LINES priced alone by GET /codes/price at ``zip_code``."""
    queries = [
        f"code=99213&zip={zip_code}",
        "schedule=clfs&code=80053",
        "schedule=asp&code=J1100&units=4",
        f"schedule=dmepos&code=E0601&modifier=RR&zip={zip_code}",
        f"schedule=anesthesia&code=00100&zip={zip_code}&minutes=60&modifier=QK",
    ]
    amounts = []
    for query in queries:
        response = client.get(f"/codes/price?{query}")
        assert response.status_code == 200, (query, response.text)
        amounts.append(response.json()["amount"])
    return amounts


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


@pytest.mark.parametrize("zip_code", ["94110", "10001"])
def test_mixed_plan_total_is_the_sum_of_single_prices(
    plan_client: TestClient, zip_code: str
) -> None:
    """99213 (MPFS), 80053 (CLFS), J1100 x 4 units (ASP: 4 x 0.108 = 0.432 -> 0.43, not
    multiplied again), E0601-RR (DMEPOS at the plan ZIP's state: 94110 is CA and in the San
    Francisco former CBA, so the former-CBA amount applies, as the single price says) and
    00100 for 60 minutes with QK (anesthesia, 50%): each line equals its single price and the
    total is their sum."""
    response = plan_client.post("/plans/price", json={"zip": zip_code, "lines": MIXED_LINES})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = single_prices(plan_client, zip_code)
    assert [line["allowed"] for line in body["lines"]] == expected
    assert [line["schedule"] for line in body["lines"]] == [
        "mpfs", "clfs", "asp", "dmepos", "anesthesia"
    ]  # fmt: skip
    assert body["lines"][2]["allowed"] == "0.43"
    assert D(body["totals"]["allowed"]) == sum((D(a) for a in expected), D(0))
    assert body["totals"]["complete"] is True
    by_schedule = body["cost_sharing"]["by_schedule"]
    assert list(by_schedule) == ["mpfs", "clfs", "asp", "dmepos", "anesthesia"]
    assert sum(D(s["allowed"]) for s in by_schedule.values()) == D(body["totals"]["allowed"])


def test_known_amounts_in_manhattan(plan_client: TestClient) -> None:
    """The DOMAIN.md figures: 80053 = 10.56; 00100 for 60 minutes in Manhattan = (5 + 4) x
    22.76 = 204.84, QK pays 50% = 102.42."""
    body = plan_client.post("/plans/price", json={"zip": "10001", "lines": MIXED_LINES}).json()
    assert body["lines"][1]["allowed"] == "10.56"
    assert body["lines"][4]["allowed"] == "102.42"


def test_a_line_shows_its_quote_and_explains_its_amount(plan_client: TestClient) -> None:
    """Each non-MPFS line carries the single-price answer's quote (components, dataset, cost
    sharing rule) and an adjustment saying how the amount was reached."""
    body = plan_client.post("/plans/price", json={"zip": "10001", "lines": MIXED_LINES}).json()
    asp = body["lines"][2]
    single = plan_client.get("/codes/price?schedule=asp&code=J1100&units=4").json()
    assert asp["quote"]["components"] == single["components"]
    assert asp["quote"]["release"] == single["release"]
    assert asp["quote"]["cost_sharing"] == single["cost_sharing"]
    explained = [a["explanation"] for a in asp["adjustments"]]
    assert explained == ["ASP: 4 units x 0.108 = 0.432 -> 0.43"]
    anes = body["lines"][4]
    assert anes["modifiers"] == ["QK"] and anes["quote"]["components"]["minutes"] == 60
    assert "x CF 22.76 x 50% (QK)" in anes["adjustments"][0]["explanation"]
    assert body["lines"][1]["quote"]["cost_sharing"] == {
        "deductible_applies": False, "coinsurance_rate": "0", "copayment_cents": None,
        "copayment": None,
    }  # fmt: skip
    mpfs = body["lines"][0]
    assert mpfs["schedule"] == "mpfs" and "quote" not in mpfs and mpfs["status"] == "A"


@pytest.mark.parametrize(
    ("remaining", "deductible", "coinsurance", "program"),
    [("0", "0.00", "20.21", "91.41"), ("50", "50.00", "10.21", "51.41")],
)
def test_cost_sharing_of_a_clfs_and_an_mpfs_line(
    plan_client: TestClient, remaining: str, deductible: str, coinsurance: str, program: str
) -> None:
    """80053 (CLFS, 10.56) then 99213 (MPFS, Manhattan office 101.06); allowed 111.62.

    CLFS: no deductible, no coinsurance: the program pays 10.56 whatever is left to meet.
    Deductible left 0.00: MPFS coinsurance 20% x 101.06 = 20.212 -> 20.21; beneficiary
    20.21; program 111.62 - 20.21 = 91.41 (MPFS 80.85 + CLFS 10.56).
    Deductible left 50.00: the CLFS line comes first in the plan but is not subject to the
    deductible, so 99213 meets all 50.00; coinsurance 20% x 51.06 = 10.212 -> 10.21;
    beneficiary 60.21; program 111.62 - 60.21 = 51.41.
    """
    lines = [{"code": "80053", "schedule": "clfs"}, {"code": "99213"}]
    body = {"zip": "10001", "lines": lines, "deductible_remaining": remaining}
    answer = plan_client.post("/plans/price", json=body).json()
    share = answer["cost_sharing"]
    assert answer["totals"]["allowed"] == "111.62"
    assert (share["deductible"], share["coinsurance"], share["program"]) == (
        deductible, coinsurance, program
    )  # fmt: skip
    assert share["by_schedule"]["clfs"] == {
        "allowed": "10.56", "allowed_cents": 1056, "deductible": "0.00", "deductible_cents": 0,
        "coinsurance": "0.00", "coinsurance_cents": 0, "beneficiary": "0.00",
        "beneficiary_cents": 0, "program": "10.56", "program_cents": 1056,
    }  # fmt: skip
    assert share["by_schedule"]["mpfs"]["coinsurance"] == coinsurance


def test_asp_coinsurance_is_the_files_percentage(plan_client: TestClient) -> None:
    """J1100 x 4 = 0.43 with the deductible met: coinsurance at the ASP file's rate for J1100
    (read from the single-price answer), rounded once: 0.43 x rate."""
    single = plan_client.get("/codes/price?schedule=asp&code=J1100&units=4").json()
    rate = D(single["cost_sharing"]["coinsurance_rate"])
    lines = [{"code": "J1100", "schedule": "asp", "units": 4}]
    body = {"zip": "10001", "lines": lines, "deductible_remaining": "0"}
    share = plan_client.post("/plans/price", json=body).json()["cost_sharing"]
    expected = (D("0.43") * rate).quantize(D("0.01"))
    assert rate == D("0.2") and share["coinsurance"] == str(expected) == "0.09"
    assert share["by_schedule"]["asp"]["program"] == "0.34"


def test_dmepos_line_state_when_the_plan_has_a_locality(plan_client: TestClient) -> None:
    """A plan priced at a carrier-locality names no state: a DMEPOS line gives its own
    (E0601-RR in CA: 49.12 non-rural, 91.03 rural, DOMAIN.md); without it, 422."""
    where = {"locality": "0111205"}
    line = {"code": "E0601", "schedule": "dmepos", "modifiers": ["RR"], "state": "CA"}
    answer = plan_client.post("/plans/price", json={**where, "lines": [line]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"][0]["allowed"] == "49.12"
    rural = plan_client.post("/plans/price", json={**where, "lines": [{**line, "rural": True}]})
    assert rural.json()["lines"][0]["allowed"] == "91.03"
    no_state = {k: v for k, v in line.items() if k != "state"}
    two = {**where, "lines": [{"code": "99213"}, no_state]}
    refused = plan_client.post("/plans/price", json=two)
    assert refused.status_code == 422
    assert error_of(refused)["details"] == {"field": "lines.1.state", "line": 1}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"code": "00100", "schedule": "anesthesia"}, "lines.0.minutes"),
        ({"code": "99213", "minutes": 30}, "lines.0.minutes"),
        ({"code": "99213", "state": "CA"}, "lines.0.state"),
        ({"code": "99213", "rural": True}, "lines.0.rural"),
        ({"code": "99213", "modifiers": ["RR"]}, "lines.0.modifiers"),
        ({"code": "80053", "schedule": "clfs", "setting": "office"}, "lines.0.setting"),
        ({"code": "80053", "schedule": "clfs", "pos": "11"}, "lines.0.pos"),
        ({"code": "80053", "schedule": "clfs", "state": "CA"}, "lines.0.state"),
        ({"code": "80053", "schedule": "clfs", "minutes": 10}, "lines.0.minutes"),
        ({"code": "80053", "schedule": "clfs", "modifiers": ["QW", "RR"]}, "lines.0.modifiers"),
        ({"code": "80053", "schedule": "clfs", "units": 1000}, "lines.0.units"),
        ({"code": "J1100", "schedule": "asp", "modifiers": ["QW"]}, "lines.0.modifiers"),
        ({"code": "J1100", "schedule": "asp", "rural": False}, "lines.0.rural"),
        ({"code": "00100", "schedule": "anesthesia", "minutes": 60, "modifiers": ["RR"]},
         "lines.0.modifiers"),
        ({"code": "00100", "schedule": "anesthesia", "minutes": 60, "state": "NY"},
         "lines.0.state"),
        ({"code": "E0601", "schedule": "dmepos", "modifiers": ["RR", "NU", "KL", "UE"]},
         "lines.0.modifiers"),
    ],
)  # fmt: skip
def test_fields_a_schedule_does_not_take_are_422(
    plan_client: TestClient, line: dict[str, Any], field: str
) -> None:
    """Each field valid alone, not for the line's schedule: 422 naming the line's field."""
    response = plan_client.post("/plans/price", json={"zip": "10001", "lines": [line]})
    assert response.status_code == 422, response.text
    assert error_of(response)["details"]["field"] == field


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"code": "80053", "schedule": "ipps"}, "lines.0.schedule"),
        ({"code": "E0601", "schedule": "dmepos", "state": "C1"}, "lines.0.state"),
        ({"code": "E0601", "schedule": "dmepos", "rural": "yes"}, "lines.0.rural"),
        ({"code": "00100", "schedule": "anesthesia", "minutes": 1441}, "lines.0.minutes"),
        ({"code": "J1100", "schedule": "asp", "units": 100_000}, "lines.0.units"),
    ],
)
def test_malformed_values_are_400(
    plan_client: TestClient, line: dict[str, Any], field: str
) -> None:
    response = plan_client.post("/plans/price", json={"zip": "10001", "lines": [line]})
    assert response.status_code == 400, response.text
    assert error_of(response)["details"]["field"] == field


def test_unknown_code_of_a_schedule_is_404_naming_the_line(plan_client: TestClient) -> None:
    lines = [{"code": "99213"}, {"code": "99999", "schedule": "clfs"}]
    response = plan_client.post("/plans/price", json={"zip": "10001", "lines": lines})
    assert response.status_code == 404
    assert error_of(response)["details"]["field"] == "lines.1.code"


def test_mpfs_rules_apply_among_mpfs_lines_only(plan_client: TestClient) -> None:
    """A CLFS line between two MPFS surgeries: the second surgery is still reduced to 50%
    (29881 313.33, test_api_pricing) and the CLFS line is not ranked."""
    lines = [
        {"code": "27447", "modifiers": ["RT"]},
        {"code": "80053", "schedule": "clfs"},
        {"code": "29881", "modifiers": ["51"]},
    ]
    body = {"zip": "10001", "setting": "facility", "lines": lines}
    answer = plan_client.post("/plans/price", json=body).json()
    assert [line["allowed"] for line in answer["lines"]] == ["1465.45", "10.56", "313.33"]
    assert answer["totals"]["allowed"] == "1789.34"


def test_compare_prices_schedule_lines_at_each_place(plan_client: TestClient) -> None:
    """The DMEPOS and anesthesia lines follow each location; CLFS and ASP do not move."""
    body = {
        "locations": [{"zip": "10001"}, {"zip": "94110"}],
        "lines": MIXED_LINES,
    }
    answer = plan_client.post("/plans/compare", json=body)
    assert answer.status_code == 200, answer.text
    sides = answer.json()["locations"]
    for side, zip_code in zip(sides, ("10001", "94110"), strict=True):
        expected = single_prices(plan_client, zip_code)
        assert [line["allowed"] for line in side["lines"]] == expected
    assert [line["schedule"] for line in sides[1]["lines"]][1:3] == ["clfs", "asp"]
    assert sides[1]["lines"][1]["difference"] == "0.00"


# -- saved plans -------------------------------------------------------------------------------


def test_saved_plan_keeps_schedule_lines(plan_client: TestClient) -> None:
    """Create, read back (the line fields of other schedules kept), price, replace."""
    saved = {"name": "mixed", "zip": "10001", "lines": MIXED_LINES}
    made = plan_client.post("/plans", json=saved)
    assert made.status_code == 201, made.text
    plan_id = made.json()["id"]
    lines = plan_client.get(f"/plans/{plan_id}").json()["plan"]["lines"]
    assert lines[0] == {
        "code": "99213", "modifiers": [], "units": 1, "setting": None, "pos": None,
        "provider": "",
    }  # fmt: skip
    assert lines[2]["schedule"] == "asp" and lines[2]["units"] == 4
    assert lines[3]["schedule"] == "dmepos" and lines[3]["modifiers"] == ["RR"]
    assert lines[4]["minutes"] == 60 and lines[4]["modifiers"] == ["QK"]
    priced = plan_client.get(f"/plans/{plan_id}/price").json()["price"]
    direct = plan_client.post("/plans/price", json={"zip": "10001", "lines": MIXED_LINES}).json()
    assert priced["totals"] == direct["totals"]
    assert priced["cost_sharing"] == direct["cost_sharing"]
    changed = [*MIXED_LINES[:3], {**MIXED_LINES[3], "state": "CA", "rural": True}]
    put = plan_client.put(
        f"/plans/{plan_id}", json={**saved, "lines": changed}, headers={"If-Match": '"v1"'}
    )
    assert put.status_code == 200, put.text
    read = plan_client.get(f"/plans/{plan_id}").json()["plan"]["lines"][3]
    assert (read["state"], read["rural"]) == ("CA", True)
    repriced = plan_client.get(f"/plans/{plan_id}/price").json()["price"]
    assert repriced["lines"][3]["allowed"] == "91.03"


def test_mpfs_only_plan_hash_is_unchanged() -> None:
    """A plan without lines of other schedules hashes as before they existed (so saved
    plans keep their content_sha256 and answers cached by it stay valid)."""
    plan = Plan(lines=(PlanLine("27447", ("RT",)), PlanLine("97110", units=2)), zip="10001")
    before = {
        "zip": "10001", "locality": None, "date": None, "release": None, "setting": None,
        "pos": None, "deductible_remaining": None, "sequestration": False,
        "lines": [
            {"code": "27447", "modifiers": ["RT"], "units": 1, "setting": None, "pos": None,
             "provider": ""},
            {"code": "97110", "modifiers": [], "units": 2, "setting": None, "pos": None,
             "provider": ""},
        ],
    }  # fmt: skip
    digest = hashlib.sha256(orjson.dumps(before, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert content_sha256(plan) == digest
    other = Plan(lines=(PlanLine("80053", schedule="clfs"),), zip="10001")
    assert content_sha256(other) != content_sha256(Plan(lines=(PlanLine("80053"),), zip="10001"))
