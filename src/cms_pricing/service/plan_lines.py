"""The requests of a plan's lines of the other fee schedules, read by the one parser.

A plan line of another schedule (``PlanLine.schedule``: clfs, dmepos, asp, anesthesia, opps,
asc) asks
what ``GET /codes/price?schedule=...`` asks: its own fields (modifiers in billing order,
units, state, rural, minutes) and the plan's place and date go through
``service.queries.any_price_fields`` as text, so a plan line is refused exactly as the same
query would be (422 for fields that do not combine, 400 for malformed ones), with the field
named ``lines.<n>.<field>``. The engine then prices the typed requests
(``engine.plans.price_plan(snapshot, plan, line_requests(plan))``): it parses no text.
"""

from __future__ import annotations

from datetime import date

from cms_pricing.engine import asp
from cms_pricing.engine.plans import (
    FACILITY_SCHEDULES,
    MAX_SCHEDULE_MODIFIERS,
    MAX_UNITS,
    MPFS,
    WAGE_FIELDS,
    Plan,
    PlanLine,
    PricedPlan,
    at_schedule_line,
    price_plan,
    refuse_other_schedules_modifiers,
)
from cms_pricing.engine.quote import ScheduleRequest
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, Unprocessable
from cms_pricing.service import queries


def priced(snapshot: Snapshot, plan: Plan) -> PricedPlan:
    """``plan`` priced: its lines of other schedules read here, then the engine."""
    return price_plan(snapshot, plan, line_requests(plan))


def line_requests(plan: Plan) -> dict[int, ScheduleRequest]:
    """The typed request of every line of another schedule, by line index."""
    return {
        index: _line_request(plan, index, line)
        for index, line in enumerate(plan.lines)
        if line.schedule != MPFS
    }


def _line_request(plan: Plan, index: int, line: PlanLine) -> ScheduleRequest:
    own = line.cbsa is not None or line.wage_index is not None
    with at_schedule_line(index, frozenset() if own else WAGE_FIELDS):
        most = asp.MAX_UNITS if line.schedule == "asp" else MAX_UNITS
        if not 1 <= line.units <= most:
            raise BadRequest(f"units must be 1 to {most:,}; got {line.units}", field="units")
        return schedule_request(plan, line)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _date_text(on: date | None) -> str | None:
    return on.isoformat() if on else None


def schedule_request(plan: Plan, line: PlanLine) -> ScheduleRequest:
    """The request of a non-MPFS line, parsed by ``service.queries`` as a query would be.

    The place is the plan's (DMEPOS: its ZIP, or the line's ``state``; anesthesia: its ZIP or
    locality; CLFS and ASP: none); the date is the line's own, else the plan's; a plan's
    release pins the MPFS release, which for anesthesia is the release of the anesthesia CF
    (the other schedules take the dataset in force on that date, else the newest). OPPS and
    ASC lines are wage-adjusted by the line's own ``cbsa``/``wage_index``, else the plan's (national
    without either)."""
    chosen = queries.schedule(line.schedule)
    limit = MAX_SCHEDULE_MODIFIERS[chosen]
    if len(line.modifiers) > limit:
        words = "no modifiers" if limit == 0 else f"at most {limit} modifier{'s' * (limit > 1)}"
        raise Unprocessable(f"a {chosen} line takes {words}", field="modifiers")
    refuse_other_schedules_modifiers(chosen, line.modifiers)
    if chosen == "dmepos" and line.state is None and plan.zip is None:
        raise Unprocessable(
            "a dmepos line needs the plan's zip or its own state (the plan gives a locality, "
            "which does not name a state)",
            field="state",
        )
    given: dict[str, str | None] = {
        "schedule": chosen,
        "code": line.code,
        "setting": line.setting,
        "pos": line.pos,
        "state": line.state,
        "rural": _text(line.rural),
        "minutes": _text(line.minutes),
        "date": _date_text(line.on or plan.on),
    }
    given.update(zip(("modifier", "modifier2", "modifier3"), line.modifiers, strict=False))
    if chosen == "asp":
        given["units"] = str(line.units)
    if chosen == "anesthesia":
        given.update(zip=plan.zip, locality=plan.locality, release=plan.release_id)
    if chosen == "dmepos" and line.state is None:
        given["zip"] = plan.zip
    own = line.cbsa is not None or line.wage_index is not None
    if own or chosen in FACILITY_SCHEDULES:
        # a line's own place, else (OPPS, ASC) the plan's; on another schedule a 422
        source = line if own else plan
        given["cbsa"] = source.cbsa
        given["wage_index"] = queries.wage_text(source.wage_index)
    request = queries.any_price_fields(given)
    assert isinstance(request, ScheduleRequest)  # a schedule other than mpfs was named
    return request
