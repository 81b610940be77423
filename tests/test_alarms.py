"""Alarm rule engine: every rule, hysteresis (no alarm storms), minimum duration, lifecycle, batch independence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from runze.i18n import MESSAGES, placeholders, t
from runze.telemetry.alarms import (
    AlarmEngine,
    AlarmRule,
    SensorInfo,
    default_rules,
    flatline,
    flow_step,
    outlet_turbidity_high,
    pressure_high,
    pressure_low,
    raw_turbidity_high,
    silent,
    tank_low,
)

T0 = pd.Timestamp("2025-06-01 00:00", tz="Asia/Shanghai")


def frame(sensor: str, values, start=T0, step_min: float = 5.0) -> pd.DataFrame:
    times = start + pd.to_timedelta(np.arange(len(values)) * step_min, unit="min")
    return pd.DataFrame({"timestamp": times, "sensor_id": sensor, "value": np.asarray(values, dtype=float)})


def kinds(events):
    return [(e.type, e.sensor_id, e.at) for e in events]


def test_pressure_low_hovering_at_limit_gives_one_alarm_not_a_storm():
    values = [0.20, 0.139, 0.141, 0.138, 0.142, 0.139, 0.145, 0.149, 0.151, 0.20]
    eng = AlarmEngine([pressure_low(0.14, deadband=0.01)], {"P1": "pressure"})
    ev = eng.process(frame("P1", values))
    assert [e.type for e in ev] == ["raised", "cleared"]
    assert ev[0].at == T0 + pd.Timedelta(minutes=5) and ev[0].value == pytest.approx(0.139)
    assert ev[1].at == T0 + pd.Timedelta(minutes=40)  # 0.151 is the first value >= 0.14 + 0.01
    # the same data without a deadband flaps: the hysteresis is what prevents the storm
    eng0 = AlarmEngine([pressure_low(0.14, deadband=0.0)], {"P1": "pressure"})
    assert sum(e.type == "raised" for e in eng0.process(frame("P1", values))) == 3


def test_min_duration_suppresses_short_dips():
    rule = pressure_low(0.14, deadband=0.01, min_duration_s=600)
    eng = AlarmEngine([rule], {"P1": "pressure"})
    # 5-min readings: a 5-minute dip (one reading), then a dip lasting 10 min (3 readings: 0, 5, 10 min)
    ev = eng.process(frame("P1", [0.3, 0.10, 0.3, 0.3, 0.12, 0.12, 0.12, 0.3]))
    assert [e.type for e in ev] == ["raised", "cleared"]
    assert ev[0].at == T0 + pd.Timedelta(minutes=30)  # dip starts at 20 min, holds 10 min at 30 min
    assert ev[1].at == T0 + pd.Timedelta(minutes=35)


def test_pressure_high_tank_low_and_turbidity_rules():
    sensors = [
        SensorInfo("P1", "pressure"),
        SensorInfo("T1", "level", "tank"),
        SensorInfo("T2", "level", "tank"),
        SensorInfo("RAW3", "turbidity", "raw_water"),
        SensorInfo("OUT3", "turbidity", "plant_outlet"),
        SensorInfo("TAP9", "turbidity", "tap"),
    ]
    rules = [
        pressure_high(0.6, deadband=0.02),
        *tank_low({"T1": 1.5, "T2": 0.8}),
        *raw_turbidity_high({"RAW3": 300.0}),
        outlet_turbidity_high(1.0, deadband=0.1),
    ]
    eng = AlarmEngine(rules, sensors)
    data = pd.concat([
        frame("P1", [0.55, 0.61, 0.59, 0.57]),  # raised at 0.61, cleared at 0.57 (<= 0.58)
        frame("T1", [2.0, 1.4, 1.55, 1.7]),  # T1 minimum 1.5: raised 1.4, cleared 1.7 (>= 1.6)
        frame("T2", [1.0, 1.0, 0.9, 0.9]),  # above T2's own minimum 0.8: nothing
        frame("RAW3", [120.0, 350.0, 800.0, 280.0, 260.0]),  # raised 350, still above 270 at 280, cleared 260
        frame("OUT3", [0.3, 1.2, 0.95, 0.85]),  # raised 1.2, cleared 0.85 (<= 0.9)
        frame("TAP9", [1.5]),  # tap sensor: the plant-outlet rule does not apply
    ])
    ev = eng.process(data)
    got = {(e.type, e.sensor_id, e.rule_id, (e.at - T0) // pd.Timedelta(minutes=5)) for e in ev}
    assert got == {
        ("raised", "P1", "pressure_high", 1), ("cleared", "P1", "pressure_high", 3),
        ("raised", "T1", "tank_low:T1", 1), ("cleared", "T1", "tank_low:T1", 3),
        ("raised", "RAW3", "raw_turbidity_high:RAW3", 1), ("cleared", "RAW3", "raw_turbidity_high:RAW3", 4),
        ("raised", "OUT3", "outlet_turbidity_high", 1), ("cleared", "OUT3", "outlet_turbidity_high", 3),
    }
    raw = next(e for e in ev if e.sensor_id == "RAW3" and e.type == "raised")
    assert "原水浊度" in raw.message["zh"] and "350.0 NTU" in raw.message["en"]
    assert eng.alarms[raw.alarm_id].severity == "critical"


def test_flatline_raised_after_n_equal_readings_and_cleared_on_change():
    eng = AlarmEngine([flatline(count=6, tolerance=0.0)], {"P1": "pressure"})
    values = [0.30, 0.31, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.26]
    ev = eng.process(frame("P1", values))
    # six equal readings end at index 7 (indices 2..7); the change at index 9 clears it
    assert [(e.type, (e.at - T0) // pd.Timedelta(minutes=5)) for e in ev] == [("raised", 7), ("cleared", 9)]
    assert "6" in ev[0].message["en"] and "flat-lined" in ev[0].message["en"]


def test_silent_sensor_within_batch_and_at_now():
    eng = AlarmEngine([silent(after_s=900)], {"P1": "pressure", "P2": "pressure"}, start=T0)
    # P1 has a 30-minute hole between 10 and 40 minutes; P2 never reports
    data = frame("P1", [0.3, 0.3, 0.3]).iloc[[0, 1, 2]]
    data = pd.concat([data, frame("P1", [0.3, 0.3], start=T0 + pd.Timedelta(minutes=40))])
    ev = eng.process(data, now=T0 + pd.Timedelta(minutes=50))
    got = [(e.type, e.sensor_id, (e.at - T0).total_seconds() / 60) for e in ev]
    assert ("raised", "P1", 25.0) in got and ("cleared", "P1", 40.0) in got
    assert ("raised", "P2", 15.0) in got  # never heard from since the engine started
    assert sum(e.type == "raised" for e in ev) == 2
    # P2 finally reports: its silent alarm clears; checking again raises nothing new
    ev2 = eng.process(frame("P2", [0.3], start=T0 + pd.Timedelta(minutes=55)), now=T0 + pd.Timedelta(minutes=56))
    assert [(e.type, e.sensor_id) for e in ev2] == [("cleared", "P2")]


def test_flow_step():
    eng = AlarmEngine([flow_step(0.3, min_base=1.0)], {"F1": "flow", "F2": "flow"})
    ev = eng.process(pd.concat([
        frame("F1", [100.0, 110.0, 150.0, 152.0, 151.0]),  # +36 % at index 2, then steady
        frame("F2", [0.0, 0.5, 5.0, 5.2]),  # bases 0 and 0.5 are below min_base: 0.5 -> 5 not judged
    ]))
    assert [(e.type, e.sensor_id, (e.at - T0) // pd.Timedelta(minutes=5)) for e in ev] == [
        ("raised", "F1", 2), ("cleared", "F1", 3)]
    assert "36%" in ev[0].message["en"]


def test_lifecycle_acknowledge_clear_and_links():
    eng = AlarmEngine([pressure_low()], {"P1": "pressure"})
    ev = eng.process(frame("P1", [0.3, 0.1]))
    a = eng.alarms[ev[0].alarm_id]
    assert a.status == "raised" and eng.active() == [a]
    eng.link(a.alarm_id, incident_id="INC-7", work_order_id="WO-9")
    ack = eng.acknowledge(a.alarm_id, by="dispatcher-1", at=T0 + pd.Timedelta(minutes=6))
    assert ack.status == "acknowledged" and a.acknowledged_by == "dispatcher-1"
    ev = eng.process(frame("P1", [0.3], start=T0 + pd.Timedelta(minutes=10)))
    assert ev[0].type == "cleared" and a.status == "cleared" and a.incident_id == "INC-7"
    assert ev[0].message["zh"].startswith("报警已恢复")
    # an alarm that clears before anyone looked stays visible as cleared-unacknowledged
    ev = eng.process(frame("P1", [0.1, 0.3], start=T0 + pd.Timedelta(minutes=15)))
    b = eng.alarms[ev[0].alarm_id]
    assert b.status == "cleared_unacknowledged" and eng.needing_attention() == [b]
    eng.acknowledge(b.alarm_id, by="dispatcher-2", at=T0 + pd.Timedelta(hours=1))
    assert b.status == "cleared" and eng.needing_attention() == []
    assert {x.alarm_id for x in eng.forget_closed()} == {a.alarm_id, b.alarm_id}
    with pytest.raises(KeyError, match="no alarm"):
        eng.acknowledge("ALM-999999", by="x", at=T0)


def test_batches_give_the_same_events_as_one_batch_and_state_round_trips():
    rng = np.random.default_rng(7)
    n = 600
    p = 0.14 + 0.02 * np.sin(np.arange(n) / 15.0) + rng.normal(0, 0.004, n)
    p[200:230] = p[199]  # a stuck stretch for the flat-line rule
    f = 100 + rng.normal(0, 3, n)
    f[400:] *= 1.6  # a burst
    data = pd.concat([frame("P1", p), frame("F1", f)])
    sensors = {"P1": "pressure", "F1": "flow"}
    rules = [pressure_low(0.14, 0.01, min_duration_s=600), flatline(20, 0.0), silent(1200), flow_step(0.3)]

    whole = AlarmEngine(rules, sensors, start=T0).process(data)
    assert 3 <= sum(e.type == "raised" for e in whole) < 40  # some alarms, not one per reading

    eng = AlarmEngine(rules, sensors, start=T0)
    pieces = []
    for lo, hi in ((0, 150), (150, 215), (215, 401), (401, n)):
        chunk = data[(data["timestamp"] >= T0 + pd.Timedelta(minutes=5 * lo))
                     & (data["timestamp"] < T0 + pd.Timedelta(minutes=5 * hi))]
        pieces += eng.process(chunk)
        # persist and restore the engine between batches, as the storage layer will
        eng = AlarmEngine.from_state(rules, sensors, json.loads(json.dumps(eng.export_state())))
    # re-sending the last batch changes nothing
    assert eng.process(chunk) == []
    # alarm ids are numbered in processing order (sensor by sensor within a batch), so compare the rest
    key = sorted((e.at, e.type, e.rule_id, e.sensor_id, e.value) for e in pieces)
    assert key == sorted((e.at, e.type, e.rule_id, e.sensor_id, e.value) for e in whole)
    assert {e.rule_id for e in whole} >= {"pressure_low", "flatline", "flow_step"}


def test_rule_validation_and_defaults():
    with pytest.raises(ValueError, match="condition"):
        AlarmRule("x", "sideways")
    with pytest.raises(ValueError, match="count >= 2"):
        AlarmRule("x", "flatline", count=1)
    with pytest.raises(ValueError, match="unique"):
        AlarmEngine([pressure_low(), pressure_low()], {})
    assert {r.condition for r in default_rules()} == {"low", "high", "flatline", "silent", "step"}


def test_message_catalogue_has_both_languages_with_the_same_fields():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"zh", "en"}, key
        assert placeholders(entry["zh"]) == placeholders(entry["en"]), key
    assert t("alarm.pressure_low", "en", sensor="P", value=0.1, limit=0.14) == (
        "Sensor P: pressure low, 0.100 MPa below 0.140 MPa")
    assert t("no.such.key") == "no.such.key"
