"""The other fee schedules in the compiled file: size, open time and pricing cost against the
object tables, on the real data.

Reads every published dataset of the other schedules (CLFS, DMEPOS, ASP, OPPS, ASC,
anesthesia base units, wage index) and the MPFS releases from the benchmark database (the
real files ingested; a no-op when already there), then:

1. compiles them in memory (``compiled_tables.compile_all``): seconds, bytes, records, bytes
   per record (the schedules alone and the whole file);
2. opens the compiled form (``Snapshot.open``), against building the object tables
   (``ScheduleSet.build``, what a worker in objects mode does after reading the rows);
3. prices ``--requests`` random requests per schedule (DMEPOS at random ZIPs, OPPS and ASC at
   random CBSAs) through ``engine.schedules.price_schedule`` with each form, checks the
   answers are equal (errors included), and times ``--rounds`` alternating rounds: the
   median microseconds per request of each form and their ratio.

    .venv/bin/python bench/compiled_schedules.py --requests 3000 --rounds 5

Prints JSON. In-process, one core: the HTTP path adds about 100 microseconds per request
on top (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date
from typing import Any

from cms_pricing.db.repository import create_db_engine, load_published, load_schedule_datasets
from cms_pricing.engine.compiled import Compiled
from cms_pricing.engine.compiled_tables import compile_all
from cms_pricing.engine.quote import ScheduleRequest
from cms_pricing.engine.schedules import ScheduleSet, price_schedule
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import PricingError
from cms_pricing.reference import years
from price_load import add_data_arguments, ingested_env

SCHEDULES = ("clfs", "asp", "opps", "asc", "dmepos", "anesthesia")
KEYED = {"dmepos": "modifiers", "clfs": "codes", "opps": "rows", "asc": "rows"}


def requests_for(objects: Snapshot, zip5s: list[str], count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    views = objects.schedules.views
    cbsas = sorted(views["wage_index"][-1].table)
    out = []
    for name in SCHEDULES:
        table = views[name][-1].table
        codes = sorted(getattr(table, KEYED[name]) if name in KEYED else table)
        for _ in range(count):
            code = rng.choice(codes)
            if name == "dmepos":
                mods = rng.choice(table.modifiers[code])
                out.append(ScheduleRequest(name, code, mods, zip=rng.choice(zip5s)))
            elif name in ("opps", "asc"):
                out.append(ScheduleRequest(name, code, cbsa=rng.choice(cbsas)))
            elif name == "anesthesia":
                out.append(ScheduleRequest(name, code, zip=rng.choice(zip5s), minutes=47))
            else:
                out.append(ScheduleRequest(name, code))
    return out


def answer(snapshot: Snapshot, request: ScheduleRequest) -> Any:
    try:
        return price_schedule(snapshot, request)
    except PricingError as exc:
        return (type(exc).__name__, str(exc))


def timed(snapshot: Snapshot, requests: list[Any]) -> float:
    started = time.perf_counter()
    for request in requests:
        answer(snapshot, request)
    return (time.perf_counter() - started) / len(requests) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per schedule")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    add_data_arguments(parser, out=False)
    args = parser.parse_args()
    ingested_env(args)
    engine = create_db_engine(args.database_url)
    datasets = load_schedule_datasets(engine)
    releases, zips = load_published(engine)
    engine.dispose()
    assert zips is not None, "the benchmark database has no ZIP file"
    rows = sum(len(r) for d in datasets for r in d.rows.values())

    started = time.perf_counter()
    schedules_only = compile_all([], None, datasets)
    compile_s = time.perf_counter() - started
    whole = compile_all(releases, zips, datasets)
    whole_records = Compiled.from_bytes(whole).records

    started = time.perf_counter()
    compiled = Snapshot.open(Compiled.from_bytes(whole), constants=years.load())
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    ScheduleSet.build(datasets)
    build_s = time.perf_counter() - started
    objects = Snapshot.from_rows(releases, zips, datasets, constants=years.load())

    requests = requests_for(objects, [z.zip5 for z in zips.rows], args.requests, args.seed)
    equal = all(answer(objects, r) == answer(compiled, r) for r in requests)
    per_schedule: dict[str, Any] = {}
    for name in (*SCHEDULES, "all"):
        chosen = [r for r in requests if name in ("all", r.schedule)]
        rounds: dict[str, list[float]] = {"objects": [], "compiled": []}
        for _ in range(args.rounds):
            rounds["objects"].append(timed(objects, chosen))
            rounds["compiled"].append(timed(compiled, chosen))
        medians = {k: round(statistics.median(v), 2) for k, v in rounds.items()}
        per_schedule[name] = {
            "us_per_request": medians,
            "compiled_over_objects": round(medians["compiled"] / medians["objects"], 2),
        }
    result = {
        "date": date.today().isoformat(),
        "schedule_rows": rows,
        "schedules_file_bytes": len(schedules_only),
        "schedules_bytes_per_row": round(len(schedules_only) / rows, 1),
        "schedules_compile_s": round(compile_s, 2),
        "whole_file_bytes": len(whole),
        "whole_file_records": whole_records,
        "whole_bytes_per_record": round(len(whole) / whole_records, 1),
        "open_whole_file_s": round(open_s, 3),
        "build_object_tables_s": round(build_s, 3),
        "answers_equal": equal,
        "requests": len(requests),
        "pricing": per_schedule,
    }
    print(json.dumps(result, indent=2))
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
