"""Parsers for the CMS files: an MPFS RVU release, the ZIP5 locality file and the other fee
schedules (CLFS, DMEPOS, ASP, anesthesia base units, the OPPS and ASC addenda, the OPPS
wage index).

``parse_file(kind, file_name, data)`` turns a file's bytes into typed rows
(:mod:`cms_pricing.reference.rows`); the form (``.txt``, ``.csv``, ``.xlsx``) is chosen by
the name's suffix, and the three forms of one file give equal rows wherever CMS wrote the
same data. Parsers only parse: no file system, no database, no logging. Every fault raises
:class:`~cms_pricing.errors.FileRejected` naming the file and the 1-based line (0: the
whole file). Each module's docstring states its layout contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Literal, overload

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import (
    anes,
    anes_base_units,
    asc,
    asp,
    cba,
    clfs,
    dme_rural,
    dmepen,
    dmepos,
    gpci,
    locco,
    opps,
    oppscap,
    pprrvu,
    wage_index,
    zip5,
)
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

__all__ = ["FORMS", "KINDS", "ParsedRow", "detect_kind", "parse_file"]

FORMS = ("txt", "csv", "xlsx")

ParsedRow = Any
_Parser = Callable[[str, bytes], Sequence[Any]]


def _forms(module: ModuleType, stem: str = "parse") -> dict[str, _Parser]:
    """The parse function of each form a module reads (``parse_txt``, ``parse_fee_csv``)."""
    return {f: getattr(module, f"{stem}_{f}") for f in FORMS if hasattr(module, f"{stem}_{f}")}


# kind -> form -> parser. The MPFS release and ZIP kinds first, then the other schedules'
# (reference/schedules.py declares which kinds make a dataset of each).
_PARSERS: dict[str, dict[str, _Parser]] = {
    "pprrvu": _forms(pprrvu),
    "gpci": _forms(gpci),
    "locco": _forms(locco),
    "anes": _forms(anes),
    "oppscap": _forms(oppscap),
    "zip5": _forms(zip5),
    "clfs": _forms(clfs),
    "dmepos": _forms(dmepos),
    "dmepen": _forms(dmepen),
    "dme_rural_zip": _forms(dme_rural),
    "cba_fee": _forms(cba, "parse_fee"),
    "cba_zip": _forms(cba, "parse_zip"),
    "cba_mail_order": _forms(cba, "parse_mail_order"),
    "asp": _forms(asp),
    "anes_base_units": _forms(anes_base_units),
    "opps_rates": _forms(opps),
    "opps_indicators": _forms(opps, "parse_indicators"),
    "wage_index": _forms(wage_index),
    "asc_aa": _forms(asc, "parse_aa"),
    "asc_bb": _forms(asc, "parse_bb"),
    "asc_indicators": _forms(asc, "parse_indicators"),
    "asc_devices": _forms(asc, "parse_devices"),
}
KINDS = tuple(_PARSERS)

# (what the upper-cased file name starts with or contains, kind), tried in order.
_PREFIXES = (
    ("PPRRVU", "pprrvu"),
    ("GPCI", "gpci"),
    ("ANES", "anes"),
    ("OPPSCAP", "oppscap"),
    ("ZIP5_", "zip5"),
    ("CLFS", "clfs"),
    ("DMEPOS", "dmepos"),
    ("DMEPEN", "dmepen"),
    ("DME RURAL ZIP", "dme_rural_zip"),
    ("FORMER CBA FEE SCHEDULE", "cba_fee"),
    ("FORMER CBA ZIP CODE", "cba_zip"),
    ("FORMER CBA NATIONAL MAIL-ORDER", "cba_mail_order"),
)
_CONTAINS = (
    ("LOCCO", "locco"),
    ("ANESTHESIA_BASE_UNITS", "anes_base_units"),
    ("ASP PRICING FILE", "asp"),
    ("ADDENDUM B.", "opps_rates"),
    ("ADDENDUM D1.", "opps_indicators"),
    ("CBSA-WAGE-INDEX", "wage_index"),
    ("ASC-AA.", "asc_aa"),
    ("ASC-BB.", "asc_bb"),
    ("ASC-DD1.", "asc_indicators"),
    ("ASC-FF.", "asc_devices"),
)


def _base_name(file_name: str) -> str:
    return file_name.replace("\\", "/").rsplit("/", 1)[-1].upper()


def _suffix(file_name: str) -> str:
    base = _base_name(file_name)
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def detect_kind(file_name: str) -> str | None:
    """The kind of a CMS file from its name, or None (unknown, ``.pdf``, layout file).

    PPRRVU* -> pprrvu, GPCI* -> gpci, *LOCCO* -> locco, ANES* -> anes, OPPSCAP* ->
    oppscap, ZIP5_* -> zip5; CLFS* -> clfs; DMEPOS* -> dmepos, DMEPEN* -> dmepen,
    "DME Rural ZIP*" -> dme_rural_zip, "Former CBA Fee Schedule*" -> cba_fee, "Former CBA
    ZIP Code*" -> cba_zip, "Former CBA National Mail-Order*" -> cba_mail_order; "*ASP Pricing
    File*" -> asp; "*Anesthesia_Base_Units*" -> anes_base_units; "*Addendum B.*" -> opps_rates,
    "*Addendum D1.*" -> opps_indicators (the other OPPS addenda have none);
    "*cbsa-wage-index*" -> wage_index; "*ASC-AA.*" -> asc_aa, "*ASC-BB.*" -> asc_bb,
    "*ASC-DD1.*" -> asc_indicators, "*ASC-FF.*" -> asc_devices (DD2 and EE have none);
    case-insensitive. Only
    ``.txt``/``.csv``/``.xlsx`` names have a kind: ``RVU25D.pdf``, ``ZIP5lyout.txt`` and
    ``ZIP9lyout.txt`` have none.
    """
    base = _base_name(file_name)
    if _suffix(base) not in FORMS or "LYOUT" in base or "LAYOUT" in base:
        return None
    for prefix, kind in _PREFIXES:
        if base.startswith(prefix):
            return kind
    for part, kind in _CONTAINS:
        if part in base:
            return kind
    return None


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
    forms = _PARSERS.get(kind)
    if forms is None:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {KINDS}")
    form = _suffix(file_name)
    parser = forms.get(form)
    if parser is None:
        raise FileRejected(file_name, 0, f"unsupported form {form!r}; expected {tuple(forms)}")
    return list(parser(file_name, data))
