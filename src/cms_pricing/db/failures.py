"""What the database layer refuses before a query, and how a database outage reaches callers.

Contract:

- ``translated(fn)`` (a decorator) and ``translating()`` (a context manager) turn the
  driver's "the database did not answer" errors into ``errors.DatabaseUnavailable`` (503,
  ``Retry-After``): SQLAlchemy ``OperationalError`` and ``InterfaceError`` (connection refused,
  reset, server shut down, SQLite busy), any ``DBAPIError`` whose connection was invalidated,
  and a pool ``TimeoutError`` (no connection free in time). The answer's message never holds
  SQL or driver text; the driver's error is logged and kept as ``__cause__``. Every other
  database error (an integrity or data error: a bug, not an outage) passes through unchanged.
- ``text_value(field, value, limit)`` refuses, as ``BadRequest`` naming ``field``, a string
  that PostgreSQL cannot store (a NUL character) or that is longer than its column.
- ``storable_id(value, limit)`` is False for an id no row can have (not printable ASCII, or
  longer than the column): callers answer ``NotFound`` without asking the database.
- ``in_int_range(value)`` is True for an integer every database's ``INTEGER`` column holds
  (PostgreSQL's is 32-bit; SQLite's 64-bit): larger values would raise in the driver.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cms_pricing.errors import BadRequest, DatabaseUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; SQLite's is wider, so this bound holds for both
MESSAGE = "the database did not answer; retry in a moment"


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means the database could not be reached or used, not a bad query."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@contextmanager
def translating() -> Iterator[None]:
    """Raise ``DatabaseUnavailable`` for an outage inside the block (see the contract)."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        if not is_outage(exc):
            raise
        first_line = (str(exc).splitlines() or [""])[0]  # the driver's words, not the SQL
        log.warning("database unavailable: %s: %s", type(exc).__name__, first_line)
        raise DatabaseUnavailable(MESSAGE) from exc


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` with a database outage raised as ``DatabaseUnavailable``."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translating():
            return fn(*args, **kwargs)

    return wrapper


def text_value(field: str, value: str | None, limit: int | None = None) -> None:
    """``BadRequest`` naming ``field`` when ``value`` has a NUL or is over ``limit`` long."""
    if value is None:
        return
    if "\x00" in value:
        raise BadRequest(f"{field} must not contain a NUL character", field=field)
    if limit is not None and len(value) > limit:
        raise BadRequest(f"{field} is longer than {limit} characters", field=field)


def storable_id(value: str, limit: int) -> bool:
    """False for an id no row can hold: over ``limit`` or not printable ASCII."""
    return 0 < len(value) <= limit and value.isascii() and value.isprintable()


def in_int_range(value: int) -> bool:
    return -INT_MAX - 1 <= value <= INT_MAX
