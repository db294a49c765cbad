"""ZIP5: 80-character records, the plus-four flag, and .txt == .xlsx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cms_pricing.reference.rows import Zip5Row

Parsed = Callable[[str, str], list[Any]]
ZIP = "zip-locality-2025q4"


def test_counts_and_plus_four(parsed: Parsed) -> None:
    """42,956 ZIPs, one row each; 580 carry the plus-four flag (col 21)."""
    rows: list[Zip5Row] = parsed(ZIP, "ZIP5_OCT2025.txt")
    assert len(rows) == 42_956
    assert len({r.zip5 for r in rows}) == 42_956
    assert sum(r.plus_four for r in rows) == 580


def test_fields(parsed: Parsed) -> None:
    """The first record, field by field; year/quarter from cols 76-80."""
    rows: list[Zip5Row] = parsed(ZIP, "ZIP5_OCT2025.txt")
    assert rows[0] == Zip5Row(
        state="AK",
        zip5="99501",
        carrier="02102",
        locality="01",
        rural="",
        lab_cb_locality="Z9",
        rural2="",
        plus_four=False,
        part_b_drug="A",
        year_quarter="20254",
    )
    flagged = next(r for r in rows if r.plus_four)
    assert (flagged.state, flagged.zip5, flagged.rural, flagged.rural2) == ("AL", "35958", "R", "R")
    assert {r.rural for r in rows} == {"", "R", "B"}


def test_non_usps_state_codes(parsed: Parsed) -> None:
    """Kansas is EK/WK and Missouri EM/WM: no KS or MO rows."""
    states = {r.state for r in parsed(ZIP, "ZIP5_OCT2025.txt")}
    assert {"EK", "WK", "EM", "WM"} <= states
    assert not {"KS", "MO"} & states


@pytest.mark.slow
def test_txt_equals_xlsx(parsed: Parsed) -> None:
    """ZIP5_OCT2025 .txt and .xlsx (numeric flag and year/quarter) give identical rows."""
    assert parsed(ZIP, "ZIP5_OCT2025.txt") == parsed(ZIP, "ZIP5_OCT2025.xlsx")
