"""POST /codes/price/bulk says that its lines are priced one by one (issue 13, rule K).

A bulk line is priced exactly as ``GET /codes/price`` prices it: the rules between the lines
of one claim (multiple procedure, RT/LT bilateral pairing, status T and global surgery
bundling) are ``POST /plans/price``'s. The JSON answer says so in its ``notes``; the CSV
answer cannot carry a comment row (RFC 4180 has none, and a reader would take it for a data
row), so both formats say it in the ``Pricing-Note`` response header.
"""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from cms_pricing.api.bulk import CSV_OUT, NOTE, NOTE_HEADER

BULK = "/codes/price/bulk"
# Two procedures of one practitioner on one day: a plan would reduce the second (27447 and
# 29881, multiple procedure indicator 2) and pair RT with LT; bulk prices each line alone.
LINES = [
    {"code": "27447", "zip": "10001", "setting": "facility"},
    {"code": "29881", "zip": "10001", "setting": "facility"},
    {"code": "29881", "zip": "10001", "setting": "facility"},
]


def test_the_note_names_the_rules_it_leaves_out_and_where_they_are() -> None:
    """The text itself: one by one, the rules not applied, and the endpoint that applies them.
    ASCII, since it is also a header value."""
    assert NOTE.isascii()
    for words in ("priced on its own", "multiple procedure", "bilateral", "bundling",
                  "POST /plans/price"):  # fmt: skip
        assert words in NOTE


def test_json_answer_notes_that_lines_are_priced_one_by_one(client: TestClient) -> None:
    """``notes`` is a list holding the note; the header carries the same text."""
    response = client.post(BULK, json={"lines": LINES})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["notes"] == [NOTE]
    assert response.headers[NOTE_HEADER] == NOTE


def test_json_lines_are_not_reduced_against_each_other(client: TestClient) -> None:
    """What the note means: the same code twice costs twice one line, and the second
    procedure is priced in full (a plan would pay 29881 at 50% after 27447)."""
    body = client.post(BULK, json={"lines": LINES}).json()
    results = body["results"]
    single = client.get("/codes/price", params=LINES[1]).json()
    assert [r["amount_cents"] for r in results[1:]] == [single["amount_cents"]] * 2
    assert all("error" not in r for r in results)


def test_csv_answer_says_it_in_a_header_and_keeps_its_columns(client: TestClient) -> None:
    """CSV: the header carries the note; the body is the documented columns and one row per
    line, with no comment or extra row."""
    text = "code,zip,setting\n" + "".join(f"{x['code']},10001,facility\n" for x in LINES)
    response = client.post(BULK, content=text.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers[NOTE_HEADER] == NOTE
    reader = csv.reader(io.StringIO(response.text, newline=""))
    header, *rows = list(reader)
    assert tuple(header) == CSV_OUT
    assert [row[0] for row in rows] == ["0", "1", "2"]


def test_the_header_is_documented_in_the_openapi_schema(client: TestClient) -> None:
    """The 200 answer of the bulk operation declares the header."""
    schema = client.get("/openapi.json").json()
    answer = schema["paths"][BULK]["post"]["responses"]["200"]
    assert NOTE_HEADER in answer["headers"]
