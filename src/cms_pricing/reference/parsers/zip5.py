"""ZIP5: the carrier and payment locality of each 5-digit ZIP code (``ZIP5lyout.txt``).

Layout contract (``.txt``; no header; every line an 80-character record, CRLF; 1-based
inclusive): 1-2 state (USPS codes, but Kansas is ``EK``/``WK`` and Missouri ``EM``/``WM``),
3-7 ZIP, 8-12 carrier, 13-14 locality, 15 rural indicator (blank urban, ``R`` rural, ``B``
super rural), 16-17 lab competitive-bid locality, 18 rural indicator 2, 19-20 filler,
21 plus-four flag (``1``: the ZIP spans localities and the ZIP+4 file decides; ``0``
otherwise), 22 filler, 23 Part B drug indicator, 24-75 filler, 76-80 year/quarter
(``YYYYQ``).

``.csv``/``.xlsx``: a header row starting ``STATE``; columns state, ZIP, carrier,
locality, rural, lab CB locality, rural 2, plus-four flag, Part B drug, year/quarter
(the xlsx writes the flag and the year/quarter as numbers).
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    code,
    csv_rows,
    records,
    table,
    xlsx_rows,
)
from cms_pricing.reference.rows import Zip5Row

WIDTH = 80
COLUMNS = 10


def _build(file_name: str, line: int, fields: list[str]) -> Zip5Row:
    """A Zip5Row from the ten fields in file order (``.csv``/``.xlsx`` column order)."""
    state, zip5, carrier, locality, rural, lab, rural2, plus4, drug, year_q = (
        f.strip() for f in fields
    )
    if len(state) != 2 or not state.isalpha():
        raise FileRejected(file_name, line, f"state: not a 2-letter code: {state!r}")
    if plus4 not in ("0", "1"):
        raise FileRejected(file_name, line, f"plus-four flag: expected 0 or 1, got {plus4!r}")
    return Zip5Row(
        state=state,
        zip5=code(zip5, 5, file_name, line, "zip5"),
        carrier=code(carrier, 5, file_name, line, "carrier"),
        locality=code(locality, 2, file_name, line, "locality"),
        rural=rural,
        lab_cb_locality=lab,
        rural2=rural2,
        plus_four=plus4 == "1",
        part_b_drug=drug,
        year_quarter=code(year_q, 5, file_name, line, "year_quarter"),
    )


def parse_txt(file_name: str, data: bytes) -> list[Zip5Row]:
    """The records of a ZIP5 ``.txt`` file."""
    return [
        _build(
            file_name,
            n,
            [r[0:2], r[2:7], r[7:12], r[12:14], r[14], r[15:17], r[17], r[20], r[22], r[75:80]],
        )
        for n, r in records(file_name, data, WIDTH)
    ]


def parse_csv(file_name: str, data: bytes) -> list[Zip5Row]:
    """The rows of a ZIP5 ``.csv`` file (CMS publishes ``.txt`` and ``.xlsx``)."""
    rows = table(file_name, csv_rows(file_name, data), "STATE", COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]


def parse_xlsx(file_name: str, data: bytes) -> list[Zip5Row]:
    """The rows of a ZIP5 ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), "STATE", COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]
