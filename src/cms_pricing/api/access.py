"""Who is calling, may they, and how much: keys, scopes and rate limits (docs/auth.md).

``Access(settings, keyring, limiter)`` is called by the boundary (``api/boundary.py``) for
every request to a known endpoint, before admission and before any body is read:

1. the endpoint's class (``Endpoint.access`` in ``api/endpoints.py``): ``open`` endpoints
   (health, readiness, docs) pass at once; every request is counted by class
   (``api_requests_by_scope_total``);
2. the credential: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; a key the key ring
   does not accept is ``401`` (``WWW-Authenticate: Bearer realm="cms-pricing",
   error="invalid_token"``); the bootstrap ``CMS_PRICING_ADMIN_TOKEN`` is an ``admin`` caller;
   no credential is an anonymous caller, allowed for ``read`` and ``bulk`` (and ``/metrics``)
   only when ``CMS_PRICING_REQUIRE_KEYS`` is off, otherwise ``401``; saved plans always need a
   key; a key without the class's scope is ``403``;
3. the limit, unless ``CMS_PRICING_RATE_LIMITS`` is off: one unit from the caller's bucket of
   the class (per key, or per client address for anonymous callers: the peer's, or the last
   ``X-Forwarded-For`` entry a trusted proxy sent), at the key's quota or the
   settings' default rate; over it, ``429 rate_limited`` with ``Retry-After``. Every limited
   answer, allowed or not, carries ``RateLimit-Policy`` and ``RateLimit`` (added to the
   response by ``api/headers.py`` from ``scope[EXTRA_HEADERS]``). Bulk lines beyond the first
   are charged by ``charge`` once the body was parsed (``lines - 1``); a request may take the
   bucket below zero, and the caller then waits for it to refill.

The caller is left in ``scope[CALLER]`` for the handlers (plan ownership).
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, NoReturn

from cms_pricing.api.endpoints import BY_NAME, Endpoint
from cms_pricing.api.headers import EXTRA as EXTRA_HEADERS
from cms_pricing.config import Settings
from cms_pricing.db.keys import ApiKey
from cms_pricing.errors import Forbidden, RateLimited, Unauthorized
from cms_pricing.observability.metrics import (
    AUTH_FAILURES,
    RATE_LIMIT_BACKEND,
    RATE_LIMITED,
    SCOPE_REQUESTS,
)
from cms_pricing.protocol import Scope
from cms_pricing.service.keyring import KeyRing
from cms_pricing.service.ratelimit import Decision, Limiter, Rate, headers

CALLER = "cms.caller"
METRICS = BY_NAME["metrics"]
ADMIN_TOKEN_OWNER = "admin-token"
CLASSES = ("read", "bulk", "plans:write", "admin", "open")
ANONYMOUS_CLASSES = frozenset({"read", "bulk"})
CHALLENGE = 'Bearer realm="cms-pricing"'
INVALID = 'Bearer realm="cms-pricing", error="invalid_token"'
AUTHORIZATION = b"authorization"
API_KEY = b"x-api-key"
FORWARDED = b"x-forwarded-for"
KNOWN_LIMIT = 10_000

COUNTED = {c: SCOPE_REQUESTS.child(c) for c in CLASSES}
LIMITED = {c: RATE_LIMITED.child(c) for c in CLASSES}
FAILED = {r: AUTH_FAILURES.labels(r) for r in ("missing", "invalid", "scope")}


class Limit(NamedTuple):
    """One class's allowance of a caller: its bucket, its rate, the policy name and the
    ``RateLimit-Policy`` header, made once (its value never changes)."""

    bucket: str
    rate: Rate
    policy: str
    quoted: bytes  # the policy name as a structured-field string
    header: tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: a key's id (the owner of what it saves) or an anonymous address,
    with the bucket, rate and policy name of each class it is limited in."""

    owner: str | None  # None: anonymous
    scopes: frozenset[str]
    limits: Mapping[str, Limit]


def caller(
    owner: str | None, scopes: frozenset[str], prefix: str, rates: Mapping[str, Rate]
) -> Caller:
    """A caller whose buckets are ``<prefix>:<class>`` (``key:<id>``, ``ip:<address>``)."""
    return Caller(owner, scopes, {kind: _limit(prefix, kind, rate) for kind, rate in rates.items()})


def _limit(prefix: str, kind: str, rate: Rate) -> Limit:
    policy = kind.replace(":", "-")
    (name, value), _state = headers(policy, Decision(True, rate.count, rate.seconds, 0, 0, 0))
    quoted = value.split(b";", 1)[0]
    return Limit(f"{prefix}:{kind}", rate, policy, quoted, (name, value))


ADMIN_CALLER = Caller(ADMIN_TOKEN_OWNER, frozenset({"admin"}), {})


def credential(scope: Scope) -> bytes | None:
    """The key the request carries (``Authorization: Bearer`` or ``X-API-Key``), or None;
    ``b""`` for an ``Authorization`` header of another scheme."""
    value: bytes
    for name, value in scope["headers"]:
        if name == AUTHORIZATION:
            kind, _, given = value.partition(b" ")
            return given.strip() if kind.lower() == b"bearer" else b""
        if name == API_KEY:
            return value.strip()
    return None


def caller_of(scope: Scope) -> Caller | None:
    caller: Caller | None = scope.get(CALLER)
    return caller


class Access:
    def __init__(self, settings: Settings, keyring: KeyRing, limiter: Limiter | None) -> None:
        self.require_keys = settings.require_keys
        self.trusted = frozenset(settings.trusted_proxies)
        self.admin_token = (settings.admin_token or "").encode()
        self.keyring = keyring
        self.limiter = limiter
        self.keyed: dict[str, Rate] = {
            "read": settings.limit_read,
            "bulk": settings.limit_bulk,
            "plans:write": settings.limit_plans_write,
        }
        self.anonymous: dict[str, Rate] = {
            "read": settings.anon_limit_read,
            "bulk": settings.anon_limit_bulk,
        }
        self._backend = ""
        # Callers made once and reused (a key's until the key ring reloads or it expires):
        # a request then costs no hash and no new object. At most KNOWN_LIMIT of each.
        self._known: dict[bytes, tuple[Caller, int, float]] = {}
        self._anonymous_callers: dict[str, Caller] = {}

    async def admit(self, scope: Scope, endpoint: Endpoint) -> None:
        """Identify, authorise and limit one request (module docstring); raises the 4xx."""
        kind = endpoint.access
        COUNTED[kind][0] += 1
        if kind == "open":
            return
        given = credential(scope)
        if given is None:
            caller = self._anonymous(scope, kind, endpoint)
        else:
            caller = self._keyed(given)
            if kind not in caller.scopes:
                FAILED["scope"].inc()
                raise Forbidden(f"this key does not have the {kind} scope", scope=kind)
        scope[CALLER] = caller
        limiter = self.limiter
        limit = caller.limits.get(kind)
        if limiter is None or limit is None:  # limits off, or admin (not limited)
            return
        decision: Decision | None = limiter.check(limit.bucket, limit.rate, 1)
        if decision is None:
            decision = await limiter.take(limit.bucket, limit.rate, 1)
            self._report_backend()
        if not decision.allowed:
            self._refuse(kind, limit.rate, headers(limit.policy, decision), decision)
        # The text headers() gives, with the policy line made once (the hot path).
        state = b"%s;r=%d;t=%d" % (limit.quoted, decision.remaining, decision.reset)
        scope[EXTRA_HEADERS] = [limit.header, (b"ratelimit", state)]

    async def metrics(self, scope: Scope) -> None:
        """The check of ``GET /metrics``, which the observability middleware answers."""
        await self.admit(scope, METRICS)

    async def charge(self, scope: Scope, kind: str, units: int) -> None:
        """Take ``units`` more from the caller's bucket of ``kind`` (bulk lines past the first,
        counted once the body was read); the request goes on even if the bucket runs dry."""
        who = caller_of(scope)
        limit = who.limits.get(kind) if who is not None else None
        if self.limiter is None or limit is None or units <= 0:
            return
        self.limiter.spend(limit.bucket, limit.rate, units)

    def status(self) -> str:
        """``off``, ``local``, ``redis`` or ``degraded`` (for ``/ready``)."""
        return "off" if self.limiter is None else self.limiter.status()

    def _anonymous(self, scope: Scope, kind: str, endpoint: Endpoint) -> Caller:
        open_metrics = endpoint.name == "metrics" and not self.require_keys  # a laptop's
        refused = self.require_keys or endpoint.owned or kind not in ANONYMOUS_CLASSES
        if refused and not open_metrics:
            FAILED["missing"].inc()
            raise Unauthorized(
                "an API key is required: Authorization: Bearer <key> or X-API-Key: <key>",
                challenge=CHALLENGE,
            )
        address = self._address(scope)
        found = self._anonymous_callers.get(address)
        if found is None:
            if len(self._anonymous_callers) >= KNOWN_LIMIT:
                self._anonymous_callers.clear()
            found = caller(None, ANONYMOUS_CLASSES, f"ip:{address}", self.anonymous)
            self._anonymous_callers[address] = found
        return found

    def _address(self, scope: Scope) -> str:
        """The client's address: the peer's, or, when the peer is a trusted proxy
        (``CMS_PRICING_TRUSTED_PROXIES``), the last address of its ``X-Forwarded-For``."""
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        if peer not in self.trusted:
            return peer
        forwarded = [v for n, v in scope["headers"] if n == FORWARDED]
        if not forwarded:
            return peer
        last = forwarded[-1].decode("latin-1").rsplit(",", 1)[-1].strip()
        return last[:64] or peer

    def _keyed(self, given: bytes) -> Caller:
        ring = self.keyring
        ring.tick()
        known = self._known.get(given)
        if known is not None and known[1] == ring.generation and time.time() < known[2]:
            return known[0]
        if self.admin_token and hmac.compare_digest(given, self.admin_token):
            return ADMIN_CALLER
        key: ApiKey | None = ring.lookup(given.decode("latin-1")) if given else None
        if key is None:
            FAILED["invalid"].inc()
            raise Unauthorized("the API key is not valid", challenge=INVALID)
        made = caller(key.id, key.scopes, f"key:{key.id}", {**self.keyed, **key.quota})
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()
        until = key.expires_at.timestamp() if key.expires_at else math.inf
        self._known[given] = (made, ring.generation, until)
        return made

    @staticmethod
    def _refuse(
        kind: str, rate: Rate, sent: list[tuple[bytes, bytes]], decision: Decision
    ) -> NoReturn:
        LIMITED[kind][0] += 1
        raise RateLimited(
            f"over the {kind} limit of {rate}; retry in {decision.retry_after} s",
            headers=tuple((n.decode(), v.decode()) for n, v in sent),
            limit=str(rate),
            retry_after=decision.retry_after,
        )

    def _report_backend(self) -> None:
        assert self.limiter is not None
        backend = self.limiter.status()
        if backend != self._backend:
            for name in ("local", "redis", "degraded"):
                RATE_LIMIT_BACKEND.labels(name).set(1 if name == backend else 0)
            self._backend = backend
