"""ANES2025: implied-decimal CFs, the ^Z trailer, and what the three forms share."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cms_pricing.reference.rows import AnesCfRow

Parsed = Callable[[str, str], list[Any]]


def test_implied_decimal_cf_and_ctrl_z(parsed: Parsed) -> None:
    """1931 reads as 19.31; the final ^Z byte is not a row; 109 localities."""
    rows: list[AnesCfRow] = parsed("rvu25d", "ANES2025.txt")
    assert len(rows) == 109
    assert rows[0] == AnesCfRow(
        mac="10112", locality="00", locality_name="ALABAMA", anes_cf=Decimal("19.31")
    )
    assert rows[-1].locality_name == "WYOMING"
    assert str(rows[1].anes_cf) == "27.86"


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_forms_agree_on_keys_and_cfs(parsed: Parsed, form: str) -> None:
    """The forms give the same (MAC, locality, CF) rows in the same order.

    Names differ: the .txt cuts them at 40 characters and drops the '*'/'**' floor
    markers the .csv keeps (the .xlsx keeps neither marker), so each .txt name is a
    prefix of the other form's name.
    """
    txt: list[AnesCfRow] = parsed("rvu25d", "ANES2025.txt")
    other: list[AnesCfRow] = parsed("rvu25d", f"ANES2025.{form}")
    assert [(r.mac, r.locality, r.anes_cf) for r in txt] == [
        (r.mac, r.locality, r.anes_cf) for r in other
    ]
    for t, o in zip(txt, other, strict=True):
        assert o.locality_name.startswith(t.locality_name)
        assert len(t.locality_name) <= 40
    assert [r.locality_name for r in other][1] == ("ALASKA*" if form == "csv" else "ALASKA")
