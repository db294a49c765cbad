"""One computation for N concurrent identical requests that await (the Redis layer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """Await the flight already under way for ``key``, or start one."""
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            result = await compute()
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved here, so an unawaited flight logs nothing
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            del self._flights[key]
