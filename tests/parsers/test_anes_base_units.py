"""Anesthesia base units, CY 2022: both real forms, their agreement, and refused faults.

Expected values are read from the ``.txt`` (line numbers are its physical lines); the
malformed inputs are a few synthetic bytes built here, never a CMS file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import anes_base_units as parser
from cms_pricing.reference.rows import AnesBaseUnitRow

FOLDER = ("2022", "anes-base-units-cy2022")
TXT = "Section 508 compliant version of CY_2022_Anesthesia_Base_Units_110921.txt"
XLSX = "CY_2022_Anesthesia_Base_Units_110921.xlsx"
HEAD = "CODE\t2022\r\n\tBASE\r\n\tUNIT\r\n"


@pytest.fixture(scope="module")
def files(cms_data: Path) -> dict[str, bytes]:
    """The bytes of both real forms, by file name."""
    folder = cms_data.joinpath(*FOLDER)
    return {name: (folder / name).read_bytes() for name in (TXT, XLSX)}


@pytest.fixture(scope="module")
def txt_rows(files: dict[str, bytes]) -> list[AnesBaseUnitRow]:
    """The rows of the real ``.txt`` form."""
    return parser.parse_txt(TXT, files[TXT])


def rejected(data: bytes) -> FileRejected:
    """The FileRejected that parsing the ``.txt`` bytes ``data`` raises."""
    with pytest.raises(FileRejected) as err:
        parser.parse_txt("B.txt", data)
    assert err.value.file == "B.txt"
    return err.value


def test_276_codes_first_and_last(txt_rows: list[AnesBaseUnitRow]) -> None:
    """279 lines less 3 header lines: 276 codes, 00100 (5 units, line 4) to 01999 (0, line 279)."""
    assert len(txt_rows) == 276
    assert txt_rows[0] == AnesBaseUnitRow(code="00100", base_units=5)
    assert txt_rows[1] == AnesBaseUnitRow(code="00102", base_units=6)
    assert txt_rows[-1] == AnesBaseUnitRow(code="01999", base_units=0)
    assert len({row.code for row in txt_rows}) == 276
    assert all("00100" <= row.code <= "01999" for row in txt_rows)


def test_both_forms_agree(files: dict[str, bytes], txt_rows: list[AnesBaseUnitRow]) -> None:
    """The .xlsx (codes as text, units as numbers) gives exactly the .txt's rows, in order."""
    assert parser.parse_xlsx(XLSX, files[XLSX]) == txt_rows


def test_file_year_from_header(files: dict[str, bytes]) -> None:
    """Line 1 of both forms is "CODE" and 2022: the year of the file."""
    assert parser.file_year(TXT, files[TXT]) == 2022
    assert parser.file_year(XLSX, files[XLSX]) == 2022


def test_synthetic_lf_file_parses() -> None:
    """The synthetic layout with LF endings and a blank line: two rows."""
    data = HEAD.replace("\r\n", "\n") + "00100\t5\n\n00102\t6\n"
    assert parser.parse_txt("B.txt", data.encode()) == [
        AnesBaseUnitRow("00100", 5),
        AnesBaseUnitRow("00102", 6),
    ]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("00102", "truncated row: base units missing"),
        ("00102\t", "truncated row: base units missing"),
        ("00102\t6.5", "base_units: not a whole number"),
        ("00102\t-6", "base_units: not a whole number"),
        ("0010X\t6", "code: not a 5-digit code"),
        ("00102\t6\t7", "expected 2"),
        ("00100\t6", "duplicate code 00100 (first on line 4)"),
        ("\tNOTE", "not a 5-digit code"),
    ],
)
def test_bad_row_refused_at_its_line(bad_line: str, message: str) -> None:
    """A bad second code row (line 5) is refused at line 5 with a message naming the fault."""
    err = rejected(f"{HEAD}00100\t5\r\n{bad_line}\r\n".encode())
    assert err.line == 5
    assert message in str(err)


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"", 0, "empty file"),
        (b"\x1a", 0, "empty file"),
        (HEAD.encode(), 0, "no data records"),
        (b"00100\t5\r\n", 1, "expected the header row 'CODE' first"),
        (b"CODE\tBASE\r\n00100\t5\r\n", 1, "header: not a year"),
    ],
)
def test_whole_file_and_header_faults(data: bytes, line: int, message: str) -> None:
    """Empty file or no rows: line 0; a missing header or year: line 1."""
    err = rejected(data)
    assert (err.line, message in str(err)) == (line, True)


def test_xlsx_not_a_workbook() -> None:
    """Bytes that are not an xlsx workbook are refused as a whole-file fault."""
    with pytest.raises(FileRejected) as err:
        parser.parse_xlsx("B.xlsx", b"CODE\t2022\r\n")
    assert err.value.line == 0
