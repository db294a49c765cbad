"""Claim-basis figures: a plan's money as a claims system computes it, with the exact figure.

A Medicare claims system starts a line from the locality's published fee schedule amount
(rounded to the cent) and rounds each payment step half-up to the cent: 27447-50 in Manhattan
is 1,465.45 x 150% = 2,198.175 -> 2,198.18. A ``Fig`` carries that claim figure and, beside
it, the same arithmetic with no rounding from the unrounded fee (2,198.1717...), so an answer
can show both. Pure arithmetic: nothing here knows a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cms_pricing.engine.costshare import cent

_ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Fig:
    claim: Decimal  # rounded half-up to the cent at every step
    exact: Decimal  # the same steps, never rounded

    @classmethod
    def of(cls, exact: Decimal) -> Fig:
        """A published figure: the exact value and its half-up cent."""
        return cls(cent(exact), exact)

    def times(self, share: Decimal) -> Fig:
        """One payment step: ``share`` of the figure, the claim side rounded to the cent."""
        return Fig(cent(self.claim * share), self.exact * share)

    def count(self, units: int) -> Fig:
        """``units`` of the figure: a multiplication by a whole number needs no rounding."""
        return Fig(self.claim * units, self.exact * units)

    def __add__(self, other: Fig) -> Fig:
        return Fig(self.claim + other.claim, self.exact + other.exact)

    def __sub__(self, other: Fig) -> Fig:
        return Fig(self.claim - other.claim, self.exact - other.exact)

    def least(self, other: Fig) -> Fig:
        """The lower of two figures, on each basis."""
        return Fig(min(self.claim, other.claim), min(self.exact, other.exact))

    def floor_zero(self) -> Fig:
        return Fig(max(_ZERO, self.claim), max(_ZERO, self.exact))


ZERO = Fig(_ZERO, _ZERO)


def total(figs: list[Fig]) -> Fig:
    out = ZERO
    for fig in figs:
        out = out + fig
    return out
