"""``POST /codes/price/bulk``: up to 10,000 single-code prices in one request, JSON or CSV.

Contract:

- JSON in (``application/json``, exactly ``{"lines": [{...}, ...]}``: another top-level key
  is a 400 naming it) answers JSON; CSV in (``text/csv``, a header row naming each column
  once; rows end in LF, CRLF or a bare CR) answers CSV with the columns ``CSV_OUT`` and CRLF
  rows (RFC 4180). Any other content type, or none, is 415. Malformed CSV (bad quoting, a
  field over 131,072 characters) is a 400 with ``details.line``, the file line.
- A text cell of the CSV answer that starts with ``=``, ``+``, ``-``, ``@``, tab or CR (a
  caller's value echoed back) is prefixed with ``'`` so a spreadsheet shows it instead of
  running it (OWASP CSV injection); the numbers the service writes are left as they are.
- A line has the parameters of ``GET /codes/price`` (``code``, ``zip`` or ``locality``,
  ``modifier``, ``setting``, ``pos``, one of ``date``/``year``/``release``) and ``units``
  (default 1; ``total`` = amount x units). Each line is priced by ``engine.mpfs.price_code``
  exactly as the single-code endpoint prices it.
- A bad line gets its own error in the output (``error`` with the envelope's ``code``,
  ``message`` and ``details``, and ``input``: the line's fields as sent) and the rest of the
  batch is priced; ``line`` is the 0-based
  position of the line (of the data row, for CSV). Only a request that is not a batch at all
  (unreadable body, not a list, more than 10,000 lines, an unknown CSV column, another
  content type) is a 4xx for the whole request.
- Each answer names the releases that priced it with their sha256 (JSON: ``releases``; CSV:
  ``release`` and ``release_sha256`` on every row).
- Lines are priced one by one: no rule between lines applies (multiple procedure, RT/LT
  bilateral pairing, bundling, OPPS/ASC packaging and discounts); ``POST /plans/price``
  applies them. Every answer says so: JSON in its ``notes``; both formats in the
  ``Pricing-Note`` response header (``NOTE``). A CSV answer carries no comment row (RFC 4180
  has none, and a spreadsheet or ``csv`` reader would take it for a data row), so for CSV
  the header and the docs are where it is said.

Lines are priced in one of the worker's offload children (``service/offload.py``): a
10,000-line request is about 200 ms of CPU, which on the event loop held every other caller
of the worker for as long. The ``bulk`` admission budget is taken before the body is read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from cms_pricing.api import wire
from cms_pricing.api.access import Access
from cms_pricing.api.endpoints import BY_NAME
from cms_pricing.api.schemas import ErrorEnvelope
from cms_pricing.engine.mpfs import price_code
from cms_pricing.engine.quote import DatasetRef, Quote, ReleaseRef, ScheduleQuote, ScheduleRequest
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import (
    ECHO_LIMIT,
    BadRequest,
    PricingError,
    Unprocessable,
    UnsupportedMediaType,
    echo,
)
from cms_pricing.service import queries
from cms_pricing.service.offload import Offload
from cms_pricing.service.state import Loaded

MAX_LINES = 10_000
MAX_UNITS = queries.MAX_UNITS
FIELDS = queries.LINE_FIELDS
FIELD_SET = queries.LINE_FIELD_SET
CSV_OUT = ("line", "code", "modifier", "zip", "carrier_locality", "setting", "pos", "status",
           "payable", "units", "amount", "non_participating", "limiting_charge", "total",
           "release", "release_sha256", "error_code", "error_field", "error_message",
           "schedule")  # fmt: skip
# Said by every answer (JSON ``notes``; the ``Pricing-Note`` header on JSON and CSV). ASCII:
# it is also a header value.
NOTE = (
    "Each line is priced on its own, as GET /codes/price prices it: no rule between lines "
    "is applied (no multiple procedure reduction, no bilateral pairing of RT/LT lines, no "
    "bundling of status T lines or of visits into a global surgery package, no OPPS/ASC "
    "packaging or discount). Send the lines as one plan to POST /plans/price to apply them."
)
NOTE_HEADER = "Pricing-Note"


class BulkLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    zip: str | None = None
    locality: str | None = None
    modifier: str | None = None
    setting: str | None = None
    pos: str | None = None
    date: str | None = None
    year: int | Annotated[str, Field(pattern=r"^ *[0-9]{4} *$")] | None = None
    release: str | None = None
    units: (
        Annotated[int, Field(ge=1, le=queries.MAX_DRUG_UNITS)]
        | Annotated[str, Field(pattern=r"^ *[1-9][0-9]{0,4} *$")]
    ) = 1
    schedule: str | None = None
    modifier2: str | None = None
    modifier3: str | None = None
    state: str | None = None
    rural: bool | str | None = None
    minutes: int | str | None = None
    cbsa: str | None = None
    wage_index: str | None = None  # text: a JSON number is not an exact wage index


class BulkIn(BaseModel):
    """Up to 10,000 lines; each is priced on its own."""

    lines: list[BulkLineIn] = Field(max_length=MAX_LINES)


JSON_EXAMPLE = {
    "lines": [
        {"code": "99213", "zip": "10001", "date": "2025-11-03"},
        {"code": "70551", "modifier": "26", "locality": "0111205", "setting": "facility"},
        {"code": "97110", "zip": "94110", "units": 3},
        {"code": "ABCDE", "zip": "10001"},
    ]
}
CSV_EXAMPLE = (
    "code,zip,locality,modifier,setting,date,units\n"
    "99213,10001,,,office,2025-11-03,1\n"
    "70551,,0111205,26,facility,,1\n"
    "97110,94110,,,,,3\n"
)
# The body schemas, inlined (no $ref). Each line is priced or refused on its own, so a line
# of any shape is accepted in a batch (a bad one gets its own error); the batch itself is
# refused when it is not {"lines": [1 to 10,000 items]}.
LINE_SCHEMA = BulkLineIn.model_json_schema()
BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "BulkIn",
    "description": BulkIn.__doc__,
    "properties": {
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_LINES,
            "items": {
                "anyOf": [LINE_SCHEMA, {}],
                "description": "the fields of GET /codes/price and units; any other line "
                "is answered with its own error",
            },
        }
    },
    "required": ["lines"],
    "additionalProperties": False,
}
_NAME = r"[ \t]*(" + "|".join(FIELDS) + r")[ \t]*"
_END = r"(\r\n|\r|\n)"
_ROW = r'[^"\r\n]'  # no quoting in the documented form (quoted fields are accepted too)
CSV_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "a header row naming columns among the line fields, then 1 to 10,000 rows",
    "pattern": "^\ufeff?" + f"{_NAME}(,{_NAME})*{_END}" + _ROW + f"+({_END}" + _ROW + "*)*$",
}
OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": BODY_SCHEMA,
                "example": JSON_EXAMPLE,
            },
            "text/csv": {"schema": CSV_SCHEMA, "example": CSV_EXAMPLE},
        },
    },
}


Priced = Quote | ScheduleQuote


def price_line(snapshot: Snapshot, raw: Any) -> tuple[Priced, int] | PricingError:
    try:
        query, units = queries.bulk_line(raw)
        if isinstance(query, ScheduleRequest):
            return price_schedule(snapshot, query), units
        return price_code(snapshot, query), units
    except PricingError as exc:
        return exc


def _money(name: str, value: Any) -> dict[str, Any]:
    return {name: wire.money(value), f"{name}_cents": wire.cents(value)}


def _schedule_json(index: int, quote: ScheduleQuote, units: int) -> dict[str, Any]:
    """A line of another schedule: the MPFS line's fields, those it lacks null."""
    geo = dict(quote.geography or ())
    total = None if quote.amount is None else quote.amount * units
    drug_units = dict(quote.components).get("units") if quote.schedule == "asp" else None
    return {
        "line": index,
        "schedule": quote.schedule,
        "code": quote.code,
        "modifier": "-".join(quote.modifiers),
        "zip": geo.get("zip"),
        "carrier_locality": geo.get("carrier_locality"),
        "setting": None,
        "pos": None,
        "status": None,
        "payable": quote.payable,
        "units": drug_units or units,
        **_money("amount", quote.amount),
        **_money("non_participating", None),
        **_money("limiting_charge", None),
        **_money("total", total),
        "release": quote.dataset.dataset_id,
        "notes": [quote.reason, *quote.notes] if quote.reason else list(quote.notes),
    }


def _ok_json(index: int, quote: Quote, units: int) -> dict[str, Any]:
    geo = quote.geography
    total = None if quote.amount is None else quote.amount * units
    return {
        "line": index,
        "schedule": "mpfs",
        "code": quote.code,
        "modifier": quote.modifier,
        "zip": geo.zip,
        "carrier_locality": geo.carrier + geo.locality,
        "setting": quote.setting,
        "pos": quote.pos,
        "status": quote.status,
        "payable": quote.payable,
        "units": units,
        **_money("amount", quote.amount),
        **_money("non_participating", quote.non_participating),
        **_money("limiting_charge", quote.limiting_charge),
        **_money("total", total),
        "release": quote.release.release_id,
        "notes": list(quote.notes),
    }


def _error_json(index: int, exc: PricingError, raw: Any) -> dict[str, Any]:
    """The line's error, and the line as sent (its text fields) so a caller can find it."""
    sent = raw if isinstance(raw, dict) else {}
    echo = {k: v for k, v in sent.items() if k in FIELD_SET and isinstance(v, str | int)}
    return {"line": index, "input": echo, "error": {"code": exc.code, "message": exc.message,
                                                    "details": exc.details}}  # fmt: skip


def price_json(snapshot: Snapshot, lines: list[Any]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    releases: dict[str, ReleaseRef | DatasetRef] = {}
    for index, raw in enumerate(lines):
        outcome = price_line(snapshot, raw)
        if isinstance(outcome, PricingError):
            results.append(_error_json(index, outcome, raw))
            continue
        quote, units = outcome
        if isinstance(quote, ScheduleQuote):
            releases[quote.dataset.dataset_id] = quote.dataset
            results.append(_schedule_json(index, quote, units))
            continue
        releases[quote.release.release_id] = quote.release
        results.append(_ok_json(index, quote, units))
    errors = sum(1 for r in results if "error" in r)
    return {
        "count": len(results),
        "priced": len(results) - errors,
        "errors": errors,
        "releases": {rid: _ref_json(ref) for rid, ref in releases.items()},
        "notes": [NOTE],
        "results": results,
    }


def _ref_json(ref: ReleaseRef | DatasetRef) -> dict[str, Any]:
    if isinstance(ref, DatasetRef):
        return wire.dataset_json(ref)
    return wire.release_json(ref) | {"schedule": "mpfs"}


def _json_lines(body: bytes) -> list[Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc}", field="body") from exc
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise BadRequest('the body must be {"lines": [...]}', field="lines")
    extra = next((key for key in data if key != "lines"), None)
    if extra is not None:
        raise BadRequest(f'unknown field {echo(extra)}; the body is {{"lines": [...]}}',
                         field=extra[:ECHO_LIMIT])  # fmt: skip
    return _bounded(lines)


def _bounded(lines: list[Any]) -> list[Any]:
    if not lines:
        raise BadRequest("the batch has no lines", field="lines")
    if len(lines) > MAX_LINES:
        raise BadRequest(f"at most {MAX_LINES} lines per request; got {len(lines)}",
                         field="lines")  # fmt: skip
    return lines


def _csv_lines(body: bytes) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("the CSV is not UTF-8", field="body") from exc
    # newline="": CR, LF and CRLF all end a row (old Excel for Mac writes bare CR), and a
    # quoted field keeps its own line breaks as sent. strict: bad quoting is an error.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        reader.fieldnames = _csv_header(reader.fieldnames)
        rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        line = reader.reader.line_num  # DictReader's own count lags on the failing row
        raise BadRequest(f"the CSV is malformed at line {line}: {exc}", field="body",
                         line=line) from exc  # fmt: skip
    return _bounded(rows)


def _csv_header(names: Sequence[str] | None) -> list[str]:
    """The header's column names; unknown, missing or repeated ones are a 400 on ``header``."""
    header = [name.strip(" \t") for name in names or []]
    unknown = [echo(name) for name in header if name not in FIELD_SET]
    if not header or unknown:
        raise BadRequest(
            f"the CSV header must name columns among {', '.join(FIELDS)}; "
            f"unknown: {', '.join(unknown[:5]) or '(no header)'}",
            field="header",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:  # well-formed CSV whose columns contradict each other: 422
        raise Unprocessable(f"the CSV header names {', '.join(map(repr, repeated))} more than "
                         "once", field="header")  # fmt: skip
    return header


def _csv_row(result: dict[str, Any], refs: dict[str, Any]) -> list[Any]:
    if "error" in result:
        error, sent = result["error"], result["input"]
        field = error["details"].get("field", "")
        echo = [sent.get(name, "") for name in ("code", "modifier", "zip")]
        schedule = sent.get("schedule") or "mpfs"
        return [result["line"], *echo, *[""] * 12, error["code"], field, error["message"],
                schedule]  # fmt: skip
    release = result["release"]
    cells = [_cell(result[name]) for name in CSV_OUT[:14]]
    return [*cells, release, refs[release]["sha256"], "", "", "", result["schedule"]]


def _cell(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, quoted (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_body(answer: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a CR or LF in a cell is quoted
    writer.writerow(CSV_OUT)
    for result in answer["results"]:
        writer.writerow([_safe(cell) for cell in _csv_row(result, answer["releases"])])
    return out.getvalue().encode()


def bulk_reply(loaded: Loaded, content_type: str, body: bytes) -> tuple[bytes, str, int]:
    """The answer's body and media type, and how many lines it priced: the task
    ``price_bulk`` sends to an offload child."""
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "application/json":
        lines = _json_lines(body)
        payload = price_json(loaded.snapshot, lines)
        return wire.dumps(payload), "application/json", len(lines)
    if kind == "text/csv":
        rows = _csv_lines(body)
        payload = price_json(loaded.snapshot, rows)
        return csv_body(payload), "text/csv; charset=utf-8", len(rows)
    raise UnsupportedMediaType(
        f"content type {echo(kind) if kind else '(none)'}: send application/json or text/csv",
        field="content-type",
    )


def bulk_router(offload: Offload, access: Access) -> APIRouter:
    router = APIRouter()

    endpoint = BY_NAME["bulk"]

    @router.post(
        endpoint.path,
        tags=list(endpoint.tags),
        openapi_extra=OPENAPI,
        summary=endpoint.summary,
        responses={
            200: {
                "content": {"text/csv": {"example": "line,code,..."}},
                "headers": {NOTE_HEADER: {
                    "description": "Lines are priced one by one, with no rule between them "
                    "(the same text as the JSON answer's notes)",
                    "schema": {"type": "string"},
                }},
            },
            400: {"model": ErrorEnvelope,
                  "description": "Not a batch (bad body, too many lines, unknown CSV column)"},
            413: {"model": ErrorEnvelope, "description": "The body is over its size limit"},
            422: {"model": ErrorEnvelope, "description": "A CSV header naming a column twice"},
            415: {"model": ErrorEnvelope, "description": "Neither application/json nor text/csv"},
            503: {"model": ErrorEnvelope,
                  "description": "No release loaded, or this worker's bulk budget is full"},
        },
    )  # fmt: skip
    async def price_bulk(request: Request) -> Response:
        # The bulk budget was taken before the body was read (api/boundary.py).
        body = await request.body()
        done = await offload.run(bulk_reply, request.headers.get("content-type", ""), body)
        payload, media_type, lines = done.value
        # One line was taken from the caller's bulk limit at admission; the rest now.
        access.charge(request.scope, "bulk", lines - 1)
        return Response(payload, media_type=media_type, headers={NOTE_HEADER: NOTE})

    return router
