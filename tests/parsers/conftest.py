"""Fixtures of the parser tests: real CMS files parsed once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.reference.parsers import detect_kind, parse_file

Parsed = Callable[[str, str], list[Any]]


@pytest.fixture(scope="session")
def parsed(cms_data: Path) -> Parsed:
    """``parsed(folder, file_name)``: the rows of a real 2025 file, parsed once per session."""
    cache: dict[tuple[str, str], list[Any]] = {}

    def parse(folder: str, file_name: str) -> list[Any]:
        key = (folder, file_name)
        if key not in cache:
            kind = detect_kind(file_name)
            assert kind is not None, file_name
            data = (cms_data / "2025" / folder / file_name).read_bytes()
            cache[key] = parse_file(kind, file_name, data)
        return cache[key]

    return parse
