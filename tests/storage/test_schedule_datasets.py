"""Datasets of the other fee schedules: ingested, stored and read back, on SQLite and
PostgreSQL; a malformed file refused with its file and line, the published data kept."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cms_pricing.db.repository import content_version, load_schedule_datasets
from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import detect_kind, parse_file
from cms_pricing.reference.publish import ingest_path

FOLDERS = (
    "clfs-2025q1", "asp-2025q1", "dmepos-2025q1", "opps-cy2025-final-rule", "asc-2025q1",
    "opps-wage-index-2025",
)  # fmt: skip


@pytest.fixture(scope="module")
def ingested(module_engine: Engine, cms_data: Path) -> Engine:
    for folder in FOLDERS:
        ingest_path(module_engine, cms_data / "2025" / folder, lambda _line: None)
    ingest_path(module_engine, cms_data / "2022", lambda _line: None)
    return module_engine


def test_datasets_are_named_and_dated_from_their_files(ingested: Engine) -> None:
    """Each dataset's id and dates come from its files: the CLFS name's '2025 Q1', the ASP
    file's 'Effective January 1, 2025 through March 31, 2025', the rural ZIP file's 202501,
    the base-unit file's CY 2022 (no end: in force until a newer file), the OPPS final
    rule's '2025 NFRM' (the calendar year), ASC's 'Jan-2025' (Q1), the wage index rows'
    effective date 20250101 (to the end of 2025)."""
    found = {d.meta.dataset_id: d.meta for d in load_schedule_datasets(ingested)}
    dates = {k: (m.schedule, m.effective_from, m.effective_to) for k, m in found.items()}
    q1 = (date(2025, 1, 1), date(2025, 3, 31))
    assert dates == {
        "CLFS-2025Q1": ("clfs", *q1),
        "ASP-2025Q1": ("asp", *q1),
        "DMEPOS-2025Q1": ("dmepos", *q1),
        "ANESBU-2022": ("anesthesia", date(2022, 1, 1), None),
        "OPPS-2025": ("opps", date(2025, 1, 1), date(2025, 12, 31)),
        "ASC-2025Q1": ("asc", *q1),
        "OPPSWI-2025": ("wage_index", date(2025, 1, 1), date(2025, 12, 31)),
    }


def test_rows_read_back_equal_a_fresh_parse(ingested: Engine, cms_data: Path) -> None:
    """Every stored file's rows, read back from the database, equal its parsed rows: the
    decimals keep their places, blanks stay blank, None stays None."""
    for dataset in load_schedule_datasets(ingested):
        for source in dataset.meta.files:
            path = next(cms_data.rglob(source.name), None)
            assert path is not None, source.name
            kind = detect_kind(source.name)
            assert kind == source.kind
            parsed = parse_file(kind, source.name, path.read_bytes())
            assert list(dataset.rows[kind]) == parsed, source.name
            assert source.rows == len(parsed)


def test_reingest_is_unchanged_and_keeps_the_version(ingested: Engine, cms_data: Path) -> None:
    """The same files again: every dataset 'unchanged', the content version the same."""
    before = content_version(ingested)
    report = ingest_path(ingested, cms_data / "2025" / "clfs-2025q1", lambda _line: None)
    assert [o.outcome for o in report.outcomes] == ["unchanged"]
    assert content_version(ingested) == before


def test_a_truncated_file_is_refused_and_the_published_one_kept(
    ingested: Engine, cms_data: Path, tmp_path: Path
) -> None:
    """A CLFS file cut to half its rows parses but fails the row-count floor; a bad rate
    is refused with its line. Either way the published CLFS dataset stays as it was."""
    before = {d.meta.dataset_id: d.meta.sha256 for d in load_schedule_datasets(ingested)}
    source = cms_data / "2025" / "clfs-2025q1" / "CLFS 2025 Q1V1.txt"
    lines = source.read_bytes().splitlines(keepends=True)
    folder = tmp_path / "clfs-2025q1"
    folder.mkdir()
    target = folder / source.name
    target.write_bytes(b"".join(lines[: len(lines) // 2]))
    with pytest.raises(FileRejected) as cut:
        ingest_path(ingested, folder, lambda _line: None)
    assert cut.value.file == source.name and "CLFS rows" in str(cut.value)
    bad = list(lines)
    bad[10] = bad[10].replace(b"~N~", b"~N~X", 1)
    target.write_bytes(b"".join(bad))
    with pytest.raises(FileRejected) as wrong:
        ingest_path(ingested, folder, lambda _line: None)
    assert (wrong.value.file, wrong.value.line) == (source.name, 11)
    after = {d.meta.dataset_id: d.meta.sha256 for d in load_schedule_datasets(ingested)}
    assert after == before


def test_a_folder_without_its_main_file_is_refused(ingested: Engine, cms_data: Path,
                                                   tmp_path: Path) -> None:  # fmt: skip
    """A DMEPOS folder holding only the rural ZIP file names the missing DMEPOS file."""
    folder = tmp_path / "dmepos"
    folder.mkdir()
    rural = "DME Rural ZIP Code Quarter 1, 2025.csv"
    shutil.copy(cms_data / "2025" / "dmepos-2025q1" / rural, folder / rural)
    with pytest.raises(FileRejected, match="DMEPOS: no DMEPOS file"):
        ingest_path(ingested, folder, lambda _line: None)


@pytest.mark.parametrize(
    "case",
    [("opps-cy2025-final-rule", "2025 NFRM Addendum B.11122024.txt", "OPPS_RATES"),
     ("asc-2025q1", "508-Version-Jan-2025-ASC-AA.csv", "ASC_AA"),
     ("opps-wage-index-2025", "cbsa-wage-index-2025.csv", "WAGE_INDEX")],
)  # fmt: skip
def test_a_facility_file_cut_at_a_row_boundary_is_refused(
    ingested: Engine, cms_data: Path, tmp_path: Path, case: tuple[str, str, str]
) -> None:
    """OPPS Addendum B, ASC AA and the wage index cut to a fifth of their lines still parse,
    but fail the row-count floor; the published datasets stay as they were."""
    folder, name, kind = case
    before = {d.meta.dataset_id: d.meta.sha256 for d in load_schedule_datasets(ingested)}
    lines = (cms_data / "2025" / folder / name).read_bytes().splitlines(keepends=True)
    target = tmp_path / folder
    target.mkdir()
    (target / name).write_bytes(b"".join(lines[: len(lines) // 5]))
    with pytest.raises(FileRejected) as cut:
        ingest_path(ingested, target, lambda _line: None)
    assert cut.value.file == name and f"{kind} rows" in str(cut.value)
    after = {d.meta.dataset_id: d.meta.sha256 for d in load_schedule_datasets(ingested)}
    assert after == before
