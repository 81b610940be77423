"""/api/workorders: list (filters, pages), create, read, edit (optimistic locking), state transitions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from runze.ops import workorders as wo_ops
from runze.ops.auth import Actor
from runze.web.deps import (
    IfMatch,
    Limit,
    Offset,
    PathId,
    ReadSessionDep,
    SessionDep,
    expected_version,
    require,
)
from runze.web.errors import error_responses
from runze.web.responses import adapted_json, model_json
from runze.web.schemas.common import Page
from runze.web.schemas.workorders import (
    PAGE_ADAPTER,
    Edge,
    Kind,
    State,
    StateMachine,
    TransitionRequest,
    WorkOrderCreate,
    WorkOrderRead,
    WorkOrderUpdate,
    with_derived,
)

router = APIRouter(prefix="/workorders", tags=["workorders"], responses=error_responses(401, 403, 422))
NOT_NULL = ("title", "description", "priority")


# The routes below return their JSON themselves (runze.web.responses: no second validation, no second thread
# hop); response_model documents the body.  Reads go through the autocommit session and plain rows.
def _with_etag(wo: Any, status_code: int = 200) -> Response:
    return model_json(WorkOrderRead.of(wo), status_code=status_code, etag=wo.version)


@router.get("/states", response_model=StateMachine)
def state_machine(actor: Annotated[Actor, require("workorders:read")]) -> StateMachine:
    return StateMachine(
        states=list(wo_ops.STATES),
        final_states=sorted(wo_ops.FINAL_STATES),
        kinds=wo_ops.KIND_LABELS,
        edges=[Edge(source=a, target=b) for a, b in sorted(wo_ops.EDGES)],
        repair_kinds_must_isolate=sorted(wo_ops.REPAIR_KINDS),
        rules=wo_ops.__doc__ or "",
    )


@router.get("", response_model=Page[WorkOrderRead])
def list_work_orders(
    actor: Annotated[Actor, require("workorders:read")],
    session: ReadSessionDep,
    status: Annotated[list[State] | None, Query()] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    crew_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: Annotated[AwareDatetime | None, Query(description="reported at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="reported before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    page = wo_ops.list_work_order_reads(session, status=status, kind=kind, crew_id=crew_id, since=since,
                                        until=until, limit=limit, offset=offset)
    return adapted_json(PAGE_ADAPTER, {"items": [with_derived(w) for w in page.items], "total": page.total,
                                       "limit": page.limit, "offset": page.offset})


@router.post("", response_model=WorkOrderRead, status_code=201, responses=error_responses(409))
def create_work_order(body: WorkOrderCreate, actor: Annotated[Actor, require("workorders:create")],
                      session: SessionDep) -> Response:
    data = body.model_dump()
    data["assets"] = [a.model_dump() for a in body.assets]
    return _with_etag(wo_ops.create_work_order(session, actor, **data), status_code=201)


@router.get("/{wo_id}", response_model=WorkOrderRead, responses=error_responses(404))
def get_work_order(wo_id: PathId, actor: Annotated[Actor, require("workorders:read")],
                   session: ReadSessionDep) -> Response:
    record = wo_ops.read_work_order(session, wo_id)
    return model_json(WorkOrderRead.of_record(record), etag=record["version"])


@router.patch("/{wo_id}", response_model=WorkOrderRead, responses=error_responses(404, 409, 428))
def update_work_order(wo_id: PathId, body: WorkOrderUpdate, actor: Annotated[Actor, require("workorders:update")],
                      session: SessionDep, if_match: IfMatch = None) -> Response:
    version = expected_version(body.version, if_match)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    changes = {k: v for k, v in changes.items() if not (v is None and (k in NOT_NULL or k == "assets"))}
    return _with_etag(wo_ops.update_work_order(session, actor, wo_id, changes, expected_version=version))


@router.post("/{wo_id}/transitions", response_model=WorkOrderRead, responses=error_responses(404, 409, 428))
def transition(wo_id: PathId, body: TransitionRequest, actor: Annotated[Actor, require("workorders:transition")],
               session: SessionDep, if_match: IfMatch = None) -> Response:
    wo = wo_ops.transition(session, actor, wo_id, body.to, expected_version=expected_version(body.version, if_match),
                           at=body.at, crew_id=body.crew_id, reason=body.reason)
    return _with_etag(wo)
