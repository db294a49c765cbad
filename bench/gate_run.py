"""Measurement half of the regression gate: servers, interleaved wrk pairs, CPU and memory.

Two servers run side by side on 127.0.0.1 with the same Granian settings (``--workers``,
uvloop, no access log): the raw-ASGI ceiling (``bench/raw_asgi.py``) and the service
(``bench/gate_app.py``: the product's ``cms_pricing.api.asgi:build``, response cache off so
every request is parsed, priced and serialised). Each *pair* is one wrk run against each,
back to back, in alternating order, so both halves of a pair see the same noise. For every
run the CPU seconds of the server's whole process tree (``/proc``) are read before and after,
and the service's memory (PSS of its processes) after. Every wrk run is bounded by its
duration; both servers are stopped when the context ends.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gate_app import DELAY_ENV
from price_load import BIN, ROOT, free_port, wait_for, wrk

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    """A running server: its port and the pid at the top of its process tree."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Granian's main process and its workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(tree(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by the process tree under ``pid``."""
    total = 0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / TICK


def memory_mb(pid: int) -> float:
    """Proportional set size of the tree: shared pages counted once across the workers."""
    total_kb = 0
    for member in tree(pid):
        try:
            text = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kb += next(int(x.split()[1]) for x in text.splitlines() if x.startswith("Pss:"))
    return total_kb / 1024


def granian(target: str, port: int, workers: int, factory: bool) -> list[str]:
    command = [str(BIN / "granian"), "--interface", "asgi", "--workers", str(workers)]
    command += ["--port", str(port), "--loop", "uvloop", "--no-access-log"]
    command += ["--log-level", "warning", "--working-dir", str(ROOT / "bench")]
    return [*command, *(["--factory"] if factory else []), target]


@contextmanager
def running(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", timeout=90)
        yield Server(port, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def servers(args: argparse.Namespace, env: dict[str, str]) -> Iterator[tuple[Server, Server]]:
    """The ceiling and the service, both ready; stopped on exit."""
    ceiling_port, service_port = free_port(), free_port()
    service_env = {
        **env,
        "CMS_PRICING_PORT": str(service_port),
        "CMS_PRICING_RESPONSE_CACHE_SIZE": "0",
        # The gate measures the read path: the bulk/plan pricing children (a copy of the
        # data each, measured in docs/performance.md "Load isolation") start only if a bulk
        # or plan request comes, and the gate sends none.
        "CMS_PRICING_EXPENSIVE_WARM": "false",
        DELAY_ENV: str(args.inject_delay_us),
    }
    ceiling_cmd = granian("raw_asgi:app", ceiling_port, args.workers, factory=False)
    service_cmd = granian("gate_app:build", service_port, args.workers, factory=True)
    with (
        running(ceiling_cmd, env, ceiling_port) as ceiling,
        running(service_cmd, service_env, service_port) as service,
    ):
        yield ceiling, service


def load(server: Server, script: Path, args: argparse.Namespace, seconds: int) -> dict[str, float]:
    """One wrk run with the CPU the server's tree used during it."""
    before = cpu_seconds(server.pid)
    result = wrk(server.url, script, args, duration=seconds)
    result["cpu_s"] = cpu_seconds(server.pid) - before
    return result


def pair(
    ceiling: Server, service: Server, scripts: tuple[Path, Path], args: argparse.Namespace, n: int
) -> dict[str, dict[str, float]]:
    """One measured run against each server, back to back; the order alternates with ``n``."""
    jobs = [("ceiling", ceiling, scripts[0]), ("service", service, scripts[1])]
    runs = {
        label: load(server, script, args, args.duration)
        for label, server, script in (jobs if n % 2 == 0 else jobs[::-1])
    }
    runs["service"]["memory_mb"] = memory_mb(service.pid)
    return runs


def warm(
    ceiling: Server, service: Server, scripts: tuple[Path, Path], a: argparse.Namespace
) -> None:
    wrk(ceiling.url, scripts[0], a, duration=a.warmup)
    wrk(service.url, scripts[1], a, duration=a.warmup)
