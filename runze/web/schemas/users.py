"""User, login token and role schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from runze.ops.auth import ROLES
from runze.web.schemas.common import ORMModel

Role = Literal[ROLES]  # type: ignore[valid-type]
UserName = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")


class UserCreate(BaseModel):
    username: str = UserName
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str = Field(default="", max_length=128)


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=128)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class UserRead(ORMModel):
    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class Me(UserRead):
    permissions: list[str]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds")
