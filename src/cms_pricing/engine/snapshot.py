"""The immutable in-memory snapshot the pricing engine reads: every published release, indexed.

``Snapshot.open(compiled)`` indexes a compiled snapshot (``engine/compiled.py``: the MPFS
rows and ZIPs, and ``engine/compiled_tables.py``: the other schedules' tables, as one
memory-mapped file every worker shares) once per data load; ``Snapshot.build(releases, zips,
schedules)`` compiles rows in memory first (tests, tools), so both read the same form.
Afterwards nothing mutates it, so one snapshot can serve any number of threads. Every
per-request question is a read-only mapping lookup (a binary search over the mapped keys,
through a bounded cache of decoded rows; localities are plain dicts):

- per release (``ReleaseView``): ``(hcpcs, modifier) -> RvuRow``, ``hcpcs -> rows``,
  ``(mac, locality) -> Locality`` (GPCI, anesthesia CF, 25LOCCO counties),
  ``(hcpcs, modifier, carrier, locality) -> OppsCapRow``;
- for the whole snapshot: ``zip5 -> Zip5Row``, the other schedules' tables
  (``schedules``, ``engine/schedules.py``), and the year constants (``constants``,
  ``engine/constants.py``: deductible, OPPS/ASC conversion factors and labor shares), which
  the caller builds from ``reference/year_constants.toml`` and passes in: the engine reads no
  file.

Release selection (``select_release``): ``release_id`` pins one; ``on`` (date of service)
picks the release of that date's year with the latest ``effective_from`` on or before it;
``year`` picks that year's latest release; nothing picks the latest published release. A
release is in force from its ``effective_from`` to the day before the next release of the same
year, or to 31 December when it is the year's last: CMS publishes a new year's RVUs as a new
release, so a date in a year without releases is ``NotFound``, never last year's prices.

``fingerprint`` is a short hash over every release's and the ZIP file's content hash, the
other schedules' datasets and the year constants' figures: equal snapshots have equal
fingerprints, and any new file or corrected figure changes it (the HTTP cache key / ETag).
An empty snapshot is valid; asking it for a release raises ``NotReady``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from cms_pricing.engine.compiled import (
    CodeRows,
    Compiled,
    Derived,
    KeyedRows,
    ZipRows,
)
from cms_pricing.engine.compiled_tables import compile_all, open_tables
from cms_pricing.engine.constants import YearTable
from cms_pricing.engine.geography import (
    clean_locality_name,
    locality_geography,
    parse_locality,
    parse_zip,
    state_name,
    zip_geography,
)
from cms_pricing.engine.quote import Geography, Gpci, ReleaseRef
from cms_pricing.engine.schedules import ScheduleSet
from cms_pricing.errors import NotFound, NotReady, Unprocessable
from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    ScheduleData,
    ZipData,
    ZipMeta,
)
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

RvuKey = tuple[str, str]  # (hcpcs, modifier)
LocalityKey = tuple[str, str]  # (mac, locality)
CapKey = tuple[str, str, str, str]  # (hcpcs, modifier, carrier, locality)


@dataclass(frozen=True, slots=True)
class Locality:
    """One payment locality of a release: GPCI2025 joined with ANES2025 and 25LOCCO."""

    mac: str
    locality: str
    state: str  # USPS code as in GPCI
    state_name: str
    name: str  # GPCI locality name without its "*" floor markers
    gpci: Gpci
    anes_cf: Decimal | None  # None when ANES2025 has no row for the locality
    fee_schedule_area: str  # from 25LOCCO; "" when 25LOCCO has no row
    counties: str


@dataclass(frozen=True, slots=True)
class ReleaseView:
    """One release, indexed for O(1) lookups. The mappings are read-only views."""

    ref: ReleaseRef
    year: int
    rvus: Mapping[RvuKey, RvuRow]
    codes: Mapping[str, tuple[RvuRow, ...]]
    localities: Mapping[LocalityKey, Locality]
    oppscap: Mapping[CapKey, OppsCapRow]
    indicators: Mapping[RvuKey, Mapping[str, str]]

    @property
    def release_id(self) -> str:
        return self.ref.release_id


def row_indicators(row: RvuRow) -> dict[str, str]:
    """The payment policy indicators of a row, as the quote reports them."""
    return {
        "pctc": row.pctc,
        "global_days": row.global_days,
        "pre_op": str(row.pre_op),
        "intra_op": str(row.intra_op),
        "post_op": str(row.post_op),
        "mult_proc": row.mult_proc,
        "bilateral": row.bilateral,
        "assistant": row.assistant,
        "co_surgeon": row.co_surgeon,
        "team": row.team,
        "endo_base": row.endo_base,
        "supervision": row.supervision,
        "imaging_family": row.imaging_family,
    }


def _counties_by_key(rows: Sequence[LocalityCountyRow]) -> dict[LocalityKey, LocalityCountyRow]:
    # A locality can be listed on several 25LOCCO lines; keep them all, joined.
    joined: dict[LocalityKey, LocalityCountyRow] = {}
    for row in rows:
        key = (row.mac, row.locality)
        seen = joined.get(key)
        if seen is None:
            joined[key] = row
        else:
            joined[key] = LocalityCountyRow(
                row.mac,
                row.locality,
                seen.state,
                f"{seen.fee_schedule_area}; {row.fee_schedule_area}",
                f"{seen.counties}; {row.counties}",
            )
    return joined


def _locality(gpci: GpciRow, anes: AnesCfRow | None, county: LocalityCountyRow | None) -> Locality:
    return Locality(
        mac=gpci.mac,
        locality=gpci.locality,
        state=gpci.state,
        state_name=state_name(gpci.state, county.state if county else gpci.state),
        name=clean_locality_name(gpci.locality_name),
        gpci=Gpci(work=gpci.work, pe=gpci.pe, mp=gpci.mp),
        anes_cf=anes.anes_cf if anes else None,
        fee_schedule_area=county.fee_schedule_area if county else "",
        counties=county.counties if county else "",
    )


def _localities(data: ReleaseData) -> dict[LocalityKey, Locality]:
    anes = {(row.mac, row.locality): row for row in data.anes}
    counties = _counties_by_key(data.localities)
    ordered = sorted(data.gpcis, key=lambda row: (row.mac, row.locality))
    return {
        (row.mac, row.locality): _locality(
            row, anes.get((row.mac, row.locality)), counties.get((row.mac, row.locality))
        )
        for row in ordered
    }


def _indicators(row: RvuRow) -> Mapping[str, str]:
    return MappingProxyType(row_indicators(row))


def _object_view(data: ReleaseData, ref: ReleaseRef) -> ReleaseView:
    """A release as dictionaries of row objects (``Snapshot.from_rows``)."""
    rvus = {(row.hcpcs, row.modifier): row for row in data.rvus}
    codes: dict[str, list[RvuRow]] = {}
    for row in data.rvus:
        codes.setdefault(row.hcpcs, []).append(row)
    caps = {(r.hcpcs, r.modifier, r.carrier, r.locality): r for r in data.oppscap}
    indicators = {key: _indicators(row) for key, row in rvus.items()}
    return ReleaseView(
        ref=ref,
        year=data.meta.year,
        rvus=MappingProxyType(rvus),
        codes=MappingProxyType({code: tuple(rows) for code, rows in codes.items()}),
        localities=MappingProxyType(_localities(data)),
        oppscap=MappingProxyType(caps),
        indicators=MappingProxyType(indicators),
    )


def _view(compiled: Compiled, ref: ReleaseRef, year: int) -> ReleaseView:
    rid = ref.release_id
    rvus: KeyedRows[RvuRow] = KeyedRows(compiled, f"rvu:{rid}")
    return ReleaseView(
        ref=ref,
        year=year,
        rvus=rvus,  # type: ignore[arg-type]
        codes=CodeRows(compiled, f"rvu:{rid}"),
        localities=MappingProxyType(_localities(compiled.small(rid))),
        oppscap=KeyedRows(compiled, f"cap:{rid}"),  # type: ignore[arg-type]
        indicators=Derived(rvus, _indicators),  # type: ignore[arg-type]
    )


def _refs(metas: Sequence[ReleaseMeta]) -> list[ReleaseRef]:
    """ReleaseRefs by effective date; each ends where the next of its year begins."""
    ordered = sorted(metas, key=lambda m: (m.effective_from, m.release_id))
    refs = []
    for index, meta in enumerate(ordered):
        later = [m for m in ordered[index + 1 :] if m.year == meta.year]
        end = later[0].effective_from - timedelta(days=1) if later else date(meta.year, 12, 31)
        refs.append(
            ReleaseRef(meta.release_id, meta.effective_from, end, meta.sha256, meta.published_at)
        )
    return refs


def _refuse_repeated_ids(releases: Sequence[ReleaseData]) -> None:
    ids = [r.meta.release_id for r in releases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"release ids repeat: {sorted(ids)}")


def _fingerprint(metas: Sequence[ReleaseMeta], zip_meta: ZipMeta | None) -> str:
    lines = sorted(f"{m.release_id}:{m.sha256}" for m in metas)
    lines.append(f"zip:{zip_meta.sha256}" if zip_meta else "zip:-")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every published release and the ZIP file, indexed. Build with ``Snapshot.build``
    (rows in memory) or ``Snapshot.open`` (a compiled file, ``engine/compiled.py``)."""

    releases: tuple[ReleaseRef, ...]  # by effective date
    release_metas: tuple[ReleaseMeta, ...]  # the same, with their files
    fingerprint: str
    zip_meta: ZipMeta | None
    views: Mapping[str, ReleaseView]  # by release_id
    by_year: Mapping[int, tuple[ReleaseView, ...]]  # each year's releases by effective date
    zips: Mapping[str, Zip5Row]
    schedules: ScheduleSet  # CLFS, DMEPOS, ASP, anesthesia base units (engine/schedules.py)
    compiled: Compiled | None  # None for a snapshot of row objects (``from_rows``)
    constants: YearTable  # each year's deductible, OPPS/ASC factors (engine/constants.py)
    # the release in force on each date asked for and answered (at most 366 a year)
    dated: dict[date, ReleaseView] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        releases: Sequence[ReleaseData],
        zips: ZipData | None,
        schedules: Sequence[ScheduleData] = (),
        *,
        constants: YearTable,
    ) -> Snapshot:
        """Compile ``releases``, ``zips`` and ``schedules`` in memory and open them (see
        ``open``); raises ValueError on a repeated release id, and what a schedule's
        ``build`` raises on a broken dataset."""
        _refuse_repeated_ids(releases)
        compiled = Compiled.from_bytes(compile_all(releases, zips, schedules))
        return cls.open(compiled, constants=constants)

    @classmethod
    def from_rows(
        cls,
        releases: Sequence[ReleaseData],
        zips: ZipData | None,
        schedules: Sequence[ScheduleData] = (),
        previous: Snapshot | None = None,
        *,
        constants: YearTable,
    ) -> Snapshot:
        """The same snapshot as ``build``, held as dictionaries of row objects in this
        process (``CMS_PRICING_SNAPSHOT_MODE=objects``): faster on rows never asked before,
        about 1.3 KB per record in every worker (docs/performance.md)."""
        _refuse_repeated_ids(releases)
        metas = [r.meta for r in releases]
        by_id = {r.meta.release_id: r for r in releases}
        refs = _refs(metas)
        views = {ref.release_id: _object_view(by_id[ref.release_id], ref) for ref in refs}
        zip_rows = MappingProxyType({row.zip5: row for row in zips.rows} if zips else {})
        zip_meta = zips.meta if zips else None
        others = ScheduleSet.build(schedules, previous.schedules if previous else None)
        return cls._assemble(metas, zip_meta, views, zip_rows, others, None, constants)

    @classmethod
    def open(cls, compiled: Compiled, *, constants: YearTable) -> Snapshot:
        """Index a compiled snapshot: its releases, ZIPs and the other schedules' tables
        (``engine/compiled_tables.py``), all views over the file."""
        metas = compiled.releases
        years = {m.release_id: m.year for m in metas}
        refs = _refs(metas)
        views = {ref.release_id: _view(compiled, ref, years[ref.release_id]) for ref in refs}
        zip_rows = ZipRows(compiled)
        opened = open_tables(compiled)
        tables = {meta.dataset_id: table for meta, table in opened}
        others = ScheduleSet.of([meta for meta, _ in opened], lambda m: tables[m.dataset_id])
        parts = (metas, compiled.zip_meta, views, zip_rows, others, compiled, constants)
        return cls._assemble(*parts)

    @classmethod
    def _assemble(  # noqa: PLR0917 - the parts both forms share
        cls,
        metas: Sequence[ReleaseMeta],
        zip_meta: ZipMeta | None,
        views: dict[str, ReleaseView],
        zip_rows: Mapping[str, Zip5Row],
        others: ScheduleSet,
        compiled: Compiled | None,
        constants: YearTable,
    ) -> Snapshot:
        by_year: dict[int, list[ReleaseView]] = {}
        for view in views.values():
            by_year.setdefault(view.year, []).append(view)
        fingerprint = _fingerprint(metas, zip_meta)
        if not others.empty:  # the other schedules' datasets
            fingerprint = hashlib.sha256(
                f"{fingerprint}:{others.fingerprint}".encode()
            ).hexdigest()[:16]
        # The year constants price OPPS, ASC and plans' cost sharing: a corrected figure is
        # other answers under the same files, so it changes the fingerprint too.
        fingerprint = hashlib.sha256(f"{fingerprint}:{constants.digest}".encode()).hexdigest()[:16]
        by_id = {m.release_id: m for m in metas}
        return cls(
            releases=tuple(v.ref for v in views.values()),
            release_metas=tuple(by_id[rid] for rid in views),
            fingerprint=fingerprint,
            zip_meta=zip_meta,
            views=MappingProxyType(views),
            by_year=MappingProxyType({y: tuple(v) for y, v in by_year.items()}),
            zips=zip_rows,
            schedules=others,
            compiled=compiled,
            constants=constants,
        )

    # -- releases ---------------------------------------------------------------------------

    def select_release(
        self, release_id: str | None = None, on: date | None = None, year: int | None = None
    ) -> ReleaseView:
        """The release a query asks for (see the module docstring for the rules)."""
        if on is None or release_id is not None or year is not None:
            return self._select(release_id, on, year)
        kept = self.dated.get(on)  # the common query: a date of service alone
        if kept is None:
            kept = self.dated[on] = self._select(None, on, None)
        return kept

    def _select(self, release_id: str | None, on: date | None, year: int | None) -> ReleaseView:
        if not self.releases:
            raise NotReady("no fee schedule release is loaded yet")
        # Errors name the public query parameters (release, date, year), not these arguments.
        given = [n for n, v in (("release", release_id), ("date", on), ("year", year)) if v]
        if len(given) > 1:
            raise Unprocessable(
                f"give at most one of release, date and year; got {' and '.join(given)}",
                field=given[1],
            )
        if release_id:
            return self._pinned(release_id)
        if on is not None:
            return self._in_force(on)
        if year is not None:
            return self._year(year, "year")[-1]
        return self.views[self.releases[-1].release_id]

    def _pinned(self, release_id: str) -> ReleaseView:
        view = self.views.get(release_id.strip().upper())
        if view is None:
            known = ", ".join(ref.release_id for ref in self.releases)
            raise NotFound(f"unknown release {release_id!r}; published: {known}", field="release")
        return view

    def _year(self, year: int, field: str) -> tuple[ReleaseView, ...]:
        views = self.by_year.get(year)
        if not views:
            years = ", ".join(str(y) for y in sorted(self.by_year))
            raise NotFound(f"no release for {year}; published years: {years}", field=field)
        return views

    def _in_force(self, on: date) -> ReleaseView:
        candidates = [v for v in self._year(on.year, "date") if v.ref.effective_from <= on]
        if not candidates:
            first = self.by_year[on.year][0].ref
            raise NotFound(
                f"no release in force on {on.isoformat()}: the first {on.year} "
                f"release {first.release_id} starts {first.effective_from.isoformat()}",
                field="date",
            )
        return candidates[-1]

    # -- geography --------------------------------------------------------------------------

    def resolve_zip(self, text: str, release: ReleaseView | None = None) -> Geography:
        """The locality of a ZIP (names from ``release``, default the latest release)."""
        zip5, plus4 = parse_zip(text)
        row = self.zips.get(zip5)
        if row is None:
            where = self.zip_meta.dataset_id if self.zip_meta else "the ZIP file (not loaded)"
            raise NotFound(f"ZIP {zip5} is not in {where}", field="zip")
        view = release if release is not None else self.select_release()
        locality = view.localities.get((row.carrier, row.locality))
        if locality is None:
            raise NotFound(
                f"ZIP {zip5} maps to carrier-locality {row.carrier}{row.locality}, "
                f"which {view.release_id} does not list",
                field="zip",
            )
        return zip_geography(row, plus4, locality.name)

    def locality(self, release: ReleaseView, carrier: str, code: str) -> Locality:
        """The ``Locality`` of a release; NotFound(field="locality") when GPCI lacks it."""
        found = release.localities.get((carrier, code))
        if found is None:
            raise NotFound(
                f"carrier-locality {carrier}{code} is not in {release.release_id}'s GPCI file",
                field="locality",
            )
        return found

    def resolve_locality(self, release: ReleaseView, text: str) -> Geography:
        """The geography of a carrier-locality given as ``"0111205"``."""
        found = self.locality(release, *parse_locality(text))
        return locality_geography(
            found.state, found.state_name, found.mac, found.locality, found.name
        )

    def localities(self, release: ReleaseView) -> list[Locality]:
        """Every locality of a release, sorted by MAC and locality."""
        return list(release.localities.values())

    # -- codes ------------------------------------------------------------------------------

    def code_rows(self, release: ReleaseView, code: str) -> list[RvuRow]:
        """Every modifier row of ``code`` (NotFound when the release does not list it)."""
        rows = release.codes.get(code.strip().upper())
        if rows is None:
            raise NotFound(f"code {code!r} is not in {release.release_id}", field="code")
        return list(rows)
