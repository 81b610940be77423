"""Inputs of the monthly evaluation report that no other table holds: monthly volumes and water-quality samples.

`MonthlyVolumes` is one month of the IWA water balance as the utility books it: system input (plant outflow
meters), billed and unbilled consumption (billing system), apparent-loss estimates and, optionally, an
independent real-loss estimate (e.g. from minimum night flows).  When the real losses are given the report checks
that the balance closes and says so loudly when it does not.  The utility facts the UARL/CJJ formulas need
(mains length, connections, pressure ...) are kept per month because they change over a year.

`QualitySample` is a turbidity result (lab or handheld) at a plant outlet or a tap, used for turbidity compliance
when no online turbidity telemetry covers the month.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from runze.store.base import Base, utcnow


class MonthlyVolumes(Base):
    __tablename__ = "report_monthly_volumes"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM, local (Asia/Shanghai) month
    system_input_m3: Mapped[float] = mapped_column()
    billed_metered_m3: Mapped[float] = mapped_column()
    billed_unmetered_m3: Mapped[float] = mapped_column(default=0.0)
    unbilled_metered_m3: Mapped[float] = mapped_column(default=0.0)
    unbilled_unmetered_m3: Mapped[float] = mapped_column(default=0.0)
    unauthorised_m3: Mapped[float] = mapped_column(default=0.0)
    meter_inaccuracy_m3: Mapped[float] = mapped_column(default=0.0)
    data_errors_m3: Mapped[float] = mapped_column(default=0.0)
    real_losses_m3: Mapped[float | None] = mapped_column()  # independent estimate; None = the residual
    mains_km: Mapped[float] = mapped_column()
    service_connections: Mapped[int] = mapped_column()
    private_pipe_km: Mapped[float] = mapped_column(default=0.0)
    mean_pressure_m: Mapped[float | None] = mapped_column()  # None: taken from the pressure data
    mean_outlet_pressure_mpa: Mapped[float | None] = mapped_column()
    household_metered_share: Mapped[float | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(64), default="manual")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QualitySample(Base):
    __tablename__ = "report_quality_samples"
    __table_args__ = (Index("ix_report_quality_samples_taken_at", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column()
    point: Mapped[str] = mapped_column(String(64))  # e.g. P1 outlet, tap 城东一片区 #3
    role: Mapped[str] = mapped_column(String(16))  # plant_outlet / tap
    turbidity_ntu: Mapped[float] = mapped_column()
