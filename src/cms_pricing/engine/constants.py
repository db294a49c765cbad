"""The year constants as the engine holds them: the figures CMS publishes for each calendar
year outside its release files (the Part B deductible, the OPPS and ASC conversion factors and
labor-related shares).

They are data, not code: ``reference/year_constants.toml``, read and checked by
``reference/years.py`` outside the engine, which builds a ``YearTable``; the snapshot carries
it (``Snapshot.constants``) and each module asks it for the year of the data it prices
(``engine/schedules.py`` for OPPS and ASC, ``engine/plans.py`` for the deductible). A new year
is a new table in the file and nothing else.

A year the table lacks: ``YearTable.of`` raises ``Unprocessable`` (422, field ``year``) naming
the year and the years known, so a request for a dataset of a year CMS's figures have not been
added for is a clear 4xx, never a 500. The deductible alone is optional
(``YearTable.deductible`` gives ``None``): a plan may give ``deductible_remaining`` instead.

Pure: plain data, no file is read here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from cms_pricing.errors import Unprocessable


@dataclass(frozen=True, slots=True)
class YearConstants:
    """One calendar year's figures (money and rates as ``Decimal``)."""

    year: int
    part_b_deductible: Decimal
    opps_conversion_factor: Decimal
    opps_labor_share: Decimal
    asc_conversion_factor: Decimal
    asc_labor_share: Decimal
    sources: Mapping[str, str] = field(default_factory=dict)  # key -> its CMS source


@dataclass(frozen=True, slots=True)
class YearTable:
    """Every year's constants, by year."""

    years: Mapping[int, YearConstants] = field(default_factory=lambda: MappingProxyType({}))
    # A short hash of every figure (not the sources), made once: part of the snapshot's
    # fingerprint and of the shared plan key, so a corrected figure changes the ETags and
    # cache keys of the answers it prices.
    digest: str = field(init=False, default="")

    def __post_init__(self) -> None:
        lines = sorted(
            f"{c.year}:{c.part_b_deductible}:{c.opps_conversion_factor}:{c.opps_labor_share}:"
            f"{c.asc_conversion_factor}:{c.asc_labor_share}"
            for c in self.years.values()
        )
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        object.__setattr__(self, "digest", digest)

    @classmethod
    def of_years(cls, constants: Mapping[int, YearConstants]) -> YearTable:
        return cls(MappingProxyType(dict(constants)))

    def of(self, year: int, needed_for: str) -> YearConstants:
        """The constants of ``year``; Unprocessable naming it when the table lacks it."""
        found = self.years.get(year)
        if found is None:
            known = ", ".join(str(y) for y in sorted(self.years)) or "none"
            raise Unprocessable(
                f"{needed_for} needs the {year} year constants (conversion factor, labor "
                f"share, deductible), which this service does not have; years known: {known}",
                field="year",
            )
        return found

    def deductible(self, year: int) -> Decimal | None:
        """The year's whole Part B deductible, ``None`` when the table lacks the year."""
        found = self.years.get(year)
        return None if found is None else found.part_b_deductible
