"""The ASGI application: documented FastAPI routes behind the fast path.

``create_app(settings)`` returns ``FastPath(fastapi_app)``. The FastAPI routes declare
every parameter (so ``/docs`` and ``/openapi.json`` describe the API) and delegate to the
same handler functions the fast path calls; the declared parameters are documentation,
the handlers parse the raw query string themselves so both paths answer alike.

Errors: every 4xx and 5xx leaves as the JSON envelope ``{"error": {...}}``; an unexpected
exception is logged with its trace and answered as a bare 500 envelope (no trace, no SQL).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from cms_pricing.api import examples, handlers, schemas, wire
from cms_pricing.api.fastpath import FastPath
from cms_pricing.api.handlers import Handler
from cms_pricing.api.plans import plans_router
from cms_pricing.cache import invalidation as cache_invalidation
from cms_pricing.config import Settings
from cms_pricing.errors import Forbidden, PricingError, Unauthorized, envelope
from cms_pricing.observability.middleware import Instrumented, instrument
from cms_pricing.service.offload import Offload
from cms_pricing.service.state import ServiceState

log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorEnvelope, "description": "A malformed parameter"},
    404: {"model": schemas.ErrorEnvelope, "description": "Unknown code, ZIP or release"},
    422: {"model": schemas.ErrorEnvelope, "description": "Not priceable as asked"},
    503: {"model": schemas.ErrorEnvelope, "description": "No release loaded yet"},
}


def _example(answer: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"example": answer}}}


def create_app(settings: Settings, state: ServiceState | None = None) -> Instrumented:
    service = state if state is not None else ServiceState(settings)
    offload = Offload(settings, service)

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
    )
    _add_error_handlers(app)
    _add_routes(app, service)
    app.include_router(plans_router(service, offload))
    _add_admin_routes(app, service)
    return instrument(FastPath(app, service), service, app, settings)


def _send(service: ServiceState, handler: Handler, request: Request, arg: str = "") -> Response:
    reply = handler(service, request.url.query, arg)
    return Response(reply.body, status_code=reply.status, media_type="application/json")


def _add_routes(app: FastAPI, service: ServiceState) -> None:
    @app.get(
        "/codes/price",
        response_model=schemas.PriceOut,
        responses={**ERRORS, 200: _example(examples.PRICE)},
        tags=["pricing"],
        summary="Price one HCPCS code at a ZIP or carrier-locality on a date",
    )
    def price(
        request: Request,
        code: Annotated[str, Query(description="HCPCS code, e.g. 99213")],
        zip: Annotated[
            str | None, Query(description="ZIP5 or ZIP+4: 94110, 94110-1234, 941101234")
        ] = None,
        locality: Annotated[
            str | None, Query(description="carrier (5) + locality (2) digits, e.g. 0111205")
        ] = None,
        setting: Annotated[str | None, Query(description="office (default) or facility")] = None,
        pos: Annotated[str | None, Query(description="place-of-service code, e.g. 11, 22")] = None,
        modifier: Annotated[str | None, Query(description="blank, 26, TC or 53")] = None,
        date: Annotated[str | None, Query(description="date of service, YYYY-MM-DD")] = None,
        year: Annotated[str | None, Query(description="latest release of that year")] = None,
        release: Annotated[str | None, Query(description="pin a release, e.g. RVU25B")] = None,
    ) -> Response:
        return _send(service, handlers.price, request)

    @app.get(
        "/reference/localities",
        response_model=schemas.LocalitiesOut,
        responses={**ERRORS, 200: _example(examples.LOCALITY_OF_ZIP)},
        tags=["reference"],
        summary="All localities with their GPCIs, or the locality of one ZIP",
    )
    def reference_localities(
        request: Request,
        zip: Annotated[str | None, Query(description="ZIP5 or ZIP+4")] = None,
        date: Annotated[str | None, Query(description="date of service, YYYY-MM-DD")] = None,
        year: Annotated[str | None, Query(description="latest release of that year")] = None,
        release: Annotated[str | None, Query(description="pin a release, e.g. RVU25B")] = None,
    ) -> Response:
        return _send(service, handlers.localities, request)

    @app.get(
        "/reference/codes/{code}",
        response_model=schemas.CodeOut,
        responses={**ERRORS, 200: _example(examples.CODE_ROWS)},
        tags=["reference"],
        summary="RVUs and payment indicators of each modifier row of a code",
    )
    def reference_code(
        request: Request,
        code: str,
        date: Annotated[str | None, Query(description="date of service, YYYY-MM-DD")] = None,
        year: Annotated[str | None, Query(description="latest release of that year")] = None,
        release: Annotated[str | None, Query(description="pin a release, e.g. RVU25B")] = None,
    ) -> Response:
        return _send(service, handlers.code_reference, request, code)

    @app.get(
        "/releases",
        response_model=schemas.ReleasesOut,
        responses={200: _example(examples.RELEASES)},
        tags=["reference"],
    )
    def releases(request: Request) -> Response:
        """Every published release and ZIP dataset with its files, hashes and row counts."""
        return _send(service, handlers.releases, request)

    @app.get("/health", tags=["operations"])
    def health(request: Request) -> Response:
        """The process is up."""
        return _send(service, handlers.health, request)

    @app.get("/ready", tags=["operations"], responses={503: ERRORS[503]})
    def ready(request: Request) -> Response:
        """A release is loaded and the database answers."""
        return _send(service, handlers.ready, request)


class InvalidateRequest(BaseModel):
    """What to invalidate: ``all``, one ``release`` (target = its id) or a key ``pattern``
    (target = a shared-key prefix such as ``cms-pricing:v1:rel:RVU25B:``)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"scope": "release", "target": "RVU25B"}]}
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
    @app.post(
        "/admin/cache/invalidate",
        tags=["operations"],
        responses={401: ERRORS[400] | {"description": "No or wrong admin token"}},
        summary="Drop cached answers: everything, one release, or a key prefix",
    )
    def invalidate(
        request_body: InvalidateRequest,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        try:
            _check_token(service, authorization)
            done = cache_invalidation.invalidate(
                service.engine, service.settings.redis_url, request_body.scope, request_body.target
            )
        except PricingError as exc:
            return Response(exc.body(), exc.status_code, media_type="application/json")
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


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
        return Response(
            envelope(code, message),
            status_code=exc.status_code,
            media_type="application/json",
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "problem": e["msg"]}
            for e in exc.errors()
        ]
        field = problems[0]["field"] if problems else None
        body = envelope("bad_request", f"invalid parameter {field!r}", {"field": field})
        return Response(body, status_code=400, media_type="application/json")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        body = envelope("internal_error", "the server failed to answer; it is logged")
        return Response(body, status_code=500, media_type="application/json")
