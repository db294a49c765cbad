"""Shared test fixtures: where the real CMS files are.

The real CMS 2025 files live outside the repository (AMA copyright); tests read them from
``CMS_DATA_DIR`` or ``../shared/cms-data``. A missing folder is an error, not a skip: the
correctness evidence of this project is those files.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import fastapi.dependencies.models as fastapi_dependencies
import pytest

from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.reference.publish import ingest_path
from servers import cms_data_root


@pytest.fixture(scope="session", autouse=True)
def shared_snapshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One CMS_PRICING_SNAPSHOT_DIR for the run (every xdist worker and server it starts):
    compiled files are named by content, so copies of one database share one file, as the
    workers of one instance do, instead of each test server compiling its own."""
    folder = tmp_path_factory.getbasetemp().parent / "snapshots"
    before = os.environ.get("CMS_PRICING_SNAPSHOT_DIR")
    os.environ["CMS_PRICING_SNAPSHOT_DIR"] = str(folder)
    yield folder
    if before is None:
        del os.environ["CMS_PRICING_SNAPSHOT_DIR"]
    else:
        os.environ["CMS_PRICING_SNAPSHOT_DIR"] = before


@pytest.fixture(scope="session", autouse=True)
def rate_limits_off() -> Iterator[None]:
    """The suite runs with ``CMS_PRICING_RATE_LIMITS=false``, as the benchmarks and load tests
    do (docs/auth.md): a test server answers thousands of requests a minute from one address.
    The tests of the limits (tests/auth, tests/ratelimit) turn them on in their own settings."""
    before = os.environ.get("CMS_PRICING_RATE_LIMITS")
    os.environ["CMS_PRICING_RATE_LIMITS"] = "false"
    yield
    if before is None:
        del os.environ["CMS_PRICING_RATE_LIMITS"]
    else:
        os.environ["CMS_PRICING_RATE_LIMITS"] = before


# The resident size at the last collection (tests/conftest.py ``forget_finished_apps``).
COLLECTED_AT = [0]
COLLECT_EVERY_BYTES = 1 << 30


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(autouse=True)
def forget_finished_apps() -> Iterator[None]:
    """Let each test's apps, states and snapshots (about 230 MB each) be freed after it.

    A test process making hundreds of apps grew to 17.6 GB and was killed for memory:

    - FastAPI keeps the route functions it classified in ``lru_cache``s (4,096 entries),
      and through them each app and its state: emptied after each test;
    - a state's load freezes the heap (``gc.freeze``, service/state.py: a worker's one
      snapshot stays out of every collection), so an app and state in a reference cycle
      are never collected once frozen: whenever the process grew by a GiB since the last
      time, the heap is unfrozen, collected here (and only here) and frozen again.
    """
    yield
    for value in vars(fastapi_dependencies).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    if resident_bytes() > COLLECTED_AT[0] + COLLECT_EVERY_BYTES:
        gc.unfreeze()
        # What this frees includes the database connections of states that earlier tests
        # dropped without disposing their engines; psycopg says so with a ResourceWarning as
        # each is closed, which would fail whichever test happens to be running here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        gc.freeze()  # what is left is in use: out of the automatic collections' way again
        COLLECTED_AT[0] = resident_bytes()


@pytest.fixture(scope="session")
def cms_data() -> Path:
    """The CMS data tree root (holds ``2025/rvu25a`` ... ``2025/zip-locality-2025q4``)."""
    return cms_data_root()


@pytest.fixture(scope="session")
def ingested_url(tmp_path_factory: pytest.TempPathFactory, cms_data: Path) -> str:
    """A SQLite database URL holding every real release and the ZIP file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    ingest_path(engine, cms_data, progress=lambda _line: None)
    engine.dispose()
    return url
