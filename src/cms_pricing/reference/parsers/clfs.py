"""CLFS: the Clinical Laboratory Fee Schedule, one national limit per HCPCS + modifier.

Layout contract (``CLFS 2025 Q1V1.pdf``, the CMS read-me shipped with the release:
Attachment A-1 for ``.csv``/``.xls``, A-2 for ``.txt``):

* Fields, in order: year (4 digits), HCPCS (5 characters), modifier (blank, or ``QW`` for a
  CLIA-waived test), effective date (``YYYYMMDD``), indicator ("national or local pricing
  indicator": ``N`` national limitation amount, ``L`` locally priced with rate 0), payment
  rate (``99999.99``), short description (40 characters, AMA CPT text).
* ``.txt``: ``HDR~`` copyright lines first, then one ``~``-separated record of exactly 7
  fields per line, blank-padded (the pdf draws ``,`` fillers; the file writes ``~``). A line
  cut inside the description cannot be told from a short description; a line cut earlier
  has too few fields and is refused.
* ``.csv``: title lines (one carries a non-UTF-8 ``0xA0`` byte), then a header row starting
  ``YEAR`` naming YEAR, HCPCS, MOD, EFF_DATE, INDICATOR, RATE, SHORTDESC (found by name), and
  LONGDESC, EXTENDED LONGDESC (AMA text the ``.txt`` lacks: not kept). Descriptions hold
  quoted commas. Rates are written ``00010.56`` or trimmed (``95.8``, ``0``); both forms read
  as 2-place Decimals, so ``.csv`` and ``.txt`` give equal rows.
* (HCPCS, modifier) is unique. Every fault raises ``FileRejected`` naming the 1-based line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Q2,
    Row,
    csv_rows,
    require_rows,
    table,
    text_lines,
    to_decimal,
)
from cms_pricing.reference.rows import ClfsRow

HEADER = "YEAR"
COLUMNS = ("YEAR", "HCPCS", "MOD", "EFF_DATE", "INDICATOR", "RATE", "SHORTDESC")
TXT_FIELDS = 7
TXT_SEPARATOR = "~"
TXT_SKIP = "HDR"


def _year(raw: str, file_name: str, line: int) -> int:
    if len(raw) != 4 or not raw.isdigit() or not raw.isascii():
        raise FileRejected(file_name, line, f"year: not a 4-digit year: {raw!r}")
    return int(raw)


def _date(raw: str, file_name: str, line: int) -> date:
    try:
        if len(raw) != 8 or not raw.isdigit() or not raw.isascii():
            raise ValueError(raw)
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        reason = f"effective date: not a YYYYMMDD date: {raw!r}"
        raise FileRejected(file_name, line, reason) from None


def _code(raw: str, width: int, file_name: str, line: int, field: str) -> str:
    if len(raw) != width or not raw.isalnum() or not raw.isascii() or raw != raw.upper():
        raise FileRejected(file_name, line, f"{field}: not a {width}-character code: {raw!r}")
    return raw


def _row(file_name: str, line: int, fields: Sequence[str]) -> ClfsRow:
    """A row from the 7 stripped fields, in layout order."""
    year, hcpcs, modifier, effective, indicator, rate, description = fields
    return ClfsRow(
        year=_year(year, file_name, line),
        hcpcs=_code(hcpcs, 5, file_name, line, "hcpcs"),
        modifier=modifier and _code(modifier, 2, file_name, line, "modifier"),
        effective_date=_date(effective, file_name, line),
        indicator=_code(indicator, 1, file_name, line, "indicator"),
        rate=to_decimal(rate, Q2, file_name, line, "rate"),
        short_description=description,
    )


def _unique(file_name: str, rows: list[tuple[int, ClfsRow]]) -> list[ClfsRow]:
    """The rows; a second row for a (hcpcs, modifier) already seen is refused."""
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        key = (row.hcpcs, row.modifier)
        if key in seen:
            first = seen[key]
            reason = (
                f"duplicate HCPCS {row.hcpcs} modifier {row.modifier!r} (first on line {first})"
            )
            raise FileRejected(file_name, line, reason)
        seen[key] = line
    return [row for _, row in require_rows(file_name, rows)]


def _columns(file_name: str, rows: Sequence[Row]) -> tuple[list[int], int]:
    """The index of each of ``COLUMNS`` in the header row, and the header's width."""
    for line, cells in rows:
        names = [cell.upper() for cell in cells]
        if names and names[0] == HEADER:
            missing = [name for name in COLUMNS if name not in names]
            if missing:
                raise FileRejected(file_name, line, f"header lacks column(s) {', '.join(missing)}")
            return [names.index(name) for name in COLUMNS], len(cells)
    raise FileRejected(file_name, 0, f"header row starting {HEADER!r} not found")


def parse_csv(file_name: str, data: bytes) -> list[ClfsRow]:
    """The rows of a CLFS ``.csv`` file."""
    rows = csv_rows(file_name, data)
    index, width = _columns(file_name, rows)
    body = table(file_name, rows, HEADER, width)
    return _unique(file_name, [(n, _row(file_name, n, [c[i] for i in index])) for n, c in body])


def _fields(file_name: str, line: int, text: str) -> list[str]:
    fields = [field.strip() for field in text.split(TXT_SEPARATOR)]
    if len(fields) != TXT_FIELDS:
        reason = f"{len(fields)} {TXT_SEPARATOR!r}-separated fields, expected {TXT_FIELDS}"
        raise FileRejected(file_name, line, reason)
    return fields


def parse_txt(file_name: str, data: bytes) -> list[ClfsRow]:
    """The rows of a CLFS ``.txt`` file (``HDR`` lines and blank lines are not records)."""
    rows = [
        (n, _row(file_name, n, _fields(file_name, n, text)))
        for n, text in enumerate(text_lines(file_name, data), start=1)
        if text.strip() and not text.startswith(TXT_SKIP)
    ]
    return _unique(file_name, rows)
