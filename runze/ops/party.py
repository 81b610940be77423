"""Party building linked to the work (党建+业务): branches, members, vanguard posts, activities, 微党课
competitions, and the records that tie members to the work (work orders, incidents, vanguard-team call-outs).

Members are linked to staff users and to crew members, so the emergency hours a crew works are attributed to the
party members in it (see runze.ops.party_figures for points and the monthly "党建+业务" figures).  Competitions are
scored by runze.ops.competition (trimmed mean with ≥ 5 judges, tie-breaks, shared ranks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops import competition as comp
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import Conflict, IllegalTransition, InvalidInput, not_found
from runze.ops.workorders import check_version
from runze.store import Crew, CrewMember, Incident, User, WorkOrder
from runze.store.party_models import (
    ActivityAttendance,
    CompetitionEntry,
    LectureCompetition,
    PartyActivity,
    PartyBranch,
    PartyMember,
    VanguardCallout,
    VanguardPost,
    WorkParticipation,
)

BRANCH_KINDS = ("standing", "project")
MEMBER_STATUSES = ("full", "probationary")
AREA_KINDS = ("dma", "plant", "project")
# 三会一课: 支部党员大会, 支委会, 党小组会, 党课; then 主题党日 and 微党课
ACTIVITY_KINDS = ("branch_assembly", "committee_meeting", "group_meeting", "party_lecture", "theme_day",
                  "micro_lecture")
ACTIVITY_LABELS = {"branch_assembly": "支部党员大会", "committee_meeting": "支委会", "group_meeting": "党小组会",
                   "party_lecture": "党课", "theme_day": "主题党日", "micro_lecture": "微党课"}
ATTENDANCE = ("present", "excused", "absent")
PARTICIPATION_ROLES = ("member", "leader")
DEFAULT_CRITERIA = (
    comp.Criterion("content", "内容", "content", 0.4),
    comp.Criterion("delivery", "表达", "delivery", 0.3),
    comp.Criterion("link_to_work", "联系业务", "link to the work", 0.2),
    comp.Criterion("time", "时间控制", "timing", 0.1),
)


def _check(value: Any, allowed: tuple, field: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"unknown {field} {value!r}", details={"field": field, "allowed": list(allowed)})


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", message_zh="时间须带时区", details={"field": field})
    return at.astimezone(UTC)


def _get(session: Session, model: type, entity: str, entity_id: int | None) -> Any:
    row = session.get(model, entity_id) if entity_id is not None else None
    if row is None:
        raise not_found(entity, entity_id)
    return row


def _ref(session: Session, model: type, entity_id: int | None, field: str) -> None:
    if entity_id is not None and session.get(model, entity_id) is None:
        raise InvalidInput(f"{field} {entity_id} does not exist", message_zh="引用的记录不存在", details={"field": field})


# ---- branches and members -------------------------------------------------------------------------------
@unit_of_work
def create_branch(session: Session, actor: Actor, *, name: str, kind: str = "standing", project: str | None = None,
                  secretary_user_id: int | None = None) -> PartyBranch:
    _check(kind, BRANCH_KINDS, "kind")
    if kind == "project" and not project:
        raise InvalidInput("a branch set up on a project names the project", message_zh="项目支部须填写项目名称",
                           details={"field": "project"})
    _ref(session, User, secretary_user_id, "secretary_user_id")
    if session.scalar(select(PartyBranch.id).where(PartyBranch.name == name)) is not None:
        raise Conflict(f"a branch named {name!r} exists", message_zh=f"支部 {name} 已存在", details={"field": "name"})
    branch = PartyBranch(name=name, kind=kind, project=project, secretary_user_id=secretary_user_id)
    session.add(branch)
    session.flush()
    audit.record(session, actor, "party.branch.create", "party_branch", branch.id, after=audit.snapshot(branch))
    return branch


def list_branches(session: Session, *, limit: int = 50, offset: int = 0) -> Page[PartyBranch]:
    return paginate(session, select(PartyBranch).order_by(PartyBranch.id), limit=limit, offset=offset)


@unit_of_work
def create_member(session: Session, actor: Actor, *, branch_id: int, name: str, status: str = "full",
                  user_id: int | None = None, crew_member_id: int | None = None,
                  joined_at: datetime | None = None) -> PartyMember:
    _check(status, MEMBER_STATUSES, "status")
    _ref(session, PartyBranch, branch_id, "branch_id")
    _ref(session, User, user_id, "user_id")
    _ref(session, CrewMember, crew_member_id, "crew_member_id")
    member = PartyMember(branch_id=branch_id, name=name, status=status, user_id=user_id,
                         crew_member_id=crew_member_id, joined_at=_aware(joined_at, "joined_at") if joined_at else None)
    session.add(member)
    session.flush()
    if crew_member_id is not None:  # keep the crew roster's flag in step with the party roll
        session.get(CrewMember, crew_member_id).is_party_member = True
    audit.record(session, actor, "party.member.create", "party_member", member.id, after=audit.snapshot(member))
    return member


def list_members(session: Session, *, branch_id: int | None = None, limit: int = 50,
                 offset: int = 0) -> Page[PartyMember]:
    query = select(PartyMember).order_by(PartyMember.id)
    if branch_id is not None:
        query = query.where(PartyMember.branch_id == branch_id)
    return paginate(session, query, limit=limit, offset=offset)


@unit_of_work
def create_post(session: Session, actor: Actor, *, member_id: int, title: str, area_kind: str, area: str,
                since: datetime | None = None) -> VanguardPost:
    """A 党员先锋岗 with its 责任区 (a DMA, a plant or a project)."""
    _check(area_kind, AREA_KINDS, "area_kind")
    _ref(session, PartyMember, member_id, "member_id")
    post = VanguardPost(member_id=member_id, title=title, area_kind=area_kind, area=area,
                        since=_aware(since or datetime.now(UTC), "since"))
    session.add(post)
    session.flush()
    audit.record(session, actor, "party.post.create", "party_vanguard_post", post.id, after=audit.snapshot(post))
    return post


def list_posts(session: Session, *, area_kind: str | None = None, limit: int = 50,
               offset: int = 0) -> Page[VanguardPost]:
    query = select(VanguardPost).order_by(VanguardPost.id)
    if area_kind:
        query = query.where(VanguardPost.area_kind == area_kind)
    return paginate(session, query, limit=limit, offset=offset)


# ---- activities -----------------------------------------------------------------------------------------
@unit_of_work
def create_activity(session: Session, actor: Actor, *, branch_id: int, kind: str, title: str, held_at: datetime,
                    place: str = "", minutes: str = "", attendance: dict[int, str] | None = None) -> PartyActivity:
    """An activity (三会一课, 主题党日, 微党课) with its minutes and who attended (member id → status)."""
    _check(kind, ACTIVITY_KINDS, "kind")
    _ref(session, PartyBranch, branch_id, "branch_id")
    attendance = attendance or {}
    for status in attendance.values():
        _check(status, ATTENDANCE, "attendance")
    if attendance:
        known = set(session.scalars(select(PartyMember.id).where(PartyMember.id.in_(list(attendance)))))
        missing = sorted(set(attendance) - known)
        if missing:
            raise InvalidInput(f"members {missing} do not exist", details={"field": "attendance", "missing": missing})
    activity = PartyActivity(branch_id=branch_id, kind=kind, title=title, held_at=_aware(held_at, "held_at"),
                             place=place, minutes=minutes, created_by_id=actor.id)
    activity.attendance = [ActivityAttendance(member_id=m, status=s) for m, s in sorted(attendance.items())]
    session.add(activity)
    session.flush()
    audit.record(session, actor, "party.activity.create", "party_activity", activity.id,
                 after=audit.snapshot(activity, extra={"attendance": {str(m): s for m, s in attendance.items()}}))
    return activity


def list_activities(session: Session, *, kind: str | None = None, branch_id: int | None = None,
                    since: datetime | None = None, until: datetime | None = None, limit: int = 50,
                    offset: int = 0) -> Page[PartyActivity]:
    query = select(PartyActivity).order_by(PartyActivity.held_at.desc(), PartyActivity.id.desc())
    if kind:
        query = query.where(PartyActivity.kind == kind)
    if branch_id is not None:
        query = query.where(PartyActivity.branch_id == branch_id)
    if since is not None:
        query = query.where(PartyActivity.held_at >= since)
    if until is not None:
        query = query.where(PartyActivity.held_at < until)
    return paginate(session, query, limit=limit, offset=offset)


# ---- link to the work -----------------------------------------------------------------------------------
@unit_of_work
def add_participation(session: Session, actor: Actor, *, member_id: int, work_order_id: int | None = None,
                      incident_id: int | None = None, role: str = "member", hours: float | None = None,
                      note: str = "") -> WorkParticipation:
    """A party member worked on a work order and/or an incident (besides the crew the order went to)."""
    _check(role, PARTICIPATION_ROLES, "role")
    if work_order_id is None and incident_id is None:
        raise InvalidInput("name a work order or an incident", message_zh="须指定工单或事件",
                           details={"field": "work_order_id"})
    if hours is not None and not 0 <= hours <= 72:
        raise InvalidInput("hours must be between 0 and 72", details={"field": "hours"})
    _ref(session, PartyMember, member_id, "member_id")
    _ref(session, WorkOrder, work_order_id, "work_order_id")
    _ref(session, Incident, incident_id, "incident_id")
    row = WorkParticipation(member_id=member_id, work_order_id=work_order_id, incident_id=incident_id, role=role,
                            hours=hours, note=note)
    session.add(row)
    session.flush()
    audit.record(session, actor, "party.participation.create", "party_work_participation", row.id,
                 after=audit.snapshot(row))
    return row


@unit_of_work
def add_callout(session: Session, actor: Actor, *, crew_id: int, incident_id: int | None = None,
                work_order_id: int | None = None, called_at: datetime | None = None, led_response: bool = False,
                note: str = "") -> VanguardCallout:
    """A vanguard team (a crew marked 党员先锋队) was called out; `led_response`: it led the incident response."""
    crew = session.get(Crew, crew_id)
    if crew is None or not crew.is_vanguard:
        raise InvalidInput(f"crew {crew_id} is not a vanguard team (党员先锋队)", message_zh="该班组不是党员先锋队",
                           details={"field": "crew_id"})
    if incident_id is None and work_order_id is None:
        raise InvalidInput("name an incident or a work order", message_zh="须指定事件或工单",
                           details={"field": "incident_id"})
    _ref(session, Incident, incident_id, "incident_id")
    _ref(session, WorkOrder, work_order_id, "work_order_id")
    row = VanguardCallout(crew_id=crew_id, incident_id=incident_id, work_order_id=work_order_id, note=note,
                          called_at=_aware(called_at or datetime.now(UTC), "called_at"), led_response=led_response)
    session.add(row)
    session.flush()
    audit.record(session, actor, "party.callout.create", "party_vanguard_callout", row.id, after=audit.snapshot(row))
    return row


# ---- 微党课 competitions -------------------------------------------------------------------------------
def config_of(competition: LectureCompetition) -> comp.CompetitionConfig:
    cfg = competition.config
    kwargs: dict[str, Any] = {"criteria": tuple(comp.Criterion(**c) for c in cfg["criteria"]),
                              "trim_min_judges": int(cfg.get("trim_min_judges", 5)),
                              "tie_breaks": tuple(cfg.get("tie_breaks", ("median", "all_judges_mean")))}
    if cfg.get("prize_bands"):  # else the competition module's default bands
        kwargs["prize_bands"] = tuple(comp.PrizeBand(*band) for band in cfg["prize_bands"])
    return comp.CompetitionConfig(**kwargs)


@unit_of_work
def create_competition(session: Session, actor: Actor, *, title: str, held_at: datetime, judges: list[str],
                       entries: list[dict[str, Any]], criteria: list[dict[str, Any]] | None = None,
                       prize_bands: list[list[Any]] | None = None, trim_min_judges: int = 5,
                       tie_breaks: list[str] | None = None) -> LectureCompetition:
    if len(set(judges)) != len(judges) or not judges:
        raise InvalidInput("judges must be a non-empty list of distinct names", details={"field": "judges"})
    if not entries:
        raise InvalidInput("a competition needs contestants", details={"field": "entries"})
    crit = criteria or [{"key": c.key, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight,
                         "min_score": c.min_score, "max_score": c.max_score} for c in DEFAULT_CRITERIA]
    config = {"criteria": crit, "trim_min_judges": trim_min_judges,
              "tie_breaks": tie_breaks or ["median", "all_judges_mean"], "prize_bands": prize_bands or []}
    competition = LectureCompetition(title=title, held_at=_aware(held_at, "held_at"), config=config,
                                     judges=list(judges), scores={})
    try:
        config_of(competition)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"competition rules: {exc}", message_zh="评分规则有误", details={"field": "criteria"}) from exc
    for e in entries:
        _ref(session, PartyMember, e.get("member_id"), "member_id")
    competition.entries = [CompetitionEntry(contestant=e["contestant"], member_id=e.get("member_id"),
                                            lecture_title=e.get("lecture_title", "")) for e in entries]
    session.add(competition)
    session.flush()
    audit.record(session, actor, "party.competition.create", "party_competition", competition.id,
                 after=audit.snapshot(competition))
    return competition


def get_competition(session: Session, competition_id: int) -> LectureCompetition:
    return _get(session, LectureCompetition, "competition", competition_id)


def list_competitions(session: Session, *, limit: int = 50, offset: int = 0) -> Page[LectureCompetition]:
    return paginate(session, select(LectureCompetition).order_by(LectureCompetition.held_at.desc()),
                    limit=limit, offset=offset)


@unit_of_work
def submit_scores(session: Session, actor: Actor, competition_id: int, *, judge: str,
                  scores: dict[int, dict[str, float]], expected_version: int | None) -> LectureCompetition:
    """One judge's scores: entry id → criterion → score (replaces that judge's earlier sheet)."""
    competition = get_competition(session, competition_id)
    check_version(competition, expected_version)
    if competition.status == "scored":
        raise IllegalTransition("the competition is already scored", message_zh="比赛已出成绩，不能再改分")
    if judge not in competition.judges:
        raise InvalidInput(f"{judge!r} is not on the panel", message_zh="该评委不在评委名单中",
                           details={"field": "judge", "judges": competition.judges})
    entry_ids = {e.id for e in competition.entries}
    unknown = sorted(set(scores) - entry_ids)
    if unknown:
        raise InvalidInput(f"entries {unknown} are not in this competition", details={"field": "scores"})
    before = {"scores": competition.scores}
    sheet = {str(k): {c: float(v) for c, v in row.items()} for k, row in scores.items()}
    competition.scores = {**competition.scores, judge: sheet}  # a new dict: the JSON column sees the change
    session.flush()
    audit.record(session, actor, "party.competition.scores", "party_competition", competition.id, before=before,
                 after={"judge": judge, "sheet": sheet})
    return competition


@unit_of_work
def score(session: Session, actor: Actor, competition_id: int, *, expected_version: int | None) -> LectureCompetition:
    """Rank the contestants from every judge's sheet; missing or out-of-range scores are listed, nothing stored."""
    competition = get_competition(session, competition_id)
    check_version(competition, expected_version)
    names = {str(e.id): e.contestant for e in competition.entries}
    if len(set(names.values())) != len(names):
        raise InvalidInput("two contestants share a name", details={"field": "entries"})
    by_name = {judge: {names[k]: row for k, row in sheet.items() if k in names}
               for judge, sheet in competition.scores.items()}
    try:
        result = comp.score_competition(by_name, config_of(competition), contestants=list(names.values()),
                                        judges=competition.judges)
    except comp.ScoringError as exc:
        raise InvalidInput(str(exc), message_zh="；".join(p["zh"] for p in exc.problems[:20]),
                           details={"problems": exc.problems[:100]}) from exc
    competition.result = result.to_dict()
    competition.status = "scored"
    session.flush()
    audit.record(session, actor, "party.competition.score", "party_competition", competition.id,
                 after={"result": competition.result})
    return competition
