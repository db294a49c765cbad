"""Locust users and the load shape; run only by ``python -m loadtest`` in a subprocess.

Environment (set by ``loadtest/run.py``): ``LOADTEST_MIX`` (the JSON request mix drawn
from the real files), ``LOADTEST_OUT`` (folder for the logs below), ``LOADTEST_PROFILE`` and
``LOADTEST_DURATION`` (see ``loadtest/profiles.py``), ``LOADTEST_EPOCH`` (the run's time 0).

Users (FastHttpUser, so the generator is cheap per request), thinking the profile's
``think_s`` between tasks (the standard's 1-3 s; stress and spike far less):
- ``StandardUser``: the standard's user: price a code x3, locality lookup x1, health x1;
- ``MixUser``: the realistic mix: pricing, reference codes and localities, releases, 100-line
  bulk requests, plan pricing and comparison, and a saved plan's life (create, read,
  replace with If-Match, delete);
- ``VolumeUser``: 1,000-line bulk requests and 200-line plans, half a second apart.

Runs in one process or as a master with worker processes (``--processes``). Every process
that sends requests logs each one (time, endpoint template, SLA class, ms, status) to
``requests-<pid>.csv`` and its event loop's lag to ``lag-<pid>.csv``; the master (or the
single process) logs the users to ``users.csv``. Requests are named by template so
per-endpoint figures never grow with the ZIPs used.
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from pathlib import Path
from typing import Any, ClassVar

import gevent  # type: ignore[import-untyped]  # Locust's own dependency, untyped
from locust import LoadTestShape, User, between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtest.profiles import profile
from loadtest.sla import BUDGETS, sla_class

MIX: dict[str, Any] = json.loads(Path(os.environ["LOADTEST_MIX"]).read_text())
OUT = Path(os.environ["LOADTEST_OUT"])
PROFILE = profile(
    os.environ["LOADTEST_PROFILE"], float(os.environ.get("LOADTEST_DURATION") or 0) or None
)
# One clock for every process of the run (the runner's CPU samples too): seconds since here.
EPOCH = float(os.environ.get("LOADTEST_EPOCH") or time.time())
KEY = os.environ.get("LOADTEST_KEY", "")
LAG_EVERY = 0.1  # seconds between event-loop lag probes


class Log:
    """One CSV file of this process's, closed when Locust quits."""

    opened: ClassVar[list[Log]] = []

    def __init__(self, name: str, head: list[str]) -> None:
        self.file = (OUT / name).open("w", newline="")
        self.rows = csv.writer(self.file)
        self.rows.writerow(head)
        Log.opened.append(self)

    def writerow(self, row: list[Any]) -> None:
        self.rows.writerow(row)


_rows: Log  # this process's request log, opened once its runner exists (after any fork)


def _record(
    request_type: str,
    name: str,
    response_time: float,
    response: Any,
    exception: Exception | None,
    **_kw: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    klass = sla_class(request_type, name)
    _rows.writerow(
        [
            f"{time.time() - EPOCH:.3f}",
            f"{request_type} {name}",
            klass,
            f"{response_time:.2f}",
            status,
        ]
    )


def _users(environment: Environment) -> None:
    log = Log("users.csv", ["t", "users"])
    while True:
        runner = environment.runner
        log.writerow([f"{time.time() - EPOCH:.1f}", runner.user_count if runner else 0])
        log.file.flush()
        gevent.sleep(1)


def _lag(log: Log) -> None:
    """How late this process's event loop wakes a greenlet: the generator's own delay, which
    every request timed in this process also carries."""
    while True:
        asked = time.perf_counter()
        gevent.sleep(LAG_EVERY)
        late = (time.perf_counter() - asked - LAG_EVERY) * 1000
        log.writerow([f"{time.time() - EPOCH:.3f}", f"{max(0.0, late):.2f}"])
        for each in Log.opened:  # a forked worker may be killed rather than quit
            each.file.flush()


def _start(environment: Environment, **_kw: Any) -> None:
    """Each process logs what it sees, in files of its own (``--processes`` forks after the
    import): the master the users, every process that sends requests its requests
    (``requests-<pid>.csv``) and its event-loop lag (``lag-<pid>.csv``)."""
    global _rows  # noqa: PLW0603 - one log per process, opened after the fork
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_users, environment)
    if isinstance(environment.runner, MasterRunner):
        return
    _rows = Log(f"requests-{os.getpid()}.csv", ["t", "endpoint", "sla_class", "ms", "status"])
    gevent.spawn(_lag, Log(f"lag-{os.getpid()}.csv", ["t", "ms"]))


def _close(**_kw: Any) -> None:
    for log in Log.opened:
        log.file.close()


# Locust's event hooks are untyped; registered by call, not decorator, to keep ours typed.
events.request.add_listener(_record)  # type: ignore[no-untyped-call]
events.init.add_listener(_start)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_close)  # type: ignore[no-untyped-call]


def pick(key: str) -> Any:
    return random.choice(MIX[key])


class Client(FastHttpUser):
    abstract = True
    wait_time = between(*PROFILE.think_s)
    # Every request carries the run's API key (loadtest/run.py makes it).
    default_headers = {"X-API-Key": KEY} if KEY else {}

    def price(self) -> None:
        self.client.get(pick("price"), name="/codes/price")

    def locality(self) -> None:
        self.client.get(f"/reference/localities?zip={pick('zips')}", name="/reference/localities")

    def health(self) -> None:
        self.client.get("/health", name="/health")

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, name=path)


class StandardUser(Client):
    @task(3)
    def price_code(self) -> None:
        self.price()

    @task(1)
    def lookup_locality(self) -> None:
        self.locality()

    @task(1)
    def check_health(self) -> None:
        self.health()


class MixUser(Client):
    @task(6)
    def price_code(self) -> None:
        self.price()

    @task(2)
    def lookup_locality(self) -> None:
        self.locality()

    @task(2)
    def code_rows(self) -> None:
        self.client.get(f"/reference/codes/{pick('codes')}", name="/reference/codes/{code}")

    @task(1)
    def releases(self) -> None:
        self.client.get("/releases", name="/releases")

    @task(1)
    def bulk(self) -> None:
        self.post("/codes/price/bulk", pick("bulk"))

    @task(1)
    def plan_price(self) -> None:
        self.post("/plans/price", pick("plans"))

    @task(1)
    def plan_compare(self) -> None:
        self.post("/plans/compare", pick("compare"))

    @task(1)
    def saved_plan(self) -> None:
        created = self.post("/plans", {"name": "load test", **pick("plans")})
        if created.status_code != 201:
            return
        plan_id, etag = created.json()["id"], created.headers.get("etag", "")
        self.client.get(f"/plans/{plan_id}", name="/plans/{plan_id}")
        replaced = self.client.put(
            f"/plans/{plan_id}",
            json={"name": "load test v2", **pick("plans")},
            headers={"If-Match": etag},
            name="/plans/{plan_id}",
        )
        etag = replaced.headers.get("etag", "") if replaced.headers else ""
        self.client.delete(f"/plans/{plan_id}", headers={"If-Match": etag}, name="/plans/{plan_id}")


class VolumeUser(Client):
    wait_time = between(0.5, 1)

    @task(3)
    def bulk_large(self) -> None:
        self.post("/codes/price/bulk", pick("bulk_large"))

    @task(1)
    def plan_large(self) -> None:
        self.post("/plans/price", pick("plans_large"))


CLASSES = {c.__name__: c for c in (StandardUser, MixUser, VolumeUser)}


class Shape(LoadTestShape):
    """The profile's stages; with ``stop_on_breach``, stops 5 s after the overall p95 passes
    the pricing budget (300 ms: by then the tighter classes have broken too, and the report
    finds which broke first) or more than 0.1% of requests fail."""

    breached_at: float | None = None

    def tick(self) -> tuple[int, float, list[type[User]] | None] | None:
        now: float = self.get_run_time()  # type: ignore[no-untyped-call]
        if self._breached(now) or now >= PROFILE.duration:
            return None
        stage = next(s for s in PROFILE.stages if now < s.until)
        classes: list[type[User]] = [CLASSES[name] for name in PROFILE.users]
        return stage.users, stage.spawn_rate, classes

    def _breached(self, now: float) -> bool:
        if not PROFILE.stop_on_breach or self.runner is None:
            return False
        stats = self.runner.stats.total
        over = stats.get_current_response_time_percentile(0.95) or 0
        failing = stats.num_requests > 100 and stats.fail_ratio > 0.001
        if self.breached_at is None and (over > BUDGETS["pricing"].p95_ms or failing):
            self.breached_at = now
        return self.breached_at is not None and now - self.breached_at > 5
