"""What the two facility payment systems (OPPS, ASC) share: their rows by kind, the weight x
conversion factor shown with the national rate, and the wage adjustment of the labor share.

Pure: ``Decimal`` arithmetic only. ``engine/opps.py`` and ``engine/asc.py`` hold each
system's own rules (which indicators are paid and adjusted, copayments, device portions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def typed_rows(rows: Mapping[str, Sequence[Any]], kind: str, cls: type) -> list[Any]:
    """The rows of ``kind`` (none when the dataset lacks that optional file), each a ``cls``."""
    out = list(rows.get(kind, ()))
    if not all(isinstance(row, cls) for row in out):
        raise TypeError(f"the {kind!r} rows must be {cls.__name__}")
    return out


def weighted(weight: Decimal | None, factor: Decimal, rate: Decimal | None) -> tuple[
    tuple[str, Any], ...
]:  # fmt: skip
    """The components that show a national rate as weight x conversion factor."""
    return (
        ("conversion_factor", factor if weight is not None else None),
        ("weight_x_conversion_factor", None if weight is None else weight * factor),
        ("national_rate", rate),
    )


def labor_adjusted(amount: Decimal, index: Decimal, labor_share: Decimal) -> Decimal:
    """``amount x (labor_share x index + (1 - labor_share))``, unrounded: the labor-related
    share of ``amount`` scaled by the wage index, the rest national."""
    return amount * (labor_share * index + 1 - labor_share)
