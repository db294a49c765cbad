"""Ingest CMS files into the database: discover -> read -> hash -> parse -> validate -> publish.

Contract of :func:`ingest_path`:

- **Atomic per dataset.** Each release (and each ZIP dataset) is written in one transaction
  that also makes it the published version. A file that fails parsing or validation raises
  :class:`~cms_pricing.errors.FileRejected` (file + line) before that transaction commits:
  nothing of the dataset is written and the previously published version keeps serving.
  Datasets published earlier in the same run stay published; later ones are not attempted.
- **Versioned by content.** A file's version is the SHA-256 of its bytes; a release's is the
  SHA-256 of its sorted ``"kind:sha256"`` lines (:func:`content_sha256`). The same release
  id with the same hash is ``unchanged`` (nothing is parsed or written); the same id with a
  different hash (a CMS correction) is ``replaced``: old rows out, new rows in, new
  ``published_at``, in one transaction.
- **Logged.** Every attempt is a row of ``ingestion_runs`` with its outcome (``published``,
  ``replaced``, ``unchanged``, ``rejected`` with the message, or ``failed``), its host and
  pid, and a heartbeat renewed while it runs. A run left ``running`` by a killed process is
  marked ``failed`` with the reason before anything else (``db/runs.py``).
- **Progress.** ``progress`` gets one line per file read and one per dataset outcome.

The datasets of the other fee schedules (``reference/schedules.py``) follow the same rules;
each is named and dated by its declaration from its files (``CLFS-2025Q1``).

Releases are published before ZIP datasets, so a ZIP file is checked against the GPCI file
of the newest release, including one published a moment earlier in the same run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.db import repository as repo
from cms_pricing.db import runs, schedules
from cms_pricing.errors import FileRejected
from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    ScheduleData,
    ScheduleMeta,
    SourceFile,
    ZipData,
    ZipMeta,
)
from cms_pricing.reference.discover import (
    Discovery,
    ReleaseSource,
    ScheduleSource,
    ZipSource,
    discover,
)
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.schedules import BY_SCHEDULE, SourceRead
from cms_pricing.reference.validate import ParsedFile, check_release, check_schedule, check_zip

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DatasetOutcome:
    """What happened to one dataset: ``published``, ``replaced`` or ``unchanged``."""

    dataset_id: str  # "RVU25A", "ZIP5-20254"
    outcome: str
    sha256: str
    rows: int  # data rows written (0 when unchanged)
    seconds: float


@dataclass(frozen=True, slots=True)
class IngestReport:
    outcomes: list[DatasetOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


def ingest_path(engine: Engine, path: Path, progress: Progress) -> IngestReport:
    """Ingest every release and ZIP dataset found at ``path`` (see the module contract)."""
    started = time.perf_counter()
    for dead in runs.reap_stale(engine):
        progress(f"ingestion run {dead.run_id} marked failed: {dead.reason}")
    found = _discover_logged(engine, path)
    notes = _progressed(list(found.notes), progress)
    steps = [
        (str(r.folder), r.release_id, partial(_ingest_release, engine, r, progress, notes))
        for r in found.releases
    ] + [(str(z.file), None, partial(_ingest_zip, engine, z, progress, notes)) for z in found.zips]
    steps += [
        (str(s.folder), None, partial(_ingest_schedule, engine, s, progress, notes))
        for s in found.schedules
    ]
    outcomes = [_logged(engine, source, dataset_id, step) for source, dataset_id, step in steps]
    return IngestReport(outcomes, notes, time.perf_counter() - started)


def content_sha256(files: list[SourceFile]) -> str:
    """A dataset's content version: SHA-256 over its files' sorted ``kind:sha256`` lines."""
    lines = sorted(f"{f.kind}:{f.sha256}\n" for f in files)
    return hashlib.sha256("".join(lines).encode("ascii")).hexdigest()


def _discover_logged(engine: Engine, path: Path) -> Discovery:
    """``discover(path)``; a refusal is logged as a rejected run."""
    try:
        return discover(path)
    except FileRejected as exc:
        repo.finish_run(engine, repo.start_run(engine, str(path), None), "rejected", str(exc))
        raise


def _logged(
    engine: Engine, source: str, dataset_id: str | None, step: Callable[[], DatasetOutcome]
) -> DatasetOutcome:
    """Run ``step`` as one logged ingestion attempt."""
    run_id = repo.start_run(engine, source, dataset_id)
    try:
        with runs.heartbeat(engine, run_id):
            result = step()
    except FileRejected as exc:
        repo.finish_run(engine, run_id, "rejected", str(exc))
        raise
    except Exception as exc:
        repo.finish_run(engine, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    repo.finish_run(engine, run_id, result.outcome)
    return result


@dataclass(frozen=True, slots=True)
class _ReadFile:
    kind: str
    name: str
    data: bytes
    sha256: str


def _read(kind: str, path: Path) -> _ReadFile:
    data = path.read_bytes()
    return _ReadFile(kind, path.name, data, hashlib.sha256(data).hexdigest())


def _parse(label: str, file: _ReadFile, progress: Progress) -> ParsedFile:
    rows = parse_file(file.kind, file.name, file.data)
    progress(f"{label} {file.name}: {len(rows):,} rows, sha256 {file.sha256[:12]}…")
    return ParsedFile(file.kind, file.name, file.data, rows)


def _source_files(read: list[_ReadFile], parsed: dict[str, ParsedFile]) -> list[SourceFile]:
    return [SourceFile(f.kind, f.name, f.sha256, len(parsed[f.kind].rows)) for f in read]


def _ingest_release(
    engine: Engine, source: ReleaseSource, progress: Progress, notes: list[str]
) -> DatasetOutcome:
    started = time.perf_counter()
    rid = source.release_id
    read = [_read(kind, path) for kind, path in source.files.items()]
    sha = content_sha256([SourceFile(f.kind, f.name, f.sha256, 0) for f in read])
    with engine.connect() as conn:
        previous = repo.published_sha256(conn, rid)
    if previous == sha:
        progress(f"{rid}: unchanged, sha256 {sha[:12]}…")
        return DatasetOutcome(rid, "unchanged", sha, 0, time.perf_counter() - started)
    parsed = {f.kind: _parse(rid, f, progress) for f in read}
    notes.extend(_progressed(check_release(parsed), progress))
    meta = ReleaseMeta(
        rid, source.year, source.effective_from, sha, tuple(_source_files(read, parsed))
    )
    data = ReleaseData(
        meta,
        rvus=list(parsed["pprrvu"].rows),
        gpcis=list(parsed["gpci"].rows),
        localities=list(parsed["locco"].rows),
        anes=list(parsed["anes"].rows),
        oppscap=list(parsed["oppscap"].rows),
    )
    with engine.begin() as conn:
        repo.write_release(conn, data, datetime.now(UTC))
    outcome = "published" if previous is None else "replaced"
    rows = sum(f.rows for f in meta.files)
    return _finish(rid, outcome, sha, rows=rows, started=started, progress=progress)


def _ingest_zip(
    engine: Engine, source: ZipSource, progress: Progress, notes: list[str]
) -> DatasetOutcome:
    started = time.perf_counter()
    read = _read("zip5", source.file)
    parsed = _parse("ZIP5", read, progress)
    files = _source_files([read], {"zip5": parsed})
    sha = content_sha256(files)
    quarter = parsed.rows[0].year_quarter  # check_zip refuses a file of mixed quarters
    dataset_id = f"ZIP5-{quarter}"
    with engine.begin() as conn:
        previous = repo.published_zip_sha256(conn, dataset_id)
        if previous == sha:
            progress(f"{dataset_id}: unchanged, sha256 {sha[:12]}…")
            return DatasetOutcome(dataset_id, "unchanged", sha, 0, time.perf_counter() - started)
        gpci = repo.newest_gpci_keys(conn)
        if gpci is None:
            raise FileRejected(read.name, 0, "no published release to check localities against")
        check_zip(parsed, gpci[1], f"the GPCI file of {gpci[0]}")
        meta = ZipMeta(dataset_id, quarter, sha, tuple(files))
        repo.write_zip_dataset(conn, ZipData(meta, list(parsed.rows)), datetime.now(UTC))
    outcome = "published" if previous is None else "replaced"
    return _finish(
        dataset_id, outcome, sha, rows=len(parsed.rows), started=started, progress=progress
    )


def _ingest_schedule(
    engine: Engine, source: ScheduleSource, progress: Progress, notes: list[str]
) -> DatasetOutcome:
    started = time.perf_counter()
    declared = BY_SCHEDULE[source.schedule]
    read = [_read(kind, path) for kind, path in source.files.items()]
    label = source.schedule.upper()
    parsed = {f.kind: _parse(label, f, progress) for f in read}
    files = {f.kind: SourceRead(f.kind, f.name, f.data) for f in read}
    dataset_id, start, end = declared.dated(
        source.folder, files, {kind: p.rows for kind, p in parsed.items()}
    )
    notes.extend(_progressed(check_schedule(parsed), progress))
    sources = _source_files(read, parsed)
    sha = content_sha256(sources)
    with engine.begin() as conn:
        previous = schedules.published_sha256(conn, dataset_id)
        if previous == sha:
            progress(f"{dataset_id}: unchanged, sha256 {sha[:12]}…")
            return DatasetOutcome(dataset_id, "unchanged", sha, 0, time.perf_counter() - started)
        meta = ScheduleMeta(source.schedule, dataset_id, start, end, sha, tuple(sources))
        rows = {kind: tuple(p.rows) for kind, p in parsed.items()}
        schedules.write_schedule(conn, ScheduleData(meta, rows), datetime.now(UTC))
    outcome = "published" if previous is None else "replaced"
    count = sum(f.rows for f in sources)
    return _finish(dataset_id, outcome, sha, rows=count, started=started, progress=progress)


def _finish(
    dataset_id: str, outcome: str, sha: str, *, rows: int, started: float, progress: Progress
) -> DatasetOutcome:
    seconds = time.perf_counter() - started
    progress(f"{dataset_id}: {outcome}, {rows:,} rows, sha256 {sha[:12]}…, {seconds:.1f} s")
    return DatasetOutcome(dataset_id, outcome, sha, rows, seconds)


def _progressed(notes: list[str], progress: Progress) -> list[str]:
    for note in notes:
        progress(note)
    return notes
