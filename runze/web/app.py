"""The FastAPI application factory: `create_app(settings)`.

The app owns one database (engine + session factory) opened from the settings; it does not migrate: run
`runze init` (or `runze serve`, which does) first.  OpenAPI is served at /openapi.json, docs at /docs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import runze
from runze.ops import auth as auth_ops
from runze.ops.database import Database, open_database
from runze.settings import Settings, get_settings
from runze.web import errors
from runze.web.routes import ROUTERS, ui

API_PREFIX = "/api"


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = database or open_database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:  # a database the caller passed in is the caller's to close
            db.dispose()

    app = FastAPI(
        title="Runze 润泽 API",
        version=getattr(runze, "__version__", "0.1.0"),
        description="Operations records of a water-supply utility: work orders, crews, incidents, network "
        "versions, users and the audit log.  Log in at /api/auth/token (OAuth2 password form).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.actor_cache = auth_ops.ActorCache(ttl_s=settings.actor_cache_seconds)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    ui.install(app)  # the dashboard at / (static files, outside the API)
    return app
