"""25LOCCO: state fill-down, blank separators, re-padded csv codes, and the forms' texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cms_pricing.reference.rows import LocalityCountyRow

Parsed = Callable[[str, str], list[Any]]


def test_state_filled_down_within_its_block(parsed: Parsed) -> None:
    """Rows after a state's first row inherit its name; 110 rows over the 109 localities."""
    rows: list[LocalityCountyRow] = parsed("rvu25d", "25LOCCO.txt")
    assert len(rows) == 110
    assert len({(r.mac, r.locality) for r in rows}) == 109
    wa = [r for r in rows if r.mac == "02402"]
    assert [(r.locality, r.state, r.fee_schedule_area) for r in wa] == [
        ("02", "WASHINGTON", "SEATTLE (KING CNTY)"),
        ("99", "WASHINGTON", "REST OF STATE"),
    ]
    assert rows[0] == LocalityCountyRow(
        mac="10112",
        locality="00",
        state="ALABAMA",
        fee_schedule_area="STATEWIDE",
        counties="ALL COUNTIES",
    )


def test_duplicate_missouri_row_is_kept(parsed: Parsed) -> None:
    """CMS lists (05302, 99) twice, identically, in every form; the parser keeps both."""
    for form in ("txt", "csv", "xlsx"):
        rows: list[LocalityCountyRow] = parsed("rvu25d", f"25LOCCO.{form}")
        dup = [r for r in rows if (r.mac, r.locality) == ("05302", "99")]
        assert len(dup) == 2
        assert dup[0] == dup[1]


def test_california_block_names_no_state_in_txt(parsed: Parsed) -> None:
    """The .txt never writes CALIFORNIA: its block keeps state "" (not Arkansas, above it)."""
    txt: list[LocalityCountyRow] = parsed("rvu25d", "25LOCCO.txt")
    csv: list[LocalityCountyRow] = parsed("rvu25d", "25LOCCO.csv")
    ca_txt = [r for r in txt if r.mac in ("01112", "01182")]
    assert len(ca_txt) == 29
    assert {r.state for r in ca_txt} == {""}
    assert {r.state for r in csv if r.mac in ("01112", "01182")} == {"CALIFORNIA"}


def test_csv_codes_repadded(parsed: Parsed) -> None:
    """The csv writes MAC 2102 and locality 1: read back as '02102' and '01'."""
    csv: list[LocalityCountyRow] = parsed("rvu25d", "25LOCCO.csv")
    assert (csv[1].mac, csv[1].locality, csv[1].state) == ("02102", "01", "ALASKA")


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_forms_agree_except_known_text_differences(parsed: Parsed, form: str) -> None:
    """The forms agree on (MAC, locality) order; CMS's texts differ in three known ways.

    * the .txt cuts the counties column at 58 characters (9 rows);
    * the .txt names no state for California (29 rows);
    * the forms spell two California areas and LA's counties differently (2 rows).
    The .csv and .xlsx are identical.
    """
    txt: list[LocalityCountyRow] = parsed("rvu25d", "25LOCCO.txt")
    other: list[LocalityCountyRow] = parsed("rvu25d", f"25LOCCO.{form}")
    assert other == parsed("rvu25d", "25LOCCO.csv")
    assert [(r.mac, r.locality) for r in txt] == [(r.mac, r.locality) for r in other]
    state_differs = [o for t, o in zip(txt, other, strict=True) if t.state != o.state]
    assert len(state_differs) == 29
    assert {o.state for o in state_differs} == {"CALIFORNIA"}
    cut = [t for t, o in zip(txt, other, strict=True) if t.counties != o.counties]
    assert len(cut) == 10
    assert sum(o.counties.startswith(t.counties) for t, o in zip(txt, other, strict=True)) == 109
    areas = [
        (t, o)
        for t, o in zip(txt, other, strict=True)
        if t.fee_schedule_area != o.fee_schedule_area
    ]
    assert [t.locality for t, _ in areas] == ["18", "05"]
