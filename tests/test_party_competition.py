"""党建+业务 through the use cases and the API: 微党课 scoring with 5 judges (highest and lowest dropped) and
with 3 judges (plain mean, a tie broken by the median, a tie that cannot be broken shares the rank); points,
member share of emergency hours and incidents led by a vanguard team (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from runze_api_fixtures import *  # noqa: F403

from runze.ops import crews, incidents, party, party_figures
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM
from runze.ops.errors import InvalidInput

CST = timezone(timedelta(hours=8))
ONE_CRITERION = [{"key": "overall", "name_zh": "总体", "name_en": "overall", "weight": 1.0}]


def _competition(client, judges: list[str], sheets: dict[str, list[float]]) -> dict:
    """Create a competition with one criterion, submit each judge's sheet, compute the result."""
    body = {"title": "微党课比赛", "held_at": "2025-06-18T14:00:00+08:00", "judges": judges,
            "entries": [{"contestant": name} for name in sheets], "criteria": ONE_CRITERION}
    created = client.post("/api/party/competitions", json=body)
    assert created.status_code == 201, created.text
    comp = created.json()
    ids = {e["contestant"]: e["id"] for e in comp["entries"]}
    for j, judge in enumerate(judges):
        sheet = {str(ids[name]): {"overall": marks[j]} for name, marks in sheets.items()}
        response = client.post(f"/api/party/competitions/{comp['id']}/scores",
                               json={"judge": judge, "scores": sheet, "version": comp["version"]})
        assert response.status_code == 200, response.text
        comp = response.json()
    result = client.post(f"/api/party/competitions/{comp['id']}/result", json={"version": comp["version"]})
    assert result.status_code == 200, result.text
    return result.json()


def test_five_judges_drop_highest_and_lowest(sqlite_api):
    secretary = sqlite_api.as_role("party_secretary")
    comp = _competition(secretary, ["J1", "J2", "J3", "J4", "J5"], {
        "甲": [90, 80, 85, 70, 95],  # drop 95 and 70: (90+80+85)/3 = 85.00 (the plain mean would be 84)
        "乙": [88, 88, 88, 88, 88],
        "丙": [80, 99, 60, 85, 85],  # drop 99 and 60: 83.33
    })
    assert comp["status"] == "scored" and comp["result"]["trimmed"] is True
    standings = {s["contestant"]: s for s in comp["result"]["standings"]}
    assert standings["甲"]["score"] == 85.0 and standings["丙"]["score"] == 83.33
    assert [s["contestant"] for s in comp["result"]["standings"]] == ["乙", "甲", "丙"]
    assert standings["甲"]["dropped"] == ["J5", "J4"] and standings["乙"]["prize"].startswith("一等奖")


def test_three_judges_plain_mean_and_ties(sqlite_api):
    secretary = sqlite_api.as_role("party_secretary")
    comp = _competition(secretary, ["J1", "J2", "J3"], {
        "甲": [90, 60, 90],  # 80, median 90
        "乙": [80, 80, 80],  # 80, median 80: loses the tie-break
        "丁": [70, 75, 80],  # 75, median 75, mean 75
        "戊": [80, 70, 75],  # the same on every tie-break: shares the rank with 丁
    })
    assert comp["result"]["trimmed"] is False
    ranks = {s["contestant"]: s["rank"] for s in comp["result"]["standings"]}
    assert ranks == {"甲": 1, "乙": 2, "丁": 3, "戊": 3}
    codes = [w["code"] for w in comp["result"]["warnings"]]
    assert codes == ["competition.tie_unbroken"] and "丁" in comp["result"]["warnings"][0]["zh"]
    prizes = {s["contestant"]: s["prize"] for s in comp["result"]["standings"]}
    assert prizes["丁"] == prizes["戊"]  # a shared rank shares its prize


def test_missing_scores_are_listed_and_nothing_is_scored(sqlite_api):
    secretary, viewer = sqlite_api.as_role("party_secretary"), sqlite_api.as_role("viewer")
    body = {"title": "t", "held_at": "2025-06-18T14:00:00+08:00", "judges": ["J1", "J2", "J3"],
            "entries": [{"contestant": "甲"}, {"contestant": "乙"}], "criteria": ONE_CRITERION}
    assert viewer.post("/api/party/competitions", json=body).status_code == 403
    comp = secretary.post("/api/party/competitions", json=body).json()
    first = comp["entries"][0]["id"]
    comp = secretary.post(f"/api/party/competitions/{comp['id']}/scores",
                          json={"judge": "J1", "scores": {str(first): {"overall": 80}}, "version": 1}).json()
    response = secretary.post(f"/api/party/competitions/{comp['id']}/result", json={"version": comp["version"]})
    assert response.status_code == 422
    problems = response.json()["error"]["details"]["problems"]
    assert len(problems) == 5  # J1 misses 乙, J2 and J3 miss both
    assert viewer.get(f"/api/party/competitions/{comp['id']}").json()["status"] == "open"
    outsider = secretary.post(f"/api/party/competitions/{comp['id']}/scores",
                              json={"judge": "not on panel", "scores": {}, "version": comp["version"]})
    assert outsider.status_code == 422


def _closed_order(session, kind: str, crew_id: int, on_site: datetime, hours: float) -> int:
    wo = wo_ops.create_work_order(session, SYSTEM, kind=kind, title=kind, crew_id=crew_id,
                                  reported_at=on_site - timedelta(minutes=40))
    steps = [("dispatched", on_site - timedelta(minutes=30)), ("on_site", on_site)]
    if kind in wo_ops.REPAIR_KINDS:
        steps += [("isolated", on_site + timedelta(minutes=10)), ("repaired", on_site + timedelta(hours=hours - 0.5)),
                  ("restored", on_site + timedelta(hours=hours))]
    else:
        steps += [("repaired", on_site + timedelta(hours=hours))]
    steps.append(("closed", on_site + timedelta(hours=hours + 1)))
    for target, at in steps:
        wo = wo_ops.transition(session, SYSTEM, wo.id, target, expected_version=wo.version, at=at)
    return wo.id


def test_points_emergency_hours_and_vanguard_leadership(database):
    with database.session() as session:
        repair = crews.create_crew(session, SYSTEM, name="抢修一班", members=[{"name": "张强"}, {"name": "李伟"}])
        leak = crews.create_crew(session, SYSTEM, name="检漏队", members=[{"name": "王磊"}])
        vanguard = crews.create_crew(session, SYSTEM, name="党员先锋队", is_vanguard=True)
        branch = party.create_branch(session, SYSTEM, name="生产运行党支部")
        zhang = party.create_member(session, SYSTEM, branch_id=branch.id, name="张强",
                                    crew_member_id=repair.members[0].id)
        wang = party.create_member(session, SYSTEM, branch_id=branch.id, name="王磊", crew_member_id=leak.members[0].id)
        office = party.create_member(session, SYSTEM, branch_id=branch.id, name="陈书记")
        burst = _closed_order(session, "emergency_repair", repair.id, datetime(2025, 3, 10, 10, tzinfo=CST), 3.0)
        _closed_order(session, "leak_investigation", leak.id, datetime(2025, 3, 11, 23, 30, tzinfo=CST), 2.0)
        _closed_order(session, "planned_repair", repair.id, datetime(2025, 3, 12, 14, tzinfo=CST), 3.0)  # daytime
        party.add_participation(session, SYSTEM, member_id=office.id, work_order_id=burst)
        with pytest.raises(InvalidInput):  # an ordinary crew is not a vanguard team
            party.add_callout(session, SYSTEM, crew_id=repair.id, work_order_id=burst)
        storm = incidents.create_incident(session, SYSTEM, title="暴雨夜", kind="weather",
                                          started_at=datetime(2025, 3, 20, 21, tzinfo=CST))
        incidents.create_incident(session, SYSTEM, title="停电", kind="power_failure",
                                  started_at=datetime(2025, 3, 22, 9, tzinfo=CST))
        party.add_callout(session, SYSTEM, crew_id=vanguard.id, incident_id=storm.id, led_response=True,
                          called_at=datetime(2025, 3, 20, 21, 20, tzinfo=CST))
    with database.session() as session:
        points = {p["name"]: p for p in party_figures.member_points(session, "2025-03")}
        hours = party_figures.emergency_hours(session, "2025-03")
        report = party_figures.monthly_party_report(session, "2025-03")
    assert points["张强"]["points"] == 3.0 and points["陈书记"]["by_reason"] == {"emergency_repair": 3.0}
    assert points["王磊"]["by_reason"] == {"night_leak_hunt": 2.0}
    assert "李伟" not in points and zhang.id and wang.id
    # crew of 2 × 3 h on site + the secretary's 3 h; party members: 张强 and the secretary
    assert hours["person_hours"] == pytest.approx(9.0) and hours["member_hours"] == pytest.approx(6.0)
    assert hours["member_share"] == pytest.approx(2 / 3)
    assert report["incidents"] == {"total": 2, "led_by_vanguard": 1, "share_led_by_vanguard": 0.5}
    assert report["vanguard_callouts"] == 1 and report["points"]["total"] == 8.0
