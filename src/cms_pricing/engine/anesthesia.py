"""Anesthesia pricing: ``price(table, dataset, code, locality, minutes, modifier, cf_release_id)``.

Contract (Medicare Claims Processing Manual ch. 12 §50, and §140 for CRNAs):

- amount = (base units + time units) x the locality's anesthesia CF (ANES file of the MPFS
  release) x the modifier's share, in ``Decimal``, rounded half-up to the cent once.
- time units = minutes / 15, rounded half-up to one decimal place (95 minutes: 6.3). With
  whole minutes the tenth never falls on a half (2r/3 is never n + 0.5), so half-up and
  half-even agree.
- Modifiers (``MODIFIERS``): AA and QZ pay 100%; QK, QX and QY (medical direction) 50%.
  AD (medical supervision of more than four concurrent procedures): the manual allows "only
  three base units per procedure" plus one time unit if the physician was present at
  induction; priced as min(base units, 3) + 1 unit, the minutes otherwise unused, 100%.
- A code with 0 base units (01999, unlisted) is not payable: the MAC prices it.
- Faults: minutes outside 1..1440 or an unknown modifier -> ``BadRequest``; a code not in
  the base-unit file -> ``NotFound(field="code")``; a locality without an anesthesia CF ->
  ``NotFound(field="locality")``.

Pure: stdlib, the engine's result types and ``Locality`` (as a type) only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import BadRequest, NotFound, Unprocessable, echo
from cms_pricing.reference.rows import AnesBaseUnitRow

if TYPE_CHECKING:  # snapshot imports this module (through engine.schedules): types only
    from cms_pricing.engine.snapshot import Locality

SCHEDULE = "anesthesia"
KIND = "anes_base_units"
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MINUTES_PER_UNIT = 15
DEFAULT_MODIFIER = "AA"
MAX_MINUTES = 1440
FULL = Decimal("1.00")
HALF = Decimal("0.50")
SUPERVISED_BASE_UNITS = 3
SUPERVISED_TIME_UNITS = Decimal("1.0")
COINSURANCE = Decimal("0.20")

MODIFIERS: dict[str, tuple[Decimal, str]] = {
    "AA": (FULL, "anesthesia services performed personally by an anesthesiologist"),
    "QZ": (FULL, "CRNA service without medical direction by a physician"),
    "QK": (HALF, "medical direction of two, three or four concurrent anesthesia procedures"),
    "QX": (HALF, "CRNA service with medical direction by a physician"),
    "QY": (HALF, "medical direction of one CRNA by an anesthesiologist"),
    "AD": (FULL, "medical supervision by a physician: more than four concurrent procedures"),
}
SUPERVISED = "AD"

_RELEASE_YEAR = re.compile(r"RVU(\d{2})", re.I)


@dataclass(frozen=True, slots=True)
class BaseUnitTable(Mapping[str, AnesBaseUnitRow]):
    """One base-unit file, read-only: CPT anesthesia code -> its row."""

    rows: Mapping[str, AnesBaseUnitRow]

    def __getitem__(self, code: str) -> AnesBaseUnitRow:
        return self.rows[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def build(rows: Mapping[str, Sequence[Any]]) -> BaseUnitTable:
    """The table of a dataset's parsed rows by kind (``{"anes_base_units": [...]}``)."""
    by_code: dict[str, AnesBaseUnitRow] = {}
    for row in rows[KIND]:
        if not isinstance(row, AnesBaseUnitRow):
            raise TypeError(f"{KIND} rows must be AnesBaseUnitRow, not {type(row).__name__}")
        by_code[row.code] = row
    return BaseUnitTable(MappingProxyType(by_code))


def time_units(minutes: int) -> Decimal:
    """``minutes`` / 15, rounded half-up to one decimal place."""
    return (Decimal(minutes) / MINUTES_PER_UNIT).quantize(TENTH, ROUND_HALF_UP)


def _check(minutes: int, modifier: str) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise BadRequest("minutes must be a whole number", field="minutes")
    if not 1 <= minutes <= MAX_MINUTES:
        raise BadRequest(f"minutes must be from 1 to {MAX_MINUTES}", field="minutes")
    if modifier not in MODIFIERS:
        known = ", ".join(MODIFIERS)
        raise Unprocessable(
            f"modifier {echo(modifier)} does not price anesthesia: give one of {known}",
            field="modifier",
        )


def _lookup(table: BaseUnitTable, dataset: DatasetRef, code: str, locality: Locality) -> Decimal:
    """The locality's anesthesia CF once the code is known to the base-unit file."""
    if code not in table:
        year = dataset.effective_from.year
        message = f"CPT {echo(code)} is not in the CY {year} anesthesia base units file"
        raise NotFound(f"{message} {dataset.dataset_id}", field="code")
    if locality.anes_cf is None:
        message = f"locality {locality.mac}{locality.locality} has no anesthesia CF"
        raise NotFound(message, field="locality")
    return locality.anes_cf


def _cf_file(cf_release_id: str) -> str:
    match = _RELEASE_YEAR.match(cf_release_id)
    return f"ANES20{match[1]}" if match else "ANES"


def _notes(
    dataset: DatasetRef, modifier: str, minutes: int, time: Decimal, file_units: int
) -> tuple[str, ...]:
    share, words = MODIFIERS[modifier]
    year = dataset.effective_from.year
    notes = [
        f"(base units + time units) x the locality's anesthesia CF x {share * 100:.0f}% for "
        f"{modifier} ({words}), rounded half-up to the cent once.",
        f"Time units: {minutes} minutes / 15, rounded half-up to one decimal place = {time} "
        "(Claims Processing Manual ch. 12 §50: actual anesthesia time divided by 15).",
        f"Base units from the CY {year} file {dataset.dataset_id}, the newest public copy "
        "available here; CMS publishes the base units each year.",
    ]
    if share == HALF:
        notes.append(
            "Medical direction (QK, QX, QY): each of the directing anesthesiologist and the "
            "medically directed CRNA is paid 50% of the allowance (ch. 12 §50, §140)."
        )
    if modifier == SUPERVISED:
        notes.append(
            "Medical supervision (AD), ch. 12 §50 'Payment at Medically Supervised Rate': only "
            f"three base units per procedure (file: {file_units}), plus one time unit if the "
            "physician was present at induction (assumed here); no other time units."
        )
    return tuple(notes)


def _units(row: AnesBaseUnitRow, minutes: int, modifier: str) -> tuple[int, Decimal]:
    """(allowed base units, time units) under ``modifier``."""
    if modifier == SUPERVISED:
        return min(row.base_units, SUPERVISED_BASE_UNITS), SUPERVISED_TIME_UNITS
    return row.base_units, time_units(minutes)


def _geography(locality: Locality) -> tuple[tuple[str, Any], ...]:
    return (
        ("carrier", locality.mac),
        ("locality", locality.locality),
        ("carrier_locality", locality.mac + locality.locality),
        ("name", locality.name),
        ("state", locality.state),
    )


# The lead's contract passes the seven arguments positionally, in the order of the schedule's
# arithmetic; keyword-only would break its calls.
def price(  # noqa: PLR0917
    table: BaseUnitTable,
    dataset: DatasetRef,
    code: str,
    locality: Locality,
    minutes: int,
    modifier: str,
    cf_release_id: str,
) -> ScheduleQuote:
    """The anesthesia payment of ``code`` for ``minutes`` in ``locality`` under ``modifier``
    (blank: priced as ``AA``, personally performed, with a note)."""
    given = modifier
    modifier = modifier or DEFAULT_MODIFIER
    _check(minutes, modifier)
    cf = _lookup(table, dataset, code, locality)
    row = table[code]
    base, time = _units(row, minutes, modifier)
    total = base + time
    share = MODIFIERS[modifier][0]
    payable = row.base_units > 0
    unrounded = total * cf * share if payable else None
    cf_source = f"{_cf_file(cf_release_id)} of {cf_release_id}, {locality.mac}{locality.locality}"
    year = dataset.effective_from.year
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=code,
        modifiers=(modifier,),
        payable=payable,
        reason=None if payable else "no base units published (unlisted): the MAC prices it",
        amount=None if unrounded is None else unrounded.quantize(CENT, ROUND_HALF_UP),
        dataset=dataset,
        components=(
            ("base_units", base),
            ("minutes", minutes),
            ("time_units", time),
            ("total_units", total),
            ("conversion_factor", cf),
            ("conversion_factor_source", cf_source),
            ("modifier_share", share),
            ("unrounded_amount", unrounded),
            ("arithmetic", _arithmetic(base, time, cf, share, unrounded)),
            ("base_units_source", f"{dataset.dataset_id} (CY {year} base units)"),
        ),
        cost_sharing=CostSharing(True, COINSURANCE),
        geography=_geography(locality),
        notes=_notes(dataset, modifier, minutes, time, row.base_units) + _default_note(given),
    )


def _arithmetic(
    base: int, time: Decimal, cf: Decimal, share: Decimal, unrounded: Decimal | None
) -> str | None:
    if unrounded is None:
        return None
    return f"({base} + {time}) x {cf} x {share} = {unrounded}"


def _default_note(given: str) -> tuple[str, ...]:
    if given:
        return ()
    return (
        "No pricing modifier given: priced as AA (personally performed, 100%). A claim "
        "carries one of AA, AD, QK, QX, QY or QZ; give modifier= to price another.",
    )
