"""The admin endpoints: cache invalidation, API keys and the owners of saved plans.

Every route here needs the ``admin`` scope: a key with it, or the bootstrap
``CMS_PRICING_ADMIN_TOKEN`` (``api/access.py`` checks before the route runs). Paths, methods
and summaries come from the endpoint table (``api/endpoints.py``).

- ``POST /admin/cache/invalidate``: drop cached answers (docs/caching.md);
- ``GET /admin/keys``, ``POST /admin/keys`` (``{"name", "scopes", "expires_at", "quota"}``;
  the answer holds the new key once, in ``key``), ``POST /admin/keys/{key_id}/rotate``
  (``?grace_minutes=``) and ``POST /admin/keys/{key_id}/revoke``: what ``cms-pricing keys``
  does, over HTTP (docs/auth.md); this worker's key ring reloads at once, the others within
  ``CMS_PRICING_KEY_REFRESH_SECONDS``;
- ``GET /admin/plans/owners`` and ``POST /admin/plans/reassign``
  (``{"from_owner", "to_owner", "plan_ids"}``): the plans saved before keys belong to
  ``legacy``; an admin lists the owners and moves plans to a key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from cms_pricing.api import schemas, wire
from cms_pricing.api.endpoints import SCHEMAS, register
from cms_pricing.cache import invalidation as cache_invalidation
from cms_pricing.db import keys as key_store
from cms_pricing.db import plans as plan_store
from cms_pricing.db.keys import ApiKey
from cms_pricing.errors import BadRequest, Unprocessable
from cms_pricing.service.keyring import KeyRing
from cms_pricing.service.state import ServiceState

NO_STORE = {"cache-control": "no-store"}
GRACE = SCHEMAS["grace_minutes"]["pattern"]  # 0 to 10,080 minutes, or blank (0)
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorEnvelope, "description": "A malformed request"},
    401: {"model": schemas.ErrorEnvelope, "description": "No key, or not a valid one"},
    403: {"model": schemas.ErrorEnvelope, "description": "The key has no admin scope"},
}
# An allowance as the settings and the command line write it (service/ratelimit.Rate).
Rate = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,9}/(s|min|h|day)$", examples=["600/min"])]


def _answer(status: int, words: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": schemas.ErrorEnvelope, "description": words}}


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


class KeyIn(BaseModel):
    """A new key: its name, scopes, optional expiry and per-class quota (``600/min``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "claims team", "scopes": ["read", "bulk"], "quota": {"bulk": "50000/min"}}
            ]
        },
    )
    # Printable ASCII over HTTP, not blank (the command line takes any printable text).
    name: str = Field(min_length=1, max_length=100, pattern=r"^[ -~]*[!-~][ -~]*$")
    scopes: list[Literal["read", "bulk", "plans:write", "admin"]] = Field(min_length=1)
    expires_at: datetime | None = Field(
        default=None, description="when the key stops working; in the future (else 422)"
    )
    quota: dict[Literal["read", "bulk", "plans:write"], Rate] = Field(default_factory=dict)


class ReassignIn(BaseModel):
    """Move plans from one owner (``legacy``, or a key id) to another key id (an unknown key
    or a listed plan the owner does not have is 404; the same owner twice is 422)."""

    model_config = ConfigDict(extra="forbid")
    from_owner: str = Field(min_length=1, max_length=40)
    to_owner: str = Field(min_length=1, max_length=40)
    plan_ids: list[str] | None = Field(default=None, max_length=1000)


def key_json(key: ApiKey, now: datetime | None = None) -> dict[str, Any]:
    """A key as the API and ``keys list`` show it: never its secret or hash."""
    moment = now or datetime.now(UTC)
    return {
        "id": key.id,
        "name": key.name,
        "scopes": sorted(key.scopes),
        "quota": {kind: str(rate) for kind, rate in sorted(key.quota.items())},
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "state": key.state(moment),
    }


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(wire.dumps(body), status, NO_STORE, media_type="application/json")


def _route(
    router: APIRouter,
    name: str,
    status_code: int = 200,
    more: dict[int | str, dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return register(router, name, {**REFUSED, **(more or {})}, status_code)


def admin_router(service: ServiceState, keyring: KeyRing) -> APIRouter:
    router = APIRouter()
    engine = service.engine

    @_route(router, "invalidate")
    def invalidate(request_body: InvalidateRequest) -> Response:
        done = cache_invalidation.invalidate(
            engine, service.settings.redis_url, request_body.scope, request_body.target
        )
        service.drop_local()  # this worker at once; the others by event or at their next poll
        return _json(
            {
                "id": done.id,
                "scope": done.scope,
                "target": done.target,
                "prefixes": list(done.prefixes),
                "redis_keys_deleted": done.redis_keys_deleted,
                "announced": done.announced,
            }
        )

    @_route(router, "admin_keys")
    def list_keys() -> Response:
        return _json({"keys": [key_json(k) for k in key_store.list_keys(engine)]})

    @_route(router, "admin_key_create", 201, _answer(422, "expires_at is not in the future"))
    def create_key(body: KeyIn) -> Response:
        if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
            raise Unprocessable("expires_at is not in the future", field="expires_at")
        key, secret = key_store.create_key(
            engine,
            body.name,
            body.scopes,
            expires_at=body.expires_at,
            quota={str(kind): rate for kind, rate in body.quota.items()},
        )
        keyring.reload()
        return _json({**key_json(key), "key": secret}, 201)

    @_route(router, "admin_key_rotate", more=_answer(409, "The key is revoked or expired"))
    def rotate_key(
        key_id: str,
        grace_minutes: Annotated[
            str, Query(pattern=GRACE, description="minutes the old key keeps working (0-10080)")
        ] = "0",
    ) -> Response:
        key, secret = key_store.rotate_key(engine, key_id, grace_minutes=_minutes(grace_minutes))
        keyring.reload()
        return _json({**key_json(key), "key": secret})

    @_route(router, "admin_key_revoke")
    def revoke_key(key_id: str) -> Response:
        key = key_store.revoke_key(engine, key_id)
        keyring.reload()
        return _json(key_json(key))

    @_route(router, "admin_plan_owners")
    def owners() -> Response:
        rows = plan_store.list_owners(engine)
        return _json({"owners": [{"owner": o, "plans": n} for o, n in rows]})

    @_route(
        router,
        "admin_plan_reassign",
        more=_answer(404, "No such key, or a listed plan the owner does not have")
        | _answer(422, "from_owner and to_owner are the same"),
    )
    def reassign(body: ReassignIn) -> Response:
        if body.from_owner == body.to_owner:
            raise Unprocessable("from_owner and to_owner are the same", field="to_owner")
        key_store.get_key(engine, body.to_owner)  # 404 unless the new owner is a key
        moved = plan_store.reassign_plans(engine, body.from_owner, body.to_owner, body.plan_ids)
        return _json({"from_owner": body.from_owner, "to_owner": body.to_owner, "moved": moved})

    return router


def _minutes(text: str) -> int:
    """``grace_minutes``: blank is 0; the store refuses more than a week."""
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise BadRequest("grace_minutes must be a whole number of minutes", field="grace_minutes")
    return int(text)
