"""Medicare Physician Fee Schedule pricing of one code: ``price_code(snapshot, query) -> Quote``.

Contract (the formulas are those of the RVU25x.pdf; docs/pricing.md explains them):

- amount = (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x CF, in ``Decimal``,
  rounded half-up to the cent once at the end. ``office`` uses the non-facility PE RVU,
  ``facility`` the facility PE RVU. A setting CMS marks NA is still priced with the PE value
  the file carries (as CMS's payment files are), with ``setting_na=True`` and a note.
- Row selection: modifier blank (global), ``26``, ``TC`` or ``53``. 26/TC need PC/TC
  indicator 1 (26 also exists on indicator-6 lab interpretation codes); a modifier row the
  file does not carry is ``Unprocessable``; an unknown code is ``NotFound``.
- Statuses A, R and T are payable. Any other status gives ``payable=False``, money fields
  None, the status in words, and the components still filled. So does a status R row with no
  RVUs in the setting (contractor priced if covered: never a made-up zero), and a code the
  place of service excludes: PC/TC indicator 5 (incident-to) at a hospital place of service,
  PC/TC indicator 8 (physician interpretation) anywhere but a hospital inpatient's
  (RVU25x.pdf Attachment A, PC/TC indicators 5 and 8).
- Telehealth: POS 02 (other than in the patient's home) is priced at the facility rate and
  POS 10 (in the patient's home) at the non-facility rate (CY 2024 PFS final rule, in force
  for 2025).
- OPPS imaging cap (DRA 2005): with an OPPSCAP row for (code, modifier, carrier, locality)
  the payment is the lesser of the MPFS amount and the published cap of the setting
  (``nonfac_price`` for office, ``fac_price`` for facility).
- ``non_participating`` = amount x 0.95 and ``limiting_charge`` = amount x 1.0925, each from
  the rounded amount and rounded half-up once.

Every malformed parameter is ``BadRequest`` with ``details.field`` naming it. Nothing here does
I/O; a call is a handful of dict lookups and Decimal operations.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from cms_pricing.engine.quote import Components, Geography, Gpci, OppsCap, PriceQuery, Quote
from cms_pricing.engine.snapshot import Locality, ReleaseView, Snapshot, row_indicators
from cms_pricing.errors import BadRequest, NotFound, Unprocessable
from cms_pricing.reference.rows import OppsCapRow, RvuRow

CENT = Decimal("0.01")
NON_PARTICIPATING = Decimal("0.95")
# 95% (non-participating) x 115% (limiting charge) = 1.0925. The RVU pdf says to "multiply the
# fee schedule amount by a factor of 1.0925", so the limiting charge is derived from the
# rounded fee schedule amount in one step and rounded once, not from the rounded 95% figure.
LIMITING_FACTOR = Decimal("1.0925")

PAYABLE_STATUSES = frozenset({"A", "R", "T"})
STATUS_REASONS: dict[str, str] = {
    "A": "active code: paid separately under the physician fee schedule",
    "R": "restricted coverage: special coverage instructions apply",
    "T": "injection: paid only when no other fee schedule service is billed that day",
    "B": "bundled: payment is included in the services it is incident to",
    "C": "carrier-priced: the MAC sets the payment case by case",
    "E": "excluded from the fee schedule by regulation",
    "I": "not valid for Medicare: Medicare uses another code",
    "J": "anesthesia service: paid by base and time units, not RVUs",
    "M": "measurement code: reporting only",
    "N": "non-covered service",
    "P": "bundled/excluded: no separate fee schedule payment",
    "X": "statutory exclusion: not a physician service under the fee schedule",
}
STATUS_NOTES: dict[str, str] = {
    "R": "Restricted coverage: the service is paid only where special coverage instructions "
    "allow it, and the MAC may price it.",
    "T": "Injection: paid only when no other physician fee schedule service is billed on the "
    "same date by the same provider; otherwise bundled into that service.",
}

PCTC_WORDS: dict[str, str] = {
    "0": "physician service",
    "2": "professional component only code",
    "3": "technical component only code",
    "4": "global test only code",
    "5": "incident-to service",
    "6": "laboratory physician interpretation code",
    "7": "physical therapy service",
    "8": "physician interpretation code",
    "9": "PC/TC concept does not apply",
}
SUPPORTED_MODIFIERS = ("", "26", "TC", "53")

# POS 02, telehealth other than in the patient's home, is paid at the facility rate; POS 10,
# telehealth in the home, at the non-facility rate (CY 2024 PFS final rule, 88 FR 78818;
# Pub. 100-04 transmittal 12671; in force for CY 2025).
FACILITY_POS = frozenset(
    f"{n:02d}" for n in (2, 19, 21, 22, 23, 24, 26, 31, 34, 41, 42, 51, 52, 53, 56, 61)
)
_TELEHEALTH_LIST = (
    " (CY 2024 PFS final rule, in force for 2025). Only services on the Medicare Telehealth "
    "Services List are payable via telehealth; this service does not check the list."
)
TELEHEALTH_NOTES = {
    "02": "Telehealth other than in the patient's home (POS 02): paid at the facility rate"
    + _TELEHEALTH_LIST,
    "10": "Telehealth in the patient's home (POS 10): paid at the non-facility rate"
    + _TELEHEALTH_LIST,
}
HOSPITAL_INPATIENT_POS = frozenset({"21", "51", "61"})
HOSPITAL_POS = HOSPITAL_INPATIENT_POS | {"19", "22", "23"}
CONTRACTOR_PRICED = frozenset({"C", "J"})  # and a status R row without RVUs (_unpriced)
# "11" and "3" alike -> ("11", setting): one dict lookup validates and normalises a POS.
PLACES: dict[str, tuple[str, str]] = {
    text: (f"{n:02d}", "facility" if f"{n:02d}" in FACILITY_POS else "office")
    for n in range(1, 100)
    for text in {str(n), f"{n:02d}"}
}
_SETTINGS = {"office": "office", "facility": "facility"}
_ARTICLE = {"office": "an office", "facility": "a facility"}


def setting_for(setting: str | None, pos: str | None) -> tuple[str, str | None]:
    """``(setting, normalised pos)`` from the query; office when neither is given."""
    from_pos = None
    if pos is not None:
        from_pos = PLACES.get(pos.strip())
        if from_pos is None:
            raise BadRequest(f"pos must be a place-of-service code 01-99; got {pos!r}", field="pos")
    if setting is None:
        return (from_pos[1], from_pos[0]) if from_pos else ("office", None)
    chosen = _SETTINGS.get(setting.strip().lower())
    if chosen is None:
        raise BadRequest(f"setting must be office or facility; got {setting!r}", field="setting")
    if from_pos and from_pos[1] != chosen:
        raise Unprocessable(
            f"pos {from_pos[0]} is {_ARTICLE[from_pos[1]]} place of service "
            f"but setting is {chosen}",
            field="pos",
        )
    return chosen, from_pos[0] if from_pos else None


def normalise_modifier(modifier: str | None) -> str:
    """``None``/blank -> ``""``; ``tc`` -> ``TC``; unsupported -> BadRequest(field="modifier")."""
    if not modifier:
        return ""
    value = modifier.strip().upper()
    if value not in SUPPORTED_MODIFIERS:
        raise BadRequest(
            f"modifier must be blank, 26, TC or 53; got {modifier!r}", field="modifier"
        )
    return value


def normalise_code(code: str) -> str:
    """A HCPCS code is 5 letters or digits (``99213``, ``G0121``, ``0446T``)."""
    value = code.strip().upper()
    if len(value) != 5 or not (value.isascii() and value.isalnum()):
        raise BadRequest(f"code must be a 5-character HCPCS code; got {code!r}", field="code")
    return value


def _modifier_refusal(code: str, modifier: str, pctc: str) -> str | None:
    """Why ``modifier`` cannot be used with a code of PC/TC indicator ``pctc``, if it cannot."""
    if modifier not in ("26", "TC") or pctc == "1" or (pctc == "6" and modifier == "26"):
        return None
    words = PCTC_WORDS.get(pctc, "unknown indicator")
    if pctc == "6":
        return f"{code}-TC: PC/TC indicator 6: {words}; modifier TC does not apply"
    return f"{code}-{modifier}: PC/TC indicator {pctc}: {words}; modifiers 26 and TC do not apply"


def select_row(release: ReleaseView, code: str, modifier: str) -> RvuRow:
    """The RVU row of ``code`` + ``modifier`` in ``release``."""
    row = release.rvus.get((code, modifier))
    if row is not None:  # the common case: one lookup
        return row
    rows = release.codes.get(code)
    if rows is None:
        raise NotFound(f"code {code} is not in {release.release_id}", field="code")
    refusal = _modifier_refusal(code, modifier, rows[0].pctc)
    if refusal is not None:
        raise Unprocessable(refusal, field="modifier")
    offered = ", ".join(r.modifier or "blank (global)" for r in rows)
    asked = modifier or "blank (global)"
    raise Unprocessable(
        f"{code} has no {asked} row in {release.release_id}; modifiers it carries: {offered}",
        field="modifier",
    )


def _geography(
    snapshot: Snapshot, release: ReleaseView, query: PriceQuery
) -> tuple[Geography, Locality]:
    if query.zip is not None and query.locality is not None:
        raise Unprocessable("give zip or locality, not both", field="locality")
    if query.zip is not None:
        geo = snapshot.resolve_zip(query.zip, release)
        return geo, release.localities[(geo.carrier, geo.locality)]
    if query.locality is None:
        raise Unprocessable("zip or locality is required", field="zip")
    geo = snapshot.resolve_locality(release, query.locality)
    return geo, release.localities[(geo.carrier, geo.locality)]


def _cap(cap_row: OppsCapRow, mpfs: Decimal, facility: bool, payable: bool) -> OppsCap:
    cap = cap_row.fac_price if facility else cap_row.nonfac_price
    return OppsCap(applies=payable and cap_row.status == "A" and cap < mpfs, cap=cap, mpfs=mpfs)


def _cap_note(opps: OppsCap, status: str) -> str | None:
    if opps.applies:
        return (
            f"OPPS imaging cap applied: the MPFS amount {opps.mpfs} exceeds the OPPS-based "
            f"cap {opps.cap}, so the cap is paid."
        )
    if status == "C":
        return f"Carrier-priced: the MAC's price may not exceed the OPPS-based cap {opps.cap}."
    return None


_NOTED = frozenset({*STATUS_NOTES, "J"})  # the statuses _status_notes writes a note for


def _status_notes(row: RvuRow, locality: Locality, setting: str, na: bool) -> list[str]:
    notes = []
    if na:
        notes.append(
            f"CMS marks {row.hcpcs} NA in the {setting} setting (rarely or never "
            "performed there); priced with the PE RVU the file carries, as CMS's "
            "payment files are."
        )
    extra = STATUS_NOTES.get(row.status)
    if extra:
        notes.append(extra)
    if row.status == "J":
        cf = "not published" if locality.anes_cf is None else str(locality.anes_cf)
        notes.append(
            f"Anesthesia: paid as (base + time units) x the locality's anesthesia "
            f"conversion factor, {cf} for {locality.mac}{locality.locality}. Price it with "
            f"GET /codes/price?schedule=anesthesia&code={row.hcpcs}"
            f"&locality={locality.mac}{locality.locality}&minutes=<anesthesia minutes>"
            "[&modifier=AA|AD|QK|QX|QY|QZ]."
        )
    return notes


def price_code(snapshot: Snapshot, query: PriceQuery) -> Quote:
    """Price one code for one place and date of service (see the module docstring)."""
    return quote(locate(snapshot, query))


class Located(NamedTuple):
    """What a query names: the release, the place and the row, and the setting."""

    release: ReleaseView
    row: RvuRow
    geography: Geography
    locality: Locality
    setting: str
    pos: str | None


def locate(snapshot: Snapshot, query: PriceQuery) -> Located:
    """The release, geography, locality and RVU row a query names (the refusals in order)."""
    setting, pos = setting_for(query.setting, query.pos)
    modifier = normalise_modifier(query.modifier)
    code = normalise_code(query.code)
    release = snapshot.select_release(query.release_id, query.on, query.year)
    geography, locality = _geography(snapshot, release, query)
    row = select_row(release, code, modifier)
    return Located(release, row, geography, locality, setting, pos)


class Decision(NamedTuple):
    """What the rules decide for a located query; ``quote`` wraps it in a ``Quote``, and the
    API's fast path writes it out directly (``api/wire.py``, issue 14)."""

    pe_rvu: Decimal  # the PE RVU of the setting
    unrounded: Decimal
    setting_na: bool
    payable: bool
    status_reason: str
    notes: list[str]
    opps_cap: OppsCap | None
    amount: Decimal | None
    non_participating: Decimal | None
    limiting_charge: Decimal | None


def decide(found: Located) -> Decision:
    """The fee, the status and the notes of a located query (the module docstring)."""
    row, locality, setting, pos = found.row, found.locality, found.setting, found.pos
    facility = setting == "facility"
    gpci = locality.gpci
    pe = row.fac_pe_rvu if facility else row.nonfac_pe_rvu
    unrounded = (
        row.work_rvu * gpci.work + pe * gpci.pe + row.mp_rvu * gpci.mp
    ) * row.conversion_factor
    mpfs = unrounded.quantize(CENT, ROUND_HALF_UP)
    na = row.fac_na if facility else row.nonfac_na
    status = row.status
    # The rules below each apply to a few rows: asked only there (issue 14, the hot path).
    notes = _status_notes(row, locality, setting, na) if na or status in _NOTED else []
    refusal = _place_refusal(row, setting, pos, notes) if row.pctc in ("5", "8") else None
    if refusal is None and status == "R":
        refusal = _unpriced(row, unrounded)
    payable = status in PAYABLE_STATUSES and refusal is None
    if pos in TELEHEALTH_NOTES:
        notes.append(TELEHEALTH_NOTES[pos])
    if found.geography.note:
        notes.append(found.geography.note)
    cap_row = found.release.oppscap.get((row.hcpcs, row.modifier, locality.mac, locality.locality))
    opps = _cap(cap_row, mpfs, facility, payable) if cap_row else None
    cap_note = _cap_note(opps, status) if opps else None
    if cap_note:
        notes.append(cap_note)
    amount = (opps.cap if opps and opps.applies else mpfs) if payable else None
    reason = refusal or STATUS_REASONS.get(status) or f"status {status!r}: not payable"
    return Decision(
        pe,
        unrounded,
        na,
        payable,
        reason,
        notes,
        opps,
        amount,
        _times(amount, NON_PARTICIPATING),
        _times(amount, LIMITING_FACTOR),
    )


def quote(found: Located) -> Quote:
    """The ``Quote`` of a located query."""
    release, row, geography, locality, setting, pos = found
    d = decide(found)
    return Quote(
        code=row.hcpcs,
        modifier=row.modifier,
        setting=setting,
        pos=pos,
        payable=d.payable,
        status=row.status,
        status_reason=d.status_reason,
        setting_na=d.setting_na,
        notes=tuple(d.notes),
        release=release.ref,
        geography=geography,
        amount=d.amount,
        non_participating=d.non_participating,
        limiting_charge=d.limiting_charge,
        components=Components(
            row.work_rvu, d.pe_rvu, row.mp_rvu, locality.gpci, row.conversion_factor, d.unrounded
        ),
        opps_cap=d.opps_cap,
        indicators=indicators_of(row),
    )


def indicators_of(row: RvuRow) -> dict[str, str]:
    """A new dict of the row's payment indicators (what ``ReleaseView.indicators`` keeps),
    made from the row the caller holds: copying the release's kept dict cost twice as much
    on a distinct mix, which finds it in memory no recent request touched (issue 14)."""
    return row_indicators(row)


def contractor_priced(quote: Quote) -> bool:
    """Something will be paid, but the MAC sets it: status C, J, or R without RVUs."""
    return quote.status in CONTRACTOR_PRICED or (
        quote.status == "R" and quote.components.unrounded_amount == 0
    )


def _unpriced(row: RvuRow, unrounded: Decimal) -> str | None:
    """Why a status R row is not priced: it carries no RVUs (contractor priced if covered)."""
    if row.status != "R" or unrounded != 0:
        return None
    return (
        "restricted coverage: contractor priced if covered; the file carries no RVUs for "
        f"{row.hcpcs}, so there is no fee schedule amount (never a made-up zero)"
    )


def _place_refusal(row: RvuRow, setting: str, pos: str | None, notes: list[str]) -> str | None:
    """Why the place of service excludes payment of a PC/TC 5 or 8 code (Attachment A)."""
    if row.pctc == "5":
        if pos in HOSPITAL_POS:
            return (
                f"incident-to service (PC/TC indicator 5): not paid by the A/B MAC to hospital "
                f"inpatients or hospital outpatients (place of service {pos})"
            )
        if setting == "facility" and pos is None:
            notes.append(
                "PC/TC indicator 5 (incident-to): not payable to hospital inpatients or "
                "outpatients (POS 19, 21, 22, 23, 51, 61); give pos to apply the rule."
            )
    elif row.pctc == "8":
        if pos in HOSPITAL_INPATIENT_POS:
            return None
        if setting == "facility" and pos is None:
            notes.append(
                "PC/TC indicator 8 (physician interpretation): paid only for a hospital "
                "inpatient (POS 21, 51, 61); give pos to apply the rule."
            )
            return None
        where = f"place of service {pos}" if pos else f"the {setting} setting"
        return (
            "physician interpretation (PC/TC indicator 8): paid only when the physician "
            f"interprets an abnormal smear for a hospital inpatient; not payable in {where}"
        )
    return None


def _times(amount: Decimal | None, factor: Decimal) -> Decimal | None:
    return None if amount is None else (amount * factor).quantize(CENT, ROUND_HALF_UP)


def opps_rate(row: RvuRow, gpci: Gpci, facility: bool) -> Decimal:
    """The OPPS payment amount behind the imaging cap, rounded half-up to the cent.

    The MPFS formula with the OPPS PE RVU of the setting and the OPPS MP RVU (PPRRVU columns
    152-171): OPPSCAP's status-A prices are this figure per carrier-locality.
    """
    pe = row.opps_fac_pe_rvu if facility else row.opps_nonfac_pe_rvu
    unrounded = (
        row.work_rvu * gpci.work + pe * gpci.pe + row.opps_mp_rvu * gpci.mp
    ) * row.conversion_factor
    return unrounded.quantize(CENT, ROUND_HALF_UP)
