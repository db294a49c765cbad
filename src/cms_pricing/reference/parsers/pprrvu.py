"""PPRRVU: the national physician fee schedule relative value file (one row per HCPCS+mod).

Layout contract (``.txt``, RVU25x.pdf "DATA RECORD"; 1-based inclusive columns):

* Header lines start with ``HDR`` (copyright text) and are skipped; every other non-blank
  line is a 171-character record.
* 1-5 HCPCS, 6-7 modifier, 8-57 description, 58 status, 59 ``+`` = not used for Medicare
  payment (not in the PDF layout; the csv's 5th column), 60-65 work RVU, 67-72 non-facility
  PE RVU, 73-74 ``NA``, 76-81 facility PE RVU, 82-83 ``NA``, 85-89 MP RVU, 91-96 / 97-102
  non-facility / facility totals, 103 PC/TC, 104-106 global days, 107-109 / 110-112 /
  113-115 pre/intra/post shares (``.10``), 116-120 mult proc, bilateral, assistant,
  co-surgeon, team, 128-132 endoscopic base, 133-140 CF (``999.9999``), 142-143
  supervision, 144 calculation flag, 146-147 imaging family, 152-157 / 159-164 / 166-171
  OPPS non-facility PE, facility PE and MP RVUs.
* Numbers are right-aligned: the work RVU of 27447 is ``" 19.60"`` in 60-65.

``.csv``/``.xlsx``: title rows, then a multi-row header whose last row starts ``HCPCS``;
31 columns in the order above. Numbers lose trailing zeros and codes lose leading zeros
there (``9`` for PC/TC ``9``, imaging family ``99``); they are re-padded and quantized so
the three forms give equal rows: RVUs, totals and shares 2 places, CF 4.
"""

from __future__ import annotations

from decimal import Decimal

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import (
    Q2,
    Q4,
    csv_rows,
    pad,
    records,
    table,
    to_decimal,
    xlsx_rows,
)
from cms_pricing.reference.rows import RvuRow

WIDTH = 171
COLUMNS = 31

# 0-based slices of the decimal fields, in RvuRow order, with their scales.
_NUMBERS: tuple[tuple[str, int, int, Decimal], ...] = (
    ("work_rvu", 59, 65, Q2),
    ("nonfac_pe_rvu", 66, 72, Q2),
    ("fac_pe_rvu", 75, 81, Q2),
    ("mp_rvu", 84, 89, Q2),
    ("nonfac_total", 90, 96, Q2),
    ("fac_total", 96, 102, Q2),
    ("pre_op", 106, 109, Q2),
    ("intra_op", 109, 112, Q2),
    ("post_op", 112, 115, Q2),
    ("conversion_factor", 132, 140, Q4),
    ("opps_nonfac_pe_rvu", 151, 157, Q2),
    ("opps_fac_pe_rvu", 158, 164, Q2),
    ("opps_mp_rvu", 165, 171, Q2),
)
# csv/xlsx column of each decimal field, same order as _NUMBERS.
_NUMBER_COLUMNS = (5, 6, 8, 10, 11, 12, 15, 16, 17, 24, 28, 29, 30)


def _na(raw: str, file_name: str, line: int, field: str) -> bool:
    text = raw.strip()
    if text not in ("", "NA"):
        raise FileRejected(file_name, line, f"{field}: expected 'NA' or blank, got {text!r}")
    return text == "NA"


def _hcpcs(raw: str, file_name: str, line: int) -> str:
    text = raw.strip()
    if len(text) != 5 or not text.isalnum():
        raise FileRejected(file_name, line, f"hcpcs: not a 5-character code: {text!r}")
    return text


def _build(
    file_name: str, line: int, text: list[str], numbers: list[Decimal], nas: tuple[str, str]
) -> RvuRow:
    """An RvuRow from its 16 text fields (RvuRow order) and 13 numbers (``_NUMBERS`` order)."""
    n = numbers
    return RvuRow(
        hcpcs=_hcpcs(text[0], file_name, line),
        modifier=text[1],
        description=text[2],
        status=text[3],
        not_used_for_medicare=text[4],
        work_rvu=n[0],
        nonfac_pe_rvu=n[1],
        nonfac_na=_na(nas[0], file_name, line, "nonfac_na"),
        fac_pe_rvu=n[2],
        fac_na=_na(nas[1], file_name, line, "fac_na"),
        mp_rvu=n[3],
        nonfac_total=n[4],
        fac_total=n[5],
        pctc=text[5],
        global_days=pad(text[6], 3),
        pre_op=n[6],
        intra_op=n[7],
        post_op=n[8],
        mult_proc=text[7],
        bilateral=text[8],
        assistant=text[9],
        co_surgeon=text[10],
        team=text[11],
        endo_base=pad(text[12], 5),
        conversion_factor=n[9],
        supervision=pad(text[13], 2),
        calc_flag=text[14],
        imaging_family=pad(text[15], 2),
        opps_nonfac_pe_rvu=n[10],
        opps_fac_pe_rvu=n[11],
        opps_mp_rvu=n[12],
    )


def _from_record(file_name: str, line: int, rec: str) -> RvuRow:
    numbers = [to_decimal(rec[a:b], q, file_name, line, f) for f, a, b, q in _NUMBERS]
    text = [
        rec[0:5], rec[5:7].strip(), rec[7:57].strip(), rec[57].strip(), rec[58].strip(),
        rec[102], rec[103:106], rec[115], rec[116], rec[117], rec[118], rec[119],
        rec[127:132].strip(), rec[141:143], rec[143], rec[145:147],
    ]  # fmt: skip
    text = [t.strip() for t in text]
    return _build(file_name, line, text, numbers, (rec[72:74], rec[81:83]))


def _from_cells(file_name: str, line: int, cells: list[str]) -> RvuRow:
    numbers = [
        to_decimal(cells[c], q, file_name, line, f)
        for (f, _, _, q), c in zip(_NUMBERS, _NUMBER_COLUMNS, strict=True)
    ]
    text = [cells[i] for i in (0, 1, 2, 3, 4, 13, 14, 18, 19, 20, 21, 22, 23, 25, 26, 27)]
    return _build(file_name, line, text, numbers, (cells[7], cells[9]))


def parse_txt(file_name: str, data: bytes) -> list[RvuRow]:
    """The records of a PPRRVU ``.txt`` file (``HDR`` lines skipped)."""
    return [_from_record(file_name, n, rec) for n, rec in records(file_name, data, WIDTH, "HDR")]


def parse_csv(file_name: str, data: bytes) -> list[RvuRow]:
    """The rows of a PPRRVU ``.csv`` file."""
    rows = table(file_name, csv_rows(file_name, data), "HCPCS", COLUMNS)
    return [_from_cells(file_name, n, cells) for n, cells in rows]


def parse_xlsx(file_name: str, data: bytes) -> list[RvuRow]:
    """The rows of a PPRRVU ``.xlsx`` workbook (first sheet)."""
    rows = table(file_name, xlsx_rows(file_name, data), "HCPCS", COLUMNS)
    return [_from_cells(file_name, n, cells) for n, cells in rows]
