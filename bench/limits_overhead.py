"""Benchmark: what the limits middleware adds to a cache hit, in-process, in one run.

Contract (docs/performance.md quotes its output): load the real releases (``var/bench.db``,
ingested first), fill the local cache with ``--paths`` distinct price answers from the
``price_load`` mix, then time ``--rounds`` passes over them (alternating which goes first)
through the ``FastPath`` alone and through ``Limits(FastPath)`` (the app as ``create_app`` wires it,
without the metrics middleware, which both would share). Each pass is one ASGI call per
path with a no-op ``send``; the figure is nanoseconds per request, best pass of each, and
their ratio. Server, sockets and wrk are left out on purpose: this shared 2-core machine's
wrk figures move by 30% between runs, far more than the difference measured here.
Run: ``.venv/bin/python bench/limits_overhead.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date
from typing import Any

from cms_pricing.api.fastpath import FastPath
from cms_pricing.api.limits import Limits
from cms_pricing.config import Settings
from cms_pricing.protocol import ASGIApp, Message, Receive, Scope, Send
from cms_pricing.service.state import ServiceState
from price_load import add_data_arguments, ingested_env, request_mix


async def _unused(_scope: Scope, _receive: Receive, _send: Send) -> None:
    raise AssertionError("every path is served by the fast path")


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Message) -> None:
    return None


def scopes(paths: list[str]) -> list[Scope]:
    found: list[Scope] = []
    for target in paths:
        path, _, query = target.partition("?")
        found.append(
            {"type": "http", "method": "GET", "path": path, "query_string": query.encode(),
             "headers": [(b"host", b"bench")]}
        )  # fmt: skip
    return found


async def one_pass(app: ASGIApp, requests: list[Scope]) -> float:
    """Nanoseconds per request over one pass."""
    started = time.perf_counter_ns()
    for scope in requests:
        await app(scope, _receive, _send)
    return (time.perf_counter_ns() - started) / len(requests)


async def compare(fast: ASGIApp, limited: ASGIApp, requests: list[Scope], rounds: int) -> Any:
    await one_pass(fast, requests)  # fills the cache: every later pass is all hits
    timings: dict[str, list[float]] = {"fast_path": [], "limits_fast_path": []}
    apps = {"fast_path": fast, "limits_fast_path": limited}
    for turn in range(rounds):
        order = list(apps) if turn % 2 == 0 else list(reversed(apps))  # neither always first
        for name in order:
            timings[name].append(await one_pass(apps[name], requests))
    return {name: round(min(values)) for name, values in timings.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser, out=False)
    args = parser.parse_args(argv)
    ingested_env(args)
    values: dict[str, Any] = {"DATABASE_URL": args.database_url, "CMS_DATA_DIR": None}
    settings = Settings(**values)
    state = ServiceState(settings)
    state.load()
    fast = FastPath(_unused, state)
    requests = scopes(request_mix(args.data, args.paths, args.seed))
    best = asyncio.run(compare(fast, Limits(fast, settings), requests, args.rounds))
    ratio = best["limits_fast_path"] / best["fast_path"]
    print(f"{date.today()}  {len(requests)} cached price answers, best of {args.rounds} passes")
    print(f"fast path alone        {best['fast_path']:>6} ns/request")
    print(f"limits + fast path     {best['limits_fast_path']:>6} ns/request  ({ratio:.3f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
