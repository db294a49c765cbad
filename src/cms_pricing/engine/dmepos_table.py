"""The in-memory DMEPOS dataset: read-only indexes over the parsed rows of one quarter.

``build(rows)`` takes the dataset's rows by kind — ``dmepos``, ``dmepen`` (both
``DmeposFeeRow``), ``dme_rural_zip``, ``cba_fee``, ``cba_zip``, ``cba_mail_order`` — and
tolerates a missing kind as empty. Modifier keys are tuples of the non-blank modifiers in
billing order (``("RR",)``, ``("NU", "KL")``, ``()``). A (code, modifiers, state) present in
both the DMEPOS and the PEN file is a broken dataset: ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar

from cms_pricing.reference.rows import (
    CbaFeeRow,
    CbaZipRow,
    DmeposFeeRow,
    DmeRuralZipRow,
    MailOrderFeeRow,
)

Mods = tuple[str, ...]
CodeKey = tuple[str, Mods]
"""(HCPCS, modifiers): the fees of one billed item, by state (or by former CBA short name).

Nested by item, then state, so that 185,000 fees need no key object each (one dict of ~53
states per item): the table is a fraction of a flat (code, modifiers, state) index."""

CATEGORY_MEANINGS: Mapping[str, str] = MappingProxyType(
    {  # DMEREAD 2025, Attachment A-1, column 5
        "IN": "inexpensive and other routinely purchased items",
        "FS": "frequently serviced items",
        "CR": "capped rental items",
        "OX": "oxygen and oxygen equipment",
        "OS": "ostomy, tracheostomy and urological items",
        "SD": "surgical dressings",
        "PO": "prosthetics and orthotics",
        "SU": "supplies",
        "TE": "transcutaneous electrical nerve stimulators",
        "TS": "therapeutic shoes",
        "IL": "intraocular lenses",
        "SC": "splints and casts",
        "LC": "lymphedema compression treatment items",
        "LT": "labor rates",
    }
)
JURISDICTION_MEANINGS: Mapping[str, str] = MappingProxyType(
    {  # DMEREAD 2025, Attachment A-1, column 4
        "D": "DME MAC jurisdiction",
        "L": "local Part B carrier jurisdiction",
        "J": "joint DME MAC / local carrier jurisdiction",
    }
)


@dataclass(frozen=True, slots=True)
class DmeposTable:
    """Read-only indexes of one DMEPOS dataset (every mapping is a ``MappingProxyType``)."""

    fees: Mapping[CodeKey, Mapping[str, DmeposFeeRow]]  # DMEPOS and DMEPEN fees, by state
    pen_keys: frozenset[tuple[str, Mods]]  # code + modifiers whose fees are from the PEN file
    modifiers: Mapping[str, tuple[Mods, ...]]  # code -> combinations with a state fee
    states: frozenset[str]  # states and territories with a fee column
    rural_zips: Mapping[str, str]  # ZIP5 -> state of the rural ZIP file
    cba_zips: Mapping[str, CbaZipRow]  # ZIP5 -> its former CBA
    cba_fees: Mapping[CodeKey, Mapping[str, CbaFeeRow]]  # by former CBA short name
    cba_modifiers: Mapping[str, tuple[Mods, ...]]  # code -> combinations with a CBA fee
    mail_order: Mapping[tuple[str, Mods], MailOrderFeeRow]


def mods_of(row: DmeposFeeRow | CbaFeeRow | MailOrderFeeRow) -> Mods:
    """The non-blank modifiers of a row, in column order."""
    return tuple(m for m in (row.modifier, row.modifier2, row.modifier3) if m)


def _combinations(keys: Iterable[tuple[str, Mods]]) -> Mapping[str, tuple[Mods, ...]]:
    out: dict[str, list[Mods]] = {}
    for code, mods in keys:
        combos = out.setdefault(code, [])
        if mods not in combos:
            combos.append(mods)
    return MappingProxyType({code: tuple(combos) for code, combos in out.items()})


RowT = TypeVar("RowT", DmeposFeeRow, CbaFeeRow)


def _nested(
    parts: Iterable[Sequence[RowT]], place: Callable[[RowT], str]
) -> dict[CodeKey, dict[str, RowT]]:
    """Rows by (code, modifiers), then by place; one modifiers tuple per combination."""
    fees: dict[CodeKey, dict[str, RowT]] = {}
    shared: dict[Mods, Mods] = {}
    for rows in parts:
        for row in rows:
            mods = mods_of(row)
            mods = shared.setdefault(mods, mods)
            key = (row.hcpcs, mods)
            by_place = fees.get(key)
            if by_place is None:
                by_place = fees[key] = {}
            where = place(row)
            if where in by_place:
                raise ValueError(f"fee {(row.hcpcs, mods, where)!r} is listed twice")
            by_place[where] = row
    return fees


def _readonly(fees: dict[CodeKey, dict[str, RowT]]) -> Mapping[CodeKey, Mapping[str, RowT]]:
    return MappingProxyType({key: MappingProxyType(found) for key, found in fees.items()})


def build(rows: Mapping[str, Sequence[Any]]) -> DmeposTable:
    """The indexes of a dataset given as rows by kind (a missing kind is empty)."""
    dme: Sequence[DmeposFeeRow] = rows.get("dmepos", ())
    pen: Sequence[DmeposFeeRow] = rows.get("dmepen", ())
    rural: Sequence[DmeRuralZipRow] = rows.get("dme_rural_zip", ())
    cba_fee: Sequence[CbaFeeRow] = rows.get("cba_fee", ())
    cba_zip: Sequence[CbaZipRow] = rows.get("cba_zip", ())
    mail: Sequence[MailOrderFeeRow] = rows.get("cba_mail_order", ())
    fees = _nested((dme, pen), attrgetter("state"))
    cba_fees = _nested((cba_fee,), attrgetter("cba_short_name"))
    return DmeposTable(
        fees=_readonly(fees),
        pen_keys=frozenset((r.hcpcs, mods_of(r)) for r in pen),
        modifiers=_combinations(fees),
        states=frozenset(state for by_state in fees.values() for state in by_state),
        rural_zips=MappingProxyType({r.zip5: r.state for r in rural}),
        cba_zips=MappingProxyType({r.zip5: r for r in cba_zip}),
        cba_fees=_readonly(cba_fees),
        cba_modifiers=_combinations(cba_fees),
        mail_order=MappingProxyType({(r.hcpcs, mods_of(r)): r for r in mail}),
    )
