"""CLFS pricing: the national limit as the payment, locally priced rows, unknown code/modifier.

Synthetic rows cover each rule; one slow test prices every row of the real 2025 Q1 ``.csv``
and checks the answer against the file's own RATE text.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.engine import clfs
from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import NotFound
from cms_pricing.reference.parsers.clfs import parse_csv
from cms_pricing.reference.rows import ClfsRow

D = Decimal
Q1 = date(2025, 1, 1)
DATASET = DatasetRef("clfs", "CLFS-2025Q1", Q1, None, "sha-clfs", None)
NO_COST_SHARING = CostSharing(deductible_applies=False, coinsurance_rate=D("0"))


def row(hcpcs: str, modifier: str, indicator: str, rate: str) -> ClfsRow:
    return ClfsRow(2025, hcpcs, modifier, Q1, indicator, D(rate), "SYNTHETIC")


ROWS = [
    row("80053", "", "N", "10.56"),
    row("80053", "QW", "N", "10.56"),
    row("87635", "", "N", "51.31"),
    row("0020M", "", "L", "0.00"),
    row("ZZ001", "", "X", "12.00"),
]


@pytest.fixture(scope="module")
def table() -> clfs.ClfsTable:
    """The synthetic rows, indexed."""
    return clfs.build({"clfs": ROWS})


def test_payable_row_is_the_rate(table: clfs.ClfsTable) -> None:
    """80053 pays its national limitation amount, 10.56, with no deductible or coinsurance."""
    quote = clfs.price(table, DATASET, "80053", "")
    assert quote == ScheduleQuote(
        schedule="clfs",
        code="80053",
        modifiers=(),
        payable=True,
        reason=None,
        amount=D("10.56"),
        dataset=DATASET,
        components=(
            ("rate", D("10.56")),
            ("indicator", "N"),
            (
                "indicator_meaning",
                "national limitation amount: the fee schedule rate paid nationally",
            ),
            ("effective_date", "2025-01-01"),
        ),
        cost_sharing=NO_COST_SHARING,
    )
    assert str(quote.amount) == "10.56"


def test_clia_waived_modifier_priced_from_its_own_row(table: clfs.ClfsTable) -> None:
    """80053-QW is its own row; the answer names the modifier."""
    quote = clfs.price(table, DATASET, "80053", "QW")
    assert (quote.modifiers, quote.amount, quote.payable) == (("QW",), D("10.56"), True)


def test_locally_priced_is_not_a_zero_price(table: clfs.ClfsTable) -> None:
    """Indicator L (rate 0 in the file): not payable, no amount, the MAC named as the payer."""
    quote = clfs.price(table, DATASET, "0020M", "")
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason == "locally priced: the MAC sets the payment (CLFS indicator L)"
    assert quote.components == (
        ("rate", None),
        ("indicator", "L"),
        ("indicator_meaning", "locally priced: the MAC sets the payment"),
        ("effective_date", "2025-01-01"),
    )
    assert quote.cost_sharing == NO_COST_SHARING


def test_unknown_indicator_is_not_priced(table: clfs.ClfsTable) -> None:
    """An indicator the read-me does not define is never paid at the file's rate."""
    quote = clfs.price(table, DATASET, "ZZ001", "")
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason == "CLFS indicator 'X' is not one this service prices"


def test_unknown_code(table: clfs.ClfsTable) -> None:
    """A code not in the file is NotFound on field 'code', naming the dataset."""
    with pytest.raises(NotFound) as err:
        clfs.price(table, DATASET, "99213", "")
    assert err.value.details == {"field": "code", "dataset": "CLFS-2025Q1"}
    assert "'99213'" in err.value.message
    assert "CLFS-2025Q1" in err.value.message


def test_unknown_modifier_lists_the_files_modifiers(table: clfs.ClfsTable) -> None:
    """87635-QW is not in the file: NotFound on 'modifier', listing the blank modifier only."""
    with pytest.raises(NotFound) as err:
        clfs.price(table, DATASET, "87635", "QW")
    assert err.value.details == {"field": "modifier", "dataset": "CLFS-2025Q1", "modifiers": [""]}
    assert err.value.message.endswith("the file has modifiers: (none)")


def test_build_indexes_codes_in_file_order(table: clfs.ClfsTable) -> None:
    """codes maps a HCPCS to its rows in file order; both mappings are read-only."""
    assert table.codes["80053"] == (ROWS[0], ROWS[1])
    assert table.rows[("80053", "QW")] is ROWS[1]
    with pytest.raises(TypeError):
        table.rows[("X", "")] = ROWS[0]  # type: ignore[index]


def test_build_refuses_duplicate_keys() -> None:
    """Two rows with one (HCPCS, modifier) cannot both be the price: build refuses them."""
    with pytest.raises(ValueError, match="duplicate CLFS row for 80053"):
        clfs.build({"clfs": [ROWS[0], ROWS[0]]})


@pytest.mark.slow
def test_every_real_row_priced_as_the_file_says(cms_data: Path) -> None:
    """Every row of the real .csv: N rows pay RATE to the cent, L rows are not payable.

    Expected values come from the csv text itself (csv module, Decimal of the RATE cell),
    not from the parser.
    """
    data = (cms_data / "2025" / "clfs-2025q1" / "CLFS 2025 Q1V1.csv").read_bytes()
    table = clfs.build({"clfs": parse_csv("CLFS 2025 Q1V1.csv", data)})
    lines = list(csv.reader(io.StringIO(data.decode("latin-1"), newline="")))[5:]
    assert len(lines) == 2087
    for _year, hcpcs, mod, _eff, indicator, rate, *_ in lines:
        quote = clfs.price(table, DATASET, hcpcs, mod)
        if indicator == "L":
            assert (quote.payable, quote.amount) == (False, None), hcpcs
        else:
            assert indicator == "N"
            assert quote.amount is not None
            assert (quote.payable, quote.amount) == (True, D(rate)), hcpcs
            assert quote.amount.as_tuple().exponent == -2, hcpcs  # to the cent
