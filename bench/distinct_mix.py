"""Benchmark: ``GET /codes/price`` when every request is distinct, against the ceiling (issue 14).

Contract (docs/performance.md, "The computed path on a distinct-query mix", quotes its output):

1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. build ``--size`` distinct request paths (400,000 by default; fixed seed) with the rules of
   ``bench/price_load.py`` (codes payable in every 2025 release, all ZIPs or a carrier-locality,
   both settings, places of service, dates across 2025): a path drawn twice is drawn again, so
   no query repeats within the mix;
3. write them to a file that the wrk script reads when it loads (before wrk's clock starts);
   each run of a server starts where its previous run stopped, so no query repeats on a server
   until it has been sent the whole mix, long after any answer left its cache;
4. serve, side by side on 127.0.0.1 with Granian and ``--workers`` workers: the raw-ASGI
   ceiling (``bench/raw_asgi.py``) and the service (``bench/gate_app.py``, the product's app)
   with the response cache as shipped and with it off (``--cache``); with ``--against SRC``
   also the same two from another source tree (a worktree's ``src``), for before/after pairs
   measured in the same run (``--src`` serves the service from a given tree too);
   with ``--burn 10,20,...`` also ``bench/burn_asgi.py`` once per cost, whose shares give the
   server's cost curve (1/share linear in microseconds of Python per request), the Python
   time a 60% share leaves, and what the service costs per request read on that curve;
5. ``--rounds`` rounds of one wrk run (``--threads``, ``--connections``, ``--duration`` s)
   against each server, back to back, the order reversed every other round, so every server
   sees the same noise;
6. print each run and, per service, the medians over rounds of its share of the ceiling's
   requests/s, its p50/p95/p99/p99.9 and longest request (from wrk's latency histogram, in
   the script's ``done``: wrk's own report stops at p99), its p99 over the ceiling's and its
   CPU per request over the ceiling's (the server's process tree, from /proc); write JSON to
   ``bench/results/``.

Every request goes to 127.0.0.1 only; every wrk run is bounded by ``--duration``.
Run: ``.venv/bin/python bench/distinct_mix.py`` (about 4 minutes) or ``--help``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gate_run import Server, cpu_seconds, granian, running
from price_load import (
    BIN,
    DONE,
    add_data_arguments,
    free_port,
    ingested_env,
    one_request,
    payable_codes,
    read_zips,
    wrk,
)

# The paths are one string of fixed-width records (a 3-digit length, the path, blanks): a Lua
# table of 400,000 strings is past LuaJIT's limit of constants as a literal, and as a table
# read from a file every garbage collection walks it, which held one wrk thread to about
# 31,000 requests/s on this machine. ``init`` takes the first record of the run from wrk's
# arguments. ``setpause`` 100 starts each garbage-collection cycle of the wrk thread as soon as
# the last ends: with LuaJIT's default (200) the heap grows to twice the 35 MB string between
# cycles, and the generator itself stalled for tens of milliseconds (measured against the
# raw-ASGI app with this script: p99.9 35.8 ms and 366,000 requests in 6 s with the default,
# 4.0 ms and 490,000 with 100; docs/performance.md, "p99.9 under wrk").
LUA = (
    """
collectgarbage("setpause", 100)
local file = io.open("%(file)s", "rb")
local blob = file:read("*a")
file:close()
local width, count = %(width)d, %(count)d
local i = 0
init = function(args) i = tonumber(args[1] or "0") %% count end
request = function()
  local at = i * width
  i = (i + 1) %% count
  local size = tonumber(blob:sub(at + 1, at + 3))
  return wrk.format("GET", blob:sub(at + 4, at + 3 + size))
end
"""
    + DONE
)
SIZE = 400_000


def distinct_paths(data: Path, size: int, seed: int) -> list[str]:
    """``size`` different ``/codes/price`` paths drawn from the real files (fixed seed)."""
    rng = random.Random(seed)
    payable = payable_codes(data)
    zips = read_zips(data / "2025" / "zip-locality-2025q4")
    seen: set[str] = set()
    paths: list[str] = []
    while len(paths) < size:
        path = one_request(rng, payable, zips)
        if path not in seen:
            seen.add(path)
            paths.append(path)
    return paths


def write_paths_script(
    folder: Path, name: str, paths: list[str], headers: dict[str, str] | None = None
) -> Path:
    """A wrk script that walks ``paths`` (one request each) from the offset it is given,
    sending ``headers`` with every request."""
    width = 3 + max(len(path) for path in paths)
    if width > 999:
        raise ValueError("a path of the mix is longer than 996 characters")
    listing = folder / f"{name}.paths"
    listing.write_text("".join(f"{len(p):03d}{p}".ljust(width) for p in paths), "ascii")
    script = folder / f"{name}.lua"
    sent = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in (headers or {}).items())
    script.write_text(sent + LUA % {"file": listing, "width": width, "count": len(paths)})
    return script


@dataclass
class Target:
    """A server under load, its script and where its next run starts in the mix."""

    label: str
    server: Server
    script: Path
    offset: int = 0
    runs: list[dict[str, float]] = field(default_factory=list)
    burn: float | None = None  # microseconds per request, for bench/burn_asgi.py

    def load(self, args: argparse.Namespace, seconds: int, *, keep: bool = True) -> None:
        before = cpu_seconds(self.server.pid)
        result = wrk(self.server.url, self.script, args, seconds, script_args=[str(self.offset)])
        result["cpu_s"] = cpu_seconds(self.server.pid) - before
        self.offset += int(result["requests"]) + args.connections
        if keep:
            self.runs.append(result)


# The limiter measured (``--limits``): limits on, at an allowance no run can exhaust, for an
# anonymous caller (per client address) and for a caller with a key (``key`` script).
UNLIMITED = "1000000000/day"
LIMITS_ON = {
    "CMS_PRICING_RATE_LIMITS": "true",
    "CMS_PRICING_ANON_LIMIT_READ": UNLIMITED,
    "CMS_PRICING_LIMIT_READ": UNLIMITED,
}


def variants(args: argparse.Namespace) -> list[tuple[str, dict[str, str], Path | None]]:
    """(label, environment, source tree) of each service to load; a label ending in ``key``
    is loaded with the script that sends an API key."""
    caches: dict[str, list[tuple[str, dict[str, str]]]] = {
        "on": [("cache", {})],
        "off": [("nocache", {"CMS_PRICING_RESPONSE_CACHE_SIZE": "0"})],
    }
    chosen = caches["on"] + caches["off"] if args.cache == "both" else caches[args.cache]
    if args.limits:  # the limiter's own cost: "limits" to the plain one, "limits key" to "key"
        plain = list(chosen)
        chosen += [(f"{label} key", env) for label, env in plain]
        chosen += [(f"{label} limits", {**env, **LIMITS_ON}) for label, env in plain]
        chosen += [(f"{label} limits key", {**env, **LIMITS_ON}) for label, env in plain]
    trees: list[tuple[str, Path | None]] = [("", args.src)]
    if args.against:
        trees = [("before ", args.against), ("after ", args.src)]
    return [(f"{tree}{label}", env, src) for tree, src in trees for label, env in chosen]


@contextmanager
def started(
    args: argparse.Namespace, env: dict[str, str], scripts: dict[str, Path]
) -> Iterator[list[Target]]:
    """The ceiling and every service variant, ready; all stopped on exit."""
    with ExitStack() as stack:
        port = free_port()
        ceiling = granian("raw_asgi:app", port, args.workers, factory=False)
        raw = stack.enter_context(running(ceiling, env, port))
        targets = [Target("ceiling", raw, scripts["raw"])]
        for burn in args.burn:
            port = free_port()
            command = granian("burn_asgi:app", port, args.workers, factory=False)
            burner = stack.enter_context(running(command, {**env, "BURN_US": str(burn)}, port))
            targets.append(Target(f"burn {burn:g} us", burner, scripts["raw"], burn=burn))
        for label, extra, src in variants(args):
            port = free_port()
            service_env = {**env, **extra, "CMS_PRICING_PORT": str(port)}
            service_env["CMS_PRICING_EXPENSIVE_WARM"] = "false"  # no bulk or plan request comes
            if src is not None:
                service_env["PYTHONPATH"] = str(src)
            command = granian("gate_app:build", port, args.workers, factory=True)
            server = stack.enter_context(running(command, service_env, port))
            script = scripts["key" if label.endswith(" key") else "mix"]
            targets.append(Target(label, server, script))
        yield targets


def measure(args: argparse.Namespace, env: dict[str, str], paths: list[str]) -> list[Target]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scripts = {
            "raw": write_paths_script(folder, "raw", ["/"]),
            "mix": write_paths_script(folder, "mix", paths),
        }
        if args.limits:
            key = {"X-API-Key": new_key(env, "distinct mix")}
            scripts["key"] = write_paths_script(folder, "key", paths, key)
        with started(args, env, scripts) as targets:
            for target in targets:
                target.load(args, args.warmup, keep=False)
            for n in range(args.rounds):
                for target in targets if n % 2 == 0 else targets[::-1]:
                    target.load(args, args.duration)
                    print(f"round {n + 1} {target.label:<16}{line(target.runs[-1])}", flush=True)
        return targets


def line(run: dict[str, float]) -> str:
    return (
        f"{run['requests_per_s']:>9,}/s  p50 {run['p50_ms']:6.2f}  p95 {run['p95_ms']:6.2f}"
        f"  p99 {run['p99_ms']:6.2f}  p99.9 {run['p999_ms']:6.2f}  max {run['max_ms']:7.2f} ms"
        f"  non-2xx {run['non2xx'] + run['socket_errors']}"
    )


def summary(ceiling: Target, target: Target) -> dict[str, float]:
    """Medians over rounds of the ratios of each run to the ceiling's run of its round."""
    pairs = list(zip(ceiling.runs, target.runs, strict=True))

    def median(values: Iterator[float]) -> float:
        return round(statistics.median(values), 4)

    return {
        "requests_per_s": median(s["requests_per_s"] for _, s in pairs),
        "p50_ms": median(s["p50_ms"] for _, s in pairs),
        "p95_ms": median(s["p95_ms"] for _, s in pairs),
        "p99_ms": median(s["p99_ms"] for _, s in pairs),
        "p999_ms": median(s["p999_ms"] for _, s in pairs),
        "max_ms": median(s["max_ms"] for _, s in pairs),
        "share": median(s["requests_per_s"] / c["requests_per_s"] for c, s in pairs),
        "p99_ratio": median(s["p99_ms"] / c["p99_ms"] for c, s in pairs),
        "cpu_ratio": median(
            (s["cpu_s"] / s["requests"]) / (c["cpu_s"] / c["requests"]) for c, s in pairs
        ),
        "errors": sum(s["non2xx"] + s["socket_errors"] for _, s in pairs),
    }


def report(targets: list[Target]) -> dict[str, dict[str, float]]:
    """The table; with ``--burn``, the cost curve and each service's place on it."""
    ceiling, services = targets[0], targets[1:]
    table = {t.label: summary(ceiling, t) for t in targets}
    print(
        f"{'server':<16}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'p99.9 ms':>9}"
        f"{'max ms':>8}{'share':>8}{'p99 x':>7}{'CPU x':>7}{'errors':>8}"
    )
    for t in [ceiling, *services]:
        s = table[t.label]
        print(
            f"{t.label:<16}{s['requests_per_s']:>9,.0f}{s['p50_ms']:>8.2f}{s['p95_ms']:>8.2f}"
            f"{s['p99_ms']:>8.2f}{s['p999_ms']:>9.2f}{s['max_ms']:>8.1f}{s['share']:>8.1%}"
            f"{s['p99_ratio']:>7.2f}{s['cpu_ratio']:>7.2f}{s['errors']:>8.0f}"
        )
    print(
        f"medians of {len(ceiling.runs)} rounds (max: the median of each run's longest); "
        "share, p99 x and CPU x are to the ceiling's run"
    )
    curve = [(t.burn, table[t.label]["share"]) for t in services if t.burn is not None]
    if len(curve) >= 2:
        a, b = cost_line(curve)
        print(f"burn curve: 1/share = {a:.3f} + {b:.4f} x microseconds per request")
        budget = round((1 / TARGET_SHARE - a) / b, 1)
        table["curve"] = {"a": a, "b": b, f"us_at_{TARGET_SHARE:.0%}": budget}
        print(f"Python time per request that leaves {TARGET_SHARE:.0%} of the ceiling: {budget} us")
        for t in services:
            if t.burn is None:
                cost = round((1 / table[t.label]["share"] - a) / b, 1)
                table[t.label]["equivalent_us"] = cost
                print(f"{t.label}: costs as much as {cost} us of Python per request")
    return table


TARGET_SHARE = 0.6


def cost_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares of 1/share on microseconds: a server's throughput is 1/(a + b x us)."""
    xs = [x for x, _ in points]
    ys = [1 / share for _, share in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return round(mean_y - slope * mean_x, 4), round(slope, 5)


def new_key(env: dict[str, str], name: str) -> str:
    """A read key in the benchmark database (``cms-pricing keys create``; its last line)."""
    command = [str(BIN / "cms-pricing"), "keys", "create", name, "--scope", "read"]
    made = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


def burn_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE, help="distinct paths in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before round 1")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", choices=("on", "off", "both"), default="both")
    parser.add_argument("--src", type=Path, help="serve this source tree (default: installed)")
    parser.add_argument("--against", type=Path, help="also serve this source tree (its src/)")
    parser.add_argument(
        "--limits",
        action="store_true",
        help="also serve each service called with an API key, and both with rate limits on",
    )
    parser.add_argument(
        "--burn",
        type=burn_list,
        default=[],
        help="also serve bench/burn_asgi.py costing each of these microseconds (e.g. 10,20,40)",
    )
    add_data_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    env = ingested_env(args)
    started_at = time.strftime("%Y%m%d-%H%M%S")
    paths = distinct_paths(args.data, args.size, args.seed)
    targets = measure(args, env, paths)
    results = {
        "date": date.today().isoformat(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "summary": report(targets),
        "runs": {t.label: t.runs for t in targets},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"distinct-{started_at}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
