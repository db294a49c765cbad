"""The CBSA wage index table of CMS's OPPS Pricer (``cbsa-wage-index-2025.csv``).

Layout contract:

* Plain ``.csv``, LF line endings, no title lines: the first row is the header naming
  ``cbsa, effectiveDate, geographicWageIndex, reclassifiedWageIndex, imputedFloorWageIndex,
  name`` (found by name, case-insensitively).
* ``cbsa`` is a 5-digit CBSA code, or a 2-digit state code (``01``-``99``: the state's rural
  area; a spreadsheet that dropped the leading zero writes ``9``, read back as ``09``).
* ``effectiveDate`` is ``YYYYMMDD`` (``20250101``). The three wage indexes have 4 places;
  ``0.0000`` means "none" (no rural area in DC, NJ, RI; no imputed floor).
* ``name`` is kept as written; two Puerto Rico names carry ``?`` for a lost letter
  (``Mayag?ez PR``). One row per code: 471 in 2025.

Every fault raises ``FileRejected(file, line, message)``.
"""

from __future__ import annotations

from datetime import date

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.addenda import unique
from cms_pricing.reference.parsers.common import Q4, csv_rows, require_rows, to_decimal
from cms_pricing.reference.rows import WageIndexRow

COLUMN_NAMES = (
    "cbsa",
    "effectiveDate",
    "geographicWageIndex",
    "reclassifiedWageIndex",
    "imputedFloorWageIndex",
    "name",
)


def _cbsa(raw: str, file_name: str, line: int) -> str:
    if not raw.isdigit() or not raw.isascii() or len(raw) not in (1, 2, 5):
        raise FileRejected(file_name, line, f"cbsa: not a 5-digit CBSA or state code: {raw!r}")
    return raw.zfill(2) if len(raw) < 5 else raw


def _date(raw: str, file_name: str, line: int) -> date:
    try:
        if len(raw) != 8 or not raw.isdigit() or not raw.isascii():
            raise ValueError(raw)
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise FileRejected(file_name, line, f"effectiveDate: not YYYYMMDD: {raw!r}") from None


def _row(file_name: str, line: int, cells: list[str]) -> WageIndexRow:
    cbsa, effective, geographic, reclassified, floor, name = cells
    return WageIndexRow(
        cbsa=_cbsa(cbsa, file_name, line),
        effective_date=_date(effective, file_name, line),
        geographic=to_decimal(geographic, Q4, file_name, line, "geographicWageIndex"),
        reclassified=to_decimal(reclassified, Q4, file_name, line, "reclassifiedWageIndex"),
        imputed_floor=to_decimal(floor, Q4, file_name, line, "imputedFloorWageIndex"),
        name=name,
    )


def _index(file_name: str, line: int, header: list[str]) -> list[int]:
    names = [cell.casefold() for cell in header]
    missing = [n for n in COLUMN_NAMES if n.casefold() not in names]
    if missing:
        raise FileRejected(file_name, line, f"header lacks column(s) {', '.join(missing)}")
    return [names.index(n.casefold()) for n in COLUMN_NAMES]


def parse_csv(file_name: str, data: bytes) -> list[WageIndexRow]:
    """The rows of a CBSA wage index ``.csv`` file, in file order."""
    rows = [(line, cells) for line, cells in csv_rows(file_name, data) if any(cells)]
    if not rows:
        raise FileRejected(file_name, 0, "empty file")
    (at, header), body = rows[0], rows[1:]
    index = _index(file_name, at, header)
    parsed = []
    for line, cells in require_rows(file_name, body):
        if len(cells) < len(header) or any(cells[len(header) :]):
            reason = f"row has {len(cells)} cells, expected {len(header)}"
            raise FileRejected(file_name, line, reason)
        parsed.append((line, _row(file_name, line, [cells[i] for i in index])))
    return unique(file_name, parsed, lambda row: row.cbsa)
