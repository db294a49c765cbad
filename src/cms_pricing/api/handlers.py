"""Read endpoints as plain functions: ``(state, typed query) -> JSON-ready answer``.

The query was parsed by ``service.queries`` (one parser for every path in), so a handler
sees only typed, normalised values. Every answer comes from the in-memory snapshot: no
database or network call per request, except ``ready``'s database ping. Handlers raise
``PricingError`` for expected failures; the error boundary (``api/boundary.py``) renders it.
A handler may return a ``Reply`` to choose its own status (``ready``'s 503).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cms_pricing.api import wire
from cms_pricing.engine.lookup import price_across, price_everywhere
from cms_pricing.engine.mpfs import STATUS_REASONS, decide, locate
from cms_pricing.engine.quote import PriceQuery, ScheduleRequest, SitesRequest
from cms_pricing.engine.schedules import TITLES, price_schedule
from cms_pricing.engine.sites import price_sites
from cms_pricing.engine.snapshot import Locality, ReleaseView
from cms_pricing.errors import envelope
from cms_pricing.reference.datasets import ReleaseMeta, Replacement, ScheduleMeta, ZipMeta
from cms_pricing.reference.rows import RvuRow
from cms_pricing.service.offload import warmth_of
from cms_pricing.service.queries import (
    CodeAreasQuery,
    CodePricesQuery,
    CodeQuery,
    LocalityQuery,
    NoQuery,
    Selector,
)
from cms_pricing.service.state import Loaded, Reply, ServiceState


def price(state: ServiceState, query: PriceQuery | ScheduleRequest) -> Any:
    snapshot = state.loaded.snapshot
    if isinstance(query, PriceQuery):
        found = locate(snapshot, query)
        return Reply(200, wire.located_body(found, decide(found)))
    return wire.schedule_quote_json(price_schedule(snapshot, query))


def sites(state: ServiceState, query: SitesRequest) -> Any:
    """``GET /codes/{code}/sites``: the code at the office, the hospital outpatient
    department and the ASC, each with its parts and the beneficiary's share."""
    return wire.sites_json(price_sites(state.loaded.snapshot, query))


def _meta_json(
    meta: ReleaseMeta | ZipMeta | ScheduleMeta, replaced: Sequence[Replacement]
) -> dict[str, Any]:
    return {
        "sha256": meta.sha256,
        "published_at": meta.published_at.isoformat() if meta.published_at else None,
        "files": [
            {"kind": f.kind, "name": f.name, "sha256": f.sha256, "rows": f.rows} for f in meta.files
        ],
        "replaced": [
            {
                "sha256": r.sha256,
                "published_at": r.published_at.isoformat(),
                "replaced_by": r.replaced_by,
                "replaced_at": r.replaced_at.isoformat(),
            }
            for r in replaced
        ],
    }


def releases(state: ServiceState, _query: NoQuery) -> Any:
    loaded = state.loaded
    refs = {ref.release_id: ref for ref in loaded.snapshot.releases}
    return {
        "releases": [
            {
                "id": meta.release_id,
                "schedule": "mpfs",
                "year": meta.year,
                "effective_from": meta.effective_from.isoformat(),
                "effective_to": _iso(refs[meta.release_id].effective_to),
                **_meta_json(meta, loaded.replaced.get(("release", meta.release_id), ())),
            }
            for meta in loaded.releases
        ],
        "zip_datasets": [
            {
                "id": z.dataset_id,
                "year_quarter": z.year_quarter,
                **_meta_json(z, loaded.replaced.get(("zip", z.dataset_id), ())),
            }
            for z in ([loaded.zip_meta] if loaded.zip_meta else [])
        ],
        "datasets": [_dataset_json(loaded, d.meta) for d in loaded.schedules],
    }


def _dataset_json(loaded: Loaded, meta: ScheduleMeta) -> dict[str, Any]:
    """A dataset of another schedule, with the dates the engine keeps it in force."""
    views = loaded.snapshot.schedules.views.get(meta.schedule, ())
    end = next((v.ref.effective_to for v in views if v.ref.dataset_id == meta.dataset_id), None)
    return {
        "id": meta.dataset_id,
        "schedule": meta.schedule,
        "effective_from": meta.effective_from.isoformat(),
        "effective_to": _iso(end),
        **_meta_json(meta, loaded.replaced.get(("schedule", meta.dataset_id), ())),
    }


def schedules(state: ServiceState, _query: NoQuery) -> Any:
    """``GET /reference/schedules``: each schedule and its published datasets."""
    listed = releases(state, _query)
    by_schedule: dict[str, list[Any]] = {name: [] for name in TITLES}
    by_schedule["mpfs"] = listed["releases"]
    for dataset in listed["datasets"]:
        by_schedule.setdefault(dataset["schedule"], []).append(dataset)
    return {
        "schedules": [
            {"schedule": name, "title": TITLES.get(name, name), "datasets": found}
            for name, found in by_schedule.items()
        ],
        "zip_datasets": listed["zip_datasets"],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def health(_state: ServiceState, _query: NoQuery) -> Reply:
    return Reply(200, b'{"status":"ok"}')


def ready(state: ServiceState, _query: NoQuery) -> Reply:
    """Ready once this worker's data is loaded and the database answers. ``expensive`` is
    how its expensive-work children are (``service/offload.py``): they may still be loading
    (``warming``) while the worker serves; a bulk or plan request then waits for them.
    ``rate_limits`` is the limiter's backend (``api/access.py``): ``off``, ``local``, ``redis``,
    or ``degraded`` (Redis failing: per-worker limits in force, and the status is degraded)."""
    database_ok = state.database_ok()
    loaded = state.is_loaded
    redis = state.shared.state
    limits = state.limits_status()
    serving = database_ok and loaded
    degraded = redis == "degraded" or limits == "degraded"
    body: dict[str, Any] = {
        "status": ("degraded" if degraded else "ready") if serving else "not_ready",
        "release_loaded": loaded,
        "database": "ok" if database_ok else "unreachable",
        "redis": redis,
        "expensive": warmth_of(state),
        "rate_limits": limits,
    }
    if loaded:
        body["releases"] = [meta.release_id for meta in state.loaded.releases]
    if serving:  # a Redis fault degrades the service but it still answers
        return Reply(200, wire.dumps(body))
    return Reply(503, envelope("not_ready", "the service is not ready to answer", body))


def selected(loaded: Loaded, chosen: Selector) -> ReleaseView:
    """The release a query's selector names (raises NotFound for an unknown one)."""
    return loaded.snapshot.select_release(chosen.release_id, chosen.on, chosen.year)


def _locality_json(locality: Locality) -> dict[str, Any]:
    return {
        "carrier": locality.mac,
        "locality": locality.locality,
        "carrier_locality": locality.mac + locality.locality,
        "state": locality.state,
        "state_name": locality.state_name,
        "name": locality.name,
        "fee_schedule_area": locality.fee_schedule_area,
        "counties": locality.counties,
        "gpci": {
            "work": str(locality.gpci.work),
            "pe": str(locality.gpci.pe),
            "mp": str(locality.gpci.mp),
        },
        "anesthesia_cf": _text(locality.anes_cf),
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def localities(state: ServiceState, query: LocalityQuery) -> Any:
    """All localities of a release, or the one a ``zip`` falls in."""
    loaded = state.loaded
    release = selected(loaded, query.selector)
    snapshot = loaded.snapshot
    answer: dict[str, Any] = {"release": wire.release_json(release.ref)}
    if query.zip is not None:
        geography = snapshot.resolve_zip(query.zip, release)
        answer["geography"] = wire.geography_json(geography)
        found = snapshot.locality(release, geography.carrier, geography.locality)
        answer["locality"] = _locality_json(found)
    else:
        answer["localities"] = [_locality_json(x) for x in snapshot.localities(release)]
    return answer


def _rvu_json(row: RvuRow, indicators: Mapping[str, str], descriptors: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "modifier": row.modifier,
        "status": row.status,
        "status_reason": STATUS_REASONS.get(row.status, f"status {row.status}"),
        "not_used_for_medicare": row.not_used_for_medicare == "+",
        "work_rvu": str(row.work_rvu),
        "nonfacility_pe_rvu": str(row.nonfac_pe_rvu),
        "nonfacility_na": row.nonfac_na,
        "facility_pe_rvu": str(row.fac_pe_rvu),
        "facility_na": row.fac_na,
        "mp_rvu": str(row.mp_rvu),
        "nonfacility_total": str(row.nonfac_total),
        "facility_total": str(row.fac_total),
        "conversion_factor": str(row.conversion_factor),
        "opps_nonfacility_pe_rvu": str(row.opps_nonfac_pe_rvu),
        "opps_facility_pe_rvu": str(row.opps_fac_pe_rvu),
        "opps_mp_rvu": str(row.opps_mp_rvu),
        "indicators": dict(indicators),
    }
    if descriptors:
        out["description"] = row.description
    return out


def code_reference(state: ServiceState, query: CodeQuery) -> Any:
    """``GET /reference/codes/{code}``: RVUs and indicators of every modifier row.

    No AMA/ADA descriptors unless ``CMS_PRICING_SERVE_DESCRIPTORS`` is on.
    """
    loaded = state.loaded
    release = selected(loaded, query.selector)
    rows = loaded.snapshot.code_rows(release, query.code)
    descriptors = state.settings.serve_descriptors
    return {
        "code": rows[0].hcpcs,
        "release": wire.release_json(release.ref),
        "rows": [
            _rvu_json(r, release.indicators[(r.hcpcs, r.modifier)], descriptors) for r in rows
        ],
    }


def code_prices(state: ServiceState, query: CodePricesQuery) -> Any:
    """``GET /codes/{code}/prices``: the code under every fee schedule that lists it, at one
    place and date; the MPFS descriptor only when ``CMS_PRICING_SERVE_DESCRIPTORS`` is on."""
    snapshot = state.loaded.snapshot
    answer = wire.prices_json(price_everywhere(snapshot, query.request))
    if state.settings.serve_descriptors:
        answer["description"] = _description(state.loaded, query)
    return answer


def _description(loaded: Loaded, query: CodePricesQuery) -> str | None:
    asked = query.request
    release = loaded.snapshot.select_release(None, asked.on, asked.year)
    rows = release.codes.get(asked.code)
    return rows[0].description if rows else None


def code_areas(state: ServiceState, query: CodeAreasQuery) -> Any:
    """``GET /codes/{code}/localities``: the code at every locality, or in every DMEPOS
    state, in one answer (the look-up page's chart)."""
    return wire.areas_json(price_across(state.loaded.snapshot, query.request))
