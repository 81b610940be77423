"""/api/reports: the monthly evaluation report (月度考核报告) as JSON, HTML or PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from runze.ops import report_render, reports
from runze.ops.auth import Actor
from runze.web.deps import SessionDep, require
from runze.web.errors import error_responses
from runze.web.schemas.service_party import MONTH_PATTERN

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
