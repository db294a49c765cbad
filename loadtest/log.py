"""A run's logs as written by the Locust processes, read back: requests, users, lag.

Requests come from ``requests*.csv`` (one file per Locust process that sent requests,
merged here; t, endpoint, sla_class, ms, status, where status 0 = no answer), the users
from ``users.csv`` (t, users), the generator's event-loop lag from ``lag-*.csv`` (t, ms).
Every ``t`` is seconds since the run's one epoch, so the files line up.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Request:
    t: float
    endpoint: str
    sla_class: str
    ms: float
    status: int

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 400

    @property
    def server_error(self) -> bool:
        return self.status == 0 or self.status >= 500


def read_requests(folder: Path) -> list[Request]:
    found: list[Request] = []
    for path in sorted(folder.glob("requests*.csv")):
        with path.open() as f:
            found += [
                Request(
                    float(r["t"]), r["endpoint"], r["sla_class"], float(r["ms"]), int(r["status"])
                )
                for r in csv.DictReader(f)
            ]
    return found


def read_users(path: Path) -> list[tuple[float, int]]:
    if not path.exists():
        return []
    with path.open() as f:
        return [(float(r["t"]), int(r["users"])) for r in csv.DictReader(f)]


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(-(-p * len(ordered) // 100)) - 1))]


def read_lag(folder: Path) -> list[tuple[float, float]]:
    rows: list[tuple[float, float]] = []
    for path in sorted(folder.glob("lag-*.csv")):
        with path.open() as f:
            rows += [(float(r["t"]), float(r["ms"])) for r in csv.DictReader(f)]
    return sorted(rows)
