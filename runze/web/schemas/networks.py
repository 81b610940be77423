"""Network-version and asset schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runze.web.schemas.common import ORMModel


class NetworkVersionRead(ORMModel):
    id: int
    name: str
    number: int
    filename: str
    comment: str
    summary: dict[str, Any]
    has_sidecar: bool
    created_at: datetime

    @classmethod
    def of(cls, version: Any) -> NetworkVersionRead:
        return cls(id=version.id, name=version.name, number=version.number, filename=version.filename,
                   comment=version.comment, summary=version.summary, has_sidecar=version.sidecar is not None,
                   created_at=version.created_at)


class AssetRead(ORMModel):
    category: str
    asset_id: str
    kind: str
    dma: str | None
    diameter_m: float | None
    length_m: float | None
    node1: str | None
    node2: str | None
