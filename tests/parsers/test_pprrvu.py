"""PPRRVU: every field of the record, row counts per quarter, and the forms agree."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.reference.rows import RvuRow

Parsed = Callable[[str, str], list[Any]]

QUARTER_FILES = {
    "rvu25a": "PPRRVU25_JAN",
    "rvu25b": "PPRRVU25_APR",
    "rvu25c": "PPRRVU2025_Jul",
    "rvu25d": "PPRRVU2025_Oct",
}


def _row(parsed: Parsed, hcpcs: str, modifier: str = "") -> RvuRow:
    rows = parsed("rvu25d", "PPRRVU2025_Oct.txt")
    found = [r for r in rows if r.hcpcs == hcpcs and r.modifier == modifier]
    assert len(found) == 1
    row: RvuRow = found[0]
    return row


def test_total_knee_has_every_field(parsed: Parsed) -> None:
    """27447 parses field by field; right-aligned work RVU 19.60 keeps its tens digit."""
    assert _row(parsed, "27447") == RvuRow(
        hcpcs="27447",
        modifier="",
        description="Total knee arthroplasty",
        status="A",
        not_used_for_medicare="",
        work_rvu=Decimal("19.60"),
        nonfac_pe_rvu=Decimal("15.30"),
        nonfac_na=True,
        fac_pe_rvu=Decimal("15.30"),
        fac_na=False,
        mp_rvu=Decimal("3.98"),
        nonfac_total=Decimal("38.88"),
        fac_total=Decimal("38.88"),
        pctc="0",
        global_days="090",
        pre_op=Decimal("0.10"),
        intra_op=Decimal("0.69"),
        post_op=Decimal("0.21"),
        mult_proc="2",
        bilateral="1",
        assistant="2",
        co_surgeon="1",
        team="0",
        endo_base="",
        conversion_factor=Decimal("32.3465"),
        supervision="09",
        calc_flag="0",
        imaging_family="99",
        opps_nonfac_pe_rvu=Decimal("0.00"),
        opps_fac_pe_rvu=Decimal("0.00"),
        opps_mp_rvu=Decimal("0.00"),
    )
    assert str(_row(parsed, "27447").work_rvu) == "19.60"


def test_imaging_row_has_opps_rvus_and_facility_na(parsed: Parsed) -> None:
    """70553 carries the OPPS PE/MP RVUs (cols 152-171), imaging family 88, facility NA."""
    row = _row(parsed, "70553")
    assert (row.opps_nonfac_pe_rvu, row.opps_fac_pe_rvu, row.opps_mp_rvu) == (
        Decimal("11.81"),
        Decimal("11.81"),
        Decimal("0.18"),
    )
    assert (row.fac_na, row.nonfac_na, row.fac_pe_rvu) == (True, False, Decimal("7.26"))
    assert (row.pctc, row.mult_proc, row.imaging_family, row.supervision) == ("1", "4", "88", "09")


def test_endoscopy_base_and_modifier_53(parsed: Parsed) -> None:
    """43239 names its endoscopic base 43235; G0121-53 is its own row with modifier 53."""
    assert (_row(parsed, "43239").endo_base, _row(parsed, "43239").mult_proc) == ("43235", "3")
    assert _row(parsed, "G0121", "53").work_rvu == Decimal("1.63")
    assert _row(parsed, "71250", "TC").description == "Ct thorax dx c-"


def test_not_used_for_medicare_flag(parsed: Parsed) -> None:
    """Col 59 '+' (the csv's 5th column) marks codes not used for Medicare payment: 148 in D."""
    rows = parsed("rvu25d", "PPRRVU2025_Oct.txt")
    flagged = [r for r in rows if r.not_used_for_medicare]
    assert {r.not_used_for_medicare for r in flagged} == {"+"}
    assert len(flagged) == 148
    assert _row(parsed, "22526").not_used_for_medicare == "+"
    assert _row(parsed, "22526").status == "N"


def test_tens_digit_kept_for_every_large_rvu(parsed: Parsed) -> None:
    """About 17% of rows have an RVU >= 10; the tens digit survives (no 1-column slip)."""
    rows = parsed("rvu25d", "PPRRVU2025_Oct.txt")
    big = [r for r in rows if max(r.work_rvu, r.nonfac_pe_rvu, r.fac_pe_rvu) >= 10]
    assert 0.15 < len(big) / len(rows) < 0.20
    for r in rows:
        assert r.nonfac_total == r.work_rvu + r.nonfac_pe_rvu + r.mp_rvu or r.status != "A"


def test_values_keep_their_scale(parsed: Parsed) -> None:
    """RVUs and shares carry 2 places and the CF 4, whatever the source wrote."""
    for r in parsed("rvu25d", "PPRRVU2025_Oct.txt")[:200]:
        assert r.work_rvu.as_tuple().exponent == -2
        assert r.pre_op.as_tuple().exponent == -2
        assert r.conversion_factor.as_tuple().exponent == -4


@pytest.mark.parametrize(
    ("quarter", "count"),
    # DOMAIN.md's counts, verified: records only (the 7 HDR lines are not rows).
    [("rvu25a", 18_865), ("rvu25b", 18_923), ("rvu25c", 19_029), ("rvu25d", 19_090)],
)
def test_row_count_per_quarter(parsed: Parsed, quarter: str, count: int) -> None:
    """Each quarter's PPRRVU has its own number of records; HCPCS+modifier is unique."""
    rows = parsed(quarter, QUARTER_FILES[quarter] + ".txt")
    assert len(rows) == count
    assert len({(r.hcpcs, r.modifier) for r in rows}) == count


@pytest.mark.parametrize("quarter", ["rvu25a", "rvu25c", "rvu25d"])
def test_txt_equals_csv(parsed: Parsed, quarter: str) -> None:
    """The .txt and .csv forms of a quarter's PPRRVU give identical rows."""
    stem = QUARTER_FILES[quarter]
    assert parsed(quarter, stem + ".txt") == parsed(quarter, stem + ".csv")


def test_txt_equals_csv_april_but_one_stray_byte(parsed: Parsed) -> None:
    """RVU25B's csv has one stray 0xE1 byte after Q5152's description; all else is equal."""
    txt = parsed("rvu25b", "PPRRVU25_APR.txt")
    csv = parsed("rvu25b", "PPRRVU25_APR.csv")
    differing = [(t, c) for t, c in zip(txt, csv, strict=True) if t != c]
    assert len(differing) == 1
    t, c = differing[0]
    assert (t.hcpcs, t.description, c.description) == (
        "Q5152",
        "Inj, eculizumab-aeeb, 2 mg",
        "Inj, eculizumab-aeeb, 2 mg\u00e1",
    )


@pytest.mark.slow
def test_txt_equals_xlsx_october(parsed: Parsed) -> None:
    """RVU25D's .txt, .csv and .xlsx forms give identical rows (xlsx ints/floats re-typed)."""
    txt = parsed("rvu25d", "PPRRVU2025_Oct.txt")
    assert txt == parsed("rvu25d", "PPRRVU2025_Oct.xlsx")
    assert txt == parsed("rvu25d", "PPRRVU2025_Oct.csv")
