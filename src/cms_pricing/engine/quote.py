"""What the pricing engine answers: plain, immutable results (no wire format here).

``engine.mpfs.price_code(snapshot, PriceQuery)`` returns a ``Quote``; the API layer turns it
into JSON. Money is ``Decimal`` rounded half-up to the cent once; ``*_cents`` are the same
figures as integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple


class PriceQuery(NamedTuple):
    """A request for one code's price, already split into fields but not yet validated.

    Exactly one of ``zip`` / ``locality`` is expected; at most one of ``release_id``,
    ``on`` (date of service) and ``year``; ``setting`` and ``pos`` may both be absent
    (default ``office``) but if both are given they must agree. A tuple: one is made per
    request, and a frozen dataclass cost five times as much to make (issue 14).
    """

    code: str
    zip: str | None = None
    locality: str | None = None  # "0111205": 5-digit carrier + 2-digit locality
    setting: str | None = None  # "office" | "facility"
    pos: str | None = None  # place-of-service code, "11", "22", ...
    modifier: str | None = None  # None/"" global, "26", "TC", "53"
    on: date | None = None
    year: int | None = None
    release_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    release_id: str
    effective_from: date
    effective_to: date | None  # day before the next release's effective date, if any
    sha256: str
    published_at: datetime | None


class Geography(NamedTuple):
    """Where a query is priced (a tuple: one is made per request, and a frozen dataclass
    cost three times as much to make, issue 14)."""

    zip: str | None  # the ZIP5 asked for, None when a locality was given directly
    plus4: str | None  # the four digits after the ZIP5, when given
    state: str  # as in the ZIP file: USPS code, or EK/WK/EM/WM
    state_name: str  # "KANSAS" for EK/WK, ...
    carrier: str
    locality: str
    locality_name: str
    rural: str  # "", "R", "B"
    match: str  # "zip5" | "locality"
    ambiguous: bool  # the ZIP spans localities (plus-four flag); ZIP5 locality used
    note: str | None


@dataclass(frozen=True, slots=True)
class Gpci:
    work: Decimal
    pe: Decimal
    mp: Decimal


@dataclass(frozen=True, slots=True)
class Components:
    work_rvu: Decimal
    pe_rvu: Decimal  # the PE RVU of the setting priced
    mp_rvu: Decimal
    gpci: Gpci
    conversion_factor: Decimal
    # The unrounded sum (work*gw + pe*gpe + mp*gmp) * cf, shown so callers can check us.
    unrounded_amount: Decimal


@dataclass(frozen=True, slots=True)
class OppsCap:
    applies: bool  # True when the cap is lower than the MPFS amount and so was paid
    cap: Decimal | None  # the published cap for this code/modifier/locality/setting
    mpfs: Decimal  # the MPFS amount before the cap


@dataclass(frozen=True, slots=True)
class Quote:
    code: str
    modifier: str  # "" for the global row
    setting: str  # "office" | "facility"
    pos: str | None
    payable: bool
    status: str
    status_reason: str  # words for the status code ("active code", "bundled", ...)
    setting_na: bool  # CMS marks this setting NA (rarely or never performed there)
    notes: tuple[str, ...]  # human-readable remarks: NA, ambiguous ZIP, cap applied, ...
    release: ReleaseRef
    geography: Geography
    # The money fields are None when payable is False: never a made-up zero price.
    amount: Decimal | None  # participating fee schedule amount, after the OPPS cap
    non_participating: Decimal | None  # 95% of amount
    limiting_charge: Decimal | None  # 115% of non_participating (amount x 1.0925)
    components: Components
    opps_cap: OppsCap | None  # None when the code/locality has no OPPSCAP row
    indicators: dict[str, str]  # pctc, global_days, mult_proc, bilateral, ...


# -- the other fee schedules (CLFS, DMEPOS, ASP, anesthesia; OPPS and ASC next) -------------


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """One published dataset of a non-MPFS schedule, as an answer names it."""

    schedule: str  # "clfs", "dmepos", "asp", "anesthesia"
    dataset_id: str  # "CLFS-2025Q1"
    effective_from: date
    effective_to: date | None  # last day in force; None: until a newer dataset replaces it
    sha256: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class CostSharing:
    """How the beneficiary shares a schedule's payment (docs/pricing.md, per schedule)."""

    deductible_applies: bool  # the Part B deductible applies (not for CLFS)
    coinsurance_rate: Decimal  # 0.20; 0 for CLFS; the ASP file's percentage for drugs


@dataclass(frozen=True, slots=True)
class ScheduleQuote:
    """The price of one line under a schedule other than the MPFS.

    ``components`` holds the schedule's own arithmetic, in the order it is shown: values
    are ``Decimal`` (exact, as the file writes them or as computed), ``int``, ``bool``,
    ``str`` or ``None``. ``amount`` is None when ``payable`` is False (never a made-up
    zero), and ``reason`` then says why. ``geography`` is a plain mapping for schedules
    priced by place (DMEPOS: state, rural; anesthesia: the MPFS locality), else None.
    """

    schedule: str
    code: str
    modifiers: tuple[str, ...]  # as priced, in order ("RR",), ("NU", "KL")
    payable: bool
    reason: str | None
    amount: Decimal | None  # rounded half-up to the cent once
    dataset: DatasetRef
    components: tuple[tuple[str, Any], ...]
    cost_sharing: CostSharing
    geography: tuple[tuple[str, Any], ...] | None = None
    notes: tuple[str, ...] = ()
    # OPPS (and ASC drugs with an IRA-adjusted copayment): the beneficiary's copayment as a
    # fixed amount, rounded to the cent, instead of ``coinsurance_rate`` x ``amount``.
    copayment: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """A typed request for one code's price under a schedule other than the MPFS.

    Built by ``service.queries`` (which checked every field and how they combine); each
    schedule reads the fields it takes: CLFS ``modifiers`` (0-1); DMEPOS ``modifiers`` (0-3,
    in billing order), ``zip`` or ``state``, ``rural``; ASP ``units``; anesthesia ``zip`` or
    ``locality``, ``minutes``, ``modifiers`` (0-1). ``release_id`` pins a dataset (for
    anesthesia: the RVU release whose anesthesia CF applies).
    """

    schedule: str  # "clfs", "dmepos", "asp", "anesthesia", "opps", "asc"
    code: str
    modifiers: tuple[str, ...] = ()
    on: date | None = None
    year: int | None = None
    release_id: str | None = None
    zip: str | None = None
    locality: str | None = None
    state: str | None = None
    rural: bool | None = None
    units: int | None = None
    minutes: int | None = None
    cbsa: str | None = None  # OPPS/ASC: the CBSA (or 2-digit state-rural code) of the facility
    wage_index: Decimal | None = None  # OPPS/ASC: a wage index given directly (4 places)


@dataclass(frozen=True, slots=True)
class SitesRequest:
    """One service at every site of service (``engine.sites``): ``zip`` or ``locality``
    places the professional fee; ``cbsa`` or ``wage_index`` the facility fees (national
    without either). ``on`` / ``year`` pick the datasets in force."""

    code: str
    zip: str | None = None
    locality: str | None = None
    on: date | None = None
    year: int | None = None
    cbsa: str | None = None
    wage_index: Decimal | None = None
