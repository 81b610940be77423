"""API fixtures: an app on a fresh database with one user per role and a bearer token for each.

Import with `from runze_api_fixtures import *` (it brings the database fixtures too).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from runze_db_fixtures import *  # noqa: F403
from runze_db_fixtures import __all__ as DB_FIXTURES
from runze_db_fixtures import make_settings

from runze.ops import users as user_ops
from runze.ops.auth import ROLES, SYSTEM, create_access_token
from runze.ops.database import Database, open_database
from runze.web import create_app

PASSWORD = "password-for-tests"

__all__ = ["Api", "PASSWORD", "api", "api_on", "make_api", "sqlite_api", *DB_FIXTURES]


@dataclass
class Api:
    app: FastAPI
    database: Database
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def as_role(self, role: str) -> TestClient:
        """A separate client that sends `role`'s token (each client is what one user's browser would be)."""
        client = TestClient(self.app, raise_server_exceptions=False)
        client.headers.update(self.headers(role))
        return client


def make_api(url: str) -> Api:
    settings = make_settings(url)
    database = open_database(settings)
    app = create_app(settings, database=database)
    api = Api(app=app, database=database, client=TestClient(app, raise_server_exceptions=False))
    with database.session() as session:
        for role in ROLES:
            user = user_ops.create_user(session, SYSTEM, username=f"u_{role}", password=PASSWORD, role=role,
                                        settings=settings)
            api.tokens[role] = create_access_token(user, settings)
            api.user_ids[role] = user.id
    return api


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    """Most API tests run on SQLite; the store tests and the concurrency tests cover PostgreSQL too."""
    api = make_api(sqlite_url)
    yield api
    api.database.dispose()


api = sqlite_api


@pytest.fixture
def api_on(db_url: str) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL (parametrised through `db_url`)."""
    api = make_api(db_url)
    yield api
    api.database.dispose()
