"""Alarm thresholds come from one place (runze.settings.AlarmLimits) and can be set per plant and per sensor."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pydantic import ValidationError

from runze.ops.telemetry import alarm_rules
from runze.settings import AlarmLimits, Settings
from runze.store.telemetry_models import Sensor
from runze.telemetry.alarms import AlarmEngine, SensorInfo, default_rules, outlet_turbidity_high, pressure_low

T0 = pd.Timestamp("2026-05-01T00:00:00Z")
SENSORS = [("P1-RAW-NTU", "turbidity", "raw_water"), ("P3-RAW-NTU", "turbidity", "raw_water"),
           ("P1-OUT-NTU", "turbidity", "plant_outlet"), ("P3-OUT-NTU", "turbidity", "plant_outlet"),
           ("J10-P", "pressure", "network"), ("J20-P", "pressure", "network"), ("T1-L", "level", "tank")]
CUSTOM = {"plants": {"P3": {"raw_turbidity_ntu": 500, "outlet_turbidity_ntu": 2.0}},
          "sensors": {"T1-L": {"tank_min_level_m": 1.5}, "J20-P": {"pressure_low_mpa": 0.10}}}


def _sensors():
    return [Sensor(sensor_id=sid, kind=kind, role=role, unit="") for sid, kind, role in SENSORS]


def _engine(rules):
    return AlarmEngine(rules, [SensorInfo(sid, kind, role) for sid, kind, role in SENSORS])


def _frame(sid, values):
    return pd.DataFrame({"timestamp": T0 + pd.to_timedelta(range(len(values)), unit="min") * 5,
                         "sensor_id": sid, "value": values})


def test_defaults_are_the_documented_limits():
    limits = AlarmLimits()
    assert (limits.pressure_low_mpa, limits.pressure_high_mpa, limits.outlet_turbidity_ntu,
            limits.raw_turbidity_ntu, limits.tank_min_level_m) == (0.14, 0.7, 1.0, 300.0, 1.0)
    assert pressure_low().limit == 0.14 and outlet_turbidity_high().limit == 1.0
    by_id = {r.rule_id: r for r in alarm_rules(_sensors(), AlarmLimits())}
    # no per-site limits: the shared rules stay open to every matching sensor, as before
    assert by_id["pressure_low"].sensor_ids is None and by_id["outlet_turbidity_high"].sensor_ids is None
    assert by_id["raw_turbidity_high:P3-RAW-NTU"].limit == 300.0 and by_id["tank_low:T1-L"].limit == 1.0


def test_settings_read_per_plant_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("RUNZE_ALARM_LIMITS", json.dumps(CUSTOM | {"pressure_high_mpa": 0.8}))
    limits = Settings().alarm_limits
    assert limits.pressure_high_mpa == 0.8 and limits.pressure_low_mpa == 0.14
    assert limits.for_sensor("raw_turbidity_ntu", "P3-RAW-NTU") == 500.0
    assert limits.for_sensor("raw_turbidity_ntu", "P1-RAW-NTU") == 300.0  # another plant: the default
    assert limits.for_sensor("raw_turbidity_ntu", "P30-RAW-NTU") == 300.0  # "P3" is not a prefix of plant P30
    assert limits.for_sensor("tank_min_level_m", "T1-L") == 1.5
    assert [r.limit for r in default_rules(limits=limits) if r.rule_id == "pressure_high"] == [0.8]


def test_sensor_limit_wins_over_its_plant():
    limits = AlarmLimits.model_validate({"plants": {"P3": {"raw_turbidity_ntu": 500}},
                                         "sensors": {"P3-RAW-NTU": {"raw_turbidity_ntu": 450}}})
    assert limits.for_sensor("raw_turbidity_ntu", "P3-RAW-NTU") == 450.0


@pytest.mark.parametrize("bad", [{"raw_turbidity_ntu": -1}, {"plants": {"P3": {"turbidity": 2}}},
                                 {"plants": {"P3": {"pressure_low_mpa": 0}}}])
def test_bad_limits_are_refused(bad):
    with pytest.raises(ValidationError):
        AlarmLimits.model_validate(bad)


def test_rules_follow_per_plant_and_per_sensor_limits():
    rules = alarm_rules(_sensors(), AlarmLimits.model_validate(CUSTOM))
    by_id = {r.rule_id: r for r in rules}
    assert by_id["raw_turbidity_high:P3-RAW-NTU"].limit == 500.0
    assert by_id["raw_turbidity_high:P1-RAW-NTU"].limit == 300.0
    assert by_id["tank_low:T1-L"].limit == 1.5
    # shared rules split: plant 3's outlet and sensor J20-P get their own rule, the rest keep the default
    assert by_id["outlet_turbidity_high"].sensor_ids == ("P1-OUT-NTU",)
    assert by_id["outlet_turbidity_high:P3-OUT-NTU"].limit == 2.0
    assert by_id["pressure_low"].sensor_ids == ("J10-P",) and by_id["pressure_low:J20-P"].limit == 0.10

    ev = _engine(rules).process(pd.concat([
        _frame("P1-OUT-NTU", [0.5, 1.5]), _frame("P3-OUT-NTU", [0.5, 1.5]),  # 1.5 NTU: above 1, below plant 3's 2
        _frame("P1-RAW-NTU", [100.0, 400.0]), _frame("P3-RAW-NTU", [100.0, 400.0]),  # 400: above 300, below 500
        _frame("J10-P", [0.3, 0.12]), _frame("J20-P", [0.3, 0.12]),  # 0.12 MPa: below 0.14, above J20-P's 0.10
    ]))
    raised = {(e.sensor_id, e.rule_id) for e in ev if e.type == "raised"}
    assert raised == {("P1-OUT-NTU", "outlet_turbidity_high"), ("P1-RAW-NTU", "raw_turbidity_high:P1-RAW-NTU"),
                      ("J10-P", "pressure_low")}
