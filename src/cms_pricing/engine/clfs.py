"""Clinical Laboratory Fee Schedule pricing of one code: ``price(table, dataset, code, modifier)``.

Contract (the CLFS read-me, ``CLFS 2025 Q#V#.pdf``, Attachments A-1/A-2):

- The payment is the file's RATE for (HCPCS, modifier), a national limitation amount with no
  geographic adjustment; it is already in cents and is only quantized half-up to the cent.
- Indicator ``N`` (national limitation amount) is payable. Indicator ``L`` (locally priced:
  the file writes rate 0) is ``payable=False`` with the MAC named in ``reason``: never a
  made-up zero. An indicator this module does not know is not priced either.
- Modifier ``QW`` (CLIA-waived test) is a row of its own; a modifier the file does not carry
  for the code is ``NotFound`` with ``field="modifier"`` and the modifiers it does carry.
- Cost sharing: no Part B deductible and no coinsurance for clinical laboratory tests paid
  under the fee schedule (Medicare Claims Processing Manual, ch. 16, section 30.2).

Pure: plain data and dict lookups, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import NotFound, echo
from cms_pricing.reference.rows import ClfsRow

SCHEDULE = "clfs"
CENT = Decimal("0.01")
COST_SHARING = CostSharing(deductible_applies=False, coinsurance_rate=Decimal("0"))

INDICATORS: dict[str, str] = {
    "N": "national limitation amount: the fee schedule rate paid nationally",
    "L": "locally priced: the MAC sets the payment",
}
PAYABLE_INDICATORS = frozenset({"N"})
NOT_PAYABLE_REASONS: dict[str, str] = {
    "L": "locally priced: the MAC sets the payment (CLFS indicator L)",
}


@dataclass(frozen=True, slots=True)
class ClfsTable:
    """One CLFS dataset, indexed: by (hcpcs, modifier), and each code's rows in file order."""

    rows: Mapping[tuple[str, str], ClfsRow]
    codes: Mapping[str, tuple[ClfsRow, ...]]


def _clfs_rows(rows: Mapping[str, Sequence[Any]]) -> list[ClfsRow]:
    out = list(rows[SCHEDULE])
    if not all(isinstance(row, ClfsRow) for row in out):
        raise TypeError("the 'clfs' rows must be ClfsRow")
    return out


def build(rows: Mapping[str, Sequence[Any]]) -> ClfsTable:
    """The table of a dataset's rows by file kind: ``{"clfs": [ClfsRow, ...]}``."""
    by_key: dict[tuple[str, str], ClfsRow] = {}
    by_code: dict[str, list[ClfsRow]] = {}
    for row in _clfs_rows(rows):
        key = (row.hcpcs, row.modifier)
        if key in by_key:
            raise ValueError(f"duplicate CLFS row for {row.hcpcs} modifier {row.modifier!r}")
        by_key[key] = row
        by_code.setdefault(row.hcpcs, []).append(row)
    codes = {code: tuple(group) for code, group in by_code.items()}
    return ClfsTable(rows=MappingProxyType(by_key), codes=MappingProxyType(codes))


def _modifier_missing(table: ClfsTable, dataset: DatasetRef, code: str, modifier: str) -> NotFound:
    known = [row.modifier for row in table.codes[code]]
    listed = ", ".join(m or "(none)" for m in known)
    message = (
        f"{code} has no CLFS row with modifier {echo(modifier or '(none)')} in "
        f"{dataset.dataset_id}; the file has modifiers: {listed}"
    )
    return NotFound(message, field="modifier", dataset=dataset.dataset_id, modifiers=known)


def _find(table: ClfsTable, dataset: DatasetRef, code: str, modifier: str) -> ClfsRow:
    row = table.rows.get((code, modifier))
    if row is not None:
        return row
    if code in table.codes:
        raise _modifier_missing(table, dataset, code, modifier)
    message = f"code {echo(code)} is not on the clinical lab fee schedule {dataset.dataset_id}"
    raise NotFound(message, field="code", dataset=dataset.dataset_id)


def _not_payable_reason(indicator: str) -> str | None:
    if indicator in PAYABLE_INDICATORS:
        return None
    default = f"CLFS indicator {indicator!r} is not one this service prices"
    return NOT_PAYABLE_REASONS.get(indicator, default)


def price(table: ClfsTable, dataset: DatasetRef, code: str, modifier: str) -> ScheduleQuote:
    """The CLFS price of ``code`` (upper-case, 5 characters) with ``modifier`` ("" or "QW")."""
    row = _find(table, dataset, code, modifier)
    reason = _not_payable_reason(row.indicator)
    payable = reason is None
    # A non-payable row's rate (0) is a placeholder, not a price: shown as None.
    rate = row.rate if payable else None
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=code,
        modifiers=(modifier,) if modifier else (),
        payable=payable,
        reason=reason,
        amount=row.rate.quantize(CENT, ROUND_HALF_UP) if payable else None,
        dataset=dataset,
        components=(
            ("rate", rate),
            ("indicator", row.indicator),
            ("indicator_meaning", INDICATORS.get(row.indicator, "unknown indicator")),
            ("effective_date", row.effective_date.isoformat()),
        ),
        cost_sharing=COST_SHARING,
    )
