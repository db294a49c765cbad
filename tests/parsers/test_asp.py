"""ASP pricing file, January 2025: the real .csv, its effective period, and refused faults.

Expected values are read from the file's text (line numbers are the file's physical lines);
the malformed inputs are a few synthetic bytes built here, never a CMS file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import asp
from cms_pricing.reference.rows import AspRow

NAME = "section 508 version of Jan 2025 ASP Pricing File updated 030725.csv"

TITLES = (
    "Payment Allowance Limits for Medicare Part B Drugs,,,,,,,,,,,\n"
    ",,,,,,,,,,,\n"
    '"Effective January 1, 2025 through March 31, 2025",,,,,,,,,,,\n'
)
HEADER = (
    "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit,Co-insurance Percentage,"
    "Vaccine AWP%,Vaccine Limit,Blood AWP%,Blood limit,Clotting Factor,Notes,\n"
)
J1100 = "J1100,Dexamethasone sodium phos,1 MG,0.108,20.000,,,,,,,\n"


@pytest.fixture(scope="module")
def data(cms_data: Path) -> bytes:
    """The bytes of the real January 2025 ASP file."""
    return (cms_data / "2025" / "asp-2025q1" / NAME).read_bytes()


@pytest.fixture(scope="module")
def rows(data: bytes) -> dict[str, AspRow]:
    """The real file's rows by HCPCS code."""
    return {row.hcpcs: row for row in asp.parse_csv(NAME, data)}


def synthetic(*data_lines: str, header: str = HEADER) -> bytes:
    """Three title lines, the header (line 4), then ``data_lines`` from line 5."""
    return (TITLES + header + "".join(data_lines)).encode("latin-1")


def rejected(data: bytes) -> FileRejected:
    """The FileRejected that parsing ``data`` raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        asp.parse_csv("A.csv", data)
    assert err.value.file == "A.csv"
    return err.value


def test_j1100_row(rows: dict[str, AspRow]) -> None:
    """Line 205: J1100, 1 MG, 0.108 (three places kept), coinsurance 20.000, no other columns."""
    assert rows["J1100"] == AspRow(
        hcpcs="J1100",
        short_description="Dexamethasone sodium phos",
        dosage="1 MG",
        payment_limit=Decimal("0.108"),
        coinsurance_pct=Decimal("20.000"),
        vaccine_awp_pct=None,
        vaccine_limit=None,
        blood_awp_pct=None,
        blood_limit=None,
        clotting_factor=False,
        notes="",
    )
    assert str(rows["J1100"].payment_limit) == "0.108"


def test_every_data_line_is_one_unique_code(rows: dict[str, AspRow]) -> None:
    """886 csv records (887 lines: one quoted note spans two) less 9 title/header = 877 codes."""
    assert len(rows) == 877
    assert next(iter(rows)) == "90371"
    assert list(rows)[-1] == "Q9992"


def test_not_available_limit_is_none(rows: dict[str, AspRow]) -> None:
    """Line 53: A9606's limit is "N/A" -> None; its two-line quoted note reads as one line."""
    row = rows["A9606"]
    assert row.payment_limit is None
    assert row.coinsurance_pct == Decimal("20.000")
    assert row.notes == "microCurie 100% AWP = $196.92 microCurie 100% WAC = $164.10"


def test_vaccine_blood_and_clotting_columns(rows: dict[str, AspRow]) -> None:
    """Line 15 (90653): 0.000 coinsurance, vaccine 95 / 83.490; line 738 (P9045): blood
    95 / 53.077; line 489 (J7170): clotting factor 1."""
    vaccine = rows["90653"]
    assert (vaccine.coinsurance_pct, vaccine.vaccine_awp_pct, vaccine.vaccine_limit) == (
        Decimal("0.000"),
        Decimal("95"),
        Decimal("83.490"),
    )
    blood = rows["P9045"]
    assert (blood.blood_awp_pct, blood.blood_limit, blood.vaccine_limit) == (
        Decimal("95"),
        Decimal("53.077"),
        None,
    )
    assert rows["J7170"].clotting_factor is True
    assert rows["J1100"].clotting_factor is False


def test_no_break_space_in_dosage(rows: dict[str, AspRow]) -> None:
    """J9325's dosage is written "1 million<0xA0>PFU" (ISO-8859-1): read with a plain space."""
    assert rows["J9325"].dosage == "1 million PFU"


def test_effective_period(data: bytes) -> None:
    """Line 3: "Effective January 1, 2025 through March 31, 2025"."""
    assert asp.effective_period(NAME, data) == (date(2025, 1, 1), date(2025, 3, 31))


def test_synthetic_file_parses() -> None:
    """The synthetic layout itself is valid: one J1100 row."""
    (row,) = asp.parse_csv("A.csv", synthetic(J1100))
    assert (row.hcpcs, row.payment_limit) == ("J1100", Decimal("0.108"))


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("J1200,Diphenhydramine hcl,50 MG,0.1O8,20.000,,,,,,,\n", "limit: not a number"),
        ("J1200,Diphenhydramine hcl,50 MG,0.1085,20.000,,,,,,,\n", "more decimal places"),
        ("J1200,Diphenhydramine hcl,50 MG,0.108,20.000\n", "row has 5 cells"),
        ("J1200,Diphenhydramine hcl,50 MG,,20.000,,,,,,,\n", "payment_limit: blank"),
        ("J12,Diphenhydramine hcl,50 MG,0.108,20.000,,,,,,,\n", "not a 5-character"),
        ("J1200,Diphenhydramine hcl,50 MG,0.108,20.000,,,,,Y,,\n", "clotting_factor"),
        ("J1200,Diphenhydramine hcl,50 MG,0.108,20.000,,,,,,,extra\n", "row has 12 cells"),
        ("J1100,Dexamethasone again,1 MG,0.110,20.000,,,,,,,\n", "duplicate HCPCS code J1100"),
    ],
)
def test_bad_row_refused_at_its_line(bad_line: str, message: str) -> None:
    """A bad second data row (line 6) is refused at line 6 with a message naming the fault."""
    err = rejected(synthetic(J1100, bad_line))
    assert err.line == 6
    assert message in str(err)


def test_renamed_column_refused_at_header() -> None:
    """A header whose 4th column is not "Payment Limit" is refused at the header's line 4."""
    err = rejected(synthetic(J1100, header=HEADER.replace("Payment Limit", "Payment")))
    assert err.line == 4
    assert "missing column 'Payment Limit'" in str(err)


def test_missing_trailing_columns_refused_at_header() -> None:
    """A header that stops after "Clotting Factor" lacks "Notes": refused at line 4."""
    err = rejected(synthetic(J1100, header=HEADER.replace(",Notes,", "")))
    assert err.line == 4
    assert "missing column 'Notes'" in str(err)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\r\n \r\n", "empty file"),
        (TITLES.encode(), "header row starting 'HCPCS Code' not found"),
        ((TITLES + HEADER).encode(), "no data records"),
    ],
)
def test_whole_file_faults_at_line_0(data: bytes, message: str) -> None:
    """An empty file, no header, or a header without rows is a whole-file fault (line 0)."""
    err = rejected(data)
    assert err.line == 0
    assert message in str(err)


def test_effective_period_faults() -> None:
    """No period title line -> line 0; an impossible date -> its line; an inverted period too."""
    with pytest.raises(FileRejected) as err:
        asp.effective_period("A.csv", (HEADER + J1100).encode())
    assert err.value.line == 0
    bad = TITLES.replace("March 31", "March 32").encode()
    with pytest.raises(FileRejected) as err:
        asp.effective_period("A.csv", bad)
    assert err.value.line == 3
    inverted = TITLES.replace("January 1, 2025 through", "April 1, 2025 through").encode()
    with pytest.raises(FileRejected) as err:
        asp.effective_period("A.csv", inverted)
    assert (err.value.line, "ends before it starts" in str(err.value)) == (3, True)
