"""The compiled snapshot file (engine/compiled.py): exact round trips, lookups, refusals."""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.engine.compiled import (
    CodeRows,
    Compiled,
    CompiledError,
    KeyedRows,
    ZipRows,
)
from cms_pricing.engine.compiled_tables import compile_all
from cms_pricing.engine.mpfs import price_code
from cms_pricing.engine.quote import PriceQuery
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.reference import years


def _texts(row: Any, like: Any = None) -> list[str]:
    """Every field of ``row`` as its repr (exact Decimal places), in the fields of ``like``
    (the dataclass row it was compiled from; a compiled row is a record of those fields)."""
    return [repr(getattr(row, f.name)) for f in fields(like if like is not None else row)]


def test_every_row_comes_back_with_its_exact_values(kit: Any) -> None:
    """Every PPRRVU, OPPSCAP and ZIP5 row reads back equal, field by field in its exact form
    (Decimal("19.60") stays two places, not Decimal("19.6"))."""
    releases = kit.synthetic_releases()
    a = releases[1]
    rows = [
        *a.rvus,
        kit.rvu("77777", work_rvu=Decimal("19.6")),
        kit.rvu("77778", work_rvu=Decimal("19.60")),
    ]
    releases[1] = replace(a, rvus=rows)
    compiled = Compiled.from_bytes(compile_all(releases, kit.zip_data()))
    for data in releases:
        rvus: KeyedRows[Any] = KeyedRows(compiled, f"rvu:{data.meta.release_id}")
        assert len(rvus) == len({(r.hcpcs, r.modifier) for r in data.rvus})
        for row in data.rvus:
            assert _texts(rvus[(row.hcpcs, row.modifier)], row) == _texts(row)
        caps: KeyedRows[Any] = KeyedRows(compiled, f"cap:{data.meta.release_id}")
        for cap in data.oppscap:
            assert _texts(
                caps[(cap.hcpcs, cap.modifier, cap.carrier, cap.locality)], cap
            ) == _texts(cap)
    zips = ZipRows(compiled)
    assert [_texts(zips[z.zip5], z) for z in kit.zip_data().rows] == [
        _texts(z) for z in kit.zip_data().rows
    ]
    rvus = KeyedRows(compiled, "rvu:RVU25A")
    assert str(rvus[("77777", "")].work_rvu) == "19.6"
    assert str(rvus[("77778", "")].work_rvu) == "19.60"
    assert compiled.releases == tuple(d.meta for d in releases)


def test_lookups_that_cannot_match_answer_absent(kit: Any) -> None:
    """Keys too long, not ASCII, of the wrong shape or absent are absent, never an error."""
    compiled = Compiled.from_bytes(compile_all(kit.synthetic_releases(), kit.zip_data()))
    rvus: KeyedRows[Any] = KeyedRows(compiled, "rvu:RVU25A")
    codes = CodeRows(compiled, "rvu:RVU25A")
    zips = ZipRows(compiled)
    for key in [
        ("992130", ""),
        ("9921é", ""),
        ("99213",),
        ("99213", "", ""),
        ("00000", ""),
        "99213",
    ]:
        assert rvus.get(key) is None
        assert key not in rvus
    with pytest.raises(KeyError):
        rvus[("00000", "")]
    for code in ["992130", "é", "00000", ""]:
        assert codes.get(code) is None
        assert code not in codes
    assert zips.get("9411") is None and zips.get("941100") is None and "00000" not in zips
    assert KeyedRows(compiled, "rvu:NOPE").get(("99213", "")) is None


def test_codes_list_every_modifier_row_of_a_code(kit: Any) -> None:
    """``codes[hcpcs]`` holds exactly the rows of that code, and iterates distinct codes."""
    releases = kit.synthetic_releases()
    compiled = Compiled.from_bytes(compile_all(releases, None))
    data = next(d for d in releases if d.meta.release_id == "RVU25A")
    codes = CodeRows(compiled, "rvu:RVU25A")
    expected: dict[str, set[str]] = {}
    for row in data.rvus:
        expected.setdefault(row.hcpcs, set()).add(row.modifier)
    assert set(codes) == set(expected)
    assert len(codes) == len(expected)
    for code, modifiers in expected.items():
        assert {row.modifier for row in codes[code]} == modifiers
        assert all(row.hcpcs == code for row in codes[code])


def test_a_key_wider_than_its_field_is_refused(kit: Any) -> None:
    """A code of six characters cannot be stored in a five-byte key: compiling names it."""
    (data,) = kit.synthetic_releases()[:1]
    bad = replace(data, rvus=[kit.rvu("992130")])
    with pytest.raises(CompiledError, match="rvu:RVU25B: hcpcs '992130'"):
        compile_all([bad], None)


def test_a_file_cut_short_or_foreign_is_refused(kit: Any, tmp_path: Path) -> None:
    """Any prefix of a compiled file, or another file, raises CompiledError, never reads."""
    raw = compile_all(kit.synthetic_releases(), kit.zip_data())
    for cut in (0, 7, 16, len(raw) // 2, len(raw) - 17, len(raw) - 1):
        path = tmp_path / f"cut{cut}.snap"
        path.write_bytes(raw[:cut])
        with pytest.raises(CompiledError):
            Compiled.open(str(path))
    other = tmp_path / "other.snap"
    other.write_bytes(b"PK\x03\x04" + raw[4:])
    with pytest.raises(CompiledError, match="not a compiled snapshot"):
        Compiled.open(str(other))
    whole = tmp_path / "whole.snap"
    whole.write_bytes(raw)
    assert Compiled.open(str(whole)).records == Compiled.from_bytes(raw).records


def test_the_real_files_compile_to_under_100_bytes_a_record(
    real_releases: Any, real_snapshot: Any
) -> None:
    """The 2025 releases and ZIP file: at most 100 bytes per record, every row equal."""
    compiled = real_snapshot.compiled
    records = sum(len(r.rvus) + len(r.oppscap) for r in real_releases) + len(real_snapshot.zips)
    assert compiled.records == records > 180_000
    assert compiled.size / records < 100
    for data in real_releases:
        rvus: KeyedRows[Any] = KeyedRows(compiled, f"rvu:{data.meta.release_id}")
        assert all(_texts(rvus[(r.hcpcs, r.modifier)], r) == _texts(r) for r in data.rvus)


def test_both_forms_answer_alike_on_the_real_files(real_releases: Any, real_snapshot: Any) -> None:
    """The object snapshot (CMS_PRICING_SNAPSHOT_MODE=objects) and the compiled one hold
    equal rows for every key, and price every 97th payable code alike in two places."""
    objects = Snapshot.from_rows(real_releases, None, constants=years.load())
    for release_id, view in objects.views.items():
        other = real_snapshot.views[release_id]
        assert all(other.rvus[key] == row for key, row in view.rvus.items())
        assert all(other.oppscap[key] == row for key, row in view.oppscap.items())
        assert dict(other.localities) == dict(view.localities)
    codes = sorted({r.hcpcs for r in real_releases[-1].rvus if r.status == "A"})[::97]
    for code in codes:
        for locality in ("0111205", "0510200"):
            query = PriceQuery(code=code, locality=locality)
            assert price_code(objects, query) == price_code(real_snapshot, query)
