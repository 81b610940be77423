"""The audit log: who did what, when, to which entity, with the entity before and after (JSON).

Append-only: this module offers `record` and `list_entries` and nothing that changes or removes an entry; the
store refuses ORM updates/deletes and the database has triggers that refuse UPDATE/DELETE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops._tx import Page, paginate
from runze.ops.auth import Actor
from runze.store import AuditEntry

_NOT_AUDITED = frozenset({"password_hash", "inp_text"})  # secrets, and file texts kept in their own table


def snapshot(obj: Any, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of a row as JSON-able data (times as ISO 8601 with offset)."""
    data: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in _NOT_AUDITED:
            continue
        value = getattr(obj, column.key)
        data[column.key] = value.isoformat() if isinstance(value, datetime) else value
    if extra:
        data.update(extra)
    return data


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to the current transaction (it commits or rolls back with the change it describes)."""
    entry = AuditEntry(
        actor_id=actor.id,
        actor_name=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return paginate(session, query, limit=limit, offset=offset)
