"""Observability fixtures: the real data in SQLite, an in-process app, a real server.

``served`` is one ``cms-pricing serve`` process with two Granian workers on a free
loopback port, shared by the multi-worker, dashboard and Prometheus tests; its metrics
folder is private to the test session and flushed every 0.2 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from scrapes import Server, free_port, http_get

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.reference.publish import ingest_path

CLI = Path(sys.executable).parent / "cms-pricing"


@pytest.fixture(scope="session")
def ingested_url(tmp_path_factory: pytest.TempPathFactory, cms_data: Path) -> str:
    """A SQLite database URL holding every real release and the ZIP file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('obs') / 'obs.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    ingest_path(engine, cms_data, progress=lambda _line: None)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def settings(ingested_url: str) -> Settings:
    return Settings(DATABASE_URL=ingested_url, CMS_DATA_DIR=None)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole instrumented app in this process, started through its lifespan."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited before it was ready"
        try:
            if http_get(f"{base}/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base}/ready did not answer 200 within {timeout}s")


@pytest.fixture(scope="session")
def served(
    tmp_path_factory: pytest.TempPathFactory, ingested_url: str, cms_data: Path
) -> Iterator[Server]:
    """`cms-pricing serve` with 2 workers on loopback, metrics flushed every 0.2 s."""
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": ingested_url,
        "CMS_DATA_DIR": str(cms_data),
        "CMS_PRICING_HOST": "127.0.0.1",
        "CMS_PRICING_PORT": str(port),
        "CMS_PRICING_WORKERS": "2",
        "CMS_PRICING_METRICS_DIR": str(folder / "metrics"),
        "CMS_PRICING_METRICS_FLUSH_SECONDS": "0.2",
    }
    env.pop("REDIS_URL", None)
    log = folder / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(CLI), "serve"], env=env, stdout=out, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", port, folder / "metrics", log)
    try:
        wait_ready(server.base, proc)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
