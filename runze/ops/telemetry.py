"""Telemetry use cases: ingest a batch (MQTT messages or a parsed file), quarantine, alarms, queries, export.

One batch is one transaction: new sensors, readings (INSERT ... ON CONFLICT DO NOTHING, runze.telemetry.ingest),
quarantined messages, alarm rows and the alarm engine's state commit together or not at all.  The MQTT
subscriber acknowledges a batch's messages only after that commit, so a reading acknowledged is a reading stored.

Alarms: the pure engine (runze.telemetry.alarms) is rebuilt for each batch from its saved state (one JSON row)
plus the active alarm rows, so hysteresis, flat-line tails and "last reading evaluated" carry across batches and
process restarts.  Silent sensors: gaps between readings are found on ingest; `check_silence(now)` (the
listener calls it once a minute with the wall clock) finds sensors that stopped reporting.  **Late readings**: per (rule, sensor) the engine skips readings at or before the last one it
evaluated, so a reading that arrives after newer ones is stored (queries return it in time order) but raises
or clears no alarm; a re-sent batch raises nothing twice.  Acknowledging and linking change the alarm row
only (the engine reads the rows back on the next batch), and are audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput, NotFound
from runze.settings import AlarmLimits, get_settings
from runze.store import Incident, WorkOrder
from runze.store.telemetry_models import (
    AlarmRecord,
    EngineState,
    QuarantinedMessage,
    Reading,
    Sensor,
    TwinResidual,
    TwinRun,
)
from runze.telemetry import alarms as alarm_logic
from runze.telemetry.ingest import ReadingArrays, to_us, write_readings
from runze.telemetry.messages import QUALITY_CODES, Message, Rejected, validate_messages

ENGINE = "default"
DEFAULT_PREFIX = "runze/readings"
QUALITY_NAMES = {v: k for k, v in QUALITY_CODES.items()}
ROLE_BY_SUFFIX = (("-RAW-NTU", "raw_water"), ("-OUT-NTU", "plant_outlet"), ("-OUT-P", "plant_outlet"),
                  ("-OUT-Q", "plant_outlet"), ("-L", "tank"))


@dataclass
class IngestReport:
    received: int = 0
    stored: int = 0  # new readings written
    duplicates: int = 0  # valid readings already stored (or repeated within the batch)
    quarantined: int = 0
    sensors_registered: int = 0
    alarm_events: list[dict] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        for name in ("received", "stored", "duplicates", "quarantined", "sensors_registered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.alarm_events += other.alarm_events

    def to_dict(self) -> dict:
        return {"received": self.received, "stored": self.stored, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "sensors_registered": self.sensors_registered,
                "alarm_events": len(self.alarm_events)}


# ---- sensors ------------------------------------------------------------------------------------------------
def role_of(sensor_id: str, kind: str) -> str | None:
    for suffix, role in ROLE_BY_SUFFIX:
        if sensor_id.endswith(suffix):
            return role
    return "network" if kind == "pressure" else None


def sensors_from_network(net: Any) -> list[dict]:
    """Sensor rows from a network's sidecar (runze.network.model.UtilityAttributes.sensors)."""
    rows = []
    for s in net.utility.sensors:
        rows.append({"sensor_id": s["id"], "kind": s["kind"], "unit": s.get("unit", ""),
                     "role": s.get("role") or role_of(s["id"], s["kind"]), "element": s.get("element"),
                     "name": s.get("name", "")})
    return rows


def sensor_table(session: Session) -> dict[str, Sensor]:
    return {s.sensor_id: s for s in session.scalars(select(Sensor))}


def register_sensors(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Add sensors not yet known and update the attributes of known ones; returns how many were added.

    Flushes but does not commit: the caller's batch (or `register_sensors_now`) commits.
    """
    known = sensor_table(session)
    added = 0
    for row in rows:
        sensor = known.get(row["sensor_id"])
        if sensor is None:
            sensor = Sensor(sensor_id=row["sensor_id"], kind=row["kind"], unit=row.get("unit") or "",
                            role=row.get("role"), element=row.get("element"), name=row.get("name") or "")
            session.add(sensor)
            known[sensor.sensor_id] = sensor
            added += 1
        else:
            for key in ("kind", "unit", "role", "element", "name"):
                if row.get(key) is not None:
                    setattr(sensor, key, row[key])
    session.flush()
    return added


@unit_of_work
def register_sensors_now(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    return register_sensors(session, rows)


# ---- ingest ---------------------------------------------------------------------------------------------------
def ingest_messages(session: Session, messages: Sequence[Message], *, prefix: str = DEFAULT_PREFIX,
                    source: str = "mqtt", auto_register: bool = True, alarms: bool = True,
                    method: str | None = None) -> IngestReport:
    """Validate, store and alarm-check one batch of messages in one transaction (committed on return)."""
    kinds = {s.sensor_id: s.kind for s in session.scalars(select(Sensor))}
    valid, rejected = validate_messages(messages, prefix=prefix, sensor_kinds=kinds, auto_register=auto_register)
    return _store_batch(session, valid.sensor_id, valid.kind, valid.unit, valid.t_us, valid.value, valid.quality,
                        rejected, source=source, received=len(messages), alarms=alarms, method=method)


def import_file(session: Session, path: str | Path, *, alarms: bool = True, batch_size: int = 200_000,
                method: str | None = None) -> IngestReport:
    """Import a tidy CSV (timestamp,sensor_id,value,unit[,quality]); bad rows go to quarantine with file:line."""
    from runze.telemetry.parse import parse_tidy_csv

    kinds = {s.sensor_id: s.kind for s in session.scalars(select(Sensor))}
    result = parse_tidy_csv(path, sensor_kinds=kinds or None, max_rejected=10_000_000,
                            reject_quality=("bad", "invalid", "0"))
    df = result.readings
    rejected = [Rejected(f"{r.file}:{r.line}", r.text, r.field, r.code, dict(r.params)) for r in result.rejected]
    report = IngestReport()
    quality = df["quality"].astype(str).str.lower()
    unknown_q = ~quality.isin(list(QUALITY_CODES))
    for _, row in df[unknown_q].iterrows():  # rare: flags the parser kept but the store has no code for
        rejected.append(Rejected(f"{path}:{row['line']}", str(row["quality"]), "quality", "telemetry.unknown_quality",
                                 {"flag": str(row["quality"]), "known": ", ".join(QUALITY_CODES)}))
    df = df[~unknown_q]
    quality = quality[~unknown_q].map(QUALITY_CODES).to_numpy(dtype=np.int16)
    t_us = to_us(df["timestamp"]) if len(df) else np.zeros(0, dtype=np.int64)
    sids = df["sensor_id"].astype(str).tolist()
    kinds_col = df["kind"].astype(str).tolist()
    units = df["unit"].astype(str).tolist()
    values = df["value"].to_numpy(dtype=float)
    for start in range(0, max(len(df), 1), batch_size):
        stop = start + batch_size
        part = _store_batch(session, sids[start:stop], kinds_col[start:stop], units[start:stop], t_us[start:stop],
                            values[start:stop], quality[start:stop], rejected if start == 0 else [],
                            source="file", received=len(sids[start:stop]) + (len(rejected) if start == 0 else 0),
                            alarms=alarms, method=method)
        report.add(part)
    return report


def _store_batch(session: Session, sids: list[str], kinds: list[str], units: list[str], t_us: np.ndarray,
                 values: np.ndarray, quality: np.ndarray, rejected: list[Rejected], *, source: str,
                 received: int, alarms: bool, method: str | None) -> IngestReport:
    report = IngestReport(received=received, quarantined=len(rejected))
    try:
        known = sensor_table(session)
        new_rows = {}
        for sid, kind, unit in zip(sids, kinds, units, strict=True):
            if sid not in known and sid not in new_rows:
                new_rows[sid] = {"sensor_id": sid, "kind": kind, "unit": unit, "role": role_of(sid, kind)}
        if new_rows:
            report.sensors_registered = register_sensors(session, new_rows.values())
            known = sensor_table(session)
        if sids:
            codes, inverse = np.unique(np.asarray(sids, dtype=object), return_inverse=True)
            keys = np.array([known[c].id for c in codes], dtype=np.int32)[inverse]
            batch = ReadingArrays.of(keys, t_us, values, quality)
            report.stored = write_readings(session.connection(), Reading.__table__, batch, method=method)
            report.duplicates = len(sids) - report.stored if report.stored >= 0 else 0
        if rejected:
            now = datetime.now(UTC)
            session.execute(insert(QuarantinedMessage), [
                {"received_at": r.received_at or now, "source": source, "origin": r.origin[:300],
                 "payload": r.payload, "field": r.field[:32], "reason_code": r.code[:64], "reason": r.reason,
                 "reason_zh": r.reason_zh} for r in rejected])
        if alarms and sids:
            frame = pd.DataFrame({"timestamp": pd.to_datetime(t_us, unit="us", utc=True), "sensor_id": sids,
                                  "value": values})
            events = run_alarm_engine(session, frame, known)
            report.alarm_events = [e.to_dict() for e in events]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


# ---- alarms -----------------------------------------------------------------------------------------------------
# the Settings.alarm_limits field each shared rule of alarm_logic.default_rules takes its limit from
SHARED_RULE_LIMITS = {"pressure_low": "pressure_low_mpa", "pressure_high": "pressure_high_mpa",
                      "outlet_turbidity_high": "outlet_turbidity_ntu"}


def alarm_rules(sensors: Iterable[Sensor], limits: AlarmLimits | None = None) -> list[alarm_logic.AlarmRule]:
    """The default rule set plus per-site rules for raw-water turbidity and tank levels.

    Thresholds come from `limits` (default: the process settings, RUNZE_ALARM_LIMITS), per plant or sensor where
    configured: a shared rule (low/high pressure, outlet turbidity) is split into one rule for the sensors on the
    default limit and one rule per sensor with a limit of its own (rule id "<rule>:<sensor>").
    """
    sensors = list(sensors)
    limits = limits if limits is not None else get_settings().alarm_limits
    rules = []
    for rule in alarm_logic.default_rules(limits=limits):
        name = SHARED_RULE_LIMITS.get(rule.rule_id)
        rules += [rule] if name is None else _split_by_site(rule, name, sensors, limits)
    raw = {s.sensor_id: limits.for_sensor("raw_turbidity_ntu", s.sensor_id) for s in sensors if s.role == "raw_water"}
    tanks = {s.sensor_id: limits.for_sensor("tank_min_level_m", s.sensor_id)
             for s in sensors if s.role == "tank" and s.kind == "level"}
    rules += alarm_logic.raw_turbidity_high(raw) if raw else []
    rules += alarm_logic.tank_low(tanks) if tanks else []
    return rules  # the silent rule sees gaps between readings; `check_silence(now)` sees sensors gone quiet


def _split_by_site(rule: alarm_logic.AlarmRule, name: str, sensors: list[Sensor],
                   limits: AlarmLimits) -> list[alarm_logic.AlarmRule]:
    matching = [s.sensor_id for s in sensors
                if rule.applies_to(alarm_logic.SensorInfo(s.sensor_id, s.kind, s.role))]
    own = {sid: v for sid in matching if (v := limits.site_value(name, sid)) is not None}
    if not own:
        return [rule]  # unchanged (and still open to sensors registered later)
    rest = tuple(sid for sid in matching if sid not in own)
    split = [replace(rule, sensor_ids=rest)] if rest else []
    return split + [replace(rule, rule_id=f"{rule.rule_id}:{sid}", limit=value, sensor_ids=(sid,))
                    for sid, value in own.items()]


def _as_engine_alarm(rec: AlarmRecord) -> dict:
    return {"alarm_id": rec.code, "rule_id": rec.rule_id, "sensor_id": rec.sensor_id, "condition": rec.condition,
            "severity": rec.severity, "raised_at": rec.raised_at.isoformat(), "raise_value": rec.raise_value,
            "message_key": rec.message_key, "params": rec.params,
            "acknowledged_at": rec.acknowledged_at.isoformat() if rec.acknowledged_at else None,
            "acknowledged_by": rec.acknowledged_by,
            "cleared_at": rec.cleared_at.isoformat() if rec.cleared_at else None, "clear_value": rec.clear_value,
            "incident_id": None, "work_order_id": None}


def _py_time(ts: Any) -> datetime | None:
    return None if ts is None else pd.Timestamp(ts).to_pydatetime()


def load_engine(session: Session, sensors: Mapping[str, Sensor] | None = None,
                ) -> tuple[alarm_logic.AlarmEngine, EngineState]:
    """The engine with its saved state and the active alarms (row-locked on PostgreSQL for this transaction)."""
    sensors = sensors if sensors is not None else sensor_table(session)
    row = session.get(EngineState, ENGINE, with_for_update=True)
    if row is None:
        row = EngineState(name=ENGINE, state={"counter": 0, "tracks": []})
        session.add(row)
    active = session.scalars(select(AlarmRecord).where(AlarmRecord.cleared_at.is_(None))).all()
    state = dict(row.state)
    state["alarms"] = [_as_engine_alarm(a) for a in active]
    infos = [alarm_logic.SensorInfo(s.sensor_id, s.kind, s.role) for s in sensors.values()]
    return alarm_logic.AlarmEngine.from_state(alarm_rules(sensors.values()), infos, state), row


def save_engine(session: Session, engine: alarm_logic.AlarmEngine, row: EngineState, touched: set[str]) -> None:
    existing = {a.code: a for a in session.scalars(select(AlarmRecord).where(AlarmRecord.code.in_(touched)))}
    for code in touched:
        alarm = engine.alarms[code]
        rec = existing.get(code) or AlarmRecord(code=code)
        rec.rule_id, rec.sensor_id, rec.condition, rec.severity = (alarm.rule_id, alarm.sensor_id, alarm.condition,
                                                                   alarm.severity)
        rec.status, rec.message_key, rec.params = alarm.status, alarm.message_key, dict(alarm.params)
        rec.raised_at, rec.raise_value = _py_time(alarm.raised_at), alarm.raise_value
        rec.cleared_at, rec.clear_value = _py_time(alarm.cleared_at), alarm.clear_value
        if code not in existing:
            session.add(rec)
    state = engine.export_state()
    state["alarms"] = []  # the alarm rows are the record; the engine gets the active ones back from them
    row.state = state
    session.flush()


def run_alarm_engine(session: Session, readings: pd.DataFrame, sensors: Mapping[str, Sensor] | None = None,
                     now: datetime | None = None) -> list[alarm_logic.AlarmEvent]:
    """Evaluate readings (any order) and persist the alarms they raise or clear; part of the caller's transaction."""
    engine, row = load_engine(session, sensors)
    events = engine.process(readings, now=None if now is None else pd.Timestamp(now))
    save_engine(session, engine, row, {e.alarm_id for e in events})
    return events


def check_silence(session: Session, now: datetime) -> list[alarm_logic.AlarmEvent]:
    """Raise silent-sensor alarms for sensors with no reading in the rule's window before `now`; commits.

    A sensor's clock starts at its last evaluated reading (sensors never heard from are not alarmed).  The next
    reading of a silent sensor clears its alarm.
    """
    try:
        engine, row = load_engine(session)
        events = engine.check_silence(pd.Timestamp(now))
        save_engine(session, engine, row, {e.alarm_id for e in events})
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return events


def get_alarm(session: Session, alarm_id: int) -> AlarmRecord:
    rec = session.get(AlarmRecord, alarm_id)
    if rec is None:
        raise NotFound(f"alarm {alarm_id} does not exist", message_zh=f"报警 {alarm_id} 不存在",
                       details={"entity": "alarm", "id": alarm_id})
    return rec


def list_alarms(session: Session, *, status: str | None = None, sensor_id: str | None = None,
                since: datetime | None = None, until: datetime | None = None, limit: int = 50,
                offset: int = 0) -> Page[AlarmRecord]:
    """Newest first.  status: a lifecycle status, "active" (not cleared) or "attention" (all but cleared)."""
    query = select(AlarmRecord).order_by(AlarmRecord.raised_at.desc(), AlarmRecord.id.desc())
    if status == "active":
        query = query.where(AlarmRecord.cleared_at.is_(None))
    elif status == "attention":
        query = query.where(AlarmRecord.status != "cleared")
    elif status:
        if status not in alarm_logic.STATUSES:
            raise InvalidInput(f"unknown status {status!r}", details={"field": "status"})
        query = query.where(AlarmRecord.status == status)
    if sensor_id:
        query = query.where(AlarmRecord.sensor_id == sensor_id)
    if since is not None:
        query = query.where(AlarmRecord.raised_at >= since)
    if until is not None:
        query = query.where(AlarmRecord.raised_at < until)
    return paginate(session, query, limit=limit, offset=offset)


@unit_of_work
def acknowledge_alarm(session: Session, actor: Actor, alarm_id: int, *, at: datetime | None = None) -> AlarmRecord:
    """Acknowledge (idempotent: a second acknowledgement keeps the first one's time and person)."""
    rec = get_alarm(session, alarm_id)
    if rec.acknowledged_at is None:
        before = audit.snapshot(rec)
        rec.acknowledged_at = (at or datetime.now(UTC)).astimezone(UTC)
        rec.acknowledged_by = actor.username
        rec.status = "acknowledged" if rec.cleared_at is None else "cleared"
        session.flush()
        audit.record(session, actor, "alarm.acknowledge", "alarm", rec.id, before=before, after=audit.snapshot(rec))
    return rec


@unit_of_work
def link_alarm(session: Session, actor: Actor, alarm_id: int, *, incident_id: int | None = None,
               work_order_id: int | None = None) -> AlarmRecord:
    rec = get_alarm(session, alarm_id)
    if incident_id is not None and session.get(Incident, incident_id) is None:
        raise InvalidInput(f"incident {incident_id} does not exist", message_zh="事件不存在",
                           details={"field": "incident_id"})
    if work_order_id is not None and session.get(WorkOrder, work_order_id) is None:
        raise InvalidInput(f"work order {work_order_id} does not exist", message_zh="工单不存在",
                           details={"field": "work_order_id"})
    before = audit.snapshot(rec)
    if incident_id is not None:
        rec.incident_id = incident_id
    if work_order_id is not None:
        rec.work_order_id = work_order_id
    session.flush()
    audit.record(session, actor, "alarm.link", "alarm", rec.id, before=before, after=audit.snapshot(rec))
    return rec


# ---- queries and export ------------------------------------------------------------------------------------------
def get_sensor(session: Session, sensor_id: str) -> Sensor:
    sensor = session.scalars(select(Sensor).where(Sensor.sensor_id == sensor_id)).one_or_none()
    if sensor is None:
        raise NotFound(f"sensor {sensor_id} does not exist", message_zh=f"测点 {sensor_id} 不存在",
                       details={"entity": "sensor", "id": sensor_id})
    return sensor


def query_readings(session: Session, sensor_id: str, *, start: datetime | None = None, end: datetime | None = None,
                   limit: int | None = None) -> pd.DataFrame:
    """A sensor's readings in time order (start inclusive, end exclusive): timestamp (UTC), value, quality."""
    sensor = get_sensor(session, sensor_id)
    query = select(Reading.t, Reading.value, Reading.quality).where(Reading.sensor_id == sensor.id)
    if start is not None:
        query = query.where(Reading.t >= start)
    if end is not None:
        query = query.where(Reading.t < end)
    query = query.order_by(Reading.t)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["timestamp", "value", "quality"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["quality"] = frame["quality"].map(QUALITY_NAMES).fillna("uncertain")
    frame.attrs.update(sensor_id=sensor.sensor_id, kind=sensor.kind)
    return frame


def export_csv(session: Session, sensor_id: str, path: str | Path, *, start: datetime | None = None,
               end: datetime | None = None, tz: str = "Asia/Shanghai") -> int:
    """Write a sensor's readings as tidy CSV (canonical unit, local times with offset); returns the row count."""
    from runze.telemetry.units import canonical_unit

    frame = query_readings(session, sensor_id, start=start, end=end)
    unit = canonical_unit(frame.attrs["kind"])
    local = frame["timestamp"].dt.tz_convert(tz)
    stamps = local.map(pd.Timestamp.isoformat)
    out = pd.DataFrame({"timestamp": stamps, "sensor_id": sensor_id, "value": frame["value"].map(repr),
                        "unit": unit, "quality": frame["quality"]})
    out.to_csv(path, index=False)
    return len(out)


def quarantine_count(session: Session) -> int:

    return int(session.scalar(select(func.count()).select_from(QuarantinedMessage)) or 0)


# ---- live twin --------------------------------------------------------------------------------------------------
def newest_reading_time(session: Session) -> datetime | None:
    """The time of the newest stored reading (None when there is none)."""
    return session.scalar(select(func.max(Reading.t)))


def latest_values(session: Session, at: datetime, *, window_s: float = 900.0) -> dict[str, float]:
    """Each sensor's last reading in (at - window, at], canonical units."""
    from datetime import timedelta

    rows = session.execute(
        select(Sensor.sensor_id, Reading.t, Reading.value).join(Sensor, Sensor.id == Reading.sensor_id)
        .where(Reading.t > at - timedelta(seconds=window_s), Reading.t <= at)).all()
    if not rows:
        return {}
    frame = pd.DataFrame(rows, columns=["sensor_id", "t", "value"]).sort_values(["sensor_id", "t"])
    last = frame.groupby("sensor_id", sort=False).tail(1)
    return dict(zip(last["sensor_id"], last["value"].astype(float), strict=True))


def run_twin(session: Session, network: Any, at: datetime, *, window_s: float = 900.0,
             network_name: str = "") -> TwinRun:
    """Run the live twin at `at` on the measurements around it and store the run and its residuals."""
    from runze.telemetry.twin import run_snapshot

    at = at.astimezone(UTC)
    measured = latest_values(session, at, window_s=window_s)
    run = TwinRun(at=at, network_name=network_name or getattr(network, "name", ""), status="ok",
                  summary={"measurements": len(measured)})
    try:
        result = run_snapshot(network, measured, at)
        run.summary = {**run.summary, **result.summary}
        run.status = "ok" if result.ok else "failed"
    except Exception as exc:  # a model that does not solve is a stored, failed run, not a crashed loop
        run.status, run.error, result = "failed", f"{type(exc).__name__}: {exc}"[:2000], None
    run.finished_at = datetime.now(UTC)
    session.add(run)
    session.flush()
    if result is not None and len(result.residuals):
        session.execute(insert(TwinResidual), [
            {"run_id": run.id, "sensor_id": r.sensor_id, "measured": r.measured, "modelled": r.modelled,
             "residual": r.residual} for r in result.residuals.itertuples()])
    session.commit()
    return run


def twin_residuals(session: Session, run_id: int) -> pd.DataFrame:
    rows = session.execute(select(TwinResidual.sensor_id, TwinResidual.measured, TwinResidual.modelled,
                                  TwinResidual.residual).where(TwinResidual.run_id == run_id)
                           .order_by(TwinResidual.sensor_id)).all()
    return pd.DataFrame(rows, columns=["sensor_id", "measured", "modelled", "residual"])
