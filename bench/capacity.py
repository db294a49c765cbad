"""Capacity plan: ``docs/capacity.md`` computed from measured ``bench/sla_check.py`` and
``bench/volume.py`` results.

Contract: read one SLA results JSON (default: ``bench/capacity_source.json``, the committed
copy of the ``bench/results/sla-*.json`` the plan was last made from) and the volume results
(``--volume``, default ``bench/volume_source.json``: the ``bench/results/volume-*.json`` of
each size, as a list under ``runs``) and write
the plan for the standard's growth stages (100, 500, 2,000, 10,000 concurrent users; 1M, 5M,
20M, 100M pricing records): request rate implied, instances at 70% CPU, memory per
instance, database and Redis sizing, and cost levers. Every figure is derived from a
measured number and a stated assumption (``ASSUMPTIONS``), printed next to what it drives;
nothing in the output is typed by hand. ``--out -`` prints instead of writing.
Run: ``.venv/bin/python bench/capacity.py [results.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from capacity_text import render

ROOT = Path(__file__).resolve().parent.parent
USERS = (100, 500, 2_000, 10_000)
RECORDS = (1_000_000, 5_000_000, 20_000_000, 100_000_000)
ASSUMPTIONS = {
    "cpu_target": 0.70,  # the standard: size instances to run at 70% CPU at peak
    "min_instances": 2,  # two instances at least, so one can fail or be replaced
    "vcpus_per_instance": 2,  # as measured: one instance = 2 workers on 2 vCPUs
    "db_overhead": 2.0,  # PostgreSQL heap + indexes + WAL over the SQLite file size
    "redis_entry_bytes": 1_000,  # one stored answer ~0.9-6 KB (docs/caching.md); ~1 KB typical
    "redis_hot_share": 0.05,  # answers worth sharing: 5% of distinct requests per TTL
    "redis_overhead": 1.5,  # Redis per-key overhead and fragmentation
    "db_pool_per_worker": 20,  # CMS_PRICING_DB_POOL_SIZE default, per worker
}


def per_user_rate(load: dict[str, Any]) -> float:
    """Requests/s one user sends, measured in the load profile (think time 1-3 s)."""
    return float(load["total"]["requests_per_s"]) / max(1, int(load["peak_users"]))


def write_share(load: dict[str, Any]) -> float:
    total = load["total"]["requests"]
    writes = sum(load["classes"].get(k, {}).get("requests", 0) for k in ("write", "bulk"))
    return float(writes) / total if total else 0.0


def instances(rate: float, per_instance: float, a: dict[str, float]) -> int:
    """Instances so that each runs at ``cpu_target`` of the throughput it saturates at."""
    return max(int(a["min_instances"]), math.ceil(rate / (per_instance * a["cpu_target"])))


def users_row(users: int, results: dict[str, Any], a: dict[str, float]) -> dict[str, Any]:
    rate = users * per_user_rate(results["load"])
    per_instance = results["throughput"]["mixes"]["standard"]["requests_per_s"]
    count = instances(rate, per_instance, a)
    return {
        "users": users,
        "rate": rate,
        "instances": count,
        "cpu_at_peak": rate / (count * per_instance),
        "writes_per_s": rate * write_share(results["load"]),
        "db_connections": count * a["vcpus_per_instance"] * a["db_pool_per_worker"],
    }


def private_worker_mb(run: dict[str, Any]) -> float:
    """What each worker adds to an instance beyond the shared file, after the load: every
    process under the main one (the workers, their expensive-work children, helpers) without
    its share of the mapped file, summed and divided by the run's workers (2 unless the run
    says)."""
    processes = run["memory_loaded"]["workers"].values()
    own = sum(p["pss_kb"] - p["snap_pss_kb"] for p in processes)
    return float(own) / int(run.get("workers", 2)) / 1024


def volume_figures(volume: dict[str, Any]) -> dict[str, float]:
    """Bytes per record of the compiled file and of the database, and the largest private
    worker, from the largest sizes measured (the database only where rows were ingested)."""
    runs = sorted(volume["runs"], key=lambda r: r["records"])
    ingested = [r for r in runs if "database_bytes" in r]
    return {
        "file_bytes_per_record": runs[-1]["file_bytes"] / runs[-1]["records"],
        "db_bytes_per_record": ingested[-1]["database_bytes"] / ingested[-1]["records"],
        "worker_mb": max(private_worker_mb(r) for r in runs),
        "worker_mb_smallest": private_worker_mb(runs[0]),
        "smallest_records": runs[0]["records"],
        "largest_records": runs[-1]["records"],
    }


def records_row(records: int, results: dict[str, Any], v: dict[str, float],
                a: dict[str, float]) -> dict[str, Any]:  # fmt: skip
    shared_mb = records * v["file_bytes_per_record"] / 1e6
    db_gb = records * v["db_bytes_per_record"] * a["db_overhead"] / 1e9
    redis_mb = records * a["redis_hot_share"] * a["redis_entry_bytes"] * a["redis_overhead"] / 1e6
    return {
        "records": records,
        "worker_mb": v["worker_mb"],
        "shared_mb": shared_mb,
        "instance_mb": v["worker_mb"] * results["workers"] + shared_mb,
        "db_gb": db_gb,
        "redis_mb": redis_mb,
    }


def plan(
    results: dict[str, Any], volume: dict[str, Any], a: dict[str, float] = ASSUMPTIONS
) -> dict[str, Any]:
    v = volume_figures(volume)
    return {
        "users": [users_row(u, results, a) for u in USERS],
        "records": [records_row(r, results, v, a) for r in RECORDS],
        "per_user_rate": per_user_rate(results["load"]),
        "write_share": write_share(results["load"]),
        "volume": v,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "results", type=Path, nargs="?", default=ROOT / "bench" / "capacity_source.json"
    )
    parser.add_argument("--volume", type=Path, default=ROOT / "bench" / "volume_source.json")
    parser.add_argument("--out", default=str(ROOT / "docs" / "capacity.md"), help="or -")
    args = parser.parse_args(argv)
    source = args.results
    results = json.loads(source.read_text())
    volume = json.loads(args.volume.read_text())
    names = (source.name, args.volume.name)
    text = render(names, results, volume, plan(results, volume), ASSUMPTIONS)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
