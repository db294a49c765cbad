"""Storage of the other fee schedules' datasets: one generic pair of tables for all of them.

A schedule dataset (``reference.datasets.ScheduleData``) is written as one
``schedule_datasets`` row and one ``schedule_files`` row per source file, whose ``content``
is the file's parsed rows as JSON: an array of field values per row, in the dataclass's
field order and file order. Decimals are written as exact strings and read back with the
same places, dates as ISO text; so rows read back compare equal to a fresh parse (a test
pins it). The row type of each file kind comes from the declaration of the schedules
(``reference.schedules.ROW_TYPES``), so a new schedule needs no migration.

``write_schedule`` replaces a dataset by id inside the caller's transaction, as
``repository.write_release`` does for MPFS releases.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from cms_pricing.db import models as m
from cms_pricing.db import replacements
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta, SourceFile
from cms_pricing.reference.schedules import ROW_TYPES

TABLES = m.Base.metadata.tables
DATASETS = TABLES["schedule_datasets"]
FILES = TABLES["schedule_files"]


# -- rows as JSON --------------------------------------------------------------------------


def encode_rows(rows: Sequence[Any]) -> str:
    """Rows as JSON lines: one array of field values per line (dates ISO, decimals exact
    strings). Read back a line at a time, so loading never holds a whole file's worth of
    temporary objects (which would leave the worker's heap fragmented)."""
    if not rows:
        return ""
    values_of = attrgetter(*(f.name for f in fields(rows[0])))
    dumps = orjson.dumps
    return b"\n".join(
        dumps([str(v) if v.__class__ is Decimal else v for v in values_of(row)]) for row in rows
    ).decode()


def _reader(hint: Any) -> Callable[[Any], Any]:
    """How to turn a stored JSON value back into a field of type ``hint``."""
    args = set(typing.get_args(hint))
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    convert: Callable[[Any], Any]
    if base is Decimal:
        convert = Decimal
    elif base is dt.date:
        convert = dt.date.fromisoformat
    else:
        return lambda value: value  # str, int, bool: JSON keeps them
    if optional:
        return lambda value: None if value is None else convert(value)
    return convert


@cache
def _readers(row_type: Any) -> tuple[Callable[[Any], Any], ...]:
    hints = typing.get_type_hints(row_type)
    return tuple(_reader(hints[f.name]) for f in fields(row_type))


def decode_rows(kind: str, content: str) -> list[Any]:
    """The rows of a stored file of ``kind``, equal to the parsed rows written.

    Equal values of a column are one shared object (a fee, a state, a code repeats across
    hundreds of thousands of DMEPOS rows; ``Decimal`` and ``str`` are immutable): the rows
    take a fraction of the memory of one object per cell."""
    row_type = ROW_TYPES[kind]
    readers = _readers(row_type)  # type: ignore[arg-type]  # a dataclass type is hashable
    memos: list[dict[Any, Any]] = [{} for _ in readers]
    out = []
    for line in content.split("\n") if content else ():
        values = orjson.loads(line)
        cells = []
        for read, memo, value in zip(readers, memos, values, strict=True):
            found = memo.get(value, _MISSING)
            if found is _MISSING:
                found = memo[value] = read(value)
            cells.append(found)
        out.append(row_type(*cells))
    return out


_MISSING = object()


# -- read and write ------------------------------------------------------------------------


def published_sha256(conn: Connection, dataset_id: str) -> str | None:
    """The content hash of the published schedule dataset ``dataset_id``, if any."""
    return conn.scalar(select(DATASETS.c.sha256).where(DATASETS.c.dataset_id == dataset_id))


def _metas(conn: Connection) -> list[tuple[int, ScheduleMeta]]:
    files: dict[int, list[SourceFile]] = {}
    columns = (FILES.c.dataset_pk, FILES.c.kind, FILES.c.name, FILES.c.sha256, FILES.c.rows)
    for pk, *values in conn.execute(select(*columns).order_by(FILES.c.kind)):
        files.setdefault(pk, []).append(SourceFile(*values))
    t = DATASETS
    stmt = select(
        t.c.id, t.c.schedule, t.c.dataset_id, t.c.effective_from, t.c.effective_to,
        t.c.sha256, t.c.published_at,
    ).order_by(t.c.schedule, t.c.effective_from, t.c.dataset_id)  # fmt: skip
    return [
        (pk, ScheduleMeta(schedule, did, start, end, sha, tuple(files.get(pk, ())), published))
        for pk, schedule, did, start, end, sha, published in conn.execute(stmt)
    ]


def list_schedules(conn: Connection) -> list[ScheduleMeta]:
    """Every published schedule dataset without rows, by schedule and effective date."""
    return [meta for _pk, meta in _metas(conn)]


def load_schedules(conn: Connection, reuse: Sequence[ScheduleData] = ()) -> list[ScheduleData]:
    """Every published schedule dataset with its rows; ``reuse`` ones still current are
    returned as they are instead of being read again."""
    known = {(d.meta.dataset_id, d.meta.sha256): d for d in reuse}
    out = []
    for pk, meta in _metas(conn):
        same = known.get((meta.dataset_id, meta.sha256))
        out.append(same if same is not None else _load(conn, pk, meta))
    return out


def each_schedule(conn: Connection) -> Iterator[ScheduleData]:
    """Every published schedule dataset with its rows, one at a time (the compiler's read)."""
    for pk, meta in _metas(conn):
        yield _load(conn, pk, meta)


def _load(conn: Connection, pk: int, meta: ScheduleMeta) -> ScheduleData:
    stmt = select(FILES.c.kind, FILES.c.content).where(FILES.c.dataset_pk == pk)
    rows = {kind: tuple(decode_rows(kind, content)) for kind, content in conn.execute(stmt)}
    return ScheduleData(meta, rows)


def write_schedule(conn: Connection, data: ScheduleData, published_at: dt.datetime) -> None:
    """Replace schedule dataset ``data.meta.dataset_id`` by ``data`` in the caller's
    transaction."""
    meta = data.meta
    replacements.record(conn, "schedule", meta.dataset_id, meta.sha256, published_at)
    old = conn.scalar(select(DATASETS.c.id).where(DATASETS.c.dataset_id == meta.dataset_id))
    if old is not None:
        conn.execute(delete(FILES).where(FILES.c.dataset_pk == old))
        conn.execute(delete(DATASETS).where(DATASETS.c.id == old))
    values = {
        "schedule": meta.schedule,
        "dataset_id": meta.dataset_id,
        "effective_from": meta.effective_from,
        "effective_to": meta.effective_to,
        "sha256": meta.sha256,
        "published_at": published_at,
    }
    key = conn.execute(insert(DATASETS).values(values)).inserted_primary_key
    if key is None:
        raise RuntimeError("schedule_datasets: the insert returned no primary key")
    pk = int(key[0])
    records = [
        {
            "dataset_pk": pk,
            "kind": f.kind,
            "name": f.name,
            "sha256": f.sha256,
            "rows": f.rows,
            "content": encode_rows(data.rows.get(f.kind, ())),
        }
        for f in meta.files
    ]
    if records:
        conn.execute(insert(FILES), records)


def version_lines(conn: Connection) -> list[tuple[str, str]]:
    """(dataset id, sha256) of every published schedule dataset, for the content version."""
    stmt = select(DATASETS.c.dataset_id, DATASETS.c.sha256).order_by(DATASETS.c.dataset_id)
    return [(did, sha) for did, sha in conn.execute(stmt)]
