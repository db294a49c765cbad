"""The words and tables of ``docs/capacity.md``; every number comes from ``capacity.plan``."""

from __future__ import annotations

from typing import Any


def users_table(plan: dict[str, Any]) -> list[str]:
    lines = [
        "| concurrent users | requests/s | instances (2 vCPU) | CPU at peak | writes/s |"
        " PostgreSQL connections |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in plan["users"]:
        lines.append(
            f"| {r['users']:,} | {r['rate']:,.0f} | {r['instances']} | "
            f"{r['cpu_at_peak']:.1%} | {r['writes_per_s']:,.1f} | "
            f"{r['db_connections']:,} |"
        )
    return lines


def records_table(plan: dict[str, Any]) -> list[str]:
    lines = [
        "| pricing records | memory per worker | memory per instance | PostgreSQL | Redis |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in plan["records"]:
        lines.append(
            f"| {r['records'] / 1e6:g}M | {gb(r['worker_mb'])} | "
            f"{gb(r['instance_mb'])} | {r['db_gb']:,.1f} GB | {gb(r['redis_mb'])} |"
        )
    return lines


def gb(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def measured(results: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    mixes, fp, load = results["throughput"]["mixes"], results["footprint"], results["load"]
    ceiling = results["throughput"]["ceiling"]["requests_per_s"]
    return [
        f"- One instance ({results['workers']} workers, 2 vCPU) saturates at "
        f"**{mixes['standard']['requests_per_s']:,.0f} requests/s** on the standard's mix "
        f"(price x3, locality x1, health x1), {mixes['pricing']['requests_per_s']:,.0f} on "
        f"pricing alone, {mixes['reference']['requests_per_s']:,.0f} on reference lookups, "
        f"{mixes['bulk']['requests_per_s']:,.0f} on 100-line bulk requests (raw-ASGI ceiling "
        f"of the same run: {ceiling:,.0f}).",
        f"- One user of the load profile sends **{plan['per_user_rate']:.3f} requests/s** "
        f"({load['total']['requests_per_s']:.1f} requests/s from {load['peak_users']} users, "
        f"think time 1-3 s); {plan['write_share']:.1%} of requests are writes or bulk.",
        f"- One instance uses **{results['throughput']['memory_mb']:,.0f} MB** (PSS, after the "
        f"throughput runs, so with each worker's response cache filled) serving "
        f"{fp['records']:,} records; a bare worker (web stack, no data) "
        f"{fp['bare_worker_mb']:,.0f} MB, so the snapshot and a full response cache cost "
        f"{plan['mb_per_record'] * 1e6:,.0f} bytes per record per worker (an upper bound: "
        "the cache does not grow with records).",
        f"- The database holds those records in {fp['db_bytes'] / 1e6:,.0f} MB (SQLite file).",
    ]


def assumptions(a: dict[str, float]) -> list[str]:
    return [
        f"- **Instances** = max({a['min_instances']:g}, ceil(requests/s / (saturation "
        f"requests/s x {a['cpu_target']:.0%}))): the standard's 70% CPU target; at least "
        f"{a['min_instances']:g} so one can fail. Throughput is taken to scale linearly with "
        "instances: every instance serves from its own in-memory snapshot and shares "
        "nothing on the read path.",
        "- **Request rate** = users x the measured rate per user; concurrency is the peak "
        "(no extra peak factor); the mix is the load profile's (standard user and realistic "
        "mix, half each).",
        f"- **PostgreSQL connections** = instances x {a['vcpus_per_instance']:g} workers x "
        f"{a['db_pool_per_worker']:g} (pool size): only writes (saved plans), ingest and "
        "readiness reach the database; reads are served from memory.",
        "- **Memory** = bare worker + records x measured bytes per record, per worker, times "
        "workers: the snapshot is loaded in every worker (linear in records, as measured on "
        "one data size only).",
        f"- **PostgreSQL size** = records x measured bytes per record (SQLite) x "
        f"{a['db_overhead']:g} for indexes, WAL and bloat.",
        f"- **Redis** = records x {a['redis_hot_share']:.0%} worth sharing per TTL x "
        f"{a['redis_entry_bytes']:,.0f} B per answer x {a['redis_overhead']:g} overhead "
        "(docs/caching.md: single answers stay in each worker's local layer; lists and plans "
        "go to Redis).",
    ]


def levers(plan: dict[str, Any], results: dict[str, Any]) -> list[str]:
    top = plan["records"][-1]
    return [
        "- **Cache hit rate**: a local-layer hit runs at up to 2.3x the computed path "
        "(docs/performance.md); every 10 points of hit rate on pricing move the instance "
        "count roughly in proportion to the computed share of traffic.",
        "- **Right-sizing**: one worker per vCPU; more workers per instance multiply the "
        "snapshot memory, so large record counts favour fewer, larger-memory instances.",
        f"- **Records**: at {top['records'] / 1e6:g}M records a worker would need "
        f"{gb(top['worker_mb'])}: beyond a few million records keep only the releases in "
        "effect in memory (older ones from PostgreSQL on demand) or share one snapshot "
        "between workers (fork after load, `gc.freeze()`), rather than buying memory.",
        "- **Database**: reads never reach PostgreSQL, so a small primary with one read "
        "replica for failover suffices at every user stage; size it by records, not users.",
    ]


def render(source: str, results: dict[str, Any], plan: dict[str, Any], a: dict[str, Any]) -> str:
    return "\n".join(
        [
            "# Capacity plan",
            "",
            f"Generated by `bench/capacity.py` from `bench/{source}` (measured "
            f"{results['date']} by `bench/sla_check.py` on the shared 2-core machine). Do not edit "
            "by hand: rerun `.venv/bin/python bench/sla_check.py`, copy the JSON it writes to "
            "`bench/capacity_source.json`, then run `.venv/bin/python bench/capacity.py`.",
            "",
            "## Measured",
            "",
            *measured(results, plan),
            "",
            "## Users",
            "",
            *users_table(plan),
            "",
            "## Records",
            "",
            *records_table(plan),
            "",
            "## Assumptions",
            "",
            *assumptions(a),
            "",
            "## Cost levers",
            "",
            *levers(plan, results),
            "",
        ]
    )
