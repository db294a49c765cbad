"""A real server with two workers: /metrics reports every worker's requests, exactly."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from scrapes import Server, http_get, samples, total

N = 300


def price_count(server: Server) -> float:
    status, body = http_get(f"{server.base}/metrics")
    assert status == 200
    return total(samples(body.decode()), "api_requests_total", endpoint="/codes/price")


def test_metrics_count_every_worker_exactly(served: Server) -> None:
    """N requests spread over two workers: every scrape converges to exactly N, never more."""
    start = price_count(served)
    urls = [f"{served.base}/codes/price?code=99213&zip={94100 + i % 50}" for i in range(N)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda url: http_get(url)[0], urls))
    assert len(statuses) == N
    deadline = time.monotonic() + 10
    while len(snapshots(served)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(snapshots(served)) == 2, "both workers flush snapshots"
    seen: list[float] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen.append(price_count(served) - start)
        if seen[-3:] == [N, N, N]:
            break
        time.sleep(0.1)
    assert seen[-3:] == [N, N, N], seen
    assert max(seen) == N


def snapshots(server: Server) -> list[Path]:
    return sorted(server.metrics_dir.glob("worker-*.json"))


def test_both_workers_served_the_load(served: Server) -> None:
    """The load really was spread: each worker's own snapshot holds part of the count."""
    for _ in range(100):
        http_get(f"{served.base}/health")
    time.sleep(0.5)
    counts = [health_count(path) for path in snapshots(served)]
    assert len(counts) == 2
    assert all(c > 0 for c in counts), counts


def health_count(snapshot: Path) -> float:
    families = orjson.loads(snapshot.read_bytes())["families"]
    return sum(
        value
        for family in families
        if family["name"] == "api_requests"
        for name, labels, value in family["samples"]
        if name == "api_requests_total" and labels["endpoint"] == "/health"
    )
