"""Offloading changes no answer: what a child prices equals what the worker prices itself.

Each test runs the same task function twice, once through a real offload child (spawned,
with its own snapshot loaded from the database) and once in this process on the worker's
own snapshot, and compares the bytes (or the error) exactly. A child that dies is replaced.
"""

from __future__ import annotations

import os

import orjson
import pytest
from offload_support import Worker, die, imported, pid_and_nice, worker_on

from cms_pricing.api.app import EXPENSIVE_MODULES
from cms_pricing.api.bulk import bulk_reply
from cms_pricing.api.plan_schemas import CompareIn, PlanIn, to_plan
from cms_pricing.api.plans import compared_bytes, priced_bytes, sites_bytes
from cms_pricing.errors import NotFound, PricingError, UnsupportedMediaType

GOOD = [
    {"code": "99213", "zip": "94110", "date": "2025-11-03"},
    {"code": "70551", "modifier": "26", "locality": "0111205", "setting": "facility"},
    {"code": "97110", "zip": "10001", "units": 3, "year": 2025},
    {"code": "99214", "zip": "60601", "pos": "22", "release": "RVU25A"},
]
BAD = [{"code": "ABCDE", "zip": "10001"}, {"code": "99213", "zip": "00000"}, {"code": "99213"}]
LINES = (GOOD * 500) + BAD
CSV = (
    "code,zip,locality,modifier,setting,date,units\n"
    "99213,10001,,,office,2025-11-03,1\n"
    "70551,,0111205,26,facility,,1\n"
    "97110,94110,,,,,3\n"
    "ABCDE,94110,,,,,1\n"
)
PLAN = {
    "zip": "94110",
    "date": "2025-11-03",
    "lines": [{"code": "27447", "modifiers": ["62"]}, {"code": "99213", "units": 2},
              {"code": "20610", "modifiers": ["50"]}],
}  # fmt: skip


def test_the_work_runs_in_another_process_at_lower_priority(worker: Worker) -> None:
    """A task runs in a child process (not this one) whose niceness is this process's
    plus ``CMS_PRICING_EXPENSIVE_NICE`` (10 by default)."""
    pid, nice = worker.run(pid_and_nice).value
    assert pid != os.getpid()
    assert nice == min(19, os.nice(0) + worker.state.settings.expensive_nice)


def test_a_json_bulk_priced_in_a_child_is_byte_identical(worker: Worker) -> None:
    """2,003 lines (good ones over four releases and places, and three bad ones): the
    child's JSON answer is the in-process answer, byte for byte, and names its version."""
    body = orjson.dumps({"lines": LINES})
    done = worker.run(bulk_reply, "application/json", body)
    assert done.value == bulk_reply(worker.state.loaded, "application/json", body)
    assert done.version == worker.state.loaded.version
    assert orjson.loads(done.value[0])["errors"] == len(BAD)


def test_a_csv_bulk_priced_in_a_child_is_byte_identical(worker: Worker) -> None:
    """The CSV answer (and its media type) from the child equals the in-process one."""
    done = worker.run(bulk_reply, "text/csv", CSV.encode())
    assert done.value == bulk_reply(worker.state.loaded, "text/csv", CSV.encode())
    assert done.value[1].startswith("text/csv")


def test_a_plan_and_a_comparison_priced_in_a_child_are_byte_identical(worker: Worker) -> None:
    """A plan with multiple-procedure and bilateral rules, and the same plan compared at
    three places: the child's bytes equal the in-process bytes."""
    plan_in = PlanIn.model_validate(PLAN)
    plan = to_plan(plan_in, plan_in.zip, plan_in.locality)
    assert worker.run(priced_bytes, plan).value == priced_bytes(worker.state.loaded, plan)
    places = [{"zip": "94110"}, {"zip": "10001", "label": "NYC"}, {"locality": "0111205"}]
    fields = {name: value for name, value in PLAN.items() if name != "zip"}
    compare = CompareIn.model_validate({**fields, "locations": places})
    expected = compared_bytes(worker.state.loaded, compare)
    assert worker.run(compared_bytes, compare).value == expected


def _error_of(call: object) -> PricingError:
    assert callable(call)
    with pytest.raises(PricingError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [("text/plain", b"99213", UnsupportedMediaType), ("application/json", b"{", PricingError)],
)
def test_an_error_in_the_child_is_raised_again_as_it_was(
    worker: Worker, content_type: str, body: bytes, kind: type[PricingError]
) -> None:
    """A 415 and a 400 raised in the child come back with the same class, status, envelope
    body and headers as when raised in this process."""
    child = _error_of(lambda: worker.run(bulk_reply, content_type, body))
    local = _error_of(lambda: bulk_reply(worker.state.loaded, content_type, body))
    assert isinstance(child, kind)
    assert type(child) is type(local)
    assert (child.status_code, child.body(), child.headers) == (
        local.status_code,
        local.body(),
        local.headers,
    )


def test_a_plan_error_keeps_its_details(worker: Worker) -> None:
    """An unknown code in a plan: the child's 404 carries the same details (the field that
    names the line) as the in-process one."""
    plan_in = PlanIn.model_validate({**PLAN, "lines": [{"code": "99213"}, {"code": "ABCDE"}]})
    plan = to_plan(plan_in, plan_in.zip, plan_in.locality)
    child = _error_of(lambda: worker.run(priced_bytes, plan))
    local = _error_of(lambda: priced_bytes(worker.state.loaded, plan))
    assert isinstance(child, NotFound)
    assert child.details == local.details and child.details
    assert child.body() == local.body()


def test_a_child_that_dies_is_503_and_replaced(database: str) -> None:
    """A child killed mid-task fails that request with 503 ``unavailable`` (Retry-After);
    the next task starts a new child, which prices as before."""
    with worker_on(database) as worker:
        failed = _error_of(lambda: worker.run(die))
        assert (failed.status_code, failed.code, dict(failed.headers)) == (
            503,
            "unavailable",
            {"retry-after": "1"},
        )
        pid, _nice = worker.run(pid_and_nice).value
        assert pid != os.getpid()
        body = orjson.dumps({"lines": GOOD})
        assert worker.run(bulk_reply, "application/json", body).value == bulk_reply(
            worker.state.loaded, "application/json", body
        )


def test_children_import_the_modules_of_their_work_when_they_start(database: str) -> None:
    """A child imports the ``preload`` modules in its initializer, so the first request it
    takes does not pay for importing the API's plan and bulk modules (about 600 ms each
    child, measured on a fresh server: the first /plans/compare took 663 ms, later ones
    5 ms). The server preloads every module whose functions it sends to the children."""
    names = ("cms_pricing.api.plans", "cms_pricing.api.docs")  # plans does not import docs
    with worker_on(database, preload=names[:1]) as worker:
        assert worker.run(imported, names).value == [True, False]
    sent = {f.__module__ for f in (priced_bytes, compared_bytes, sites_bytes, bulk_reply)}
    assert sent <= set(EXPENSIVE_MODULES)
