"""Find the CMS datasets under a path: MPFS RVU release folders and ZIP5 locality folders.

Contract:

- ``discover(path)`` accepts one dataset folder (``.../2025/rvu25b``) or any tree above such
  folders (walked, sorted). It reads file names only, never contents.
- A folder holding PPRRVU/GPCI/LOCCO/ANES/OPPSCAP files is a *release* folder. Its release id
  comes from the folder name (``rvu25b`` -> ``RVU25B``, ``rvu25ar`` -> ``RVU25AR``) or else
  from its ``RVU25x.pdf``. The effective date follows the letter: A Jan 1, B Apr 1, C Jul 1,
  D Oct 1 of 2000+YY; a correction (``RVU25AR``) keeps its letter's date. All five kinds
  must be present.
- A folder holding a ``ZIP5_*`` file is a *ZIP* folder (its dataset id comes from the file's
  year/quarter field, so only ingestion knows it).
- CMS publishes each file in several forms; exactly one is picked per kind, ``.txt`` before
  ``.csv`` before ``.xlsx``. Two files of one kind in the same best form are refused.
- A folder holding files of another fee schedule (CLFS, DMEPOS, ASP, anesthesia base units,
  OPPS, ASC, the OPPS wage index; the kinds of ``reference/schedules.py``) is a *schedule*
  folder: one dataset per schedule and folder, its required kinds present, one file picked
  per kind as above. Files of no kind beside them are not read (the OPPS final rule's
  addenda other than B and D1, ASC DD2 and EE).
- Folders whose data files are all of no kind get a note in ``Discovery.notes``.
- Faults (no datasets at all, an unknown release id, a missing kind, an ambiguous pick)
  raise :class:`~cms_pricing.errors.FileRejected` naming the folder, line 0.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import detect_kind
from cms_pricing.reference.schedules import BY_SCHEDULE, KIND_SCHEDULE

RELEASE_KINDS = ("pprrvu", "gpci", "locco", "anes", "oppscap")
FORM_PREFERENCE = (".txt", ".csv", ".xlsx")
DATA_SUFFIXES = frozenset({".txt", ".csv", ".xlsx", ".xls", ".zip"})
QUARTER_MONTH = {"A": 1, "B": 4, "C": 7, "D": 10}

_FOLDER_ID = re.compile(r"^rvu(\d{2})([a-d])(r\d*)?$", re.IGNORECASE)
_PDF_ID = re.compile(r"^rvu(\d{2})([a-d])(r\d*)?\.pdf$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReleaseSource:
    """The files of one MPFS RVU release folder, one path per kind."""

    release_id: str  # "RVU25B"
    year: int
    effective_from: date
    folder: Path
    files: dict[str, Path]  # kind -> chosen file


@dataclass(frozen=True, slots=True)
class ZipSource:
    """A ZIP5 locality folder and its chosen ``ZIP5_*`` file."""

    folder: Path
    file: Path


@dataclass(frozen=True, slots=True)
class ScheduleSource:
    """The files of one dataset of another fee schedule, one path per kind."""

    schedule: str  # "clfs", "dmepos", "asp", "anesthesia"
    folder: Path
    files: dict[str, Path]  # kind -> chosen file


@dataclass(frozen=True, slots=True)
class Discovery:
    releases: list[ReleaseSource] = field(default_factory=list)
    zips: list[ZipSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def discover(path: Path) -> Discovery:
    """Every release and ZIP folder at or under ``path``; releases by effective date."""
    if not path.is_dir():
        raise FileRejected(str(path), 0, "not a folder")
    found = Discovery()
    for folder in _folders(path):
        _classify(folder, found)
    if not found.releases and not found.zips and not found.schedules:
        raise FileRejected(str(path), 0, "no MPFS release, ZIP5 or fee schedule files found")
    found.releases.sort(key=lambda r: (r.effective_from, r.release_id))
    return found


def release_id_and_date(name: str) -> tuple[str, int, date] | None:
    """(``RVU25B``, 2025, 2025-04-01) from a folder name or ``RVU25B.pdf``; None otherwise."""
    match = _FOLDER_ID.match(name) or _PDF_ID.match(name)
    if match is None:
        return None
    yy, letter, correction = match.group(1), match.group(2).upper(), match.group(3) or ""
    year = 2000 + int(yy)
    return f"RVU{yy}{letter}{correction.upper()}", year, date(year, QUARTER_MONTH[letter], 1)


def _folders(root: Path) -> list[Path]:
    out = []
    for current, dirs, _files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.append(Path(current))
    return out


def _classify(folder: Path, found: Discovery) -> None:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    by_kind: dict[str, list[Path]] = {}
    for file in files:
        kind = detect_kind(file.name)
        if kind is not None:
            by_kind.setdefault(kind, []).append(file)
    if any(kind in by_kind for kind in RELEASE_KINDS):
        found.releases.append(_release(folder, files, by_kind))
    if "zip5" in by_kind:
        found.zips.append(ZipSource(folder, _pick(folder, "zip5", by_kind["zip5"])))
    found.schedules.extend(_schedules(folder, by_kind))
    if not by_kind and any(f.suffix.lower() in DATA_SUFFIXES for f in files):
        found.notes.append(
            f"{folder}: not an MPFS release, ZIP5 or priced fee schedule folder; ignored for now"
        )


def _schedules(folder: Path, by_kind: dict[str, list[Path]]) -> list[ScheduleSource]:
    """One source per schedule whose files the folder holds."""
    named = sorted({KIND_SCHEDULE[k] for k in by_kind if k in KIND_SCHEDULE})
    out = []
    for schedule in named:
        declared = BY_SCHEDULE[schedule]
        missing = [kind for kind in declared.required if kind not in by_kind]
        if missing:
            raise FileRejected(
                str(folder), 0, f"{schedule.upper()}: no {', '.join(missing).upper()} file"
            )
        chosen = {k: _pick(folder, k, by_kind[k]) for k in declared.kinds if k in by_kind}
        out.append(ScheduleSource(schedule, folder, chosen))
    return out


def _release(folder: Path, files: list[Path], by_kind: dict[str, list[Path]]) -> ReleaseSource:
    ident = _release_ident(folder, files)
    missing = [kind.upper() for kind in RELEASE_KINDS if kind not in by_kind]
    if missing:
        raise FileRejected(str(folder), 0, f"{ident[0]}: no {', '.join(missing)} file")
    chosen = {kind: _pick(folder, kind, by_kind[kind]) for kind in RELEASE_KINDS}
    return ReleaseSource(ident[0], ident[1], ident[2], folder, chosen)


def _release_ident(folder: Path, files: list[Path]) -> tuple[str, int, date]:
    for name in (folder.name, *(f.name for f in files if f.suffix.lower() == ".pdf")):
        ident = release_id_and_date(name)
        if ident is not None:
            return ident
    reason = "cannot tell the release id: name the folder like rvu25a or add its RVU25A.pdf"
    raise FileRejected(str(folder), 0, reason)


def _pick(folder: Path, kind: str, candidates: list[Path]) -> Path:
    """The one file of ``kind`` in its preferred form."""
    ranked = sorted(candidates, key=lambda p: (_form_rank(p), p.name))
    best = [p for p in ranked if _form_rank(p) == _form_rank(ranked[0])]
    if len(best) > 1:
        names = ", ".join(p.name for p in best)
        raise FileRejected(str(folder), 0, f"more than one {kind.upper()} file: {names}")
    return best[0]


def _form_rank(path: Path) -> int:
    suffix = path.suffix.lower()
    return FORM_PREFERENCE.index(suffix) if suffix in FORM_PREFERENCE else len(FORM_PREFERENCE)
