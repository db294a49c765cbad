"""Multiple procedure payment reduction: ranking the units of a plan and reducing the others.

Contract (authority: RVU25x.pdf record layout, Multiple Procedure (Modifier 51), position 116;
Endoscopic Base Code, 128-132; Diagnostic Imaging Family, 146-147):

Input is a list of ``Slot``: one per unit of a payable plan line (a bilateral pair is one
slot), with its fee schedule amount after the bilateral adjustment and, where a rule needs
them, its technical (TC), professional (PC) and practice expense (PE) portions, each a
claim-basis ``Fig`` (``engine.claim``: every step rounded to the cent, the exact figure
beside it). Slots are ranked only against slots of the same ``group`` (one practitioner's
services on one date). Output maps ``(line, unit)`` to the ``Reduction`` to subtract from
that slot.

- Indicators 1, 2, 3 rank together by amount, highest first. Indicator 2 (and 3): 100%, 50%,
  50%, 50%, 50%, then by report; indicator 1: 100%, 50%, 25%, 25%, 25%, then by report.
  Nothing is reduced when fewer than two such procedures are billed.
- Indicator 3 first applies the endoscopy rules inside each family (codes with the same
  endoscopic base): the highest-valued endoscopy is paid in full, each other one its amount
  minus the base code's amount (never below zero), and the base code itself, when billed
  with a member of its family, is not paid separately. The family total then ranks as one
  procedure.
- Indicator 4: within an imaging family, the TC of every procedure but the highest-TC one is
  paid at 50% and the PC of every procedure but the highest-PC one at 95% (a 5% reduction).
- Indicator 5: 50% of the PE of every unit but the one with the highest PE.
- Indicators 6 and 7: TC of every procedure but the highest-TC one reduced by 25% (diagnostic
  cardiovascular) or 20% (diagnostic ophthalmology).

Ranking is by the claim figures; ties rank by code, then by what else sets the payment of
the slot (``Slot.tie``), and only slots equal in all of it by plan order, so the order of a
plan's lines never changes what is paid. A reduced share is rounded half-up to the cent on
the claim basis (``Fig.times``) and exact beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cms_pricing.engine.adjustments import CITE_MULTIPLE, Adjustment
from cms_pricing.engine.claim import ZERO, Fig, total

SlotKey = tuple[int, int]  # (line index, unit index)

SURGICAL = frozenset({"1", "2", "3"})
RANK_SHARES = {
    "1": (Decimal("1"), Decimal("0.5"), Decimal("0.25"), Decimal("0.25"), Decimal("0.25")),
    "2": (Decimal("1"), Decimal("0.5"), Decimal("0.5"), Decimal("0.5"), Decimal("0.5")),
}
CITE_ENDO = "RVU25x.pdf record layout: Endoscopic Base Code, positions 128-132"
CITE_FAMILY = "RVU25x.pdf record layout: Diagnostic Imaging Family Indicator, positions 146-147"


@dataclass(frozen=True, slots=True)
class Slot:
    line: int
    unit: int
    group: str
    code: str
    indicator: str  # PPRRVU multiple procedure indicator
    endo_base: str
    imaging_family: str
    amount: Fig  # fee schedule amount after the bilateral adjustment
    base_amount: Fig | None  # the endoscopic base code's amount in the same setting
    tc: Fig | None = None
    pc: Fig | None = None
    pe: Fig = ZERO
    # What else sets the slot's payment (row, setting, units, line shares, exact figures),
    # so that equal claim amounts rank by content and never by plan order.
    tie: tuple[object, ...] = ()  # of the same types, position by position, in every slot

    @property
    def key(self) -> SlotKey:
        return (self.line, self.unit)


@dataclass(frozen=True, slots=True)
class Reduction:
    amount: Fig  # subtracted from the slot's amount
    by_report: bool
    adjustment: Adjustment


Reductions = dict[SlotKey, list[Reduction]]


def reduce(slots: Sequence[Slot]) -> Reductions:
    """Every reduction of every slot (see the module docstring)."""
    out: Reductions = {}
    for group in _groups(slots):
        _surgical(group, out)
        _portions(group, out)
    return out


def _groups(slots: Sequence[Slot]) -> list[list[Slot]]:
    groups: dict[str, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(slot.group, []).append(slot)
    return list(groups.values())


def _put(out: Reductions, slot: Slot, reduction: Reduction) -> None:
    out.setdefault(slot.key, []).append(reduction)


def _by_amount(items: Iterable[Slot], value: Callable[[Slot], Fig]) -> list[Slot]:
    return sorted(items, key=lambda s: (-value(s).claim, s.code, s.tie, s.line, s.unit))


# -- indicators 1, 2, 3 ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Procedure:
    """One ranked procedure: a slot, or an endoscopy family's slots with their paid amounts."""

    paid: tuple[tuple[Slot, Fig], ...]
    indicator: str

    @property
    def total(self) -> Fig:
        return total([paid for _, paid in self.paid])

    @property
    def rank_key(self) -> tuple[Decimal, str, tuple[object, ...], SlotKey]:
        """Highest claim amount first; ties by the content of its slots, then plan order."""
        first = min((slot for slot, _ in self.paid), key=lambda s: (s.code, s.tie, s.key))
        return (-self.total.claim, first.code, first.tie, first.key)


def _surgical(slots: list[Slot], out: Reductions) -> None:
    pool = [s for s in slots if s.indicator in SURGICAL]
    procedures = _procedures(pool, out)
    if len(procedures) < 2:
        return
    ranked = sorted(procedures, key=lambda p: p.rank_key)
    for rank, procedure in enumerate(ranked, start=1):
        for slot, paid in procedure.paid:
            # a base paid nothing has no rank to show
            if paid.claim or paid.exact or len(procedure.paid) == 1:
                reduction = _rank_reduction(slot, paid, rank, len(ranked), procedure.indicator)
                _put(out, slot, reduction)


def _rank_reduction(slot: Slot, paid: Fig, rank: int, count: int, indicator: str) -> Reduction:
    shares = RANK_SHARES["1" if indicator == "1" else "2"]
    where = (
        f"ranked {rank} of {count} procedures with multiple procedure indicators 1, 2 or 3 "
        f"by fee schedule amount ({paid.claim}; unrounded {paid.exact})"
    )
    cite = f"{CITE_MULTIPLE}, indicator {slot.indicator}"
    if rank > len(shares):
        text = (
            f"multiple procedure indicator {slot.indicator}: {where}; the sixth and later "
            "procedures are paid by report (the MAC prices them from documentation), so "
            "this service does not price the unit"
        )
        adjustment = Adjustment("multiple_procedure", None, None, "fee schedule amount", text,
                                cite)  # fmt: skip
        return Reduction(paid, True, adjustment)
    share = shares[rank - 1]
    ladder = ", ".join(f"{s * 100:.0f}%" for s in shares)
    kept = paid.times(share)
    text = (
        f"multiple procedure indicator {slot.indicator}: {where} ({ladder}): paid {share:.0%}"
        + (f": {paid.claim} x {share:.0%} = {kept.claim}" if share != 1 else "")
    )
    adjustment = Adjustment("multiple_procedure", "51" if rank > 1 else None, share * 100,
                            "fee schedule amount", text, cite)  # fmt: skip
    return Reduction(paid - kept, False, adjustment)


def _procedures(pool: list[Slot], out: Reductions) -> list[_Procedure]:
    members: dict[str, list[Slot]] = {}
    for slot in pool:
        if slot.indicator == "3" and slot.endo_base:
            members.setdefault(slot.endo_base, []).append(slot)
    in_family = {s.key for group in members.values() for s in group}
    bases: dict[str, list[Slot]] = {}
    for slot in pool:
        if slot.key not in in_family and slot.code in members:
            bases.setdefault(slot.code, []).append(slot)
            in_family.add(slot.key)
    procedures = [_family(base, group, bases.get(base, []), out) for base, group in members.items()]
    singles = [_Procedure(((s, s.amount),), s.indicator) for s in pool if s.key not in in_family]
    return procedures + singles


def _family(base: str, group: list[Slot], base_slots: list[Slot], out: Reductions) -> _Procedure:
    ordered = _by_amount(group, lambda s: s.amount)
    paid: list[tuple[Slot, Fig]] = []
    for index, slot in enumerate(ordered):
        value = slot.amount if index == 0 else _less_base(slot)
        paid.append((slot, value))
        if len(ordered) > 1 or base_slots:
            adjustment = _family_adjustment(slot, index, base)
            _put(out, slot, Reduction(slot.amount - value, False, adjustment))
    for slot in base_slots:
        paid.append((slot, ZERO))
        text = (
            f"endoscopic base {base} billed with another endoscopy of its family: not paid "
            "separately; its payment is included in the other endoscopy"
        )
        adjustment = Adjustment("endoscopy_family", None, Decimal(0), "fee schedule amount", text,
                                f"{CITE_MULTIPLE}, indicator 3; {CITE_ENDO}")  # fmt: skip
        _put(out, slot, Reduction(slot.amount, False, adjustment))
    return _Procedure(tuple(paid), "3")


def _less_base(slot: Slot) -> Fig:
    return (slot.amount - (slot.base_amount or ZERO)).floor_zero()


def _family_adjustment(slot: Slot, index: int, base: str) -> Adjustment:
    cite = f"{CITE_MULTIPLE}, indicator 3; {CITE_ENDO}"
    if index == 0:
        text = (
            f"endoscopy family of base {base}: the highest-valued endoscopy is paid in full "
            "before the family is ranked with the other procedures"
        )
        return Adjustment("endoscopy_family", None, Decimal(100), "fee schedule amount", text,
                          cite)  # fmt: skip
    base_value = "its amount" if slot.base_amount is None else f"{slot.base_amount.claim}"
    text = (
        f"endoscopy family of base {base}: a further endoscopy is paid its fee schedule "
        f"amount ({slot.amount.claim}) minus the base {base}'s ({base_value}), not below zero"
    )
    return Adjustment("endoscopy_family", None, None, "fee schedule amount", text, cite)


# -- indicators 4, 5, 6, 7: reductions of one portion ---------------------------------------------

# indicator -> (portion, share paid of the portion for lower-ranked units, what it is)
_PORTION_RULES: dict[str, tuple[tuple[str, Decimal, str], ...]] = {
    "4": (
        ("tc", Decimal("0.5"), "diagnostic imaging technical component"),
        ("pc", Decimal("0.95"), "diagnostic imaging professional component"),
    ),
    "5": (("pe", Decimal("0.5"), "practice expense of therapy services"),),
    "6": (("tc", Decimal("0.75"), "diagnostic cardiovascular technical component"),),
    "7": (("tc", Decimal("0.8"), "diagnostic ophthalmology technical component"),),
}
_PORTION_NAMES = {"tc": "technical component", "pc": "professional component",
                  "pe": "practice expense"}  # fmt: skip


def _portions(slots: list[Slot], out: Reductions) -> None:
    pools: dict[tuple[str, str], list[Slot]] = {}
    for slot in slots:
        if slot.indicator in _PORTION_RULES:
            family = slot.imaging_family if slot.indicator == "4" else ""
            pools.setdefault((slot.indicator, family), []).append(slot)
    for (indicator, family), pool in pools.items():
        for rule in _PORTION_RULES[indicator]:
            _portion_pool(pool, (indicator, family), rule, out)


def _portion_of(slot: Slot, portion: str) -> Fig | None:
    value: Fig | None = getattr(slot, portion)
    return value


def _portion_pool(
    pool: list[Slot], where: tuple[str, str], rule: tuple[str, Decimal, str], out: Reductions
) -> None:
    (indicator, family), (portion, share, words) = where, rule
    having = [s for s in pool if _portion_of(s, portion) is not None]
    if len(having) < 2:
        return
    ordered = _by_amount(having, lambda s: _portion_of(s, portion) or ZERO)
    cite = f"{CITE_MULTIPLE}, indicator {indicator}"
    if indicator == "4":
        cite += f"; {CITE_FAMILY}, family {family}"
    name = _PORTION_NAMES[portion]
    for rank, slot in enumerate(ordered, start=1):
        value = _portion_of(slot, portion) or ZERO
        paid = Decimal(1) if rank == 1 else share
        kept = value.times(paid)
        text = (
            f"multiple procedure indicator {indicator}, {words}: ranked {rank} of "
            f"{len(ordered)} by {name} ({value.claim}; unrounded {value.exact}); "
            + ("paid in full" if rank == 1 else
               f"{name} paid at {paid:.0%}: {value.claim} x {paid:.0%} = {kept.claim}")
        )  # fmt: skip
        adjustment = Adjustment("multiple_procedure", "51" if rank > 1 else None, paid * 100,
                                name, text, cite)  # fmt: skip
        _put(out, slot, Reduction(value - kept, False, adjustment))
