"""Dependencies of the routes: settings, database session, the current user, and the permission check.

Every route declares either `Annotated[Actor, require("some:action")]` or `public()`; the tests walk the app's
routes and the permission table together, so a route without its check cannot slip in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from runze.ops import auth as auth_ops
from runze.ops.auth import Actor
from runze.ops.database import Database
from runze.ops.errors import AuthenticationFailed, InvalidInput
from runze.settings import Settings

TOKEN_URL = "/api/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


# `async def` for dependencies that do no I/O: FastAPI runs them on the event loop instead of handing each to
# the thread pool (a thread hop per dependency per request costs more than the work itself)
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    return request.app.state.database


# The session dependencies take the request, not `get_database`: each level of sub-dependency costs FastAPI
# about as much as the work done here, on every request.
async def get_session(request: Request) -> AsyncIterator[Session]:
    session = request.app.state.database.sessions()  # no I/O until the first query, in the route's thread
    try:
        yield session
    finally:
        # closed right here, not queued for a pool thread: a session waiting in that queue would hold its
        # database connection while every thread waits for one (the ROLLBACK is one local round trip)
        session.close()


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for routes that only read: autocommit, so one SELECT is the whole conversation (no BEGIN, no
    ROLLBACK, and closing it costs no round trip); a route that reads with several SELECTs must not need them
    to agree with each other."""
    session = request.app.state.database.reads()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _lookup_actor(db: Database, token: str, settings: Settings) -> tuple[Actor, float]:
    session = db.reads()  # one SELECT of the user: autocommit spares the BEGIN and ROLLBACK
    try:
        return auth_ops.actor_from_token(session, token, settings)
    finally:
        session.close()


async def current_actor(request: Request, token: TokenDep) -> Actor:
    """The token's user, from the process's actor cache or, on a miss, from the database (in a worker thread).

    On the event loop, not a dependency in a thread: a request whose actor is cached needs no thread hop and no
    database round trip before its route runs (see runze.ops.auth.ActorCache for how fresh the cache is).
    """
    if not token:
        raise AuthenticationFailed("log in first (Authorization: Bearer <token>)", message_zh="请先登录")
    cache: auth_ops.ActorCache = request.app.state.actor_cache
    actor = cache.get(token)
    if actor is None:
        generation = auth_ops.users_generation()
        actor, expires_at = await run_in_threadpool(_lookup_actor, request.app.state.database, token,
                                                    request.app.state.settings)
        cache.put(token, actor, expires_at, generation)
    return actor


class Require:
    """A dependency that lets the request through only if the user's role may do `action`."""

    def __init__(self, action: str) -> None:
        if action not in auth_ops.ACTIONS:
            raise KeyError(f"unknown action {action!r}")
        self.action = action

    async def __call__(self, request: Request, token: TokenDep) -> Actor:
        # current_actor called, not declared as a sub-dependency: one level less for FastAPI to solve
        actor = await current_actor(request, token)
        actor.require(self.action)
        return actor

    def __repr__(self) -> str:
        return f"Require({self.action!r})"


def require(action: str) -> Depends:  # type: ignore[valid-type]
    return Depends(Require(action))


class Public:
    """Marks a route that needs no login (health, token)."""

    async def __call__(self) -> None:
        return None


PUBLIC = Public()


def public() -> Depends:  # type: ignore[valid-type]
    return Depends(PUBLIC)


def expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version a client based its change on: the body's `version`, else the If-Match header."""
    if body_version is not None:
        return body_version
    if not if_match:
        return None
    tag = if_match.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    try:
        return int(tag)
    except ValueError as exc:
        raise InvalidInput(f"If-Match {if_match!r} is not a version number", details={"field": "If-Match"}) from exc


IfMatch = Annotated[str | None, Header(alias="If-Match", description="version the change is based on")]

# ids are 32-bit integers in both databases: bound them here so that a huge number is a 422, not a 500
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
