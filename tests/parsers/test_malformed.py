"""Malformed input is refused with FileRejected naming the file and the exact line.

Every file here is synthetic (a few bytes built in the test), never a CMS file.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import KINDS, parse_file

HDR = "HDR CPT CODES AND DESCRIPTIONS ONLY ARE COPYRIGHT "


def rvu_record(hcpcs: str = "99999", work: str = " 19.60", fac_na: str = "  ") -> str:
    """A synthetic 171-character PPRRVU record laid out per RVU25D.pdf."""
    record = (
        f"{hcpcs}  {'Test service':<50}A {work} {' 15.30'}NA  15.30{fac_na}  3.98"
        f"  38.88 38.880090.10.69.2121210{'':7}{'':5} 32.3465 090 99{'':4}"
        "  0.00   0.00   0.00"
    )
    assert len(record) == 171
    return record


def lines(*records: str, ending: str = "\r\n") -> bytes:
    """The records joined with ``ending`` after each, as ASCII bytes."""
    return "".join(r + ending for r in records).encode("ascii")


def rejected(kind: str, name: str, data: bytes) -> FileRejected:
    """The FileRejected that parsing ``data`` raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        parse_file(kind, name, data)
    assert err.value.file == name
    return err.value


def test_synthetic_record_parses() -> None:
    """The synthetic record itself is valid: work 19.60, shares, CF."""
    (row,) = parse_file("pprrvu", "P.txt", lines(HDR, rvu_record()))
    assert (row.hcpcs, row.work_rvu, row.nonfac_na, row.fac_na) == (
        "99999",
        Decimal("19.60"),
        True,
        False,
    )
    assert (row.pre_op, row.conversion_factor, row.team) == (
        Decimal("0.10"),
        Decimal("32.3465"),
        "0",
    )


def test_truncated_last_record() -> None:
    """A last record cut short is refused at its line (HDR lines count)."""
    data = lines(HDR, HDR, rvu_record(), rvu_record()[:120])
    err = rejected("pprrvu", "PPRRVU.txt", data)
    assert err.line == 4
    assert "120 characters" in err.reason


def test_bad_number_in_rvu_field() -> None:
    """A non-number in the work RVU field names the field and the line."""
    data = lines(HDR, rvu_record(), rvu_record(hcpcs="99998", work=" 1X.60"))
    err = rejected("pprrvu", "PPRRVU.txt", data)
    assert err.line == 3
    assert "work_rvu" in err.reason


@pytest.mark.parametrize("bad", ["   NaN", " 1_9.6", "      "])
def test_non_finite_underscored_or_blank_rvu(bad: str) -> None:
    """NaN, Python-only underscores and a blank RVU field are not numbers."""
    err = rejected("pprrvu", "P.txt", lines(rvu_record(work=bad)))
    assert err.line == 1


def test_bad_na_indicator() -> None:
    """An NA indicator other than 'NA' or blank is refused."""
    err = rejected("pprrvu", "P.txt", lines(rvu_record(), rvu_record(fac_na="NX")))
    assert (err.line, "fac_na" in err.reason) == (2, True)


def test_wrong_layout_is_refused_at_line_one() -> None:
    """An OPPSCAP record given as PPRRVU (and vice versa) is refused at its first record."""
    opps = "0633TTC C 01112  05   150.69    150.69"
    assert rejected("pprrvu", "P.txt", lines(HDR, opps)).line == 2
    assert rejected("oppscap", "O.txt", lines(rvu_record())).line == 1
    assert rejected("zip5", "Z.txt", lines(opps)).line == 1


def test_zip5_record_of_wrong_length() -> None:
    """An 79-character ZIP5 record is refused at its line."""
    good = "AK995010210201 Z9   0 A" + " " * 52 + "20254"
    assert len(good) == 80
    err = rejected("zip5", "ZIP5.txt", lines(good, good[:-1], good))
    assert err.line == 2


def test_zip5_plus_four_flag_must_be_0_or_1() -> None:
    """A plus-four flag other than 0/1 is refused."""
    bad = "AK995010210201 Z9   2 A" + " " * 52 + "20254"
    assert rejected("zip5", "ZIP5.txt", lines(bad)).line == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\x1a"])
@pytest.mark.parametrize("suffix", ["txt", "csv"])
def test_empty_file(kind: str, data: bytes, suffix: str) -> None:
    """An empty file (or only line endings / ^Z) is a whole-file fault, line 0."""
    assert rejected(kind, f"F.{suffix}", data).line == 0


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("oppscap", b"0633T,TC,C,01112,05,150.69,150.69\n"),
        ("pprrvu", b",,title\n0001F,,x,I,,0.00\n"),
        ("gpci", b"10112,AL,00,ALABAMA,1,0.869,0.575\n"),
        ("anes", b"10112 ,00 ,ALABAMA,19.31\n"),
        ("locco", b"10112,0,ALABAMA,STATEWIDE,ALL COUNTIES\n"),
    ],
)
def test_csv_missing_header(kind: str, data: bytes) -> None:
    """A csv without its header row is refused as a whole-file fault."""
    err = rejected(kind, "F.csv", data)
    assert (err.line, "header" in err.reason) == (0, True)


def test_csv_header_only() -> None:
    """A csv with a header and no data rows has no records."""
    data = b"HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,NON-FACILTY PRICE\r\n,,,,,,\r\n"
    err = rejected("oppscap", "O.csv", data)
    assert (err.line, err.reason) == (0, "no data records")


def test_csv_short_row_and_bad_value() -> None:
    """A csv row with too few cells, or a price with 3 places, is refused at its line."""
    head = b"HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,NON-FACILTY PRICE\n"
    good = b"0633T,TC,C,01112,05,150.69,150.69\n"
    assert rejected("oppscap", "O.csv", head + good + b"0633T,TC,C,01112,05\n").line == 3
    err = rejected("oppscap", "O.csv", head + good + good + b"0633T,TC,C,1112,5,1.005,1\n")
    assert (err.line, "decimal places" in err.reason) == (4, True)


def test_csv_data_after_footnote() -> None:
    """Data after a footnote row is refused at the footnote (the table broke off there)."""
    data = (
        b"Contractor,Locality,Locality Name,National Anes CF of 20.3178\n"
        b"10112 ,00 ,ALABAMA,19.31\n"
        b"*a footnote,,,\n"
        b"02102 ,01 ,ALASKA*,27.86\n"
    )
    assert rejected("anes", "A.csv", data).line == 3


GPCI_HEAD = "ADDENDUM E. GPCIs\r\n\r\nMedicare Admi State  Locality   Name   PW   PE   MP\r\n"


def test_gpci_bad_number_and_missing_tokens() -> None:
    """A GPCI line with a bad number, or too few tokens, is refused at its line."""
    good = "10112           AL      00   ALABAMA        1.000       0.869       0.575\r\n"
    bad = "10112           AL      00   ALABAMA        1.000       0.8x9       0.575\r\n"
    short = "10112           AL      00   1.000\r\n"
    assert rejected("gpci", "G.txt", (GPCI_HEAD + good + bad).encode()).line == 5
    assert rejected("gpci", "G.txt", (GPCI_HEAD + short).encode()).line == 4


def test_gpci_text_between_records() -> None:
    """A non-data line between GPCI records is refused; footnotes after them are not."""
    good = "10112           AL      00   ALABAMA        1.000       0.869       0.575\r\n"
    data = GPCI_HEAD + good + "stray text\r\n" + good
    assert rejected("gpci", "G.txt", data.encode()).line == 5
    ok = GPCI_HEAD + good + "\r\nMAC Assignments as of ...\r\n*Work GPCI footnote\r\n"
    assert len(parse_file("gpci", "G.txt", ok.encode())) == 1


def test_gpci_malformed_mac() -> None:
    """A line that starts with a digit but is no valid record is refused, even at the end."""
    good = "10112           AL      00   ALABAMA        1.000       0.869       0.575\r\n"
    data = GPCI_HEAD + good + "1011            AL      00   ALABAMA   1.000   0.869   0.575\r\n"
    assert rejected("gpci", "G.txt", data.encode()).line == 5


def test_anes_cf_must_be_implied_decimal() -> None:
    """An ANES .txt CF written with a decimal point is not the implied-decimal layout."""
    data = b"10112       00    ALABAMA              1931\r\n02102       01    ALASKA      27.86\r\n"
    err = rejected("anes", "ANES.txt", data)
    assert (err.line, "anes_cf" in err.reason) == (2, True)


def test_locco_row_without_counties() -> None:
    """A 25LOCCO data line that stops before the counties column is refused."""
    good = f"    10112       00    {'ALABAMA':<23}{'STATEWIDE':<98}ALL COUNTIES"
    data = f"TITLE\r\n\r\n{good}\r\n\r\n{good[:60]}\r\n".encode()
    assert rejected("locco", "LOCCO.txt", data).line == 5


def test_xlsx_not_a_workbook() -> None:
    """Bytes that are not an xlsx workbook are a whole-file fault."""
    assert rejected("gpci", "G.xlsx", b"PK\x03\x04 not really a zip").line == 0


def test_xlsx_bad_value_names_the_sheet_row() -> None:
    """A bad value in an xlsx is refused at its spreadsheet row number."""
    import openpyxl  # noqa: PLC0415

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Contractor", "Locality", "Locality Name", "Anes CF"])
    sheet.append([10112, 0, "ALABAMA", 19.31])
    sheet.append([2102, 1, "ALASKA", "n/a"])
    buffer = io.BytesIO()
    book.save(buffer)
    err = rejected("anes", "A.xlsx", buffer.getvalue())
    assert (err.line, "anes_cf" in err.reason) == (3, True)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("pprrvu", [HDR, rvu_record(), rvu_record(hcpcs="99998")]),
        ("oppscap", ["0633TTC C 01112  05   150.69    150.69"]),
        ("zip5", ["AK995010210201 Z9   0 A" + " " * 52 + "20254"]),
        ("anes", ["10112       00    ALABAMA              1931"]),
        ("gpci", [*GPCI_HEAD.split("\r\n")[:3], "10112  AL  00  ALABAMA  1.000  0.869  0.575"]),
        ("locco", ["TITLE", "", f"    10112       00    {'ALABAMA':<23}{'STATEWIDE':<98}ALL"]),
    ],
)
def test_crlf_and_lf_give_the_same_rows(kind: str, body: list[str]) -> None:
    """CRLF, LF, no final line ending, and a trailing ^Z all parse to the same rows."""
    crlf = parse_file(kind, "F.txt", lines(*body, ending="\r\n"))
    assert crlf
    assert parse_file(kind, "F.txt", lines(*body, ending="\n")) == crlf
    assert parse_file(kind, "F.txt", "\n".join(body).encode()) == crlf
    assert parse_file(kind, "F.txt", lines(*body) + b"\x1a") == crlf
