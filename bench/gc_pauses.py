"""Garbage-collection pauses while pricing distinct queries, and the heap the collector sees.

Issue 14 asked whether collections over the snapshot explain the load tests' tails. This
loads the service's state the way a worker does (``ServiceState.load``: heap frozen after
load), then sends ``--size`` distinct ``GET /codes/price`` queries (``bench/distinct_mix.py``,
response cache off) through the whole ASGI app in this process, timing every collection
with ``gc.callbacks``. It prints JSON: objects the collector tracks and objects frozen after
load, collections per generation, and the pauses' total, p99, p99.9 and maximum in ms.

Compare two trees by running it under each (``PYTHONPATH=<tree>/src``): the tree before the
compiled snapshot kept every row as an object (frozen), the compiled one keeps none.

    .venv/bin/python bench/gc_pauses.py --size 50000
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

from answer_digest import answers, loaded_app, mix_arguments
from distinct_mix import distinct_paths


class Pauses:
    def __init__(self) -> None:
        self.started = 0.0
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self.started) * 1000)

    def summary(self) -> dict[str, Any]:
        every = sorted(p for found in self.pauses.values() for p in found)

        def at(share: float) -> float:
            return round(every[min(len(every) - 1, int(share * len(every)))], 3) if every else 0

        return {
            "collections": {str(g): len(found) for g, found in self.pauses.items()},
            "total_ms": round(sum(every), 1),
            "p99_ms": at(0.99),
            "p999_ms": at(0.999),
            "max_ms": round(every[-1], 3) if every else 0,
        }


def main() -> int:
    args = mix_arguments(__doc__.splitlines()[0], 50_000)
    app = loaded_app(args)
    heap = {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
    paths = distinct_paths(args.data, args.size, args.seed)
    pauses = Pauses()
    gc.callbacks.append(pauses)
    started = time.perf_counter()
    lines = asyncio.run(answers(app, paths))
    seconds = time.perf_counter() - started
    gc.callbacks.remove(pauses)
    ok = sum(line.startswith("200 ") for line in lines)
    print(json.dumps({"heap_after_load": heap, "requests": len(lines), "ok": ok,
                      "seconds": round(seconds, 2), **pauses.summary()}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
