"""Storage functions: the engine, migrations, and reading and writing published datasets.

Read side (the service): ``load_published`` returns every published release sorted by
``effective_from`` and the newest ZIP dataset, as the plain dataclasses of
``cms_pricing.reference.datasets``. It uses Core selects and builds the row dataclasses
directly from result tuples (no ORM objects), because the service loads ~200k rows at start.

Write side (``cms_pricing.reference.publish``): ``write_release`` / ``write_zip_dataset``
replace a dataset by id inside the caller's transaction, so a correction is atomic: readers
see the old rows or the new ones, never a mix. ``start_run`` / ``finish_run`` keep the
ingestion log in transactions of their own, so a rejected attempt is recorded even though
its data transaction rolled back.

SQLite connections get WAL (readers do not block the writer), foreign keys on, a busy
timeout, and a real ``BEGIN`` from SQLAlchemy so that DDL and writes are transactional.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from hashlib import sha256
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

from cms_pricing.db import models as m
from cms_pricing.db import replacements, runs, schedules
from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    ScheduleData,
    ScheduleMeta,
    SourceFile,
    ZipData,
    ZipMeta,
)
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

RowT = TypeVar("RowT")

TABLES = m.Base.metadata.tables
RELEASES = TABLES["releases"]
RELEASE_FILES = TABLES["release_files"]
ZIP_DATASETS = TABLES["zip_datasets"]
ZIP_FILES = TABLES["zip_files"]
ZIP_ROWS = TABLES["zip5_rows"]
RUNS = TABLES["ingestion_runs"]
GPCI_ROWS = TABLES["gpci_rows"]

# (ReleaseData attribute, row table, row dataclass): one per kind of release rows.
RELEASE_ROW_TABLES: tuple[tuple[str, Table, type[Any]], ...] = (
    ("rvus", TABLES["rvu_rows"], RvuRow),
    ("gpcis", GPCI_ROWS, GpciRow),
    ("localities", TABLES["locality_county_rows"], LocalityCountyRow),
    ("anes", TABLES["anes_rows"], AnesCfRow),
    ("oppscap", TABLES["oppscap_rows"], OppsCapRow),
)


# --- engine and schema -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """The connection pool of a server engine (the standard's: 20 + 30, pre-ping, 1 h)."""

    size: int = 20
    overflow: int = 30
    pre_ping: bool = True
    recycle_s: int = 3600
    connect_timeout_s: int = 3  # a replica that does not answer must not hold a request long


def create_db_engine(url: str, pool: PoolOptions | None = None) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created and pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _server_engine(url, pool or PoolOptions())
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _server_engine(url: str, pool: PoolOptions) -> Engine:
    return create_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_pre_ping=pool.pre_ping,
        pool_recycle=pool.recycle_s,
        connect_args={"connect_timeout": pool.connect_timeout_s},
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code: no ``alembic.ini`` is needed at run time."""
    from alembic.config import Config  # noqa: PLC0415 - only when migrating (see HEAD_REVISION)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


# The newest migration's revision. ``migrate`` reads the database's revision first and leaves
# Alembic alone (not even imported: about 0.15 s of every command's start, ``serve``'s too)
# when it is this one; tests/storage/test_db_migrations.py holds it equal to the scripts' head.
HEAD_REVISION = "0010"


def _revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:  # no table yet: a new database
        return None
    return None if found is None else str(found)


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest migration (a no-op when it is current)."""
    if _revision(engine) == HEAD_REVISION:
        return
    from alembic import command  # noqa: PLC0415 - see HEAD_REVISION

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def is_empty(engine: Engine) -> bool:
    """True when nothing has been published: no release and no ZIP dataset."""
    with engine.connect() as conn:
        has_release = conn.scalar(select(exists().select_from(RELEASES)))
        has_zip = conn.scalar(select(exists().select_from(ZIP_DATASETS)))
    return not (has_release or has_zip)


# --- read side ---------------------------------------------------------------------------


def list_releases(engine: Engine) -> list[ReleaseMeta]:
    """Every published release, oldest effective date first, without rows."""
    with engine.connect() as conn:
        return [meta for _pk, meta in _release_metas(conn)]


def list_zip_datasets(engine: Engine) -> list[ZipMeta]:
    """Every published ZIP dataset, oldest quarter first, without rows."""
    with engine.connect() as conn:
        return [meta for _pk, meta in _zip_metas(conn)]


def load_published(
    engine: Engine, reuse: Sequence[ReleaseData] = (), reuse_zip: ZipData | None = None
) -> tuple[list[ReleaseData], ZipData | None]:
    """Every published release with its rows (by effective date) and the newest ZIP dataset.

    Datasets in ``reuse`` / ``reuse_zip`` whose id and hash are still the published ones are
    returned as they are instead of being read again: a running instance that reloads after
    one release changed reads that release only.
    """
    known = {(r.meta.release_id, r.meta.sha256): r for r in reuse}
    with engine.connect() as conn:
        releases = [
            known.get((meta.release_id, meta.sha256)) or _load_release(conn, pk, meta)
            for pk, meta in _release_metas(conn)
        ]
        zip_metas = _zip_metas(conn)
        if not zip_metas:
            return releases, None
        pk, meta = zip_metas[-1]
        if reuse_zip is not None and (reuse_zip.meta.dataset_id, reuse_zip.meta.sha256) == (
            meta.dataset_id,
            meta.sha256,
        ):
            return releases, reuse_zip
        rows = _load_rows(conn, ZIP_ROWS, Zip5Row, ZIP_ROWS.c.dataset_pk == pk)
        return releases, ZipData(meta=meta, rows=rows)


def each_published(engine: Engine) -> Iterator[ReleaseData | ZipData | ScheduleData]:
    """Every published release with its rows, one at a time, then the newest ZIP dataset,
    then every dataset of the other schedules: read in one transaction, so a compiler sees
    one consistent set and holds one dataset at a time."""
    with engine.connect() as conn, conn.begin():
        for pk, meta in _release_metas(conn):
            yield _load_release(conn, pk, meta)
        zip_metas = _zip_metas(conn)
        if zip_metas:
            pk, zmeta = zip_metas[-1]
            rows = _load_rows(conn, ZIP_ROWS, Zip5Row, ZIP_ROWS.c.dataset_pk == pk)
            yield ZipData(meta=zmeta, rows=rows)
        yield from schedules.each_schedule(conn)


def list_schedule_datasets(engine: Engine) -> list[ScheduleMeta]:
    """Every published dataset of the other schedules, without rows."""
    with engine.connect() as conn:
        return schedules.list_schedules(conn)


def load_schedule_datasets(
    engine: Engine, reuse: Sequence[ScheduleData] = ()
) -> list[ScheduleData]:
    """Every published dataset of the other schedules with its rows (``reuse`` as in
    ``load_published``)."""
    with engine.connect() as conn:
        return schedules.load_schedules(conn, reuse)


def _files(conn: Connection, table: Table, fk: str) -> dict[int, tuple[SourceFile, ...]]:
    files: dict[int, list[SourceFile]] = {}
    columns = (table.c.kind, table.c.name, table.c.sha256, table.c.rows)
    for pk, *values in conn.execute(select(table.c[fk], *columns).order_by(table.c.kind)):
        files.setdefault(pk, []).append(SourceFile(*values))
    return {pk: tuple(found) for pk, found in files.items()}


def _release_metas(conn: Connection) -> list[tuple[int, ReleaseMeta]]:
    files = _files(conn, RELEASE_FILES, "release_pk")
    t = RELEASES
    stmt = select(
        t.c.id, t.c.release_id, t.c.year, t.c.effective_from, t.c.sha256, t.c.published_at
    ).order_by(t.c.effective_from, t.c.release_id)
    return [
        (pk, ReleaseMeta(rid, year, start, sha, files.get(pk, ()), published))
        for pk, rid, year, start, sha, published in conn.execute(stmt)
    ]


def _zip_metas(conn: Connection) -> list[tuple[int, ZipMeta]]:
    files = _files(conn, ZIP_FILES, "dataset_pk")
    t = ZIP_DATASETS
    stmt = select(t.c.id, t.c.dataset_id, t.c.year_quarter, t.c.sha256, t.c.published_at)
    stmt = stmt.order_by(t.c.year_quarter, t.c.published_at)
    return [
        (pk, ZipMeta(did, quarter, sha, files.get(pk, ()), published))
        for pk, did, quarter, sha, published in conn.execute(stmt)
    ]


def _load_release(conn: Connection, pk: int, meta: ReleaseMeta) -> ReleaseData:
    rows = {
        attr: _load_rows(conn, table, row_type, table.c.release_pk == pk)
        for attr, table, row_type in RELEASE_ROW_TABLES
    }
    return ReleaseData(meta=meta, **rows)


def _load_rows(conn: Connection, table: Table, row_type: type[RowT], where: Any) -> list[RowT]:
    columns = [table.c[f.name] for f in fields(row_type)]  # type: ignore[arg-type]
    stmt = select(*columns).where(where).order_by(table.c.seq)
    return [row_type(*values) for values in conn.execute(stmt)]


# --- write side --------------------------------------------------------------------------


def published_sha256(conn: Connection, release_id: str) -> str | None:
    """The content hash of the published release ``release_id``, None if there is none."""
    return conn.scalar(select(RELEASES.c.sha256).where(RELEASES.c.release_id == release_id))


def published_zip_sha256(conn: Connection, dataset_id: str) -> str | None:
    """The content hash of the published ZIP dataset ``dataset_id``, None if there is none."""
    stmt = select(ZIP_DATASETS.c.sha256).where(ZIP_DATASETS.c.dataset_id == dataset_id)
    return conn.scalar(stmt)


def newest_gpci_keys(conn: Connection) -> tuple[str, set[tuple[str, str]]] | None:
    """(release id, {(mac, locality)}) of the published release effective last, if any."""
    newest = conn.execute(
        select(RELEASES.c.id, RELEASES.c.release_id)
        .order_by(RELEASES.c.effective_from.desc(), RELEASES.c.release_id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    gpci = GPCI_ROWS
    stmt = select(gpci.c.mac, gpci.c.locality).where(gpci.c.release_pk == newest.id)
    return newest.release_id, {(mac, locality) for mac, locality in conn.execute(stmt)}


def write_release(conn: Connection, data: ReleaseData, published_at: datetime) -> None:
    """Replace release ``data.meta.release_id`` by ``data`` in the caller's transaction."""
    meta = data.meta
    replacements.record(conn, "release", meta.release_id, meta.sha256, published_at)
    old = select(RELEASES.c.id).where(RELEASES.c.release_id == meta.release_id)
    _delete_dataset(conn, RELEASES, conn.scalar(old), "release_pk", _release_child_tables())
    values = {
        "release_id": meta.release_id,
        "year": meta.year,
        "effective_from": meta.effective_from,
        "sha256": meta.sha256,
        "published_at": published_at,
    }
    pk = _insert_returning_pk(conn, RELEASES, values)
    _insert_files(conn, RELEASE_FILES, "release_pk", pk, meta.files)
    for attr, table, _row_type in RELEASE_ROW_TABLES:
        _insert_rows(conn, table, "release_pk", pk, getattr(data, attr))


def write_zip_dataset(conn: Connection, data: ZipData, published_at: datetime) -> None:
    """Replace ZIP dataset ``data.meta.dataset_id`` by ``data`` in the caller's transaction."""
    meta = data.meta
    replacements.record(conn, "zip", meta.dataset_id, meta.sha256, published_at)
    old = select(ZIP_DATASETS.c.id).where(ZIP_DATASETS.c.dataset_id == meta.dataset_id)
    _delete_dataset(conn, ZIP_DATASETS, conn.scalar(old), "dataset_pk", (ZIP_FILES, ZIP_ROWS))
    values = {
        "dataset_id": meta.dataset_id,
        "year_quarter": meta.year_quarter,
        "sha256": meta.sha256,
        "published_at": published_at,
    }
    pk = _insert_returning_pk(conn, ZIP_DATASETS, values)
    _insert_files(conn, ZIP_FILES, "dataset_pk", pk, meta.files)
    _insert_rows(conn, ZIP_ROWS, "dataset_pk", pk, data.rows)


def _release_child_tables() -> tuple[Table, ...]:
    return (RELEASE_FILES, *(table for _attr, table, _type in RELEASE_ROW_TABLES))


def _delete_dataset(
    conn: Connection, parent: Table, pk: int | None, fk: str, children: Iterable[Table]
) -> None:
    if pk is None:
        return
    for child in children:
        conn.execute(delete(child).where(child.c[fk] == pk))
    conn.execute(delete(parent).where(parent.c.id == pk))


def _insert_returning_pk(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    key = conn.execute(insert(table).values(values)).inserted_primary_key
    if key is None:
        raise RuntimeError(f"{table.name}: the insert returned no primary key")
    return int(key[0])


def _insert_files(
    conn: Connection, table: Table, fk: str, pk: int, files: Sequence[SourceFile]
) -> None:
    if files:
        records = [
            {fk: pk, "kind": f.kind, "name": f.name, "sha256": f.sha256, "rows": f.rows}
            for f in files
        ]
        conn.execute(insert(table), records)


def _insert_rows(conn: Connection, table: Table, fk: str, pk: int, rows: Sequence[Any]) -> None:
    """Bulk insert: one executemany (SQLite) / batched multi-VALUES (PostgreSQL)."""
    if not rows:
        return
    names = [f.name for f in fields(rows[0])]
    values_of = attrgetter(*names)
    keys = (fk, "seq", *names)
    records = [
        dict(zip(keys, (pk, seq, *values_of(row)), strict=True)) for seq, row in enumerate(rows)
    ]
    conn.execute(insert(table), records)


# --- freshness: what running instances compare to know they are current ----------------

INVALIDATIONS = TABLES["cache_invalidations"]


def content_version(engine: Engine) -> str:
    """A digest of every published dataset's id and hash: it changes with every publish."""
    with engine.connect() as conn:
        releases = conn.execute(
            select(RELEASES.c.release_id, RELEASES.c.sha256).order_by(RELEASES.c.release_id)
        ).all()
        zips = conn.execute(
            select(ZIP_DATASETS.c.dataset_id, ZIP_DATASETS.c.sha256).order_by(
                ZIP_DATASETS.c.dataset_id
            )
        ).all()
        others = schedules.version_lines(conn)
    text_form = ";".join(f"{a}={b}" for a, b in [*releases, *zips, *others])
    return sha256(text_form.encode()).hexdigest()[:16]


def record_invalidation(engine: Engine, scope: str, target: str) -> int:
    """Log a manual cache invalidation; returns its id (instances apply ids in order)."""
    values = {"requested_at": _now(), "scope": scope, "target": target}
    with engine.begin() as conn:
        return _insert_returning_pk(conn, INVALIDATIONS, values)


def last_invalidation(engine: Engine) -> int:
    """The id of the newest invalidation, 0 when there is none."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.coalesce(func.max(INVALIDATIONS.c.id), 0))) or 0)


# --- ingestion log -----------------------------------------------------------------------


def start_run(engine: Engine, source: str, dataset_id: str | None) -> int:
    """Record the start of an ingestion attempt; returns the run's id."""
    values = {
        "source": source,
        "dataset_id": dataset_id,
        "started_at": _now(),
        "outcome": "running",
        "message": "",
        **runs.owner(),  # host, pid, heartbeat: how a killed run is told apart (db/runs.py)
    }
    with engine.begin() as conn:
        return _insert_returning_pk(conn, RUNS, values)


def finish_run(engine: Engine, run_id: int, outcome: str, message: str = "") -> None:
    """Record how ingestion attempt ``run_id`` ended."""
    values = {"finished_at": _now(), "outcome": outcome, "message": message}
    with engine.begin() as conn:
        conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(values))


def recent_runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The newest ingestion attempts first, as plain dicts (for the CLI and tests)."""
    stmt = select(RUNS).order_by(RUNS.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def _now() -> datetime:
    return datetime.now(UTC)
