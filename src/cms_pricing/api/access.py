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
from typing import NoReturn

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
from cms_pricing.service.ratelimit import (
    Decision,
    Limiter,
    Rate,
    headers,
    lease_size,
    policy_header,
    sf_string,
    state_header,
)

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
STALE_S = 1.0  # RateLimit's r and t are read again from the limiter once this old

COUNTED = {c: SCOPE_REQUESTS.child(c) for c in CLASSES}
LIMITED = {c: RATE_LIMITED.child(c) for c in CLASSES}
FAILED = {r: AUTH_FAILURES.labels(r) for r in ("missing", "invalid", "scope")}


class Limit:
    """One class's allowance of a caller: its bucket and rate, the policy name and the
    ``RateLimit-Policy`` header (made once: its value never changes), and the units this
    worker took ahead (``credit``).

    Units are taken from the limiter ``batch`` at a time (``service.ratelimit.lease_size``:
    1 below 1,000 units a window, so small allowances stay exact; at most 1% of the
    allowance above), and each request spends one from ``credit`` without asking the
    limiter; the ``RateLimit`` header then says ``left + credit``, with ``left`` and ``reset``
    read again (a zero-unit check) once they are a second old. A worker holds at most
    ``batch - 1`` units of a bucket ahead, taken from the bucket already, so the limit is
    never exceeded; other workers may be refused those units meanwhile."""

    __slots__ = (
        "at",
        "batch",
        "bucket",
        "credit",
        "header",
        "left",
        "policy",
        "quoted",
        "rate",
        "reset",
    )

    def __init__(self, bucket: str, rate: Rate, policy: str, batched: bool) -> None:
        self.bucket, self.rate, self.policy = bucket, rate, policy
        self.header = policy_header(policy, rate.count, rate.seconds)
        self.quoted = sf_string(policy)
        self.batch = lease_size(rate) if batched else 1
        self.credit = 0
        self.left = self.reset = 0
        self.at = -math.inf  # monotonic time ``left`` and ``reset`` were read

    def state(self) -> tuple[bytes, bytes]:
        """The ``RateLimit`` header now."""
        return state_header(self.quoted, self.left + self.credit, self.reset)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: a key's id (the owner of what it saves) or an anonymous address,
    with the bucket, rate and policy name of each class it is limited in."""

    owner: str | None  # None: anonymous
    scopes: frozenset[str]
    limits: Mapping[str, Limit]  # one per class; mutable: the units taken ahead


def caller(
    owner: str | None,
    scopes: frozenset[str],
    prefix: str,
    rates: Mapping[str, Rate],
    *,
    made: dict[tuple[str, Rate], Limit] | None = None,
    batched: bool = False,
) -> Caller:
    """A caller whose buckets are ``<prefix>:<class>`` (``key:<id>``, ``ip:<address>``);
    ``batched``: units are taken ahead in batches (``Limit``). A ``Limit`` already in
    ``made`` for the same bucket and rate is reused, so a caller made again (the key ring
    reloaded) keeps the units taken ahead."""
    limits = {}
    for kind, rate in rates.items():
        bucket = f"{prefix}:{kind}"
        found = made.get((bucket, rate)) if made is not None else None
        if found is None:
            found = Limit(bucket, rate, kind.replace(":", "-"), batched)
            if made is not None:
                if len(made) >= KNOWN_LIMIT:
                    made.clear()
                made[bucket, rate] = found
        limits[kind] = found
    return Caller(owner, scopes, limits)


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
        # Units taken ahead in batches only from the limiter's own memory: with Redis its
        # leases already spare the round trips, and a batch refused there would be
        # remembered as a refusal of one unit too (service/ratelimit.py).
        self.batched = limiter is not None and limiter.status() == "local"
        if limiter is not None:
            self._report_backend()
        # Callers made once and reused (a key's until the key ring reloads or it expires):
        # a request then costs no hash and no new object. At most KNOWN_LIMIT of each.
        self._known: dict[bytes, tuple[Caller, int, float]] = {}
        self._anonymous_callers: dict[str, Caller] = {}
        self._made: dict[tuple[str, Rate], Limit] = {}  # every caller's Limits, by bucket

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
        now = time.monotonic()
        if limit.credit:  # a unit this worker took ahead (Limit): no limiter call
            limit.credit -= 1
            if now - limit.at > STALE_S:
                self._reread(limiter, limit, now)
        else:
            await self._take(kind, limiter, limit, now)
        scope[EXTRA_HEADERS] = [limit.header, limit.state()]

    async def _take(self, kind: str, limiter: Limiter, limit: Limit, now: float) -> None:
        """Take a batch of units (one when a batch does not fit), or refuse with the 429."""
        bucket, rate = limit.bucket, limit.rate
        decision = None
        for cost in (limit.batch, 1) if limit.batch > 1 else (1,):
            decision = limiter.check(bucket, rate, cost)
            if decision is None:
                decision = await limiter.take(bucket, rate, cost)
                self._report_backend()
            if decision.allowed:
                limit.credit, limit.left, limit.reset, limit.at = (
                    cost - 1,
                    decision.remaining,
                    decision.reset,
                    now,
                )
                return
        assert decision is not None
        self._refuse(kind, rate, headers(limit.policy, decision), decision)

    @staticmethod
    def _reread(limiter: Limiter, limit: Limit, now: float) -> None:
        """``left`` and ``reset`` as the limiter sees them now (a check of zero units takes
        nothing); kept as they were when it cannot say without a round trip."""
        decision = limiter.check(limit.bucket, limit.rate, 0)
        if decision is not None:
            limit.left, limit.reset, limit.at = decision.remaining, decision.reset, now

    async def metrics(self, scope: Scope) -> None:
        """The check of ``GET /metrics``, which the observability middleware answers."""
        await self.admit(scope, METRICS)

    def charge(self, scope: Scope, kind: str, units: int) -> None:
        """Take ``units`` more from the caller's bucket of ``kind`` (bulk lines past the first,
        counted once the body was read); the request goes on even if the bucket runs dry.
        Units this worker took ahead pay first, so a caller in debt has none left to spend:
        its next request asks the limiter, which refuses it until the debt is paid."""
        who = caller_of(scope)
        limit = who.limits.get(kind) if who is not None else None
        if self.limiter is None or limit is None or units <= 0:
            return
        ahead = min(units, limit.credit)
        limit.credit -= ahead
        if units > ahead:
            self.limiter.spend(limit.bucket, limit.rate, units - ahead)

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
            prefix = f"ip:{address}"
            found = caller(
                None,
                ANONYMOUS_CLASSES,
                prefix,
                self.anonymous,
                made=self._made,
                batched=self.batched,
            )
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
        known = self._known.get(given)
        if known is not None and known[1] == ring.generation and time.time() < known[2]:
            ring.tick()  # lookup() does this otherwise: revocations must still be seen
            return known[0]
        if self.admin_token and hmac.compare_digest(given, self.admin_token):
            return ADMIN_CALLER
        key: ApiKey | None = ring.lookup(given.decode("latin-1")) if given else None
        if key is None:
            FAILED["invalid"].inc()
            raise Unauthorized("the API key is not valid", challenge=INVALID)
        rates = {**self.keyed, **key.quota}
        made = caller(
            key.id, key.scopes, f"key:{key.id}", rates, made=self._made, batched=self.batched
        )
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
