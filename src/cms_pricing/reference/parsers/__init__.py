"""Parsers for the CMS files: an MPFS RVU release, the ZIP5 locality file and the other fee
schedules (CLFS, DMEPOS, ASP, anesthesia base units).

``parse_file(kind, file_name, data)`` turns a file's bytes into typed rows
(:mod:`cms_pricing.reference.rows`); the form (``.txt``, ``.csv``, ``.xlsx``) is chosen by
the name's suffix, and the three forms of one file give equal rows wherever CMS wrote the
same data. Parsers only parse: no file system, no database, no logging. Every fault raises
:class:`~cms_pricing.errors.FileRejected` naming the file and the 1-based line (0: the
whole file). Each module's docstring states its layout contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, overload

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import anes, gpci, locco, oppscap, pprrvu, zip5
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

__all__ = ["FORMS", "KINDS", "ParsedRow", "detect_kind", "parse_file"]

KINDS = ("pprrvu", "gpci", "locco", "anes", "oppscap", "zip5")
FORMS = ("txt", "csv", "xlsx")

ParsedRow = RvuRow | GpciRow | LocalityCountyRow | AnesCfRow | OppsCapRow | Zip5Row
_Parser = Callable[[str, bytes], Sequence[ParsedRow]]

_MODULES = {
    "pprrvu": pprrvu,
    "gpci": gpci,
    "locco": locco,
    "anes": anes,
    "oppscap": oppscap,
    "zip5": zip5,
}


def _base_name(file_name: str) -> str:
    return file_name.replace("\\", "/").rsplit("/", 1)[-1].upper()


def _suffix(file_name: str) -> str:
    base = _base_name(file_name)
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def detect_kind(file_name: str) -> str | None:
    """The kind of a release file from its name, or None (unknown, ``.pdf``, layout file).

    PPRRVU* -> pprrvu, GPCI* -> gpci, *LOCCO* -> locco, ANES* -> anes, OPPSCAP* ->
    oppscap, ZIP5_* -> zip5; case-insensitive. Only ``.txt``/``.csv``/``.xlsx`` names have
    a kind: ``RVU25D.pdf``, ``ZIP5lyout.txt`` and ``ZIP9lyout.txt`` have none.
    """
    base = _base_name(file_name)
    if _suffix(base) not in FORMS or "LYOUT" in base or "LAYOUT" in base:
        return None
    for prefix, kind in (
        ("PPRRVU", "pprrvu"),
        ("GPCI", "gpci"),
        ("ANES", "anes"),
        ("OPPSCAP", "oppscap"),
        ("ZIP5_", "zip5"),
    ):
        if base.startswith(prefix):
            return kind
    return "locco" if "LOCCO" in base else None


@overload
def parse_file(kind: Literal["pprrvu"], file_name: str, data: bytes) -> list[RvuRow]: ...
@overload
def parse_file(kind: Literal["gpci"], file_name: str, data: bytes) -> list[GpciRow]: ...
@overload
def parse_file(kind: Literal["locco"], file_name: str, data: bytes) -> list[LocalityCountyRow]: ...
@overload
def parse_file(kind: Literal["anes"], file_name: str, data: bytes) -> list[AnesCfRow]: ...
@overload
def parse_file(kind: Literal["oppscap"], file_name: str, data: bytes) -> list[OppsCapRow]: ...
@overload
def parse_file(kind: Literal["zip5"], file_name: str, data: bytes) -> list[Zip5Row]: ...
@overload
def parse_file(kind: str, file_name: str, data: bytes) -> list[ParsedRow]: ...
def parse_file(kind: str, file_name: str, data: bytes) -> Sequence[ParsedRow]:
    """The typed rows of one file: ``kind`` from :data:`KINDS`, the form from the suffix.

    Raises ``ValueError`` for a kind not in :data:`KINDS` (a caller's bug) and
    ``FileRejected`` for a suffix other than ``.txt``/``.csv``/``.xlsx`` or a bad file.
    """
    module = _MODULES.get(kind)
    if module is None:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {KINDS}")
    form = _suffix(file_name)
    if form not in FORMS:
        raise FileRejected(file_name, 0, f"unsupported form {form!r}; expected {FORMS}")
    parser: _Parser = getattr(module, f"parse_{form}")
    return list(parser(file_name, data))
