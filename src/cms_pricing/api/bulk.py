"""``POST /codes/price/bulk``: up to 10,000 single-code prices in one request, JSON or CSV.

Contract:

- JSON in (``application/json``, ``{"lines": [{...}, ...]}``) answers JSON; CSV in
  (``text/csv``, a header row naming the columns) answers CSV with the columns ``CSV_OUT``.
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

Lines are priced in one of the worker's offload children (``service/offload.py``): a
10,000-line request is about 200 ms of CPU, which on the event loop held every other caller
of the worker for as long. The ``bulk`` admission budget is taken before the body is read.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from cms_pricing.api import params, wire
from cms_pricing.engine.mpfs import price_code
from cms_pricing.engine.quote import PriceQuery, Quote, ReleaseRef
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, PricingError, UnsupportedMediaType
from cms_pricing.service.offload import Offload
from cms_pricing.service.state import Loaded

MAX_LINES = 10_000
MAX_UNITS = 999
FIELDS = ("code", "zip", "locality", "modifier", "setting", "pos", "date", "year", "release",
          "units")  # fmt: skip
FIELD_SET = frozenset(FIELDS)
CSV_OUT = ("line", "code", "modifier", "zip", "carrier_locality", "setting", "pos", "status",
           "payable", "units", "amount", "non_participating", "limiting_charge", "total",
           "release", "release_sha256", "error_code", "error_field", "error_message")  # fmt: skip


class BulkLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    zip: str | None = None
    locality: str | None = None
    modifier: str | None = None
    setting: str | None = None
    pos: str | None = None
    date: str | None = None
    year: int | None = None
    release: str | None = None
    units: int = Field(default=1, ge=1, le=MAX_UNITS)


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
OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": BulkIn.model_json_schema(ref_template="#/components/schemas/{model}"),
                "example": JSON_EXAMPLE,
            },
            "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        },
    },
}


def _text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value.strip() if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadRequest(f"{name} must be text; got {type(value).__name__}", field=name)


def _units(value: str | None) -> int:
    if value is None:
        return 1
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_UNITS:
        raise BadRequest(f"units must be a whole number 1 to {MAX_UNITS}; got {value!r}",
                         field="units")  # fmt: skip
    return int(value)


def line_query(raw: Any) -> tuple[PriceQuery, int]:
    """One bulk line as an engine query and its units (BadRequest naming the field)."""
    if not isinstance(raw, dict):
        raise BadRequest("a line must be an object of pricing parameters", field="line")
    for name in raw:
        if name not in FIELD_SET:
            raise BadRequest(f"unknown field {name!r}; accepted: {', '.join(FIELDS)}", field=name)
    values = {name: _text(name, value) for name, value in raw.items()}
    given = {name: value for name, value in values.items() if value}
    release_id, on, year = params.release_selector(given)
    query = PriceQuery(
        code=params.code_param(given.get("code")),
        zip=given.get("zip"),
        locality=given.get("locality"),
        setting=given.get("setting"),
        pos=given.get("pos"),
        modifier=given.get("modifier"),
        on=on,
        year=year,
        release_id=release_id,
    )
    return query, _units(given.get("units"))


def price_line(snapshot: Snapshot, raw: Any) -> tuple[Quote, int] | PricingError:
    try:
        query, units = line_query(raw)
        return price_code(snapshot, query), units
    except PricingError as exc:
        return exc


def _money(name: str, value: Any) -> dict[str, Any]:
    return {name: wire.money(value), f"{name}_cents": wire.cents(value)}


def _ok_json(index: int, quote: Quote, units: int) -> dict[str, Any]:
    geo = quote.geography
    total = None if quote.amount is None else quote.amount * units
    return {
        "line": index,
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
    releases: dict[str, ReleaseRef] = {}
    for index, raw in enumerate(lines):
        outcome = price_line(snapshot, raw)
        if isinstance(outcome, PricingError):
            results.append(_error_json(index, outcome, raw))
            continue
        quote, units = outcome
        releases[quote.release.release_id] = quote.release
        results.append(_ok_json(index, quote, units))
    errors = sum(1 for r in results if "error" in r)
    return {
        "count": len(results),
        "priced": len(results) - errors,
        "errors": errors,
        "releases": {rid: wire.release_json(ref) for rid, ref in releases.items()},
        "results": results,
    }


def _json_lines(body: bytes) -> list[Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc}", field="body") from exc
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise BadRequest('the body must be {"lines": [...]}', field="lines")
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
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in FIELD_SET]
    if not header or unknown:
        raise BadRequest(
            f"the CSV header must name columns among {', '.join(FIELDS)}; "
            f"unknown: {', '.join(unknown) or '(no header)'}",
            field="header",
        )
    reader.fieldnames = header
    rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
    return _bounded(rows)


def _csv_row(result: dict[str, Any], refs: dict[str, Any]) -> list[Any]:
    if "error" in result:
        error, sent = result["error"], result["input"]
        field = error["details"].get("field", "")
        echo = [sent.get(name, "") for name in ("code", "modifier", "zip")]
        return [result["line"], *echo, *[""] * 12, error["code"], field, error["message"]]
    release = result["release"]
    cells = [_cell(result[name]) for name in CSV_OUT[:14]]
    return [*cells, release, refs[release]["sha256"], "", "", ""]


def _cell(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def csv_body(answer: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_OUT)
    writer.writerows(_csv_row(r, answer["releases"]) for r in answer["results"])
    return out.getvalue().encode()


def answer_bulk(snapshot: Snapshot, content_type: str, body: bytes) -> Response:
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind in ("", "application/json"):
        payload = price_json(snapshot, _json_lines(body))
        return Response(wire.dumps(payload), media_type="application/json")
    if kind == "text/csv":
        payload = price_json(snapshot, _csv_lines(body))
        return Response(csv_body(payload), media_type="text/csv; charset=utf-8")
    raise UnsupportedMediaType(
        f"content type {kind!r}: send application/json or text/csv", field="content-type"
    )


def bulk_reply(loaded: Loaded, content_type: str, body: bytes) -> tuple[bytes, str]:
    """The answer's body and media type: the task ``price_bulk`` sends to an offload child."""
    response = answer_bulk(loaded.snapshot, content_type, body)
    return bytes(response.body), response.media_type or "application/json"


def bulk_router(offload: Offload) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/codes/price/bulk",
        tags=["pricing"],
        openapi_extra=OPENAPI,
        summary="Price up to 10,000 lines (JSON, or text/csv answered in CSV)",
        responses={
            200: {"content": {"text/csv": {"example": "line,code,..."}}},
            400: {"description": "Not a batch (bad body, too many lines, unknown CSV column)"},
            415: {"description": "Neither application/json nor text/csv"},
            503: {"description": "No release loaded yet, or too many bulk requests at once"},
        },
    )
    async def price_bulk(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            with offload.admitted("bulk"):  # before the body: a refusal reads nothing
                body = await request.body()
                done = await offload.run(bulk_reply, content_type, body)
        except PricingError as exc:
            return Response(exc.body(), status_code=exc.status_code,
                            media_type="application/json", headers=dict(exc.headers))  # fmt: skip
        payload, media_type = done.value
        return Response(payload, media_type=media_type)

    return router
