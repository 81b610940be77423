"""Schemas of the connection (报装), party (党建) and report routes (issue 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from runze.ops import connections as conn_ops
from runze.ops import party as party_ops
from runze.ops.connections_logic import FINAL, STEPS
from runze.web.schemas.common import ORMModel

ID = Annotated[int, Field(ge=1, le=2**31 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MONTH_PATTERN = r"^(20\d\d|2100)-(0[1-9]|1[0-2])$"


def _plausible(when: datetime) -> datetime:
    # far-away years overflow when converted to UTC; no record of a water utility is from before 1970
    if not 1970 <= when.year <= 2100:
        raise ValueError("time must be between 1970 and 2100")
    return when


When = Annotated[AwareDatetime, AfterValidator(_plausible)]
CustomerKind = Literal[conn_ops.CUSTOMER_KINDS]  # type: ignore[valid-type]
Use = Literal[conn_ops.USES]  # type: ignore[valid-type]
Step = Literal[STEPS + FINAL[1:]]  # type: ignore[valid-type]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


# ---- connections --------------------------------------------------------------------------------------
class ApplicationCreate(BaseModel):
    applicant: str = Field(min_length=1, max_length=128)
    address: Text200
    customer_kind: CustomerKind
    use: Use
    size_dn: Literal[conn_ops.SIZES_DN] = 20  # type: ignore[valid-type]
    phone: str | None = Field(default=None, max_length=32)
    network_version_id: ID | None = None
    node_id: str | None = Field(default=None, min_length=1, max_length=64)
    dma: str | None = Field(default=None, max_length=64)
    submitted_at: When | None = Field(default=None, description="default: now")
    owner_id: ID | None = None
    owner_name: str | None = Field(default=None, max_length=128)
    cost_yuan: Finite = Field(default=0.0, ge=0, le=1e8)
    customer_visits: int = Field(default=0, ge=0, le=1000)
    documents: int = Field(default=0, ge=0, le=1000)
    approvals: int = Field(default=0, ge=0, le=1000)
    note: str = Field(default="", max_length=5000)


class ApplicationUpdate(BaseModel):
    applicant: str | None = Field(default=None, min_length=1, max_length=128)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    cost_yuan: Finite | None = Field(default=None, ge=0, le=1e8)
    customer_visits: int | None = Field(default=None, ge=0, le=1000)
    documents: int | None = Field(default=None, ge=0, le=1000)
    approvals: int | None = Field(default=None, ge=0, le=1000)
    note: str | None = Field(default=None, max_length=5000)
    work_order_id: ID | None = None
    version: ID | None = Field(default=None, description="the version you read (or If-Match)")


class StepRequest(BaseModel):
    to: Step
    at: When | None = Field(default=None, description="when the step was entered; default now")
    owner_id: ID | None = None
    owner_name: str | None = Field(default=None, max_length=128)
    note: str = Field(default="", max_length=5000)
    version: ID | None = Field(default=None, description="the version you read (or If-Match)")


class StepRead(BaseModel):
    step: str
    entered_at: datetime
    left_at: datetime | None
    owner_id: int | None
    owner_name: str
    note: str
    workdays: float | None
    limit_workdays: float | None
    deadline: datetime | None


class ApplicationRead(ORMModel):
    id: int
    code: str
    applicant: str
    phone: str | None
    address: str
    customer_kind: str
    use: str
    size_dn: int
    network_version_id: int | None
    node_id: str | None
    dma: str | None
    current_step: str
    cost_yuan: float
    customer_visits: int
    documents: int
    approvals: int
    work_order_id: int | None
    note: str
    submitted_at: datetime
    completed_at: datetime | None
    closed_at: datetime | None
    version: int
    steps: list[StepRead]
    workdays_total: float
    calendar_days_total: float
    procedures: int
    next_steps: list[str]
    overdue: list[dict[str, Any]]

    @classmethod
    def of(cls, app: Any) -> ApplicationRead:
        data = {name: getattr(app, name) for name in cls.model_fields if hasattr(app, name) and name != "steps"}
        data["code"] = conn_ops.code_of(app)
        data.update(conn_ops.timeline(app))
        return cls(**data)


# ---- party ----------------------------------------------------------------------------------------------
class BranchCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    kind: Literal[party_ops.BRANCH_KINDS] = "standing"  # type: ignore[valid-type]
    project: str | None = Field(default=None, max_length=200)
    secretary_user_id: ID | None = None


class BranchRead(ORMModel):
    id: int
    name: str
    kind: str
    project: str | None
    secretary_user_id: int | None
    is_active: bool


class MemberCreate(BaseModel):
    branch_id: ID
    name: str = Field(min_length=1, max_length=128)
    status: Literal[party_ops.MEMBER_STATUSES] = "full"  # type: ignore[valid-type]
    user_id: ID | None = None
    crew_member_id: ID | None = None
    joined_at: When | None = None


class MemberRead(ORMModel):
    id: int
    branch_id: int
    name: str
    status: str
    user_id: int | None
    crew_member_id: int | None
    joined_at: datetime | None
    is_active: bool


class PostCreate(BaseModel):
    member_id: ID
    title: Text200
    area_kind: Literal[party_ops.AREA_KINDS]  # type: ignore[valid-type]
    area: str = Field(min_length=1, max_length=128)
    since: When | None = None


class PostRead(ORMModel):
    id: int
    member_id: int
    title: str
    area_kind: str
    area: str
    since: datetime
    until: datetime | None


class ActivityCreate(BaseModel):
    branch_id: ID
    kind: Literal[party_ops.ACTIVITY_KINDS]  # type: ignore[valid-type]
    title: Text200
    held_at: When
    place: str = Field(default="", max_length=200)
    minutes: str = Field(default="", max_length=50000)
    attendance: dict[Annotated[int, Field(ge=1, le=2**31 - 1)],
                     Literal[party_ops.ATTENDANCE]] = Field(default_factory=dict)  # type: ignore[valid-type]


class AttendanceRead(ORMModel):
    member_id: int
    status: str


class ActivityRead(ORMModel):
    id: int
    branch_id: int
    kind: str
    title: str
    held_at: datetime
    place: str
    minutes: str
    attendance: list[AttendanceRead]


class ParticipationCreate(BaseModel):
    member_id: ID
    work_order_id: ID | None = None
    incident_id: ID | None = None
    role: Literal[party_ops.PARTICIPATION_ROLES] = "member"  # type: ignore[valid-type]
    hours: Finite | None = Field(default=None, ge=0, le=72)
    note: str = Field(default="", max_length=2000)


class ParticipationRead(ORMModel):
    id: int
    member_id: int
    work_order_id: int | None
    incident_id: int | None
    role: str
    hours: float | None
    note: str


class CalloutCreate(BaseModel):
    crew_id: ID
    incident_id: ID | None = None
    work_order_id: ID | None = None
    called_at: When | None = None
    led_response: bool = False
    note: str = Field(default="", max_length=2000)


class CalloutRead(ORMModel):
    id: int
    crew_id: int
    incident_id: int | None
    work_order_id: int | None
    called_at: datetime
    led_response: bool
    note: str


class CriterionIn(BaseModel):
    key: str = Field(min_length=1, max_length=32)
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    weight: Finite = Field(ge=0, le=100)
    min_score: Finite = Field(default=0.0, ge=-1000, le=1000)
    max_score: Finite = Field(default=100.0, ge=-1000, le=1000)


class EntryIn(BaseModel):
    contestant: str = Field(min_length=1, max_length=128)
    member_id: ID | None = None
    lecture_title: str = Field(default="", max_length=200)


class CompetitionCreate(BaseModel):
    title: Text200
    held_at: When
    judges: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=30)
    entries: list[EntryIn] = Field(min_length=1, max_length=200)
    criteria: list[CriterionIn] | None = Field(default=None, min_length=1, max_length=20)
    prize_bands: list[tuple[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=1, le=1000)],
                            Annotated[int, Field(ge=1, le=1000)]]] | None = Field(default=None, max_length=20)
    trim_min_judges: int = Field(default=5, ge=3, le=30)
    tie_breaks: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=10)


class ScoreSheet(BaseModel):
    judge: str = Field(min_length=1, max_length=64)
    scores: dict[Annotated[int, Field(ge=1, le=2**31 - 1)],
                 dict[Annotated[str, Field(max_length=32)], Finite]] = Field(
        description="entry id → criterion key → score")
    version: ID | None = Field(default=None, description="the version you read (or If-Match)")


class VersionOnly(BaseModel):
    version: ID = Field(description="the version you read")


class EntryRead(ORMModel):
    id: int
    contestant: str
    member_id: int | None
    lecture_title: str


class CompetitionRead(ORMModel):
    id: int
    title: str
    held_at: datetime
    config: dict[str, Any]
    judges: list[str]
    scores: dict[str, Any]
    status: str
    result: dict[str, Any] | None
    version: int
    entries: list[EntryRead]


# ---- report inputs --------------------------------------------------------------------------------------
Volume = Annotated[float, Field(ge=0, le=1e10, allow_inf_nan=False)]


class VolumesIn(BaseModel):
    system_input_m3: Volume = Field(gt=0, description="plant outflow meters, m³ in the month")
    billed_metered_m3: Volume
    billed_unmetered_m3: Volume = 0.0
    unbilled_metered_m3: Volume = 0.0
    unbilled_unmetered_m3: Volume = 0.0
    unauthorised_m3: Volume = 0.0
    meter_inaccuracy_m3: Volume = 0.0
    data_errors_m3: Volume = 0.0
    real_losses_m3: Volume | None = Field(default=None, description="independent estimate; none: the residual")
    mains_km: Volume
    service_connections: int = Field(ge=0, le=10**8)
    private_pipe_km: Volume = 0.0
    mean_pressure_m: Annotated[float, Field(ge=0, le=300, allow_inf_nan=False)] | None = None
    mean_outlet_pressure_mpa: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)] | None = None
    household_metered_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    source: str = Field(default="manual", max_length=64)


class VolumesRead(ORMModel):
    month: str
    system_input_m3: float
    billed_metered_m3: float
    billed_unmetered_m3: float
    unbilled_metered_m3: float
    unbilled_unmetered_m3: float
    unauthorised_m3: float
    meter_inaccuracy_m3: float
    data_errors_m3: float
    real_losses_m3: float | None
    mains_km: float
    service_connections: int
    private_pipe_km: float
    mean_pressure_m: float | None
    mean_outlet_pressure_mpa: float | None
    household_metered_share: float | None
    source: str
    updated_at: datetime


class SampleIn(BaseModel):
    taken_at: When
    point: str = Field(min_length=1, max_length=64)
    role: Literal["plant_outlet", "tap"]
    turbidity_ntu: Annotated[float, Field(ge=0, le=10000, allow_inf_nan=False)]


class SamplesIn(BaseModel):
    samples: list[SampleIn] = Field(min_length=1, max_length=10000)


class Added(BaseModel):
    added: int
