"""Benchmark: start-up of ``cms-pricing serve`` until it answers (issue 14: /ready under 1 s).

Contract (docs/performance.md, "Start-up", quotes its output):

1. each of ``--rounds`` rounds launches the real command, ``cms-pricing serve``, with
   ``--workers`` workers and ``CMS_PRICING_SNAPSHOT_MODE=--mode`` on a free port
   (``BENCH_PORTS`` when set) against an existing database (``--database-url``, by default
   the project's ``var/cms-pricing.db``; nothing is ingested here, and a database that needs
   ingesting is refused rather than timed); any other setting comes from the environment;
2. it times, from just before the launch (one monotonic clock, lines timed as they arrive
   on the server's output):
   ``listening``: Granian's main process logs "Listening at" (its socket is bound; all it
   did before is the main process's start-up: imports, migrations, checks);
   ``loading``: the first worker starts loading its data (the moment its "loaded" line
   arrived less the seconds it says the load took): what a worker did before, after the
   fork, is building the app;
   ``ready``: the first ``200`` from ``GET /ready`` (polled every 10 ms, a new connection
   each time);
   ``workers``: every worker logged "Started worker-N" (its lifespan start-up is done);
   ``expensive``: every worker logged that its expensive-work children hold their data
   (``service/offload.py``; empty with ``CMS_PRICING_EXPENSIVE_WARM=false`` or 0 processes);
   ``load_s``: the longest ``ServiceState.load`` a worker logged (its own data);
3. it stops the server (SIGTERM, as an orchestrator does) and waits for it to exit before the
   next start; the first start also compiles the snapshot when none is there yet (run a
   round more and drop it, or compile first);
4. ``--src`` serves another source tree (``PYTHONPATH``); with ``--against SRC`` each round
   starts both trees, one after the other, in alternating order, so both see the same noise;
5. it prints each start and the medians per tree, and writes JSON to ``--out``.

Run: ``BENCH_PORTS=18600-18699 .venv/bin/python bench/startup.py --rounds 5`` or ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from price_load import BIN, ROOT, WARM_LINE, free_port

LISTENING = re.compile(r"Listening at")
STARTED = re.compile(r"Started worker-\d+")
WARM = re.compile(re.escape(WARM_LINE))
LOADED = re.compile(r'"loaded \d+ releases \(\w+\) in (?P<s>[\d.]+)s"')
POLL_S = 0.01


@dataclass
class Output:
    """The server's output lines, each with the moment (monotonic) it arrived."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def follow(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def times(self, pattern: re.Pattern[str]) -> list[float]:
        with self._lock:
            return [at for at, line in self.lines if pattern.search(line)]

    def loads(self) -> list[tuple[float, float]]:
        """(moment the worker's load started, its seconds) of every "loaded" line."""
        with self._lock:
            found = [(at, LOADED.search(line)) for at, line in self.lines]
        return [(at - float(m["s"]), float(m["s"])) for at, m in found if m]

    def text(self) -> str:
        with self._lock:
            return "\n".join(line for _at, line in self.lines)


def answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def one_start(args: argparse.Namespace, src: Path | None) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        **({"PYTHONPATH": str(src)} if src is not None else {}),
        "DATABASE_URL": args.database_url,
        "CMS_DATA_DIR": "",  # an empty database is an error here, never an ingest
        "CMS_PRICING_SNAPSHOT_MODE": args.mode,
        "CMS_PRICING_WORKERS": str(args.workers),
        "CMS_PRICING_PORT": str(port),
    }
    output = Output()
    launched = time.monotonic()
    server = subprocess.Popen(
        [str(BIN / "cms-pricing"), "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    reader = threading.Thread(target=output.follow, args=(server.stdout,), daemon=True)
    reader.start()
    try:
        ready = wait_ready(server, f"http://127.0.0.1:{port}/ready", args.timeout)
        warm_by = wait_warm(server, output, args, launched)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; the server said:\n{output.text()}") from exc
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        reader.join(timeout=5)
    return timings(output, launched, ready, warm_by, args.workers)


def wait_ready(server: subprocess.Popen[str], url: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode} before /ready")
        if answers_ready(url):
            return time.monotonic()
        time.sleep(POLL_S)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


def wait_warm(
    server: subprocess.Popen[str], output: Output, args: argparse.Namespace, launched: float
) -> float:
    """Wait until every worker logged its children warm (or ``--settle`` s after launch when
    none will: warm-up off); returns the deadline used."""
    deadline = launched + args.timeout
    settle = launched + args.settle
    while time.monotonic() < deadline and server.poll() is None:
        if len(output.times(WARM)) >= args.workers:
            break
        if time.monotonic() > settle and not output.times(WARM):
            break
        time.sleep(POLL_S)
    return time.monotonic()


def timings(
    output: Output, launched: float, ready: float, warm_by: float, workers: int
) -> dict[str, Any]:
    def after(moments: list[float], count: int) -> float | None:
        return round(moments[count - 1] - launched, 3) if len(moments) >= count else None

    loads = output.loads()
    return {
        "listening_s": after(output.times(LISTENING), 1),
        "loading_s": after(sorted(at for at, _s in loads), 1),
        "ready_s": round(ready - launched, 3),
        "workers_s": after(output.times(STARTED), workers),
        "expensive_s": after(output.times(WARM), workers),
        "load_s": max(s for _at, s in loads) if loads else None,
    }


COLUMNS = ("listening_s", "loading_s", "ready_s", "workers_s", "expensive_s", "load_s")


def row(label: str, values: dict[str, Any]) -> str:
    cells = "".join(f"{'-' if values[c] is None else f'{values[c]:.3f}':>13}" for c in COLUMNS)
    return f"{label:<16}{cells}"


def medians(rounds: list[dict[str, Any]]) -> dict[str, float | None]:
    found: dict[str, float | None] = {}
    for column in COLUMNS:
        values = [r[column] for r in rounds if r[column] is not None]
        found[column] = round(statistics.median(values), 3) if values else None
    return found


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=("compiled", "objects"), default="compiled")
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'cms-pricing.db'}")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a round may take")
    parser.add_argument(
        "--settle", type=float, default=10, help="seconds to wait for a warm-up log line"
    )
    parser.add_argument("--src", type=Path, help="serve this source tree (default: installed)")
    parser.add_argument("--against", type=Path, help="also start this source tree (its src/)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args(argv)


def trees(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    if args.against is None:
        return [("", args.src)]
    return [("before", args.against), ("after", args.src)]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started_at = time.strftime("%Y%m%d-%H%M%S")
    print(f"{'start':<16}" + "".join(f"{c:>13}" for c in COLUMNS), flush=True)
    starts: dict[str, list[dict[str, Any]]] = {label: [] for label, _src in trees(args)}
    for n in range(args.rounds):
        for label, src in trees(args) if n % 2 == 0 else trees(args)[::-1]:
            starts[label].append(one_start(args, src))
            print(row(f"{n + 1} {label}", starts[label][-1]), flush=True)
    summary = {label: medians(found) for label, found in starts.items()}
    for label, values in summary.items():
        print(row(f"median {label}", values))
    print("seconds from launching `cms-pricing serve`; load_s: the longest worker's own load")
    results = {
        "date": date.today().isoformat(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "env": {k: v for k, v in os.environ.items() if k.startswith("CMS_PRICING_")},
        "median": summary,
        "starts": starts,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"startup-{started_at}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
