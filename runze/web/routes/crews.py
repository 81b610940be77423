"""/api/crews: crews (班组, 党员先锋队) and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from runze.ops import crews as crew_ops
from runze.ops.auth import Actor
from runze.web.deps import Limit, Offset, PathId, SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page, page_of
from runze.web.schemas.crews import CrewCreate, CrewRead, CrewUpdate, MemberCreate, Specialty

router = APIRouter(prefix="/crews", tags=["crews"], responses=error_responses(401, 403, 422))


@router.get("", response_model=Page[CrewRead])
def list_crews(actor: Annotated[Actor, require("crews:read")], session: SessionDep,
               specialty: Specialty | None = None, active: bool | None = None, vanguard: bool | None = None,
               limit: Limit = 50, offset: Offset = 0) -> dict:
    page = crew_ops.list_crews(session, specialty=specialty, active=active, vanguard=vanguard, limit=limit,
                               offset=offset)
    return page_of(CrewRead, page)


@router.post("", response_model=CrewRead, status_code=201, responses=error_responses(409))
def create_crew(body: CrewCreate, actor: Annotated[Actor, require("crews:manage")], session: SessionDep) -> CrewRead:
    data = body.model_dump()
    return CrewRead.model_validate(crew_ops.create_crew(session, actor, **data))


@router.get("/{crew_id}", response_model=CrewRead, responses=error_responses(404))
def get_crew(crew_id: PathId, actor: Annotated[Actor, require("crews:read")], session: SessionDep) -> CrewRead:
    return CrewRead.model_validate(crew_ops.get_crew(session, crew_id))


@router.patch("/{crew_id}", response_model=CrewRead, responses=error_responses(404, 409))
def update_crew(crew_id: PathId, body: CrewUpdate, actor: Annotated[Actor, require("crews:manage")],
                session: SessionDep) -> CrewRead:
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "phone"}
    return CrewRead.model_validate(crew_ops.update_crew(session, actor, crew_id, changes))


@router.post("/{crew_id}/members", response_model=CrewRead, status_code=201, responses=error_responses(404))
def add_member(crew_id: PathId, body: MemberCreate, actor: Annotated[Actor, require("crews:manage")],
               session: SessionDep) -> CrewRead:
    return CrewRead.model_validate(crew_ops.add_member(session, actor, crew_id, body.model_dump()))


@router.delete("/{crew_id}/members/{member_id}", response_model=CrewRead, responses=error_responses(404))
def remove_member(crew_id: PathId, member_id: PathId, actor: Annotated[Actor, require("crews:manage")],
                  session: SessionDep) -> CrewRead:
    return CrewRead.model_validate(crew_ops.remove_member(session, actor, crew_id, member_id))
