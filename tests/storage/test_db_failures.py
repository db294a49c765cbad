"""db/failures.py: which database errors become ``DatabaseUnavailable``, and which do not.

The outage seen over HTTP is tests/plans/test_database_down.py (a real PostgreSQL stopped
mid-test); these pin the translation rules on their own: a pool with no free connection, a
closed port, a replica down with the primary up, and a bug-class error left alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from cms_pricing.db import plans as store
from cms_pricing.db.failures import translating
from cms_pricing.db.keys import LEGACY
from cms_pricing.db.repository import create_db_engine, migrate
from cms_pricing.db.routing import Databases
from cms_pricing.errors import DatabaseUnavailable
from servers import free_port

CLOSED = "postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def test_no_free_pool_connection_is_database_unavailable(tmp_path: Path) -> None:
    """A pool whose only connection is checked out, with a 0.1 s wait: 503, not a 500."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    setup = create_db_engine(url)
    migrate(setup)
    setup.dispose()
    engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with engine.connect(), pytest.raises(DatabaseUnavailable) as caught:
        store.count_plans(engine, owner=LEGACY)
    assert caught.value.status_code == 503
    assert caught.value.headers == (("retry-after", "2"),)
    engine.dispose()


def test_a_closed_port_is_database_unavailable_for_reads_and_writes() -> None:
    """Nothing listens on the port: list, get and delete all raise DatabaseUnavailable, and
    the message holds no driver words."""
    engine = create_db_engine(CLOSED.format(port=free_port()))
    calls = [
        lambda: store.list_plans(engine, None, 20, owner=LEGACY),
        lambda: store.get_plan(engine, "pln_" + "0" * 24, owner=LEGACY),
        lambda: store.delete_plan(engine, "pln_" + "0" * 24, 1, owner=LEGACY),
        lambda: Databases(engine).read(store.count_plans, owner=LEGACY),
    ]
    for call in calls:
        with pytest.raises(DatabaseUnavailable) as caught:
            call()
        assert caught.value.message == "the database did not answer; retry in a moment"
    engine.dispose()


def test_a_down_replica_still_falls_back_to_the_primary(tmp_path: Path) -> None:
    """The replica's DatabaseUnavailable is a reason to read the primary, not an answer."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    primary = create_db_engine(url)
    migrate(primary)
    replica = create_db_engine(CLOSED.format(port=free_port()))
    databases = Databases(primary, [replica])
    assert databases.read(store.count_plans, owner=LEGACY) == 0
    databases.dispose()


def test_errors_that_are_not_outages_pass_through(tmp_path: Path) -> None:
    """A duplicate key or bad SQL is a bug, not an outage: the driver error is raised as is."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError), translating(), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(ProgrammingError), translating(), engine.connect() as conn:
        conn.execute(text("SELECT * FROM t; SELECT 1"))
    engine.dispose()
