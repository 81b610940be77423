"""Opening, creating and checking the database, for the web service and the CLI (which may not use the store)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from runze.settings import Settings
from runze.store import User, make_engine, make_session_factory
from runze.store import migrate as store_migrate
from runze.store.engine import normalise_url


@dataclass
class Database:
    """An engine and its session factories: `sessions` for use cases (one transaction each) and `reads` for
    requests that only read (autocommit: each SELECT is its own snapshot and no BEGIN/ROLLBACK round trips)."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, url: str | None = None) -> Database:
    url = normalise_url(url or settings.database_url)
    engine = make_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, echo=settings.echo_sql
    )
    # the same pool: a connection is switched to autocommit for the read and back when it returns (client-side
    # flags in both drivers, no round trip)
    readonly = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Database(url=url, engine=engine, sessions=make_session_factory(engine),
                    reads=make_session_factory(readonly))


def migrate(db: Database) -> str | None:
    """Create or upgrade the schema to the newest revision; returns that revision."""
    store_migrate.upgrade(db.engine)
    return store_migrate.current_revision(db.engine)


def schema_state(db: Database) -> tuple[str | None, str | None]:
    """(revision of the database, newest revision of this code)."""
    return store_migrate.current_revision(db.engine), store_migrate.head_revision()


def ping(db: Database) -> bool:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None
