"""The OPPS Pricer's CBSA wage index table for 2025: the real file and refused faults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import wage_index
from cms_pricing.reference.rows import WageIndexRow

NAME = "cbsa-wage-index-2025.csv"
HEADER = "cbsa,effectiveDate,geographicWageIndex,reclassifiedWageIndex,imputedFloorWageIndex,name\n"
ALABAMA = "01,20250101,0.7579,0.7579,0.0000,ALABAMA\n"


@pytest.fixture(scope="module")
def rows(cms_data: Path) -> dict[str, WageIndexRow]:
    """The real file's rows by CBSA code."""
    data = (cms_data / "2025" / "opps-wage-index-2025" / NAME).read_bytes()
    return {row.cbsa: row for row in wage_index.parse_csv(NAME, data)}


def rejected(data: str) -> FileRejected:
    """The FileRejected that parsing ``data`` raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        wage_index.parse_csv("W.csv", data.encode("latin-1"))
    assert err.value.file == "W.csv"
    return err.value


def test_new_york_row(rows: dict[str, WageIndexRow]) -> None:
    """35614 (New York-Jersey City-White Plains): geographic 1.2961, reclassified 1.2657."""
    assert rows["35614"] == WageIndexRow(
        cbsa="35614",
        effective_date=date(2025, 1, 1),
        geographic=Decimal("1.2961"),
        reclassified=Decimal("1.2657"),
        imputed_floor=Decimal("0.0000"),
        name="New York-Jersey City-White Plains NY-NJ",
    )


def test_state_rural_codes_keep_two_digits(rows: dict[str, WageIndexRow]) -> None:
    """'09' (DC, no rural area) has only an imputed floor, 1.2958."""
    dc = rows["09"]
    assert (dc.geographic, dc.imputed_floor, dc.name) == (
        Decimal("0.0000"), Decimal("1.2958"), "DISTRICT OF COLUMBIA",
    )  # fmt: skip


def test_every_row_is_one_code_of_one_date(rows: dict[str, WageIndexRow]) -> None:
    """472 lines less the header: 471 codes, all effective 2025-01-01; names kept as written."""
    assert len(rows) == 471
    assert {row.effective_date for row in rows.values()} == {date(2025, 1, 1)}
    assert rows["32420"].name == "Mayag?ez PR"


def test_a_dropped_leading_zero_is_restored() -> None:
    """A spreadsheet's '1' for Alabama reads back as '01'."""
    (row,) = wage_index.parse_csv("W.csv", (HEADER + ALABAMA[1:]).encode())
    assert row.cbsa == "01"


def test_faults_name_file_and_line() -> None:
    """A truncated row, a bad index, a duplicate code, a missing column, a bad date."""
    assert rejected(HEADER + ALABAMA + "02,20250101,1.0365\n").line == 3
    assert rejected(HEADER + ALABAMA.replace("0.7579", "0.75x9", 1)).line == 2
    dup = rejected(HEADER + ALABAMA + ALABAMA.replace("0.7579", "0.7000", 1))
    assert dup.line == 3 and "first on line 2" in dup.reason
    assert rejected(HEADER.replace("name", "title") + ALABAMA).line == 1
    assert rejected(HEADER + ALABAMA.replace("20250101", "20251301")).line == 2
    assert rejected(HEADER).line == 0
