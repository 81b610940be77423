"""Crew and crew-member schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from runze.ops.crews import MEMBER_ROLES, SPECIALTIES
from runze.web.schemas.common import ORMModel

Specialty = Literal[SPECIALTIES]  # type: ignore[valid-type]
MemberRole = Literal[MEMBER_ROLES]  # type: ignore[valid-type]


class MemberCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    role: MemberRole = "member"
    phone: str | None = Field(default=None, max_length=32)
    is_party_member: bool = False
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class MemberRead(ORMModel):
    id: int
    name: str
    role: str
    phone: str | None
    is_party_member: bool
    user_id: int | None


class CrewCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    specialty: Specialty = "repair"
    is_vanguard: bool = Field(default=False, description="党员先锋队 (party-member vanguard team)")
    phone: str | None = Field(default=None, max_length=32)
    members: list[MemberCreate] = Field(default_factory=list, max_length=100)


class CrewUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    specialty: Specialty | None = None
    is_vanguard: bool | None = None
    is_active: bool | None = None
    phone: str | None = Field(default=None, max_length=32)


class CrewRead(ORMModel):
    id: int
    name: str
    specialty: str
    is_vanguard: bool
    is_active: bool
    phone: str | None
    created_at: datetime
    members: list[MemberRead]
