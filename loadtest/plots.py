"""The run's PNG report: p50/p95 per SLA class, requests/s and users, one panel each.

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
    fig, (lat, rps, users) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
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
    users.set_xlabel("seconds since start")
    breaking = results.get("breaking_point")
    for axis in (lat, rps, users):
        if breaking:
            axis.axvline(breaking["t"], color="red", linestyle="--", linewidth=0.8)
    fig.suptitle(f"{results['profile']}: {results['about']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
