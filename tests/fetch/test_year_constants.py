"""The year constants file (reference/year_constants.toml): every year gives every value with
its source, and today's engine figures are the file's (until the engine reads them from it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cms_pricing.engine import asc, costshare, opps
from cms_pricing.reference import years


def test_2025_is_complete_and_sourced() -> None:
    """Every key has a Decimal value and a CMS source naming where it comes from."""
    y2025 = years.load()[2025]
    assert y2025.part_b_deductible == Decimal("257.00")
    assert set(y2025.sources) == set(years.KEYS)
    assert all("CMS" in s or "Manual" in s for s in y2025.sources.values())


def test_the_engine_figures_are_the_files() -> None:
    """The engine's 2025 deductible, conversion factors and labor shares equal the file's:
    a change to one without the other fails here."""
    y2025 = years.load()[2025]
    assert costshare.PART_B_DEDUCTIBLE[2025] == y2025.part_b_deductible
    assert y2025.opps_conversion_factor == opps.CONVERSION_FACTOR
    assert y2025.opps_labor_share == opps.LABOR_SHARE
    assert y2025.asc_conversion_factor == asc.CONVERSION_FACTOR
    assert y2025.asc_labor_share == asc.LABOR_SHARE


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('part_b_deductible = { value = "x", source = "s" }', "part_b_deductible: not a decimal"),
        ('part_b_deductible = { value = "1" }', "part_b_deductible: needs a value and a source"),
    ],
)
def test_a_malformed_year_is_refused(table: str, message: str) -> None:
    full = {k: f'{k} = {{ value = "1", source = "s" }}' for k in years.KEYS}
    full["part_b_deductible"] = table
    with pytest.raises(ValueError, match=message):
        years.parse("[2026]\n" + "\n".join(full.values()))
