"""The children's warm-up does not hold the worker: ``start()`` returns while they load,
and an expensive request that comes meanwhile waits for that same warm-up.

``Offload.warmth`` (what ``/ready`` reports as ``expensive``) is ``warming`` until every
child holds its data, then ``ready``; ``idle`` with no children, ``off`` with 0 processes.
A child spawns and imports for more than half a second before it loads, so right after
``start()`` returns it is always still warming.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os

from offload_support import Worker, nap, pid_and_nice, version_of, worker_on

from servers import eventually


def _children() -> set[int]:
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


def _settled(worker: Worker) -> bool:
    worker.wait(asyncio.sleep(0.05))  # lets the warm-up's own task see its result
    return worker.offload.warmth == "ready"


def test_start_returns_before_the_children_load_and_a_request_waits_for_them(
    database: str,
) -> None:
    """Right after ``start()`` the child is still warming. A task sent at once is queued
    behind the warm-up: it is answered by that child (no second one is spawned), with
    the worker's data, and afterwards the offload is ready."""
    before = _children()
    with worker_on(database) as worker:
        assert worker.offload.warmth == "warming"
        pid, _nice = worker.run(pid_and_nice).value
        assert _children() - before == {pid} and pid != os.getpid()
        assert eventually(lambda: _settled(worker), 10) is not None
        assert worker.run(pid_and_nice).value[0] == pid
        assert worker.run(version_of).value == worker.state.loaded.version


def test_every_child_loads_before_the_offload_is_ready(database: str) -> None:
    """With two children the warm-up ends only when both hold their data (each takes one
    warm-up task): two one-second tasks sent once it is ready run in two processes at
    once, where a child still loading would leave both to the other, one after the other."""
    with worker_on(database, CMS_PRICING_EXPENSIVE_PROCESSES="2") as worker:
        assert eventually(lambda: _settled(worker), 60) is not None

        async def both() -> set[int]:
            done = await asyncio.gather(*(worker.offload.run(nap, 1.0) for _ in range(2)))
            return {d.value for d in done}

        assert len(worker.wait(both())) == 2


def test_without_warm_up_the_first_request_starts_the_children(database: str) -> None:
    """With ``CMS_PRICING_EXPENSIVE_WARM=false`` no child runs after ``start()``
    (``idle``); the first task spawns one and waits for it, then the offload is ready."""
    before = _children()
    with worker_on(database, CMS_PRICING_EXPENSIVE_WARM="false") as worker:
        assert (worker.offload.warmth, _children() - before) == ("idle", set())
        pid, _nice = worker.run(pid_and_nice).value
        assert _children() - before == {pid}
        assert eventually(lambda: _settled(worker), 10) is not None


def test_with_no_processes_the_offload_is_off(database: str) -> None:
    """With 0 processes nothing is spawned and the work runs in the worker: ``off``."""
    before = _children()
    with worker_on(database, CMS_PRICING_EXPENSIVE_PROCESSES="0") as worker:
        assert worker.offload.warmth == "off"
        assert worker.run(pid_and_nice).value[0] == os.getpid()
        assert _children() == before
