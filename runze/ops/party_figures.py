"""The monthly "党建+业务" figures: points members earned from the work, the share of emergency hours worked by
party members, incidents led by a vanguard team, call-outs, and activities held.

Definitions (stated in the report, so nobody has to guess):

* **Emergency hours**: for each emergency repair closed in the month, on-site time = (restored, else repaired,
  else closed) − on site, times the number of people on it: the dispatched crew's members plus any member
  recorded on the order (WorkParticipation, with their own hours if given).  Party members are crew members
  linked to the party roll (PartyMember.crew_member_id) or flagged `is_party_member`, plus recorded participants.
  The crew roster is today's, not the one of the day (the store keeps no roster history).
* **Points** (POINTS, configurable): per work order closed in the month, to every party member who worked on it:
  an emergency repair; a night leak hunt (leak investigation on site 22:00–06:00 local); a midnight repair
  (planned repair on site 22:00–04:00 local, 零点维修).
* **Incidents led by a vanguard team**: incidents started in the month with a call-out marked `led_response`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from runze.ops.months import LOCAL, month_bounds
from runze.store import Crew, CrewMember, Incident, WorkOrder
from runze.store.party_models import (
    ActivityAttendance,
    LectureCompetition,
    PartyActivity,
    PartyMember,
    VanguardCallout,
    WorkParticipation,
)

POINTS = {"emergency_repair": 3.0, "night_leak_hunt": 2.0, "midnight_repair": 2.0}
NIGHT_HOURS = (22, 6)  # night leak hunts: on site from 22:00 to before 06:00 local
MIDNIGHT_HOURS = (22, 4)  # 零点维修


def _in_window(when: datetime | None, window: tuple[int, int]) -> bool:
    if when is None:
        return False
    hour = when.astimezone(LOCAL).hour
    start, stop = window
    return hour >= start or hour < stop


def point_reason(wo: WorkOrder) -> str | None:
    """Which kind of point-earning work a closed work order is, or None."""
    if wo.status != "closed":
        return None
    if wo.kind == "emergency_repair":
        return "emergency_repair"
    if wo.kind == "leak_investigation" and _in_window(wo.on_site_at, NIGHT_HOURS):
        return "night_leak_hunt"
    if wo.kind == "planned_repair" and _in_window(wo.on_site_at, MIDNIGHT_HOURS):
        return "midnight_repair"
    return None


def on_site_hours(wo: WorkOrder) -> float | None:
    end = wo.restored_at or wo.repaired_at or wo.closed_at
    if wo.on_site_at is None or end is None:
        return None
    return max((end - wo.on_site_at).total_seconds() / 3600.0, 0.0)


def _closed_orders(session: Session, start: datetime, end: datetime, kinds: tuple[str, ...]) -> list[WorkOrder]:
    return list(session.scalars(select(WorkOrder).where(WorkOrder.status == "closed", WorkOrder.kind.in_(kinds),
                                                        WorkOrder.closed_at >= start, WorkOrder.closed_at < end)))


def _rosters(session: Session) -> tuple[dict[int, list[CrewMember]], dict[int, int]]:
    """Crew id → members; crew member id → party member id (linked ones)."""
    crews: dict[int, list[CrewMember]] = defaultdict(list)
    for member in session.scalars(select(CrewMember)):
        crews[member.crew_id].append(member)
    linked = dict(session.execute(select(PartyMember.crew_member_id, PartyMember.id).where(
        PartyMember.crew_member_id.is_not(None), PartyMember.is_active.is_(True))).all())
    return crews, linked


def _participants(session: Session, wo_ids: list[int]) -> dict[int, list[WorkParticipation]]:
    rows: dict[int, list[WorkParticipation]] = defaultdict(list)
    if wo_ids:
        for row in session.scalars(select(WorkParticipation).where(WorkParticipation.work_order_id.in_(wo_ids))):
            rows[row.work_order_id].append(row)
    return rows


def member_points(session: Session, month: str) -> list[dict[str, Any]]:
    """Points per party member for work orders closed in the month, highest first."""
    start, end = month_bounds(month)
    orders = [wo for wo in _closed_orders(session, start, end, ("emergency_repair", "leak_investigation",
                                                                "planned_repair")) if point_reason(wo)]
    crews, linked = _rosters(session)
    extra = _participants(session, [wo.id for wo in orders])
    earned: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for wo in orders:
        reason = point_reason(wo)
        members = {linked[m.id] for m in crews.get(wo.crew_id or -1, []) if m.id in linked}
        members |= {p.member_id for p in extra.get(wo.id, [])}
        for member_id in members:
            earned[member_id][reason] += POINTS[reason]
    names = dict(session.execute(select(PartyMember.id, PartyMember.name)).all())
    table = [{"member_id": m, "name": names.get(m, str(m)), "points": sum(r.values()), "by_reason": dict(r)}
             for m, r in earned.items()]
    return sorted(table, key=lambda row: (-row["points"], row["member_id"]))


def emergency_hours(session: Session, month: str) -> dict[str, Any]:
    """Person-hours on emergency repairs closed in the month, and the share worked by party members."""
    start, end = month_bounds(month)
    orders = _closed_orders(session, start, end, ("emergency_repair",))
    crews, linked = _rosters(session)
    extra = _participants(session, [wo.id for wo in orders])
    vanguard = set(session.scalars(select(Crew.id).where(Crew.is_vanguard.is_(True))))
    total = members = 0.0
    counted = unknown = by_vanguard = 0
    for wo in orders:
        hours = on_site_hours(wo)
        if hours is None:
            unknown += 1
            continue
        counted += 1
        by_vanguard += wo.crew_id in vanguard
        roster = crews.get(wo.crew_id or -1, [])
        in_crew = {linked[m.id] for m in roster if m.id in linked}
        total += hours * len(roster)
        members += hours * sum(1 for m in roster if m.id in linked or m.is_party_member)
        for p in extra.get(wo.id, []):
            if p.member_id in in_crew:
                continue  # already counted with the crew
            h = hours if p.hours is None else p.hours
            total += h
            members += h
    return {"orders": len(orders), "counted": counted, "without_times": unknown, "by_vanguard_team": by_vanguard,
            "person_hours": round(total, 2), "member_hours": round(members, 2),
            "member_share": (members / total) if total > 0 else None}


def monthly_party_report(session: Session, month: str) -> dict[str, Any]:
    """Everything the "党建+业务" section of the monthly report shows."""
    start, end = month_bounds(month)
    activities = list(session.scalars(select(PartyActivity).where(PartyActivity.held_at >= start,
                                                                  PartyActivity.held_at < end)))
    by_kind: dict[str, int] = defaultdict(int)
    for a in activities:
        by_kind[a.kind] += 1
    att = session.execute(select(ActivityAttendance.status, func.count()).join(PartyActivity).where(
        PartyActivity.held_at >= start, PartyActivity.held_at < end).group_by(ActivityAttendance.status)).all()
    attendance = dict(att)
    invited = sum(attendance.values())
    incidents = list(session.scalars(select(Incident.id).where(Incident.started_at >= start,
                                                               Incident.started_at < end)))
    led = set(session.scalars(select(VanguardCallout.incident_id).where(
        VanguardCallout.led_response.is_(True), VanguardCallout.incident_id.in_(incidents or [-1]))))
    callouts = session.scalar(select(func.count(VanguardCallout.id)).where(
        VanguardCallout.called_at >= start, VanguardCallout.called_at < end)) or 0
    competitions = list(session.scalars(select(LectureCompetition).where(
        LectureCompetition.held_at >= start, LectureCompetition.held_at < end)))
    points = member_points(session, month)
    members = session.scalar(select(func.count(PartyMember.id)).where(PartyMember.is_active.is_(True))) or 0
    return {
        "month": month,
        "members": int(members),
        "activities": {"total": len(activities), "by_kind": dict(by_kind),
                       "three_meetings_one_lecture": sum(by_kind[k] for k in ("branch_assembly", "committee_meeting",
                                                                             "group_meeting", "party_lecture")),
                       "attendance_rate": attendance.get("present", 0) / invited if invited else None},
        "emergency_hours": emergency_hours(session, month),
        "incidents": {"total": len(incidents), "led_by_vanguard": len(led),
                      "share_led_by_vanguard": len(led) / len(incidents) if incidents else None},
        "vanguard_callouts": int(callouts),
        "points": {"rules": POINTS, "top": points[:10], "total": sum(p["points"] for p in points)},
        "competitions": [{"id": c.id, "title": c.title, "status": c.status,
                          "winners": [s for s in (c.result or {}).get("standings", []) if s.get("prize")][:6]}
                         for c in competitions],
    }
