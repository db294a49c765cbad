"""Every Prometheus metric the service exports is declared here, and only here.

All of them live in ``REGISTRY`` (not prometheus_client's default registry, whose process
and GC collectors would describe one worker, not the service). ``docs/observability.md``
gives each metric's meaning; this module is the contract.

Requests (recorded by ``observability.middleware`` for every HTTP request, fast path or not):

- ``api_requests_total{method, endpoint, status}``
- ``api_request_duration_seconds{method, endpoint}``: buckets at every SLA budget and at 80%
  of it (the warning line), plus fine buckets below 10 ms where this service lives
- ``api_active_connections``: requests in progress (ASGI has no connection events)
- ``api_endpoint_info{method, endpoint, sla_class}`` = 1 and ``api_sla_budget_seconds{sla_class}``:
  the static endpoint -> SLA class map and each class's p95 budget, for rules to join on

``endpoint`` is a route template (``/reference/codes/{code}``) or ``unmatched``; ``method``
is one of ``METHODS`` or ``other``, so label cardinality is bounded.

Cache counters (``api_cache_hits_total`` / ``api_cache_misses_total``) carry two labels:
``layer`` (``local``: the per-process response cache; ``redis``: the shared cache) and
``cache_type`` (the class of answer: ``pricing``, ``reference``, ``docs``).

Keys and limits (``api/access.py``, docs/auth.md): ``api_requests_by_scope_total{scope_class}``
and ``api_rate_limited_total{scope_class}`` (``read``, ``bulk``, ``plans:write``, ``admin``,
``open``: the class, never the key, so labels stay bounded), ``api_auth_failures_total{reason}``
(``missing``, ``invalid``, ``scope``) and ``api_rate_limit_backend{backend}`` (``local``,
``redis``, ``degraded``).

Sampled each flush or scrape (``observability.samplers``): process CPU and memory, database
pool, loaded and newest published release, ingestion log counts.

Gauges merge across worker processes by ``GAUGE_MERGE`` (``observability.shared``).
"""

from __future__ import annotations

from itertools import accumulate
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric

# ``*_created`` samples cannot be summed across processes and no rule uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=True)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# SLA class -> p95 budget in seconds; the warning line is 80% of it.
SLA_BUDGETS: dict[str, float] = {
    "reference": 0.1,
    "pricing": 0.2,
    "read": 0.3,
    "write": 0.5,
    "bulk": 1.0,
}
WARNING_SHARE = 0.8

DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.08,
    0.1,
    0.16,
    0.2,
    0.24,
    0.3,
    0.4,
    0.5,
    0.8,
    1.0,
    2.5,
    5.0,
)


class RequestStats:
    """``api_requests_total`` and ``api_request_duration_seconds`` kept as plain numbers.

    The middleware bumps lists it got from ``series()`` (one bisect and three additions per
    request, no lock: only the event loop thread writes); ``collect()`` copies them (a dict
    or list copy is atomic under the GIL) into Prometheus families for a scrape or a flush.
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self._requests: dict[tuple[str, str, str], list[int]] = {}
        # per (method, endpoint): a count per bucket (not cumulative), +Inf, then the sum
        self._durations: dict[tuple[str, str], list[float]] = {}

    def series(self, method: str, endpoint: str, status: int) -> tuple[list[int], list[float]]:
        count = self._requests.setdefault((method, endpoint, str(status)), [0])
        empty = [0.0] * (len(self.bounds) + 2)
        return count, self._durations.setdefault((method, endpoint), empty)

    def collect(self) -> list[Metric]:
        requests = CounterMetricFamily(
            "api_requests",
            "HTTP requests answered, by method, route template and status code.",
            labels=["method", "endpoint", "status"],
        )
        for labels, (count,) in list(self._requests.items()):
            requests.add_metric(labels, count)
        durations = HistogramMetricFamily(
            "api_request_duration_seconds",
            "Time from the request reaching the app to the last byte handed to the server.",
            labels=["method", "endpoint"],
        )
        for endpoint_labels, counts in list(self._durations.items()):
            buckets, total = self._cumulative(list(counts))
            durations.add_metric(endpoint_labels, buckets, sum_value=total)
        return [requests, durations]

    def _cumulative(self, counts: list[float]) -> tuple[list[tuple[str, float]], float]:
        edges = [*(str(b) for b in self.bounds), "+Inf"]
        return list(zip(edges, accumulate(counts[:-1]), strict=True)), counts[-1]


REQUEST_STATS = RequestStats(DURATION_BUCKETS)
REGISTRY.register(REQUEST_STATS)
ACTIVE = Gauge(
    "api_active_connections",
    "HTTP requests in progress (each holds one connection).",
    registry=REGISTRY,
)
ENDPOINT_INFO = Gauge(
    "api_endpoint_info",
    "1 for each (method, route template) with the SLA class it is judged by.",
    ["method", "endpoint", "sla_class"],
    registry=REGISTRY,
)
SLA_BUDGET = Gauge(
    "api_sla_budget_seconds",
    "The p95 latency budget of an SLA class.",
    ["sla_class"],
    registry=REGISTRY,
)


class PlainCounter:
    """A counter of one label kept as plain ints, for the hot path: ``child(value)`` gives a
    one-item list that the caller bumps (no ``labels()`` call, no lock: only the event loop
    thread writes), and ``collect()`` copies them for a scrape or a flush, as
    ``RequestStats`` does. ``prometheus_client.Counter.inc`` costs about 0.5 us a call."""

    def __init__(self, name: str, documentation: str, *labels: str) -> None:
        self.name, self.documentation, self.labels = name, documentation, list(labels)
        self._counts: dict[tuple[str, ...], list[int]] = {}

    def child(self, *values: str) -> list[int]:
        return self._counts.setdefault(values, [0])

    def collect(self) -> list[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, (count,) in list(self._counts.items()):
            family.add_metric(list(values), count)
        return [family]


SCOPE_REQUESTS = PlainCounter(
    "api_requests_by_scope",
    "Requests by the scope class they need (read, bulk, plans:write, admin, open).",
    "scope_class",
)
RATE_LIMITED = PlainCounter(
    "api_rate_limited", "Requests answered 429 rate_limited, by scope class.", "scope_class"
)
# Every answer of the fast path counts a hit or a miss: plain counters (issue 14).
CACHE_HITS = PlainCounter(
    "api_cache_hits", "Answers served from a cache layer.", "layer", "cache_type"
)
CACHE_MISSES = PlainCounter(
    "api_cache_misses", "Lookups that a cache layer could not answer.", "layer", "cache_type"
)
REGISTRY.register(CACHE_HITS)
REGISTRY.register(CACHE_MISSES)
REGISTRY.register(SCOPE_REQUESTS)
REGISTRY.register(RATE_LIMITED)
AUTH_FAILURES = Counter(
    "api_auth_failures_total",
    "Requests refused for their credentials: missing (401), invalid (401), scope (403).",
    ["reason"],
    registry=REGISTRY,
)
RATE_LIMIT_BACKEND = Gauge(
    "api_rate_limit_backend",
    "1 for the rate limiter's backend in use: local, redis or degraded (Redis failing).",
    ["backend"],
    registry=REGISTRY,
)

DB_POOL_SIZE = Gauge(
    "api_db_pool_size", "Connections the database pool keeps open.", registry=REGISTRY
)
DB_POOL_CHECKED_OUT = Gauge(
    "api_db_pool_checked_out", "Database connections in use.", registry=REGISTRY
)
DB_POOL_OVERFLOW = Gauge(
    "api_db_pool_overflow", "Connections open beyond the pool size.", registry=REGISTRY
)
DB_POOL_CAPACITY = Gauge(
    "api_db_pool_capacity",
    "Most connections the pool may hold (size + allowed overflow).",
    registry=REGISTRY,
)

CPU_SECONDS = Counter(
    "api_process_cpu_seconds",
    "CPU time (user + system) spent by the worker processes.",
    registry=REGISTRY,
)
CPU_CORES = Gauge("api_process_cpu_cores", "CPU cores available to the service.", registry=REGISTRY)
MEMORY = Gauge(
    "api_process_resident_memory_bytes",
    "Resident memory of the worker processes.",
    registry=REGISTRY,
)
MEMORY_LIMIT = Gauge(
    "api_process_memory_limit_bytes",
    "Memory available to the service (cgroup limit, else the machine's memory).",
    registry=REGISTRY,
)

RELEASE_LOADED = Gauge(
    "api_release_loaded_info",
    "1 for the newest release the workers serve.",
    ["release"],
    registry=REGISTRY,
)
RELEASE_LOADED_PUBLISHED = Gauge(
    "api_release_loaded_published_timestamp_seconds",
    "Publish time of the newest release loaded (the stalest worker's).",
    registry=REGISTRY,
)
RELEASE_NEWEST_PUBLISHED = Gauge(
    "api_release_newest_published_timestamp_seconds",
    "Publish time of the newest release in the database.",
    registry=REGISTRY,
)
INGESTION_RUNS = Gauge(
    "api_ingestion_runs",
    "Ingestion attempts recorded in the database, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
INGESTION_REJECTED = Gauge(
    "api_ingestion_rejected_files",
    "CMS files refused by ingestion (runs with outcome 'rejected').",
    registry=REGISTRY,
)

Merge = Literal["sum", "min", "max"]
# How a gauge combines across live worker processes (dead workers' gauges are dropped).
GAUGE_MERGE: dict[str, Merge] = {
    "api_active_connections": "sum",
    "api_db_pool_size": "sum",
    "api_db_pool_checked_out": "sum",
    "api_db_pool_overflow": "sum",
    "api_db_pool_capacity": "sum",
    "api_process_resident_memory_bytes": "sum",
    "api_release_loaded_published_timestamp_seconds": "min",
}
DEFAULT_MERGE: Merge = "max"

for _sla_class, _budget in SLA_BUDGETS.items():
    SLA_BUDGET.labels(_sla_class).set(_budget)
