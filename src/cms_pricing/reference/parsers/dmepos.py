"""DMEPOS_* (``.csv``): the DMEPOS fee schedule, a NR/R fee pair per state.

Layout contract (DMEREAD 2025, Attachment A-1): title rows, then a header row starting
``HCPCS``: HCPCS, Mod, Mod2, JURIS, CATG, Ceiling, Floor, then one ``ST (NR)``, ``ST (R)``
column pair per state (AL ... WY, DC included), then the non-continental areas AK, HI, PR,
VI, then Description. One data row per HCPCS + modifiers; every cell of the row is filled.

* NR is the non-rural fee schedule amount, R the rural one. Codes not adjusted with
  competitive bidding information have amounts only in the NR columns (DMEREAD,
  Background): their R cell is 0.00, and the NR amount then applies in rural areas too.
* Ceiling and floor are "filled with zeros" for codes adjusted with competitive bidding
  information and for items not subject to them (E0607, E1405, E1406, E0954, K0554, the
  non-mail-order diabetic supplies, splints, casts, some IOLs, labor rates, lymphedema items;
  DMEREAD A-1, columns 6-7): kept as written, 0.00. Non-continental areas are not subject to
  ceilings and floors nor to rural fees (their R cell is 0.00).
* JURIS: D (DME MAC), L (local Part B carrier), J (joint). CATG: the payment category.

Rows: one :class:`DmeposFeeRow` per (code, modifiers, state); ``modifier3`` is ``""``. The
DMEPEN ``.csv`` has the same wide shape without JURIS..Floor; :func:`parse_wide` serves both.
Faults: a missing column, a broken NR/R pair, a short row, a bad code, modifier or amount,
a duplicate HCPCS + modifiers, an empty file: ``FileRejected`` with the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Row, csv_rows, table
from cms_pricing.reference.parsers.dme_layout import (
    expect_columns,
    hcpcs,
    header_row,
    modifier,
    money,
    unique,
)
from cms_pricing.reference.rows import DmeposFeeRow

LEADING = ("HCPCS", "Mod", "Mod2", "JURIS", "CATG", "Ceiling", "Floor")
JURISDICTIONS = frozenset({"D", "L", "J"})
CATEGORIES = frozenset(
    {"IN", "FS", "CR", "OX", "OS", "SD", "PO", "SU", "TE", "TS", "IL", "SC", "LC", "LT"}
)
_STATE_COLUMN = re.compile(r"([A-Z]{2}) ?\((NR|R)\)")

Fixed = tuple[str, str, Decimal | None, Decimal | None]
"""A row's cells besides code and modifiers: jurisdiction, category, ceiling, floor."""
FixedReader = Callable[[str, int, list[str]], Fixed]


def state_columns(file_name: str, header: Row, start: int) -> list[tuple[str, int]]:
    """(state, index of its NR column) for each ``ST (NR)``, ``ST (R)`` pair from ``start``."""
    line, cells = header
    out: list[tuple[str, int]] = []
    index = start
    while index < len(cells) and (nr := _STATE_COLUMN.fullmatch(cells[index])):
        r = _STATE_COLUMN.fullmatch(cells[index + 1]) if index + 1 < len(cells) else None
        if nr[2] != "NR" or r is None or (r[1], r[2]) != (nr[1], "R"):
            reason = f"column {index + 1}: expected the pair '{nr[1]} (NR)', '{nr[1]} (R)'"
            raise FileRejected(file_name, line, reason)
        if any(nr[1] == st for st, _ in out):
            raise FileRejected(file_name, line, f"column {index + 1}: state {nr[1]} repeated")
        out.append((nr[1], index))
        index += 2
    if not out:
        raise FileRejected(file_name, line, f"missing column: no state fee columns at {start + 1}")
    return out


def _dmepos_fixed(file_name: str, line: int, cells: list[str]) -> Fixed:
    juris, catg = cells[3], cells[4]
    if juris not in JURISDICTIONS:
        raise FileRejected(file_name, line, f"jurisdiction: not D, L or J: {juris!r}")
    if catg not in CATEGORIES:
        raise FileRejected(file_name, line, f"category: unknown: {catg!r}")
    ceiling = money(cells[5], file_name, line, "ceiling")
    return juris, catg, ceiling, money(cells[6], file_name, line, "floor")


def no_fixed_cells(_file_name: str, _line: int, _cells: list[str]) -> Fixed:
    """The fixed cells of a file without JURIS..Floor columns (DMEPEN): blank and None."""
    return "", "", None, None


def parse_wide(
    file_name: str, data: bytes, leading: Sequence[str], fixed: FixedReader
) -> list[DmeposFeeRow]:
    """The fees of a wide DMEPOS-family ``.csv``: one row per code, modifiers and state."""
    rows = csv_rows(file_name, data)
    header = header_row(file_name, rows, leading[0])
    expect_columns(file_name, header, leading)
    states = state_columns(file_name, header, len(leading))
    out: list[DmeposFeeRow] = []
    seen: set[object] = set()
    for line, cells in table(file_name, rows, leading[0], len(header[1])):
        code = hcpcs(cells[0], file_name, line)
        mod1 = modifier(cells[1], file_name, line, "modifier")
        mod2 = modifier(cells[2], file_name, line, "modifier2")
        unique(file_name, line, seen, (code, mod1, mod2))
        juris, catg, ceiling, floor = fixed(file_name, line, cells)
        for st, at in states:
            nr = money(cells[at], file_name, line, f"{st} (NR)")
            r = money(cells[at + 1], file_name, line, f"{st} (R)")
            out.append(DmeposFeeRow(code, mod1, mod2, "", juris, catg, ceiling, floor, st, nr, r))
    return out


def parse_csv(file_name: str, data: bytes) -> list[DmeposFeeRow]:
    """The fees of a ``DMEPOS_*.csv`` file."""
    return parse_wide(file_name, data, LEADING, _dmepos_fixed)
