"""五零 new-connection rules: legal steps, overdue in working days, monthly 获得用水 figures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from runze.ops.connections_logic import (
    ConnectionApplication,
    ConnectionRules,
    TransitionError,
    Zero,
    allowed_transitions,
    application_figures,
    check_transition,
    monthly_getting_water,
    overdue_steps,
    step_deadline,
    validate_history,
)

SH = ZoneInfo("Asia/Shanghai")


def at(m, d, hh=9, mm=0, y=2026):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def test_legal_transitions_and_skips():
    assert allowed_transitions(None) == ("application",)
    assert allowed_transitions("application") == (
        "survey", "scheme", "construction", "meter_installation", "cancelled", "rejected")
    assert allowed_transitions("construction") == ("meter_installation", "scheme", "cancelled")
    assert allowed_transitions("meter_installation") == ("water_on", "cancelled")
    assert allowed_transitions("water_on") == ()
    check_transition("application", "meter_installation")  # no outside works: skip survey/scheme/construction
    check_transition("scheme", "survey")  # rework
    with pytest.raises(TransitionError) as info:
        check_transition("application", "water_on")  # the meter must be installed first
    assert "meter installation" in info.value.message["en"] and "通水" in info.value.message["zh"]
    with pytest.raises(TransitionError):
        check_transition("water_on", "cancelled")
    with pytest.raises(TransitionError, match="Unknown connection step"):
        check_transition("application", "teleport")
    strict = ConnectionRules(skippable=frozenset())
    with pytest.raises(TransitionError):
        check_transition("application", "meter_installation", strict)
    with pytest.raises(ValueError, match="not in"):
        ConnectionRules(skippable=frozenset({"dig"}))


def test_validate_history():
    ok = ConnectionApplication("A1", "residential", (("application", at(3, 2)), ("meter_installation", at(3, 3)),
                                                    ("water_on", at(3, 3, 15))))
    validate_history(ok)
    back_in_time = ConnectionApplication("A2", "residential", (("application", at(3, 2)),
                                                              ("meter_installation", at(3, 1))))
    with pytest.raises(ValueError, match="before the previous step"):
        validate_history(back_in_time)
    with pytest.raises(TransitionError):
        validate_history(ConnectionApplication("A3", "residential", (("survey", at(3, 2)),)))


def test_overdue_steps_use_working_days_across_the_spring_festival():
    # survey limit 1 working day: entered Fri 13 Feb 2026 10:00 -> deadline Sat 14 Feb 10:00 (make-up workday)
    assert step_deadline("survey", at(2, 13, 10)) == at(2, 14, 10)
    app = ConnectionApplication("B1", "non_residential", (
        ("application", at(2, 13, 9)), ("survey", at(2, 13, 10))))
    # on Tue 24 Feb 09:00 the survey has used 14/24 + 1 (Sat 14th) + 9/24 = 1.958 working days: overdue
    (late,) = overdue_steps(app, at(2, 24, 9))
    assert late.step == "survey" and late.open and late.used_workdays == pytest.approx(14 / 24 + 1 + 9 / 24)
    assert late.deadline == at(2, 14, 10)
    assert "超时" in late.message("zh") and "overdue" in late.message("en")
    # on Sat 14 Feb 09:00 it is not yet late (14/24 + 9/24 = 0.958 working days)
    assert overdue_steps(app, at(2, 14, 9)) == []


def _app(app_id, kind, submitted, done, cost=0.0, visits=0, docs=0, approvals=0, works=False):
    # application accepted within 2 h; with outside works, survey/scheme take an hour each and construction
    # runs until an hour before water-on; without, the meter step runs from +2 h until water-on
    if works:
        mid = (("survey", submitted + dt.timedelta(hours=2)), ("scheme", submitted + dt.timedelta(hours=3)),
               ("construction", submitted + dt.timedelta(hours=4)),
               ("meter_installation", done - dt.timedelta(hours=1)))
    else:
        mid = (("meter_installation", submitted + dt.timedelta(hours=2)),)
    hist = (("application", submitted), *mid, ("water_on", done))
    return ConnectionApplication(app_id, kind, hist, cost, visits, docs, approvals)


def test_monthly_getting_water_figures():
    apps = [
        # March 2026, residential: 1.0, 0.5 and (Fri 13:00 -> Tue 13:00 over a weekend) 2.0 working days
        _app("R1", "residential", at(3, 2, 9), at(3, 3, 9)),
        _app("R2", "residential", at(3, 4, 9), at(3, 4, 21)),
        _app("R3", "residential", at(3, 6, 13), at(3, 10, 13), visits=1),
        # March, non-residential with outside works and a fee: 7 working days
        _app("N1", "non_residential", at(3, 9, 9), at(3, 18, 9), cost=1200.0, docs=2, works=True),
        # April
        _app("R4", "residential", at(3, 31, 9), at(4, 1, 9)),
        # not finished: not counted in the figures
        ConnectionApplication("OPEN", "residential", (("application", at(3, 20)),)),
    ]
    figs = monthly_getting_water(apps)
    keyed = {(f.month, f.customer_kind): f for f in figs}
    assert list(keyed) == [("2026-03", "all"), ("2026-03", "non_residential"), ("2026-03", "residential"),
                           ("2026-04", "all"), ("2026-04", "residential")]
    res = keyed[("2026-03", "residential")]
    assert res.completed == 3
    assert res.workdays_median == pytest.approx(1.0) and res.workdays_max == pytest.approx(2.0)
    assert res.worst_application_id == "R3"
    assert res.procedures_median == 2 and res.procedures_max == 2
    assert res.cost_total == 0 and res.free_share == 1.0
    assert res.zeros_met == {"visits": pytest.approx(2 / 3), "paperwork": 1.0, "approvals": 1.0, "cost": 1.0,
                             "waiting": 1.0}
    allm = keyed[("2026-03", "all")]
    assert allm.completed == 4 and allm.workdays_max == pytest.approx(7.0) and allm.worst_application_id == "N1"
    assert allm.cost_max == 1200 and allm.free_share == 0.75
    assert allm.zeros_met["waiting"] == 0.75 and allm.zeros_met["paperwork"] == 0.75
    # overdue: R3's meter step Fri 15:00 -> Tue 13:00 = 9/24 + 1 + 13/24 = 1.92 > 1 working day; N1's
    # construction Mon 9 Mar 13:00 -> Wed 18 Mar 08:00 = 11/24 + 6 + 8/24 = 6.79 > 5.  R1, R2 are in time.
    assert allm.overdue == 2 and res.overdue == 1
    assert keyed[("2026-04", "all")].completed == 1
    table = application_figures(apps)
    assert set(table["application_id"]) == {"R1", "R2", "R3", "N1", "R4"}


def test_zeros_are_configurable():
    rules = ConnectionRules(zeros=(Zero("visits", "customer_visits", 1), Zero("waiting", "working_days", 1.0)))
    figs = monthly_getting_water([_app("R3", "residential", at(3, 6, 13), at(3, 10, 13), visits=1)], rules)
    assert figs[0].zeros_met == {"visits": 1.0, "waiting": 0.0}
    assert rules.zeros[0].label("zh") == "零跑腿"
