"""Two stateless instances behind deploy/lb's nginx, on loopback, with real processes.

Both instances share one database (a private SQLite copy) and one Redis for release events;
nginx balances between them with passive health checks (deploy/lb explains why nginx OSS
has no active ones). The tests prove that losing an instance costs (almost) no request and
that a publish reaches every instance within 5 seconds.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis

from servers import (
    PRICE,
    Server,
    all_answer,
    cli,
    copy_database,
    eventually,
    get,
    kill_instance,
    nginx,
    revise_release,
    serve,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "lb" / "cms-pricing-lb.conf.template"
EVENTS_REDIS = "redis://127.0.0.1:6379/7"
HEALTH_WINDOW_S = 1.0  # fail_timeout is 5 s, but retries hide the dead instance at once
Cluster = tuple[dict[str, str], list[Server], str]
PATHS = [PRICE, "/reference/localities?zip=10001", "/codes/price?code=99214&zip=10001&year=2025"]


@pytest.fixture
def cluster(tmp_path: Path, ingested_url: str) -> Iterator[Cluster]:
    """(env, [instance A, instance B], nginx base URL): two one-worker instances and the LB."""
    redis.Redis.from_url(EVENTS_REDIS).close()
    env = {
        "DATABASE_URL": copy_database(ingested_url, tmp_path),
        "REDIS_URL": EVENTS_REDIS,
        "CMS_PRICING_POLL_SECONDS": "60",
    }
    with ExitStack() as stack:
        servers = [stack.enter_context(serve(env, tmp_path / f"{n}.log", workers=1)) for n in "ab"]
        upstream = " ".join(
            f"server {s.base.removeprefix('http://')} max_fails=1 fail_timeout=5s;" for s in servers
        )
        values = {"CMS_PRICING_UPSTREAM": upstream}
        base = stack.enter_context(nginx(TEMPLATE, values, tmp_path / "lb"))
        yield env, servers, base


def _load(base: str, stop: threading.Event, outcomes: list[tuple[float, bool]]) -> None:
    """GET the mix through the LB until ``stop``; record (time, succeeded) per request."""
    i = 0
    while not stop.is_set():
        i += 1
        try:
            ok = get(base + PATHS[i % len(PATHS)], timeout=10)[0] == 200
        except (OSError, urllib.error.URLError):
            ok = False
        outcomes.append((time.monotonic(), ok))


def test_killing_one_instance_under_load_fails_no_request_after_the_window(
    cluster: Cluster,
) -> None:
    """Four client threads load the LB; instance A is SIGKILLed (with its workers) after 2 s
    and the load goes on for 4 s. No request fails once the health-check window has passed,
    fewer than 0.1% fail overall, and B served the requests after the kill."""
    _env, (first, second), base = cluster
    outcomes: list[tuple[float, bool]] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_load, args=(base, stop, outcomes)) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    killed_at = time.monotonic()
    kill_instance(first)
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    failed = [t for t, ok in outcomes if not ok]
    after_kill = [t for t, _ok in outcomes if t > killed_at + HEALTH_WINDOW_S]
    assert len(outcomes) > 500 and len(after_kill) > 200
    assert [t for t in failed if t > killed_at + HEALTH_WINDOW_S] == []
    assert len(failed) / len(outcomes) < 0.001
    assert get(base + PRICE)[2]["X-Upstream"] == second.base.removeprefix("http://")


def test_a_publish_through_the_cli_reaches_both_instances_within_5_seconds(
    cluster: Cluster, tmp_path: Path, cms_data: Path
) -> None:
    """Both instances answer the old price; after `cms-pricing ingest` of a revised release
    (the pub/sub event is the only fast path: polling is 60 s) both answer the new price,
    directly and through the LB, within 5 seconds of the CLI returning."""
    env, servers, base = cluster
    assert all(all_answer(s.base, 10915) for s in servers)
    done = cli(env, "ingest", str(revise_release(cms_data, tmp_path)))
    assert done.returncode == 0, done.stderr
    started = time.monotonic()
    for server in servers:
        remaining = 5 - (time.monotonic() - started)
        assert eventually(lambda s=server: all_answer(s.base, 11336), remaining) is not None
    assert all_answer(base, 11336)
    assert time.monotonic() - started < 5
