"""Structured logs: one JSON object per line on stderr, carrying the request id.

Line format (keys always present, in this order)::

    {"ts": "2026-11-27T10:00:00.123Z", "level": "error", "logger": "cms_pricing.api.app",
     "message": "...", "request_id": "..." | null, "pid": 1234}

plus ``exc`` (the formatted traceback) when an exception is logged and any ``extra=``
fields the call passed (``method``, ``path``, ``status``, ``duration_ms`` ...).

The request id is a context variable set by the middleware for the life of one request, so
every line logged while answering it (in the event loop or a worker thread FastAPI starts,
which copies the context) carries it.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from itertools import count
from typing import Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# A caller's id is kept when it is 1-128 characters of this set; otherwise one is generated.
VALID_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RequestIds:
    """Ids unique across processes and cheap to make: a random per-process prefix + a counter."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._counter = count(1)

    def new(self) -> str:
        return f"{self._prefix}-{next(self._counter):x}"


def accepted(value: bytes) -> str | None:
    """The caller's ``X-Request-ID`` when it is safe to echo and log, else None."""
    return value.decode("ascii") if VALID_ID.fullmatch(value) else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
            "pid": record.process,
        }
        line.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def _timestamp(created: float) -> str:
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


def configure(stream: Any = None) -> logging.Handler:
    """Send the ``cms_pricing`` loggers to ``stream`` (stderr) as JSON lines; idempotent."""
    logger = logging.getLogger("cms_pricing")
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return handler
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return handler
