"""Errors the service raises on purpose.

Hierarchy::

    PricingError                  status_code, code (stable, machine-readable)
    ├── BadRequest        400     a malformed parameter; ``details.field`` names it
    ├── Unauthorized      401     an admin call without a valid token
    ├── Forbidden         403     an admin call while admin endpoints are disabled
    ├── NotFound          404     unknown code, ZIP not in the file, unknown release
    ├── Unprocessable     422     well-formed but not priceable as asked (26 on PC/TC 0)
    └── NotReady          503     no release loaded yet

    FileRejected                  a CMS file failed parsing or validation; names file and line

The HTTP layer turns a ``PricingError`` into the one JSON error envelope
``{"error": {"code", "message", "details"}}``. ``FileRejected`` never reaches HTTP:
ingestion refuses the file and nothing is published.
"""

from __future__ import annotations

from typing import Any


class PricingError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(PricingError):
    status_code = 400
    code = "bad_request"


class Unauthorized(PricingError):
    status_code = 401
    code = "unauthorized"


class Forbidden(PricingError):
    status_code = 403
    code = "forbidden"


class NotFound(PricingError):
    status_code = 404
    code = "not_found"


class Unprocessable(PricingError):
    status_code = 422
    code = "unprocessable"


class NotReady(PricingError):
    status_code = 503
    code = "not_ready"


class FileRejected(Exception):
    """A CMS file that must not be published. ``line`` is 1-based, 0 for whole-file faults."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason
