"""Engine and session factory for a database URL (SQLite file or PostgreSQL via psycopg 3).

SQLite gets foreign keys switched on, WAL journal and a busy timeout, so that the web service's threads and a
CLI command can share one file.  The directory of an SQLite file is created on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and route them to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, pool_size: int = 40, max_overflow: int = 10, echo: bool = False) -> Engine:
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif make_url(url).get_backend_name() == "postgresql":
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: use-case functions return the objects they committed, still readable
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
