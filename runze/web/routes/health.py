"""GET /api/health: is the service up and is its database reachable and at the code's schema revision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from runze.ops import database as db_ops
from runze.ops.database import Database
from runze.web.deps import get_database, public

router = APIRouter(prefix="/health", tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    code_revision: str | None


@router.get("", response_model=Health, dependencies=[public()])
def health(db: Annotated[Database, Depends(get_database)]) -> JSONResponse:
    try:
        db_ops.ping(db)
        current, head = db_ops.schema_state(db)
    except Exception as exc:  # the point of a health check: report, do not raise
        body = Health(status="down", database=f"unreachable: {type(exc).__name__}", schema_revision=None,
                      code_revision=None)
        return JSONResponse(body.model_dump(), status_code=503)
    ok = current == head
    body = Health(status="ok" if ok else "degraded", database="ok" if ok else "needs `runze init` (migration)",
                  schema_revision=current, code_revision=head)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
