"""``python -m loadtest run PROFILE``: serve, load with Locust, stop, report.

Contract:
1. ingest the real CMS files into the database (a no-op when already there);
2. write the request mix (``loadtest/mix.py``) and start ``cms-pricing serve`` on
   127.0.0.1 (``--port``, default a free one) with ``--workers`` workers; wait for ``/ready``
   and then for every worker's expensive-work children to hold their data (they load in the
   background after ``/ready``; a profile loads a started service, not its start-up);
3. run Locust headless in its own process (gevent never enters the caller) with the
   profile's shape against that address only: one process, or with the profile's
   ``processes`` (or ``--processes``) a master and that many forked worker processes, the
   master listening on 127.0.0.1 only (``--port`` + 1, or a free port); the shape stops
   the run, and Locust is killed if it outlives the profile by 60 s. Meanwhile the CPU of
   the server's and Locust's processes and of the machine is sampled (``loadtest/cpu.py``);
4. stop the server; write ``results.json``, ``report.md`` and ``report.png`` to ``--out``
   (default ``bench/results/loadtest-<profile>-<time>``, ignored by git); print the table.

Exit 0 when the run completed and, with ``--check``, every SLA class met its budgets;
1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loadtest import mix, profiles
from loadtest.cpu import sampling
from loadtest.plots import plot
from loadtest.report import results
from loadtest.summary import markdown, table

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))
from price_load import free_port, wait_for, wait_warm  # noqa: E402 - the benchmark folder is not a package


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one load profile against a server it starts")
    run.add_argument("profile", choices=profiles.NAMES)
    run.add_argument("--duration", type=float, help="seconds (soak's length; caps smoke/load)")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    run.add_argument(
        "--processes",
        type=int,
        help="Locust worker processes (0: one process; default the profile's)",
    )
    run.add_argument("--seed", type=int, default=2025)
    run.add_argument("--check", action="store_true", help="exit 1 when an SLA class fails")
    run.add_argument("--out", type=Path)
    run.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("CMS_DATA_DIR", ROOT.parent / "shared" / "cms-data")),
    )
    run.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench.db'}")
    return parser.parse_args(argv)


@contextmanager
def server(env: dict[str, str], workers: int, port: int, log: Path) -> Iterator[tuple[str, int]]:
    """The server's address and pid while it runs."""
    env = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": str(workers)}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "cms-pricing"), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=120)
        wait_warm(f"http://127.0.0.1:{port}", log, workers, timeout=120)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def new_key(env: dict[str, str]) -> str:
    """A key with the scopes the profiles use (``cms-pricing keys create``: its last line)."""
    scopes = ("--scope", "read", "--scope", "bulk", "--scope", "plans:write")
    command = [str(BIN / "cms-pricing"), "keys", "create", "load test", *scopes]
    made = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


def locust_command(host: str, processes: int, master_port: int) -> list[str]:
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "5",
        "--exit-code-on-error",
        "0",
    ]
    if processes:
        port = str(master_port)
        command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
        command += ["--master-bind-port", port, "--master-port", port]
    return command


def locust(
    target: tuple[str, int], env: dict[str, str], chosen: profiles.Profile, args: argparse.Namespace
) -> None:
    """Locust against ``target`` (address, server pid), sampling both sides' CPU meanwhile."""
    (host, server_pid), out = target, args.out
    processes = chosen.processes if args.processes is None else args.processes
    command = locust_command(host, processes, args.port + 1 if args.port else free_port())
    with (out / "locust.log").open("w") as log:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        roots = {"service": server_pid, "generator": proc.pid}
        with sampling(out / "cpu.csv", roots, float(env["LOADTEST_EPOCH"])):
            try:
                code = proc.wait(timeout=chosen.duration + 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    if code:
        raise subprocess.CalledProcessError(code, command)


def execute(args: argparse.Namespace) -> dict[str, Any]:
    chosen = profiles.profile(args.profile, args.duration)
    out = args.out = (
        args.out
        or ROOT / "bench" / "results" / f"loadtest-{chosen.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.csv"):  # a reused folder must not merge an earlier run's logs
        old.unlink()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "CMS_DATA_DIR": str(args.data),
        "CMS_PRICING_RATE_LIMITS": "false",  # load tests measure the service (docs/auth.md)
    }
    subprocess.run(
        [str(BIN / "cms-pricing"), "ingest", str(args.data)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    mix_file = mix.write(args.data, args.seed, out / "mix.json")
    load_env = {
        **env,
        # Saved plans need a key (docs/auth.md); the generator sends this one with every
        # request, so the load is a keyed caller's.
        "LOADTEST_KEY": new_key(env),
        "LOADTEST_MIX": str(mix_file),
        "LOADTEST_OUT": str(out),
        "LOADTEST_PROFILE": chosen.name,
        "LOADTEST_DURATION": str(args.duration or ""),
        "PYTHONPATH": str(ROOT),
    }
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    with server(env, args.workers, args.port or free_port(), out / "server.log") as target:
        load_env["LOADTEST_EPOCH"] = str(time.time())
        locust(target, load_env, chosen, args)
    meta = {
        "profile": chosen.name,
        "about": chosen.about,
        "started": started,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "generator_processes": chosen.processes if args.processes is None else args.processes,
    }
    found = results(out, meta)
    (out / "results.json").write_text(json.dumps(found, indent=2))
    plot(found, out / "report.png")
    (out / "report.md").write_text(markdown(found))
    print(table(found))
    print(f"results: {out}")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    found = execute(args)
    if found["total"]["requests"] == 0:
        print("no request was made")
        return 1
    return 0 if found["sla_passed"] or not args.check else 1
