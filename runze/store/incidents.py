"""Incidents: events that may span several work orders (the rainstorm night), with a timeline of entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from runze.store.base import Base, utcnow
from runze.store.work import WorkOrder

incident_work_orders = Table(
    "incident_work_orders",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True),
)

incident_entry_work_orders = Table(
    "incident_entry_work_orders",
    Base.metadata,
    Column("entry_id", ForeignKey("incident_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True),
)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(default=2)  # 1 major, 2 significant, 3 minor
    status: Mapped[str] = mapped_column(String(16), default="open")
    summary: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    entries: Mapped[list[IncidentEntry]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentEntry.at", lazy="selectin"
    )
    work_orders: Mapped[list[WorkOrder]] = relationship(secondary=incident_work_orders, lazy="selectin")


class IncidentEntry(Base):
    __tablename__ = "incident_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    author_name: Mapped[str] = mapped_column(String(64), default="")

    incident: Mapped[Incident] = relationship(back_populates="entries")
    work_orders: Mapped[list[WorkOrder]] = relationship(secondary=incident_entry_work_orders, lazy="selectin")
