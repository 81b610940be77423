"""Demo records of issue 8 for `runze init --demo`: a year of 报装 applications, party work and report inputs.

Called by `runze.ops.demo.load_demo` inside its transaction, after the work orders and incidents exist, with its
own random generator (seed + 8) so the records of the other issues stay as they were.  What it adds:

* ~300 connection applications following the step rules (most without outside works: application → meter →
  water on within about two working days; some with survey, scheme and construction; a few overdue, cancelled or
  rejected), owners and times per step, one application spanning the 2025 Spring Festival;
* three party branches (one set up on the plant-4 project), members linked to crews and staff users, vanguard
  posts over DMAs, plants and the project, 三会一课 / 主题党日 / 微党课 with attendance and minutes, two 微党课
  competitions (5 judges and 3 judges) scored with runze.ops.competition, members joining emergency repairs and
  vanguard-team call-outs (the rainstorm night led by the vanguard team);
* twelve months of booked volumes (a water balance that closes, except August whose night-flow estimate does not
  match billing: the report must say so) and turbidity samples at plant outlets and taps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import competition as comp
from runze.ops import connections_logic as logic
from runze.ops.months import LOCAL
from runze.ops.party import DEFAULT_CRITERIA
from runze.ops.workdays import default_calendar
from runze.store import Crew, Incident, NetworkAsset, User, WorkOrder
from runze.store.connections_models import ConnectionApplication, ConnectionStep
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
from runze.store.report_models import MonthlyVolumes, QualitySample

APPLICANTS = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
STREETS = ["建设路", "人民路", "解放路", "滨江路", "迎宾大道", "雁城路", "先锋路", "长丰街", "东风路", "红湘路", "船山路"]
BUSINESSES = ["便利店", "餐馆", "理发店", "药店", "幼儿园", "汽修店", "物流仓库", "食品厂", "宾馆"]
LECTURES = ["一滴水里的初心", "零点维修的灯光", "先锋队的十三个小时", "五零服务进万家", "听漏人的夜晚", "从一水厂到四水厂",
            "管网里的党旗红", "把支部建在项目上"]
MINUTES = {
    "branch_assembly": "支部党员大会：通报本季度抢修和漏损控制工作，讨论发展党员事项。",
    "committee_meeting": "支委会：研究本月先锋岗责任区问题清单，部署夜间听漏和零点维修任务。",
    "group_meeting": "党小组会：学习交流，结合班组工作查找服务短板。",
    "party_lecture": "党课：书记讲党课，主题结合供水保障和优化营商环境（获得用水）。",
    "theme_day": "主题党日：党员志愿服务进社区，宣传节约用水，现场受理报装。",
    "micro_lecture": "微党课：党员结合岗位讲述身边故事。",
}


def _apps(session: Session, rng: np.random.Generator, users: dict[str, User], version_id: int,
          start: datetime, end: datetime) -> int:
    cal = default_calendar()
    nodes = session.execute(select(NetworkAsset.asset_id, NetworkAsset.dma).where(
        NetworkAsset.version_id == version_id, NetworkAsset.kind == "junction")).all()
    owners = {"application": users["service"], "survey": users["engineer"], "scheme": users["engineer"],
              "construction": users["crew1"], "meter_installation": users["crew1"], "water_on": users["service"]}
    apps = []
    submissions = [start + timedelta(days=float(d)) for d in np.sort(rng.uniform(0, 364, 300))]
    submissions.append(datetime(2025, 1, 27, 9, 0, tzinfo=LOCAL))  # across the Spring Festival
    for i, submitted in enumerate(submissions):
        local = submitted.astimezone(LOCAL)
        submitted = cal.next_workday_start(local.replace(hour=int(rng.integers(8, 17)), minute=int(rng.integers(0, 60))))
        kind = str(rng.choice(["residential", "small_business", "non_residential"], p=[0.8, 0.12, 0.08]))
        works = kind != "residential" and rng.random() < 0.6 or rng.random() < 0.1
        path = (["application", "survey", "scheme", "construction", "meter_installation", "water_on"] if works
                else ["application", "meter_installation", "water_on"])
        spans = {"application": 0.4, "survey": 0.8, "scheme": 0.8, "construction": 4.0, "meter_installation": 0.7}
        fate = rng.random()
        if i == len(submissions) - 1:
            path, fate, submitted = ["application", "meter_installation", "water_on"], 1.0, local
        node, dma = nodes[int(rng.integers(0, len(nodes)))] if nodes else (None, None)
        street = str(rng.choice(STREETS))
        name = str(rng.choice(list(APPLICANTS))) + ("先生" if rng.random() < 0.5 else "女士")
        if kind != "residential":
            name = f"{street}{rng.choice(BUSINESSES)}"
        app = ConnectionApplication(
            applicant=name, phone=f"139{int(rng.integers(10_000_000, 99_999_999))}",
            address=f"{street}{int(rng.integers(1, 400))}号", customer_kind=kind,
            use="domestic" if kind == "residential" else str(rng.choice(["commercial", "industrial", "public"])),
            size_dn=20 if kind == "residential" else int(rng.choice([25, 32, 40, 50, 80])),
            network_version_id=version_id if node else None, node_id=node, dma=dma,
            cost_yuan=0.0 if not works or kind == "residential" else float(rng.integers(8, 60) * 100),
            customer_visits=int(rng.random() < 0.05), documents=int(rng.random() < 0.08),
            approvals=int(works and kind != "residential" and rng.random() < 0.4),
            submitted_at=submitted.astimezone(UTC), created_by_id=users["service"].id)
        t = submitted
        steps = []
        for k, step in enumerate(path):
            if t >= end:
                break
            if k > 0 and fate < 0.02 and step != "water_on":
                steps.append(ConnectionStep(step="cancelled", entered_at=t.astimezone(UTC), owner_name="客户",
                                            note="客户撤回申请", recorded_by="service"))
                break
            if k == 1 and fate < 0.035 and path[1] == "survey":
                steps.append(ConnectionStep(step="rejected", entered_at=t.astimezone(UTC), owner_id=owners["survey"].id,
                                            owner_name=owners["survey"].display_name, note="不具备接水条件",
                                            recorded_by="engineer"))
                break
            owner = owners[step]
            steps.append(ConnectionStep(step=step, entered_at=t.astimezone(UTC), owner_id=owner.id,
                                        owner_name=owner.display_name, recorded_by=owner.username))
            late = 2.5 if rng.random() < 0.06 else 1.0  # a few steps run over their limit
            t = cal.add_workdays(t, spans.get(step, 0) * late * float(rng.uniform(0.5, 1.3)))
        if i == len(submissions) - 1:  # the Spring Festival one: water on two working days after applying
            steps[1].entered_at = cal.add_workdays(submitted, 1.2).astimezone(UTC)
            steps[2].entered_at = cal.add_workdays(submitted, 2.0).astimezone(UTC)
        app.steps = steps
        app.current_step = steps[-1].step
        if steps[-1].step in logic.FINAL:
            app.closed_at = steps[-1].entered_at
        if steps[-1].step == "water_on":
            app.completed_at = steps[-1].entered_at
        logic.validate_history(logic.ConnectionApplication(str(i), kind, tuple((s.step, s.entered_at) for s in steps)))
        apps.append(app)
    session.add_all(apps)
    return len(apps)


def _party(session: Session, rng: np.random.Generator, users: dict[str, User], crews: dict[str, Crew],
           orders: list[WorkOrder], start: datetime, end: datetime) -> dict[str, int]:
    branches = [PartyBranch(name="机关党支部", secretary_user_id=users["secretary"].id),
                PartyBranch(name="生产运行党支部", secretary_user_id=users["secretary"].id),
                PartyBranch(name="四水厂建设项目党支部", kind="project", project="四水厂新建工程")]
    session.add_all(branches)
    session.flush()
    members = []
    for crew in crews.values():
        for cm in crew.members:
            if cm.is_party_member:
                members.append(PartyMember(branch_id=branches[1].id, name=cm.name, crew_member_id=cm.id,
                                           user_id=cm.user_id, joined_at=start - timedelta(days=int(rng.integers(300, 7000)))))
    for username in ("secretary", "dispatcher", "engineer", "service"):
        members.append(PartyMember(branch_id=branches[0].id, name=users[username].display_name,
                                   user_id=users[username].id))
    for k in range(6):
        members.append(PartyMember(branch_id=branches[2].id, name=f"项目部{'王李张刘陈杨'[k]}工",
                                   status="probationary" if k == 5 else "full"))
    session.add_all(members)
    session.flush()
    dmas = [d for d in session.scalars(select(NetworkAsset.dma).where(NetworkAsset.dma.is_not(None)).distinct())][:8]
    areas = [("dma", d) for d in dmas] + [("plant", p) for p in ("一水厂", "二水厂", "三水厂", "四水厂")]
    areas.append(("project", "四水厂新建工程"))
    posts = [VanguardPost(member_id=members[k % len(members)].id, title=f"党员先锋岗·{area}", area_kind=kind, area=area,
                          since=start.astimezone(UTC)) for k, (kind, area) in enumerate(areas)]
    session.add_all(posts)

    by_branch = {b.id: [m for m in members if m.branch_id == b.id] for b in branches}
    activities = []
    for month in range(1, 13):
        for branch in branches:
            plan = ["committee_meeting", "group_meeting", "theme_day"]
            if month % 3 == 0:
                plan += ["branch_assembly", "party_lecture"]
            if month in (4, 9):
                plan.append("micro_lecture")
            for kind in plan:
                day = datetime(2025, month, int(rng.integers(3, 27)), 15, 0, tzinfo=LOCAL)
                act = PartyActivity(branch_id=branch.id, kind=kind, title=f"{branch.name}{month}月{_label(kind)}",
                                    held_at=day.astimezone(UTC), place="公司三楼党员活动室", minutes=MINUTES[kind],
                                    created_by_id=users["secretary"].id)
                act.attendance = [ActivityAttendance(member_id=m.id, status=str(rng.choice(
                    ["present", "excused", "absent"], p=[0.9, 0.08, 0.02]))) for m in by_branch[branch.id]]
                activities.append(act)
    session.add_all(activities)

    vanguard = next(c for c in crews.values() if c.is_vanguard)
    callouts, extra = [], []
    office = [m for m in members if m.crew_member_id is None and m.user_id is not None]
    for wo in orders:
        if wo.kind != "emergency_repair" or wo.dispatched_at is None:
            continue
        if wo.crew_id == vanguard.id:
            callouts.append(VanguardCallout(crew_id=vanguard.id, work_order_id=wo.id, called_at=wo.dispatched_at))
        elif rng.random() < 0.25 and office:
            extra.append(WorkParticipation(member_id=office[int(rng.integers(0, len(office)))].id, work_order_id=wo.id,
                                           role="member", note="党员随班组抢修"))
    for incident in session.scalars(select(Incident)):
        led = incident.severity == 1
        if led or rng.random() < 0.5:
            callouts.append(VanguardCallout(crew_id=vanguard.id, incident_id=incident.id, called_at=incident.started_at
                                            + timedelta(minutes=20), led_response=led, note="党员先锋队出动"))
    session.add_all(callouts + extra)
    competitions = _competitions(session, rng, members)
    return {"branches": len(branches), "members": len(members), "posts": len(posts), "activities": len(activities),
            "callouts": len(callouts), "participations": len(extra), "competitions": competitions}


def _label(kind: str) -> str:
    from runze.ops.party import ACTIVITY_LABELS

    return ACTIVITY_LABELS[kind]


def _competitions(session: Session, rng: np.random.Generator, members: list[PartyMember]) -> int:
    crit = [{"key": c.key, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight,
             "min_score": c.min_score, "max_score": c.max_score} for c in DEFAULT_CRITERIA]
    for title, month, judges, n in (("2025年“微党课”比赛（初赛）", 4, ["评委甲", "评委乙", "评委丙", "评委丁", "评委戊"], 8),
                                    ("2025年“微党课”比赛（决赛）", 9, ["评委甲", "评委乙", "评委丙"], 4)):
        chosen = rng.choice(len(members), size=n, replace=False)
        competition = LectureCompetition(title=title, held_at=datetime(2025, month, 18, 14, tzinfo=LOCAL).astimezone(UTC),
                                         config={"criteria": crit, "trim_min_judges": 5,
                                                 "tie_breaks": ["median", "all_judges_mean"], "prize_bands": []},
                                         judges=judges, scores={}, status="scored")
        competition.entries = [CompetitionEntry(member_id=members[int(k)].id, contestant=members[int(k)].name,
                                                lecture_title=LECTURES[j % len(LECTURES)]) for j, k in enumerate(chosen)]
        session.add(competition)
        session.flush()
        skill = {e.id: float(rng.uniform(75, 92)) for e in competition.entries}
        competition.scores = {j: {str(e.id): {c["key"]: float(np.clip(round(skill[e.id] + rng.normal(0, 4), 1), 0, 100))
                                              for c in crit} for e in competition.entries} for j in judges}
        names = {str(e.id): e.contestant for e in competition.entries}
        result = comp.score_competition({j: {names[k]: v for k, v in s.items()} for j, s in competition.scores.items()},
                                        comp.CompetitionConfig(criteria=DEFAULT_CRITERIA), judges=judges)
        competition.result = result.to_dict()
    return 2


def _volumes(session: Session, rng: np.random.Generator, start: datetime) -> int:
    rows = []
    connections = 100_011
    for month in range(1, 13):
        days = (datetime(2025 + month // 12, month % 12 + 1, 1) - datetime(2025, month, 1)).days
        season = 1.0 + 0.08 * np.sin((month - 4) / 12 * 2 * np.pi)  # more in summer
        si = 102_800.0 * season * days * float(rng.uniform(0.98, 1.02))
        shares = {"billed_metered_m3": 0.815, "billed_unmetered_m3": 0.004, "unbilled_metered_m3": 0.01,
                  "unbilled_unmetered_m3": 0.005, "unauthorised_m3": 0.006, "meter_inaccuracy_m3": 0.02,
                  "data_errors_m3": 0.003}
        parts = {k: si * v * float(rng.uniform(0.98, 1.02)) for k, v in shares.items()}
        residual = si - sum(parts.values())
        # night-flow estimate of real losses: within ±0.2 % of the input, except August (billing cycle moved)
        real = residual + si * float(rng.uniform(-0.002, 0.002)) if month != 8 else residual - 0.031 * si
        connections += int(rng.integers(15, 35))
        rows.append(MonthlyVolumes(month=f"2025-{month:02d}", system_input_m3=round(si), **{k: round(v) for k, v in
                                                                                           parts.items()},
                                   real_losses_m3=round(real), mains_km=416.2, service_connections=connections,
                                   private_pipe_km=round(connections * 0.002, 1), mean_pressure_m=None,
                                   mean_outlet_pressure_mpa=0.38, household_metered_share=0.75, source="demo"))
    session.add_all(rows)
    return len(rows)


def _samples(session: Session, rng: np.random.Generator, start: datetime) -> int:
    rows = []
    for day in range(365):
        base = start + timedelta(days=day)
        storm = datetime(2025, 6, 21, tzinfo=LOCAL) <= base < datetime(2025, 6, 24, tzinfo=LOCAL)
        for plant in ("P1", "P2", "P3", "P4"):
            value = float(rng.gamma(4, 0.05)) + (0.5 if storm and plant == "P3" else 0)
            rows.append(QualitySample(taken_at=(base + timedelta(hours=9)).astimezone(UTC), point=f"{plant} 出厂水",
                                      role="plant_outlet", turbidity_ntu=round(value, 3)))
        if day % 7 == 2:
            for k in range(20):
                value = float(rng.gamma(3, 0.12)) + (0.8 if storm else 0)
                rows.append(QualitySample(taken_at=(base + timedelta(hours=10, minutes=10 * k)).astimezone(UTC),
                                          point=f"管网末梢{k + 1:02d}", role="tap", turbidity_ntu=round(value, 3)))
    session.add_all(rows)
    return len(rows)


def seed_service_party(session: Session, *, seed: int, users: dict[str, User], crews: dict[str, Crew],
                       orders: list[WorkOrder], version_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Add the issue-8 demo records (one flush, inside the caller's transaction); returns what was added."""
    rng = np.random.default_rng(seed + 8)
    report: dict[str, Any] = {"applications": _apps(session, rng, users, version_id, start, end)}
    report.update(_party(session, rng, users, crews, orders, start, end))
    report["volume_months"] = _volumes(session, rng, start)
    report["quality_samples"] = _samples(session, rng, start)
    session.flush()
    return report
