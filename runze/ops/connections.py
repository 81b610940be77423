"""New water connections (报装, "五零" service): applications, their steps with owner and time, 获得用水 figures.

An application records who applies, where (address, network node, DMA), for what use and what size.  It then
moves survey → scheme → construction → meter installation → water on (skippable steps may be jumped, e.g. a
connection without outside works), each move checked by `runze.ops.connections_logic.check_transition` and
stamped with its time and owner.  Times may be back-dated (a clerk records a site visit afterwards) but never
before the previous step nor in the future.  Working days come from `runze.ops.workdays` (Spring Festival,
make-up Saturdays), so the 获得用水 figures of a month are recomputed from the stored steps whenever asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops import connections_logic as logic
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import IllegalTransition, InvalidInput, not_found
from runze.ops.months import month_bounds
from runze.ops.workdays import default_calendar
from runze.ops.workorders import CLOCK_SKEW, check_version
from runze.store import NetworkAsset, NetworkVersion, User, WorkOrder
from runze.store.connections_models import ConnectionApplication, ConnectionStep

CUSTOMER_KINDS = ("residential", "non_residential", "small_business")
USES = ("domestic", "commercial", "industrial", "construction", "fire", "public")
SIZES_DN = (15, 20, 25, 32, 40, 50, 80, 100, 150, 200)
EDITABLE = frozenset({"applicant", "phone", "address", "cost_yuan", "customer_visits", "documents", "approvals",
                      "note", "work_order_id"})
RULES = logic.ConnectionRules()


def code_of(app: ConnectionApplication) -> str:
    return f"BZ{app.id:06d}"


def to_logic(app: ConnectionApplication) -> logic.ConnectionApplication:
    """The stored application as the storage-free logic sees it."""
    return logic.ConnectionApplication(
        application_id=code_of(app), customer_kind=app.customer_kind,
        history=tuple((s.step, s.entered_at) for s in app.steps), cost_yuan=app.cost_yuan,
        customer_visits=app.customer_visits, documents=app.documents, approvals=app.approvals)


def timeline(app: ConnectionApplication, now: datetime | None = None) -> dict[str, Any]:
    """Each step with its owner, time and working days spent in it; total working days; overdue steps."""
    now = now or datetime.now(UTC)
    cal = default_calendar()
    steps = []
    for i, s in enumerate(app.steps):
        left = app.steps[i + 1].entered_at if i + 1 < len(app.steps) else (None if s.step in logic.FINAL else now)
        limit = RULES.step_limits_workdays.get(s.step)
        steps.append({
            "step": s.step, "entered_at": s.entered_at, "owner_id": s.owner_id, "owner_name": s.owner_name,
            "note": s.note, "left_at": left if i + 1 < len(app.steps) else None,
            "workdays": None if left is None else round(cal.workdays_between(s.entered_at, left), 3),
            "limit_workdays": limit,
            "deadline": None if limit is None else cal.add_workdays(s.entered_at, limit),
        })
    end = app.closed_at or now
    overdue = logic.overdue_steps(to_logic(app), end, RULES, cal) if app.steps else []
    return {
        "steps": steps,
        "workdays_total": round(cal.workdays_between(app.submitted_at, end), 3),
        "calendar_days_total": round((end - app.submitted_at).total_seconds() / 86400, 3),
        "overdue": [o.to_dict() for o in overdue],
        "next_steps": list(logic.allowed_transitions(app.current_step, RULES)),
        "procedures": to_logic(app).procedure_count(RULES),
    }


# ---- reads ----------------------------------------------------------------------------------------------
def get_application(session: Session, app_id: int) -> ConnectionApplication:
    app = session.get(ConnectionApplication, app_id)
    if app is None:
        raise not_found("connection application", app_id)
    return app


def list_applications(session: Session, *, step: str | None = None, customer_kind: str | None = None,
                      dma: str | None = None, since: datetime | None = None, until: datetime | None = None,
                      limit: int = 50, offset: int = 0) -> Page[ConnectionApplication]:
    """Applications, newest first; `since`/`until` bound the submission time (until excluded)."""
    query = select(ConnectionApplication).order_by(ConnectionApplication.submitted_at.desc(),
                                                   ConnectionApplication.id.desc())
    if step:
        query = query.where(ConnectionApplication.current_step == step)
    if customer_kind:
        query = query.where(ConnectionApplication.customer_kind == customer_kind)
    if dma:
        query = query.where(ConnectionApplication.dma == dma)
    if since is not None:
        query = query.where(ConnectionApplication.submitted_at >= since)
    if until is not None:
        query = query.where(ConnectionApplication.submitted_at < until)
    return paginate(session, query, limit=limit, offset=offset)


def monthly_figures(session: Session, month: str, *, now: datetime | None = None) -> dict[str, Any]:
    """获得用水 for a month: figures by customer kind for applications that got water in it, plus the counts of
    applications submitted, open at the month's end and overdue then."""
    start, end = month_bounds(month)
    now = min(now or datetime.now(UTC), end)
    completed = list(session.scalars(select(ConnectionApplication).where(
        ConnectionApplication.completed_at >= start, ConnectionApplication.completed_at < end)))
    figures = [f.to_dict() for f in logic.monthly_getting_water([to_logic(a) for a in completed], RULES)
               if f.month == month]
    submitted = session.scalar(select(func.count(ConnectionApplication.id)).where(
        ConnectionApplication.submitted_at >= start, ConnectionApplication.submitted_at < end)) or 0
    open_apps = list(session.scalars(select(ConnectionApplication).where(
        ConnectionApplication.submitted_at < end,
        (ConnectionApplication.closed_at.is_(None)) | (ConnectionApplication.closed_at >= end))))
    overdue_open = []
    for app in open_apps:
        history = tuple((s.step, s.entered_at) for s in app.steps if s.entered_at < end)
        if not history:
            continue
        late = logic.overdue_steps(logic.ConnectionApplication(code_of(app), app.customer_kind, history), now,
                                   RULES)
        if any(o.open for o in late):
            overdue_open.append(code_of(app))
    return {"month": month, "submitted": int(submitted), "completed": len(completed), "open_at_end": len(open_apps),
            "overdue_open": overdue_open, "by_kind": figures,
            "zeros": [{"key": z.key, "field": z.field, "max_value": z.max_value, "label_zh": z.label("zh"),
                       "label_en": z.label("en")} for z in RULES.zeros]}


# ---- writes ---------------------------------------------------------------------------------------------
def _aware_past(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", message_zh="时间须带时区", details={"field": field})
    at = at.astimezone(UTC)
    if at > datetime.now(UTC) + CLOCK_SKEW:
        raise InvalidInput(f"{field} is in the future", message_zh="时间不能晚于当前时间", details={"field": field})
    return at


def _owner(session: Session, owner_id: int | None, owner_name: str | None, actor: Actor) -> tuple[int | None, str]:
    if owner_id is not None:
        user = session.get(User, owner_id)
        if user is None:
            raise InvalidInput(f"user {owner_id} does not exist", message_zh="负责人不存在",
                               details={"field": "owner_id"})
        return user.id, owner_name or user.display_name or user.username
    return (actor.id, actor.username) if not owner_name else (None, owner_name)


def _where(session: Session, version_id: int | None, node_id: str | None, dma: str | None) -> str | None:
    """Check the node against the network version; the DMA defaults to the node's."""
    if version_id is not None and session.get(NetworkVersion, version_id) is None:
        raise InvalidInput(f"network version {version_id} does not exist", details={"field": "network_version_id"})
    if node_id is None:
        return dma
    if version_id is None:
        raise InvalidInput("a node needs the network version it refers to", message_zh="节点须注明管网版本",
                           details={"field": "network_version_id"})
    node = session.scalar(select(NetworkAsset).where(NetworkAsset.version_id == version_id,
                                                     NetworkAsset.category == "node",
                                                     NetworkAsset.asset_id == node_id))
    if node is None:
        raise InvalidInput(f"node {node_id!r} is not in network version {version_id}", message_zh="管网版本中没有该节点",
                           details={"field": "node_id"})
    return dma or node.dma


def _snapshot(app: ConnectionApplication) -> dict[str, Any]:
    return audit.snapshot(app, extra={"steps": [[s.step, s.entered_at.isoformat(), s.owner_name] for s in app.steps]})


@unit_of_work
def create_application(
    session: Session, actor: Actor, *, applicant: str, address: str, customer_kind: str, use: str,
    size_dn: int = 20, phone: str | None = None, network_version_id: int | None = None, node_id: str | None = None,
    dma: str | None = None, submitted_at: datetime | None = None, owner_id: int | None = None,
    owner_name: str | None = None, cost_yuan: float = 0.0, customer_visits: int = 0, documents: int = 0,
    approvals: int = 0, note: str = "",
) -> ConnectionApplication:
    for field, value, allowed in (("customer_kind", customer_kind, CUSTOMER_KINDS), ("use", use, USES),
                                  ("size_dn", size_dn, SIZES_DN)):
        if value not in allowed:
            raise InvalidInput(f"unknown {field} {value!r}", details={"field": field, "allowed": list(allowed)})
    if cost_yuan < 0 or min(customer_visits, documents, approvals) < 0:
        raise InvalidInput("cost and counts cannot be negative", message_zh="费用和次数不能为负",
                           details={"field": "cost_yuan"})
    submitted = _aware_past(submitted_at or datetime.now(UTC), "submitted_at")
    dma = _where(session, network_version_id, node_id, dma)
    oid, oname = _owner(session, owner_id, owner_name, actor)
    app = ConnectionApplication(
        applicant=applicant, phone=phone, address=address, customer_kind=customer_kind, use=use, size_dn=size_dn,
        network_version_id=network_version_id, node_id=node_id, dma=dma, current_step="application",
        cost_yuan=cost_yuan, customer_visits=customer_visits, documents=documents, approvals=approvals, note=note,
        submitted_at=submitted, created_by_id=actor.id)
    app.steps = [ConnectionStep(step="application", entered_at=submitted, owner_id=oid, owner_name=oname,
                                recorded_by=actor.username)]
    session.add(app)
    session.flush()
    audit.record(session, actor, "connection.create", "connection_application", app.id, after=_snapshot(app))
    return app


@unit_of_work
def advance(
    session: Session, actor: Actor, app_id: int, to_step: str, *, expected_version: int | None,
    at: datetime | None = None, owner_id: int | None = None, owner_name: str | None = None, note: str = "",
) -> ConnectionApplication:
    """Move an application to `to_step` (legal moves only, see connections_logic), stamped with time and owner."""
    app = get_application(session, app_id)
    check_version(app, expected_version)
    try:
        logic.check_transition(app.current_step, to_step, RULES)
    except logic.TransitionError as exc:
        raise IllegalTransition(exc.message["en"], message_zh=exc.message["zh"],
                                details={"from": app.current_step, "to": to_step,
                                         "allowed": list(logic.allowed_transitions(app.current_step, RULES))}
                                ) from exc
    at = _aware_past(at or datetime.now(UTC), "at")
    previous = app.steps[-1].entered_at
    if at < previous:
        raise InvalidInput(f"at {at.isoformat()} is before the previous step ({previous.isoformat()})",
                           message_zh="时间早于上一步骤", details={"field": "at", "previous": previous.isoformat()})
    before = _snapshot(app)
    oid, oname = _owner(session, owner_id, owner_name, actor)
    app.steps.append(ConnectionStep(step=to_step, entered_at=at, owner_id=oid, owner_name=oname, note=note,
                                    recorded_by=actor.username))
    app.current_step = to_step
    if to_step == "water_on":
        app.completed_at = at
    if to_step in logic.FINAL:
        app.closed_at = at
    app.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor, f"connection.{to_step}", "connection_application", app.id, before=before,
                 after=_snapshot(app))
    return app


@unit_of_work
def update_application(session: Session, actor: Actor, app_id: int, changes: dict[str, Any], *,
                       expected_version: int | None) -> ConnectionApplication:
    """Edit the applicant's details, what the customer paid/brought, or link the construction work order."""
    app = get_application(session, app_id)
    check_version(app, expected_version)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", details={"fields": sorted(unknown)})
    if changes.get("work_order_id") is not None and session.get(WorkOrder, changes["work_order_id"]) is None:
        raise InvalidInput(f"work order {changes['work_order_id']} does not exist", details={"field": "work_order_id"})
    for key in ("cost_yuan", "customer_visits", "documents", "approvals"):
        if key in changes and (changes[key] is None or changes[key] < 0):
            raise InvalidInput(f"{key} must be a number >= 0", details={"field": key})
    before = _snapshot(app)
    for key, value in changes.items():
        setattr(app, key, value)
    app.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor, "connection.update", "connection_application", app.id, before=before,
                 after=_snapshot(app))
    return app
