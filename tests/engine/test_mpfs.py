"""price_code on synthetic rows: settings, modifiers, statuses, NA, OPPS cap, money rules.

Expected amounts are computed here from the formula with ``Decimal`` (``expected``), or by
hand in the docstring, never copied from the engine's output.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_pricing.engine.mpfs import price_code, setting_for
from cms_pricing.engine.quote import PriceQuery, Quote
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, NotFound, Unprocessable
from cms_pricing.reference import years
from cms_pricing.reference.rows import RvuRow

D = Decimal
CENT = D("0.01")
SF = ("1.088", "1.419", "0.445")
# Hand-copied from DOMAIN.md, not from the engine.
# 02: telehealth other than in the patient's home, paid at the facility rate (CY 2024 PFS
# final rule, continued in 2025); 10 (telehealth in the home) stays non-facility.
FACILITY_POS = {2, 19, 21, 22, 23, 24, 26, 31, 34, 41, 42, 51, 52, 53, 56, 61}


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def expected(row: RvuRow, gpci: tuple[str, str, str], facility: bool) -> Decimal:
    """The RVU pdf's formula, written out independently of the engine."""
    work, pe, mp = (D(g) for g in gpci)
    pe_rvu = row.fac_pe_rvu if facility else row.nonfac_pe_rvu
    return half_up((row.work_rvu * work + pe_rvu * pe + row.mp_rvu * mp) * row.conversion_factor)


def quote(snapshot: Snapshot, code: str, **kwargs: Any) -> Quote:
    kwargs.setdefault("zip", "94110")
    return price_code(snapshot, PriceQuery(code=code, **kwargs))


def row_of(snapshot: Snapshot, code: str, modifier: str = "", release: str = "RVU25B") -> RvuRow:
    return snapshot.select_release(release_id=release).rvus[(code, modifier)]


# -- money ------------------------------------------------------------------------------------


def test_99213_office_worked_by_hand(snapshot: Snapshot) -> None:
    """99213 (RVU25A values) in SF, office, 2025-01-15.

    (1.30 x 1.088 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465
    = (1.4144 + 1.91565 + 0.0445) x 32.3465 = 3.37455 x 32.3465 = 109.15487... -> 109.15.
    Non-participating 109.15 x 0.95 = 103.6925 -> 103.69. Limiting charge 109.15 x 1.0925 =
    119.246375 -> 119.25 (not 103.69 x 1.15 = 119.2435 -> 119.24: the pdf's single factor).
    """
    q = quote(snapshot, "99213", on=date(2025, 1, 15))
    assert (q.amount, q.non_participating, q.limiting_charge) == (
        D("109.15"),
        D("103.69"),
        D("119.25"),
    )
    assert q.components.unrounded_amount == D("3.37455") * D("32.3465")
    assert (q.payable, q.status, q.setting, q.pos, q.setting_na) == (
        True,
        "A",
        "office",
        None,
        False,
    )
    assert q.release.release_id == "RVU25A"
    assert q.opps_cap is None
    assert q.notes == ()


def test_99213_facility_uses_facility_pe(snapshot: Snapshot) -> None:
    """Facility: (1.4144 + 0.57 x 1.419 + 0.0445) x 32.3465 = 2.26773 x 32.3465 = 73.35..."""
    q = quote(snapshot, "99213", setting="facility", on=date(2025, 1, 15))
    assert q.components.pe_rvu == D("0.57")
    assert q.amount == D("73.35")


def test_release_by_date_changes_the_price(snapshot: Snapshot) -> None:
    """99213's work RVU is 1.30 in RVU25A and 1.40 in RVU25B: the date of service decides."""
    march = quote(snapshot, "99213", on=date(2025, 3, 31))
    april = quote(snapshot, "99213", on=date(2025, 4, 1))
    assert (march.release.release_id, april.release.release_id) == ("RVU25A", "RVU25B")
    assert march.amount == expected(row_of(snapshot, "99213", release="RVU25A"), SF, False)
    assert april.amount == expected(row_of(snapshot, "99213"), SF, False)
    assert april.amount != march.amount


def test_code_added_in_a_later_release_is_not_found_earlier(snapshot: Snapshot) -> None:
    """A code first published in RVU25B is a 404 for a date of service in RVU25A's quarter."""
    assert quote(snapshot, "99999", on=date(2025, 4, 1)).payable
    with pytest.raises(NotFound) as caught:
        quote(snapshot, "99999", on=date(2025, 3, 31))
    assert "RVU25A" in caught.value.message


gpci_value = st.decimals(min_value=D("0.300"), max_value=D("2.000"), places=3)
rvu_value = st.decimals(min_value=D("0.00"), max_value=D("999.99"), places=2)


@settings(max_examples=60, deadline=None)
@given(
    rvus=st.tuples(rvu_value, rvu_value, rvu_value),
    gpcis=st.tuples(gpci_value, gpci_value, gpci_value),
)
def test_amount_equals_formula_rounded_once(
    kit: Any, rvus: tuple[Decimal, Decimal, Decimal], gpcis: tuple[Decimal, Decimal, Decimal]
) -> None:
    """For any RVUs and GPCIs the amount is the exact formula rounded half-up once."""
    work, pe, mp = rvus
    gw, gpe, gmp = gpcis
    row = kit.rvu("99213", work_rvu=work, nonfac_pe_rvu=pe, fac_pe_rvu=pe, mp_rvu=mp)
    gpci = kit.gpci_row("01112", "05", (str(gw), str(gpe), str(gmp)))
    release = kit.release("RVU25A", date(2025, 1, 1), [row], [gpci])
    snap = Snapshot.build([release], kit.zip_data(), constants=years.load())
    q = quote(snap, "99213")
    exact = (work * gw + pe * gpe + mp * gmp) * kit.cf
    assert q.components.unrounded_amount == exact
    assert q.amount == half_up(exact)
    assert q.amount is not None
    assert q.non_participating == half_up(q.amount * D("0.95"))
    assert q.limiting_charge == half_up(q.amount * D("1.0925"))


# -- settings and places of service ---------------------------------------------------------


@pytest.mark.parametrize("pos", range(1, 100))
def test_every_pos_maps_to_its_setting(pos: int) -> None:
    """The 16 facility POS codes price the facility PE; every other 01-99 the office PE."""
    setting = "facility" if pos in FACILITY_POS else "office"
    assert setting_for(None, f"{pos:02d}") == (setting, f"{pos:02d}")


def test_pos_prices_the_matching_pe(snapshot: Snapshot) -> None:
    """POS 22 (outpatient hospital) uses the facility PE; POS 11 (office) the non-facility PE."""
    assert quote(snapshot, "99213", pos="22").setting == "facility"
    assert quote(snapshot, "99213", pos="22").components.pe_rvu == D("0.57")
    assert quote(snapshot, "99213", pos="11").components.pe_rvu == D("1.35")
    assert quote(snapshot, "99213", pos="3").pos == "03"


@pytest.mark.parametrize("pos", ["00", "100", "1a", "", " ", "-1", "011"])
def test_malformed_pos_is_bad_request(pos: str) -> None:
    """A POS that is not 01-99 is a 400 on the pos field."""
    with pytest.raises(BadRequest) as caught:
        setting_for(None, pos)
    assert caught.value.details == {"field": "pos"}


def test_setting_case_insensitive_and_default_office() -> None:
    """setting accepts office/facility in any case; with neither setting nor pos, office."""
    assert setting_for("FACILITY", None) == ("facility", None)
    assert setting_for(" Office ", "11") == ("office", "11")
    assert setting_for(None, None) == ("office", None)


@pytest.mark.parametrize("setting", ["home", "", "non-facility", "inpatient"])
def test_unknown_setting_is_bad_request(setting: str) -> None:
    """Any setting other than office|facility is a 400 on the setting field."""
    with pytest.raises(BadRequest) as caught:
        setting_for(setting, None)
    assert caught.value.details == {"field": "setting"}


def test_setting_and_pos_disagreeing_is_unprocessable() -> None:
    """setting=office with a facility POS (and vice versa) is a 422: each is valid alone."""
    with pytest.raises(
        Unprocessable, match="pos 22 is a facility place of service but setting is office"
    ):
        setting_for("office", "22")
    with pytest.raises(
        Unprocessable, match="pos 11 is an office place of service but setting is facility"
    ):
        setting_for("facility", "11")


# -- row selection ----------------------------------------------------------------------------


def test_26_and_tc_rows_selected_case_insensitively(snapshot: Snapshot) -> None:
    """Modifiers 26 and tc pick their own rows (a 26 row prices work + its small PE and MP)."""
    pc = quote(snapshot, "71250", modifier="26", zip="99501")
    tc = quote(snapshot, "71250", modifier="tc", zip="99501")
    alaska = ("1.500", "1.081", "0.592")
    assert (pc.modifier, pc.amount) == ("26", expected(row_of(snapshot, "71250", "26"), alaska,
                                                       False))  # fmt: skip
    assert tc.modifier == "TC"
    assert tc.components.work_rvu == D("0.00")


def test_unsupported_modifier_lists_the_supported(snapshot: Snapshot) -> None:
    """Any modifier other than blank, 26, TC, 53 is a 400 naming the supported ones."""
    with pytest.raises(BadRequest) as caught:
        quote(snapshot, "99213", modifier="59")
    assert caught.value.details == {"field": "modifier"}
    assert "blank, 26, TC or 53" in caught.value.message


@pytest.mark.parametrize(
    ("code", "modifier", "reason"),
    [
        ("99213", "26", "99213-26: PC/TC indicator 0: physician service; modifiers 26 and TC "
                        "do not apply"),
        ("93010", "TC", "PC/TC indicator 2: professional component only code"),
        ("93005", "26", "PC/TC indicator 3: technical component only code"),
        ("88305", "TC", "88305-TC: PC/TC indicator 6: laboratory physician interpretation code; "
                        "modifier TC does not apply"),
    ],
)  # fmt: skip
def test_pc_tc_modifier_on_wrong_indicator_is_unprocessable(
    snapshot: Snapshot, code: str, modifier: str, reason: str
) -> None:
    """26/TC on a code whose PC/TC indicator forbids them is a 422 giving the reason in words."""
    with pytest.raises(Unprocessable) as caught:
        quote(snapshot, code, modifier=modifier)
    assert reason in caught.value.message
    assert caught.value.details == {"field": "modifier"}


def test_26_on_lab_interpretation_code_is_priced(snapshot: Snapshot) -> None:
    """PC/TC 6 codes carry a 26 row (the pdf forbids only TC): it prices."""
    q = quote(snapshot, "88305", modifier="26")
    assert q.amount == expected(row_of(snapshot, "88305", "26"), SF, False)


def test_missing_modifier_row_is_unprocessable(snapshot: Snapshot) -> None:
    """53 on a code without a 53 row, or blank on a 26-only code, is a 422 naming the rows."""
    with pytest.raises(Unprocessable, match="has no 53 row"):
        quote(snapshot, "99213", modifier="53")
    with pytest.raises(Unprocessable, match="modifiers it carries: 26"):
        quote(snapshot, "86153")


def test_53_row_priced(snapshot: Snapshot) -> None:
    """45378-53 (discontinued colonoscopy) prices its own reduced row."""
    q = quote(snapshot, "45378", modifier="53")
    assert q.components.work_rvu == D("0.98")
    assert q.amount == expected(row_of(snapshot, "45378", "53"), SF, False)


def test_unknown_and_malformed_codes(snapshot: Snapshot) -> None:
    """An unknown well-formed code is a 404; a malformed one a 400, both on the code field."""
    with pytest.raises(NotFound) as missing:
        quote(snapshot, "12345")
    assert missing.value.details == {"field": "code"}
    for bad in ("1234", "992134", "99-13", ""):
        with pytest.raises(BadRequest) as caught:
            quote(snapshot, bad)
        assert caught.value.details == {"field": "code"}
    assert quote(snapshot, " 99213 ").code == "99213"


def test_zip_or_locality_exactly_one(snapshot: Snapshot) -> None:
    """Both zip and locality, or neither, is a 422."""
    with pytest.raises(Unprocessable, match="not both"):
        quote(snapshot, "99213", locality="0111205")
    with pytest.raises(Unprocessable, match="required") as caught:
        quote(snapshot, "99213", zip=None)
    assert caught.value.details == {"field": "zip"}


def test_locality_given_directly_prices_like_its_zip(snapshot: Snapshot) -> None:
    """0111205 prices exactly as ZIP 94110, which maps to it; geography says match=locality."""
    by_locality = quote(snapshot, "99213", zip=None, locality="0111205")
    by_zip = quote(snapshot, "99213")
    assert by_locality.amount == by_zip.amount
    assert by_locality.geography.match == "locality"


def test_ambiguous_zip_note_reaches_the_quote(snapshot: Snapshot) -> None:
    """A plus-four ZIP's note is among the quote's notes."""
    q = quote(snapshot, "99213", zip="94111-0001")
    assert q.geography.ambiguous
    assert q.geography.note in q.notes


# -- NA, statuses, indicators -----------------------------------------------------------------


def test_na_setting_priced_with_carried_pe_and_flagged(snapshot: Snapshot) -> None:
    """27447 is NA in the office: still priced with the PE the file carries, flagged, noted."""
    q = quote(snapshot, "27447")
    assert q.setting_na
    assert q.components.pe_rvu == D("10.04")
    assert q.amount == expected(row_of(snapshot, "27447"), SF, False)
    assert any("NA in the office setting" in n for n in q.notes)
    assert not quote(snapshot, "27447", setting="facility").setting_na


@pytest.mark.parametrize(
    ("status", "word"),
    [("B", "bundled"), ("C", "carrier-priced"), ("E", "excluded"), ("I", "not valid"),
     ("J", "anesthesia"), ("M", "measurement"), ("N", "non-covered"),
     ("P", "bundled/excluded"), ("X", "statutory exclusion"), ("Q", "not payable")],
)  # fmt: skip
def test_non_payable_statuses(snapshot: Snapshot, status: str, word: str) -> None:
    """Statuses other than A/R/T: not payable, no money, words for the status, components kept."""
    q = quote(snapshot, f"ZZ00{status}")
    assert (q.payable, q.status) == (False, status)
    assert (q.amount, q.non_participating, q.limiting_charge) == (None, None, None)
    assert word in q.status_reason
    assert q.components.work_rvu == D("1.30")


def test_anesthesia_status_notes_the_locality_cf(snapshot: Snapshot) -> None:
    """Status J puts the locality's anesthesia CF (SF 22.65) in a note."""
    q = quote(snapshot, "ZZ00J")
    assert any("22.65" in n and "0111205" in n for n in q.notes)


@pytest.mark.parametrize("status", ["R", "T"])
def test_restricted_and_injection_statuses_are_payable_with_note(
    snapshot: Snapshot, status: str
) -> None:
    """R and T are priced like A, with a note on their payment restriction."""
    q = quote(snapshot, f"ZZ00{status}")
    assert q.payable
    assert q.amount == expected(row_of(snapshot, f"ZZ00{status}"), SF, False)
    assert len(q.notes) == 1


def test_indicators_reported(snapshot: Snapshot) -> None:
    """The quote carries the row's policy indicators, shares written as in the file."""
    q = quote(snapshot, "27447")
    assert q.indicators == {
        "pctc": "0", "global_days": "090", "pre_op": "0.10", "intra_op": "0.69",
        "post_op": "0.21", "mult_proc": "0", "bilateral": "0", "assistant": "0",
        "co_surgeon": "0", "team": "0", "endo_base": "", "supervision": "09",
        "imaging_family": "99",
    }  # fmt: skip
    q.indicators["pctc"] = "changed"
    assert quote(snapshot, "27447").indicators["pctc"] == "0"


# -- OPPS cap ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "cap"), [("office", "61.00"), ("facility", "60.00")])
def test_opps_cap_binds(snapshot: Snapshot, setting: str, cap: str) -> None:
    """71250-TC in SF: MPFS (3.00 x 1.419 + 0.02 x 0.445) x 32.3465 = 137.99 > cap -> cap paid.

    Office uses the cap file's non-facility price, facility its facility price.
    """
    q = quote(snapshot, "71250", modifier="TC", setting=setting)
    assert q.opps_cap is not None
    mpfs = expected(row_of(snapshot, "71250", "TC"), SF, setting == "facility")
    assert (q.opps_cap.applies, q.opps_cap.cap, q.opps_cap.mpfs) == (True, D(cap), mpfs)
    assert q.amount == D(cap)
    assert q.limiting_charge == half_up(D(cap) * D("1.0925"))
    assert any("OPPS imaging cap applied" in n for n in q.notes)


def test_opps_cap_above_mpfs_does_not_apply(snapshot: Snapshot) -> None:
    """In Alaska the synthetic cap (999.00) exceeds the MPFS amount: the MPFS amount is paid."""
    q = quote(snapshot, "71250", zip="99501")
    assert q.opps_cap is not None
    assert not q.opps_cap.applies
    assert q.amount == q.opps_cap.mpfs


def test_carrier_priced_cap_only_bounds(snapshot: Snapshot) -> None:
    """A status-C code with a cap row is not payable; the cap is shown as the carrier's bound."""
    q = quote(snapshot, "0633T", modifier="TC")
    assert q.opps_cap is not None
    assert (q.payable, q.amount, q.opps_cap.applies, q.opps_cap.cap) == (
        False,
        None,
        False,
        D("150.69"),
    )
    assert any("may not exceed" in n and "150.69" in n for n in q.notes)


def test_no_cap_row_means_no_cap(snapshot: Snapshot) -> None:
    """The 26 row has no OPPSCAP row: opps_cap is None."""
    assert quote(snapshot, "71250", modifier="26").opps_cap is None
