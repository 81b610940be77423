"""Alembic environment, configured from code (runze.store.migrate): no alembic.ini is needed.

The caller passes an open connection in `config.attributes["connection"]`; otherwise the URL in the config's
`sqlalchemy.url` is used.  SQLite gets batch mode so that later ALTERs work.
"""

from __future__ import annotations

from alembic import context

import runze.store  # noqa: F401  (registers every model on the metadata)
from runze.store.base import Base
from runze.store.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Runze migrations run online only")
run_migrations_online()
