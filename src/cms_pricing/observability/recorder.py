"""Per-request bookkeeping: a route lookup, a dict lookup, a bisect and three additions.

The counters of each (method, template, status) are looked up once and kept
(``metrics.RequestStats``), so a request costs no ``labels()`` call and no lock; the
in-progress count is a plain int copied into ``api_active_connections`` when metrics are
read. The cost is measured by ``bench/metrics_overhead.py`` (docs/performance.md).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from typing import NamedTuple

from cms_pricing.observability import metrics
from cms_pricing.observability.routes import RouteTable, method_label

log = logging.getLogger(__name__)
BOUNDS = metrics.DURATION_BUCKETS


class Series(NamedTuple):
    requests: list[int]  # [count]
    durations: list[float]  # count per bucket, +Inf, sum (metrics.RequestStats)
    budget: float  # the SLA budget of the endpoint's class, in seconds


class Recorder:
    def __init__(self, table: RouteTable) -> None:
        self.table = table
        self.active = 0
        self._series: dict[tuple[str, str, int], Series] = {}
        for method, template, klass in table.endpoints():
            metrics.ENDPOINT_INFO.labels(method, template, klass).set(1)

    def begin(self) -> None:
        self.active += 1

    def end(self, method: str, path: str, status: int, elapsed: float) -> None:
        self.active -= 1
        method = method_label(method)
        template = self.table.template(path)
        key = (method, template, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self._new_series(method, template, status)
        series.requests[0] += 1
        durations = series.durations
        durations[bisect_left(BOUNDS, elapsed)] += 1
        durations[-1] += elapsed
        if status >= 500 or elapsed > series.budget:
            _log_request(method, path, status, elapsed)

    def _new_series(self, method: str, template: str, status: int) -> Series:
        klass = self.table.sla(method, template)
        metrics.ENDPOINT_INFO.labels(method, template, klass).set(1)
        count, durations = metrics.REQUEST_STATS.series(method, template, status)
        return Series(count, durations, metrics.SLA_BUDGETS[klass])


def _log_request(method: str, path: str, status: int, elapsed: float) -> None:
    """One line for a failed or over-budget request (the id comes from the context)."""
    level = logging.ERROR if status >= 500 else logging.WARNING
    message = "request failed" if status >= 500 else "request over its SLA budget"
    extra = {"method": method, "path": path[:200], "status": status, "duration_ms": elapsed * 1000}
    log.log(level, message, extra=extra)
