"""The wire format: engine results and errors as JSON-ready dicts, and the error envelope.

Money goes out twice: integer cents (``amount_cents``) next to the exact decimal string
(``amount``). RVUs, GPCIs and the conversion factor go out as decimal strings, exactly as
CMS publishes them, so a caller can redo the arithmetic. This module is the only place that
decides field names; ``api/schemas.py`` documents the same shapes for OpenAPI and a test
checks every answer against it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from cms_pricing.engine.lookup import Area, Areas, Listed, Prices
from cms_pricing.engine.mpfs import Decision, Located, indicators_of
from cms_pricing.engine.quote import (
    Components,
    DatasetRef,
    Geography,
    Gpci,
    OppsCap,
    Quote,
    ReleaseRef,
    ScheduleQuote,
)
from cms_pricing.engine.schedules import TITLES
from cms_pricing.engine.sites import Site, Sites

JSON = dict[str, Any]


def cents(value: Decimal | None) -> int | None:
    """Whole cents of an amount the engine already rounded to the cent."""
    return None if value is None else int(value * 100)


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


_FRAGMENTS: dict[int, tuple[ReleaseRef, orjson.Fragment, str]] = {}


def release_fragment(ref: ReleaseRef) -> orjson.Fragment:
    """The release object pre-serialised: a handful of releases, millions of answers. Kept
    by the object's identity (the ref is held with it): hashing the dataclass cost more than
    writing the answer's money fields (issue 14)."""
    return _release(ref)[1]


def _release(ref: ReleaseRef) -> tuple[ReleaseRef, orjson.Fragment, str]:
    found = _FRAGMENTS.get(id(ref))
    if found is not None and found[0] is ref:
        return found
    if len(_FRAGMENTS) >= 256:
        _FRAGMENTS.clear()
    written = orjson.dumps(release_json(ref))
    found = _FRAGMENTS[id(ref)] = (ref, orjson.Fragment(written), written.decode())
    return found


def release_json(ref: ReleaseRef) -> JSON:
    return {
        "id": ref.release_id,
        "effective_from": ref.effective_from.isoformat(),
        "effective_to": ref.effective_to.isoformat() if ref.effective_to else None,
        "sha256": ref.sha256,
        "published_at": ref.published_at.isoformat() if ref.published_at else None,
    }


def geography_json(geo: Geography) -> JSON:
    return {
        "zip": geo.zip,
        "plus4": geo.plus4,
        "state": geo.state,
        "state_name": geo.state_name,
        "carrier": geo.carrier,
        "locality": geo.locality,
        "carrier_locality": geo.carrier + geo.locality,
        "locality_name": geo.locality_name,
        "rural": geo.rural,
        "match": geo.match,
        "ambiguous": geo.ambiguous,
        "note": geo.note,
    }


def components_json(c: Components) -> JSON:
    """The inputs of the formula and the formula itself with them, as CMS's RVU file states
    it: ``(work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x CF``."""
    return _formula(
        work_rvu=c.work_rvu,
        pe_rvu=c.pe_rvu,
        mp_rvu=c.mp_rvu,
        gpci=c.gpci,
        cf_=c.conversion_factor,
        sum_=c.unrounded_amount,
    )


def _formula(
    *, work_rvu: Decimal, pe_rvu: Decimal, mp_rvu: Decimal, gpci: Gpci, cf_: Decimal, sum_: Decimal
) -> JSON:
    work, pe, mp = str(work_rvu), str(pe_rvu), str(mp_rvu)
    gwork, gpe, gmp = str(gpci.work), str(gpci.pe), str(gpci.mp)
    cf, unrounded = str(cf_), str(sum_)
    return {
        "work_rvu": work,
        "pe_rvu": pe,
        "mp_rvu": mp,
        "gpci": {"work": gwork, "pe": gpe, "mp": gmp},
        "conversion_factor": cf,
        "unrounded_amount": unrounded,
        "arithmetic": f"({work} x {gwork} + {pe} x {gpe} + {mp} x {gmp}) x {cf} = {unrounded}",
    }


def opps_cap_json(cap: OppsCap | None) -> JSON:
    if cap is None:
        return {"applies": False, "cap_cents": None, "cap": None, "mpfs_cents": None}
    return {
        "applies": cap.applies,
        "cap_cents": cents(cap.cap),
        "cap": money(cap.cap),
        "mpfs_cents": cents(cap.mpfs),
    }


def quote_json(q: Quote) -> JSON:
    return _answer(
        code=q.code,
        modifier=q.modifier,
        setting=q.setting,
        pos=q.pos,
        payable=q.payable,
        status=q.status,
        status_reason=q.status_reason,
        setting_na=q.setting_na,
        amount=q.amount,
        non_participating=q.non_participating,
        limiting=q.limiting_charge,
        release=release_fragment(q.release),
        geography=geography_json(q.geography),
        components=components_json(q.components),
        opps_cap=q.opps_cap,
        indicators=q.indicators,
        notes=list(q.notes),
    )


_GPCIS: dict[int, tuple[Gpci, str, str, str, orjson.Fragment]] = {}


def _gpci(gpci: Gpci) -> tuple[Gpci, str, str, str, orjson.Fragment]:
    """A locality's GPCIs as text, kept by the object's identity (a few hundred localities)."""
    found = _GPCIS.get(id(gpci))
    if found is not None and found[0] is gpci:
        return found
    if len(_GPCIS) >= 4096:
        _GPCIS.clear()
    work, pe, mp = str(gpci.work), str(gpci.pe), str(gpci.mp)
    written = orjson.dumps({"work": work, "pe": pe, "mp": mp})
    found = _GPCIS[id(gpci)] = (gpci, work, pe, mp, orjson.Fragment(written))
    return found


_NO_CAP = orjson.Fragment(b'{"applies":false,"cap_cents":null,"cap":null,"mpfs_cents":null}')


def located_body(found: Located, d: Decision) -> bytes:
    """``dumps(quote_json(quote(found)))`` without the ``Quote``, in one function: the
    computed path of ``GET /codes/price`` (issue 14), with no call per field group and the
    locality's GPCIs written once. ``tests/api/test_located_body.py`` holds the two byte for
    byte alike."""
    release, row, geo, locality, setting, pos = found
    _, gwork, gpe, gmp, gpci = _gpci(locality.gpci)
    work, pe, mp = str(row.work_rvu), str(d.pe_rvu), str(row.mp_rvu)
    cf, unrounded = str(row.conversion_factor), str(d.unrounded)
    amount, np, lc = d.amount, d.non_participating, d.limiting_charge
    cap = d.opps_cap
    return orjson.dumps(
        {
            "schedule": "mpfs",
            "code": row.hcpcs,
            "modifier": row.modifier,
            "setting": setting,
            "pos": pos,
            "payable": d.payable,
            "status": row.status,
            "status_reason": d.status_reason,
            "setting_na": d.setting_na,
            "amount_cents": None if amount is None else int(amount * 100),
            "amount": None if amount is None else str(amount),
            "non_participating_cents": None if np is None else int(np * 100),
            "non_participating": None if np is None else str(np),
            "limiting_charge_cents": None if lc is None else int(lc * 100),
            "limiting_charge": None if lc is None else str(lc),
            "release": _release(release.ref)[1],
            "geography": geography_json(geo),
            "components": {
                "work_rvu": work,
                "pe_rvu": pe,
                "mp_rvu": mp,
                "gpci": gpci,
                "conversion_factor": cf,
                "unrounded_amount": unrounded,
                "arithmetic": f"({work} x {gwork} + {pe} x {gpe} + {mp} x {gmp}) x {cf} = "
                + unrounded,
            },
            "opps_cap": _NO_CAP if cap is None else opps_cap_json(cap),
            "indicators": indicators_of(row),
            "notes": d.notes,
        }
    )


def _answer(  # the fields of one answer, in its order
    *,
    code: str,
    modifier: str,
    setting: str,
    pos: str | None,
    payable: bool,
    status: str,
    status_reason: str,
    setting_na: bool,
    amount: Decimal | None,
    non_participating: Decimal | None,
    limiting: Decimal | None,
    release: orjson.Fragment,
    geography: JSON,
    components: JSON,
    opps_cap: OppsCap | None,
    indicators: Any,
    notes: list[str],
) -> JSON:
    # Inline rather than cents()/money(): six calls were a tenth of this function (issue 14).
    return {
        "schedule": "mpfs",
        "code": code,
        "modifier": modifier,
        "setting": setting,
        "pos": pos,
        "payable": payable,
        "status": status,
        "status_reason": status_reason,
        "setting_na": setting_na,
        "amount_cents": None if amount is None else int(amount * 100),
        "amount": None if amount is None else str(amount),
        "non_participating_cents": None
        if non_participating is None
        else int(non_participating * 100),
        "non_participating": None if non_participating is None else str(non_participating),
        "limiting_charge_cents": None if limiting is None else int(limiting * 100),
        "limiting_charge": None if limiting is None else str(limiting),
        "release": release,
        "geography": geography,
        "components": components,
        "opps_cap": opps_cap_json(opps_cap),
        "indicators": indicators,
        "notes": notes,
    }


def dataset_json(ref: DatasetRef) -> JSON:
    return {
        "id": ref.dataset_id,
        "schedule": ref.schedule,
        "effective_from": ref.effective_from.isoformat(),
        "effective_to": ref.effective_to.isoformat() if ref.effective_to else None,
        "sha256": ref.sha256,
        "published_at": ref.published_at.isoformat() if ref.published_at else None,
    }


def _value(value: Any) -> Any:
    """A component as it goes out: decimals as exact strings, the rest as JSON has them."""
    return str(value) if isinstance(value, Decimal) else value


def schedule_quote_json(q: ScheduleQuote) -> JSON:
    """The answer of a schedule other than the MPFS: today's envelope, its own components."""
    return {
        "schedule": q.schedule,
        "code": q.code,
        "modifiers": list(q.modifiers),
        "payable": q.payable,
        "reason": q.reason,
        "amount_cents": cents(q.amount),
        "amount": money(q.amount),
        "release": dataset_json(q.dataset),
        "geography": None if q.geography is None else {k: _value(v) for k, v in q.geography},
        "components": {name: _value(value) for name, value in q.components},
        "cost_sharing": {
            "deductible_applies": q.cost_sharing.deductible_applies,
            "coinsurance_rate": str(q.cost_sharing.coinsurance_rate),
            "copayment_cents": cents(q.copayment),
            "copayment": money(q.copayment),
        },
        "notes": list(q.notes),
    }


def site_json(site: Site) -> JSON:
    """One site of service: its parts (each a full answer, arithmetic included) and sums."""
    return {
        "site": site.site,
        "payable": site.payable,
        "reason": site.reason,
        "total_cents": cents(site.total),
        "total": money(site.total),
        "beneficiary_cents": cents(site.beneficiary),
        "beneficiary": money(site.beneficiary),
        "medicare_cents": cents(site.program),
        "medicare": money(site.program),
        "difference_from_office_cents": cents(site.difference),
        "difference_from_office": money(site.difference),
        "beneficiary_difference_from_office_cents": cents(site.beneficiary_difference),
        "beneficiary_difference_from_office": money(site.beneficiary_difference),
        "professional": None if site.professional is None else quote_json(site.professional),
        "facility": None if site.facility is None else schedule_quote_json(site.facility),
        "facility_reason": site.facility_reason,
        "notes": list(site.notes),
    }


def sites_json(found: Sites) -> JSON:
    asked = found.request
    return {
        "code": asked.code,
        "place": {
            "zip": asked.zip,
            "locality": asked.locality,
            "cbsa": asked.cbsa,
            "wage_index": None if asked.wage_index is None else str(asked.wage_index),
            "facility_fees": found.facility_fees,
        },
        "date": asked.on.isoformat() if asked.on else None,
        "year": asked.year,
        "lowest": found.lowest,
        "sites": [site_json(site) for site in found.sites],
        "notes": list(found.notes),
    }


def _listed_json(listed: Listed) -> JSON:
    """One schedule's entry of ``GET /codes/{code}/prices``: the sums, then the whole answer."""
    quote = listed.quote
    answer: JSON | None = None
    if isinstance(quote, Quote):
        answer = quote_json(quote)
    elif quote is not None:
        answer = schedule_quote_json(quote)
    payable = quote is not None and quote.payable
    reason = listed.reason
    if quote is not None and not payable:
        reason = quote.status_reason if isinstance(quote, Quote) else quote.reason
    return {
        "schedule": listed.schedule,
        "title": TITLES.get(listed.schedule, listed.schedule),
        "payable": payable,
        "reason": reason,
        "amount_cents": cents(quote.amount) if quote is not None else None,
        "amount": money(quote.amount) if quote is not None else None,
        "answer": answer,
    }


def prices_json(found: Prices) -> JSON:
    asked = found.request
    return {
        "code": asked.code,
        "place": {
            "zip": asked.zip,
            "locality": asked.locality,
            "setting": asked.setting,
            "cbsa": asked.cbsa,
            "wage_index": None if asked.wage_index is None else str(asked.wage_index),
            "minutes": asked.minutes,
        },
        "date": asked.on.isoformat() if asked.on else None,
        "year": asked.year,
        "prices": [_listed_json(listed) for listed in found.listed],
        "absent": list(found.absent),
    }


def _area_json(area: Area) -> JSON:
    quote = area.quote
    reason = None
    if not quote.payable:
        reason = quote.status_reason if isinstance(quote, Quote) else quote.reason
    return {
        "area": area.area,
        "name": area.name,
        "state": area.state,
        "payable": quote.payable,
        "reason": reason,
        "amount_cents": cents(quote.amount),
        "amount": money(quote.amount),
    }


def _extreme(areas: list[JSON], pick: Any) -> JSON | None:
    priced = [a for a in areas if a["amount_cents"] is not None]
    if not priced:
        return None
    found = pick(priced, key=lambda a: a["amount_cents"])
    return {k: found[k] for k in ("area", "name", "amount_cents", "amount")}


def areas_json(found: Areas) -> JSON:
    asked = found.request
    ref = found.release
    areas = [_area_json(area) for area in found.areas]
    return {
        "code": asked.code,
        "schedule": asked.schedule,
        "kind": found.kind,
        "setting": asked.setting,
        "modifiers": list(asked.modifiers),
        "release": release_json(ref) if isinstance(ref, ReleaseRef) else dataset_json(ref),
        "count": len(areas),
        "lowest": _extreme(areas, min),
        "highest": _extreme(areas, max),
        "areas": areas,
    }


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload)
