"""Snapshot building, release selection by id / date / year, localities and code rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.engine.constants import YearTable
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import NotFound, NotReady, Unprocessable
from cms_pricing.reference import years


def test_releases_ordered_with_effective_ranges(snapshot: Snapshot) -> None:
    """Releases sort by effective date; each ends the day before the next, the last on Dec 31."""
    refs = [(r.release_id, r.effective_from, r.effective_to) for r in snapshot.releases]
    assert refs == [
        ("RVU25A", date(2025, 1, 1), date(2025, 3, 31)),
        ("RVU25B", date(2025, 4, 1), date(2025, 12, 31)),
    ]


def test_empty_snapshot_builds_and_reports_not_ready() -> None:
    """With no releases the snapshot exists (the service is up) but selection is 503."""
    empty = Snapshot.build([], None, constants=years.load())
    assert empty.releases == ()
    assert len(empty.fingerprint) == 16
    with pytest.raises(NotReady):
        empty.select_release()


def test_repeated_release_id_is_refused(kit: Any) -> None:
    """Two datasets claiming one release id cannot be indexed side by side."""
    releases = kit.synthetic_releases()
    with pytest.raises(ValueError, match="repeat"):
        Snapshot.build([*releases, releases[0]], None, constants=years.load())


def test_fingerprint_is_stable_and_tracks_content(kit: Any) -> None:
    """Same content -> same fingerprint, in any order; a changed ZIP or release hash changes it."""
    releases = kit.synthetic_releases()
    zips = kit.zip_data()
    first = Snapshot.build(releases, zips, constants=years.load()).fingerprint
    assert (
        Snapshot.build(list(reversed(releases)), zips, constants=years.load()).fingerprint == first
    )
    other_zip = kit.zip_data(sha="other")
    assert Snapshot.build(releases, other_zip, constants=years.load()).fingerprint != first
    changed = replace(releases[0], meta=replace(releases[0].meta, sha256="f" * 64))
    assert Snapshot.build([changed, releases[1]], zips, constants=years.load()).fingerprint != first
    assert Snapshot.build(releases, None, constants=years.load()).fingerprint != first


def test_a_corrected_year_constant_changes_the_fingerprint(kit: Any) -> None:
    """A figure of the year constants prices answers as a file does: it joins the ETag."""
    releases, zips = kit.synthetic_releases(), kit.zip_data()
    table = years.load()
    first = Snapshot.build(releases, zips, constants=table).fingerprint
    (year, figures), *_ = table.years.items()
    corrected = replace(figures, part_b_deductible=figures.part_b_deductible + 1)
    other = YearTable.of_years({**table.years, year: corrected})
    assert Snapshot.build(releases, zips, constants=other).fingerprint != first
    same = YearTable.of_years(dict(table.years))
    assert Snapshot.build(releases, zips, constants=same).fingerprint == first


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 1, 1), "RVU25A"),
        (date(2025, 3, 31), "RVU25A"),
        (date(2025, 4, 1), "RVU25B"),
        (date(2025, 12, 31), "RVU25B"),
    ],
)
def test_select_by_date_of_service(snapshot: Snapshot, on: date, expected: str) -> None:
    """A date picks the latest release of its year effective on or before it."""
    assert snapshot.select_release(on=on).release_id == expected


@pytest.mark.parametrize("on", [date(2024, 12, 31), date(2026, 1, 1)])
def test_select_by_date_outside_published_years(snapshot: Snapshot, on: date) -> None:
    """A date in a year without releases is a 404 listing the published years."""
    with pytest.raises(NotFound) as caught:
        snapshot.select_release(on=on)
    assert "published years: 2025" in caught.value.message
    assert caught.value.details == {"field": "date"}


def test_select_by_date_before_the_years_first_release(kit: Any) -> None:
    """In a year whose first release starts after Jan 1, earlier dates are a 404 too."""
    late = kit.release("RVU25B", date(2025, 4, 1), [kit.rvu("99213")])
    snap = Snapshot.build([late], None, constants=years.load())
    with pytest.raises(NotFound) as caught:
        snap.select_release(on=date(2025, 3, 31))
    assert "RVU25B starts 2025-04-01" in caught.value.message


def test_select_by_year_latest_of_year(kit: Any) -> None:
    """``year`` alone picks that year's latest release; no argument picks the latest overall."""
    rows = [kit.rvu("99213")]
    make = kit.release
    snap = Snapshot.build(
        [make("RVU24D", date(2024, 10, 1), rows), make("RVU24A", date(2024, 1, 1), rows),
         make("RVU25A", date(2025, 1, 1), rows)],
        None, constants=years.load()
    )  # fmt: skip
    assert snap.select_release(year=2024).release_id == "RVU24D"
    assert snap.select_release().release_id == "RVU25A"
    assert snap.releases[1].effective_to == date(2024, 12, 31)
    with pytest.raises(NotFound, match="published years: 2024, 2025"):
        snap.select_release(year=2023)


def test_select_by_release_id(snapshot: Snapshot) -> None:
    """``release_id`` pins a release (case-insensitive); an unknown id is a 404 listing ids."""
    assert snapshot.select_release(release_id="rvu25a").release_id == "RVU25A"
    with pytest.raises(NotFound) as caught:
        snapshot.select_release(release_id="RVU25Z")
    assert "RVU25A, RVU25B" in caught.value.message
    assert caught.value.details == {"field": "release"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"release_id": "RVU25A", "on": date(2025, 1, 1)},
        {"release_id": "RVU25A", "year": 2025},
        {"on": date(2025, 1, 1), "year": 2025},
    ],
)
def test_select_with_more_than_one_selector_is_unprocessable(
    snapshot: Snapshot, kwargs: dict[str, object]
) -> None:
    """At most one of release_id, on and year may be given (422: each is valid alone)."""
    with pytest.raises(Unprocessable, match="at most one"):
        snapshot.select_release(**kwargs)  # type: ignore[arg-type]


def test_localities_sorted_joined_with_anes_and_counties(snapshot: Snapshot) -> None:
    """Localities sort by MAC+locality and carry GPCIs, anesthesia CF and all 25LOCCO lines."""
    found = snapshot.localities(snapshot.select_release())
    assert [(x.mac, x.locality) for x in found] == sorted(
        [("01112", "05"), ("02102", "01"), ("05202", "00"), ("05302", "02")]
    )
    sf = found[0]
    assert (sf.gpci.work, sf.gpci.pe, sf.gpci.mp) == (
        Decimal("1.088"),
        Decimal("1.419"),
        Decimal("0.445"),
    )
    assert sf.anes_cf == Decimal("22.65")
    assert sf.counties == "SAN FRANCISCO; ALAMEDA"
    alaska = found[1]
    assert (alaska.name, alaska.state_name, alaska.fee_schedule_area) == (
        "ALASKA",
        "ALASKA",
        "STATEWIDE",
    )
    assert found[2].anes_cf is None  # Kansas has no ANES row in the synthetic data


def test_code_rows_every_modifier(snapshot: Snapshot) -> None:
    """``code_rows`` returns every modifier row of a code and 404s an unknown code."""
    release = snapshot.select_release(release_id="RVU25A")
    assert [r.modifier for r in snapshot.code_rows(release, "71250")] == ["", "26", "TC"]
    assert [r.modifier for r in snapshot.code_rows(release, " 45378 ")] == ["", "53"]
    with pytest.raises(NotFound) as caught:
        snapshot.code_rows(release, "99999")
    assert caught.value.details == {"field": "code"}
    assert len(snapshot.code_rows(snapshot.select_release(release_id="RVU25B"), "99999")) == 1


def test_indexes_are_read_only(snapshot: Snapshot) -> None:
    """The snapshot's mappings cannot be mutated by a caller."""
    release = snapshot.select_release()
    with pytest.raises(TypeError):
        release.rvus[("X", "")] = release.rvus[("99213", "")]  # type: ignore[index]
    with pytest.raises(TypeError):
        snapshot.zips["00000"] = snapshot.zips["94110"]  # type: ignore[index]
