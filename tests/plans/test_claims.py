"""Plans priced as Medicare's claims systems price them (issue 13), worked by hand.

Every figure below is computed from the real RVU25D files (PPRRVU2025_Oct.txt fixed-width
records: work RVU at positions 60-65, non-facility PE 67-72, facility PE 76-81, MP 85-89;
GPCI2025.txt; OPPSCAP_Oct.txt), never by the engine. The conversion factor on every PPRRVU row
is 32.3465 ("CF"). Places (GPCI2025: work / PE / MP):

- Manhattan, carrier-locality 1320201: 1.065 / 1.166 / 1.656;
- Alabama, 1011200: 1.000 / 0.869 / 0.575;
- San Francisco, 0111205: 1.088 / 1.419 / 0.445.

A fee schedule amount is (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x CF,
published half-up to the cent ("->"). Claim basis (spec rule A): each unit starts from that
published amount and every payment step is rounded half-up to the cent in turn (bilateral,
multiple procedure, endoscopy base, TC/PC/PE portion, assistant, co-surgeon, global split);
``unrounded`` is the same arithmetic from the unrounded fee, never rounded. "cent(x)" below is
x rounded half-up to the cent.

Plans carry a date of service, 2025-10-06 unless a test says otherwise; every date here is in
2025 after 2025-10-01, so RVU25D (the only release of ``real_snapshot``) is in force on it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from cms_pricing.engine.plans import Plan, PlanLine, PricedLine, PricedPlan, price_plan
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import Unprocessable

D = Decimal
L = PlanLine
MANHATTAN = "1320201"
ALABAMA = "1011200"
SAN_FRANCISCO = "0111205"
DAY = date(2025, 10, 6)


def price(
    snapshot: Snapshot,
    *lines: PlanLine,
    locality: str = MANHATTAN,
    setting: str | None = None,
    on: date = DAY,
) -> PricedPlan:
    plan = Plan(tuple(lines), locality=locality, on=on, setting=setting)
    return price_plan(snapshot, plan)


def mpfs(plan: PricedPlan, index: int) -> PricedLine:
    line = plan.lines[index]
    assert isinstance(line, PricedLine)
    return line


def allowed(plan: PricedPlan) -> list[Decimal | None]:
    return [line.allowed for line in plan.lines]


def packaged(plan: PricedPlan) -> list[int | None]:
    return [line.packaged_into for line in plan.lines]


def rules(plan: PricedPlan, index: int) -> list[str]:
    return [a.rule for a in plan.lines[index].adjustments]


def totals(plan: PricedPlan, total: str, unrounded: str | None = None) -> None:
    """The plan's claim-basis total and, where worked, its unrounded total."""
    assert plan.rounding == "claim"
    assert plan.allowed == D(total)
    if unrounded is not None:
        assert plan.unrounded_allowed == D(unrounded)


# -- B. RT/LT pairs ----------------------------------------------------------------------------


def test_rt_lt_pair_of_a_bilateral_indicator_2_code_is_paid_once(real_snapshot: Snapshot) -> None:
    """69210 has bilateral indicator 2 (RVU25D.pdf position 117: "reported twice on the same
    day by any other means (e.g., with RT and LT modifiers ...) ... 100% of the fee schedule
    for a single code").

    Manhattan office. 69210: (0.61x1.065 + 0.76x1.166 + 0.07x1.656) x CF = 1.65173 x 32.3465
    = 53.427684445 -> 53.43; x 100% = 53.43 on line 0. Line 1 (the LT side) is paid with
    line 0: 0.00 (unrounded 0), packaged_into 0. Total 53.43, unrounded 53.427684445.
    """
    plan = price(real_snapshot, L("69210", ("RT",)), L("69210", ("LT",)))
    assert allowed(plan) == [D("53.43"), D("0.00")]
    assert packaged(plan) == [None, 0]
    assert mpfs(plan, 1).paid and mpfs(plan, 1).unrounded == 0
    assert "bilateral_pair" in rules(plan, 1)
    assert plan.complete
    totals(plan, "53.43", "53.427684445")


def test_rt_lt_pair_at_150_percent_ranks_first_as_one_procedure(real_snapshot: Snapshot) -> None:
    """64721 has bilateral indicator 1 (150%) and multiple procedure indicator 2; 49505 too.

    Manhattan facility. 64721: (4.97x1.065 + 7.53x1.166 + 0.99x1.656) x CF = 15.71247 x
    32.3465 = 508.243410855 -> 508.24; the pair = cent(508.24 x 1.5) = 762.36 (unrounded
    762.3651162825). 49505: (7.96x1.065 + 5.99x1.166 + 1.99x1.656) x CF = 18.75718 x 32.3465 =
    606.729122870 -> 606.73. The pair (762.36) ranks above 49505 (606.73), so 49505 is paid
    cent(606.73 x 50%) = cent(303.365) = 303.37 (unrounded 303.364561435). Lines: 762.36,
    0.00 (packaged into 0), 303.37; total 1065.73, unrounded 1065.7296777175.
    """
    plan = price(
        real_snapshot, L("64721", ("RT",)), L("64721", ("LT",)), L("49505"), setting="facility"
    )
    assert allowed(plan) == [D("762.36"), D("0.00"), D("303.37")]
    assert packaged(plan) == [None, 0, None]
    assert "bilateral" in rules(plan, 0) and "multiple_procedure" in rules(plan, 0)
    assert "bilateral_pair" in rules(plan, 1)
    assert [a.percent for a in plan.lines[2].adjustments if a.rule == "multiple_procedure"] == [
        D(50)
    ]
    totals(plan, "1065.73", "1065.7296777175")


def test_several_rt_and_lt_lines_are_paired_in_plan_order(real_snapshot: Snapshot) -> None:
    """Spec B: "Several RT and LT lines: paired in plan order": 64721-RT (0), 64721-RT (1),
    64721-LT (2), 64721-LT (3) are the pairs (0, 2) and (1, 3), each carried by its earlier
    line.

    Manhattan facility. Each pair = cent(508.24 x 1.5) = 762.36 (unrounded 762.3651162825).
    Two equal procedures: the tie is broken by code, then plan order, so the pair on line 0
    ranks first (100%) and the pair on line 1 is paid cent(762.36 x 50%) = 381.18 (unrounded
    381.18255814125). Lines: 762.36, 381.18, 0.00 (into 0), 0.00 (into 1); total 1143.54,
    unrounded 1143.54767442375.
    """
    plan = price(
        real_snapshot,
        L("64721", ("RT",)),
        L("64721", ("RT",)),
        L("64721", ("LT",)),
        L("64721", ("LT",)),
        setting="facility",
    )
    assert allowed(plan) == [D("762.36"), D("381.18"), D("0.00"), D("0.00")]
    assert packaged(plan) == [None, None, 0, 1]
    totals(plan, "1143.54", "1143.54767442375")


def test_rt_lt_pair_of_a_bilateral_indicator_3_code_pays_each_side(
    real_snapshot: Snapshot,
) -> None:
    """73721 has bilateral indicator 3: "100% of the fee schedule amount for each side".

    Manhattan office. 73721: (1.35x1.065 + 4.75x1.166 + 0.09x1.656) x CF = 7.12529 x 32.3465 =
    230.478192985 -> 230.48; the pair = cent(230.48 x 2) = 460.96 (unrounded 460.95638597),
    on line 0; line 1 0.00, packaged into 0.
    """
    plan = price(real_snapshot, L("73721", ("RT",)), L("73721", ("LT",)))
    assert allowed(plan) == [D("460.96"), D("0.00")]
    assert packaged(plan) == [None, 0]
    totals(plan, "460.96", "460.95638597")


def test_rt_lt_lines_of_a_code_without_the_bilateral_concept_are_not_paired(
    real_snapshot: Snapshot,
) -> None:
    """11300 has bilateral indicator 9 ("concept does not apply"): no pairing. Its RT and LT
    lines are two procedures of multiple procedure indicator 2.

    Manhattan office. 11300: (0.60x1.065 + 2.29x1.166 + 0.06x1.656) x CF = 3.40850 x 32.3465 =
    110.253045250 -> 110.25. Equal amounts: line 0 ranks first (code, then plan order) at
    100% = 110.25; line 1 cent(110.25 x 50%) = cent(55.125) = 55.13. Total 165.38 (unrounded
    110.25304525 x 1.5 = 165.379567875).
    """
    plan = price(real_snapshot, L("11300", ("RT",)), L("11300", ("LT",)))
    assert allowed(plan) == [D("110.25"), D("55.13")]
    assert packaged(plan) == [None, None]
    assert "bilateral_pair" not in rules(plan, 1)
    totals(plan, "165.38", "165.379567875")


def test_rt_lt_lines_of_two_providers_or_two_dates_are_not_paired(
    real_snapshot: Snapshot,
) -> None:
    """A pair needs the same provider and the same date. 64721-RT by "a" and 64721-LT by "b":
    two practitioners, so neither paired nor ranked together: each is 64721's Manhattan
    facility fee 508.24 (15.71247 x 32.3465 = 508.243410855). 64721-RT on 2025-10-06 and
    64721-LT on 2025-10-07: different dates, so again 508.24 each (the multiple procedure rule
    applies on one date only). Each plan: 1016.48, unrounded 1016.48682171.
    """
    providers = price(
        real_snapshot,
        L("64721", ("RT",), provider="a"),
        L("64721", ("LT",), provider="b"),
        setting="facility",
    )
    assert allowed(providers) == [D("508.24"), D("508.24")]
    assert packaged(providers) == [None, None]
    totals(providers, "1016.48", "1016.48682171")
    dates = price(
        real_snapshot,
        L("64721", ("RT",)),
        L("64721", ("LT",), on=date(2025, 10, 7)),
        setting="facility",
    )
    assert allowed(dates) == [D("508.24"), D("508.24")]
    assert packaged(dates) == [None, None]
    assert [line.on for line in dates.lines] == [DAY, date(2025, 10, 7)]
    totals(dates, "1016.48", "1016.48682171")


# -- A. claim-basis rounding ------------------------------------------------------------------


def test_bilateral_50_is_rounded_from_the_published_fee(real_snapshot: Snapshot) -> None:
    """Spec A's example. Manhattan facility. 27447: (19.60x1.065 + 15.30x1.166 + 3.98x1.656)
    x CF = 45.30468 x 32.3465 = 1465.447831620 -> 1465.45; 27447-50 (bilateral indicator 1):
    1465.45 x 1.5 = 2198.175 -> 2198.18. Unrounded: 1465.44783162 x 1.5 = 2198.17174743.
    """
    plan = price(real_snapshot, L("27447", ("50",)), setting="facility")
    assert allowed(plan) == [D("2198.18")]
    assert mpfs(plan, 0).unrounded == D("2198.17174743")
    assert rules(plan, 0) == ["bilateral"]
    totals(plan, "2198.18", "2198.17174743")


def test_endoscopy_member_is_paid_less_the_published_base_fee(real_snapshot: Snapshot) -> None:
    """Indicator 3 family 43235, Manhattan office, both amounts in cents.

    43251: (3.47x1.065 + 10.57x1.166 + 0.43x1.656) x CF = 16.73225 x 32.3465 = 541.229724625
    -> 541.23, in full. 43239: (2.39x1.065 + 8.36x1.166 + 0.29x1.656) x CF = 12.77335 x
    32.3465 = 413.173165775 -> 413.17, less the base 43235: (2.09x1.065 + 6.18x1.166 +
    0.27x1.656) x CF = 9.87885 x 32.3465 = 319.546221525 -> 319.55: 413.17 - 319.55 = 93.62
    (unrounded 93.62694425, which once rounded would be 93.63). Total 634.85, unrounded
    634.856668875.
    """
    plan = price(real_snapshot, L("43239"), L("43251"))
    assert allowed(plan) == [D("93.62"), D("541.23")]
    assert rules(plan, 0) == ["endoscopy_family"]
    totals(plan, "634.85", "634.856668875")


def test_endoscopy_base_billed_with_two_members(real_snapshot: Snapshot) -> None:
    """43248 + 43239 + their base 43235, Manhattan office.

    43248: (2.91x1.065 + 8.88x1.166 + 0.36x1.656) x CF = 14.04939 x 32.3465 = 454.448593635
    -> 454.45, the highest, in full. 43239: 413.17 - 319.55 = 93.62. 43235 (the base, billed
    with members of its family): 0.00. One family is one procedure: no 50% ranking. Total
    548.07; unrounded 454.448593635 + 93.62694425 + 0 = 548.075537885.
    """
    plan = price(real_snapshot, L("43235"), L("43239"), L("43248"))
    assert allowed(plan) == [D("0.00"), D("93.62"), D("454.45")]
    assert "multiple_procedure" not in rules(plan, 2)
    totals(plan, "548.07", "548.075537885")


# -- C. status T ------------------------------------------------------------------------------


def test_status_t_injection_is_bundled_into_the_other_service(real_snapshot: Snapshot) -> None:
    """96523 has status T (Attachment A: "only paid if there are no other services payable
    under the physician fee schedule billed on the same date by the same provider").

    Manhattan office. 99213: (1.30x1.065 + 1.35x1.166 + 0.10x1.656) x CF = 3.12420 x 32.3465
    = 101.056935300 -> 101.06. 96523 (27.18 alone) is bundled: 0.00, packaged into line 0,
    still paid. Total 101.06, unrounded 101.0569353.
    """
    plan = price(real_snapshot, L("99213"), L("96523"))
    assert allowed(plan) == [D("101.06"), D("0.00")]
    assert packaged(plan) == [None, 0]
    assert plan.lines[1].paid and not plan.lines[1].by_report
    assert rules(plan, 1) == ["status_t_bundled"]
    assert plan.complete
    totals(plan, "101.06", "101.0569353")


def test_status_t_lines_alone_are_paid(real_snapshot: Snapshot) -> None:
    """Only T lines (96523, 94760): nothing else payable under the PFS is billed, so both are
    paid.

    Manhattan office. 96523: (0.04x1.065 + 0.67x1.166 + 0.01x1.656) x CF = 0.84038 x 32.3465 =
    27.183351670 -> 27.18. 94760: (0.00x1.065 + 0.10x1.166 + 0.01x1.656) x CF = 0.13316 x
    32.3465 = 4.307259940 -> 4.31. Total 31.49, unrounded 31.49061161.
    """
    plan = price(real_snapshot, L("96523"), L("94760"))
    assert allowed(plan) == [D("27.18"), D("4.31")]
    assert packaged(plan) == [None, None]
    totals(plan, "31.49", "31.49061161")


def test_status_t_line_of_another_practitioner_is_paid(real_snapshot: Snapshot) -> None:
    """Spec C: the same practitioner is the same provider label, and an assistant line is
    another practitioner.

    Manhattan office, 99213 by "b" and 96523 by "": 101.06 and 27.18, total 128.24 (unrounded
    101.0569353 + 27.18335167 = 128.24028697).

    27447-80 (facility) and 96523 (office), both provider "": the assistant at surgery is
    another practitioner, so 96523 is paid 27.18. 27447-80 = cent(1465.45 x 16%) =
    cent(234.472) = 234.47 (unrounded 1465.44783162 x 0.16 = 234.4716530592). Total 261.65,
    unrounded 261.6550047292.
    """
    other = price(real_snapshot, L("99213", provider="b"), L("96523"))
    assert allowed(other) == [D("101.06"), D("27.18")]
    assert packaged(other) == [None, None]
    totals(other, "128.24", "128.24028697")
    assistant = price(real_snapshot, L("27447", ("80",), setting="facility"), L("96523"))
    assert allowed(assistant) == [D("234.47"), D("27.18")]
    assert packaged(assistant) == [None, None]
    assert rules(assistant, 0) == ["assistant_at_surgery"]
    totals(assistant, "261.65", "261.6550047292")


def test_status_t_line_is_bundled_with_a_contractor_priced_service(
    real_snapshot: Snapshot,
) -> None:
    """Spec C counts status C as a service payable under the PFS: 0042T (status C, no RVUs,
    the MAC prices it) billed with 96523 bundles the injection. 0042T: allowed None, paid,
    by report; 96523: 0.00 packaged into 0. Nothing is priced: total 0.00, incomplete."""
    plan = price(real_snapshot, L("0042T"), L("96523"))
    assert allowed(plan) == [None, D("0.00")]
    assert packaged(plan) == [None, 0]
    assert plan.lines[0].paid and plan.lines[0].by_report
    assert plan.complete is False
    totals(plan, "0.00", "0")


def test_status_t_line_on_another_date_is_paid(real_snapshot: Snapshot) -> None:
    """Same date only: 99213 on 2025-10-06 and 96523 on 2025-10-07 are both paid.

    Manhattan office: 101.06 + 27.18 = 128.24; unrounded 101.0569353 + 27.18335167 =
    128.24028697.
    """
    plan = price(real_snapshot, L("99213"), L("96523", on=date(2025, 10, 7)))
    assert allowed(plan) == [D("101.06"), D("27.18")]
    assert packaged(plan) == [None, None]
    assert [line.on for line in plan.lines] == [DAY, date(2025, 10, 7)]
    totals(plan, "128.24", "128.24028697")


# -- D. lines the MAC prices, and lines never paid ---------------------------------------------


def test_zero_rvu_status_r_line_is_left_to_the_mac(real_snapshot: Snapshot) -> None:
    """0275T: status R with work, PE and MP RVUs all 0.00 (954 such rows in RVU25D). Not a
    made-up zero: its quote is not payable and has no amount; the plan line is allowed None,
    paid, by report, so the plan is incomplete. 99213 (Manhattan office) 101.06 is the total,
    unrounded 101.0569353.
    """
    plan = price(real_snapshot, L("99213"), L("0275T"))
    assert allowed(plan) == [D("101.06"), None]
    line = plan.lines[1]
    assert line.paid is True and line.by_report is True and line.packaged_into is None
    assert line.quote.payable is False and line.quote.amount is None
    assert plan.complete is False
    totals(plan, "101.06", "101.0569353")


def test_status_c_and_j_lines_are_left_to_the_mac(real_snapshot: Snapshot) -> None:
    """0042T (status C: "A/B MACs ... will establish RVUs and payment amounts") and 00100
    billed as an MPFS line (status J: anesthesia, no RVUs): allowed None, paid, by report;
    the plan is incomplete. Total = 99213's 101.06, unrounded 101.0569353."""
    plan = price(real_snapshot, L("99213"), L("0042T"), L("00100"))
    assert allowed(plan) == [D("101.06"), None, None]
    assert [line.paid for line in plan.lines] == [True, True, True]
    assert [line.by_report for line in plan.lines] == [False, True, True]
    assert plan.complete is False
    totals(plan, "101.06", "101.0569353")


def test_other_non_payable_statuses_stay_unpaid(real_snapshot: Snapshot) -> None:
    """99024 (B), 90296 (E), 0469T (N): paid False, not by report, no amount; the plan stays
    complete. Total 101.06 (99213), unrounded 101.0569353."""
    plan = price(real_snapshot, L("99213"), L("99024"), L("90296"), L("0469T"))
    assert allowed(plan) == [D("101.06"), None, None, None]
    assert [line.paid for line in plan.lines] == [True, False, False, False]
    assert not any(line.by_report for line in plan.lines)
    assert plan.complete is True
    totals(plan, "101.06", "101.0569353")


# -- E, F. places of service --------------------------------------------------------------------


def test_telehealth_pos_02_is_the_facility_rate_and_pos_10_the_office_rate(
    real_snapshot: Snapshot,
) -> None:
    """CY 2025 PFS final rule: POS 02 at the facility rate, POS 10 at the non-facility rate.

    Manhattan 99213: facility (1.30x1.065 + 0.57x1.166 + 0.10x1.656) x CF = 2.21472 x 32.3465
    = 71.638440480 -> 71.64; office 101.056935300 -> 101.06. Total 172.70, unrounded
    172.69537578.
    """
    plan = price(real_snapshot, L("99213", pos="02"), L("99213", pos="10"))
    assert allowed(plan) == [D("71.64"), D("101.06")]
    assert [mpfs(plan, i).quote.setting for i in (0, 1)] == ["facility", "office"]
    totals(plan, "172.70", "172.69537578")


def test_incident_to_and_physician_interpretation_places_of_service(
    real_snapshot: Snapshot,
) -> None:
    """PC/TC 5 (90471, incident-to): "Payment may not be made ... when they are provided to
    hospital inpatients or patients in a hospital outpatient department": at POS 22 not paid.
    PC/TC 8 (85060): "No payment is recognized for CPT codes 85060 furnished to hospital
    outpatients or non-hospital patients": not paid in the office; paid at POS 21 (inpatient)
    and in the facility setting with no POS.

    Manhattan. 90471 at POS 11: (0.17x1.065 + 0.44x1.166 + 0.01x1.656) x CF = 0.71065 x
    32.3465 = 22.987040225 -> 22.99. 85060 facility: (0.45x1.065 + 0.22x1.166 + 0.03x1.656) x
    CF = 0.78545 x 32.3465 = 25.406558425 -> 25.41. Total 22.99 + 25.41 + 25.41 = 73.81;
    unrounded 22.987040225 + 2 x 25.406558425 = 73.800157075. The unpaid lines leave the plan
    complete.
    """
    plan = price(
        real_snapshot,
        L("90471", pos="22"),
        L("85060", setting="office"),
        L("85060", pos="21"),
        L("85060", setting="facility"),
        L("90471", pos="11"),
    )
    assert allowed(plan) == [None, None, D("25.41"), D("25.41"), D("22.99")]
    assert [line.paid for line in plan.lines] == [False, False, True, True, True]
    assert not any(line.by_report for line in plan.lines)
    assert plan.complete is True
    totals(plan, "73.81", "73.800157075")


# -- G. E/M visits in a global surgery period ---------------------------------------------------


def test_em_on_the_day_of_a_minor_procedure_needs_25(real_snapshot: Snapshot) -> None:
    """20610 has global 000: an E/M the same day without 25 is in its package.

    Manhattan office. 20610: (0.79x1.065 + 1.04x1.166 + 0.13x1.656) x CF = 2.26927 x 32.3465
    = 73.402942055 -> 73.40. Without 25: 99213 0.00, packaged into 0; total 73.40, unrounded
    73.402942055. With 25: 99213 paid 101.06; total 174.46, unrounded 174.459877355.
    """
    without = price(real_snapshot, L("20610"), L("99213"))
    assert allowed(without) == [D("73.40"), D("0.00")]
    assert packaged(without) == [None, 0]
    assert rules(without, 1) == ["global_surgery"]
    assert without.lines[1].paid
    totals(without, "73.40", "73.402942055")
    with_25 = price(real_snapshot, L("20610"), L("99213", ("25",)))
    assert allowed(with_25) == [D("73.40"), D("101.06")]
    assert packaged(with_25) == [None, None]
    totals(with_25, "174.46", "174.459877355")


def test_em_on_the_day_of_major_surgery_needs_57(real_snapshot: Snapshot) -> None:
    """27447 has global 090: a same-day E/M with neither 57 nor 25 is in the package.

    Manhattan facility. 27447 1465.45 (1465.44783162). 99223: (3.50x1.065 + 1.39x1.166 +
    0.28x1.656) x CF = 5.81192 x 32.3465 = 187.995270280 -> 188.00. Without 57: 99223 0.00
    packaged into 0, total 1465.45 (unrounded 1465.44783162). With 57 (and, per spec G, with
    25): paid 188.00, total 1653.45, unrounded 1653.4431019.
    """
    without = price(real_snapshot, L("27447"), L("99223"), setting="facility")
    assert allowed(without) == [D("1465.45"), D("0.00")]
    assert packaged(without) == [None, 0]
    assert rules(without, 1) == ["global_surgery"]
    totals(without, "1465.45", "1465.44783162")
    for modifier in ("57", "25"):
        paid = price(real_snapshot, L("27447"), L("99223", (modifier,)), setting="facility")
        assert allowed(paid) == [D("1465.45"), D("188.00")], modifier
        assert packaged(paid) == [None, None]
        totals(paid, "1653.45", "1653.4431019")


def test_em_the_day_before_major_surgery_needs_57(real_snapshot: Snapshot) -> None:
    """The day before a 090 procedure is in its package (the "1-day preoperative period"):
    99223 on 2025-10-05, 27447 on the plan's date 2025-10-06, Manhattan facility. Without 57:
    0.00, packaged into the 27447 line (index 1); total 1465.45. With 57: 188.00; total
    1653.45 (unrounded 1653.4431019).

    The day before a 000 procedure is not: 99213 on 2025-10-05 with 20610 (office) on
    2025-10-06 is paid 101.06; total 73.40 + 101.06 = 174.46 (unrounded 174.459877355).
    """
    before = date(2025, 10, 5)
    without = price(real_snapshot, L("99223", on=before), L("27447"), setting="facility")
    assert allowed(without) == [D("0.00"), D("1465.45")]
    assert packaged(without) == [1, None]
    assert rules(without, 0) == ["global_surgery"]
    assert [line.on for line in without.lines] == [before, DAY]
    totals(without, "1465.45", "1465.44783162")
    with_57 = price(real_snapshot, L("99223", ("57",), on=before), L("27447"), setting="facility")
    assert allowed(with_57) == [D("188.00"), D("1465.45")]
    totals(with_57, "1653.45", "1653.4431019")
    minor = price(real_snapshot, L("99213", on=before), L("20610"))
    assert allowed(minor) == [D("101.06"), D("73.40")]
    assert packaged(minor) == [None, None]
    totals(minor, "174.46", "174.459877355")


def test_postoperative_em_within_90_days_needs_24(real_snapshot: Snapshot) -> None:
    """27447 (090) on the plan's date 2025-10-01 (facility, 1465.45); a 99213 office visit
    (101.06) after it, Manhattan.

    - 2025-10-31 (day 30) without 24: in the package, 0.00 packaged into 0; total 1465.45.
    - 2025-10-31 with 24 ("unrelated E/M during a postoperative period"): paid; total
      1465.45 + 101.06 = 1566.51, unrounded 1465.44783162 + 101.0569353 = 1566.50476692.
    - 2025-12-30 (day 90): still in the package.
    - 2025-12-31 (day 91): after the global period, paid; total 1566.51.
    """
    surgery = L("27447", setting="facility")
    start = date(2025, 10, 1)

    def visit(on: date, modifiers: tuple[str, ...] = ()) -> PricedPlan:
        return price(real_snapshot, surgery, L("99213", modifiers, on=on), on=start)

    day_30 = visit(date(2025, 10, 31))
    assert allowed(day_30) == [D("1465.45"), D("0.00")]
    assert packaged(day_30) == [None, 0]
    assert rules(day_30, 1) == ["global_surgery"]
    assert [line.on for line in day_30.lines] == [start, date(2025, 10, 31)]
    totals(day_30, "1465.45", "1465.44783162")
    with_24 = visit(date(2025, 10, 31), ("24",))
    assert allowed(with_24) == [D("1465.45"), D("101.06")]
    totals(with_24, "1566.51", "1566.50476692")
    day_90 = visit(date(2025, 12, 30))
    assert allowed(day_90) == [D("1465.45"), D("0.00")]
    assert packaged(day_90) == [None, 0]
    day_91 = visit(date(2025, 12, 31))
    assert allowed(day_91) == [D("1465.45"), D("101.06")]
    assert packaged(day_91) == [None, None]
    totals(day_91, "1566.51", "1566.50476692")


def test_postoperative_em_within_10_days_of_a_010_procedure(real_snapshot: Snapshot) -> None:
    """10060 has global 010 (days 1-10 after it). Manhattan office. 10060: (1.22x1.065 +
    2.49x1.166 + 0.13x1.656) x CF = 4.41792 x 32.3465 = 142.904249280 -> 142.90.

    99213 on 2025-10-16 (day 10): 0.00, packaged into 0; total 142.90 (unrounded
    142.90424928). On 2025-10-17 (day 11): paid 101.06; total 243.96, unrounded
    243.96118458. The same day with 25: paid, 243.96; without 25: packaged.
    """
    day_10 = price(real_snapshot, L("10060"), L("99213", on=date(2025, 10, 16)))
    assert allowed(day_10) == [D("142.90"), D("0.00")]
    assert packaged(day_10) == [None, 0]
    totals(day_10, "142.90", "142.90424928")
    day_11 = price(real_snapshot, L("10060"), L("99213", on=date(2025, 10, 17)))
    assert allowed(day_11) == [D("142.90"), D("101.06")]
    totals(day_11, "243.96", "243.96118458")
    same_25 = price(real_snapshot, L("10060"), L("99213", ("25",)))
    assert allowed(same_25) == [D("142.90"), D("101.06")]
    same = price(real_snapshot, L("10060"), L("99213"))
    assert allowed(same) == [D("142.90"), D("0.00")]
    assert packaged(same) == [None, 0]


def test_em_of_another_practitioner_is_not_in_the_package(real_snapshot: Snapshot) -> None:
    """The global package is the surgeon's: 20610 by "a" and 99213 by "b" the same day,
    Manhattan office: 73.40 and 101.06, total 174.46 (unrounded 174.459877355)."""
    plan = price(real_snapshot, L("20610", provider="a"), L("99213", provider="b"))
    assert allowed(plan) == [D("73.40"), D("101.06")]
    assert packaged(plan) == [None, None]
    totals(plan, "174.46", "174.459877355")


# -- dates of service ------------------------------------------------------------------------


def test_procedures_on_different_dates_are_not_ranked(real_snapshot: Snapshot) -> None:
    """The multiple procedure rule ranks procedures "reported on the same day".

    Manhattan facility. 27447 1465.45; 29881: (7.03x1.065 + 8.22x1.166 + 1.39x1.656) x CF =
    19.37331 x 32.3465 = 626.658771915 -> 626.66. On 2025-10-06 and 2025-10-07: both in full,
    total 2092.11, unrounded 2092.106603535. The same day: 29881 (its endoscopy family of
    one) ranks second, cent(626.66 x 50%) = 313.33; total 1778.78, unrounded 1465.44783162 +
    313.3293859575 = 1778.7772175775.
    """
    apart = price(real_snapshot, L("27447"), L("29881", on=date(2025, 10, 7)), setting="facility")
    assert allowed(apart) == [D("1465.45"), D("626.66")]
    assert "multiple_procedure" not in rules(apart, 0) + rules(apart, 1)
    totals(apart, "2092.11", "2092.106603535")
    same = price(real_snapshot, L("27447"), L("29881"), setting="facility")
    assert allowed(same) == [D("1465.45"), D("313.33")]
    totals(same, "1778.78", "1778.7772175775")


def test_a_line_with_its_own_date_needs_the_plans_date(real_snapshot: Snapshot) -> None:
    """Spec: "If any line has its own date, the plan must have a date too (else 422 field
    date)": 99213 without a date beside 96523 on 2025-10-07, in a plan without a date."""
    plan = Plan((L("99213"), L("96523", on=date(2025, 10, 7))), locality=MANHATTAN)
    with pytest.raises(Unprocessable) as bad:
        price_plan(real_snapshot, plan)
    assert bad.value.details["field"] == "date"


# -- J. OPPS cap with the imaging reduction ----------------------------------------------------


def test_opps_capped_imaging_is_reduced_before_the_cap(real_snapshot: Snapshot) -> None:
    """70496 and 70498: multiple procedure indicator 4, imaging family 88, PC/TC 1; both have
    an OPPSCAP_Oct row for 13202/01 (status A, 296.62 global, 208.29 TC).

    Manhattan office (non-facility PE):
    70496 (1.75x1.065 + 6.56x1.166 + 0.11x1.656) x CF = 9.69487 x 32.3465 = 313.595112455
    -> 313.60 (capped alone: 296.62); TC (5.93x1.166 + 0.03x1.656) = 6.96406 x CF =
    225.262966790 -> 225.26; 26 (1.75x1.065 + 0.63x1.166 + 0.08x1.656) = 2.73081 x CF =
    88.332145665 -> 88.33.
    70498 (1.75x1.065 + 6.55x1.166 + 0.11x1.656) = 9.68321 x CF = 313.217952265 -> 313.22;
    TC (5.92x1.166 + 0.03x1.656) = 6.95240 x CF = 224.885806600 -> 224.89; 26 = 88.33.
    TC ranking: 70496 (225.26) first; PC: a tie at 88.33, broken by code: 70496 first. So
    70496 is reduced by no rule: the published capped amount 296.62. 70498 starts from its
    uncapped 313.22, loses TC 224.89 - cent(224.89 x 50%) = 224.89 - 112.45 = 112.44 and PC
    88.33 - cent(88.33 x 95%) = 88.33 - 83.91 = 4.42: 313.22 - 112.44 - 4.42 = 196.36, below
    its cap 296.62, so 196.36. Total 492.98. Unrounded: 70498 313.217952265 - 224.8858066 x
    0.5 - 88.332145665 x 0.05 = 196.35844168175; + 296.62 = 492.97844168175.
    """
    plan = price(real_snapshot, L("70498"), L("70496"))
    assert [mpfs(plan, i).quote.indicators["imaging_family"] for i in (0, 1)] == ["88", "88"]
    assert allowed(plan) == [D("196.36"), D("296.62")]
    assert rules(plan, 0).count("multiple_procedure") == 2
    totals(plan, "492.98", "492.97844168175")


def test_opps_cap_is_paid_when_below_the_reduced_fee(real_snapshot: Snapshot) -> None:
    """70496 with 74178-26 (family 88): 74178-26 (2.01x1.065 + 0.72x1.166 + 0.10x1.656) x CF
    = 3.14577 x 32.3465 = 101.754649305 -> 101.75 has the higher PC, so 70496's PC is paid at
    95%; 70496 has no other TC to rank with. Manhattan office: 70496 from its uncapped 313.60
    loses 88.33 - cent(83.9135) = 4.42: 309.18, above its cap 296.62, so the cap is paid:
    296.62. 74178-26 in full 101.75. Total 398.37; unrounded 296.62 + 101.754649305 =
    398.374649305.
    """
    plan = price(real_snapshot, L("70496"), L("74178", ("26",)))
    assert allowed(plan) == [D("296.62"), D("101.75")]
    totals(plan, "398.37", "398.374649305")


# -- therapy -------------------------------------------------------------------------------


def test_therapy_units_lose_the_rounded_half_of_their_pe(real_snapshot: Snapshot) -> None:
    """97110 x 3 units (multiple procedure indicator 5), Manhattan office.

    Unit: (0.45x1.065 + 0.43x1.166 + 0.01x1.656) x CF = 0.99719 x 32.3465 = 32.255606335 ->
    32.26. PE portion: 0.43 x 1.166 x 32.3465 = 16.217888170 -> 16.22; half = 8.11, so the
    second and third units lose 16.22 - 8.11 = 8.11 each: 32.26 + 2 x 24.15 = 80.56.
    Unrounded: 3 x 32.255606335 - 2 x 8.108944085 = 80.548930835.
    """
    plan = price(real_snapshot, L("97110", units=3))
    assert allowed(plan) == [D("80.56")]
    assert [a.applies_to for a in plan.lines[0].adjustments if a.percent == D(50)] == [
        "practice expense",
        "practice expense",
    ]
    totals(plan, "80.56", "80.548930835")


# -- H. other schedules' lines ----------------------------------------------------------------


def test_other_schedules_lines_are_never_ranked_or_bundled(plan_client: TestClient) -> None:
    """An anesthesia line is outside the MPFS rules (spec H).

    ZIP 10001 (Manhattan, 1320201), RVU25D. 27447 (facility) 1465.45 and 29881 (facility,
    ranked second) cent(626.66 x 50%) = 313.33, as without the anesthesia line; 00100 for 60
    minutes with QK: base 5 (CY 2022 base units) + 60 / 15 = 4 time units, x Manhattan's
    anesthesia CF 22.76 (ANES2025: 2276) = 204.84, QK 50% = 102.42. Total 1881.20; unrounded
    1465.44783162 + 313.3293859575 + 102.42 = 1881.1972175775.

    96523 (status T) with only that anesthesia line: no MPFS service is billed with it, so it
    is paid 27.18; total 27.18 + 102.42 = 129.60 (unrounded 27.18335167 + 102.42 =
    129.60335167).
    """
    anesthesia = {"code": "00100", "schedule": "anesthesia", "minutes": 60, "modifiers": ["QK"]}
    body = {
        "zip": "10001",
        "lines": [
            {"code": "27447", "setting": "facility"},
            anesthesia,
            {"code": "29881", "setting": "facility"},
        ],
    }
    response = plan_client.post("/plans/price", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert [line["allowed"] for line in out["lines"]] == ["1465.45", "102.42", "313.33"]
    assert [a["rule"] for a in out["lines"][1]["adjustments"]] == ["anesthesia_units"]
    assert out["lines"][0]["packaged_into"] is None and out["lines"][2]["packaged_into"] is None
    assert out["totals"]["allowed"] == "1881.20"
    assert out["totals"]["rounding"] == "claim"
    assert D(out["totals"]["unrounded_allowed"]) == D("1881.1972175775")
    t_body = {"zip": "10001", "lines": [{"code": "96523"}, anesthesia]}
    t_out = plan_client.post("/plans/price", json=t_body).json()
    assert [line["allowed"] for line in t_out["lines"]] == ["27.18", "102.42"]
    assert t_out["lines"][0]["packaged_into"] is None
    assert t_out["totals"]["allowed"] == "129.60"
    assert D(t_out["totals"]["unrounded_allowed"]) == D("129.60335167")


# -- Alabama (1011200: 1.000 / 0.869 / 0.575) --------------------------------------------------


def test_alabama_second_procedure_is_half_its_published_fee(real_snapshot: Snapshot) -> None:
    """Alabama facility. 27447: (19.60x1.000 + 15.30x0.869 + 3.98x0.575) x CF = 35.18420 x
    32.3465 = 1138.085725300 -> 1138.09, first. 63047: (15.37x1.000 + 13.61x0.869 +
    4.87x0.575) x CF = 29.99734 x 32.3465 = 970.308958310 -> 970.31; cent(970.31 x 50%) =
    cent(485.155) = 485.16 (from the unrounded fee it would be 485.1544791550 -> 485.15).
    Total 1623.25; unrounded 1138.0857253 + 485.154479155 = 1623.240204455.
    """
    plan = price(real_snapshot, L("63047"), L("27447"), locality=ALABAMA, setting="facility")
    assert allowed(plan) == [D("485.16"), D("1138.09")]
    totals(plan, "1623.25", "1623.240204455")


def test_alabama_rt_lt_pair_with_another_procedure(real_snapshot: Snapshot) -> None:
    """Alabama facility. 64721: (4.97x1.000 + 7.53x0.869 + 0.99x0.575) x CF = 12.08282 x
    32.3465 = 390.836937130 -> 390.84; the RT/LT pair = cent(390.84 x 1.5) = 586.26
    (unrounded 586.255405695). 49505: (7.96x1.000 + 5.99x0.869 + 1.99x0.575) x CF = 14.30956
    x 32.3465 = 462.864182540 -> 462.86, below the pair: cent(462.86 x 50%) = 231.43
    (unrounded 231.43209127). Listed LT, 49505, RT: the pair is carried by the earlier line
    (0). Total 817.69, unrounded 817.687496965.
    """
    plan = price(
        real_snapshot,
        L("64721", ("LT",)),
        L("49505"),
        L("64721", ("RT",)),
        locality=ALABAMA,
        setting="facility",
    )
    assert allowed(plan) == [D("586.26"), D("231.43"), D("0.00")]
    assert packaged(plan) == [None, None, 0]
    totals(plan, "817.69", "817.687496965")


def test_alabama_therapy_pe_reduction_on_the_published_pe(real_snapshot: Snapshot) -> None:
    """97110 x 2 + 97140, Alabama office (indicator 5).

    97110 unit: (0.45x1.000 + 0.43x0.869 + 0.01x0.575) x CF = 0.82942 x 32.3465 =
    26.828834030 -> 26.83; PE 0.43 x 0.869 x CF = 12.086916655 -> 12.09, half cent(6.045) =
    6.05, loss 6.04. 97140: (0.43x1.000 + 0.40x0.869 + 0.01x0.575) x CF = 0.78335 x 32.3465 =
    25.338630775 -> 25.34; PE 0.40 x 0.869 x CF = 11.243643400 -> 11.24, half 5.62, loss
    5.62. The first 97110 unit has the highest PE and keeps it: 97110 = 26.83 + 26.83 - 6.04
    = 47.62; 97140 = 25.34 - 5.62 = 19.72. Total 67.34. Unrounded: 2 x 26.82883403 -
    6.0434583275 = 47.6142097325; 25.338630775 - 5.6218217 = 19.716809075; 67.3310188075.
    """
    plan = price(real_snapshot, L("97110", units=2), L("97140"), locality=ALABAMA)
    assert allowed(plan) == [D("47.62"), D("19.72")]
    totals(plan, "67.34", "67.3310188075")


def test_alabama_assistant_co_surgeon_and_split_each_rounded(real_snapshot: Snapshot) -> None:
    """27447 Alabama facility 1138.09 (1138.0857253), each percentage rounded from it:
    80: cent(1138.09 x 0.16) = cent(182.0944) = 182.09; AS: cent(1138.09 x 0.136) =
    cent(154.78024) = 154.78; 62: cent(1138.09 x 0.625) = cent(711.30625) = 711.31 (from the
    unrounded fee 711.3035783125 -> 711.30); 54: cent(1138.09 x 0.79) = 899.09; 55:
    cent(1138.09 x 0.21) = cent(238.9989) = 239.00; 56: cent(113.809) = 113.81.
    """
    expected = {
        "80": ("182.09", "182.093716048"),
        "AS": ("154.78", "154.7796586408"),
        "62": ("711.31", "711.3035783125"),
        "54": ("899.09", "899.087722987"),
        "55": ("239.00", "238.998002313"),
        "56": ("113.81", "113.80857253"),
    }
    for modifier, (figure, unrounded) in expected.items():
        plan = price(real_snapshot, L("27447", (modifier,)), locality=ALABAMA, setting="facility")
        assert allowed(plan) == [D(figure)], modifier
        totals(plan, figure, unrounded)


def test_alabama_global_split_after_the_ranking(real_snapshot: Snapshot) -> None:
    """27447-54 with 29881, Alabama facility. 27447 (1138.09) outranks 29881: (7.03x1.000 +
    8.22x0.869 + 1.39x0.575) x CF = 14.97243 x 32.3465 = 484.305706995 -> 484.31. 27447 at
    100% then 54 (pre 0.10 + intra 0.69): cent(1138.09 x 0.79) = 899.09; 29881 cent(484.31 x
    50%) = cent(242.155) = 242.16. Total 1141.25; unrounded 899.087722987 + 242.1528534975 =
    1141.2405764845.
    """
    plan = price(
        real_snapshot, L("27447", ("54",)), L("29881"), locality=ALABAMA, setting="facility"
    )
    assert allowed(plan) == [D("899.09"), D("242.16")]
    assert set(rules(plan, 0)) == {"global_split", "multiple_procedure"}
    totals(plan, "1141.25", "1141.2405764845")


def test_alabama_opps_capped_imaging(real_snapshot: Snapshot) -> None:
    """70496 + 70498, Alabama office; OPPSCAP_Oct 10112/00: 230.40 global each.

    70496 (1.75x1.000 + 6.56x0.869 + 0.11x0.575) x CF = 7.51389 x 32.3465 = 243.048042885 ->
    243.05, ranks first on TC (5.93x0.869 + 0.03x0.575 = 5.17042; x CF = 167.244990530 ->
    167.24) and on PC (a tie at 75.80, by code): unreduced, its capped amount 230.40. 70498
    (1.75x1.000 + 6.55x0.869 + 0.11x0.575) = 7.50520 x CF = 242.766951800 -> 242.77; TC
    (5.92x0.869 + 0.03x0.575) = 5.16173 x CF = 166.963899445 -> 166.96, loses 166.96 -
    83.48 = 83.48; PC (1.75x1.000 + 0.63x0.869 + 0.08x0.575) = 2.34347 x CF = 75.803052355 ->
    75.80, loses 75.80 - cent(72.01) = 3.79: 242.77 - 83.48 - 3.79 = 155.50 < 230.40.
    Total 385.90; unrounded 230.40 + 155.49484945975 = 385.89484945975.
    """
    plan = price(real_snapshot, L("70496"), L("70498"), locality=ALABAMA)
    assert allowed(plan) == [D("230.40"), D("155.50")]
    totals(plan, "385.90", "385.89484945975")


# -- San Francisco (0111205: 1.088 / 1.419 / 0.445) ------------------------------------------


def test_san_francisco_endoscopy_families_rank_as_procedures(real_snapshot: Snapshot) -> None:
    """San Francisco office. Family 45378: 45385 (4.57x1.088 + 8.33x1.419 + 0.56x0.445) x CF
    = 17.04163 x 32.3465 = 551.237084795 -> 551.24 in full; 45380 (3.56x1.088 + 8.79x1.419 +
    0.47x0.445) = 16.55544 x CF = 535.510539960 -> 535.51 less base 45378 (3.26x1.088 +
    6.44x1.419 + 0.43x0.445) = 12.87659 x CF = 416.512618435 -> 416.51: 119.00. The family
    (670.24) outranks 43239 (2.39x1.088 + 8.36x1.419 + 0.29x0.445) = 14.59221 x CF =
    472.006920765 -> 472.01, paid cent(472.01 x 50%) = cent(236.005) = 236.01. Total 906.25;
    unrounded 551.237084795 + 118.997921525 + 236.0034603825 = 906.2384667025.
    """
    plan = price(real_snapshot, L("45385"), L("45380"), L("43239"), locality=SAN_FRANCISCO)
    assert allowed(plan) == [D("551.24"), D("119.00"), D("236.01")]
    assert "endoscopy_family" in rules(plan, 1)
    totals(plan, "906.25", "906.2384667025")


def test_san_francisco_imaging_family_tc_and_pc_portions(real_snapshot: Snapshot) -> None:
    """70450 + 70551 (indicator 4, family 88), San Francisco office; neither is OPPS-capped
    there. 70551 (1.48x1.088 + 4.41x1.419 + 0.09x0.445) x CF = 7.90808 x 32.3465 =
    255.798709720 -> 255.80, highest TC (178.38) and PC (77.42): in full. 70450 (0.85x1.088
    + 2.35x1.419 + 0.05x0.445) = 4.28170 x CF = 138.498009050 -> 138.50; TC (2.04x1.419 +
    0.01x0.445) = 2.89921 x CF = 93.779296265 -> 93.78, loses 93.78 - 46.89 = 46.89; 26
    (0.85x1.088 + 0.31x1.419 + 0.04x0.445) = 1.38249 x CF = 44.718712785 -> 44.72, loses
    44.72 - cent(42.484) = 2.24: 138.50 - 46.89 - 2.24 = 89.37. Total 345.17; unrounded
    138.49800905 - 46.8896481325 - 2.23593563925 + 255.79870972 = 345.17113499825.
    """
    plan = price(real_snapshot, L("70450"), L("70551"), locality=SAN_FRANCISCO)
    assert allowed(plan) == [D("89.37"), D("255.80")]
    totals(plan, "345.17", "345.17113499825")


def test_san_francisco_cardiovascular_tc_reduction(real_snapshot: Snapshot) -> None:
    """93306 + 93880 (indicator 6: TC of the lower-ranked at 75%), San Francisco office.
    93880 (0.80x1.088 + 4.73x1.419 + 0.09x0.445) x CF = 7.62232 x 32.3465 = 246.555373880 ->
    246.56, TC (4.47x1.419 + 0.03x0.445) = 6.35628 x CF = 205.60, first. 93306 (1.46x1.088
    + 4.28x1.419 + 0.07x0.445) = 7.69295 x CF = 248.840007175 -> 248.84; TC (3.76x1.419 +
    0.03x0.445) = 5.34879 x CF = 173.014635735 -> 173.01, paid cent(173.01 x 75%) =
    cent(129.7575) = 129.76, loss 43.25: 205.59. Total 452.15; unrounded 248.840007175 -
    43.25365893375 + 246.55537388 = 452.14172212125.
    """
    plan = price(real_snapshot, L("93306"), L("93880"), locality=SAN_FRANCISCO)
    assert allowed(plan) == [D("205.59"), D("246.56")]
    totals(plan, "452.15", "452.14172212125")


def test_san_francisco_opps_capped_imaging_global_and_tc_rows(real_snapshot: Snapshot) -> None:
    """OPPSCAP_Oct 01112/05: 70496 and 70498 capped at 343.62 (global) and 251.96 (TC).

    Global rows, office: 70496 (1.75x1.088 + 6.56x1.419 + 0.11x0.445) x CF = 11.26159 x
    32.3465 = 364.273020935 -> 364.27 ranks first on TC (272.62) and PC (91.66, a tie broken
    by code): the capped 343.62. 70498 (1.75x1.088 + 6.55x1.419 + 0.11x0.445) = 11.24740 x
    CF = 363.814024100 -> 363.81; TC (5.92x1.419 + 0.03x0.445) = 8.41383 x CF =
    272.157952095 -> 272.16, loses 136.08; 26 (1.75x1.088 + 0.63x1.419 + 0.08x0.445) =
    2.83357 x CF = 91.656072005 -> 91.66, loses 91.66 - cent(87.077) = 4.58: 363.81 - 136.08
    - 4.58 = 223.15 < 343.62. Total 566.77; unrounded 343.62 + 223.15224445225 =
    566.77224445225.

    TC rows: 70496-TC unreduced, its capped 251.96; 70498-TC from its uncapped 272.16 x 50% =
    136.08 (< 251.96). Total 388.04; unrounded 251.96 + 136.0789760475 = 388.0389760475.
    """
    whole = price(real_snapshot, L("70498"), L("70496"), locality=SAN_FRANCISCO)
    assert allowed(whole) == [D("223.15"), D("343.62")]
    totals(whole, "566.77", "566.77224445225")
    tc = price(real_snapshot, L("70496", ("TC",)), L("70498", ("TC",)), locality=SAN_FRANCISCO)
    assert allowed(tc) == [D("251.96"), D("136.08")]
    totals(tc, "388.04", "388.0389760475")


def test_san_francisco_bilateral_then_assistant_each_rounded(real_snapshot: Snapshot) -> None:
    """27447-50-80, San Francisco facility. 27447 (19.60x1.088 + 15.30x1.419 + 3.98x0.445) x
    CF = 44.80660 x 32.3465 = 1449.336686900 -> 1449.34; x 1.5 = 2174.01; x 16% =
    cent(347.8416) = 347.84. Unrounded 1449.3366869 x 1.5 x 0.16 = 347.840804856.
    """
    plan = price(
        real_snapshot, L("27447", ("50", "80")), locality=SAN_FRANCISCO, setting="facility"
    )
    assert allowed(plan) == [D("347.84")]
    assert rules(plan, 0) == ["bilateral", "assistant_at_surgery"]
    totals(plan, "347.84", "347.840804856")


def test_san_francisco_co_surgeons_after_the_ranking(real_snapshot: Snapshot) -> None:
    """22818-62 + 63047-62 (co-surgeon indicator 2 both), San Francisco facility.
    22818 (34.33x1.088 + 23.53x1.419 + 7.02x0.445) x CF = 73.86401 x 32.3465 =
    2389.242199465 -> 2389.24, first: cent(2389.24 x 0.625) = cent(1493.275) = 1493.28.
    63047 (15.37x1.088 + 13.61x1.419 + 4.87x0.445) = 38.20230 x CF = 1235.710696950 ->
    1235.71; 50% = cent(617.855) = 617.86; x 0.625 = cent(386.1625) = 386.16. Total 1879.44;
    unrounded 1493.276374665625 + 386.159592796875 = 1879.4359674625.
    """
    plan = price(
        real_snapshot,
        L("63047", ("62",)),
        L("22818", ("62",)),
        locality=SAN_FRANCISCO,
        setting="facility",
    )
    assert allowed(plan) == [D("386.16"), D("1493.28")]
    totals(plan, "1879.44", "1879.4359674625")


def test_san_francisco_telehealth(real_snapshot: Snapshot) -> None:
    """99213, San Francisco: POS 02 at the facility rate (1.30x1.088 + 0.57x1.419 +
    0.10x0.445) x CF = 2.26773 x 32.3465 = 73.353128445 -> 73.35; POS 10 at the office rate
    (1.30x1.088 + 1.35x1.419 + 0.10x0.445) = 3.37455 x CF = 109.154881575 -> 109.15. Total
    182.50, unrounded 182.50801002."""
    plan = price(real_snapshot, L("99213", pos="10"), L("99213", pos="02"), locality=SAN_FRANCISCO)
    assert allowed(plan) == [D("109.15"), D("73.35")]
    totals(plan, "182.50", "182.50801002")


def test_san_francisco_therapy_across_codes(real_snapshot: Snapshot) -> None:
    """97530 x 2 + 97110, San Francisco office (indicator 5).

    97530 unit (0.44x1.088 + 0.62x1.419 + 0.01x0.445) x CF = 1.36295 x 32.3465 =
    44.086662175 -> 44.09; PE 0.62 x 1.419 x CF = 28.457803770 -> 28.46, half 14.23, loss
    14.23. 97110 (0.45x1.088 + 0.43x1.419 + 0.01x0.445) = 1.10422 x CF = 35.717652230 ->
    35.72; PE 0.43 x 1.419 x CF = 19.736863905 -> 19.74, half 9.87, loss 9.87. The first
    97530 unit has the highest PE: 97530 = 44.09 + 44.09 - 14.23 = 73.95; 97110 = 35.72 -
    9.87 = 25.85. Total 99.80; unrounded 73.944422465 + 25.8492202775 = 99.7936427425.
    """
    plan = price(real_snapshot, L("97110"), L("97530", units=2), locality=SAN_FRANCISCO)
    assert allowed(plan) == [D("25.85"), D("73.95")]
    totals(plan, "99.80", "99.7936427425")
