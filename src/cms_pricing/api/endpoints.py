"""The one table of endpoints: every path, method and what serves it.

Everything that needs to know the endpoints reads ``ENDPOINTS``: the fast path (which GETs
it answers from the snapshot and how each is cached), the documented FastAPI routes (paths,
summaries, tags, documented parameters), the error boundary (404, 405 with ``Allow``,
``OPTIONS``, ``HEAD``, which query parameters and content types a route takes), the admission
budgets of expensive work, and the metrics (route-template labels and SLA classes). A test
checks that the FastAPI app declares exactly these routes.

SLA classes (budgets in ``observability.metrics.SLA_BUDGETS``): ``pricing`` for
``/codes/price``, ``reference`` for reference data and releases, ``bulk`` for bulk pricing,
``write`` for POST/PUT/DELETE, ``read`` for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cms_pricing.api import handlers
from cms_pricing.cache.policy import CacheClass
from cms_pricing.service import queries
from cms_pricing.service.state import ServiceState

if TYPE_CHECKING:
    from fastapi import APIRouter

JSON = "application/json"
CSV = "text/csv"


# What each parameter accepts, exactly as service/queries.py reads it (a blank value is the
# same as an absent one, so optional parameters also accept ""). Whether a code, ZIP or
# release exists is the data's answer (404), not the schema's.
SCHEMAS: dict[str, dict[str, Any]] = {
    name: {"type": "string", "pattern": f"^({pattern})?$"}
    for name, pattern in queries.PATTERNS.items()
} | {
    "date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]},
    # 0 to 10,080 minutes (db/keys.MAX_GRACE_MINUTES); an API key id is 12 hex digits.
    "grace_minutes": {"type": "string", "pattern": "^(10080|100[0-7][0-9]|[0-9]{1,4})?$"},
}


@dataclass(frozen=True, slots=True)
class Param:
    """A documented query or path parameter."""

    name: str
    description: str
    where: str = "query"
    required: bool = False

    def openapi(self) -> dict[str, Any]:
        required = self.required or self.where == "path"
        schema = dict(SCHEMAS.get(self.name, {"type": "string"}))
        if required and "pattern" in schema:  # no blank for a required value
            schema["pattern"] = schema["pattern"].replace(")?$", ")$")
        return {
            "name": self.name,
            "in": self.where,
            "required": required,
            "description": self.description,
            "schema": schema,
        }


def _never(_query: Any) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: str
    path: str  # the route template, e.g. /reference/codes/{code}
    sla: str
    summary: str
    tags: tuple[str, ...]
    params: tuple[Param, ...] = ()
    # The fast path's GETs: raw query and path argument -> typed query -> answer.
    parse: Callable[[str, str], Any] | None = None
    compute: Callable[[ServiceState, Any], Any] | None = None
    cache: CacheClass | None = None  # None: never cached (health, readiness)
    # Which answers also go to Redis: only those that cost more to compute than a Redis GET
    # (about 80 us here, docs/caching.md): the whole locality list (109 localities, 30 KB).
    shared: Callable[[Any], bool] = _never
    bodies: tuple[str, ...] = ()  # accepted content types of the request body
    admission: str | None = None  # the expensive class whose budget admits it
    # The scope a key needs and the class the caller's limit counts in (docs/auth.md): read,
    # bulk, plans:write, admin, or open (no key needed, not limited).
    access: str = "read"

    @property
    def owned(self) -> bool:
        """Saved plans: always need a key, and each key sees only its own."""
        return "saved plans" in self.tags

    @property
    def query_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if p.where == "query")

    @property
    def around(self) -> tuple[str, str]:
        """What comes before and after the path's one ``{argument}``
        (``("/codes/", "/sites")``); ``(path, "")`` without one."""
        if "{" not in self.path:
            return self.path, ""
        return self.path.split("{")[0], self.path.split("}")[-1]

    def argument(self, path: str) -> str:
        """The ``{argument}`` segment of a path this endpoint serves."""
        before, after = self.around
        return path[len(before) : len(path) - len(after)] if "{" in self.path else ""


_SELECTOR = (
    Param("date", "date of service, YYYY-MM-DD: the release in force that day"),
    Param("year", "the latest release of that year, e.g. 2025"),
    Param("release", "pin a release, e.g. RVU25B"),
)
_WAGE = (
    Param("cbsa", "opps, asc: the facility's CBSA (5 digits) or state rural area (2 digits); "
          "its wage index adjusts the facility fee"),
    Param("wage_index", "opps, asc: a wage index given directly, e.g. 1.2961 (instead of cbsa)"),
)  # fmt: skip
_PRICE = (
    Param("schedule", "mpfs (default), clfs, dmepos, asp, anesthesia, opps or asc: the "
          "parameters each takes are in docs/pricing.md; another schedule's parameter is a 422"),
    Param("code", "HCPCS code, e.g. 99213", required=True),
    Param("zip", "ZIP5 or ZIP+4: 94110, 94110-1234, 941101234 (mpfs, dmepos, anesthesia)"),
    Param("locality", "carrier (5) + locality (2) digits, e.g. 0111205 (mpfs, anesthesia)"),
    Param("setting", "office (default) or facility (mpfs)"),
    Param("pos", "place-of-service code, e.g. 11, 22 (mpfs)"),
    Param("modifier", "mpfs: blank, 26, TC or 53; clfs: e.g. QW; dmepos: the first modifier, "
          "e.g. RR; anesthesia: AA, AD, QK, QX, QY or QZ"),
    Param("modifier2", "dmepos: the second modifier"),
    Param("modifier3", "dmepos: the third modifier"),
    Param("state", "dmepos: the beneficiary's state, instead of zip"),
    Param("rural", "dmepos: true or false; by default the DME rural ZIP file decides"),
    Param("units", "asp: dosage units, 1-99,999 (default 1)"),
    Param("minutes", "anesthesia: anesthesia time in minutes, 1-1440 (required)"),
    *_WAGE,
    *_SELECTOR,
)  # fmt: skip
_SITES = (
    Param("code", "HCPCS code, e.g. 45378", where="path"),
    Param("zip", "ZIP5 or ZIP+4: places the professional fee (or give locality)"),
    Param("locality", "carrier (5) + locality (2) digits, e.g. 0111205"),
    *_WAGE,
    Param("date", "date of service, YYYY-MM-DD: the datasets in force that day"),
    Param("year", "the latest datasets of that year, e.g. 2025"),
)
_PRICES = (
    Param("code", "HCPCS code, e.g. 99213", where="path"),
    Param("zip", "ZIP5 or ZIP+4: places the MPFS, DMEPOS and anesthesia prices"),
    Param("locality", "carrier (5) + locality (2) digits, e.g. 0111205 (instead of zip)"),
    Param("setting", "mpfs: office (default) or facility"),
    Param("minutes", "anesthesia: anesthesia time in minutes, 1-1440 (without it anesthesia "
          "is listed unpriced)"),
    *_WAGE,
    Param("date", "date of service, YYYY-MM-DD: the datasets in force that day"),
    Param("year", "the latest datasets of that year, e.g. 2025"),
)  # fmt: skip
_AREAS = (
    Param("code", "HCPCS code, e.g. 99213", where="path"),
    Param("schedule", "mpfs (default): every carrier-locality; dmepos: every state"),
    Param("setting", "mpfs: office (default) or facility"),
    Param("modifier", "mpfs: blank, 26, TC or 53; dmepos: the first modifier, e.g. RR"),
    Param("modifier2", "dmepos: the second modifier"),
    Param("modifier3", "dmepos: the third modifier"),
    *_SELECTOR,
)
# The look-up page's deep link: /lookup?codes=99213,99214&where=94110 fills in and prices.
_PAGE = (
    Param("codes", "codes to price, separated by commas or blanks"),
    Param("where", "ZIP or carrier-locality"),
    Param("date", "date of service, YYYY-MM-DD"),
    Param("setting", "office or facility"),
)
_PLAN_ID = Param("plan_id", "the id of a saved plan", where="path")
_KEY_ID = Param("key_id", "the id of an API key (12 hex digits)", where="path")


def _whole_list(query: queries.LocalityQuery) -> bool:
    return query.zip is None


def _every_locality(query: queries.CodeAreasQuery) -> bool:
    """The MPFS at every locality (109 prices) costs more than a Redis GET; DMEPOS datasets
    are not part of the shared key's release scope, so their answers stay local."""
    return query.request.schedule == "mpfs"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("price", "GET", "/codes/price", "pricing",
             "Price one HCPCS code under a fee schedule, at a place, on a date", ("pricing",),
             _PRICE, queries.price_query, handlers.price, CacheClass.PRICING),
    Endpoint("sites", "GET", "/codes/{code}/sites", "pricing",
             "The same service at every site of service: office, hospital outpatient, ASC",
             ("pricing",), _SITES, queries.sites_query, handlers.sites, CacheClass.PRICING),
    Endpoint("code_prices", "GET", "/codes/{code}/prices", "pricing",
             "One code under every fee schedule that lists it, at one place and date",
             ("pricing",), _PRICES, queries.prices_query, handlers.code_prices,
             CacheClass.PRICING),
    Endpoint("code_localities", "GET", "/codes/{code}/localities", "pricing",
             "One code at every carrier-locality (MPFS) or in every state (DMEPOS), in one "
             "answer", ("pricing",), _AREAS, queries.areas_query, handlers.code_areas,
             CacheClass.PRICING, _every_locality),
    Endpoint("localities", "GET", "/reference/localities", "reference",
             "All localities with their GPCIs, or the locality of one ZIP", ("reference",),
             (Param("zip", "ZIP5 or ZIP+4"), *_SELECTOR), queries.locality_query,
             handlers.localities, CacheClass.REFERENCE, _whole_list),
    Endpoint("code_reference", "GET", "/reference/codes/{code}", "reference",
             "RVUs and payment indicators of each modifier row of a code", ("reference",),
             (Param("code", "HCPCS code, e.g. 99213", where="path"), *_SELECTOR),
             queries.code_query, handlers.code_reference, CacheClass.REFERENCE),
    Endpoint("releases", "GET", "/releases", "reference",
             "Every published dataset (MPFS releases, ZIP file, other schedules) with its "
             "files, hashes and row counts", ("reference",), (), queries.no_query,
             handlers.releases, CacheClass.REFERENCE),
    Endpoint("schedules", "GET", "/reference/schedules", "reference",
             "Each fee schedule with its published datasets, effective dates and hashes",
             ("reference",), (), queries.no_query, handlers.schedules, CacheClass.REFERENCE),
    Endpoint("health", "GET", "/health", "read", "The process is up", ("operations",),
             (), queries.no_query, handlers.health, access="open"),
    Endpoint("ready", "GET", "/ready", "read", "A release is loaded and the database answers",
             ("operations",), (), queries.no_query, handlers.ready, access="open"),
    Endpoint("bulk", "POST", "/codes/price/bulk", "bulk",
             "Price up to 10,000 lines (JSON, or text/csv answered in CSV)", ("pricing",),
             bodies=(JSON, CSV), admission="bulk", access="bulk"),
    Endpoint("plan_price", "POST", "/plans/price", "write",
             "Price a treatment plan: every line, its adjustments, totals and cost sharing",
             ("plans",), bodies=(JSON,), admission="plans", access="bulk"),
    Endpoint("plan_compare", "POST", "/plans/compare", "write",
             "The same plan at two to six places, side by side with the differences",
             ("plans",), bodies=(JSON,), admission="compare", access="bulk"),
    Endpoint("plan_sites", "POST", "/plans/sites", "write",
             "The same plan at each site of service (office, hospital outpatient, ASC): "
             "professional and facility fees, beneficiary share, difference from the office",
             ("plans",), bodies=(JSON,), admission="plans", access="bulk"),
    Endpoint("plan_create", "POST", "/plans", "write",
             "Save a plan (validated by pricing it); Idempotency-Key makes retries safe",
             ("saved plans",), bodies=(JSON,), admission="plans", access="plans:write"),
    Endpoint("plan_list", "GET", "/plans", "read", "Saved plans, oldest first, a page at a time",
             ("saved plans",), (Param("cursor", "next_cursor of the last page"),
                                Param("limit", "plans per page, 1-100 (default 20)"))),
    Endpoint("plan_read", "GET", "/plans/{plan_id}", "read", "A saved plan, with its ETag",
             ("saved plans",), (_PLAN_ID,)),
    Endpoint("plan_replace", "PUT", "/plans/{plan_id}", "write",
             "Replace a saved plan; If-Match must name the version read", ("saved plans",),
             (_PLAN_ID,), bodies=(JSON,), admission="plans", access="plans:write"),
    Endpoint("plan_delete", "DELETE", "/plans/{plan_id}", "write",
             "Delete a saved plan; If-Match must name the version read", ("saved plans",),
             (_PLAN_ID,), access="plans:write"),
    Endpoint("plan_price_saved", "GET", "/plans/{plan_id}/price", "read",
             "Price a saved plan with the data loaded now", ("saved plans",), (_PLAN_ID,),
             admission="plans"),
    Endpoint("invalidate", "POST", "/admin/cache/invalidate", "write",
             "Drop cached answers: everything, one release, or a key prefix", ("operations",),
             bodies=(JSON,), access="admin"),
    Endpoint("admin_keys", "GET", "/admin/keys", "read",
             "API keys: id, name, scopes, quota, expiry and state (never a secret)",
             ("operations",), access="admin"),
    Endpoint("admin_key_create", "POST", "/admin/keys", "write",
             "Create an API key; the answer holds the key, once", ("operations",),
             bodies=(JSON,), access="admin"),
    Endpoint("admin_key_rotate", "POST", "/admin/keys/{key_id}/rotate", "write",
             "A new secret for a key; the old one works for grace_minutes more",
             ("operations",), (_KEY_ID, Param("grace_minutes", "minutes the old key keeps "
                                              "working (default 0, at most 10080)")),
             access="admin"),
    Endpoint("admin_key_revoke", "POST", "/admin/keys/{key_id}/revoke", "write",
             "Revoke a key at once", ("operations",), (_KEY_ID,), access="admin"),
    Endpoint("admin_plan_owners", "GET", "/admin/plans/owners", "read",
             "Who owns saved plans (legacy: saved before keys), with counts",
             ("operations",), access="admin"),
    Endpoint("admin_plan_reassign", "POST", "/admin/plans/reassign", "write",
             "Move saved plans from one owner to a key", ("operations",), bodies=(JSON,),
             access="admin"),
    Endpoint("metrics", "GET", "/metrics", "read", "Prometheus metrics of every worker",
             ("operations",), access="admin"),
    Endpoint("openapi", "GET", "/openapi.json", "read", "This API's OpenAPI document", ("docs",),
             access="open"),
    Endpoint("docs", "GET", "/docs", "read", "Swagger UI", ("docs",), access="open"),
    Endpoint("docs_static", "GET", "/docs/static/{digest}/{name}", "read",
             "Swagger UI and ReDoc assets (from a pinned package)", ("docs",), access="open"),
    Endpoint("redoc", "GET", "/redoc", "read", "ReDoc", ("docs",), access="open"),
    Endpoint("redoc_logo", "GET", "/redoc/logo-mini.svg", "read", "ReDoc's logo", ("docs",),
             access="open"),
    Endpoint("page", "GET", "/", "read", "The look-up page", ("page",), _PAGE,
             access="open"),
    Endpoint("lookup", "GET", "/lookup", "read", "The look-up page", ("page",), _PAGE,
             access="open"),
    Endpoint("lookup_static", "GET", "/lookup/static/{digest}/{name}", "read",
             "The look-up page's script and style sheet (from the package)", ("page",),
             access="open"),
)  # fmt: skip

BY_NAME = {e.name: e for e in ENDPOINTS}
# The docs pages and schema get the docs class's Cache-Control on the way out (the assets
# under /docs/static/ set their own: immutable, keyed by their digest).
DOCS_PATHS = frozenset(e.path for e in ENDPOINTS if "docs" in e.tags and "{" not in e.path)
# Served outside FastAPI's routes (the middleware answers /metrics; FastAPI adds the docs).
# The look-up page (api/lookup.py) is a page, not part of the API's document.
NOT_ROUTES = frozenset(
    {"metrics"} | {e.name for e in ENDPOINTS if "docs" in e.tags or "page" in e.tags}
)


def fast(path: str) -> tuple[Endpoint, str] | None:
    """The fast-path GET serving ``path`` and the path argument (the ``{code}`` segment)."""
    exact = _FAST_EXACT.get(path)
    if exact is not None:
        return exact, ""
    for (before, after), endpoint in _FAST_PREFIXED:
        if (
            path.startswith(before)
            and path.endswith(after)
            and len(path) > len(before) + len(after)
        ):
            argument = endpoint.argument(path)
            if "/" not in argument:
                return endpoint, argument
    return None


def _fast() -> Iterator[Endpoint]:
    return (e for e in ENDPOINTS if e.parse is not None)


_FAST_EXACT = {e.path: e for e in _fast() if "{" not in e.path}
_FAST_PREFIXED = tuple((e.around, e) for e in _fast() if "{" in e.path)


def route_rows() -> list[tuple[str, str, str]]:
    """``(method, template, SLA class)`` of every endpoint, for the metrics."""
    return [(e.method, e.path, e.sla) for e in ENDPOINTS]


def register(
    router: APIRouter, name: str, responses: dict[int | str, Any], status_code: int = 200
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a FastAPI route under the path, method, summary and tags of the table's
    endpoint ``name``."""
    endpoint = BY_NAME[name]
    return router.api_route(
        endpoint.path,
        methods=[endpoint.method],
        tags=list(endpoint.tags),
        summary=endpoint.summary,
        responses=responses,
        status_code=status_code,
    )
