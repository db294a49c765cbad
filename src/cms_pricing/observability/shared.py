"""Metrics across worker processes: one snapshot file per worker, merged on scrape.

The server runs several worker processes and a scrape reaches one of them, so each worker
writes what its registry holds to ``<dir>/worker-<pid>.json`` (atomically: write, then
rename) every ``CMS_PRICING_METRICS_FLUSH_SECONDS``, when it answers a scrape, and when it
shuts down. The worker answering ``/metrics`` reads every file and merges:

- counters and histograms are summed over every file, dead workers included, so a count
  never goes back when a worker exits or is respawned;
- gauges are combined over live workers only, by ``metrics.GAUGE_MERGE`` (sum, min or max);
  a worker is dead once it wrote its final snapshot at shutdown or its pid is gone (the
  equivalent of prometheus_client's ``mark_process_dead``).

This is prometheus_client's multiprocess design with the per-increment ``mmap`` write
replaced by an in-memory increment and a periodic flush: the hot path pays for a plain
in-process counter, and a scrape sees other workers' counts at most one flush late.

``prepare(directory, owner_pid)`` is the server's part, at start: empty the folder and
write ``owner`` with its pid. A process uses the folder only if ``owner`` names its parent
process, so an in-process app (tests, a single process) never reads a stale folder.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

from cms_pricing.observability.metrics import DEFAULT_MERGE, GAUGE_MERGE

OWNER = "owner"
SUMMED = frozenset({"counter", "histogram"})

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def prepare(directory: Path, owner_pid: int) -> None:
    """Start a server's metrics folder empty, owned by ``owner_pid``."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / OWNER).write_text(str(owner_pid))


def owned_by(directory: Path, pid: int) -> bool:
    try:
        return (directory / OWNER).read_text().strip() == str(pid)
    except OSError:
        return False


def snapshot(registry: CollectorRegistry) -> list[dict[str, Any]]:
    return [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
        for family in registry.collect()
    ]


def write(directory: Path, pid: int, families: list[dict[str, Any]], final: bool) -> None:
    body = orjson.dumps({"pid": pid, "final": final, "families": families})
    target = directory / f"worker-{pid}.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(body)
    os.replace(temporary, target)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_all(directory: Path) -> Iterator[tuple[bool, list[dict[str, Any]]]]:
    """(worker is live, its families) for each snapshot in the folder."""
    for path in sorted(directory.glob("worker-*.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue  # replaced between glob and read; the next scrape reads it
        yield (not data["final"] and alive(data["pid"])), data["families"]


def merge(snapshots: Iterable[tuple[bool, list[dict[str, Any]]]]) -> list[Metric]:
    """One Prometheus family per metric name, combined across workers as documented above."""
    kinds: dict[str, tuple[str, str]] = {}
    values: dict[str, dict[SampleKey, list[float]]] = defaultdict(lambda: defaultdict(list))
    for live, families in snapshots:
        for family in families:
            name, kind = family["name"], family["type"]
            kinds.setdefault(name, (kind, family["help"]))
            if kind not in SUMMED and not live:
                continue
            for sample_name, labels, value in family["samples"]:
                values[name][(sample_name, tuple(sorted(labels.items())))].append(value)
    return [_family(name, kind, text, values[name]) for name, (kind, text) in kinds.items()]


def _family(name: str, kind: str, text: str, samples: dict[SampleKey, list[float]]) -> Metric:
    metric = Metric(name, text, kind)
    combine = sum if kind in SUMMED else _COMBINE[GAUGE_MERGE.get(name, DEFAULT_MERGE)]
    for (sample_name, labels), found in samples.items():
        metric.samples.append(Sample(sample_name, dict(labels), float(combine(found))))
    return metric


_COMBINE: dict[str, Callable[[list[float]], float]] = {"sum": sum, "min": min, "max": max}
