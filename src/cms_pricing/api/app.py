"""The ASGI application: the endpoint table's routes, the fast path and one error boundary.

``create_app(settings)`` composes, outermost first: the security headers (``api/headers.py``),
the observability middleware (request ids, metrics), the boundary (``api/boundary.py``:
404/405/OPTIONS/HEAD, query and content type rules, bulk admission, every error as the
envelope), the limits (``api/limits.py``: query and body sizes, the body timeout), the fast
path (``api/fastpath.py``: the snapshot GETs with their caches) and FastAPI (plans, bulk,
admin, docs). Every route comes from ``api/endpoints.py``. The documented GET routes of the
fast path's endpoints answer through the same ``Answerer`` the fast path uses, so both give
the same bytes for the same request; their parameters are documentation only (FastAPI
validates nothing the parser would not). Outside it all, ``Express`` (``api/express.py``)
answers the fast path's plain GETs with every layer's rules in one call.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cms_pricing.api import boundary, examples, openapi, schemas
from cms_pricing.api.access import Access
from cms_pricing.api.admin import admin_router
from cms_pricing.api.docs import add_docs_routes
from cms_pricing.api.endpoints import ENDPOINTS, Endpoint, route_rows
from cms_pricing.api.express import Express
from cms_pricing.api.fastpath import Answerer, FastPath
from cms_pricing.api.headers import SecurityHeaders
from cms_pricing.api.limits import Limits
from cms_pricing.api.lookup import add_lookup_routes
from cms_pricing.api.plans import plans_router
from cms_pricing.config import Settings
from cms_pricing.observability.middleware import instrument
from cms_pricing.service.keyring import KeyRing
from cms_pricing.service.offload import Offload
from cms_pricing.service.ratelimit import Limiter
from cms_pricing.service.state import ServiceState

log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorEnvelope, "description": "A malformed or unknown parameter"},
    404: {"model": schemas.ErrorEnvelope, "description": "Unknown code, ZIP or release"},
    405: {"model": schemas.ErrorEnvelope, "description": "A method the endpoint does not take"},
    414: {"model": schemas.ErrorEnvelope, "description": "The query string is too long"},
    422: {"model": schemas.ErrorEnvelope, "description": "Not priceable as asked"},
    503: {"model": schemas.ErrorEnvelope, "description": "No release loaded yet; Retry-After"},
}
# The modules of the functions the offload children run (plans, comparisons, sites, bulk):
# each child imports them when it starts, not at its first request (service/offload.py).
EXPENSIVE_MODULES = ("cms_pricing.api.plans", "cms_pricing.api.bulk")
# The documented answer of each fast-path GET: (model, example).
ANSWERS: dict[str, tuple[type[BaseModel] | None, Any]] = {
    "price": (schemas.AnyPriceOut, examples.PRICE_EXAMPLES),  # type: ignore[dict-item]
    "localities": (schemas.LocalitiesOut, examples.LOCALITY_OF_ZIP),
    "code_reference": (schemas.CodeOut, examples.CODE_ROWS),
    "releases": (schemas.ReleasesOut, examples.RELEASES),
    "schedules": (schemas.SchedulesOut, examples.SCHEDULES),
    "sites": (schemas.SitesOut, examples.SITES),
    "code_prices": (schemas.CodePricesOut, examples.CODE_PRICES),
    "code_localities": (schemas.CodeAreasOut, examples.CODE_LOCALITIES),
    "health": (None, {"status": "ok"}),
    "ready": (None, None),
}


def _example(answer: dict[str, Any]) -> dict[str, Any]:
    if answer is examples.PRICE_EXAMPLES:  # one named example per schedule
        named = {name: {"value": value} for name, value in answer.items()}
        return {"content": {"application/json": {"examples": named}}}
    return {"content": {"application/json": {"example": answer}}}


def create_app(settings: Settings, state: ServiceState | None = None) -> Express:
    service = state if state is not None else ServiceState(settings)
    offload = Offload(settings, service, EXPENSIVE_MODULES)
    keyring = KeyRing(service.engine, settings.key_refresh_s)
    limiter = (
        Limiter(settings.redis_url, workers=settings.workers, timeout_ms=settings.redis_timeout_ms)
        if settings.rate_limits
        else None
    )
    access = Access(settings, keyring, limiter)
    service.limits_status = access.status

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.load()
        await offload.start()
        service.start_background()
        yield
        await service.stop_background()
        await offload.stop()  # after the drain: queued expensive work finishes first
        if limiter is not None:
            await limiter.close()
        service.databases.dispose()

    app = FastAPI(
        title="CMS Pricing API",
        version="0.1.0",
        summary="What Medicare pays for a service, at a place, on a date, from CMS's files.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_docs_routes(app)  # Swagger UI and ReDoc from the pinned package, no CDN
    add_lookup_routes(app, settings)  # the look-up page at / and /lookup (api/lookup.py)
    boundary.install(app)
    fast = FastPath(app, service)
    _add_read_routes(app, fast.answerer)
    app.include_router(plans_router(service, offload, access))
    app.include_router(admin_router(service, keyring))
    openapi.install(app, anonymous=not settings.require_keys)
    # The boundary goes first (404/405, then keys, scopes and rate limits, query rules, bulk
    # admission), then the limits read the body (413/408), then the fast path and FastAPI.
    guarded = boundary.Boundary(Limits(fast, settings), admit=offload.admitted, access=access)
    observed = instrument(guarded, service, route_rows(), settings, guard=access.metrics)
    # The fast path's GETs skip the layers' own wrappers and apply their rules in one call.
    stack = SecurityHeaders(observed)
    return Express(stack, observed, fast.answerer, access.admit, settings.max_query_bytes)


Route = Callable[[Request], Coroutine[Any, Any, Response]]


def _read_route(endpoint: Endpoint, answerer: Answerer) -> Route:
    async def route(request: Request) -> Response:
        arg = endpoint.argument(request.url.path)
        entry, layer = await answerer.answer(endpoint, arg, request.scope["query_string"])
        headers = {k.decode(): v.decode() for k, v in entry.headers if k != b"content-length"}
        return Response(entry.body, entry.status, {**headers, "x-cache": layer})

    route.__name__ = endpoint.name
    return route


def _add_read_routes(app: FastAPI, answerer: Answerer) -> None:
    for endpoint in ENDPOINTS:
        if endpoint.parse is None:
            continue
        model, example = ANSWERS[endpoint.name]
        responses: dict[int | str, Any] = {**ERRORS}
        if example is not None:
            responses[200] = _example(example)
        app.add_api_route(
            endpoint.path,
            _read_route(endpoint, answerer),
            methods=["GET"],
            response_model=model,
            responses=responses,
            tags=list(endpoint.tags),
            summary=endpoint.summary,
            openapi_extra={"parameters": [p.openapi() for p in endpoint.params]},
        )
