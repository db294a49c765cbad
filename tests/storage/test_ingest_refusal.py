"""Refused files: the message names file and line, and nothing of the dataset is published.

RVU25A and the ZIP file are published once per database (module-scoped). Each test then
ingests a corrupted copy, either of RVU25A itself (a would-be correction) or of the ZIP
file, and checks that the published data still loads exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cms_pricing.db.repository import list_zip_datasets, load_published, recent_runs
from cms_pricing.errors import FileRejected
from cms_pricing.reference.publish import ingest_path

pytestmark = pytest.mark.slow

Corrupt = Callable[[list[bytes]], tuple[list[bytes], int]]  # -> (new lines, bad line number)


@pytest.fixture(scope="module")
def published(module_engine: Engine, cms_data: Path) -> tuple[Any, Any]:
    """RVU25A and ZIP5-20254 published; returns what load_published gave right after."""
    ingest_path(module_engine, cms_data / "2025" / "rvu25a", lambda _line: None)
    ingest_path(module_engine, cms_data / "2025" / "zip-locality-2025q4", lambda _line: None)
    return load_published(module_engine)


@pytest.fixture
def copy_of(
    cms_data: Path, tmp_path: Path, copy_folder: Callable[[Path, Path], Path]
) -> Callable[[str], Path]:
    """``copy_of("rvu25a")``: a writable copy of a real 2025 folder's .txt files."""
    return lambda name: copy_folder(cms_data / "2025" / name, tmp_path / name)


def _first_data_line(lines: list[bytes]) -> int:
    return next(i for i, line in enumerate(lines) if not line.startswith(b"HDR"))


def truncate_mid_record(lines: list[bytes]) -> tuple[list[bytes], int]:
    """Cut the file in the middle of record 5,000."""
    keep = _first_data_line(lines) + 5_000
    return [*lines[:keep], lines[keep][:100]], keep + 1


def bad_number(lines: list[bytes]) -> tuple[list[bytes], int]:
    """Put a letter into the work RVU (columns 60-65) of the 1,000th record."""
    index = _first_data_line(lines) + 999
    line = lines[index]
    return [*lines[:index], line[:59] + b"  1.x0" + line[65:], *lines[index + 1 :]], index + 1


def duplicate_key(lines: list[bytes]) -> tuple[list[bytes], int]:
    """Repeat the 2,000th record right after itself (same HCPCS + modifier)."""
    index = _first_data_line(lines) + 1_999
    return [*lines[: index + 1], lines[index], *lines[index + 1 :]], index + 2


def _ingest_copy(engine: Engine, folder: Path, name: str, corrupt: Corrupt) -> tuple[str, int]:
    path = folder / name
    lines, bad_line = corrupt(path.read_bytes().splitlines(keepends=True))
    path.write_bytes(b"".join(lines))
    with pytest.raises(FileRejected) as caught:
        ingest_path(engine, folder, lambda _line: None)
    return str(caught.value), bad_line


@pytest.mark.parametrize("corrupt", [truncate_mid_record, bad_number, duplicate_key])
def test_corrupt_pprrvu_is_refused_and_rvu25a_keeps_serving(
    module_engine: Engine,
    published: Any,
    copy_of: Callable[[str], Path],
    corrupt: Corrupt,
) -> None:
    """A broken PPRRVU in an RVU25A correction is refused at its line; the old RVU25A stays."""
    folder = copy_of("rvu25a")
    message, line = _ingest_copy(module_engine, folder, "PPRRVU25_JAN.txt", corrupt)
    assert message.startswith(f"PPRRVU25_JAN.txt, line {line}: ")
    assert load_published(module_engine) == published
    last = recent_runs(module_engine, limit=1)[0]
    assert (last["outcome"], last["message"], last["dataset_id"]) == ("rejected", message, "RVU25A")


def test_duplicate_names_the_first_occurrence_too(
    module_engine: Engine,
    published: Any,
    copy_of: Callable[[str], Path],
) -> None:
    """The duplicate-key message says which key and where its first occurrence is."""
    folder = copy_of("rvu25a")
    message, line = _ingest_copy(module_engine, folder, "PPRRVU25_JAN.txt", duplicate_key)
    assert re.search(
        rf"duplicate hcpcs='\w{{5}}' modifier='\w*' \(first at line {line - 1}\)", message
    )


def unknown_locality(lines: list[bytes]) -> tuple[list[bytes], int]:
    """Move the 30,000th ZIP to locality 77 of its carrier, which GPCI does not have."""
    index = 29_999
    return [
        *lines[:index],
        lines[index][:12] + b"77" + lines[index][14:],
        *lines[index + 1 :],
    ], index + 1


def test_zip_with_a_locality_missing_from_gpci_is_refused(
    module_engine: Engine,
    published: Any,
    copy_of: Callable[[str], Path],
) -> None:
    """A changed ZIP file whose ZIP points at an unknown locality is refused at that line."""
    before = list_zip_datasets(module_engine)
    folder = copy_of("zip-locality-2025q4")
    message, line = _ingest_copy(module_engine, folder, "ZIP5_OCT2025.txt", unknown_locality)
    assert message.startswith(f"ZIP5_OCT2025.txt, line {line}: carrier ")
    assert "locality 77 is not in the GPCI file of RVU25A" in message
    assert list_zip_datasets(module_engine) == before
    assert load_published(module_engine) == published


def test_missing_file_kind_is_refused_before_anything_is_read(
    module_engine: Engine,
    published: Any,
    copy_of: Callable[[str], Path],
) -> None:
    """A release folder without its ANES file is refused as a whole and logged."""
    folder = copy_of("rvu25b")
    (folder / "ANES2025.txt").unlink()
    with pytest.raises(FileRejected, match="RVU25B: no ANES file"):
        ingest_path(module_engine, folder, lambda _line: None)
    assert [r.meta.release_id for r in load_published(module_engine)[0]] == ["RVU25A"]
    assert recent_runs(module_engine, limit=1)[0]["outcome"] == "rejected"
