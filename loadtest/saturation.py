"""Who ran out first: the knee of a run and the CPU and lag of both sides around it.

Input (in the run's folder): the requests (``report.read_requests``), ``users.csv``,
``cpu.csv`` (``loadtest/cpu.py``: per process of the service and of Locust, and the machine,
in percent of one core) and ``lag-<pid>.csv`` (each Locust process's event-loop lag, ms).

Output:
- ``knee``: the first second whose trailing 5 s have a class with at least 100 requests
  over its p99 budget (``loadtest/sla.py``), and so for 3 seconds in a row, with the
  users, requests/s, and both sides' CPU and the generator's lag over that window;
- ``cpu``: per process mean and peak (the highest 5 s mean), and per role;
- ``lag_ms``: p50, p99 and max of the generator's event-loop lag over the run;
- ``limits``: the first second (5 s mean) at which a Locust process reached 90% of its one
  core, the service 90% of its workers' cores, and the machine 90% of all its cores;
- ``bound``, judged over the 5 s before the knee (or before the busiest 5 s when p99 never
  broke): ``generator`` when a Locust process was at 90% of its core; else ``other work``
  when the machine's cores were 90% busy and processes outside the test (``others``:
  machine - service - Locust) used at least as much CPU as the service; else ``service``.
  A loop lag p99 of 20 ms or more is flagged apart: whatever its cause (a busy Locust
  process or a machine that does not schedule it), that delay is inside the latencies
  Locust measured.
"""

from __future__ import annotations

import csv
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Any

from loadtest.log import Request, percentile, read_lag
from loadtest.sla import BUDGETS

WINDOW = 5  # seconds
MIN_P99 = 100  # requests in a window before its p99 means something
SUSTAIN = 3  # seconds in a row over budget that make the knee
NEAR = 0.9  # share of a CPU limit that counts as reaching it
LAG_BOUND_MS = 20.0


def read_cpu(folder: Path) -> list[tuple[float, str, str, float]]:
    path = folder / "cpu.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return [
            (float(r["t"]), r["role"], r["process"], float(r["cpu_pct"])) for r in csv.DictReader(f)
        ]


def per_second(cpu: list[tuple[float, str, str, float]]) -> dict[str, dict[int, float]]:
    """CPU per series and second: each role's total, each process as ``role process``, and
    ``others`` (the machine less the service and Locust)."""
    series: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for t, role, process, pct in cpu:
        series[role][int(t)] += pct
        if role != "machine":
            series[f"{role} {process}"][int(t)] += pct
    for s, busy in series.get("machine", {}).items():
        ours = series["service"].get(s, 0.0) + series["generator"].get(s, 0.0)
        series["others"][s] = max(0.0, busy - ours)
    return {k: dict(v) for k, v in series.items()}


def window_mean(points: dict[int, float], end: int) -> float:
    values = [points[s] for s in range(end - WINDOW, end) if s in points]
    return sum(values) / len(values) if values else 0.0


def processes(series: dict[str, dict[int, float]]) -> dict[str, dict[str, float]]:
    """Mean and peak (highest 5 s mean) CPU of each series, in percent of one core."""
    found = {}
    for name, points in sorted(series.items()):
        seconds = sorted(points)
        peak = max((window_mean(points, s + 1) for s in seconds), default=0.0)
        mean = sum(points.values()) / len(points) if points else 0.0
        found[name] = {"mean_pct": round(mean, 1), "peak_pct": round(peak, 1)}
    return found


def limits(series: dict[str, dict[int, float]], workers: int, cpus: int) -> dict[str, Any]:
    """The first second each side's 5 s mean CPU reached its limit, or None."""
    caps = {"service": 100.0 * min(workers, cpus), "machine": 100.0 * cpus}

    def first(names: list[str], cap: float) -> int | None:
        hits = [
            s
            for name in names
            for s in sorted(series[name])
            if window_mean(series[name], s + 1) >= NEAR * cap
        ]
        return min(hits, default=None)

    generator = [n for n in series if n.startswith("generator ")]
    return {
        "generator_process": first(generator, 100.0),
        "service": first(["service"] if "service" in series else [], caps["service"]),
        "machine": first(["machine"] if "machine" in series else [], caps["machine"]),
        "caps_pct": {"generator_process": 100.0, **caps},
    }


def p99_knee(requests: list[Request]) -> dict[str, Any] | None:
    """The first of ``SUSTAIN`` seconds in a row whose trailing window has a class over its
    p99 budget (one scheduling hiccup on a shared machine is not the knee)."""
    ordered = sorted(requests, key=lambda r: r.t)
    times = [r.t for r in ordered]
    run: list[dict[str, Any]] = []
    for second in range(WINDOW, int(times[-1]) + 1 if times else 0):
        window = ordered[bisect_left(times, second - WINDOW) : bisect_left(times, second)]
        over = over_p99(window)
        run = [*run, {**over, "t": second}] if over else []
        if len(run) == SUSTAIN:
            return run[0]
    return None


def over_p99(window: list[Request]) -> dict[str, Any] | None:
    classes: dict[str, list[float]] = defaultdict(list)
    for r in window:
        classes[r.sla_class].append(r.ms)
    for klass, ms in sorted(classes.items()):
        p99 = percentile(sorted(ms), 99)
        if len(ms) >= MIN_P99 and p99 > BUDGETS[klass].p99_ms:
            rate = round(len(window) / WINDOW, 1)
            return {"sla_class": klass, "p99_ms": p99, "requests_per_s": rate}
    return None


def peak_second(requests: list[Request]) -> int:
    """The end of the busiest 5 s window (where a run that never broke is judged)."""
    counts: dict[int, int] = defaultdict(int)
    for r in requests:
        counts[int(r.t)] += 1
    return max(
        (s + 1 for s in counts),
        key=lambda end: sum(counts.get(x, 0) for x in range(end - WINDOW, end)),
        default=0,
    )


def around(
    t: int, series: dict[str, dict[int, float]], lag: list[tuple[float, float]]
) -> dict[str, float]:
    """Both sides over the 5 s before ``t``: CPU per role, the busiest Locust process, lag."""
    busiest = max(
        (window_mean(v, t) for k, v in series.items() if k.startswith("generator ")), default=0.0
    )
    recent = sorted(ms for s, ms in lag if t - WINDOW <= s < t)
    return {
        "service_cpu_pct": round(window_mean(series.get("service", {}), t), 1),
        "generator_cpu_pct": round(window_mean(series.get("generator", {}), t), 1),
        "busiest_generator_process_pct": round(busiest, 1),
        "machine_cpu_pct": round(window_mean(series.get("machine", {}), t), 1),
        "others_cpu_pct": round(window_mean(series.get("others", {}), t), 1),
        "generator_lag_p99_ms": round(percentile(recent, 99), 1),
    }


def bound(state: dict[str, float], cpus: int) -> str:
    if state["busiest_generator_process_pct"] >= NEAR * 100:
        return "generator"
    crowded = state["machine_cpu_pct"] >= NEAR * 100 * cpus
    if crowded and state["others_cpu_pct"] >= state["service_cpu_pct"]:
        return "other work"
    return "service"


def saturation(
    folder: Path, requests: list[Request], users: dict[int, int], meta: dict[str, Any]
) -> dict[str, Any]:
    series = per_second(read_cpu(folder))
    lag = read_lag(folder)
    knee = p99_knee(requests)
    judged_at = knee["t"] if knee else peak_second(requests)
    state = around(judged_at, series, lag)
    ordered_lag = [ms for _t, ms in lag]
    ordered_lag.sort()
    return {
        "knee": knee and {**knee, "users": users.get(knee["t"], 0), **state},
        "judged_at": {"t": judged_at, "users": users.get(judged_at, 0), **state},
        "bound": bound(state, meta.get("cpus") or 1),
        "lag_in_latency": state["generator_lag_p99_ms"] >= LAG_BOUND_MS,
        "cpu": processes(series),
        "limits": limits(series, meta.get("workers", 2), meta.get("cpus") or 1),
        "lag_ms": {
            "p50": round(percentile(ordered_lag, 50), 2),
            "p99": round(percentile(ordered_lag, 99), 2),
            "max": round(ordered_lag[-1] if ordered_lag else 0.0, 2),
        },
        "cpu_timeline": {
            role: series.get(role, {}) for role in ("service", "generator", "others", "machine")
        },
    }
