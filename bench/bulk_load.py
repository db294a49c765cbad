"""Benchmark: bulk pricing, plan pricing and saved-plan writes against a real server.

Contract (docs/performance.md quotes its output):
1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. build request mixes from the real files with a fixed seed: bulk lines (codes payable in
   RVU25D with their 26/TC rows, ZIPs from the whole ZIP file, office/facility, dates in
   Q4 2025) and treatment plans (10-60 lines of such codes, some with 2-4 units);
3. start ``cms-pricing serve`` on 127.0.0.1 (``--workers``), then measure, one after another:
   - ``bulk_1000``: latency of 1,000-line ``POST /codes/price/bulk`` requests, one at a time;
   - ``bulk_100``: wrk with ``--connections`` connections sending 100-line bulk requests for
     ``--duration`` seconds: sustained requests/s and latency;
   - ``plan_price``: latency of ``POST /plans/price``, every plan distinct (no cache hit);
   - ``plan_write``: latency of ``POST /plans`` (create, validated by pricing) and of
     ``PUT /plans/{id}`` with ``If-Match``, one at a time;
4. stop the server; print the table and write JSON to bench/results/.

Targets (issue "Treatment-plan pricing"): bulk_1000 p95 < 300 ms, bulk_100 >= 100 requests/s,
plan_price p95 <= 300 ms, plan_write p95 <= 400 ms. Only 127.0.0.1 is contacted; every phase
is bounded by a request count and wrk by ``--duration``.
Run: ``.venv/bin/python bench/bulk_load.py --help``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from price_load import (
    BIN,
    DONE,
    add_data_arguments,
    free_port,
    ingested_env,
    read_rvus,
    read_zips,
    wait_for,
    wrk,
)

Body = dict[str, Any]
Request = tuple[str, str, Body, dict[str, str]]
NO_HEADERS: dict[str, str] = {}

# The wrk request loop over a list of bulk bodies (bench/isolation.py uses it too).
BULK_REQUESTS = """
local bodies = {%(bodies)s}
local i = 0
init = function(args) i = math.random(#bodies) end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/codes/price/bulk", {["Content-Type"] = "application/json"},
                    bodies[i])
end
"""
LUA = BULK_REQUESTS + DONE


class Mix:
    """Random bulk lines and plans drawn from the real files (fixed seed)."""

    def __init__(self, data: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        rows = read_rvus(data / "2025" / "rvu25d")
        self.payable = [(r.hcpcs, r.modifier) for r in rows if r.status == "A"]
        self.plain = [r.hcpcs for r in rows if r.status == "A" and not r.modifier]
        self.zips = [z.zip5 for z in read_zips(data / "2025" / "zip-locality-2025q4")]

    def day(self) -> str:
        return (date(2025, 10, 1) + timedelta(days=self.rng.randrange(92))).isoformat()

    def bulk_line(self) -> Body:
        code, modifier = self.rng.choice(self.payable)
        line: Body = {"code": code, "zip": self.rng.choice(self.zips), "date": self.day()}
        if modifier:
            line["modifier"] = modifier
        if self.rng.random() < 0.5:
            line["setting"] = self.rng.choice(["office", "facility"])
        return line

    def bulk(self, size: int) -> Body:
        return {"lines": [self.bulk_line() for _ in range(size)]}

    def plan(self) -> Body:
        lines = [
            {"code": self.rng.choice(self.plain), "units": self.rng.choice([1, 1, 1, 2, 4])}
            for _ in range(self.rng.randint(10, 60))
        ]
        setting = self.rng.choice(["office", "facility"])
        return {"zip": self.rng.choice(self.zips), "date": self.day(), "setting": setting,
                "lines": lines}  # fmt: skip


class Client:
    """One keep-alive HTTP/1.1 connection to the server under test on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, body: Body, headers: dict[str, str]) -> tuple[
        int, float, bytes, dict[str, str]
    ]:  # fmt: skip
        data = json.dumps(body).encode()
        started = time.perf_counter()
        self.conn.request(method, path, data, {"Content-Type": "application/json", **headers})
        response = self.conn.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, elapsed, payload, dict(response.getheaders())


def summary(latencies: list[float], failures: int) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "requests": len(ordered),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "non2xx": failures,
    }


def timed(client: Client, requests: list[Request]) -> Any:
    latencies, failures = [], 0
    for method, path, body, headers in requests:
        status, elapsed, _payload, _headers = client.send(method, path, body, headers)
        latencies.append(elapsed)
        failures += status >= 300
    return summary(latencies, failures)


def plan_writes(client: Client, mix: Mix, count: int) -> dict[str, Any]:
    creates, updates, failures = [], [], 0
    for n in range(count):
        body = {"name": f"bench {n}", **mix.plan()}
        status, elapsed, payload, headers = client.send("POST", "/plans", body, {})
        creates.append(elapsed)
        failures += status != 201
        plan_id = json.loads(payload)["id"]
        changed = {**body, "name": f"bench {n} v2", **mix.plan()}
        status, elapsed, _payload, _headers = client.send(
            "PUT", f"/plans/{plan_id}", changed, {"If-Match": headers.get("etag", "")}
        )
        updates.append(elapsed)
        failures += status != 200
    return {"create": summary(creates, failures), "update": summary(updates, 0)}


def run(port: int, mix: Mix, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    client = Client(port)
    results: dict[str, Any] = {}
    warm: list[Request] = [("POST", "/codes/price/bulk", mix.bulk(1000), NO_HEADERS)] * 5
    timed(client, warm)
    bulk_1000: list[Request] = [
        ("POST", "/codes/price/bulk", mix.bulk(1000), NO_HEADERS) for _ in range(args.count)
    ]
    results["bulk_1000"] = timed(client, bulk_1000)
    bodies = [json.dumps(mix.bulk(100)) for _ in range(200)]
    script = folder / "bulk.lua"
    script.write_text(LUA % {"bodies": ",".join(json.dumps(b) for b in bodies)})
    url = f"http://127.0.0.1:{port}"
    wrk(url, script, args, duration=args.warmup)
    results["bulk_100"] = wrk(url, script, args, duration=args.duration)
    plans: list[Request] = [
        ("POST", "/plans/price", mix.plan(), NO_HEADERS) for _ in range(args.count)
    ]
    results["plan_price"] = timed(client, plans)
    writes = plan_writes(client, mix, args.count)
    results["plan_create"], results["plan_update"] = writes["create"], writes["update"]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="timed requests per phase")
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser)
    args = parser.parse_args(argv)

    env = ingested_env(args)
    mix = Mix(args.data, args.seed)
    port = free_port()
    serve_env = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": str(args.workers)}
    server = subprocess.Popen([str(BIN / "cms-pricing"), "serve"], env=serve_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=90)
        with tempfile.TemporaryDirectory() as tmp:
            results = run(port, mix, args, Path(tmp))
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["date"] = date.today().isoformat()
    results["args"] = {k: str(v) for k, v in vars(args).items()}
    report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bulk-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2)
    )
    return 0


def report(results: dict[str, Any]) -> None:
    print(f"{'phase':<14}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'non2xx':>8}")
    for phase in ("bulk_1000", "bulk_100", "plan_price", "plan_create", "plan_update"):
        r = results[phase]
        rate = f"{r['requests_per_s']:,}" if "requests_per_s" in r else "-"
        print(
            f"{phase:<14}{rate:>8}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['p99_ms']:>9.2f}"
            f"{r['non2xx']:>8}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
