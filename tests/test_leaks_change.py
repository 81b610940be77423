"""The burst step test (change.step_alarms) and the slow CUSUM (change.area_events) on synthetic residuals.

The residuals imitate an area's inflow residual: demand wander that is smooth at 5 minutes (an hourly AR(1)
joined linearly, larger by day than by night) plus meter noise that is short-lived (AR(1) over 5 minutes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from runze.analysis.leaks.change import _ramp_or_step, area_events, step_alarms, step_filter
from runze.analysis.leaks.detect import DetectConfig

START = pd.Timestamp("2019-01-01")
TRAIN_END = START + pd.Timedelta(days=14)


def _residual(days: int, seed: int, demand_sd: float = 2.0, meter_sd: float = 0.8) -> pd.Series:
    rng = np.random.default_rng(seed)
    hours = days * 24 + 1
    hod = np.arange(hours) % 24
    scale = np.where((hod >= 1) & (hod < 6), 0.5, 1.0)  # nights are quieter
    wander = lfilter([1.0], [1.0, -0.7], rng.standard_normal(hours) * np.sqrt(1 - 0.49)) * demand_sd * scale
    n = days * 288
    t = np.arange(n) / 12.0
    smooth = np.interp(t, np.arange(hours), wander)
    meter = lfilter([1.0], [1.0, -0.7], rng.standard_normal(n) * np.sqrt(1 - 0.49)) * meter_sd
    return pd.Series(smooth + meter, index=START + pd.to_timedelta(np.arange(n) * 5, unit="min"))


def _blocks(fine: pd.Series, minutes: int = 15) -> pd.Series:
    return fine.resample(f"{minutes}min").mean()


def test_step_filter_measures_a_step_on_a_line():
    w = step_filter(12, 6)
    t = np.arange(-12, 6, dtype=float)
    assert w @ (3.0 + 0.4 * t) == pytest.approx(0.0, abs=1e-9)  # a line is no step
    assert w @ (3.0 + 0.4 * t + 7.0 * (t >= 0)) == pytest.approx(7.0)


def test_big_burst_alarms_within_half_an_hour_small_one_within_two_hours():
    cfg = DetectConfig()
    fine = _residual(30, seed=1)
    at_big = pd.Timestamp("2019-01-20 10:35")
    at_small = pd.Timestamp("2019-01-26 02:10")
    fine[fine.index >= at_big] += 25.0
    fine[fine.index >= at_small] += 5.0
    alarms = step_alarms(fine, cfg, TRAIN_END)
    starts = [a["start"] for a in alarms]
    assert len(alarms) == 2, [(a["start"], a["z"]) for a in alarms]
    big, small = alarms
    assert abs((big["start"] - at_big).total_seconds()) <= 600 and big["size"] == pytest.approx(25.0, rel=0.2)
    assert big["alarm_at"] - at_big <= pd.Timedelta(minutes=35)
    assert abs((small["start"] - at_small).total_seconds()) <= 600, starts
    assert small["alarm_at"] - at_small <= pd.Timedelta(hours=2, minutes=5)
    assert small["size"] == pytest.approx(5.0, rel=0.4)


def test_no_burst_alarm_on_demand_wander_or_a_ramp():
    cfg = DetectConfig()
    for seed in range(3):
        fine = _residual(60, seed=10 + seed)
        ramp = np.clip((fine.index - pd.Timestamp("2019-02-01")).total_seconds() / 86400.0, 0, None)
        fine = fine + 0.5 * ramp  # a leak growing by 0.5 m³/h a day: no step
        assert step_alarms(fine, cfg, TRAIN_END) == []


def test_area_events_report_a_burst_once():
    """A 20 m³/h burst for five days: one burst event of about its size, no slow alarm for its rest."""
    cfg = DetectConfig()
    fine = _residual(40, seed=5)
    burst_at = pd.Timestamp("2019-01-25 14:00")
    fine[(fine.index >= burst_at) & (fine.index < burst_at + pd.Timedelta(days=5))] += 20.0
    events = area_events(_blocks(fine), cfg, TRAIN_END, fine)
    assert len(events) == 1, events
    assert events[0]["via"] == "burst" and events[0]["alarm_at"] - burst_at <= pd.Timedelta(hours=2)
    assert events[0]["size"] == pytest.approx(20.0, rel=0.25)


def test_area_events_find_a_slow_leak_within_weeks():
    cfg = DetectConfig()
    fine = _residual(60, seed=5)
    grow_from = pd.Timestamp("2019-01-25")
    days = np.clip((fine.index - grow_from).total_seconds() / 86400.0, 0, None)
    fine = fine + 0.3 * days  # 0.3 m³/h more each day: 9 m³/h after a month
    events = area_events(_blocks(fine), cfg, TRAIN_END, fine)
    assert len(events) == 1 and events[0]["via"] == "slow", events
    assert grow_from < events[0]["alarm_at"] < grow_from + pd.Timedelta(days=25)
    size_then = 0.3 * (events[0]["alarm_at"] - grow_from).total_seconds() / 86400.0
    assert events[0]["size"] == pytest.approx(size_then, abs=2.0)


def test_ramp_or_step_tells_a_growing_leak_from_a_step():
    rng = np.random.default_rng(3)
    hours = np.arange(24 * 20)
    noise = lfilter([1.0], [1.0, -0.7], rng.standard_normal(len(hours)) * 0.7) * 1.0
    kind, growth = _ramp_or_step(0.5 / 24 * hours + noise, 24.0, 24)  # 0.5 m³/h a day
    assert kind == "incipient" and growth == pytest.approx(0.5, rel=0.25)
    assert _ramp_or_step(4.0 + noise, 24.0, 24) == ("abrupt", 0.0)
    assert _ramp_or_step(np.array([1.0, 2.0, 3.0]), 24.0, 24) == ("abrupt", 0.0)  # too short to tell


def test_area_events_quiet_without_leaks():
    cfg = DetectConfig()
    for seed in (21, 22):
        fine = _residual(120, seed)
        assert area_events(_blocks(fine), cfg, TRAIN_END, fine) == []



def test_held_path_reports_a_step_once():
    """The held-level path (6-24 h) sees a step the 2-hour windows already reported, and a day later still
    sees it in its baseline: neither is a new alarm."""
    fine = _residual(40, seed=31, demand_sd=3.0, meter_sd=0.6)
    at = pd.Timestamp("2019-01-25 10:05")
    fine[fine.index >= at] += 12.0
    cfg = DetectConfig(burst_held_hours=(6.0, 12.0, 24.0), burst_held_z=5.0)
    alarms = step_alarms(fine, cfg, TRAIN_END)
    assert [a["start"] for a in alarms] == [at], [(a["start"], a["z"]) for a in alarms]
    assert alarms[0]["alarm_at"] - at <= pd.Timedelta(hours=1)
