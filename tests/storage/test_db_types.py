"""Exact values through the database: Decimals keep value and places, timestamps stay UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError

from cms_pricing.db.repository import (
    is_empty,
    list_releases,
    load_published,
    write_release,
)
from cms_pricing.reference.datasets import ReleaseData, ReleaseMeta, SourceFile
from cms_pricing.reference.rows import AnesCfRow, GpciRow, LocalityCountyRow, OppsCapRow, RvuRow

EDGE_RVUS = [Decimal("0.00"), Decimal("0.01"), Decimal("19.60"), Decimal("9999.99")]


def _rvu(index: int, work: Decimal) -> RvuRow:
    two = Decimal("0.10")
    return RvuRow(
        hcpcs=f"{99200 + index}", modifier="", description="Office visit", status="A",
        not_used_for_medicare="", work_rvu=work, nonfac_pe_rvu=Decimal("1.23"), nonfac_na=False,
        fac_pe_rvu=Decimal("0.45"), fac_na=True, mp_rvu=Decimal("0.07"),
        nonfac_total=Decimal("3.05"), fac_total=Decimal("2.27"), pctc="0", global_days="XXX",
        pre_op=two, intra_op=Decimal("0.80"), post_op=two, mult_proc="0", bilateral="0",
        assistant="0", co_surgeon="0", team="0", endo_base="", conversion_factor=Decimal("32.3465"),
        supervision="09", calc_flag="", imaging_family="", opps_nonfac_pe_rvu=Decimal("0.00"),
        opps_fac_pe_rvu=Decimal("0.00"), opps_mp_rvu=Decimal("0.00"),
    )  # fmt: skip


def _release(work_rvus: list[Decimal]) -> ReleaseData:
    meta = ReleaseMeta(
        "RVU25A", 2025, date(2025, 1, 1), "ab" * 32, (SourceFile("pprrvu", "P.txt", "cd" * 32, 1),)
    )
    return ReleaseData(
        meta,
        rvus=[_rvu(i, work) for i, work in enumerate(work_rvus)],
        gpcis=[GpciRow("02102", "AK", "01", "ALASKA*", *map(Decimal, ("1.500", "1.081", "0.592")))],
        localities=[LocalityCountyRow("02102", "01", "ALASKA", "STATEWIDE", "ALL COUNTIES")],
        anes=[AnesCfRow("02102", "01", "ALASKA", Decimal("27.86"))],
        oppscap=[OppsCapRow("70450", "TC", "A", "02102", "01", Decimal("0.00"), Decimal("150.69"))],
    )


def test_decimals_round_trip_exactly(engine: Engine) -> None:
    """Every Decimal reads back equal and with the same places ("19.60", not 19.6 or a float)."""
    published = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    release = _release(EDGE_RVUS)
    with engine.begin() as conn:
        write_release(conn, release, published)
    (loaded,), _zip = load_published(engine)
    assert loaded.rvus == release.rvus
    assert [str(r.work_rvu) for r in loaded.rvus] == ["0.00", "0.01", "19.60", "9999.99"]
    assert str(loaded.rvus[0].conversion_factor) == "32.3465"
    assert [str(v) for v in (loaded.gpcis[0].work, loaded.gpcis[0].pe)] == ["1.500", "1.081"]
    assert (loaded.anes, loaded.oppscap, loaded.localities) == (
        release.anes,
        release.oppscap,
        release.localities,
    )
    assert loaded.meta == ReleaseMeta(**{**_fields(release.meta), "published_at": published})


def _fields(meta: ReleaseMeta) -> dict[str, object]:
    return {name: getattr(meta, name) for name in ReleaseMeta.__dataclass_fields__}


def test_decimals_are_stored_as_scaled_integers(engine: Engine) -> None:
    """The database holds integers (value x 10**places): exact and comparable in SQL."""
    with engine.begin() as conn:
        write_release(conn, _release(EDGE_RVUS), datetime.now(UTC))
    with engine.connect() as conn:
        raw = conn.scalars(text("SELECT work_rvu FROM rvu_rows ORDER BY seq")).all()
    assert raw == [0, 1, 1960, 999999]


def test_more_places_than_the_column_holds_is_refused(engine: Engine) -> None:
    """A value that would need rounding is an error and the transaction writes nothing."""
    too_precise = _release([Decimal("19.605")])
    with (
        pytest.raises(StatementError, match=r"19\.605 has more than 2 decimal places"),
        engine.begin() as conn,
    ):
        write_release(conn, too_precise, datetime.now(UTC))
    assert is_empty(engine)


def test_published_at_reads_back_as_utc(engine: Engine) -> None:
    """A timestamp written in another zone reads back as the same instant, tagged UTC."""
    eastern = timezone(timedelta(hours=-5))
    written = datetime(2025, 3, 1, 9, 30, tzinfo=eastern)
    with engine.begin() as conn:
        write_release(conn, _release(EDGE_RVUS), written)
    (meta,) = list_releases(engine)
    assert meta.published_at == written
    assert meta.published_at is not None and meta.published_at.tzinfo == UTC
