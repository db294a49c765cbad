"""Query-string parsing shared by every read endpoint.

One parser for the fast path and the documented FastAPI routes, so both answer the same
way: unknown or repeated parameters are a 400 naming the parameter (a typo such as
``zipcode=`` must not silently price the default), and each value is checked for form here;
whether it exists in the data (a known code, a ZIP in the file) is the engine's call.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote_plus

from cms_pricing.engine.quote import PriceQuery
from cms_pricing.errors import BadRequest

PRICE_PARAMS = frozenset(
    {"code", "zip", "locality", "setting", "pos", "modifier", "date", "year", "release"}
)
RELEASE_PARAMS = frozenset({"date", "year", "release"})
LOCALITY_PARAMS = RELEASE_PARAMS | {"zip"}

_CODE = re.compile(r"[A-Z0-9]{5}")
_YEAR = re.compile(r"[0-9]{4}")
_RELEASE = re.compile(r"[A-Z0-9]{1,16}")


def split_query(query: str) -> list[tuple[str, str]]:
    """``parse_qsl`` for the common case at a third of its cost: percent-decoding only
    the parts that need it (a pricing query rarely has any)."""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


def parse_query(query: str, allowed: frozenset[str]) -> dict[str, str]:
    """Split a raw query string; reject unknown and repeated names. Blank values are absent."""
    params: dict[str, str] = {}
    for name, value in split_query(query):
        if name not in allowed:
            raise BadRequest(
                f"unknown parameter {name!r}; accepted: {', '.join(sorted(allowed))}",
                field=name,
            )
        if name in params:
            raise BadRequest(f"parameter {name!r} is given more than once", field=name)
        params[name] = value.strip()
    return {name: value for name, value in params.items() if value}


def code_param(value: str | None) -> str:
    if not value:
        raise BadRequest("parameter 'code' is required (a 5-character HCPCS code)", field="code")
    code = value.upper()
    if not _CODE.fullmatch(code):
        raise BadRequest(
            f"code {value!r} is not a HCPCS code: 5 letters or digits, e.g. 99213",
            field="code",
        )
    return code


def date_param(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: str) -> date:
    raise BadRequest(f"date {value!r} is not a date of service: use YYYY-MM-DD", field="date")


def year_param(value: str | None) -> int | None:
    if value is None:
        return None
    if not _YEAR.fullmatch(value):
        raise BadRequest(f"year {value!r} is not a 4-digit year", field="year")
    return int(value)


def release_param(value: str | None) -> str | None:
    if value is None:
        return None
    release = value.upper()
    if not _RELEASE.fullmatch(release):
        raise BadRequest(f"release {value!r} is not a release id such as RVU25B", field="release")
    return release


def release_selector(params: dict[str, str]) -> tuple[str | None, date | None, int | None]:
    return (
        release_param(params.get("release")),
        date_param(params.get("date")),
        year_param(params.get("year")),
    )


def price_query(query: str) -> PriceQuery:
    """``GET /codes/price`` parameters as an engine query."""
    params = parse_query(query, PRICE_PARAMS)
    release_id, on, year = release_selector(params)
    return PriceQuery(
        code=code_param(params.get("code")),
        zip=params.get("zip"),
        locality=params.get("locality"),
        setting=params.get("setting"),
        pos=params.get("pos"),
        modifier=params.get("modifier"),
        on=on,
        year=year,
        release_id=release_id,
    )
