"""The hot path: snapshot-backed GET endpoints answered straight from ASGI, with caching.

A FastAPI request costs more than the whole pricing computation (docs/performance.md), so
``FastPath`` sits in front of the FastAPI app and answers the read endpoints itself, calling
the same handler functions the documented routes call. Everything else (docs, OpenAPI,
admin, unknown paths, other methods, lifespan) goes to FastAPI; the docs and schema get
their ``Cache-Control`` on the way out.

Caching (docs/caching.md), per request:

1. the local layer by raw path and query (one dict lookup; a raw query is kept, as an alias
   of its canonical entry, only once it parsed to an answer already kept, and only when
   short: a stream of distinct queries makes one entry each, not two), then by the
   canonical form of the parsed query (``service.queries``): a query that does not parse is
   refused and never stored;
2. for answers that cost more to compute than a Redis round trip, the shared Redis layer
   (one flight per key and worker);
3. compute, and keep the answer in the layers it belongs to.

Every answer carries ``Cache-Control`` for its class and, when successful, a strong
``ETag``; a matching ``If-None-Match`` gets ``304`` with no body. ``X-Cache`` says which
layer answered (``local``, ``redis`` or ``miss``).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from cms_pricing.api import endpoints, handlers, wire
from cms_pricing.api.endpoints import Endpoint
from cms_pricing.cache import keys
from cms_pricing.cache.local import Entry, compact, weigh
from cms_pricing.cache.policy import NO_STORE, CacheClass
from cms_pricing.cache.shared import pack, unpack
from cms_pricing.cache.singleflight import SingleFlight
from cms_pricing.errors import PricingError
from cms_pricing.observability.metrics import CACHE_HITS, CACHE_MISSES
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service import queries
from cms_pricing.service.state import Loaded, Reply, ServiceState

# Counter children bound once: ``labels()`` on every request costs more than a cache hit.
_LAYERS = ("local", "redis")
HITS = {(layer, c): CACHE_HITS.child(layer, c) for layer in _LAYERS for c in CacheClass}
MISSES = {(layer, c): CACHE_MISSES.child(layer, c) for layer in _LAYERS for c in CacheClass}

JSON = (b"content-type", b"application/json")
X_CACHE = {"local": (b"x-cache", b"local"), "redis": (b"x-cache", b"redis")}
MISS = (b"x-cache", b"miss")
# A raw query longer than this is answered but never kept as an alias of its canonical form:
# real queries are a few dozen bytes, and a flood of long distinct ones must not fill memory.
ALIAS_LIMIT = 256


def make_entry(
    status: int,
    body: bytes,
    etag: bytes | None,
    control: bytes,
    ttl: int,
    *,
    extra: tuple[tuple[str, str], ...] = (),
) -> Entry:
    headers: tuple[tuple[bytes, bytes], ...] = (
        JSON,
        (b"content-length", b"%d" % len(body)),
        (b"cache-control", control),
    )
    if etag is not None:
        headers += ((b"etag", etag),)
    if extra:
        headers += tuple((name.encode(), value.encode()) for name, value in extra)
    return Entry(status, body, headers, etag, time.monotonic() + ttl, weigh(body, headers))


def error_entry(exc: PricingError, ttl: int = 0) -> Entry:
    return make_entry(exc.status_code, exc.body(), None, NO_STORE, ttl, extra=exc.headers)


class Lookup(NamedTuple):
    """One parsed request that missed the raw-key lookup (a tuple: made on every miss)."""

    loaded: Loaded
    endpoint: Endpoint
    cache_class: CacheClass
    typed: Any
    canonical: str
    pinned: str | None


def _pinned(typed: Any) -> str | None:
    chosen = getattr(typed, "selector", None)
    return chosen.release_id if chosen is not None else getattr(typed, "release_id", None)


class Answerer:
    """Turns (endpoint, path argument, raw query) into an ``Entry`` through the caches.

    The cache key is the endpoint's path and the *canonical form* of the parsed query
    (``service.queries``): inputs with one canonical form get one answer by construction.
    A query that does not parse is answered with its 400 and never stored; a raw query is
    kept as an alias of its canonical entry only when it parsed to a kept answer and is short.
    """

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.flights: SingleFlight[tuple[Entry, str]] = SingleFlight()

    async def answer(self, endpoint: Endpoint, arg: str, query: bytes) -> tuple[Entry, str]:
        text = query.decode("latin-1")
        loaded = self.state.current
        cache_class = endpoint.cache
        if cache_class is None or loaded is None:
            return self._uncached(endpoint, text, arg), "miss"
        cache = loaded.cache
        keeping = cache.capacity > 0  # CMS_PRICING_RESPONSE_CACHE_SIZE=0: no raw-key work
        raw_key = endpoint.path + "?" + arg + "?" + text if keeping else ""
        if keeping:
            entry = cache.get(raw_key)
            if entry is not None:
                HITS["local", cache_class][0] += 1
                return entry, "local"
        assert endpoint.parse is not None
        try:
            typed = endpoint.parse(text, arg)
        except PricingError as exc:
            return error_entry(exc), "miss"
        canonical = queries.canonical(typed)
        lookup = Lookup(loaded, endpoint, cache_class, typed, canonical, _pinned(typed))
        key = endpoint.path + "#" + canonical
        entry = cache.get(key) if keeping else None
        if entry is not None:
            HITS["local", cache_class][0] += 1
            if len(raw_key) <= ALIAS_LIMIT:  # asked again: the next time, one lookup
                cache.put(raw_key, entry)
            return entry, "local"
        MISSES["local", cache_class][0] += 1
        if endpoint.shared(typed):
            entry, layer = await self.flights.run(key, lambda: self._shared(lookup))
        else:
            entry, layer = self._compute(lookup), "miss"
        if keeping:
            entry = compact(entry)  # kept: its body in an allocation of its own size
            cache.put(key, entry)
        return entry, layer

    def _uncached(self, endpoint: Endpoint, text: str, arg: str) -> Entry:
        assert endpoint.parse is not None and endpoint.compute is not None
        try:
            reply = _reply(endpoint.compute(self.state, endpoint.parse(text, arg)))
        except PricingError as exc:
            return error_entry(exc)
        return make_entry(reply.status, reply.body, None, NO_STORE, 0)

    def _compute(self, lookup: Lookup) -> Entry:
        compute = lookup.endpoint.compute
        assert compute is not None
        try:
            reply = _reply(compute(self.state, lookup.typed))
        except PricingError as exc:
            # An answer of the canonical query alone (unknown code, no such row): the same
            # for every input that reaches this key, so it is kept like a 200.
            return error_entry(exc, self.state.policy.ttl[lookup.cache_class])
        return self._entry(lookup, reply)

    def _entry(self, lookup: Lookup, reply: Reply) -> Entry:
        policy = self.state.policy
        ttl = policy.ttl[lookup.cache_class]
        if reply.status != 200:
            return make_entry(reply.status, reply.body, None, NO_STORE, ttl)
        loaded = lookup.loaded
        if lookup.pinned is None:
            version = loaded.snapshot.fingerprint
            control = policy.header(lookup.cache_class)
        else:
            version = _pinned_version(loaded, lookup.pinned) or loaded.snapshot.fingerprint
            control = policy.header(lookup.cache_class, pinned=True)
        tag = keys.etag(version, lookup.endpoint.path, lookup.canonical)
        return make_entry(200, reply.body, tag, control, ttl)

    async def _shared(self, lookup: Lookup) -> tuple[Entry, str]:
        scope = _shared_scope(lookup.loaded, lookup.typed)
        if scope is None:  # the query does not name a valid release: compute the error
            return self._compute(lookup), "miss"
        path = lookup.endpoint.path
        shared_key = keys.shared_key(scope, lookup.cache_class, path, lookup.canonical)
        packed = await self.state.shared.get(shared_key)
        if packed is not None:
            HITS["redis", lookup.cache_class][0] += 1
            status, _tag, body = unpack(packed)
            return self._entry(lookup, Reply(status, body)), "redis"
        MISSES["redis", lookup.cache_class][0] += 1
        entry = self._compute(lookup)
        if entry.status == 200:
            ttl = self.state.policy.ttl[lookup.cache_class]
            await self.state.shared.set(shared_key, pack(200, entry.etag, entry.body), ttl)
        return entry, "miss"


def _reply(result: Any) -> Reply:
    return result if isinstance(result, Reply) else Reply(200, wire.dumps(result))


def _pinned_version(loaded: Loaded, pinned: str | None) -> str | None:
    if pinned is None:
        return None
    view = loaded.snapshot.views.get(pinned)
    if view is None:
        return None
    zip_sha = loaded.zip_meta.sha256 if loaded.zip_meta else ""
    return f"{view.ref.sha256}:{zip_sha}"


def _shared_scope(loaded: Loaded, typed: Any) -> str | None:
    """``rel:<id>:<sha12>:<zipsha8>``: the release (and ZIP file) the answer comes from."""
    try:
        chosen = handlers.selected(loaded, typed.selector)
    except PricingError:
        return None
    zip_sha = loaded.zip_meta.sha256 if loaded.zip_meta else None
    return keys.release_scope(chosen.release_id, chosen.ref.sha256, zip_sha)


def _if_none_match(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return bytes(value)
    return None


def _matches(header: bytes, etag: bytes) -> bool:
    return header.strip() == b"*" or etag in (t.strip() for t in header.split(b","))


def respond(scope: Scope, entry: Entry, layer: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body that answer ``scope`` with ``entry``: ``304`` with no body
    when its ``If-None-Match`` names the entry's ETag."""
    cache_header = X_CACHE.get(layer, MISS)
    if entry.etag is not None:
        condition = _if_none_match(scope)
        if condition is not None and _matches(condition, entry.etag):
            headers = [h for h in entry.headers if h[0] in (b"etag", b"cache-control")]
            return 304, [*headers, cache_header], b""
    return entry.status, [*entry.headers, cache_header], entry.body


class FastPath:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self.answerer = Answerer(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = endpoints.fast(scope["path"])
            if found is not None:
                answer = await self.answerer.answer(*found, scope["query_string"])
                await self._send(scope, send, *answer)
                return
            if scope["path"] in endpoints.DOCS_PATHS:
                await self.app(scope, receive, self._with_docs_header(send))
                return
        await self.app(scope, receive, send)

    async def _send(self, scope: Scope, send: Send, entry: Entry, layer: str) -> None:
        status, headers, body = respond(scope, entry, layer)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _with_docs_header(self, send: Send) -> Send:
        control = self.state.policy.header(CacheClass.DOCS)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [*message.get("headers", []), (b"cache-control", control)]
            await send(message)

        return sending
