"""The rules between a plan's facility lines (OPPS, ASC): ``apply(lines) -> lines``.

A plan's OPPS lines are one hospital outpatient claim and its ASC lines one ASC claim; each
line was first priced alone (``engine.schedules.price_schedule``). Then, in this order:

1. **Comprehensive APC** (Addendum D1, status indicator J1: "all covered Part B services on
   the claim are packaged with the primary J1 service ... except the Comprehensive APC
   payment policy exclusions found in the most recent Addendum J"): when a payable J1 line
   is present, the J1 line with the highest payment (ties: plan order) is paid once (one
   unit) and every other OPPS line is packaged into it: allowed 0.00, copayment 0.00. The
   exclusions of Addendum J and its complexity adjustments are not applied (a note says so).
2. **Conditional packaging** (Addendum D1): Q1 is packaged when the claim has an S, T or V
   line; Q2 when it has a T line; Q4 (laboratory) when it has a J1, J2, S, T, V, Q1, Q2 or
   Q3 line (otherwise a Q4 test is paid under the CLFS: the line is not paid here and says
   to price it as a clfs line). N lines are always packaged. A packaged line names the line
   it is packaged into: the highest-paid line of the indicators that package it.
3. **Multiple procedure discount, OPPS** (Addendum D1, T: "Multiple Procedure Reduction
   Applies"; Pub. 100-04 ch. 4 §10.5): every unit of every T line not packaged is one
   procedure; they are ranked by payment per unit (ties: plan order, then unit order); the
   highest is paid 100%, every other 50%. So a line of 2 units of a T code pays
   1 + 0.5 = 1.5 units when it ranks first, 0.5 + 0.5 = 1 unit otherwise (the I/OCE
   discount formula (1 + 0.5 (U - 1)) / U per unit of the first-ranked line).
4. **Multiple procedure discount, ASC** (Addenda AA "Subject to Multiple Procedure
   Discounting" = Y; Pub. 100-04 ch. 14 §40.5): the same ranking among the units of the
   ASC lines with the flag; 100% for the highest, 50% for the others.

Copayment (OPPS): the line's ``ScheduleQuote.copayment`` per unit x the same paid share of
units as the payment (1.5 for the example above), rounded half-up to the cent once;
packaged lines 0.00. ASC: 20% coinsurance of the allowed amount (``engine.costshare``),
or the file's fixed copayment the same way as OPPS where it gives one.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cms_pricing.engine.adjustments import Adjustment
from cms_pricing.engine.costshare import cent
from cms_pricing.engine.quote import ScheduleQuote

if TYPE_CHECKING:  # engine.plans imports this module
    from cms_pricing.engine.plans import PricedScheduleLine

OPPS = "opps"
ASC = "asc"
FACILITY = frozenset({OPPS, ASC})
HALF = Decimal("0.5")
ONE = Decimal(1)
ZERO = Decimal("0.00")
D1 = "OPPS Addendum D1 (CY 2025), status indicator"
OPPS_MPR = (
    "OPPS Addendum D1, status indicator T (multiple procedure reduction applies); "
    "Medicare Claims Processing Manual, Pub. 100-04, ch. 4 §10.5"
)
ASC_MPR = (
    "ASC Addendum AA, 'Subject to Multiple Procedure Discounting' = Y; Medicare Claims "
    "Processing Manual, Pub. 100-04, ch. 14 §40.5"
)
# Which indicators on the claim package a conditionally packaged line (Addendum D1).
PACKAGED_BY: dict[str, frozenset[str]] = {
    "Q1": frozenset({"S", "T", "V"}),
    "Q2": frozenset({"T"}),
    "Q4": frozenset({"J1", "J2", "S", "T", "V", "Q1", "Q2", "Q3"}),
}
ALWAYS_PACKAGED = {OPPS: "N", ASC: "N1"}


def component(line: PricedScheduleLine, name: str) -> Any:
    return dict(line.quote.components).get(name)


def quote_indicator(quote: ScheduleQuote) -> str:
    """The OPPS status indicator or ASC payment indicator of a facility quote."""
    name = "status_indicator" if quote.schedule == OPPS else "payment_indicator"
    return str(dict(quote.components).get(name) or "")


def indicator(line: PricedScheduleLine) -> str:
    """The OPPS status indicator or ASC payment indicator of the line."""
    return quote_indicator(line.quote)


def _payable(line: PricedScheduleLine) -> bool:
    return line.quote.payable and line.quote.amount is not None


def _rate(line: PricedScheduleLine) -> Decimal:
    assert line.quote.amount is not None
    return line.quote.amount


@dataclass(frozen=True, slots=True)
class _Slot:
    line: int
    unit: int
    amount: Decimal


def apply(lines: Mapping[int, PricedScheduleLine]) -> dict[int, PricedScheduleLine]:
    """The facility lines of a plan with the rules between them (module docstring).

    ``lines`` are the plan's lines of other schedules by index; the lines of schedules other
    than OPPS and ASC come back unchanged."""
    out = dict(lines)
    opps = [line for _, line in sorted(lines.items()) if line.schedule == OPPS]
    asc = [line for _, line in sorted(lines.items()) if line.schedule == ASC]
    if opps:
        out.update(_opps(opps))
    if asc:
        out.update(_asc(asc))
    return out


def _packaged(line: PricedScheduleLine, into: int | None, words: str, cite: str) -> Any:
    reason = f"packaged into line {into}" if into is not None else "packaged"
    adjustment = Adjustment(
        "opps_packaged" if line.schedule == OPPS else "asc_packaged", None, Decimal(0),
        f"{line.schedule.upper()} payment", f"{reason}: {words}", cite,
    )  # fmt: skip
    return replace(
        line, allowed=ZERO, paid=True, by_report=False, copayment=ZERO, packaged_into=into,
        adjustments=(*line.adjustments, adjustment),
    )  # fmt: skip


def _highest(lines: Sequence[PricedScheduleLine], wanted: frozenset[str]) -> int | None:
    found = [x for x in lines if _payable(x) and indicator(x) in wanted]
    if not found:
        return None
    return max(found, key=lambda x: (_rate(x), -x.index)).index


def _opps(lines: list[PricedScheduleLine]) -> dict[int, PricedScheduleLine]:
    out: dict[int, PricedScheduleLine] = {}
    primary = _highest(lines, frozenset({"J1"}))
    present = {indicator(x) for x in lines if _payable(x) or indicator(x) == "Q4"}
    for line in lines:
        si = indicator(line)
        if primary is not None and line.index != primary and (_payable(line) or si in ("N", "Q4")):
            out[line.index] = _packaged(
                line, primary,
                f"the comprehensive APC of line {primary} (status J1) packages every other "
                "service of the claim; the exclusions of Addendum J are not applied",
                f"{D1} J1",
            )  # fmt: skip
        elif si == "N":
            out[line.index] = _packaged(
                line, None, "status N: no separate payment (packaged into the APC payment "
                "of the claim's other services)", f"{D1} N",
            )  # fmt: skip
        elif si in PACKAGED_BY and PACKAGED_BY[si] & present:
            into = _highest(lines, PACKAGED_BY[si])
            names = ", ".join(sorted(PACKAGED_BY[si]))
            out[line.index] = _packaged(
                line, into, f"status {si} is packaged when the claim has a line of status "
                f"{names}", f"{D1} {si}",
            )  # fmt: skip
    if primary is not None:
        out[primary] = _primary(next(x for x in lines if x.index == primary))
    rest = [x for x in lines if x.index not in out]
    out.update(_discounted(rest, lambda x: indicator(x) == "T", OPPS_MPR, "status T"))
    for line in lines:
        if line.index not in out:
            out[line.index] = _with_copay(line, Decimal(line.units))
    return {i: _noted(line) for i, line in out.items()}


def _primary(line: PricedScheduleLine) -> PricedScheduleLine:
    amount = _rate(line)
    adjustments = [
        *line.adjustments,
        Adjustment(
            "opps_comprehensive_apc", None, Decimal(100), "OPPS payment",
            f"primary service of the comprehensive APC {component(line, 'apc')}: paid once, "
            f"{amount}; every other OPPS line of the plan is packaged into it",
            f"{D1} J1",
        )
    ]  # fmt: skip
    if line.units > 1:
        adjustments.append(Adjustment(
            "opps_comprehensive_apc", None, Decimal(0), "units after the first",
            f"units 2-{line.units}: packaged (the comprehensive APC pays once per claim)",
            f"{D1} J1",
        ))  # fmt: skip
    done = replace(
        line, allowed=amount, adjustments=tuple(a for a in adjustments if a.rule != "units")
    )
    return _with_copay(done, ONE)


def _with_copay(line: PricedScheduleLine, paid_units: Decimal) -> PricedScheduleLine:
    copay = line.quote.copayment
    if copay is None or not _payable(line):
        return line
    return replace(line, copayment=cent(copay * paid_units))


def _discounted(
    lines: Sequence[PricedScheduleLine], ranked: Any, citation: str, words: str
) -> dict[int, PricedScheduleLine]:
    """The ranked units of ``lines`` (those ``ranked`` picks): 100% for the highest, 50%."""
    chosen = [x for x in lines if _payable(x) and ranked(x)]
    slots = sorted(
        (_Slot(x.index, unit, _rate(x)) for x in chosen for unit in range(x.units)),
        key=lambda s: (-s.amount, s.line, s.unit),
    )
    if len(slots) < 2:
        return {}
    first = slots[0]
    top = next(x for x in chosen if x.index == first.line)
    out: dict[int, PricedScheduleLine] = {}
    for line in chosen:
        own = [s for s in slots if s.line == line.index]
        reduced = [s for s in own if s is not first]
        paid_units = Decimal(len(own) - len(reduced)) + HALF * len(reduced)
        amount = _rate(line)
        adjustments = list(line.adjustments)
        for slot in reduced:
            rank = slots.index(slot) + 1
            unit = f"unit {slot.unit + 1}: " if line.units > 1 else ""
            adjustments.append(Adjustment(
                f"{line.schedule}_multiple_procedure", None, Decimal(50),
                f"{line.schedule.upper()} payment of one unit",
                f"{unit}{words} procedure ranked {rank} of {len(slots)} (line {top.index}, "
                f"{top.code} at {_rate(top)}, ranks first): {amount} x 50% = "
                f"{amount * HALF}", citation,
            ))  # fmt: skip
        done = line
        if reduced:
            allowed = cent(amount * paid_units)
            done = replace(line, allowed=allowed, adjustments=tuple(adjustments))
        out[line.index] = _with_copay(done, paid_units)
    return out


def _asc(lines: list[PricedScheduleLine]) -> dict[int, PricedScheduleLine]:
    out: dict[int, PricedScheduleLine] = {}
    for line in lines:
        if indicator(line) == ALWAYS_PACKAGED[ASC]:
            out[line.index] = _packaged(
                line, None, "payment indicator N1: packaged into the payment of the "
                "surgical procedure; no separate payment", "ASC Addendum AA/BB, indicator N1",
            )  # fmt: skip
    rest = [x for x in lines if x.index not in out]
    out.update(_discounted(
        rest, lambda x: component(x, "multiple_procedure_discount") is True, ASC_MPR,
        "ASC discounted",
    ))  # fmt: skip
    for line in lines:
        if line.index not in out:
            out[line.index] = _with_copay(line, Decimal(line.units))
    return {i: _noted(line) for i, line in out.items()}


def _noted(line: PricedScheduleLine) -> PricedScheduleLine:
    si = indicator(line)
    notes = list(line.notes)
    if line.schedule == OPPS and si == "Q4" and line.packaged_into is None and not line.paid:
        notes.append(
            "status Q4 without a J1, J2, S, T, V, Q1, Q2 or Q3 line on the claim: the test is "
            "paid under the Clinical Laboratory Fee Schedule; price it as a clfs line."
        )
    if line.schedule == OPPS and si == "J2" and line.packaged_into is None:
        notes.append("status J2 is paid alone here: the comprehensive observation and other "
                     "J2 combinations of Addendum J are not evaluated.")  # fmt: skip
    if line.schedule == OPPS and si == "Q3" and line.packaged_into is None:
        notes.append("status Q3 is paid alone here: the composite APCs of Addendum M are not "
                     "evaluated.")  # fmt: skip
    return replace(line, notes=tuple(notes)) if notes != list(line.notes) else line
