"""A CMS correction: the same dataset id with different content replaces the old rows, and the
replaced version's hash and publication time are recorded with the time of the replacement."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cms_pricing.db import replacements
from cms_pricing.db.repository import list_releases, list_schedule_datasets, load_published
from cms_pricing.reference.datasets import Replacement
from cms_pricing.reference.publish import ingest_path

pytestmark = pytest.mark.slow


def _raise_first_work_rvu(pprrvu: Path) -> tuple[str, str]:
    """Set the work RVU of the first record with work 0.00 to 1.23; returns (hcpcs, modifier)."""
    lines = pprrvu.read_bytes().splitlines(keepends=True)
    index = next(
        i for i, ln in enumerate(lines) if not ln.startswith(b"HDR") and ln[59:65] == b"  0.00"
    )
    line = lines[index]
    lines[index] = line[:59] + b"  1.23" + line[65:]
    pprrvu.write_bytes(b"".join(lines))
    return line[:5].decode().strip(), line[5:7].decode().strip()


def test_changed_release_replaces_the_published_one(
    engine: Engine,
    cms_data: Path,
    tmp_path: Path,
    copy_folder: Callable[[Path, Path], Path],
) -> None:
    """New sha256 and published_at, the new value served, same row count, one RVU25A only;
    the old hash and publication time are recorded with the new hash and the replacement
    time, once (ingesting the same content again records nothing)."""
    folder = copy_folder(cms_data / "2025" / "rvu25a", tmp_path / "rvu25a")
    ingest_path(engine, folder, lambda _line: None)
    (old,) = list_releases(engine)
    hcpcs, modifier = _raise_first_work_rvu(folder / "PPRRVU25_JAN.txt")

    report = ingest_path(engine, folder, lambda _line: None)

    assert [(o.dataset_id, o.outcome) for o in report.outcomes] == [("RVU25A", "replaced")]
    (new,) = list_releases(engine)
    assert new.sha256 != old.sha256
    assert new.published_at is not None and old.published_at is not None
    assert new.published_at > old.published_at
    (release,), _zip = load_published(engine)
    assert len(release.rvus) == 18_865
    changed = [r for r in release.rvus if (r.hcpcs, r.modifier) == (hcpcs, modifier)]
    assert [r.work_rvu for r in changed] == [Decimal("1.23")]
    assert replacements.by_dataset(engine) == {
        ("release", "RVU25A"): (
            Replacement("release", "RVU25A", old.sha256, old.published_at, new.sha256,
                        new.published_at),
        )
    }  # fmt: skip
    again = ingest_path(engine, folder, lambda _line: None)
    assert [o.outcome for o in again.outcomes] == ["unchanged"]
    assert len(replacements.by_dataset(engine)[("release", "RVU25A")]) == 1


def test_a_corrected_schedule_dataset_is_recorded_each_time(
    engine: Engine,
    cms_data: Path,
    tmp_path: Path,
    copy_folder: Callable[[Path, Path], Path],
) -> None:
    """CLFS-2025Q1 corrected twice: two records, oldest first, each naming the hash it replaced
    and the one that replaced it; a first publication records nothing."""
    folder = copy_folder(cms_data / "2025" / "clfs-2025q1", tmp_path / "clfs-2025q1")
    clfs = folder / "CLFS 2025 Q1V1.txt"
    ingest_path(engine, folder, lambda _line: None)
    assert replacements.by_dataset(engine) == {}
    hashes = [list_schedule_datasets(engine)[0].sha256]
    original = clfs.read_bytes()
    for blank_lines in (1, 2):  # two corrections (trailing blank lines: new bytes, same rows)
        clfs.write_bytes(original + b"\r\n" * blank_lines)
        (outcome,) = ingest_path(engine, folder, lambda _line: None).outcomes
        assert outcome.outcome == "replaced"
        hashes.append(list_schedule_datasets(engine)[0].sha256)
    found = replacements.by_dataset(engine)[("schedule", "CLFS-2025Q1")]
    assert [(r.sha256, r.replaced_by) for r in found] == [
        (hashes[0], hashes[1]),
        (hashes[1], hashes[2]),
    ]
    assert found[0].replaced_at <= found[1].published_at <= found[1].replaced_at
