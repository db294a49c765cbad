"""Benchmark: what the security-headers wrapper (api/headers.py) costs a cached GET /codes/price.

Contract (docs/performance.md quotes its output): the app ``create_app`` builds (fast path,
metrics middleware, security headers) is called in-process, without a server, on the request
mix of ``bench/price_load.py``; after one warm-up pass (every answer then comes from the
local cache, the cheapest and so the most sensitive case), ``--rounds`` rounds alternate the
app as built and the app with one more ``SecurityHeaders`` layer around it (so drift on a
shared machine hits both sides). The extra layer's cost is what the one wrapper in
``create_app`` costs. Prints microseconds per request for each (median and best pass) and
their differences.

Run: ``.venv/bin/python bench/security_headers.py`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from cms_pricing.api.app import create_app
from cms_pricing.api.headers import SecurityHeaders
from cms_pricing.config import Settings
from cms_pricing.protocol import ASGIApp, Message, Scope
from price_load import add_data_arguments, ingested_env, request_mix


def scope(path: str) -> Scope:
    raw, _, query = path.partition("?")
    return {
        "type": "http",
        "method": "GET",
        "path": raw,
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1")],
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: Message) -> None:
    return None


async def one_pass(app: ASGIApp, scopes: list[Scope]) -> float:
    """Microseconds per request over ``scopes``."""
    started = time.perf_counter()
    for request in scopes:
        await app(dict(request), receive, send)
    return (time.perf_counter() - started) / len(scopes) * 1e6


async def measure(built: Any, scopes: list[Scope], rounds: int) -> dict[str, list[float]]:
    layered = SecurityHeaders(built)
    await one_pass(built, scopes)  # warm the local cache
    runs: dict[str, list[float]] = {"as built": [], "one more layer": []}
    for round_no in range(rounds):
        pair = [("as built", built), ("one more layer", layered)]
        for name, app in pair if round_no % 2 == 0 else pair[::-1]:
            runs[name].append(await one_pass(app, scopes))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--mix", type=int, default=20_000, help="distinct requests in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser, out=False)
    args = parser.parse_args(argv)
    ingested_env(args)
    overrides: dict[str, Any] = {"DATABASE_URL": args.database_url, "CMS_DATA_DIR": None}
    built = create_app(Settings(**overrides))
    built.state.load()
    scopes = [scope(path) for path in request_mix(args.data, args.mix, args.seed)]
    runs = asyncio.run(measure(built, scopes, args.rounds))
    for name, values in runs.items():
        print(
            f"{name}: median {statistics.median(values):.2f}, best {min(values):.2f} "
            f"us/request ({len(values)} passes of {len(scopes)})"
        )
    for label, pick in (("median", statistics.median), ("best", min)):
        extra = pick(runs["one more layer"]) - pick(runs["as built"])
        print(f"one SecurityHeaders layer ({label}): {extra:+.2f} us/request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
