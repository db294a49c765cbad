"""Reading helpers shared by the CMS release parsers.

Contract every parser relies on:

* **Bytes in.** Parsers get the file's name (for error messages only) and its bytes; they
  never touch the file system. Text is UTF-8 (a BOM is dropped); a file that is not valid
  UTF-8 is read as ISO-8859-1, which never fails (RVU25B's PPRRVU ``.csv`` carries one stray
  ``0xE1`` byte).
* **Lines.** CRLF and LF both end a line; one trailing ``^Z`` (``0x1A``, DOS end-of-file) is
  dropped. Line numbers are 1-based physical lines; for ``.xlsx`` they are spreadsheet rows.
* **Numbers.** :func:`to_decimal` parses a field and quantizes it to the field's declared
  scale (RVUs 2 places, GPCIs 3, the PFS CF 4, ...), so ``"0.86"`` (csv), ``0.86`` (xlsx
  float) and ``"0.860"`` (txt) give the same ``Decimal("0.860")``. A value with more places
  than its scale is refused, never rounded.
* **Tables.** ``.csv`` and ``.xlsx`` become ``(line, cells)`` rows of stripped strings; the
  header row is found by its first cell, rows before it are titles, blank rows are skipped,
  rows with only a first cell after the data are footnotes.
* **Errors.** Every fault raises :class:`~cms_pricing.errors.FileRejected` with the file
  name and the line (0 for whole-file faults).
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from cms_pricing.errors import FileRejected

Line = tuple[int, str]
"""A physical line of a text file: (1-based line number, text without its line ending)."""
Row = tuple[int, list[str]]
"""A table row of a csv or xlsx file: (1-based line or sheet row, stripped cell texts)."""

Q2 = Decimal("0.01")
Q3 = Decimal("0.001")
Q4 = Decimal("0.0001")

_CTRL_Z = "\x1a"

T = TypeVar("T")


def decode(file_name: str, data: bytes) -> str:
    """The text of ``data``: UTF-8 (BOM dropped), else ISO-8859-1; refuses an empty file."""
    if not data.strip(b"\x1a \t\r\n"):
        raise FileRejected(file_name, 0, "empty file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def text_lines(file_name: str, data: bytes) -> list[str]:
    """The physical lines of a text file (CRLF or LF), without a trailing ``^Z``.

    Index ``i`` of the result is line ``i + 1``. A final line ending does not open a line.
    """
    text = decode(file_name, data)
    if text.endswith(_CTRL_Z):
        text = text[:-1]
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def records(file_name: str, data: bytes, width: int, skip: str | None = None) -> list[Line]:
    """The fixed-width records of a file whose every non-blank line is one record.

    Lines starting with ``skip`` (e.g. ``"HDR"``) and blank lines are not records. Every
    record must be exactly ``width`` characters long: a short line is a truncated record.
    """
    out: list[Line] = []
    for number, line in enumerate(text_lines(file_name, data), start=1):
        if (skip is not None and line.startswith(skip)) or not line.strip():
            continue
        if len(line) != width:
            reason = f"record is {len(line)} characters long, expected {width}"
            raise FileRejected(file_name, number, reason)
        out.append((number, line))
    return require_rows(file_name, out)


def data_block(file_name: str, lines: Sequence[str], is_data: Callable[[str], bool]) -> list[Line]:
    """The data lines of a report-style text file (titles, data, footnotes).

    Non-blank lines that are not data may come before the first data line (title, header)
    or after the last one (footnotes); between data lines only blank lines are allowed. A
    non-data line starting with a digit is a malformed record, wherever it is.
    """
    out: list[Line] = []
    trailer_at = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if is_data(line):
            if trailer_at:
                raise FileRejected(file_name, trailer_at, "unexpected line between records")
            out.append((number, line))
        elif stripped[0].isdigit():
            raise FileRejected(file_name, number, "malformed record")
        elif out and not trailer_at:
            trailer_at = number
    return require_rows(file_name, out)


def require_rows(file_name: str, rows: list[T]) -> list[T]:
    """``rows`` itself; a file without a single data record is refused."""
    if not rows:
        raise FileRejected(file_name, 0, "no data records")
    return rows


def to_decimal(raw: str, scale: Decimal, file_name: str, line: int, field: str) -> Decimal:
    """``raw`` (surrounding blanks allowed) as a Decimal quantized to ``scale``."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or "_" in raw:
        raise FileRejected(file_name, line, f"{field}: not a number: {raw.strip()!r}")
    quantized = value.quantize(scale)
    if quantized != value:
        reason = f"{field}: {raw.strip()!r} has more decimal places than {scale}"
        raise FileRejected(file_name, line, reason)
    return quantized


def implied_decimal(raw: str, places: int, file_name: str, line: int, field: str) -> Decimal:
    """An implied-decimal unsigned integer field: ``"1931"`` with 2 places is 19.31."""
    digits = raw.strip()
    if not digits.isdigit() or not digits.isascii():
        raise FileRejected(file_name, line, f"{field}: not an implied-decimal number: {digits!r}")
    return Decimal(digits).scaleb(-places)


def code(raw: str, width: int, file_name: str, line: int, field: str) -> str:
    """A numeric code field, zero-padded back to ``width`` (csv/xlsx drop leading zeros)."""
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or len(text) > width:
        raise FileRejected(file_name, line, f"{field}: not a {width}-digit code: {text!r}")
    return text.zfill(width)


def pad(text: str, width: int) -> str:
    """``text`` zero-padded to ``width`` when it is all digits (an int cell lost its zeros)."""
    return text.zfill(width) if text.isdigit() else text


def cell_text(value: Any) -> str:
    """An xlsx cell value as the text the ``.txt``/``.csv`` form writes (stripped).

    Integral floats lose their ``.0`` (a locality ``54.0`` is ``"54"``); other floats use
    their shortest round-trip form (``0.86`` is ``"0.86"``), which :func:`to_decimal` then
    quantizes to the field's scale.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def csv_rows(file_name: str, data: bytes) -> list[Row]:
    """The rows of a csv file as stripped cell texts, numbered by physical line."""
    reader = csv.reader(io.StringIO(decode(file_name, data), newline=""))
    try:
        return [(reader.line_num, [cell.strip() for cell in cells]) for cells in reader]
    except csv.Error as exc:
        raise FileRejected(file_name, reader.line_num, f"malformed csv: {exc}") from exc


def xlsx_rows(file_name: str, data: bytes) -> list[Row]:
    """The rows of the first sheet of an xlsx workbook, numbered by sheet row.

    openpyxl warns about workbook features it ignores (styles, data validation); those
    warnings are silenced here only, where they cannot mean wrong values.
    """
    import openpyxl  # noqa: PLC0415 (heavy import, only for the xlsx forms)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FileRejected(file_name, 0, f"not a readable xlsx workbook: {exc}") from exc
        try:
            sheet = book.worksheets[0]
            cells = sheet.iter_rows(values_only=True)
            return [(n, [cell_text(v) for v in row]) for n, row in enumerate(cells, start=1)]
        finally:
            book.close()


def table(file_name: str, rows: Iterable[Row], header: str, columns: int) -> list[Row]:
    """The data rows of a csv/xlsx table whose header row's first cell starts with ``header``.

    Rows before the header are titles. After it: blank rows are skipped; a row whose only
    non-blank cell is the first one is a footnote, allowed only after the data; every data
    row must have at least ``columns`` cells (extra cells must be blank).
    """
    it = iter(rows)
    wanted = header.upper()
    if not any(cells and cells[0].upper().startswith(wanted) for _, cells in it):
        raise FileRejected(file_name, 0, f"header row starting {header!r} not found")
    out: list[Row] = []
    footnote_at = 0
    for line, cells in it:
        filled = [i for i, cell in enumerate(cells) if cell]
        if not filled:
            continue
        if filled == [0] and not cells[0][0].isdigit():
            footnote_at = footnote_at or line
            continue
        if footnote_at:
            raise FileRejected(file_name, footnote_at, "unexpected line between records")
        if len(cells) < columns or filled[-1] >= columns:
            reason = f"row has {len(cells)} cells ({filled[-1] + 1} used), expected {columns}"
            raise FileRejected(file_name, line, reason)
        out.append((line, cells))
    return require_rows(file_name, out)
