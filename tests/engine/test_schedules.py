"""engine/schedules.py: which dataset of a schedule answers, and tables reused on reload."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cms_pricing.engine.schedules import ScheduleSet
from cms_pricing.errors import NotFound, NotReady, Unprocessable
from cms_pricing.reference.datasets import ScheduleData, ScheduleMeta
from cms_pricing.reference.rows import ClfsRow


def clfs(dataset_id: str, start: date, end: date | None, rate: str) -> ScheduleData:
    row = ClfsRow(2025, "80053", "", start, "N", Decimal(rate), "")
    meta = ScheduleMeta("clfs", dataset_id, start, end, dataset_id.lower() * 4, ())
    return ScheduleData(meta, {"clfs": (row,)})


Q1 = clfs("CLFS-2025Q1", date(2025, 1, 1), date(2025, 3, 31), "10.56")
Q2 = clfs("CLFS-2025Q2", date(2025, 4, 1), date(2025, 6, 30), "10.60")
OPEN = clfs("CLFS-2026Q1", date(2026, 1, 1), None, "11.00")


def rate(found: ScheduleSet, **how: object) -> Decimal:
    view = found.select("clfs", how.get("release_id"), how.get("on"), how.get("year"))  # type: ignore[arg-type]
    return view.table.rows[("80053", "")].rate  # type: ignore[no-any-return]


def test_a_quarterly_dataset_covers_its_quarter_only() -> None:
    """Q1 answers 2025-03-31, Q2 2025-04-01; with Q2 missing, 2025-05-01 is a 404 naming the
    dates published, never Q1's rate presented as May's."""
    both = ScheduleSet.build([Q2, Q1])
    assert rate(both, on=date(2025, 3, 31)) == Decimal("10.56")
    assert rate(both, on=date(2025, 4, 1)) == Decimal("10.60")
    alone = ScheduleSet.build([Q1])
    with pytest.raises(NotFound) as caught:
        rate(alone, on=date(2025, 5, 1))
    assert caught.value.details["field"] == "date"
    assert "CLFS-2025Q1 (2025-01-01 to 2025-03-31)" in caught.value.message


def test_an_open_dataset_ends_where_the_next_begins() -> None:
    """A dataset without an end of its own runs until a newer one of its schedule starts."""
    found = ScheduleSet.build([Q1, OPEN])
    refs = [v.ref for v in found.views["clfs"]]
    assert [(r.dataset_id, r.effective_to) for r in refs] == [
        ("CLFS-2025Q1", date(2025, 3, 31)),
        ("CLFS-2026Q1", None),
    ]
    assert rate(found, on=date(2031, 7, 4)) == Decimal("11.00")


def test_pin_year_latest_and_their_refusals() -> None:
    """release pins (any case), year takes that year's newest, nothing the newest; two
    selectors are a 422; an unknown id or year a 404; no dataset at all a 503."""
    found = ScheduleSet.build([Q1, Q2, OPEN])
    assert rate(found, release_id="clfs-2025q1") == Decimal("10.56")
    assert rate(found, year=2025) == Decimal("10.60")
    assert rate(found) == Decimal("11.00")
    with pytest.raises(Unprocessable):
        rate(found, year=2025, on=date(2025, 1, 2))
    with pytest.raises(NotFound):
        rate(found, release_id="CLFS-2024Q4")
    with pytest.raises(NotFound):
        rate(found, year=2024)
    with pytest.raises(NotReady):
        ScheduleSet.build([]).select("clfs", None, None, None)


def test_a_reload_keeps_the_tables_of_unchanged_datasets() -> None:
    """Building again with the previous set reuses each unchanged dataset's table (the same
    object); a dataset whose hash changed is indexed anew."""
    first = ScheduleSet.build([Q1, Q2])
    revised = clfs("CLFS-2025Q2", date(2025, 4, 1), date(2025, 6, 30), "10.70")
    revised = ScheduleData(
        ScheduleMeta("clfs", "CLFS-2025Q2", date(2025, 4, 1), date(2025, 6, 30), "f" * 44, ()),
        revised.rows,
    )
    second = ScheduleSet.build([Q1, revised], previous=first)
    old, new = first.views["clfs"], second.views["clfs"]
    assert new[0].table is old[0].table
    assert new[1].table is not old[1].table
    assert rate(second, on=date(2025, 5, 1)) == Decimal("10.70")
    assert first.fingerprint != second.fingerprint
