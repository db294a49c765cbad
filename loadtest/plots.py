"""The run's PNG report, one panel each: p95 per SLA class, requests/s, users, and CPU
(service, Locust, other processes, machine; percent of one core) with Locust's loop lag.

Matplotlib with the Agg backend (files only, no display); imported only when a report is
written, so nothing else pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(results: dict[str, Any], path: Path) -> Path:
    import matplotlib  # noqa: PLC0415 - heavy, and only the report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    points = results["timeline"]
    t = [p["t"] for p in points]
    fig, (lat, rps, users, cpu) = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    for klass in sorted({k for p in points for k in p["classes"]}):
        series = [(p["t"], p["classes"][klass]["p95_ms"]) for p in points if klass in p["classes"]]
        lat.plot(*zip(*series, strict=True), label=f"{klass} p95", linewidth=1)
    lat.set_ylabel("latency p95 (ms)")
    lat.set_yscale("log")
    lat.legend(fontsize=7, loc="upper left")
    rps.plot(t, [p["requests_per_s"] for p in points], linewidth=1)
    rps.plot(t, [p["errors"] for p in points], linewidth=1, color="red", label="errors/s")
    rps.set_ylabel("requests/s")
    rps.legend(fontsize=7, loc="upper left")
    users.plot(t, [p["users"] for p in points], linewidth=1, color="green")
    users.set_ylabel("users")
    draw_cpu(cpu, results)
    cpu.set_xlabel("seconds since start")
    for point, colour in ((results.get("breaking_point"), "red"), (results.get("knee"), "purple")):
        for axis in (lat, rps, users, cpu):
            if point:
                axis.axvline(point["t"], color=colour, linestyle="--", linewidth=0.8)
    lat.text(
        0.99,
        0.97,
        "red: first p95 break; purple: knee (p99)",
        transform=lat.transAxes,
        fontsize=7,
        ha="right",
        va="top",
    )
    fig.suptitle(f"{results['profile']}: {results['about']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def draw_cpu(axis: Any, results: dict[str, Any]) -> None:
    for role, colour in (
        ("service", "blue"),
        ("generator", "orange"),
        ("others", "grey"),
        ("machine", "black"),
    ):
        points = results.get("cpu_timeline", {}).get(role, {})
        seconds = sorted(points, key=int)
        label = "Locust" if role == "generator" else role
        axis.plot(
            [int(s) for s in seconds],
            [points[s] for s in seconds],
            linewidth=1,
            color=colour,
            label=label,
        )
    axis.set_ylabel("CPU (% of a core)")
    axis.legend(fontsize=7, loc="upper left")
