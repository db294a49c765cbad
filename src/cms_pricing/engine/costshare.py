"""Beneficiary cost sharing of a priced plan: Part B deductible, coinsurance, sequestration.

Contract (2025 figures; CMS publishes the deductible each year):

- deductible applied = the lesser of the allowed total and the deductible still to meet
  (the caller's ``deductible_remaining``, else the whole year's deductible: $257 in 2025);
- coinsurance = 20% of (allowed total - deductible applied);
- program payment = allowed total - deductible applied - coinsurance;
- with ``sequestration``, the program payment is reduced by 2% (the beneficiary's share is
  not); the reduction and the payment after it are reported separately.

Every figure is rounded half-up to the cent once; the allowed total is a sum of figures that
are already whole cents. A year without a known deductible needs ``deductible_remaining``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cms_pricing.errors import BadRequest, Unprocessable

PART_B_DEDUCTIBLE = {2025: Decimal("257.00")}
COINSURANCE = Decimal("0.20")
SEQUESTRATION = Decimal("0.02")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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


def deductible_for(year: int, remaining: Decimal | None) -> Decimal:
    """The deductible still to meet: the caller's figure, else the year's whole deductible."""
    full = PART_B_DEDUCTIBLE.get(year)
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
    allowed: Decimal, year: int, remaining: Decimal | None, sequestration: bool
) -> CostShare:
    """Split ``allowed`` (whole cents) between the beneficiary and the program."""
    left = deductible_for(year, remaining)
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
