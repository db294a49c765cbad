"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from cms_pricing.db.models import Base
from cms_pricing.db.repository import (
    HEAD_REVISION,
    alembic_config,
    create_db_engine,
    migrate,
    ping,
)


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1
    return str(heads[0])


def test_migrations_have_one_head() -> None:
    """The packaged migration scripts form one line of history (no forgotten branch)."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions[-1] == "0001"  # every revision descends from the initial one


def test_migrated_schema_matches_models(engine: Engine) -> None:
    """After ``migrate``, autogenerate finds no difference between the database and models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == head()


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    """Running ``migrate`` on a current database changes nothing and does not fail."""
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()


def test_head_revision_is_the_scripts_head() -> None:
    """``migrate`` skips Alembic when the database is at ``HEAD_REVISION``: a new migration
    script must move it, or databases would stop one revision short."""
    assert head() == HEAD_REVISION


def test_a_database_behind_is_still_upgraded(engine: Engine) -> None:
    """A database one revision behind (the cheap check sees another revision) is upgraded."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "-1")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() != head()
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()


def test_downgrade_removes_every_table(engine: Engine) -> None:
    """The initial migration's downgrade drops all it created (only Alembic's table stays)."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}


def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    """A SQLite URL in a missing folder works; connections use WAL and enforce foreign keys."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'cms.db'}")
    try:
        assert ping(engine)
        with engine.connect() as conn:
            assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert conn.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        engine.dispose()
    assert (tmp_path / "a" / "b" / "cms.db").is_file()


def test_ping_is_false_when_the_database_is_unreachable() -> None:
    """``ping`` reports an unreachable server as False instead of raising."""
    engine = create_db_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    try:
        assert ping(engine) is False
    finally:
        engine.dispose()
