"""DME Rural ZIP Code file (``.csv``): the ZIP codes where DMEPOS rural fees apply.

Layout contract (DMEREAD 2025, Attachment A-5): a header row ``STATE, DMEPOS RURAL ZIP CODE,
YEAR/QTR``, then one row per rural ZIP: the 2-letter state (Kansas and Missouri as KS and MO),
the 5-digit ZIP and the year/quarter (``202501``). A rural area is a ZIP with at least half
its area outside any metropolitan area, or a low-density ZIP excluded from a competitive
bidding area (42 CFR 414.202, 414.210(g); DMEREAD Background). Since 2016 this file decides
whether the rural fee of a code with rural and non-rural amounts applies.

Faults: missing column, short row, bad state, ZIP or year/quarter, a ZIP listed twice, an
empty file: ``FileRejected`` with the line.
"""

from __future__ import annotations

from cms_pricing.reference.parsers.common import csv_rows, table
from cms_pricing.reference.parsers.dme_layout import (
    expect_columns,
    header_row,
    state,
    unique,
    year_quarter,
    zip5,
)
from cms_pricing.reference.rows import DmeRuralZipRow

COLUMNS = ("STATE", "DMEPOS RURAL ZIP CODE", "YEAR/QTR")


def parse_csv(file_name: str, data: bytes) -> list[DmeRuralZipRow]:
    """The rural ZIP codes of a DME rural ZIP ``.csv`` file."""
    rows = csv_rows(file_name, data)
    expect_columns(file_name, header_row(file_name, rows, COLUMNS[0]), COLUMNS)
    out: list[DmeRuralZipRow] = []
    seen: set[object] = set()
    for line, cells in table(file_name, rows, COLUMNS[0], len(COLUMNS)):
        row = DmeRuralZipRow(
            state=state(cells[0], file_name, line),
            zip5=zip5(cells[1], file_name, line),
            year_quarter=year_quarter(cells[2], file_name, line),
        )
        unique(file_name, line, seen, row.zip5)
        out.append(row)
    return out
