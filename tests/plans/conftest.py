"""Plan fixtures: the real RVU25D release and ZIP file in memory, and an API per database.

``real_snapshot`` parses ``2025/rvu25d`` and the 2025Q4 ZIP5 file once per session: every
hand-worked expectation in ``tests/plans`` is derived from those files' RVUs and GPCIs.

``plan_client`` is the whole app over a database holding RVU25D, the ZIP file and one
dataset of each other fee schedule (CLFS, DMEPOS, ASP 2025Q1, anesthesia base units), on SQLite
and on PostgreSQL (127.0.0.1:5432, user postgres). The PostgreSQL case carries the
``postgres`` marker and FAILS when the server is unreachable, as tests/storage does.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ReleaseData, ReleaseMeta, SourceFile, ZipData, ZipMeta
from cms_pricing.reference.parsers import detect_kind, parse_file
from cms_pricing.reference.publish import ingest_path
from servers import new_key

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# RVU25D and the ZIP file (every MPFS expectation), and one dataset of each other schedule
# (plan lines of other schedules, tests/plans/test_schedule_lines.py).
SOURCES = (
    "2025/rvu25d",
    "2025/zip-locality-2025q4",
    "2025/clfs-2025q1",
    "2025/dmepos-2025q1",
    "2025/asp-2025q1",
    "2022/anes-base-units-cy2022",
)


def _parse_folder(folder: Path) -> dict[str, tuple[list[Any], SourceFile]]:
    parsed: dict[str, tuple[list[Any], SourceFile]] = {}
    for path in sorted(folder.glob("*.txt")):
        kind = detect_kind(path.name)
        if kind is None:
            continue
        data = path.read_bytes()
        rows = list(parse_file(kind, path.name, data))
        sha = hashlib.sha256(data).hexdigest()
        parsed[kind] = (rows, SourceFile(kind, path.name, sha, len(rows)))
    return parsed


@pytest.fixture(scope="session")
def real_snapshot(cms_data: Path) -> Snapshot:
    """RVU25D (in force from 2025-10-01) and the 2025Q4 ZIP5 file, parsed from the real files."""
    parsed = _parse_folder(cms_data / "2025" / "rvu25d")
    files = tuple(sorted((f for _, f in parsed.values()), key=lambda f: f.kind))
    meta = ReleaseMeta("RVU25D", 2025, date(2025, 10, 1), "d" * 64, files)
    release = ReleaseData(
        meta,
        parsed["pprrvu"][0],
        parsed["gpci"][0],
        parsed["locco"][0],
        parsed["anes"][0],
        parsed["oppscap"][0],
    )
    zips = _parse_folder(cms_data / "2025" / "zip-locality-2025q4")["zip5"]
    zip_data = ZipData(ZipMeta("ZIP5-20254", "20254", "z" * 64, (zips[1],)), zips[0])
    return Snapshot.build([release], zip_data, constants=years.load())


def _create_pg_database() -> tuple[str, str]:
    name = f"cms_pricing_plans_{secrets.token_hex(6)}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER}: {exc}")
    finally:
        admin.dispose()
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def plan_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, cms_data: Path
) -> Iterator[str]:
    """A database holding RVU25D and the ZIP file, on SQLite or PostgreSQL."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
    else:
        name, url = _create_pg_database()
    engine = create_db_engine(url)
    try:
        migrate(engine)
        for folder in SOURCES:
            ingest_path(engine, cms_data / folder, progress=lambda _line: None)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        if name is not None:
            _drop_pg_database(name)


@pytest.fixture(scope="session")
def plan_client(plan_db_url: str) -> Iterator[TestClient]:
    """The whole app over ``plan_db_url``, started through its lifespan."""
    settings = Settings(DATABASE_URL=plan_db_url, CMS_DATA_DIR=None)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        every = ("read", "bulk", "plans:write")
        client.headers["Authorization"] = f"Bearer {new_key(plan_db_url, *every)}"
        yield client


@pytest.fixture(scope="session")
def owner(plan_client: TestClient) -> str:
    """The id of ``plan_client``'s key: the owner of the plans it saves."""
    return plan_client.headers["Authorization"].split("_")[1]
