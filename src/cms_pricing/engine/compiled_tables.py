"""The other fee schedules' tables (CLFS, DMEPOS, ASP, OPPS, ASC, anesthesia base units, the
wage index) in the compiled file, read through ``Mapping`` views like the MPFS releases.

Each schedule's ``build`` (``engine.schedules.BUILDERS``) turns a dataset's rows into a table:
a frozen dataclass whose large fields are mappings (``ClfsTable.rows``, ``DmeposTable.fees``,
...). Compiling runs ``build`` once, in the compiling process, and stores the table it
returned, field by field, so the pricing modules read a compiled table exactly as the one
they built, and no schedule has a compiled layout of its own to keep in step:

- a mapping becomes one section of fixed-width records under sorted keys. A key is the JSON
  text of the mapping's key (``"80053"``, ``["80053","QW"]``, ``["E0100",["NU"]]``), padded
  with NUL bytes to the section's width and found by binary search (``numpy.searchsorted``).
  By its values a mapping is one of four kinds: ``rows`` (a row per key), ``atomic`` (a
  string or a tuple per key: ``DmeposTable.rural_zips``, ``modifiers``), ``grouped`` (a tuple
  of rows per key, stored as ``key + US + index``: ``ClfsTable.codes``) and ``nested`` (a
  mapping per key, stored as ``key + US + inner key``: ``DmeposTable.fees`` by item, then
  state). US (``\\x1f``) never occurs in JSON text, so a key's entries are one contiguous
  run.
- a record holds one value per field of the row type. A column with few distinct values is
  dictionary-coded (its values once, in the header; 1, 2 or 4 bytes per record); a column of
  strings or decimals with many distinct values (fees) is its text, fixed-width, decoded on
  read (``Decimal(text)`` is exact: ``19.60`` stays ``19.60``).
- any other field (``OppsTable.inpatient_deductible``, ``DmeposTable.states``) goes into the
  header as JSON.

``add_schedule(writer, data)`` compiles one dataset; ``open_tables(compiled)`` gives every
dataset's metadata and table (``None`` for a schedule this version cannot price). Rows are
handed out as the row type's read-only record (``compiled.record_type``: a named tuple equal
to the row). No row is a Python object until a request asks for it; decoding is not cached
(these schedules are priced less often than the MPFS; docs/performance.md measures the cost).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

import numpy as np
import orjson

from cms_pricing.engine import anesthesia, asc, asp, clfs, dmepos_table, opps, wage_index
from cms_pricing.engine.compiled import (
    Buffer,
    Compiled,
    CompiledError,
    SortedKeys,
    Writer,
    _dec,
    _Dictionary,
    _enc,
    _meta,
    _meta_json,
    _width,
    record_type,
)
from cms_pricing.engine.schedules import BUILDERS
from cms_pricing.reference import rows as row_types
from cms_pricing.reference.datasets import (
    ReleaseData,
    ScheduleData,
    ScheduleMeta,
    ZipData,
)

US = b"\x1f"  # between a key and its index or inner key
RAW_OVER = 4096  # distinct values above which a text or decimal column is stored as text
KEEP_KEYS = 4096  # a mapping this small keeps its decoded keys once iterated (engine scans)
TABLE_TYPES: dict[str, Any] = {
    "clfs": clfs.ClfsTable,
    "dmepos": dmepos_table.DmeposTable,
    "asp": asp.AspTable,
    "anesthesia": anesthesia.BaseUnitTable,
    "opps": opps.OppsTable,
    "asc": asc.AscTable,
    "wage_index": wage_index.WageIndexTable,
}
# Row types by name (the header names a section's row type): every row type of the files.
ROW_TYPES: dict[str, Any] = {
    name: value
    for name, value in vars(row_types).items()
    if isinstance(value, type) and is_dataclass(value)
}
RECORDS = {name: record_type(row_type) for name, row_type in ROW_TYPES.items()}


# -- values in the header: tuples and frozensets too ------------------------------------------


def _pack(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"u": [_pack(v) for v in value]}
    if isinstance(value, frozenset):
        return {"f": sorted((_pack(v) for v in value), key=repr)}
    return _enc(value)


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if "u" in value:
            return tuple(_unpack(v) for v in value["u"])
        if "f" in value:
            return frozenset(_unpack(v) for v in value["f"])
    return _dec(value)


def _key(key: Any) -> bytes | None:
    """A mapping key as stored: its JSON text (None for a key no stored key can equal)."""
    try:
        return orjson.dumps(key)
    except TypeError:
        return None


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _unkey(raw: bytes) -> Any:
    return _tuples(orjson.loads(raw))


# -- writing ---------------------------------------------------------------------------------


def _kind(mapping: Mapping[Any, Any]) -> str:
    first = next(iter(mapping.values()), None)
    if first is None:
        return "empty"
    if isinstance(first, Mapping):
        return "nested"
    if isinstance(first, tuple) and first and is_dataclass(first[0]):
        return "grouped"
    return "rows" if is_dataclass(first) else "atomic"


def _entries(kind: str, mapping: Mapping[Any, Any], name: str) -> list[tuple[bytes, Any]]:
    out: list[tuple[bytes, Any]] = []
    for key, value in mapping.items():
        raw = _key(key)
        if raw is None:
            raise CompiledError(f"{name}: key {key!r} has no JSON form")
        if kind == "nested":
            out.extend((raw + US + _inner(inner, name), v) for inner, v in value.items())
        elif kind == "grouped":
            out.extend((raw + US + b"%06d" % i, v) for i, v in enumerate(value))
        else:
            out.append((raw, value))
    return out


def _inner(key: Any, name: str) -> bytes:
    raw = _key(key)
    if raw is None:
        raise CompiledError(f"{name}: inner key {key!r} has no JSON form")
    return raw


def _column(values: list[Any]) -> tuple[str, Any]:
    """How one column is stored: ("dict", dictionary) or ("str"|"dec", width)."""
    dictionary = _Dictionary()
    for value in values:
        dictionary.code(value)
        if len(dictionary.values) > RAW_OVER:
            break
    if len(dictionary.values) <= RAW_OVER:
        return "dict", dictionary
    for kind, type_ in (("str", str), ("dec", Decimal)):
        if all(v.__class__ is type_ for v in values):
            texts = [str(v) for v in values]
            if all(t.isascii() and not t.endswith("\x00") for t in texts):
                return kind, max(len(t.encode()) for t in texts)
    dictionary = _Dictionary()  # neither: code every value
    for value in values:
        dictionary.code(value)
    return "dict", dictionary


def _section(writer: Writer, kind: str, mapping: Mapping[Any, Any], name: str) -> dict[str, Any]:
    entries = sorted(_entries(kind, mapping, name), key=lambda e: e[0])
    values = [v for _k, v in entries]
    row_type: Any = type(values[0]) if is_dataclass(values[0]) else None
    if row_type is not None:
        if ROW_TYPES.get(row_type.__name__) is not row_type:
            raise CompiledError(f"{name}: {row_type.__name__} is not a row type of the files")
        if any(type(v) is not row_type for v in values):
            raise CompiledError(f"{name}: rows of more than one type")
        names = [f.name for f in fields(values[0])]
        columns = [[getattr(v, n) for v in values] for n in names]
    else:
        columns = [values]
    specs, formats, encoders = [], "<", []
    for column in columns:
        how, detail = _column(column)
        if how == "dict":
            formats += _width(len(detail.values))
            specs.append({"how": "dict", "values": [_pack(v) for v in detail.values]})
            encoders.append(detail.code)
        else:
            formats += f"{detail}s" if detail else "0s"
            specs.append({"how": how})
            encoders.append(lambda v: str(v).encode("ascii"))
    record = struct.Struct(formats)
    width = max(len(k) for k, _v in entries)
    at = writer.write(b"".join(k.ljust(width, b"\x00") for k, _v in entries))
    if row_type is not None:
        records = (
            record.pack(*(enc(getattr(v, n)) for enc, n in zip(encoders, names, strict=True)))
            for v in values
        )
    else:
        records = (record.pack(encoders[0](v)) for v in values)
    writer.write(b"".join(records))
    return {
        "kind": kind,
        "at": at,
        "count": len(entries),
        "width": width,
        "format": formats,
        "row": row_type.__name__ if row_type is not None else None,
        "columns": specs,
    }


def encode_table(writer: Writer, schedule: str, table: Any) -> dict[str, Any]:
    """The header entry of ``table`` (a schedule's built table), its sections written."""
    if type(table) is not TABLE_TYPES.get(schedule):
        raise CompiledError(f"{schedule}: a {type(table).__name__} is not its table type")
    out: dict[str, Any] = {}
    for f in fields(table):
        value = getattr(table, f.name)
        if isinstance(value, Mapping):
            kind = _kind(value)
            name = f"{schedule}.{f.name}"
            out[f.name] = (
                {"kind": "empty"} if kind == "empty" else _section(writer, kind, value, name)
            )
        else:
            out[f.name] = {"kind": "value", "value": _pack(value)}
    return out


def add_schedule(writer: Writer, data: ScheduleData) -> None:
    """Compile one dataset: its table built by its schedule's ``build`` (a schedule this
    version cannot price keeps only its metadata)."""
    builder = BUILDERS.get(data.meta.schedule)
    table = None
    if builder is not None:
        table = encode_table(writer, data.meta.schedule, builder(data.rows))
    writer.add_schedule({"meta": _meta_json(data.meta), "table": table})


def compile_all(
    releases: Sequence[ReleaseData],
    zips: ZipData | None,
    schedules: Sequence[ScheduleData] = (),
) -> bytes:
    """The compiled snapshot of ``releases``, ``zips`` and ``schedules``, in memory."""
    out = BytesIO()
    writer = Writer(out)
    for data in releases:
        writer.add_release(data)
    if zips is not None:
        writer.add_zips(zips)
    for dataset in schedules:
        add_schedule(writer, dataset)
    writer.finish()
    return out.getvalue()


# -- reading ---------------------------------------------------------------------------------


class _Section(SortedKeys):
    """One stored mapping: sorted keys, then one record per key."""

    def __init__(self, buf: Buffer, spec: dict[str, Any]) -> None:
        self.count: int = spec["count"]
        self.width: int = spec["width"]
        self.keys = np.frombuffer(buf, dtype=f"S{self.width}", count=self.count, offset=spec["at"])
        self._buf = buf
        self._record = struct.Struct(spec["format"])
        self._rows_at = spec["at"] + self.width * self.count
        self.decode = _decoder(spec)

    def key(self, i: int) -> bytes:
        return bytes(self.keys[i])  # NUL padding stripped by numpy

    def value(self, i: int) -> Any:
        return self.decode(
            self._record.unpack_from(self._buf, self._rows_at + i * self._record.size)
        )


def _decoder(spec: dict[str, Any]) -> Callable[[tuple[Any, ...]], Any]:
    """A function of a record's unpacked fields -> the row record (or the atomic value)."""
    scope: dict[str, Any] = {"D": Decimal}
    parts = []
    for i, column in enumerate(spec["columns"]):
        if column["how"] == "dict":
            scope[f"c{i}"] = [_unpack(v) for v in column["values"]]
            parts.append(f"c{i}[v[{i}]]")
        elif column["how"] == "dec":
            parts.append(f"D(v[{i}].rstrip(b'\\0').decode())")
        else:
            parts.append(f"v[{i}].rstrip(b'\\0').decode()")
    if spec["row"] is None:
        body = parts[0]
    else:
        scope["R"] = RECORDS[spec["row"]]
        scope["new"] = tuple.__new__
        body = f"new(R, ({', '.join(parts)},))"
    exec(f"def decode(v):\n    return {body}", scope)
    return scope["decode"]  # type: ignore[no-any-return]


_MISSING = object()


class _View(Mapping[Any, Any]):
    """A read-only mapping whose ``get`` says it all."""

    def get(self, key: Any, default: Any = None) -> Any:
        raise NotImplementedError

    def __getitem__(self, key: Any) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING


class PackedMap(_View):
    """``key -> row`` (or value) over a ``rows`` or ``atomic`` section."""

    def __init__(self, section: _Section) -> None:
        self._s = section
        self._keys: tuple[Any, ...] | None = None

    def get(self, key: Any, default: Any = None) -> Any:
        raw = _key(key)
        i = self._s.find(raw) if raw is not None else -1
        return default if i < 0 else self._s.value(i)

    def __iter__(self) -> Iterator[Any]:
        if self._keys is not None:
            return iter(self._keys)
        keys = (_unkey(self._s.key(i)) for i in range(self._s.count))
        if self._s.count > KEEP_KEYS:
            return keys
        self._keys = tuple(keys)
        return iter(self._keys)

    def __len__(self) -> int:
        return self._s.count


class _Outer(_View):
    """What ``grouped`` and ``nested`` sections share: keys are the part before US."""

    def __init__(self, section: _Section) -> None:
        self._s = section
        self._len: int | None = None

    def _span(self, key: Any) -> tuple[bytes, int, int]:
        raw = _key(key)
        if raw is None:
            return b"", 0, 0
        prefix = raw + US
        lo, hi = self._s.span(prefix)
        return prefix, lo, hi

    def _at(self, prefix: bytes, lo: int, hi: int) -> Any:
        raise NotImplementedError

    def get(self, key: Any, default: Any = None) -> Any:
        prefix, lo, hi = self._span(key)
        return self._at(prefix, lo, hi) if lo < hi else default

    def __contains__(self, key: object) -> bool:
        _prefix, lo, hi = self._span(key)
        return lo < hi

    def __iter__(self) -> Iterator[Any]:
        last = None
        for i in range(self._s.count):
            outer = self._s.key(i).partition(US)[0]
            if outer != last:
                last = outer
                yield _unkey(outer)

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len


class GroupedMap(_Outer):
    """``key -> tuple of rows`` (in their order) over a ``grouped`` section."""

    def _at(self, prefix: bytes, lo: int, hi: int) -> Any:
        return tuple(self._s.value(i) for i in range(lo, hi))


class NestedMap(_Outer):
    """``key -> {inner key -> row}`` over a ``nested`` section; the inner mapping is a view."""

    def _at(self, prefix: bytes, lo: int, hi: int) -> Any:
        return InnerMap(self._s, prefix, lo, hi)


class InnerMap(_View):
    """The rows of one outer key of a ``nested`` section, by inner key."""

    def __init__(self, section: _Section, prefix: bytes, lo: int, hi: int) -> None:
        self._s = section
        self._prefix = prefix
        self._lo = lo
        self._hi = hi

    def get(self, key: Any, default: Any = None) -> Any:
        raw = _key(key)
        i = self._s.find(self._prefix + raw) if raw is not None else -1
        return default if i < 0 else self._s.value(i)

    def __iter__(self) -> Iterator[Any]:
        cut = len(self._prefix)
        return (_unkey(self._s.key(i)[cut:]) for i in range(self._lo, self._hi))

    def __len__(self) -> int:
        return self._hi - self._lo


_VIEWS: dict[str, Callable[[_Section], Mapping[Any, Any]]] = {
    "rows": PackedMap,
    "atomic": PackedMap,
    "grouped": GroupedMap,
    "nested": NestedMap,
}


def _open_table(buf: Buffer, schedule: str, spec: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, part in spec.items():
        kind = part["kind"]
        if kind == "value":
            values[name] = _unpack(part["value"])
        elif kind == "empty":
            values[name] = {}
        else:
            values[name] = _VIEWS[kind](_Section(buf, part))
    return TABLE_TYPES[schedule](**values)


def schedule_metas(compiled: Compiled) -> tuple[ScheduleMeta, ...]:
    """The metadata of every dataset the file holds."""
    return tuple(_meta(ScheduleMeta, entry["meta"]) for entry in compiled.schedule_entries)


def open_tables(compiled: Compiled) -> list[tuple[ScheduleMeta, Any]]:
    """Every dataset the file holds: its metadata and its table (None when this version
    has no table type for its schedule)."""
    out = []
    for entry in compiled.schedule_entries:
        meta = _meta(ScheduleMeta, entry["meta"])
        spec = entry["table"]
        table = None
        if spec is not None and meta.schedule in TABLE_TYPES:
            table = _open_table(compiled.buf, meta.schedule, spec)
        out.append((meta, table))
    return out
