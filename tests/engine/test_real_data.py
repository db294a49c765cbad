"""Correctness evidence against the real 2025 CMS files (RVU25A-D and ZIP5 October 2025).

Expected figures come from the files themselves (total RVUs, published OPPS caps) or are
worked by hand in the docstrings from the RVUs and GPCIs printed in the files; 99213 in San
Francisco is CMS's own look-up tool figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from cms_pricing.engine.mpfs import PAYABLE_STATUSES, opps_rate, price_code
from cms_pricing.engine.quote import Gpci, PriceQuery, Quote
from cms_pricing.engine.snapshot import Locality, ReleaseView, Snapshot
from cms_pricing.errors import NotFound
from cms_pricing.reference import years
from cms_pricing.reference.datasets import ReleaseData
from cms_pricing.reference.rows import GpciRow, OppsCapRow

pytestmark = pytest.mark.slow

D = Decimal
RELEASE_IDS = ("RVU25A", "RVU25B", "RVU25C", "RVU25D")
NATIONAL = GpciRow("99999", "US", "99", "NATIONAL (ALL GPCIS 1)", D(1), D(1), D(1))


def half_up(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def price(snap: Snapshot, code: str, **kwargs: Any) -> Quote:
    return price_code(snap, PriceQuery(code=code, **kwargs))


@pytest.fixture(scope="module")
def national_snapshot(real_releases: list[ReleaseData]) -> Snapshot:
    """The real releases plus one extra locality whose three GPCIs are 1 (locality 9999999)."""
    return Snapshot.build(
        [replace(r, gpcis=[*r.gpcis, NATIONAL]) for r in real_releases],
        None,
        constants=years.load(),
    )


# -- every code, every cap --------------------------------------------------------------------


@pytest.mark.parametrize("release_id", RELEASE_IDS)
@pytest.mark.parametrize("setting", ["office", "facility"])
def test_national_amount_is_file_total_times_cf(
    national_snapshot: Snapshot, release_id: str, setting: str
) -> None:
    """For every payable row, the amount with all GPCIs 1 is the file's total RVUs x CF, rounded.

    The file's totals (columns 91-102) are CMS's own sums; this also catches any RVU column
    misread (e.g. a lost tens digit) for every A/R/T row of every release and both settings.
    """
    view = national_snapshot.select_release(release_id=release_id)
    mismatches, checked, unpriced = [], 0, set()
    for (code, modifier), row in view.rvus.items():
        if row.status not in PAYABLE_STATUSES:
            continue
        total = row.fac_total if setting == "facility" else row.nonfac_total
        q = price(national_snapshot, code, modifier=modifier, locality="9999999",
                  setting=setting, release_id=release_id)  # fmt: skip
        checked += 1
        if not q.payable:  # only a status R row without RVUs, or PC/TC 8 in the office
            assert (row.status == "R" and total == 0) or (row.pctc, setting) == ("8", "office")
            assert q.amount is None
            unpriced.add(row.pctc if row.pctc == "8" else row.status)
        elif q.amount != half_up(total * row.conversion_factor):
            mismatches.append((code, modifier, q.amount, total))
    assert mismatches == []
    assert checked > 10_000 and "R" in unpriced


def _cap_locality(view: ReleaseView, cap: OppsCapRow) -> Locality:
    # The six CA localities (17, 18, 71-74) listed again under 01112 exist in GPCI only
    # under 01182; their 01112 rows are priced with the 01182 GPCIs.
    found = view.localities.get((cap.carrier, cap.locality))
    return found if found is not None else view.localities[("01182", cap.locality)]


@pytest.mark.parametrize("release_id", RELEASE_IDS)
def test_opps_cap_status_a_equals_opps_rate(real_snapshot: Snapshot, release_id: str) -> None:
    """Every status-A OPPSCAP price equals the OPPS formula for its setting, to the cent.

    Facility price = OPPS formula with the OPPS facility PE RVU, non-facility price = with the
    OPPS non-facility PE RVU, both with the OPPS MP RVU and that carrier-locality's GPCIs.
    The six CA localities duplicated under carrier 01112 use the 01182 GPCIs (the only ones
    GPCI2025 publishes for them), and match too.
    """
    view = real_snapshot.select_release(release_id=release_id)
    rows = [cap for cap in view.oppscap.values() if cap.status == "A"]
    wrong = []
    for cap in rows:
        row = view.rvus[(cap.hcpcs, cap.modifier)]
        gpci = _cap_locality(view, cap).gpci
        rates = (opps_rate(row, gpci, facility=True), opps_rate(row, gpci, facility=False))
        if rates != (cap.fac_price, cap.nonfac_price):
            wrong.append((cap, rates))
    assert wrong == []
    assert len(rows) > 6000


def _mpfs(row: Any, gpci: Gpci, facility: bool) -> Decimal:
    pe = row.fac_pe_rvu if facility else row.nonfac_pe_rvu
    return half_up(
        (row.work_rvu * gpci.work + pe * gpci.pe + row.mp_rvu * gpci.mp) * row.conversion_factor
    )


@pytest.mark.parametrize("release_id", ["RVU25A", "RVU25D"])
def test_price_code_pays_lesser_of_mpfs_and_cap(real_snapshot: Snapshot, release_id: str) -> None:
    """For every cap row in a GPCI locality, both settings: amount = min(MPFS, published cap).

    Status-C cap rows quote no amount but show the cap as the carrier price's bound.
    """
    view = real_snapshot.select_release(release_id=release_id)
    seen: Counter[tuple[str, bool]] = Counter()
    for cap in view.oppscap.values():
        locality = view.localities.get((cap.carrier, cap.locality))
        if locality is None:
            continue
        row = view.rvus[(cap.hcpcs, cap.modifier)]
        for facility in (False, True):
            q = price(real_snapshot, cap.hcpcs, modifier=cap.modifier, release_id=release_id,
                      locality=cap.carrier + cap.locality,
                      setting="facility" if facility else "office")  # fmt: skip
            published = cap.fac_price if facility else cap.nonfac_price
            assert q.opps_cap is not None
            assert q.opps_cap.cap == published
            if cap.status == "A":
                assert q.amount == min(_mpfs(row, locality.gpci, facility), published)
            else:
                assert q.amount is None
            seen[(cap.status, q.opps_cap.applies)] += 1
    assert seen[("A", True)] > 6000
    assert seen[("C", True)] == 0


def test_capped_rows_are_facility_na_with_equal_prices(real_snapshot: Snapshot) -> None:
    """What the files show about the facility cap (reported, and pinned here).

    In every release each OPPSCAP row has fac_price == nonfac_price, its code's OPPS facility
    and non-facility PE RVUs are equal, and the capped global/TC row is NA in the facility
    setting: the facility cap only ever bounds a setting CMS marks NA.
    """
    for release_id in RELEASE_IDS:
        view = real_snapshot.select_release(release_id=release_id)
        for cap in view.oppscap.values():
            row = view.rvus[(cap.hcpcs, cap.modifier)]
            assert cap.fac_price == cap.nonfac_price
            assert row.opps_fac_pe_rvu == row.opps_nonfac_pe_rvu
            assert row.fac_na
            assert cap.modifier in ("", "TC")


# -- geography and releases -------------------------------------------------------------------


def test_every_zip_resolves_in_every_release(real_snapshot: Snapshot) -> None:
    """Every ZIP5 row's carrier-locality is in each release's GPCI; 580 are ambiguous."""
    assert len(real_snapshot.zips) == 42_956
    for release_id in RELEASE_IDS:
        view = real_snapshot.select_release(release_id=release_id)
        ambiguous = sum(real_snapshot.resolve_zip(z, view).ambiguous for z in real_snapshot.zips)
        assert ambiguous == 580


def test_kansas_and_missouri_codes_in_real_zip_file(real_snapshot: Snapshot) -> None:
    """The real file writes Kansas as EK/WK and Missouri as EM/WM; all resolve with full names."""
    states = Counter(row.state for row in real_snapshot.zips.values())
    assert {"KS", "MO"}.isdisjoint(states)
    for code, name in (("EK", "KANSAS"), ("WK", "KANSAS"), ("EM", "MISSOURI"), ("WM", "MISSOURI")):
        zip5 = next(r.zip5 for r in real_snapshot.zips.values() if r.state == code)
        assert real_snapshot.resolve_zip(zip5).state_name == name


def test_all_109_localities(real_snapshot: Snapshot) -> None:
    """109 localities, sorted by MAC+locality, each with an anesthesia CF and 25LOCCO counties."""
    found = real_snapshot.localities(real_snapshot.select_release())
    keys = [(x.mac, x.locality) for x in found]
    assert len(found) == 109
    assert keys == sorted(keys)
    assert all(x.anes_cf is not None and x.counties for x in found)
    assert not any(x.name.endswith("*") for x in found)


@pytest.mark.parametrize(
    ("on", "expected"),
    [(date(2025, 1, 1), "RVU25A"), (date(2025, 3, 31), "RVU25A"), (date(2025, 4, 1), "RVU25B"),
     (date(2025, 6, 30), "RVU25B"), (date(2025, 7, 1), "RVU25C"), (date(2025, 9, 30), "RVU25C"),
     (date(2025, 10, 1), "RVU25D"), (date(2025, 12, 31), "RVU25D")],
)  # fmt: skip
def test_real_release_boundaries(real_snapshot: Snapshot, on: date, expected: str) -> None:
    """Each quarter's release is in force from its first day to the day before the next."""
    assert real_snapshot.select_release(on=on).release_id == expected


@pytest.mark.parametrize("on", [date(2024, 12, 31), date(2026, 1, 1)])
def test_real_dates_outside_2025_not_found(real_snapshot: Snapshot, on: date) -> None:
    """Dates of service outside 2025 have no release: 404 naming the published year."""
    with pytest.raises(NotFound, match="published years: 2025"):
        real_snapshot.select_release(on=on)


# -- worked examples --------------------------------------------------------------------------


def test_99213_san_francisco_matches_cms_lookup(real_snapshot: Snapshot) -> None:
    """99213, ZIP 94110 (01112-05), 2025: 109.15 office, 73.35 facility (CMS's look-up tool).

    RVUs 1.30 work / 1.35 non-facility PE / 0.57 facility PE / 0.10 MP; GPCIs 1.088 / 1.419 /
    0.445; CF 32.3465. Office (1.4144 + 1.91565 + 0.0445) = 3.37455 x 32.3465 = 109.1549 ->
    109.15; facility (1.4144 + 0.80883 + 0.0445) = 2.26773 x 32.3465 = 73.3531 -> 73.35.
    Limiting charge 109.15 x 1.0925 = 119.2464 -> 119.25.
    """
    for on in (date(2025, 1, 2), date(2025, 11, 3)):
        office = price(real_snapshot, "99213", zip="94110", on=on)
        facility = price(real_snapshot, "99213", zip="94110", on=on, pos="22")
        assert (office.geography.carrier, office.geography.locality) == ("01112", "05")
        assert (office.amount, facility.amount) == (D("109.15"), D("73.35"))
        assert office.limiting_charge == D("119.25")


def test_99213_alaska_work_floor(real_snapshot: Snapshot) -> None:
    """99213, ZIP 99501 (Alaska, work GPCI 1.500 floor): (1.30 x 1.500 + 1.35 x 1.081 +
    0.10 x 0.592) = 1.95 + 1.45935 + 0.0592 = 3.46855 x 32.3465 = 112.1955 -> 112.20."""
    q = price(real_snapshot, "99213", zip="99501")
    assert (q.geography.state, q.components.gpci.work) == ("AK", D("1.500"))
    assert q.amount == D("112.20")


def test_99213_manhattan(real_snapshot: Snapshot) -> None:
    """99213, ZIP 10001 (13202-01 MANHATTAN; GPCIs 1.065 / 1.166 / 1.656).

    Office 1.3845 + 1.5741 + 0.1656 = 3.1242 x 32.3465 = 101.0569 -> 101.06;
    facility 1.3845 + 0.66462 + 0.1656 = 2.21472 x 32.3465 = 71.6384 -> 71.64.
    """
    office = price(real_snapshot, "99213", zip="10001")
    facility = price(real_snapshot, "99213", zip="10001", setting="facility")
    assert office.geography.locality_name == "MANHATTAN"
    assert (office.amount, facility.amount) == (D("101.06"), D("71.64"))


def test_99213_super_rural_montana(real_snapshot: Snapshot) -> None:
    """99213, ZIP 59001 (Montana, rural flag B; GPCIs 1.000 / 1.000 floor / 0.978):
    1.30 + 1.35 + 0.0978 = 2.7478 x 32.3465 = 88.8817 -> 88.88."""
    q = price(real_snapshot, "99213", zip="59001")
    assert (q.geography.rural, q.geography.state_name) == ("B", "MONTANA")
    assert q.amount == D("88.88")


def test_70496_tc_capped_by_opps_in_manhattan(real_snapshot: Snapshot) -> None:
    """70496-TC (CT angiography head), ZIP 10001, office.

    MPFS: 5.93 PE x 1.166 + 0.03 MP x 1.656 = 6.96406 x 32.3465 = 225.2630 -> 225.26.
    OPPS: 5.48 OPPS PE x 1.166 + 0.03 x 1.656 = 6.43936 x 32.3465 = 208.2908 -> 208.29,
    which is OPPSCAP's published price; the lesser, 208.29, is paid.
    """
    q = price(real_snapshot, "70496", modifier="TC", zip="10001")
    assert q.opps_cap is not None
    assert (q.opps_cap.mpfs, q.opps_cap.cap, q.opps_cap.applies) == (
        D("225.26"),
        D("208.29"),
        True,
    )
    assert q.amount == D("208.29")


def test_70496_26_professional_component(real_snapshot: Snapshot) -> None:
    """70496-26, ZIP 10001: 1.75 x 1.065 + 0.63 x 1.166 + 0.08 x 1.656 = 1.86375 + 0.73458 +
    0.13248 = 2.73081 x 32.3465 = 88.3321 -> 88.33; no OPPS cap on a 26 row."""
    q = price(real_snapshot, "70496", modifier="26", zip="10001")
    assert (q.amount, q.opps_cap) == (D("88.33"), None)


def test_0446t_revised_in_rvu25b_priced_by_date(real_snapshot: Snapshot) -> None:
    """0446T's non-facility PE RVU went from 90.47 (RVU25A) to 179.53 (RVU25B on). ZIP 10001:

    2025-03-31: 1.14 x 1.065 + 90.47 x 1.166 + 0.08 x 1.656 = 106.8346 x 32.3465 = 3455.7254
    -> 3455.73; 2025-10-15: 1.2141 + 209.33198 + 0.13248 = 210.67856 x 32.3465 = 6814.7140
    -> 6814.71.
    """
    march = price(real_snapshot, "0446T", zip="10001", on=date(2025, 3, 31))
    october = price(real_snapshot, "0446T", zip="10001", on=date(2025, 10, 15))
    assert (march.release.release_id, march.amount) == ("RVU25A", D("3455.73"))
    assert (october.release.release_id, october.amount) == ("RVU25D", D("6814.71"))


def test_27447_na_in_office_real(real_snapshot: Snapshot) -> None:
    """27447 (knee arthroplasty, work RVU 19.60: the tens digit trap) is NA in the office and
    still priced there with the PE value the file carries."""
    q = price(real_snapshot, "27447", zip="94110")
    row = real_snapshot.select_release().rvus[("27447", "")]
    assert row.work_rvu == D("19.60")
    assert q.setting_na
    assert q.components.pe_rvu == row.nonfac_pe_rvu
    assert q.amount == _mpfs(row, q.components.gpci, facility=False)
