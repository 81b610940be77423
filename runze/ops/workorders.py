"""Work orders (工单): creation, edits with optimistic locking, and the state machine of their life.

States and legal transitions (anything else is refused with the reason):

    reported ─► dispatched ─► on_site ─► isolated ─► repaired ─► restored ─► closed
                                   └──────────────────►┘  └────────────────────►┘
    (any state except closed/cancelled) ─► cancelled      (a reason is required)

* dispatched needs a crew (already assigned, or given with the transition).
* on_site ─► repaired directly (no isolation) only for kinds that need not shut off supply: leak_investigation,
  valve_operation, meter_work, new_connection_works.  emergency_repair and planned_repair must isolate first.
* repaired ─► restored only if supply was isolated; repaired ─► closed only if it was not (an isolated main
  must be restored before the order closes, otherwise "time without water" would have no end).
* closed and cancelled are final.

Every step stores its timestamp (UTC, offset-aware); a step may be back-dated (a crew reports after the
fact) but never before the previous step nor in the future.  The KPIs need: time to site = on_site − reported,
time without water = restored − isolated, total = closed (or cancelled) − reported.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import IllegalTransition, InvalidInput, StaleVersion, VersionRequired, not_found
from runze.store import Crew, NetworkAsset, NetworkVersion, WorkOrder, WorkOrderAsset

KINDS = (
    "emergency_repair",
    "planned_repair",
    "leak_investigation",
    "valve_operation",
    "meter_work",
    "new_connection_works",
)
KIND_LABELS = {
    "emergency_repair": "抢修 / emergency repair",
    "planned_repair": "计划维修 / planned repair",
    "leak_investigation": "漏点排查 / leak investigation",
    "valve_operation": "阀门操作 / valve operation",
    "meter_work": "水表作业 / meter work",
    "new_connection_works": "报装施工 / new connection works",
}
REPAIR_KINDS = frozenset({"emergency_repair", "planned_repair"})  # these must isolate before repairing
STATES = ("reported", "dispatched", "on_site", "isolated", "repaired", "restored", "closed", "cancelled")
FINAL_STATES = frozenset({"closed", "cancelled"})
OPEN_STATES = tuple(s for s in STATES if s not in FINAL_STATES)
STEP_COLUMN = {state: f"{state}_at" for state in STATES}

# the graph; the guards in `refusal` narrow it by kind, crew and isolation
EDGES = frozenset(
    {
        ("reported", "dispatched"),
        ("dispatched", "on_site"),
        ("on_site", "isolated"),
        ("on_site", "repaired"),
        ("isolated", "repaired"),
        ("repaired", "restored"),
        ("repaired", "closed"),
        ("restored", "closed"),
    }
    | {(state, "cancelled") for state in OPEN_STATES}
)
# which permission a target state needs on top of workorders:transition
TARGET_ACTION = {
    "dispatched": "workorders:dispatch",
    "closed": "workorders:dispatch",
    "cancelled": "workorders:dispatch",
    "on_site": "workorders:progress",
    "isolated": "workorders:progress",
    "repaired": "workorders:progress",
    "restored": "workorders:progress",
}
CLOCK_SKEW = timedelta(minutes=5)  # how far in the future a reported time may be (device clocks drift)
EDITABLE = frozenset(
    {"title", "description", "priority", "address", "crew_id", "outage_plan", "network_version_id", "assets"}
)


def refusal(
    kind: str, status: str, target: str, *, isolated: bool, has_crew: bool, reason: str | None
) -> tuple[str, str] | None:
    """Why `status → target` is illegal for a work order of `kind` (English, Chinese), or None if legal."""
    if target not in STATES:
        return (f"unknown state {target!r}", f"未知状态 {target}")
    if status in FINAL_STATES:
        return (f"the work order is {status}: it takes no further steps", f"工单已{_ZH_STATE[status]}，不能再变更")
    if (status, target) not in EDGES:
        nxt = ", ".join(t for t in STATES if (status, t) in EDGES and _guard(kind, status, t, isolated, True, "-") is None)
        return (f"cannot go from {status} to {target}; next steps from {status}: {nxt}",
                f"不能从{_ZH_STATE[status]}转为{_ZH_STATE[target]}")
    return _guard(kind, status, target, isolated, has_crew, reason)


def _guard(kind: str, status: str, target: str, isolated: bool, has_crew: bool, reason: str | None
           ) -> tuple[str, str] | None:
    """The conditions on an edge of the graph (kind, crew, isolation, cancel reason)."""
    if target == "dispatched" and not has_crew:
        return ("assign a crew to dispatch the work order", "派单前须指定班组")
    if (status, target) == ("on_site", "repaired") and kind in REPAIR_KINDS:
        return (f"a {kind} must isolate the main before repairing (on_site → isolated → repaired)",
                "维修须先关阀隔离再修复")
    if (status, target) == ("repaired", "restored") and not isolated:
        return ("supply was never isolated, so there is nothing to restore: close the work order",
                "未关阀停水，无需恢复供水，请直接关闭工单")
    if (status, target) == ("repaired", "closed") and isolated:
        return ("supply is still isolated: restore it before closing", "尚未恢复供水，不能关闭工单")
    if target == "cancelled" and not (reason and reason.strip()):
        return ("give a reason to cancel the work order", "取消工单须填写原因")
    return None


def legal_next(kind: str, status: str, *, isolated: bool) -> list[str]:
    """The states a work order may go to next (assuming a crew and a cancel reason are given)."""
    return list(_legal_next(kind, status, isolated))


@functools.lru_cache(maxsize=256)  # a pure function of three small enums, asked for every order in every page
def _legal_next(kind: str, status: str, isolated: bool) -> tuple[str, ...]:
    return tuple(
        target
        for target in STATES
        if refusal(kind, status, target, isolated=isolated, has_crew=True, reason="-") is None
    )


def durations(wo: WorkOrder) -> dict[str, float | None]:
    """Seconds between steps that KPIs use; None where a step has not happened."""
    return step_durations({column: getattr(wo, column) for column in _STEP_TIMES})


def step_durations(times: Mapping[str, datetime | None]) -> dict[str, float | None]:
    """`durations` from the step times alone (a reading's row as well as a record)."""

    def span(start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else (end - start).total_seconds()

    return {
        "time_to_dispatch_s": span(times["reported_at"], times["dispatched_at"]),
        "time_to_site_s": span(times["reported_at"], times["on_site_at"]),
        "time_without_water_s": span(times["isolated_at"], times["restored_at"]),
        "repair_s": span(times["on_site_at"], times["repaired_at"]),
        "total_s": span(times["reported_at"], times["closed_at"] or times["cancelled_at"]),
    }


_STEP_TIMES = tuple(STEP_COLUMN.values())


def code_of(wo: WorkOrder) -> str:
    return code_of_id(wo.id)


def code_of_id(wo_id: int) -> str:
    return f"WO{wo_id:07d}"


# ---- reads ----------------------------------------------------------------------------------------------
# What a work order's reading needs: its assets and its crew's name, not the crew's members (Crew.members is
# loaded eagerly for the crews' own pages; here it would be one more query per request)
_READ_OPTIONS = (joinedload(WorkOrder.crew).lazyload(Crew.members), joinedload(WorkOrder.assets))


def get_work_order(session: Session, wo_id: int) -> WorkOrder:
    wo = session.get(WorkOrder, wo_id, options=_READ_OPTIONS)
    if wo is None:
        raise not_found("work order", wo_id)
    return wo


def _filters(status: list[str] | None, kind: list[str] | None, crew_id: int | None, since: datetime | None,
             until: datetime | None) -> list[Any]:
    where: list[Any] = []
    if status:
        where.append(WorkOrder.status.in_(status))
    if kind:
        where.append(WorkOrder.kind.in_(kind))
    if crew_id is not None:
        where.append(WorkOrder.crew_id == crew_id)
    if since is not None:
        where.append(WorkOrder.reported_at >= since)
    if until is not None:
        where.append(WorkOrder.reported_at < until)
    return where


_NEWEST_FIRST = (WorkOrder.reported_at.desc(), WorkOrder.id.desc())


def list_work_orders(
    session: Session,
    *,
    status: list[str] | None = None,
    kind: list[str] | None = None,
    crew_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[WorkOrder]:
    """Work orders, newest report first; `since`/`until` bound the report time (until excluded)."""
    query = (select(WorkOrder).options(*_READ_OPTIONS).where(*_filters(status, kind, crew_id, since, until))
             .order_by(*_NEWEST_FIRST))
    return paginate(session, query, limit=limit, offset=offset)


# ---- readings: the same orders as plain rows ------------------------------------------------------------
# The API's read routes need no ORM objects: one Core SELECT (order, crew name, assets as joined rows) folded
# into one dict per order costs about a third of the CPU of loading the mapped objects and reading their
# attributes back (identity map, instance state, lazy-load guards).  The dicts carry the record's columns,
# `crew_name` and `assets`; runze.web.schemas.workorders adds the derived fields.
_WO = WorkOrder.__table__
_READ_COLUMNS = tuple(c for c in _WO.c if c.key != "created_by_id")
READ_KEYS = tuple(c.key for c in _READ_COLUMNS)
_ASSET = WorkOrderAsset.__table__
_CREW = Crew.__table__
_READ_TAIL = (_CREW.c.name.label("crew_name"), _ASSET.c.category.label("asset_category"),
              _ASSET.c.asset_id.label("asset_asset_id"))


def _read_select(from_: Any = _WO) -> Select[Any]:
    return (select(*_READ_COLUMNS, *_READ_TAIL).select_from(from_)
            .outerjoin(_CREW, _CREW.c.id == _WO.c.crew_id)
            .outerjoin(_ASSET, _ASSET.c.work_order_id == _WO.c.id))


def _fold(rows: Any) -> list[dict[str, Any]]:
    """Joined rows (one per asset, or one with NULL asset columns) → one dict per order, in row order.  Columns
    after the asset's (the list's total) are ignored."""
    n = len(READ_KEYS)
    orders: dict[int, dict[str, Any]] = {}
    for row in rows:
        record = orders.get(row[0])
        if record is None:
            record = dict(zip(READ_KEYS, row[:n], strict=True))
            record["crew_name"] = row[n]
            record["assets"] = []
            orders[row[0]] = record
        if row[n + 1] is not None:
            record["assets"].append({"category": row[n + 1], "asset_id": row[n + 2]})
    return list(orders.values())


# The statements are built once, with bound parameters, and run on the session's connection (Core, not the
# ORM's execute): building a SELECT of this size and its cache key costs more than running it.
_READ_ONE = _read_select().where(_WO.c.id == bindparam("wo_id")).order_by(_ASSET.c.id)
_FILTER_CLAUSES = {
    "status": _WO.c.status.in_(bindparam("status", expanding=True)),
    "kind": _WO.c.kind.in_(bindparam("kind", expanding=True)),
    "crew_id": _WO.c.crew_id == bindparam("crew_id"),
    "since": _WO.c.reported_at >= bindparam("since", type_=_WO.c.reported_at.type),
    "until": _WO.c.reported_at < bindparam("until", type_=_WO.c.reported_at.type),
}
_NEWEST_FIRST_ROWS = (_WO.c.reported_at.desc(), _WO.c.id.desc())


@functools.lru_cache(maxsize=64)  # one pair per combination of filters given (32 at most)
def _list_statements(filters: tuple[str, ...]) -> tuple[Select[Any], Select[Any]]:
    where = [_FILTER_CLAUSES[name] for name in filters]
    page = (select(_WO.c.id, func.count().over().label("total")).where(*where).order_by(*_NEWEST_FIRST_ROWS)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery("page"))
    query = (_read_select(page.join(_WO, _WO.c.id == page.c.id)).add_columns(page.c.total)
             .order_by(*_NEWEST_FIRST_ROWS, _ASSET.c.id))
    return query, select(func.count()).select_from(_WO).where(*where)


def read_work_order(session: Session, wo_id: int) -> dict[str, Any]:
    """One work order as a plain dict (see `_fold`), or NotFound."""
    rows = session.connection().execute(_READ_ONE, {"wo_id": wo_id}).all()
    if not rows:
        raise not_found("work order", wo_id)
    return _fold(rows)[0]


def list_work_order_reads(
    session: Session,
    *,
    status: list[str] | None = None,
    kind: list[str] | None = None,
    crew_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """`list_work_orders` as plain dicts, in one SELECT: the page's ids and the filter's total (a window count,
    evaluated before LIMIT) in a subquery, joined to the orders, their crews and assets."""
    given = {"status": status or None, "kind": kind or None, "crew_id": crew_id, "since": since, "until": until}
    params: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    query, count = _list_statements(tuple(params))
    connection = session.connection()
    rows = connection.execute(query, {**params, "limit": limit, "offset": offset}).all()
    if rows:
        total = rows[0][-1]
    elif offset == 0:
        total = 0
    else:  # a page past the end: no row carries the total
        total = connection.execute(count, params).scalar() or 0
    return Page(items=_fold(rows), total=int(total), limit=limit, offset=offset)


# ---- writes ---------------------------------------------------------------------------------------------
def _snapshot(wo: WorkOrder) -> dict[str, Any]:
    return audit.snapshot(wo, extra={"assets": sorted(f"{a.category}:{a.asset_id}" for a in wo.assets)})


def _check_time(at: datetime, field: str, *, not_before: datetime | None = None) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", message_zh="时间须带时区", details={"field": field})
    at = at.astimezone(UTC)
    if at > datetime.now(UTC) + CLOCK_SKEW:
        raise InvalidInput(f"{field} is in the future", message_zh="时间不能晚于当前时间", details={"field": field})
    if not_before is not None and at < not_before:
        raise InvalidInput(
            f"{field} {at.isoformat()} is before the previous step ({not_before.isoformat()})",
            message_zh="时间早于上一步骤",
            details={"field": field, "previous": not_before.isoformat()},
        )
    return at


def _check_crew(session: Session, crew_id: int | None) -> None:
    if crew_id is None:
        return
    # the flag alone: loading the Crew would load its members too (one more query per dispatch)
    active = session.scalar(select(Crew.is_active).where(Crew.id == crew_id))
    if not active:
        raise InvalidInput(f"crew {crew_id} does not exist or is inactive", message_zh="班组不存在或已停用",
                           details={"field": "crew_id"})


def _check_assets(session: Session, version_id: int | None, assets: list[dict[str, str]]) -> None:
    """Every asset must exist in the stated network version (ids alone are ambiguous across versions)."""
    if version_id is not None and session.get(NetworkVersion, version_id) is None:
        raise InvalidInput(f"network version {version_id} does not exist", details={"field": "network_version_id"})
    if not assets:
        return
    if version_id is None:
        raise InvalidInput("assets need the network version they refer to", message_zh="资产须注明管网版本",
                           details={"field": "network_version_id"})
    wanted = {(a["category"], a["asset_id"]) for a in assets}
    rows = session.execute(
        select(NetworkAsset.category, NetworkAsset.asset_id).where(
            NetworkAsset.version_id == version_id, NetworkAsset.asset_id.in_({a for _, a in wanted})
        )
    )
    missing = sorted(f"{c}:{a}" for c, a in wanted - {tuple(r) for r in rows})
    if missing:
        raise InvalidInput(
            f"not in network version {version_id}: {', '.join(missing[:20])}",
            message_zh="管网版本中不存在这些资产",
            details={"field": "assets", "missing": missing},
        )


def _set_assets(wo: WorkOrder, assets: list[dict[str, str]]) -> None:
    wanted = {(a["category"], a["asset_id"]) for a in assets}
    # keep rows that stay, so the unique (work order, asset) key never sees a delete-then-insert of one pair
    wo.assets = [a for a in wo.assets if (a.category, a.asset_id) in wanted]
    have = {(a.category, a.asset_id) for a in wo.assets}
    for category, asset_id in sorted(wanted - have):
        wo.assets.append(WorkOrderAsset(category=category, asset_id=asset_id))


def check_version(wo: Any, expected: int | None) -> None:
    if expected is None:
        raise VersionRequired(
            "send the version you are changing (field `version` or header If-Match)",
            message_zh="请提供记录版本号（version 字段或 If-Match 头）",
        )
    if expected != wo.version:
        raise StaleVersion(
            f"stale version {expected}: the record is at version {wo.version}; reload it and try again",
            message_zh="记录已被他人修改，请刷新后重试",
            details={"sent_version": expected, "current_version": wo.version},
        )


@unit_of_work
def create_work_order(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    title: str,
    description: str = "",
    priority: int = 2,
    address: str | None = None,
    reported_at: datetime | None = None,
    network_version_id: int | None = None,
    assets: list[dict[str, str]] | None = None,
    outage_plan: dict[str, Any] | None = None,
    crew_id: int | None = None,
) -> WorkOrder:
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}", details={"field": "kind", "allowed": list(KINDS)})
    reported_at = _check_time(reported_at or datetime.now(UTC), "reported_at")
    _check_crew(session, crew_id)
    _check_assets(session, network_version_id, assets or [])
    wo = WorkOrder(
        kind=kind,
        status="reported",
        title=title,
        description=description,
        priority=priority,
        address=address,
        reported_at=reported_at,
        network_version_id=network_version_id,
        outage_plan=outage_plan,
        crew_id=crew_id,
        created_by_id=actor.id,
    )
    _set_assets(wo, assets or [])
    session.add(wo)
    session.flush()
    audit.record(session, actor, "workorder.create", "work_order", wo.id, after=_snapshot(wo))
    return wo


@unit_of_work
def update_work_order(
    session: Session, actor: Actor, wo_id: int, changes: dict[str, Any], *, expected_version: int | None
) -> WorkOrder:
    """Edit the fields of an open work order; its status changes only through `transition`."""
    wo = get_work_order(session, wo_id)
    check_version(wo, expected_version)
    if wo.status in FINAL_STATES:
        raise IllegalTransition(f"the work order is {wo.status}: it cannot be edited", message_zh="工单已结束，不能修改")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", details={"fields": sorted(unknown)})
    before = _snapshot(wo)
    if "crew_id" in changes:
        if changes["crew_id"] is None and wo.status != "reported":
            raise IllegalTransition("a dispatched work order keeps a crew", message_zh="已派单的工单须有班组")
        _check_crew(session, changes["crew_id"])
    version_id = changes.get("network_version_id", wo.network_version_id)
    assets = changes.get("assets")
    if assets is None and "network_version_id" in changes:
        assets = [{"category": a.category, "asset_id": a.asset_id} for a in wo.assets]
    if assets is not None or "network_version_id" in changes:
        _check_assets(session, version_id, assets or [])
    for key, value in changes.items():
        if key != "assets":
            setattr(wo, key, value)
    if assets is not None:
        _set_assets(wo, assets)
    wo.updated_at = datetime.now(UTC)  # always an UPDATE of the row, so the version moves even for asset edits
    session.flush()
    audit.record(session, actor, "workorder.update", "work_order", wo.id, before=before, after=_snapshot(wo))
    return wo


@unit_of_work
def transition(
    session: Session,
    actor: Actor,
    wo_id: int,
    target: str,
    *,
    expected_version: int | None,
    at: datetime | None = None,
    crew_id: int | None = None,
    reason: str | None = None,
) -> WorkOrder:
    """Move a work order to `target`, stamping the step's time; refused with the reason if illegal."""
    actor.require(TARGET_ACTION.get(target, "workorders:dispatch"))
    wo = get_work_order(session, wo_id)
    check_version(wo, expected_version)
    if crew_id is not None and target == "dispatched":
        _check_crew(session, crew_id)
    why = refusal(
        wo.kind,
        wo.status,
        target,
        isolated=wo.isolated_at is not None,
        has_crew=(crew_id or wo.crew_id) is not None,
        reason=reason,
    )
    if why is not None:
        raise IllegalTransition(
            why[0], message_zh=why[1], details={"from": wo.status, "to": target, "kind": wo.kind}
        )
    before = _snapshot(wo)
    previous = max(t for t in (getattr(wo, STEP_COLUMN[s]) for s in STATES) if t is not None)
    at = _check_time(at or datetime.now(UTC), "at", not_before=previous)
    if crew_id is not None and target == "dispatched":
        wo.crew_id = crew_id
    if target == "cancelled":
        wo.cancel_reason = reason
    setattr(wo, STEP_COLUMN[target], at)
    wo.status = target
    wo.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor, f"workorder.{target}", "work_order", wo.id, before=before, after=_snapshot(wo))
    return wo


_ZH_STATE = {
    "reported": "已报告",
    "dispatched": "已派单",
    "on_site": "已到场",
    "isolated": "已关阀",
    "repaired": "已修复",
    "restored": "已恢复供水",
    "closed": "关闭",
    "cancelled": "取消",
}
