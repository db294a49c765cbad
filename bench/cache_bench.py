"""Benchmark: what each cache layer earns, measured in one run on this machine.

1. The cost of one Redis hit, in-process: ``GET`` of a packed answer on a warm connection,
   against computing the same answer (which decides what goes to Redis).
2. The hit rate on a realistic reference mix: wrk draws each request at random from every
   ZIP lookup (``/reference/localities?zip=``, 60% of traffic) and every payable code's rows
   (``/reference/codes/{code}``, 40%) with Zipf popularity (s = 1.1), for ``--hit-seconds``
   against a server with 2 workers, counting ``X-Cache`` on every answer.
3. Throughput with wrk (servers with 2 workers, 64 connections, loopback) for:
   - the reference mix from the local layer, and with the local cache off;
   - the whole locality list (the answer that goes to Redis) from the local layer, from
     Redis only (local cache off: one Redis round trip per request), and computed;
   - 200 pricing requests repeated (all local hits) against the same set computed;
   - the raw-ASGI ceiling of the same run, for ratios.

Run: ``.venv/bin/python bench/cache_bench.py`` (Redis at 127.0.0.1:6379, database 7, is
flushed and used; wrk from Debian's packages). Loopback only; every run is time-bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from cms_pricing.api import wire
from cms_pricing.api.handlers import code_reference, localities
from cms_pricing.cache.shared import pack
from cms_pricing.config import Settings
from cms_pricing.service import queries
from cms_pricing.service.state import ServiceState
from price_load import (
    BIN,
    ROOT,
    add_data_arguments,
    free_port,
    ingested_env,
    measure,
    read_rvus,
    read_zips,
    wait_for,
    write_script,
)

REDIS_URL = "redis://127.0.0.1:6379/7"


def zipf_choices(rng: random.Random, items: list[str], count: int, s: float = 1.1) -> list[str]:
    """``count`` draws where the k-th most popular item has weight 1/k**s."""
    shuffled = items[:]
    rng.shuffle(shuffled)
    weights = [1 / (k**s) for k in range(1, len(shuffled) + 1)]
    return rng.choices(shuffled, weights=weights, k=count)


def reference_mix(data: Path, count: int, seed: int) -> list[str]:
    """Reference lookups: 60% the locality of a ZIP, 40% a code's RVU rows; Zipf popularity."""
    rng = random.Random(seed)
    zips = [z.zip5 for z in read_zips(data / "2025" / "zip-locality-2025q4")]
    codes = sorted({r.hcpcs for r in read_rvus(data / "2025" / "rvu25d") if r.status in "ART"})
    zip_draws = iter(zipf_choices(rng, zips, count))
    code_draws = iter(zipf_choices(rng, codes, count))
    return [
        f"/reference/localities?zip={next(zip_draws)}"
        if rng.random() < 0.6
        else f"/reference/codes/{next(code_draws)}"
        for _ in range(count)
    ]


def repeated_prices(data: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    zips = [z.zip5 for z in read_zips(data / "2025" / "zip-locality-2025q4")]
    codes = sorted({r.hcpcs for r in read_rvus(data / "2025" / "rvu25d") if r.status == "A"})
    return [
        f"/codes/price?code={rng.choice(codes)}&zip={rng.choice(zips)}&year=2025"
        for _ in range(count)
    ]


def throughput(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    reference = reference_mix(args.data, 20_000, args.seed)
    prices = repeated_prices(args.data, 200, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        raw = [str(BIN / "granian"), "--interface", "asgi", "--workers", str(args.workers)]
        raw += ["--port", str(port), "--loop", "uvloop", "--no-access-log", "--log-level"]
        raw += ["warning", "--working-dir", str(ROOT / "bench"), "raw_asgi:app"]
        results["raw_asgi"] = measure(raw, env, port, write_script(folder, "raw.lua", ["/"]), args)
        ref_script = write_script(folder, "ref.lua", reference)
        price_script = write_script(folder, "price.lua", prices)
        lists = write_script(
            folder, "list.lua", [f"/reference/localities?release=RVU25{q}" for q in "ABCD"]
        )
        off = {"CMS_PRICING_RESPONSE_CACHE_SIZE": "0"}
        runs = {
            "reference_local": (ref_script, {}),
            "reference_uncached": (ref_script, off),
            "locality_list_local": (lists, {}),
            "locality_list_redis_only": (lists, {**off, "REDIS_URL": REDIS_URL}),
            "locality_list_uncached": (lists, off),
            "price_repeated_local": (price_script, {}),
            "price_repeated_uncached": (price_script, off),
        }
        for label, (script, extra) in runs.items():
            redis.Redis.from_url(REDIS_URL).flushdb()
            port = free_port()
            run_env = {**env, **extra, "CMS_PRICING_PORT": str(port)}
            run_env["CMS_PRICING_WORKERS"] = str(args.workers)
            results[label] = measure(
                [str(BIN / "cms-pricing"), "serve"], run_env, port, script, args
            )
    return results


async def _redis_get_cost(value: bytes, rounds: int) -> float:
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.set("cms-pricing:v1:bench", value)
    await client.get("cms-pricing:v1:bench")
    start = time.perf_counter()
    for _ in range(rounds):
        await client.get("cms-pricing:v1:bench")
    elapsed = time.perf_counter() - start
    await client.aclose()
    return elapsed / rounds


def redis_hit_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Microseconds for one Redis GET of a packed answer vs computing the answer."""
    overrides: dict[str, Any] = {"DATABASE_URL": args.database_url, "CMS_DATA_DIR": None}
    state = ServiceState(Settings(**overrides))
    state.load()
    cases = {
        "codes_99213": (code_reference, queries.code_query("", "99213")),
        "locality_of_zip": (localities, queries.locality_query("zip=94110")),
        "all_localities": (localities, queries.locality_query("")),
    }
    out: dict[str, Any] = {}
    for name, (handler, query) in cases.items():
        body = wire.dumps(handler(state, query))  # type: ignore[operator]
        start = time.perf_counter()
        for _ in range(args.rounds):
            wire.dumps(handler(state, query))  # type: ignore[operator]
        compute_us = (time.perf_counter() - start) / args.rounds * 1e6
        packed = pack(200, b'"tag"', body)
        redis_us = asyncio.run(_redis_get_cost(packed, args.rounds)) * 1e6
        out[name] = {
            "body_bytes": len(body),
            "stored_bytes": len(packed),
            "compute_us": round(compute_us, 1),
            "redis_get_us": round(redis_us, 1),
        }
    state.engine.dispose()
    return out


HIT_LUA = """
local paths = {%(paths)s}
local cdf = {%(cdf)s}
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end
init = function(args)
  hits = 0
  misses = 0
  math.randomseed(%(seed)d + seed)
end
request = function()
  local r = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo])
end
response = function(status, headers, body)
  if headers["x-cache"] == "miss" then misses = misses + 1 else hits = hits + 1 end
end
done = function(summary, latency, requests)
  local h, m = 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits")
    m = m + t:get("misses")
  end
  io.write(string.format("HITS %%d %%d %%d\\n", h, m, summary.errors.status))
end
"""


def reference_population(data: Path, seed: int, s: float = 1.1) -> tuple[list[str], list[float]]:
    """Every reference lookup (each ZIP's locality, each payable code's rows) with a Zipf
    popularity: 60% of the traffic is ZIP lookups, 40% code lookups."""
    rng = random.Random(seed)
    zips = [
        f"/reference/localities?zip={z.zip5}"
        for z in read_zips(data / "2025" / "zip-locality-2025q4")
    ]
    codes = sorted({r.hcpcs for r in read_rvus(data / "2025" / "rvu25d") if r.status in "ART"})
    code_paths = [f"/reference/codes/{c}" for c in codes]
    weighted: list[tuple[str, float]] = []
    for items, share in ((zips, 0.6), (code_paths, 0.4)):
        rng.shuffle(items)
        raw = [1 / (k**s) for k in range(1, len(items) + 1)]
        total = sum(raw)
        weighted += [(item, share * w / total) for item, w in zip(items, raw, strict=True)]
    paths = [p for p, _ in weighted]
    cdf, running = [], 0.0
    for _p, w in weighted:
        running += w
        cdf.append(running)
    cdf[-1] = 1.0
    return paths, cdf


def hit_rate(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Local-layer hit rate under wrk load drawn at random from the Zipf population, over
    ``--hit-seconds`` (a volume comparable to the reference TTL's worth of traffic)."""
    paths, cdf = reference_population(args.data, args.seed)
    port = free_port()
    run_env = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": str(args.workers)}
    command = [str(BIN / "cms-pricing"), "serve"]
    proc = subprocess.Popen(
        command, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "hits.lua"
        script.write_text(
            HIT_LUA
            % {
                "paths": ",".join(json.dumps(p) for p in paths),
                "cdf": ",".join(f"{c:.9f}" for c in cdf),
                "seed": args.seed,
            }
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/ready", timeout=60)
            command = [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.hit_seconds}s",
            ]
            out = subprocess.run(
                [*command, "-s", str(script), f"http://127.0.0.1:{port}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    line = next(x for x in out.splitlines() if x.startswith("HITS "))
    hits, misses, errors = (int(x) for x in line.split()[1:])
    total = hits + misses
    return {
        "requests": total,
        "distinct_keys": len(paths),
        "hits": hits,
        "misses": misses,
        "non2xx": errors,
        "hit_rate": round(hits / total, 4),
        "hours_at_1000_per_s": round(total / 3_600_000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--hit-seconds", type=int, default=90, help="length of the hit-rate run")
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    env = ingested_env(args)
    results: dict[str, Any] = {"date": date.today().isoformat()}
    results["redis_hit_cost"] = redis_hit_cost(args)
    results["hit_rate"] = hit_rate(args, env)
    results["throughput"] = throughput(args, env)
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cache-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
