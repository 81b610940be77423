"""/api/analysis/outage: the dashboard's outage planning (停水计划) — click a pipe, get the plan.

One request answers the dispatcher's three questions for work on a pipe: the best window (the cheapest starts
in the midnight-repair hours after the notice period, `runze.analysis.isolation.window.best_windows`), the
plan at the best start (valves to close, customers and critical users affected, demand lost, a PDA pressure
run of the rest of the network: `OutagePlanner.plan`), and the notice text (`notices.notice`).  The planner
(graph, valve layer, segments) is built once per network version and kept with the version's Twin.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput
from runze.web.deps import MAX_ID, SessionDep, require
from runze.web.errors import error_responses
from runze.web.routes.analysis_network import Twin, _plain, twin_for

router = APIRouter(prefix="/analysis/outage", tags=["analysis"], responses=error_responses(401, 403, 404, 422))
MAX_LISTED = 300  # node/link id lists longer than this are cut (the counts stay exact)


class OutageRequest(BaseModel):
    pipe: str = Field(min_length=1, max_length=64, description="pipe to repair")
    hours: float = Field(4.0, gt=0, le=24, description="length of the work")
    start: datetime | None = Field(None, description="start (default: the best window found)")
    days: int = Field(7, ge=1, le=14, description="days searched for the best window")
    broken: list[str] = Field(default_factory=list, max_length=50, description="valves that cannot be shut")
    version_id: int | None = Field(None, ge=1, le=MAX_ID)


def planner_of(twin: Twin):
    from runze.analysis.isolation.plan import OutagePlanner

    with twin.lock:
        if twin.planner is None:
            twin.planner = OutagePlanner(twin.network)
        return twin.planner


def _cut(values: list, limit: int = MAX_LISTED) -> list:
    return values[:limit]


@router.post("/plan", response_model=dict[str, Any])
def plan_outage(body: OutageRequest, request: Request, actor: Annotated[Actor, require("outage:plan")],
                session: SessionDep) -> dict[str, Any]:
    """Best window, plan and notice for work on `pipe` (planned at the best window unless `start` is given)."""
    from runze.analysis.isolation.notices import notice
    from runze.analysis.isolation.plan import OutageInputError
    from runze.analysis.isolation.window import best_windows

    twin = twin_for(request, session, body.version_id)
    try:
        planner = planner_of(twin)
        windows = best_windows(planner, pipe=body.pipe, hours=body.hours, days=body.days, broken=body.broken,
                               earliest=time(0, 0), latest=time(6, 0))
        start = body.start
        if start is None and windows["windows"]:
            start = datetime.fromisoformat(windows["windows"][0]["start"])
        plan = planner.plan(pipe=body.pipe, start=start, hours=body.hours, broken=body.broken)
        text = notice(plan)
    except (OutageInputError, ValueError) as exc:
        raise InvalidInput(str(exc), message_zh="无法制定停水计划：" + str(exc), details={"field": "pipe"}) from exc
    out = plan.to_dict()
    out.pop("customers_per_node", None)
    counts = {k: len(out[k]) for k in ("isolated_nodes", "isolated_links", "unintended_nodes", "unintended_links")}
    for key in counts:
        out[key] = _cut(out[key])
    pressure = dict(out.get("pressure") or {})
    for key, value in list(pressure.items()):
        if isinstance(value, list) and len(value) > MAX_LISTED:
            pressure[key] = value[:MAX_LISTED]
    out["pressure"] = pressure
    out["counts"] = counts
    out["customers_total"] = int(sum(plan.customers.values()))
    windows["affected_nodes"] = _cut(windows["affected_nodes"])
    return _plain({"version_id": twin.version_id, "plan": out, "windows": windows, "notice": text})
