"""OPPS Addendum B (payment by HCPCS code) and Addendum D1 (status indicator meanings).

Layout contract (the CY 2025 final rule's ``2025 NFRM Addendum B.11122024.txt`` and
``2025 NFRM Addendum D1.10242024.txt``; helpers and shared rules in ``addenda.py``):

* Both are tab-separated ISO-8859-1 text with CRLF line endings; a cell may be quoted
  (``"$10,411.22"``, descriptions holding commas). Stray ``0xFF`` bytes stand for lost
  characters (``A4341ÿ``): blanks.
* **Addendum B**: title lines whose first cell is blank, then a header row starting
  ``HCPCS Code`` naming 13 columns, found by name (the file pads some: `` SI``, `` APC ``):
  HCPCS Code, Short Descriptor, CI, SI, APC, Relative Weight, Payment Rate, National
  Unadjusted Copayment, Minimum Unadjusted Copayment, IRA Coinsurance percentage, Adjusted
  Beneficiary Copayment, Drug and Device Pass-Through Expiration during Calendar Year, Note.
  One row per HCPCS code. Indicators carry trailing blanks (``"J1 "``, ``"NI "``): stripped.
  APC is blank or 4 digits; the relative weight has up to 4 places; money is read as
  written (``addenda.money``), ``.`` for "no national copayment" is None; the IRA
  coinsurance is ``20.000%``. 2025: 18,682 codes; a rate is published for status
  indicators G, J1, J2, K, K1, Q1-Q3, R, S, T, U, V and one C code (50600).
* **Addendum D1**: a title line, a header row starting ``Status Indicator`` (indicator,
  item/code/service, OPPS payment status), then one row per indicator (``E2 `` padded)
  followed by continuation rows whose first cell is blank: their 2nd and 3rd cells are
  joined to the indicator's item and payment status with a space. Bullets were exported as
  ``?`` (``?  Ambulance Services``) and are dropped. A final ``* Note --`` row explains the
  ``*`` of an item (indicator A's) and is joined to that indicator's item.

Every fault raises ``FileRejected(file, line, message)``: a missing column, a truncated row,
bad money, a bad code, a duplicate code, an empty file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import addenda as a
from cms_pricing.reference.parsers.common import Row, require_rows
from cms_pricing.reference.rows import OppsIndicatorRow, OppsRateRow

HEADER = "HCPCS Code"
COLUMN_NAMES = (
    "HCPCS Code",
    "Short Descriptor",
    "CI",
    "SI",
    "APC",
    "Relative Weight",
    "Payment Rate",
    "National Unadjusted Copayment",
    "Minimum Unadjusted Copayment",
    "IRA Coinsurance percentage",
    "Adjusted Beneficiary Copayment",
    "Drug and Device Pass-Through Expiration",
    "Note",
)
INDICATOR_HEADER = "Status Indicator"
INDICATOR_COLUMNS = ("Status Indicator", "Item/Code/Service", "OPPS Payment Status")

_APC = re.compile(r"\d{4}")
_COMMENT = re.compile(r"[A-Z]{0,2}")
_BULLET = re.compile(r"^\?\s+")
_FOOTNOTE = "*"


def _rate_row(file_name: str, line: int, cells: list[str]) -> OppsRateRow:
    (code, desc, ci, si, apc, weight, rate, copay, minimum, ira, adjusted, expires, note) = [
        a.clean(cell) for cell in cells
    ]
    if not _APC.fullmatch(apc) and apc:
        raise FileRejected(file_name, line, f"apc: not a 4-digit APC: {apc!r}")
    if not _COMMENT.fullmatch(ci):
        raise FileRejected(file_name, line, f"comment indicator: not a code: {ci!r}")
    return OppsRateRow(
        hcpcs=a.hcpcs(code, file_name, line),
        short_description=desc,
        comment_indicator=ci,
        status_indicator=a.indicator(si, file_name, line, "status indicator"),
        apc=apc,
        relative_weight=a.number(weight, file_name, line, "relative weight"),
        payment_rate=a.money(rate, file_name, line, "payment rate"),
        national_copay=a.money(copay, file_name, line, "national copayment"),
        minimum_copay=a.money(minimum, file_name, line, "minimum copayment"),
        ira_coinsurance_pct=a.percent(ira, file_name, line, "IRA coinsurance"),
        adjusted_copay=a.money(adjusted, file_name, line, "adjusted copayment"),
        pass_through_expiration=expires,
        note=note,
    )


def parse_txt(file_name: str, data: bytes) -> list[OppsRateRow]:
    """The rows of an OPPS Addendum B ``.txt`` file, in file order."""
    rows = a.tsv_rows(file_name, data)
    at, header = a.header_line(file_name, rows, HEADER)
    index = a.columns(file_name, at, header, COLUMN_NAMES)
    parsed = [
        (line, _rate_row(file_name, line, [cells[i] for i in index]))
        for line, cells in a.body(file_name, rows, at, max(index) + 1)
    ]
    return a.unique(file_name, parsed, lambda row: row.hcpcs)


@dataclass(slots=True)
class _Indicator:
    line: int
    code: str
    item: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)

    def row(self) -> OppsIndicatorRow:
        return OppsIndicatorRow(self.code, " ".join(self.item), " ".join(self.status))


def _text(cell: str) -> str:
    return _BULLET.sub("", a.clean(cell))


def _add(target: list[str], cell: str) -> None:
    text = _text(cell)
    if text:
        target.append(text)


def _indicators(file_name: str, rows: list[Row], at: int, width: int) -> list[_Indicator]:
    out: list[_Indicator] = []
    for line, cells in rows:
        if line <= at or not any(a.clean(cell) for cell in cells):
            continue
        if len(cells) < width:
            raise FileRejected(file_name, line, f"row has {len(cells)} cells, expected {width}")
        code, item, status = cells[:width]
        if a.clean(code):
            out.append(_Indicator(line, a.indicator(code, file_name, line, "status indicator")))
        elif not out:
            raise FileRejected(file_name, line, "continuation row before the first indicator")
        elif _text(item).startswith(_FOOTNOTE):
            starred = next((i for i in out if any(_FOOTNOTE in t for t in i.item)), out[-1])
            _add(starred.item, item)
            continue
        _add(out[-1].item, item)
        _add(out[-1].status, status)
    return out


def parse_indicators_txt(file_name: str, data: bytes) -> list[OppsIndicatorRow]:
    """The status indicators of an OPPS Addendum D1 ``.txt`` file, continuations joined."""
    rows = a.tsv_rows(file_name, data)
    at, header = a.header_line(file_name, rows, INDICATOR_HEADER)
    index = a.columns(file_name, at, header, INDICATOR_COLUMNS)
    if index != [0, 1, 2]:
        raise FileRejected(file_name, at, f"expected columns {INDICATOR_COLUMNS} in order")
    found = require_rows(file_name, _indicators(file_name, rows, at, len(index)))
    return a.unique(file_name, [(i.line, i.row()) for i in found], lambda row: row.indicator)
