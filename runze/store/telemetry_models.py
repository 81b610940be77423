"""Telemetry storage: sensors, readings, quarantined messages, alarms, the alarm engine's state, twin runs.

Readings are the big table, so a row is kept small and fixed-width: an integer sensor key, the time (UTC), the
value in the canonical unit of the sensor's kind (MPa, m3/h, m, NTU: runze.telemetry.units) and a small quality
code.  The primary key (sensor_id, t) makes a reading unique: writing the same reading twice stores it once
(INSERT ... ON CONFLICT DO NOTHING in runze.telemetry.ingest), and queries by sensor and time range walk it in
time order whatever order the readings arrived in.

A message that fails validation is never dropped: it goes to `telemetry_quarantine` with its raw payload,
where it came from and the reason (code + English + Chinese text).

Alarms are rows with the lifecycle of runze.telemetry.alarms (raised → acknowledged → cleared); `code` is the
engine's id (ALM-000001 ...).  The engine's per-(rule, sensor) state (hysteresis, flat-line tails, last reading
evaluated) is one JSON row in `telemetry_engine_state`, saved in the same transaction as the readings it saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from runze.store.base import Base, utcnow


class Sensor(Base):
    __tablename__ = "telemetry_sensors"

    id: Mapped[int] = mapped_column(primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # pressure / flow / level / turbidity
    unit: Mapped[str] = mapped_column(String(16))  # the unit the sensor reports in (stored values are canonical)
    role: Mapped[str | None] = mapped_column(String(32))  # network, tank, raw_water, plant_outlet, tap ...
    element: Mapped[str | None] = mapped_column(String(64))  # node or link id in the network model
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reading(Base):
    __tablename__ = "telemetry_readings"

    # telemetry_sensors.id, deliberately without a FOREIGN KEY: PostgreSQL checks a foreign key with a trigger
    # per inserted row, which cost 30-45 % of the COPY ingest rate (measured); the writer only ever uses keys it
    # just read from telemetry_sensors in the same transaction, and sensors are never deleted.
    sensor_id: Mapped[int] = mapped_column(primary_key=True)
    t: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column()
    quality: Mapped[int] = mapped_column(SmallInteger, default=0)  # runze.telemetry.messages.QUALITY_CODES


class QuarantinedMessage(Base):
    __tablename__ = "telemetry_quarantine"
    __table_args__ = (Index("ix_telemetry_quarantine_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # mqtt / file / api
    origin: Mapped[str] = mapped_column(String(300), default="")  # topic, or file:line
    payload: Mapped[str] = mapped_column(Text)  # the raw message / CSV line as received
    field: Mapped[str] = mapped_column(String(32), default="")
    reason_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)  # English
    reason_zh: Mapped[str] = mapped_column(Text, default="")


class AlarmRecord(Base):
    __tablename__ = "telemetry_alarms"
    __table_args__ = (
        Index("ix_telemetry_alarms_status", "status"),
        Index("ix_telemetry_alarms_raised_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # the engine's alarm id, ALM-000001
    rule_id: Mapped[str] = mapped_column(String(64))
    sensor_id: Mapped[str] = mapped_column(String(64), index=True)
    condition: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))  # raised / acknowledged / cleared / cleared_unacknowledged
    message_key: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column()
    raised_at: Mapped[datetime] = mapped_column()
    raise_value: Mapped[float | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    cleared_at: Mapped[datetime | None] = mapped_column()
    clear_value: Mapped[float | None] = mapped_column()
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EngineState(Base):
    """The alarm engine's state between batches (one row per engine name)."""

    __tablename__ = "telemetry_engine_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TwinRun(Base):
    """One live-twin run: the hydraulic model at time `at`, driven by the measurements around it."""

    __tablename__ = "twin_runs"
    __table_args__ = (Index("ix_twin_runs_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    network_name: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16))  # ok / failed
    summary: Mapped[dict[str, Any]] = mapped_column()  # inputs used, DMA scale factors, residual statistics
    error: Mapped[str | None] = mapped_column(Text)


class TwinResidual(Base):
    """Measured minus modelled pressure (MPa) at one pressure sensor in one twin run."""

    __tablename__ = "twin_residuals"

    run_id: Mapped[int] = mapped_column(ForeignKey("twin_runs.id", ondelete="CASCADE"), primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    measured: Mapped[float] = mapped_column()
    modelled: Mapped[float] = mapped_column()
    residual: Mapped[float] = mapped_column()
