"""Stored network versions: the .inp text and sidecar as imported, and a table of their assets.

A work order names assets by id *and* version, so that "pipe P123 as in version 3" stays meaningful after the
network is edited and imported again.  Versions are numbered per network name (1, 2, 3 ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runze.store.base import Base, utcnow


class NetworkVersion(Base):
    __tablename__ = "network_versions"
    __table_args__ = (UniqueConstraint("name", "number", name="uq_network_versions_name_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column()
    filename: Mapped[str] = mapped_column(String(256))
    inp_text: Mapped[str] = mapped_column(Text)
    sidecar: Mapped[dict[str, Any] | None] = mapped_column()
    summary: Mapped[dict[str, Any]] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class NetworkAsset(Base):
    """One node or link of a network version, with the attributes work orders and KPIs look up."""

    __tablename__ = "network_assets"
    __table_args__ = (
        UniqueConstraint("version_id", "category", "asset_id", name="uq_network_assets_version_asset"),
        Index("ix_network_assets_version_kind", "version_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("network_versions.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(8))  # node / link
    asset_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # junction reservoir tank / pipe pump valve
    dma: Mapped[str | None] = mapped_column(String(64))
    diameter_m: Mapped[float | None] = mapped_column()
    length_m: Mapped[float | None] = mapped_column()
    node1: Mapped[str | None] = mapped_column(String(64))
    node2: Mapped[str | None] = mapped_column(String(64))
