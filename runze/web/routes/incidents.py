"""/api/incidents: incidents spanning work orders, their timeline entries, closing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from runze.ops import incidents as incident_ops
from runze.ops.auth import Actor
from runze.web.deps import IfMatch, Limit, Offset, PathId, SessionDep, expected_version, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page, page_of
from runze.web.schemas.incidents import (
    EntryCreate,
    EntryRead,
    IncidentClose,
    IncidentCreate,
    IncidentRead,
    IncidentSummary,
    IncidentUpdate,
    Kind,
)

router = APIRouter(prefix="/incidents", tags=["incidents"], responses=error_responses(401, 403, 422))
NOT_NULL = ("title", "kind", "severity", "summary", "started_at")


@router.get("", response_model=Page[IncidentSummary])
def list_incidents(
    actor: Annotated[Actor, require("incidents:read")],
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    kind: Kind | None = None,
    since: Annotated[AwareDatetime | None, Query(description="started at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="started before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    page = incident_ops.list_incidents(session, status=status, kind=kind, since=since, until=until, limit=limit,
                                       offset=offset)
    return page_of(IncidentSummary, page)


@router.post("", response_model=IncidentRead, status_code=201)
def create_incident(body: IncidentCreate, actor: Annotated[Actor, require("incidents:manage")],
                    session: SessionDep) -> IncidentRead:
    return IncidentRead.of(incident_ops.create_incident(session, actor, **body.model_dump()))


@router.get("/{incident_id}", response_model=IncidentRead, responses=error_responses(404))
def get_incident(incident_id: PathId, actor: Annotated[Actor, require("incidents:read")],
                 session: SessionDep) -> IncidentRead:
    return IncidentRead.of(incident_ops.get_incident(session, incident_id))


@router.patch("/{incident_id}", response_model=IncidentRead, responses=error_responses(404, 409, 428))
def update_incident(incident_id: PathId, body: IncidentUpdate, actor: Annotated[Actor, require("incidents:manage")],
                    session: SessionDep, if_match: IfMatch = None) -> IncidentRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    changes = {k: v for k, v in changes.items() if not (v is None and k in NOT_NULL)}
    incident = incident_ops.update_incident(session, actor, incident_id, changes,
                                            expected_version=expected_version(body.version, if_match))
    return IncidentRead.of(incident)


@router.post("/{incident_id}/close", response_model=IncidentRead, responses=error_responses(404, 409, 428))
def close_incident(incident_id: PathId, body: IncidentClose, actor: Annotated[Actor, require("incidents:manage")],
                   session: SessionDep, if_match: IfMatch = None) -> IncidentRead:
    incident = incident_ops.close_incident(session, actor, incident_id, ended_at=body.ended_at,
                                           expected_version=expected_version(body.version, if_match))
    return IncidentRead.of(incident)


@router.post("/{incident_id}/entries", response_model=EntryRead, status_code=201, responses=error_responses(404))
def add_entry(incident_id: PathId, body: EntryCreate, actor: Annotated[Actor, require("incidents:log")],
              session: SessionDep) -> EntryRead:
    return EntryRead.of(incident_ops.add_entry(session, actor, incident_id, **body.model_dump()))
