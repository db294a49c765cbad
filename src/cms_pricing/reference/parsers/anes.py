"""ANES2025: the anesthesia conversion factor of each (MAC, locality).

Layout contract (``.txt``): no header; one line per locality: the 5-digit MAC, the 2-digit
locality, the locality name (free text) and, as the last blank-separated token, the CF as
an implied-decimal integer (``1931`` is 19.31). The file ends with a ``^Z`` byte.

``.csv``/``.xlsx``: a header row starting "Contractor" whose last cell names the national
CF ("National Anes CF of 20.3178"); columns MAC, locality, name, CF (``19.31``). The
xlsx writes MAC and locality as numbers (``2102``, ``0``): re-padded to 5 and 2 digits.
CFs have 2 places in every form.
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Q2,
    code,
    csv_rows,
    data_block,
    implied_decimal,
    table,
    text_lines,
    to_decimal,
    xlsx_rows,
)
from cms_pricing.reference.rows import AnesCfRow

HEADER = "Contractor"
COLUMNS = 4


def _is_data(line: str) -> bool:
    return line[:5].isdigit()


def _from_line(file_name: str, line: int, text: str) -> AnesCfRow:
    head = text.split(None, 2)
    tail = head[2].rsplit(None, 1) if len(head) == 3 else []
    if len(tail) != 2:
        raise FileRejected(file_name, line, "expected MAC, locality, name and CF")
    return AnesCfRow(
        mac=code(head[0], 5, file_name, line, "mac"),
        locality=code(head[1], 2, file_name, line, "locality"),
        locality_name=tail[0].strip(),
        anes_cf=implied_decimal(tail[1], 2, file_name, line, "anes_cf"),
    )


def _from_cells(file_name: str, line: int, cells: list[str]) -> AnesCfRow:
    if not cells[2]:
        raise FileRejected(file_name, line, "locality name is blank")
    return AnesCfRow(
        mac=code(cells[0], 5, file_name, line, "mac"),
        locality=code(cells[1], 2, file_name, line, "locality"),
        locality_name=cells[2],
        anes_cf=to_decimal(cells[3], Q2, file_name, line, "anes_cf"),
    )


def parse_txt(file_name: str, data: bytes) -> list[AnesCfRow]:
    """The localities of an ANES ``.txt`` file."""
    lines = data_block(file_name, text_lines(file_name, data), _is_data)
    return [_from_line(file_name, n, text) for n, text in lines]


def parse_csv(file_name: str, data: bytes) -> list[AnesCfRow]:
    """The localities of an ANES ``.csv`` file."""
    rows = table(file_name, csv_rows(file_name, data), HEADER, COLUMNS)
    return [_from_cells(file_name, n, cells) for n, cells in rows]


def parse_xlsx(file_name: str, data: bytes) -> list[AnesCfRow]:
    """The localities of an ANES ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), HEADER, COLUMNS)
    return [_from_cells(file_name, n, cells) for n, cells in rows]
