"""`runze init --demo`: the demo city's network and a year of plausible operations records (deterministic seed).

Records follow the work-order state machine (each generated life is checked against `workorders.refusal`):
emergency repairs at any hour, planned repairs at midnight (零点维修), night leak listening, valve operations,
meter work in the day, new connections within two working days, a few cancellations, and incidents including
the rainstorm night (raw-water turbidity alarm, plant 3 throttled, supply held for 13 hours).
The network is `runze.network.demo_city` when present, else WNTR's Net3 as a stand-in (reported by `load_demo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit, networks
from runze.ops._tx import unit_of_work
from runze.ops.auth import SYSTEM, Actor, hash_password
from runze.ops.demo_records_service import seed_service_party
from runze.ops.workorders import REPAIR_KINDS, STEP_COLUMN, refusal
from runze.settings import Settings
from runze.store import (
    Crew,
    CrewMember,
    Incident,
    IncidentEntry,
    NetworkAsset,
    User,
    WorkOrder,
    WorkOrderAsset,
)

CST = timezone(timedelta(hours=8))
DEMO_END = datetime(2026, 1, 1, tzinfo=CST)  # fixed, so the same seed gives the same records on every machine
DEMO_PASSWORD = "runze-demo-2025"
DEMO_USERS = [  # (user name, role, display name)
    ("admin", "admin", "系统管理员"),
    ("dispatcher", "dispatcher", "调度中心 王敏"),
    ("engineer", "network_engineer", "管网所 李工"),
    ("crew1", "crew", "抢修一班 张强"),
    ("service", "customer_service", "客服中心 刘芳"),
    ("secretary", "party_secretary", "党支部 陈书记"),
    ("viewer", "viewer", "访客"),
]
CREWS = [  # (name, specialty, vanguard, members)
    ("抢修一班", "repair", False, 5), ("抢修二班", "repair", False, 5), ("抢修三班", "repair", False, 4),
    ("检漏队", "leak_detection", False, 4), ("阀门班", "valve", False, 3), ("表务班", "meter", False, 4),
    ("报装施工队", "connection", False, 5), ("党员先锋队", "general", True, 6),
]
CREW_FOR_KIND = {
    "emergency_repair": ["抢修一班", "抢修二班", "抢修三班", "党员先锋队"],
    "planned_repair": ["抢修一班", "抢修二班", "抢修三班"],
    "leak_investigation": ["检漏队"],
    "valve_operation": ["阀门班"],
    "meter_work": ["表务班"],
    "new_connection_works": ["报装施工队"],
}
PER_YEAR = {"emergency_repair": 130, "planned_repair": 55, "leak_investigation": 160, "valve_operation": 90,
            "meter_work": 420, "new_connection_works": 260}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "华", "平", "刚", "芳", "敏", "静", "丽", "建国", "志强", "海波"]
STREETS = ["建设路", "人民路", "解放路", "滨江路", "迎宾大道", "雁城路", "蒸湘路", "先锋路", "长丰街", "东风路", "南岳大道",
           "红湘路", "船山路", "立新街", "胜利街"]
TITLES = {
    "emergency_repair": "DN{dn} 爆管抢修 · {street}",
    "planned_repair": "DN{dn} 漏点零点维修 · {street}",
    "leak_investigation": "夜间听漏排查 · {street}",
    "valve_operation": "阀门操作（{street}片区）",
    "meter_work": "水表更换/检修 · {street}{no}号",
    "new_connection_works": "新装接水（五零服务）· {street}{no}号",
}


@dataclass
class DemoReport:
    network_name: str
    network_version_id: int
    stand_in: bool
    users: int
    crews: int
    work_orders: int
    incidents: int


def demo_network() -> tuple[str, str, dict[str, Any] | None, bool]:
    """(file name, .inp text, sidecar dict or None, stand_in) of the demo city, or Net3 if the city is absent."""
    try:
        from runze.network import demo_city

        build = demo_city.build_demo_city
    except (ImportError, AttributeError):
        build = None
    if build is not None:
        from runze.network.inp_writer import format_inp
        from runze.network.sidecar import is_empty, to_dict

        network = build()
        sidecar = None if is_empty(network.utility) else to_dict(network.utility)
        return "demo-city.inp", format_inp(network), sidecar, False
    import wntr

    path = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"
    return "Net3.inp", path.read_text(encoding="utf-8"), None, True


class _Life:
    """The steps of one generated work order, checked against the state machine as they are added."""

    def __init__(self, wo: WorkOrder) -> None:
        self.wo = wo

    def step(self, target: str, at: datetime, *, reason: str | None = None) -> None:
        wo = self.wo
        why = refusal(wo.kind, wo.status, target, isolated=wo.isolated_at is not None,
                      has_crew=wo.crew_id is not None, reason=reason)
        if why is not None:
            raise AssertionError(f"demo generator broke the state machine: {why[0]}")
        setattr(wo, STEP_COLUMN[target], at.astimezone(UTC))
        wo.status = target
        if target == "cancelled":
            wo.cancel_reason = reason


def _minutes(rng: np.random.Generator, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=round(float(rng.uniform(lo, hi)) * 60))  # whole seconds, as people log them


def _report_time(rng: np.random.Generator, kind: str, start: datetime) -> datetime:
    day = start + timedelta(days=int(rng.integers(0, 365)))
    if kind == "emergency_repair":  # bursts peak with morning and evening demand
        hour = float(rng.choice([rng.uniform(0, 24), rng.normal(7.5, 1.5), rng.normal(19, 2)]))
    else:  # reported in office hours
        hour = float(rng.uniform(8, 17.5))
    return day + timedelta(seconds=round(float(np.clip(hour, 0, 23.9)) * 3600))


def _next_night(at: datetime, rng: np.random.Generator, days_ahead: int) -> datetime:
    night = (at + timedelta(days=days_ahead)).replace(hour=23, minute=0, second=0, microsecond=0)
    return night + _minutes(rng, 15, 90)  # around midnight: 零点维修


def _live(life: _Life, rng: np.random.Generator, end: datetime) -> None:
    """Walk one work order through plausible steps; stop at `end` (the orders of the last days stay open)."""
    wo, kind = life.wo, life.wo.kind
    t = wo.reported_at.astimezone(CST)
    plan: list[tuple[str, datetime]] = []
    if kind == "emergency_repair":
        t1 = t + _minutes(rng, 5, 20)
        t2 = t1 + _minutes(rng, 15, 50)
        t3 = t2 + _minutes(rng, 10, 40)
        t4 = t3 + _minutes(rng, 90, 360)
        t5 = t4 + _minutes(rng, 20, 60)
        plan = [("dispatched", t1), ("on_site", t2), ("isolated", t3), ("repaired", t4), ("restored", t5),
                ("closed", t5 + _minutes(rng, 30, 240))]
    elif kind == "planned_repair":
        t1 = t + _minutes(rng, 30, 240)
        t2 = _next_night(t, rng, int(rng.integers(2, 6)))  # notice ≥ 24 h ahead
        t3 = t2 + _minutes(rng, 10, 30)
        t4 = t3 + _minutes(rng, 90, 240)
        t5 = t4 + _minutes(rng, 20, 45)
        plan = [("dispatched", t1), ("on_site", t2), ("isolated", t3), ("repaired", t4), ("restored", t5),
                ("closed", t5 + _minutes(rng, 120, 480))]
    elif kind == "leak_investigation":
        t2 = _next_night(t, rng, int(rng.integers(0, 3))) - timedelta(hours=1)
        t3 = t2 + _minutes(rng, 60, 200)
        plan = [("dispatched", t + _minutes(rng, 20, 180)), ("on_site", t2), ("repaired", t3),
                ("closed", t3 + _minutes(rng, 300, 720))]
    elif kind == "valve_operation":
        t1 = t + _minutes(rng, 10, 120)
        t2 = t1 + _minutes(rng, 20, 90)
        if rng.random() < 0.5:
            t3 = t2 + _minutes(rng, 10, 30)
            t4 = t3 + _minutes(rng, 30, 150)
            t5 = t4 + _minutes(rng, 10, 30)
            plan = [("dispatched", t1), ("on_site", t2), ("isolated", t3), ("repaired", t4), ("restored", t5),
                    ("closed", t5 + _minutes(rng, 30, 120))]
        else:
            t4 = t2 + _minutes(rng, 20, 60)
            plan = [("dispatched", t1), ("on_site", t2), ("repaired", t4), ("closed", t4 + _minutes(rng, 30, 120))]
    elif kind == "meter_work":
        t1 = t + _minutes(rng, 30, 600)
        t2 = t1 + _minutes(rng, 60, 1440)
        t4 = t2 + _minutes(rng, 20, 90)
        plan = [("dispatched", t1), ("on_site", t2), ("repaired", t4), ("closed", t4 + _minutes(rng, 30, 600))]
    else:  # new_connection_works: 获得用水 within about two working days
        t1 = t + _minutes(rng, 30, 240)
        t2 = t1 + _minutes(rng, 600, 2400)
        if rng.random() < 0.3:  # tapping the main needs a short shut-off
            t3 = t2 + _minutes(rng, 15, 40)
            t4 = t3 + _minutes(rng, 40, 120)
            t5 = t4 + _minutes(rng, 10, 30)
            plan = [("dispatched", t1), ("on_site", t2), ("isolated", t3), ("repaired", t4), ("restored", t5),
                    ("closed", t5 + _minutes(rng, 60, 300))]
        else:
            t4 = t2 + _minutes(rng, 60, 180)
            plan = [("dispatched", t1), ("on_site", t2), ("repaired", t4), ("closed", t4 + _minutes(rng, 60, 300))]
    cancel_at = int(rng.integers(1, 3)) if rng.random() < 0.03 else None
    for i, (target, at) in enumerate(plan):
        if at >= end:
            return
        if cancel_at is not None and i == cancel_at and wo.isolated_at is None:
            life.step("cancelled", at, reason=str(rng.choice(["重复报修 duplicate report", "用户自行处理 fixed by owner",
                                                              "现场无漏点 no leak found"])))
            return
        life.step(target, at)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    return [str(rng.choice(list(SURNAMES))) + str(rng.choice(GIVEN)) for _ in range(n)]


@unit_of_work
def load_demo(session: Session, settings: Settings, *, seed: int = 7, actor: Actor = SYSTEM,
              end: datetime = DEMO_END) -> DemoReport:
    """Fill an empty database with the demo city and a year of records (one transaction)."""
    rng = np.random.default_rng(seed)
    if session.scalar(select(User.id).limit(1)) is not None:
        from runze.ops.errors import Conflict

        raise Conflict("the database already has users: demo data goes into an empty database only",
                       message_zh="数据库非空，演示数据只能装入空库")
    password_hash = hash_password(DEMO_PASSWORD, settings)
    users = {name: User(username=name, role=role, display_name=label, password_hash=password_hash)
             for name, role, label in DEMO_USERS}
    session.add_all(users.values())

    filename, inp_text, sidecar, stand_in = demo_network()
    session.flush()
    version = networks.import_network.__wrapped__(  # type: ignore[attr-defined]  (inside this transaction)
        session, actor, inp_text=inp_text, filename=filename, sidecar=sidecar,
        name="demo-city", comment="demo" + (" (WNTR Net3 standing in for the demo city)" if stand_in else ""),
    )
    pipes = session.execute(select(NetworkAsset.asset_id, NetworkAsset.diameter_m).where(
        NetworkAsset.version_id == version.id, NetworkAsset.kind == "pipe")).all()
    junctions = list(session.scalars(select(NetworkAsset.asset_id).where(
        NetworkAsset.version_id == version.id, NetworkAsset.kind == "junction")))

    crews: dict[str, Crew] = {}
    for name, specialty, vanguard, n_members in CREWS:
        crew = Crew(name=name, specialty=specialty, is_vanguard=vanguard, phone=f"0734-82{rng.integers(10000, 99999)}")
        crew.members = [CrewMember(name=m, role="leader" if i == 0 else "member", is_party_member=vanguard or
                                   bool(rng.random() < 0.3)) for i, m in enumerate(_names(rng, n_members))]
        crews[name] = crew
    session.add_all(crews.values())
    session.flush()
    crews["抢修一班"].members[0].user_id = users["crew1"].id

    start = end - timedelta(days=365)
    orders: list[WorkOrder] = []
    for kind, count in PER_YEAR.items():
        for _ in range(count):
            reported = _report_time(rng, kind, start)
            if reported >= end:
                continue
            street = str(rng.choice(STREETS))
            wo = WorkOrder(kind=kind, status="reported", reported_at=reported.astimezone(UTC),
                           priority=1 if kind == "emergency_repair" else int(rng.choice([2, 2, 3])),
                           address=f"{street}{int(rng.integers(1, 400))}号", network_version_id=version.id,
                           created_by_id=users["service" if kind in ("meter_work", "new_connection_works")
                                               else "dispatcher"].id, description="")
            crew_name = str(rng.choice(CREW_FOR_KIND[kind]))
            wo.crew_id = crews[crew_name].id
            if kind in ("meter_work", "new_connection_works") and junctions:
                wo.assets = [WorkOrderAsset(category="node", asset_id=str(rng.choice(junctions)))]
                dn = 25
            elif pipes:
                pipe_id, diameter = pipes[int(rng.integers(0, len(pipes)))]
                wo.assets = [WorkOrderAsset(category="link", asset_id=pipe_id)]
                dn = int(round((diameter or 0.2) * 1000 / 50) * 50) or 100
            else:
                dn = 100
            wo.title = TITLES[kind].format(dn=dn, street=street, no=int(rng.integers(1, 400)))
            _live(_Life(wo), rng, end)
            if wo.isolated_at is not None and kind in REPAIR_KINDS | {"valve_operation"}:
                wo.outage_plan = {"source": "demo", "valves_closed": int(rng.integers(2, 7)),
                                  "customers_affected": int(rng.integers(20, 1500)),
                                  "notice": "提前24小时发布停水通知" if kind == "planned_repair" else "抢修中即时通知"}
            wo.updated_at = (wo.closed_at or wo.cancelled_at or wo.reported_at)
            orders.append(wo)
    session.add_all(orders)
    session.flush()
    incidents = _incidents(session, rng, users, crews, orders, version.id, start)
    seed_service_party(session, seed=seed, users=users, crews=crews, orders=orders, version_id=version.id,
                       start=start, end=end)  # issue 8: connections, party work, report inputs
    audit.record(session, actor, "demo.load", "database", "demo",
                 after={"seed": seed, "work_orders": len(orders), "incidents": incidents, "network": filename})
    return DemoReport(network_name=filename, network_version_id=version.id, stand_in=stand_in, users=len(users),
                      crews=len(crews), work_orders=len(orders), incidents=incidents)


def _incidents(session: Session, rng: np.random.Generator, users: dict[str, User], crews: dict[str, Crew],
               orders: list[WorkOrder], version_id: int, start: datetime) -> int:
    dispatcher, crew1 = users["dispatcher"], users["crew1"]
    # the rainstorm night: 13 hours from the turbidity alarm to normal supply
    t0 = datetime(2025, 6, 21, 21, 40, tzinfo=CST)
    storm_orders = []
    for offset_h, kind, title in [(2.5, "emergency_repair", "暴雨夜 DN200 爆管抢修 · 滨江路"),
                                  (4.0, "valve_operation", "暴雨夜 调整分区阀门，三水厂供水区由一、二水厂补水"),
                                  (6.5, "emergency_repair", "暴雨夜 DN150 管道冲刷损坏抢修 · 船山路")]:
        wo = WorkOrder(kind=kind, status="reported", title=title, description="rainstorm night", priority=1,
                       reported_at=(t0 + timedelta(hours=offset_h)).astimezone(UTC), network_version_id=version_id,
                       crew_id=crews["党员先锋队" if kind == "emergency_repair" else "阀门班"].id,
                       created_by_id=dispatcher.id, address="滨江路" if "滨江" in title else "船山路")
        _live(_Life(wo), rng, t0 + timedelta(days=2))
        wo.updated_at = wo.closed_at or wo.reported_at
        storm_orders.append(wo)
    session.add_all(storm_orders)
    session.flush()
    storm = Incident(title="暴雨夜：原水浊度超标，三水厂限产，保供13小时", kind="weather", severity=1, status="closed",
                     summary="Rainstorm night: raw-water turbidity alarm, plant 3 intake throttled; the dispatch centre "
                     "and crews held supply for 13 hours.", started_at=t0.astimezone(UTC),
                     ended_at=(t0 + timedelta(hours=13)).astimezone(UTC), created_by_id=dispatcher.id)
    storm.work_orders = list(storm_orders)
    timeline = [
        (0.0, "alarm", "三水厂原水浊度 480 NTU 超限报警 / plant 3 raw-water turbidity alarm", []),
        (0.3, "decision", "三水厂取水泵房限流至 40%，一、二水厂增开机组 / plant 3 intake throttled", []),
        (1.0, "communication", "发布用水提示，请高位区用户节约用水 / notice to high zones", []),
        (2.5, "action", "滨江路爆管，党员先锋队出动 / burst, vanguard team sent", [storm_orders[0]]),
        (4.0, "action", "调整分区阀门，由一、二水厂向三水厂供水区补水 / valves re-zoned", [storm_orders[1]]),
        (6.5, "action", "船山路管道冲刷损坏，先锋队转场抢修 / second repair", [storm_orders[2]]),
        (9.0, "note", "原水浊度回落至 120 NTU / raw-water turbidity falling", []),
        (11.5, "decision", "三水厂恢复 80% 产能 / plant 3 back to 80 %", []),
        (13.0, "decision", "全网压力恢复正常，应急结束 / pressure normal, emergency over", []),
    ]
    for hours, kind, text, linked in timeline:
        author = crew1 if kind == "action" else dispatcher
        entry = IncidentEntry(at=(t0 + timedelta(hours=hours)).astimezone(UTC), kind=kind, text=text,
                              author_id=author.id, author_name=author.username)
        entry.work_orders = linked
        storm.entries.append(entry)
    session.add(storm)
    orders.extend(storm_orders)

    others = [("二水厂送水泵房停电", "power_failure", 2, 3.5), ("DN600 主干管爆管", "main_burst", 1, 9.0),
              ("老城区黄水投诉集中", "water_quality", 2, 30.0), ("四水厂投产调试供水不足", "supply_shortage", 3, 48.0)]
    emergency = [o for o in orders if o.kind == "emergency_repair" and o.closed_at is not None]
    for title, kind, severity, hours in others:
        wo = emergency[int(rng.integers(0, len(emergency)))]
        begin = wo.reported_at - timedelta(minutes=10)
        incident = Incident(title=title, kind=kind, severity=severity, status="closed", summary="",
                            started_at=begin, ended_at=begin + timedelta(hours=hours), created_by_id=dispatcher.id)
        incident.work_orders = [wo]
        entry = IncidentEntry(at=begin, kind="alarm", text=f"{title}：调度中心接报", author_id=dispatcher.id,
                              author_name=dispatcher.username)
        entry.work_orders = [wo]
        incident.entries.append(entry)
        incident.entries.append(IncidentEntry(at=begin + timedelta(hours=hours), kind="decision", text="处置完毕，恢复正常",
                                              author_id=dispatcher.id, author_name=dispatcher.username))
        session.add(incident)
    session.flush()
    return 1 + len(others)
