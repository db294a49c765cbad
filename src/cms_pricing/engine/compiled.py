"""The compiled snapshot: the MPFS releases and the ZIP file as one read-only, mappable file.

Every worker used to build its own dictionaries of row objects (about 1.3 KB per record per
worker). A compiled snapshot holds the same rows as fixed-width binary records that every
worker maps (``mmap``) instead, so N workers share one copy in the page cache and no row is
a Python object until a request asks for it.

File layout (all integers little-endian)::

    b"CMSSNAP\\x01"                       magic and format version
    u64 header offset                       where the JSON header begins
    sections ...                            per table: sorted keys, then records
    header (JSON, UTF-8)
    u64 header length, b"CMSSNAP\\x01"      footer: a file cut short loses its footer

A table (the PPRRVU rows of one release, its OPPSCAP rows, the ZIP5 rows) stores its key
fields as one sorted array of fixed-width ASCII keys (``hcpcs`` 5 + ``modifier`` 2 bytes,
blank-padded), found by binary search (``numpy.searchsorted``). Every other field is
dictionary-encoded: the header lists each column's distinct values once (for every table of
that row type), and a record holds one small integer per field (1, 2 or 4 bytes, the
narrowest that fits the column), so a PPRRVU record is about 50 bytes. Values keep their
exact form: ``Decimal("19.60")`` and ``Decimal("19.6")`` are different dictionary entries.

The header also carries what is small: the releases' and ZIP file's metadata and each
release's GPCI, 25LOCCO and ANES rows (about 100 rows each).

Reading (``Compiled.open``) parses the header and maps the file: nothing is proportional to
the number of records. ``KeyedRows`` and friends are read-only ``Mapping`` views over a
table, so the engine reads a compiled release exactly as it read dictionaries; decoded rows
go through one bounded cache per open file (``ROW_CACHE``), the only per-worker memory that
grows with use.

Writing (``Writer``) takes one release at a time, so compiling never holds more than one
release's rows. ``compiled_tables.compile_all`` compiles to memory (the tests' snapshots);
the service compiles to a file (``service/snapfile.py``). The other schedules' tables are
sections of the same file (``engine/compiled_tables.py``).
"""

from __future__ import annotations

import json
import mmap
import struct
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import IO, Any, Generic, TypeVar

import numpy as np

from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    ScheduleMeta,
    SourceFile,
    ZipData,
    ZipMeta,
)
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

MAGIC = b"CMSSNAP\x01"
FOOTER = struct.Struct("<Q8s")
ROW_CACHE = 65_536  # decoded answers kept per open file (per worker), in two halves

Row = TypeVar("Row")
MetaT = TypeVar("MetaT", ReleaseMeta, ZipMeta, ScheduleMeta)
FORMAT = 3  # the header's "format"; part of the file name (service/snapfile.py)


class CompiledError(ValueError):
    """A compiled file that cannot be read (cut short, another format) or rows that cannot
    be compiled (a key longer than its width)."""


@dataclass(frozen=True)
class Layout:
    """How one row type is stored: its key fields and their widths, in key order."""

    row_type: type
    key: tuple[tuple[str, int], ...]

    @property
    def key_width(self) -> int:
        return sum(width for _name, width in self.key)

    @property
    def columns(self) -> tuple[str, ...]:
        keyed = {name for name, _w in self.key}
        return tuple(f.name for f in fields(self.row_type) if f.name not in keyed)


RVU = Layout(RvuRow, (("hcpcs", 5), ("modifier", 2)))
CAP = Layout(OppsCapRow, (("hcpcs", 5), ("modifier", 2), ("carrier", 5), ("locality", 2)))
ZIP = Layout(Zip5Row, (("zip5", 5),))
LAYOUTS = {"rvu": RVU, "cap": CAP, "zip": ZIP}
SMALL = {"gpcis": GpciRow, "localities": LocalityCountyRow, "anes": AnesCfRow}


# -- values in the JSON header ---------------------------------------------------------------


def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"t": value.isoformat()}
    return value  # str, int, bool, None


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"])
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        return date.fromisoformat(value["t"])
    return value


def _row_values(row: Any) -> list[Any]:
    return [_enc(getattr(row, f.name)) for f in fields(row)]


def _meta_json(meta: ReleaseMeta | ZipMeta | ScheduleMeta) -> dict[str, Any]:
    """A dataset's metadata (a release, the ZIP file, another schedule's), its source files
    as value lists."""
    out = {f.name: _enc(getattr(meta, f.name)) for f in fields(meta) if f.name != "files"}
    return {**out, "files": [_row_values(f) for f in meta.files]}


def _meta(meta_type: type[MetaT], raw: dict[str, Any]) -> MetaT:
    files = tuple(SourceFile(*f) for f in raw["files"])
    values = {f.name: _dec(raw[f.name]) for f in fields(meta_type) if f.name != "files"}
    return meta_type(files=files, **values)


# -- writing ---------------------------------------------------------------------------------


def _width(count: int) -> str:
    return "B" if count <= 0x100 else "H" if count <= 0x10000 else "I"


class _Dictionary:
    """The distinct values of one column, numbered in order of first sight."""

    def __init__(self) -> None:
        self.codes: dict[tuple[type, Any], int] = {}
        self.values: list[Any] = []

    def code(self, value: Any) -> int:
        # Keyed by type and text: Decimal("19.60") == Decimal("19.6") must stay two values.
        token = (type(value), str(value) if isinstance(value, Decimal) else value)
        found = self.codes.get(token)
        if found is None:
            found = self.codes[token] = len(self.values)
            self.values.append(value)
        return found


class Writer:
    """Writes a compiled snapshot to ``out`` (a binary file open for writing and seeking)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.restart()

    def restart(self) -> None:
        """Forget everything written (a read that failed half-way is read again)."""
        self._out.seek(0)
        self._out.truncate()
        self._out.write(MAGIC + struct.pack("<Q", 0))
        self._dicts: dict[str, dict[str, _Dictionary]] = {
            kind: {name: _Dictionary() for name in layout.columns}
            for kind, layout in LAYOUTS.items()
        }
        self._tables: dict[str, Any] = {}
        self._releases: list[dict[str, Any]] = []
        self._zip: dict[str, Any] | None = None
        self._schedules: list[dict[str, Any]] = []

    def write(self, raw: bytes) -> int:
        """Append ``raw`` to the file's sections; where it begins."""
        at = self._out.tell()
        self._out.write(raw)
        return at

    def add_schedule(self, entry: dict[str, Any]) -> None:
        """A dataset of another schedule, its sections written (``engine/compiled_tables.py``)."""
        self._schedules.append(entry)

    def add_release(self, data: ReleaseData) -> None:
        rid = data.meta.release_id
        if any(r["release_id"] == rid for r in self._releases):
            raise CompiledError(f"release {rid} is compiled twice")
        small = {name: [_row_values(r) for r in getattr(data, name)] for name in SMALL}
        self._releases.append({**_meta_json(data.meta), "small": small})
        self._table(f"rvu:{rid}", "rvu", data.rvus)
        self._table(f"cap:{rid}", "cap", data.oppscap)

    def add_zips(self, data: ZipData) -> None:
        self._zip = _meta_json(data.meta)
        self._table("zip", "zip", data.rows)

    def _table(self, name: str, kind: str, rows: Sequence[Any]) -> None:
        layout = LAYOUTS[kind]
        keyed: dict[bytes, Any] = {}
        for row in rows:  # a repeated key keeps its last row, as a dict built from the rows
            keyed[_key_bytes(layout, row, name)] = row
        ordered = sorted(keyed)
        dicts = [self._dicts[kind][c] for c in layout.columns]
        values_of = attrgetter(*layout.columns)
        # Rows that share their value objects (a code's copies) are encoded once. Keyed by
        # identity, not equality: Decimal("19.6") == Decimal("19.60") but they are two
        # values; ids are stable here because ``keyed`` holds every row until we return.
        memo: dict[tuple[int, ...], tuple[int, ...]] = {}
        codes = []
        for k in ordered:
            values = values_of(keyed[k])
            ident = tuple(map(id, values))
            found = memo.get(ident)
            if found is None:
                found = memo[ident] = tuple(d.code(v) for d, v in zip(dicts, values, strict=True))
            codes.append(found)
        fmt = "<" + "".join(_width(len(d.values)) for d in dicts)
        record = struct.Struct(fmt)
        at = self._out.tell()
        self._out.write(b"".join(ordered))
        self._out.write(b"".join(record.pack(*c) for c in codes))
        self._tables[name] = {"kind": kind, "at": at, "count": len(ordered), "format": fmt}

    def finish(self) -> None:
        columns = {
            kind: {name: [_enc(v) for v in d.values] for name, d in dicts.items()}
            for kind, dicts in self._dicts.items()
        }
        header = {
            "format": FORMAT,
            "releases": self._releases,
            "zip": self._zip,
            "schedules": self._schedules,
            "tables": self._tables,
            "columns": columns,
        }
        raw = json.dumps(header, separators=(",", ":")).encode()
        at = self._out.tell()
        self._out.write(raw)
        self._out.write(FOOTER.pack(len(raw), MAGIC))
        self._out.seek(len(MAGIC))
        self._out.write(struct.pack("<Q", at))
        self._out.seek(0, 2)


def _key_bytes(layout: Layout, row: Any, table: str) -> bytes:
    parts = []
    for name, width in layout.key:
        text = getattr(row, name)
        if len(text) > width or not text.isascii():
            raise CompiledError(f"{table}: {name} {text!r} does not fit {width} ASCII bytes")
        parts.append(text.ljust(width))
    return "".join(parts).encode("ascii")


# -- reading ---------------------------------------------------------------------------------

Buffer = bytes | mmap.mmap


class SortedKeys:
    """Sorted fixed-width keys (``keys``, ``count`` of them): ``find`` one, ``span`` a prefix."""

    keys: Any
    count: int

    def find(self, key: bytes) -> int:
        """The index of ``key``, -1 when absent."""
        i = int(self.keys.searchsorted(key))
        return i if i < self.count and self.keys[i] == key else -1

    def span(self, prefix: bytes) -> tuple[int, int]:
        """The indexes ``[lo, hi)`` of the keys that start with ``prefix``."""
        lo = int(self.keys.searchsorted(prefix))
        hi = int(self.keys.searchsorted(prefix + b"\xff"))
        return lo, hi


class Table(SortedKeys, Generic[Row]):
    """One table of a compiled file: ``find`` a key, ``span`` a key prefix, ``row(i)``."""

    def __init__(self, buf: Buffer, spec: dict[str, Any], columns: list[list[Any]]) -> None:
        layout = LAYOUTS[spec["kind"]]
        self.layout = layout
        self.count: int = spec["count"]
        width = layout.key_width
        self._width = width
        self._keys_at: int = spec["at"]
        self.keys = np.frombuffer(buf, dtype=f"S{width}", count=self.count, offset=spec["at"])
        self._record = struct.Struct(spec["format"])
        self._rows_at = spec["at"] + width * self.count
        self._buf = buf
        self._columns = columns
        self._make = _maker(layout, columns)

    def key(self, i: int) -> bytes:
        at = self._keys_at + i * self._width
        return self._buf[at : at + self._width]  # a copy out of the map: bytes

    def row(self, i: int) -> Row:
        codes = self._record.unpack_from(self._buf, self._rows_at + i * self._record.size)
        return self._make(self.key(i).decode("ascii"), codes)  # type: ignore[no-any-return]


def record_type(row_type: type) -> type:
    """The read-only record a compiled row decodes to: a named tuple with the row type's
    field names, built in one C call where the frozen dataclass takes one ``__setattr__``
    per field (0.5 against 5 microseconds for a PPRRVU row). Equal to its row when every
    field is (``__eq__`` below), so engine and tests read either alike."""
    names = [f.name for f in fields(row_type)]
    base = namedtuple(f"{row_type.__name__}Record", names)  # type: ignore[misc]

    def __eq__(self: Any, other: object) -> bool:
        if isinstance(other, row_type):
            other = tuple(getattr(other, name) for name in names)
        return tuple.__eq__(self, other)

    def __hash__(self: Any) -> int:
        return tuple.__hash__(self)

    return type(base.__name__, (base,), {"__slots__": (), "__eq__": __eq__, "__hash__": __hash__})


RECORDS = {row_type: record_type(row_type) for row_type in (RvuRow, OppsCapRow, Zip5Row)}
RVU_RECORD = RECORDS[RvuRow]
ZIP_RECORD = RECORDS[Zip5Row]
_new = tuple.__new__


def _maker(layout: Layout, columns: list[list[Any]]) -> Callable[[str, tuple[int, ...]], Any]:
    """A function of (key text, record codes) -> the row's values as a plain tuple, fields in
    order; written out as one expression per table so decoding is one call with no loop.
    A plain tuple of atomic values (str, Decimal, bool) is one the garbage collector stops
    tracking, so the row cache adds nothing for collections to walk; the mappings wrap it in
    its record type (``RECORDS``) as they hand it out."""
    slices: dict[str, str] = {}
    at = 0
    for name, width in layout.key:
        slices[name] = f"k[{at}:{at + width}].rstrip()"
        at += width
    index = {name: i for i, name in enumerate(layout.columns)}
    parts = [
        slices[f.name] if f.name in slices else f"c{index[f.name]}[v[{index[f.name]}]]"
        for f in fields(layout.row_type)
    ]
    scope: dict[str, Any] = {f"c{i}": column for i, column in enumerate(columns)}
    exec(f"def make(k, v):\n    return ({', '.join(parts)},)", scope)
    return scope["make"]  # type: ignore[no-any-return]


def _key_of(layout: Layout, parts: Sequence[str]) -> bytes | None:
    """The key bytes of ``parts`` (a request's values), None when no key can match."""
    out = []
    for text, (_name, width) in zip(parts, layout.key, strict=True):
        if type(text) is not str or len(text) > width or not text.isascii():
            return None
        out.append(text.ljust(width))
    return "".join(out).encode("ascii")


_MISSING = object()


def _row_cache(tables: list[Table[Any]]) -> Callable[[int, Any], Any]:
    """``lookup(table number, key)``: a key tuple's row; a code's rows (``key`` a str); for
    a key shorter than the table's, whether any key starts with it; None when absent. Through
    two dicts of at most ``ROW_CACHE // 2`` answers each: a hit costs one dict lookup and no
    key encoding; when the newer dict fills, it becomes the older and the oldest answers go.
    Cached rows are plain tuples of atomic values, which the collector stops tracking: the
    cache gives collections nothing to walk (records are made per hand-out, and die with
    the request). The closure holds the tables, never the
    ``Compiled``: no reference cycle, so a snapshot dropped after a reload is freed at once
    even with the heap frozen."""
    generations: list[dict[Any, Any]] = [{}, {}]
    half = ROW_CACHE // 2

    def decode(number: int, key: Any) -> Any:
        table = tables[number]
        if isinstance(key, str):  # every modifier row of a code
            lo, hi = table.span(key.ljust(5).encode("ascii"))
            return tuple(table.row(i) for i in range(lo, hi)) if lo < hi else None
        if len(key) < len(table.layout.key):  # does any key start with these fields?
            raw = _key_of(Layout(table.layout.row_type, table.layout.key[: len(key)]), key)
            return raw is not None and table.span(raw)[0] < table.span(raw)[1]
        if table.layout is RVU and type(key[0]) is str:  # a row of its code's cached rows
            rows = lookup(number, key[0]) if len(key[0]) <= 5 and key[0].isascii() else None
            return next((row for row in rows or () if row[1] == key[1]), None)
        raw = _key_of(table.layout, key)
        i = table.find(raw) if raw is not None else -1
        return None if i < 0 else table.row(i)

    def lookup(number: int, key: Any) -> Any:
        cache_key = (number, key)
        newer = generations[0]
        found = newer.get(cache_key, _MISSING)
        if found is _MISSING:
            found = generations[1].get(cache_key, _MISSING)
            if found is _MISSING:
                found = decode(number, key)
            if len(newer) >= half:
                generations[1] = newer
                newer = generations[0] = {}
            newer[cache_key] = found
        return found

    return lookup


class Compiled:
    """An open compiled snapshot: metadata, small tables and the record tables."""

    def __init__(self, buf: Buffer, size: int) -> None:
        header = _read_header(buf, size)
        self.buf = buf
        self.size = size
        self.releases: tuple[ReleaseMeta, ...] = tuple(
            _meta(ReleaseMeta, r) for r in header["releases"]
        )
        self.zip_meta: ZipMeta | None = _meta(ZipMeta, header["zip"]) if header["zip"] else None
        self._small = {r["release_id"]: r["small"] for r in header["releases"]}
        # The other schedules' datasets: metadata and table specs (engine/compiled_tables.py).
        self.schedule_entries: list[dict[str, Any]] = header["schedules"]
        columns = {
            kind: [[_dec(v) for v in header["columns"][kind][c]] for c in layout.columns]
            for kind, layout in LAYOUTS.items()
        }
        self._tables: dict[str, Table[Any]] = {
            name: Table(buf, spec, columns[spec["kind"]]) for name, spec in header["tables"].items()
        }
        self._numbers = {name: i for i, name in enumerate(self._tables)}

        self.lookup = _row_cache(list(self._tables.values()))

    @classmethod
    def open(cls, path: str) -> Compiled:
        """Map the file at ``path`` read-only (CompiledError when it is not a whole one)."""
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            if size < len(MAGIC) + 8 + FOOTER.size:
                raise CompiledError(f"{path}: {size} bytes is too short for a compiled snapshot")
            buf = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return cls(buf, size)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Compiled:
        return cls(raw, len(raw))

    def small(self, release_id: str) -> ReleaseData:
        """A release's GPCI, 25LOCCO and ANES rows (its PPRRVU and OPPSCAP lists empty)."""
        raw = self._small[release_id]
        meta = next(m for m in self.releases if m.release_id == release_id)
        rows = {
            name: [row_type(*[_dec(v) for v in values]) for values in raw[name]]
            for name, row_type in SMALL.items()
        }
        return ReleaseData(meta=meta, **rows)

    def table(self, name: str) -> Table[Any] | None:
        return self._tables.get(name)

    def number(self, name: str) -> int:
        return self._numbers[name]

    @property
    def records(self) -> int:
        """Rows in the record tables (PPRRVU, OPPSCAP, ZIP5) and the other schedules'."""
        others: int = sum(
            part.get("count", 0)
            for entry in self.schedule_entries
            for part in (entry["table"] or {}).values()
        )
        return sum(t.count for t in self._tables.values()) + others


def _read_header(buf: Buffer, size: int) -> dict[str, Any]:
    if bytes(buf[: len(MAGIC)]) != MAGIC:
        raise CompiledError("not a compiled snapshot")
    length, magic = FOOTER.unpack_from(buf, size - FOOTER.size)
    (at,) = struct.unpack_from("<Q", buf, len(MAGIC))
    if magic != MAGIC or at + length + FOOTER.size != size:
        raise CompiledError("compiled snapshot is cut short or was not finished")
    header: dict[str, Any] = json.loads(bytes(buf[at : at + length]))
    if header.get("format") != FORMAT:
        raise CompiledError(f"compiled snapshot format {header.get('format')} is not {FORMAT}")
    return header


# -- mapping views -----------------------------------------------------------------------------


class KeyedRows(Mapping[tuple[str, ...], Row]):
    """``key tuple -> row`` over one table (PPRRVU: ``(hcpcs, modifier)``)."""

    def __init__(self, compiled: Compiled, name: str) -> None:
        table = compiled.table(name)
        self._table = table
        self._number = compiled.number(name) if table is not None else -1
        self._arity = len(table.layout.key) if table is not None else 0
        self._record = RECORDS[table.layout.row_type] if table is not None else tuple  # type: ignore[index]
        self._lookup = compiled.lookup

    def get(self, key: Any, default: Any = None) -> Any:
        if self._table is None or type(key) is not tuple or len(key) != self._arity:
            return default
        # Most (code, modifier) pairs have no OPPS cap at all: one cached answer per pair
        # saves a search per (code, locality) asked.
        if self._arity > 2 and not self._lookup(self._number, key[:2]):
            return default
        found = self._lookup(self._number, key)
        return default if found is None else _new(self._record, found)

    def __getitem__(self, key: tuple[str, ...]) -> Row:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        table = self._table
        if table is None:
            return
        widths = table.layout.key
        for i in range(table.count):
            text = table.key(i).decode("ascii")
            at, parts = 0, []
            for _name, width in widths:
                parts.append(text[at : at + width].rstrip())
                at += width
            yield tuple(parts)

    def __len__(self) -> int:
        return self._table.count if self._table is not None else 0


class ZipRows(Mapping[str, Zip5Row]):
    """``zip5 -> Zip5Row`` over the ZIP table, decoded once when opened: the national ZIP
    file (about 43,000 rows) does not grow with the records of the releases, and a ZIP is
    asked by almost every request. Values are plain tuples (untracked by the collector),
    handed out as records."""

    def __init__(self, compiled: Compiled) -> None:
        table = compiled.table("zip")
        self._rows: dict[str, tuple[Any, ...]] = {}
        if table is not None:
            for i in range(table.count):
                row = table.row(i)
                self._rows[row[1]] = row  # Zip5Row: state, zip5, ...

    def get(self, key: Any, default: Any = None) -> Any:
        found = self._rows.get(key) if type(key) is str else None
        return default if found is None else _new(ZIP_RECORD, found)

    def __getitem__(self, key: str) -> Zip5Row:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return type(key) is str and key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class CodeRows(Mapping[str, tuple[RvuRow, ...]]):
    """``hcpcs -> every modifier row`` over a release's PPRRVU table, modifiers in order."""

    def __init__(self, compiled: Compiled, name: str) -> None:
        self._table = compiled.table(name)
        self._number = compiled.number(name) if self._table is not None else -1
        self._lookup = compiled.lookup

    def get(self, key: Any, default: Any = None) -> Any:
        if self._table is None or type(key) is not str or len(key) > 5 or not key.isascii():
            return default
        found = self._lookup(self._number, key)
        return default if found is None else tuple(_new(RVU_RECORD, row) for row in found)

    def __getitem__(self, key: str) -> tuple[RvuRow, ...]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        table = self._table
        last = None
        for i in range(table.count if table is not None else 0):
            code = table.key(i)[:5].decode("ascii").rstrip()  # type: ignore[union-attr]
            if code != last:
                last = code
                yield code

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Derived(Mapping[tuple[str, ...], Any]):
    """``key -> make(row)`` over a ``KeyedRows`` (a row's payment indicators)."""

    def __init__(self, rows: KeyedRows[Any], make: Callable[[Any], Any]) -> None:
        self._rows = rows
        self._make = make

    def __getitem__(self, key: tuple[str, ...]) -> Any:
        return self._make(self._rows[key])

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)
