"""GPCI2025: the geographic practice cost indices of each (MAC, locality).

Layout contract (``.txt``, a printed report, not strictly fixed width):

* A title line, a blank line and a column-header line come first; footnote lines after
  the data ("MAC Assignments as of ...", lines starting ``*``) and blank lines are skipped.
* A data line starts with the 5-digit MAC; then the state, the 2-digit locality, the
  locality name (free text with spaces, including the ``*``/``**`` floor markers) and,
  as the last three blank-separated tokens, the work, PE and MP GPCIs (3 places).

``.csv``/``.xlsx``: title rows, then a header row starting "Medicare Administrative
Contractor"; columns MAC, state, locality, name, work, PE, MP. The csv drops trailing zeros
(``1``, ``0.86``) and the xlsx writes some localities as numbers (``54``): GPCIs are
quantized to 3 places and codes re-padded (MAC 5 digits, locality 2).
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Q3,
    code,
    csv_rows,
    data_block,
    table,
    text_lines,
    to_decimal,
    xlsx_rows,
)
from cms_pricing.reference.rows import GpciRow

HEADER = "Medicare Admin"
COLUMNS = 7


def _is_data(line: str) -> bool:
    return line[:5].isdigit() and line[5:6].isspace()


def _build(file_name: str, line: int, fields: list[str]) -> GpciRow:
    """A GpciRow from MAC, state, locality, name, work, PE, MP texts."""
    mac, state, locality, name, work, pe, mp = fields
    if len(state) != 2 or not state.isalpha():
        raise FileRejected(file_name, line, f"state: not a 2-letter code: {state!r}")
    if not name:
        raise FileRejected(file_name, line, "locality name is blank")
    return GpciRow(
        mac=code(mac, 5, file_name, line, "mac"),
        state=state,
        locality=code(locality, 2, file_name, line, "locality"),
        locality_name=name,
        work=to_decimal(work, Q3, file_name, line, "work"),
        pe=to_decimal(pe, Q3, file_name, line, "pe"),
        mp=to_decimal(mp, Q3, file_name, line, "mp"),
    )


def _from_line(file_name: str, line: int, text: str) -> GpciRow:
    head = text.split(None, 3)
    tail = head[3].rsplit(None, 3) if len(head) == 4 else []
    if len(tail) != 4:
        raise FileRejected(file_name, line, "expected MAC, state, locality, name and 3 GPCIs")
    return _build(file_name, line, [*head[:3], tail[0].strip(), *tail[1:]])


def parse_txt(file_name: str, data: bytes) -> list[GpciRow]:
    """The localities of a GPCI ``.txt`` report."""
    lines = data_block(file_name, text_lines(file_name, data), _is_data)
    return [_from_line(file_name, n, text) for n, text in lines]


def parse_csv(file_name: str, data: bytes) -> list[GpciRow]:
    """The localities of a GPCI ``.csv`` file."""
    rows = table(file_name, csv_rows(file_name, data), HEADER, COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]


def parse_xlsx(file_name: str, data: bytes) -> list[GpciRow]:
    """The localities of a GPCI ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), HEADER, COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]
