"""GPCI2025: report-style .txt, the 109 localities, and the three forms agree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.reference.rows import GpciRow

Parsed = Callable[[str, str], list[Any]]


def test_109_localities_keyed_by_mac_and_locality(parsed: Parsed) -> None:
    """109 rows; (MAC, locality) is unique while a locality number repeats across MACs."""
    rows: list[GpciRow] = parsed("rvu25d", "GPCI2025.txt")
    assert len(rows) == 109
    assert len({(r.mac, r.locality) for r in rows}) == 109
    counts = Counter(r.locality for r in rows)
    assert (counts["00"], counts["01"], counts["99"]) == (17, 19, 15)


def test_fields_and_floor_markers(parsed: Parsed) -> None:
    """Alaska keeps its '*' and 1.5 work floor; a long name with spaces is kept whole."""
    rows: list[GpciRow] = parsed("rvu25d", "GPCI2025.txt")
    assert rows[1] == GpciRow(
        mac="02102",
        state="AK",
        locality="01",
        locality_name="ALASKA*",
        work=Decimal("1.500"),
        pe=Decimal("1.081"),
        mp=Decimal("0.592"),
    )
    sf = next(r for r in rows if (r.mac, r.locality) == ("01112", "05"))
    assert sf.locality_name == (
        "SAN FRANCISCO-OAKLAND-BERKELEY (SAN FRANCISCO/SAN MATEO/ALAMEDA/CONTRA COSTA CNTY)"
    )
    assert next(r for r in rows if r.state == "WY").locality_name == "WYOMING**"


def test_title_header_and_footnotes_are_not_rows(parsed: Parsed) -> None:
    """Title, header, 'MAC Assignments ...' and '*' footnote lines yield no rows."""
    rows: list[GpciRow] = parsed("rvu25d", "GPCI2025.txt")
    assert rows[0].mac == "10112"
    assert rows[-1].locality_name == "WYOMING**"
    assert all(r.mac.isdigit() for r in rows)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_forms_agree(parsed: Parsed, form: str) -> None:
    """GPCI2025 .csv ('1', '0.86') and .xlsx (floats, int localities) equal the .txt rows."""
    assert parsed("rvu25d", "GPCI2025.txt") == parsed("rvu25d", f"GPCI2025.{form}")


@pytest.mark.parametrize("quarter", ["rvu25a", "rvu25b", "rvu25c"])
def test_same_gpcis_all_year(parsed: Parsed, quarter: str) -> None:
    """Every 2025 release ships the same GPCI2025."""
    assert parsed(quarter, "GPCI2025.txt") == parsed("rvu25d", "GPCI2025.txt")
