"""Work-order schemas: create, update (with the version it is based on), transition request, read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

from runze.ops import workorders as wo_ops
from runze.web.schemas.common import ORMModel, Page

Kind = Literal[wo_ops.KINDS]  # type: ignore[valid-type]
State = Literal[wo_ops.STATES]  # type: ignore[valid-type]


class AssetRef(BaseModel):
    category: Literal["node", "link"]
    asset_id: str = Field(min_length=1, max_length=64)


class WorkOrderCreate(BaseModel):
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    priority: int = Field(default=2, ge=1, le=3, description="1 urgent, 2 normal, 3 low")
    address: str | None = Field(default=None, max_length=200)
    reported_at: AwareDatetime | None = Field(default=None, description="default: now")
    network_version_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    assets: list[AssetRef] = Field(default_factory=list, max_length=1000)
    outage_plan: dict[str, Any] | None = None
    crew_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class WorkOrderUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    priority: int | None = Field(default=None, ge=1, le=3)
    address: str | None = Field(default=None, max_length=200)
    network_version_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    assets: list[AssetRef] | None = Field(default=None, max_length=1000)
    outage_plan: dict[str, Any] | None = None
    crew_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the version you read (or If-Match)")


class TransitionRequest(BaseModel):
    to: State
    at: AwareDatetime | None = Field(default=None, description="when the step happened; default now")
    crew_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="for `dispatched`")
    reason: str | None = Field(default=None, max_length=2000, description="required for `cancelled`")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the version you read (or If-Match)")


class Durations(BaseModel):
    time_to_dispatch_s: float | None
    time_to_site_s: float | None
    time_without_water_s: float | None
    repair_s: float | None
    total_s: float | None


class WorkOrderRead(ORMModel):
    id: int
    code: str
    kind: str
    status: str
    title: str
    description: str
    priority: int
    address: str | None
    network_version_id: int | None
    assets: list[AssetRef]
    outage_plan: dict[str, Any] | None
    crew_id: int | None
    crew_name: str | None
    cancel_reason: str | None
    reported_at: datetime
    dispatched_at: datetime | None
    on_site_at: datetime | None
    isolated_at: datetime | None
    repaired_at: datetime | None
    restored_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    version: int
    durations: Durations
    next_states: list[str]

    @classmethod
    def of(cls, wo: Any) -> WorkOrderRead:
        """The reading of a mapped WorkOrder (what the write use cases return)."""
        data = {name: getattr(wo, name) for name in _COPIED}
        data["assets"] = [{"category": a.category, "asset_id": a.asset_id} for a in wo.assets]
        data["crew_name"] = wo.crew.name if wo.crew is not None else None
        return cls.of_record(data)

    @classmethod
    def of_record(cls, data: dict[str, Any]) -> WorkOrderRead:
        """The reading of a plain record (runze.ops.workorders.read_work_order); `data` gains the derived fields."""
        return cls.model_validate(with_derived(data))


def with_derived(data: dict[str, Any]) -> dict[str, Any]:
    """Add the fields computed from a record's columns: code, durations, next states."""
    data["code"] = wo_ops.code_of_id(data["id"])
    data["durations"] = wo_ops.step_durations(data)
    data["next_states"] = wo_ops.legal_next(data["kind"], data["status"], isolated=data["isolated_at"] is not None)
    return data


class Edge(BaseModel):
    source: str
    target: str


class StateMachine(BaseModel):
    states: list[str]
    final_states: list[str]
    kinds: dict[str, str]
    edges: list[Edge]
    repair_kinds_must_isolate: list[str]
    rules: str


# the fields read straight off the record (a page of 50 orders reads each of these 50 times: no hasattr probing)
_COPIED = tuple(name for name in WorkOrderRead.model_fields
                if name not in {"assets", "code", "crew_name", "durations", "next_states"})

# a page validated in one call from plain dicts (pydantic's core walks the list; no model built twice)
PAGE_ADAPTER: TypeAdapter[Page[WorkOrderRead]] = TypeAdapter(Page[WorkOrderRead])
