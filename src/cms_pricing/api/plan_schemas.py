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

from cms_pricing.engine.adjustments import MODIFIERS
from cms_pricing.engine.plans import MAX_LINES, MAX_UNITS, Plan, PlanLine
from cms_pricing.errors import PricingError
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
MODIFIER = f"^({queries.any_case(*sorted(MODIFIERS))})$"
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
DateText = Annotated[dt.date | None, _rule(queries.date)]
Money = Annotated[Decimal | None, BeforeValidator(_money), WithJsonSchema(MONEY_SCHEMA)]
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
    modifiers: list[Modifier] = Field(
        default_factory=list,
        max_length=4,
        json_schema_extra={"uniqueItems": True},
        description="26/TC/53, 50, 51, 54/55/56, 62, 66, 80/81/82/AS, informational RT/LT/59...",
    )
    units: int = Field(default=1, ge=1, le=MAX_UNITS)
    setting: SettingText = Field(default=None, description="office or facility (line's own)")
    pos: PosText = Field(default=None, description="place of service (line's own)")
    provider: _text("provider", 64) = Field(  # type: ignore[valid-type]
        default="",
        max_length=64,
        description="who bills the line; multiple procedure rules rank one provider's lines",
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
    """The engine plan of a validated body, with codes and modifiers normalised."""
    return Plan(
        lines=tuple(
            PlanLine(
                code=line.code.upper(),
                modifiers=tuple(m.upper() for m in line.modifiers),
                units=line.units,
                setting=line.setting,
                pos=line.pos,
                provider=line.provider,
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
        "lines": [
            {
                "code": line.code,
                "modifiers": list(line.modifiers),
                "units": line.units,
                "setting": line.setting,
                "pos": line.pos,
                "provider": line.provider,
            }
            for line in plan.lines
        ],
    }


def content_sha256(plan: Plan) -> str:
    """A hash of the plan's normalised content: equal plans, equal hashes."""
    return hashlib.sha256(orjson.dumps(plan_json(plan), option=orjson.OPT_SORT_KEYS)).hexdigest()
