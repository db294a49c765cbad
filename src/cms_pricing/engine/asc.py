"""Ambulatory surgical center (ASC) pricing of a code: ``price(table, dataset, code, wage, year)``.

Contract (January 2025 ASC addenda AA, BB, DD1, FF; CY 2025 OPPS/ASC final rule, CMS-1809-FC,
89 FR 93912; Medicare Claims Processing Manual, Pub. 100-04, ch. 14 §40):

- The national rate is AA's (surgical procedures) or BB's (ancillary services). Where the row
  has a payment weight, rate = weight x the ASC conversion factor of the dataset's year
  (**54.895** in CY 2025, ASCs meeting the ASC quality reporting requirements; it and the
  labor share are the year constants, ``engine/constants.py``, passed in), rounded half-up
  to the cent: measured on
  all 3,650 weighted AA/BB rows. Rows without a weight carry the file's rate: P3/Z3 (office-
  based procedures and radiology paid at the MPFS non-facility PE amount), K2 (drugs: the
  OPPS rate), H2 (brachytherapy sources: the OPPS rate).
- Wage adjustment (ch. 14 §40; the labor-related share is 50%): amount = rate x (0.50 x WI +
  0.50), rounded half-up to the cent once, for every paid indicator except drugs (K2) and
  brachytherapy sources (H2), which are paid at their national rate: the ASC rates of K2 and
  H2 items are the OPPS rates and are not geographically adjusted. Office-based procedures
  and ancillary radiology (P2, P3, R2, Z2, Z3) are adjusted like the other ASC rates: ch. 14
  §40 has the MAC geographically adjust the ASC payment of covered surgical procedures and
  covered ancillary services, the separately paid drugs, brachytherapy sources and
  contractor-priced items excepted; the P3/Z3 national rate is the MPFS non-facility PE
  amount when lower, but the ASC pays it as an ASC rate, adjusted by the ASC wage index.
- Device-intensive procedures (J8) with an FF device portion adjust only the non-device part:
  device + (rate - device) x (0.50 x WI + 0.50). Other indicators' FF device portions are not
  used (only J8 is paid at the device-adjusted rate).
- ASC uses the pre-floor, pre-reclassification wage index (``engine.wage_index``: the
  geographic column).
- Packaged (N1, L1) and not-paid indicators (B5, D1, D5, F4, J7, K5, K7, L6, blank) answer
  ``payable=False``, ``amount=None`` and the reason; an unknown code is ``NotFound``.
- Cost sharing: deductible applies, coinsurance 20% of the amount; BB's IRA-adjusted
  copayment, where given, is the ``copayment``.

Pure: plain data and dict lookups, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.constants import YearConstants
from cms_pricing.engine.facility import labor_adjusted, typed_rows, weighted
from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.engine.wage_index import Wage
from cms_pricing.errors import NotFound, echo
from cms_pricing.reference.rows import AscDeviceRow, AscIndicatorRow, AscRateRow

SCHEDULE = "asc"
KINDS_RATES = ("asc_aa", "asc_bb")
KIND_INDICATORS = "asc_indicators"
KIND_DEVICES = "asc_devices"
CENT = Decimal("0.01")
ZERO = Decimal(0)
COST_SHARING = CostSharing(deductible_applies=True, coinsurance_rate=Decimal("0.20"))
NATIONAL = (("area", "national"), ("note", "national unadjusted rate: no wage index applied"))

PAID = frozenset({"A2", "D2", "G2", "J8", "P2", "P3", "R2", "Z2", "Z3", "K2", "H2"})
NOT_WAGE_ADJUSTED = frozenset({"K2", "H2"})
MEANINGS: dict[str, str] = {
    "A2": "surgical procedure on the ASC list in CY 2007; payment based on OPPS weight",
    "D2": "non office-based dental procedure added in CY 2024 or later",
    "G2": "non office-based surgical procedure added in CY 2008 or later",
    "H2": "brachytherapy source paid separately; payment based on the OPPS rate",
    "J8": "device-intensive procedure; paid at adjusted rate",
    "K2": "drug or biological paid separately; payment based on the OPPS rate",
    "N1": "packaged service or item; no separate payment",
    "P2": "office-based procedure; payment based on OPPS relative payment weight",
    "P3": "office-based procedure; payment based on MPFS non-facility PE RVUs",
    "R2": "office-based procedure; payment based on OPPS relative payment weight",
    "Z2": "radiology or diagnostic service; payment based on OPPS relative payment weight",
    "Z3": "radiology or diagnostic service; payment based on MPFS non-facility PE RVUs",
}
NOT_PAID_REASONS: dict[str, str] = {
    "N1": "payment indicator N1: packaged into the payment of the surgical procedure; no "
    "separate payment",
    "L1": "payment indicator L1: influenza or pneumococcal vaccine; packaged, no separate "
    "ASC payment",
    "B5": "payment indicator B5: an alternative code may be available; no payment made",
    "D1": "payment indicator D1: ancillary dental service; no separate payment",
    "D5": "payment indicator D5: deleted or discontinued code; no payment made",
    "F4": "payment indicator F4: corneal tissue acquisition or hepatitis B vaccine; paid at "
    "reasonable cost",
    "J7": "payment indicator J7: OPPS pass-through device; contractor-priced",
    "K5": "payment indicator K5: no pricing information or claims data; no payment made",
    "K7": "payment indicator K7: unclassified drug or biological; contractor-priced",
    "L6": "payment indicator L6: new technology intraocular lens or qualifying non-opioid "
    "device; special payment set outside the ASC rates",
}


@dataclass(frozen=True, slots=True)
class AscTable:
    """One ASC quarter: AA and BB by HCPCS, DD1 by indicator, FF by HCPCS."""

    rows: Mapping[str, AscRateRow]
    indicators: Mapping[str, AscIndicatorRow]
    devices: Mapping[str, AscDeviceRow]


def build(rows: Mapping[str, Sequence[Any]]) -> AscTable:
    """The table of a dataset's rows by kind (``asc_aa``, ``asc_bb``, ``asc_indicators``,
    ``asc_devices``)."""
    rates: dict[str, AscRateRow] = {}
    for kind in KINDS_RATES:
        for row in typed_rows(rows, kind, AscRateRow):
            rates[row.hcpcs] = row
    indicators = {r.indicator: r for r in typed_rows(rows, KIND_INDICATORS, AscIndicatorRow)}
    devices = {r.hcpcs: r for r in typed_rows(rows, KIND_DEVICES, AscDeviceRow)}
    return AscTable(
        MappingProxyType(rates), MappingProxyType(indicators), MappingProxyType(devices)
    )


def meaning(table: AscTable, indicator: str) -> str:
    """Addendum DD1's definition of ``indicator``, else the fallback text."""
    row = table.indicators.get(indicator)
    if row is not None:
        return row.definition
    return MEANINGS.get(indicator, f"payment indicator {indicator!r} (not in Addendum DD1)")


def not_paid_reason(row: AscRateRow) -> str:
    """Why ``row`` has no ASC payment."""
    pi = row.payment_indicator
    if pi in NOT_PAID_REASONS:
        return NOT_PAID_REASONS[pi]
    if pi in PAID:
        return f"payment indicator {pi}: Addendum {row.addendum} lists no rate for this code"
    return f"payment indicator {pi or '(blank)'}: no ASC payment"


def _device(table: AscTable, row: AscRateRow) -> Decimal | None:
    if row.payment_indicator != "J8":
        return None
    found = table.devices.get(row.hcpcs)
    if found is None or not found.device_portion:
        return None
    return found.device_portion


def _head(table: AscTable, row: AscRateRow, cf: Decimal) -> tuple[tuple[str, Any], ...]:
    weight = row.weight
    return (
        ("addendum", row.addendum),
        ("payment_indicator", row.payment_indicator),
        ("indicator_meaning", meaning(table, row.payment_indicator)),
        ("multiple_procedure_discount", row.multiple_procedure_discount),
        ("payment_weight", weight),
        *weighted(weight, cf, row.rate),
    )


def _notes(row: AscRateRow, cf: Decimal) -> tuple[str, ...]:
    notes = []
    weight, rate = row.weight, row.rate
    product = None if weight is None else weight * cf
    if product is not None and rate is not None and product.quantize(CENT, ROUND_HALF_UP) != rate:
        notes.append("The addendum's rate differs from payment weight x conversion factor.")
    if row.multiple_procedure_discount:
        notes.append("Multiple procedure discount: 50% when billed with a higher-paid procedure.")
    if row.pass_through_expiration:
        notes.append(f"Pass-through expires: {row.pass_through_expiration}")
    return tuple(notes)


def _adjust(rate: Decimal, device: Decimal | None, wage: Wage, share: Decimal) -> Decimal:
    if device is None:
        return labor_adjusted(rate, wage.index, share)
    return device + labor_adjusted(rate - device, wage.index, share)


def price(
    table: AscTable, dataset: DatasetRef, code: str, wage: Wage | None, year: YearConstants
) -> ScheduleQuote:
    """The ASC payment of ``code``: national, or wage-adjusted by ``wage``, with the
    conversion factor and labor share of ``year``, the dataset's (module docstring)."""
    cf, share = year.asc_conversion_factor, year.asc_labor_share
    row = table.rows.get(code)
    if row is None:
        message = f"HCPCS code {echo(code)} is not in ASC addenda AA/BB {dataset.dataset_id}"
        raise NotFound(message, field="code", dataset=dataset.dataset_id)
    rate = row.rate
    geography = wage.pairs() if wage else NATIONAL
    if row.payment_indicator not in PAID or rate is None:
        return ScheduleQuote(
            SCHEDULE, code, (), False, not_paid_reason(row), None, dataset,
            _head(table, row, cf), COST_SHARING, geography, _notes(row, cf),
        )  # fmt: skip
    adjusted = wage is not None and row.payment_indicator not in NOT_WAGE_ADJUSTED
    device = _device(table, row)
    unrounded = _adjust(rate, device, wage, share) if wage is not None and adjusted else rate
    components = (
        *_head(table, row, cf),
        ("device_portion", device),
        ("wage_index", wage.index if wage else None),
        ("labor_share", share if adjusted else None),
        ("wage_adjusted", adjusted),
        ("unrounded_amount", unrounded),
        ("ira_adjusted_copayment", row.adjusted_copay),
    )
    notes = _notes(row, cf)
    if wage is not None and not adjusted:
        notes = ("Drugs and brachytherapy sources are paid at the national rate.", *notes)
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=code,
        modifiers=(),
        payable=True,
        reason=None,
        amount=unrounded.quantize(CENT, ROUND_HALF_UP),
        dataset=dataset,
        components=components,
        cost_sharing=COST_SHARING,
        geography=geography,
        notes=notes,
        copayment=row.adjusted_copay,
    )
