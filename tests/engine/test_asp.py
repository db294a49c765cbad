"""ASP engine: limit per dosage unit x units, rounded once; N/A; cost sharing; faults.

Rows come from the real January 2025 ASP file (line numbers are the file's); every expected
amount is worked by hand from the limit the file prints.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from cms_pricing.engine import asp
from cms_pricing.engine.quote import CostSharing, DatasetRef
from cms_pricing.errors import BadRequest, NotFound
from cms_pricing.reference.parsers.asp import parse_csv
from cms_pricing.reference.rows import AspRow

NAME = "section 508 version of Jan 2025 ASP Pricing File updated 030725.csv"
DATASET = DatasetRef(
    schedule="asp",
    dataset_id="ASP-2025Q1",
    effective_from=date(2025, 1, 1),
    effective_to=date(2025, 3, 31),
    sha256="0" * 64,
    published_at=None,
)
D = Decimal


@pytest.fixture(scope="module")
def rows(cms_data: Path) -> list[AspRow]:
    """The real file's rows."""
    path = cms_data / "2025" / "asp-2025q1" / NAME
    return parse_csv(NAME, path.read_bytes())


@pytest.fixture(scope="module")
def table(rows: list[AspRow]) -> asp.AspTable:
    """The real file's table."""
    return asp.build({"asp": rows})


def test_j1100_four_units(table: asp.AspTable) -> None:
    """Line 205: J1100 0.108 per 1 MG; 4 units = 0.432 -> 0.43 (a cent-rounded limit,
    0.11 x 4, would give 0.44). Components in order; coinsurance 20.000% -> 0.20."""
    quote = asp.price(table, DATASET, "J1100", 4)
    assert (quote.schedule, quote.code, quote.modifiers) == ("asp", "J1100", ())
    assert (quote.payable, quote.reason, quote.amount) == (True, None, D("0.43"))
    assert quote.components == (
        ("payment_limit_per_unit", D("0.108")),
        ("dosage_unit", "1 MG"),
        ("units", 4),
        ("unrounded_amount", D("0.432")),
        ("arithmetic", "0.108 x 4 = 0.432"),
        ("coinsurance_pct", D("20.000")),
    )
    assert quote.cost_sharing == CostSharing(deductible_applies=True, coinsurance_rate=D("0.2"))
    assert quote.dataset is DATASET
    assert quote.geography is None


@pytest.mark.parametrize(
    ("code", "units", "amount"),
    [
        # line 124: 5.305 x 3 = 15.915 -> 15.92 once; 5.31 x 3 would be 15.93
        ("J0588", 3, D("15.92")),
        # line 71: 801.065 x 1 -> 801.07 half-up (half-even would give 801.06)
        ("J0178", 1, D("801.07")),
        # line 205: 0.108 x 100 = 10.800 -> 10.80; 0.11 x 100 would be 11.00
        ("J1100", 100, D("10.80")),
    ],
)
def test_rounded_once_half_up(table: asp.AspTable, code: str, units: int, amount: Decimal) -> None:
    """The product of the three-decimal limit and the units is rounded half-up once."""
    assert asp.price(table, DATASET, code, units).amount == amount


def test_not_available_limit_is_not_payable(table: asp.AspTable) -> None:
    """Line 53: A9606's limit is N/A -> payable False, no amount, a reason; limit None."""
    quote = asp.price(table, DATASET, "A9606", 2)
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason is not None and "N/A" in quote.reason
    assert quote.components[:5] == (
        ("payment_limit_per_unit", None),
        ("dosage_unit", "1 microCurie"),
        ("units", 2),
        ("unrounded_amount", None),
        ("arithmetic", None),
    )


def test_vaccine_columns_and_zero_coinsurance(table: asp.AspTable) -> None:
    """Line 15: 90653 83.490 per 0.5 ML, coinsurance 0.000, vaccine 95% / 83.490; the file's
    note is passed on."""
    quote = asp.price(table, DATASET, "90653", 2)
    assert quote.amount == D("166.98")  # 83.490 x 2
    assert dict(quote.components)["vaccine_awp_pct"] == D("95")
    assert dict(quote.components)["vaccine_limit"] == D("83.490")
    assert "blood_limit" not in dict(quote.components)
    assert quote.cost_sharing.coinsurance_rate == 0
    assert any("Seasonal Influenza" in note for note in quote.notes)


def test_inflation_adjusted_and_blank_coinsurance(table: asp.AspTable) -> None:
    """J9325's 19.315% -> 0.19315; a row without a percentage -> the 0.20 default."""
    assert asp.price(table, DATASET, "J9325", 1).cost_sharing.coinsurance_rate == D("0.19315")
    blank = asp.build({"asp": [replace(table["J1100"], coinsurance_pct=None)]})
    quote = asp.price(blank, DATASET, "J1100", 1)
    assert quote.cost_sharing == CostSharing(True, D("0.20"))
    assert "coinsurance_pct" not in dict(quote.components)


def test_clotting_factor_flag(table: asp.AspTable) -> None:
    """Line 489: J7170 is a clotting factor: the flag is a component and a note says so."""
    quote = asp.price(table, DATASET, "J7170", 1)
    assert dict(quote.components)["clotting_factor"] is True
    assert any("furnishing fee" in note for note in quote.notes)


def test_unknown_code(table: asp.AspTable) -> None:
    """A code not in the file is NotFound on field "code", naming the dataset."""
    with pytest.raises(NotFound) as err:
        asp.price(table, DATASET, "J9999", 1)
    assert err.value.details == {"field": "code"}
    assert "ASP-2025Q1" in err.value.message


@pytest.mark.parametrize("units", [0, -1, 100_000, True])
def test_units_out_of_range(table: asp.AspTable, units: int) -> None:
    """Units must be a whole number 1..99,999 (a bool is not a count)."""
    with pytest.raises(BadRequest) as err:
        asp.price(table, DATASET, "J1100", units)
    assert err.value.details == {"field": "units"}


def test_table_is_a_read_only_mapping(table: asp.AspTable, rows: list[AspRow]) -> None:
    """The table maps each of the 877 codes to its row and cannot be written to."""
    assert len(table) == 877
    assert table["J1100"] is next(r for r in rows if r.hcpcs == "J1100")
    with pytest.raises(TypeError):
        table.rows["J1100"] = rows[0]  # type: ignore[index]


@pytest.mark.slow
def test_every_row_at_one_unit(table: asp.AspTable, cms_data: Path) -> None:
    """Every code of the file, read here with the stdlib csv reader (not the project's parser):
    at 1 unit the per-unit limit is the file's text to 3 decimals and the amount is that
    limit rounded half-up to the cent; the only N/A limit (A9606) is not payable."""
    text = (cms_data / "2025" / "asp-2025q1" / NAME).read_text(encoding="latin-1")
    records = list(csv.reader(io.StringIO(text, newline="")))[9:]
    assert len(records) == len(table) == 877
    unpayable = []
    for hcpcs, _description, _dosage, limit, *_rest in records:
        quote = asp.price(table, DATASET, hcpcs, 1)
        per_unit = dict(quote.components)["payment_limit_per_unit"]
        if limit == "N/A":
            unpayable.append(hcpcs)
            assert (quote.payable, per_unit) == (False, None)
            continue
        assert str(per_unit) == limit, hcpcs
        assert quote.amount == Decimal(limit).quantize(Decimal("0.01"), ROUND_HALF_UP), hcpcs
    assert unpayable == ["A9606"]
