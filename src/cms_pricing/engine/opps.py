"""Hospital outpatient (OPPS) pricing of one code: ``price(table, dataset, code, wage, year)``.

Contract (CY 2025 OPPS/ASC final rule, CMS-1809-FC, 89 FR 93912; its Addenda B and D1):

- The national unadjusted payment rate is Addendum B's; every row with a relative weight has
  rate = weight x the OPPS conversion factor of the dataset's year (**89.169** in CY 2025,
  hospitals meeting the Hospital OQR requirements), rounded half-up to the cent: measured on
  all 5,975 weighted rows of the final rule's Addendum B. Components show both. The conversion
  factor and labor share are the year constants (``engine/constants.py``), passed in.
- Status indicator (Addendum D1; a short fallback text where D1 has no row): a separately
  payable indicator with a rate (J1 J2 Q1 Q2 Q3 R S T U V; drugs G K K1) answers that rate and
  says in ``indicator_note`` what the indicator means on a claim (J1: the comprehensive APC
  packages the claim's other services; Q1-Q3: packaged or composite with the services named,
  paid alone otherwise; T: multiple procedure discount). Every other indicator answers
  ``payable=False``, ``amount=None`` and the reason: C inpatient only (even where a rate is
  listed, e.g. 50600), N packaged, Q4 packaged or paid under the CLFS, A paid under another
  fee schedule (named), B, D, E1, E2, F, L, M, Y, H (pass-through devices: charges reduced to
  cost, no rate), H1, P (per diem APC per day of partial hospitalization / intensive
  outpatient, not per code: Addendum B lists no rate).
- Wage adjustment (final rule section II.H, "Calculation of an Adjusted Medicare Payment from
  the National Unadjusted Medicare Payment"; Claims Processing Manual, Pub. 100-04, ch. 4
  §10): the labor-related share is 60%: amount = rate x (0.60 x WI + 0.40), rounded half-up to
  the cent once. The rule's steps apply to status indicators J1, J2, P, Q1, Q2, Q3, Q4, R, S,
  T, U and V, so blood products (R) and brachytherapy sources (U) are wage-adjusted like any
  APC. Drugs and biologicals (G, K, K1) are paid at their national rate (ASP based) and
  pass-through devices (H) at cost: never wage-adjusted.
- Copayment (final rule section II.I; ch. 4 §10): without a wage index, Addendum B's
  "Adjusted Beneficiary Copayment" where written (capped at the inpatient deductible, or
  IRA-adjusted), else the national unadjusted copayment, else (``.``) the minimum unadjusted
  copayment (20% of the rate; CMS rounds it *up* to the cent: measured on every row). With a
  wage index: national copayment / national rate x the wage-adjusted rate (half-up), or where
  there is none 20% of the wage-adjusted rate (rounded up as the file's minimum). No copayment
  exceeds the inpatient deductible (CY 2025: $1,632.00, read from Addendum B's note column).
  A national copayment of $0.00 (preventive services) stays $0.00 and the deductible does not
  apply. Cost sharing otherwise: deductible applies, coinsurance 0.20 (the IRA percentage for
  inflation-adjusted drugs).

Pure: plain data and dict lookups, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.constants import YearConstants
from cms_pricing.engine.facility import labor_adjusted, typed_rows, weighted
from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.engine.wage_index import Wage
from cms_pricing.errors import NotFound, echo
from cms_pricing.reference.rows import OppsIndicatorRow, OppsRateRow

SCHEDULE = "opps"
KIND_RATES = "opps_rates"
KIND_INDICATORS = "opps_indicators"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
COINSURANCE = Decimal("0.20")
DEFAULT_INPATIENT_DEDUCTIBLE = Decimal("1632.00")  # CY 2025, when no note names it
NATIONAL = (("area", "national"), ("note", "national unadjusted rate: no wage index applied"))
_DEDUCTIBLE = re.compile(r"inpatient deductible of \$([\d,]+\.\d\d)")

PAID = frozenset({"J1", "J2", "Q1", "Q2", "Q3", "R", "S", "T", "U", "V", "G", "K", "K1"})
NOT_WAGE_ADJUSTED = frozenset({"G", "K", "K1", "H"})
MEANINGS: dict[str, str] = {
    "A": "paid under a fee schedule or payment system other than OPPS",
    "B": "not recognized by OPPS on an outpatient hospital Part B bill type (12x, 13x)",
    "C": "inpatient procedure: not paid under OPPS",
    "D": "discontinued code",
    "E1": "not paid by Medicare on outpatient claims (not covered, excluded)",
    "E2": "not paid by Medicare on outpatient claims (no pricing information)",
    "F": "corneal tissue acquisition; certain CRNA services: paid at reasonable cost",
    "G": "pass-through drug or biological: separate APC payment",
    "H": "pass-through device category: separate cost-based payment",
    "H1": "non-opioid medical device for post-surgical pain relief",
    "J1": "paid through a comprehensive APC",
    "J2": "may be paid through a comprehensive APC",
    "K": "non-pass-through drug or biological: separate APC payment",
    "K1": "non-opioid drug or biological for post-surgical pain relief: separate APC payment",
    "L": "vaccine or monoclonal antibody: paid at reasonable cost",
    "M": "not billable to the MAC",
    "N": "packaged into APC rates: no separate payment",
    "P": "partial hospitalization or intensive outpatient program: per diem APC payment",
    "Q1": "STV-packaged code",
    "Q2": "T-packaged code",
    "Q3": "may be paid through a composite APC",
    "Q4": "conditionally packaged laboratory test",
    "R": "blood or blood product: separate APC payment",
    "S": "procedure or service, not discounted when multiple: separate APC payment",
    "T": "procedure or service, multiple procedure reduction applies: separate APC payment",
    "U": "brachytherapy source: separate APC payment",
    "V": "clinic or emergency department visit: separate APC payment",
    "Y": "non-implantable durable medical equipment: billed to the DME MAC",
}
INDICATOR_NOTES: dict[str, str] = {
    "J1": "comprehensive APC: this payment packages every other covered Part B service on the "
    "claim, except the exclusions of Addendum J",
    "J2": "comprehensive APC when billed in the combinations OPPS names; packaged when on a "
    "claim with a J1 service; otherwise paid alone at this rate or packaged",
    "Q1": "packaged when billed on a claim with a service of status indicator S, T or V "
    "(or paid through a composite APC); paid alone at this rate otherwise",
    "Q2": "packaged when billed on a claim with a service of status indicator T; paid alone "
    "at this rate otherwise",
    "Q3": "paid through a composite APC (Addendum M) when billed with the combinations it "
    "names; paid alone at this rate or packaged otherwise",
    "T": "multiple procedure reduction: paid at 50% when billed with a T service of a higher rate",
    "S": "paid separately; never discounted when multiple",
    "V": "paid separately per visit",
    "R": "paid separately per unit of blood product",
    "U": "paid separately per brachytherapy source unit",
    "G": "pass-through drug: paid separately per dosage unit (not wage-adjusted)",
    "K": "drug or biological paid separately per dosage unit (not wage-adjusted)",
    "K1": "non-opioid drug paid separately per dosage unit, subject to the CAA 2023 section "
    "4135 limitation (not wage-adjusted)",
}
NOT_PAID_REASONS: dict[str, str] = {
    "B": "status indicator B: not recognized by OPPS on an outpatient hospital Part B bill "
    "type (12x, 13x); another code may be",
    "C": "status indicator C: inpatient only; not paid under OPPS (admit the patient and bill "
    "as inpatient)",
    "D": "status indicator D: discontinued code; not paid under OPPS or any other Medicare "
    "payment system",
    "E1": "status indicator E1: not paid by Medicare on outpatient claims (not covered, "
    "statutorily excluded, or not reasonable and necessary)",
    "E2": "status indicator E2: not paid by Medicare on outpatient claims (no pricing "
    "information or claims data)",
    "F": "status indicator F: not paid under OPPS; paid at reasonable cost",
    "H": "status indicator H: pass-through device category; separate payment at the "
    "hospital's charges reduced to cost, not a fee schedule rate",
    "H1": "status indicator H1: non-opioid device for post-surgical pain relief; paid at the "
    "hospital's charges reduced to cost (CAA 2023 section 4135), not a fee schedule rate",
    "L": "status indicator L: not paid under OPPS; vaccine or antibody paid at reasonable "
    "cost (no deductible or coinsurance)",
    "M": "status indicator M: not billable to the MAC; not paid under OPPS",
    "N": "status indicator N: packaged into the APC payment of other services; no separate payment",
    "P": "status indicator P: partial hospitalization / intensive outpatient program; paid by "
    "a per diem APC per day of service (Addendum A), not per code",
    "Q4": "status indicator Q4: conditionally packaged laboratory test; packaged when billed "
    "with a J1, J2, S, T, V, Q1, Q2 or Q3 service, otherwise paid under the Clinical "
    "Laboratory Fee Schedule",
    "Y": "status indicator Y: not paid under OPPS; non-implantable DME billed to the DME MAC "
    "under the DMEPOS fee schedule",
}
_OTHER_SCHEDULES = (
    "ambulance, clinical laboratory (CLFS), prosthetics and orthotics (DMEPOS), therapy and "
    "mammography (MPFS)"
)


@dataclass(frozen=True, slots=True)
class OppsTable:
    """One OPPS dataset: Addendum B by HCPCS, D1 by indicator, the inpatient deductible cap."""

    rows: Mapping[str, OppsRateRow]
    indicators: Mapping[str, OppsIndicatorRow]
    inpatient_deductible: Decimal


def _deductible(rows: Sequence[OppsRateRow]) -> Decimal:
    for row in rows:
        found = _DEDUCTIBLE.search(row.note)
        if found:
            return Decimal(found.group(1).replace(",", ""))
    return DEFAULT_INPATIENT_DEDUCTIBLE


def build(rows: Mapping[str, Sequence[Any]]) -> OppsTable:
    """The table of a dataset's rows by kind (``opps_rates``, ``opps_indicators``)."""
    rates: list[OppsRateRow] = typed_rows(rows, KIND_RATES, OppsRateRow)
    indicators: list[OppsIndicatorRow] = typed_rows(rows, KIND_INDICATORS, OppsIndicatorRow)
    return OppsTable(
        rows=MappingProxyType({row.hcpcs: row for row in rates}),
        indicators=MappingProxyType({row.indicator: row for row in indicators}),
        inpatient_deductible=_deductible(rates),
    )


def meaning(table: OppsTable, indicator: str) -> str:
    """Addendum D1's words for ``indicator`` (item: payment status), else the fallback text."""
    row = table.indicators.get(indicator)
    if row is not None:
        return f"{row.item}: {row.payment_status}"
    return MEANINGS.get(indicator, f"status indicator {indicator!r} (not in Addendum D1)")


def _other_schedule(code: str) -> str:
    if code.startswith("A0"):
        return "the ambulance fee schedule"
    if code[:1] in {"L", "K"}:
        return "the DMEPOS fee schedule (prosthetics, orthotics)"
    if code[-1:] in {"U", "M"} or code.startswith("8"):
        return "the Clinical Laboratory Fee Schedule"
    if code.isdigit():
        return "the Medicare Physician Fee Schedule (therapy, mammography)"
    return f"another fee schedule ({_OTHER_SCHEDULES})"


def not_paid_reason(row: OppsRateRow) -> str:
    """Why ``row`` has no OPPS payment (module docstring)."""
    si = row.status_indicator
    if si == "A":
        return (
            "status indicator A: not paid under OPPS; paid by the MAC under "
            f"{_other_schedule(row.hcpcs)}"
        )
    if si in NOT_PAID_REASONS:
        return NOT_PAID_REASONS[si]
    if si in PAID:
        return f"status indicator {si}: Addendum B lists no payment rate for this code"
    return f"status indicator {si or '(blank)'}: no OPPS payment"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _minimum(rate: Decimal) -> Decimal:
    """20% of a rate, rounded up to the cent as Addendum B's minimum copayment column is."""
    return (rate * COINSURANCE).quantize(CENT, ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class _Copay:
    amount: Decimal
    basis: str


def _national_copay(row: OppsRateRow, rate: Decimal) -> _Copay:
    if row.adjusted_copay is not None:
        return _Copay(row.adjusted_copay, "adjusted beneficiary copayment (Addendum B)")
    if row.national_copay is not None:
        return _Copay(row.national_copay, "national unadjusted copayment")
    if row.minimum_copay is not None:
        return _Copay(row.minimum_copay, "minimum unadjusted copayment (20% of the rate)")
    return _Copay(_minimum(rate), "20% of the rate")


def _wage_copay(row: OppsRateRow, rate: Decimal, adjusted: Decimal) -> _Copay:
    if row.national_copay is not None and rate > ZERO:
        share = row.national_copay * adjusted / rate
        return _Copay(_cents(share), "national copayment / national rate x wage-adjusted rate")
    return _Copay(_minimum(adjusted), "20% of the wage-adjusted rate")


def _capped(copay: _Copay, cap: Decimal) -> _Copay:
    if copay.amount > cap:
        return _Copay(cap, f"{copay.basis}, capped at the inpatient deductible")
    return copay


def _cost_sharing(row: OppsRateRow) -> CostSharing:
    waived = row.national_copay == ZERO
    rate = COINSURANCE if row.ira_coinsurance_pct is None else row.ira_coinsurance_pct / HUNDRED
    return CostSharing(deductible_applies=not waived, coinsurance_rate=ZERO if waived else rate)


def _head(table: OppsTable, row: OppsRateRow, cf: Decimal) -> tuple[tuple[str, Any], ...]:
    si = row.status_indicator
    weight = row.relative_weight
    return (
        ("status_indicator", si),
        ("status_meaning", meaning(table, si)),
        ("indicator_note", INDICATOR_NOTES.get(si)),
        ("apc", row.apc or None),
        ("relative_weight", weight),
        *weighted(weight, cf, row.payment_rate),
    )


def _notes(row: OppsRateRow, cf: Decimal) -> tuple[str, ...]:
    notes = []
    weight, rate = row.relative_weight, row.payment_rate
    if weight is not None and rate is not None and _cents(weight * cf) != rate:
        notes.append("Addendum B's rate differs from relative weight x conversion factor.")
    if row.pass_through_expiration:
        notes.append(f"Pass-through expires: {row.pass_through_expiration}")
    if row.note:
        notes.append(f"Addendum B note: {row.note}")
    return tuple(notes)


def _not_payable(
    table: OppsTable, dataset: DatasetRef, row: OppsRateRow, wage: Wage | None, cf: Decimal
) -> ScheduleQuote:
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=row.hcpcs,
        modifiers=(),
        payable=False,
        reason=not_paid_reason(row),
        amount=None,
        dataset=dataset,
        components=_head(table, row, cf),
        cost_sharing=CostSharing(True, COINSURANCE),
        geography=wage.pairs() if wage else NATIONAL,
        notes=_notes(row, cf),
    )


def price(
    table: OppsTable, dataset: DatasetRef, code: str, wage: Wage | None, year: YearConstants
) -> ScheduleQuote:
    """The OPPS payment of ``code``: national, or wage-adjusted by ``wage``, with the
    conversion factor and labor share of ``year``, the dataset's (module docstring)."""
    cf, labor_share = year.opps_conversion_factor, year.opps_labor_share
    row = table.rows.get(code)
    if row is None:
        message = f"HCPCS code {echo(code)} is not in OPPS Addendum B {dataset.dataset_id}"
        raise NotFound(message, field="code", dataset=dataset.dataset_id)
    rate = row.payment_rate
    si = row.status_indicator
    if si not in PAID or rate is None:
        return _not_payable(table, dataset, row, wage, cf)
    adjusted = wage is not None and si not in NOT_WAGE_ADJUSTED
    unrounded = labor_adjusted(rate, wage.index, labor_share) if wage and adjusted else rate
    copay = _wage_copay(row, rate, unrounded) if adjusted else _national_copay(row, rate)
    copay = _capped(copay, table.inpatient_deductible)
    components = (
        *_head(table, row, cf),
        ("wage_index", wage.index if wage else None),
        ("labor_share", labor_share if adjusted else None),
        ("wage_adjusted", adjusted),
        ("unrounded_amount", unrounded),
        ("national_copayment", row.national_copay),
        ("minimum_copayment", row.minimum_copay),
        ("adjusted_beneficiary_copayment", row.adjusted_copay),
        ("inpatient_deductible_cap", table.inpatient_deductible),
        ("copayment_basis", copay.basis),
        ("multiple_procedure_discount", si == "T"),
    )
    notes = _notes(row, cf)
    if wage is not None and not adjusted:
        notes = ("Drugs, biologicals and pass-through items are not wage-adjusted.", *notes)
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=code,
        modifiers=(),
        payable=True,
        reason=None,
        amount=_cents(unrounded),
        dataset=dataset,
        components=components,
        cost_sharing=_cost_sharing(row),
        geography=wage.pairs() if wage else NATIONAL,
        notes=notes,
        copayment=copay.amount,
    )
