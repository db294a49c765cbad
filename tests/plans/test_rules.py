"""Plan payment rules on the real RVU25D file, with every expectation worked by hand.

Place: Manhattan, carrier-locality 1320201. GPCI2025: work 1.065, PE 1.166, MP 1.656; the
conversion factor on every PPRRVU row is 32.3465. A fee schedule amount is
(work RVU x 1.065 + PE RVU x 1.166 + MP RVU x 1.656) x 32.3465, rounded half-up to the cent
once, after every plan rule. RVUs below are PPRRVU2025_Oct.txt's; "RVU25x.pdf" is the
release documentation, whose record-layout fields are quoted.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cms_pricing.engine.plans import Plan, PlanLine, PricedPlan, price_plan
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, Unprocessable

D = Decimal
L = PlanLine
MANHATTAN = "1320201"


def price(snapshot: Snapshot, *lines: PlanLine, setting: str = "office") -> PricedPlan:
    plan = Plan(tuple(lines), locality=MANHATTAN, release_id="RVU25D", setting=setting)
    return price_plan(snapshot, plan)


def allowed(plan: PricedPlan) -> list[Decimal | None]:
    return [line.allowed for line in plan.lines]


def rules(plan: PricedPlan, index: int) -> list[tuple[str, Decimal | None]]:
    return [(a.rule, a.percent) for a in plan.lines[index].adjustments]


# -- multiple procedure indicator 2 ------------------------------------------------------------


def test_indicator_2_pays_the_highest_in_full_and_the_next_at_half(
    real_snapshot: Snapshot,
) -> None:
    """RVU25x.pdf position 116, indicator 2: "rank the procedures by fee schedule amount and
    apply the appropriate reduction (100%, 50%, 50%, 50%, 50% and by report)".

    Facility. 63047: (15.37x1.065 + 13.61x1.166 + 4.87x1.656) x 32.3465
    = (16.36905 + 15.86926 + 8.06472) x 32.3465 = 40.30303 x 32.3465 = 1303.661959895.
    27447: (19.60x1.065 + 15.30x1.166 + 3.98x1.656) x 32.3465 = 45.30468 x 32.3465
    = 1465.447831620. 27447 ranks first although listed second: 1465.45; 63047 at 50%:
    651.8309799475 -> 651.83. Total 2117.28.
    """
    plan = price(real_snapshot, L("63047"), L("27447"), setting="facility")
    assert [x.quote.indicators["mult_proc"] for x in plan.lines] == ["2", "2"]
    assert allowed(plan) == [D("651.83"), D("1465.45")]
    assert rules(plan, 0) == [("multiple_procedure", D(50))]
    assert rules(plan, 1) == [("multiple_procedure", D(100))]
    assert plan.allowed == D("2117.28")
    assert "indicator 2" in plan.lines[0].adjustments[0].citation


def test_sixth_ranked_procedure_is_by_report_and_left_out_of_the_total(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 2's ladder ends "and by report": the sixth procedure is not priced.

    Six indicator-2 codes, facility. The lowest is 19301: 10.13x1.065 + 7.37x1.166 +
    2.51x1.656 = 23.53843 RVU-dollars before the CF, below 47562's 10.47x1.065 + 6.97x1.166
    + 2.62x1.656 = 23.61629; the other four are larger joint and spine procedures. 19301 has
    no amount, the plan is marked incomplete, and the total is the other five lines.
    """
    codes = ["19301", "27447", "27130", "27236", "63047", "47562"]
    plan = price(real_snapshot, *(L(c) for c in codes), setting="facility")
    first = plan.lines[0]
    assert first.allowed is None and first.by_report and first.paid
    assert rules(plan, 0) == [("multiple_procedure", None)]
    assert plan.complete is False
    assert plan.allowed == sum(x.allowed for x in plan.lines[1:] if x.allowed is not None)
    assert sorted(a for _, a in (r[0] for r in [rules(plan, i) for i in range(1, 6)])) == [
        D(50), D(50), D(50), D(50), D(100)
    ]  # fmt: skip


def test_modifier_51_does_not_change_the_ranking_and_is_explained(
    real_snapshot: Snapshot,
) -> None:
    """Ranking is by fee schedule amount, not by modifier 51 (pdf position 116).

    27447-51 listed with 63047: 27447 still ranks first and is paid 100% (1465.45, as in
    the test above); on 99213 (indicator 0, "no payment adjustment rules for multiple
    procedures apply") 51 has no effect and a note says so.
    """
    plan = price(real_snapshot, L("27447", ("51",)), L("63047"), setting="facility")
    assert allowed(plan) == [D("1465.45"), D("651.83")]
    assert any("ranking by fee schedule amount" in n for n in plan.lines[0].notes)
    alone = price(real_snapshot, L("99213", ("51",)))
    assert alone.lines[0].allowed == D("101.06")
    assert any("has no effect" in n for n in alone.lines[0].notes)


def test_units_of_an_indicator_2_code_are_ranked_as_separate_procedures(
    real_snapshot: Snapshot,
) -> None:
    """Two units of 11042 (multiple procedure 2, bilateral 0) are two procedures: 100% + 50%.

    Office. 11042: (1.01x1.065 + 2.73x1.166 + 0.13x1.656) x 32.3465 = 4.47411 x 32.3465
    = 144.721799115; x 1.5 = 217.0826986725 -> 217.08.
    """
    plan = price(real_snapshot, L("11042", units=2))
    assert plan.lines[0].quote.indicators["bilateral"] == "0"
    assert allowed(plan) == [D("217.08")]
    assert [a.percent for a in plan.lines[0].adjustments] == [D(100), D(50)]


# -- indicator 3: endoscopy families ------------------------------------------------------------


def test_endoscopy_base_billed_with_a_family_member_is_not_paid(real_snapshot: Snapshot) -> None:
    """Indicator 3: "If an endoscopic procedure is reported with only its base procedure, do
    not pay separately for the base procedure" (pdf position 116; Endobase 128-132).

    Office. 43239 (endo base 43235): (2.39x1.065 + 8.36x1.166 + 0.29x1.656) x 32.3465 =
    12.77335 x 32.3465 = 413.173165775 -> 413.17. 43235 is paid 0.00. Total 413.17.
    """
    plan = price(real_snapshot, L("43239"), L("43235"))
    assert plan.lines[0].quote.indicators["endo_base"] == "43235"
    assert allowed(plan) == [D("413.17"), D("0.00")]
    assert plan.allowed == D("413.17")
    assert "not paid separately" in plan.lines[1].adjustments[0].explanation


def test_further_endoscopy_in_a_family_is_paid_its_value_minus_the_base(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 3 family rule: the highest endoscopy in full, another one its amount minus
    the base's.

    Office. 43251: (3.47x1.065 + 10.57x1.166 + 0.43x1.656) x 32.3465 = 16.73225 x 32.3465
    = 541.229724625 -> 541.23. 43239 = 413.173165775 -> 413.17 minus base 43235 (2.09x1.065
    + 6.18x1.166 + 0.27x1.656 = 9.87885; x 32.3465 = 319.546221525 -> 319.55) = 93.62 on the
    claim basis (each published amount rounded first; unrounded 93.626944250). One family is
    one procedure, so no 50% ranking applies. Total 634.85.
    """
    plan = price(real_snapshot, L("43239"), L("43251"))
    assert allowed(plan) == [D("93.62"), D("541.23")]
    assert plan.allowed == D("634.85")
    assert plan.lines[0].unrounded == D("93.626944250")
    assert [a.rule for a in plan.lines[0].adjustments] == ["endoscopy_family"]


def test_each_endoscopy_family_ranks_as_one_procedure(real_snapshot: Snapshot) -> None:
    """Indicator 3: "Apply the multiple endoscopy rules to a family before ranking the family
    with the other procedures".

    Office. Family 45378: 45385 (4.57x1.065 + 8.33x1.166 + 0.56x1.656 = 15.50723; x CF =
    501.603321335) in full; 45380 (3.56x1.065 + 8.79x1.166 + 0.47x1.656 = 14.81886; x CF =
    479.338254990) minus 45378 (3.26x1.065 + 6.44x1.166 + 0.43x1.656 = 11.69302; x CF =
    378.228271430) = 101.109983560. Family total 602.713304895 > family 43235 (43239 alone,
    413.173165775), so 45385 -> 501.60 and 45380 -> 101.11 at 100%, 43239 at 50%:
    206.5865828875 -> 206.59.
    """
    plan = price(real_snapshot, L("45385"), L("45380"), L("43239"))
    assert allowed(plan) == [D("501.60"), D("101.11"), D("206.59")]
    assert rules(plan, 2) == [("multiple_procedure", D(50))]


# -- indicators 4, 5, 6, 7 ------------------------------------------------------------


def test_imaging_family_pays_lower_ranked_tc_at_50_and_pc_at_95_percent(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 4 (pdf position 116; family 88 at 146-147): "Pay 100% for the highest priced
    procedure, and 50% for each subsequent procedure" on the TC; "5% reduction of the PC".

    Office. 70551 TC (0 + 3.88x1.166 + 0.02x1.656 = 4.55720; x CF = 147.409469800) is above
    70450 TC (2.04x1.166 + 0.01x1.656 = 2.39520; x CF = 77.476336800): 70551 is paid in full,
    (1.48x1.065 + 4.41x1.166 + 0.09x1.656) x CF = 222.133119450 -> 222.13. 70450 global =
    (0.85x1.065 + 2.35x1.166 + 0.05x1.656) x CF = 120.592603975 -> 120.59; its TC 77.48 at
    50% = 38.74 (38.74 taken off); its PC (0.85x1.065 + 0.31x1.166 + 0.04x1.656 = 1.33295;
    x CF = 43.116267175 -> 43.12) at 95% = 40.964 -> 40.96 (2.16 taken off): 120.59 - 38.74
    - 2.16 = 79.69 on the claim basis (unrounded 79.69862221625).
    """
    plan = price(real_snapshot, L("70450"), L("70551"))
    assert plan.lines[0].quote.indicators["imaging_family"] == "88"
    assert allowed(plan) == [D("79.69"), D("222.13")]
    assert rules(plan, 0) == [("multiple_procedure", D(50)), ("multiple_procedure", D(95))]


def test_imaging_components_billed_alone_are_reduced_by_their_own_rule(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 4 on separately billed components: TC lines 50%, 26 lines 95%.

    70450-TC + 70551-TC: 77.476336800 x 0.5 = 38.7381684 -> 38.74; 70551-TC 147.41.
    70450-26 + 70551-26: 43.116267175 x 0.95 = 40.96045381625 -> 40.96; 70551-26 =
    (1.48x1.065 + 0.53x1.166 + 0.07x1.656) x CF = 74.723649650 -> 74.72.
    """
    tc = price(real_snapshot, L("70450", ("TC",)), L("70551", ("TC",)))
    assert allowed(tc) == [D("38.74"), D("147.41")]
    pc = price(real_snapshot, L("70450", ("26",)), L("70551", ("26",)))
    assert allowed(pc) == [D("40.96"), D("74.72")]


def test_therapy_pays_half_the_pe_of_every_unit_but_the_highest(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 5: "Subject to 50% of the practice expense component for certain therapy
    services" (pdf position 116; formula section: "Certain therapy codes will receive a 50
    percent reduction to the PE").

    Office. 97110 unit: 0.45x1.065 + 0.43x1.166 + 0.01x1.656 = 0.99719, PE part 0.50138;
    97140: 0.43x1.065 + 0.40x1.166 + 0.01x1.656 = 0.94091, PE part 0.46640. The first 97110
    unit has the highest PE. Claim basis: 97110 unit 0.99719 x CF = 32.2556... -> 32.26, its
    PE 0.50138 x CF = 16.2179 -> 16.22, half of it 8.11; 97110 x2 = 32.26 + 32.26 - 8.11 =
    56.41 (unrounded 56.402268585). 97140 = 0.94091 x CF -> 30.44, PE 0.46640 x CF = 15.0864
    -> 15.09, 50% = 7.545 -> 7.55 kept, 7.54 taken off: 22.90 (unrounded 22.891941515).
    """
    plan = price(real_snapshot, L("97110", units=2), L("97140"))
    assert allowed(plan) == [D("56.41"), D("22.90")]
    assert [a.applies_to for a in plan.lines[1].adjustments] == ["practice expense"]


def test_cardiovascular_tc_of_the_lower_ranked_test_is_reduced_25_percent(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 6: "25% reduction of the second highest and subsequent procedures to the TC
    of diagnostic cardiovascular services".

    Office. 93880 TC (4.47x1.166 + 0.03x1.656 = 5.26170; x CF = 170.197579050) outranks
    93306 TC (3.76x1.166 + 0.03x1.656 = 4.43384; x CF = 143.419205560). 93880 global =
    (0.80x1.065 + 4.73x1.166 + 0.09x1.656) x CF = 210.776910230 -> 210.78; 93306 global =
    (1.46x1.065 + 4.28x1.166 + 0.07x1.656) x CF = 215.469740450 -> 215.47; its TC 143.42 at
    75% = 107.565 -> 107.57, so 35.85 is taken off: 179.62 (unrounded 179.61493906).
    """
    plan = price(real_snapshot, L("93306"), L("93880"))
    assert allowed(plan) == [D("179.62"), D("210.78")]
    assert rules(plan, 0) == [("multiple_procedure", D(75))]


def test_ophthalmology_tc_of_the_lower_ranked_test_is_reduced_20_percent(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 7: "20% reduction of the second highest and subsequent procedures to the TC
    of diagnostic ophthalmology services".

    Office. 92134 TC (0.43x1.166 + 0.01x1.656; x CF = 16.753546210) outranks 92133 TC
    (0.42x1.166 + 0.01x1.656; x CF = 16.376386020). 92134 global = (0.32x1.065 + 0.63x1.166 +
    0.02x1.656) x CF = 35.856095250 -> 35.86; 92133 global = (0.31x1.065 + 0.59x1.166 +
    0.02x1.656) x CF = 34.002964265 -> 34.00; its TC 16.38 at 80% = 13.104 -> 13.10, so 3.28
    is taken off: 30.72 (unrounded 30.727687061).
    """
    plan = price(real_snapshot, L("92133"), L("92134"))
    assert allowed(plan) == [D("30.72"), D("35.86")]


def test_global_only_cardiovascular_test_is_not_split_and_says_why(
    real_snapshot: Snapshot,
) -> None:
    """93000 (indicator 6, PC/TC 4: a global test only code) has no TC row to reduce; it is not
    ranked, so 93306 alone keeps its full amount 215.469740450 -> 215.47 and 93000 its own:
    (0.17x1.065 + 0.24x1.166 + 0.02x1.656) x CF = 0.49401 x 32.3465 = 15.979494465 -> 15.98.
    A note on 93000 says the reduction was not applied and why.
    """
    plan = price(real_snapshot, L("93306"), L("93000"))
    assert allowed(plan) == [D("215.47"), D("15.98")]
    assert any("global test only" in n for n in plan.lines[1].notes)


# -- bilateral ------------------------------------------------------------


def test_bilateral_indicator_1_pays_150_percent_before_multiple_procedure_rules(
    real_snapshot: Snapshot,
) -> None:
    """Bilateral indicator 1 (pdf position 117): "150% of the fee schedule amount ... apply
    the bilateral adjustment before applying any multiple procedure rules".

    Facility. 27447-50: the published 1465.45 x 1.5 = 2198.175 -> 2198.18 on the claim
    basis (unrounded 1465.447831620 x 1.5 = 2198.17174743), ranked first; 29881 (7.03x1.065
    + 8.22x1.166 + 1.39x1.656 = 19.37331; x CF = 626.658771915 -> 626.66) at 50%: 313.33.
    """
    plan = price(real_snapshot, L("27447", ("50",)), L("29881"), setting="facility")
    assert allowed(plan) == [D("2198.18"), D("313.33")]
    assert plan.lines[0].unrounded == D("2198.1717474300")
    assert rules(plan, 0) == [("bilateral", D("150.0")), ("multiple_procedure", D(100))]


def test_two_units_of_a_bilateral_indicator_1_code_are_priced_as_bilateral(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 1: "or is reported twice on the same day by any other means (... or with a 2
    in the units field)": 27447 x2 units = 150% of 1465.45 = 2198.175 -> 2198.18, not 100% +
    50%."""
    plan = price(real_snapshot, L("27447", units=2), setting="facility")
    assert allowed(plan) == [D("2198.18")]
    assert "2 in the units field" in plan.lines[0].adjustments[0].explanation


def test_bilateral_indicators_0_2_and_3(real_snapshot: Snapshot) -> None:
    """Indicator 0 and 2: 100% of one code; indicator 3: 100% for each side.

    43239-50 (bilateral 0), office: 413.17. 11010-50 (bilateral 2), facility:
    (4.19x1.065 + 3.40x1.166 + 0.74x1.656) x CF = 9.65219 x 32.3465 = 312.214563835 ->
    312.21. 73721-50 (bilateral 3), office: (1.35x1.065 + 4.75x1.166 + 0.09x1.656) x CF =
    230.478192985; x 2 = 460.95638597 -> 460.96.
    """
    assert allowed(price(real_snapshot, L("43239", ("50",)))) == [D("413.17")]
    fac = price(real_snapshot, L("11010", ("50",)), setting="facility")
    assert allowed(fac) == [D("312.21")]
    assert allowed(price(real_snapshot, L("73721", ("50",)))) == [D("460.96")]


def test_bilateral_modifier_on_a_code_where_the_concept_does_not_apply_is_422(
    real_snapshot: Snapshot,
) -> None:
    """11300 has bilateral indicator 9 ("concept does not apply"): 50 on it is refused,
    naming the line and field; 50 with 2 units is refused naming ``units``."""
    with pytest.raises(Unprocessable) as bad:
        price(real_snapshot, L("27447"), L("11300", ("50",)))
    assert bad.value.details == {"field": "lines.1.modifiers", "line": 1}
    with pytest.raises(Unprocessable) as units:
        price(real_snapshot, L("27447", ("50",), units=2))
    assert units.value.details["field"] == "lines.0.units"


# -- assistant, co-surgeon, team ------------------------------------------------------------


def test_assistant_at_surgery_is_paid_16_percent_and_ranked_apart(
    real_snapshot: Snapshot,
) -> None:
    """Assistant indicator 2 (pdf position 118): "Assistant at surgery may be paid"; the
    assistant is paid 16% (Claims Processing Manual ch.12 s.20.4.3).

    Facility. 27447-80: 1465.447831620 x 0.16 = 234.4716530592 -> 234.47. The assistant is
    another practitioner, so 27447-80 is not ranked with the surgeon's 27447 and 29881:
    27447 1465.45, 29881 at 50% 313.33. AS (a PA/NP assistant): 85% of 16% = 13.6%:
    1465.447831620 x 0.136 = 199.30090510032 -> 199.30.
    """
    plan = price(real_snapshot, L("27447"), L("27447", ("80",)), L("29881"), setting="facility")
    assert allowed(plan) == [D("1465.45"), D("234.47"), D("313.33")]
    assert rules(plan, 1) == [("assistant_at_surgery", D("16.00"))]
    npp = price(real_snapshot, L("27447", ("AS",)), setting="facility")
    assert allowed(npp) == [D("199.30")]


def test_assistant_indicator_0_needs_documentation_and_1_is_never_paid(
    real_snapshot: Snapshot,
) -> None:
    """Indicator 0: restriction applies "unless supporting documentation is submitted":
    29881-80 facility = 626.658771915 x 0.16 = 100.2654035064 -> 100.27, with that said.
    Indicator 1: "Assistant at surgery may not be paid": 43239-80 is unpaid, no amount."""
    doc = price(real_snapshot, L("29881", ("80",)), setting="facility")
    assert allowed(doc) == [D("100.27")]
    assert "documentation" in doc.lines[0].adjustments[0].explanation
    never = price(real_snapshot, L("43239", ("80",)))
    assert never.lines[0].allowed is None and never.lines[0].paid is False
    assert never.allowed == D("0.00") and never.complete


def test_assistant_modifier_where_the_concept_does_not_apply_is_422(
    real_snapshot: Snapshot,
) -> None:
    """74176 has assistant indicator 9: 80 on it is refused naming the line's modifiers."""
    with pytest.raises(Unprocessable) as bad:
        price(real_snapshot, L("74176", ("80",)))
    assert bad.value.details["field"] == "lines.0.modifiers"


def test_co_surgeons_are_each_paid_62_5_percent_where_allowed(real_snapshot: Snapshot) -> None:
    """Co-surgeon indicator (pdf position 119) 1: paid with documentation; 2: permitted;
    0: not permitted.

    Facility. 27447-62 (indicator 1): 1465.45 x 0.625 = 915.90625 -> 915.91 (claim basis;
    unrounded 915.9048947625). 22818-62 (indicator 2): (34.33x1.065 + 23.53x1.166 +
    7.02x1.656) x CF = 75.62255 x 32.3465 = 2446.124813575 -> 2446.12; x 0.625 = 1528.825
    -> 1528.83. 29881-62 (0): unpaid.
    """
    one = price(real_snapshot, L("27447", ("62",)), setting="facility")
    assert allowed(one) == [D("915.91")]
    assert "documentation" in one.lines[0].adjustments[0].explanation
    two = price(real_snapshot, L("22818", ("62",)), setting="facility")
    assert allowed(two) == [D("1528.83")]
    zero = price(real_snapshot, L("29881", ("62",)), setting="facility")
    assert zero.lines[0].allowed is None and not zero.lines[0].paid


def test_team_surgery_is_by_report_and_not_priced(real_snapshot: Snapshot) -> None:
    """Team indicator (pdf position 120) 1 and 2: "pay by report"; 0: not permitted.

    22818-66 (team 2) and 22836-66 (team 1): no amount, ``by_report``, plan incomplete.
    27447-66 (team 0): unpaid, and the plan stays complete (nothing is left to price).
    """
    plan = price(real_snapshot, L("22818", ("66",)), L("22836", ("66",)), setting="facility")
    assert allowed(plan) == [None, None]
    assert all(x.by_report for x in plan.lines) and plan.complete is False
    assert "documentation" in plan.lines[1].adjustments[0].explanation
    zero = price(real_snapshot, L("27447", ("66",)), setting="facility")
    assert not zero.lines[0].paid and zero.complete


# -- global surgery split ------------------------------------------------------------


def test_global_split_modifiers_pay_the_pre_intra_post_shares(real_snapshot: Snapshot) -> None:
    """Pre/Intra/Postoperative Percentage (pdf positions 107-115); 27447 has .10 / .69 / .21.

    Facility, the published 1465.45 x: 54 (pre + intra = 0.79) = 1157.7055 -> 1157.71;
    55 (post 0.21) = 307.7445 -> 307.74; 56 (pre 0.10) = 146.545 -> 146.55 (claim basis;
    from the unrounded 1465.447831620 they would be 1157.70, 307.74 and 146.54).
    """
    plans = [price(real_snapshot, L("27447", (m,)), setting="facility") for m in ("54", "55", "56")]
    assert [p.lines[0].allowed for p in plans] == [D("1157.71"), D("307.74"), D("146.55")]


def test_postoperative_care_only_is_not_ranked_as_a_procedure(real_snapshot: Snapshot) -> None:
    """27447-55 is care after the day of surgery, not a procedure that day: 63047 billed
    with it keeps 100% (1303.661959895 -> 1303.66) and 27447-55 is 307.74."""
    plan = price(real_snapshot, L("27447", ("55",)), L("63047"), setting="facility")
    assert allowed(plan) == [D("307.74"), D("1303.66")]


def test_global_split_on_a_code_without_a_global_period_is_422(real_snapshot: Snapshot) -> None:
    """99213 (global XXX) has no pre/intra/post shares: 54 on it is refused."""
    with pytest.raises(Unprocessable) as bad:
        price(real_snapshot, L("99213", ("54",)))
    assert "no pre/intra/postoperative shares" in bad.value.message


# -- lines that are not paid, and bad lines --------------------------------------------------------


def test_a_non_payable_line_has_no_amount_and_adds_nothing(real_snapshot: Snapshot) -> None:
    """99024 is status B (bundled): no amount, not paid, total = 99213's 101.06 alone.

    99213 office: (1.30x1.065 + 1.35x1.166 + 0.10x1.656) x CF = 3.12420 x 32.3465 =
    101.0569353 -> 101.06.
    """
    plan = price(real_snapshot, L("99213"), L("99024"))
    assert allowed(plan) == [D("101.06"), None]
    assert plan.allowed == D("101.06") and plan.complete
    assert any("status B" in n for n in plan.lines[1].notes)


@pytest.mark.parametrize(
    ("line", "error", "field"),
    [
        (L("27447", ("ZZ",)), BadRequest, "lines.0.modifiers"),
        (L("27447", ("26", "TC")), Unprocessable, "lines.0.modifiers"),
        (L("27447", ("80", "62")), Unprocessable, "lines.0.modifiers"),
        (L("27447", ("54", "55")), Unprocessable, "lines.0.modifiers"),
        (L("27447", units=1000), BadRequest, "lines.0.units"),
        (L("27447", setting="home"), BadRequest, "lines.0.setting"),
    ],
)
def test_a_bad_line_names_its_index_and_field(
    real_snapshot: Snapshot, line: PlanLine, error: type[Exception], field: str
) -> None:
    """Each malformed or impossible line is refused with ``details.field`` = lines.N.field."""
    with pytest.raises(error) as bad:
        price(real_snapshot, line)
    assert getattr(bad.value, "details", {})["field"] == field


def test_plan_size_is_1_to_200_lines(real_snapshot: Snapshot) -> None:
    """An empty plan and a 201-line plan are refused with field ``lines``; 200 is priced."""
    with pytest.raises(BadRequest) as empty:
        price(real_snapshot)
    assert empty.value.details == {"field": "lines"}
    with pytest.raises(BadRequest):
        price(real_snapshot, *([L("99213")] * 201))
    assert len(price(real_snapshot, *([L("99213")] * 200)).lines) == 200
