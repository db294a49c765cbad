"""The fee schedules other than the MPFS, declared: their file kinds, row types and dates.

Each ``Declaration`` says which file kinds make one dataset of a schedule (``required``
and ``optional``; every kind has one parser module in ``reference/parsers``), and how the
dataset is named and dated from its files (``dated``). Ingestion (``reference/publish.py``)
reads, parses, validates and publishes a dataset from this declaration alone; storage
(``db/schedules.py``) reads rows back with ``ROW_TYPES``; the engine indexes them
(``engine/schedules.py``).

Dates: a quarterly file covers its quarter (``effective_to`` = the quarter's last day); the
anesthesia base units cover their year and every later day until a newer file replaces them
(``effective_to`` None); the OPPS final rule and the wage index cover their calendar year,
an ASC update its quarter. docs/datasets.md says where each date comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import asc as asc_parser
from cms_pricing.reference.parsers import asp as asp_parser
from cms_pricing.reference.rows import (
    AnesBaseUnitRow,
    AscDeviceRow,
    AscIndicatorRow,
    AscRateRow,
    AspRow,
    CbaFeeRow,
    CbaZipRow,
    ClfsRow,
    DmeposFeeRow,
    DmeRuralZipRow,
    MailOrderFeeRow,
    OppsIndicatorRow,
    OppsRateRow,
    WageIndexRow,
)

Dated = tuple[str, date, date | None]  # (dataset id, effective from, effective to)


@dataclass(frozen=True, slots=True)
class SourceRead:
    """A file of a dataset as ingestion read it."""

    kind: str
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Declaration:
    schedule: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # (folder, files read by kind, parsed rows by kind) -> (dataset id, from, to)
    dated: Callable[[Path, Mapping[str, SourceRead], Mapping[str, Sequence[Any]]], Dated]

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.required + self.optional


def quarter(year: int, number: int) -> tuple[date, date]:
    """The first and last day of quarter ``number`` (1-4) of ``year``."""
    start = date(year, 3 * number - 2, 1)
    following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return start, following - timedelta(days=1)


_QUARTER_NAME = re.compile(r"(20\d{2})\s*Q([1-4])", re.IGNORECASE)
_CY = re.compile(r"CY[_ ]?(20\d{2})", re.IGNORECASE)
_RULE_YEAR = re.compile(r"(20\d{2})\s*N?FRM|CY[_ -]?(20\d{2})", re.IGNORECASE)


def _quarterly(prefix: str, year: int, number: int) -> Dated:
    start, end = quarter(year, number)
    return f"{prefix}-{year}Q{number}", start, end


def _clfs_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """``CLFS 2025 Q1V1``: the year and quarter of the file name."""
    name = files["clfs"].name
    found = _QUARTER_NAME.search(name) or _QUARTER_NAME.search(folder.name)
    if found is None:
        raise FileRejected(name, 0, "cannot tell the CLFS quarter: the name has no '2025 Q1'")
    return _quarterly("CLFS", int(found[1]), int(found[2]))


def _dmepos_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """The rural ZIP file's year/quarter (``202501``), else the folder (``dmepos-2025q1``)."""
    rural: Sequence[DmeRuralZipRow] = rows.get("dme_rural_zip", ())
    if rural:
        text = rural[0].year_quarter
        return _quarterly("DMEPOS", int(text[:4]), int(text[4:]))
    found = _QUARTER_NAME.search(folder.name.replace("q", " Q").replace("-", " "))
    if found is None:
        raise FileRejected(
            files["dmepos"].name, 0, "cannot tell the DMEPOS quarter: no rural ZIP file"
        )
    return _quarterly("DMEPOS", int(found[1]), int(found[2]))


def _asp_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """The effective period written in the file's third line."""
    read = files["asp"]
    start, end = asp_parser.effective_period(read.name, read.data)
    return f"ASP-{start.year}Q{(start.month - 1) // 3 + 1}", start, end


def _anesthesia_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """``CY_2022_Anesthesia_Base_Units``: the calendar year of the name; no end."""
    name = files["anes_base_units"].name
    found = _CY.search(name) or _CY.search(folder.name.replace("-", " ").upper())
    if found is None:
        raise FileRejected(name, 0, "cannot tell the year of the base units: no 'CY_2022'")
    year = int(found[1])
    return f"ANESBU-{year}", date(year, 1, 1), None


def _year(start: date) -> tuple[date, date]:
    return start, date(start.year, 12, 31)


def _opps_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """``2025 NFRM Addendum B``: the final rule's calendar year, from the name or folder
    (``opps-cy2025-final-rule``)."""
    name = files["opps_rates"].name
    found = _RULE_YEAR.search(name) or _RULE_YEAR.search(folder.name)
    if found is None:
        raise FileRejected(name, 0, "cannot tell the OPPS year: no '2025 NFRM' or 'cy2025'")
    year = int(found[1] or found[2])
    return (f"OPPS-{year}", *_year(date(year, 1, 1)))


def _asc_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """``Jan-2025`` in Addendum AA's name (else its header's month): that quarter."""
    read = files["asc_aa"]
    return _quarterly("ASC", *asc_parser.quarter_of(read.name, read.data))


def _wage_index_dated(
    folder: Path, files: Mapping[str, SourceRead], rows: Mapping[str, Sequence[Any]]
) -> Dated:
    """The rows' one effective date, to the end of its calendar year."""
    name = files["wage_index"].name
    dates = {row.effective_date for row in rows["wage_index"]}
    if len(dates) != 1:
        listed = ", ".join(sorted(map(str, dates)))
        raise FileRejected(name, 0, f"expected one effective date, found {listed or 'none'}")
    start = dates.pop()
    return (f"OPPSWI-{start.year}", *_year(start))


DECLARATIONS: tuple[Declaration, ...] = (
    Declaration("clfs", ("clfs",), (), _clfs_dated),
    Declaration(
        "dmepos",
        ("dmepos",),
        ("dmepen", "dme_rural_zip", "cba_fee", "cba_zip", "cba_mail_order"),
        _dmepos_dated,
    ),
    Declaration("asp", ("asp",), (), _asp_dated),
    Declaration("anesthesia", ("anes_base_units",), (), _anesthesia_dated),
    Declaration("opps", ("opps_rates",), ("opps_indicators",), _opps_dated),
    Declaration("asc", ("asc_aa",), ("asc_bb", "asc_indicators", "asc_devices"), _asc_dated),
    Declaration("wage_index", ("wage_index",), (), _wage_index_dated),
)
BY_SCHEDULE = {d.schedule: d for d in DECLARATIONS}
KIND_SCHEDULE = {kind: d.schedule for d in DECLARATIONS for kind in d.kinds}

ROW_TYPES: dict[str, type[Any]] = {
    "clfs": ClfsRow,
    "dmepos": DmeposFeeRow,
    "dmepen": DmeposFeeRow,
    "dme_rural_zip": DmeRuralZipRow,
    "cba_fee": CbaFeeRow,
    "cba_zip": CbaZipRow,
    "cba_mail_order": MailOrderFeeRow,
    "asp": AspRow,
    "anes_base_units": AnesBaseUnitRow,
    "opps_rates": OppsRateRow,
    "opps_indicators": OppsIndicatorRow,
    "wage_index": WageIndexRow,
    "asc_aa": AscRateRow,
    "asc_bb": AscRateRow,
    "asc_indicators": AscIndicatorRow,
    "asc_devices": AscDeviceRow,
}
