"""Plan endpoints: price a plan, compare places, saved plans; ``plans_router(service)``.

Routes (all JSON; every 4xx is the ``{"error": {"code", "message", "details"}}`` envelope):

- ``POST /plans/price``: one plan priced (``service.plan_lines.priced``), each adjustment on its
  line, totals and beneficiary cost sharing, and the release (id + sha256) that priced it;
- ``POST /plans/compare``: the same plan at 2-6 places, side by side, with each place's
  difference from the first;
- ``POST /plans/sites``: the plan's MPFS lines at each site of service (office, hospital
  outpatient, ASC) with each site's facility fees (``service.plan_sites``);
- ``POST /plans`` (``Idempotency-Key`` optional), ``GET /plans`` (``cursor``, ``limit``),
  ``GET/PUT/DELETE /plans/{id}`` (``ETag`` on read; ``If-Match`` required on PUT and DELETE:
  428 without it, 412 when stale), ``GET /plans/{id}/price``;
- ``POST /codes/price/bulk`` (``api/bulk.py``).

A saved plan is validated by pricing it before it is stored, so a stored plan has known codes
and valid modifiers. Priced answers are cached by the plan's normalised content and the
snapshot fingerprint in this worker (``PlanPriceCache``), then in the shared Redis layer by
the release and ZIP file hashes: a new release changes both, so no answer outlives the data
that produced it, and an invalidation empties the local layer (``ServiceState.generation``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ParamSpec

import orjson
from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from cms_pricing.api import bulk, wire
from cms_pricing.api.access import Access, caller_of
from cms_pricing.api.endpoints import register
from cms_pricing.api.fastpath import HITS, MISSES
from cms_pricing.api.plan_examples import (
    COMPARE_EXAMPLE,
    DELETED,
    LIST_EXAMPLE,
    PRICED_EXAMPLE,
    SAVED_EXAMPLE,
    SAVED_PRICE_EXAMPLE,
    SITES_EXAMPLE,
)
from cms_pricing.api.plan_schemas import (
    CompareIn,
    PlanIn,
    SavedPlanIn,
    SitesIn,
    content_sha256,
    plan_json,
    request_json,
    to_plan,
)
from cms_pricing.api.schemas import ErrorEnvelope
from cms_pricing.cache import keys
from cms_pricing.cache.policy import CacheClass
from cms_pricing.cache.shared import pack, unpack
from cms_pricing.db import plans as store
from cms_pricing.engine.adjustments import Adjustment
from cms_pricing.engine.costshare import CostShare, Subtotal
from cms_pricing.engine.plans import (
    FACILITY_SCHEDULES,
    AnyLine,
    Plan,
    PricedPlan,
    PricedScheduleLine,
)
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import (
    BadRequest,
    NotFound,
    PricingError,
    Unauthorized,
    Unprocessable,
    echo,
)
from cms_pricing.service import plan_lines, plan_sites, queries
from cms_pricing.service.offload import Offload
from cms_pricing.service.state import Loaded, ServiceState

P = ParamSpec("P")
JSON = "application/json"
CACHE_SIZE = 2048


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope, "description": _WORDS[code]} for code in codes}


_WORDS = {
    400: "A malformed request; details.field names the place (lines.3.units)",
    404: "Unknown code, ZIP, release or plan",
    409: "The Idempotency-Key was used with another body",
    415: "The body is not application/json",
    412: "If-Match names a version that is no longer current",
    422: "Well-formed but not priceable as asked (a modifier the code does not allow)",
    428: "If-Match is required",
    503: "No release loaded yet, the database did not answer, or this worker's budget for "
    "expensive work is full (Retry-After)",
}


def _example(example: Any, status: int = 200, words: str = "Success") -> dict[int | str, Any]:
    return {status: {"description": words, "content": {JSON: {"example": example}}}}


# -- the priced-plan cache -------------------------------------------------------------------


class PlanPriceCache:
    """A bounded, thread-safe, least-recently-used map of key -> answer bytes."""

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: str, compute: Callable[[], bytes]) -> bytes:
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, value: bytes) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


async def priced_answer(
    service: ServiceState, offload: Offload, cache: PlanPriceCache, plan: Plan
) -> bytes:
    """The priced plan as JSON bytes, from a cache when the same plan met the same data.

    Two layers: this worker's ``PlanPriceCache`` (keyed by content, snapshot fingerprint and
    the state's generation, so an invalidation empties it), then the shared Redis layer
    (keyed by the release and ZIP file hashes; a plan costs milliseconds to price, far more
    than a Redis round trip). A miss is priced in an offload child (``plans`` budget); an
    answer the child computed from other data than this worker's (a publish in between)
    is returned but not cached under this worker's keys.
    """
    loaded = service.loaded
    digest = content_sha256(plan)
    key = f"plan:{digest}:{loaded.snapshot.fingerprint}:{service.generation}"
    found = cache.get(key)
    if found is not None:
        return found
    body, fresh = await _shared_or_priced(service, offload, loaded, plan, digest)
    if fresh:
        cache.put(key, body)
    return body


async def _shared_or_priced(
    service: ServiceState, offload: Offload, loaded: Loaded, plan: Plan, digest: str
) -> tuple[bytes, bool]:
    try:
        release = loaded.snapshot.select_release(plan.release_id, plan.on, None)
    except PricingError:
        return await _priced(offload, loaded, plan)  # raises the same error with its 4xx
    zip_sha = loaded.zip_meta.sha256 if loaded.zip_meta else None
    scope = keys.release_scope(release.release_id, release.ref.sha256, zip_sha)
    if any(line.schedule != "mpfs" for line in plan.lines):
        # Lines of other schedules: their datasets are not in the release scope, so their
        # fingerprint joins the key (MPFS-only plans keep the key they had).
        digest = f"{digest}:{loaded.snapshot.schedules.fingerprint}"
    # The deductible and the OPPS/ASC factors come from the year constants, not the files.
    digest = f"{digest}:{loaded.snapshot.constants.digest}"
    shared_key = keys.shared_key(scope, "plan", "/plans/price", digest)
    found = await service.shared.get(shared_key)
    if isinstance(found, bytes):
        HITS["redis", CacheClass.PRICING][0] += 1
        return unpack(found)[2], True
    MISSES["redis", CacheClass.PRICING][0] += 1
    body, fresh = await _priced(offload, loaded, plan)
    if fresh:
        ttl = service.policy.ttl[CacheClass.PRICING]
        await service.shared.set(shared_key, pack(200, None, body), ttl)
    return body, fresh


async def _priced(offload: Offload, loaded: Loaded, plan: Plan) -> tuple[bytes, bool]:
    """(answer, whether it was priced from ``loaded``'s data) from an offload child."""
    with offload.admitted("plans"):
        done = await offload.run(priced_bytes, plan)
    return done.value, done.version == loaded.version


def priced_bytes(loaded: Loaded, plan: Plan) -> bytes:
    """The offload task: one plan priced and rendered."""
    return wire.dumps(priced_json(plan_lines.priced(loaded.snapshot, plan)))


def sites_bytes(loaded: Loaded, body: SitesIn) -> bytes:
    """The offload task: one plan priced at every site of service."""
    return wire.dumps(sites_json(loaded.snapshot, body))


def compared_bytes(loaded: Loaded, body: CompareIn) -> bytes:
    """The offload task: one comparison priced and rendered."""
    return wire.dumps(compare_json(loaded.snapshot, body))


# -- wire ------------------------------------------------------------------------------------


def money(name: str, value: Any) -> dict[str, Any]:
    return {name: wire.money(value), f"{name}_cents": wire.cents(value)}


def _adjustment_json(a: Adjustment) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "modifier": a.modifier,
        "percent": None if a.percent is None else f"{a.percent.normalize():f}",
        "applies_to": a.applies_to,
        "explanation": a.explanation,
        "citation": a.citation,
    }


def _line_json(line: AnyLine) -> dict[str, Any]:
    if isinstance(line, PricedScheduleLine):
        return _schedule_line_json(line)
    q = line.quote
    return {
        "line": line.index,
        "schedule": line.schedule,
        "code": line.code,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "provider": line.provider,
        "setting": q.setting,
        "pos": q.pos,
        "status": q.status,
        "payable": q.payable,
        "paid": line.paid,
        "by_report": line.by_report,
        **money("fee_schedule_amount", q.amount),
        **money("allowed", line.allowed),
        "unrounded": None if line.unrounded is None else str(line.unrounded),
        "packaged_into": line.packaged_into,
        "date": _date(line.on),
        "adjustments": [_adjustment_json(a) for a in line.adjustments],
        "indicators": q.indicators,
        "notes": list(line.notes),
    }


def _date(on: date | None) -> str | None:
    return None if on is None else on.isoformat()


def _schedule_line_json(line: PricedScheduleLine) -> dict[str, Any]:
    """A line of another schedule: the MPFS line's fields (those it lacks null) and its
    quote as ``GET /codes/price?schedule=`` answers it."""
    return {
        "line": line.index,
        "schedule": line.schedule,
        "code": line.code,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "provider": line.provider,
        "setting": None,
        "pos": None,
        "status": None,
        "payable": line.quote.payable,
        "paid": line.paid,
        "by_report": line.by_report,
        **money("fee_schedule_amount", line.quote.amount),
        **money("allowed", line.allowed),
        "unrounded": None,
        "date": _date(line.on),
        "adjustments": [_adjustment_json(a) for a in line.adjustments],
        "indicators": None,
        "quote": wire.schedule_quote_json(line.quote),
        **_facility_json(line),
        "notes": list(line.notes),
    }


def _facility_json(line: PricedScheduleLine) -> dict[str, Any]:
    """OPPS/ASC lines: the line's copayment after the rules and the line it is packaged into."""
    if line.schedule not in FACILITY_SCHEDULES:
        return {}
    return {**money("copayment", line.copayment), "packaged_into": line.packaged_into}


def _subtotal_json(s: Subtotal) -> dict[str, Any]:
    return {
        **money("allowed", s.allowed),
        **money("deductible", s.deductible),
        **money("coinsurance", s.coinsurance),
        **money("beneficiary", s.beneficiary),
        **money("program", s.program),
    }


def _cost_json(c: CostShare) -> dict[str, Any]:
    return {
        **money("deductible_remaining", c.deductible_remaining),
        **money("deductible", c.deductible),
        **money("coinsurance", c.coinsurance),
        **money("beneficiary", c.beneficiary),
        **money("program", c.program),
        "sequestration_applied": c.sequestration_applied,
        **money("sequestration", c.sequestration),
        **money("program_paid", c.program_paid),
    }


def priced_json(p: PricedPlan) -> dict[str, Any]:
    return {
        "release": wire.release_json(p.release),
        "geography": wire.geography_json(p.geography),
        "lines": [_line_json(line) for line in p.lines],
        "totals": _totals_json(p),
        "cost_sharing": {
            **_cost_json(p.cost_share),
            "by_schedule": {name: _subtotal_json(s) for name, s in p.by_schedule},
        },
        "notes": list(p.notes),
    }


def _totals_json(p: PricedPlan) -> dict[str, Any]:
    return {
        **money("allowed", p.allowed),
        "unrounded_allowed": str(p.unrounded_allowed),
        "rounding": p.rounding,
        "complete": p.complete,
    }


def _json(body: bytes | dict[str, Any], status: int = 200, **headers: str) -> Response:
    data = body if isinstance(body, bytes) else wire.dumps(body)
    return Response(data, status_code=status, media_type=JSON, headers=headers or None)


# -- compare ---------------------------------------------------------------------------------


@contextmanager
def _at_location(index: int) -> Iterator[None]:
    try:
        yield
    except PricingError as exc:
        field = exc.details.get("field", "zip")
        where = field if str(field).startswith("lines.") else f"locations.{index}.{field}"
        details = {**exc.details, "location": index, "field": where}
        raise type(exc)(f"location {index}: {exc.message}", **details) from exc


def compare_json(snapshot: Snapshot, body: CompareIn) -> dict[str, Any]:
    priced: list[tuple[str, PricedPlan]] = []
    for index, where in enumerate(body.locations):
        with _at_location(index):
            plan = to_plan(body, where.zip, where.locality)
            label = where.label or where.zip or where.locality or f"location {index}"
            priced.append((label, plan_lines.priced(snapshot, plan)))
    base_label, base = priced[0]
    return {
        "release": wire.release_json(base.release),
        "baseline": base_label,
        "locations": [_side(label, p, base) for label, p in priced],
        "cheapest": min(priced, key=lambda x: x[1].allowed)[0],
        "most_expensive": max(priced, key=lambda x: x[1].allowed)[0],
    }


def _difference(value: Any, base: Any) -> Any:
    return None if value is None or base is None else value - base


def _side(label: str, p: PricedPlan, base: PricedPlan) -> dict[str, Any]:
    diff = p.allowed - base.allowed
    percent = None if not base.allowed else f"{(diff / base.allowed * 100):.2f}"
    return {
        "label": label,
        "geography": wire.geography_json(p.geography),
        "totals": _totals_json(p),
        "cost_sharing": {
            **_cost_json(p.cost_share),
            "by_schedule": {name: _subtotal_json(s) for name, s in p.by_schedule},
        },
        "difference": {**money("allowed", diff), "percent": percent},
        "lines": [
            {
                "line": line.index,
                "schedule": line.schedule,
                "code": line.code,
                **money("allowed", line.allowed),
                **money("difference", _difference(line.allowed, other.allowed)),
            }
            for line, other in zip(p.lines, base.lines, strict=True)
        ],
    }


# -- sites of service ------------------------------------------------------------------------


def sites_json(snapshot: Snapshot, body: SitesIn) -> dict[str, Any]:
    plan = to_plan(body, body.zip, body.locality)
    answer = plan_sites.plan_sites(snapshot, plan)
    office = answer.sites[0].priced
    payable = [s for s in answer.sites if s.payable]
    lowest = min(payable, key=lambda s: s.priced.allowed).site if payable else None
    notes = ["Each site is the plan priced as a whole: professional fees (MPFS) and, at a "
             "hospital outpatient department or ASC, the facility fees of each line's code, "
             "with the rules between facility lines (multiple procedure discount, packaging); "
             "beneficiary figures include the Part B deductible still to meet."]  # fmt: skip
    if answer.national:
        notes.append("facility fees are national (unadjusted): give cbsa or wage_index")
    return {
        "release": wire.release_json(office.release),
        "geography": wire.geography_json(office.geography),
        "facility_fees": "national" if answer.national else "wage-adjusted",
        "sites": [_site_json(site, office) for site in answer.sites],
        "lowest": lowest,
        "notes": notes,
    }


def _part(p: PricedPlan, schedules: frozenset[str] | None) -> Any:
    return sum(
        (x.allowed for x in p.lines if x.allowed is not None
         and (schedules is None or x.schedule in schedules)),
        Decimal("0.00"),
    )  # fmt: skip


def _site_json(site: plan_sites.PlanSite, office: PricedPlan) -> dict[str, Any]:
    p = site.priced
    ok = site.payable
    c = p.cost_share
    lines = []
    for entry in site.lines:
        professional = p.lines[entry.index]
        facility = None if entry.facility_index is None else p.lines[entry.facility_index]
        lines.append({
            "line": entry.index,
            "code": professional.code,
            **money("professional", professional.allowed),
            **money("facility", None if facility is None else facility.allowed),
            **money("total", None if professional.allowed is None else
                    professional.allowed + (facility.allowed or 0 if facility else 0)),
            "professional_line": _line_json(professional),
            "facility_line": None if facility is None else _line_json(facility),
            "facility_reason": entry.facility_reason,
        })  # fmt: skip
    return {
        "site": site.site,
        "payable": ok,
        "reason": "; ".join(site.reasons) or None,
        "totals": {
            **money("allowed", p.allowed if ok else None),
            **money("professional", _part(p, frozenset({"mpfs"})) if ok else None),
            **money("facility", _part(p, FACILITY_SCHEDULES) if ok else None),
            "complete": p.complete,
        },
        **money("beneficiary", c.beneficiary if ok else None),
        **money("program", c.program if ok else None),
        "cost_sharing": _cost_json(c) if ok else None,
        "difference": {
            **money("allowed", p.allowed - office.allowed if ok else None),
            **money("beneficiary", c.beneficiary - office.cost_share.beneficiary if ok else None),
        },
        "lines": lines,
    }


# -- saved plans -----------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` names (``service.queries.if_match``)."""
    return queries.if_match(if_match)


def saved_json(stored: store.StoredPlan) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": stored.public_id,
        "name": stored.name,
        "version": stored.version,
        "etag": etag(stored.version),
        "lines": stored.line_count,
        "content_sha256": stored.content_sha256,
        "created_at": stored.created_at.isoformat(),
        "updated_at": stored.updated_at.isoformat(),
    }
    if stored.plan is not None:
        out["plan"] = plan_json(stored.plan)
    return out


async def _validated(
    service: ServiceState, offload: Offload, cache: PlanPriceCache, body: SavedPlanIn
) -> Plan:
    """The plan to store, priced first. A code, ZIP, locality or release the data does not
    hold is 422 here, not 404: on /plans a 404 means the saved plan does not exist."""
    plan = to_plan(body, body.zip, body.locality)
    try:
        await priced_answer(service, offload, cache, plan)  # a bad line's 4xx; warms the cache
    except NotFound as exc:
        raise Unprocessable(exc.message, **exc.details) from exc
    return plan


def _idempotency(key: str | None, body: SavedPlanIn) -> store.Idempotency | None:
    if queries.idempotency_key(key) is None:
        return None
    canonical = orjson.dumps(request_json(body), option=orjson.OPT_SORT_KEYS)
    return store.Idempotency(str(key), hashlib.sha256(canonical).hexdigest())


def _saved_response(status: int, body: str, replayed: bool = False) -> Response:
    data = orjson.loads(body)
    headers = {"ETag": data["etag"], "Location": f"/plans/{data['id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(body.encode(), status, **headers)


CURSOR = "^p[0-9]{1,40}$"


def encode_cursor(pk: int) -> str:
    """``p`` and the last id of the page: every string of that shape is a valid cursor."""
    return f"p{pk}"


def decode_cursor(cursor: str | None) -> int | None:
    """The plan id a cursor names; a string not of ``CURSOR``'s shape is 400. An id past the
    column's range reads as an empty last page."""
    if not cursor:
        return None
    digits = cursor[1:]
    if not (cursor[:1] == "p" and digits.isascii() and digits.isdigit() and len(digits) <= 40):
        raise BadRequest(f"cursor {echo(cursor)} is not a cursor this API gave", field="cursor")
    return int(digits)


# -- the router --------------------------------------------------------------------------------

IdemHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="retry-safe create key: 1-255 printable ASCII characters",
        pattern="^[\\x20-\\x7e]{1,255}$",
    ),
]
# Required on PUT and DELETE (428 without it: api/openapi.py marks it required).
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='the ETag read, e.g. "v3", or *',
        pattern='^(\\*|(W/)?"v[0-9]{1,40}")$',
    ),
]


def plans_router(service: ServiceState, offload: Offload, access: Access) -> APIRouter:
    """Every plan and bulk route, bound to ``service``; pricing runs through ``offload``;
    ``access`` charges the lines of each priced plan to the caller's bulk limit."""
    router = APIRouter()
    cache = PlanPriceCache()
    _pricing_routes(router, service, offload, cache, access)
    _saved_routes(router, service, offload, cache)
    router.include_router(bulk.bulk_router(offload, access))
    return router


def owner_of(request: Request) -> str:
    """The key that owns what this request saves or reads (``api/access.py`` made sure the
    request carries one)."""
    caller = caller_of(request.scope)
    if caller is None or caller.owner is None:
        raise Unauthorized("saved plans need an API key")
    return caller.owner


def _pricing_routes(
    router: APIRouter,
    service: ServiceState,
    offload: Offload,
    cache: PlanPriceCache,
    access: Access,
) -> None:
    # Each priced line counts in the caller's bulk limit: one unit was taken at admission,
    # the rest once the body is read (a comparison prices its lines at every place).
    @register(router, "plan_price", _example(PRICED_EXAMPLE) | _errors(400, 404, 415, 422, 503))
    async def price(request: Request, body: PlanIn) -> Response:
        access.charge(request.scope, "bulk", len(body.lines) - 1)
        plan = to_plan(body, body.zip, body.locality)
        return _json(await priced_answer(service, offload, cache, plan))

    @register(router, "plan_sites", _example(SITES_EXAMPLE) | _errors(400, 404, 415, 422, 503))
    async def sites(request: Request, body: SitesIn) -> Response:
        access.charge(request.scope, "bulk", len(body.lines) - 1)
        with offload.admitted("plans"):
            done = await offload.run(sites_bytes, body)
        return _json(done.value)

    @register(router, "plan_compare", _example(COMPARE_EXAMPLE) | _errors(400, 404, 415, 422, 503))
    async def compare(request: Request, body: CompareIn) -> Response:
        access.charge(request.scope, "bulk", len(body.lines) * len(body.locations) - 1)
        with offload.admitted("compare"):
            done = await offload.run(compared_bytes, body)
        return _json(done.value)


def _saved_routes(
    router: APIRouter, service: ServiceState, offload: Offload, cache: PlanPriceCache
) -> None:
    engine = service.engine

    @register(router, "plan_create",
            _example(SAVED_EXAMPLE, 201, "Saved") | _errors(400, 404, 409, 415, 422, 503),
            status_code=201)  # fmt: skip
    async def create(
        request: Request, body: SavedPlanIn, idempotency_key: IdemHeader = None
    ) -> Response:
        owner = owner_of(request)
        idem = _idempotency(idempotency_key, body)
        plan = await _validated(service, offload, cache, body)

        def render(stored: store.StoredPlan) -> tuple[int, str]:
            return 201, wire.dumps(saved_json(stored)).decode()

        sha = content_sha256(plan)
        answer = await to_thread.run_sync(
            lambda: store.create_plan(
                engine, body.name, plan, sha=sha, idem=idem, render=render, owner=owner
            )
        )
        return _saved_response(answer.status, answer.body, answer.replayed)

    @register(router, "plan_list", _example(LIST_EXAMPLE) | _errors(400, 503))
    def list_(
        request: Request,
        cursor: Annotated[
            str | None, Query(description="next_cursor of the last page", pattern=CURSOR)
        ] = None,
        limit: Annotated[int | None, Query(description="plans per page", ge=1, le=100)] = None,
    ) -> Response:
        page = queries.page_query(request.url.query, decode_cursor)
        rows, more = service.databases.read(
            store.list_plans, page.after, page.limit, owner=owner_of(request)
        )
        next_cursor = encode_cursor(rows[-1].pk) if more and rows else None
        return _json({"plans": [saved_json(r) for r in rows], "next_cursor": next_cursor})

    _one_plan_routes(router, service, offload, cache)


def _one_plan_routes(
    router: APIRouter, service: ServiceState, offload: Offload, cache: PlanPriceCache
) -> None:
    engine = service.engine

    @register(router, "plan_read", _example(SAVED_EXAMPLE) | _errors(404, 503))
    def read(request: Request, plan_id: str) -> Response:
        stored = service.databases.read(store.get_plan, plan_id, owner=owner_of(request))
        return _json(saved_json(stored), ETag=etag(stored.version))

    @register(router, "plan_replace",
            _example(SAVED_EXAMPLE) | _errors(400, 404, 412, 415, 422, 428, 503))  # fmt: skip
    async def replace(
        request: Request, plan_id: str, body: SavedPlanIn, if_match: IfMatch = None
    ) -> Response:
        owner = owner_of(request)
        expected = expected_version(if_match)
        plan = await _validated(service, offload, cache, body)
        sha = content_sha256(plan)
        stored = await to_thread.run_sync(
            lambda: store.update_plan(
                engine,
                plan_id,
                expected=expected,
                name=body.name,
                plan=plan,
                sha=sha,
                owner=owner,
            )
        )
        return _json(saved_json(stored), ETag=etag(stored.version))

    @register(router, "plan_delete", DELETED | _errors(400, 404, 412, 428, 503), status_code=204)
    def remove(request: Request, plan_id: str, if_match: IfMatch = None) -> Response:
        store.delete_plan(engine, plan_id, expected_version(if_match), owner=owner_of(request))
        return Response(status_code=204)

    @register(router, "plan_price_saved", _example(SAVED_PRICE_EXAMPLE) | _errors(404, 422, 503))
    async def price_saved(request: Request, plan_id: str) -> Response:
        owner = owner_of(request)
        stored = await to_thread.run_sync(
            lambda: service.databases.read(store.get_plan, plan_id, owner=owner)
        )
        plan_of = stored.plan or Plan(lines=())  # get_plan always reads the lines
        priced = orjson.Fragment(await priced_answer(service, offload, cache, plan_of))
        plan = {"id": stored.public_id, "version": stored.version, "etag": etag(stored.version)}
        return _json(wire.dumps({"plan": plan, "price": priced}), ETag=etag(stored.version))
