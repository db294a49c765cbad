"""CMS anesthesia base units by CPT code (CY 2022 file of 11/09/21): code -> base units.

Layout contract (the ``.txt`` "Section 508 compliant version" and the ``.xlsx``, first
sheet; both have the same rows, so line numbers are the same in either form):

* Line 1 is the header: ``CODE`` and the calendar year (``CODE<TAB>2022``);
  :func:`file_year` reads the year. Lines 2-3 continue the second column's title
  (``<TAB>BASE``, ``<TAB>UNIT``): their first cell is blank.
* Then one row per code: the 5-digit CPT anesthesia code (``00100`` ... ``01999``, unique;
  the ``.txt`` is tab-separated with CRLF line ends) and its base units, a whole number
  (``5``; ``0`` for the unlisted procedure 01999). Any further cell must be blank; blank
  lines are skipped; nothing but code rows may follow the first code row.

Every fault raises ``FileRejected(file, line, message)``: a missing header or year, a
truncated row, a bad code or number, a duplicate code, an empty file.
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Row, code, require_rows, text_lines, xlsx_rows
from cms_pricing.reference.rows import AnesBaseUnitRow

HEADER = "CODE"


def _txt_rows(file_name: str, data: bytes) -> list[Row]:
    lines = text_lines(file_name, data)
    return [(n, [cell.strip() for cell in text.split("\t")]) for n, text in enumerate(lines, 1)]


def _header(file_name: str, rows: list[Row]) -> tuple[int, int]:
    """(index of the header row in ``rows``, the year it names)."""
    for index, (line, cells) in enumerate(rows):
        if not any(cells):
            continue
        if cells[0].upper() != HEADER:
            raise FileRejected(file_name, line, f"expected the header row {HEADER!r} first")
        year = cells[1] if len(cells) > 1 else ""
        if not (year.isdigit() and year.isascii() and len(year) == 4):
            raise FileRejected(file_name, line, f"header: not a year: {year!r}")
        return index, int(year)
    raise FileRejected(file_name, 0, "empty file")


def _units(raw: str, file_name: str, line: int) -> int:
    if not (raw.isdigit() and raw.isascii()):
        raise FileRejected(file_name, line, f"base_units: not a whole number: {raw!r}")
    return int(raw)


def _from_cells(file_name: str, line: int, cells: list[str]) -> AnesBaseUnitRow:
    if len(cells) < 2 or not cells[1]:
        raise FileRejected(file_name, line, "truncated row: base units missing")
    if any(cells[2:]):
        raise FileRejected(file_name, line, f"row has {len(cells)} cells used, expected 2")
    return AnesBaseUnitRow(
        code=code(cells[0], 5, file_name, line, "code"),
        base_units=_units(cells[1], file_name, line),
    )


def _parse(file_name: str, rows: list[Row]) -> list[AnesBaseUnitRow]:
    start, _year = _header(file_name, rows)
    out: list[AnesBaseUnitRow] = []
    seen: dict[str, int] = {}
    for line, cells in rows[start + 1 :]:
        if not any(cells):
            continue
        if not out and not cells[0] and not any(c[:1].isdigit() for c in cells):
            continue  # the header's continuation lines: "BASE", "UNIT"
        row = _from_cells(file_name, line, cells)
        if row.code in seen:
            reason = f"duplicate code {row.code} (first on line {seen[row.code]})"
            raise FileRejected(file_name, line, reason)
        seen[row.code] = line
        out.append(row)
    return require_rows(file_name, out)


def parse_txt(file_name: str, data: bytes) -> list[AnesBaseUnitRow]:
    """The codes of the tab-separated ``.txt`` form, in file order."""
    return _parse(file_name, _txt_rows(file_name, data))


def parse_xlsx(file_name: str, data: bytes) -> list[AnesBaseUnitRow]:
    """The codes of the ``.xlsx`` form (first sheet), in sheet order."""
    return _parse(file_name, xlsx_rows(file_name, data))


def file_year(file_name: str, data: bytes) -> int:
    """The calendar year the header row names (``CODE<TAB>2022`` -> 2022); either form."""
    reader = xlsx_rows if file_name.lower().endswith(".xlsx") else _txt_rows
    return _header(file_name, reader(file_name, data))[1]
