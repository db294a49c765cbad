"""A plan at every site of service: ``plan_sites(snapshot, plan) -> PlanSites``.

The plan's lines are MPFS lines (the professional fees). At each site:

- **office**: every line at the MPFS non-facility rate; no facility fee;
- **hospital_outpatient**: every line at the MPFS facility rate, plus for each line's code an
  OPPS line (same units), priced as one hospital outpatient claim (``engine.plan_facility``:
  comprehensive APC, conditional packaging, status T discount);
- **asc**: every line at the MPFS facility rate, plus for each line's code an ASC line, with
  the ASC multiple procedure discount.

An assistant-at-surgery line (80, 81, 82, AS) is a second professional fee for a procedure
another line already has: it gets no facility line. A site is ``payable`` only when every
line can be performed there: a code the facility schedule does not list, or lists as not
paid (OPPS C inpatient only, an ASC code off the covered list ...), makes the site not
payable with the line's reason; its totals are then None (never a partial total). Packaged
codes (OPPS N, Q1/Q2/Q4 packaged, ASC N1) can be performed: they add 0.00.

Each site is a whole plan priced by ``service.plan_lines.priced``: its cost sharing is the
plan's (deductible in plan order, then coinsurance and copayments).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cms_pricing.engine.adjustments import ASSISTANT
from cms_pricing.engine.plan_facility import ALWAYS_PACKAGED, PACKAGED_BY, quote_indicator
from cms_pricing.engine.plans import MPFS, Plan, PlanLine, PricedPlan
from cms_pricing.engine.quote import ScheduleRequest
from cms_pricing.engine.sites import facility_quote
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import Unprocessable
from cms_pricing.service import plan_lines

SITES = ("office", "hospital_outpatient", "asc")
FACILITY = {"hospital_outpatient": "opps", "asc": "asc"}


@dataclass(frozen=True, slots=True)
class SiteLine:
    index: int  # the plan line
    facility_index: int | None  # the facility line of the site's plan, if any
    facility_reason: str | None  # why the line has no facility fee / cannot be performed


@dataclass(frozen=True, slots=True)
class PlanSite:
    site: str
    payable: bool
    reasons: tuple[str, ...]
    priced: PricedPlan
    lines: tuple[SiteLine, ...]


@dataclass(frozen=True, slots=True)
class PlanSites:
    sites: tuple[PlanSite, ...]
    national: bool  # no cbsa or wage_index: national facility fees


def check(plan: Plan) -> None:
    """422 for what a site plan cannot take: the site sets each line's setting."""
    if plan.setting is not None or plan.pos is not None:
        field = "setting" if plan.setting is not None else "pos"
        raise Unprocessable(f"{field} is set by each site of service; leave it out", field=field)
    for index, line in enumerate(plan.lines):
        if line.schedule != MPFS:
            raise Unprocessable(
                f"line {index}: /plans/sites takes MPFS lines (the professional fees); the "
                "facility fees of each site are added for each line's code",
                field=f"lines.{index}.schedule", line=index,
            )  # fmt: skip
        if line.setting is not None or line.pos is not None:
            field = "setting" if line.setting is not None else "pos"
            raise Unprocessable(
                f"line {index}: {field} is set by each site of service; leave it out",
                field=f"lines.{index}.{field}", line=index,
            )  # fmt: skip
        for name in ("cbsa", "wage_index"):
            if getattr(line, name) is not None:
                raise Unprocessable(
                    f"line {index}: give {name} at plan level on /plans/sites",
                    field=f"lines.{index}.{name}", line=index,
                )  # fmt: skip


def plan_sites(snapshot: Snapshot, plan: Plan) -> PlanSites:
    check(plan)
    built = [_office(snapshot, plan)]
    built.extend(_facility_site(snapshot, plan, site) for site in SITES[1:])
    return PlanSites(tuple(built), plan.cbsa is None and plan.wage_index is None)


def _office(snapshot: Snapshot, plan: Plan) -> PlanSite:
    priced = plan_lines.priced(snapshot, replace(plan, setting="office"))
    lines = tuple(SiteLine(i, None, None) for i in range(len(plan.lines)))
    return PlanSite("office", True, (), priced, lines)


def _facility_site(snapshot: Snapshot, plan: Plan, site: str) -> PlanSite:
    schedule = FACILITY[site]
    extra: list[PlanLine] = []
    lines: list[SiteLine] = []
    reasons: list[str] = []
    for index, line in enumerate(plan.lines):
        if set(line.modifiers) & ASSISTANT:
            lines.append(SiteLine(index, None, "assistant at surgery: no facility fee of its own"))
            continue
        reason = _cannot(snapshot, plan, schedule, line.code)
        if reason is not None:
            reasons.append(f"line {index} ({line.code}): {reason}")
            lines.append(SiteLine(index, None, reason))
            continue
        lines.append(SiteLine(index, len(plan.lines) + len(extra), None))
        extra.append(PlanLine(line.code, units=line.units, schedule=schedule))
    combined = replace(plan, setting="facility", lines=plan.lines + tuple(extra))
    priced = plan_lines.priced(snapshot, combined)
    return PlanSite(site, not reasons, tuple(reasons), priced, tuple(lines))


def _cannot(snapshot: Snapshot, plan: Plan, schedule: str, code: str) -> str | None:
    """Why ``code`` cannot be performed at the site of ``schedule`` (None: it can)."""
    ask = ScheduleRequest(schedule=schedule, code=code, on=plan.on, cbsa=plan.cbsa,
                          wage_index=plan.wage_index)  # fmt: skip
    quote = facility_quote(snapshot, ask)
    if isinstance(quote, str):
        return quote
    if quote.payable:
        return None
    flag = quote_indicator(quote)
    if flag == ALWAYS_PACKAGED[schedule] or (schedule == "opps" and flag in PACKAGED_BY):
        return None  # packaged (or paid alone): performed there
    return quote.reason or f"{schedule.upper()} does not pay for {code}"
