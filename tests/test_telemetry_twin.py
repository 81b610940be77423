"""Demo replay scenario and live twin on the demo city: the twin driven by noise-free measurements reproduces
the simulated pressures, points at the burst during the rainstorm night, and is stored through the ops layer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from runze_db_fixtures import *  # noqa: F403

from runze.network.demo_city import build_demo_city
from runze.ops import telemetry as ops
from runze.telemetry.messages import Message
from runze.telemetry.replay import build_scenario
from runze.telemetry.twin import run_snapshot


@pytest.fixture(scope="module")
def city():
    return build_demo_city(seed=2026)


@pytest.fixture(scope="module")
def scenario(city):
    return build_scenario(network=city, hours=18.0, step_s=900, noise=False)  # noon to 06:00


def _at(scenario, clock_hours_after_noon: float) -> tuple[datetime, dict[str, float]]:
    sec = clock_hours_after_noon * 3600.0
    return scenario.start + timedelta(seconds=sec), {sid: p["v"] for s, sid, p in scenario.readings if s == sec}


def _series(scenario, sensor: str) -> np.ndarray:
    return np.array([p["v"] for _s, sid, p in scenario.readings if sid == sensor])


def test_replay_scenario_has_the_rainstorm_night(scenario):
    assert len({sid for _s, sid, _p in scenario.readings}) == len(scenario.sensors) == 77
    per_hour = 4  # 15-minute readings from noon
    raw3 = _series(scenario, "P3-RAW-NTU")
    assert raw3[: 9 * per_hour].max() < 50 and raw3[14 * per_hour: 17 * per_hour].min() > 800
    assert _series(scenario, "P4-RAW-NTU").max() < 20  # the reservoir plant is not affected
    p3, p1 = _series(scenario, "P3-OUT-Q"), _series(scenario, "P1-OUT-Q")
    share = p3 / (p1 + p3)
    assert share[14 * per_hour] < 0.75 * share[8 * per_hour]  # 02:00 (limited) against 20:00
    units = {p["unit"] for _s, sid, p in scenario.readings if sid.startswith("PL")}
    assert units == {"MPa"}


def test_twin_reproduces_the_model_and_points_at_the_burst(city, scenario):
    at, measured = _at(scenario, 6.0)  # 18:00, nothing unusual
    calm = run_snapshot(city, measured, at)
    assert calm.ok and len(calm.residuals) == 36
    assert np.abs(calm.residuals["residual"]).max() < 5e-4  # MPa: 0.05 m
    assert set(calm.summary["dma_scale"].values()) == {1.0}
    at, measured = _at(scenario, 16.0)  # 04:00, the main has burst near PL001
    night = run_snapshot(city, measured, at)
    worst = night.residuals.loc[night.residuals["residual"].idxmin()]
    assert worst["sensor_id"] == "PL001" and worst["residual"] < -0.005
    assert max(night.summary["dma_scale"].values()) > 1.5  # the burst's flow shows in its DMA's inflow


def test_twin_run_is_stored_from_stored_readings(city, scenario, sqlite_url):
    from runze_db_fixtures import make_settings

    from runze.ops.database import open_database

    db = open_database(make_settings(sqlite_url))
    at, _measured = _at(scenario, 6.0)
    now = datetime.now(UTC)
    msgs = [Message(f"{ops.DEFAULT_PREFIX}/{sid}", json.dumps(p).encode(), now)
            for s, sid, p in scenario.readings if 5.5 * 3600 <= s <= 6.25 * 3600]
    try:
        with db.session() as session:
            ops.register_sensors_now(session, [{"sensor_id": s["id"], "kind": s["kind"], "unit": s["unit"],
                                                "element": s["element"]} for s in scenario.sensors])
            report = ops.ingest_messages(session, msgs, alarms=False)
            assert report.stored == len(msgs) and report.quarantined == 0
            run = ops.run_twin(session, city, at, window_s=900)
            assert run.status == "ok" and run.summary["measurements"] == 77
            residuals = ops.twin_residuals(session, run.id)
            assert len(residuals) == 36 and residuals["residual"].abs().max() < 5e-4
            assert run.at == at.astimezone(UTC)  # the reading at 18:15 is after `at`: not used
    finally:
        db.dispose()
