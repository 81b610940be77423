"""Telemetry through the store on SQLite and PostgreSQL: idempotent writes, time order, units, quarantine,
CSV import/export, and the alarm engine's wiring (raise/ack/clear persisted, hysteresis across batches)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.ops import incidents, workorders
from runze.ops import telemetry as ops
from runze.ops.auth import SYSTEM
from runze.ops.errors import InvalidInput, NotFound
from runze.store import AuditEntry
from runze.store.telemetry_models import AlarmRecord, EngineState, QuarantinedMessage, Reading, Sensor
from runze.telemetry.ingest import ReadingArrays, write_readings
from runze.telemetry.messages import Message

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=CST)


def msg(sensor: str, minutes: float, value, unit: str = "MPa", q: str | None = None, raw: bytes | None = None,
        prefix: str = ops.DEFAULT_PREFIX) -> Message:
    body = {"t": (T0 + timedelta(minutes=minutes)).isoformat(), "v": value, "unit": unit}
    if q is not None:
        body["q"] = q
    return Message(f"{prefix}/{sensor}", raw if raw is not None else json.dumps(body).encode(), datetime.now(UTC))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_ingest_idempotent_ordered_converted_and_quarantined(database):
    batch = [
        msg("PL001", 10, 0.30), msg("PL001", 0, 0.31), msg("PL001", 5, 305.0, "kPa"),  # out of order, kPa
        msg("PL001", 10, 0.30),  # duplicate in the batch
        msg("PL002", 0, 30.0, "m"),  # "m" alone does not say level or pressure: new sensor, quarantined
        msg("DMA01-IN1-Q", 0, 50.0, "L/s"),  # new flow sensor, kind from the unit, stored in m3/h
        msg("PL001", 15, "abc"), msg("PL001", 20, 0.3, q="bad"), msg("PL001", 25, 0.3, "NTU"),
        msg("PL001", 30, 9.0),  # 9 MPa: implausible
        msg("PL001", 35, 0.3, raw=b"{not json"), Message("other/topic/PL001", b"{}", datetime.now(UTC)),
    ]
    with database.session() as session:
        report = ops.ingest_messages(session, batch)
        assert (report.received, report.stored, report.duplicates, report.quarantined) == (12, 4, 1, 7)
        assert report.sensors_registered == 2
        again = ops.ingest_messages(session, batch[:4] + batch[5:6])  # the same readings re-sent
        assert (again.stored, again.duplicates) == (0, 5)
        assert count(session, Reading) == 4
        frame = ops.query_readings(session, "PL001")
        assert frame["timestamp"].is_monotonic_increasing
        assert frame["value"].tolist() == pytest.approx([0.31, 0.305, 0.30])
        assert frame["timestamp"].iloc[0] == T0.astimezone(UTC)
        assert ops.query_readings(session, "DMA01-IN1-Q")["value"].tolist() == pytest.approx([180.0])
        stored = {s.sensor_id: (s.kind, s.role) for s in session.scalars(select(Sensor))}
        assert stored == {"PL001": ("pressure", "network"), "DMA01-IN1-Q": ("flow", None)}
        reasons = sorted((q.origin, q.field, q.reason_code) for q in session.scalars(select(QuarantinedMessage)))
        topic = ops.DEFAULT_PREFIX + "/"
        assert reasons == sorted([
            (topic + "PL002", "unit", "telemetry.unit_without_kind"), (topic + "PL001", "v", "telemetry.not_a_number"),
            (topic + "PL001", "q", "telemetry.bad_quality"), (topic + "PL001", "unit", "telemetry.wrong_kind_unit"),
            (topic + "PL001", "v", "telemetry.implausible"), (topic + "PL001", "payload", "telemetry.bad_json"),
            ("other/topic/PL001", "topic", "telemetry.bad_topic")])
        rows = session.scalars(select(QuarantinedMessage)).all()
        assert len(rows) == 7 and all(r.reason and r.reason_zh and r.payload for r in rows)
        assert any(r.payload == "{not json" for r in rows)  # the raw payload, as received
        with pytest.raises(NotFound):
            ops.query_readings(session, "NOPE")


def test_late_reading_is_stored_in_time_order(database):
    with database.session() as session:
        ops.ingest_messages(session, [msg("PL001", m, 0.3 + m / 1000) for m in (0, 10, 20)])
        ops.ingest_messages(session, [msg("PL001", 5, 0.1)])  # late, and below the pressure limit
        frame = ops.query_readings(session, "PL001")
        assert frame["value"].tolist() == pytest.approx([0.3, 0.1, 0.31, 0.32])
        # documented behaviour: the engine already evaluated 20 min, so the late low reading raises nothing
        assert count(session, AlarmRecord) == 0
        window = ops.query_readings(session, "PL001", start=T0 + timedelta(minutes=5),
                                    end=T0 + timedelta(minutes=20))
        assert window["value"].tolist() == pytest.approx([0.1, 0.31])


def test_writer_methods_agree_and_return_new_rows(database):
    with database.session() as session:
        ops.register_sensors_now(session, [{"sensor_id": f"S{i}", "kind": "pressure", "unit": "MPa"}
                                           for i in range(3)])
        keys = np.array(sorted(s.id for s in session.scalars(select(Sensor))), dtype=np.int32)
    methods = ["sqlalchemy"] + (["copy", "executemany"] if database.engine.dialect.name == "postgresql" else [])
    base = int(T0.timestamp() * 1e6)
    for k, method in enumerate(methods):
        t = base + (k * 200 + np.arange(100)) * 60_000_000
        batch = ReadingArrays.of(np.tile(keys, 100), np.repeat(t, 3), np.arange(300) / 1000.0)
        with database.engine.begin() as conn:
            inserted = write_readings(conn, Reading.__table__, batch, method=method)
        with database.engine.begin() as conn:  # half old, half new
            half = ReadingArrays.of(np.tile(keys, 100), np.repeat(t + 50 * 60_000_000, 3), np.zeros(300))
            again = write_readings(conn, Reading.__table__, half, method=method)
        if method != "sqlalchemy" or database.engine.dialect.name == "sqlite":
            assert (inserted, again) == (300, 150), method
    with database.session() as session:
        assert count(session, Reading) == 450 * len(methods)
        first = ops.query_readings(session, "S1")
        assert first["value"].iloc[:100].tolist() == pytest.approx((np.arange(100) * 3 + 1) / 1000.0)


def test_import_file_quarantines_bad_rows_and_export_round_trips(database, tmp_path):
    src = tmp_path / "scada.csv"
    src.write_text("timestamp,sensor_id,value,unit,quality\n"
                   "2026-11-25T02:00:00+08:00,T1-L,3.5,m,good\n"
                   "2026-11-25 02:05:00,T1-L,350,cm,good\n"  # naive: Asia/Shanghai; cm -> m
                   "2026-11-25T02:10:00+08:00,T1-L,,m,good\n"
                   "2026-11-25T02:15:00+08:00,T1-L,3.4,m,bad\n"
                   "2026-11-25T02:00:00+08:00,P1-RAW-NTU,25,NTU,\n", encoding="utf-8")
    with database.session() as session:
        ops.register_sensors_now(session, [{"sensor_id": "T1-L", "kind": "level", "unit": "m", "role": "tank"}])
        report = ops.import_file(session, src)
        assert (report.stored, report.quarantined) == (3, 2)
        again = ops.import_file(session, src)
        assert (again.stored, again.duplicates) == (0, 3)
        origins = sorted(q.origin.rsplit(":", 1)[1] for q in session.scalars(select(QuarantinedMessage)))
        assert origins == ["4", "4", "5", "5"]  # line numbers, both imports
        out = tmp_path / "out.csv"
        assert ops.export_csv(session, "T1-L", out) == 2
        lines = out.read_text().splitlines()
        assert lines[1:] == ["2026-11-25T02:00:00+08:00,T1-L,3.5,m,good", "2026-11-25T02:05:00+08:00,T1-L,3.5,m,good"]
        role = session.scalars(select(Sensor.role).where(Sensor.sensor_id == "P1-RAW-NTU")).one()
        assert role == "raw_water"


def _alarm(session, code="ALM-000001") -> AlarmRecord:
    session.expire_all()
    return session.scalars(select(AlarmRecord).where(AlarmRecord.code == code)).one()


def test_pressure_alarm_raise_ack_clear_with_hysteresis_across_batches(database):
    with database.session() as session:
        ops.ingest_messages(session, [msg("PL001", 0, 0.20), msg("PL001", 5, 0.13)])  # below 0.14: raised
        alarm = _alarm(session)
        assert (alarm.status, alarm.rule_id, alarm.raise_value) == ("raised", "pressure_low", 0.13)
        assert alarm.raised_at == (T0 + timedelta(minutes=5)).astimezone(UTC)
        # next batch: 0.145 is above the limit but inside the 0.01 deadband: the alarm holds (saved hysteresis)
        report = ops.ingest_messages(session, [msg("PL001", 10, 0.145), msg("PL001", 15, 0.148)])
        assert report.alarm_events == [] and _alarm(session).status == "raised"
        ops.acknowledge_alarm(session, SYSTEM, alarm.id)
        ops.acknowledge_alarm(session, SYSTEM, alarm.id)  # idempotent
        assert _alarm(session).status == "acknowledged"
        report = ops.ingest_messages(session, [msg("PL001", 20, 0.16)])  # back above 0.15: cleared
        assert [e["type"] for e in report.alarm_events] == ["cleared"]
        alarm = _alarm(session)
        assert (alarm.status, alarm.clear_value) == ("cleared", 0.16)
        assert alarm.acknowledged_by == "system"
        # a second excursion is a new alarm with the next number (the counter is saved state)
        ops.ingest_messages(session, [msg("PL001", 25, 0.10), msg("PL001", 30, 0.20)])
        second = _alarm(session, "ALM-000002")
        assert second.status == "cleared_unacknowledged"
        assert [a.code for a in ops.list_alarms(session, status="attention").items] == ["ALM-000002"]
        ops.acknowledge_alarm(session, SYSTEM, second.id)
        assert _alarm(session, "ALM-000002").status == "cleared"
        actions = session.scalars(select(AuditEntry.action)).all()
        assert actions.count("alarm.acknowledge") == 2
        assert session.get(EngineState, ops.ENGINE).state["counter"] == 2


def test_each_rule_raises_through_the_store_across_two_batches(sqlite_url):
    from runze_db_fixtures import make_settings

    from runze.ops.database import open_database

    series = {"raw_turbidity_high": ("P3-RAW-NTU", "turbidity", "NTU", [40, 120, 450, 900]),
              "tank_low": ("T1-L", "level", "m", [3.0, 2.0, 0.8, 0.7]),
              "outlet_turbidity_high": ("P3-OUT-NTU", "turbidity", "NTU", [0.2, 0.3, 1.4, 1.2]),
              "flow_step": ("DMA05-IN1-Q", "flow", "m3/h", [300, 305, 520, 515]),
              "flatline": ("PL007", "pressure", "MPa", [0.31] * 14),
              "pressure_high": ("PL008", "pressure", "MPa", [0.4, 0.5, 0.75, 0.8])}
    db = open_database(make_settings(sqlite_url))
    try:
        with db.session() as session:
            ops.register_sensors_now(session, [{"sensor_id": sid, "kind": kind, "unit": unit,
                                                "role": ops.role_of(sid, kind)}
                                               for sid, kind, unit, _ in series.values()])
            for part in (0, 1):  # two batches: each rule's state crosses the batch boundary
                batch = []
                for sid, _kind, unit, values in series.values():
                    half = len(values) // 2
                    chunk = values[:half] if part == 0 else values[half:]
                    batch += [msg(sid, 5 * (k + part * half), v, unit) for k, v in enumerate(chunk)]
                ops.ingest_messages(session, batch)
                if part == 0:
                    assert count(session, AlarmRecord) == 0
            alarms = {a.sensor_id: a for a in session.scalars(select(AlarmRecord))}
            assert set(alarms) == {sid for sid, *_ in series.values()}
            for rule, (sid, *_rest) in series.items():
                assert alarms[sid].rule_id.startswith(rule), (rule, alarms[sid].rule_id)
                # a step is over at the next reading; the others hold
                assert alarms[sid].status == ("cleared_unacknowledged" if rule == "flow_step" else "raised")
    finally:
        db.dispose()


def test_link_alarm_to_incident_and_work_order(database):
    with database.session() as session:
        ops.ingest_messages(session, [msg("PL001", 0, 0.10)])
        alarm = _alarm(session)
        inc = incidents.create_incident(session, SYSTEM, title="暴雨夜", kind="weather")
        wo = workorders.create_work_order(session, SYSTEM, kind="emergency_repair", title="爆管抢修")
        ops.link_alarm(session, SYSTEM, alarm.id, incident_id=inc.id, work_order_id=wo.id)
        linked = _alarm(session)
        assert (linked.incident_id, linked.work_order_id) == (inc.id, wo.id)
        with pytest.raises(InvalidInput):
            ops.link_alarm(session, SYSTEM, alarm.id, incident_id=9999)
        with pytest.raises(NotFound):
            ops.acknowledge_alarm(session, SYSTEM, 9999)
        # the engine still knows the alarm after the link (it reads active alarm rows back)
        report = ops.ingest_messages(session, [msg("PL001", 5, 0.30)])
        assert [e["type"] for e in report.alarm_events] == ["cleared"]
        assert _alarm(session).incident_id == inc.id


def test_silent_sensor_by_gap_and_by_clock(database):
    with database.session() as session:
        # a 40-minute gap between readings: raised at the end of the 15-minute window, cleared by the next reading
        report = ops.ingest_messages(session, [msg("PL001", 0, 0.3), msg("PL001", 40, 0.3)])
        assert [(e["type"], e["rule_id"]) for e in report.alarm_events] == [("raised", "silent"), ("cleared", "silent")]
        assert _alarm(session).raised_at == (T0 + timedelta(minutes=15)).astimezone(UTC)
        # then nothing more: the wall-clock check raises it, and a new reading clears it
        assert ops.check_silence(session, T0 + timedelta(minutes=50)) == []
        events = ops.check_silence(session, T0 + timedelta(minutes=70))
        assert [e.type for e in events] == ["raised"]
        assert ops.check_silence(session, T0 + timedelta(minutes=90)) == []  # raised once, not every minute
        assert _alarm(session, "ALM-000002").status == "raised"
        report = ops.ingest_messages(session, [msg("PL001", 95, 0.3)])
        assert [e["type"] for e in report.alarm_events] == ["cleared"]
        assert _alarm(session, "ALM-000002").cleared_at == (T0 + timedelta(minutes=95)).astimezone(UTC)
