"""Audit-log schema (read only: the log is append-only and has no write API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runze.web.schemas.common import ORMModel


class AuditEntryRead(ORMModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
