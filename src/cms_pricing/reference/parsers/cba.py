"""The former competitive bidding area (CBA) files: fees, ZIP codes, national mail order.

Each file comes as ``.csv`` and as ``.txt``; the ``.txt`` is the same table tab-separated
(with the same quoting), so both forms go through one reader and give equal rows. Title rows
come first (the fee file also has a "Note:" row saying its column labels are the short CBA
names), then a header row starting ``HCPCS`` or ``CBA State``.

* **Fee schedule** (``Former CBA Fee Schedule File_*``): HCPCS, Mod, Mod2, Mod3, CATG, one
  column per former CBA labelled with its short name ("Akron, OH"), Description. Amounts of
  1,000 or more carry a thousands comma. A cell written ``.`` means the CBA has no amount for
  the code (orthotics such as L1850 in some CBAs): no row. CATG is blank for the enteral
  B-codes and E0776.
* **ZIP file** (``Former CBA ZIP Code File - *``): CBA State, CBA ZIP Code, CBA Name Short,
  CBA Name, Year/Qtr: one row per ZIP, each ZIP in one CBA.
* **National mail-order DTS** (``Former CBA National Mail-Order DTS Fee Schedule - *``):
  HCPCS, Mod, Mod2, Mod3, CATG, National Mail-Order, Description: the national amounts of
  mail-order diabetic testing supplies (KL modifier), which apply "in all parts of the United
  States" including DC, PR, VI, Guam and American Samoa (the file's own footnote, which
  follows the data and is skipped).

Why these amounts apply: DMEBACK 2025, section II.5 — during the temporary gap in the
competitive bidding program, fee schedule amounts for competitively bid items furnished in
former CBAs are the single payment amounts in effect there on the last day of the contract
period, increased by the CPI-U; the same applies to mail-order diabetic testing supplies.

Faults (``FileRejected`` with the line): a missing column, a short row, a bad code, modifier,
category, state, ZIP or amount, a duplicate key, an empty file.
"""

from __future__ import annotations

from collections.abc import Callable

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Row, csv_rows, table
from cms_pricing.reference.parsers.dme_layout import (
    expect_columns,
    hcpcs,
    header_row,
    modifier,
    money,
    state,
    tsv_rows,
    unique,
    year_quarter,
    zip5,
)
from cms_pricing.reference.parsers.dmepos import CATEGORIES
from cms_pricing.reference.rows import CbaFeeRow, CbaZipRow, MailOrderFeeRow

FEE_LEADING = ("HCPCS", "Mod", "Mod2", "Mod3", "CATG")
ZIP_COLUMNS = ("CBA State", "CBA ZIP Code", "CBA Name Short", "CBA Name", "Year/Qtr")
MAIL_ORDER_COLUMNS = (*FEE_LEADING, "National Mail-Order", "Description")
NO_AMOUNT = "."

Reader = Callable[[str, bytes], list[Row]]
Code = tuple[str, str, str, str, str]
"""HCPCS, the three modifiers and the category of a fee row."""


def _code_cells(file_name: str, line: int, cells: list[str]) -> Code:
    catg = cells[4]
    if catg and catg not in CATEGORIES:
        raise FileRejected(file_name, line, f"category: unknown: {catg!r}")
    return (
        hcpcs(cells[0], file_name, line),
        modifier(cells[1], file_name, line, "modifier"),
        modifier(cells[2], file_name, line, "modifier2"),
        modifier(cells[3], file_name, line, "modifier3"),
        catg,
    )


def _cba_columns(file_name: str, header: Row) -> list[str]:
    line, cells = header
    names = cells[len(FEE_LEADING) : -1]
    if not names or cells[-1].upper() != "DESCRIPTION":
        raise FileRejected(file_name, line, "missing column: CBA columns, then 'Description'")
    if "" in names or len(set(names)) != len(names):
        raise FileRejected(file_name, line, "CBA column labels must be filled and distinct")
    return names


def _fees(file_name: str, data: bytes, read: Reader) -> list[CbaFeeRow]:
    rows = read(file_name, data)
    header = header_row(file_name, rows, FEE_LEADING[0])
    expect_columns(file_name, header, FEE_LEADING)
    names = _cba_columns(file_name, header)
    out: list[CbaFeeRow] = []
    seen: set[object] = set()
    for line, cells in table(file_name, rows, FEE_LEADING[0], len(header[1])):
        code = _code_cells(file_name, line, cells)
        unique(file_name, line, seen, code[:4])
        for index, name in enumerate(names, start=len(FEE_LEADING)):
            if cells[index] != NO_AMOUNT:
                fee = money(cells[index], file_name, line, name)
                out.append(CbaFeeRow(*code, cba_short_name=name, fee=fee))
    return out


def _zips(file_name: str, data: bytes, read: Reader) -> list[CbaZipRow]:
    rows = read(file_name, data)
    expect_columns(file_name, header_row(file_name, rows, ZIP_COLUMNS[0]), ZIP_COLUMNS)
    out: list[CbaZipRow] = []
    seen: set[object] = set()
    for line, cells in table(file_name, rows, ZIP_COLUMNS[0], len(ZIP_COLUMNS)):
        if not (cells[2] and cells[3]):
            raise FileRejected(file_name, line, "CBA name is blank")
        row = CbaZipRow(
            state=state(cells[0], file_name, line),
            zip5=zip5(cells[1], file_name, line),
            cba_short_name=cells[2],
            cba_name=cells[3],
            year_quarter=year_quarter(cells[4], file_name, line),
        )
        unique(file_name, line, seen, row.zip5)
        out.append(row)
    return out


def _mail_order(file_name: str, data: bytes, read: Reader) -> list[MailOrderFeeRow]:
    rows = read(file_name, data)
    header = header_row(file_name, rows, MAIL_ORDER_COLUMNS[0])
    expect_columns(file_name, header, MAIL_ORDER_COLUMNS)
    out: list[MailOrderFeeRow] = []
    seen: set[object] = set()
    for line, cells in table(file_name, rows, MAIL_ORDER_COLUMNS[0], len(MAIL_ORDER_COLUMNS)):
        code = _code_cells(file_name, line, cells)
        unique(file_name, line, seen, code[:4])
        fee = money(cells[5], file_name, line, "national mail-order fee")
        out.append(MailOrderFeeRow(*code, fee=fee))
    return out


def parse_fee_csv(file_name: str, data: bytes) -> list[CbaFeeRow]:
    """The fees of a former CBA fee schedule ``.csv``: one row per code, modifiers and CBA."""
    return _fees(file_name, data, csv_rows)


def parse_fee_txt(file_name: str, data: bytes) -> list[CbaFeeRow]:
    """The fees of a former CBA fee schedule ``.txt`` (tab-separated)."""
    return _fees(file_name, data, tsv_rows)


def parse_zip_csv(file_name: str, data: bytes) -> list[CbaZipRow]:
    """The ZIP codes of a former CBA ZIP ``.csv``."""
    return _zips(file_name, data, csv_rows)


def parse_zip_txt(file_name: str, data: bytes) -> list[CbaZipRow]:
    """The ZIP codes of a former CBA ZIP ``.txt`` (tab-separated)."""
    return _zips(file_name, data, tsv_rows)


def parse_mail_order_csv(file_name: str, data: bytes) -> list[MailOrderFeeRow]:
    """The national mail-order DTS fees of a ``.csv``."""
    return _mail_order(file_name, data, csv_rows)


def parse_mail_order_txt(file_name: str, data: bytes) -> list[MailOrderFeeRow]:
    """The national mail-order DTS fees of a ``.txt`` (tab-separated)."""
    return _mail_order(file_name, data, tsv_rows)
