"""Wage index lookup: the column OPPS and ASC use, the imputed floor, unknown CBSAs.

Synthetic rows copy the real 2025 table's values (DC 09, PR 40, NYC 35614); the slow test reads
the real ``cbsa-wage-index-2025.csv``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.engine import wage_index
from cms_pricing.engine.quote import DatasetRef
from cms_pricing.engine.wage_index import Wage
from cms_pricing.errors import NotFound, Unprocessable
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.rows import WageIndexRow

D = Decimal
DATASET = DatasetRef("wage_index", "WI-2025", date(2025, 1, 1), None, "0" * 64, None)
JAN = date(2025, 1, 1)


def _row(cbsa: str, geo: str, floor: str, name: str) -> WageIndexRow:
    return WageIndexRow(cbsa, JAN, D(geo), D(geo), D(floor), name)


ROWS = [
    _row("35614", "1.2961", "0.0000", "New York-Jersey City-White Plains NY-NJ"),
    _row("09", "0.0000", "1.2958", "DISTRICT OF COLUMBIA"),
    _row("40", "0.2456", "0.3319", "PUERTO RICO"),
    _row("01", "0.7579", "0.0000", "ALABAMA"),
]
TABLE = wage_index.build({"wage_index": ROWS})


def test_opps_uses_the_geographic_index() -> None:
    """A non-reclassified hospital: the geographic column (reclassified is never chosen)."""
    wage = wage_index.lookup(TABLE, DATASET, "35614")
    assert wage == Wage(D("1.2961"), "cbsa", "35614", ROWS[0].name, "geographic", DATASET)


def test_opps_uses_the_imputed_floor_where_geographic_is_zero() -> None:
    """DC (09) has no rural area: geographic 0.0000, imputed floor 1.2958 answers."""
    wage = wage_index.lookup(TABLE, DATASET, "09")
    assert (wage.index, wage.column) == (D("1.2958"), "imputed_floor")


def test_opps_puerto_rico_takes_the_higher_imputed_floor() -> None:
    """The OPPS Pricer uses the imputed floor wherever it is above zero and higher: PR 0.3319."""
    wage = wage_index.lookup(TABLE, DATASET, "40")
    assert (wage.index, wage.column) == (D("0.3319"), "imputed_floor")


def test_asc_uses_the_pre_floor_geographic_index() -> None:
    """ASC: pre-floor, pre-reclassification: PR stays 0.2456; DC's 0.0000 has no ASC index."""
    assert wage_index.lookup(TABLE, DATASET, "40", "asc").index == D("0.2456")
    with pytest.raises(Unprocessable):
        wage_index.lookup(TABLE, DATASET, "09", "asc")


def test_unknown_cbsa_names_the_dataset() -> None:
    """An unknown CBSA is NotFound on the cbsa field, naming the wage index dataset."""
    with pytest.raises(NotFound) as caught:
        wage_index.lookup(TABLE, DATASET, "99999")
    assert caught.value.details["field"] == "cbsa"
    assert "WI-2025" in caught.value.message


def test_given_wage_and_pairs() -> None:
    """A given index has no CBSA or dataset; pairs are cbsa, name, wage_index, column, dataset."""
    assert Wage.given(D("1.1")).pairs() == (
        ("cbsa", None), ("name", None), ("wage_index", D("1.1")), ("column", "given"),
        ("dataset", None),
    )  # fmt: skip


def test_latest_effective_date_wins() -> None:
    """Two rows of one CBSA: the later effective date is kept."""
    later = WageIndexRow("01", date(2025, 7, 1), D("0.8"), D("0.8"), D("0"), "ALABAMA")
    table = wage_index.build({"wage_index": [later, ROWS[3]]})
    assert table["01"].geographic == D("0.8")


@pytest.mark.slow
def test_real_table(cms_data: Path) -> None:
    """The real 2025 table: 471 rows; exactly DC, NJ, RI and PR take their imputed floor."""
    path = cms_data / "2025" / "opps-wage-index-2025" / "cbsa-wage-index-2025.csv"
    table = wage_index.build({"wage_index": parse_file("wage_index", path.name, path.read_bytes())})
    assert len(table) == 471
    floored = {c for c in table if wage_index.lookup(table, DATASET, c).column == "imputed_floor"}
    assert floored == {"09", "31", "40", "41"}
    assert wage_index.lookup(table, DATASET, "31").index == D("1.1548")
    assert wage_index.lookup(table, DATASET, "41").index == D("1.1516")
