"""One service at every site of service that pays for it: ``price_sites(snapshot, request)``.

Contract (docs/pricing.md, "Site of service"):

- **office**: the MPFS non-facility amount at the request's ZIP or carrier-locality. No
  facility fee is paid for a physician's office.
- **hospital_outpatient**: the MPFS facility amount (the professional fee) plus the OPPS
  payment for the code (Addendum B), wage-adjusted by ``cbsa`` or ``wage_index``, national
  without either.
- **asc**: the MPFS facility amount plus the ASC payment (Addenda AA/BB), wage-adjusted the
  same way.
- Each site's beneficiary share is the coinsurance of each part before the Part B
  deductible: 20% of the professional fee (MPFS), the OPPS copayment (a fixed amount, capped
  at the inpatient deductible), 20% of the ASC payment (or the file's copayment where it
  gives one); each part rounded half-up to the cent, then added. Medicare's payment is the
  total less the beneficiary's share (before sequestration).
- A site is ``payable`` only when every part of it is: a facility fee that is not paid at
  that site (OPPS status C inpatient-only, N packaged, a code absent from the ASC list, no
  dataset in force on the date) makes the site not payable, with the reason, never a
  made-up amount. ``difference`` compares each payable site with the office.
- An office fee CMS marks NA (the non-facility setting: rarely or never performed in an
  office) is shown with a note and is never the ``lowest`` site.
- The place (``zip``/``locality``) and the dates are the request's: an unknown ZIP or a
  bad combination raises as ``/codes/price`` does. A code no schedule knows is NotFound.

Pure: the engine's own pricing functions over a snapshot; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from cms_pricing.engine.costshare import COINSURANCE, cent
from cms_pricing.engine.mpfs import price_code
from cms_pricing.engine.quote import PriceQuery, Quote, ScheduleQuote, ScheduleRequest, SitesRequest
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.errors import NotFound, NotReady, Unprocessable

if TYPE_CHECKING:
    from cms_pricing.engine.snapshot import Snapshot

SITES = ("office", "hospital_outpatient", "asc")
FACILITY_SCHEDULE = {"hospital_outpatient": "opps", "asc": "asc"}
# NotFound fields that mean "this part has no price here", not "the request is wrong".
_ABSENT_FIELDS = frozenset({"code", "modifier", "date", "year", "release"})


@dataclass(frozen=True, slots=True)
class Site:
    site: str  # "office" | "hospital_outpatient" | "asc"
    payable: bool
    reason: str | None  # why the site is not payable (None when it is)
    professional: Quote | None  # the MPFS fee (None when the MPFS has no row for the code)
    facility: ScheduleQuote | None  # the OPPS or ASC payment; None at the office
    facility_reason: str | None  # why there is no facility quote, when there is none
    total: Decimal | None
    beneficiary: Decimal | None
    program: Decimal | None
    difference: Decimal | None  # total - the office's total
    beneficiary_difference: Decimal | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sites:
    request: SitesRequest
    sites: tuple[Site, ...]
    facility_fees: str  # "national" | "wage-adjusted"
    lowest: str | None  # the payable site with the lowest total
    notes: tuple[str, ...]


def _professional(snapshot: Snapshot, request: SitesRequest, setting: str) -> Quote | str:
    query = PriceQuery(
        code=request.code, zip=request.zip, locality=request.locality, setting=setting,
        on=request.on, year=request.year,
    )  # fmt: skip
    try:
        return price_code(snapshot, query)
    except NotFound as exc:
        if exc.details.get("field") not in _ABSENT_FIELDS:
            raise
        return f"no physician fee schedule price: {exc.message}"


def facility_quote(snapshot: Snapshot, request: ScheduleRequest) -> ScheduleQuote | str:
    """The OPPS or ASC quote of ``request``, or why there is none at that site: no dataset
    loaded or in force on the date, a code the schedule does not list, a CBSA the schedule
    has no index for (ASC at a state rural area without a pre-floor index). Other errors
    (a malformed or unknown CBSA, say) are the request's and are raised."""
    try:
        return price_schedule(snapshot, request)
    except NotReady as exc:
        return exc.message
    except Unprocessable as exc:
        if exc.details.get("field") != "cbsa":
            raise
        return exc.message
    except NotFound as exc:
        if exc.details.get("field") not in _ABSENT_FIELDS:
            raise
        return exc.message


def _facility(snapshot: Snapshot, request: SitesRequest, schedule: str) -> ScheduleQuote | str:
    ask = ScheduleRequest(
        schedule=schedule, code=request.code, on=request.on, year=request.year,
        cbsa=request.cbsa, wage_index=request.wage_index,
    )  # fmt: skip
    return facility_quote(snapshot, ask)


def _professional_share(quote: Quote) -> Decimal:
    assert quote.amount is not None
    return cent(quote.amount * COINSURANCE)


def _facility_share(quote: ScheduleQuote) -> Decimal:
    assert quote.amount is not None
    if quote.copayment is not None:
        return quote.copayment
    return cent(quote.amount * quote.cost_sharing.coinsurance_rate)


def _site(
    name: str, professional: Quote | str, facility: ScheduleQuote | str | None
) -> tuple[Site, Decimal | None, Decimal | None]:
    reasons: list[str] = []
    prof = professional if isinstance(professional, Quote) else None
    if prof is None:
        reasons.append(str(professional))
    elif not prof.payable:
        reasons.append(f"the professional fee is not paid: {prof.status_reason}")
    fac = facility if isinstance(facility, ScheduleQuote) else None
    facility_reason = facility if isinstance(facility, str) else None
    if facility_reason is not None:
        reasons.append(facility_reason)
    elif fac is not None and not fac.payable:
        reasons.append(fac.reason or f"{fac.schedule.upper()} does not pay for this code")
    if reasons:
        site = Site(name, False, "; ".join(reasons), prof, fac, facility_reason,
                    None, None, None, None, None)  # fmt: skip
        return site, None, None
    assert prof is not None and prof.amount is not None
    total, share = prof.amount, _professional_share(prof)
    if fac is not None:
        assert fac.amount is not None
        total, share = total + fac.amount, share + _facility_share(fac)
    notes: tuple[str, ...] = ()
    if name == "office" and prof.setting_na:
        notes = (
            "CMS marks this code NA in the office (non-facility) setting: rarely or never "
            "performed there. The amount is the one CMS publishes; it is not ranked as the "
            "lowest site.",
        )
    site = Site(name, True, None, prof, fac, None, total, share, total - share, None, None,
                notes)  # fmt: skip
    return site, total, share


def price_sites(snapshot: Snapshot, request: SitesRequest) -> Sites:
    """Every site of service for ``request.code`` (module docstring)."""
    office_fee = _professional(snapshot, request, "office")
    facility_fee = _professional(snapshot, request, "facility")
    built: list[Site] = []
    figures: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for name in SITES:
        schedule = FACILITY_SCHEDULE.get(name)
        facility = _facility(snapshot, request, schedule) if schedule else None
        professional = office_fee if name == "office" else facility_fee
        site, total, share = _site(name, professional, facility)
        built.append(site)
        figures[name] = (total, share)
    if not any(isinstance(s.professional, Quote) or s.facility is not None for s in built):
        raise NotFound(
            f"code {request.code} is on none of the schedules priced by site "
            "(MPFS, OPPS Addendum B, ASC Addenda AA/BB)",
            field="code",
        )
    office_total, office_share = figures["office"]
    sites = tuple(_compared(site, office_total, office_share) for site in built)
    payable = [s for s in sites if s.payable and s.total is not None and not s.notes]
    lowest = min(payable, key=lambda s: (s.total, SITES.index(s.site))).site if payable else None
    national = request.cbsa is None and request.wage_index is None
    notes = [
        "beneficiary figures are coinsurance and copayments before the Part B deductible",
    ]
    if national:
        notes.append(
            "facility fees are national (unadjusted): give cbsa or wage_index to adjust them"
        )
    return Sites(request, sites, "national" if national else "wage-adjusted", lowest,
                 tuple(notes))  # fmt: skip


def _compared(site: Site, office_total: Decimal | None, office_share: Decimal | None) -> Site:
    if site.total is None or office_total is None or office_share is None:
        return site
    assert site.beneficiary is not None
    return replace(
        site,
        difference=site.total - office_total,
        beneficiary_difference=site.beneficiary - office_share,
    )
