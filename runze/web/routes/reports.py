"""/api/reports: the monthly evaluation report (月度考核报告) as JSON, HTML or PDF, and its own inputs (a month's
booked volumes for the water balance, turbidity samples)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from runze.ops import report_inputs, report_render, reports
from runze.ops.auth import Actor
from runze.web.deps import SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.service_party import MONTH_PATTERN, Added, SamplesIn, VolumesIn, VolumesRead

router = APIRouter(prefix="/reports", tags=["reports"], responses=error_responses(401, 403, 422))
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (local time)")]


@router.get("/monthly", response_model=dict[str, Any])
def monthly(month: Month, actor: Annotated[Actor, require("reports:read")], session: SessionDep) -> dict:
    """Headline KPIs, warnings (a water balance that does not close is an error here) and every section."""
    return reports.jsonable(reports.monthly_report(session, month))


@router.get("/monthly.html", response_class=Response,
            responses={200: {"content": {"text/html": {}}, "description": "the report as an HTML page"}})
def monthly_html(month: Month, actor: Annotated[Actor, require("reports:read")], session: SessionDep) -> Response:
    html = report_render.render_html(reports.monthly_report(session, month))
    return Response(html, media_type="text/html; charset=utf-8")


@router.get("/monthly.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the report as a PDF"}})
def monthly_pdf(month: Month, actor: Annotated[Actor, require("reports:read")], session: SessionDep) -> Response:
    pdf = report_render.render_pdf(reports.monthly_report(session, month))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="runze-report-{month}.pdf"'})


@router.get("/volumes", response_model=list[VolumesRead])
def list_volumes(actor: Annotated[Actor, require("reports:read")], session: SessionDep) -> list[VolumesRead]:
    return [VolumesRead.model_validate(row) for row in report_inputs.list_volumes(session)]


@router.put("/volumes/{month}", response_model=VolumesRead)
def put_volumes(month: Annotated[str, Path(pattern=MONTH_PATTERN)], body: VolumesIn,
                actor: Annotated[Actor, require("reports:manage")], session: SessionDep) -> VolumesRead:
    """Book (or re-book) a month's volumes; the report checks whether the balance closes."""
    return VolumesRead.model_validate(report_inputs.put_volumes(session, actor, month, body.model_dump()))


@router.post("/samples", response_model=Added, status_code=201)
def add_samples(body: SamplesIn, actor: Annotated[Actor, require("reports:manage")], session: SessionDep) -> Added:
    return Added(added=report_inputs.add_samples(session, actor, [s.model_dump() for s in body.samples]))
