"""SLA check: the standard's budgets per class and its throughput floors per instance.

Contract:
1. latency: run the standard's load profile (``python -m loadtest run load``: 100 users of
   the standard's user and the realistic mix, think time 1-3 s) and judge every SLA class
   against the standard's budgets (``loadtest/sla.py``: p95, p99, 5xx <= 0.1%);
2. throughput per instance: one ``cms-pricing serve`` (``--workers`` workers = one instance
   on this machine) loaded to saturation by wrk on 127.0.0.1 with four mixes drawn from the
   real files, each after the raw-ASGI ceiling of the same run:
   ``standard`` (price x3, locality x1, health x1), ``reference`` (localities by ZIP, codes'
   rows), ``pricing`` (the ``bench/price_load.py`` mix), ``bulk`` (100-line bulk bodies);
   judged against the standard's floors (1,000 / 5,000 / 500 / 100 requests/s) and our own
   pricing target (15,000 requests/s); the service's memory (PSS) is recorded;
3. record the footprint: records served, database bytes, a bare worker's memory;
4. print pass/fail per line; write JSON to ``bench/results/sla-<time>.json`` (the input of
   ``bench/capacity.py``). Exit 0 when everything passes, 1 otherwise.

Every wrk run is bounded by ``--duration``; the load profile by its own length.
Run: ``.venv/bin/python bench/sla_check.py`` (about 4 minutes) or ``--help``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bulk_load import LUA as BULK_LUA
from bulk_load import Mix
from gate_run import granian, memory_mb, running
from price_load import (
    BIN,
    ROOT,
    add_data_arguments,
    free_port,
    ingested_env,
    read_rvus,
    read_zips,
    request_mix,
    write_script,
    wrk,
)

sys.path.insert(0, str(ROOT))
from loadtest.sla import FLOORS, TARGETS


def mixes(data: Path, seed: int) -> dict[str, list[str]]:
    """Request paths per throughput mix, from the real files."""
    rng = random.Random(seed)
    mix = Mix(data, seed)
    pricing = request_mix(data, 20_000, seed)
    localities = [f"/reference/localities?zip={z}" for z in rng.sample(mix.zips, 5000)]
    codes = [f"/reference/codes/{c}" for c in rng.sample(mix.plain, 2000)]
    standard = [
        path
        for n in range(4000)
        for path in (*pricing[3 * n : 3 * n + 3], localities[n % len(localities)], "/health")
    ]
    return {"standard": standard, "reference": localities + codes, "pricing": pricing}


def bulk_script(folder: Path, data: Path, seed: int) -> Path:
    mix = Mix(data, seed)
    bodies = [json.dumps(mix.bulk(100)) for _ in range(100)]
    script = folder / "bulk.lua"
    script.write_text(BULK_LUA % {"bodies": ",".join(json.dumps(b) for b in bodies)})
    return script


def saturate(args: argparse.Namespace, env: dict[str, str], folder: Path) -> dict[str, Any]:
    """Requests/s of each mix against one instance, after the ceiling of the same run."""
    port = free_port()
    with running(granian("raw_asgi:app", port, args.workers, factory=False), env, port) as c:
        ceiling = wrk(c.url, write_script(folder, "raw.lua", ["/"]), args, args.duration)
    scripts = {k: write_script(folder, f"{k}.lua", v) for k, v in mixes(args.data, 7).items()}
    scripts["bulk"] = bulk_script(folder, args.data, 7)
    port = free_port()
    serve_env = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": str(args.workers)}
    with running([str(BIN / "cms-pricing"), "serve"], serve_env, port) as service:
        runs = {}
        for name, script in scripts.items():
            wrk(service.url, script, args, args.warmup)
            runs[name] = wrk(service.url, script, args, args.duration)
        memory = memory_mb(service.pid)
    return {"ceiling": ceiling, "mixes": runs, "memory_mb": round(memory, 1)}


def latency(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The load profile's results (``loadtest/run.py``)."""
    out = folder / "load"
    command = [
        sys.executable,
        "-m",
        "loadtest",
        "run",
        "load",
        "--out",
        str(out),
        "--database-url",
        args.database_url,
        "--data",
        str(args.data),
    ]
    if args.load_duration:
        command += ["--duration", str(args.load_duration)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    found: dict[str, Any] = json.loads((out / "results.json").read_text())
    return found


def footprint(args: argparse.Namespace) -> dict[str, float]:
    """Records served (RVU rows of every 2025 release + ZIP rows), database size, and a bare
    worker's memory (the web stack imported, no snapshot) for bench/capacity.py."""
    releases = sorted((args.data / "2025").glob("rvu25?"))
    records = sum(len(read_rvus(f)) for f in releases)
    records += len(read_zips(args.data / "2025" / "zip-locality-2025q4"))
    probe = "import resource, cms_pricing.api.app; print(resource.getrusage(0).ru_maxrss)"
    bare_kb = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    db = Path(args.database_url.removeprefix("sqlite:///"))
    return {
        "records": records,
        "db_bytes": db.stat().st_size if db.exists() else 0,
        "bare_worker_mb": round(int(bare_kb) / 1024, 1),
    }


def verdicts(load: dict[str, Any], throughput: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(what, measured against budget, passed) for every class and every floor."""
    lines = []
    for klass, judged in load["sla"].items():
        s = load["classes"][klass]
        text = (
            f"p95 {s['p95_ms']:.1f} <= {judged['p95_budget_ms']:g} ms, p99 {s['p99_ms']:.1f}"
            f" <= {judged['p99_budget_ms']:g} ms, 5xx {s['rate_5xx']:.2%} <= 0.1%"
        )
        lines.append((f"latency {klass}", text, bool(judged["passed"])))
    mixes_ = throughput["mixes"]
    for name, floor in FLOORS.items():
        rps, bad = mixes_[name]["requests_per_s"], mixes_[name]["non2xx"]
        text = f"{rps:,.0f} req/s >= {floor:,} (non-2xx {bad})"
        lines.append((f"floor {name}", text, rps >= floor and bad == 0))
    for name, target in TARGETS.items():
        rps = mixes_[name]["requests_per_s"]
        lines.append((f"target {name}", f"{rps:,.0f} req/s >= {target:,}", rps >= target))
    return lines


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--load-duration", type=float, help="seconds of the load profile")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    add_data_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    env = ingested_env(args)
    with tempfile.TemporaryDirectory() as tmp:
        load = latency(args, Path(tmp))
        throughput = saturate(args, env, Path(tmp))
    lines = verdicts(load, throughput)
    for what, text, ok in lines:
        print(f"{what:<20}{text:<62}{'pass' if ok else 'FAIL'}")
    load.pop("timeline")
    result = {
        "date": date.today().isoformat(),
        "workers": args.workers,
        "load": load,
        "throughput": throughput,
        "footprint": footprint(args),
        "passed": all(ok for *_x, ok in lines),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"sla-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"results: {path}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
