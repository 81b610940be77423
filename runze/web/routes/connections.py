"""/api/connections: new water connections (报装, 五零): applications, their steps, 获得用水 figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from runze.ops import connections as conn_ops
from runze.ops.auth import Actor
from runze.ops.reports import jsonable
from runze.web.deps import IfMatch, Limit, Offset, PathId, SessionDep, expected_version, require
from runze.web.errors import error_responses
from runze.web.schemas.common import Page
from runze.web.schemas.service_party import (
    MONTH_PATTERN,
    ApplicationCreate,
    ApplicationRead,
    ApplicationUpdate,
    CustomerKind,
    Step,
    StepRequest,
    When,
)

router = APIRouter(prefix="/connections", tags=["connections"], responses=error_responses(401, 403, 422))
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (local time)")]


def _with_etag(response: Response, app: Any) -> ApplicationRead:
    response.headers["ETag"] = f'"{app.version}"'
    return ApplicationRead.of(app)


@router.get("", response_model=Page[ApplicationRead])
def list_applications(actor: Annotated[Actor, require("connections:read")], session: SessionDep,
                      step: Step | None = None, customer_kind: CustomerKind | None = None,
                      dma: Annotated[str | None, Query(max_length=64)] = None,
                      since: Annotated[When | None, Query(description="submitted at or after")] = None,
                      until: Annotated[When | None, Query(description="submitted before")] = None,
                      limit: Limit = 50, offset: Offset = 0) -> dict:
    page = conn_ops.list_applications(session, step=step, customer_kind=customer_kind, dma=dma, since=since,
                                      until=until, limit=limit, offset=offset)
    return {"items": [ApplicationRead.of(a) for a in page.items], "total": page.total, "limit": page.limit,
            "offset": page.offset}


@router.post("", response_model=ApplicationRead, status_code=201, responses=error_responses(409))
def create_application(body: ApplicationCreate, actor: Annotated[Actor, require("connections:manage")],
                       session: SessionDep, response: Response) -> ApplicationRead:
    return _with_etag(response, conn_ops.create_application(session, actor, **body.model_dump()))


@router.get("/figures", response_model=dict[str, Any])
def figures(month: Month, actor: Annotated[Actor, require("connections:read")], session: SessionDep) -> dict:
    """获得用水 of a month: procedures, working days and cost by customer kind; open and overdue applications."""
    return jsonable(conn_ops.monthly_figures(session, month))


@router.get("/{app_id}", response_model=ApplicationRead, responses=error_responses(404))
def get_application(app_id: PathId, actor: Annotated[Actor, require("connections:read")], session: SessionDep,
                    response: Response) -> ApplicationRead:
    return _with_etag(response, conn_ops.get_application(session, app_id))


@router.patch("/{app_id}", response_model=ApplicationRead, responses=error_responses(404, 409, 428))
def update_application(app_id: PathId, body: ApplicationUpdate,
                       actor: Annotated[Actor, require("connections:manage")], session: SessionDep,
                       response: Response, if_match: IfMatch = None) -> ApplicationRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    changes = {k: v for k, v in changes.items() if v is not None or k in ("phone", "work_order_id")}
    app = conn_ops.update_application(session, actor, app_id, changes,
                                      expected_version=expected_version(body.version, if_match))
    return _with_etag(response, app)


@router.post("/{app_id}/steps", response_model=ApplicationRead, responses=error_responses(404, 409, 428))
def advance(app_id: PathId, body: StepRequest, actor: Annotated[Actor, require("connections:manage")],
            session: SessionDep, response: Response, if_match: IfMatch = None) -> ApplicationRead:
    app = conn_ops.advance(session, actor, app_id, body.to, expected_version=expected_version(body.version, if_match),
                           at=body.at, owner_id=body.owner_id, owner_name=body.owner_name, note=body.note)
    return _with_etag(response, app)
