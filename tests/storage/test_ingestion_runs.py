"""A killed ``cms-pricing ingest`` does not leave its ``ingestion_runs`` row ``running`` forever.

The end-to-end tests start a real ``cms-pricing ingest`` of a copy of RVU25D, SIGKILL it once
it has parsed its first file, and check that the next ingest (or ``serve`` start) marks that
run ``failed`` with the reason and then publishes normally, on SQLite and PostgreSQL. The
other tests pin each rule of ``db/runs.py`` on rows written directly.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, select

from cms_pricing.db import runs
from cms_pricing.db.repository import (
    RUNS,
    alembic_config,
    create_db_engine,
    migrate,
    recent_runs,
    start_run,
)
from servers import CLI, get, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def release_copy(cms_data: Path, copy_folder: Callable[[Path, Path], Path], tmp_path: Path) -> Path:
    """A writable copy of RVU25D's files."""
    return copy_folder(cms_data / "2025" / "rvu25d", tmp_path / "data" / "2025" / "rvu25d")


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CMS_DATA_DIR"}
    return {**env, "DATABASE_URL": db_url, "CMS_PRICING_METRICS": "true", **extra}


def _killed_ingest(db_url: str, folder: Path, cwd: Path) -> int:
    """Start `cms-pricing ingest folder`, SIGKILL it after its first parsed file; its pid."""
    process = subprocess.Popen(
        [str(CLI), "ingest", str(folder)], env=_env(db_url), cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if "rows, sha256" in line:  # one file parsed: the run is under way
            break
    else:
        pytest.fail(f"ingest ended before parsing a file (exit {process.wait()})")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    return process.pid


def _runs(db_url: str) -> list[dict[str, Any]]:
    engine = create_db_engine(db_url)
    try:
        return recent_runs(engine)
    finally:
        engine.dispose()


def test_the_next_ingest_marks_a_killed_run_failed_and_publishes(
    db_url: str, release_copy: Path, tmp_path: Path
) -> None:
    """SIGKILL mid-ingest leaves a ``running`` row with this host and the pid; the next
    ingest marks it ``failed`` naming the gone process, says so, and publishes RVU25D."""
    pid = _killed_ingest(db_url, release_copy, tmp_path)
    [killed] = _runs(db_url)
    assert (killed["outcome"], killed["host"], killed["pid"]) == (
        "running", socket.gethostname(), pid)  # fmt: skip
    again = subprocess.run([str(CLI), "ingest", str(release_copy)], env=_env(db_url), check=False,
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"ingestion run {killed['id']} marked failed:" in again.stdout
    published, failed = _runs(db_url)
    assert (failed["id"], failed["outcome"]) == (killed["id"], "failed")
    assert f"pid {pid} on {socket.gethostname()}" in failed["message"]
    assert failed["finished_at"] is not None
    assert (published["dataset_id"], published["outcome"]) == ("RVU25D", "published")


def test_serve_start_marks_a_killed_run_failed_and_metrics_agree(
    db_url: str, release_copy: Path, tmp_path: Path
) -> None:
    """`serve` marks the killed run ``failed`` before it starts (and ingests the empty
    database); /metrics then counts it as failed and no run as running."""
    pid = _killed_ingest(db_url, release_copy, tmp_path)
    env = _env(db_url, CMS_DATA_DIR=str(release_copy))
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        log = server.log.read_text()
        status, _body, _headers = get(server.url("/ready"))
        metrics = _metrics(server.url("/metrics"))
    assert status == 200
    assert "marked failed: the ingest process (pid" in log
    outcomes = {row["outcome"] for row in _runs(db_url)}
    assert outcomes == {"failed", "published"}
    assert f"pid {pid} " in next(r["message"] for r in _runs(db_url) if r["outcome"] == "failed")
    assert 'api_ingestion_runs{outcome="failed"} 1.0' in metrics
    assert 'api_ingestion_runs{outcome="running"}' not in metrics


def _metrics(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


# -- the rules of db/runs.py, on rows written directly ----------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _row(engine: Engine, **values: Any) -> int:
    now = datetime.now(UTC)
    record = {"source": "x", "dataset_id": "RVU25D", "started_at": now, "outcome": "running",
              "message": "", "host": socket.gethostname(), "pid": os.getpid(),
              "heartbeat_at": now, **values}  # fmt: skip
    with engine.begin() as conn:
        key = conn.execute(insert(RUNS).values(record)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _outcome(engine: Engine, run_id: int) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one()
    return row.outcome, row.message


@pytest.fixture
def ago() -> Any:
    """``ago(seconds)``: the UTC time that many seconds before now."""
    return lambda seconds: datetime.now(UTC) - timedelta(seconds=seconds)


def test_which_running_runs_are_stale(engine: Engine, ago: Any) -> None:
    """Dead pid on this host: stale at once. Live pid (this process), or another host's run
    with a recent heartbeat: alive. Another host silent 11 min, or a pre-0004 row (no host)
    started 11 min ago: stale. Finished runs are never touched."""
    dead = _row(engine, pid=_dead_pid())
    mine = _row(engine)
    near = _row(engine, host="elsewhere", pid=1, heartbeat_at=ago(60))
    far = _row(engine, host="elsewhere", pid=1, heartbeat_at=ago(660))
    legacy = _row(engine, host=None, pid=None, heartbeat_at=None, started_at=ago(660))
    done = _row(engine, pid=_dead_pid(), outcome="published")
    assert runs.outcome_counts(engine) == {"running": 2, "failed": 3, "published": 1}
    reaped = runs.reap_stale(engine)
    assert [r.run_id for r in reaped] == [dead, far, legacy]
    assert _outcome(engine, dead)[0] == "failed" and "is gone" in _outcome(engine, dead)[1]
    assert "no heartbeat from the ingest process (pid 1 on elsewhere) for 66" in (
        _outcome(engine, far)[1])  # fmt: skip
    assert "from before heartbeats" in _outcome(engine, legacy)[1]
    for alive in (mine, near):
        assert _outcome(engine, alive) == ("running", "")
    assert _outcome(engine, done) == ("published", "")
    assert runs.reap_stale(engine) == []


def test_a_live_run_renews_its_heartbeat(engine: Engine) -> None:
    """While ``heartbeat`` runs, ``heartbeat_at`` moves forward; the thread stops after."""
    run_id = start_run(engine, "x", "RVU25D")
    first = _beat_of(engine, run_id)
    with runs.heartbeat(engine, run_id, every_s=0.05):
        deadline = time.monotonic() + 5
        while _beat_of(engine, run_id) == first and time.monotonic() < deadline:
            time.sleep(0.02)
    stopped = _beat_of(engine, run_id)
    assert stopped > first
    time.sleep(0.2)
    assert _beat_of(engine, run_id) == stopped


def _beat_of(engine: Engine, run_id: int) -> datetime:
    with engine.connect() as conn:
        beat = conn.scalar(select(RUNS.c.heartbeat_at).where(RUNS.c.id == run_id))
    assert isinstance(beat, datetime)
    return beat


def test_migration_0004_keeps_old_runs_and_downgrades(db_url: str) -> None:
    """A run written at revision 0003 survives the upgrade with NULL host, pid, heartbeat;
    downgrading to 0003 drops the three columns again."""
    engine = create_db_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0003")
            conn.exec_driver_sql(
                "INSERT INTO ingestion_runs (source, started_at, outcome, message) "
                "VALUES ('old', '2026-11-01 00:00:00+00:00', 'running', '')"
            )
        migrate(engine)
        [row] = recent_runs(engine)
        assert (row["source"], row["host"], row["pid"], row["heartbeat_at"]) == (
            "old", None, None, None)  # fmt: skip
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")
        columns = {c["name"] for c in inspect(engine).get_columns("ingestion_runs")}
        assert "source" in columns and not columns & {"host", "pid", "heartbeat_at"}
    finally:
        engine.dispose()
