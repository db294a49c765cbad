"""The one parser of request input: query strings, bulk lines, plan fields and headers.

Every way into the service (the fast path, the documented routes, bulk JSON and CSV lines,
plan bodies, saved-plan headers) turns its input into typed values here, with one set of
rules, or raises ``BadRequest`` naming the field. The engine receives only typed values, and
caches key answers by the typed value's canonical form, never by the raw text.

Contract:

- ``split(raw)``: ``&``-separated pairs; each name and each value is percent-decoded on its
  own, so an encoded ``&`` or ``=`` stays inside its value (``pos=22%26zip%3D1`` is one
  ``pos`` whose value is ``22&zip=1``, refused as a place of service); ``+`` is a space; bytes
  that are not UTF-8 are refused.
- ``read(raw, allowed)``: refuses a name not in ``allowed`` and a name given twice (blank or
  not); a blank value is the same as an absent one; values lose surrounding blanks.
- Field rules (``code``, ``zip``, ``locality``, ``setting``, ``pos``, ``modifier``, ``date``,
  ``year``, ``release``, ``units``): ASCII only (no other digits, no lookalike letters),
  one accepted spelling per value after case folding; a date is ``YYYY-MM-DD`` and nothing
  else (no ISO week or ordinal dates).
- Typed requests (``PriceQuery``, ``Selector``, ``LocalityQuery``, ``CodeQuery``,
  ``NoQuery``) have ``canonical()``: a query string that parses back to the same value, so
  two inputs with one canonical form get one answer, one cache entry and one ETag.
- Messages quote at most ``errors.ECHO_LIMIT`` characters of what the caller sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

from cms_pricing.engine.geography import parse_locality, parse_zip
from cms_pricing.engine.lookup import AREA_SCHEDULES, AreasRequest, PricesRequest
from cms_pricing.engine.mpfs import PLACES, SUPPORTED_MODIFIERS, normalise_modifier, setting_for
from cms_pricing.engine.quote import PriceQuery, ScheduleRequest, SitesRequest
from cms_pricing.errors import BadRequest, PreconditionRequired, Unprocessable, echo

PRICE_PARAMS = frozenset(
    {"code", "zip", "locality", "setting", "pos", "modifier", "date", "year", "release"}
)
SELECTOR_PARAMS = frozenset({"date", "year", "release"})
LOCALITY_PARAMS = SELECTOR_PARAMS | {"zip"}
NO_PARAMS: frozenset[str] = frozenset()
LIST_PARAMS = frozenset({"cursor", "limit"})

MAX_UNITS = 999
MAX_DRUG_UNITS = 99_999  # Part B drug units: a clotting factor is billed per IU
MAX_MINUTES = 1440

# The fee schedules ``GET /codes/price?schedule=`` prices and the parameters each takes
# (docs/pricing.md). A parameter of another schedule is a 422 naming the schedule.
SCHEDULES = ("mpfs", "clfs", "dmepos", "asp", "anesthesia", "opps", "asc")
WAGE_PARAMS = frozenset({"cbsa", "wage_index"})
SCHEDULE_PARAMS: dict[str, frozenset[str]] = {
    "mpfs": PRICE_PARAMS,
    "clfs": SELECTOR_PARAMS | {"code", "modifier"},
    "dmepos": SELECTOR_PARAMS
    | {"code", "modifier", "modifier2", "modifier3", "zip", "state", "rural"},
    "asp": SELECTOR_PARAMS | {"code", "units"},
    "anesthesia": SELECTOR_PARAMS | {"code", "zip", "locality", "minutes", "modifier"},
    "opps": SELECTOR_PARAMS | {"code"} | WAGE_PARAMS,
    "asc": SELECTOR_PARAMS | {"code"} | WAGE_PARAMS,
}
SITES_PARAMS = frozenset({"date", "year", "zip", "locality"}) | WAGE_PARAMS
ALL_PRICE_PARAMS = frozenset({"schedule"}).union(*SCHEDULE_PARAMS.values())
_ACCEPTED = {name: params | {"schedule"} for name, params in SCHEDULE_PARAMS.items()}
MAX_PAGE = 100


def any_case(*words: str) -> str:
    """A regex alternative matching each word in any letter case (``[Tt][Cc]``)."""
    return "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w)
                    for w in words)  # fmt: skip


# What each field rule accepts, as a regex (for the OpenAPI document: api/endpoints.py and
# api/plan_schemas.py). ``date`` is ``format: date``; existence (a known code, a ZIP in the
# file, a published release) is the data's answer, not a pattern's.
PATTERNS: dict[str, str] = {
    "code": "[A-Za-z0-9]{5}",
    "zip": "[0-9]{5}(-?[0-9]{4})?",
    "locality": "[0-9]{7}",
    "setting": any_case("office", "facility"),
    "pos": "0?[1-9]|[1-9][0-9]",
    "modifier": "[A-Za-z0-9]{2}",
    "modifier2": "[A-Za-z0-9]{2}",
    "modifier3": "[A-Za-z0-9]{2}",
    "schedule": any_case(*SCHEDULES),
    "state": "[A-Za-z]{2}",
    "rural": any_case("true", "false"),
    # 1-1440 with at most 9 digits in all (the parser's bound), leading zeros allowed
    "minutes": "0{0,8}[1-9]|0{0,7}[1-9][0-9]|0{0,6}[1-9][0-9]{2}"
    "|0{0,5}(1[0-3][0-9]{2}|14[0-3][0-9]|1440)",
    "year": "[0-9]{4}",
    "release": "[A-Za-z0-9][A-Za-z0-9-]{0,15}",
    # a CBSA (5 digits) or a state's rural area (2 digits), as the wage index table has them
    "cbsa": "[0-9]{2}|[0-9]{5}",
    # 0.0001-9.9999, at most 4 decimal places (the wage index table's precision)
    "wage_index": "[1-9](\\.[0-9]{1,4})?"
    "|0?\\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9])",
    # 1-99,999 (ASP dosage units; other lines are bounded by their schedule: 422)
    "units": "0{0,8}[1-9]|0{0,7}[1-9][0-9]|0{0,6}[1-9][0-9]{2}|0{0,5}[1-9][0-9]{3}"
    "|0{0,4}[1-9][0-9]{4}",
}

_CODE = re.compile(r"[A-Z0-9]{5}")
_YEAR = re.compile(r"[0-9]{4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RELEASE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")
_DIGITS = re.compile(r"[0-9]{1,9}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_STATE = re.compile(r"[A-Z]{2}")
_CBSA = re.compile(PATTERNS["cbsa"])
_WAGE_INDEX = re.compile(PATTERNS["wage_index"])
_BLANKS = " \t"


# -- splitting -------------------------------------------------------------------------------


def _decode(text: str, where: str) -> str:
    if "%" not in text and "+" not in text:
        return text
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{where} is not UTF-8 after percent-decoding", field=where) from exc


def split(raw: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of a raw query string, each part decoded on its own."""
    plain = "%" not in raw and "+" not in raw  # the common case: nothing to decode
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if not plain:
            name = _decode(name, "query")
            value = _decode(value, name if name.isascii() else "query")
        pairs.append((name, value))
    return pairs


def read(raw: str, allowed: frozenset[str]) -> dict[str, str]:
    """The parameters of a raw query: unknown and repeated names refused, blanks absent."""
    given: dict[str, str] = {}
    for name, value in split(raw):
        if name not in allowed:
            accepted = ", ".join(sorted(allowed)) or "none"
            raise BadRequest(
                f"unknown parameter {echo(name)}; accepted: {accepted}", field=_field(name)
            )
        if name in given:
            raise BadRequest(f"parameter {name!r} is given more than once", field=name)
        given[name] = value
    return {name: value for name, value in given.items() if value}


def _field(name: str) -> str:
    return name if len(name) <= 40 and name.isascii() and name.isprintable() else "query"


# -- field rules -----------------------------------------------------------------------------


def code(value: str | None, field: str = "code") -> str:
    if not value:
        raise BadRequest(f"parameter {field!r} is required (a 5-character HCPCS code)", field=field)
    upper = value.upper()
    if not (value.isascii() and _CODE.fullmatch(upper)):
        raise BadRequest(
            f"code {echo(value)} is not a HCPCS code: 5 letters or digits, e.g. 99213",
            field=field,
        )
    return upper


def zip_code(value: str) -> str:
    """``94110``, ``94110-1234`` or ``941101234`` -> ``94110`` or ``94110-1234``."""
    zip5, plus4 = parse_zip(_bounded(value, "zip"))
    return zip5 if plus4 is None else f"{zip5}-{plus4}"


def locality(value: str) -> str:
    carrier, number = parse_locality(_bounded(value, "locality"))
    return carrier + number


def setting(value: str) -> str:
    return setting_for(_ascii(value, "setting"), None)[0]


def pos(value: str) -> str:
    normalised = setting_for(None, _ascii(value, "pos"))[1]
    assert normalised is not None  # a pos was given, so setting_for names it
    return normalised


def modifier(value: str | None) -> str:
    """An MPFS modifier: blank, 26, TC or 53. Another well-formed modifier (``QW``) is
    another schedule's (422); anything else is not a modifier (400)."""
    if not value:
        return ""
    form = any_modifier(_bounded(value, "modifier"))
    if form not in SUPPORTED_MODIFIERS:
        raise Unprocessable(
            f"modifier {form} does not change an MPFS price: give blank, 26, TC or 53 "
            "(other schedules take other modifiers: schedule=clfs, dmepos, anesthesia)",
            field="modifier",
        )
    return normalise_modifier(form)


def date(value: str, field: str = "date") -> dt.date:
    text = value
    if text.isascii() and _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise BadRequest(f"{field} {echo(value)} is not a date: use YYYY-MM-DD", field=field)


def year(value: str) -> int:
    text = value
    if not (text.isascii() and _YEAR.fullmatch(text)):
        raise BadRequest(f"year {echo(value)} is not a 4-digit year", field="year")
    return int(text)


def release(value: str, field: str = "release") -> str:
    upper = value.upper()
    if not (value.isascii() and _RELEASE.fullmatch(upper)):
        raise BadRequest(
            f"release {echo(value)} is not a release or dataset id such as RVU25B or CLFS-2025Q1",
            field=field,
        )
    return upper


def units(value: str | None, most: int = MAX_UNITS, field: str = "units") -> int:
    if value is None:
        return 1
    text = value
    if not (text.isascii() and _DIGITS.fullmatch(text)) or not 1 <= int(text) <= most:
        raise BadRequest(
            f"{field} must be a whole number 1 to {most:,}; got {echo(value)}", field=field
        )
    return int(text)


def schedule(value: str) -> str:
    lower = value.lower()
    if not (value.isascii() and lower in SCHEDULES):
        raise BadRequest(
            f"schedule {echo(value)} is not one of {', '.join(SCHEDULES)}", field="schedule"
        )
    return lower


def any_modifier(value: str, field: str = "modifier") -> str:
    """A HCPCS modifier of any schedule: two letters or digits (``RR``, ``QW``, ``KL``)."""
    upper = value.upper()
    if not (value.isascii() and _MODIFIER.fullmatch(upper)):
        raise BadRequest(
            f"{field} {echo(value)} is not a modifier: 2 letters or digits, e.g. RR", field=field
        )
    return upper


def state(value: str) -> str:
    upper = value.upper()
    if not (value.isascii() and _STATE.fullmatch(upper)):
        raise BadRequest(f"state {echo(value)} is not a 2-letter state code", field="state")
    return upper


def cbsa(value: str) -> str:
    if not (value.isascii() and _CBSA.fullmatch(value)):
        raise BadRequest(
            f"cbsa {echo(value)} is not a CBSA: 5 digits (35614), or 2 for a state's rural area",
            field="cbsa",
        )
    return value


def wage_index(value: str) -> Decimal:
    """A wage index given directly: 0.0001 to 9.9999, at most 4 decimal places."""
    if not (value.isascii() and _WAGE_INDEX.fullmatch(value)):
        raise BadRequest(
            f"wage_index {echo(value)} is not a wage index: a number above 0 and below 10 "
            "with at most 4 decimal places, e.g. 1.2961",
            field="wage_index",
        )
    return Decimal(value)


def boolean(value: str, field: str) -> bool:
    lower = value.lower()
    if not value.isascii() or lower not in ("true", "false"):
        raise BadRequest(f"{field} must be true or false; got {echo(value)}", field=field)
    return lower == "true"


def _bounded(value: str, field: str) -> str:
    """Engine rules quote the value they refuse and forgive blanks around it: refuse blanks
    here (a value is exact; bulk lines strip theirs first) and cut a long value."""
    if value[:1].isspace() or value[-1:].isspace():
        raise BadRequest(f"{field} {echo(value)} has blanks around it", field=field)
    return value if len(value) <= 40 else value[:40] + "..."


def _ascii(value: str, field: str) -> str:
    """Refuse non-ASCII before case folding: a dotless i upper-cases to ASCII ``I``."""
    if not value.isascii():
        raise BadRequest(f"{field} {echo(value)} is not valid: ASCII letters and digits only",
                         field=field)  # fmt: skip
    return _bounded(value, field)


# -- typed requests --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selector:
    """Which release answers: pinned, in force on a date, or the latest of a year."""

    release_id: str | None = None
    on: dt.date | None = None
    year: int | None = None

    def pairs(self) -> list[tuple[str, str]]:
        found = [("date", self.on.isoformat() if self.on else None), ("release", self.release_id),
                 ("year", None if self.year is None else str(self.year))]  # fmt: skip
        return [(n, v) for n, v in found if v is not None]


@dataclass(frozen=True, slots=True)
class LocalityQuery:
    selector: Selector
    zip: str | None

    def canonical(self) -> str:
        return _join([*self.selector.pairs(), ("zip", self.zip)])


@dataclass(frozen=True, slots=True)
class CodeQuery:
    selector: Selector
    code: str

    def canonical(self) -> str:
        return _join([("code", self.code), *self.selector.pairs()])


@dataclass(frozen=True, slots=True)
class NoQuery:
    def canonical(self) -> str:
        return ""


def _join(pairs: list[tuple[str, str | None]]) -> str:
    return "&".join(f"{n}={v}" for n, v in sorted(pairs) if v is not None)


_LATEST = Selector()


def selector(given: Mapping[str, str | None]) -> Selector:
    on, year_, pinned = given.get("date"), given.get("year"), given.get("release")
    return Selector(
        release_id=release(pinned) if pinned else None,
        on=date(on) if on else None,
        year=year(year_) if year_ else None,
    )


def price_fields(given: Mapping[str, str | None]) -> PriceQuery:
    """A ``PriceQuery`` from named text fields (query parameters, a bulk line).

    Each field is checked on its own first (in the order of ``LINE_FIELDS``), then how
    they combine (zip or locality, setting and place of service agreeing)."""
    code_ = code(given.get("code"))
    zip_text, locality_text = given.get("zip"), given.get("locality")
    zip_ = zip_code(zip_text) if zip_text else None
    locality_ = locality(locality_text) if locality_text else None
    modifier_ = modifier(given.get("modifier"))
    chosen = selector(given) if SELECTOR_PARAMS & given.keys() else _LATEST
    setting_text, pos_text = given.get("setting"), given.get("pos")
    # One call checks the place of service, then the setting, then whether they agree
    # (engine.mpfs.setting_for): the last of the single-value checks, the first combination.
    resolved, normalised_pos = setting_for(
        _ascii(setting_text, "setting") if setting_text else None,
        _ascii(pos_text, "pos") if pos_text else None,
    )
    if zip_ and locality_:
        raise Unprocessable("give zip or locality, not both", field="locality")
    if not zip_ and not locality_:
        raise Unprocessable("zip or locality is required", field="zip")
    return PriceQuery(
        code=code_,
        zip=zip_,
        locality=locality_,
        setting=resolved,
        pos=normalised_pos,
        modifier=modifier_,
        on=chosen.on,
        year=chosen.year,
        release_id=chosen.release_id,
    )


def price_canonical(query: PriceQuery) -> str:
    """Names in alphabetical order; absent fields left out (the hot path: no sorting)."""
    out = "code=" + query.code
    if query.on is not None:
        out += "&date=" + query.on.isoformat()
    if query.locality is not None:
        out += "&locality=" + query.locality
    if query.modifier:
        out += "&modifier=" + query.modifier
    if query.pos is not None:
        out += "&pos=" + query.pos
    if query.release_id is not None:
        out += "&release=" + query.release_id
    out += "&setting=" + query.setting if query.setting else ""
    if query.year is not None:
        out += "&year=" + str(query.year)
    if query.zip is not None:
        out += "&zip=" + query.zip
    return out


def canonical(typed: Any) -> str:
    """The canonical query string of any typed query of this module."""
    if isinstance(typed, PriceQuery):
        return price_canonical(typed)
    if isinstance(typed, ScheduleRequest):
        return schedule_canonical(typed)
    if isinstance(typed, SitesRequest):
        return sites_canonical(typed)
    text: str = typed.canonical()
    return text


# -- the query of each read endpoint ---------------------------------------------------------


def price_query(raw: str, _arg: str = "") -> PriceQuery | ScheduleRequest:
    """``GET /codes/price``: an MPFS ``PriceQuery`` (no ``schedule``, or ``mpfs``) or a
    ``ScheduleRequest`` for the other schedules."""
    plain = _plain_price(raw)
    if plain is not None:
        return plain
    given = read(raw, ALL_PRICE_PARAMS)
    return any_price_fields(given)


def _plain_code(value: str) -> str | None:
    return value.upper() if len(value) == 5 and value.isascii() and value.isalnum() else None


def _plain_zip(value: str) -> str | None:
    return value if len(value) == 5 and value.isascii() and value.isdigit() else None


def _plain_locality(value: str) -> str | None:
    return value if len(value) == 7 and value.isascii() and value.isdigit() else None


def _plain_date(value: str) -> dt.date | None:
    if len(value) != 10 or not value.isascii() or not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _plain_year(value: str) -> int | None:
    return int(value) if len(value) == 4 and value.isascii() and value.isdigit() else None


# Each parameter the plain parser takes, and its value in normal form (None: not plain).
_PLAIN: dict[str, Any] = {
    "code": _plain_code,
    "zip": _plain_zip,
    "setting": {"office": "office", "facility": "facility"}.get,
    "date": _plain_date,
    "year": _plain_year,
    "pos": PLACES.get,  # (normalised pos, its setting)
    "modifier": {"26": "26", "TC": "TC", "53": "53"}.get,
    "locality": _plain_locality,
}


def _plain_price(raw: str) -> PriceQuery | None:
    """The ``PriceQuery`` of the common MPFS query in one pass, or None: then the rules above
    decide (and refuse). The hot path of issue 14.

    Taken only when nothing needs them: no percent-encoding, each of ``code``, ``zip`` (5
    digits), ``locality``, ``setting`` (lower case), ``pos``, ``modifier`` (26, TC, 53),
    ``date`` and ``year`` at most once, each value already in its normal form, and the
    combination valid. The answer is then the one ``read`` and ``price_fields`` give
    (``tests/unit/test_plain_price.py`` holds the two to that over valid, odd and hostile
    queries)."""
    if "%" in raw or "+" in raw:
        return None
    got: dict[str, Any] = {}
    for part in raw.split("&"):
        name, _, value = part.partition("=")
        rule = _PLAIN.get(name)
        if rule is None or name in got:
            return None
        normal = rule(value)
        if normal is None:
            return None
        got[name] = normal
    return _plain_query(got)


def _plain_query(got: dict[str, Any]) -> PriceQuery | None:
    code_, zip_, locality_ = got.get("code"), got.get("zip"), got.get("locality")
    if code_ is None or (zip_ is None) == (locality_ is None) or ("date" in got and "year" in got):
        return None
    setting_, place, pos_ = got.get("setting"), got.get("pos"), None
    if place is not None:
        pos_, at = place
        if setting_ is None:
            setting_ = at
        elif setting_ != at:
            return None
    return PriceQuery(
        code_,
        zip_,
        locality_,
        setting_ or "office",
        pos_,
        got.get("modifier", ""),
        got.get("date"),
        got.get("year"),
    )


def any_price_fields(given: Mapping[str, str | None]) -> PriceQuery | ScheduleRequest:
    """The typed request of named text fields under any schedule (query, bulk line)."""
    named = given.get("schedule")
    chosen = schedule(named) if named else "mpfs"
    if not given.keys() <= _ACCEPTED[chosen]:  # the hot path: one set comparison
        refuse_foreign(chosen, [name for name, value in given.items() if value is not None])
    if chosen == "mpfs":
        return price_fields(given)
    return schedule_fields(chosen, given)


def refuse_foreign(chosen: str, names: Iterable[str]) -> None:
    """422 naming the first of ``names`` that schedule ``chosen`` does not take."""
    accepted = SCHEDULE_PARAMS[chosen]
    for name in names:
        if name not in accepted and name != "schedule":
            takes = ", ".join(sorted(accepted))
            raise Unprocessable(
                f"{name} does not apply to schedule {chosen}; it takes {takes}", field=name
            )


def _modifiers(given: Mapping[str, str | None]) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("modifier", "modifier2", "modifier3"):
        value = given.get(name)
        if value:
            if len(found) < ("modifier", "modifier2", "modifier3").index(name):
                raise Unprocessable(f"{name} is given without the modifier before it", field=name)
            found.append(any_modifier(value, name))
    return tuple(found)


def schedule_fields(chosen: str, given: Mapping[str, str | None]) -> ScheduleRequest:
    """A ``ScheduleRequest``: each field checked on its own, then how they combine."""
    code_ = code(given.get("code"))
    modifiers = _modifiers(given)
    picked = selector(given) if SELECTOR_PARAMS & given.keys() else _LATEST
    zip_text, locality_text, state_text = (
        given.get("zip"),
        given.get("locality"),
        given.get("state"),
    )
    zip_ = zip_code(zip_text) if zip_text else None
    locality_ = locality(locality_text) if locality_text else None
    state_ = state(state_text) if state_text else None
    rural_text, units_text, minutes_text = (
        given.get("rural"),
        given.get("units"),
        given.get("minutes"),
    )
    rural = boolean(rural_text, "rural") if rural_text else None
    units_ = units(units_text, MAX_DRUG_UNITS) if units_text else None
    minutes = units(minutes_text, MAX_MINUTES, "minutes") if minutes_text else None
    cbsa_, wage = _wage(given)
    _combine(chosen, zip_, locality_ or state_, minutes)
    return ScheduleRequest(
        schedule=chosen, code=code_, modifiers=modifiers, on=picked.on, year=picked.year,
        release_id=picked.release_id, zip=zip_, locality=locality_, state=state_, rural=rural,
        units=units_ if chosen != "asp" else (units_ or 1), minutes=minutes, cbsa=cbsa_,
        wage_index=wage,
    )  # fmt: skip


def _wage(given: Mapping[str, str | None]) -> tuple[str | None, Decimal | None]:
    """``cbsa`` or ``wage_index`` (OPPS, ASC, sites): at most one of them."""
    cbsa_text, wage_text = given.get("cbsa"), given.get("wage_index")
    cbsa_ = cbsa(cbsa_text) if cbsa_text else None
    wage = wage_index(wage_text) if wage_text else None
    if cbsa_ and wage is not None:
        raise Unprocessable("give cbsa or wage_index, not both", field="wage_index")
    return cbsa_, wage


def wage_text(value: Decimal | None) -> str | None:
    """The canonical form of a wage index: 1.2000 and 1.2 are one value, ``1.2``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _combine(chosen: str, zip_: str | None, other_place: str | None, minutes: int | None) -> None:
    """Which schedules need a place, and of which kind (a schema cannot say it: 422)."""
    if chosen in ("dmepos", "anesthesia"):
        other = "state" if chosen == "dmepos" else "locality"
        if zip_ and other_place:
            raise Unprocessable(f"give zip or {other}, not both", field=other)
        if not zip_ and not other_place:
            raise Unprocessable(f"zip or {other} is required for schedule {chosen}", field="zip")
    if chosen == "anesthesia" and minutes is None:
        raise Unprocessable("minutes is required for schedule anesthesia", field="minutes")


def schedule_canonical(query: ScheduleRequest) -> str:
    """Names in alphabetical order, absent fields left out; modifiers by position."""
    mods = [("modifier", "modifier2", "modifier3")[n] for n in range(len(query.modifiers))]
    pairs: list[tuple[str, str | None]] = [
        ("schedule", query.schedule),
        ("code", query.code),
        *zip(mods, query.modifiers, strict=True),
        *Selector(query.release_id, query.on, query.year).pairs(),
        ("zip", query.zip),
        ("locality", query.locality),
        ("state", query.state),
        ("rural", None if query.rural is None else str(query.rural).lower()),
        ("units", None if query.units is None else str(query.units)),
        ("minutes", None if query.minutes is None else str(query.minutes)),
        ("cbsa", query.cbsa),
        ("wage_index", wage_text(query.wage_index)),
    ]
    return _join(pairs)


def locality_query(raw: str, _arg: str = "") -> LocalityQuery:
    """``GET /reference/localities``."""
    given = read(raw, LOCALITY_PARAMS)
    zip_text = given.get("zip")
    return LocalityQuery(selector(given), zip_code(zip_text) if zip_text else None)


def code_query(raw: str, arg: str) -> CodeQuery:
    """``GET /reference/codes/{code}``: the code is the path's last segment."""
    return CodeQuery(selector(read(raw, SELECTOR_PARAMS)), code(_decode(arg, "code")))


def sites_query(raw: str, arg: str) -> SitesRequest:
    """``GET /codes/{code}/sites``: the code is the path's segment before ``/sites``."""
    given = read(raw, SITES_PARAMS)
    return sites_fields(code(_decode(arg, "code")), given)


def sites_fields(code_: str, given: Mapping[str, str | None]) -> SitesRequest:
    """A ``SitesRequest`` from named text fields (query parameters, a plan's fields)."""
    picked = selector(given) if SELECTOR_PARAMS & given.keys() else _LATEST
    zip_text, locality_text = given.get("zip"), given.get("locality")
    zip_ = zip_code(zip_text) if zip_text else None
    locality_ = locality(locality_text) if locality_text else None
    cbsa_, wage = _wage(given)
    if zip_ and locality_:
        raise Unprocessable("give zip or locality, not both", field="locality")
    if not zip_ and not locality_:
        raise Unprocessable(
            "zip or locality is required: it places the professional fee", field="zip"
        )
    return SitesRequest(code_, zip_, locality_, picked.on, picked.year, cbsa_, wage)


def sites_canonical(query: SitesRequest) -> str:
    pairs: list[tuple[str, str | None]] = [
        ("code", query.code),
        ("zip", query.zip),
        ("locality", query.locality),
        ("date", query.on.isoformat() if query.on else None),
        ("year", None if query.year is None else str(query.year)),
        ("cbsa", query.cbsa),
        ("wage_index", wage_text(query.wage_index)),
    ]
    return _join(pairs)


# -- the look-up page's endpoints (engine/lookup.py) ---------------------------------------

PRICES_PARAMS = frozenset({"zip", "locality", "setting", "date", "year", "minutes"}) | WAGE_PARAMS
AREAS_PARAMS = SELECTOR_PARAMS | {"schedule", "setting", "modifier", "modifier2", "modifier3"}
_AREA_ONLY = {"mpfs": frozenset({"modifier2", "modifier3"}), "dmepos": frozenset({"setting"})}


@dataclass(frozen=True, slots=True)
class CodePricesQuery:
    """``GET /codes/{code}/prices``: the code under every schedule at one place."""

    request: PricesRequest

    def canonical(self) -> str:
        asked = self.request
        pairs: list[tuple[str, str | None]] = [
            ("code", asked.code),
            ("zip", asked.zip),
            ("locality", asked.locality),
            ("setting", asked.setting),
            ("date", asked.on.isoformat() if asked.on else None),
            ("year", None if asked.year is None else str(asked.year)),
            ("minutes", None if asked.minutes is None else str(asked.minutes)),
            ("cbsa", asked.cbsa),
            ("wage_index", wage_text(asked.wage_index)),
        ]
        return _join(pairs)


@dataclass(frozen=True, slots=True)
class CodeAreasQuery:
    """``GET /codes/{code}/localities``: the code at every locality (or DMEPOS state)."""

    request: AreasRequest
    selector: Selector

    def canonical(self) -> str:
        asked = self.request
        mods = [("modifier", "modifier2", "modifier3")[n] for n in range(len(asked.modifiers))]
        pairs: list[tuple[str, str | None]] = [
            ("code", asked.code),
            ("schedule", asked.schedule),
            ("setting", asked.setting),
            *zip(mods, asked.modifiers, strict=True),
            *self.selector.pairs(),
        ]
        return _join(pairs)


def prices_query(raw: str, arg: str) -> CodePricesQuery:
    """``GET /codes/{code}/prices``: the code is the path's segment before ``/prices``."""
    given = read(raw, PRICES_PARAMS)
    code_ = code(_decode(arg, "code"))
    picked = selector(given) if SELECTOR_PARAMS & given.keys() else _LATEST
    zip_text, locality_text = given.get("zip"), given.get("locality")
    zip_ = zip_code(zip_text) if zip_text else None
    locality_ = locality(locality_text) if locality_text else None
    setting_text, minutes_text = given.get("setting"), given.get("minutes")
    setting_ = setting(setting_text) if setting_text else "office"
    minutes = units(minutes_text, MAX_MINUTES, "minutes") if minutes_text else None
    cbsa_, wage = _wage(given)
    if zip_ and locality_:
        raise Unprocessable("give zip or locality, not both", field="locality")
    if not zip_ and not locality_:
        raise Unprocessable("zip or locality is required", field="zip")
    request = PricesRequest(code_, zip_, locality_, setting_, picked.on, picked.year, minutes,
                            cbsa_, wage)  # fmt: skip
    return CodePricesQuery(request)


def areas_query(raw: str, arg: str) -> CodeAreasQuery:
    """``GET /codes/{code}/localities``: ``schedule`` mpfs (every locality, the default) or
    dmepos (every state); mpfs takes ``setting`` and one MPFS modifier, dmepos up to three."""
    given = read(raw, AREAS_PARAMS)
    code_ = code(_decode(arg, "code"))
    named = given.get("schedule")
    chosen = schedule(named) if named else "mpfs"
    if chosen not in AREA_SCHEDULES:
        raise Unprocessable(
            f"schedule {chosen} has no prices by place: give mpfs (every locality) or dmepos "
            "(every state)",
            field="schedule",
        )
    foreign = sorted(_AREA_ONLY[chosen] & given.keys())
    if foreign:
        raise Unprocessable(f"{foreign[0]} does not apply to schedule {chosen}", field=foreign[0])
    picked = selector(given)
    setting_text = given.get("setting")
    if chosen == "mpfs":
        found = modifier(given.get("modifier"))
        mods: tuple[str, ...] = (found,) if found else ()
        setting_ = setting(setting_text) if setting_text else "office"
    else:
        mods, setting_ = _modifiers(given), None
    request = AreasRequest(code_, chosen, setting_, mods, picked.on, picked.year,
                           picked.release_id)  # fmt: skip
    return CodeAreasQuery(request, picked)


def no_query(raw: str, _arg: str = "") -> NoQuery:
    """Endpoints without parameters (``/releases``, ``/health``, ``/ready``)."""
    read(raw, NO_PARAMS)
    return NoQuery()


# -- bulk lines ------------------------------------------------------------------------------

LINE_FIELDS = ("code", "zip", "locality", "modifier", "setting", "pos", "date", "year",
               "release", "units", "schedule", "modifier2", "modifier3", "state", "rural",
               "minutes", "cbsa", "wage_index")  # fmt: skip
LINE_FIELD_SET = frozenset(LINE_FIELDS)
_WHOLE = ("year", "units", "minutes")


def _line_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip(_BLANKS) or None
    if isinstance(value, bool):
        if name == "rural":
            return str(value).lower()
    elif isinstance(value, int) and name in _WHOLE:
        return str(value)
    kind = "a whole number or text" if name in _WHOLE else "text"
    kind = "true, false or text" if name == "rural" else kind
    raise BadRequest(f"{name} must be {kind}; got {type(value).__name__}", field=name)


def bulk_line(raw: Any) -> tuple[PriceQuery | ScheduleRequest, int]:
    """One bulk line (a JSON object or a CSV row) as an engine request and its units.

    ASP lines price their ``units`` (the payment limit is per dosage unit, so the amount is
    limit x units, rounded once): their multiplier is 1. Other lines multiply their amount
    by ``units`` (1-999)."""
    if not isinstance(raw, dict):
        raise BadRequest("a line must be an object of pricing parameters", field="line")
    for name in raw:
        if name not in LINE_FIELD_SET:
            accepted = ", ".join(LINE_FIELDS)
            raise BadRequest(
                f"unknown field {echo(name)}; accepted: {accepted}", field=_field(str(name))
            )
    given = {name: _line_text(name, value) for name, value in raw.items()}
    units_text = given.pop("units", None)
    request = any_price_fields(given | ({"units": units_text} if _drug(given) else {}))
    if isinstance(request, ScheduleRequest) and request.schedule == "asp":
        return request, 1
    return request, units(units_text)


def _drug(given: Mapping[str, str | None]) -> bool:
    named = given.get("schedule")
    return bool(named) and schedule(named or "") == "asp"


# -- saved plans: page queries and headers ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    after: int | None
    limit: int


def page_query(raw: str, decode_cursor: Any) -> Page:
    """``GET /plans``: ``cursor`` (from the last page) and ``limit`` (1-100, default 20)."""
    given = read(raw, LIST_PARAMS)
    limit_text = given.get("limit")
    limit = 20
    if limit_text is not None:
        if not (limit_text.isascii() and _DIGITS.fullmatch(limit_text)) or not (
            1 <= int(limit_text) <= MAX_PAGE
        ):
            raise BadRequest(
                f"limit must be a whole number 1 to {MAX_PAGE}; got {echo(limit_text)}",
                field="limit",
            )
        limit = int(limit_text)
    cursor = given.get("cursor")
    return Page(decode_cursor(cursor) if cursor else None, limit)


_TAG = re.compile(r'(?:W/)?"v([0-9]{1,40})"')


def if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` names; None for ``*``.

    Missing is 428; a value that is not ``*`` or one entity tag of this API (``"v3"``) is
    400. Whether the version is current is the store's answer (412)."""
    if value is None or not value.strip(_BLANKS):
        raise PreconditionRequired(
            "If-Match is required: send the ETag of the version you read", field="If-Match"
        )
    text = value.strip(_BLANKS)
    if text == "*":
        return None
    found = _TAG.fullmatch(text) if text.isascii() else None
    if found is None:
        raise BadRequest(
            f'If-Match {echo(value)} is not an ETag of this API, such as "v3"', field="If-Match"
        )
    return int(found[1])  # past the column's range: db/plans answers 412 with the current one


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= 255 or not value.isascii() or not value.isprintable():
        raise BadRequest(
            "Idempotency-Key must be 1-255 printable ASCII characters", field="Idempotency-Key"
        )
    return value


def text_field(value: str, field: str) -> str:
    """Free text from a body (plan names, providers, labels): no control characters."""
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        raise BadRequest(f"{field} must not contain control characters", field=field)
    return value
