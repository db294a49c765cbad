"""Benchmark: do cheap reads stay fast while bulk requests saturate the server?

Contract (docs/performance.md, "Load isolation", quotes its output):
1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. start ``cms-pricing serve`` on 127.0.0.1 with ``--workers`` workers (from this checkout,
   or with ``--ref REF`` from the ``src/`` of that git commit, for a before/after in one run;
   ``--env NAME=VALUE`` passes settings such as ``CMS_PRICING_EXPENSIVE_NICE``);
3. baseline: a paced probe (``--rate`` requests/s per endpoint, a new connection each, as a
   Kubernetes probe opens; latency counted from when each request was due) measures
   ``/health``, ``/ready`` and ``GET /codes/price`` for ``--duration`` seconds; every price
   query is distinct (drawn from the real files), so no cache answers it;
4. loaded: the same probe (with other distinct queries) while wrk runs ``--clients``
   connections looping ``POST /codes/price/bulk`` with ``--lines`` lines each (bodies drawn
   from the real files) for the same time;
5. print p50/p99/max per endpoint and phase, the bulk answers by status, and PASS when every
   loaded probe p99 is under ``--target-ms`` with no probe failure; write JSON to bench/results/.

Only 127.0.0.1 is contacted; wrk and the probe are bounded by ``--duration``.
Run: ``.venv/bin/python bench/isolation.py --help``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from bulk_load import BULK_REQUESTS, Mix
from price_load import BIN, ROOT, add_data_arguments, free_port, ingested_env, request_mix, wait_for

LUA = (
    BULK_REQUESTS
    + """
local counts = {}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  local s = "";
  for k, v in pairs(counts) do s = s .. k .. "=" .. v .. " " end
  wrk.thread:set("counts", s)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local all = ""
  for _, t in ipairs(threads) do all = all .. (t:get("counts") or "") end
  io.write(string.format("WRKSTATUS %%s\\n", all))
  io.write(string.format("WRKJSON {\\"requests\\":%%d,\\"socket_errors\\":%%d," ..
    "\\"p50_us\\":%%d,\\"p99_us\\":%%d,\\"max_us\\":%%d}\\n",
    summary.requests, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""
)
ENDPOINTS = ("/health", "/ready", "/codes/price")


class Probe(threading.Thread):
    """GETs of one endpoint at a fixed pace, each on a new connection; records latencies."""

    def __init__(self, port: int, paths: list[str], rate: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.paths, self.rate, self.seconds = port, paths, rate, seconds
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        start = time.perf_counter()
        for n, path in enumerate(self.paths):
            due = start + n / self.rate
            if due - start > self.seconds:
                return
            time.sleep(max(0.0, due - time.perf_counter()))
            self._one(path, due)

    def _one(self, path: str, due: float) -> None:
        """Latency counts from when the request was due, so a stall also counts for the
        requests it kept from being sent (no coordinated omission)."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                self.failures.append(f"{response.status} {path}")
        except OSError as exc:
            self.failures.append(f"{exc!r} {path}")
        self.latencies.append((time.perf_counter() - due) * 1000)


def stats(probe: Probe) -> dict[str, Any]:
    ordered = sorted(probe.latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"requests": len(ordered), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1], 2), "failures": len(probe.failures),
            "failure_sample": probe.failures[:3]}  # fmt: skip


def probe_all(port: int, prices: list[str], args: argparse.Namespace) -> dict[str, Any]:
    count = int(args.rate * args.duration) + 1
    paths = {"/health": ["/health"] * count, "/ready": ["/ready"] * count,
             "/codes/price": prices[:count]}  # fmt: skip
    probes = {name: Probe(port, paths[name], args.rate, args.duration) for name in ENDPOINTS}
    for probe in probes.values():
        probe.start()
    for probe in probes.values():
        probe.join(timeout=args.duration + 30)
    return {name: stats(probe) for name, probe in probes.items()}


def bulk_load(port: int, script: Path, args: argparse.Namespace) -> subprocess.Popen[str]:
    command = ["wrk", "-t2", f"-c{args.clients}", f"-d{args.duration}s", "--timeout", "30s",
               "-s", str(script), f"http://127.0.0.1:{port}"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def bulk_result(wrk: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = wrk.communicate(timeout=120)
    statuses: dict[str, int] = {}
    for line in out.splitlines():
        if line.startswith("WRKSTATUS"):
            for pair in line.split()[1:]:
                status, _, n = pair.partition("=")
                statuses[status] = statuses.get(status, 0) + int(n)
    raw = json.loads(next(x for x in out.splitlines() if x.startswith("WRKJSON "))[8:])
    return {"statuses": statuses, "socket_errors": raw["socket_errors"],
            "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000}  # fmt: skip


def server_env(env: dict[str, str], port: int, args: argparse.Namespace, src: Path | None) -> (
    dict[str, str]
):  # fmt: skip
    out = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": str(args.workers)}
    out.update(pair.split("=", 1) for pair in args.env)
    if src is not None:  # the other commit's package shadows the installed (editable) one
        out["PYTHONPATH"] = str(src)
    return out


def checkout_src(ref: str, folder: Path) -> Path:
    """``src/`` of git commit ``ref``, extracted read-only with ``git archive``."""
    archive = folder / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    env = ingested_env(args)
    mix = Mix(args.data, args.seed)
    bodies = [json.dumps(mix.bulk(args.lines)) for _ in range(4)]
    script = folder / "bulk.lua"
    script.write_text(LUA % {"bodies": ",".join(json.dumps(b) for b in bodies)})
    prices = list(dict.fromkeys(request_mix(args.data, 40_000, args.seed)))
    half = len(prices) // 2
    src = checkout_src(args.ref, folder) if args.ref else None
    port = free_port()
    server = subprocess.Popen([str(BIN / "cms-pricing"), "serve"],
                              env=server_env(env, port, args, src),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=120)
        results: dict[str, Any] = {"baseline": probe_all(port, prices[:half], args)}
        wrk = bulk_load(port, script, args)
        results["loaded"] = probe_all(port, prices[half:], args)
        results["bulk"] = bulk_result(wrk)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return results


def verdict(results: dict[str, Any], target_ms: float) -> bool:
    loaded = results["loaded"].values()
    return all(r["p99_ms"] < target_ms and not r["failures"] for r in loaded)


def report(results: dict[str, Any], target_ms: float) -> None:
    columns = f"{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'fail':>6}"
    print(f"{'phase':<10}{'endpoint':<14}{columns}")
    for phase in ("baseline", "loaded"):
        for name, r in results[phase].items():
            print(f"{phase:<10}{name:<14}{r['requests']:>6}{r['p50_ms']:>9.2f}"
                  f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}{r['failures']:>6}")  # fmt: skip
    bulk = results["bulk"]
    answers = ", ".join(f"{n} x {s}" for s, n in sorted(bulk["statuses"].items()))
    print(f"bulk answers: {answers or 'none'}; socket errors {bulk['socket_errors']}; "
          f"p50 {bulk['p50_ms']:.0f} ms, p99 {bulk['p99_ms']:.0f} ms")  # fmt: skip
    passed = verdict(results, target_ms)
    print(f"{'PASS' if passed else 'FAIL'}: every loaded probe p99 < {target_ms:g} ms")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=16, help="wrk bulk connections")
    parser.add_argument("--lines", type=int, default=10_000, help="lines per bulk request")
    parser.add_argument("--rate", type=float, default=25, help="probe requests/s per endpoint")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target-ms", type=float, default=50)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--ref", help="serve src/ of this git commit instead of the checkout")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server (repeatable)")  # fmt: skip
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args, Path(tmp))
    results["date"] = date.today().isoformat()
    results["args"] = {k: str(v) for k, v in vars(args).items()}
    report(results, args.target_ms)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"isolation-{stamp}-{os.getpid()}.json").write_text(json.dumps(results, indent=2))
    return 0 if verdict(results, args.target_ms) else 1


if __name__ == "__main__":
    raise SystemExit(main())
