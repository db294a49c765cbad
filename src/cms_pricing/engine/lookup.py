"""One code under every fee schedule, and one code at every place: the look-up page's answers.

Contract (docs/lookup.md):

- ``price_everywhere(snapshot, PricesRequest)``: the code under each schedule that lists it,
  at one place and date (``GET /codes/{code}/prices``). The MPFS at the ZIP or locality
  and setting; CLFS; DMEPOS at the ZIP's state (a locality's state), every modifier
  combination the file lists when the code has no unmodified row; ASP for one dosage unit;
  anesthesia when ``minutes`` is given (without it the code is listed with the reason);
  OPPS and ASC, national or wage-adjusted by ``cbsa`` / ``wage_index``. A schedule that
  does not list the code (or has no dataset loaded) is ``absent``; one that lists it but
  cannot price it here (no dataset in force on the date, no fee for the state) is listed
  with the reason. A code no schedule lists is NotFound; errors of the request itself (a
  ZIP not in the file, a locality not in the release) are raised as ``/codes/price`` raises
  them.
- ``price_across(snapshot, AreasRequest)``: the code at every carrier-locality of the MPFS
  release (109 in 2025), or in every state with a DMEPOS fee column (``GET
  /codes/{code}/localities``). Errors are those of pricing the code at one place.

Pure: the engine's own pricing functions over a snapshot; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from cms_pricing.engine.mpfs import price_code
from cms_pricing.engine.quote import (
    DatasetRef,
    PriceQuery,
    Quote,
    ReleaseRef,
    ScheduleQuote,
    ScheduleRequest,
)
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.errors import NotFound, NotReady, PricingError, Unprocessable

if TYPE_CHECKING:
    from cms_pricing.engine.snapshot import Snapshot

# Every schedule ``price_everywhere`` asks, in the order the answer lists them.
SCHEDULES = ("mpfs", "clfs", "dmepos", "asp", "anesthesia", "opps", "asc")
AREA_SCHEDULES = ("mpfs", "dmepos")
# NotFound fields that mean "this schedule does not list the code".
_ABSENT = frozenset({"code"})
# NotFound fields that mean "listed, but not priced here": the reason is shown.
_UNPRICED = frozenset({"modifier", "date", "year", "release", "state", "minutes"})
MAX_COMBINATIONS = 8  # DMEPOS modifier combinations listed for one code

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PricesRequest:
    code: str
    zip: str | None = None
    locality: str | None = None
    setting: str | None = None
    on: date | None = None
    year: int | None = None
    minutes: int | None = None
    cbsa: str | None = None
    wage_index: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """One schedule's answer: a quote, or the reason it has none here."""

    schedule: str
    quote: Quote | ScheduleQuote | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Prices:
    request: PricesRequest
    listed: tuple[Listed, ...]
    absent: tuple[str, ...]  # schedules that do not list the code


@dataclass(frozen=True, slots=True)
class AreasRequest:
    code: str
    schedule: str = "mpfs"  # "mpfs": every locality; "dmepos": every state
    setting: str | None = None
    modifiers: tuple[str, ...] = ()
    on: date | None = None
    year: int | None = None
    release_id: str | None = None


@dataclass(frozen=True, slots=True)
class Area:
    area: str  # "0111205" (carrier + locality) or "CA"
    name: str
    state: str
    quote: Quote | ScheduleQuote


@dataclass(frozen=True, slots=True)
class Areas:
    request: AreasRequest
    kind: str  # "locality" | "state"
    release: ReleaseRef | DatasetRef
    areas: tuple[Area, ...]


class _Absent(Exception):
    """The schedule does not list the code."""


def _attempt(price: Callable[[], T]) -> T | str:
    """The quote, the reason the schedule cannot price the code here, or ``_Absent``."""
    try:
        return price()
    except NotReady as exc:
        raise _Absent from exc
    except NotFound as exc:
        field = exc.details.get("field")
        if field in _ABSENT:
            raise _Absent from exc
        if field in _UNPRICED:
            return exc.message
        raise
    except Unprocessable as exc:
        if exc.details.get("field") not in ("cbsa", "modifier", "minutes"):
            raise
        return exc.message


def _listed(schedule: str, found: Quote | ScheduleQuote | str) -> Listed:
    if isinstance(found, str):
        return Listed(schedule, None, found)
    return Listed(schedule, found)


def _mpfs(snapshot: Snapshot, asked: PricesRequest) -> list[Listed]:
    query = PriceQuery(code=asked.code, zip=asked.zip, locality=asked.locality,
                       setting=asked.setting, on=asked.on, year=asked.year)  # fmt: skip
    return [_listed("mpfs", _attempt(lambda: price_code(snapshot, query)))]


def _request(schedule: str, asked: PricesRequest, **fields: object) -> ScheduleRequest:
    base = ScheduleRequest(schedule=schedule, code=asked.code, on=asked.on, year=asked.year)
    return replace(base, **fields)  # type: ignore[arg-type]


def _simple(schedule: str) -> Callable[[Snapshot, PricesRequest], list[Listed]]:
    def listed(snapshot: Snapshot, asked: PricesRequest) -> list[Listed]:
        extra: dict[str, object] = {}
        if schedule == "asp":
            extra["units"] = 1
        if schedule in ("opps", "asc"):
            extra = {"cbsa": asked.cbsa, "wage_index": asked.wage_index}
        request = _request(schedule, asked, **extra)
        return [_listed(schedule, _attempt(lambda: price_schedule(snapshot, request)))]

    return listed


def _state_of(snapshot: Snapshot, asked: PricesRequest) -> str:
    release = snapshot.select_release(None, asked.on, asked.year)
    assert asked.locality is not None
    return snapshot.resolve_locality(release, asked.locality).state


def _dmepos(snapshot: Snapshot, asked: PricesRequest) -> list[Listed]:
    place: dict[str, object] = (
        {"zip": asked.zip} if asked.zip else {"state": _state_of(snapshot, asked)}
    )
    plain = _request("dmepos", asked, **place)
    first = _attempt(lambda: price_schedule(snapshot, plain))
    if not isinstance(first, str):
        return [_listed("dmepos", first)]
    view = snapshot.schedules.select("dmepos", None, asked.on, asked.year)
    combinations = [m for m in view.table.modifiers.get(asked.code, ()) if m]
    if not combinations:
        return [_listed("dmepos", first)]
    found = []
    for mods in combinations[:MAX_COMBINATIONS]:
        request = replace(plain, modifiers=mods)
        found.append(_listed("dmepos", _attempt(partial(price_schedule, snapshot, request))))
    return found


def _anesthesia(snapshot: Snapshot, asked: PricesRequest) -> list[Listed]:
    place = {"zip": asked.zip, "locality": asked.locality}
    request = _request("anesthesia", asked, minutes=asked.minutes or 1, **place)
    found = _attempt(lambda: price_schedule(snapshot, request))
    if asked.minutes is None and not isinstance(found, str):
        return [Listed("anesthesia", None, "give minutes (anesthesia time) to price it")]
    return [_listed("anesthesia", found)]


_PRICERS: dict[str, Callable[[Snapshot, PricesRequest], list[Listed]]] = {
    "mpfs": _mpfs,
    "clfs": _simple("clfs"),
    "dmepos": _dmepos,
    "asp": _simple("asp"),
    "anesthesia": _anesthesia,
    "opps": _simple("opps"),
    "asc": _simple("asc"),
}


def price_everywhere(snapshot: Snapshot, asked: PricesRequest) -> Prices:
    """The code under every schedule that lists it (module docstring)."""
    listed: list[Listed] = []
    absent: list[str] = []
    for schedule in SCHEDULES:
        try:
            listed.extend(_PRICERS[schedule](snapshot, asked))
        except _Absent:
            absent.append(schedule)
    if not listed:
        raise NotFound(f"code {asked.code} is in none of the fee schedules loaded", field="code")
    return Prices(asked, tuple(listed), tuple(absent))


def price_across(snapshot: Snapshot, asked: AreasRequest) -> Areas:
    """The code at every locality (MPFS) or in every state (DMEPOS)."""
    if asked.schedule == "dmepos":
        return _states(snapshot, asked)
    release = snapshot.select_release(asked.release_id, asked.on, asked.year)
    modifier = asked.modifiers[0] if asked.modifiers else ""
    areas = []
    for locality in snapshot.localities(release):
        where = locality.mac + locality.locality
        query = PriceQuery(code=asked.code, locality=where, setting=asked.setting,
                           modifier=modifier, release_id=release.release_id)  # fmt: skip
        quote = price_code(snapshot, query)
        areas.append(Area(where, locality.name, locality.state, quote))
    return Areas(asked, "locality", release.ref, tuple(areas))


def _states(snapshot: Snapshot, asked: AreasRequest) -> Areas:
    view = snapshot.schedules.select("dmepos", asked.release_id, asked.on, asked.year)
    areas = []
    for state in sorted(view.table.states):
        request = ScheduleRequest(schedule="dmepos", code=asked.code, modifiers=asked.modifiers,
                                  release_id=view.ref.dataset_id, state=state)  # fmt: skip
        try:
            quote = price_schedule(snapshot, request)
        except NotFound as exc:
            if exc.details.get("field") != "state":
                raise
            continue
        areas.append(Area(state, state, state, quote))
    if not areas:
        raise _no_area(asked)
    return Areas(asked, "state", view.ref, tuple(areas))


def _no_area(asked: AreasRequest) -> PricingError:
    return NotFound(f"no state has a DMEPOS fee for {asked.code}", field="code")
