"""What the isolation tests share: a worker's state and offload outside any server.

``Worker`` is what one server worker holds (its ``ServiceState`` and ``Offload``) plus the
event loop the offload runs on, so tests can await the children from plain test functions.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from cms_pricing.config import Settings
from cms_pricing.service.offload import Done, Offload
from cms_pricing.service.state import Loaded, ServiceState

T = TypeVar("T")


@dataclass
class Worker:
    state: ServiceState
    offload: Offload
    loop: asyncio.AbstractEventLoop

    def run(self, func: Callable[..., T], *args: Any) -> Done[T]:
        """``func(loaded, *args)`` through the offload, as a route awaits it."""
        return self.wait(self.offload.run(func, *args))

    def wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


@contextmanager
def worker_on(url: str, preload: tuple[str, ...] = (), **settings: Any) -> Iterator[Worker]:
    """A loaded state and a started offload over the database at ``url``."""
    state = ServiceState(Settings(DATABASE_URL=url, CMS_DATA_DIR=None, **settings))
    state.load()
    loop = asyncio.new_event_loop()
    worker = Worker(state, Offload(state.settings, state, preload), loop)
    try:
        worker.wait(worker.offload.start())
        yield worker
    finally:
        worker.wait(worker.offload.stop())
        loop.close()
        state.databases.dispose()


def pid_and_nice(_loaded: Loaded) -> tuple[int, int]:
    """A task: the process that ran it and its niceness."""
    return os.getpid(), os.nice(0)


def nap(_loaded: Loaded, seconds: float) -> int:
    """A task: sleeps ``seconds``, then names the process that ran it."""
    time.sleep(seconds)
    return os.getpid()


def imported(_loaded: Loaded, names: tuple[str, ...]) -> list[bool]:
    """A task: which of the modules ``names`` the child has imported."""
    return [name in sys.modules for name in names]


def version_of(loaded: Loaded) -> str:
    """A task: the content version of the data the child holds."""
    return loaded.version


def die(_loaded: Loaded) -> None:
    """A task that kills its child, as the kernel's OOM killer would."""
    os._exit(1)
