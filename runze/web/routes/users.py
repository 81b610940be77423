"""/api/users: list, create, read, update (no delete: the audit log refers to users; disable instead)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from runze.ops import users as user_ops
from runze.ops.auth import Actor
from runze.web.deps import Limit, Offset, PathId, SessionDep, SettingsDep, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page, page_of
from runze.web.schemas.users import Role, UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(401, 403, 422))


@router.get("", response_model=Page[UserRead])
def list_users(actor: Annotated[Actor, require("users:read")], session: SessionDep, role: Role | None = None,
               active: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    return page_of(UserRead, user_ops.list_users(session, role=role, active=active, limit=limit, offset=offset))


@router.post("", response_model=UserRead, status_code=201, responses=error_responses(409))
def create_user(body: UserCreate, actor: Annotated[Actor, require("users:manage")], session: SessionDep,
                settings: SettingsDep) -> UserRead:
    user = user_ops.create_user(session, actor, settings=settings, **body.model_dump())
    return UserRead.model_validate(user)


@router.get("/{user_id}", response_model=UserRead, responses=error_responses(404))
def get_user(user_id: PathId, actor: Annotated[Actor, require("users:read")], session: SessionDep) -> UserRead:
    return UserRead.model_validate(user_ops.get_user(session, user_id))


@router.patch("/{user_id}", response_model=UserRead, responses=error_responses(404, 409))
def update_user(user_id: PathId, body: UserUpdate, actor: Annotated[Actor, require("users:manage")],
                session: SessionDep, settings: SettingsDep) -> UserRead:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return UserRead.model_validate(user_ops.update_user(session, actor, user_id, changes, settings=settings))
