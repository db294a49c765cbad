"""The record of corrections: which published version of a dataset a new one replaced, when.

``record`` runs in the transaction that replaces a dataset (``repository.write_release``,
``write_zip_dataset``, ``schedules.write_schedule``), before the old rows go: when a dataset
of that id is published with other content, its hash and publication time are written with
the new hash and the replacement time, so the history commits or rolls back with the data.
``by_dataset`` reads the whole record for the service (``GET /releases``), oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, Engine, Table, insert, select

from cms_pricing.db import models as m
from cms_pricing.reference.datasets import Replacement

TABLES = m.Base.metadata.tables
REPLACEMENTS = TABLES["dataset_replacements"]
_TABLES: dict[str, tuple[Table, str]] = {
    "release": (TABLES["releases"], "release_id"),
    "zip": (TABLES["zip_datasets"], "dataset_id"),
    "schedule": (TABLES["schedule_datasets"], "dataset_id"),
}


def record(
    conn: Connection, kind: str, dataset_id: str, sha256: str, replaced_at: datetime
) -> None:
    """Note the published version of ``dataset_id`` when ``sha256`` replaces it (``kind``:
    ``release``, ``zip`` or ``schedule``, the table it lives in)."""
    table, id_column = _TABLES[kind]
    stmt = select(table.c.sha256, table.c.published_at).where(table.c[id_column] == dataset_id)
    old = conn.execute(stmt).first()
    if old is None or old.sha256 == sha256:
        return
    conn.execute(
        insert(REPLACEMENTS).values(
            kind=kind,
            dataset_id=dataset_id,
            sha256=old.sha256,
            published_at=old.published_at,
            replaced_by=sha256,
            replaced_at=replaced_at,
        )
    )


def by_dataset(engine: Engine) -> Mapping[tuple[str, str], tuple[Replacement, ...]]:
    """Every recorded replacement by ``(kind, dataset_id)``, oldest first."""
    t = REPLACEMENTS
    stmt = select(
        t.c.kind, t.c.dataset_id, t.c.sha256, t.c.published_at, t.c.replaced_by, t.c.replaced_at
    ).order_by(t.c.replaced_at, t.c.id)
    found: dict[tuple[str, str], list[Replacement]] = {}
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            found.setdefault((row.kind, row.dataset_id), []).append(Replacement(*row))
    return {key: tuple(items) for key, items in found.items()}
