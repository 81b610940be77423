"""Entering the monthly report's own inputs: a month's booked volumes (water balance) and turbidity samples.

A month's volumes are replaced as a whole (PUT semantics): the plant-meter and billing figures of a month are
corrected by booking the month again, and the audit log keeps the version before.  Each value is checked
(finite, ≥ 0, shares within 0..1) and a bad one is named by its field; whether the balance closes is judged by
the report, which shows the mismatch instead of refusing the figures (the utility must be able to see it).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops._tx import unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput
from runze.ops.months import parse_month
from runze.store.report_models import MonthlyVolumes, QualitySample

VOLUME_FIELDS = ("system_input_m3", "billed_metered_m3", "billed_unmetered_m3", "unbilled_metered_m3",
                 "unbilled_unmetered_m3", "unauthorised_m3", "meter_inaccuracy_m3", "data_errors_m3",
                 "real_losses_m3", "mains_km", "private_pipe_km", "mean_pressure_m", "mean_outlet_pressure_mpa")
REQUIRED = ("system_input_m3", "billed_metered_m3", "mains_km", "service_connections")
SAMPLE_ROLES = ("plant_outlet", "tap")


def _check_number(field: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int | float) or not math.isfinite(float(value)) or value < 0:
        raise InvalidInput(f"{field} must be a finite number >= 0, got {value!r}", message_zh=f"{field} 须为非负数",
                           details={"field": field})


def list_volumes(session: Session) -> list[MonthlyVolumes]:
    return list(session.scalars(select(MonthlyVolumes).order_by(MonthlyVolumes.month)))


@unit_of_work
def put_volumes(session: Session, actor: Actor, month: str, values: dict[str, Any]) -> MonthlyVolumes:
    """Book (or re-book) a month's volumes and utility facts."""
    parse_month(month)
    missing = [f for f in REQUIRED if values.get(f) is None]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}", message_zh="缺少必填数据", details={"field": missing[0]})
    unknown = set(values) - set(VOLUME_FIELDS) - {"service_connections", "household_metered_share", "source"}
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}", details={"fields": sorted(unknown)})
    for field in (*VOLUME_FIELDS, "service_connections", "household_metered_share"):
        _check_number(field, values.get(field))
    share = values.get("household_metered_share")
    if share is not None and share > 1:
        raise InvalidInput("household_metered_share is a share 0..1", details={"field": "household_metered_share"})
    if values["system_input_m3"] <= 0:
        raise InvalidInput("system_input_m3 must be > 0", message_zh="供水量须大于0", details={"field": "system_input_m3"})
    row = session.scalar(select(MonthlyVolumes).where(MonthlyVolumes.month == month))
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = MonthlyVolumes(month=month)
        session.add(row)
    for field in (*VOLUME_FIELDS, "service_connections", "household_metered_share"):
        default = None if field in ("real_losses_m3", "mean_pressure_m", "mean_outlet_pressure_mpa",
                                    "household_metered_share") else 0.0
        value = values.get(field, default)
        setattr(row, field, int(value) if field == "service_connections" else value)
    row.source = values.get("source") or "manual"
    row.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, actor, "report.volumes.put", "report_monthly_volumes", month, before=before,
                 after=audit.snapshot(row))
    return row


@unit_of_work
def add_samples(session: Session, actor: Actor, samples: list[dict[str, Any]]) -> int:
    """Turbidity results: each {taken_at (aware), point, role plant_outlet|tap, turbidity_ntu ≥ 0}."""
    rows = []
    for i, s in enumerate(samples):
        taken = s.get("taken_at")
        if not isinstance(taken, datetime) or taken.tzinfo is None or taken.utcoffset() is None:
            raise InvalidInput(f"sample {i}: taken_at must carry a UTC offset", details={"field": f"samples[{i}].taken_at"})
        if s.get("role") not in SAMPLE_ROLES:
            raise InvalidInput(f"sample {i}: role must be one of {SAMPLE_ROLES}", details={"field": f"samples[{i}].role"})
        _check_number(f"samples[{i}].turbidity_ntu", s.get("turbidity_ntu"))
        rows.append(QualitySample(taken_at=taken.astimezone(UTC), point=s["point"], role=s["role"],
                                  turbidity_ntu=float(s["turbidity_ntu"])))
    session.add_all(rows)
    session.flush()
    audit.record(session, actor, "report.samples.add", "report_quality_samples", len(rows),
                 after={"count": len(rows), "points": sorted({r.point for r in rows})[:50]})
    return len(rows)
