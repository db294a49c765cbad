"""Read replicas against a real PostgreSQL streaming replica, made by the test.

``deploy/postgres/make-replica.sh`` copies the server at 127.0.0.1:5432 with
``pg_basebackup -R`` into a temporary folder and starts it as a hot standby on a free
loopback port. A real `cms-pricing serve` then gets the primary as ``DATABASE_URL`` and the
replica in ``DATABASE_REPLICA_URLS``.

Which database answered is made visible by pausing WAL replay on the replica: a plan saved
(on the primary) while replay is paused is "404 not found" exactly when the read went to
the replica, and 200 when it went to the primary.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cms_pricing.api.plan_schemas import PLAN_EXAMPLE
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.reference.publish import ingest_path
from servers import Server, eventually, free_port, get, new_key, serve

ROOT = Path(__file__).resolve().parents[2]
MAKE_REPLICA = ROOT / "deploy" / "postgres" / "make-replica.sh"
PG = "postgresql+psycopg://postgres@127.0.0.1:{port}/{db}"


@dataclass
class Replica:
    port: int
    data: Path

    def pg_ctl(self, *args: str) -> None:
        binary = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        command = [str(binary), "-D", str(self.data), "-w", "-t", "60", *args]
        owner = ["runuser", "-u", "postgres", "--"] if _root() else []
        subprocess.run([*owner, *command], check=True, capture_output=True, timeout=90)

    def sql(self, statement: str) -> None:
        engine = create_engine(PG.format(port=self.port, db="postgres"))
        with engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()


def _root() -> bool:
    return Path("/proc/self").stat().st_uid == 0


@pytest.fixture(scope="module")
def primary_db(cms_data: Path) -> Iterator[str]:
    """A database on the primary holding RVU25D and the ZIP file (dropped afterwards)."""
    name = f"cms_pricing_replica_{secrets.token_hex(4)}"
    admin = create_engine(PG.format(port=5432, db="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(PG.format(port=5432, db=name))
    try:
        migrate(engine)
        for folder in ("rvu25d", "zip-locality-2025q4"):
            ingest_path(engine, cms_data / "2025" / folder, progress=lambda _line: None)
        engine.dispose()
        yield name
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def replica(primary_db: str) -> Iterator[Replica]:
    """A streaming replica of the primary (with ``primary_db`` in it) on a free port."""
    folder = Path(tempfile.mkdtemp(prefix="cms-replica-"))
    folder.chmod(0o755)  # the postgres OS user must reach the data folder inside
    made = Replica(free_port(), folder / "data")
    done = subprocess.run(
        [str(MAKE_REPLICA), "5432", str(made.port), str(made.data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        yield made
    finally:
        subprocess.run(
            [*(["runuser", "-u", "postgres", "--"] if _root() else []),
             str(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]),
             "-D", str(made.data), "stop", "-m", "immediate"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _save_plan(server: Server, key: dict[str, str]) -> str:
    body = json.dumps({"name": "replica check", **PLAN_EXAMPLE}).encode()
    request = urllib.request.Request(
        server.url("/plans"), data=body, headers={"Content-Type": "application/json", **key}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return str(json.loads(response.read())["id"])


def _status(server: Server, plan_id: str, key: dict[str, str]) -> int:
    return get(server.url(f"/plans/{plan_id}"), headers=key)[0]


def _keep_reading(
    server: Server,
    plan_id: str,
    key: dict[str, str],
    stop: threading.Event,
    statuses: list[int | str],
) -> None:
    while not stop.is_set():
        try:
            statuses.append(_status(server, plan_id, key))
        except OSError as exc:
            statuses.append(repr(exc))


def test_reads_use_the_replica_fall_back_to_the_primary_and_return(
    tmp_path: Path, primary_db: str, replica: Replica
) -> None:
    """1. With replay paused on the replica, a plan saved through the API (a write: primary)
    reads as 404 (the read went to the replica); resuming replay makes it 200.
    2. The replica is stopped while a client keeps reading: every read answers 200 (they
    fall back to the primary) and the fallback is logged.
    3. The replica is started again and replay paused: a newly saved plan reads as 404
    again within a few seconds, so reads went back to the replica."""
    # Saved plans need a key; keys are read from the primary (service/keyring.py).
    key = {"X-API-Key": new_key(PG.format(port=5432, db=primary_db), "read", "plans:write")}
    env = {
        "DATABASE_URL": PG.format(port=5432, db=primary_db),
        "DATABASE_REPLICA_URLS": PG.format(port=replica.port, db=primary_db),
        "CMS_PRICING_DB_REPLICA_RETRY_SECONDS": "1",
        "CMS_PRICING_POLL_SECONDS": "60",
    }
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        replica.sql("SELECT pg_wal_replay_pause()")
        first = _save_plan(server, key)
        assert _status(server, first, key) == 404
        replica.sql("SELECT pg_wal_replay_resume()")
        assert eventually(lambda: _status(server, first, key) == 200, 5) is not None

        statuses: list[int | str] = []
        stop = threading.Event()
        reader = threading.Thread(target=_keep_reading, args=(server, first, key, stop, statuses))
        reader.start()
        replica.pg_ctl("stop", "-m", "immediate")
        eventually(lambda: len(statuses) > 200, 20)
        stop.set()
        reader.join(timeout=30)
        assert len(statuses) > 200 and set(statuses) == {200}
        assert "read replica 0 unreachable" in server.log.read_text()

        replica.pg_ctl("start", "-l", str(replica.data / "server.log"))
        replica.sql("SELECT pg_wal_replay_pause()")
        second = _save_plan(server, key)
        assert eventually(lambda: _status(server, second, key) == 404, 10) is not None
        assert "read replica 0 is back" in server.log.read_text()
        replica.sql("SELECT pg_wal_replay_resume()")
        assert eventually(lambda: _status(server, second, key) == 200, 5) is not None
