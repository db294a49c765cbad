"""OPPSCAP: 38-character records without a header, and the three forms agree."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.reference.rows import OppsCapRow

Parsed = Callable[[str, str], list[Any]]


def test_first_and_last_records(parsed: Parsed) -> None:
    """Line 1 is a record (no header); prices keep 2 places; 16,100 records."""
    rows: list[OppsCapRow] = parsed("rvu25d", "OPPSCAP_Oct.txt")
    assert len(rows) == 16_100
    assert rows[0] == OppsCapRow(
        hcpcs="0633T",
        modifier="TC",
        status="C",
        carrier="01112",
        locality="05",
        fac_price=Decimal("150.69"),
        nonfac_price=Decimal("150.69"),
    )
    assert rows[-1].carrier == "15202"
    assert {r.status for r in rows} == {"A", "C"}


def test_california_localities_under_both_carriers(parsed: Parsed) -> None:
    """Localities 17, 18, 71-74 appear under carriers 01112 and 01182; kept, not refused."""
    rows: list[OppsCapRow] = parsed("rvu25d", "OPPSCAP_Oct.txt")
    pairs = {(r.carrier, r.locality) for r in rows if r.carrier in ("01112", "01182")}
    for locality in ("17", "18", "71", "72", "73", "74"):
        assert {("01112", locality), ("01182", locality)} <= pairs


@pytest.mark.parametrize("form", ["csv", pytest.param("xlsx", marks=pytest.mark.slow)])
def test_forms_agree(parsed: Parsed, form: str) -> None:
    """OPPSCAP_Oct .csv and .xlsx give the same rows as the .txt."""
    assert parsed("rvu25d", "OPPSCAP_Oct.txt") == parsed("rvu25d", f"OPPSCAP_Oct.{form}")


@pytest.mark.parametrize("stem", ["rvu25a/OPPSCAP_JAN", "rvu25b/OPPSCAP_APR", "rvu25c/OPPSCAP_JUL"])
def test_txt_equals_csv_each_quarter(parsed: Parsed, stem: str) -> None:
    """Every quarter's OPPSCAP .txt and .csv agree."""
    folder, name = stem.split("/")
    assert parsed(folder, name + ".txt") == parsed(folder, name + ".csv")
