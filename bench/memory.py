"""Benchmark: a worker's memory under hostile queries (issue 10, bounded memory).

Contract (docs/performance.md quotes its output):
1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. start ``cms-pricing serve`` with one worker on a free loopback port and find the worker
   process (the server's child); read its RSS (``VmRSS`` in ``/proc/<pid>/status``);
3. warm up with ``--warmup`` distinct requests just under the query limit, read RSS;
4. send ``--requests`` requests ``GET /codes/price?code=99213&zip=<digits>``, each with a
   distinct ``zip`` so the query is ``--under`` bytes (just under the 8 KiB limit), read RSS;
5. send as many again at ``--over`` bytes (just over it: 414s), read RSS;
6. print every figure and the status counts, and ``PASS`` when the growth after warm-up
   stays under ``--bound-mib`` (``FAIL`` and exit 1 otherwise).

The client is an asyncio loop over ``--connections`` keep-alive connections that makes each
query as it sends it (wrk cannot stop after a request count); each phase is bounded by
``--max-seconds``.
``--src PATH`` serves another checkout's ``src`` (PYTHONPATH) with this venv, e.g. an
unmodified commit for contrast: ``git archive e1f61b1 src | tar -x -C /tmp/base``.
Every request goes to 127.0.0.1 only.
Run: ``.venv/bin/python bench/memory.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from price_load import BIN, add_data_arguments, free_port, ingested_env, wait_for

PREFIX = "/codes/price?code=99213&zip="
QUERY_HEAD = len(PREFIX.split("?", 1)[1])


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    sent: int = 0


async def connection(port: int, queries: Iterator[bytes], tally: Tally) -> None:
    """One keep-alive connection sending the next query until there are none left."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for target in queries:
            writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            tally.statuses[int(head[9:12])] += 1
            tally.sent += 1
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


def distinct(query_bytes: int, count: int, offset: int) -> Iterator[bytes]:
    """``count`` targets whose ``zip`` makes each query exactly ``query_bytes`` bytes."""
    width = query_bytes - QUERY_HEAD
    for n in range(offset, offset + count):
        ident = str(n)
        yield (PREFIX + ident + "9" * (width - len(ident))).encode()


def phase(
    port: int, args: argparse.Namespace, query_bytes: int, count: int, offset: int
) -> dict[str, object]:
    """``count`` distinct queries of ``query_bytes`` bytes: status counts and rate."""
    tally = Tally()
    queries = distinct(query_bytes, count, offset)

    async def load() -> None:
        await asyncio.gather(*(connection(port, queries, tally) for _ in range(args.connections)))

    started = time.perf_counter()
    asyncio.run(asyncio.wait_for(load(), args.max_seconds))
    seconds = time.perf_counter() - started
    statuses = {str(k): v for k, v in sorted(tally.statuses.items())}
    return {
        "requests": tally.sent,
        "statuses": statuses,
        "requests_per_s": round(tally.sent / seconds),
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pid(server_pid: int) -> int:
    """The Granian worker: the server's child with the largest RSS (the one that loaded
    the releases)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    if not children:
        raise RuntimeError("the server has no worker process")
    return max((int(c) for c in children), key=rss_kib)


def run(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    server_env = {**env, "CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": "1"}
    if args.src is not None:
        server_env["PYTHONPATH"] = str(args.src.resolve())
    proc = subprocess.Popen(
        [str(BIN / "cms-pricing"), "serve"],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=120)
        return measure(port, worker_pid(proc.pid), args)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(port: int, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    rss = {"start": rss_kib(pid) / 1024}
    phase(port, args, args.under, args.warmup, offset=0)
    time.sleep(1)
    rss["warm"] = rss_kib(pid) / 1024
    under = phase(port, args, args.under, args.requests, offset=10**8)
    rss["after_under"] = rss_kib(pid) / 1024
    over = phase(port, args, args.over, args.requests, offset=2 * 10**8)
    rss["after_over"] = rss_kib(pid) / 1024
    growth = max(rss["after_under"], rss["after_over"]) - rss["warm"]
    verdict = "PASS" if growth < args.bound_mib else "FAIL"
    rss_mib = {k: round(v, 1) for k, v in rss.items()}
    return {"rss_mib": rss_mib, "under": under, "over": over, "growth_mib": round(growth, 1),
            "verdict": verdict}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="per phase")
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--under", type=int, default=8_100, help="query bytes, under the limit")
    parser.add_argument("--over", type=int, default=8_300, help="query bytes, over the limit")
    parser.add_argument("--bound-mib", type=float, default=32, help="largest growth that passes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=600, help="cap per phase")
    parser.add_argument("--src", type=Path, default=None, help="serve this src folder instead")
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    result = {"date": date.today().isoformat(), "args": {k: str(v) for k, v in vars(args).items()}}
    result |= run(args, ingested_env(args))
    for name in ("rss_mib", "under", "over"):
        print(f"{name:12} {result[name]}")
    print(f"growth after warm-up: {result['growth_mib']} MiB -> {result['verdict']}")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"memory-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0 if result["verdict"] == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
