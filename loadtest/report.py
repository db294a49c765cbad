"""From a run's request log to ``results.json`` (``report.md`` and the PNG come from it).

Input: the run's logs (``loadtest/log.py``: every Locust process's requests, the users,
the generator's lag) and ``cpu.csv`` (``loadtest/cpu.py``). Output, per endpoint and per SLA
class: requests, requests/s over the run, p50/p95/p99 ms, error rate (no answer or any
status >= 400: the mix sends only valid requests) and 5xx rate (no answer counts as 5xx);
each class judged against the standard's budgets (``loadtest/sla.py``); a per-second
timeline; and the first second at which a class's p95 over the trailing 5 s broke its
budget (``breaking_point``), with users and requests/s then; and from
``loadtest/saturation.py`` the knee (the first p99 break), both sides' CPU and the
generator's lag, and which side was the bottleneck.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loadtest.log import Request, percentile, read_requests, read_users
from loadtest.saturation import saturation
from loadtest.sla import BUDGETS, MAX_5XX

WINDOW = 5  # seconds of trailing requests behind each point of the breaking-point search


def summarise(requests: list[Request], seconds: float) -> dict[str, float]:
    ordered = sorted(r.ms for r in requests)
    count = len(ordered)
    return {
        "requests": count,
        "requests_per_s": round(count / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(ordered, 50), 2),
        "p95_ms": round(percentile(ordered, 95), 2),
        "p99_ms": round(percentile(ordered, 99), 2),
        "error_rate": round(sum(r.failed for r in requests) / count, 5) if count else 0.0,
        "rate_5xx": round(sum(r.server_error for r in requests) / count, 5) if count else 0.0,
    }


def grouped(requests: Iterable[Request], key: str) -> dict[str, list[Request]]:
    groups: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        groups[getattr(r, key)].append(r)
    return dict(sorted(groups.items()))


def judge(klass: str, s: dict[str, float]) -> dict[str, Any]:
    budget = BUDGETS[klass]
    checks = {
        "p95": s["p95_ms"] <= budget.p95_ms,
        "p99": s["p99_ms"] <= budget.p99_ms,
        "5xx": s["rate_5xx"] <= MAX_5XX,
    }
    return {
        "p95_budget_ms": budget.p95_ms,
        "p99_budget_ms": budget.p99_ms,
        "checks": checks,
        "passed": all(checks.values()),
    }


def timeline(requests: list[Request], users: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """Per second: requests/s, users, and each class's p50/p95 over that second."""
    seconds: dict[int, list[Request]] = defaultdict(list)
    for r in requests:
        seconds[int(r.t)].append(r)
    user_at = {int(t): n for t, n in users}
    return [
        {
            "t": s,
            "requests_per_s": len(rs),
            "users": user_at.get(s, 0),
            "errors": sum(r.failed for r in rs),
            "classes": {
                k: {
                    "p50_ms": percentile(sorted(x.ms for x in v), 50),
                    "p95_ms": percentile(sorted(x.ms for x in v), 95),
                }
                for k, v in grouped(rs, "sla_class").items()
            },
        }
        for s, rs in sorted(seconds.items())
    ]


def breaking_point(
    requests: list[Request], users: list[tuple[float, int]]
) -> dict[str, Any] | None:
    """The first second whose trailing window has a class over its p95 budget or 5xx rate."""
    user_at = {int(t): n for t, n in users}
    ordered = sorted(requests, key=lambda r: r.t)
    times = [r.t for r in ordered]
    for second in range(WINDOW, int(times[-1]) + 1 if times else 0):
        window = ordered[bisect_left(times, second - WINDOW) : bisect_left(times, second)]
        for klass, rs in grouped(window, "sla_class").items():
            s = summarise(rs, WINDOW)
            if len(rs) >= 20 and (s["p95_ms"] > BUDGETS[klass].p95_ms or s["rate_5xx"] > MAX_5XX):
                return {
                    "t": second,
                    "sla_class": klass,
                    "p95_ms": s["p95_ms"],
                    "rate_5xx": s["rate_5xx"],
                    "users": user_at.get(second, 0),
                    "requests_per_s": round(len(window) / WINDOW, 1),
                }
    return None


def results(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    requests = read_requests(folder)
    users = read_users(folder / "users.csv")
    seconds = max((r.t for r in requests), default=0.0) - min((r.t for r in requests), default=0.0)
    classes = {k: summarise(v, seconds) for k, v in grouped(requests, "sla_class").items()}
    return {
        **meta,
        "seconds": round(seconds, 1),
        "peak_users": max((n for _t, n in users), default=0),
        "total": summarise(requests, seconds),
        "endpoints": {k: summarise(v, seconds) for k, v in grouped(requests, "endpoint").items()},
        "classes": classes,
        "sla": {k: judge(k, s) for k, s in classes.items()},
        "sla_passed": all(judge(k, s)["passed"] for k, s in classes.items()),
        "breaking_point": breaking_point(requests, users),
        "timeline": timeline(requests, users),
        **saturation(folder, requests, {int(t): n for t, n in users}, meta),
    }
