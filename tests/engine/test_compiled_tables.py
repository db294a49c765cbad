"""The other schedules' tables in the compiled file (engine/compiled_tables.py): equal to the
tables their ``build`` makes, value for value in exact form, on the real files and on edge
cases; priced alike; compact."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.db.repository import create_db_engine, load_published, load_schedule_datasets
from cms_pricing.engine import asp
from cms_pricing.engine.compiled import Compiled
from cms_pricing.engine.compiled_tables import RAW_OVER, compile_all, open_tables
from cms_pricing.engine.quote import ScheduleRequest
from cms_pricing.engine.schedules import ScheduleSet, price_schedule
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import PricingError
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta
from cms_pricing.reference.rows import AspRow, DmeposFeeRow


def _exact(value: Any) -> Any:
    """``value`` with every Decimal as its text (19.60 and 19.6 differ) and rows as tuples."""
    if isinstance(value, Decimal):
        return ("D", str(value))
    if isinstance(value, tuple):
        return tuple(_exact(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return tuple(_exact(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, Mapping):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return frozenset(_exact(v) for v in value)
    return value


def _same_table(built: Any, opened: Any) -> int:
    """Assert ``opened`` (compiled) equals ``built`` field by field; the values compared."""
    compared = 0
    for f in fields(built):
        a, b = getattr(built, f.name), getattr(opened, f.name)
        if not isinstance(a, Mapping):
            assert _exact(a) == _exact(b), f.name
            continue
        assert len(a) == len(b), f.name
        assert set(a) == set(b), f.name
        for key, value in a.items():
            found = b[key]
            if isinstance(value, Mapping):
                assert len(found) == len(value)
                assert {k: _exact(v) for k, v in found.items()} == _exact(value), key
                compared += len(value)
            else:
                # A compiled row is a record (a tuple) of the row's fields, in field order.
                assert _exact(found) == _exact(value), key
                compared += 1
    return compared


@pytest.fixture(scope="module")
def real_data(ingested_url: str) -> tuple[list[ScheduleData], Any, Any]:
    engine = create_db_engine(ingested_url)
    datasets = load_schedule_datasets(engine)
    releases, zips = load_published(engine)
    engine.dispose()
    return datasets, releases, zips


def test_every_real_table_reads_back_equal(real_data: Any) -> None:
    """Every dataset of every other schedule in the real files (CLFS, DMEPOS with its rural,
    former-CBA and mail-order files, ASP, OPPS, ASC, anesthesia base units, the wage index):
    every field of its compiled table equals the built table, key for key, value for value
    in exact form, under at most 100 bytes per record."""
    datasets, _releases, _zips = real_data
    assert {d.meta.schedule for d in datasets} >= {
        "clfs", "dmepos", "asp", "opps", "asc", "anesthesia", "wage_index",
    }  # fmt: skip
    raw = compile_all([], None, datasets)
    compiled = Compiled.from_bytes(raw)
    built = ScheduleSet.build(datasets)
    opened = {m.dataset_id: t for m, t in open_tables(compiled)}
    compared = 0
    for views in built.views.values():
        for view in views:
            compared += _same_table(view.table, opened[view.ref.dataset_id])
    rows = sum(len(r) for d in datasets for r in d.rows.values())
    assert compared > 300_000 and compiled.records > 300_000
    assert len(raw) / rows < 100


def test_real_prices_alike_in_both_forms(real_data: Any) -> None:
    """Requests for random codes of each schedule (DMEPOS at random ZIPs, OPPS and ASC at
    random CBSAs) are answered alike, errors included, by the object and compiled forms."""
    datasets, releases, zips = real_data
    objects = Snapshot.from_rows(releases, zips, datasets, constants=years.load())
    compiled = Snapshot.build(releases, zips, datasets, constants=years.load())
    assert compiled.fingerprint == objects.fingerprint
    rng = random.Random(14)
    views = objects.schedules.views
    cbsas = list(views["wage_index"][-1].table)
    zip5s = [z.zip5 for z in zips.rows]
    requests = []
    for name in ("clfs", "asp", "opps", "asc", "dmepos", "anesthesia"):
        table = views[name][-1].table
        keyed = {"dmepos": "modifiers", "clfs": "codes", "opps": "rows", "asc": "rows"}
        codes = sorted(getattr(table, keyed[name]) if name in keyed else table)
        for code in rng.sample(codes, min(300, len(codes))):
            if name == "dmepos":
                mods = rng.choice(table.modifiers[code])
                requests.append(ScheduleRequest(name, code, mods, zip=rng.choice(zip5s)))
            elif name in ("opps", "asc"):
                requests.append(ScheduleRequest(name, code, cbsa=rng.choice(cbsas)))
            elif name == "anesthesia":
                requests.append(ScheduleRequest(name, code, zip=rng.choice(zip5s), minutes=47))
            else:
                requests.append(ScheduleRequest(name, code))

    def answer(snapshot: Snapshot, request: ScheduleRequest) -> Any:
        try:
            return price_schedule(snapshot, request)
        except PricingError as exc:
            return (type(exc).__name__, str(exc), exc.details)

    answers = [(answer(objects, r), answer(compiled, r)) for r in requests]
    assert all(a == b for a, b in answers)
    assert sum(1 for a, _b in answers if not isinstance(a, tuple)) > 1500  # mostly priced


def _meta(schedule: str, dataset_id: str) -> ScheduleMeta:
    return ScheduleMeta(schedule, dataset_id, date(2025, 1, 1), date(2025, 3, 31), "s" * 64, ())


def _asp_row(code: str, limit: str | None) -> AspRow:
    value = None if limit is None else Decimal(limit)
    return AspRow(code, "DRUG", "1 MG", value, Decimal("20.000"), None, None, None, None,
                  False, "")  # fmt: skip


def test_exact_decimal_forms_in_both_column_codings() -> None:
    """A dictionary-coded column (few values) and a text column (over RAW_OVER values) both
    give back 19.6 and 19.60 as written, and None stays None."""
    small = [_asp_row("J0001", "19.6"), _asp_row("J0002", "19.60"), _asp_row("J0003", None)]
    many = [_asp_row(f"K{i:04d}", f"{i}.{i % 100:02d}") for i in range(RAW_OVER + 10)]
    many += [_asp_row("L0001", "19.6"), _asp_row("L0002", "19.60")]
    datasets = [
        ScheduleData(_meta("asp", "ASP-SMALL"), {"asp": small}),
        ScheduleData(_meta("asp", "ASP-MANY"), {"asp": many}),
    ]
    tables = {m.dataset_id: t for m, t in open_tables(
        Compiled.from_bytes(compile_all([], None, datasets)))}  # fmt: skip
    for dataset in datasets:
        built = asp.build(dataset.rows)
        assert _same_table(built, tables[dataset.meta.dataset_id]) == len(built)
    assert str(tables["ASP-SMALL"]["J0002"].payment_limit) == "19.60"
    assert tables["ASP-SMALL"]["J0003"].payment_limit is None
    assert str(tables["ASP-MANY"]["L0001"].payment_limit) == "19.6"
    assert str(tables["ASP-MANY"]["L0002"].payment_limit) == "19.60"


def test_lookups_that_cannot_match_are_absent() -> None:
    """Keys of another type or shape, or longer than any stored key, are simply absent."""
    datasets = [ScheduleData(_meta("asp", "ASP-1"), {"asp": [_asp_row("J0001", "1.00")]})]
    ((_unused, table),) = open_tables(Compiled.from_bytes(compile_all([], None, datasets)))
    assert table.get("J0001") is not None
    for key in ("J000", "J00011", "", 1, None, ("J0001",), "J0001" * 40, object()):
        assert table.get(key) is None
        assert key not in table


def _fee(code: str, mods: tuple[str, ...], state: str) -> DmeposFeeRow:
    padded = (*mods, "", "", "")[:3]
    return DmeposFeeRow(code, *padded, "D", "IN", None, None, state, Decimal("10.00"),
                        Decimal("11.00"))  # fmt: skip


def test_nested_tables_keep_their_inner_mappings() -> None:
    """DMEPOS fees by (code, modifiers) then state: an item's states are a mapping of their
    own, another item's states never leak into it, and a broken dataset (a fee listed twice)
    is refused at compile time as the built table refuses it."""
    rows = [_fee("E0100", (), "CA"), _fee("E0100", (), "NY"), _fee("E0100", ("NU",), "CA"),
            _fee("E0101", (), "AL")]  # fmt: skip
    data = ScheduleData(_meta("dmepos", "DME-1"), {"dmepos": rows})
    ((_unused, table),) = open_tables(Compiled.from_bytes(compile_all([], None, [data])))
    assert set(table.fees[("E0100", ())]) == {"CA", "NY"}
    assert set(table.fees[("E0100", ("NU",))]) == {"CA"}
    assert table.fees[("E0100", ())].get("AL") is None
    assert table.fees.get(("E0100", ("RR",))) is None
    assert len(table.fees) == 3 and table.states == frozenset({"CA", "NY", "AL"})
    twice = ScheduleData(_meta("dmepos", "DME-2"), {"dmepos": [*rows, rows[0]]})
    with pytest.raises(ValueError, match="listed twice"):
        compile_all([], None, [twice])


def test_a_schedule_without_a_table_keeps_its_metadata() -> None:
    """A dataset of a schedule this version does not price is listed (and counted in the
    fingerprint, as in the object form) but has no table."""
    datasets = [
        ScheduleData(_meta("asp", "ASP-1"), {"asp": [_asp_row("J0001", "1.00")]}),
        ScheduleData(_meta("ambulance", "AMB-1"), {}),
    ]
    found = open_tables(Compiled.from_bytes(compile_all([], None, datasets)))
    assert [(m.dataset_id, t is None) for m, t in found] == [("ASP-1", False), ("AMB-1", True)]
    built = Snapshot.build([], None, datasets, constants=years.load())
    assert built.schedules.fingerprint == ScheduleSet.build(datasets).fingerprint
    assert set(built.schedules.views) == {"asp"}
