"""OPPS Addendum B and D1 of the CY 2025 final rule: the real files and refused faults.

Expected values are read from the files' text; the malformed inputs are a few synthetic
tab-separated lines built here, never a CMS file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import opps
from cms_pricing.reference.rows import OppsIndicatorRow, OppsRateRow

FOLDER = "opps-cy2025-final-rule"
B_NAME = "2025 NFRM Addendum B.11122024.txt"
D1_NAME = "2025 NFRM Addendum D1.10242024.txt"

TITLES = "\tAddendum B.-- OPPS Payment by HCPCS Code for CY 2025" + "\t" * 11 + "\r\n"
HEADER = (
    "HCPCS Code\tShort Descriptor\t CI\t SI\t APC \tRelative Weight\tPayment Rate\t"
    "National Unadjusted Copayment\tMinimum Unadjusted Copayment\tIRA Coinsurance percentage \t"
    "Adjusted Beneficiary Copayment\tDrug and Device Pass-Through Expiration during Calendar "
    "Year\tNote\r\n"
)
G45378 = "45378\tDiagnostic colonoscopy\t\tT\t5311\t10.2245\t$911.71\t.\t$182.35\t\t\t\t\r\n"


@pytest.fixture(scope="module")
def rates(cms_data: Path) -> dict[str, OppsRateRow]:
    """Addendum B's rows by HCPCS code."""
    data = (cms_data / "2025" / FOLDER / B_NAME).read_bytes()
    return {row.hcpcs: row for row in opps.parse_txt(B_NAME, data)}


@pytest.fixture(scope="module")
def indicators(cms_data: Path) -> dict[str, OppsIndicatorRow]:
    """Addendum D1's status indicators by code."""
    data = (cms_data / "2025" / FOLDER / D1_NAME).read_bytes()
    return {row.indicator: row for row in opps.parse_indicators_txt(D1_NAME, data)}


def synthetic(*lines: str, header: str = HEADER) -> bytes:
    """One title line, the header (line 2), then ``lines`` from line 3, ISO-8859-1."""
    return (TITLES + header + "".join(lines)).encode("latin-1")


def rejected(data: bytes, parse: Callable[[str, bytes], object] = opps.parse_txt) -> FileRejected:
    """The FileRejected that parsing ``data`` raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        parse("B.txt", data)
    assert err.value.file == "B.txt"
    return err.value


def test_colonoscopy_row(rates: dict[str, OppsRateRow]) -> None:
    """45378: T, APC 5311, weight 10.2245, $911.71, '.' national copay is None, $182.35."""
    assert rates["45378"] == OppsRateRow(
        hcpcs="45378", short_description="Diagnostic colonoscopy", comment_indicator="",
        status_indicator="T", apc="5311", relative_weight=Decimal("10.2245"),
        payment_rate=Decimal("911.71"), national_copay=None, minimum_copay=Decimal("182.35"),
        ira_coinsurance_pct=None, adjusted_copay=None, pass_through_expiration="", note="",
    )  # fmt: skip


def test_money_is_kept_as_written(rates: dict[str, OppsRateRow]) -> None:
    """A quoted "$10,411.22", a bare 2082.24, a drug's 3 places ($58.216), 20.000%."""
    assert (rates["50600"].status_indicator, rates["50600"].payment_rate) == (
        "C", Decimal("10411.22"),
    )  # fmt: skip
    assert rates["50600"].minimum_copay == Decimal("2082.24")
    drug = rates["J9271"]
    assert (drug.status_indicator, drug.apc, drug.relative_weight) == ("K", "1490", None)
    assert str(drug.payment_rate) == "58.216"
    assert drug.ira_coinsurance_pct == Decimal("20.000")
    assert str(drug.ira_coinsurance_pct) == "20.000"


def test_capped_copayment_and_note(rates: dict[str, OppsRateRow]) -> None:
    """69930's copayment is capped at the inpatient deductible, written $1,632.00."""
    row = rates["69930"]
    assert (row.status_indicator, row.national_copay, row.adjusted_copay) == (
        "J1", Decimal("6942.79"), Decimal("1632.00"),
    )  # fmt: skip
    assert row.note == "Copayments capped at inpatient deductible of $1,632.00."


def test_every_row_is_one_unique_code(rates: dict[str, OppsRateRow]) -> None:
    """18,687 lines less 4 titles and the header: 18,682 codes, indicators stripped."""
    assert len(rates) == 18_682
    assert Counter(row.status_indicator for row in rates.values())["J1"] == 3_140
    assert all(row.status_indicator == row.status_indicator.strip() for row in rates.values())


def test_junk_bytes_and_padding_are_blanks(rates: dict[str, OppsRateRow]) -> None:
    """'A4341\\xff' is A4341; '0526U ' with 'NI ' and 'Q4 ' is stripped."""
    assert rates["A4341"].status_indicator == "N"
    assert (rates["0526U"].comment_indicator, rates["0526U"].status_indicator) == ("NI", "Q4")


def test_which_indicators_carry_a_rate(rates: dict[str, OppsRateRow]) -> None:
    """Rates are published for the separately paid indicators (and one C code), never for
    H (pass-through devices), Q4 (conditionally packaged labs) or N (packaged)."""
    paid = {row.status_indicator for row in rates.values() if row.payment_rate is not None}
    assert paid == {"C", "G", "J1", "J2", "K", "K1", "Q1", "Q2", "Q3", "R", "S", "T", "U", "V"}


def test_status_indicators_join_their_continuations(
    indicators: dict[str, OppsIndicatorRow],
) -> None:
    """28 indicators; 'E2 ' is E2; continuation rows are joined and '?' bullets dropped."""
    assert len(indicators) == 28
    assert indicators["E2"].item == (
        "Items, Codes, and Services: For which pricing information and claims data are not "
        "available"
    )
    assert indicators["E1"].item.endswith(
        "Statutorily excluded by Medicare Not reasonable and necessary"
    )
    assert indicators["T"].payment_status == "Paid under OPPS; separate APC payment."
    assert indicators["A"].item.endswith("may be contractor priced.")
    assert "?" not in indicators["A"].item


def test_synthetic_file_parses() -> None:
    """The synthetic layout itself is valid (the refusals below change one thing)."""
    (row,) = opps.parse_txt("B.txt", synthetic(G45378))
    assert row.payment_rate == Decimal("911.71")


def test_truncated_row_is_refused() -> None:
    """A row with fewer cells than the header names its line."""
    err = rejected(synthetic(G45378, "45380\tColonoscopy\t\tT\t5312\r\n"))
    assert err.line == 4 and "cells" in err.reason


def test_bad_money_is_refused() -> None:
    """'$91l.71' is not a dollar amount."""
    err = rejected(synthetic(G45378.replace("$911.71", "$91l.71")))
    assert err.line == 3 and "payment rate" in err.reason


def test_duplicate_code_is_refused() -> None:
    """A second, different row for 45378 names both lines."""
    err = rejected(synthetic(G45378, G45378.replace("5311", "5312")))
    assert err.line == 4 and "first on line 3" in err.reason


def test_missing_header_column_is_refused() -> None:
    """A header without 'Payment Rate' is refused on the header line."""
    err = rejected(synthetic(G45378, header=HEADER.replace("Payment Rate", "Rate")))
    assert err.line == 2 and "Payment Rate" in err.reason


def test_iso_8859_1_bytes_are_accepted() -> None:
    """A non-UTF-8 byte (0xE9) in a description reads as ISO-8859-1."""
    (row,) = opps.parse_txt("B.txt", synthetic(G45378.replace("Diagnostic", "Diagnostic\xe9")))
    assert row.short_description == "Diagnostic\xe9 colonoscopy"


def test_empty_and_headerless_files_are_refused() -> None:
    """An empty file, and a file without its header row, are whole-file faults."""
    assert rejected(b"").line == 0
    assert rejected(TITLES.encode()).line == 0


def test_indicator_continuation_before_any_indicator_is_refused() -> None:
    """D1: a continuation row before the first indicator names its line."""
    data = b"\tTitle\t\r\nStatus Indicator\tItem/Code/Service\tOPPS Payment Status\r\n\tmore\t\r\n"
    err = rejected(data, opps.parse_indicators_txt)
    assert err.line == 3
