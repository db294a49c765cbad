"""DMEPOS engine: rural choice, R/NR column, former CBA, KL mail order, and 404s.

The synthetic table's values are made up so each rule has a case; the slow tests price every
cell of the real DMEPOS_JAN and DMEPEN files and compare with the cell text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.engine.dmepos import DmeposTable, build, price
from cms_pricing.engine.quote import CostSharing, DatasetRef, ScheduleQuote
from cms_pricing.errors import BadRequest, NotFound
from cms_pricing.reference.parsers import cba, dme_rural, dmepen, dmepos
from cms_pricing.reference.rows import (
    CbaFeeRow,
    CbaZipRow,
    DmeposFeeRow,
    DmeRuralZipRow,
    MailOrderFeeRow,
)

D = Decimal
DATASET = DatasetRef(
    schedule="dmepos",
    dataset_id="DMEPOS-2025Q1",
    effective_from=date(2025, 1, 1),
    effective_to=None,
    sha256="0" * 64,
    published_at=None,
)


def fee(code: str, mods: str, state: str, nr: str, r: str, **kw: Any) -> DmeposFeeRow:
    """A DMEPOS fee row; ``mods`` is ``"RR"`` or ``"RR,KE"``."""
    m = [*mods.split(","), "", ""] if mods else ["", "", ""]
    fields: dict[str, Any] = {
        "jurisdiction": "D",
        "category": "CR",
        "ceiling": D("0.00"),
        "floor": D("0.00"),
    }
    fields.update(kw)
    return DmeposFeeRow(code, m[0], m[1], "", state=state, non_rural=D(nr), rural=D(r), **fields)


@pytest.fixture(scope="module")
def table() -> DmeposTable:
    """E0601-RR in CA/KS/AK, a NR-only code, an unpriced code, a PEN code, a former CBA."""
    rows: dict[str, list[Any]] = {
        "dmepos": [
            fee("E0601", "RR", "CA", "49.12", "91.03"),
            fee("E0601", "RR", "KS", "50.00", "80.00"),
            fee("E0601", "RR", "AK", "70.00", "0.00"),
            fee("E0601", "NU", "CA", "400.00", "500.00"),
            fee(
                "L3000",
                "",
                "CA",
                "120.50",
                "0.00",
                category="PO",
                ceiling=D("130.00"),
                floor=D("100.00"),
            ),
            fee("V2786", "", "CA", "0.00", "0.00", category="PO"),
            fee("A4253", "NU", "CA", "8.32", "0.00", category="IN"),
        ],
        "dmepen": [
            fee(
                "B4034",
                "",
                "CA",
                "3.73",
                "6.03",
                jurisdiction="",
                category="",
                ceiling=None,
                floor=None,
            ),
            fee(
                "E0776",
                "RR,KE",
                "CA",
                "0.00",
                "22.51",
                jurisdiction="",
                category="",
                ceiling=None,
                floor=None,
            ),
        ],
        "dme_rural_zip": [
            DmeRuralZipRow("CA", "96101", "202501"),
            DmeRuralZipRow("KS", "67901", "202501"),
        ],
        "cba_zip": [
            CbaZipRow(
                "CA", "94110", "San Francisco, CA", "San Francisco-Oakland-Hayward, CA", "202501"
            )
        ],
        "cba_fee": [
            CbaFeeRow("E0601", "RR", "", "", "CR", "San Francisco, CA", D("53.09")),
            CbaFeeRow("E0601", "RR", "KG", "", "CR", "San Francisco, CA", D("55.00")),
        ],
        "cba_mail_order": [MailOrderFeeRow("A4253", "NU", "KL", "", "IN", D("10.39"))],
    }
    return build(rows)


def comp(quote: ScheduleQuote) -> dict[str, Any]:
    """The quote's components as a dict (their order is checked separately)."""
    return dict(quote.components)


def test_whole_quote_for_a_rural_zip(table: DmeposTable) -> None:
    """ZIP 96101 is a CA rural ZIP: E0601-RR pays the R cell 91.03; every field pinned."""
    quote = price(table, DATASET, "e0601", ("rr",), "ca", "96101", None)
    assert quote == ScheduleQuote(
        schedule="dmepos",
        code="E0601",
        modifiers=("RR",),
        payable=True,
        reason=None,
        amount=D("91.03"),
        dataset=DATASET,
        components=(
            ("state", "CA"),
            ("rural", True),
            ("column", "R"),
            ("fee_non_rural", D("49.12")),
            ("fee_rural", D("91.03")),
            ("ceiling", D("0.00")),
            ("floor", D("0.00")),
            ("jurisdiction", "D"),
            ("jurisdiction_meaning", "DME MAC jurisdiction"),
            ("category", "CR"),
            ("category_meaning", "capped rental items"),
            ("fee_file", "DMEPOS"),
            ("state_fee", D("91.03")),
            ("fee_applied", "state fee schedule"),
        ),
        cost_sharing=CostSharing(deductible_applies=True, coinsurance_rate=D("0.20")),
        geography=(
            ("state", "CA"),
            ("zip", "96101"),
            ("rural", True),
            ("rural_source", "zip file"),
            ("former_cba", None),
        ),
        notes=quote.notes,
    )
    assert "rural ZIP file for CA" in quote.notes[0]


def test_non_rural_zip_and_default(table: DmeposTable) -> None:
    """A ZIP not in the rural file, or no ZIP at all, pays NR 49.12; the default is noted."""
    by_zip = price(table, DATASET, "E0601", ("RR",), "CA", "90001", None)
    assert (by_zip.amount, comp(by_zip)["column"], dict(by_zip.geography or ())["rural"]) == (
        D("49.12"),
        "NR",
        False,
    )
    default = price(table, DATASET, "E0601", ("RR",), "CA", None, None)
    assert default.amount == D("49.12")
    assert dict(default.geography or ())["rural_source"] == "default"
    assert any("No ZIP" in n for n in default.notes)


def test_explicit_rural_wins_over_the_zip(table: DmeposTable) -> None:
    """rural=False on a rural ZIP pays NR; rural=True on an urban ZIP pays R."""
    assert price(table, DATASET, "E0601", ("RR",), "CA", "96101", False).amount == D("49.12")
    given = price(table, DATASET, "E0601", ("RR",), "CA", "90001", True)
    assert given.amount == D("91.03")
    assert dict(given.geography or ())["rural_source"] == "given"


def test_rural_zero_falls_back_to_non_rural(table: DmeposTable) -> None:
    """L3000's R cell is 0.00: a rural place pays the NR 120.50 (DMEREAD), with a note."""
    quote = price(table, DATASET, "L3000", (), "CA", "96101", None)
    assert (quote.amount, comp(quote)["column"], comp(quote)["rural"]) == (D("120.50"), "NR", True)
    assert any("only a non-rural amount" in n for n in quote.notes)
    assert (comp(quote)["ceiling"], comp(quote)["floor"]) == (D("130.00"), D("100.00"))


def test_kansas_alias_and_its_rural_zip(table: DmeposTable) -> None:
    """The ZIP5 file's WK (west Kansas) prices as KS; 67901 is a KS rural ZIP -> 80.00."""
    quote = price(table, DATASET, "E0601", ("RR",), "WK", "67901", None)
    assert (quote.amount, comp(quote)["state"]) == (D("80.00"), "KS")
    assert price(table, DATASET, "E0601", ("RR",), "EK", None, None).amount == D("50.00")


def test_non_continental_area(table: DmeposTable) -> None:
    """AK has no rural fee: rural=True still pays NR 70.00, and the note says why."""
    quote = price(table, DATASET, "E0601", ("RR",), "AK", None, True)
    assert (quote.amount, comp(quote)["column"]) == (D("70.00"), "NR")
    assert any("Non-continental" in n for n in quote.notes)


def test_missing_territory_column_is_404(table: DmeposTable) -> None:
    """Guam has no fee column: NotFound on field state, saying so."""
    with pytest.raises(NotFound) as caught:
        price(table, DATASET, "E0601", ("RR",), "GU", None, None)
    assert caught.value.details == {"field": "state"}
    assert "no fee column for state GU" in caught.value.message


def test_unknown_code_and_modifier(table: DmeposTable) -> None:
    """An unknown code is 404 code; a known code with other modifiers lists the file's ones."""
    with pytest.raises(NotFound) as code:
        price(table, DATASET, "E9999", (), "CA", None, None)
    assert code.value.details == {"field": "code"}
    with pytest.raises(NotFound) as mod:
        price(table, DATASET, "E0601", ("UE",), "CA", None, None)
    assert mod.value.details == {
        "field": "modifier",
        "available": ["RR", "NU"],
        "former_cba_only": ["RR+KG"],
    }
    assert "RR, NU" in mod.value.message


def test_zero_fee_is_not_payable(table: DmeposTable) -> None:
    """V2786 is 0.00 in both columns: payable False, no amount, the reason names the state."""
    quote = price(table, DATASET, "V2786", (), "CA", None, None)
    assert (quote.payable, quote.amount) == (False, None)
    assert quote.reason == "not priced in CA: the applicable fee schedule amount is 0.00"


def test_pen_code_and_rural_only_amount(table: DmeposTable) -> None:
    """B4034 (PEN) prices like DMEPOS (rural 6.03); E0776-RR-KE has only an R amount."""
    pen = price(table, DATASET, "B4034", (), "CA", None, True)
    assert (pen.amount, comp(pen)["fee_file"], comp(pen)["ceiling"]) == (D("6.03"), "DMEPEN", None)
    urban = price(table, DATASET, "E0776", ("RR", "KE"), "CA", None, False)
    assert (urban.payable, urban.amount) == (False, None)
    assert "only a rural amount (22.51)" in (urban.reason or "")
    assert price(table, DATASET, "E0776", ("RR", "KE"), "CA", None, True).amount == D("22.51")


def test_former_cba_fee_applies(table: DmeposTable) -> None:
    """ZIP 94110 is in the San Francisco former CBA: 53.09 applies, the state 49.12 is shown."""
    quote = price(table, DATASET, "E0601", ("RR",), "CA", "94110", None)
    assert quote.amount == D("53.09")
    assert quote.components[-5:] == (
        ("state_fee", D("49.12")),
        ("former_cba", "San Francisco, CA"),
        ("former_cba_name", "San Francisco-Oakland-Hayward, CA"),
        ("former_cba_fee", D("53.09")),
        ("fee_applied", "former CBA fee schedule"),
    )
    assert dict(quote.geography or ())["former_cba"] == "San Francisco, CA"
    assert any("DMEBACK 2025, section II.5" in n for n in quote.notes)


def test_former_cba_without_an_amount_and_cba_only_modifiers(table: DmeposTable) -> None:
    """No CBA amount for E0601-NU: the state 400.00 applies; RR+KG exists only in the CBA."""
    quote = price(table, DATASET, "E0601", ("NU",), "CA", "94110", None)
    assert (quote.amount, comp(quote)["former_cba_fee"]) == (D("400.00"), None)
    assert comp(quote)["fee_applied"] == "state fee schedule"
    kg = price(table, DATASET, "E0601", ("RR", "KG"), "CA", "94110", None)
    assert (kg.amount, comp(kg)["fee_non_rural"], comp(kg)["state_fee"]) == (D("55.00"), None, None)


def test_kl_mail_order_is_national(table: DmeposTable) -> None:
    """A4253-NU-KL pays the national mail-order 10.39 anywhere, even Guam; NU alone is 8.32."""
    quote = price(table, DATASET, "A4253", ("NU", "KL"), "GU", None, True)
    assert (quote.amount, comp(quote)["fee_applied"]) == (
        D("10.39"),
        "national mail-order fee schedule",
    )
    retail = price(table, DATASET, "A4253", ("NU",), "CA", None, None)
    assert retail.amount == D("8.32")
    assert any("Non-mail-order" in n for n in retail.notes)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("E06", ("RR",), "CA", None, None), "code"),
        (("E0601", ("RRR",), "CA", None, None), "modifier"),
        (("E0601", ("A", "B", "C", "D"), "CA", None, None), "modifier"),
        (("E0601", ("RR",), "California", None, None), "state"),
        (("E0601", ("RR",), "CA", "9411", None), "zip"),
    ],
)
def test_malformed_input_is_400(table: DmeposTable, args: tuple[Any, ...], field: str) -> None:
    """A malformed code, modifier, state or ZIP is BadRequest naming the field."""
    with pytest.raises(BadRequest) as caught:
        price(table, DATASET, *args)
    assert caught.value.details == {"field": field}


def test_build_tolerates_missing_kinds() -> None:
    """A dataset with only DMEPOS rows builds; nothing is rural or in a former CBA."""
    only = build({"dmepos": [fee("E0601", "RR", "CA", "49.12", "91.03")]})
    quote = price(only, DATASET, "E0601", ("RR",), "CA", "96101", None)
    assert (quote.amount, dict(quote.geography or ())["former_cba"]) == (D("49.12"), None)


def test_build_refuses_a_fee_in_both_files() -> None:
    """The same code, modifiers and state in the DMEPOS and PEN rows is a broken dataset."""
    row = fee("E0601", "RR", "CA", "49.12", "91.03")
    with pytest.raises(ValueError, match="listed twice"):
        build({"dmepos": [row], "dmepen": [row]})


# -- real files ------------------------------------------------------------------------------


def _real(cms_data: Path, name: str, parse: Any) -> list[Any]:
    folder = cms_data / "2025" / "dmepos-2025q1"
    rows: list[Any] = parse(name, (folder / name).read_bytes())
    return rows


@pytest.fixture(scope="module")
def real(cms_data: Path) -> dict[str, list[Any]]:
    """Every DMEPOS 2025 Q1 file, parsed, by kind."""
    return {
        "dmepos": _real(cms_data, "DMEPOS_JAN.csv", dmepos.parse_csv),
        "dmepen": _real(cms_data, "DMEPEN_JAN.txt", dmepen.parse_txt),
        "dme_rural_zip": _real(
            cms_data, "DME Rural ZIP Code Quarter 1, 2025.csv", dme_rural.parse_csv
        ),
        "cba_fee": _real(cms_data, "Former CBA Fee Schedule File_JAN 2025.csv", cba.parse_fee_csv),
        "cba_zip": _real(cms_data, "Former CBA ZIP Code File - JAN 2025.csv", cba.parse_zip_csv),
        "cba_mail_order": _real(
            cms_data,
            "Former CBA National Mail-Order DTS Fee Schedule - JAN 2025.csv",
            cba.parse_mail_order_csv,
        ),
    }


def _every_cell(table: DmeposTable, rows: list[DmeposFeeRow]) -> int:
    checked = 0
    for row in rows:
        mods = tuple(m for m in (row.modifier, row.modifier2) if m)
        for rural, cell in ((False, row.non_rural), (True, row.rural)):
            if cell == 0:
                continue
            quote = price(table, DATASET, row.hcpcs, mods, row.state, None, rural)
            assert quote.amount == cell, (row, rural)
            checked += 1
    return checked


@pytest.mark.slow
def test_every_dmepos_cell_prices_to_the_cent(real: dict[str, list[Any]]) -> None:
    """Every non-zero NR and R cell of DMEPOS_JAN.csv is what price() answers for it."""
    assert _every_cell(build(real), real["dmepos"]) > 100_000


@pytest.mark.slow
def test_every_dmepen_cell_prices_to_the_cent(real: dict[str, list[Any]]) -> None:
    """Every non-zero NR and R cell of DMEPEN_JAN (txt form) is what price() answers."""
    assert _every_cell(build(real), real["dmepen"]) > 2_000


@pytest.mark.slow
def test_real_e0601_in_california(real: dict[str, list[Any]]) -> None:
    """E0601-RR CA: 49.12 urban, 91.03 rural; ZIP 94110 (San Francisco former CBA) 53.09.

    53.09 is the 'San Francisco, CA' cell of the E0601,RR row of the former CBA fee file.
    """
    table = build(real)
    assert price(table, DATASET, "E0601", ("RR",), "CA", None, False).amount == D("49.12")
    assert price(table, DATASET, "E0601", ("RR",), "CA", None, True).amount == D("91.03")
    assert price(table, DATASET, "E0601", ("RR",), "CA", "94110", None).amount == D("53.09")
    mail = price(table, DATASET, "A4253", ("NU", "KL"), "CA", None, None)
    assert mail.amount == D("10.39")
