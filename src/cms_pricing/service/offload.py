"""Expensive work (bulk, plan pricing, comparisons) away from the event loop, and its admission.

Contract (docs/architecture.md, "Load isolation"; measurements in docs/performance.md):

- ``Offload(settings, state, preload)`` belongs to one server worker. It spawns
  ``CMS_PRICING_EXPENSIVE_PROCESSES`` child processes (spawned, never forked: the worker runs
  Rust and Python threads), each loading its own snapshot through
  ``ServiceState(settings).load()``. ``start()`` (the lifespan, after the worker's own load)
  spawns them and returns at once (``CMS_PRICING_EXPENSIVE_WARM``, the default): they load
  in the background while the worker already serves, so readiness never waits for them
  (measured: launch to ``/ready`` 2.3 s shorter, docs/performance.md, "Start-up"). With it
  off, the first ``run`` spawns them (a worker that only serves reads never holds a second
  copy of the data). An expensive request that comes while they load waits for that same
  warm-up: it is queued behind it in the same pool, never a second spawn and never an
  error. ``warmth`` says where they are, and ``/ready`` reports it (``expensive``):
  ``off`` (0 processes: the work runs on the event loop), ``idle`` (none running: warm-up
  off and no expensive request yet, or a child died and the next request starts new
  ones), ``warming``, ``ready`` (every child holds its data; the worker logs
  "expensive-work children ready" with the time it took). Each child runs
  ``CMS_PRICING_EXPENSIVE_NICE`` below its worker's CPU priority from the moment it is
  spawned (its imports too), so the kernel runs the worker's cheap reads first. Each
  child also imports the ``preload`` modules (those whose functions ``run`` sends) when it
  starts: a task's function is unpickled by importing its module, and importing the API's
  plan and bulk modules took about 600 ms, which the first expensive request of each child
  paid (docs/performance.md).
  ``stop()`` lets queued work (a warm-up too) finish, then ends the children.
- ``admitted(kind)`` holds one place of the kind's budget (``CMS_PRICING_ADMIT_BULK``,
  ``_PLANS``, ``_COMPARE``: requests in flight plus waiting, per worker); when the budget
  is full it raises ``errors.Overloaded`` (503, ``Retry-After``) at once, never a wait.
  Enter it before reading a large body.
- ``await run(func, *args)`` runs ``func(loaded, *args)`` in a child whose data is at the
  content version this worker has now (a child that is behind refreshes once for each new
  version). ``func`` is a module-level function (it is pickled by name) returning plain
  data. A ``PricingError`` it raises is raised here again with its class, message, details
  and headers. The result is ``Done(value, version)``: ``version`` is the content version
  that produced it, which a caller compares with its own before caching the value.
- With 0 processes ``run`` calls ``func`` on the event loop with this worker's data: the
  behaviour before this module, which the tests compare the children with.
- A child that dies (killed for memory, say) fails the work it held with 503
  ``unavailable``; the next ``run`` starts new children. A child whose worker dies exits
  within a second, so no orphan keeps a snapshot in memory.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Barrier
from typing import Any, Generic, Literal, TypeVar

from cms_pricing.config import Settings
from cms_pricing.errors import Overloaded, PricingError, Unavailable
from cms_pricing.service.state import Loaded, ServiceState

log = logging.getLogger(__name__)

Kind = Literal["bulk", "plans", "compare"]
Warmth = Literal["off", "idle", "warming", "ready"]
T = TypeVar("T")
# How long a warm-up task waits for the other children of its pool: a bound, so that
# ``stop()`` cannot wait forever on a child that never finished loading.
WARM_WAIT_S = 300


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """What ``func`` returned, and the content version of the data it read."""

    value: T
    version: str


# -- admission -------------------------------------------------------------------------------


class Admission:
    """Per-kind budgets of requests in flight plus waiting; over budget is ``Overloaded``."""

    def __init__(self, budgets: Mapping[Kind, int]) -> None:
        self.budgets = dict(budgets)
        self.busy: dict[Kind, int] = dict.fromkeys(self.budgets, 0)
        self._lock = threading.Lock()  # routes run on the loop, but tests call from threads

    @contextmanager
    def admitted(self, kind: Kind) -> Iterator[None]:
        self._enter(kind)
        try:
            yield
        finally:
            with self._lock:
                self.busy[kind] -= 1

    def _enter(self, kind: Kind) -> None:
        limit = self.budgets[kind]
        with self._lock:
            if self.busy[kind] >= limit:
                raise Overloaded(
                    f"this server is busy with {limit} {kind} requests; retry in a second",
                    kind=kind,
                    limit=limit,
                )
            self.busy[kind] += 1


# -- the child side --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """A ``PricingError`` as plain data (some subclasses cannot be rebuilt from their args)."""

    module: str
    name: str
    message: str
    details: dict[str, Any]
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, exc: PricingError) -> Failure:
        kind = type(exc)
        return cls(kind.__module__, kind.__qualname__, exc.message, exc.details, exc.headers)

    def error(self) -> PricingError:
        kind = getattr(importlib.import_module(self.module), self.name)
        exc: PricingError = kind.__new__(kind)
        PricingError.__init__(exc, self.message, **self.details)
        exc.headers = self.headers
        return exc


class _Child:
    """A child's own data: loaded at start, refreshed once per content version asked for."""

    def __init__(self, settings: Settings) -> None:
        self.state = ServiceState(settings)
        loaded = self.state.load()
        self.asked = loaded.version  # an empty database too: its version names no release

    def loaded_at(self, version: str) -> Loaded:
        current = self.state.current
        if (current is None or current.version != version) and version != self.asked:
            self.asked = version  # once per version: the database may already be newer
            self.state.refresh()
        return self.state.loaded


_CHILD: _Child | None = None
_PEERS: Barrier | None = None  # every child of the pool: the warm-up waits for all of them


def _start_child(
    settings: Settings, peers: Barrier, parent: int, preload: tuple[str, ...] = ()
) -> None:
    """The child's initializer: ignore Ctrl-C (the worker drains), watch the parent, import
    the modules of the work it will run, load the data. (Its priority was lowered by the
    worker when it was spawned.)"""
    global _CHILD, _PEERS  # noqa: PLW0603 -- one per child process, set once here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    for name in preload:
        importlib.import_module(name)
    _PEERS = peers
    _CHILD = _Child(settings)


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _call(version: str, func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, str]:
    """Run one task in the child: (value or ``Failure``, version of the data used)."""
    assert _CHILD is not None, "the child was not initialised"
    try:
        loaded = _CHILD.loaded_at(version)
        return func(loaded, *args), loaded.version
    except PricingError as exc:
        return Failure.of(exc), version


def _warmed(loaded: Loaded) -> str:
    """The warm-up task: it waits until every child of the pool holds one (a child takes
    a task only once its data is loaded), so each child takes exactly one."""
    assert _PEERS is not None, "the child was not initialised"
    _PEERS.wait(WARM_WAIT_S)
    return loaded.version


class _Niced(SpawnProcess):
    """A spawned child whose CPU priority is lowered as soon as it exists, so that its
    imports (most of its start-up) already yield to the worker."""

    nice = 0

    def start(self) -> None:
        super().start()
        assert self.pid is not None
        own = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, self.pid, min(19, own + self.nice))


class _NicedSpawn(SpawnContext):
    """The spawn context, making ``_Niced`` children."""

    def __init__(self, nice: int) -> None:
        super().__init__()
        self.nice = nice

    # A method where the base class has a class attribute: ProcessPoolExecutor only calls it.
    def Process(self, *args: Any, **kwargs: Any) -> _Niced:  # type: ignore[override]
        process = _Niced(*args, **kwargs)
        process.nice = self.nice
        return process


# -- the worker side -------------------------------------------------------------------------


def budgets_of(settings: Settings) -> dict[Kind, int]:
    return {
        "bulk": settings.admit_bulk,
        "plans": settings.admit_plans,
        "compare": settings.admit_compare,
    }


# Weak both ways: an Offload holds its state, so a strong value would keep every state (and
# its snapshot) alive for good once its app is gone (tests make hundreds of apps).
_OFFLOADS: weakref.WeakKeyDictionary[ServiceState, weakref.ref[Offload]] = (
    weakref.WeakKeyDictionary()
)


def warmth_of(state: ServiceState) -> Warmth:
    """The ``warmth`` of the offload of the worker holding ``state`` (``off`` without one)."""
    found = _OFFLOADS.get(state)
    offload = found() if found is not None else None
    return offload.warmth if offload is not None else "off"


class Offload:
    """One worker's children and admission budgets (see the module docstring)."""

    def __init__(
        self, settings: Settings, state: ServiceState, preload: tuple[str, ...] = ()
    ) -> None:
        self.settings = settings
        self.state = state
        self.preload = preload  # modules each child imports at start (module docstring)
        self.processes = settings.expensive_processes
        self.admission = Admission(budgets_of(settings))
        self._pool: ProcessPoolExecutor | None = None
        self._warm: ProcessPoolExecutor | None = None  # the pool whose children all loaded
        self._warming: asyncio.Task[None] | None = None
        if self.processes:  # for /ready (api/handlers.py); without children it is "off"
            _OFFLOADS[state] = weakref.ref(self)

    def admitted(self, kind: Kind) -> Any:
        return self.admission.admitted(kind)

    @property
    def warmth(self) -> Warmth:
        if not self.processes:
            return "off"
        if self._pool is None:
            return "idle"
        return "ready" if self._warm is self._pool else "warming"

    async def start(self) -> None:
        """With ``expensive_warm``, spawn the children, which load in the background
        (otherwise the first ``run`` spawns them; no-op with 0 processes)."""
        if self.processes and self.settings.expensive_warm:
            self._restart()

    async def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True)
        if self._warming is not None:
            await self._warming  # done once the pool is: it only logs

    async def run(self, func: Callable[..., T], *args: Any) -> Done[T]:
        loaded = self.state.loaded  # NotReady before the first load
        if not self.processes:
            return Done(func(loaded, *args), loaded.version)
        value, version = await self._submit(loaded.version, func, args)
        if isinstance(value, Failure):
            raise value.error()
        return Done(value, version)

    async def _submit(self, version: str, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        pool = self._pool or self._restart()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _call, version, func, args)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None  # the next run starts new children
            log.error("an expensive-work child died; starting new ones")
            raise Unavailable("the pricing process failed; retry in a second") from exc

    def _restart(self) -> ProcessPoolExecutor:
        """A new pool, its warm-up queued first: the work submitted next waits behind it."""
        pool = self._pool = self._new_pool()
        current = self.state.current  # None with nothing published: children wait too
        version = current.version if current else ""
        loop = asyncio.get_running_loop()
        warm = [
            loop.run_in_executor(pool, _call, version, _warmed, ()) for _ in range(self.processes)
        ]
        self._warming = loop.create_task(self._warm_up(pool, warm, time.perf_counter()))
        return pool

    async def _warm_up(
        self, pool: ProcessPoolExecutor, warm: list[asyncio.Future[Any]], started: float
    ) -> None:
        try:
            await asyncio.gather(*warm)
        except (BrokenProcessPool, threading.BrokenBarrierError) as exc:
            if self._pool is pool:
                self._pool = None  # the next run starts new children
            log.error("expensive-work children failed to start: %r", exc)
            return
        self._warm = pool
        seconds = time.perf_counter() - started
        log.info("expensive-work children ready: %d in %.2fs", self.processes, seconds)

    def _new_pool(self) -> ProcessPoolExecutor:
        child_settings = self.settings.model_copy(update={"redis_url": None})
        context = _NicedSpawn(self.settings.expensive_nice)
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=context,
            initializer=_start_child,
            initargs=(child_settings, context.Barrier(self.processes), os.getpid(), self.preload),
        )
