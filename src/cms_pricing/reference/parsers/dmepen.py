"""DMEPEN_* (``.csv``, ``.txt``): the parenteral and enteral nutrition (PEN) fee schedule.

``.csv`` contract (DMEREAD 2025, Attachment A-3): title rows, then a header row HCPCS, MOD,
MOD2, then a ``ST(NR)``, ``ST(R)`` column pair per state (AL ... WY, then AK, HI, PR, VI), then
Desc. The wide reader of :mod:`~cms_pricing.reference.parsers.dmepos` parses it.

``.txt`` contract (Attachment A-4): one ``~``-separated record per code, modifiers and state;
no header; the file ends with a ``^Z`` byte and the description is not padded. Fields: year,
HCPCS, modifier, 2nd modifier, "original base year fee" (``999999.99``), state (7 characters,
blank-padded), "updated fee schedule amount" (14 characters), rural indicator, description.
The base-year field holds the **rural** fee when the rural indicator is ``R``; otherwise it
is "not used for pricing claims" and the rural fee is 0.00 (as the ``.csv``'s R cell is).
The updated amount is the non-rural fee.

Both forms give one :class:`DmeposFeeRow` per (code, modifiers, state) with jurisdiction and
category ``""`` and ceiling and floor ``None`` (the PEN files have no such columns); the csv
lists them code by code, the txt state by state within a code.
"""

from __future__ import annotations

from decimal import Decimal

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Q2, require_rows, text_lines, to_decimal
from cms_pricing.reference.parsers.dme_layout import hcpcs, modifier, state, unique
from cms_pricing.reference.parsers.dmepos import no_fixed_cells, parse_wide
from cms_pricing.reference.rows import DmeposFeeRow

LEADING = ("HCPCS", "MOD", "MOD2")
FIELDS = 9
ZERO = Decimal("0.00")


def _from_record(file_name: str, line: int, text: str) -> DmeposFeeRow:
    fields = text.split("~")
    if len(fields) != FIELDS:
        reason = f"record has {len(fields)} '~'-separated fields, expected {FIELDS}"
        raise FileRejected(file_name, line, reason)
    year, code, mod1, mod2, base, st, updated, indicator, _desc = fields
    if not (len(year) == 4 and year.isdigit()):
        raise FileRejected(file_name, line, f"year: not 4 digits: {year!r}")
    if indicator not in {"R", " ", ""}:
        raise FileRejected(file_name, line, f"rural indicator: not 'R' or blank: {indicator!r}")
    base_fee = to_decimal(base, Q2, file_name, line, "original base year fee")
    return DmeposFeeRow(
        hcpcs=hcpcs(code, file_name, line),
        modifier=modifier(mod1.strip(), file_name, line, "modifier"),
        modifier2=modifier(mod2.strip(), file_name, line, "modifier2"),
        modifier3="",
        jurisdiction="",
        category="",
        ceiling=None,
        floor=None,
        state=state(st.strip(), file_name, line),
        non_rural=to_decimal(updated, Q2, file_name, line, "updated fee schedule amount"),
        rural=base_fee if indicator == "R" else ZERO,
    )


def parse_txt(file_name: str, data: bytes) -> list[DmeposFeeRow]:
    """The fees of a ``DMEPEN_*.txt`` file (blank lines are skipped)."""
    out: list[DmeposFeeRow] = []
    seen: set[object] = set()
    for number, text in enumerate(text_lines(file_name, data), start=1):
        if not text.strip():
            continue
        row = _from_record(file_name, number, text)
        unique(file_name, number, seen, (row.hcpcs, row.modifier, row.modifier2, row.state))
        out.append(row)
    return require_rows(file_name, out)


def parse_csv(file_name: str, data: bytes) -> list[DmeposFeeRow]:
    """The fees of a ``DMEPEN_*.csv`` file."""
    return parse_wide(file_name, data, LEADING, no_fixed_cells)
