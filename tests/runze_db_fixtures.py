"""Database fixtures for the store and API tests: every test using `db_url` runs on SQLite and on PostgreSQL.

SQLite: a migrated template file is copied per test.  PostgreSQL (127.0.0.1:5432, user postgres): a migrated
template database is made once per session and each test gets `CREATE DATABASE runze_test_<random> TEMPLATE
...`, dropped at the end; if the server is unreachable those tests are skipped with the reason.
Import the fixtures into a test module with `from runze_db_fixtures import *`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from runze.ops.database import Database, migrate, open_database
from runze.settings import Settings

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
BACKENDS = ["sqlite", "postgresql"]

__all__ = ["BACKENDS", "database", "db_url", "make_settings", "pg_template", "pg_url", "settings", "sqlite_template",
           "sqlite_url"]


def make_settings(url: str = "sqlite://") -> Settings:
    # cheap argon2 so that creating users in tests is quick; the production defaults are argon2-cffi's
    return Settings(database_url=url, secret_key="test-secret-not-for-production-0123456789", argon2_time_cost=1,
                    argon2_memory_kib=64, db_pool_size=10, db_max_overflow=10)


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runze-template") / "template.db"
    db = open_database(make_settings(), f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    try:
        _pg_admin("SELECT 1")
    except psycopg.OperationalError as exc:
        yield f"unreachable: {str(exc).strip().splitlines()[0]}"
        return
    name = f"runze_tpl_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    db = open_database(make_settings(), PG_URL.format(name=name))
    migrate(db)
    db.dispose()
    yield name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "runze.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_template: str | None) -> Iterator[str]:
    if pg_template is None or pg_template.startswith("unreachable"):
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 {pg_template}")
    name = f"runze_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield PG_URL.format(name=name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A freshly migrated, empty database: SQLite file or PostgreSQL database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = open_database(settings)
    yield db
    db.dispose()
