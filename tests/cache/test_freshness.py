"""Freshness across processes: published releases and Redis faults, with real servers.

A "revised release" here is a copy of RVU25D whose GPCI file raises San Francisco's
(01112-05) work GPCI from 1.088 to 1.188 — a CMS correction in miniature. 99213 at ZIP
94110 in the office then moves from

    (1.30 x 1.088 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465 = 109.154881575 -> 10915 cents
to  (1.30 x 1.188 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465 = 113.359926575 -> 11336 cents.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import urllib.error
from collections.abc import Iterator
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
    free_port,
    get,
    revise_release,
    serve,
)

EVENTS_REDIS = "redis://127.0.0.1:6379/6"


@pytest.fixture
def revised_release(tmp_path: Path, cms_data: Path) -> Path:
    return revise_release(cms_data, tmp_path)


def all_workers_answer(server: Server, expected: int) -> bool:
    return all_answer(server.base, expected)


def test_a_publish_reaches_every_instance_within_5_seconds(
    tmp_path: Path, ingested_url: str, revised_release: Path
) -> None:
    """Two servers (two workers each) share one Redis; polling is set to 60 s so only the
    pub/sub event can be fast. Ingesting a revised release through the CLI makes both
    answer the new price within 5 seconds."""
    redis.Redis.from_url(EVENTS_REDIS).close()
    env = {
        "DATABASE_URL": copy_database(ingested_url, tmp_path),
        "REDIS_URL": EVENTS_REDIS,
        "CMS_PRICING_POLL_SECONDS": "60",
    }
    with serve(env, tmp_path / "a.log") as first, serve(env, tmp_path / "b.log") as second:
        assert all_workers_answer(first, 10915)
        assert all_workers_answer(second, 10915)
        done = cli(env, "ingest", str(revised_release))
        assert done.returncode == 0, done.stderr
        assert "announced on redis" in done.stdout
        started = time.monotonic()
        assert eventually(lambda: all_workers_answer(first, 11336), 5) is not None
        assert eventually(
            lambda: all_workers_answer(second, 11336), 5 - (time.monotonic() - started)
        )


def test_without_redis_instances_poll_the_database(
    tmp_path: Path, ingested_url: str, revised_release: Path
) -> None:
    """No REDIS_URL: each worker polls the release table (here every second) and swaps in
    the revised release on its own."""
    env = {"DATABASE_URL": copy_database(ingested_url, tmp_path), "CMS_PRICING_POLL_SECONDS": "1"}
    with serve(env, tmp_path / "serve.log") as server:
        assert all_workers_answer(server, 10915)
        done = cli(env, "ingest", str(revised_release))
        assert done.returncode == 0, done.stderr
        assert eventually(lambda: all_workers_answer(server, 11336), 15) is not None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    assert eventually(lambda: _pings(client), 5) is not None
    client.close()
    yield port, process
    process.kill()
    process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_redis_dying_mid_load_fails_no_request(
    tmp_path: Path, ingested_url: str, own_redis: tuple[int, subprocess.Popen[bytes]]
) -> None:
    """Load runs against a server using a Redis the test started; the test kills that Redis
    mid-load. No request fails, /ready reports degraded but serving, the fault is logged
    once per worker, and after Redis comes back /ready says ok again."""
    port, redis_process = own_redis
    env = {
        "DATABASE_URL": copy_database(ingested_url, tmp_path),
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
    }
    with serve(env, tmp_path / "serve.log") as server:
        failures: list[str] = []
        stop = threading.Event()
        counts = [0, 0]
        threads = [
            threading.Thread(target=_load, args=(server, stop, failures, counts, n))
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        redis_process.send_signal(signal.SIGKILL)
        redis_process.wait(timeout=10)
        time.sleep(2.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []
        assert sum(counts) > 200
        status, body, _headers = get(server.url("/ready"))
        assert (status, body["status"], body["redis"]) == (200, "degraded", "degraded")
        assert server.log.read_text().count("redis unavailable") <= 2  # once per worker
        restarted = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            assert (
                eventually(
                    lambda: all(get(server.url("/ready"))[1]["redis"] == "ok" for _ in range(6)), 15
                )
                is not None
            )
        finally:
            restarted.kill()
            restarted.wait(timeout=10)


def _load(
    server: Server, stop: threading.Event, failures: list[str], counts: list[int], n: int
) -> None:
    """Prices, ZIP lookups and the locality list of each release (shared through Redis)."""
    paths = [PRICE, "/reference/localities?zip=10001"]
    paths += [f"/reference/localities?release=RVU25{q}" for q in "ABCD"]
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        try:
            status, _body, _headers = get(server.url(path))
        except (OSError, urllib.error.URLError) as exc:
            failures.append(f"{path}: {exc!r}")
            continue
        if status != 200:
            failures.append(f"{path}: {status}")
        counts[n] += 1
