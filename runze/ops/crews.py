"""Crews (抢修班组, 党员先锋队) and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import Conflict, InvalidInput, not_found
from runze.store import Crew, CrewMember, User

SPECIALTIES = ("repair", "leak_detection", "valve", "meter", "connection", "general")
MEMBER_ROLES = ("leader", "member")


def _crew_snapshot(crew: Crew) -> dict[str, Any]:
    return audit.snapshot(crew, extra={"members": [audit.snapshot(m) for m in crew.members]})


def _check_unique_name(session: Session, name: str, crew_id: int | None = None) -> None:
    other = session.scalar(select(Crew.id).where(Crew.name == name))
    if other is not None and other != crew_id:
        raise Conflict(f"a crew named {name!r} exists", message_zh=f"班组 {name} 已存在", details={"field": "name"})


def _new_member(session: Session, data: dict[str, Any]) -> CrewMember:
    if data.get("user_id") is not None and session.get(User, data["user_id"]) is None:
        raise InvalidInput(f"user {data['user_id']} does not exist", details={"field": "user_id"})
    return CrewMember(**data)


@unit_of_work
def create_crew(session: Session, actor: Actor, *, members: list[dict[str, Any]] | None = None, **fields: Any) -> Crew:
    _check_unique_name(session, fields["name"])
    crew = Crew(**fields)
    crew.members = [_new_member(session, m) for m in members or []]
    session.add(crew)
    session.flush()
    audit.record(session, actor, "crew.create", "crew", crew.id, after=_crew_snapshot(crew))
    return crew


def get_crew(session: Session, crew_id: int) -> Crew:
    crew = session.get(Crew, crew_id)
    if crew is None:
        raise not_found("crew", crew_id)
    return crew


def list_crews(
    session: Session,
    *,
    specialty: str | None = None,
    active: bool | None = None,
    vanguard: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Crew]:
    query = select(Crew).order_by(Crew.id)
    if specialty:
        query = query.where(Crew.specialty == specialty)
    if active is not None:
        query = query.where(Crew.is_active == active)
    if vanguard is not None:
        query = query.where(Crew.is_vanguard == vanguard)
    return paginate(session, query, limit=limit, offset=offset)


@unit_of_work
def update_crew(session: Session, actor: Actor, crew_id: int, changes: dict[str, Any]) -> Crew:
    crew = get_crew(session, crew_id)
    if not changes:  # nothing to do, nothing to audit
        return crew
    before = _crew_snapshot(crew)
    if "name" in changes:
        _check_unique_name(session, changes["name"], crew_id)
    for key, value in changes.items():
        setattr(crew, key, value)
    session.flush()
    audit.record(session, actor, "crew.update", "crew", crew.id, before=before, after=_crew_snapshot(crew))
    return crew


@unit_of_work
def add_member(session: Session, actor: Actor, crew_id: int, member: dict[str, Any]) -> Crew:
    crew = get_crew(session, crew_id)
    before = _crew_snapshot(crew)
    crew.members.append(_new_member(session, member))
    session.flush()
    audit.record(session, actor, "crew.add_member", "crew", crew.id, before=before, after=_crew_snapshot(crew))
    return crew


@unit_of_work
def remove_member(session: Session, actor: Actor, crew_id: int, member_id: int) -> Crew:
    crew = get_crew(session, crew_id)
    before = _crew_snapshot(crew)
    member = next((m for m in crew.members if m.id == member_id), None)
    if member is None:
        raise not_found("crew member", member_id)
    crew.members.remove(member)
    session.flush()
    audit.record(session, actor, "crew.remove_member", "crew", crew.id, before=before, after=_crew_snapshot(crew))
    return crew
