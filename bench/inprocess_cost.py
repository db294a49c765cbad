"""CPU per request of the whole ASGI app in this process, over the distinct ``/codes/price`` mix.

    .venv/bin/python bench/inprocess_cost.py                          # this checkout
    PYTHONPATH=<other tree>/src .venv/bin/python bench/inprocess_cost.py  # another tree

No server and no load generator: each query of the distinct mix (``bench/distinct_mix.py``,
same seed) goes once through the app of ``cms-pricing serve`` (the benchmark database,
response cache off, rate limits off) in one event loop, and the process CPU time is divided
by the number of requests. Best of three passes over the mix, after one warm-up pass
over its first 5,000 queries. Run two trees alternately (A B A B ...) and compare the
figures of one sitting: the machine is shared, so only ratios of neighbouring runs mean
anything (docs/performance.md, issue 14). ``WORKING_SET=2000`` sends the same number of
requests over only the first 2,000 queries of the mix, again and again: the difference is
what a request pays for touching data no recent request touched (CPU caches).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from answer_digest import loaded_app, mix_arguments, scope_of
from distinct_mix import distinct_paths


async def drive(app: Any, scopes: list[dict[str, Any]]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    for scope in scopes:
        await app(dict(scope), receive, send)


def main() -> int:
    args = mix_arguments(__doc__.splitlines()[0], 20_000)
    app = loaded_app(args)
    scopes = [scope_of(path) for path in distinct_paths(args.data, args.size, args.seed)]
    working_set = int(os.environ.get("WORKING_SET", "0"))
    if working_set:  # the same number of requests, over only the first WORKING_SET queries
        scopes = (scopes[:working_set] * (len(scopes) // working_set + 1))[: len(scopes)]
    asyncio.run(drive(app, scopes[:5000]))
    costs = []
    for _ in range(3):
        started = time.process_time()
        asyncio.run(drive(app, scopes))
        costs.append((time.process_time() - started) / len(scopes) * 1e6)
    print(f"{min(costs):.1f} us of CPU per request (best of {len(costs)}; {len(scopes):,} queries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
