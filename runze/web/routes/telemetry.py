"""/api/telemetry: sensors, readings of a sensor (time order), alarms (list, acknowledge, link)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from runze.ops import telemetry as telemetry_ops
from runze.ops.auth import Actor
from runze.web.deps import Limit, Offset, PathId, SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.common import ORMModel, Page, page_of

router = APIRouter(prefix="/telemetry", tags=["telemetry"], responses=error_responses(401, 403, 422))
SensorId = Annotated[str, Query(min_length=1, max_length=64, description="sensor id, e.g. PL001")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class SensorRead(ORMModel):
    sensor_id: str
    kind: str
    unit: str
    role: str | None
    element: str | None
    name: str


class ReadingRow(BaseModel):
    t: datetime
    value: float
    quality: str


class Readings(BaseModel):
    sensor_id: str
    kind: str
    unit: str = Field(description="canonical unit of the kind (MPa, m3/h, m, NTU)")
    readings: list[ReadingRow]


class AlarmRead(ORMModel):
    id: int
    code: str
    rule_id: str
    sensor_id: str
    condition: str
    severity: str
    status: str
    message_key: str
    params: dict[str, Any]
    raised_at: datetime
    raise_value: float | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    clear_value: float | None
    incident_id: int | None
    work_order_id: int | None


class AlarmAck(BaseModel):
    at: AwareDatetime | None = None


class AlarmLink(BaseModel):
    incident_id: Id | None = None
    work_order_id: Id | None = None


@router.get("/sensors", response_model=list[SensorRead])
def list_sensors(actor: Annotated[Actor, require("telemetry:read")], session: SessionDep) -> list[SensorRead]:
    sensors = sorted(telemetry_ops.sensor_table(session).values(), key=lambda s: s.sensor_id)
    return [SensorRead.model_validate(s) for s in sensors]


@router.get("/readings", response_model=Readings, responses=error_responses(404))
def get_readings(
    actor: Annotated[Actor, require("telemetry:read")],
    session: SessionDep,
    sensor_id: SensorId,
    since: Annotated[AwareDatetime | None, Query(description="from (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="to (exclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Readings:
    from runze.telemetry.units import canonical_unit

    frame = telemetry_ops.query_readings(session, sensor_id, start=since, end=until, limit=limit)
    rows = [ReadingRow(t=t.to_pydatetime(), value=v, quality=q)
            for t, v, q in zip(frame["timestamp"], frame["value"], frame["quality"], strict=True)]
    kind = frame.attrs["kind"]
    return Readings(sensor_id=sensor_id, kind=kind, unit=canonical_unit(kind), readings=rows)


@router.get("/alarms", response_model=Page[AlarmRead])
def list_alarms(
    actor: Annotated[Actor, require("telemetry:read")],
    session: SessionDep,
    status: Annotated[str | None, Query(
        pattern="^(active|attention|raised|acknowledged|cleared|cleared_unacknowledged)$")] = None,
    sensor_id: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    page = telemetry_ops.list_alarms(session, status=status, sensor_id=sensor_id, since=since, until=until,
                                     limit=limit, offset=offset)
    return page_of(AlarmRead, page)


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmRead, responses=error_responses(404))
def acknowledge(alarm_id: PathId, body: AlarmAck, actor: Annotated[Actor, require("alarms:manage")],
                session: SessionDep) -> AlarmRead:
    return AlarmRead.model_validate(telemetry_ops.acknowledge_alarm(session, actor, alarm_id, at=body.at))


@router.post("/alarms/{alarm_id}/link", response_model=AlarmRead, responses=error_responses(404))
def link(alarm_id: PathId, body: AlarmLink, actor: Annotated[Actor, require("alarms:manage")],
         session: SessionDep) -> AlarmRead:
    rec = telemetry_ops.link_alarm(session, actor, alarm_id, incident_id=body.incident_id,
                                   work_order_id=body.work_order_id)
    return AlarmRead.model_validate(rec)
