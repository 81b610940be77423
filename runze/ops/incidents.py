"""Incidents (事件): an event that may span several work orders, with a timeline of entries.

Example: the rainstorm night — raw-water turbidity alarm, plant 3's intake throttled, supply held for 13 hours
by the dispatch centre and crews.  Entries record what happened (alarm, decision, action, communication, note),
who wrote it, when, and the work orders it concerns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import IllegalTransition, InvalidInput, not_found
from runze.ops.workorders import check_version
from runze.store import Incident, IncidentEntry, WorkOrder

KINDS = ("water_quality", "supply_shortage", "main_burst", "power_failure", "weather", "pollution", "other")
ENTRY_KINDS = ("alarm", "decision", "action", "communication", "note")
STATUSES = ("open", "closed")
EDITABLE = frozenset({"title", "kind", "severity", "summary", "started_at", "work_order_ids"})


def code_of(incident: Incident) -> str:
    return f"IN{incident.id:06d}"


def _work_orders(session: Session, ids: list[int]) -> list[WorkOrder]:
    if not ids:
        return []
    found = list(session.scalars(select(WorkOrder).where(WorkOrder.id.in_(set(ids)))))
    missing = sorted(set(ids) - {w.id for w in found})
    if missing:
        raise InvalidInput(f"work orders {missing} do not exist", message_zh="工单不存在",
                           details={"field": "work_order_ids", "missing": missing})
    return sorted(found, key=lambda w: w.id)


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", message_zh="时间须带时区", details={"field": field})
    return at.astimezone(UTC)


def _snapshot(incident: Incident) -> dict[str, Any]:
    return audit.snapshot(incident, extra={"work_order_ids": [w.id for w in incident.work_orders]})


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise not_found("incident", incident_id)
    return incident


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Incident]:
    query = select(Incident).order_by(Incident.started_at.desc(), Incident.id.desc())
    if status:
        query = query.where(Incident.status == status)
    if kind:
        query = query.where(Incident.kind == kind)
    if since is not None:
        query = query.where(Incident.started_at >= since)
    if until is not None:
        query = query.where(Incident.started_at < until)
    return paginate(session, query, limit=limit, offset=offset)


@unit_of_work
def create_incident(
    session: Session,
    actor: Actor,
    *,
    title: str,
    kind: str,
    severity: int = 2,
    summary: str = "",
    started_at: datetime | None = None,
    work_order_ids: list[int] | None = None,
) -> Incident:
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}", details={"field": "kind", "allowed": list(KINDS)})
    incident = Incident(
        title=title,
        kind=kind,
        severity=severity,
        summary=summary,
        started_at=_aware(started_at or datetime.now(UTC), "started_at"),
        created_by_id=actor.id,
    )
    incident.work_orders = _work_orders(session, work_order_ids or [])
    session.add(incident)
    session.flush()
    audit.record(session, actor, "incident.create", "incident", incident.id, after=_snapshot(incident))
    return incident


@unit_of_work
def update_incident(
    session: Session, actor: Actor, incident_id: int, changes: dict[str, Any], *, expected_version: int | None
) -> Incident:
    incident = get_incident(session, incident_id)
    check_version(incident, expected_version)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", details={"fields": sorted(unknown)})
    if "kind" in changes and changes["kind"] not in KINDS:
        raise InvalidInput(f"unknown kind {changes['kind']!r}", details={"field": "kind"})
    before = _snapshot(incident)
    for key, value in changes.items():
        if key == "work_order_ids":
            incident.work_orders = _work_orders(session, value or [])
        elif key == "started_at":
            incident.started_at = _aware(value, "started_at")
        else:
            setattr(incident, key, value)
    if incident.ended_at is not None and incident.started_at > incident.ended_at:
        raise InvalidInput("started_at is after ended_at", details={"field": "started_at"})
    session.flush()
    audit.record(session, actor, "incident.update", "incident", incident.id, before=before, after=_snapshot(incident))
    return incident


@unit_of_work
def close_incident(
    session: Session, actor: Actor, incident_id: int, *, expected_version: int | None, ended_at: datetime | None = None
) -> Incident:
    incident = get_incident(session, incident_id)
    check_version(incident, expected_version)
    if incident.status == "closed":
        raise IllegalTransition("the incident is already closed", message_zh="事件已关闭")
    ended_at = _aware(ended_at or datetime.now(UTC), "ended_at")
    if ended_at < incident.started_at:
        raise InvalidInput("ended_at is before started_at", message_zh="结束时间早于开始时间",
                           details={"field": "ended_at"})
    before = _snapshot(incident)
    incident.status = "closed"
    incident.ended_at = ended_at
    session.flush()
    audit.record(session, actor, "incident.close", "incident", incident.id, before=before, after=_snapshot(incident))
    return incident


@unit_of_work
def add_entry(
    session: Session,
    actor: Actor,
    incident_id: int,
    *,
    kind: str,
    text: str,
    at: datetime | None = None,
    work_order_ids: list[int] | None = None,
) -> IncidentEntry:
    """Append a timeline entry; work orders it names are linked to the incident too."""
    incident = get_incident(session, incident_id)
    if kind not in ENTRY_KINDS:
        raise InvalidInput(f"unknown entry kind {kind!r}", details={"field": "kind", "allowed": list(ENTRY_KINDS)})
    if not text.strip():
        raise InvalidInput("an entry needs text", message_zh="记录内容不能为空", details={"field": "text"})
    entry = IncidentEntry(
        kind=kind,
        text=text,
        at=_aware(at or datetime.now(UTC), "at"),
        author_id=actor.id,
        author_name=actor.username,
    )
    entry.work_orders = _work_orders(session, work_order_ids or [])
    incident.entries.append(entry)
    linked = {w.id for w in incident.work_orders}
    incident.work_orders.extend(w for w in entry.work_orders if w.id not in linked)
    session.flush()
    audit.record(
        session, actor, "incident.add_entry", "incident", incident.id,
        after={"entry_id": entry.id, "kind": kind, "at": entry.at.isoformat(), "text": text,
               "work_order_ids": [w.id for w in entry.work_orders]},
    )
    return entry
