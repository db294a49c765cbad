"""Volume benchmark (issue 14): the compiled snapshot at 1M, 10M and 100M pricing records.

Contract (docs/performance.md quotes its output):

1. ingest the real CMS files into ``<work>/real.db`` (a no-op when already there) and read
   the four 2025 MPFS releases and the ZIP file back;
   and the other schedules' datasets (CLFS, DMEPOS, ASP, OPPS, ASC, anesthesia, wage index:
   about 337,000 rows), which every size carries as they are;
2. scale the MPFS to the size: ``years`` x ``copies``. Every synthetic year (2026, 2027, ...)
   repeats the four releases with their dates moved (``RVU26A`` ... effective 2026-01-01 ...);
   every copy after the first renames each code to a synthetic one (``W0001``: first letters
   W-Z, which no HCPCS code uses) in its PPRRVU and OPPSCAP rows, so a release holds
   ``copies`` x its real rows with the real shape (the same RVUs, indicators, OPPS caps,
   localities and ZIPs);
3. 1M and 10M: write every synthetic release into a new SQLite database through the
   repository, one transaction per release (``ingest_s``), then compile it exactly as a
   worker does (``service/snapfile.py``: ``compile_s``). 100M: write only the releases'
   metadata to the database and the compiled file directly with the same ``Writer`` from
   the generated rows (``generate_and_compile_s``). At 1M the direct file is also written
   and compared byte for byte with the compiler's (``direct_identical``);
4. serve it (``cms-pricing serve``, 2 workers, response cache off) and time launch to
   ``/ready`` with the compiled file already there; read PSS per process
   (``/proc/<pid>/smaps_rollup``) after start and after the load, and the page cache's share
   (the mapped file's ``Rss`` and ``Pss`` in each worker);
5. load it with wrk (1 thread, 64 connections) on a distinct-query mix spread over the whole
   data set (every year, every copy, every ZIP, both settings, dates across each year),
   against the raw-ASGI ceiling (``bench/raw_asgi.py``) measured in the same run
   (``--serve-only`` repeats steps 4-5 on what an earlier run left in ``--work``, so every
   size can be served under the same conditions);
6. print a summary and write JSON to ``bench/results/volume-<size>-<time>.json``.

Run: ``.venv/bin/python bench/volume.py --size 1M`` (CI runs this size with short load
runs); ``--size 10M`` and ``--size 100M`` take minutes and tens of minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cms_pricing.db.repository import (
    create_db_engine,
    list_releases,
    list_schedule_datasets,
    list_zip_datasets,
    load_published,
    load_schedule_datasets,
    migrate,
    write_release,
    write_zip_dataset,
)
from cms_pricing.db.schedules import write_schedule
from cms_pricing.engine.compiled import Compiled, Writer
from cms_pricing.engine.compiled_tables import add_schedule
from cms_pricing.reference.datasets import ReleaseData, ReleaseMeta, ScheduleData, ZipData
from cms_pricing.service import snapfile
from distinct_mix import write_paths_script
from gate_run import tree
from price_load import BIN, ROOT, add_data_arguments, free_port, wait_for, write_script, wrk

SIZES = {"1M": (1, 7), "10M": (10, 7), "100M": (20, 36)}  # size -> (years, copies)
LETTERS = "WXYZ"
PAYABLE = {"A", "R", "T"}


def synthetic_code(copy: int, index: int, count: int) -> str:
    """The code of real code number ``index`` (of ``count``) in copy ``copy`` (>= 1)."""
    number = (copy - 1) * count + index
    head, rest = divmod(number, 36**4)
    digits = ""
    for _ in range(4):
        rest, d = divmod(rest, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[d] + digits
    return LETTERS[head] + digits


class Scaler:
    """Synthetic releases built from the real ones (see the module docstring, step 2)."""

    def __init__(
        self, real: list[ReleaseData], years: int, copies: int, others: list[ScheduleData]
    ) -> None:
        self.real = real
        self.others = others  # the other schedules' datasets, as they are
        self.years = years
        self.copies = copies
        self.codes = sorted({row.hcpcs for data in real for row in data.rvus})
        self.index = {code: i for i, code in enumerate(self.codes)}

    def rename(self, code: str, copy: int) -> str:
        found = self.index.get(code)
        return code if copy == 0 or found is None else synthetic_code(copy, found, len(self.codes))

    def meta(self, data: ReleaseData, year: int) -> ReleaseMeta:
        base = data.meta
        rid = f"RVU{year % 100:02d}{base.release_id[5:]}"
        digest = hashlib.sha256(f"{base.sha256}:{year}:{self.copies}".encode()).hexdigest()
        start = base.effective_from.replace(year=year)
        return ReleaseMeta(rid, year, start, digest, base.files)

    def metas(self) -> Iterator[ReleaseMeta]:
        for offset in range(self.years):
            for data in self.real:
                yield self.meta(data, 2025 + offset)

    def releases(self) -> Iterator[ReleaseData]:
        for offset in range(self.years):
            for data in self.real:
                yield self.release(data, 2025 + offset)

    def release(self, data: ReleaseData, year: int) -> ReleaseData:
        rvus = list(data.rvus)
        caps = list(data.oppscap)
        for copy in range(1, self.copies):
            for row in data.rvus:
                endo = self.rename(row.endo_base, copy) if row.endo_base else ""
                rvus.append(replace(row, hcpcs=self.rename(row.hcpcs, copy), endo_base=endo))
            caps.extend(replace(c, hcpcs=self.rename(c.hcpcs, copy)) for c in data.oppscap)
        return replace(data, meta=self.meta(data, year), rvus=rvus, oppscap=caps)

    def records(self, zips: ZipData) -> int:
        per_year = sum(len(d.rvus) + len(d.oppscap) for d in self.real)
        others = sum(len(rows) for d in self.others for rows in d.rows.values())
        return self.years * self.copies * per_year + len(zips.rows) + others


def real_data(args: argparse.Namespace) -> tuple[list[ReleaseData], ZipData, list[ScheduleData]]:
    url = f"sqlite:///{args.work / 'real.db'}"
    env = {**os.environ, "DATABASE_URL": url, "CMS_PRICING_RATE_LIMITS": "false"}
    command = [str(BIN / "cms-pricing"), "ingest", str(args.data)]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    engine = create_db_engine(url)
    releases, zips = load_published(engine)
    assert zips is not None, "the real data has no ZIP file"
    return [r for r in releases if r.meta.year == 2025], zips, load_schedule_datasets(engine)


def ingest(engine: Engine, scaler: Scaler, zips: ZipData, rows: bool) -> float:
    """Write every synthetic release (only their metadata unless ``rows``) and the ZIPs."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        write_zip_dataset(conn, zips, now)
        for dataset in scaler.others:
            write_schedule(conn, dataset, now)
    source = scaler.releases() if rows else (ReleaseData(m) for m in scaler.metas())
    for data in source:
        with engine.begin() as conn:
            write_release(conn, data, now)
    return time.perf_counter() - started


def compile_from_database(engine: Engine, folder: Path) -> tuple[Compiled, float]:
    started = time.perf_counter()
    releases, zip_metas = list_releases(engine), list_zip_datasets(engine)
    listed = snapfile.Listed(releases, zip_metas[-1], list_schedule_datasets(engine))
    compiled = snapfile.open_current(
        folder,
        listed,
        lambda writer: snapfile.write_published(engine, writer),
    )
    return compiled, time.perf_counter() - started


def compile_direct(engine: Engine, scaler: Scaler, zips: ZipData, target: Path) -> float:
    """Write the compiled file from generated rows, named and dated as the database lists."""
    started = time.perf_counter()
    listed = {m.release_id: m for m in list_releases(engine)}
    zip_meta = list_zip_datasets(engine)[-1]
    target.mkdir(parents=True, exist_ok=True)
    temporary = target / ".direct.snap"
    with open(temporary, "wb") as out:
        writer = Writer(out)
        # One release in memory at a time, in the database's order (as the compiler reads).
        sources = {
            scaler.meta(data, 2025 + offset).release_id: (data, 2025 + offset)
            for offset in range(scaler.years)
            for data in scaler.real
        }
        for meta in sorted(listed.values(), key=lambda m: (m.effective_from, m.release_id)):
            data = scaler.release(*sources[meta.release_id])
            writer.add_release(replace(data, meta=meta))
            del data
        writer.add_zips(replace(zips, meta=zip_meta))
        for dataset in load_schedule_datasets(engine):  # as the database lists them
            add_schedule(writer, dataset)
        writer.finish()
    schedules = list_schedule_datasets(engine)
    final = target / snapfile.file_name(snapfile.Listed(list(listed.values()), zip_meta, schedules))
    os.replace(temporary, final)
    return time.perf_counter() - started


def pss_kb(pid: int) -> dict[str, int]:
    """PSS and RSS of one process, and of its mappings of compiled files."""
    out = {"pss_kb": 0, "rss_kb": 0, "snap_rss_kb": 0, "snap_pss_kb": 0}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Pss", "Rss"):
            out[f"{name.lower()}_kb"] = int(value.split()[0])
    mapped = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if "-" in line.split(" ")[0] and len(line.split()) >= 5:
            mapped = line.rstrip().endswith(snapfile.SUFFIX)
        elif mapped and line.startswith(("Rss:", "Pss:")):
            key = "snap_rss_kb" if line.startswith("Rss") else "snap_pss_kb"
            out[key] += int(line.split()[1])
    return out


def memory(pid: int) -> dict[str, Any]:
    workers = {str(child): pss_kb(child) for child in tree(pid)[1:]}
    main = pss_kb(pid)
    total = main["pss_kb"] + sum(w["pss_kb"] for w in workers.values())
    return {"main": main, "workers": workers, "instance_pss_kb": total}


def distinct_mix(scaler: Scaler, zips: ZipData, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    data = scaler.real[-1]
    listed = {(g.mac, g.locality) for g in data.gpcis}
    usable = [z.zip5 for z in zips.rows if (z.carrier, z.locality) in listed]
    payable = sorted(
        {r.hcpcs for r in data.rvus if r.status in PAYABLE and r.modifier == "" and r.work_rvu}
    )
    seen: set[str] = set()
    while len(seen) < count:
        year = 2025 + rng.randrange(scaler.years)
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        code = scaler.rename(rng.choice(payable), rng.randrange(scaler.copies))
        setting = rng.choice(("office", "facility"))
        seen.add(
            f"/codes/price?code={code}&zip={rng.choice(usable)}&setting={setting}"
            f"&date={day.isoformat()}"
        )
    return sorted(seen, key=lambda _: rng.random())


def serve(args: argparse.Namespace, url: str, folder: Path, paths: list[str]) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CMS_PRICING_SNAPSHOT_DIR": str(folder),
        "CMS_PRICING_SNAPSHOT_MODE": "compiled",
        "CMS_PRICING_PORT": str(port),
        "CMS_PRICING_WORKERS": str(args.workers),
        "CMS_PRICING_RESPONSE_CACHE_SIZE": "0",
        "CMS_PRICING_RATE_LIMITS": "false",
        "CMS_DATA_DIR": "",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "cms-pricing"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=600)
        result: dict[str, Any] = {"startup_s": round(time.perf_counter() - started, 3)}
        time.sleep(1)
        result["memory_started"] = memory(proc.pid)
        with tempfile.TemporaryDirectory() as tmp:
            script = write_paths_script(Path(tmp), "mix", paths)
            base = f"http://127.0.0.1:{port}"
            wrk(base, script, args, duration=args.warmup)
            # The measured run starts half-way through the mix: no query of the warm-up again.
            half = [str(len(paths) // 2)]
            result["distinct"] = wrk(base, script, args, args.duration, script_args=half)
        result["memory_loaded"] = memory(proc.pid)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def ceiling(args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    command = [
        str(BIN / "granian"), "--interface", "asgi", "--workers", str(args.workers),
        "--port", str(port), "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
        "--working-dir", str(ROOT / "bench"), "raw_asgi:app",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/", timeout=60)
        with tempfile.TemporaryDirectory() as tmp:
            script = write_script(Path(tmp), "raw.lua", ["/"])
            wrk(f"http://127.0.0.1:{port}", script, args, duration=args.warmup)
            return wrk(f"http://127.0.0.1:{port}", script, args, duration=args.duration)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def build(work: Path, size: str, scaler: Scaler, zips: ZipData, result: dict[str, Any]) -> None:
    """Steps 3 of the module docstring: a new database and its compiled file in ``work``."""
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    engine = create_db_engine(f"sqlite:///{work / 'cms.db'}")
    migrate(engine)
    folder = work / "snapshots"
    if size == "100M":
        result["ingest_metadata_s"] = round(ingest(engine, scaler, zips, rows=False), 2)
        result["generate_and_compile_s"] = round(compile_direct(engine, scaler, zips, folder), 2)
        return
    result["ingest_s"] = round(ingest(engine, scaler, zips, rows=True), 2)
    result["database_bytes"] = (work / "cms.db").stat().st_size
    compiled, seconds = compile_from_database(engine, folder)
    result["compile_s"] = round(seconds, 2)
    if size == "1M":
        direct = work / "direct"
        compile_direct(engine, scaler, zips, direct)
        name = snapfile.file_name(snapfile.Listed.held(compiled))
        result["direct_identical"] = (direct / name).read_bytes() == (folder / name).read_bytes()


def run_size(args: argparse.Namespace, size: str) -> dict[str, Any]:
    years, copies = SIZES[size]
    real, zips, others = real_data(args)
    scaler = Scaler(real, years, copies, others)
    work = args.work / size
    url = f"sqlite:///{work / 'cms.db'}"
    folder = work / "snapshots"
    result: dict[str, Any] = {"size": size, "years": years, "copies": copies}
    result["workers"] = args.workers
    result["records"] = scaler.records(zips)
    if not args.serve_only:
        build(work, size, scaler, zips, result)
    (snap,) = folder.glob(f"{snapfile.PREFIX}*{snapfile.SUFFIX}")
    result["file_bytes"] = snap.stat().st_size
    result["bytes_per_record"] = round(result["file_bytes"] / result["records"], 1)
    paths = distinct_mix(scaler, zips, args.mix, args.seed)
    result["ceiling"] = ceiling(args)
    result.update(serve(args, url, folder, paths))
    result["share_of_ceiling"] = round(
        result["distinct"]["requests_per_s"] / result["ceiling"]["requests_per_s"], 3
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES), required=True)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "volume")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mix", type=int, default=200_000, help="distinct requests")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="reuse the database and compiled file a previous run left in --work",
    )
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = [run_size(args, size) for size in args.size]
    for result in results:
        print(json.dumps(result, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for result in results:
        path = args.out / f"volume-{result['size']}-{stamp}.json"
        path.write_text(json.dumps({"date": date.today().isoformat(), **result}, indent=2))
    failures = [r["size"] for r in results if r.get("direct_identical") is False]
    failures += [r["size"] for r in results if r["distinct"]["non2xx"]]
    if failures:
        print(f"FAILED: {failures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
