"""Parsing speed: the four releases' .txt files plus ZIP5 fit well inside the ingest budget."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cms_pricing.reference.parsers import detect_kind, parse_file

FOLDERS = ("rvu25a", "rvu25b", "rvu25c", "rvu25d", "zip-locality-2025q4")


@pytest.mark.slow
def test_all_txt_files_parse_in_a_few_seconds(cms_data: Path) -> None:
    """Every .txt of RVU25A-D and ZIP5 parses in under 10 s (about 2.5 s measured)."""
    files = [
        (kind, path.name, path.read_bytes())
        for folder in FOLDERS
        for path in sorted((cms_data / "2025" / folder).glob("*.txt"))
        if (kind := detect_kind(path.name)) is not None
    ]
    assert len(files) == 21
    start = time.perf_counter()
    total = sum(len(parse_file(kind, name, data)) for kind, name, data in files)
    elapsed = time.perf_counter() - start
    assert total > 180_000
    assert elapsed < 10.0
