"""The OpenAPI document, made to say exactly what the service answers.

FastAPI's generated document is post-processed once (``install(app)``):

- its automatic ``422 Validation Error`` answers are removed: a body or parameter that fails
  its model is answered 400 in the error envelope (``api/boundary.py``), and a 422 is only
  the engine's "not priceable as asked", documented where it can happen;
- every operation documents the answers the boundary and the limits give any request: 400
  (an unknown or repeated query parameter), 405, 414 (query string too long) and 503 (not
  ready, overloaded or database unavailable, with ``Retry-After``); operations with a body
  also 408 (body too slow), 413 (body too large) and 415 (content type); operations with a
  path parameter 404.
- ``If-Match`` is required where it is declared (PUT/DELETE of a saved plan): FastAPI sees it
  as optional so that a request without it is answered 428, not 400;
- the 201 of ``POST /plans`` links to the operations on the plan it created;
- ``HTTPValidationError`` and ``ValidationError`` leave the components;
- every operation but the open ones (health, readiness, docs) declares its security: an API
  key as ``Authorization: Bearer`` or ``X-API-Key`` (docs/auth.md), with 401, 403 and 429 (the
  ``RateLimit`` headers and ``Retry-After``); where anonymous callers are allowed
  (``CMS_PRICING_REQUIRE_KEYS=false``: read and bulk endpoints) the key is optional (``{}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cms_pricing.api.endpoints import BY_NAME, ENDPOINTS

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
COMMON = {
    "400": "A malformed, unknown or repeated parameter; details.field names it",
    "405": "A method the endpoint does not take (Allow lists the others)",
    "414": "The query string is over its limit (docs/limits.md)",
    "503": "Not ready, this worker's budget for expensive work is full, or the database did "
    "not answer; Retry-After says when to retry",
}
WITH_BODY = {
    "408": "The body did not arrive in time",
    "413": "The body is over its limit (docs/limits.md)",
    "415": "The body is not of a content type the endpoint takes",
}
WITH_PATH = {"404": "No such code, plan or release"}
AUTOMATIC = "#/components/schemas/HTTPValidationError"
ACCESS = {(e.method.lower(), e.path): e for e in ENDPOINTS}
SCHEMES = {
    "bearerKey": {"type": "http", "scheme": "bearer", "description": "an API key (docs/auth.md)"},
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
KEYED = {
    "401": "No API key, or one that is unknown, expired or revoked (WWW-Authenticate)",
    "403": "The API key does not have the scope this endpoint needs",
}
LIMITED = "Over the caller's rate limit or quota; Retry-After says when to retry"
ANONYMOUS = frozenset({"read", "bulk"})


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ENVELOPE}}}


def _is_automatic(answer: dict[str, Any]) -> bool:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == AUTOMATIC)


def _security(method: str, path: str, operation: dict[str, Any], anonymous: bool) -> None:
    endpoint = ACCESS.get((method, path))
    if endpoint is None or endpoint.access == "open":
        return
    optional = anonymous and endpoint.access in ANONYMOUS and not endpoint.owned
    operation["security"] = [{"bearerKey": []}, {"apiKeyHeader": []}, *([{}] if optional else [])]
    answers: dict[str, Any] = operation.setdefault("responses", {})
    for status, words in KEYED.items():
        answers.setdefault(status, _error(words))
    if endpoint.access != "admin":
        answers.setdefault("429", _error(LIMITED))


def _operation(path: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "If-Match":  # optional to FastAPI so that missing is 428
            parameter["required"] = True
            parameter["schema"] = {
                k: v for k, v in parameter["schema"].items() if k not in ("anyOf", "default")
            } | {"type": "string", "pattern": _if_match_pattern(parameter["schema"])}
    answers: dict[str, Any] = operation.setdefault("responses", {})
    for status in [s for s, answer in answers.items() if _is_automatic(answer)]:
        del answers[status]
    extra = dict(COMMON)
    if "requestBody" in operation:
        extra |= WITH_BODY
    if "{" in path:
        extra |= WITH_PATH
    for status, words in extra.items():
        answers.setdefault(status, _error(words))


def _if_match_pattern(schema: dict[str, Any]) -> str:
    for option in schema.get("anyOf", [schema]):
        if "pattern" in option:
            return str(option["pattern"])
    raise ValueError("If-Match has no pattern")


# A saved plan's id and ETag in the 201 of POST /plans lead to the operations on that plan
# (OpenAPI links: clients and the stateful fuzzing phase follow them).
LINKS = {  # link name -> (endpoint, whether it takes the ETag as If-Match)
    "ReadPlan": ("plan_read", False),
    "ReplacePlan": ("plan_replace", True),
    "DeletePlan": ("plan_delete", True),
    "PriceSavedPlan": ("plan_price_saved", False),
}


def _links(paths: dict[str, Any]) -> None:
    create = BY_NAME["plan_create"]
    created = paths.get(create.path, {}).get("post", {}).get("responses", {}).get("201")
    if created is None:
        return
    links: dict[str, Any] = {}
    for name, (endpoint, versioned) in LINKS.items():
        target = BY_NAME[endpoint]
        operation = paths.get(target.path, {}).get(target.method.lower())
        if operation is None:
            continue
        parameters = {"plan_id": "$response.body#/id"}
        if versioned:
            parameters["header.If-Match"] = "$response.body#/etag"
        links[name] = {"operationId": operation["operationId"], "parameters": parameters}
    created["links"] = links


def document(app: FastAPI, anonymous: bool = True) -> dict[str, Any]:
    """The post-processed document; ``anonymous``: callers without a key may use the read
    and bulk endpoints (``CMS_PRICING_REQUIRE_KEYS=false``)."""
    doc = app.openapi()
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            _operation(path, operation)
            _security(method, path, operation, anonymous)
    doc.setdefault("components", {})["securitySchemes"] = SCHEMES
    _links(doc.get("paths", {}))
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def install(app: FastAPI, anonymous: bool = True) -> None:
    """Serve the post-processed document at /openapi.json (built once)."""
    built: dict[str, Any] = {}
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not built:
            app.openapi = generate  # type: ignore[method-assign]
            built.update(document(app, anonymous))
            app.openapi = openapi  # type: ignore[method-assign]
        return built

    app.openapi = openapi  # type: ignore[method-assign]
