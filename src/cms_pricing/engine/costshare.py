"""Beneficiary cost sharing of a priced plan: Part B deductible, coinsurance, sequestration.

Contract (CMS publishes the deductible each year: the caller passes the year's, taken from
the year constants, ``engine/constants.py``; $257 in 2025):

- deductible applied = the lesser of the allowed total and the deductible still to meet
  (the caller's ``deductible_remaining``, else the whole year's deductible);
- coinsurance = 20% of (allowed total - deductible applied);
- program payment = allowed total - deductible applied - coinsurance;
- with ``sequestration``, the program payment is reduced by 2% (the beneficiary's share is
  not); the reduction and the payment after it are reported separately.

Every figure is rounded half-up to the cent once; the allowed total is a sum of figures that
are already whole cents. A year without a known deductible needs ``deductible_remaining``.

Plans mixing schedules (``plan_cost_share``) share the same way, per each line's schedule
rule (``quote.CostSharing``: MPFS, DMEPOS and anesthesia deductible and 20%; CLFS neither;
ASP deductible and the file's coinsurance percentage; OPPS the deductible and the line's
fixed copayment, ``fixed_copayment``):

- the deductible still to meet is applied to the lines subject to it **in plan order**, each
  taking the lesser of its allowed amount and what is left (whole cents: no rounding);
- coinsurance = rate x (allowed - deductible taken), summed over the lines of one schedule
  and one rate, then rounded half-up to the cent once per (schedule, rate) group;
- each schedule's subtotal (``Subtotal``) adds its groups; the plan's figures add the
  subtotals; sequestration is computed once, on the plan's program payment.

With MPFS lines only there is one group, so the figures equal ``cost_share``'s to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cms_pricing.engine.quote import CostSharing
from cms_pricing.errors import BadRequest, Unprocessable

COINSURANCE = Decimal("0.20")
SEQUESTRATION = Decimal("0.02")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MPFS_COST_SHARING = CostSharing(deductible_applies=True, coinsurance_rate=COINSURANCE)


@dataclass(frozen=True, slots=True)
class CostShare:
    allowed: Decimal
    deductible_remaining: Decimal  # what was left to meet before this plan
    deductible: Decimal  # applied to this plan
    coinsurance: Decimal
    beneficiary: Decimal  # deductible + coinsurance
    program: Decimal  # Medicare's payment before sequestration
    sequestration: Decimal  # the 2% reduction, 0.00 when not applied
    program_paid: Decimal  # program - sequestration
    sequestration_applied: bool


def cent(value: Decimal) -> Decimal:
    """Half-up to the cent: the one rounding every money figure gets."""
    return value.quantize(CENT, ROUND_HALF_UP)


def deductible_for(year: int, full: Decimal | None, remaining: Decimal | None) -> Decimal:
    """The deductible still to meet: the caller's figure, else the year's whole deductible
    ``full`` (``None``: the year constants lack ``year``)."""
    if remaining is not None:
        if remaining < 0 or (full is not None and remaining > full):
            # Over the year's deductible: a well-formed amount this year cannot have (422).
            limit = f"0 to {full}" if full is not None else "at least 0"
            raise (BadRequest if remaining < 0 else Unprocessable)(
                f"deductible_remaining must be {limit}; got {remaining}",
                field="deductible_remaining",
            )
        return cent(remaining)
    if full is None:
        raise Unprocessable(
            f"the Part B deductible for {year} is not known to this service; "
            "give deductible_remaining",
            field="deductible_remaining",
        )
    return full


def cost_share(
    allowed: Decimal, year: int, full: Decimal | None, remaining: Decimal | None,
    sequestration: bool,
) -> CostShare:  # fmt: skip
    """Split ``allowed`` (whole cents) between the beneficiary and the program; ``full`` is
    the year's whole deductible (``deductible_for``)."""
    left = deductible_for(year, full, remaining)
    deductible = min(allowed, left)
    coinsurance = cent((allowed - deductible) * COINSURANCE)
    program = allowed - deductible - coinsurance
    cut = cent(program * SEQUESTRATION) if sequestration else ZERO
    return CostShare(
        allowed=allowed,
        deductible_remaining=left,
        deductible=deductible,
        coinsurance=coinsurance,
        beneficiary=deductible + coinsurance,
        program=program,
        sequestration=cut,
        program_paid=program - cut,
        sequestration_applied=sequestration,
    )


@dataclass(frozen=True, slots=True)
class ShareLine:
    """One plan line as cost sharing sees it: its schedule, allowed amount and rule."""

    schedule: str
    allowed: Decimal  # whole cents; 0.00 for a line without an amount
    deductible_applies: bool
    coinsurance_rate: Decimal
    # OPPS (and ASC drugs with an IRA-adjusted copayment): the line's fixed copayment, whole
    # cents, instead of ``coinsurance_rate`` x allowed.
    copayment: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Subtotal:
    """One schedule's share of a plan (before sequestration, which is plan-wide)."""

    allowed: Decimal
    deductible: Decimal
    coinsurance: Decimal
    beneficiary: Decimal
    program: Decimal


def plan_cost_share(
    lines: Sequence[ShareLine],
    year: int,
    full: Decimal | None,
    remaining: Decimal | None,
    sequestration: bool,
) -> tuple[CostShare, tuple[tuple[str, Subtotal], ...]]:
    """The plan's cost sharing and each schedule's subtotal, in order of first appearance
    (module docstring: deductible in plan order, coinsurance per schedule and rate)."""
    left = deductible_for(year, full, remaining)
    to_meet = left
    groups: dict[str, dict[Decimal, list[Decimal]]] = {}  # schedule -> rate -> [allowed, ded]
    fixed: dict[str, list[Decimal]] = {}  # schedule -> [allowed, deductible, copayments]
    for line in lines:
        taken = min(line.allowed, to_meet) if line.deductible_applies else ZERO
        to_meet -= taken
        if line.copayment is not None:
            sums = fixed.setdefault(line.schedule, [ZERO, ZERO, ZERO])
            sums[0] += line.allowed
            sums[1] += taken
            sums[2] += fixed_copayment(line, taken)
            groups.setdefault(line.schedule, {})
            continue
        sums = groups.setdefault(line.schedule, {}).setdefault(line.coinsurance_rate, [ZERO, ZERO])
        sums[0] += line.allowed
        sums[1] += taken
    subtotals: list[tuple[str, Subtotal]] = []
    for schedule, rates in groups.items():
        own = fixed.get(schedule, [ZERO, ZERO, ZERO])
        allowed = sum((a for a, _ in rates.values()), own[0])
        deductible = sum((d for _, d in rates.values()), own[1])
        coinsurance = sum((cent((a - d) * rate) for rate, (a, d) in rates.items()), own[2])
        subtotals.append((schedule, Subtotal(
            allowed, deductible, coinsurance, deductible + coinsurance,
            allowed - deductible - coinsurance,
        )))  # fmt: skip
    allowed = sum((s.allowed for _, s in subtotals), ZERO)
    deductible = sum((s.deductible for _, s in subtotals), ZERO)
    coinsurance = sum((s.coinsurance for _, s in subtotals), ZERO)
    program = allowed - deductible - coinsurance
    cut = cent(program * SEQUESTRATION) if sequestration else ZERO
    share = CostShare(
        allowed=allowed,
        deductible_remaining=left,
        deductible=deductible,
        coinsurance=coinsurance,
        beneficiary=deductible + coinsurance,
        program=program,
        sequestration=cut,
        program_paid=program - cut,
        sequestration_applied=sequestration,
    )
    return share, tuple(subtotals)


def fixed_copayment(line: ShareLine, taken: Decimal) -> Decimal:
    """A fixed copayment after the deductible: the copayment x the share of the line the
    deductible left (the same ratio of copayment to payment), half-up to the cent; never
    more than what the deductible left."""
    assert line.copayment is not None
    if line.allowed <= ZERO:
        return ZERO
    if taken <= ZERO:
        return min(line.copayment, line.allowed)
    left = line.allowed - taken
    return min(cent(line.copayment * left / line.allowed), left)
