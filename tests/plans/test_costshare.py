"""Beneficiary cost sharing: Part B deductible ($257 in 2025), 20% coinsurance, 2% sequestration.

Worked on 27447 in a Manhattan facility, allowed 1465.45 (see test_rules: 45.30468 x 32.3465
= 1465.447831620 -> 1465.45), and on 99213 in a Manhattan office, 101.06.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cms_pricing.engine.costshare import cost_share
from cms_pricing.engine.plans import Plan, PlanLine, price_plan
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, PricingError, Unprocessable

D = Decimal


def test_full_deductible_then_coinsurance_then_sequestration() -> None:
    """Deductible 257.00; coinsurance 20% x (1465.45 - 257.00 = 1208.45) = 241.69;
    beneficiary 498.69; program 1465.45 - 498.69 = 966.76; sequestration 2% x 966.76 =
    19.3352 -> 19.34; the program pays 947.42. The beneficiary's share is not reduced."""
    share = cost_share(D("1465.45"), 2025, D("257.00"), None, sequestration=True)
    assert (share.deductible, share.coinsurance, share.beneficiary) == (
        D("257.00"), D("241.69"), D("498.69")
    )  # fmt: skip
    assert (share.program, share.sequestration, share.program_paid) == (
        D("966.76"), D("19.34"), D("947.42")
    )  # fmt: skip


def test_remaining_deductible_given_by_the_caller() -> None:
    """With 100.00 left to meet: coinsurance 20% x 1365.45 = 273.09; program 1465.45 - 100.00
    - 273.09 = 1092.36; without sequestration nothing is withheld."""
    share = cost_share(D("1465.45"), 2025, D("257.00"), D("100"), sequestration=False)
    assert (share.deductible, share.coinsurance, share.program) == (
        D("100.00"), D("273.09"), D("1092.36")
    )  # fmt: skip
    assert share.sequestration == D("0.00") and share.program_paid == D("1092.36")


def test_allowed_below_the_deductible_is_all_the_beneficiarys() -> None:
    """101.06 against a 257.00 deductible: the deductible takes all of it; coinsurance and the
    program's payment are 0.00."""
    share = cost_share(D("101.06"), 2025, D("257.00"), None, sequestration=True)
    assert (share.deductible, share.coinsurance, share.program, share.program_paid) == (
        D("101.06"), D("0.00"), D("0.00"), D("0.00")
    )  # fmt: skip


@pytest.mark.parametrize(
    ("remaining", "error"), [(D("-1"), BadRequest), (D("257.01"), Unprocessable)]
)
def test_remaining_deductible_outside_0_to_257_is_refused(
    remaining: Decimal, error: type[PricingError]
) -> None:
    """The deductible still to meet is between 0 and the year's deductible: a negative amount
    is malformed (400); more than the year's deductible is that year's answer (422)."""
    with pytest.raises(error) as bad:
        cost_share(D("10.00"), 2025, D("257.00"), remaining, sequestration=False)
    assert bad.value.details == {"field": "deductible_remaining"}


def test_a_year_without_a_known_deductible_needs_the_caller_figure() -> None:
    """2026's deductible is not in this service: without deductible_remaining it is a 422;
    with it, the split is computed (0 left: 20% of 50.00 = 10.00)."""
    with pytest.raises(Unprocessable):
        cost_share(D("50.00"), 2026, None, None, sequestration=False)
    assert cost_share(D("50.00"), 2026, None, D("0"), sequestration=False).coinsurance == D("10.00")


def test_plan_cost_sharing_uses_the_plan_total(real_snapshot: Snapshot) -> None:
    """A priced plan splits its own total: 27447 facility, 1465.45, with sequestration, gives
    the figures of the first test."""
    plan = Plan(
        (PlanLine("27447"),), locality="1320201", release_id="RVU25D", setting="facility",
        sequestration=True,
    )  # fmt: skip
    share = price_plan(real_snapshot, plan).cost_share
    assert share.allowed == D("1465.45") and share.program_paid == D("947.42")
