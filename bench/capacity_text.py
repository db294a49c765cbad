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
        "| pricing records | compiled snapshot (shared) | memory per worker (own) |"
        " memory per instance | PostgreSQL | Redis |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in plan["records"]:
        lines.append(
            f"| {r['records'] / 1e6:g}M | {gb(r['shared_mb'])} | {gb(r['worker_mb'])} | "
            f"{gb(r['instance_mb'])} | {r['db_gb']:,.1f} GB | {gb(r['redis_mb'])} |"
        )
    return lines


def gb(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def measured(results: dict[str, Any], plan: dict[str, Any], volume: dict[str, Any]) -> list[str]:
    mixes, load = results["throughput"]["mixes"], results["load"]
    v = plan["volume"]
    sizes = ", ".join(
        f"{r['size']} ({r['records']:,} records: {r['bytes_per_record']:g} B/record, "
        f"start-up {r['startup_s']:g} s, distinct-mix p99 {r['distinct']['p99_ms']:g} ms)"
        for r in sorted(volume["runs"], key=lambda r: r["records"])
    )
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
        f"- Volume runs (`bench/volume.py`, {volume['date']}): {sizes}.",
        f"- The compiled snapshot takes **{v['file_bytes_per_record']:.1f} bytes per record**, "
        "mapped once per instance and shared by its workers; what each worker adds after the "
        "distinct-query load (its PSS and its expensive-work child's, minus their shares of "
        f"the file) is {v['worker_mb_smallest']:,.0f} MB at {v['smallest_records']:,} records "
        f"and at most **{v['worker_mb']:,.0f} MB** at any size measured (up to "
        f"{v['largest_records']:,} records): it grows with the number of releases' metadata, "
        "not with their rows.",
        f"- The database holds **{v['db_bytes_per_record']:,.0f} bytes per record** (SQLite "
        "file, largest ingested size).",
    ]


def assumptions(a: dict[str, float]) -> list[str]:
    return [
        f"- **Instances** = max({a['min_instances']:g}, ceil(requests/s / (saturation "
        f"requests/s x {a['cpu_target']:.0%}))): the standard's 70% CPU target; at least "
        f"{a['min_instances']:g} so one can fail. Throughput is taken to scale linearly with "
        "instances: every instance serves from its own mapped snapshot and shares "
        "nothing on the read path.",
        "- **Request rate** = users x the measured rate per user; concurrency is the peak "
        "(no extra peak factor); the mix is the load profile's (standard user and realistic "
        "mix, half each).",
        f"- **PostgreSQL connections** = instances x {a['vcpus_per_instance']:g} workers x "
        f"{a['db_pool_per_worker']:g} (pool size): only writes (saved plans), ingest and "
        "readiness reach the database; reads are served from memory.",
        "- **Memory per instance** = workers x what a worker adds (with its expensive-work "
        "child) + records x the compiled "
        "file's bytes per record, counted once: every worker maps the same file (an upper "
        "bound: only the pages requests touch are resident). This is "
        "`CMS_PRICING_SNAPSHOT_MODE=compiled`; the default `objects` mode holds every row as "
        "an object in every worker (about 1.3 KB per record per worker, 2.9 KB with a full "
        "response cache: the plan of 2026-11-27), so beyond a few million records run compiled.",
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
        "- **Right-sizing**: one worker per vCPU; workers share the compiled snapshot, so "
        "adding workers adds only their own memory.",
        f"- **Records**: at {top['records'] / 1e6:g}M records the compiled file is "
        f"{gb(top['shared_mb'])} per instance, not per worker; instances that see only "
        "recent dates keep only those pages resident.",
        "- **Database**: reads never reach PostgreSQL, so a small primary with one read "
        "replica for failover suffices at every user stage; size it by records, not users.",
    ]


def render(
    sources: tuple[str, str],
    results: dict[str, Any],
    volume: dict[str, Any],
    plan: dict[str, Any],
    a: dict[str, Any],
) -> str:
    source, volume_source = sources
    return "\n".join(
        [
            "# Capacity plan",
            "",
            f"Generated by `bench/capacity.py` from `bench/{source}` (measured "
            f"{results['date']} by `bench/sla_check.py` on the shared 2-core machine) and "
            f"`bench/{volume_source}` (measured {volume['date']} by `bench/volume.py`). Do not "
            "edit by hand: rerun `.venv/bin/python bench/sla_check.py` and "
            "`.venv/bin/python bench/volume.py --size 1M --size 10M --size 100M`, copy the "
            "JSON they write to `bench/capacity_source.json` and `bench/volume_source.json` "
            "(the volume runs as a list under `runs`), then run "
            "`.venv/bin/python bench/capacity.py`.",
            "",
            "## Measured",
            "",
            *measured(results, plan, volume),
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
