"""POST /api/auth/token (OAuth2 password form → JWT) and GET /api/auth/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from runze.ops import auth as auth_ops
from runze.ops import users as user_ops
from runze.ops.auth import Actor
from runze.web.deps import SessionDep, SettingsDep, public, require
from runze.web.errors import error_responses
from runze.web.schemas.users import Me, Token, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token, dependencies=[public()], responses=error_responses(401, 422))
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    user = auth_ops.authenticate(session, form.username, form.password, settings)
    return Token(access_token=auth_ops.create_access_token(user, settings),
                 expires_in=settings.access_token_minutes * 60)


@router.get("/me", response_model=Me, responses=error_responses(401, 403))
def me(actor: Annotated[Actor, require("auth:me")], session: SessionDep) -> Me:
    user = user_ops.get_user(session, actor.id)  # type: ignore[arg-type]
    return Me(**UserRead.model_validate(user).model_dump(),
              permissions=sorted(auth_ops.PERMISSIONS[user.role]))
