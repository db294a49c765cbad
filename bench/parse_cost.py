"""The one request parser's cost per query (service/queries.py), in process.

    .venv/bin/python bench/parse_cost.py [--rounds N]

Times ``queries.price_query`` plus ``queries.canonical`` (what a fast-path miss pays before
the engine runs) over a fixed mix of real query spellings: plain, reordered, padded with
blank parameters, percent-encoded, ZIP+4 and pinned. Prints microseconds per query, the
median of five runs. docs/performance.md records the figures and what they replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

from cms_pricing.errors import PricingError
from cms_pricing.service import queries

MIX = [
    "code=99213&zip=94110&setting=office&year=2025",
    "zip=10001&code=99214",
    "code=70551&modifier=26&locality=0111205&setting=facility",
    "code=99213&zip=94110-1234&date=2025-07-02&modifier=",
    "code=g0121&zip=941101234&pos=22&release=rvu25b",
    "code=99213&zip=94110&setting=Office%20",
    "code=97110&zip=30301&pos=11",
]


def run(rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in MIX:
            with contextlib.suppress(PricingError):  # a refused spelling costs its parse too
                queries.canonical(queries.price_query(raw))
    return (time.perf_counter() - start) / (rounds * len(MIX)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    results = [run(args.rounds) for _ in range(5)]
    print(f"parse + canonical form: {statistics.median(results):.2f} us per query "
          f"(runs: {', '.join(f'{r:.2f}' for r in results)})")  # fmt: skip


if __name__ == "__main__":
    main()
