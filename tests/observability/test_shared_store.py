"""Merging worker snapshots: counters survive workers, gauges follow live workers only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from scrapes import samples, total

from cms_pricing.observability import shared


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def worker_registry(requests: float, active: float, loaded: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("api_requests", "r", ["endpoint"], registry=registry).labels("/x").inc(requests)
    Gauge("api_active_connections", "a", registry=registry).set(active)
    Gauge("api_release_loaded_published_timestamp_seconds", "l", registry=registry).set(loaded)
    Gauge("api_db_pool_capacity", "c", registry=registry).set(15)
    return registry


def merged(directory: Path) -> str:
    return generate_latest(Families(shared.merge(shared.read_all(directory)))).decode()


class Families:
    def __init__(self, families: list[object]) -> None:
        self.families = families

    def collect(self) -> list[object]:
        return self.families


def test_counters_sum_over_all_workers_and_gauges_over_live_ones(tmp_path: Path) -> None:
    """Dead or finished workers keep their counts but drop their gauges; modes apply."""
    me, gone = os.getpid(), dead_pid()
    shared.write(tmp_path, me, shared.snapshot(worker_registry(5, 2, 200)), final=False)
    shared.write(tmp_path, gone, shared.snapshot(worker_registry(7, 9, 50)), final=False)
    shared.write(tmp_path, 1, shared.snapshot(worker_registry(11, 4, 100)), final=True)
    found = samples(merged(tmp_path))
    assert total(found, "api_requests_total", endpoint="/x") == 23
    assert total(found, "api_active_connections") == 2  # sum over the one live worker
    assert total(found, "api_release_loaded_published_timestamp_seconds") == 200
    assert total(found, "api_db_pool_capacity") == 15


def test_gauges_combine_by_their_mode(tmp_path: Path) -> None:
    """Two live workers: active requests add up, loaded publish time takes the stalest."""
    parent = os.getppid()
    shared.write(tmp_path, os.getpid(), shared.snapshot(worker_registry(1, 2, 200)), final=False)
    shared.write(tmp_path, parent, shared.snapshot(worker_registry(1, 3, 100)), final=False)
    found = samples(merged(tmp_path))
    assert total(found, "api_active_connections") == 5
    assert total(found, "api_release_loaded_published_timestamp_seconds") == 100
    assert total(found, "api_db_pool_capacity") == 30


def test_prepare_empties_the_folder_and_names_its_owner(tmp_path: Path) -> None:
    """A server start removes old snapshots; only the owner's children use the folder."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "worker-1.json").write_text("{}")
    shared.prepare(folder, 4242)
    assert sorted(p.name for p in folder.iterdir()) == ["owner"]
    assert shared.owned_by(folder, 4242)
    assert not shared.owned_by(folder, 4243)
    assert not shared.owned_by(tmp_path / "absent", 4242)


def test_a_torn_file_is_skipped(tmp_path: Path) -> None:
    """A snapshot that cannot be parsed is skipped, not a failed scrape."""
    (tmp_path / "worker-9.json").write_text('{"pid": 9, "fin')
    shared.write(tmp_path, os.getpid(), shared.snapshot(worker_registry(3, 0, 1)), final=False)
    assert total(samples(merged(tmp_path)), "api_requests_total") == 3
