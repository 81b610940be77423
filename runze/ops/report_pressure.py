"""Where the monthly report's pressure and turbidity figures come from: telemetry when it covers the month,
else a labelled substitute (a 24 h EPANET run of the stored network for pressure, lab samples for turbidity).

Telemetry is read through plain SQL on `telemetry_sensors`/`telemetry_readings` when those tables exist (issue 9
adds them), so this module works on databases with and without them.  Values there are canonical (MPa, NTU).
The simulation is the model, not a measurement: the report names the source of every figure.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from runze.store import NetworkVersion
from runze.store.report_models import QualitySample

M_PER_PSI = 0.70307
MPA_PER_M = 0.00980665  # 1 m of water head
US_FLOW_UNITS = {0, 1, 2, 3, 4}  # CFS GPM MGD IMGD AFD: pressures in psi


def has_telemetry(session: Session) -> bool:
    names = set(inspect(session.get_bind()).get_table_names())
    return {"telemetry_sensors", "telemetry_readings"} <= names


def telemetry_readings(session: Session, kind: str, roles: tuple[str | None, ...], start: datetime,
                       end: datetime) -> pd.DataFrame:
    """timestamp, sensor_id, role, value of stored readings of `kind` from sensors with one of `roles`."""
    if not has_telemetry(session):
        return pd.DataFrame(columns=["timestamp", "sensor_id", "role", "value"])
    rows = session.execute(text(
        "SELECT r.t, s.sensor_id, s.role, r.value FROM telemetry_readings r JOIN telemetry_sensors s "
        "ON s.id = r.sensor_id WHERE s.kind = :kind AND r.t >= :start AND r.t < :end"),
        {"kind": kind, "start": _bind_time(session, start), "end": _bind_time(session, end)}).all()
    frame = pd.DataFrame(rows, columns=["timestamp", "sensor_id", "role", "value"])
    if frame.empty:
        return frame
    keep = frame["role"].isin([r for r in roles if r is not None])
    if None in roles:  # sensors without a role: network loggers as most deployments name them
        keep |= frame["role"].isna()
    return frame[keep]


def _bind_time(session: Session, when: datetime) -> Any:
    # SQLite stores naive UTC (runze.store.base.UTCDateTime); PostgreSQL compares timestamptz
    return when.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else when


def quality_samples(session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    rows = session.execute(select(QualitySample.taken_at, QualitySample.point, QualitySample.role,
                                  QualitySample.turbidity_ntu).where(QualitySample.taken_at >= start,
                                                                     QualitySample.taken_at < end)).all()
    return pd.DataFrame(rows, columns=["timestamp", "sensor_id", "role", "value"])


def latest_network(session: Session) -> NetworkVersion | None:
    return session.scalar(select(NetworkVersion).order_by(NetworkVersion.created_at.desc(),
                                                         NetworkVersion.id.desc()).limit(1))


def simulated_pressures(version: NetworkVersion) -> dict[str, Any]:
    """Hourly pressures (MPa) over one day at the network's pressure loggers (sidecar sensors `PL…`), else at
    every junction with a demand: a 24 h EPANET 2.3 run of the stored .inp."""
    loggers = tuple(sorted({s["element"] for s in (version.sidecar or {}).get("sensors", [])
                            if s.get("kind") == "pressure" and str(s.get("id", "")).startswith("PL")}))
    return _simulate(version.id, version.inp_text, loggers)


@lru_cache(maxsize=4)  # a stored version never changes: one run per version and process
def _simulate(version_id: int, inp_text: str, loggers: tuple[str, ...]) -> dict[str, Any]:
    from epanet import toolkit as en

    with tempfile.TemporaryDirectory() as tmp:
        inp, rpt = Path(tmp) / "net.inp", Path(tmp) / "net.rpt"
        inp.write_text(inp_text, encoding="utf-8")
        ph = en.createproject()
        try:
            en.open(ph, str(inp), str(rpt), "")
            en.settimeparam(ph, en.DURATION, 24 * 3600)
            to_m = M_PER_PSI if en.getflowunits(ph) in US_FLOW_UNITS else 1.0
            count = en.getcount(ph, en.NODECOUNT)
            ids = [en.getnodeid(ph, i) for i in range(1, count + 1)]
            is_junction = np.array([en.getnodetype(ph, i) == en.JUNCTION for i in range(1, count + 1)])
            if loggers:
                chosen = np.array([i for i, node in enumerate(ids) if node in set(loggers)], dtype=int)
            else:
                demand = np.array([en.getnodevalue(ph, i, en.BASEDEMAND) for i in range(1, count + 1)])
                chosen = np.flatnonzero(is_junction & (demand > 0))
            en.openH(ph)
            en.initH(ph, 0)
            rows, times = [], []
            while True:
                t = en.runH(ph)
                if t % 3600 == 0 and t < 24 * 3600 and t not in times:
                    rows.append([en.getnodevalue(ph, int(i) + 1, en.PRESSURE) for i in chosen])
                    times.append(t)
                if en.nextH(ph) <= 0:
                    break
            en.closeH(ph)
        finally:
            en.close(ph)
            en.deleteproject(ph)
    pressures_m = np.asarray(rows, dtype=float) * to_m
    nodes = [ids[int(i)] for i in chosen]
    frame = pd.DataFrame(pressures_m * MPA_PER_M, columns=nodes)
    frame.index = pd.Index(np.asarray(times) / 3600.0, name="hour")
    long = frame.stack().rename("value").reset_index().rename(columns={"level_1": "sensor_id"})
    return {"readings": long[["sensor_id", "value"]], "points": len(nodes), "hours": len(times),
            "mean_pressure_m": float(pressures_m.mean()) if pressures_m.size else None,
            "at_loggers": bool(loggers)}
