"""OPPS engine: national rates, status indicators, wage adjustment on 60%, copayments.

Synthetic rows copy real CY 2025 Addendum B rows (45378, 0234T, 69930, J9271, P9010, C1716,
50600, G0104, ...) so each rule's arithmetic is worked from figures CMS prints; the slow tests
price every row of the real final-rule Addendum B.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cms_pricing.engine import opps, wage_index
from cms_pricing.engine.quote import DatasetRef, ScheduleQuote, ScheduleRequest
from cms_pricing.engine.schedules import ScheduleSet, price_schedule
from cms_pricing.engine.wage_index import Wage
from cms_pricing.errors import NotFound, NotReady
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.rows import OppsIndicatorRow, OppsRateRow, WageIndexRow

Y2025 = years.load().of(2025, "the tests")  # the packaged CY 2025 constants

D = Decimal
DATASET = DatasetRef("opps", "OPPS-2025", date(2025, 1, 1), None, "0" * 64, None)
WI_DATASET = DatasetRef("wage_index", "WI-2025", date(2025, 1, 1), None, "0" * 64, None)
CAP_NOTE = "Copayments capped at inpatient deductible of $1,632.00."
NYC = Wage(D("1.2961"), "cbsa", "35614", "New York", "geographic", WI_DATASET)


def _row(code: str, si: str, apc: str = "", *numbers: str | None, note: str = "") -> OppsRateRow:
    """A row from its numbers in Addendum B's order: weight, rate, national copayment,
    minimum copayment, IRA percentage, adjusted copayment (missing ones are None)."""
    values = [None if v is None else D(v) for v in (*numbers, *[None] * (6 - len(numbers)))]
    weight, rate, national, minimum, ira, adjusted = values
    return OppsRateRow(
        code, "", "", si, apc, weight, rate, national, minimum, ira, adjusted, "", note
    )


ROWS = [
    _row("45378", "T", "5311", "10.2245", "911.71", None, "182.35"),
    _row(
        "0234T",
        "J1",
        "5193",
        "127.1806",
        "11340.57",
        None,
        "2268.12",
        None,
        "1632.00",
        note=CAP_NOTE,
    ),
    _row("69930", "J1", "5166", "356.7139", "31807.82", "6942.79", "6361.57", None, "1632.00"),
    _row("0933T", "J1", "5191", "36.0710", "3216.41", "863.75", "643.29"),
    _row("J9271", "K", "1490", None, "58.216", None, "11.65", "20.000", "11.65"),
    _row("P9010", "R", "9510", "2.5246", "225.12", None, "45.03"),
    _row("C1716", "U", "2645", "9.7380", "868.33", None, "173.67"),
    _row("0106T", "Q1", "5732", "0.4402", "39.25", None, "7.85"),
    _row("G0104", "T", "5311", "10.2245", "911.71", "0.00", "0.00"),
    _row("50600", "C", "", "116.7583", "10411.22", None, "2082.24"),
    _row("G0129", "P"),
    _row("99213", "B"),
    _row("A0425", "A"),
    _row("0001U", "A"),
    _row("C1713", "N"),
    _row("C1748", "H"),
    _row("36415", "Q4"),
]
INDICATORS = [OppsIndicatorRow("T", "Procedure or Service, Multiple Procedure Reduction Applies",
                               "Paid under OPPS; separate APC payment.")]  # fmt: skip
TABLE = opps.build({"opps_rates": ROWS, "opps_indicators": INDICATORS})


def _c(quote: ScheduleQuote) -> dict[str, Any]:
    return dict(quote.components)


def _wage(index: str) -> Wage:
    return Wage.given(D(index))


def test_national_rate_and_components() -> None:
    """45378 (T): $911.71 = 10.2245 x 89.169; copayment the minimum $182.35; MPD flag."""
    quote = opps.price(TABLE, DATASET, "45378", None, Y2025)
    parts = _c(quote)
    assert (quote.payable, quote.amount, quote.copayment) == (True, D("911.71"), D("182.35"))
    assert parts["weight_x_conversion_factor"] == D("10.2245") * D("89.169")
    assert parts["status_meaning"].startswith("Procedure or Service, Multiple")
    assert parts["multiple_procedure_discount"] is True
    assert parts["wage_adjusted"] is False
    assert quote.geography == opps.NATIONAL
    assert (quote.cost_sharing.deductible_applies, quote.cost_sharing.coinsurance_rate) == (
        True, D("0.20"))  # fmt: skip


def test_component_names_in_order() -> None:
    """The arithmetic is shown in a fixed order."""
    names = [name for name, _ in opps.price(TABLE, DATASET, "45378", NYC, Y2025).components]
    assert names == [
        "status_indicator", "status_meaning", "indicator_note", "apc", "relative_weight",
        "conversion_factor", "weight_x_conversion_factor", "national_rate", "wage_index",
        "labor_share", "wage_adjusted", "unrounded_amount", "national_copayment",
        "minimum_copayment", "adjusted_beneficiary_copayment", "inpatient_deductible_cap",
        "copayment_basis", "multiple_procedure_discount",
    ]  # fmt: skip


def test_wage_adjusted_at_new_york() -> None:
    """45378 at CBSA 35614: 911.71 x (0.60 x 1.2961 + 0.40) = 1073.6843986 -> 1073.68;
    copayment 20% of 1073.6843986 = 214.7368797 -> 214.74 (rounded up as CMS's minimum)."""
    quote = opps.price(TABLE, DATASET, "45378", NYC, Y2025)
    assert quote.amount == D("1073.68")
    assert _c(quote)["unrounded_amount"] == D("1073.6843986")
    assert quote.copayment == D("214.74")
    assert dict(quote.geography or ())["cbsa"] == "35614"


def test_wage_index_one_is_the_national_rate() -> None:
    """A wage index of 1 gives the national rate and the national copayment exactly."""
    for code in ("45378", "69930", "0933T", "P9010", "0106T"):
        national = opps.price(TABLE, DATASET, code, None, Y2025)
        at_one = opps.price(TABLE, DATASET, code, _wage("1"), Y2025)
        assert (at_one.amount, at_one.copayment) == (national.amount, national.copayment), code


def test_national_copayment_scales_with_the_wage() -> None:
    """0933T: national copay 863.75 of 3216.41; at 0.8: rate 3216.41 x 0.88 = 2830.4408;
    copay 863.75 x 2830.4408 / 3216.41 = 760.10 (half-up)."""
    quote = opps.price(TABLE, DATASET, "0933T", _wage("0.8"), Y2025)
    assert quote.amount == D("2830.44")
    expected = (D("863.75") * D("2830.4408") / D("3216.41")).quantize(D("0.01"), ROUND_HALF_UP)
    assert quote.copayment == expected == D("760.10")


def test_copayment_capped_at_the_inpatient_deductible() -> None:
    """0234T: minimum 2268.12 > 1632.00: the file's adjusted copayment 1632.00; wage-adjusted
    11340.57 x (0.6 x 0.7579 + 0.4) = 9693.2388018 -> copay 20% = 1938.65 -> capped 1632.00."""
    national = opps.price(TABLE, DATASET, "0234T", None, Y2025)
    assert national.copayment == D("1632.00")
    assert TABLE.inpatient_deductible == D("1632.00")
    rural = opps.price(TABLE, DATASET, "0234T", _wage("0.7579"), Y2025)
    assert rural.amount == D("9693.24")
    assert rural.copayment == D("1632.00")
    assert "capped" in _c(rural)["copayment_basis"]


def test_drugs_are_not_wage_adjusted() -> None:
    """J9271 (K): $58.216 -> 58.22 at any wage index; IRA copayment 11.65; coinsurance 20%."""
    quote = opps.price(TABLE, DATASET, "J9271", NYC, Y2025)
    assert (quote.amount, quote.copayment) == (D("58.22"), D("11.65"))
    assert _c(quote)["wage_adjusted"] is False
    assert quote.cost_sharing.coinsurance_rate == D("0.20")


def test_blood_and_brachytherapy_are_wage_adjusted() -> None:
    """R and U are APC payments the final rule's steps adjust: P9010 at NYC:
    225.12 x 1.17766 = 265.1148192 -> 265.11; C1716 868.33 x 1.17766 = 1022.5995... -> 1022.60."""
    assert opps.price(TABLE, DATASET, "P9010", NYC, Y2025).amount == D("265.11")
    assert opps.price(TABLE, DATASET, "C1716", NYC, Y2025).amount == D("1022.60")


def test_zero_copayment_preventive() -> None:
    """G0104: national copayment $0.00 stays $0.00 with a wage index; no deductible."""
    quote = opps.price(TABLE, DATASET, "G0104", NYC, Y2025)
    assert quote.copayment == D("0.00")
    assert quote.cost_sharing.deductible_applies is False


def test_indicator_notes() -> None:
    """Q1 and J1 say in words what the indicator means on a claim."""
    assert "packaged" in _c(opps.price(TABLE, DATASET, "0106T", None, Y2025))["indicator_note"]
    assert "comprehensive" in _c(opps.price(TABLE, DATASET, "69930", None, Y2025))["indicator_note"]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("50600", "inpatient only"),
        ("G0129", "per diem"),
        ("99213", "not recognized"),
        ("A0425", "ambulance fee schedule"),
        ("0001U", "Clinical Laboratory Fee Schedule"),
        ("C1713", "packaged"),
        ("C1748", "charges reduced to cost"),
        ("36415", "Clinical Laboratory Fee Schedule"),
    ],
)
def test_not_paid_under_opps(code: str, words: str) -> None:
    """Indicators not paid under OPPS: payable False, amount None, the reason in words."""
    quote = opps.price(TABLE, DATASET, code, NYC, Y2025)
    assert (quote.payable, quote.amount, quote.copayment) == (False, None, None)
    assert quote.reason is not None and words in quote.reason


def test_unknown_code() -> None:
    """A code not in Addendum B is NotFound on the code field."""
    with pytest.raises(NotFound) as caught:
        opps.price(TABLE, DATASET, "XXXXX", None, Y2025)
    assert caught.value.details["field"] == "code"


# -- the real CY 2025 final rule Addendum B ------------------------------------------------


@pytest.fixture(scope="module")
def real(cms_data: Path) -> tuple[opps.OppsTable, wage_index.WageIndexTable]:
    """Addendum B and D1 and the 2025 wage index table, parsed by the registry."""

    def rows(kind: str, path: Path) -> list[Any]:
        return parse_file(kind, path.name, path.read_bytes())

    base = cms_data / "2025" / "opps-cy2025-final-rule"
    table = opps.build({
        "opps_rates": rows("opps_rates", base / "2025 NFRM Addendum B.11122024.txt"),
        "opps_indicators": rows("opps_indicators", base / "2025 NFRM Addendum D1.10242024.txt"),
    })  # fmt: skip
    wi = cms_data / "2025" / "opps-wage-index-2025" / "cbsa-wage-index-2025.csv"
    return table, wage_index.build({"wage_index": rows("wage_index", wi)})


@pytest.mark.slow
def test_every_paid_row_prices_at_the_file_rate(
    real: tuple[opps.OppsTable, wage_index.WageIndexTable],
) -> None:
    """Every separately paid Addendum B row with a rate: the national price is the file's rate
    to the cent, weight x 89.169 equals it, and the copayment is the file's (capped) one."""
    table, _ = real
    priced = 0
    for code, row in table.rows.items():
        quote = opps.price(table, DATASET, code, None, Y2025)
        if row.status_indicator not in opps.PAID or row.payment_rate is None:
            assert quote.payable is False and quote.amount is None, code
            continue
        priced += 1
        assert quote.amount == row.payment_rate.quantize(D("0.01"), ROUND_HALF_UP), code
        if row.relative_weight is not None:
            product = row.relative_weight * Y2025.opps_conversion_factor
            assert product.quantize(D("0.01"), ROUND_HALF_UP) == row.payment_rate, code
        expected = row.adjusted_copay or row.national_copay or row.minimum_copay
        if expected is not None:
            assert quote.copayment == min(expected, D("1632.00")), code
    assert priced > 6000


@pytest.mark.slow
def test_minimum_copayment_is_twenty_percent_rounded_up(
    real: tuple[opps.OppsTable, wage_index.WageIndexTable],
) -> None:
    """Addendum B's minimum copayment is 20% of the rate rounded up to the cent on every
    non-drug row (except the $0.00 preventive rows): wage index 1 reproduces it."""
    table, _ = real
    for code, row in table.rows.items():
        if row.status_indicator not in opps.PAID - opps.NOT_WAGE_ADJUSTED:
            continue
        if row.payment_rate is None or row.minimum_copay in (None, D("0.00")):
            continue
        ceiling = (row.payment_rate * D("0.2")).quantize(D("0.01"), ROUND_CEILING)
        assert row.minimum_copay == ceiling, code
        at_one = opps.price(table, DATASET, code, Wage.given(D("1")), Y2025)
        assert at_one.amount == row.payment_rate, code


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cbsa", "index", "amount"),
    [
        ("35614", "1.2961", "1073.68"),  # New York: 911.71 x 1.17766 = 1073.6843986
        ("01", "0.7579", "779.28"),  # rural Alabama: 911.71 x 0.85474 = 779.2750054
        ("09", "1.2958", "1073.52"),  # DC, imputed floor: 911.71 x 1.17748 = 1073.5202908
        ("40", "0.3319", "546.24"),  # Puerto Rico, imputed floor: 911.71 x 0.59914 = 546.2419294
    ],
)
def test_wage_adjusted_45378_at_real_cbsas(
    real: tuple[opps.OppsTable, wage_index.WageIndexTable], cbsa: str, index: str, amount: str
) -> None:
    """45378 at real CBSAs, with the index each one uses."""
    table, wages = real
    wage = wage_index.lookup(wages, WI_DATASET, cbsa)
    assert wage.index == D(index)
    assert opps.price(table, DATASET, "45378", wage, Y2025).amount == D(amount)


@pytest.mark.slow
def test_real_not_paid(real: tuple[opps.OppsTable, wage_index.WageIndexTable]) -> None:
    """50600 (C) lists a rate but is inpatient only; G0129 (P) has no per-code rate."""
    table, _ = real
    assert opps.price(table, DATASET, "50600", None, Y2025).payable is False
    assert opps.price(table, DATASET, "G0129", None, Y2025).payable is False
    assert "Comprehensive" in dict(opps.price(table, DATASET, "0234T", None, Y2025).components)[
        "status_meaning"]  # fmt: skip


# -- price_schedule: which wage index an OPPS or ASC request uses -----------------------------


def _set(with_wage: bool) -> Any:
    """A stand-in snapshot holding only the schedule datasets (all ``price_schedule`` reads)."""
    opps_meta = ScheduleMeta("opps", "OPPS-2025", date(2025, 1, 1), None, "a" * 64, ())
    data = [ScheduleData(opps_meta, {"opps_rates": ROWS, "opps_indicators": INDICATORS})]
    if with_wage:
        wi = WageIndexRow("35614", date(2025, 1, 1), D("1.2961"), D("1.2657"), D("0"), "NY")
        meta = ScheduleMeta("wage_index", "WI-2025", date(2025, 1, 1), None, "b" * 64, ())
        data.append(ScheduleData(meta, {"wage_index": [wi]}))
    return SimpleNamespace(schedules=ScheduleSet.build(data), constants=years.load())


def test_price_schedule_wage_sources() -> None:
    """wage_index given -> used as given; cbsa -> looked up in the wage index dataset in force;
    neither -> national; a cbsa with no wage index dataset loaded -> NotReady."""
    snapshot = _set(with_wage=True)
    ask = ScheduleRequest("opps", "45378", on=date(2025, 6, 1))
    assert price_schedule(snapshot, ask).amount == D("911.71")
    by_cbsa = price_schedule(snapshot, replace(ask, cbsa="35614"))
    assert by_cbsa.amount == D("1073.68")
    assert dict(by_cbsa.geography or ())["dataset"] == "WI-2025"
    given = price_schedule(snapshot, replace(ask, wage_index=D("1.2961"), cbsa="35614"))
    assert dict(given.geography or ())["column"] == "given"
    with pytest.raises(NotReady):
        price_schedule(_set(with_wage=False), replace(ask, cbsa="35614"))
