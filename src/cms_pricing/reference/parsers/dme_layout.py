"""Cell rules shared by the DMEPOS family of files (DMEPOS, DMEPEN, rural ZIP, former CBA).

Layout facts every DMEPOS parser relies on (DMEREAD 2025, Attachments A-1 to A-5):

* HCPCS codes are 5 letters/digits; a modifier cell is blank or 2 letters/digits.
* Money has two places; the former-CBA files write amounts of 1,000 or more with a
  thousands comma (``"1,041.26"``), which is accepted only in its well-formed shape.
* The ``.txt`` forms of the former-CBA files are the ``.csv`` forms with a tab instead of the
  comma (quoted cells and all): :func:`tsv_rows` reads them with the same csv rules.
* The header row is found by its first cell; its cells name the columns, checked by name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Q2, Row, decode, to_decimal

_HCPCS = re.compile(r"[A-Z0-9]{5}")
_MODIFIER = re.compile(r"(?:[A-Z0-9]{2})?")
_STATE = re.compile(r"[A-Z]{2}")
_ZIP5 = re.compile(r"[0-9]{5}")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+")


def tsv_rows(file_name: str, data: bytes) -> list[Row]:
    """The rows of a tab-separated file (csv quoting rules), numbered by physical line."""
    reader = csv.reader(io.StringIO(decode(file_name, data), newline=""), delimiter="\t")
    try:
        return [(reader.line_num, [cell.strip() for cell in cells]) for cells in reader]
    except csv.Error as exc:
        raise FileRejected(file_name, reader.line_num, f"malformed record: {exc}") from exc


def header_row(file_name: str, rows: Iterable[Row], first: str) -> Row:
    """The header row, without trailing blank cells: the first row whose first cell is ``first``."""
    for line, cells in rows:
        if cells and cells[0].upper() == first.upper():
            used = len(cells)
            while used and not cells[used - 1]:
                used -= 1
            return line, cells[:used]
    raise FileRejected(file_name, 0, f"header row starting {first!r} not found")


def expect_columns(file_name: str, header: Row, names: Sequence[str]) -> None:
    """Refuses a header whose leading cells are not ``names`` (compared case-insensitively)."""
    line, cells = header
    for index, name in enumerate(names):
        found = cells[index] if index < len(cells) else ""
        if found.upper() != name.upper():
            raise FileRejected(file_name, line, f"missing column {name!r} (column {index + 1})")


def hcpcs(raw: str, file_name: str, line: int) -> str:
    """A HCPCS code cell: exactly 5 letters or digits."""
    if not _HCPCS.fullmatch(raw):
        raise FileRejected(file_name, line, f"hcpcs: not a 5-character code: {raw!r}")
    return raw


def modifier(raw: str, file_name: str, line: int, field: str) -> str:
    """A modifier cell: blank or 2 letters/digits."""
    if not _MODIFIER.fullmatch(raw):
        raise FileRejected(file_name, line, f"{field}: not a 2-character modifier: {raw!r}")
    return raw


def state(raw: str, file_name: str, line: int) -> str:
    """A 2-letter state or territory code."""
    if not _STATE.fullmatch(raw):
        raise FileRejected(file_name, line, f"state: not a 2-letter code: {raw!r}")
    return raw


def zip5(raw: str, file_name: str, line: int) -> str:
    """A 5-digit ZIP code."""
    if not _ZIP5.fullmatch(raw):
        raise FileRejected(file_name, line, f"zip: not a 5-digit ZIP code: {raw!r}")
    return raw


def year_quarter(raw: str, file_name: str, line: int) -> str:
    """A ``YYYYQQ`` year/quarter cell (``202501``)."""
    if not (len(raw) == 6 and raw.isdigit() and raw.isascii() and raw[4:] in _QUARTERS):
        raise FileRejected(file_name, line, f"year/quarter: not YYYY0Q: {raw!r}")
    return raw


_QUARTERS = frozenset({"01", "02", "03", "04"})


def money(raw: str, file_name: str, line: int, field: str) -> Decimal:
    """A two-place amount; a well-formed thousands comma (``1,041.26``) is allowed."""
    text = raw.strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return to_decimal(text, Q2, file_name, line, field)


def unique(file_name: str, line: int, seen: set[Hashable], key: Hashable) -> None:
    """Records ``key`` as seen; a key seen before is a duplicate record."""
    if key in seen:
        raise FileRejected(file_name, line, f"duplicate record for {key!r}")
    seen.add(key)
