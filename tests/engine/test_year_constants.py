"""The year constants are data: ``reference/year_constants.toml`` (read by
``reference/years.py``) gives each year's Part B deductible and OPPS/ASC conversion factors and
labor shares; the engine holds no copy and takes them from the snapshot
(``Snapshot.constants``). A year the file lacks is a clear 422 naming the year; a new year is
a new table in the file and nothing else."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.engine import asc, costshare, opps
from cms_pricing.engine.plans import Plan, PlanLine, price_plan
from cms_pricing.engine.quote import ScheduleQuote, ScheduleRequest
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import Unprocessable
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta
from cms_pricing.reference.rows import AscRateRow, OppsRateRow, WageIndexRow

D = Decimal
PACKAGED = Path(years.__file__).with_name("year_constants.toml")
# A year CMS has not published, with figures unlike 2025's so that every one shows.
FAKE_2031 = """
[2031]
part_b_deductible = { value = "301.00", source = "test: a fake year" }
opps_conversion_factor = { value = "100.000", source = "test: a fake year" }
opps_labor_share = { value = "0.70", source = "test: a fake year" }
asc_conversion_factor = { value = "60.000", source = "test: a fake year" }
asc_labor_share = { value = "0.40", source = "test: a fake year" }
"""
OPPS_ROW = OppsRateRow(
    "45378", "", "", "T", "5311", D("10.2245"), D("911.71"), None, D("182.35"), None, None,
    "", "",
)  # fmt: skip
ASC_ROW = AscRateRow("AA", "45378", "", "", True, "A2", D("7.5000"), D("411.71"), "", None)
WAGE_ROW = WageIndexRow("35614", date(2031, 1, 1), D("1.2961"), D("1.2657"), D("0"), "NY")


def _meta(schedule: str, dataset_id: str, year: int) -> ScheduleMeta:
    return ScheduleMeta(schedule, dataset_id, date(year, 1, 1), None, dataset_id.ljust(64, "0"), ())


def _snapshot(kit: Any, constants_file: Path, year: int) -> Snapshot:
    """OPPS, ASC, wage index and an MPFS release dated ``year``, with the constants file."""
    data = [
        ScheduleData(_meta("opps", f"OPPS-{year}", year), {"opps_rates": (OPPS_ROW,)}),
        ScheduleData(_meta("asc", f"ASC-{year}Q1", year), {"asc_aa": (ASC_ROW,)}),
        ScheduleData(_meta("wage_index", f"WI-{year}", year), {"wage_index": (WAGE_ROW,)}),
    ]
    release = kit.release(f"RVU{year % 100}A", date(year, 1, 1), kit.release_a_rvus())
    return Snapshot.build([release], kit.zip_data(), data, constants=years.read(constants_file))


def _c(quote: ScheduleQuote) -> dict[str, Any]:
    return dict(quote.components)


def _cent(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), ROUND_HALF_UP)


def test_2025_is_complete_and_sourced() -> None:
    """Every key has a Decimal value and a CMS source naming where it comes from."""
    y2025 = years.load().of(2025, "the test")
    assert (y2025.part_b_deductible, y2025.opps_conversion_factor, y2025.asc_labor_share) == (
        D("257.00"), D("89.169"), D("0.50"),
    )  # fmt: skip
    assert set(y2025.sources) == set(years.KEYS)
    assert all("CMS" in s or "Manual" in s for s in y2025.sources.values())


def test_the_engine_keeps_no_copy_of_the_figures() -> None:
    """The deductible table, conversion factors and labor shares are gone from the engine."""
    gone = ((costshare, "PART_B_DEDUCTIBLE"), (opps, "CONVERSION_FACTOR"), (opps, "LABOR_SHARE"),
            (asc, "CONVERSION_FACTOR"), (asc, "LABOR_SHARE"))  # fmt: skip
    for module, name in gone:
        assert not hasattr(module, name), f"{module.__name__}.{name}"


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


def test_a_year_missing_from_the_file_is_a_422_naming_it(kit: Any, tmp_path: Path) -> None:
    """OPPS and ASC datasets of 2031 with a file that stops at 2025: a request naming 2031 is
    Unprocessable (422, field year) naming the year and the years known, never a 500; a plan
    of 2031 without deductible_remaining is a 422 naming that field, and with it is priced."""
    packaged = tmp_path / "year_constants.toml"
    packaged.write_text(PACKAGED.read_text("utf-8"), "utf-8")
    snapshot = _snapshot(kit, packaged, 2031)
    for schedule in ("opps", "asc"):
        with pytest.raises(Unprocessable) as missing:
            price_schedule(snapshot, ScheduleRequest(schedule, "45378", year=2031))
        assert missing.value.status_code == 422
        assert missing.value.details == {"field": "year"}
        assert "2031" in str(missing.value) and "years known: 2025" in str(missing.value)
    plan = Plan((PlanLine("99213"),), zip="94110", setting="office")
    with pytest.raises(Unprocessable) as no_deductible:
        price_plan(snapshot, plan)
    assert no_deductible.value.details == {"field": "deductible_remaining"}
    given = Plan(plan.lines, zip="94110", setting="office", deductible_remaining=D("0"))
    assert price_plan(snapshot, given).cost_share.deductible == D("0.00")


def test_a_new_year_is_a_table_in_the_file(kit: Any, tmp_path: Path) -> None:
    """Adding [2031] to the file is all 2031 needs: its OPPS and ASC conversion factors and
    labor shares and its deductible are the ones priced with, no code changed."""
    constants = tmp_path / "year_constants.toml"
    constants.write_text(PACKAGED.read_text("utf-8") + FAKE_2031, "utf-8")
    snapshot = _snapshot(kit, constants, 2031)
    ask = ScheduleRequest("opps", "45378", year=2031)
    national = price_schedule(snapshot, ask)
    assert _c(national)["conversion_factor"] == D("100.000")
    assert _c(national)["weight_x_conversion_factor"] == D("10.2245") * D("100.000")
    assert "Addendum B's rate differs from relative weight x conversion factor." in national.notes
    wage = price_schedule(snapshot, ScheduleRequest("opps", "45378", year=2031, cbsa="35614"))
    assert _c(wage)["labor_share"] == D("0.70")
    assert _c(wage)["wage_index"] == D("1.2961")
    assert wage.amount == _cent(D("911.71") * (D("0.70") * D("1.2961") + D("0.30")))
    at_asc = price_schedule(snapshot, ScheduleRequest("asc", "45378", year=2031, cbsa="35614"))
    assert _c(at_asc)["conversion_factor"] == D("60.000")
    assert _c(at_asc)["labor_share"] == D("0.40")
    assert _c(at_asc)["wage_index"] == D("1.2961")  # ASC: the pre-floor (geographic) column
    assert at_asc.amount == _cent(D("411.71") * (D("0.40") * D("1.2961") + D("0.60")))
    plan = Plan((PlanLine("99213"),), zip="94110", setting="office")
    assert price_plan(snapshot, plan).cost_share.deductible_remaining == D("301.00")
