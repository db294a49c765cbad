"""Ingesting the real 2025 files: what gets published, idempotence, and reading it back.

One ingest of the whole ``cms-data`` tree per database (module-scoped), then a second
ingest of the same tree; the tests inspect the database those two runs leave.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cms_pricing.db.repository import (
    TABLES,
    is_empty,
    list_releases,
    list_zip_datasets,
    load_published,
    recent_runs,
)
from cms_pricing.reference.datasets import ReleaseData
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.publish import IngestReport, ingest_path

pytestmark = pytest.mark.slow

EXPECTED = {  # release id -> (folder, effective date, PPRRVU file, its rows, OPPSCAP file)
    "RVU25A": ("rvu25a", date(2025, 1, 1), "PPRRVU25_JAN.txt", 18_865, "OPPSCAP_JAN.txt"),
    "RVU25B": ("rvu25b", date(2025, 4, 1), "PPRRVU25_APR.txt", 18_923, "OPPSCAP_APR.txt"),
    "RVU25C": ("rvu25c", date(2025, 7, 1), "PPRRVU2025_Jul.txt", 19_029, "OPPSCAP_JUL.txt"),
    "RVU25D": ("rvu25d", date(2025, 10, 1), "PPRRVU2025_Oct.txt", 19_090, "OPPSCAP_Oct.txt"),
}
ROW_TABLES = ("rvu_rows", "gpci_rows", "locality_county_rows", "anes_rows", "oppscap_rows")


def _files(release_id: str) -> dict[str, tuple[str, int]]:
    _folder, _date, pprrvu, rvu_rows, oppscap = EXPECTED[release_id]
    return {
        "pprrvu": (pprrvu, rvu_rows),
        "gpci": ("GPCI2025.txt", 109),
        "locco": ("25LOCCO.txt", 110),
        "anes": ("ANES2025.txt", 109),
        "oppscap": (oppscap, 16_100),
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release_sha(file_shas: dict[str, str]) -> str:
    text = "".join(sorted(f"{kind}:{sha}\n" for kind, sha in file_shas.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(TABLES[name])) or 0
            for name in (*ROW_TABLES, "zip5_rows", "releases", "zip_datasets", "release_files")
        }


@pytest.fixture(scope="module")
def first(module_engine: Engine, cms_data: Path) -> tuple[IngestReport, list[str]]:
    """The report and progress lines of the first ingest of the whole tree."""
    lines: list[str] = []
    return ingest_path(module_engine, cms_data, lines.append), lines


@pytest.fixture(scope="module")
def second(
    module_engine: Engine, cms_data: Path, first: Any
) -> tuple[IngestReport, dict[str, int], dict[str, int], list[Any]]:
    """The second ingest of the same tree, with row counts and metadata before and after it."""
    before, metas = _row_counts(module_engine), list_releases(module_engine)
    report = ingest_path(module_engine, cms_data, lambda _line: None)
    return report, before, _row_counts(module_engine), metas


def test_first_ingest_publishes_four_releases_and_one_zip(first: Any) -> None:
    """Every RVU25 quarter (in effective-date order), the ZIP file, then the other schedules'
    datasets (anesthesia base units, ASC, ASP, CLFS, DMEPOS, OPPS, the OPPS wage index, by
    folder) are published."""
    report, _lines = first
    assert [(o.dataset_id, o.outcome) for o in report.outcomes] == [
        ("RVU25A", "published"),
        ("RVU25B", "published"),
        ("RVU25C", "published"),
        ("RVU25D", "published"),
        ("ZIP5-20254", "published"),
        ("ANESBU-2022", "published"),
        ("ASC-2025Q1", "published"),
        ("ASP-2025Q1", "published"),
        ("CLFS-2025Q1", "published"),
        ("DMEPOS-2025Q1", "published"),
        ("OPPS-2025", "published"),
        ("OPPSWI-2025", "published"),
    ]


def test_releases_have_ids_dates_files_counts_and_hashes(
    module_engine: Engine, cms_data: Path, first: Any
) -> None:
    """Each release lists its .txt files with their row counts and SHA-256 (hashlib's)."""
    metas = list_releases(module_engine)
    assert [m.release_id for m in metas] == list(EXPECTED)
    for meta in metas:
        folder = cms_data / "2025" / EXPECTED[meta.release_id][0]
        expected = _files(meta.release_id)
        assert (meta.year, meta.effective_from) == (2025, EXPECTED[meta.release_id][1])
        assert {f.kind: (f.name, f.rows) for f in meta.files} == expected
        shas = {kind: _sha(folder / name) for kind, (name, _rows) in expected.items()}
        assert {f.kind: f.sha256 for f in meta.files} == shas
        assert meta.sha256 == _release_sha(shas)
        assert meta.published_at is not None


def test_zip_dataset_has_id_quarter_count_and_hash(
    module_engine: Engine, cms_data: Path, first: Any
) -> None:
    """The ZIP5 file is published as ZIP5-20254 with its 42,956 rows and its hash."""
    (meta,) = list_zip_datasets(module_engine)
    zip_file = cms_data / "2025" / "zip-locality-2025q4" / "ZIP5_OCT2025.txt"
    assert (meta.dataset_id, meta.year_quarter) == ("ZIP5-20254", "20254")
    assert [(f.kind, f.name, f.rows, f.sha256) for f in meta.files] == [
        ("zip5", "ZIP5_OCT2025.txt", 42_956, _sha(zip_file))
    ]
    assert meta.sha256 == _release_sha({"zip5": _sha(zip_file)})


def test_progress_has_one_line_per_file(first: Any) -> None:
    """Progress names release, file, row count and hash prefix for each of the 37 files
    (4 x 5 release files, the ZIP file, CLFS, six DMEPOS files, ASP, the base units, OPPS
    Addenda B and D1, ASC AA, BB, DD1 and FF, the wage index)."""
    _report, lines = first
    assert "RVU25A PPRRVU25_JAN.txt: 18,865 rows, sha256 " in "\n".join(lines)
    assert "DMEPOS DMEPOS_JAN.csv: 184,811 rows, sha256 " in "\n".join(lines)
    file_lines = [line for line in lines if " rows, sha256 " in line and ": published" not in line]
    assert len(file_lines) == 4 * 5 + 1 + 1 + 6 + 1 + 1 + 2 + 4 + 1
    assert "OPPS 2025 NFRM Addendum B.11122024.txt: 18,682 rows, sha256 " in "\n".join(lines)


def test_every_cms_folder_is_ingested(first: Any) -> None:
    """OPPS, ASC and the wage index are schedule datasets too: no folder is noted ignored."""
    report, _lines = first
    assert [note for note in report.notes if "ignored" in note] == []


def test_oppscap_california_quirk_is_kept_with_a_note(module_engine: Engine, first: Any) -> None:
    """The six 01112 California OPPSCAP localities are stored, and the ingest says so."""
    report, _lines = first
    assert sum("01112-17" in note and "known CMS quirk" in note for note in report.notes) == 4
    oppscap = TABLES["oppscap_rows"]
    stmt = select(func.count()).where(oppscap.c.carrier == "01112", oppscap.c.locality == "71")
    with module_engine.connect() as conn:
        assert (conn.scalar(stmt) or 0) > 0


def test_second_ingest_changes_nothing(module_engine: Engine, second: Any) -> None:
    """Same files again: every dataset is unchanged, no row is added, nothing republished."""
    report, before, after, metas = second
    assert [o.outcome for o in report.outcomes] == ["unchanged"] * 12
    assert after == before
    assert before["rvu_rows"] == 18_865 + 18_923 + 19_029 + 19_090
    assert list_releases(module_engine) == metas


def test_every_attempt_is_in_the_run_log(module_engine: Engine, second: Any) -> None:
    """The ingestion log holds 12 published and then 12 unchanged runs, all finished."""
    runs = list(reversed(recent_runs(module_engine, limit=100)))
    assert [r["outcome"] for r in runs] == ["published"] * 12 + ["unchanged"] * 12
    assert all(r["finished_at"] >= r["started_at"] for r in runs)
    assert runs[0]["dataset_id"] == "RVU25A"


def test_loaded_releases_equal_a_fresh_parse(
    module_engine: Engine, cms_data: Path, first: Any
) -> None:
    """load_published returns every row exactly as the parsers produce it, in file order."""
    releases, zip_data = load_published(module_engine)
    assert [r.meta for r in releases] == list_releases(module_engine)
    for release in releases:
        _assert_rows_equal(release, cms_data / "2025" / EXPECTED[release.meta.release_id][0])
    zip_file = cms_data / "2025" / "zip-locality-2025q4" / "ZIP5_OCT2025.txt"
    assert zip_data is not None
    assert zip_data.rows == parse_file("zip5", zip_file.name, zip_file.read_bytes())


def _assert_rows_equal(release: ReleaseData, folder: Path) -> None:
    by_kind = {
        "pprrvu": release.rvus,
        "gpci": release.gpcis,
        "locco": release.localities,
        "anes": release.anes,
        "oppscap": release.oppscap,
    }
    for kind, (name, _rows) in _files(release.meta.release_id).items():
        assert by_kind[kind] == parse_file(kind, name, (folder / name).read_bytes()), name


def test_database_is_not_empty_after_ingest(module_engine: Engine, first: Any) -> None:
    """is_empty turns False once something is published."""
    assert not is_empty(module_engine)
