"""Treatment-plan pricing: ``price_plan(snapshot, Plan) -> PricedPlan``, as Medicare's claims
systems price a claim (docs/plans.md names each rule's source).

A plan is one place (ZIP or carrier-locality), a date of service, and 1-200 lines (code,
modifiers, units, setting or place of service, an optional ``provider`` label and an optional
date of its own). Each line is first priced alone by ``engine.mpfs.price_code`` (at the
release in force on its date); then, in this order:

1. lines paid with another line: the RT and LT lines of one code (same provider and date) are
   one bilateral procedure, priced on the earlier line; an E/M visit inside a procedure's
   global surgery package (same day without 25 / 57, the day before major surgery without
   57 / 25, the postoperative days without 24) and a status T injection billed with another
   service of the same provider and date are paid with that line (``packaged_into``);
2. the bilateral adjustment (``engine.adjustments``) scales the fee schedule amount of the
   line's unit;
3. the multiple procedure rules (``engine.mppr``) rank the units of each practitioner's lines
   of one date (lines with the same ``provider``; an assistant-at-surgery line is always
   another practitioner than the surgeon) and reduce the lower-ranked ones; an OPPS-capped
   imaging unit is compared with its cap after the reduction;
4. the assistant, co-surgeon and global-split percentages scale what is left.

Contract:

- Money is ``Decimal`` on the claim basis (``engine.claim``): a line starts from the
  locality's published fee schedule amount and each step is rounded half-up to the cent;
  ``unrounded`` is the same arithmetic with no rounding. The plan total is the sum of the
  lines; cost sharing (``engine.costshare``) is computed from it.
- Every rule that touches a line is listed on that line as an ``Adjustment`` (rule,
  modifier, percentage, what it applies to, words, citation).
- A line CMS does not pay (status not payable, a place of service that excludes it,
  assistant indicator 1, co-surgeon or team indicator 0) has ``allowed=None`` and
  ``paid=False``; a line the MAC prices (team surgery, a sixth or later ranked procedure,
  status C or J, status R without RVUs) has ``allowed=None`` and ``by_report=True``.
  Neither adds to the total; ``complete`` says whether any paid line was left unpriced. A
  line paid with another has ``allowed`` 0.00 and ``packaged_into``.
- A bad line raises the engine's ``PricingError`` with ``details.line`` (0-based) and
  ``details.field`` as ``lines.<n>.<field>``; plan-level fields keep their own names.

Lines of the other fee schedules (``PlanLine.schedule``: clfs, dmepos, asp, anesthesia) are
priced alone by ``engine.schedules.price_schedule``, at the plan's place and date, from the
typed request the one request parser made of the line (``service.plan_lines``);
the rules between lines (bilateral, multiple procedure, assistants ...) are MPFS rules and
apply among the MPFS lines only (``_schedule_line``). Cost sharing follows each line's
schedule (``engine.costshare.plan_cost_share``).

Pure: no I/O. A 200-line plan is a few hundred dict lookups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from cms_pricing.engine import anesthesia, mppr, plan_facility
from cms_pricing.engine.adjustments import (
    CITE_BILATERAL,
    Adjustment,
    LineTerms,
    Modifiers,
    line_terms,
    parse_modifiers,
)
from cms_pricing.engine.adjustments import MODIFIERS as MPFS_MODIFIERS
from cms_pricing.engine.claim import Fig, total
from cms_pricing.engine.costshare import (
    MPFS_COST_SHARING,
    CostShare,
    ShareLine,
    Subtotal,
    cent,
    plan_cost_share,
)
from cms_pricing.engine.mpfs import contractor_priced, price_code, setting_for
from cms_pricing.engine.quote import (
    Geography,
    PriceQuery,
    Quote,
    ReleaseRef,
    ScheduleQuote,
    ScheduleRequest,
)
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.engine.snapshot import ReleaseView, Snapshot
from cms_pricing.errors import BadRequest, PricingError, Unprocessable
from cms_pricing.reference.rows import RvuRow

MAX_LINES = 200
MAX_UNITS = 999
ZERO = Decimal("0")
PORTION_INDICATORS = frozenset({"4", "6", "7"})
MPFS = "mpfs"
# The modifiers each other schedule prices: CLFS's QW row, the anesthesia payment modifiers,
# and the DMEPOS modifiers of the 2025 fee files (DMEPOS, DMEPEN, former CBA, mail order;
# DMEREAD 2025). A plan line's modifiers are one of these or an MPFS modifier (the OpenAPI
# pattern, api/plan_schemas.py); which of them a code carries is the data's answer.
DMEPOS_MODIFIERS = frozenset(
    {"AU", "AV", "AW", "BA", "KC", "KE", "KF", "KG", "KL", "KM", "KN", "KU", "MS", "NU",
     "QB", "QF", "RR", "UE"}
)  # fmt: skip
SCHEDULE_MODIFIERS: dict[str, frozenset[str]] = {
    MPFS: MPFS_MODIFIERS,
    "clfs": frozenset({"QW"}),
    "dmepos": DMEPOS_MODIFIERS,
    "asp": frozenset(),
    "anesthesia": frozenset(anesthesia.MODIFIERS),
    "opps": frozenset(),
    "asc": frozenset(),
}
ALL_MODIFIERS = frozenset().union(*SCHEDULE_MODIFIERS.values())
MAX_SCHEDULE_MODIFIERS = {"clfs": 1, "dmepos": 3, "asp": 0, "anesthesia": 1, "opps": 0, "asc": 0}
FACILITY_SCHEDULES = plan_facility.FACILITY
CLAIM_ROUNDING = "claim"
CITE_OPPS_CAP = (
    "Deficit Reduction Act of 2005, sec. 5102(b) (RVU25x.pdf: OPPS payment amount); order: "
    "the MAC worksheet 'Imaging Procedure Pricing for Multiple Procedure Reduction and OPPS "
    "Cap' (TrailBlazer Health Enterprises): reduce the MPFS fee, then pay the lower of it and "
    "the OPPS cap"
)
_NO_REQUESTS: Mapping[int, ScheduleRequest] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PlanLine:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    setting: str | None = None
    pos: str | None = None
    provider: str = ""
    schedule: str = MPFS  # mpfs, clfs, dmepos, asp, anesthesia
    state: str | None = None  # DMEPOS: the state priced, instead of the plan's ZIP's
    rural: bool | None = None  # DMEPOS: rural fee or not (default: the ZIP's rural status)
    minutes: int | None = None  # anesthesia: time in minutes (required there)
    cbsa: str | None = None  # OPPS/ASC: the facility's CBSA, instead of the plan's
    wage_index: Decimal | None = None  # OPPS/ASC: a wage index, instead of the plan's
    on: date | None = None  # the line's own date of service (default: the plan's)


@dataclass(frozen=True, slots=True)
class Plan:
    lines: tuple[PlanLine, ...]
    zip: str | None = None
    locality: str | None = None
    on: date | None = None
    release_id: str | None = None
    setting: str | None = None
    pos: str | None = None
    deductible_remaining: Decimal | None = None
    sequestration: bool = False
    cbsa: str | None = None  # OPPS/ASC lines: where the facility fees are wage-adjusted
    wage_index: Decimal | None = None  # or the wage index itself (not both)


@dataclass(frozen=True, slots=True)
class PricedLine:
    index: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    provider: str
    quote: Quote  # one unit of the line, priced alone
    allowed: Decimal | None  # what the line is paid after every rule, on the claim basis
    unrounded: Decimal | None  # the same arithmetic from the unrounded fee, never rounded
    paid: bool
    by_report: bool
    adjustments: tuple[Adjustment, ...]
    notes: tuple[str, ...]
    schedule: str = MPFS
    packaged_into: int | None = None  # paid with that line (RT/LT pair, status T, global E/M)
    on: date | None = None  # the line's date of service


@dataclass(frozen=True, slots=True)
class PricedScheduleLine:
    """A line of a schedule other than the MPFS, priced alone (no rules between lines).

    ``allowed`` is the quote's amount (ASP: already for the line's drug units), times
    ``units`` for the other schedules; None when the schedule publishes no amount (the MAC
    prices it: ``by_report``)."""

    index: int
    schedule: str
    code: str
    modifiers: tuple[str, ...]
    units: int
    provider: str
    quote: ScheduleQuote
    allowed: Decimal | None
    paid: bool
    by_report: bool
    adjustments: tuple[Adjustment, ...]
    notes: tuple[str, ...]
    copayment: Decimal | None = None  # OPPS (ASC drugs): the fixed copayment of the line
    packaged_into: int | None = None  # OPPS/ASC: the line a packaged line is paid with
    on: date | None = None  # the line's date of service


AnyLine = PricedLine | PricedScheduleLine


@dataclass(frozen=True, slots=True)
class PricedPlan:
    release: ReleaseRef
    geography: Geography
    lines: tuple[AnyLine, ...]
    allowed: Decimal
    complete: bool
    cost_share: CostShare
    notes: tuple[str, ...]
    by_schedule: tuple[tuple[str, Subtotal], ...] = ()
    rounding: str = CLAIM_ROUNDING  # the basis of ``allowed``: each payment step to the cent
    unrounded_allowed: Decimal = ZERO  # the lines' unrounded figures, summed


@dataclass(frozen=True, slots=True)
class _Prepared:
    index: int
    line: PlanLine
    on: date | None  # the line's date of service: its own, else the plan's
    mods: Modifiers
    quote: Quote
    row: RvuRow
    terms: LineTerms
    fee: Fig | None  # one unit's published fee schedule amount (OPPS cap paid); None: not payable
    practitioner: str  # who bills the line: its provider label, an assistant at surgery apart
    slots: tuple[mppr.Slot, ...] = ()
    packaged: tuple[int, Adjustment] | None = None  # paid with another line: (its index, why)
    pair: int | None = None  # the line of the other side of an RT/LT pair this line carries

    @property
    def priced(self) -> bool:
        """The line has a fee this plan pays from (payable, not refused by a modifier)."""
        return self.fee is not None and self.terms.paid and not self.terms.by_report


def price_plan(
    snapshot: Snapshot, plan: Plan, requests: Mapping[int, ScheduleRequest] = _NO_REQUESTS
) -> PricedPlan:
    """Price every line of ``plan`` with the rules between them (module docstring).

    ``requests`` holds the typed request of each line of another schedule, by line index,
    as ``service.plan_lines.line_requests`` reads them (the engine parses no text)."""
    _check_size(plan)
    release = snapshot.select_release(plan.release_id, _plan_date(plan), None)
    geography = _geography(snapshot, release, plan)
    setting_for(plan.setting, plan.pos)
    ctx = _Context(snapshot, plan, release)
    _check_wage(plan)
    others = plan_facility.apply({
        i: _schedule_line(ctx, i, line, requests.get(i))
        for i, line in enumerate(plan.lines)
        if line.schedule != MPFS
    })  # fmt: skip
    prepared = [
        _prepare(ctx, i, line) for i, line in enumerate(plan.lines) if line.schedule == MPFS
    ]
    prepared = [_with_slots(ctx, p) for p in _bundle(_pair_sides(prepared))]
    reductions = mppr.reduce([slot for p in prepared for slot in p.slots])
    finished: dict[int, AnyLine] = {p.index: _finish(p, reductions) for p in prepared}
    finished.update(others)
    lines = tuple(finished[i] for i in range(len(plan.lines)))
    allowed = sum((line.allowed for line in lines if line.allowed is not None), Decimal("0.00"))
    share, by_schedule = plan_cost_share(
        [_share_line(line) for line in lines],
        release.year,
        snapshot.constants.deductible(release.year),
        plan.deductible_remaining,
        plan.sequestration,
    )
    complete = all(line.allowed is not None or not line.paid for line in lines)
    return PricedPlan(
        release.ref, geography, lines, allowed, complete, share, _plan_notes(lines, complete),
        by_schedule, CLAIM_ROUNDING, sum((_exact(line) for line in lines), ZERO),
    )  # fmt: skip


def _exact(line: AnyLine) -> Decimal:
    """A line's unrounded figure (another schedule's line: its amount, priced alone)."""
    if line.allowed is None:
        return ZERO
    if isinstance(line, PricedLine) and line.unrounded is not None:
        return line.unrounded
    return line.allowed


def _share_line(line: AnyLine) -> ShareLine:
    terms = line.quote.cost_sharing if isinstance(line, PricedScheduleLine) else MPFS_COST_SHARING
    allowed = line.allowed if line.allowed is not None else Decimal("0.00")
    copayment = line.copayment if isinstance(line, PricedScheduleLine) else None
    return ShareLine(
        line.schedule, allowed, terms.deductible_applies, terms.coinsurance_rate, copayment
    )


def _check_wage(plan: Plan) -> None:
    if plan.cbsa is not None and plan.wage_index is not None:
        raise Unprocessable("give cbsa or wage_index, not both", field="wage_index")


def _check_size(plan: Plan) -> None:
    if not plan.lines:
        raise BadRequest("a plan needs at least one line", field="lines")
    if len(plan.lines) > MAX_LINES:
        raise BadRequest(
            f"a plan has at most {MAX_LINES} lines; got {len(plan.lines)}", field="lines"
        )


def _plan_date(plan: Plan) -> date | None:
    """The date that picks the plan's release: its own, else its lines' earliest.

    Lines with their own dates need every line's date known: the plan's date (the lines
    without their own), or a date on every line."""
    dated = [line.on for line in plan.lines if line.on is not None]
    if plan.on is not None or not dated:
        return plan.on
    if len(dated) != len(plan.lines):
        raise Unprocessable(
            "a line with its own date needs the plan's date (the date of service of the "
            "lines without one), or a date on every line",
            field="date",
        )
    return None if plan.release_id is not None else min(dated)


def _geography(snapshot: Snapshot, release: ReleaseView, plan: Plan) -> Geography:
    if plan.zip is not None and plan.locality is not None:
        raise Unprocessable("give zip or locality, not both", field="locality")
    if plan.zip is not None:
        return snapshot.resolve_zip(plan.zip, release)
    if plan.locality is None:
        raise Unprocessable("zip or locality is required", field="zip")
    return snapshot.resolve_locality(release, plan.locality)


@contextmanager
def at_line(index: int) -> Iterator[None]:
    """Re-raise a ``PricingError`` naming the plan line and its field."""
    try:
        yield
    except PricingError as exc:
        field = exc.details.get("field", "code")
        details = {**exc.details, "line": index, "field": f"lines.{index}.{field}"}
        raise type(exc)(f"line {index}: {exc.message}", **details) from exc


@dataclass(frozen=True, slots=True)
class _Context:
    """What every line of one plan shares: the snapshot, the plan and its release, and the
    quotes its lines asked for (a plan repeats codes, and their TC and 26 rows)."""

    snapshot: Snapshot
    plan: Plan
    release: ReleaseView
    quotes: dict[tuple[str, str, str, str | None, str | None], Quote] = field(default_factory=dict)

    def release_for(self, line: PlanLine) -> ReleaseView:
        """The plan's release, or (a line with its own date, no release pinned) the
        release in force on the line's date."""
        if self.plan.release_id is not None or line.on is None or line.on == self.plan.on:
            return self.release
        return self.snapshot.select_release(None, line.on, None)

    def quote(self, line: PlanLine, code: str, modifier: str) -> Quote:
        own = line.setting is not None or line.pos is not None
        query = PriceQuery(
            code=code,
            zip=self.plan.zip,
            locality=self.plan.locality,
            setting=line.setting if own else self.plan.setting,
            pos=line.pos if own else self.plan.pos,
            modifier=modifier,
            release_id=self.release_for(line).release_id,
        )
        key = (query.release_id or "", code, modifier, query.setting, query.pos)
        found = self.quotes.get(key)
        if found is None:
            found = self.quotes[key] = price_code(self.snapshot, query)
        return found


def _prepare(ctx: _Context, index: int, line: PlanLine) -> _Prepared:
    with at_line(index):
        _refuse_foreign_fields(line)
        if not 1 <= line.units <= MAX_UNITS:
            raise BadRequest(f"units must be 1 to {MAX_UNITS}; got {line.units}", field="units")
        refuse_other_schedules_modifiers(MPFS, line.modifiers)
        mods = parse_modifiers(line.modifiers)
        quote = ctx.quote(line, line.code, mods.row)
        row = ctx.release_for(line).rvus[(quote.code, quote.modifier)]
        terms = line_terms(row, mods, line.units) if quote.payable else LineTerms()
        on = line.on or ctx.plan.on
        who = f"{line.provider}|{'assistant' if mods.assistant else 'surgeon'}"
        return _Prepared(index, line, on, mods, quote, row, terms, _published(quote), who)


def _published(quote: Quote) -> Fig | None:
    """One unit's published fee schedule amount (the OPPS cap where it is paid)."""
    if not quote.payable:
        return None
    cap = _cap(quote)
    return cap if cap is not None else _mpfs_fee(quote)


def _mpfs_fee(quote: Quote) -> Fig:
    """The MPFS fee schedule amount before the OPPS cap: the locality's published figure."""
    return Fig.of(quote.components.unrounded_amount)


def _cap(quote: Quote) -> Fig | None:
    cap = quote.opps_cap
    if cap is not None and cap.applies and cap.cap is not None:
        return Fig(cap.cap, cap.cap)
    return None


# -- rules between lines that pay a line with another ----------------------------------------

SIDES = ("RT", "LT")
CITE_STATUS_T = "RVU25x.pdf Attachment A: Status Code T"
CITE_GLOBAL = (
    "RVU25x.pdf record layout: Global Surgery, positions 104-106; Medicare Claims Processing "
    "Manual (Pub. 100-04) ch. 12, sec. 40.1-40.2"
)
VISITS = range(99202, 99500)  # evaluation and management visit codes
PAIR_WORDS = (
    "(RVU25x.pdf, Bilateral Surgery: a code 'reported twice on the same day by any other means "
    "(e.g., with RT and LT modifiers)' is a bilateral procedure)"
)


def _side(p: _Prepared) -> str | None:
    sides = [m for m in p.mods.informational if m in SIDES]
    if len(sides) != 1 or not p.priced or p.line.units != 1 or "50" in p.mods.payment:
        return None
    return sides[0] if p.row.bilateral in ("0", "1", "2", "3") else None


def _pair_sides(prepared: list[_Prepared]) -> list[_Prepared]:
    """RT and LT lines of one code, practitioner and date paired as one bilateral procedure,
    priced as the code with modifier 50 on the earlier line; the later line is paid with it."""
    out = {p.index: p for p in prepared}
    waiting: dict[tuple[object, ...], list[_Prepared]] = {}
    for p in prepared:
        side = _side(p)
        if side is None:
            continue
        key = (p.quote.code, p.mods.row, p.mods.payment, p.practitioner, p.on, p.quote.setting)
        queue = waiting.setdefault(key, [])
        partner = next((q for q in queue if _side(q) != side), None)
        if partner is None:
            queue.append(p)
            continue
        queue.remove(partner)
        out[partner.index] = _carry_pair(partner, p)
        words = (
            f"{p.quote.code}-{side} is the other side of {p.quote.code}-{_side(partner)} on "
            f"line {partner.index}: RT and LT paired as one bilateral procedure, paid on line "
            f"{partner.index} {PAIR_WORDS}"
        )
        why = Adjustment("bilateral_pair", side, Decimal(0), "fee schedule amount", words,
                         f"{CITE_BILATERAL}, indicator {p.row.bilateral}")  # fmt: skip
        out[p.index] = replace(p, packaged=(partner.index, why))
    return [out[p.index] for p in prepared]


def _carry_pair(first: _Prepared, second: _Prepared) -> _Prepared:
    mods = Modifiers(first.mods.row, first.mods.payment | {"50"}, first.mods.informational)
    terms = line_terms(first.row, mods, 1)
    code = first.quote.code
    adjustments = tuple(
        replace(
            a,
            modifier="RT/LT",
            explanation=f"{code}-RT and {code}-LT (lines {first.index} and {second.index}) "
            f"paired as one bilateral procedure {PAIR_WORDS}; {a.explanation}",
        )
        if a.rule == "bilateral"
        else a
        for a in terms.adjustments
    )
    return replace(first, terms=replace(terms, adjustments=adjustments), pair=second.index)


def _bundle(prepared: list[_Prepared]) -> list[_Prepared]:
    """E/M visits inside a procedure's global package, then status T injections billed with
    another service, paid with that line."""
    visits = [_packaged_by(p, _global_visit(p, prepared)) for p in prepared]
    return [_packaged_by(p, _status_t(p, visits)) for p in visits]


def _packaged_by(p: _Prepared, why: tuple[int, Adjustment] | None) -> _Prepared:
    return p if why is None else replace(p, packaged=why)


def _status_t(p: _Prepared, lines: list[_Prepared]) -> tuple[int, Adjustment] | None:
    if p.packaged or p.quote.status != "T" or not p.quote.payable:
        return None
    others = [
        q for q in lines
        if q.index != p.index and q.practitioner == p.practitioner and q.on == p.on
        and q.quote.status in ("A", "R", "C") and (q.quote.payable or contractor_priced(q.quote))
    ]  # fmt: skip
    if not others:
        return None
    into = min(others, key=lambda q: (q.packaged is not None, q.index))
    words = (
        f"status T (injection): {p.quote.code} is paid only when no other physician fee "
        f"schedule service is billed on the same date by the same provider; {into.quote.code} "
        f"(line {into.index}) is, so {p.quote.code} is bundled into it"
    )
    return into.index, Adjustment("status_t_bundled", None, Decimal(0), "fee schedule amount",
                                  words, CITE_STATUS_T)  # fmt: skip


def _is_visit(code: str) -> bool:
    return code.isdigit() and int(code) in VISITS


def _global_visit(p: _Prepared, lines: list[_Prepared]) -> tuple[int, Adjustment] | None:
    """The procedure whose global surgery package includes the E/M visit ``p``, if any."""
    if p.packaged or not _is_visit(p.quote.code) or not p.priced:
        return None
    own = set(p.mods.informational)
    for q in lines:
        days = q.row.global_days
        if (q.index == p.index or q.practitioner != p.practitioner or not q.priced
                or days not in ("000", "010", "090") or q.packaged):  # fmt: skip
            continue
        when = _visit_timing(p.on, q.on, days, own)
        if when is not None:
            words = (
                f"E/M visit {when} {q.quote.code} (line {q.index}, global period {days}): "
                f"included in the procedure's global surgery package, so not paid separately"
            )
            return q.index, Adjustment("global_surgery", None, Decimal(0),
                                       "fee schedule amount", words, CITE_GLOBAL)  # fmt: skip
    return None


def _visit_timing(
    visit: date | None, procedure: date | None, days: str, modifiers: set[str]
) -> str | None:
    """How a visit falls in a procedure's global period, when no modifier takes it out."""
    if visit == procedure:
        if days == "090":
            return None if modifiers & {"25", "57"} else (
                "on the day of major surgery without modifier 57 (decision for surgery) or 25:"
            )  # fmt: skip
        return None if "25" in modifiers else (
            "on the day of a minor procedure or endoscopy without modifier 25 (significant, "
            "separately identifiable service):"
        )  # fmt: skip
    if visit is None or procedure is None:
        return None
    after = (visit - procedure).days
    if after == -1 and days == "090" and not modifiers & {"25", "57"}:
        return "the day before major surgery without modifier 57 (decision for surgery) or 25:"
    if 1 <= after <= int(days) and "24" not in modifiers:
        return (
            f"{after} days after, in the postoperative period, without modifier 24 (unrelated E/M):"
        )
    return None


# -- the multiple procedure rules ------------------------------------------------------------


def _with_slots(ctx: _Context, p: _Prepared) -> _Prepared:
    """``p`` with its ranked units, when a multiple procedure rule can apply to it."""
    terms, row = p.terms, p.row
    if p.packaged or not p.priced or not terms.ranked or row.mult_proc in ("0", "9"):
        return p
    scale = terms.bilateral
    fee = _mpfs_fee(p.quote)
    tc, pc = _tc_pc(ctx, p.line, row, fee)
    c = p.quote.components
    base = _base_amount(ctx, p.line, row)
    pe = Fig.of(c.pe_rvu * c.gpci.pe * c.conversion_factor)
    amount = fee.times(scale)
    cap = _cap(p.quote)
    tie = (amount.exact, row.modifier, p.quote.setting, p.line.units, terms.shares,
           _or_none(base), _or_none(tc), _or_none(pc), pe.claim, _or_none(cap))  # fmt: skip
    slots = tuple(
        mppr.Slot(
            line=p.index,
            unit=unit,
            group=f"{p.practitioner}|{p.on}",
            code=row.hcpcs,
            indicator=row.mult_proc,
            endo_base=row.endo_base,
            imaging_family=row.imaging_family,
            amount=amount,
            base_amount=base,
            tc=None if tc is None else tc.times(scale),
            pc=None if pc is None else pc.times(scale),
            pe=pe.times(scale),
            tie=tie,
        )
        for unit in range(_unit_count(p.line, p.mods, terms))
    )
    return replace(p, slots=slots)


def _or_none(fig: Fig | None) -> Decimal:
    """A figure's claim amount for a ranking tie-break; -1 where there is none."""
    return Decimal(-1) if fig is None else fig.claim


def _tc_pc(
    ctx: _Context, line: PlanLine, row: RvuRow, amount: Fig
) -> tuple[Fig | None, Fig | None]:
    """The technical and professional portions of one unit (before the OPPS cap), where a
    TC rule needs them."""
    if row.mult_proc not in PORTION_INDICATORS:
        return None, None
    if row.modifier == "TC" or row.pctc == "3":
        return amount, None
    if row.modifier == "26" or row.pctc == "2":
        return None, amount
    if row.pctc != "1":
        return None, None  # a global-only test (PC/TC 4): the file does not split it
    tc = ctx.quote(line, row.hcpcs, "TC")
    pc = ctx.quote(line, row.hcpcs, "26")
    return (_mpfs_fee(tc) if tc.payable else None), (_mpfs_fee(pc) if pc.payable else None)


def _base_amount(ctx: _Context, line: PlanLine, row: RvuRow) -> Fig | None:
    if row.mult_proc != "3" or not row.endo_base:
        return None
    if row.endo_base not in ctx.release_for(line).codes:
        return None
    try:
        base = ctx.quote(line, row.endo_base, "")
    except PricingError:
        return None
    return _mpfs_fee(base) if base.payable else None


def _finish(p: _Prepared, reductions: mppr.Reductions) -> PricedLine:
    quote, terms = p.quote, p.terms
    if p.packaged is not None:
        return _packaged_line(p, *p.packaged)
    adjustments = list(terms.adjustments)
    notes = list(terms.notes)
    by_report = terms.by_report or contractor_priced(quote)
    figure: Fig | None = None
    if p.fee is not None and terms.paid and not by_report:
        if p.slots:
            parts = []
            for slot in p.slots:
                cuts = reductions.get(slot.key, [])
                adjustments.extend(_unit_adjustments(cuts, slot, len(p.slots)))
                by_report = by_report or any(c.by_report for c in cuts)
                part = slot.amount - total([c.amount for c in cuts])
                parts.append(_capped(p, part, bool(cuts), adjustments))
            figure = total(parts)
        else:
            figure = p.fee.times(terms.bilateral).count(_unit_count(p.line, p.mods, terms))
        for share in terms.shares:
            figure = figure.times(share)
    if by_report:
        figure = None
    notes.extend(_line_notes(p))
    return PricedLine(
        index=p.index,
        code=quote.code,
        modifiers=_shown_modifiers(p.mods),
        units=p.line.units,
        provider=p.line.provider,
        quote=quote,
        allowed=None if figure is None else figure.claim,
        unrounded=None if figure is None else figure.exact,
        paid=(quote.payable and terms.paid) or contractor_priced(quote),
        by_report=by_report,
        adjustments=tuple(adjustments),
        notes=tuple(notes),
        on=p.on,
    )  # fmt: skip


def _shown_modifiers(mods: Modifiers) -> tuple[str, ...]:
    return tuple(sorted(mods.payment)) + ((mods.row,) if mods.row else ()) + mods.informational


def _packaged_line(p: _Prepared, into: int, why: Adjustment) -> PricedLine:
    return PricedLine(
        index=p.index, code=p.quote.code, modifiers=_shown_modifiers(p.mods),
        units=p.line.units, provider=p.line.provider, quote=p.quote,
        allowed=Decimal("0.00"), unrounded=ZERO, paid=True, by_report=False,
        adjustments=(why,), notes=tuple(p.quote.notes), packaged_into=into, on=p.on,
    )  # fmt: skip


def _capped(p: _Prepared, part: Fig, reduced: bool, adjustments: list[Adjustment]) -> Fig:
    """The OPPS imaging cap compared after the multiple procedure reductions."""
    cap = _cap(p.quote)
    if cap is None:
        return part
    limit = cap.times(p.terms.bilateral)
    paid = part.least(limit)
    if reduced:
        lower = "the cap" if limit.claim < part.claim else "the reduced amount"
        adjustments.append(Adjustment(
            "opps_cap", None, None, "fee schedule amount after the multiple procedure rules",
            f"OPPS imaging cap compared after the multiple procedure reduction: reduced MPFS "
            f"amount {part.claim} vs OPPS cap {limit.claim}: {lower} is paid, {paid.claim}",
            CITE_OPPS_CAP,
        ))  # fmt: skip
    return paid


def _unit_count(line: PlanLine, mods: Modifiers, terms: LineTerms) -> int:
    """How many priced units a line has: a bilateral pair is one."""
    return 1 if terms.bilateral_by_units or "50" in mods.payment else line.units


def _unit_adjustments(cuts: list[mppr.Reduction], slot: mppr.Slot, count: int) -> list[Adjustment]:
    if count == 1:
        return [c.adjustment for c in cuts]
    return [
        Adjustment(
            a.rule,
            a.modifier,
            a.percent,
            a.applies_to,
            f"unit {slot.unit + 1}: {a.explanation}",
            a.citation,
        )
        for a in (c.adjustment for c in cuts)
    ]


def _line_notes(p: _Prepared) -> list[str]:
    notes = list(p.quote.notes)
    if not p.quote.payable:
        why = (
            "the MAC sets its amount, so it is not priced here and the plan is incomplete"
            if contractor_priced(p.quote)
            else "not paid under the fee schedule, so the line adds nothing to the total"
        )
        notes.append(f"{p.quote.code} (status {p.quote.status}): {p.quote.status_reason}: {why}.")
    indicators = p.quote.indicators
    if indicators["mult_proc"] in PORTION_INDICATORS and indicators["pctc"] not in "123":
        notes.append(
            f"multiple procedure indicator {indicators['mult_proc']} reduces the technical "
            f"component, but {p.quote.code} is a global test only code (PC/TC indicator "
            f"{indicators['pctc']}) without a TC row to split, so no reduction is applied; "
            "the MAC applies it from its own split."
        )
    notes.extend(_modifier_notes(p))
    return notes


def _modifier_notes(p: _Prepared) -> list[str]:
    info = [m for m in p.mods.informational if not (p.pair is not None and m in SIDES)]
    visit = [m for m in info if m in ("24", "25", "57")]
    sides = [m for m in info if m in SIDES]
    rest = [m for m in info if m not in visit and m not in sides]
    notes = []
    if visit and _is_visit(p.quote.code):
        notes.append(
            f"modifier {', '.join(visit)} keeps this E/M visit out of the global surgery "
            "package of a procedure of the same provider (25: separately identifiable on the "
            "day of a procedure; 57: decision for major surgery; 24: unrelated, in the "
            "postoperative period)."
        )
    else:
        rest = visit + rest
    if sides:
        notes.append(
            f"modifier {sides[0]}: no price effect alone; with a line of the other side of the "
            "same code (same provider and date) the two are one bilateral procedure."
        )
    if rest:
        notes.append(f"modifiers {', '.join(rest)} are informational: no price effect.")
    return notes


def _plan_notes(lines: tuple[AnyLine, ...], complete: bool) -> tuple[str, ...]:
    notes = [
        "Rounding basis 'claim': as Medicare's claims systems do, each MPFS line starts from "
        "the locality's published fee schedule amount (rounded to the cent) and each payment "
        "step (bilateral, multiple procedure, assistant, co-surgeon, global split) is rounded "
        "half-up to the cent; unrounded_allowed is the same arithmetic from the unrounded "
        "amounts, never rounded.",
    ]
    if all(line.schedule == MPFS for line in lines):
        notes.append(
            "Cost sharing assumes every line is subject to the Part B deductible and 20% "
            "coinsurance; preventive services whose cost sharing is waived by statute are not "
            "marked in the RVU file and are not recognised."
        )
    else:
        notes.append(
            "Cost sharing follows each line's schedule: MPFS, DMEPOS and anesthesia lines the "
            "Part B deductible and 20% coinsurance; CLFS lines neither; ASP lines the "
            "deductible and the ASP file's coinsurance percentage. The deductible is met by "
            "the lines subject to it in plan order; coinsurance is rounded once per schedule "
            "and rate. Preventive services whose cost sharing is waived by statute are not "
            "recognised."
        )
    if any(line.schedule in FACILITY_SCHEDULES for line in lines):
        notes.append(
            "OPPS lines are one hospital outpatient claim and ASC lines one ASC claim: the "
            "multiple procedure discount (OPPS status T; ASC discounting flag Y) and OPPS "
            "packaging (J1 comprehensive APC; Q1, Q2, Q4 conditional packaging; N) apply among "
            "them. An OPPS line's beneficiary share is its copayment (scaled by the discount; "
            "reduced in proportion where the deductible takes part of the line), an ASC "
            "line's 20% coinsurance. Not applied: the C-APC exclusions and complexity "
            "adjustments of Addendum J, composite APCs (Addendum M), J2 comprehensive "
            "observation, modifiers 52/73/74, the copayment cap per claim."
        )
    if not complete:
        open_lines = ", ".join(str(line.index) for line in lines if line.by_report)
        notes.append(
            f"Lines {open_lines} are paid by report or contractor priced: the MAC sets their "
            "amount, so the totals leave them out."
        )
    return tuple(notes)


# -- lines of the other schedules ------------------------------------------------------------


def _refuse_foreign_fields(line: PlanLine) -> None:
    """422 for a field of the other schedules on an MPFS line."""
    for name, value in (("state", line.state), ("rural", line.rural), ("minutes", line.minutes),
                        ("cbsa", line.cbsa), ("wage_index", line.wage_index)):  # fmt: skip
        if value is not None:
            owner = "an opps or asc" if name in ("cbsa", "wage_index") else "a dmepos or anesthesia"
            raise Unprocessable(
                f"{name} does not apply to an mpfs line (it is {owner} field)", field=name
            )


def refuse_other_schedules_modifiers(schedule: str, modifiers: tuple[str, ...]) -> None:
    """422 for a modifier another schedule prices but this line's schedule does not."""
    own = SCHEDULE_MODIFIERS[schedule]
    for value in modifiers:
        form = value.strip().upper()
        if form in ALL_MODIFIERS and form not in own:
            where = sorted(n for n, mods in SCHEDULE_MODIFIERS.items() if form in mods)
            raise Unprocessable(
                f"modifier {form} does not price a {schedule} line: it is a modifier of "
                f"schedule {', '.join(where)} (give the line's schedule)",
                field="modifiers",
            )


# Where a parser field of a schedule line is in the plan: the line's modifiers list, or a
# field of the plan itself (the error keeps ``details.line``).
_LINE_FIELDS = {"modifier": "modifiers", "modifier2": "modifiers", "modifier3": "modifiers"}
_PLAN_FIELDS = frozenset({"zip", "locality", "date", "release", "year"})
WAGE_FIELDS = frozenset({"cbsa", "wage_index"})


@contextmanager
def at_schedule_line(index: int, plan_fields: frozenset[str] = frozenset()) -> Iterator[None]:
    """A line's error names ``lines.<index>.<field>`` (a plan field keeps its own name;
    ``plan_fields``: the fields the line took from the plan, e.g. its cbsa)."""
    try:
        yield
    except PricingError as exc:
        field = str(exc.details.get("field", "code"))
        if field not in _PLAN_FIELDS and field not in plan_fields:
            field = f"lines.{index}.{_LINE_FIELDS.get(field, field)}"
        details = {**exc.details, "line": index, "field": field}
        raise type(exc)(f"line {index}: {exc.message}", **details) from exc


def _schedule_line(
    ctx: _Context, index: int, line: PlanLine, request: ScheduleRequest | None
) -> PricedScheduleLine:
    if request is None:  # a caller's bug: service.plan_lines reads every such line
        raise ValueError(f"line {index} ({line.schedule}) has no request")
    own = line.cbsa is not None or line.wage_index is not None
    with at_schedule_line(index, frozenset() if own else WAGE_FIELDS):
        quote = price_schedule(ctx.snapshot, request)
    times = 1 if quote.schedule == "asp" else line.units
    allowed = None if quote.amount is None else cent(quote.amount * times)
    notes = [quote.reason] if quote.reason else []
    notes.extend(quote.notes)
    facility = quote.schedule in FACILITY_SCHEDULES
    if facility and not quote.payable:
        allowed = None  # not paid (or packaged: plan_facility says which)
    if line.provider:
        notes.append("provider is a label on this line: the multiple procedure rules are "
                     "MPFS rules, and no rule between lines applies to it.")  # fmt: skip
    return PricedScheduleLine(
        index=index, schedule=quote.schedule, code=quote.code, modifiers=quote.modifiers,
        units=line.units, provider=line.provider, quote=quote, allowed=allowed,
        paid=quote.payable if facility else True,
        by_report=quote.amount is None and not facility,
        adjustments=_schedule_adjustments(quote, times), notes=tuple(notes),
        on=line.on or ctx.plan.on,
    )  # fmt: skip


def _schedule_adjustments(quote: ScheduleQuote, times: int) -> tuple[Adjustment, ...]:
    """How the line's amount was reached, in words (the quote's components hold the figures)."""
    c = dict(quote.components)
    name = quote.schedule.upper()
    steps: list[Adjustment] = []
    if quote.amount is None:
        return ()
    if quote.schedule == "asp":
        unrounded = c.get("unrounded_amount")
        steps.append(Adjustment(
            "asp_units", None, None, "payment limit per dosage unit",
            f"ASP: {c['units']} units x {c['payment_limit_per_unit']} = {unrounded} -> "
            f"{quote.amount}", "ASP pricing file: payment limit per HCPCS dosage unit",
        ))  # fmt: skip
    elif quote.schedule == "anesthesia":
        share = Decimal(c["modifier_share"]) * 100
        steps.append(Adjustment(
            "anesthesia_units", quote.modifiers[0] if quote.modifiers else None,
            share.normalize(), "(base units + time units) x anesthesia CF",
            f"anesthesia: ({c['base_units']} base + {c['time_units']} time units, "
            f"{c['minutes']} minutes / 15) x CF {c['conversion_factor']} x "
            f"{share.normalize():f}% ({'-'.join(quote.modifiers)}) = {c['unrounded_amount']} -> "
            f"{quote.amount}", str(c.get("conversion_factor_source", "")),
        ))  # fmt: skip
    elif quote.schedule == "clfs":
        steps.append(Adjustment(
            "clfs_rate", quote.modifiers[0] if quote.modifiers else None, None,
            "national limitation amount",
            f"CLFS: national limitation amount {quote.amount} (indicator {c['indicator']}), "
            "no geographic adjustment", f"{quote.dataset.dataset_id}: RATE",
        ))  # fmt: skip
    elif quote.schedule in FACILITY_SCHEDULES:
        steps.append(_facility_rate(quote, c))
    else:
        where = dict(quote.geography or ())
        place = where.get("state", "")
        column = c.get("column") or ""
        steps.append(Adjustment(
            f"{quote.schedule}_fee", "-".join(quote.modifiers) or None, None, "fee schedule",
            f"{name}: {quote.code}{''.join('-' + m for m in quote.modifiers)} in {place} "
            f"{column} fee {quote.amount}".replace("  ", " "), quote.dataset.dataset_id,
        ))  # fmt: skip
    if times > 1:
        steps.append(Adjustment(
            "units", None, None, "the amount of one unit",
            f"{times} units x {quote.amount} = {quote.amount * times}", "",
        ))  # fmt: skip
    return tuple(steps)


def _facility_rate(quote: ScheduleQuote, c: dict[str, object]) -> Adjustment:
    """OPPS / ASC: the national rate and its wage adjustment, in words."""
    opps = quote.schedule == "opps"
    flag = c.get("status_indicator") if opps else c.get("payment_indicator")
    group = f"APC {c.get('apc')}, status {flag}" if opps else f"payment indicator {flag}"
    wage = c.get("wage_index")
    if c.get("wage_adjusted") and wage is not None:
        share = c.get("labor_share")
        how = (
            f"national rate {c.get('national_rate')} x ({share} x wage index {wage} + "
            f"{1 - Decimal(str(share))}) = {c.get('unrounded_amount')} -> {quote.amount}"
        )
    else:
        how = f"national rate {quote.amount} (not wage-adjusted)"
    source = "Addendum B" if opps else f"Addendum {c.get('addendum') or 'AA/BB'}"
    return Adjustment(
        f"{quote.schedule}_rate", None, None, "national payment rate",
        f"{quote.schedule.upper()}: {quote.code} ({group}): {how}",
        f"{quote.dataset.dataset_id}: {source}",
    )  # fmt: skip
