"""25LOCCO: the counties of each payment locality.

Layout contract (``.txt``, a printed report with fixed columns; 1-based inclusive):

* A title line and a column-header line come first, the footnote ``*  Payment locality is
  serviced by two carriers.`` last; blank lines separate the states' blocks.
* Data lines: 5-9 MAC, 17-18 locality, 23-45 state, 46-143 fee schedule area, 144-end
  counties (free text; the line's length varies with it).
* The state is written only on the first row of a state's block: it is filled down within
  the block (rows up to the next blank line). A block whose first row has no state keeps
  ``""`` (RVU25A-D ``.txt``: California's block never names its state).

``.csv``/``.xlsx``: title rows, then a header row starting "Medicare Adminstrative
Contractor" (sic); columns MAC, locality, state, fee schedule area, counties. The csv writes
MAC and locality as numbers (``2102``, ``1``): re-padded to 5 and 2 digits. Blank rows
separate the states' blocks there too.
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Row,
    code,
    csv_rows,
    data_block,
    table,
    text_lines,
    xlsx_rows,
)
from cms_pricing.reference.rows import LocalityCountyRow

HEADER = "Medicare Adm"
COLUMNS = 5


def _is_data(line: str) -> bool:
    return not line[:4].strip() and line[4:9].isdigit()


def _fill_down(file_name: str, rows: list[Row]) -> list[LocalityCountyRow]:
    """Rows from (line, [mac, locality, state, area, counties]), state filled per block."""
    out: list[LocalityCountyRow] = []
    state, previous_line = "", -1
    for line, (mac, locality, written, area, counties) in rows:
        if written:
            state = written
        elif line != previous_line + 1:
            state = ""  # a new block whose first row names no state
        previous_line = line
        if not area or not counties:
            raise FileRejected(file_name, line, "fee schedule area or counties is blank")
        out.append(
            LocalityCountyRow(
                mac=code(mac, 5, file_name, line, "mac"),
                locality=code(locality, 2, file_name, line, "locality"),
                state=state,
                fee_schedule_area=area,
                counties=counties,
            )
        )
    return out


def parse_txt(file_name: str, data: bytes) -> list[LocalityCountyRow]:
    """The locality rows of a LOCCO ``.txt`` report."""
    lines = data_block(file_name, text_lines(file_name, data), _is_data)
    rows: list[Row] = [
        (n, [t[4:9], t[16:18], t[22:45].strip(), t[45:143].strip(), t[143:].strip()])
        for n, t in lines
    ]
    return _fill_down(file_name, rows)


def parse_csv(file_name: str, data: bytes) -> list[LocalityCountyRow]:
    """The locality rows of a LOCCO ``.csv`` file."""
    rows = table(file_name, csv_rows(file_name, data), HEADER, COLUMNS)
    return _fill_down(file_name, [(n, cells[:COLUMNS]) for n, cells in rows])


def parse_xlsx(file_name: str, data: bytes) -> list[LocalityCountyRow]:
    """The locality rows of a LOCCO ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), HEADER, COLUMNS)
    return _fill_down(file_name, [(n, cells[:COLUMNS]) for n, cells in rows])
