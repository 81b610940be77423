"""Crews, their members, and work orders with the network assets they concern.

A work order keeps the timestamp of each step of its life (UTC), the network version its asset ids refer to
("pipe P123 as in version 3"), the outage plan used (JSON) and a `version` counter that SQLAlchemy checks on
every UPDATE (optimistic locking: a stale writer updates no row and gets StaleDataError).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from runze.store.base import Base, utcnow


class Crew(Base):
    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    specialty: Mapped[str] = mapped_column(String(32), default="repair")
    is_vanguard: Mapped[bool] = mapped_column(default=False)  # 党员先锋队
    is_active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[CrewMember]] = relationship(
        back_populates="crew", cascade="all, delete-orphan", order_by="CrewMember.id", lazy="selectin"
    )


class CrewMember(Base):
    __tablename__ = "crew_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32), default="member")  # leader / member
    phone: Mapped[str | None] = mapped_column(String(32))
    is_party_member: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    crew: Mapped[Crew] = relationship(back_populates="members")


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_status_kind", "status", "kind"),
        Index("ix_work_orders_reported_at", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="reported")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(default=2)  # 1 urgent, 2 normal, 3 low
    address: Mapped[str | None] = mapped_column(String(200))
    network_version_id: Mapped[int | None] = mapped_column(ForeignKey("network_versions.id", ondelete="RESTRICT"))
    outage_plan: Mapped[dict[str, Any] | None] = mapped_column()
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id", ondelete="RESTRICT"), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column()
    on_site_at: Mapped[datetime | None] = mapped_column()
    isolated_at: Mapped[datetime | None] = mapped_column()
    repaired_at: Mapped[datetime | None] = mapped_column()
    restored_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    assets: Mapped[list[WorkOrderAsset]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="WorkOrderAsset.id", lazy="selectin"
    )
    crew: Mapped[Crew | None] = relationship(lazy="joined")


class WorkOrderAsset(Base):
    """A node or link of the network concerned by a work order (ids as in the work order's network version)."""

    __tablename__ = "work_order_assets"
    __table_args__ = (UniqueConstraint("work_order_id", "category", "asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(8))  # node / link
    asset_id: Mapped[str] = mapped_column(String(64))

    work_order: Mapped[WorkOrder] = relationship(back_populates="assets")
