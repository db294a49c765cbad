"""Whole-file and cross-file checks on parsed CMS files, before anything is published.

Contract: every check either passes, returns notes (tolerated, known quirks worth a line in
the ingest output), or raises :class:`~cms_pricing.errors.FileRejected` naming the file and
the 1-based line of the offending record (0 for whole-file faults such as a row count).
Field-level checks (every number parses, every record has its width) are the parsers' job.

- Row counts are plausible (``ROW_LIMITS``): a truncated file fails even when it parses.
- Keys are unique (``KEY_FIELDS``); the message names the line of the *second* occurrence.
- Every (carrier, locality) of ANES, LOCCO and OPPSCAP is in the release's GPCI file, and
  ANES has about as many rows as GPCI. OPPSCAP's six California localities listed under
  both 01112 and 01182 (GPCI knows them only under 01182) are a real CMS quirk: tolerated
  and noted (``OPPSCAP_EXTRA_LOCALITIES``).
- Every ZIP5 row's (carrier, locality) is in the GPCI file of the newest published release,
  and the whole file is one year/quarter.

Parsed rows carry no line numbers, so on the (rare) failure path ``line_of`` finds the
record's line again in the file's bytes: the physical line (``.txt``, ``.csv``) or sheet row
(``.xlsx``) whose record has the same key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.parsers.common import csv_rows, text_lines, xlsx_rows

Key = tuple[str, ...]

# Inclusive bounds on data rows; None: no upper bound. 2025: PPRRVU 18,865-19,090, GPCI /
# ANES 109, LOCCO 110, OPPSCAP 16,100, ZIP5 42,956.
ROW_LIMITS: dict[str, tuple[int, int | None]] = {
    "pprrvu": (10_000, None),
    "gpci": (100, 130),
    "locco": (100, 200),
    "anes": (100, 130),
    "oppscap": (1_000, None),
    "zip5": (40_000, None),
    # The other schedules, 2025 Q1: CLFS 2,087; DMEPOS 184,811 (3,487 codes x 53 areas);
    # DMEPEN 2,650; rural ZIPs 15,913; former CBA fees 79,537, ZIPs 16,119, mail order 8;
    # ASP 877; anesthesia base units 276. The floors catch a file cut at a row boundary.
    "clfs": (1_500, None),
    "dmepos": (100_000, None),
    "dmepen": (1_000, None),
    "dme_rural_zip": (10_000, None),
    "cba_fee": (40_000, None),
    "cba_zip": (10_000, None),
    "cba_mail_order": (5, None),
    "asp": (600, None),
    "anes_base_units": (250, None),
    # OPPS CY 2025 final rule: Addendum B 18,682 codes, D1 28 status indicators; the OPPS
    # wage index 471 CBSAs and state-rural codes; ASC 2025 Q1: AA 4,183, BB 2,454 codes,
    # DD1 21 payment indicators, FF 4,183.
    "opps_rates": (15_000, None),
    "opps_indicators": (20, 60),
    "wage_index": (400, None),
    "asc_aa": (3_000, None),
    "asc_bb": (1_500, None),
    "asc_indicators": (15, 60),
    "asc_devices": (3_000, None),
}
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "pprrvu": ("hcpcs", "modifier"),
    "gpci": ("mac", "locality"),
    "anes": ("mac", "locality"),
    "oppscap": ("hcpcs", "modifier", "carrier", "locality"),
    "zip5": ("zip5",),
    "clfs": ("hcpcs", "modifier"),
    "dmepos": ("hcpcs", "modifier", "modifier2", "modifier3", "state"),
    "dmepen": ("hcpcs", "modifier", "modifier2", "modifier3", "state"),
    "dme_rural_zip": ("state", "zip5"),
    "cba_fee": ("hcpcs", "modifier", "modifier2", "modifier3", "cba_short_name"),
    "cba_zip": ("zip5",),
    "cba_mail_order": ("hcpcs", "modifier", "modifier2", "modifier3"),
    "asp": ("hcpcs",),
    "anes_base_units": ("code",),
    "opps_rates": ("hcpcs",),
    "opps_indicators": ("indicator",),
    "wage_index": ("cbsa",),
    "asc_aa": ("hcpcs",),
    "asc_bb": ("hcpcs",),
    "asc_indicators": ("indicator",),
    "asc_devices": ("hcpcs",),
}
LOCALITY_FIELDS: dict[str, tuple[str, str]] = {
    "anes": ("mac", "locality"),
    "locco": ("mac", "locality"),
    "oppscap": ("carrier", "locality"),
    "zip5": ("carrier", "locality"),
}
# RVU25A-D OPPSCAP repeat California localities 17, 18, 71-74 under carrier 01112 as well as
# 01182; GPCI and the ZIP file place them only under 01182.
OPPSCAP_EXTRA_LOCALITIES = frozenset(("01112", loc) for loc in ("17", "18", "71", "72", "73", "74"))
ANES_GPCI_TOLERANCE = 5


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One file's bytes and its parsed rows, as validation sees them."""

    kind: str
    name: str
    data: bytes
    rows: Sequence[Any]


def check_file(parsed: ParsedFile) -> None:
    """Row count within ``ROW_LIMITS`` and no duplicate key."""
    check_row_count(parsed)
    check_unique(parsed)


def check_release(files: Mapping[str, ParsedFile]) -> list[str]:
    """All checks of one release's files (keyed by kind); returns notes on tolerated quirks."""
    for parsed in files.values():
        check_file(parsed)
    gpci = files["gpci"]
    keys = set(map(attrgetter(*KEY_FIELDS["gpci"]), gpci.rows))
    check_similar_count(files["anes"], gpci)
    check_localities(files["anes"], keys, gpci.name)
    check_localities(files["locco"], keys, gpci.name)
    extra = check_localities(files["oppscap"], keys, gpci.name, OPPSCAP_EXTRA_LOCALITIES)
    if not extra:
        return []
    listed = ", ".join(f"{c}-{loc}" for c, loc in sorted(extra))
    return [f"{files['oppscap'].name}: localities {listed} not in GPCI (known CMS quirk, kept)"]


def check_schedule(files: Mapping[str, ParsedFile]) -> list[str]:
    """The checks of one dataset of another fee schedule: each file's row count and keys."""
    for parsed in files.values():
        check_file(parsed)
    return []


def check_zip(parsed: ParsedFile, gpci_keys: AbstractSet[Key], gpci_source: str) -> str:
    """All checks of a ZIP5 file against the newest release's GPCI; returns its year/quarter."""
    check_file(parsed)
    quarter = parsed.rows[0].year_quarter
    for index, row in enumerate(parsed.rows):
        if row.year_quarter != quarter:
            reason = (
                f"year/quarter {row.year_quarter!r} differs from the first record's {quarter!r}"
            )
            raise _rejected(parsed, index, reason)
    check_localities(parsed, gpci_keys, gpci_source)
    return str(quarter)


def check_row_count(parsed: ParsedFile) -> None:
    """Refuses a file whose number of data rows is outside ``ROW_LIMITS`` for its kind."""
    low, high = ROW_LIMITS[parsed.kind]
    count = len(parsed.rows)
    if count < low or (high is not None and count > high):
        expected = f"at least {low:,}" if high is None else f"{low:,} to {high:,}"
        reason = f"{count:,} {parsed.kind.upper()} rows, expected {expected}"
        raise FileRejected(parsed.name, 0, reason)


def check_unique(parsed: ParsedFile) -> None:
    """Refuses the second occurrence of a key (kinds without a key are not checked)."""
    fields = KEY_FIELDS.get(parsed.kind)
    if fields is None:
        return
    key_of = _key_getter(fields)
    first: dict[Key, int] = {}
    for index, row in enumerate(parsed.rows):
        key = key_of(row)
        if key in first:
            where = line_of(parsed, first[key])
            reason = f"duplicate {_describe(fields, key)}" + (
                f" (first at line {where})" if where else ""
            )
            raise _rejected(parsed, index, reason)
        first[key] = index


def check_similar_count(parsed: ParsedFile, reference: ParsedFile) -> None:
    """Refuses ``parsed`` when its row count is far from ``reference``'s (ANES vs GPCI)."""
    if abs(len(parsed.rows) - len(reference.rows)) > ANES_GPCI_TOLERANCE:
        reason = f"{len(parsed.rows)} rows, but {reference.name} has {len(reference.rows)}"
        raise FileRejected(parsed.name, 0, reason)


def check_localities(
    parsed: ParsedFile,
    known: AbstractSet[Key],
    known_source: str,
    tolerated: frozenset[Key] = frozenset(),
) -> set[Key]:
    """Refuses a row whose (carrier, locality) is not in ``known``; returns tolerated ones."""
    key_of = _key_getter(LOCALITY_FIELDS[parsed.kind])
    seen_tolerated: set[Key] = set()
    for index, row in enumerate(parsed.rows):
        key = key_of(row)
        if key in known:
            continue
        if key in tolerated:
            seen_tolerated.add(key)
            continue
        reason = f"carrier {key[0]} locality {key[1]} is not in {known_source}"
        raise _rejected(parsed, index, reason)
    return seen_tolerated


# --- finding a row's line again ----------------------------------------------------------


def line_of(parsed: ParsedFile, index: int) -> int:
    """The 1-based line (sheet row for ``.xlsx``) of ``parsed.rows[index]``; 0 if not found.

    Rows with equal keys are told apart by counting: the n-th row with a key is on the n-th
    line holding a record with that key.
    """
    fields = KEY_FIELDS.get(parsed.kind) or LOCALITY_FIELDS[parsed.kind]
    key_of = _key_getter(fields)
    key = key_of(parsed.rows[index])
    occurrence = sum(1 for row in parsed.rows[: index + 1] if key_of(row) == key)
    matches = (number for number, keys in _candidates(parsed, key, key_of) if key in keys)
    for seen, number in enumerate(matches, start=1):
        if seen == occurrence:
            return number
    return 0


def _candidates(
    parsed: ParsedFile, key: Key, key_of: Callable[[Any], Key]
) -> Iterator[tuple[int, list[Key]]]:
    """(line, keys of the records on it) for the lines that might hold ``key``."""
    suffix = parsed.name.rsplit(".", 1)[-1].lower()
    if suffix == "txt":
        yield from _text_candidates(parsed, key, key_of)
        return
    rows = (
        xlsx_rows(parsed.name, parsed.data)
        if suffix == "xlsx"
        else csv_rows(parsed.name, parsed.data)
    )
    for number, cells in rows:
        codes = {
            cell.zfill(len(part)) if cell.isdigit() else cell for cell in cells for part in key
        }
        if all(part in codes for part in key):
            yield number, [key]


def _text_candidates(
    parsed: ParsedFile, key: Key, key_of: Callable[[Any], Key]
) -> Iterator[tuple[int, list[Key]]]:
    """Fixed-width and report-style records stand alone: re-parse each likely line by itself."""
    for number, line in enumerate(text_lines(parsed.name, parsed.data), start=1):
        if not all(part in line for part in key):
            continue
        try:
            rows = parse_file(parsed.kind, parsed.name, line.encode("utf-8"))
        except FileRejected:
            continue
        yield number, [key_of(row) for row in rows]


def _rejected(parsed: ParsedFile, index: int, reason: str) -> FileRejected:
    return FileRejected(parsed.name, line_of(parsed, index), reason)


def _key_getter(fields: tuple[str, ...]) -> Callable[[Any], Key]:
    getters = [attrgetter(name) for name in fields]
    return lambda row: tuple(get(row) for get in getters)


def _describe(fields: tuple[str, ...], key: Key) -> str:
    return " ".join(f"{name}={value!r}" for name, value in zip(fields, key, strict=True))
