"""ASC engine: weight x 54.895, wage adjustment on 50%, device-intensive J8, drugs, packaging.

Synthetic rows copy real January 2025 AA/BB/FF rows (45378, 0200T, 0101T, J9271, ...); the
slow tests price every row of the real addenda.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.engine import asc, wage_index
from cms_pricing.engine.quote import DatasetRef, ScheduleQuote
from cms_pricing.engine.wage_index import Wage
from cms_pricing.errors import NotFound
from cms_pricing.reference import years
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.rows import AscDeviceRow, AscIndicatorRow, AscRateRow

Y2025 = years.load().of(2025, "the tests")  # the packaged CY 2025 constants

D = Decimal
DATASET = DatasetRef("asc", "ASC-2025Q1", date(2025, 1, 1), None, "0" * 64, None)
WI_DATASET = DatasetRef("wage_index", "WI-2025", date(2025, 1, 1), None, "0" * 64, None)
NYC = Wage(D("1.2961"), "cbsa", "35614", "New York", "geographic", WI_DATASET)


def _aa(code: str, pi: str, weight: str | None, rate: str | None, mpd: bool = True) -> AscRateRow:
    return AscRateRow("AA", code, "", "", mpd, pi, None if weight is None else D(weight),
                      None if rate is None else D(rate), "", None)  # fmt: skip


def _bb(code: str, pi: str, weight: str | None, rate: str | None, copay: str | None = None
        ) -> AscRateRow:  # fmt: skip
    return AscRateRow(
        "BB",
        code,
        "",
        "",
        None,
        pi,
        None if weight is None else D(weight),
        None if rate is None else D(rate),
        "",
        None if copay is None else D(copay),
    )


AA = [
    _aa("45378", "A2", "8.9164", "489.47"),
    _aa("0200T", "J8", "83.6109", "4589.82"),
    _aa("0201T", "G2", "63.9555", "3510.84"),
    _aa("0101T", "R2", "2.3486", "128.93"),
    _aa("10040", "P3", None, "129.62"),
    _aa("0214T", "N1", None, None, mpd=False),
]
BB = [
    _bb("J9271", "K2", None, "58.216", "11.65"),
    _bb("A9527", "H2", None, "208.58"),
    _bb("0331T", "Z2", "12.983", "712.70"),
    _bb("C1713", "J7", None, None),
]
FF = [
    AscDeviceRow("0200T", "J8", "5114", D("21.29"), D("6539.97"), D("35.62"), D("2329.54")),
    AscDeviceRow("0201T", "G2", "5114", D("21.29"), D("6539.97"), D("27.94"), D("980.93")),
]
DD1 = [AscIndicatorRow("J8", "Device-intensive procedure; paid at adjusted rate.")]
TABLE = asc.build({"asc_aa": AA, "asc_bb": BB, "asc_indicators": DD1, "asc_devices": FF})


def _c(quote: ScheduleQuote) -> dict[str, Any]:
    return dict(quote.components)


def test_national_rate_is_weight_times_cf() -> None:
    """45378 (A2): 8.9164 x 54.895 = 489.4657... -> $489.47, the file's rate; MPD flag."""
    quote = asc.price(TABLE, DATASET, "45378", None, Y2025)
    parts = _c(quote)
    assert quote.amount == D("489.47")
    assert parts["weight_x_conversion_factor"] == D("8.9164") * D("54.895")
    assert parts["multiple_procedure_discount"] is True
    assert quote.cost_sharing.coinsurance_rate == D("0.20")


def test_wage_adjusted_on_half() -> None:
    """45378 at NYC: 489.47 x (0.50 x 1.2961 + 0.50) = 561.9360335 -> 561.94."""
    quote = asc.price(TABLE, DATASET, "45378", NYC, Y2025)
    assert quote.amount == D("561.94")
    assert _c(quote)["labor_share"] == D("0.50")


def test_device_intensive_adjusts_only_the_non_device_portion() -> None:
    """0200T (J8): 2329.54 + (4589.82 - 2329.54) x 1.14805 = 4924.4544540 -> 4924.45."""
    quote = asc.price(TABLE, DATASET, "0200T", NYC, Y2025)
    assert quote.amount == D("4924.45")
    assert _c(quote)["device_portion"] == D("2329.54")
    assert _c(quote)["indicator_meaning"] == "Device-intensive procedure; paid at adjusted rate."


def test_device_portion_only_for_j8() -> None:
    """0201T (G2) has an FF device portion but is not device-intensive: whole rate adjusted."""
    quote = asc.price(TABLE, DATASET, "0201T", NYC, Y2025)
    assert _c(quote)["device_portion"] is None
    assert quote.amount == (D("3510.84") * D("1.14805")).quantize(D("0.01"), ROUND_HALF_UP)


def test_office_based_and_radiology_are_adjusted() -> None:
    """P3 (no weight: the file's rate) and Z2 are wage-adjusted like other ASC rates."""
    assert asc.price(TABLE, DATASET, "10040", NYC, Y2025).amount == D("148.81")  # 129.62 x 1.14805
    assert asc.price(TABLE, DATASET, "0331T", NYC, Y2025).amount == D("818.22")  # 712.70 x 1.14805


def test_drugs_and_brachytherapy_are_not_adjusted() -> None:
    """K2 J9271: $58.216 -> 58.22, IRA copayment 11.65; H2 A9527: 208.58 at any index."""
    drug = asc.price(TABLE, DATASET, "J9271", NYC, Y2025)
    assert (drug.amount, drug.copayment) == (D("58.22"), D("11.65"))
    assert asc.price(TABLE, DATASET, "A9527", NYC, Y2025).amount == D("208.58")


def test_wage_index_one_is_the_national_rate() -> None:
    """A wage index of 1 gives the national rate, J8 included."""
    for code in ("45378", "0200T", "0101T", "10040"):
        assert (asc.price(TABLE, DATASET, code, Wage.given(D("1")), Y2025).amount
                == asc.price(TABLE, DATASET, code, None, Y2025).amount), code  # fmt: skip


@pytest.mark.parametrize(("code", "words"), [("0214T", "packaged"), ("C1713", "contractor")])
def test_not_paid(code: str, words: str) -> None:
    """Packaged and contractor-priced indicators: payable False, amount None, a reason."""
    quote = asc.price(TABLE, DATASET, code, NYC, Y2025)
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason is not None and words in quote.reason


def test_unknown_code() -> None:
    """A code in neither AA nor BB is NotFound on the code field."""
    with pytest.raises(NotFound) as caught:
        asc.price(TABLE, DATASET, "XXXXX", None, Y2025)
    assert caught.value.details["field"] == "code"


# -- the real January 2025 addenda -----------------------------------------------------------


@pytest.fixture(scope="module")
def real(cms_data: Path) -> tuple[asc.AscTable, wage_index.WageIndexTable]:
    """AA, BB, DD1, FF and the wage index table, parsed by the registry."""

    def rows(kind: str, path: Path) -> list[Any]:
        return parse_file(kind, path.name, path.read_bytes())

    base = cms_data / "2025" / "asc-2025q1"
    name = "508-Version-Jan-2025-ASC-{}.csv".format
    table = asc.build({
        "asc_aa": rows("asc_aa", base / name("AA")),
        "asc_bb": rows("asc_bb", base / name("BB")),
        "asc_indicators": rows("asc_indicators", base / name("DD1")),
        "asc_devices": rows("asc_devices", base / name("FF")),
    })  # fmt: skip
    wi = cms_data / "2025" / "opps-wage-index-2025" / "cbsa-wage-index-2025.csv"
    return table, wage_index.build({"wage_index": rows("wage_index", wi)})


@pytest.mark.slow
def test_every_paid_row_prices_at_the_file_rate(
    real: tuple[asc.AscTable, wage_index.WageIndexTable],
) -> None:
    """Every paid AA/BB row: the national price is the file's rate to the cent, and weight x
    54.895 equals the rate on every row with a weight."""
    table, _ = real
    priced = weighted = 0
    for code, row in table.rows.items():
        quote = asc.price(table, DATASET, code, None, Y2025)
        if row.payment_indicator not in asc.PAID or row.rate is None:
            assert quote.payable is False and quote.amount is None, code
            continue
        priced += 1
        assert quote.amount == row.rate.quantize(D("0.01"), ROUND_HALF_UP), code
        if row.weight is not None:
            weighted += 1
            product = row.weight * Y2025.asc_conversion_factor
            assert product.quantize(D("0.01"), ROUND_HALF_UP) == row.rate, code
        assert quote.copayment == row.adjusted_copay
    assert priced > 4500 and weighted > 3600


@pytest.mark.slow
def test_real_wage_adjustment(real: tuple[asc.AscTable, wage_index.WageIndexTable]) -> None:
    """45378 at New York (1.2961) and Puerto Rico's pre-floor 0.2456:
    489.47 x 0.6228 = 304.8419... -> 304.84; 0200T J8 at NYC 4924.45 as worked above."""
    table, wages = real
    pr = wage_index.lookup(wages, WI_DATASET, "40", "asc")
    assert asc.price(table, DATASET, "45378", pr, Y2025).amount == D("304.84")
    nyc = wage_index.lookup(wages, WI_DATASET, "35614", "asc")
    assert asc.price(table, DATASET, "0200T", nyc, Y2025).amount == D("4924.45")
