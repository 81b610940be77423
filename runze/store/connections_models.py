"""New water connections (报装, "五零" service): applications and the timeline of their steps.

An application says who applies, where the water is wanted (address, network node, DMA), for what use and what
size of connection.  Each step it enters (survey → scheme → construction → meter installation → water on, see
runze.ops.connections_logic) is one `ConnectionStep` row with its owner and time, so the working-day clock of
获得用水 can be recomputed from stored facts at any time.  `version` guards against two clerks moving the same
application at once (optimistic locking, as for work orders).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from runze.store.base import Base, utcnow


class ConnectionApplication(Base):
    __tablename__ = "connection_applications"
    __table_args__ = (
        Index("ix_connection_applications_submitted_at", "submitted_at"),
        Index("ix_connection_applications_completed_at", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200))
    customer_kind: Mapped[str] = mapped_column(String(32))  # residential / non_residential / small_business
    use: Mapped[str] = mapped_column(String(32))  # domestic / commercial / industrial / construction / fire
    size_dn: Mapped[int] = mapped_column(default=20)  # connection (meter) size, DN mm
    network_version_id: Mapped[int | None] = mapped_column(ForeignKey("network_versions.id", ondelete="RESTRICT"))
    node_id: Mapped[str | None] = mapped_column(String(64))  # network node the service pipe taps
    dma: Mapped[str | None] = mapped_column(String(64))
    current_step: Mapped[str] = mapped_column(String(32), default="application", index=True)
    cost_yuan: Mapped[float] = mapped_column(default=0.0)  # paid by the customer
    customer_visits: Mapped[int] = mapped_column(default=0)
    documents: Mapped[int] = mapped_column(default=0)
    approvals: Mapped[int] = mapped_column(default=0)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()  # entered water_on
    closed_at: Mapped[datetime | None] = mapped_column()  # water_on, cancelled or rejected
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    steps: Mapped[list[ConnectionStep]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ConnectionStep.id", lazy="selectin"
    )


class ConnectionStep(Base):
    """The application entered `step` at `entered_at`; `owner` is who is responsible for it from then on."""

    __tablename__ = "connection_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("connection_applications.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    owner_name: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    application: Mapped[ConnectionApplication] = relationship(back_populates="steps")
