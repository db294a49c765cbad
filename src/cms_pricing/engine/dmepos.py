"""DMEPOS pricing of one item: ``price(table, dataset, code, modifiers, state, zip5, rural)``.

Rules, with their source (DMEREAD 2025 / DMEBACK 2025, shipped with the quarter's files):

- **Row**: HCPCS + modifiers as billed (0-3, order kept) + state. DMEPOS and PEN (B-code)
  fees are priced alike. Unknown code: ``NotFound(field="code")``; a code without that
  modifier combination: ``NotFound(field="modifier")`` listing the file's combinations; a
  state or territory without a fee column: ``NotFound(field="state")``. The ZIP5 file's EK/WK
  and EM/WM become KS and MO (``STATE_ALIASES``).
- **Rural**: an explicit ``rural`` wins; else with a ZIP, rural iff the ZIP is in the DMEPOS
  rural ZIP file for that state (DMEREAD, File Name; 42 CFR 414.202); else non-rural.
- **Column**: the R (rural) amount when rural and the R cell is not 0.00, else NR. A rural
  0.00 means the code has only a non-rural amount, which then applies (DMEREAD, Background:
  codes not adjusted with competitive bidding information "will only have fee schedule
  amounts in the non-rural (NR) columns"). Non-continental areas (AK, HI, PR, VI) are not
  subject to rural fees nor to ceilings and floors (DMEREAD A-1, columns 106-113).
- **Former CBA**: with a ZIP in the former CBA ZIP file and a former-CBA amount for the code,
  modifiers and CBA, that amount applies instead of the state amount: during the temporary
  gap in the competitive bidding program, fee schedule amounts for competitively bid items
  furnished in former CBAs are the CBA's single payment amounts in effect on the last day of
  the contract period, increased by the CPI-U (DMEBACK 2025, section II.5). Both are shown.
- **Mail order (KL)**: a code + modifiers in the national mail-order DTS file is paid that
  national amount everywhere, including DC, PR, VI, Guam and American Samoa (that file's
  footnote; DMEBACK II.5); non-KL diabetic supplies keep the DMEPOS file's amount.
- A 0.00 applicable amount is not payable (``payable=False``, ``amount=None``, a reason).
- Cost sharing: Part B deductible, then 20% coinsurance (DMEBACK 2025, first paragraph).

Malformed inputs are ``BadRequest`` with ``details.field``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.dmepos_table import (
    CATEGORY_MEANINGS,
    JURISDICTION_MEANINGS,
    DmeposTable,
    Mods,
    build,
)
from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import BadRequest, NotFound, echo
from cms_pricing.reference.rows import CbaFeeRow, CbaZipRow, DmeposFeeRow, MailOrderFeeRow

__all__ = ["STATE_ALIASES", "DmeposTable", "build", "price"]

SCHEDULE = "dmepos"
_NONE: Mapping[str, Any] = MappingProxyType({})
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
STATE_ALIASES: Mapping[str, str] = MappingProxyType(
    {"EK": "KS", "WK": "KS", "EM": "MO", "WM": "MO"}
)
NON_CONTINENTAL = frozenset({"AK", "HI", "PR", "VI"})
COST_SHARING = CostSharing(deductible_applies=True, coinsurance_rate=Decimal("0.20"))
PEN_MEANING = "parenteral and enteral nutrition (the PEN file has no category column)"
_CODE = re.compile(r"[A-Z0-9]{5}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_STATE = re.compile(r"[A-Z]{2}")
_ZIP = re.compile(r"[0-9]{5}")

NOTE_RURAL_ZERO = (
    "The rural (R) amount is 0.00: the code has only a non-rural amount, which applies in "
    "rural areas too (DMEREAD 2025, Background)."
)
NOTE_NON_CONTINENTAL = (
    "Non-continental area (AK, HI, PR, VI): not subject to rural fees nor to the ceiling and "
    "floor (DMEREAD 2025, Attachment A-1, columns 106-113)."
)
NOTE_NO_CEILING = (
    "Ceiling and floor are 0.00: this amount is not limited by them (codes adjusted with "
    "competitive bidding information and items under special payment rules; DMEREAD 2025, "
    "Attachment A-1, columns 6-7)."
)
NOTE_MAIL_ORDER = (
    "KL: mail-order diabetic testing supply, paid the national mail-order amount in all parts "
    "of the United States, including DC, PR, VI, Guam and American Samoa (Former CBA National "
    "Mail-Order DTS file; DMEBACK 2025, section II.5). Rural status and state do not change it."
)
NOTE_NON_MAIL_ORDER = (
    "Non-mail-order diabetic testing supply (no KL): priced from the DMEPOS file, at the "
    "national mail-order single payment amount (DMEREAD 2025, Attachment A-1, columns 6-7)."
)


@dataclass(frozen=True, slots=True)
class _Place:
    state: str
    zip5: str | None
    rural: bool
    rural_source: str  # "given", "zip file", "default"
    cba: CbaZipRow | None
    notes: tuple[str, ...]

    def geography(self) -> tuple[tuple[str, Any], ...]:
        cba = self.cba.cba_short_name if self.cba else None
        return (
            ("state", self.state),
            ("zip", self.zip5),
            ("rural", self.rural),
            ("rural_source", self.rural_source),
            ("former_cba", cba),
        )


def price(  # noqa: PLR0917 (the engine contract: one positional argument per query field)
    table: DmeposTable,
    dataset: DatasetRef,
    code: str,
    modifiers: tuple[str, ...],
    state: str,
    zip5: str | None,
    rural: bool | None,
) -> ScheduleQuote:
    """The DMEPOS fee of one item (see the module docstring for the rules)."""
    hcpcs, mods = _code(code), _modifiers(modifiers)
    place = _place(table, _state(state), _zip(zip5), rural)
    mail = table.mail_order.get((hcpcs, mods)) if "KL" in mods else None
    if mail is not None:
        return _mail_order_quote(dataset, hcpcs, mods, place, mail)
    if hcpcs not in table.modifiers and hcpcs not in table.cba_modifiers:
        raise NotFound(f"HCPCS {hcpcs} is not in the DMEPOS fee schedule", field="code")
    if place.state not in table.states:
        reason = f"the DMEPOS fee schedule has no fee column for state {place.state}"
        raise NotFound(reason, field="state")
    fee = table.fees.get((hcpcs, mods), _NONE).get(place.state)
    cba_fees = table.cba_fees.get((hcpcs, mods), _NONE) if place.cba else _NONE
    cba = cba_fees.get(place.cba.cba_short_name) if place.cba else None
    if fee is None and cba is None:
        raise _unknown_modifiers(table, hcpcs, mods)
    return _quote(table, dataset, hcpcs=hcpcs, mods=mods, place=place, row=fee, cba=cba)


def _code(raw: str) -> str:
    code = raw.strip().upper()
    if not _CODE.fullmatch(code):
        raise BadRequest(f"code must be a 5-character HCPCS code, got {echo(raw)}", field="code")
    return code


def _modifiers(raw: tuple[str, ...]) -> Mods:
    mods = tuple(m.strip().upper() for m in raw if m.strip())
    if len(mods) > 3 or not all(_MODIFIER.fullmatch(m) for m in mods):
        reason = f"modifiers must be up to three 2-character codes, got {echo(','.join(raw))}"
        raise BadRequest(reason, field="modifier")
    return mods


def _state(raw: str) -> str:
    state = raw.strip().upper()
    if not _STATE.fullmatch(state):
        raise BadRequest(f"state must be a 2-letter code, got {echo(raw)}", field="state")
    return STATE_ALIASES.get(state, state)


def _zip(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not _ZIP.fullmatch(raw.strip()):
        raise BadRequest(f"zip must be a 5-digit ZIP code, got {echo(raw)}", field="zip")
    return raw.strip()


def _place(table: DmeposTable, state: str, zip5: str | None, rural: bool | None) -> _Place:
    cba = table.cba_zips.get(zip5) if zip5 else None
    if rural is not None:
        return _Place(state, zip5, rural, "given", cba, ())
    if zip5 is None:
        note = "No ZIP code given: priced as non-rural (rural fees need a rural ZIP)."
        return _Place(state, zip5, False, "default", cba, (note,))
    listed = table.rural_zips.get(zip5)
    if listed == state:
        note = f"ZIP {zip5} is in the DMEPOS rural ZIP file for {state}."
        return _Place(state, zip5, True, "zip file", cba, (note,))
    note = f"ZIP {zip5} is not in the DMEPOS rural ZIP file for {state}: non-rural."
    if listed is not None:
        note = f"ZIP {zip5} is rural under {listed}, not {state}: priced as non-rural."
    return _Place(state, zip5, False, "zip file", cba, (note,))


def _unknown_modifiers(table: DmeposTable, hcpcs: str, mods: Mods) -> NotFound:
    def words(combos: tuple[Mods, ...]) -> list[str]:
        return ["+".join(m) if m else "(none)" for m in combos]

    state = words(table.modifiers.get(hcpcs, ()))
    cba_only = [w for w in words(table.cba_modifiers.get(hcpcs, ())) if w not in state]
    message = f"HCPCS {hcpcs} has no fee with modifiers {'+'.join(mods) or '(none)'}"
    message += f"; the fee schedule has: {', '.join(state) or 'none'}"
    if cba_only:
        message += f"; only in former CBAs (needs a ZIP there): {', '.join(cba_only)}"
    return NotFound(message, field="modifier", available=state, former_cba_only=cba_only)


def _state_fee(row: DmeposFeeRow, place: _Place) -> tuple[str, Decimal, tuple[str, ...]]:
    if place.rural and row.rural != ZERO:
        return "R", row.rural, ()
    if place.rural and place.state not in NON_CONTINENTAL:
        return "NR", row.non_rural, (NOTE_RURAL_ZERO,)
    return "NR", row.non_rural, ()


def _row_notes(table: DmeposTable, row: DmeposFeeRow, place: _Place) -> tuple[str, ...]:
    notes: list[str] = []
    if place.state in NON_CONTINENTAL:
        notes.append(NOTE_NON_CONTINENTAL)
    elif row.ceiling == ZERO and row.floor == ZERO:
        notes.append(NOTE_NO_CEILING)
    if any(code == row.hcpcs for code, _ in table.mail_order):
        notes.append(NOTE_NON_MAIL_ORDER)
    return tuple(notes)


def _state_components(
    table: DmeposTable, row: DmeposFeeRow | None, column: str | None, cba: CbaFeeRow | None
) -> tuple[tuple[str, Any], ...]:
    if row is None:
        category = cba.category if cba else ""
        return (
            ("column", None),
            ("fee_non_rural", None),
            ("fee_rural", None),
            ("ceiling", None),
            ("floor", None),
            ("jurisdiction", ""),
            ("jurisdiction_meaning", ""),
            ("category", category),
            ("category_meaning", CATEGORY_MEANINGS.get(category, "")),
            ("fee_file", None),
        )
    pen = (row.hcpcs, _mods_of(row)) in table.pen_keys
    meaning = PEN_MEANING if pen and not row.category else CATEGORY_MEANINGS.get(row.category, "")
    return (
        ("column", column),
        ("fee_non_rural", row.non_rural),
        ("fee_rural", row.rural),
        ("ceiling", row.ceiling),
        ("floor", row.floor),
        ("jurisdiction", row.jurisdiction),
        ("jurisdiction_meaning", JURISDICTION_MEANINGS.get(row.jurisdiction, "")),
        ("category", row.category),
        ("category_meaning", meaning),
        ("fee_file", "DMEPEN" if pen else "DMEPOS"),
    )


def _mods_of(row: DmeposFeeRow) -> Mods:
    return tuple(m for m in (row.modifier, row.modifier2, row.modifier3) if m)


def _cba_notes(place: _Place, cba: CbaFeeRow | None) -> tuple[str, ...]:
    if place.cba is None:
        return ()
    where = f"ZIP {place.zip5} is in the former CBA {place.cba.cba_name}"
    if cba is None:
        return (
            f"{where}, but the former CBA fee schedule has no amount for this item there: "
            "the state fee schedule amount applies.",
        )
    return (
        f"{where}: the former CBA fee schedule amount applies instead of the state amount "
        "(DMEBACK 2025, section II.5: items furnished in former CBAs during the gap in the "
        "competitive bidding program are paid the CBA's last single payment amounts "
        "increased by the CPI-U).",
    )


def _quote(
    table: DmeposTable,
    dataset: DatasetRef,
    *,
    hcpcs: str,
    mods: Mods,
    place: _Place,
    row: DmeposFeeRow | None,
    cba: CbaFeeRow | None,
) -> ScheduleQuote:
    column, state_fee, fee_notes = _state_fee(row, place) if row else (None, None, ())
    applied = cba.fee if cba else state_fee
    components = (
        ("state", place.state),
        ("rural", place.rural),
        *_state_components(table, row, column, cba),
        ("state_fee", state_fee),
    )
    if place.cba is not None:
        components += (
            ("former_cba", place.cba.cba_short_name),
            ("former_cba_name", place.cba.cba_name),
            ("former_cba_fee", cba.fee if cba else None),
        )
    components += (("fee_applied", "former CBA fee schedule" if cba else "state fee schedule"),)
    notes = place.notes + fee_notes + (_row_notes(table, row, place) if row else ())
    reason = _zero_reason(row, place) if applied == ZERO or applied is None else None
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=hcpcs,
        modifiers=mods,
        payable=reason is None,
        reason=reason,
        amount=None if reason or applied is None else applied.quantize(CENT, ROUND_HALF_UP),
        dataset=dataset,
        components=components,
        cost_sharing=COST_SHARING,
        geography=place.geography(),
        notes=notes + _cba_notes(place, cba),
    )


def _zero_reason(row: DmeposFeeRow | None, place: _Place) -> str:
    if row is not None and row.rural != ZERO and not place.rural:
        return (
            f"no non-rural amount in {place.state}: the fee schedule has only a rural "
            f"amount ({row.rural}), and the place is not rural"
        )
    return f"not priced in {place.state}: the applicable fee schedule amount is 0.00"


def _mail_order_quote(
    dataset: DatasetRef, hcpcs: str, mods: Mods, place: _Place, row: MailOrderFeeRow
) -> ScheduleQuote:
    components = (
        ("state", place.state),
        ("mail_order_fee", row.fee),
        ("category", row.category),
        ("category_meaning", CATEGORY_MEANINGS.get(row.category, "")),
        ("fee_applied", "national mail-order fee schedule"),
    )
    payable = row.fee != ZERO
    return ScheduleQuote(
        schedule=SCHEDULE,
        code=hcpcs,
        modifiers=mods,
        payable=payable,
        reason=None if payable else "the national mail-order amount is 0.00",
        amount=row.fee.quantize(CENT, ROUND_HALF_UP) if payable else None,
        dataset=dataset,
        components=components,
        cost_sharing=COST_SHARING,
        geography=place.geography(),
        notes=(NOTE_MAIL_ORDER,),
    )
