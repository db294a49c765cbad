"""Benchmark: throughput of one vs two instances behind deploy/lb's nginx, on this machine.

Contract (docs/scaling.md quotes its output):
1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. for N = 1 and N = 2: start N `cms-pricing serve` instances with ``--workers`` workers
   each (default 1) on loopback, put nginx with ``deploy/lb/cms-pricing-lb.conf.template``
   in front, load the LB with wrk and the request mix of ``price_load.py`` (response cache
   off, so every request is computed), stop everything;
3. print requests/s and p50/p99 per N and the speed-up; write JSON to bench/results/.

Every process binds 127.0.0.1; each wrk run is bounded by ``--duration``. On a 2-core
machine the instances, nginx and wrk share the same two cores, so the speed-up measures
contention as much as scale-out (docs/scaling.md).
Run: ``.venv/bin/python bench/scale_out.py --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from price_load import (
    BIN,
    ROOT,
    add_data_arguments,
    free_port,
    ingested_env,
    request_mix,
    wait_for,
    write_script,
    wrk,
)

TEMPLATE = ROOT / "deploy" / "lb" / "cms-pricing-lb.conf.template"


@contextmanager
def running(command: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
    """A process started with ``command``, once ``ready`` answers 200; stopped at exit."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(ready, timeout=90)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def instance(env: dict[str, str], workers: int) -> tuple[list[str], dict[str, str], int]:
    port = free_port()
    run_env = {
        **env,
        "CMS_PRICING_PORT": str(port),
        "CMS_PRICING_WORKERS": str(workers),
        "CMS_PRICING_RESPONSE_CACHE_SIZE": "0",
    }
    return [str(BIN / "cms-pricing"), "serve"], run_env, port


def nginx_command(folder: Path, ports: list[int], listen: int) -> list[str]:
    """Render the LB template for ``ports`` into ``folder``; the nginx command to run it."""
    upstream = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)
    values = {
        "CMS_PRICING_LISTEN": f"127.0.0.1:{listen}",
        "CMS_PRICING_UPSTREAM": upstream,
        "CMS_PRICING_RUN_DIR": str(folder),
    }
    text = re.sub(r"\$\{(CMS_PRICING_[A-Z_]+)\}", lambda m: values[m[1]], TEMPLATE.read_text())
    (folder / "nginx.conf").write_text(text)
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", directives]


def measure_lb(
    count: int, env: dict[str, str], script: Path, folder: Path, args: argparse.Namespace
) -> dict[str, float]:
    """wrk through the LB in front of ``count`` instances."""
    lb_dir = folder / f"lb{count}"
    lb_dir.mkdir()
    listen = free_port()
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            command, run_env, port = instance(env, args.workers)
            stack.enter_context(running(command, run_env, f"http://127.0.0.1:{port}/ready"))
            ports.append(port)
        lb = nginx_command(lb_dir, ports, listen)
        stack.enter_context(running(lb, dict(os.environ), f"http://127.0.0.1:{listen}/health"))
        base = f"http://127.0.0.1:{listen}"
        wrk(base, script, args, duration=args.warmup)
        return wrk(base, script, args, duration=args.duration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="workers per instance")
    parser.add_argument("--mix", type=int, default=20_000, help="distinct requests in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser)
    args = parser.parse_args(argv)

    env = ingested_env(args)
    results: dict[str, object] = {
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = write_script(folder, "mix.lua", request_mix(args.data, args.mix, args.seed))
        for count in (1, 2):
            results[f"instances_{count}"] = measure_lb(count, env, script, folder, args)
    report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2)
    )
    return 0


def report(results: dict[str, object]) -> None:
    print(f"{'behind the LB':<16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non2xx':>8}{'errors':>8}")
    rates = []
    for count in (1, 2):
        r = results[f"instances_{count}"]
        assert isinstance(r, dict)
        rates.append(r["requests_per_s"])
        print(
            f"{f'{count} instance(s)':<16}{r['requests_per_s']:>10}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['non2xx']:>8}{r['socket_errors']:>8}"
        )
    print(f"speed-up with two instances: {rates[1] / rates[0]:.2f}x on {results['cpus']} CPUs")


if __name__ == "__main__":
    sys.exit(main())
