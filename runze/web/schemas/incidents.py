"""Incident and timeline-entry schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from runze.ops import incidents as incident_ops
from runze.web.schemas.common import ORMModel

Kind = Literal[incident_ops.KINDS]  # type: ignore[valid-type]
EntryKind = Literal[incident_ops.ENTRY_KINDS]  # type: ignore[valid-type]
WoId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class IncidentCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    kind: Kind
    severity: int = Field(default=2, ge=1, le=3, description="1 major, 2 significant, 3 minor")
    summary: str = Field(default="", max_length=20000)
    started_at: AwareDatetime | None = None
    work_order_ids: list[WoId] = Field(default_factory=list, max_length=500)


class IncidentUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = None
    severity: int | None = Field(default=None, ge=1, le=3)
    summary: str | None = Field(default=None, max_length=20000)
    started_at: AwareDatetime | None = None
    work_order_ids: list[WoId] | None = Field(default=None, max_length=500)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class IncidentClose(BaseModel):
    ended_at: AwareDatetime | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class EntryCreate(BaseModel):
    kind: EntryKind
    text: str = Field(min_length=1, max_length=20000)
    at: AwareDatetime | None = None
    work_order_ids: list[WoId] = Field(default_factory=list, max_length=500)


class EntryRead(ORMModel):
    id: int
    at: datetime
    kind: str
    text: str
    author_name: str
    work_order_ids: list[int]

    @classmethod
    def of(cls, entry: Any) -> EntryRead:
        return cls(id=entry.id, at=entry.at, kind=entry.kind, text=entry.text, author_name=entry.author_name,
                   work_order_ids=[w.id for w in entry.work_orders])


class IncidentRead(ORMModel):
    id: int
    code: str
    title: str
    kind: str
    severity: int
    status: str
    summary: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    version: int
    work_order_ids: list[int]
    entries: list[EntryRead]

    @classmethod
    def of(cls, incident: Any) -> IncidentRead:
        ended = incident.ended_at
        return cls(
            id=incident.id, code=incident_ops.code_of(incident), title=incident.title, kind=incident.kind,
            severity=incident.severity, status=incident.status, summary=incident.summary,
            started_at=incident.started_at, ended_at=ended,
            duration_s=(ended - incident.started_at).total_seconds() if ended else None,
            version=incident.version, work_order_ids=[w.id for w in incident.work_orders],
            entries=[EntryRead.of(e) for e in incident.entries],
        )


class IncidentSummary(ORMModel):
    """An incident in a list (without its timeline)."""

    id: int
    title: str
    kind: str
    severity: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    version: int
