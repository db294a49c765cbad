"""Benchmark: what metrics cost GET /codes/price, with and without them in one run.

Contract (docs/performance.md quotes its output): the same request mix, server, workers
and wrk settings as ``bench/price_load.py`` (whose helpers it imports); for the response
cache on and then off, ``--rounds`` pairs of runs alternate ``CMS_PRICING_METRICS=true``
and ``false`` (on/off, then off/on, so drift on a shared machine hits both sides); prints
each run and, per cache setting, requests/s with metrics over requests/s without (the
budget is at least 90%); writes JSON to bench/results/. Loopback only; every wrk run is
bounded by ``--duration``.

Run: ``.venv/bin/python bench/metrics_overhead.py`` (needs wrk; about 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from price_load import (
    BIN,
    add_data_arguments,
    free_port,
    ingested_env,
    measure,
    request_mix,
    write_script,
)

Run = dict[str, float]
CACHES = (("cached", "50000"), ("uncached", "0"))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--rounds", type=int, default=2, help="on/off pairs per cache setting")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mix", type=int, default=20_000, help="distinct requests in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser)
    return parser.parse_args(argv)


def order(round_no: int) -> tuple[str, str]:
    return ("true", "false") if round_no % 2 == 0 else ("false", "true")


def run_pairs(
    script: Path, env: dict[str, str], cache: str, args: argparse.Namespace
) -> dict[str, list[Run]]:
    port = free_port()
    runs: dict[str, list[Run]] = {"true": [], "false": []}
    for round_no in range(args.rounds):
        for metrics in order(round_no):
            run_env = {
                **env,
                "CMS_PRICING_PORT": str(port),
                "CMS_PRICING_WORKERS": str(args.workers),
                "CMS_PRICING_RESPONSE_CACHE_SIZE": cache,
                "CMS_PRICING_METRICS": metrics,
            }
            serve = [str(BIN / "cms-pricing"), "serve"]
            result = measure(serve, run_env, port, script, args)
            runs[metrics].append(result)
            print(f"  cache={cache:<6} metrics={metrics:<5} {result['requests_per_s']:>8,} req/s")
    return runs


def ratio(runs: dict[str, list[Run]]) -> float:
    on = sum(r["requests_per_s"] for r in runs["true"])
    off = sum(r["requests_per_s"] for r in runs["false"])
    return on / off


def report(results: dict[str, dict[str, list[Run]]]) -> None:
    print(f"{'cache':<10}{'metrics':<9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non2xx':>8}")
    for label, runs in results.items():
        for metrics in ("true", "false"):
            for r in runs[metrics]:
                print(
                    f"{label:<10}{metrics:<9}{r['requests_per_s']:>10,}{r['p50_ms']:>9.2f}"
                    f"{r['p99_ms']:>9.2f}{r['non2xx']:>8}"
                )
        print(f"{label:<10}with/without metrics: {ratio(runs):.1%}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    env = ingested_env(args)
    env.pop("REDIS_URL", None)
    paths = request_mix(args.data, args.mix, args.seed)
    results: dict[str, dict[str, list[Run]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(Path(tmp), "mix.lua", paths)
        for label, cache in CACHES:
            results[label] = run_pairs(script, env, cache, args)
    report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"date": date.today().isoformat(), "args": {k: str(v) for k, v in vars(args).items()}}
    (args.out / f"metrics-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({**record, "runs": results}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
