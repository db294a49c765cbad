"""Alembic environment, packaged with the module so migrations run from an installed wheel.

``cms_pricing.db.repository.migrate(engine)`` passes an open connection in
``config.attributes["connection"]``; the ``alembic`` command line (``alembic -c
src/cms_pricing/db/migrations/alembic.ini ...``, for writing new revisions) has none and
connects to ``DATABASE_URL`` from the project settings instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cms_pricing.config import get_settings
from cms_pricing.db.models import Base
from cms_pricing.db.repository import create_db_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(get_settings().database_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
_run_online()
