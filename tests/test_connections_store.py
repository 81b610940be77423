"""报装 applications through the use cases and the API, on SQLite and PostgreSQL: the working-day clock across
the 2025 Spring Festival and a make-up Saturday, illegal steps refused with nothing written, overdue steps, and
the month's 获得用水 figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from runze_api_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.ops import connections as conn_ops
from runze.ops.auth import SYSTEM
from runze.ops.errors import IllegalTransition, InvalidInput, StaleVersion
from runze.store.connections_models import ConnectionStep

CST = timezone(timedelta(hours=8))


def _new(session, submitted: datetime, **kw):
    data = dict(applicant="王先生", address="建设路12号", customer_kind="residential", use="domestic")
    data.update(kw)
    return conn_ops.create_application(session, SYSTEM, submitted_at=submitted, **data)


def _walk(session, app, steps):
    for step, at in steps:
        app = conn_ops.advance(session, SYSTEM, app.id, step, expected_version=app.version, at=at,
                               owner_name="客服中心 刘芳")
    return app


def test_application_across_spring_festival_counts_working_days(database):
    # 2025: holidays 28 Jan - 4 Feb; 10 calendar days but only 2 working days from 27 Jan 09:00 to 6 Feb 09:00
    with database.session() as session:
        app = _new(session, datetime(2025, 1, 27, 9, 0, tzinfo=CST))
        app = _walk(session, app, [("meter_installation", datetime(2025, 2, 5, 10, 0, tzinfo=CST)),
                                   ("water_on", datetime(2025, 2, 6, 9, 0, tzinfo=CST))])
    with database.session() as session:
        app = conn_ops.get_application(session, app.id)
        line = conn_ops.timeline(app)
        assert line["calendar_days_total"] == pytest.approx(10.0)
        assert line["workdays_total"] == pytest.approx(2.0)
        # in the first step: 27 Jan 09:00-24:00 (15/24) + 5 Feb 00:00-10:00 (10/24); the festival counts nothing
        assert line["steps"][0]["workdays"] == pytest.approx(25 / 24, abs=1e-3)
        assert [s["step"] for s in line["steps"]] == ["application", "meter_installation", "water_on"]
        assert line["procedures"] == 2 and line["next_steps"] == []
        figures = conn_ops.monthly_figures(session, "2025-02")
    everyone = next(f for f in figures["by_kind"] if f["customer_kind"] == "all")
    assert figures["completed"] == 1 and everyone["workdays_median"] == pytest.approx(2.0)
    assert everyone["zeros_met"]["waiting"] == 1.0  # ≤ 2 working days: 零等待 met


def test_make_up_saturday_counts_as_a_working_day(database):
    # Fri 7 Feb 2025 09:00 -> Mon 10 Feb 09:00: Sat 8 Feb is a make-up working day (调休上班)
    with database.session() as session:
        app = _new(session, datetime(2025, 2, 7, 9, 0, tzinfo=CST))
        app = _walk(session, app, [("meter_installation", datetime(2025, 2, 8, 15, 0, tzinfo=CST)),
                                   ("water_on", datetime(2025, 2, 10, 9, 0, tzinfo=CST))])
        line = conn_ops.timeline(app)
    assert line["workdays_total"] == pytest.approx(15 / 24 + 1 + 9 / 24, abs=1e-3)  # Sunday 9 Feb counts nothing
    assert line["steps"][1]["workdays"] == pytest.approx(9 / 24 + 9 / 24, abs=1e-3)


def test_illegal_step_and_stale_version_change_nothing(database):
    with database.session() as session:
        app = _new(session, datetime(2025, 3, 3, 9, 0, tzinfo=CST))
        with pytest.raises(IllegalTransition) as err:  # water on needs the meter first
            conn_ops.advance(session, SYSTEM, app.id, "water_on", expected_version=app.version,
                             at=datetime(2025, 3, 3, 15, tzinfo=CST))
        assert "meter_installation" in err.value.details["allowed"] and "装表" in err.value.message_zh
        with pytest.raises(InvalidInput):  # before the previous step
            conn_ops.advance(session, SYSTEM, app.id, "survey", expected_version=app.version,
                             at=datetime(2025, 3, 2, 15, tzinfo=CST))
        with pytest.raises(StaleVersion):
            conn_ops.advance(session, SYSTEM, app.id, "survey", expected_version=app.version + 1)
        assert session.scalar(select(func.count(ConnectionStep.id))) == 1
        assert conn_ops.get_application(session, app.id).version == 1


def test_overdue_step_is_listed_with_both_languages(database):
    with database.session() as session:
        app = _new(session, datetime(2025, 3, 3, 9, 0, tzinfo=CST), customer_kind="non_residential",
                   use="commercial", size_dn=50)
        # survey limit is 1 working day (placeholder); this one took Tue 09:00 -> Fri 09:00 = 3
        app = _walk(session, app, [("survey", datetime(2025, 3, 4, 9, tzinfo=CST)),
                                   ("scheme", datetime(2025, 3, 7, 9, tzinfo=CST))])
        line = conn_ops.timeline(app, now=datetime(2025, 3, 7, 10, tzinfo=CST))
    late = [o for o in line["overdue"] if o["step"] == "survey"]
    assert late and late[0]["used_workdays"] == pytest.approx(3.0) and not late[0]["open"]
    assert "踏勘" in late[0]["message"]["zh"] and "survey" in late[0]["message"]["en"]


def test_api_application_life_and_roles(sqlite_api):
    api = sqlite_api
    service, viewer = api.as_role("customer_service"), api.as_role("viewer")
    body = {"applicant": "李女士", "address": "人民路8号", "customer_kind": "residential", "use": "domestic",
            "submitted_at": "2025-01-27T09:00:00+08:00"}
    assert viewer.post("/api/connections", json=body).status_code == 403
    created = service.post("/api/connections", json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["code"].startswith("BZ") and app["current_step"] == "application"
    step = service.post(f"/api/connections/{app['id']}/steps",
                        json={"to": "water_on", "at": "2025-01-27T10:00:00+08:00", "version": app["version"]})
    assert step.status_code == 409 and step.json()["error"]["code"] == "illegal_transition"
    for to, at in (("meter_installation", "2025-02-05T10:00:00+08:00"), ("water_on", "2025-02-06T09:00:00+08:00")):
        response = service.post(f"/api/connections/{app['id']}/steps", json={"to": to, "at": at},
                                headers={"If-Match": f'"{app["version"]}"'})
        assert response.status_code == 200, response.text
        app = response.json()
    assert app["workdays_total"] == pytest.approx(2.0) and app["completed_at"] is not None
    read = viewer.get(f"/api/connections/{app['id']}").json()
    assert [s["owner_name"] for s in read["steps"]] == ["u_customer_service"] * 3
    figures = viewer.get("/api/connections/figures", params={"month": "2025-02"}).json()
    assert figures["completed"] == 1 and figures["by_kind"][0]["customer_kind"] == "all"
    assert viewer.get("/api/connections/figures", params={"month": "2025-2"}).status_code == 422
    assert viewer.get("/api/connections", params={"step": "water_on"}).json()["total"] == 1
