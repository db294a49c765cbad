"""Benchmark: ingest and start-up times on SQLite and PostgreSQL, from the real CMS files.

For each database: a fresh database; ``ingest`` of the four 2025 releases and the ZIP file;
the same ingest again (nothing changes); loading every published release and building the
engine snapshot (what each worker does at start-up); and the wall time from launching
``cms-pricing serve`` (two workers) on the ingested database until ``/ready`` answers 200.
Budgets from the issue: ingest under 60 s, start-up under 5 s.

Run: ``.venv/bin/python bench/ingest_time.py`` (PostgreSQL at 127.0.0.1:5432 is used when
it answers; ``--sqlite-only`` skips it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from cms_pricing.db.repository import create_db_engine, load_published, migrate
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.reference import years
from cms_pricing.reference.publish import ingest_path
from price_load import BIN, ROOT, free_port, wait_for

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"cms_pricing_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(action: object) -> float:
    start = time.perf_counter()
    assert callable(action)
    action()
    return time.perf_counter() - start


def serve_until_ready(url: str, data: Path) -> float:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "CMS_DATA_DIR": str(data)}
    env |= {"CMS_PRICING_PORT": str(port), "CMS_PRICING_WORKERS": "2"}
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "cms-pricing"), "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", timeout=60)
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(url: str, data: Path) -> dict[str, float]:
    engine = create_db_engine(url)
    migrate(engine)
    quiet = lambda _line: None  # noqa: E731
    result = {
        "ingest_s": timed(lambda: ingest_path(engine, data, progress=quiet)),
        "reingest_s": timed(lambda: ingest_path(engine, data, progress=quiet)),
        "load_and_build_s": timed(
            lambda: Snapshot.build(*load_published(engine), constants=years.load())
        ),
    }
    engine.dispose()
    result["serve_until_ready_s"] = serve_until_ready(url, data)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "cms-data")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.data)
    if not args.sqlite_only:
        with postgres_database() as url:
            results["postgresql"] = measure(url, args.data)
    columns = ("ingest_s", "reingest_s", "load_and_build_s", "serve_until_ready_s")
    print(f"{'database':<12}" + "".join(f"{c:>22}" for c in columns))
    for name, row in results.items():
        print(f"{name:<12}" + "".join(f"{row[c]:>22.2f}" for c in columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
