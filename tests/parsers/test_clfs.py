"""CLFS 2025 Q1V1: the real .csv and .txt, what the two forms share, and malformed input.

The real files are read from ``cms-data/2025/clfs-2025q1``; the malformed inputs are a few
synthetic bytes built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import clfs
from cms_pricing.reference.rows import ClfsRow

NAME = "CLFS 2025 Q1V1"
Parser = Callable[[str, bytes], list[ClfsRow]]

CSV_HEADER = "YEAR,HCPCS,MOD,EFF_DATE,INDICATOR,RATE,SHORTDESC,LONGDESC,EXTENDED LONGDESC"
CSV_TITLES = ["2025 Clinical Diagnostic Laboratory Fee Schedule ,,,,,,,,", ",,,,,,,,"]
TXT_HDR = "HDR~CPT codes, descriptions and other data only are copyright 2025 AMA."


def real(cms_data: Path, form: str) -> bytes:
    return (cms_data / "2025" / "clfs-2025q1" / f"{NAME}.{form}").read_bytes()


@pytest.fixture(scope="module")
def csv_rows(cms_data: Path) -> list[ClfsRow]:
    """The rows of the real .csv, parsed once."""
    return clfs.parse_csv(f"{NAME}.csv", real(cms_data, "csv"))


@pytest.fixture(scope="module")
def txt_rows(cms_data: Path) -> list[ClfsRow]:
    """The rows of the real .txt, parsed once."""
    return clfs.parse_txt(f"{NAME}.txt", real(cms_data, "txt"))


def test_row_counts(csv_rows: list[ClfsRow], txt_rows: list[ClfsRow], cms_data: Path) -> None:
    """Both forms hold 2,087 records: the .txt's 2,089 lines minus its 2 HDR lines."""
    lines = real(cms_data, "txt").decode("ascii").splitlines()
    assert sum(not line.startswith("HDR") for line in lines) == 2087
    assert len(txt_rows) == 2087
    assert len(csv_rows) == 2087


def test_80053_and_its_clia_waived_row(csv_rows: list[ClfsRow]) -> None:
    """80053 is 10.56 nationally (DOMAIN.md), as a global row and a QW (CLIA-waived) row."""
    found = [row for row in csv_rows if row.hcpcs == "80053"]
    expected = ClfsRow(2025, "80053", "", date(2025, 1, 1), "N", Decimal("10.56"),
                       "Comprehen metabolic panel")  # fmt: skip
    assert found == [expected, replace(expected, modifier="QW")]
    assert str(found[0].rate) == "10.56"


def test_forms_give_equal_rows(csv_rows: list[ClfsRow], txt_rows: list[ClfsRow]) -> None:
    """The .csv and .txt give the very same rows, in the same order.

    The .csv's long descriptors are not kept (the .txt has none); the .csv writes some rates
    trimmed ("95.8", "0") where the .txt writes "00095.80", "00000.00": both are 2-place
    Decimals.
    """
    assert csv_rows == txt_rows


def test_csv_trimmed_rates_read_with_two_places(csv_rows: list[ClfsRow], cms_data: Path) -> None:
    """G0327 (locally priced) is written "0" in the .csv and reads as 0.00 with indicator L."""
    text = real(cms_data, "csv").decode("latin-1")
    assert "2025,G0327,,20250101,L,0,Colon ca scrn" in text
    (row,) = [r for r in csv_rows if r.hcpcs == "G0327"]
    assert (row.indicator, str(row.rate)) == ("L", "0.00")


def test_indicators_and_modifiers(txt_rows: list[ClfsRow]) -> None:
    """Only N (2,042 rows) and L (45, all rate 0) occur; modifiers are blank or QW (116)."""
    by_indicator = {i: [r for r in txt_rows if r.indicator == i] for i in ("N", "L")}
    assert (len(by_indicator["N"]), len(by_indicator["L"])) == (2042, 45)
    assert {r.rate for r in by_indicator["L"]} == {Decimal("0.00")}
    assert sum(r.modifier == "QW" for r in txt_rows) == 116
    assert {r.modifier for r in txt_rows} == {"", "QW"}


# -- malformed input ---------------------------------------------------------------------------

TXT_OK = "2025~80053~QW~20250101~N~00010.56~Comprehen metabolic panel"
CSV_OK = '2025,80053,,20250101,N,00010.56,Comprehen metabolic panel,Long,"Ext, long"'


def txt(*records: str) -> bytes:
    """A .txt file: two HDR lines (lines 1-2), then ``records`` from line 3."""
    return "".join(f"{line}\r\n" for line in (TXT_HDR, TXT_HDR, *records)).encode("ascii")


def csv(*records: str, header: str = CSV_HEADER) -> bytes:
    """A .csv file: two title lines, the header on line 3, ``records`` from line 4."""
    return "".join(f"{line}\n" for line in (*CSV_TITLES, header, *records)).encode("ascii")


def rejected(parse: Parser, data: bytes) -> FileRejected:
    """The FileRejected that parsing ``data`` raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        parse("F", data)
    assert err.value.file == "F"
    return err.value


def test_synthetic_files_parse() -> None:
    """The well-formed synthetic files give one row each; the csv's quoted comma is fine."""
    expected = ClfsRow(2025, "80053", "QW", date(2025, 1, 1), "N", Decimal("10.56"),
                       "Comprehen metabolic panel")  # fmt: skip
    assert clfs.parse_txt("F", txt(TXT_OK)) == [expected]
    assert clfs.parse_csv("F", csv(CSV_OK.replace(",,", ",QW,", 1))) == [expected]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("2025~80053~QW~20250101~N~00010.5", "6 '~'-separated fields, expected 7"),
        ("2025~80053~QW~20250101~N~0001O.56~Panel", "rate: not a number: '0001O.56'"),
        ("2025~80053~QW~20250101~N~00010.565~Panel", "more decimal places"),
        ("2025~80053~QW~20251301~N~00010.56~Panel", "effective date: not a YYYYMMDD date"),
        ("2025~80053~QW~2025010~N~00010.56~Panel", "effective date: not a YYYYMMDD date"),
        ("25~80053~QW~20250101~N~00010.56~Panel", "year: not a 4-digit year"),
        ("2025~8005~QW~20250101~N~00010.56~Panel", "hcpcs: not a 5-character code"),
    ],
)
def test_txt_bad_record_refused_at_its_line(record: str, reason: str) -> None:
    """A truncated line or bad number/date/code on the 2nd record is refused at line 4."""
    err = rejected(clfs.parse_txt, txt(TXT_OK.replace("QW", "  "), record))
    assert err.line == 4
    assert reason in err.reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("2025,80053,,20250101,N", "row has 5 cells"),
        ("2025,80053,,20250101,N,ten,Panel,Long,Ext", "rate: not a number: 'ten'"),
        ("2025,80053,,2025-01-01,N,10.56,Panel,Long,Ext", "effective date: not a YYYYMMDD"),
    ],
)
def test_csv_bad_record_refused_at_its_line(record: str, reason: str) -> None:
    """A truncated row, a bad rate or a bad date on the 2nd record is refused at line 5."""
    err = rejected(clfs.parse_csv, csv(CSV_OK.replace("80053", "80048"), record))
    assert err.line == 5
    assert reason in err.reason


def test_csv_missing_rate_column() -> None:
    """A header without RATE is refused at the header's line (3), naming the column."""
    header = CSV_HEADER.replace(",RATE", "")
    err = rejected(clfs.parse_csv, csv("2025,80053,,20250101,N,Panel,Long,Ext", header=header))
    assert (err.line, err.reason) == (3, "header lacks column(s) RATE")


def test_csv_without_header() -> None:
    """A .csv with no YEAR header row is refused as a whole (line 0)."""
    data = "\n".join([*CSV_TITLES, CSV_OK]).encode("ascii")
    err = rejected(clfs.parse_csv, data)
    assert (err.line, err.reason) == (0, "header row starting 'YEAR' not found")


@pytest.mark.parametrize(
    ("parse", "data", "first", "line"),
    [
        (clfs.parse_txt, txt(TXT_OK, TXT_OK.replace("80053", "80048"), TXT_OK), 3, 5),
        (clfs.parse_csv, csv(CSV_OK, CSV_OK), 4, 5),
    ],
)
def test_duplicate_key_refused_at_second_row(
    parse: Parser, data: bytes, first: int, line: int
) -> None:
    """A second row for the same (HCPCS, modifier) is refused at its line, naming the first."""
    err = rejected(parse, data)
    assert err.line == line
    assert "duplicate HCPCS 80053" in err.reason
    assert f"(first on line {first})" in err.reason


def test_same_code_with_other_modifier_is_not_a_duplicate() -> None:
    """80053 and 80053-QW are two keys."""
    rows = clfs.parse_txt("F", txt(TXT_OK, TXT_OK.replace("QW", "  ")))
    assert [(r.hcpcs, r.modifier) for r in rows] == [("80053", "QW"), ("80053", "")]


@pytest.mark.parametrize("parse", [clfs.parse_txt, clfs.parse_csv])
@pytest.mark.parametrize("data", [b"", b"\r\n \r\n"])
def test_empty_file(parse: Parser, data: bytes) -> None:
    """An empty (or blank) file is refused as a whole."""
    err = rejected(parse, data)
    assert (err.line, err.reason) == (0, "empty file")


@pytest.mark.parametrize(("parse", "data"), [(clfs.parse_txt, txt()), (clfs.parse_csv, csv())])
def test_headers_only(parse: Parser, data: bytes) -> None:
    """A file with its header lines but not one record is refused as a whole."""
    err = rejected(parse, data)
    assert (err.line, err.reason) == (0, "no data records")
