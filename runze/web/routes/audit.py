"""GET /api/audit: the append-only audit log, newest first.  There is deliberately no write route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from runze.ops import audit as audit_ops
from runze.ops.auth import Actor
from runze.web.deps import Limit, Offset, SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.audit import AuditEntryRead
from runze.web.schemas.common import Page, page_of

router = APIRouter(prefix="/audit", tags=["audit"], responses=error_responses(401, 403, 422))


@router.get("", response_model=Page[AuditEntryRead])
def list_entries(
    actor: Annotated[Actor, require("audit:read")],
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=64, description="actor's user name")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    page = audit_ops.list_entries(session, entity_type=entity_type, entity_id=entity_id, actor=user, action=action,
                                  since=since, until=until, limit=limit, offset=offset)
    return page_of(AuditEntryRead, page)
