"""Whole datasets as they pass between ingestion, storage and the pricing engine.

A ``ReleaseData`` is one quarterly MPFS RVU release (RVU25A..D) with all its rows; a
``ZipData`` is one ZIP5-to-locality file. Ingestion builds them from parsed files,
storage writes and reads them back, and ``engine.snapshot`` turns the published ones
into the immutable in-memory snapshot. Plain data only: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file a dataset was built from."""

    kind: str  # "pprrvu", "gpci", "locco", "anes", "oppscap", "zip5"
    name: str  # file name as published, e.g. "PPRRVU2025_Oct.txt"
    sha256: str  # hex digest of the file's bytes
    rows: int  # data rows parsed


@dataclass(frozen=True, slots=True)
class Replacement:
    """A published version of a dataset that a correction (same id, new content) replaced."""

    kind: str  # "release", "zip", "schedule": the table the dataset lives in
    dataset_id: str  # "RVU25A", "ZIP5-20254", "CLFS-2025Q1"
    sha256: str  # the replaced version's content hash
    published_at: datetime  # when the replaced version had been published
    replaced_by: str  # the content hash that replaced it
    replaced_at: datetime  # when it was replaced (the new version's publication)


@dataclass(frozen=True, slots=True)
class ReleaseMeta:
    release_id: str  # "RVU25A"
    year: int  # 2025
    effective_from: date  # 2025-01-01
    sha256: str  # hash over the sorted (kind, sha256) of its files: the content version
    files: tuple[SourceFile, ...]
    published_at: datetime | None = None  # set by storage when published


@dataclass(frozen=True, slots=True)
class ReleaseData:
    meta: ReleaseMeta
    rvus: list[RvuRow] = field(default_factory=list)
    gpcis: list[GpciRow] = field(default_factory=list)
    localities: list[LocalityCountyRow] = field(default_factory=list)
    anes: list[AnesCfRow] = field(default_factory=list)
    oppscap: list[OppsCapRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ZipMeta:
    dataset_id: str  # "ZIP5-20254"
    year_quarter: str  # "20254"
    sha256: str
    files: tuple[SourceFile, ...]
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZipData:
    meta: ZipMeta
    rows: list[Zip5Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScheduleMeta:
    """One dataset of a fee schedule other than the MPFS (CLFS, DMEPOS, ASP, anesthesia)."""

    schedule: str  # "clfs", "dmepos", "asp", "anesthesia"
    dataset_id: str  # "CLFS-2025Q1", "DMEPOS-2025Q1", "ASP-2025Q1", "ANESBU-2022"
    effective_from: date
    effective_to: date | None  # the last day the file covers; None: until replaced
    sha256: str  # content_sha256 over its files
    files: tuple[SourceFile, ...]
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScheduleData:
    """A schedule dataset with its rows, by file kind (``{"clfs": [ClfsRow, ...]}``)."""

    meta: ScheduleMeta
    rows: Mapping[str, Sequence[Any]] = field(default_factory=dict)
