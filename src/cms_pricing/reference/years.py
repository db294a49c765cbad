"""The year constants (``reference/year_constants.toml``): read and checked here, outside the
engine, and handed to it as plain data (``engine/constants.py``; the snapshot carries them).

``load()`` returns the packaged file's ``YearTable``, ``read(path)`` another file's (tests);
every year must give every key of ``YearConstants`` as a decimal string with a non-empty
source. A malformed file raises ``ValueError`` naming the year and key.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cms_pricing.engine.constants import YearConstants, YearTable

KEYS = tuple(f.name for f in fields(YearConstants) if f.name not in ("year", "sources"))


@lru_cache(maxsize=1)
def load() -> YearTable:
    """The packaged table, by year."""
    text = resources.files("cms_pricing.reference").joinpath("year_constants.toml")
    return parse(text.read_text("utf-8"))


def read(path: Path) -> YearTable:
    """The table of a constants file laid out as the packaged one."""
    return parse(path.read_text("utf-8"))


def parse(text: str) -> YearTable:
    return YearTable.of_years(
        {int(year): _year(int(year), table) for year, table in tomllib.loads(text).items()}
    )


def _year(year: int, table: dict[str, Any]) -> YearConstants:
    values: dict[str, Decimal] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        entry = table.get(key)
        if not isinstance(entry, dict) or not str(entry.get("source", "")).strip():
            raise ValueError(f"year_constants.toml [{year}] {key}: needs a value and a source")
        try:
            values[key] = Decimal(str(entry["value"]))
        except (KeyError, InvalidOperation):
            raise ValueError(f"year_constants.toml [{year}] {key}: not a decimal") from None
        sources[key] = str(entry["source"])
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ValueError(f"year_constants.toml [{year}]: unknown keys {', '.join(unknown)}")
    return YearConstants(year=year, sources=MappingProxyType(sources), **values)
