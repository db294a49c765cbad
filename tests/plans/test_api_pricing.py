"""POST /plans/price, POST /plans/compare and POST /codes/price/bulk over HTTP, every error path.

Amounts are the hand-worked ones of test_rules.py (Manhattan, ZIP 10001 -> 1320201).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

PLAN: dict[str, Any] = {
    "zip": "10001",
    "date": "2025-11-03",
    "setting": "facility",
    "lines": [
        {"code": "27447"},
        {"code": "29881", "modifiers": ["51"]},
        {"code": "27447", "modifiers": ["80"]},
    ],
}


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


# -- /plans/price --------------------------------------------------------------------------------


def test_plan_price_answers_lines_totals_cost_sharing_and_the_release(
    plan_client: TestClient,
) -> None:
    """Facility, 10001: 27447 1465.45, 29881 at 50% 313.33, the assistant's 27447-80 234.47
    (16%); total 2013.25; deductible 257.00, coinsurance 20% x 1756.25 = 351.25; the answer
    names the release RVU25D and its sha256."""
    response = plan_client.post("/plans/price", json=PLAN)
    assert response.status_code == 200
    body = response.json()
    assert [x["allowed"] for x in body["lines"]] == ["1465.45", "313.33", "234.47"]
    assert body["totals"] == {
        "allowed": "2013.25", "allowed_cents": 201325, "complete": True, "rounding": "claim",
        "unrounded_allowed": "2013.24887063670",
    }  # fmt: skip
    assert body["cost_sharing"]["coinsurance"] == "351.25"
    assert body["release"]["id"] == "RVU25D" and len(body["release"]["sha256"]) == 64
    assert body["lines"][1]["adjustments"][0]["rule"] == "multiple_procedure"
    assert body["lines"][1]["adjustments"][0]["percent"] == "50"


def test_unknown_code_names_the_line(plan_client: TestClient) -> None:
    """A code the release does not list: 404 with details.field lines.1.code."""
    body = {**PLAN, "lines": [{"code": "27447"}, {"code": "0000Z"}]}
    response = plan_client.post("/plans/price", json=body)
    assert response.status_code == 404
    assert error_of(response)["details"] == {"field": "lines.1.code", "line": 1}


def test_modifier_the_code_does_not_allow_is_422(plan_client: TestClient) -> None:
    """26 on 27447 (PC/TC 0) is unprocessable, naming lines.0.modifier."""
    body = {**PLAN, "lines": [{"code": "27447", "modifiers": ["26"]}]}
    response = plan_client.post("/plans/price", json=body)
    assert response.status_code == 422
    assert error_of(response)["details"]["field"] == "lines.0.modifier"


def test_unknown_modifier_is_400_naming_the_line(plan_client: TestClient) -> None:
    """A modifier outside the accepted set is a 400 naming the modifier's place."""
    body = {**PLAN, "lines": [{"code": "27447", "modifiers": ["QQ"]}]}
    response = plan_client.post("/plans/price", json=body)
    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "lines.0.modifiers.0"


def test_shape_errors_are_400_naming_the_field(plan_client: TestClient) -> None:
    """201 lines, 0 units and a misspelt field are each a 400 naming where."""
    many = {**PLAN, "lines": [{"code": "99213"}] * 201}
    assert error_of(plan_client.post("/plans/price", json=many))["details"] == {"field": "lines"}
    zero = {**PLAN, "lines": [{"code": "99213", "units": 0}]}
    assert error_of(plan_client.post("/plans/price", json=zero))["details"] == {
        "field": "lines.0.units"
    }
    typo = {**PLAN, "zipcode": "10001"}
    response = plan_client.post("/plans/price", json=typo)
    assert response.status_code == 400 and error_of(response)["details"] == {"field": "zipcode"}


def test_plan_level_place_and_date_errors(plan_client: TestClient) -> None:
    """No place is 422 (zip); a ZIP not in the file is 404 (zip); a 2024 date is 404 (date)."""
    no_place = {k: v for k, v in PLAN.items() if k != "zip"}
    response = plan_client.post("/plans/price", json=no_place)
    assert response.status_code == 422 and error_of(response)["details"] == {"field": "zip"}
    response = plan_client.post("/plans/price", json={**PLAN, "zip": "00000"})
    assert response.status_code == 404 and error_of(response)["details"] == {"field": "zip"}
    response = plan_client.post("/plans/price", json={**PLAN, "date": "2024-06-01"})
    assert response.status_code == 404 and error_of(response)["details"] == {"field": "date"}


def test_body_that_is_not_json_is_400(plan_client: TestClient) -> None:
    """A body that does not parse is the 400 envelope, not a 500."""
    response = plan_client.post(
        "/plans/price", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error_of(response)


# -- /plans/compare ------------------------------------------------------------------------------


def test_compare_prices_each_place_and_the_differences(plan_client: TestClient) -> None:
    """Manhattan against Alabama (1011200: work 1.000, PE 0.869, MP 0.575), 99213 office.

    Manhattan 101.06. Alabama: (1.30x1.000 + 1.35x0.869 + 0.10x0.575) x 32.3465 =
    2.53065 x 32.3465 = 81.857670225 -> 81.86. Difference -19.20, -19.00% of 101.06.
    """
    body = {
        "locations": [{"label": "NYC", "zip": "10001"}, {"locality": "1011200"}],
        "date": "2025-11-03",
        "lines": [{"code": "99213"}],
    }
    response = plan_client.post("/plans/compare", json=body)
    assert response.status_code == 200
    answer = response.json()
    second = answer["locations"][1]
    assert [x["totals"]["allowed"] for x in answer["locations"]] == ["101.06", "81.86"]
    assert second["label"] == "1011200"
    assert second["difference"] == {"allowed": "-19.20", "allowed_cents": -1920,
                                    "percent": "-19.00"}  # fmt: skip
    assert second["lines"][0]["difference"] == "-19.20"
    assert answer["cheapest"] == "1011200" and answer["most_expensive"] == "NYC"


def test_compare_needs_two_to_six_places_and_names_a_bad_one(plan_client: TestClient) -> None:
    """One place or seven is 400 (locations); a ZIP not in the file at the second place is
    404 naming locations.1.zip."""
    lines = [{"code": "99213"}]
    one = {"locations": [{"zip": "10001"}], "lines": lines}
    assert error_of(plan_client.post("/plans/compare", json=one))["details"] == {
        "field": "locations"
    }
    seven = {"locations": [{"zip": "10001"}] * 7, "lines": lines}
    assert plan_client.post("/plans/compare", json=seven).status_code == 400
    bad = {"locations": [{"zip": "10001"}, {"zip": "00000"}], "lines": lines}
    response = plan_client.post("/plans/compare", json=bad)
    assert response.status_code == 404
    assert error_of(response)["details"]["field"] == "locations.1.zip"


# -- /codes/price/bulk -------------------------------------------------------------------------


def test_bulk_json_prices_each_line_like_the_single_code_endpoint(
    plan_client: TestClient,
) -> None:
    """Every good line's amount equals GET /codes/price's for the same parameters, and units
    multiply it (97110 x3 in 94110)."""
    lines = [
        {"code": "99213", "zip": "10001", "date": "2025-11-03"},
        {"code": "70551", "modifier": "26", "locality": "0111205", "setting": "facility"},
        {"code": "97110", "zip": "94110", "units": 3},
    ]
    response = plan_client.post("/codes/price/bulk", json={"lines": lines})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["priced"], body["errors"]) == (3, 3, 0)
    for line, result in zip(lines, body["results"], strict=True):
        query = {k: v for k, v in line.items() if k != "units"}
        single = plan_client.get("/codes/price", params=query).json()
        assert result["amount_cents"] == single["amount_cents"]
        assert result["total_cents"] == single["amount_cents"] * int(line.get("units", 1))
    assert set(body["releases"]) == {"RVU25D"}


def test_bulk_bad_lines_get_their_own_errors(plan_client: TestClient) -> None:
    """A bad code, an unknown field, a non-object line and 0 units each fail alone; the good
    line is priced; each error echoes the line's known fields."""
    lines: list[Any] = [
        {"code": "99213", "zip": "10001"},
        {"code": "0000Z", "zip": "10001"},
        {"code": "99213", "zipcode": "10001"},
        "99213",
        {"code": "99213", "zip": "10001", "units": 0},
    ]
    body = plan_client.post("/codes/price/bulk", json={"lines": lines}).json()
    assert (body["priced"], body["errors"]) == (1, 4)
    errors = [r["error"] for r in body["results"][1:]]
    assert body["results"][2]["input"] == {"code": "99213"}  # known fields only
    assert [e["code"] for e in errors] == ["not_found", "bad_request", "bad_request",
                                           "bad_request"]  # fmt: skip
    assert [e["details"]["field"] for e in errors] == ["code", "zipcode", "line", "units"]


def test_bulk_csv_in_csv_out(plan_client: TestClient) -> None:
    """text/csv in answers CSV: one row per line, errors in their own columns, the release id
    and sha256 on every priced row."""
    text = "code,zip,modifier\n99213,10001,\nABCDE,10001,\n70450,10001,TC\n"
    response = plan_client.post(
        "/codes/price/bulk", content=text.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["line"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["amount"] == "101.06" and rows[0]["payable"] == "true"
    assert rows[0]["release"] == "RVU25D" and len(rows[0]["release_sha256"]) == 64
    assert (rows[1]["error_code"], rows[1]["error_field"]) == ("not_found", "code")
    assert (rows[1]["code"], rows[1]["zip"]) == ("ABCDE", "10001")
    assert rows[2]["modifier"] == "TC" and rows[2]["error_code"] == ""


def test_bulk_whole_request_errors(plan_client: TestClient) -> None:
    """Not a batch at all is one 4xx envelope: bad JSON, no lines, 10,001 lines, an unknown CSV
    column, and a content type that is neither JSON nor CSV (415)."""
    post = plan_client.post
    cases = [
        (post("/codes/price/bulk", content=b"[", headers={"content-type": "application/json"}),
         400, "body"),
        (post("/codes/price/bulk", json={"lines": []}), 400, "lines"),
        (post("/codes/price/bulk", json={"rows": []}), 400, "lines"),
        (post("/codes/price/bulk", json={"lines": [{"code": "99213"}] * 10_001}), 400, "lines"),
        (post("/codes/price/bulk", content=b"kode\n99213\n",
              headers={"content-type": "text/csv"}), 400, "header"),
        (post("/codes/price/bulk", content=b"x", headers={"content-type": "text/plain"}),
         415, "content-type"),
    ]  # fmt: skip
    for response, status, field in cases:
        assert response.status_code == status
        assert error_of(response)["details"]["field"] == field


def test_bulk_of_10000_lines_is_accepted(plan_client: TestClient) -> None:
    """The limit itself: 10,000 lines are all priced."""
    body = {"lines": [{"code": "99213", "zip": "10001"}] * 10_000}
    answer = plan_client.post("/codes/price/bulk", json=body).json()
    assert answer["priced"] == 10_000


# -- API docs ------------------------------------------------------------------------------------


def test_api_docs_show_an_example_for_every_plan_endpoint(plan_client: TestClient) -> None:
    """Each plan and bulk operation has an example request body or an example answer."""
    spec = plan_client.get("/openapi.json").json()
    paths = ["/plans/price", "/plans/compare", "/codes/price/bulk", "/plans", "/plans/{plan_id}",
             "/plans/{plan_id}/price"]  # fmt: skip
    for path in paths:
        for method, operation in spec["paths"][path].items():
            text = str(operation.get("requestBody", "")) + str(operation["responses"])
            refs = [spec["components"]["schemas"].get(r.rsplit("/", 1)[-1], {})
                    for r in _refs(operation)]  # fmt: skip
            assert "example" in text or any("examples" in s for s in refs) or method == "delete"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [str(node["$ref"])] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
