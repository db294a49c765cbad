"""Part B drug pricing from the quarterly ASP file: ``price(table, dataset, code, units)``.

Contract:

- amount = payment limit per dosage unit x units, in ``Decimal``, rounded half-up to the cent
  once at the end. The per-unit limit keeps CMS's three decimals (J1100 is 0.108 per 1 MG):
  rounding it to the cent first would pay 0.11 x 4 = 0.44 for 4 units instead of 0.43.
- ``units`` is the number of the file's dosage units billed (1 .. ``MAX_UNITS``): the
  caller converts a dose into units (50 MG of J1100 is 50 units).
- A limit the file writes ``N/A`` gives ``payable=False`` and ``amount=None`` (the MAC
  prices the drug); an unknown code is ``NotFound(field="code")``.
- Cost sharing: the Part B deductible applies; the coinsurance rate is the file's
  percentage / 100 (inflation-adjusted coinsurance is below 20%; vaccines are 0%), 0.20
  where the file leaves it blank.
- The short descriptor is not answered (the 9xxxx codes are CPT: AMA copyright).

Pure: stdlib and the engine's result types only; a call is one dict lookup and a product.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import BadRequest, NotFound, echo
from cms_pricing.reference.rows import AspRow

SCHEDULE = "asp"
KIND = "asp"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
DEFAULT_COINSURANCE = Decimal("0.20")
MAX_UNITS = 99_999
NOT_AVAILABLE_REASON = (
    "the ASP file publishes no payment limit for this code (N/A): the MAC prices the drug"
)


@dataclass(frozen=True, slots=True)
class AspTable(Mapping[str, AspRow]):
    """One ASP quarter, read-only: HCPCS code -> its row."""

    rows: Mapping[str, AspRow]

    def __getitem__(self, hcpcs: str) -> AspRow:
        return self.rows[hcpcs]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def build(rows: Mapping[str, Sequence[Any]]) -> AspTable:
    """The table of a dataset's parsed rows by kind (``{"asp": [AspRow, ...]}``)."""
    by_code: dict[str, AspRow] = {}
    for row in rows[KIND]:
        if not isinstance(row, AspRow):
            raise TypeError(f"{KIND} rows must be AspRow, not {type(row).__name__}")
        by_code[row.hcpcs] = row
    return AspTable(MappingProxyType(by_code))


def _check_units(units: int) -> None:
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
        raise BadRequest(f"units must be a whole number from 1 to {MAX_UNITS}", field="units")


def _components(row: AspRow, units: int, unrounded: Decimal | None) -> tuple[tuple[str, Any], ...]:
    optional: tuple[tuple[str, Any], ...] = (
        ("coinsurance_pct", row.coinsurance_pct),
        ("vaccine_awp_pct", row.vaccine_awp_pct),
        ("vaccine_limit", row.vaccine_limit),
        ("blood_awp_pct", row.blood_awp_pct),
        ("blood_limit", row.blood_limit),
        ("clotting_factor", row.clotting_factor or None),
    )
    return (
        ("payment_limit_per_unit", row.payment_limit),
        ("dosage_unit", row.dosage),
        ("units", units),
        ("unrounded_amount", unrounded),
        (
            "arithmetic",
            None if unrounded is None else f"{row.payment_limit} x {units} = {unrounded}",
        ),
        *((name, value) for name, value in optional if value is not None),
    )


def _cost_sharing(row: AspRow) -> CostSharing:
    pct = row.coinsurance_pct
    return CostSharing(True, DEFAULT_COINSURANCE if pct is None else pct / HUNDRED)


def _notes(row: AspRow) -> tuple[str, ...]:
    notes = [
        "Payment limit per dosage unit at CMS's three decimals, times the units billed, "
        "rounded half-up to the cent once."
    ]
    if row.clotting_factor:
        notes.append(
            "Clotting factor: a separate per-unit furnishing fee may apply (not included here)."
        )
    if row.notes:
        notes.append(f"ASP file note: {row.notes}")
    return tuple(notes)


def price(table: AspTable, dataset: DatasetRef, code: str, units: int) -> ScheduleQuote:
    """The ASP payment of ``units`` dosage units of the drug ``code``."""
    _check_units(units)
    row = table.get(code)
    if row is None:
        message = f"HCPCS code {echo(code)} is not in the ASP file {dataset.dataset_id}"
        raise NotFound(message, field="code")
    limit = row.payment_limit
    unrounded = None if limit is None else limit * units
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=code,
        modifiers=(),
        payable=unrounded is not None,
        reason=NOT_AVAILABLE_REASON if unrounded is None else None,
        amount=None if unrounded is None else unrounded.quantize(CENT, ROUND_HALF_UP),
        dataset=dataset,
        components=_components(row, units, unrounded),
        cost_sharing=_cost_sharing(row),
        notes=_notes(row),
    )
