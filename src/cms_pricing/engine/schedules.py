"""The fee schedules other than the MPFS: their datasets, indexed, and which one answers.

One module per payment system prices a line (``clfs``, ``dmepos``, ``asp``, ``anesthesia``,
``opps``, ``asc``; ``wage_index`` is a schedule of its own that OPPS and ASC read);
this module holds what they share:

- ``ScheduleSet.build(datasets)`` indexes every published dataset with its schedule's
  ``build`` (``BUILDERS``) and dates it: a dataset is in force from its ``effective_from`` to
  its own ``effective_to`` (the quarter its file covers) or to the day before the next
  dataset of the schedule begins, whichever is first; a dataset without an end (anesthesia
  base units) is in force until a newer one begins.
- ``ScheduleSet.select(schedule, release_id, on, year)``: ``release_id`` pins a dataset by
  id; ``on`` picks the dataset in force that day (NotFound naming the dates covered when
  none is); ``year`` the newest dataset starting that year; nothing the newest.
- ``price_schedule(snapshot, request)`` resolves the place (a ZIP's state for DMEPOS, a
  ZIP's or carrier-locality's anesthesia CF from the MPFS release in force for anesthesia)
  and calls the schedule's module.
- OPPS and ASC: the conversion factor and labor share are the year constants of the
  dataset's year (``snapshot.constants``, ``engine/constants.py``); the wage index is
  ``request.wage_index`` when given (``Wage.given``); else
  ``request.cbsa`` looked up in the ``wage_index`` dataset in force on the request's date
  (``on``; without a date the newest; ``NotReady`` when none is loaded), with the column each
  system uses (``wage_index.lookup``); else none, and the national unadjusted rate answers.

Adding a schedule: a parser and row type (``reference/``), a declaration
(``reference/schedules.py``), an engine module here with ``build`` and ``price``, one entry
in ``BUILDERS`` and in ``price_schedule``, and its parameters in ``service/queries.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cms_pricing.engine import anesthesia, asc, asp, clfs, dmepos, opps, wage_index
from cms_pricing.engine.constants import YearConstants
from cms_pricing.engine.quote import DatasetRef, ScheduleQuote, ScheduleRequest
from cms_pricing.errors import NotFound, NotReady, Unprocessable
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta

if TYPE_CHECKING:
    from cms_pricing.engine.snapshot import Snapshot

BUILDERS: dict[str, Callable[[Mapping[str, Sequence[Any]]], Any]] = {
    "clfs": clfs.build,
    "dmepos": dmepos.build,
    "asp": asp.build,
    "anesthesia": anesthesia.build,
    "opps": opps.build,
    "asc": asc.build,
    "wage_index": wage_index.build,
}
TITLES = {
    "mpfs": "Medicare Physician Fee Schedule",
    "clfs": "Clinical Laboratory Fee Schedule",
    "dmepos": "Durable Medical Equipment, Prosthetics, Orthotics and Supplies",
    "asp": "Part B drugs: Average Sales Price payment limits",
    "anesthesia": "Anesthesia: base units and time units x the anesthesia conversion factor",
    "opps": "Hospital Outpatient Prospective Payment System: Addendum B payment rates",
    "asc": "Ambulatory Surgical Center payment system: Addenda AA and BB payment rates",
    "wage_index": "OPPS Pricer CBSA wage index (OPPS and ASC geographic adjustment)",
}


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """One dataset, dated and indexed by its schedule's ``build``."""

    ref: DatasetRef
    table: Any


def _refs(metas: Sequence[ScheduleMeta]) -> list[DatasetRef]:
    ordered = sorted(metas, key=lambda m: (m.effective_from, m.dataset_id))
    refs = []
    for index, meta in enumerate(ordered):
        end = meta.effective_to
        later = ordered[index + 1 :]
        if later:
            before_next = later[0].effective_from - timedelta(days=1)
            end = before_next if end is None else min(end, before_next)
        refs.append(
            DatasetRef(
                meta.schedule, meta.dataset_id, meta.effective_from, end, meta.sha256,
                meta.published_at,
            )
        )  # fmt: skip
    return refs


@dataclass(frozen=True, slots=True)
class ScheduleSet:
    """Every published dataset of every schedule other than the MPFS."""

    views: Mapping[str, tuple[ScheduleView, ...]]  # schedule -> views by effective date
    fingerprint: str
    empty: bool = True  # no dataset at all (not even of a schedule this version skips)

    @classmethod
    def build(
        cls, datasets: Sequence[ScheduleData], previous: ScheduleSet | None = None
    ) -> ScheduleSet:
        """Index ``datasets``; a dataset ``previous`` already indexed (same id and hash)
        keeps its table, so a reload after one publish rebuilds only what changed."""
        known = {
            (v.ref.dataset_id, v.ref.sha256): v.table
            for views in (previous.views.values() if previous else ())
            for v in views
        }
        rows = {d.meta.dataset_id: d.rows for d in datasets}

        def table(meta: ScheduleMeta) -> Any:
            found = known.get((meta.dataset_id, meta.sha256))
            return found if found is not None else BUILDERS[meta.schedule](rows[meta.dataset_id])

        return cls.of([d.meta for d in datasets], table)

    @classmethod
    def of(cls, metas: Sequence[ScheduleMeta], table: Callable[[ScheduleMeta], Any]) -> ScheduleSet:
        """The datasets ``metas``, each indexed by ``table(meta)`` (a schedule without a
        builder in ``BUILDERS`` is skipped: a schedule this version does not price yet)."""
        by_schedule: dict[str, list[ScheduleMeta]] = {}
        for meta in metas:
            by_schedule.setdefault(meta.schedule, []).append(meta)
        views: dict[str, tuple[ScheduleView, ...]] = {}
        for name, found in by_schedule.items():
            if name not in BUILDERS:
                continue
            by_id = {m.dataset_id: m for m in found}
            views[name] = tuple(
                ScheduleView(ref, table(by_id[ref.dataset_id])) for ref in _refs(found)
            )
        lines = sorted(f"{m.dataset_id}:{m.sha256}" for m in metas)
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        return cls(MappingProxyType(views), digest, not metas)

    def select(
        self, schedule: str, release_id: str | None, on: date | None, year: int | None
    ) -> ScheduleView:
        """The dataset a query asks for (module docstring)."""
        views = self.views.get(schedule)
        if not views:
            raise NotReady(f"no {schedule.upper()} dataset is loaded yet")
        given = [n for n, v in (("release", release_id), ("date", on), ("year", year)) if v]
        if len(given) > 1:
            raise Unprocessable(
                f"give at most one of release, date and year; got {' and '.join(given)}",
                field=given[1],
            )
        if release_id:
            return _pinned(views, release_id)
        if on is not None:
            return _in_force(views, on)
        if year is not None:
            return _of_year(views, year)
        return views[-1]


def _known(views: Sequence[ScheduleView]) -> str:
    return ", ".join(
        f"{v.ref.dataset_id} ({v.ref.effective_from.isoformat()} to "
        f"{v.ref.effective_to.isoformat() if v.ref.effective_to else 'until replaced'})"
        for v in views
    )


def _pinned(views: Sequence[ScheduleView], release_id: str) -> ScheduleView:
    for view in views:
        if view.ref.dataset_id.upper() == release_id.upper():
            return view
    raise NotFound(f"unknown dataset {release_id!r}; published: {_known(views)}", field="release")


def _in_force(views: Sequence[ScheduleView], on: date) -> ScheduleView:
    for view in reversed(views):
        ref = view.ref
        if ref.effective_from <= on and (ref.effective_to is None or on <= ref.effective_to):
            return view
    schedule = views[0].ref.schedule.upper()
    raise NotFound(
        f"no {schedule} dataset is in force on {on.isoformat()}; published: {_known(views)}",
        field="date",
    )


def _of_year(views: Sequence[ScheduleView], year: int) -> ScheduleView:
    found = [v for v in views if v.ref.effective_from.year == year]
    if not found:
        schedule = views[0].ref.schedule.upper()
        raise NotFound(f"no {schedule} dataset for {year}; published: {_known(views)}",
                       field="year")  # fmt: skip
    return found[-1]


# -- pricing ---------------------------------------------------------------------------------


def price_schedule(snapshot: Snapshot, request: ScheduleRequest) -> ScheduleQuote:
    """The price of ``request`` under its schedule (raises the engine's 4xx errors)."""
    name = request.schedule
    if name == "anesthesia":
        return _anesthesia(snapshot, request)
    view = snapshot.schedules.select(name, request.release_id, request.on, request.year)
    if name == "clfs":
        return clfs.price(view.table, view.ref, request.code, _one(request.modifiers))
    if name == "asp":
        return asp.price(view.table, view.ref, request.code, request.units or 1)
    if name == "opps":
        wage = _wage(snapshot, request)
        return opps.price(view.table, view.ref, request.code, wage, _year(snapshot, view))
    if name == "asc":
        wage = _wage(snapshot, request)
        return asc.price(view.table, view.ref, request.code, wage, _year(snapshot, view))
    if name == "dmepos":
        state, zip5 = _dme_place(snapshot, request)
        return dmepos.price(
            view.table, view.ref, request.code, request.modifiers, state, zip5, request.rural
        )
    raise NotFound(f"schedule {name!r} is not priced here", field="schedule")


def _year(snapshot: Snapshot, view: ScheduleView) -> YearConstants:
    """The year constants of the dataset's year (422 naming it when they are missing)."""
    ref = view.ref
    return snapshot.constants.of(ref.effective_from.year, f"pricing {ref.dataset_id}")


def _wage(snapshot: Snapshot, request: ScheduleRequest) -> wage_index.Wage | None:
    """The wage index an OPPS or ASC request asks for (module docstring)."""
    if request.wage_index is not None:
        return wage_index.Wage.given(request.wage_index)
    if request.cbsa is None:
        return None
    views = snapshot.schedules.views.get("wage_index")
    if not views:
        raise NotReady("no wage index dataset is loaded yet")
    view = views[-1] if request.on is None else _in_force(views, request.on)
    return wage_index.lookup(view.table, view.ref, request.cbsa, request.schedule)


def _one(modifiers: tuple[str, ...]) -> str:
    return modifiers[0] if modifiers else ""


def _dme_place(snapshot: Snapshot, request: ScheduleRequest) -> tuple[str, str | None]:
    if request.zip is None:
        assert request.state is not None  # the parser requires zip or state
        return request.state, None
    zip5 = request.zip[:5]
    row = snapshot.zips.get(zip5)
    if row is None:
        where = snapshot.zip_meta.dataset_id if snapshot.zip_meta else "the ZIP file (not loaded)"
        raise NotFound(f"ZIP {zip5} is not in {where}", field="zip")
    return row.state, zip5


def _anesthesia(snapshot: Snapshot, request: ScheduleRequest) -> ScheduleQuote:
    """Base units from the base-unit dataset in force; the CF from the MPFS release in force
    (``release`` pins the RVU release, as for MPFS prices)."""
    release = snapshot.select_release(request.release_id, request.on, request.year)
    on = request.on or release.ref.effective_from
    views = snapshot.schedules.views.get("anesthesia")
    if not views:
        raise NotReady("no anesthesia base-unit dataset is loaded yet")
    usable = [v for v in views if v.ref.effective_from <= on] or [views[0]]
    base = usable[-1]
    if request.zip is not None:
        geography = snapshot.resolve_zip(request.zip, release)
        carrier, code = geography.carrier, geography.locality
    else:
        assert request.locality is not None  # the parser requires zip or locality
        carrier, code = request.locality[:5], request.locality[5:]
    locality = snapshot.locality(release, carrier, code)
    assert request.minutes is not None  # the parser requires minutes
    return anesthesia.price(
        base.table, base.ref, request.code, locality, request.minutes, _one(request.modifiers),
        release.release_id,
    )  # fmt: skip
