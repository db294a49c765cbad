"""ASP pricing file: the quarterly Medicare Part B drug payment limit per HCPCS dosage unit.

Layout contract (the Section 508 ``.csv``, January 2025 updated 2025-03-07):

* Title rows first. One of them (the 3rd line) states the quarter:
  ``"Effective January 1, 2025 through March 31, 2025"``; :func:`effective_period` reads it.
* The header row starts ``HCPCS Code`` (the 9th line) and names exactly these 11 columns, in
  this order (compared case-insensitively): HCPCS Code, Short Description, HCPCS Code
  Dosage, Payment Limit, Co-insurance Percentage, Vaccine AWP%, Vaccine Limit, Blood AWP%,
  Blood Limit, Clotting Factor, Notes. Every row carries one more, empty, cell (trailing
  comma); any further cell must be blank.
* One row per HCPCS code (5 letters/digits, unique). Payment limit and vaccine/blood limits
  have 3 places (``0.108``); the payment limit may be ``N/A`` (no limit published: the MAC
  prices the drug), which reads as ``None``. Co-insurance percentage has 3 places
  (``20.000``; less where the coinsurance is inflation-adjusted, ``0.000`` for vaccines).
  The AWP percentages are whole numbers (``95``). Clotting Factor is blank or ``1``.
* Text cells may hold a no-break space (``1 million\\xa0PFU``; the file is ISO-8859-1) or a
  line break inside quotes (one note): runs of white space read as one space.

Every fault raises ``FileRejected(file, line, message)``: a missing or renamed column, a
truncated row, a bad number or code, a duplicate code, an empty file, a missing period.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Q3, Row, csv_rows, table, text_lines, to_decimal
from cms_pricing.reference.rows import AspRow

HEADER = "HCPCS Code"
COLUMN_NAMES = (
    "HCPCS Code",
    "Short Description",
    "HCPCS Code Dosage",
    "Payment Limit",
    "Co-insurance Percentage",
    "Vaccine AWP%",
    "Vaccine Limit",
    "Blood AWP%",
    "Blood Limit",
    "Clotting Factor",
    "Notes",
)
COLUMNS = len(COLUMN_NAMES)
NOT_AVAILABLE = "N/A"
WHOLE = Decimal("1")

_HCPCS = re.compile(r"[A-Z0-9]{5}")
_PERIOD = re.compile(r"Effective\s+(\w+ \d{1,2}, \d{4})\s+through\s+(\w+ \d{1,2}, \d{4})", re.I)


def _text(cell: str) -> str:
    return " ".join(cell.split())


def _check_header(file_name: str, rows: list[Row]) -> None:
    """The header row names the 11 columns of the contract, in order."""
    for line, cells in rows:
        if cells and cells[0].upper().startswith(HEADER.upper()):
            found = [_text(c) for c in cells[:COLUMNS]] + [""] * (COLUMNS - len(cells))
            for want, got in zip(COLUMN_NAMES, found, strict=True):
                if want.casefold() != got.casefold():
                    raise FileRejected(file_name, line, f"missing column {want!r} (found {got!r})")
            return
    raise FileRejected(file_name, 0, f"header row starting {HEADER!r} not found")


def _money(raw: str, file_name: str, line: int, field: str) -> Decimal | None:
    return to_decimal(raw, Q3, file_name, line, field) if raw else None


def _whole(raw: str, file_name: str, line: int, field: str) -> Decimal | None:
    return to_decimal(raw, WHOLE, file_name, line, field) if raw else None


def _flag(raw: str, file_name: str, line: int) -> bool:
    if raw not in ("", "1"):
        raise FileRejected(file_name, line, f"clotting_factor: expected blank or 1: {raw!r}")
    return raw == "1"


def _from_cells(file_name: str, line: int, cells: list[str]) -> AspRow:
    hcpcs, description, dosage, limit, coins, v_awp, v_lim, b_awp, b_lim, clot, notes = cells[
        :COLUMNS
    ]
    if not _HCPCS.fullmatch(hcpcs):
        raise FileRejected(file_name, line, f"hcpcs: not a 5-character HCPCS code: {hcpcs!r}")
    if not dosage:
        raise FileRejected(file_name, line, "dosage: blank")
    if not limit:
        raise FileRejected(file_name, line, "payment_limit: blank (N/A is written N/A)")
    return AspRow(
        hcpcs=hcpcs,
        short_description=_text(description),
        dosage=_text(dosage),
        payment_limit=None if limit == NOT_AVAILABLE else _money(limit, file_name, line, "limit"),
        coinsurance_pct=_money(coins, file_name, line, "coinsurance_pct"),
        vaccine_awp_pct=_whole(v_awp, file_name, line, "vaccine_awp_pct"),
        vaccine_limit=_money(v_lim, file_name, line, "vaccine_limit"),
        blood_awp_pct=_whole(b_awp, file_name, line, "blood_awp_pct"),
        blood_limit=_money(b_lim, file_name, line, "blood_limit"),
        clotting_factor=_flag(clot, file_name, line),
        notes=_text(notes),
    )


def parse_csv(file_name: str, data: bytes) -> list[AspRow]:
    """The rows of an ASP pricing ``.csv`` file, in file order."""
    rows = csv_rows(file_name, data)
    _check_header(file_name, rows)
    out: list[AspRow] = []
    seen: dict[str, int] = {}
    for line, cells in table(file_name, rows, HEADER, COLUMNS):
        row = _from_cells(file_name, line, cells)
        if row.hcpcs in seen:
            reason = f"duplicate HCPCS code {row.hcpcs} (first on line {seen[row.hcpcs]})"
            raise FileRejected(file_name, line, reason)
        seen[row.hcpcs] = line
        out.append(row)
    return out


def _date(raw: str, file_name: str, line: int) -> date:
    try:
        return datetime.strptime(raw, "%B %d, %Y").date()
    except ValueError as exc:
        raise FileRejected(file_name, line, f"effective period: not a date: {raw!r}") from exc


def effective_period(file_name: str, data: bytes) -> tuple[date, date]:
    """The first and last day of the quarter the file states in its title rows."""
    for number, text in enumerate(text_lines(file_name, data), start=1):
        if text.upper().startswith(HEADER.upper()):
            break
        found = _PERIOD.search(text)
        if found:
            start, end = (_date(found[i], file_name, number) for i in (1, 2))
            if end < start:
                raise FileRejected(file_name, number, "effective period ends before it starts")
            return start, end
    raise FileRejected(file_name, 0, "no 'Effective <date> through <date>' title line")
