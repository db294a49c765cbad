"""OPPSCAP: the OPPS-based imaging payment caps per code, modifier, carrier and locality.

Layout contract (``.txt``; no header; every line a 38-character record; 1-based inclusive):
1-5 HCPCS, 6-7 modifier, 9 status (PROCSTAT: ``A`` cap computed, ``C`` carrier-priced),
11-15 carrier, 18-19 locality, 20-28 facility price, 29-38 non-facility price (right-
aligned, 2 places). Six California localities appear under both carriers 01112 and 01182.

``.csv``/``.xlsx``: a header row starting ``HCPCS``; columns HCPCS, MOD, PROCSTAT,
CARRIER, LOCALITY, FACILITY PRICE, NON-FACILTY PRICE (sic). Prices are quantized to 2
places and codes re-padded so the forms give equal rows.
"""

from __future__ import annotations

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Q2,
    code,
    csv_rows,
    records,
    table,
    to_decimal,
    xlsx_rows,
)
from cms_pricing.reference.rows import OppsCapRow

WIDTH = 38
COLUMNS = 7


def _build(file_name: str, line: int, fields: list[str]) -> OppsCapRow:
    """An OppsCapRow from HCPCS, modifier, status, carrier, locality and the two prices."""
    hcpcs, modifier, status, carrier, locality, fac, nonfac = (f.strip() for f in fields)
    if len(hcpcs) != 5 or not hcpcs.isalnum():
        raise FileRejected(file_name, line, f"hcpcs: not a 5-character code: {hcpcs!r}")
    if len(status) != 1:
        raise FileRejected(file_name, line, f"status: expected one letter, got {status!r}")
    return OppsCapRow(
        hcpcs=hcpcs,
        modifier=modifier,
        status=status,
        carrier=code(carrier, 5, file_name, line, "carrier"),
        locality=code(locality, 2, file_name, line, "locality"),
        fac_price=to_decimal(fac, Q2, file_name, line, "fac_price"),
        nonfac_price=to_decimal(nonfac, Q2, file_name, line, "nonfac_price"),
    )


def parse_txt(file_name: str, data: bytes) -> list[OppsCapRow]:
    """The records of an OPPSCAP ``.txt`` file."""
    return [
        _build(file_name, n, [r[0:5], r[5:7], r[8], r[10:15], r[17:19], r[19:28], r[28:38]])
        for n, r in records(file_name, data, WIDTH)
    ]


def parse_csv(file_name: str, data: bytes) -> list[OppsCapRow]:
    """The rows of an OPPSCAP ``.csv`` file."""
    rows = table(file_name, csv_rows(file_name, data), "HCPCS", COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]


def parse_xlsx(file_name: str, data: bytes) -> list[OppsCapRow]:
    """The rows of an OPPSCAP ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), "HCPCS", COLUMNS)
    return [_build(file_name, n, cells[:COLUMNS]) for n, cells in rows]
