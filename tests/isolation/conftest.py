"""Isolation fixtures: a worker's state and its offload children over a copy of the
session's ingested database (``offload_support.Worker``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from offload_support import Worker, worker_on

from servers import copy_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> str:
    """A copy of the session's database for this module."""
    return copy_database(ingested_url, tmp_path_factory.mktemp("isolation"))


@pytest.fixture(scope="module")
def worker(database: str) -> Iterator[Worker]:
    """One offload child (the default) over the module's database."""
    with worker_on(database) as started:
        yield started


@pytest.fixture
def own_database(tmp_path: Path, ingested_url: str) -> str:
    """A copy of the session's database for one test (that publishes into it)."""
    return copy_database(ingested_url, tmp_path)
