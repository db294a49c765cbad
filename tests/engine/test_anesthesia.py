"""Anesthesia engine: (base + time units) x the locality's anesthesia CF x the modifier share.

Base units come from the real CY 2022 file (00100 = 5 on line 4 of the .txt); localities are
built here (Manhattan 13202/01 with ANES2025's 2276 -> 22.76; Alabama 10112/00 with 19.31).
Every expected amount is worked by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.engine import anesthesia
from cms_pricing.engine.quote import CostSharing, DatasetRef, Gpci
from cms_pricing.engine.snapshot import Locality
from cms_pricing.errors import BadRequest, NotFound, Unprocessable
from cms_pricing.reference.parsers.anes_base_units import parse_txt

TXT = "Section 508 compliant version of CY_2022_Anesthesia_Base_Units_110921.txt"
DATASET = DatasetRef(
    schedule="anesthesia",
    dataset_id="ANES-BASE-CY2022",
    effective_from=date(2022, 1, 1),
    effective_to=None,
    sha256="0" * 64,
    published_at=None,
)
D = Decimal
ONE = D("1.000")
MANHATTAN = Locality(
    mac="13202",
    locality="01",
    state="NY",
    state_name="NEW YORK",
    name="MANHATTAN",
    gpci=Gpci(work=ONE, pe=ONE, mp=ONE),
    anes_cf=D("22.76"),
    fee_schedule_area="",
    counties="",
)
ALABAMA = replace(MANHATTAN, mac="10112", locality="00", state="AL", name="ALABAMA")
ALABAMA = replace(ALABAMA, state_name="ALABAMA", anes_cf=D("19.31"))


@pytest.fixture(scope="module")
def table(cms_data: Path) -> anesthesia.BaseUnitTable:
    """The base units of the real CY 2022 .txt file."""
    path = cms_data / "2022" / "anes-base-units-cy2022" / TXT
    return anesthesia.build({"anes_base_units": parse_txt(TXT, path.read_bytes())})


def test_worked_example_manhattan(table: anesthesia.BaseUnitTable) -> None:
    """00100 for 60 minutes in Manhattan, AA: (5 + 60/15) x 22.76 = 9 x 22.76 = 204.84."""
    quote = anesthesia.price(table, DATASET, "00100", MANHATTAN, 60, "AA", "RVU25A")
    assert (quote.schedule, quote.code, quote.modifiers) == ("anesthesia", "00100", ("AA",))
    assert (quote.payable, quote.reason, quote.amount) == (True, None, D("204.84"))
    assert quote.components == (
        ("base_units", 5),
        ("minutes", 60),
        ("time_units", D("4.0")),
        ("total_units", D("9.0")),
        ("conversion_factor", D("22.76")),
        ("conversion_factor_source", "ANES2025 of RVU25A, 1320201"),
        ("modifier_share", D("1.00")),
        ("unrounded_amount", D("204.84")),
        ("arithmetic", "(5 + 4.0) x 22.76 x 1.00 = 204.84000"),
        ("base_units_source", "ANES-BASE-CY2022 (CY 2022 base units)"),
    )
    assert quote.geography == (
        ("carrier", "13202"),
        ("locality", "01"),
        ("carrier_locality", "1320201"),
        ("name", "MANHATTAN"),
        ("state", "NY"),
    )
    assert quote.cost_sharing == CostSharing(True, D("0.20"))
    assert quote.dataset is DATASET
    assert any("CY 2022" in note and "newest public copy" in note for note in quote.notes)


@pytest.mark.parametrize(
    ("modifier", "amount"),
    [
        ("AA", D("204.84")),
        ("QZ", D("204.84")),
        ("QK", D("102.42")),  # 9 x 22.76 x 0.50
        ("QX", D("102.42")),
        ("QY", D("102.42")),
    ],
)
def test_modifier_shares(table: anesthesia.BaseUnitTable, modifier: str, amount: Decimal) -> None:
    """AA and QZ pay 100%; medical direction (QK, QX, QY) 50% of the same 9 units x 22.76."""
    quote = anesthesia.price(table, DATASET, "00100", MANHATTAN, 60, modifier, "RVU25A")
    assert quote.amount == amount
    assert dict(quote.components)["modifier_share"] == anesthesia.MODIFIERS[modifier][0]
    medical_direction = any("Medical direction" in note for note in quote.notes)
    assert medical_direction == (modifier in {"QK", "QX", "QY"})


def test_fractional_time_units(table: anesthesia.BaseUnitTable) -> None:
    """95 minutes: 95/15 = 6.333 -> 6.3 units; (5 + 6.3) x 22.76 = 250.36 + 6.828 = 257.188
    -> 257.19, rounded once; the note states the rounding."""
    quote = anesthesia.price(table, DATASET, "00100", MANHATTAN, 95, "AA", "RVU25A")
    parts = dict(quote.components)
    assert (parts["time_units"], parts["total_units"]) == (D("6.3"), D("11.3"))
    assert parts["unrounded_amount"] == D("257.188")
    assert quote.amount == D("257.19")
    assert any("95 minutes / 15" in note and "= 6.3" in note for note in quote.notes)


@pytest.mark.parametrize(
    ("minutes", "units"),
    [(1, "0.1"), (7, "0.5"), (8, "0.5"), (15, "1.0"), (37, "2.5"), (95, "6.3"), (1440, "96.0")],
)
def test_time_units_to_one_decimal(minutes: int, units: str) -> None:
    """minutes / 15 to one place, half-up: 1 -> 0.0667 -> 0.1, 7 -> 0.4667 -> 0.5,
    8 -> 0.5333 -> 0.5, 37 -> 2.4667 -> 2.5, 1440 -> 96.0."""
    assert str(anesthesia.time_units(minutes)) == units


def test_medical_supervision_ad(table: anesthesia.BaseUnitTable) -> None:
    """AD: 3 base units (00100 has 5) + 1 time unit whatever the minutes: 4 x 22.76 = 91.04;
    a 1-base-unit code (01953) keeps its 1: (1 + 1) x 22.76 = 45.52."""
    quote = anesthesia.price(table, DATASET, "00100", MANHATTAN, 95, "AD", "RVU25A")
    parts = dict(quote.components)
    assert (parts["base_units"], parts["minutes"], parts["time_units"]) == (3, 95, D("1.0"))
    assert quote.amount == D("91.04")
    assert any("three base units" in note and "induction" in note for note in quote.notes)
    small = anesthesia.price(table, DATASET, "01953", MANHATTAN, 30, "AD", "RVU25A")
    assert small.amount == D("45.52")


def test_other_locality_and_longest_case(table: anesthesia.BaseUnitTable) -> None:
    """Alabama (19.31): 00100 for 60 min = 9 x 19.31 = 173.79; 1440 min in Manhattan =
    (5 + 96) x 22.76 = 2298.76; the CF source follows the release (RVU25D)."""
    quote = anesthesia.price(table, DATASET, "00100", ALABAMA, 60, "AA", "RVU25D")
    assert quote.amount == D("173.79")
    assert dict(quote.components)["conversion_factor_source"] == "ANES2025 of RVU25D, 1011200"
    assert quote.geography is not None and dict(quote.geography)["state"] == "AL"
    longest = anesthesia.price(table, DATASET, "00100", MANHATTAN, 1440, "AA", "RVU25D")
    assert longest.amount == D("2298.76")


def test_unlisted_code_not_payable(table: anesthesia.BaseUnitTable) -> None:
    """01999 has 0 base units in the file (line 279): not payable, no amount, a reason."""
    quote = anesthesia.price(table, DATASET, "01999", MANHATTAN, 60, "AA", "RVU25A")
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason is not None and "MAC" in quote.reason


def test_unknown_code(table: anesthesia.BaseUnitTable) -> None:
    """00101 is not in the file: NotFound on "code", naming the file's dataset and year."""
    with pytest.raises(NotFound) as err:
        anesthesia.price(table, DATASET, "00101", MANHATTAN, 60, "AA", "RVU25A")
    assert err.value.details == {"field": "code"}
    assert "CY 2022" in err.value.message and "ANES-BASE-CY2022" in err.value.message


def test_locality_without_cf(table: anesthesia.BaseUnitTable) -> None:
    """A locality ANES2025 does not list (anes_cf None) is NotFound on "locality"."""
    with pytest.raises(NotFound) as err:
        anesthesia.price(table, DATASET, "00100", replace(MANHATTAN, anes_cf=None), 60, "AA", "R")
    assert err.value.details == {"field": "locality"}


@pytest.mark.parametrize("minutes", [0, -15, 1441, True])
def test_minutes_out_of_range(table: anesthesia.BaseUnitTable, minutes: int) -> None:
    """Minutes must be a whole number 1..1440 (a bool is not one)."""
    with pytest.raises(BadRequest) as err:
        anesthesia.price(table, DATASET, "00100", MANHATTAN, minutes, "AA", "RVU25A")
    assert err.value.details == {"field": "minutes"}


@pytest.mark.parametrize("modifier", ["QS", "aa", "GC"])
def test_unknown_modifier(table: anesthesia.BaseUnitTable, modifier: str) -> None:
    """Only AA, QZ, QK, QX, QY and AD price a line; another modifier is a well-formed
    request that cannot be priced: Unprocessable on "modifier"."""
    with pytest.raises(Unprocessable) as err:
        anesthesia.price(table, DATASET, "00100", MANHATTAN, 60, modifier, "RVU25A")
    assert err.value.details == {"field": "modifier"}


def test_no_modifier_is_priced_as_personally_performed(table: anesthesia.BaseUnitTable) -> None:
    """Without a pricing modifier the line is priced as AA (100%): (5 + 4) x 22.76 = 204.84,
    with a note saying so."""
    quote = anesthesia.price(table, DATASET, "00100", MANHATTAN, 60, "", "RVU25A")
    assert (quote.amount, quote.modifiers) == (Decimal("204.84"), ("AA",))
    assert any("No pricing modifier given" in note for note in quote.notes)


def test_table_holds_the_file(table: anesthesia.BaseUnitTable) -> None:
    """The table maps the file's 276 codes to their rows: 00100 -> 5 base units."""
    assert len(table) == 276
    assert table["00100"].base_units == 5
    assert "00101" not in table
