"""Storage fixtures: a fresh database on SQLite and on PostgreSQL, and real-file helpers.

``db_url`` (one fresh database per test) and ``module_db_url`` (one per test module, for the
expensive real-data ingests) are parametrized over ``sqlite`` (a file under a temporary
folder) and ``postgres`` (a database ``cms_pricing_test_<random>`` created on the server at
127.0.0.1:5432 and dropped afterwards). The postgres cases carry the ``postgres`` marker;
when the server is unreachable they FAIL: CI starts PostgreSQL, and a silent skip would hide
that half of the storage evidence.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from cms_pricing.db.repository import create_db_engine, migrate

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database; a PostgreSQL one is dropped on exit."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'db' / 'cms.db'}"
        return
    name = f"cms_pricing_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER}: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty (not migrated) database for one test."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database shared by the tests of one module."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@contextmanager
def migrated_engine(url: str) -> Iterator[Engine]:
    engine = create_db_engine(url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh database for one test."""
    with migrated_engine(db_url) as eng:
        yield eng


@pytest.fixture(scope="module")
def module_engine(module_db_url: str) -> Iterator[Engine]:
    """A migrated engine on a database shared by one test module."""
    with migrated_engine(module_db_url) as eng:
        yield eng


CopyFolder = Callable[[Path, Path], Path]


def _copy_folder(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for file in source.iterdir():
        if file.suffix.lower() == ".txt":
            shutil.copyfile(file, target / file.name)  # copyfile: the originals are read-only
    return target


@pytest.fixture(scope="session")
def copy_folder() -> CopyFolder:
    """``copy_folder(source, target)``: a writable copy of the ``.txt`` files of a folder."""
    return _copy_folder
