"""Errors the service raises on purpose, and the one JSON envelope they leave as.

Hierarchy::

    PricingError                  status_code, code (stable, machine-readable), details
    ├── BadRequest          400   a malformed parameter or body; ``details.field`` names it
    ├── Unauthorized        401   no key, or a key that is not valid (``WWW-Authenticate``)
    ├── Forbidden           403   a key without the scope the endpoint needs
    ├── NotFound            404   unknown code, ZIP, release, plan or endpoint
    ├── MethodNotAllowed    405   a method the endpoint does not take (``Allow`` header)
    ├── RequestTimeout      408   the body did not arrive in time
    ├── Conflict            409   an Idempotency-Key reused with another body
    ├── PreconditionFailed  412   If-Match names a version that is no longer current
    ├── PayloadTooLarge     413   a body over its limit (docs/limits.md)
    ├── UriTooLong          414   a query string over its limit
    ├── UnsupportedMediaType 415  a body that is neither of the accepted content types
    ├── Unprocessable       422   well-formed but not priceable as asked (26 on PC/TC 0)
    ├── PreconditionRequired 428  a write without If-Match
    ├── RateLimited         429   over the caller's rate or quota (``Retry-After``)
    ├── ClientClosed        499   the client went away mid-request (never a 5xx; logged only)
    └── Unavailable         503   ``Retry-After`` set
        ├── NotReady              no release loaded yet
        ├── Overloaded            this worker's budget for expensive work is full
        └── DatabaseUnavailable   the database did not answer

    FileRejected                  a CMS file failed parsing or validation; names file and line

Handlers raise; one boundary (``api/boundary.py``) turns a ``PricingError`` into
``{"error": {"code", "message", "details"}}`` with ``envelope``. Any other exception is a
500 ``internal_error`` with no trace or SQL in the body. ``FileRejected`` never reaches
HTTP: ingestion refuses the file and nothing is published.

Messages that quote the caller's input quote at most ``ECHO_LIMIT`` characters of it
(``echo``), so an error answer never holds a large input.
"""

from __future__ import annotations

from typing import Any

import orjson

ECHO_LIMIT = 40


def echo(value: object) -> str:
    """``repr`` of a caller's value, cut to ``ECHO_LIMIT`` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > ECHO_LIMIT:
        return repr(text[:ECHO_LIMIT]) + f"... ({len(text)} characters)"
    return repr(text)


class PricingError(Exception):
    status_code = 400
    code = "bad_request"
    headers: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> bytes:
        return envelope(self.code, self.message, self.details)


class BadRequest(PricingError):
    status_code = 400
    code = "bad_request"


class Unauthorized(PricingError):
    status_code = 401
    code = "unauthorized"

    def __init__(
        self, message: str, challenge: str = 'Bearer realm="cms-pricing"', **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.headers = (("www-authenticate", challenge),)


class Forbidden(PricingError):
    status_code = 403
    code = "forbidden"


class RateLimited(PricingError):
    status_code = 429
    code = "rate_limited"

    def __init__(
        self, message: str, headers: tuple[tuple[str, str], ...] = (), **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.headers = headers


class NotFound(PricingError):
    status_code = 404
    code = "not_found"


class MethodNotAllowed(PricingError):
    status_code = 405
    code = "method_not_allowed"

    def __init__(self, message: str, allow: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = (("allow", allow),)


class RequestTimeout(PricingError):
    status_code = 408
    code = "request_timeout"


class Conflict(PricingError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(PricingError):
    status_code = 412
    code = "precondition_failed"


class PayloadTooLarge(PricingError):
    status_code = 413
    code = "payload_too_large"


class UriTooLong(PricingError):
    status_code = 414
    code = "uri_too_long"


class UnsupportedMediaType(PricingError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(PricingError):
    status_code = 422
    code = "unprocessable"


class PreconditionRequired(PricingError):
    status_code = 428
    code = "precondition_required"


class ClientClosed(PricingError):
    """Not an answer anyone reads: the status the metrics and logs record (nginx's 499)."""

    status_code = 499
    code = "client_closed_request"


class Unavailable(PricingError):
    status_code = 503
    code = "unavailable"
    retry_after = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = (("retry-after", str(self.retry_after)),)


class NotReady(Unavailable):
    code = "not_ready"
    retry_after = 5


class Overloaded(Unavailable):
    code = "overloaded"
    retry_after = 1


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
    retry_after = 2


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    """The one JSON error envelope every 4xx and 5xx uses."""
    return orjson.dumps({"error": {"code": code, "message": message, "details": details or {}}})


# The one body of an unexpected failure (no trace, no SQL), for every layer that answers one.
INTERNAL_ERROR = envelope("internal_error", "the server failed to answer; it is logged")


class FileRejected(Exception):
    """A CMS file that must not be published. ``line`` is 1-based, 0 for whole-file faults."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason
