"""The hot path: snapshot-backed GET endpoints answered straight from ASGI, with caching.

A FastAPI request costs more than the whole pricing computation (docs/performance.md), so
``FastPath`` sits in front of the FastAPI app and answers the read endpoints itself, calling
the same handler functions the documented routes call. Everything else (docs, OpenAPI,
admin, unknown paths, other methods, lifespan) goes to FastAPI; the docs and schema get
their ``Cache-Control`` on the way out.

Caching (docs/caching.md), per request:

1. the local layer by raw path and query (one dict lookup), then by the normalised query;
2. for answers that cost more to compute than a Redis round trip, the shared Redis layer
   (one flight per key and worker);
3. compute, and keep the answer in the layers it belongs to.

Every answer carries ``Cache-Control`` for its class and, when successful, a strong
``ETag``; a matching ``If-None-Match`` gets ``304`` with no body. ``X-Cache`` says which
layer answered (``local``, ``redis`` or ``miss``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cms_pricing.api import handlers
from cms_pricing.api.handlers import Handler
from cms_pricing.cache import keys
from cms_pricing.cache.local import Entry
from cms_pricing.cache.policy import NO_STORE, CacheClass
from cms_pricing.cache.shared import pack, unpack
from cms_pricing.cache.singleflight import SingleFlight
from cms_pricing.errors import PricingError
from cms_pricing.observability.metrics import CACHE_HITS, CACHE_MISSES
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service.state import Loaded, Reply, ServiceState

# Counter children bound once: ``labels()`` on every request costs more than a cache hit.
_LAYERS = ("local", "redis")
HITS = {(layer, c): CACHE_HITS.labels(layer, c) for layer in _LAYERS for c in CacheClass}
MISSES = {(layer, c): CACHE_MISSES.labels(layer, c) for layer in _LAYERS for c in CacheClass}


def _never(_normalised: str) -> bool:
    return False


def _without_zip(normalised: str) -> bool:
    return "zip=" not in normalised


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    cache_class: CacheClass | None  # None: never cached (health, readiness)
    # Which answers also go to Redis: only those that cost more to compute than a Redis GET
    # (about 80 us here, docs/caching.md). A single price (10-30 us), one code's rows or one
    # ZIP's locality (about 9 us) are cheaper to recompute than to fetch.
    shared: Callable[[str], bool] = _never


EXACT: dict[str, Route] = {
    "/codes/price": Route(handlers.price, CacheClass.PRICING),
    "/releases": Route(handlers.releases, CacheClass.REFERENCE),
    # The whole list (109 localities, 30 KB) costs about 100 us to build: worth sharing.
    "/reference/localities": Route(handlers.localities, CacheClass.REFERENCE, _without_zip),
    "/health": Route(handlers.health, None),
    "/ready": Route(handlers.ready, None),
}
# path prefix -> route whose handler takes the rest of the path as its argument
PREFIXED: tuple[tuple[str, Route], ...] = (
    ("/reference/codes/", Route(handlers.code_reference, CacheClass.REFERENCE)),
)
DOCS_PATHS = frozenset(
    {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/redoc/logo-mini.svg"}
)  # the assets under /docs/static/ set their own (api/docs.py)

JSON = (b"content-type", b"application/json")
X_CACHE = {"local": (b"x-cache", b"local"), "redis": (b"x-cache", b"redis")}
MISS = (b"x-cache", b"miss")


def route(path: str) -> tuple[Route, str] | None:
    exact = EXACT.get(path)
    if exact is not None:
        return exact, ""
    for prefix, found in PREFIXED:
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return found, path[len(prefix) :]
    return None


def make_entry(status: int, body: bytes, etag: bytes | None, control: bytes, ttl: int) -> Entry:
    headers = [JSON, (b"content-length", b"%d" % len(body)), (b"cache-control", control)]
    if etag is not None:
        headers.append((b"etag", etag))
    return Entry(status, body, headers, etag, time.monotonic() + ttl)


@dataclass(frozen=True, slots=True)
class Lookup:
    """One request that missed the raw-key lookup, with everything the layers below need."""

    loaded: Loaded
    target: Route
    cache_class: CacheClass
    path: str
    arg: str
    query: str
    normalised: str
    pinned: str | None


class Answerer:
    """Turns (path, query) into an ``Entry`` through the cache layers."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.flights: SingleFlight[tuple[Entry, str]] = SingleFlight()

    async def answer(self, path: str, query: bytes) -> tuple[Entry, str] | None:
        """The answer and the layer that gave it; None when the fast path does not serve
        ``path``."""
        found = route(path)
        if found is None:
            return None
        target, arg = found
        loaded = self.state.current
        if target.cache_class is None or loaded is None:
            reply = target.handler(self.state, query.decode("latin-1"), arg)
            return make_entry(reply.status, reply.body, None, NO_STORE, 0), "miss"
        text = query.decode("latin-1")
        raw_key = path + "?" + text
        entry = loaded.cache.get(raw_key)
        if entry is not None:
            HITS["local", target.cache_class].inc()
            return entry, "local"
        normalised, pinned = keys.normalise(text)
        lookup = Lookup(loaded, target, target.cache_class, path, arg, text, normalised, pinned)
        entry, layer = await self._normalised(lookup)
        if normalised != text:  # an alias, so the next identical raw query is one lookup
            loaded.cache.put(raw_key, entry)
        return entry, layer

    async def _normalised(self, lookup: Lookup) -> tuple[Entry, str]:
        key = lookup.path + "?" + lookup.normalised
        cache = lookup.loaded.cache
        entry = cache.get(key)
        if entry is not None:
            HITS["local", lookup.cache_class].inc()
            return entry, "local"
        MISSES["local", lookup.cache_class].inc()
        if lookup.target.shared(lookup.normalised):
            entry, layer = await self.flights.run(key, lambda: self._shared(lookup))
        else:
            entry, layer = self._compute(lookup), "miss"
        cache.put(key, entry)
        return entry, layer

    def _compute(self, lookup: Lookup) -> Entry:
        reply = lookup.target.handler(self.state, lookup.query, lookup.arg)
        return self._entry(lookup, reply)

    def _entry(self, lookup: Lookup, reply: Reply) -> Entry:
        ttl = self.state.policy.ttl[lookup.cache_class]
        if reply.status != 200:
            # Errors are kept here for the life of the snapshot but never by clients.
            return make_entry(reply.status, reply.body, None, NO_STORE, ttl)
        loaded = lookup.loaded
        version = _pinned_version(loaded, lookup.pinned) or loaded.snapshot.fingerprint
        tag = keys.etag(version, lookup.path, lookup.normalised)
        control = self.state.policy.header(lookup.cache_class, pinned=lookup.pinned is not None)
        return make_entry(200, reply.body, tag, control, ttl)

    async def _shared(self, lookup: Lookup) -> tuple[Entry, str]:
        scope = _shared_scope(lookup.loaded, lookup.query)
        if scope is None:  # the query does not name a valid release: compute the error
            return self._compute(lookup), "miss"
        shared_key = keys.shared_key(scope, lookup.cache_class, lookup.path, lookup.normalised)
        packed = await self.state.shared.get(shared_key)
        if packed is not None:
            HITS["redis", lookup.cache_class].inc()
            status, _tag, body = unpack(packed)
            return self._entry(lookup, Reply(status, body)), "redis"
        MISSES["redis", lookup.cache_class].inc()
        entry = self._compute(lookup)
        if entry.status == 200:
            ttl = self.state.policy.ttl[lookup.cache_class]
            await self.state.shared.set(shared_key, pack(200, entry.etag, entry.body), ttl)
        return entry, "miss"


def _pinned_version(loaded: Loaded, pinned: str | None) -> str | None:
    if pinned is None:
        return None
    view = loaded.snapshot.views.get(pinned)
    if view is None:
        return None
    zip_sha = loaded.zips.meta.sha256 if loaded.zips else ""
    return f"{view.ref.sha256}:{zip_sha}"


def _shared_scope(loaded: Loaded, query: str) -> str | None:
    """``rel:<id>:<sha12>:<zipsha8>``: the release (and ZIP file) the answer comes from."""
    try:
        chosen = handlers.selected_release(loaded, query)
    except PricingError:
        return None
    zip_sha = loaded.zips.meta.sha256 if loaded.zips else None
    return keys.release_scope(chosen.release_id, chosen.ref.sha256, zip_sha)


def _if_none_match(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return bytes(value)
    return None


def _matches(header: bytes, etag: bytes) -> bool:
    return header.strip() == b"*" or etag in (t.strip() for t in header.split(b","))


class FastPath:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self.answerer = Answerer(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = await self.answerer.answer(scope["path"], scope["query_string"])
            if found is not None:
                await self._send(scope, send, *found)
                return
            if scope["path"] in DOCS_PATHS:
                await self.app(scope, receive, self._with_docs_header(send))
                return
        await self.app(scope, receive, send)

    async def _send(self, scope: Scope, send: Send, entry: Entry, layer: str) -> None:
        cache_header = X_CACHE.get(layer, MISS)
        if entry.etag is not None:
            condition = _if_none_match(scope)
            if condition is not None and _matches(condition, entry.etag):
                headers = [h for h in entry.headers if h[0] in (b"etag", b"cache-control")]
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [*headers, cache_header],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await send(
            {
                "type": "http.response.start",
                "status": entry.status,
                "headers": [*entry.headers, cache_header],
            }
        )
        await send({"type": "http.response.body", "body": entry.body})

    def _with_docs_header(self, send: Send) -> Send:
        control = self.state.policy.header(CacheClass.DOCS)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [*message.get("headers", []), (b"cache-control", control)]
            await send(message)

        return sending
