"""Reading helpers shared by the OPPS and ASC addenda parsers (``opps.py``, ``asc.py``).

Contract these files share, beyond :mod:`~cms_pricing.reference.parsers.common`'s:

* **Columns by name.** A header row's cells are compared as words: case-insensitive, runs
  of blanks as one, a leading ``<Month> <year>`` dropped (ASC writes ``January 2025 Payment
  Rate``: the next quarter's file says ``April 2025``). A wanted name matches the cell equal
  to it, else the one cell that starts with it (``IRA-22 Adjusted Copayment1`` carries a
  footnote mark; ``Drug and Device Pass-Through Expiration during Calendar Year``).
* **Money** is kept exactly as written, never rounded: ``$911.71``, ``$10,411.22`` (the
  thousands comma; in quotes in the file), ``2082.24`` (no ``$``), ``$58.216`` (drugs: 3
  places). Blank and ``.`` (Addendum B's "no national copayment") read as ``None``.
* **Percentages** are written ``20.000%`` / ``21.29%`` and read as ``Decimal("20.000")``.
* **Junk bytes.** The ISO-8859-1 addenda carry stray ``0xFF`` (``ÿ``) and no-break spaces
  where a Windows export lost a character (``A4341ÿ`` in Addendum B): they are blanks.
* **Duplicates.** A row repeated identically (Addendum BB lists four codes twice) is kept
  once; a second, different row for a key is refused naming its line and the first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import TypeVar

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers.common import Row, decode, require_rows

T = TypeVar("T")

BLANKS = " \t\r\n\xa0\xff"
NO_VALUE = "."

_MONTH = re.compile(
    r"^(january|february|march|april|may|june|july|august|september|october|november"
    r"|december)\s+\d{4}\s+"
)
_MONEY = re.compile(r"\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,3})?")
_NUMBER = re.compile(r"\d+(\.\d+)?|\.\d+")
_CODE = re.compile(r"[A-Z0-9]{5}")
_INDICATOR = re.compile(r"[A-Z][A-Z0-9]?")


def clean(cell: str) -> str:
    """A cell's text with junk bytes as blanks, runs of blanks as one space, stripped."""
    return " ".join(cell.translate({0xA0: " ", 0xFF: " "}).split())


def tsv_rows(file_name: str, data: bytes) -> list[Row]:
    """The rows of a tab-separated text file (quoted cells allowed), numbered by line."""
    reader = csv.reader(io.StringIO(decode(file_name, data), newline=""), delimiter="\t")
    try:
        return [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise FileRejected(file_name, reader.line_num, f"malformed text: {exc}") from exc


def _words(cell: str) -> str:
    return _MONTH.sub("", clean(cell).casefold())


def header_line(file_name: str, rows: Sequence[Row], header: str) -> tuple[int, list[str]]:
    """The (line, cells) of the first row whose first cell starts with ``header``."""
    wanted = header.casefold()
    for line, cells in rows:
        if cells and _words(cells[0]).startswith(wanted):
            return line, cells
    raise FileRejected(file_name, 0, f"header row starting {header!r} not found")


def columns(file_name: str, line: int, cells: Sequence[str], names: Sequence[str]) -> list[int]:
    """The index of each of ``names`` in the header ``cells`` (see the module docstring)."""
    words = [_words(cell) for cell in cells]
    out = []
    for name in names:
        wanted = name.casefold()
        found = [i for i, w in enumerate(words) if w == wanted]
        found = found or [i for i, w in enumerate(words) if w.startswith(wanted)]
        if len(found) != 1:
            problem = "lacks" if not found else "has more than one"
            raise FileRejected(file_name, line, f"header {problem} column {name!r}")
        out.append(found[0])
    return out


def money(raw: str, file_name: str, line: int, field: str) -> Decimal | None:
    """``$10,411.22`` as ``Decimal("10411.22")``, places as written; blank or ``.``: None."""
    text = clean(raw)
    if text in ("", NO_VALUE):
        return None
    if not _MONEY.fullmatch(text):
        raise FileRejected(file_name, line, f"{field}: not a dollar amount: {text!r}")
    return Decimal(text.lstrip("$").replace(",", ""))


def number(raw: str, file_name: str, line: int, field: str) -> Decimal | None:
    """An unsigned decimal number as written (a weight: ``10.2245``); blank: None."""
    text = clean(raw)
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise FileRejected(file_name, line, f"{field}: not a number: {text!r}")
    return Decimal(text)


def percent(raw: str, file_name: str, line: int, field: str) -> Decimal | None:
    """``20.000%`` as ``Decimal("20.000")``; blank: None."""
    text = clean(raw)
    if not text:
        return None
    if not text.endswith("%") or not _NUMBER.fullmatch(text[:-1]):
        raise FileRejected(file_name, line, f"{field}: not a percentage: {text!r}")
    return Decimal(text[:-1])


def hcpcs(raw: str, file_name: str, line: int) -> str:
    """A 5-character HCPCS code (junk bytes around it dropped)."""
    text = clean(raw)
    if not _CODE.fullmatch(text):
        raise FileRejected(file_name, line, f"hcpcs: not a 5-character HCPCS code: {text!r}")
    return text


def indicator(raw: str, file_name: str, line: int, field: str) -> str:
    """A status or payment indicator: a capital letter and an optional letter or digit."""
    text = clean(raw)
    if not _INDICATOR.fullmatch(text):
        raise FileRejected(file_name, line, f"{field}: not an indicator: {text!r}")
    return text


def unique(file_name: str, rows: Sequence[tuple[int, T]], key: Callable[[T], Hashable]) -> list[T]:
    """The rows in file order, an identical repeat kept once; a differing repeat refused."""
    first: dict[Hashable, tuple[int, T]] = {}
    out: list[T] = []
    for line, row in rows:
        k = key(row)
        seen = first.get(k)
        if seen is None:
            first[k] = (line, row)
            out.append(row)
        elif seen[1] != row:
            reason = f"duplicate code {k} with different values (first on line {seen[0]})"
            raise FileRejected(file_name, line, reason)
    return require_rows(file_name, out)


def body(
    file_name: str, rows: Sequence[Row], header_at: int, width: int
) -> list[tuple[int, list[str]]]:
    """The data rows after the header line: blank rows skipped, footnotes only at the end.

    A row whose only text is in its first cell and does not start with a letter-digit code
    is a footnote (``NOTE 3: ...``); every data row has at least ``width`` cells and
    nothing beyond them.
    """
    out: list[tuple[int, list[str]]] = []
    footnote_at = 0
    for line, cells in rows:
        if line <= header_at:
            continue
        filled = [i for i, cell in enumerate(cells) if clean(cell)]
        if not filled:
            continue
        if filled == [0] and not _CODE.fullmatch(clean(cells[0])):
            footnote_at = footnote_at or line
            continue
        if footnote_at:
            raise FileRejected(file_name, footnote_at, "unexpected line between records")
        if len(cells) < width or filled[-1] >= width:
            reason = f"row has {len(cells)} cells ({filled[-1] + 1} used), expected {width}"
            raise FileRejected(file_name, line, reason)
        out.append((line, cells))
    return require_rows(file_name, out)
