"""The wage index of a hospital's or ASC's area: ``lookup(table, dataset, cbsa, schedule)``.

Contract (the OPPS Pricer's CBSA wage index table, ``cbsa-wage-index-2025.csv``: a row per
CBSA, or per 2-digit state code for the state's rural area, with three columns):

- OPPS, a hospital that is not reclassified: the **geographic** index; where the row's
  **imputed floor** is above zero and above the geographic index, the imputed floor. That is
  CMS's OPPS Pricer (``gov.cms.fiss.pricers.opps``): ``WageIndexLookupAndFloor`` takes the
  first (geographic) column for a provider that has not reclassified ("THIS PROVIDER HAS NOT
  RECLASSIFIED, USE THE WAGE INDEX IN THE FIRST COLUMN FOR AREA PROVIDERS") and
  ``WageIndexImputedFloorAdjustment`` then uses the imputed floor "if greater than current
  wage index" and greater than zero. So DC (09), New Jersey (31) and Rhode Island (41), whose
  geographic index is 0.0000 (no rural area), answer 1.2958, 1.1548 and 1.1516, and Puerto
  Rico (40: geographic 0.2456, imputed floor 0.3319) answers **0.3319**: the Pricer applies the
  floor wherever it is higher, Puerto Rico included. The reclassified column (MGCRB and other
  reclassifications) needs the hospital's own provider-specific record and is never chosen
  from a CBSA alone.
- The Pricer applies the state's rural floor and the state's imputed floor by the *provider's*
  state, which a CBSA does not name (a CBSA can span states). A lookup here applies the
  floor of the row asked for only; for a hospital in an urban CBSA of DC, NJ, RI or PR whose
  index falls below its state's floor, give the index directly (``wage_index``).
- ASC: the ASC payment system adjusts by the **pre-floor, pre-reclassification** IPPS wage
  index (CY 2008 revised ASC payment system final rule, 72 FR 42470; restated in each year's
  OPPS/ASC final rule, CY 2025: CMS-1809-FC, 89 FR 93912), so ASC uses the **geographic**
  column as written and never the imputed floor (the floor is a hospital policy). A row
  whose geographic index is 0.0000 (a state with no rural area) has no ASC index:
  ``Unprocessable``.
- An unknown CBSA is ``NotFound(field="cbsa")`` naming the dataset.

Pure: plain data and dict lookups, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from cms_pricing.engine.quote import DatasetRef
from cms_pricing.errors import NotFound, Unprocessable, echo
from cms_pricing.reference.rows import WageIndexRow

SCHEDULE = "wage_index"
KIND = "wage_index"
ZERO = Decimal(0)

Source = Literal["cbsa", "given"]
Column = Literal["geographic", "imputed_floor", "given"]


@dataclass(frozen=True, slots=True)
class Wage:
    """The wage index one price is adjusted by, and where it came from."""

    index: Decimal
    source: Source  # "cbsa": looked up; "given": the caller's own index
    cbsa: str | None
    name: str | None
    column: Column  # which column of the table was used ("given" when not looked up)
    dataset: DatasetRef | None  # the wage index dataset; None when given

    @classmethod
    def given(cls, index: Decimal) -> Wage:
        """A wage index the caller gave directly."""
        return cls(index, "given", None, None, "given", None)

    def pairs(self) -> tuple[tuple[str, Any], ...]:
        """The answer's ``geography``: cbsa, name, wage_index, column, dataset."""
        return (
            ("cbsa", self.cbsa),
            ("name", self.name),
            ("wage_index", self.index),
            ("column", self.column),
            ("dataset", self.dataset.dataset_id if self.dataset else None),
        )


@dataclass(frozen=True, slots=True)
class WageIndexTable(Mapping[str, WageIndexRow]):
    """One wage index dataset, read-only: CBSA (or 2-digit state code) -> its row."""

    rows: Mapping[str, WageIndexRow]

    def __getitem__(self, cbsa: str) -> WageIndexRow:
        return self.rows[cbsa]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def build(rows: Mapping[str, Sequence[Any]]) -> WageIndexTable:
    """The table of a dataset's rows by kind (``{"wage_index": [WageIndexRow, ...]}``); where a
    CBSA has rows of several effective dates, the latest row wins."""
    by_cbsa: dict[str, WageIndexRow] = {}
    for row in rows[KIND]:
        if not isinstance(row, WageIndexRow):
            raise TypeError(f"{KIND} rows must be WageIndexRow, not {type(row).__name__}")
        known = by_cbsa.get(row.cbsa)
        if known is None or known.effective_date <= row.effective_date:
            by_cbsa[row.cbsa] = row
    return WageIndexTable(MappingProxyType(by_cbsa))


def _opps(row: WageIndexRow) -> tuple[Decimal, Column]:
    floor = row.imputed_floor
    if floor > ZERO and floor > row.geographic:
        return floor, "imputed_floor"
    return row.geographic, "geographic"


def lookup(table: WageIndexTable, dataset: DatasetRef, cbsa: str, schedule: str = "opps") -> Wage:
    """The wage index ``schedule`` ("opps" or "asc") uses for ``cbsa`` (module docstring)."""
    row = table.get(cbsa)
    if row is None:
        message = f"CBSA {echo(cbsa)} is not in the wage index file {dataset.dataset_id}"
        raise NotFound(message, field="cbsa", dataset=dataset.dataset_id)
    if schedule == "asc":
        if row.geographic <= ZERO:
            raise Unprocessable(
                f"{row.cbsa} ({row.name}) has no pre-floor wage index (0.0000: the state has "
                "no rural area); ASC payment uses the pre-floor index, so give the ASC's "
                "urban CBSA",
                field="cbsa",
            )
        return Wage(row.geographic, "cbsa", row.cbsa, row.name, "geographic", dataset)
    index, column = _opps(row)
    return Wage(index, "cbsa", row.cbsa, row.name, column, dataset)
