"""Runze's settings: one object, read from the environment (prefix RUNZE_) with defaults for a single machine.

The default database is an SQLite file under ./runze-data, so `runze init && runze serve` works with nothing
installed; a PostgreSQL URL (psycopg 3: `postgresql+psycopg://user@host:5432/db`) is given with RUNZE_DATABASE_URL
or --db.  The JWT secret has a development default; a deployment sets RUNZE_SECRET_KEY.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./runze-data/runze.db"
DEV_SECRET_KEY = "runze-development-secret-change-me-in-production"


class SiteAlarmLimits(BaseModel):
    """Limits of one plant or one sensor that differ from the defaults (a field left out keeps the default)."""

    model_config = {"extra": "forbid"}

    pressure_low_mpa: float | None = Field(default=None, gt=0)
    pressure_high_mpa: float | None = Field(default=None, gt=0)
    outlet_turbidity_ntu: float | None = Field(default=None, gt=0)
    raw_turbidity_ntu: float | None = Field(default=None, gt=0)
    tank_min_level_m: float | None = Field(default=None, ge=0)


class AlarmLimits(BaseModel):
    """The telemetry alarm thresholds, in canonical units (MPa, NTU, m), in one place.

    ``plants`` overrides them for the sensors of one plant, matched by the sensor id's prefix ("P3" applies to
    "P3-RAW-NTU", "P3-OUT-NTU"...: the sensor naming the demo and the replay use); ``sensors`` overrides them for
    single sensor ids and wins over the plant.  Set with RUNZE_ALARM_LIMITS as JSON, e.g.
    ``{"plants": {"P3": {"raw_turbidity_ntu": 500}}, "sensors": {"T1-L": {"tank_min_level_m": 1.5}}}``.
    """

    model_config = {"extra": "forbid"}

    pressure_low_mpa: float = Field(default=0.14, gt=0)  # service pressure at the far end of the network (≈ 14 m)
    pressure_high_mpa: float = Field(default=0.7, gt=0)
    outlet_turbidity_ntu: float = Field(default=1.0, gt=0)  # GB 5749-2022 for water leaving a plant
    raw_turbidity_ntu: float = Field(default=300.0, gt=0)  # above it a plant throttles its intake
    tank_min_level_m: float = Field(default=1.0, ge=0)
    plants: dict[str, SiteAlarmLimits] = Field(default_factory=dict)
    sensors: dict[str, SiteAlarmLimits] = Field(default_factory=dict)

    def plant_of(self, sensor_id: str) -> str | None:
        """The configured plant whose id prefixes `sensor_id` ("P3" for "P3-RAW-NTU"); the longest one wins."""
        hits = [p for p in self.plants if sensor_id.startswith(p + "-")]
        return max(hits, key=len) if hits else None

    def site_value(self, name: str, sensor_id: str) -> float | None:
        """Limit `name` (a field, e.g. "raw_turbidity_ntu") set for this sensor or its plant; None: the default."""
        for site in (self.sensors.get(sensor_id), self.plants.get(self.plant_of(sensor_id) or "")):
            if site is not None and getattr(site, name) is not None:
                return float(getattr(site, name))
        return None

    def for_sensor(self, name: str, sensor_id: str) -> float:
        """Limit `name` for one sensor: its own, else its plant's, else the default."""
        value = self.site_value(name, sensor_id)
        return float(getattr(self, name)) if value is None else value


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
    alarm_limits: AlarmLimits = Field(default_factory=AlarmLimits)  # RUNZE_ALARM_LIMITS='{"plants": {...}}'
    echo_sql: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()
