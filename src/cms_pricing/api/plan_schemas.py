"""Request models (with the examples ``/docs`` shows) and their engine counterparts for plans.

The models check shape (types, lengths, at most 200 lines) and each value with the same
field rules as every other request (``service.queries``: a date is ``YYYY-MM-DD`` only, a
ZIP, locality, setting and place of service are normalised, digits and letters are ASCII,
free text has no control characters, ``sequestration`` is a JSON boolean and nothing else);
whether a code exists or a modifier applies is the engine's answer. A shape error is the 400
envelope whose ``details.field`` names the place, e.g. ``lines.3.units``.
``extra="forbid"``: a misspelt field is an error, not a silent default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema

from cms_pricing.engine.plans import ALL_MODIFIERS, MAX_LINES, MAX_UNITS, MPFS, Plan, PlanLine
from cms_pricing.errors import PricingError, Unprocessable
from cms_pricing.service import queries

_MONEY = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")
MONEY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 9_999_999, "description": "whole dollars"},
        {"type": "string", "pattern": "^[0-9]{1,7}(\\.[0-9]{1,2})?$", "description": "dollars"},
        {"type": "null"},
    ],
    "description": "Part B deductible still to meet, at most the year's deductible "
    "(2025: $257); default: the whole deductible",
}
FREE_TEXT = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"  # no control characters
MODIFIER = f"^({queries.any_case(*sorted(ALL_MODIFIERS))})$"
# One of zip and locality: both or neither is 422 (the engine's answer).
WHERE: Any = [
    {"required": ["zip"], "properties": {"zip": {"not": {"type": "null"}}}},
    {"required": ["locality"], "properties": {"locality": {"not": {"type": "null"}}}},
]


def _rule(rule: Callable[[str], Any]) -> BeforeValidator:
    """A field rule of ``service.queries`` as a pydantic validator (its message kept)."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        try:
            return rule(value)
        except PricingError as exc:
            raise ValueError(exc.message) from exc

    return BeforeValidator(check)


def _money(value: Any) -> Any:
    """Whole dollars as a JSON integer, or an ASCII decimal string with at most 2 decimals:
    money is exact, so a binary fraction (100.1 as a JSON number) is refused."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9_999_999:
        return Decimal(value)
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise ValueError('must be whole dollars or a string of dollars, e.g. "100.00"')
    return Decimal(value)


def _free_text(field: str) -> BeforeValidator:
    return _rule(lambda value: queries.text_field(value, field))


def _documented(pattern: str, nullable: bool = True) -> WithJsonSchema:
    text = {"type": "string", "pattern": pattern}
    return WithJsonSchema({"anyOf": [text, {"type": "null"}]} if nullable else text)


def _pattern(name: str) -> str:
    return f"^({queries.PATTERNS[name]})$"


Code = Annotated[str, _rule(queries.code), _documented(_pattern("code"), nullable=False)]
ZipCode = Annotated[str | None, _rule(queries.zip_code), _documented(_pattern("zip"))]
LocalityCode = Annotated[str | None, _rule(queries.locality), _documented(_pattern("locality"))]
SettingText = Annotated[str | None, _rule(queries.setting), _documented(_pattern("setting"))]
PosText = Annotated[str | None, _rule(queries.pos), _documented(_pattern("pos"))]
ReleaseId = Annotated[str | None, _rule(queries.release), _documented(_pattern("release"))]
ScheduleName = Annotated[
    str, _rule(queries.schedule), _documented(_pattern("schedule"), nullable=False)
]
StateCode = Annotated[str | None, _rule(queries.state), _documented(_pattern("state"))]
DateText = Annotated[dt.date | None, _rule(queries.date)]
Money = Annotated[Decimal | None, BeforeValidator(_money), WithJsonSchema(MONEY_SCHEMA)]
CbsaCode = Annotated[str | None, _rule(queries.cbsa), _documented(_pattern("cbsa"))]


def _wage_index(value: Any) -> Any:
    """A wage index as text ("1.2961"), as on the query string and bulk lines: a JSON
    number is refused, since a binary float is not an exact 4-place wage index."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('must be text, e.g. "1.2961"')
    try:
        return queries.wage_index(value)
    except PricingError as exc:
        raise ValueError(exc.message) from exc


WAGE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": _pattern("wage_index")},
        {"type": "null"},
    ]
}
WageIndex = Annotated[Decimal | None, BeforeValidator(_wage_index), WithJsonSchema(WAGE_SCHEMA)]
Modifier = Annotated[str, Field(pattern=MODIFIER)]


def _text(field: str, max_length: int, min_length: int = 0) -> Any:
    schema = {"type": "string", "pattern": FREE_TEXT, "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return Annotated[str, _free_text(field), WithJsonSchema(schema)]


LINE_EXAMPLE: dict[str, Any] = {"code": "27447", "modifiers": ["RT"], "units": 1, "pos": "21"}
PLAN_EXAMPLE: dict[str, Any] = {
    "zip": "10001",
    "date": "2025-11-03",
    "setting": "facility",
    "lines": [
        {"code": "27447", "modifiers": ["RT"]},
        {"code": "29881", "modifiers": ["51"]},
        {"code": "27447", "modifiers": ["80"], "provider": "assistant"},
        {"code": "73721", "modifiers": ["26"]},
        {"code": "97110", "units": 2, "setting": "office"},
    ],
    "deductible_remaining": "100.00",
    "sequestration": True,
}


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanLineIn(Shape):
    """One service of the plan."""

    model_config = ConfigDict(json_schema_extra={"examples": [LINE_EXAMPLE]})

    code: Code = Field(description="HCPCS code, e.g. 27447")
    schedule: ScheduleName = Field(
        default=MPFS,
        description="fee schedule of the line: mpfs (default), clfs, dmepos, asp, anesthesia, "
        "opps (hospital outpatient facility fee), asc (ambulatory surgical center fee)",
    )
    modifiers: list[Modifier] = Field(
        default_factory=list,
        max_length=4,
        json_schema_extra={"uniqueItems": True},
        description="MPFS: 26/TC/53, 50, 51, 54/55/56, 62, 66, 80/81/82/AS, informational "
        "RT/LT/59...; CLFS: QW; DMEPOS: up to three in billing order (RR, NU, KL...); "
        "anesthesia: one of AA, AD, QK, QX, QY, QZ",
    )
    units: int = Field(
        default=1,
        ge=1,
        le=queries.MAX_DRUG_UNITS,
        description=f"units of service, 1-{MAX_UNITS}; ASP: the drug's dosage units billed, "
        f"1-{queries.MAX_DRUG_UNITS:,} (the amount is the limit x units, rounded once)",
    )
    setting: SettingText = Field(default=None, description="office or facility (line's own)")
    pos: PosText = Field(default=None, description="place of service (line's own)")
    provider: _text("provider", 64) = Field(  # type: ignore[valid-type]
        default="",
        max_length=64,
        description="who bills the line; multiple procedure rules rank one provider's lines",
    )
    state: StateCode = Field(
        default=None, description="DMEPOS: the state priced instead of the plan ZIP's state"
    )
    rural: StrictBool | None = Field(
        default=None, description="DMEPOS: rural fee (default: the ZIP's rural status)"
    )
    minutes: int | None = Field(
        default=None,
        ge=1,
        le=queries.MAX_MINUTES,
        description="anesthesia: anesthesia time in minutes (required there)",
    )
    cbsa: CbsaCode = Field(
        default=None,
        description="OPPS/ASC: the facility's CBSA (5 digits, or 2 for a state's rural area), "
        "instead of the plan's",
    )
    wage_index: WageIndex = Field(
        default=None, description="OPPS/ASC: a wage index (4 places), instead of the plan's"
    )
    date: DateText = Field(
        default=None,
        description="the line's own date of service, YYYY-MM-DD (default: the plan's date); "
        "same-day rules compare lines of one date, global periods count from a procedure's",
    )


class PlanFields(Shape):
    """Everything of a plan but where it is priced."""

    date: DateText = Field(default=None, description="date of service, YYYY-MM-DD")
    release: ReleaseId = Field(default=None, description="pin a release, e.g. RVU25B")
    setting: SettingText = Field(default=None, description="office (default) or facility")
    pos: PosText = Field(default=None, description="place of service, e.g. 11, 21")
    deductible_remaining: Money = Field(
        default=None, description="Part B deductible still to meet (default: 2025's $257)"
    )
    sequestration: StrictBool = Field(default=False, description="apply the 2% sequestration")
    cbsa: CbsaCode = Field(
        default=None,
        description="OPPS/ASC lines: the facility's CBSA (5 digits, or 2 for a state's rural "
        "area) that wage-adjusts their payment; national without cbsa or wage_index",
    )
    wage_index: WageIndex = Field(
        default=None, description="OPPS/ASC lines: a wage index given directly (not with cbsa)"
    )
    lines: list[PlanLineIn] = Field(min_length=1, max_length=MAX_LINES)


class PlanIn(PlanFields):
    """A plan to price: a place, a date of service and up to 200 lines."""

    model_config = ConfigDict(json_schema_extra={"examples": [PLAN_EXAMPLE], "anyOf": WHERE})

    zip: ZipCode = Field(default=None, description="ZIP5 or ZIP+4")
    locality: LocalityCode = Field(default=None, description="carrier + locality, e.g. 1320201")


class SavedPlanIn(PlanIn):
    """A plan to save (create or replace)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "TKA episode, Manhattan", **PLAN_EXAMPLE}],
            "anyOf": WHERE,
        }
    )

    name: _text("name", 200, 1) = Field(min_length=1, max_length=200)  # type: ignore[valid-type]


class LocationIn(Shape):
    model_config = ConfigDict(json_schema_extra={"anyOf": WHERE})

    label: Annotated[
        str | None,
        _free_text("label"),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": FREE_TEXT, "maxLength": 64}, {"type": "null"}]}
        ),
    ] = Field(default=None, max_length=64)
    zip: ZipCode = None
    locality: LocalityCode = None


class CompareIn(PlanFields):
    """One plan at two to six places."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "locations": [
                        {"label": "Manhattan", "zip": "10001"},
                        {"label": "San Francisco", "zip": "94110"},
                        {"label": "Alabama", "locality": "1011200"},
                    ],
                    "date": "2025-11-03",
                    "setting": "facility",
                    "lines": PLAN_EXAMPLE["lines"],
                }
            ]
        }
    )

    locations: list[LocationIn] = Field(min_length=2, max_length=6)


def to_plan(body: PlanFields, zip: str | None, locality: str | None) -> Plan:
    """The engine plan of a validated body, with codes and modifiers normalised.

    Units above the MPFS's 999 are well-formed drug units that only an ASP line takes: on
    another line they are 422 naming ``lines.<n>.units`` (a schema cannot tie one field's
    range to another's value)."""
    for index, line in enumerate(body.lines):
        if line.units > MAX_UNITS and line.schedule != "asp":
            raise Unprocessable(
                f"line {index}: units above {MAX_UNITS} are drug units, which only an asp line "
                f"takes; a {line.schedule} line has 1 to {MAX_UNITS}",
                field=f"lines.{index}.units",
                line=index,
            )
    return Plan(
        lines=tuple(
            PlanLine(
                code=line.code.upper(),
                modifiers=tuple(m.upper() for m in line.modifiers),
                units=line.units,
                setting=line.setting,
                pos=line.pos,
                provider=line.provider,
                schedule=line.schedule,
                state=line.state,
                rural=line.rural,
                minutes=line.minutes,
                cbsa=line.cbsa,
                wage_index=line.wage_index,
                on=line.date,
            )
            for line in body.lines
        ),
        zip=zip,
        locality=locality,
        on=body.date,
        release_id=body.release,
        setting=body.setting,
        pos=body.pos,
        deductible_remaining=body.deductible_remaining,
        sequestration=body.sequestration,
        cbsa=body.cbsa,
        wage_index=body.wage_index,
    )


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as the API shows it (and as its content hash sees it)."""
    return {
        "zip": plan.zip,
        "locality": plan.locality,
        "date": plan.on.isoformat() if plan.on else None,
        "release": plan.release_id,
        "setting": plan.setting,
        "pos": plan.pos,
        "deductible_remaining": None
        if plan.deductible_remaining is None
        else str(plan.deductible_remaining),
        "sequestration": plan.sequestration,
        **_wage_json(plan.cbsa, plan.wage_index),
        "lines": [_line_json(line) for line in plan.lines],
    }


def _wage_json(cbsa: str | None, wage_index: Decimal | None) -> dict[str, Any]:
    """cbsa / wage_index only when given, so a plan without them keeps its content hash."""
    out: dict[str, Any] = {}
    if cbsa is not None:
        out["cbsa"] = cbsa
    if wage_index is not None:
        out["wage_index"] = queries.wage_text(wage_index)
    return out


def _line_json(line: PlanLine) -> dict[str, Any]:
    """A line as shown and hashed: the fields of other schedules only when given, so an
    MPFS line (and a plan saved before they existed) keeps its shape and content hash."""
    out: dict[str, Any] = {
        "code": line.code,
        "modifiers": list(line.modifiers),
        "units": line.units,
        "setting": line.setting,
        "pos": line.pos,
        "provider": line.provider,
    }
    if line.schedule != MPFS:
        out["schedule"] = line.schedule
    for name in ("state", "rural", "minutes"):
        value = getattr(line, name)
        if value is not None:
            out[name] = value
    out.update(_wage_json(line.cbsa, line.wage_index))
    if line.on is not None:
        out["date"] = line.on.isoformat()
    return out


def content_sha256(plan: Plan) -> str:
    """A hash of the plan's normalised content: equal plans, equal hashes."""
    return hashlib.sha256(orjson.dumps(plan_json(plan), option=orjson.OPT_SORT_KEYS)).hexdigest()


NEW_LINE_FIELDS = {"schedule": MPFS, "state": None, "rural": None, "minutes": None,
                   "cbsa": None, "wage_index": None, "date": None}  # fmt: skip
NEW_PLAN_FIELDS = ("cbsa", "wage_index")


def request_json(body: BaseModel) -> dict[str, Any]:
    """A request body as its idempotency hash sees it: the line fields of other schedules
    only when not their default, so a retry of a body sent before they existed (same
    Idempotency-Key) still matches its first answer."""
    data: dict[str, Any] = body.model_dump(mode="json")
    for name in NEW_PLAN_FIELDS:
        if data.get(name, 0) is None:
            del data[name]
    data["lines"] = [
        {k: v for k, v in line.items() if k not in NEW_LINE_FIELDS or v != NEW_LINE_FIELDS[k]}
        for line in data.get("lines", [])
    ]
    return data


SITES_BODY_EXAMPLE: dict[str, Any] = {
    "zip": "10001",
    "date": "2025-03-03",
    "cbsa": "35614",
    "lines": [{"code": "45378"}, {"code": "43239"}],
}


class SitesIn(PlanIn):
    """A plan of MPFS lines priced at each site of service (office, hospital outpatient,
    ASC): ``cbsa`` or ``wage_index`` adjusts the facility fees; the site sets the setting."""

    model_config = ConfigDict(json_schema_extra={"examples": [SITES_BODY_EXAMPLE], "anyOf": WHERE})
