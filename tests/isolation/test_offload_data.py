"""A child prices with the data its worker has: after a publish it refreshes, once.

A "revised release" is RVU25D with San Francisco's (01112-05) work GPCI raised from 1.088 to
1.188 (``servers.revise_release``): 99213 at ZIP 94110 in the office moves from 10915 to
11336 cents. The child loaded the old data at start; the worker reloads after the publish
and its next task names the new content version, which makes the child refresh.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from offload_support import Worker, version_of, worker_on

from cms_pricing.api.bulk import bulk_reply
from cms_pricing.api.plans import PlanPriceCache, priced_answer
from cms_pricing.db.repository import create_db_engine
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.reference.publish import ingest_path
from servers import revise_release

BODY = orjson.dumps({"lines": [{"code": "99213", "zip": "94110", "setting": "office",
                                "year": 2025}]})  # fmt: skip


def _cents(worker: Worker) -> tuple[int, str]:
    done = worker.run(bulk_reply, "application/json", BODY)
    answer = orjson.loads(done.value[0])
    return answer["results"][0]["amount_cents"], done.version


def _publish(url: str, release: Path) -> None:
    engine = create_db_engine(url)
    try:
        ingest_path(engine, release, progress=lambda _line: None)
    finally:
        engine.dispose()


def test_after_a_publish_the_child_prices_with_the_new_release(
    tmp_path: Path, own_database: str, cms_data: Path
) -> None:
    """Before the publish the child answers 10915 cents at the worker's version. The
    revised release is published and the worker reloads: the child's next answer is 11336
    cents, priced at the worker's new version."""
    with worker_on(own_database) as worker:
        before = worker.state.loaded.version
        assert _cents(worker) == (10915, before)
        _publish(own_database, revise_release(cms_data, tmp_path))
        assert worker.state.refresh() == "reloaded"
        after = worker.state.loaded.version
        assert after != before
        assert _cents(worker) == (11336, after)
        assert worker.run(version_of).value == after


def _revised_twice(cms_data: Path, folder: Path) -> Path:
    """The revised release with the same GPCI raised once more, to 1.288: a third version."""
    release = revise_release(cms_data, folder)
    gpci = release / "GPCI2025.txt"
    lines = gpci.read_bytes().split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(b"01112") and b" 05 " in line)
    lines[index] = lines[index].replace(b"1.188", b"1.288")
    gpci.write_bytes(b"\n".join(lines))
    return release


def test_an_answer_from_newer_data_than_the_workers_is_not_cached(
    tmp_path: Path, own_database: str, cms_data: Path
) -> None:
    """The worker reloads the revised release; before its next task a third version is
    published. The child, asked for the worker's version, refreshes and gets the third:
    the plan it prices says so (``Done.version``), so ``priced_answer`` returns it without
    caching it under the worker's keys. Once the worker has the third version too, the
    answer is cached."""
    plan = Plan((PlanLine("99213"),), zip="94110", release_id="RVU25D")
    with worker_on(own_database) as worker:
        _publish(own_database, revise_release(cms_data, tmp_path / "second"))
        assert worker.state.refresh() == "reloaded"
        _publish(own_database, _revised_twice(cms_data, tmp_path / "third"))
        cache = PlanPriceCache()
        answer = worker.wait(priced_answer(worker.state, worker.offload, cache, plan))
        assert len(cache) == 0
        assert worker.run(version_of).version != worker.state.loaded.version
        assert worker.state.refresh() == "reloaded"
        again = worker.wait(priced_answer(worker.state, worker.offload, cache, plan))
        assert (again, len(cache)) == (answer, 1)
