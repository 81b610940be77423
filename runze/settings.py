"""Runze's settings: one object, read from the environment (prefix RUNZE_) with defaults for a single machine.

The default database is an SQLite file under ./runze-data, so `runze init && runze serve` works with nothing
installed; a PostgreSQL URL (psycopg 3: `postgresql+psycopg://user@host:5432/db`) is given with RUNZE_DATABASE_URL
or --db.  The JWT secret has a development default; a deployment sets RUNZE_SECRET_KEY.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./runze-data/runze.db"
DEV_SECRET_KEY = "runze-development-secret-change-me-in-production"


class Settings(BaseSettings):
    """Every knob the service and the CLI read.  Environment variables: RUNZE_<FIELD NAME IN CAPITALS>."""

    model_config = SettingsConfigDict(env_prefix="RUNZE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY
    jwt_algorithm: str = "HS256"
    access_token_minutes: int = Field(default=12 * 60, ge=1)  # a dispatcher's shift
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # as many pooled connections as the server has worker threads (anyio's default 40): connections beyond
    # the pool ("overflow") are opened and closed per request, which costs a PostgreSQL backend start each time
    db_pool_size: int = Field(default=40, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # argon2 cost; tests lower it so that creating users is quick (the defaults are argon2-cffi's own)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=64)
    # how long a worker trusts a token's user (role, enabled) without asking the database; a change made through
    # this worker applies at once, one made elsewhere (another worker, the CLI) within this many seconds; 0: off
    actor_cache_seconds: float = Field(default=2.0, ge=0.0, le=60.0)
    page_limit_max: int = Field(default=500, ge=1)
    echo_sql: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()
