"""Plan pricing in the pure engine: distinct plans priced by ``engine.plans.price_plan``.

    .venv/bin/python bench/plan_engine.py [--plans 400] [--rounds 3] [--data ../shared/cms-data]

Parses RVU25D and the 2025Q4 ZIP5 file from the real files (not timed), draws ``--plans``
distinct plans (fixed seed) of 5-60 MPFS lines from a pool of real codes that exercise every
rule between lines (multiple procedure indicators 1-7, endoscopy families, imaging families,
therapy units, bilateral codes with 50, RT/LT pairs and 2 units, status T injections with
visits, E/M visits beside 000/010/090 procedures, assistants, co-surgeons, global splits,
zero-RVU status R, carrier-priced codes), at 40 localities, office and facility, and prices
each plan once per round. No cache: every plan is priced from the snapshot. Prints plans/s
and microseconds per line (process CPU time, so time a shared host steals is not counted)
for each round and their median.

To compare two versions of the engine in one run, point PYTHONPATH at the other tree's
``src`` and alternate (docs/performance.md, "Plan pricing in the engine"). The plans carry no
per-line date, so an older engine without one prices the same plans.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from cms_pricing.engine.plans import Plan, PlanLine, price_plan
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ReleaseData, ReleaseMeta, SourceFile, ZipData, ZipMeta
from cms_pricing.reference.parsers import detect_kind, parse_file

ROOT = Path(__file__).resolve().parent.parent
POOL: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("27447", (), 1), ("27447", ("50",), 1), ("27447", ("80",), 1), ("27447", ("62",), 1),
    ("27447", ("54",), 1), ("63047", (), 1), ("29881", ("51",), 1), ("49505", (), 1),
    ("64721", ("RT",), 1), ("64721", ("LT",), 1), ("69210", ("RT",), 1), ("69210", ("LT",), 1),
    ("11042", (), 2), ("43235", (), 1), ("43239", (), 1), ("43251", (), 1), ("45378", (), 1),
    ("45380", (), 1), ("45385", (), 1), ("70450", (), 1), ("70551", (), 1), ("70496", (), 1),
    ("70498", (), 1), ("74177", (), 1), ("70450", ("TC",), 1), ("70551", ("26",), 1),
    ("97110", (), 3), ("97140", (), 2), ("97530", (), 1), ("93306", (), 1), ("93880", (), 1),
    ("92133", (), 1), ("92134", (), 1), ("96523", (), 1), ("96372", (), 1), ("99213", (), 1),
    ("99213", ("25",), 1), ("99214", (), 1), ("99223", ("57",), 1), ("20610", (), 1),
    ("10060", (), 1), ("0275T", (), 1), ("0446T", (), 1), ("73721", ("50",), 1),
    ("11300", (), 1), ("22818", ("62",), 1), ("90471", (), 1), ("85060", (), 1),
)  # fmt: skip


def _parse(folder: Path) -> dict[str, tuple[list[Any], SourceFile]]:
    parsed: dict[str, tuple[list[Any], SourceFile]] = {}
    for path in sorted(folder.glob("*.txt")):
        kind = detect_kind(path.name)
        if kind is None:
            continue
        data = path.read_bytes()
        rows = list(parse_file(kind, path.name, data))
        parsed[kind] = (
            rows,
            SourceFile(kind, path.name, hashlib.sha256(data).hexdigest(), len(rows)),
        )
    return parsed


def snapshot(data: Path) -> Snapshot:
    parsed = _parse(data / "2025" / "rvu25d")
    files = tuple(sorted((f for _, f in parsed.values()), key=lambda f: f.kind))
    meta = ReleaseMeta("RVU25D", 2025, date(2025, 10, 1), "d" * 64, files)
    release = ReleaseData(
        meta, parsed["pprrvu"][0], parsed["gpci"][0], parsed["locco"][0], parsed["anes"][0],
        parsed["oppscap"][0],
    )  # fmt: skip
    zips = _parse(data / "2025" / "zip-locality-2025q4")["zip5"]
    zip_data = ZipData(ZipMeta("ZIP5-20254", "20254", "z" * 64, (zips[1],)), zips[0])
    return Snapshot.build([release], zip_data, constants=years.load())


def plans(snap: Snapshot, count: int, seed: int = 13) -> list[Plan]:
    rng = random.Random(seed)
    view = snap.select_release("RVU25D", None, None)
    localities = sorted(f"{carrier}{locality}" for carrier, locality in view.localities)
    places = rng.sample(localities, 40)
    out = []
    for _ in range(count):
        size = rng.randint(5, 60)
        lines = tuple(
            PlanLine(code, mods, units, provider=rng.choice(("", "", "b")))
            for code, mods, units in (rng.choice(POOL) for _ in range(size))
        )
        setting = rng.choice(("office", "facility"))
        out.append(Plan(lines, locality=rng.choice(places), release_id="RVU25D", setting=setting))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "cms-data")
    args = parser.parse_args(argv)
    snap = snapshot(args.data)
    batch = plans(snap, args.plans)
    lines = sum(len(p.lines) for p in batch)
    for plan in batch[:20]:  # warm-up
        price_plan(snap, plan)
    rates = []
    for round_ in range(args.rounds):
        start = time.process_time()  # CPU time: what a shared host steals is not counted
        for plan in batch:
            price_plan(snap, plan)
        seconds = time.process_time() - start
        rates.append(len(batch) / seconds)
        print(f"round {round_ + 1}: {len(batch) / seconds:.1f} plans/s, "
              f"{seconds / lines * 1e6:.1f} us/line ({lines} lines)")  # fmt: skip
    median = statistics.median(rates)
    print(f"median: {median:.1f} plans/s, {1e6 / median / (lines / len(batch)):.1f} us/line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
