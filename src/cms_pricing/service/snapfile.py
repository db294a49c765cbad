"""Where the compiled snapshot lives on disk, and how a worker gets one.

The database is the source of truth; a compiled snapshot (``engine/compiled.py``,
``engine/compiled_tables.py``) is derived from it and named by what it holds:
``mpfs-<digest>.snap``, the digest over the format version and every published release's
id, content hash and publication time, the ZIP file's and every other schedule dataset's
(``Listed``). So a worker
checks a file cheaply at start (its name, its magic and footer, and that its header lists
the datasets the database lists) and never rehashes rows; the full hash is the ingest's.

``open_current(folder, listed, compile)``:

1. the file named for ``listed`` exists and reads whole: map it;
2. else take an exclusive lock on ``folder/.lock`` (workers of one instance compile once:
   the others wait, then find the file), compile to a temporary file through ``compile``
   (which writes what the database holds *now*), fsync, and rename it to the name its own
   header gives: readers only ever see whole files;
3. compiled files neither current nor touched in the last ``KEEP_SECONDS`` are removed. A
   worker still mapping a removed file keeps its pages until it reloads (POSIX), so a new
   release never waits for old readers, and two copies live only until every worker has
   reloaded (the poll interval).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.db.repository import each_published
from cms_pricing.engine.compiled import FORMAT, Compiled, CompiledError, Writer
from cms_pricing.engine.compiled_tables import add_schedule, schedule_metas
from cms_pricing.reference.datasets import (
    ReleaseMeta,
    ScheduleData,
    ScheduleMeta,
    ZipData,
    ZipMeta,
)

log = logging.getLogger(__name__)

PREFIX = "mpfs-"
SUFFIX = ".snap"
KEEP_SECONDS = 600


def write_published(engine: Engine, writer: Writer) -> None:
    """Compile what the database at ``engine`` publishes (one dataset at a time)."""
    writer.restart()  # a replica lost half-way is read again from the primary
    for data in each_published(engine):
        if isinstance(data, ZipData):
            writer.add_zips(data)
        elif isinstance(data, ScheduleData):
            add_schedule(writer, data)
        else:
            writer.add_release(data)


@dataclass(frozen=True)
class Listed:
    """What the database lists: the MPFS releases, the newest ZIP file and the other
    schedules' datasets (metadata only), which name the compiled file."""

    releases: Sequence[ReleaseMeta]
    zip_meta: ZipMeta | None
    schedules: Sequence[ScheduleMeta] = ()

    @classmethod
    def held(cls, compiled: Compiled) -> Listed:
        """What ``compiled`` holds, by its header."""
        return cls(compiled.releases, compiled.zip_meta, schedule_metas(compiled))


def file_name(listed: Listed) -> str:
    # published_at too: the file carries the metadata /reference/releases reports.
    lines = [
        f"format:{FORMAT}",
        *sorted(f"{m.release_id}:{m.sha256}:{m.published_at}" for m in listed.releases),
        *sorted(f"ds:{m.dataset_id}:{m.sha256}:{m.published_at}" for m in listed.schedules),
    ]
    zip_meta = listed.zip_meta
    if zip_meta is None:
        lines.append("zip:-")
    else:
        lines.append(f"zip:{zip_meta.dataset_id}:{zip_meta.sha256}:{zip_meta.published_at}")
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:24]
    return f"{PREFIX}{digest}{SUFFIX}"


def _same(compiled: Compiled, listed: Listed) -> bool:
    return file_name(Listed.held(compiled)) == file_name(listed)


def _try_open(path: Path) -> Compiled | None:
    try:
        return Compiled.open(str(path))
    except FileNotFoundError:
        return None
    except CompiledError as exc:
        log.warning("compiled snapshot %s is unusable (%s); compiling again", path.name, exc)
        return None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_current(folder: Path, listed: Listed, compile_into: Callable[[Writer], None]) -> Compiled:
    """The compiled snapshot of what the database holds, compiling it when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(listed)
    found = _try_open(path)
    if found is not None and _same(found, listed):
        _remove_stale(folder, path.name)
        return found
    with _locked(folder):
        found = _try_open(path)  # another worker may have compiled it while we waited
        if found is None or not _same(found, listed):
            found = _compile(folder, compile_into)
        _remove_stale(folder, file_name(Listed.held(found)))
        return found


def _compile(folder: Path, compile_into: Callable[[Writer], None]) -> Compiled:
    started = time.perf_counter()
    temporary = folder / f".compiling-{os.getpid()}{SUFFIX}"
    try:
        with open(temporary, "wb") as out:
            writer = Writer(out)
            compile_into(writer)
            writer.finish()
            out.flush()
            os.fsync(out.fileno())
        compiled = Compiled.open(str(temporary))
        final = folder / file_name(Listed.held(compiled))
        os.replace(temporary, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    log.info(
        "compiled %s: %d records, %d bytes in %.2fs",
        final.name,
        compiled.records,
        compiled.size,
        time.perf_counter() - started,
    )
    return compiled


def _remove_stale(folder: Path, current: str) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if path.name != current and path.stat().st_mtime < cutoff:
                path.unlink()
