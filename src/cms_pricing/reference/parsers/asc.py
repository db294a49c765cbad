"""ASC addenda of a quarterly update: AA, BB (rates), DD1 (payment indicators), FF (devices).

Layout contract (the Section 508 ``.csv`` files of the January 2025 update,
``508-Version-Jan-2025-ASC-AA.csv`` etc.; helpers and shared rules in ``addenda.py``):

* ISO-8859-1 ``.csv`` (title lines carry ``0xFF`` bytes), LF line endings. Title lines,
  then a header row starting ``HCPCS Code`` (DD1: ``Indicator``), data rows, then blank
  rows and ``NOTE n:`` footnote rows (text in the first cell only).
* Columns are found by their words; the quarter's month in a name (``January 2025 Payment
  Rate``) is ignored. The column right after HCPCS Code has a blank header and holds a
  footnote mark (``*``, ``**``, ``***``) or nothing: ``marker``.
* **AA** (surgical procedures): Short Descriptor, Subject to Multiple Procedure
  Discounting (``Y``/``N``), Payment Indicator, Payment Weight, Payment Rate. 2025 Q1: 4,183
  codes. N1 (packaged) has neither weight nor rate; P3 has a rate but no weight.
* **BB** (ancillary services): Short Descriptor, Drug and Device Pass-Through Expiration
  during Calendar Year (``*`` or blank), Payment Indicator, Payment Weight, Payment Rate,
  IRA-22 Adjusted Copayment (the header ends in a footnote mark ``1``). 2,458 rows, 2,454
  codes: four codes are listed twice with equal values (kept once).
* **DD1**: Indicator, Payment Indicator Definition (21 indicators).
* **FF** (device offsets): Payment Indicator, APC, APC Device Offset Percentage, OPPS
  Payment Rate, Device Offset Percentage, Device Offset Amount / Device Portion;
  percentages ``21.29%``, money ``"$2,329.54"``.
* Weights are kept as written (``28.767``: the file drops a trailing zero); money per
  ``addenda.money``. :func:`quarter_of` reads the quarter from the name (``Jan-2025``) or,
  failing that, from a header cell's month.

Every fault raises ``FileRejected(file, line, message)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import addenda as a
from cms_pricing.reference.parsers.common import csv_rows
from cms_pricing.reference.rows import AscDeviceRow, AscIndicatorRow, AscRateRow

HEADER = "HCPCS Code"
AA_COLUMNS = (
    "HCPCS Code",
    "Short Descriptor",
    "Subject to Multiple Procedure Discounting",
    "Payment Indicator",
    "Payment Weight",
    "Payment Rate",
)
BB_COLUMNS = (
    "HCPCS Code",
    "Short Descriptor",
    "Drug and Device Pass-Through Expiration",
    "Payment Indicator",
    "Payment Weight",
    "Payment Rate",
    "IRA-22 Adjusted Copayment",
)
FF_COLUMNS = (
    "HCPCS Code",
    "Payment Indicator",
    "APC",
    "APC Device Offset Percentage",
    "OPPS Payment Rate",
    "Device Offset Percentage",
    "Device Offset Amount",
)
DD1_HEADER = "Indicator"
DD1_COLUMNS = ("Indicator", "Payment Indicator Definition")

_MARKER = re.compile(r"\**")
_APC = re.compile(r"\d{4}")
_FLAGS = {"Y": True, "N": False}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NAME_MONTH = re.compile(r"(?<![a-z])(" + "|".join(_MONTHS) + r")[a-z]*[-_ ]+(20\d{2})", re.I)


def _table(
    file_name: str, data: bytes, header: str, names: Sequence[str], marker: bool = True
) -> list[tuple[int, list[str]]]:
    """(line, cells) of each data row: the named columns, then the marker column if any."""
    rows = csv_rows(file_name, data)
    at, cells = a.header_line(file_name, rows, header)
    index = a.columns(file_name, at, cells, names)
    if marker:
        mark = index[0] + 1
        if mark >= len(cells) or a.clean(cells[mark]):
            raise FileRejected(file_name, at, "no blank-headed marker column after HCPCS Code")
        index.append(mark)
    body = a.body(file_name, rows, at, len(cells))
    return [(line, [a.clean(row[i]) for i in index]) for line, row in body]


def _marker(raw: str, file_name: str, line: int) -> str:
    if not _MARKER.fullmatch(raw):
        raise FileRejected(file_name, line, f"marker: expected blank or asterisks: {raw!r}")
    return raw


def _discounted(raw: str, file_name: str, line: int) -> bool:
    if raw not in _FLAGS:
        reason = f"multiple procedure discounting: expected Y or N: {raw!r}"
        raise FileRejected(file_name, line, reason)
    return _FLAGS[raw]


def _aa_row(file_name: str, line: int, cells: list[str]) -> AscRateRow:
    code, desc, discounted, indicator, weight, rate, marker = cells
    return AscRateRow(
        addendum="AA",
        hcpcs=a.hcpcs(code, file_name, line),
        marker=_marker(marker, file_name, line),
        short_description=desc,
        multiple_procedure_discount=_discounted(discounted, file_name, line),
        payment_indicator=a.indicator(indicator, file_name, line, "payment indicator"),
        weight=a.number(weight, file_name, line, "payment weight"),
        rate=a.money(rate, file_name, line, "payment rate"),
        pass_through_expiration="",
        adjusted_copay=None,
    )


def _bb_row(file_name: str, line: int, cells: list[str]) -> AscRateRow:
    code, desc, expires, indicator, weight, rate, copay, marker = cells
    return AscRateRow(
        addendum="BB",
        hcpcs=a.hcpcs(code, file_name, line),
        marker=_marker(marker, file_name, line),
        short_description=desc,
        multiple_procedure_discount=None,
        payment_indicator=a.indicator(indicator, file_name, line, "payment indicator"),
        weight=a.number(weight, file_name, line, "payment weight"),
        rate=a.money(rate, file_name, line, "payment rate"),
        pass_through_expiration=expires,
        adjusted_copay=a.money(copay, file_name, line, "IRA-22 adjusted copayment"),
    )


def _ff_row(file_name: str, line: int, cells: list[str]) -> AscDeviceRow:
    code, indicator, apc, apc_pct, opps_rate, pct, portion, _marker_cell = cells
    if apc and not _APC.fullmatch(apc):
        raise FileRejected(file_name, line, f"apc: not a 4-digit APC: {apc!r}")
    return AscDeviceRow(
        hcpcs=a.hcpcs(code, file_name, line),
        payment_indicator=a.indicator(indicator, file_name, line, "payment indicator"),
        apc=apc,
        apc_device_offset_pct=a.percent(apc_pct, file_name, line, "APC device offset"),
        opps_rate=a.money(opps_rate, file_name, line, "OPPS payment rate"),
        device_offset_pct=a.percent(pct, file_name, line, "device offset"),
        device_portion=a.money(portion, file_name, line, "device offset amount"),
    )


def _dd1_row(file_name: str, line: int, cells: list[str]) -> AscIndicatorRow:
    code, definition = cells
    return AscIndicatorRow(a.indicator(code, file_name, line, "payment indicator"), definition)


def parse_aa_csv(file_name: str, data: bytes) -> list[AscRateRow]:
    """The rows of an ASC Addendum AA ``.csv`` file, in file order."""
    rows = [(n, _aa_row(file_name, n, c)) for n, c in _table(file_name, data, HEADER, AA_COLUMNS)]
    return a.unique(file_name, rows, lambda row: row.hcpcs)


def parse_bb_csv(file_name: str, data: bytes) -> list[AscRateRow]:
    """The rows of an ASC Addendum BB ``.csv`` file, in file order, repeats kept once."""
    rows = [(n, _bb_row(file_name, n, c)) for n, c in _table(file_name, data, HEADER, BB_COLUMNS)]
    return a.unique(file_name, rows, lambda row: row.hcpcs)


def parse_devices_csv(file_name: str, data: bytes) -> list[AscDeviceRow]:
    """The rows of an ASC Addendum FF ``.csv`` file, in file order."""
    rows = [(n, _ff_row(file_name, n, c)) for n, c in _table(file_name, data, HEADER, FF_COLUMNS)]
    return a.unique(file_name, rows, lambda row: row.hcpcs)


def parse_indicators_csv(file_name: str, data: bytes) -> list[AscIndicatorRow]:
    """The payment indicators of an ASC Addendum DD1 ``.csv`` file."""
    table = _table(file_name, data, DD1_HEADER, DD1_COLUMNS, marker=False)
    rows = [(n, _dd1_row(file_name, n, c)) for n, c in table]
    return a.unique(file_name, rows, lambda row: row.indicator)


def quarter_of(file_name: str, data: bytes) -> tuple[int, int]:
    """(year, quarter) of an ASC addendum: ``Jan-2025`` in its name, else a header's month."""
    found = _NAME_MONTH.search(file_name.replace("\\", "/").rsplit("/", 1)[-1])
    if found is None:
        at, cells = a.header_line(file_name, csv_rows(file_name, data), HEADER)
        found = next(filter(None, (_NAME_MONTH.search(a.clean(c)) for c in cells)), None)
        if found is None:
            raise FileRejected(file_name, at, "cannot tell the quarter: no month in name or header")
    month = _MONTHS.index(found[1][:3].lower()) + 1
    return int(found[2]), (month - 1) // 3 + 1
