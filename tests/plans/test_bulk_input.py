"""POST /codes/price/bulk: hostile and unusual input is a 4xx envelope, never a 500.

Each test pins one defect found in issue 10: oversized CSV fields, bare-CR line ends, other
malformed CSV, a repeated CSV column, formula cells echoed into the CSV answer, unknown
top-level keys in a JSON body, and a body sent without a content type.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

BULK = "/codes/price/bulk"
CSV = {"content-type": "text/csv"}


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    return error


def _post_csv(client: TestClient, text: str, content_type: str = "text/csv") -> Any:
    return client.post(BULK, content=text.encode(), headers={"content-type": content_type})


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def test_csv_field_over_the_csv_module_limit_is_a_400_naming_the_line(
    plan_client: TestClient,
) -> None:
    """A field of 131,073 characters on data line 2 (file line 3) is 400 with that line."""
    text = "code,zip\n99213,10001\n99213," + "9" * 131_073 + "\n"
    response = _post_csv(plan_client, text)
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "bad_request"
    assert error["details"] == {"field": "body", "line": 3}
    assert "line 3" in error["message"]
    assert len(response.content) < 1_000  # the field is not echoed back


def test_bare_cr_line_ends_are_line_ends(plan_client: TestClient) -> None:
    """Old Excel for Mac ends lines with CR alone: each CR-ended row is its own line."""
    rows = _rows(_post_csv(plan_client, "code,zip\r99213,10001\r97110,94110\r"))
    assert [(r["line"], r["code"], r["zip"]) for r in rows] == [
        ("0", "99213", "10001"),
        ("1", "97110", "94110"),
    ]
    assert rows[0]["amount"] == "101.06"


def test_crlf_and_mixed_line_ends_are_accepted(plan_client: TestClient) -> None:
    """CRLF, LF and CR in one body all end a line; a quoted field may still span lines."""
    rows = _rows(_post_csv(plan_client, 'code,zip\r\n99213,10001\n"97110",94110\r'))
    assert [r["code"] for r in rows] == ["99213", "97110"]


def test_other_malformed_csv_is_a_400_naming_the_line(plan_client: TestClient) -> None:
    """Text after a closing quote (``"99"213``, a csv.Error) is 400 with the file line."""
    response = _post_csv(plan_client, 'code,zip\n99213,10001\n"99"213,10001\n')
    assert response.status_code == 400
    assert _error(response)["details"] == {"field": "body", "line": 3}


def test_a_repeated_csv_column_is_refused(plan_client: TestClient) -> None:
    """A header naming ``code`` twice would silently take the last value: 422 on ``header``
    (well-formed CSV whose columns contradict each other)."""
    response = _post_csv(plan_client, "code,zip,code\n99213,10001,70551\n")
    assert response.status_code == 422
    error = _error(response)
    assert error["details"] == {"field": "header"}
    assert "'code'" in error["message"]


FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1)", "@x", "-2+3", "\tcode", "\rcode"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_cells_in_the_csv_answer_are_escaped(plan_client: TestClient, formula: str) -> None:
    """A caller's value echoed into the CSV answer that a spreadsheet would run as a formula
    (starts with =, +, -, @, tab or CR) comes back prefixed with a single quote."""
    out = io.StringIO()
    csv.writer(out).writerows([["code", "zip"], [formula, "10001"], ["99213", formula]])
    rows = _rows(_post_csv(plan_client, out.getvalue()))
    assert rows[0]["code"] == "'" + formula
    assert rows[1]["zip"] == "'" + formula
    for row in rows:
        assert row["error_message"][:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_a_line_break_inside_an_echoed_cell_stays_inside_its_row(plan_client: TestClient) -> None:
    """A quoted CR or LF inside a caller's value is quoted in the answer (CRLF rows, RFC
    4180): the answer has one row per line, and the value comes back as sent."""
    response = _post_csv(plan_client, 'code,zip\n"99\r213",10001\n"97\n110",10001\n')
    rows = _rows(response)
    assert [(r["line"], r["code"]) for r in rows] == [("0", "99\r213"), ("1", "97\n110")]
    assert response.text.startswith("line,code,") and response.text.count("\r\n") == 3


def test_numbers_we_produce_stay_numbers(plan_client: TestClient) -> None:
    """Escaping does not touch the amounts, counts and ids the service itself writes."""
    rows = _rows(_post_csv(plan_client, "code,zip,units\n99213,10001,2\n"))
    assert (rows[0]["line"], rows[0]["units"]) == ("0", "2")
    assert (rows[0]["amount"], rows[0]["total"]) == ("101.06", "202.12")


def test_unknown_top_level_json_key_is_refused(plan_client: TestClient) -> None:
    """``{"lines": [...], "extra": 1}`` is 400 naming ``extra``, as /plans refuses it."""
    response = plan_client.post(BULK, json={"lines": [{"code": "99213"}], "extra": 1})
    assert response.status_code == 400
    error = _error(response)
    assert error["details"] == {"field": "extra"}
    assert "'extra'" in error["message"]


def test_a_body_without_a_content_type_is_415(plan_client: TestClient) -> None:
    """A body with no content type was read as JSON; it is now 415 like any other type."""
    response = plan_client.post(BULK, content=b'{"lines": [{"code": "99213"}]}')
    assert response.status_code == 415
    error = _error(response)
    assert error["code"] == "unsupported_media_type"
    assert error["details"] == {"field": "content-type"}


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "text/csv;charset=UTF-8"],
)
def test_charset_parameters_and_case_are_accepted(
    plan_client: TestClient, content_type: str
) -> None:
    """The two accepted types keep working with a charset parameter or other letter case."""
    body = '{"lines": [{"code": "99213", "zip": "10001"}]}'
    if content_type.lower().startswith("text/csv"):
        body = "code,zip\n99213,10001\n"
    response = _post_csv(plan_client, body, content_type)
    assert response.status_code == 200, response.text
