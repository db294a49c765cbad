"""The ASGI application: the endpoint table's routes, the fast path and one error boundary.

``create_app(settings)`` composes, outermost first: the security headers (``api/headers.py``),
the observability middleware (request ids, metrics), the boundary (``api/boundary.py``:
404/405/OPTIONS/HEAD, query and content type rules, bulk admission, every error as the
envelope), the limits (``api/limits.py``: query and body sizes, the body timeout), the fast
path (``api/fastpath.py``: the snapshot GETs with their caches) and FastAPI (plans, bulk,
admin, docs). Every route comes from ``api/endpoints.py``. The documented GET routes of the
fast path's endpoints answer through the same ``Answerer`` the fast path uses, so both give
the same bytes for the same request; their parameters are documentation only (FastAPI
validates nothing the parser would not).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from cms_pricing.api import boundary, examples, openapi, schemas, wire
from cms_pricing.api.docs import add_docs_routes
from cms_pricing.api.endpoints import BY_NAME, ENDPOINTS, Endpoint, route_rows
from cms_pricing.api.fastpath import Answerer, FastPath
from cms_pricing.api.headers import SecurityHeaders
from cms_pricing.api.limits import Limits
from cms_pricing.api.plans import plans_router
from cms_pricing.cache import invalidation as cache_invalidation
from cms_pricing.config import Settings
from cms_pricing.errors import Forbidden, Unauthorized
from cms_pricing.observability.middleware import instrument
from cms_pricing.service.offload import Offload
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
    "health": (None, {"status": "ok"}),
    "ready": (None, None),
}


def _example(answer: dict[str, Any]) -> dict[str, Any]:
    if answer is examples.PRICE_EXAMPLES:  # one named example per schedule
        named = {name: {"value": value} for name, value in answer.items()}
        return {"content": {"application/json": {"examples": named}}}
    return {"content": {"application/json": {"example": answer}}}


def create_app(settings: Settings, state: ServiceState | None = None) -> SecurityHeaders:
    service = state if state is not None else ServiceState(settings)
    offload = Offload(settings, service, EXPENSIVE_MODULES)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.load()
        await offload.start()
        service.start_background()
        yield
        await service.stop_background()
        await offload.stop()  # after the drain: queued expensive work finishes first
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
    boundary.install(app)
    fast = FastPath(app, service)
    _add_read_routes(app, fast.answerer)
    app.include_router(plans_router(service, offload))
    _add_admin_routes(app, service)
    openapi.install(app)
    # The boundary goes first (404/405, query rules, bulk admission), then the limits read
    # the body (413/408), then the fast path and FastAPI.
    guarded = boundary.Boundary(Limits(fast, settings), admit=offload.admitted)
    return SecurityHeaders(instrument(guarded, service, route_rows(), settings))


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


class InvalidateRequest(BaseModel):
    """What to invalidate: ``all``, one ``release`` (target = its id) or a key ``pattern``
    (target = a shared-key prefix such as ``cms-pricing:v1:rel:RVU25B:``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"scope": "release", "target": "RVU25B"}],
            # What each scope takes as its target (cache/invalidation.prefixes_for).
            "oneOf": [
                {"properties": {"scope": {"const": "all"}}},
                {
                    "properties": {
                        "scope": {"const": "release"},
                        "target": {"type": "string", "pattern": "^[A-Za-z0-9]{1,16}$"},
                    },
                    "required": ["scope", "target"],
                },
                {
                    "properties": {
                        "scope": {"const": "pattern"},
                        "target": {"type": "string", "pattern": "^cms-pricing:v1:"},
                    },
                    "required": ["scope", "target"],
                },
            ],
        },
    )
    scope: Literal["all", "release", "pattern"] = "all"
    target: str = ""


def _check_token(service: ServiceState, authorization: str | None) -> None:
    expected = service.settings.admin_token
    if not expected:
        raise Forbidden("the admin endpoints are disabled: set CMS_PRICING_ADMIN_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("a valid admin token is required: Authorization: Bearer <token>")


def _add_admin_routes(app: FastAPI, service: ServiceState) -> None:
    endpoint = BY_NAME["invalidate"]

    @app.post(
        endpoint.path,
        tags=list(endpoint.tags),
        responses={
            400: ERRORS[400],
            401: {"model": schemas.ErrorEnvelope, "description": "No or wrong admin token"},
            403: {"model": schemas.ErrorEnvelope, "description": "Admin endpoints disabled"},
            415: {"model": schemas.ErrorEnvelope, "description": "Not application/json"},
        },
        summary=endpoint.summary,
    )
    def invalidate(
        request_body: InvalidateRequest,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        _check_token(service, authorization)
        done = cache_invalidation.invalidate(
            service.engine, service.settings.redis_url, request_body.scope, request_body.target
        )
        service.drop_local()  # this worker at once; the others by event or at their next poll
        body = {
            "id": done.id,
            "scope": done.scope,
            "target": done.target,
            "prefixes": list(done.prefixes),
            "redis_keys_deleted": done.redis_keys_deleted,
            "announced": done.announced,
        }
        return Response(
            wire.dumps(body), media_type="application/json", headers={"cache-control": "no-store"}
        )
