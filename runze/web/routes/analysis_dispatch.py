"""/api/analysis/dispatch: dispatch what-ifs (调度预案) from the dashboard, as background jobs with progress.

A what-if (a plant at reduced capacity for some hours, `runze.analysis.dispatch.service.analyse`) runs several
full simulations and a re-dispatch search, so it takes seconds to tens of seconds: POST /jobs checks the
request against the network at once (unknown plant, capacity outside 0-1 → 422) and starts a thread; GET
/jobs/{id} reports progress (0-1 and the current step) and, when done, the result trimmed for the page.
Jobs are rows of the database (runze.ops.jobs), so with `runze serve --workers N` any worker answers a poll;
the computation runs in a thread of the worker that accepted it.  One what-if runs at a time per worker
(each already uses the machine fully); later ones wait their turn.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from runze.ops import jobs as job_ops
from runze.ops.auth import Actor
from runze.ops.database import Database
from runze.ops.errors import InvalidInput, NotFound
from runze.web.deps import MAX_ID, SessionDep, require
from runze.web.errors import error_responses
from runze.web.routes.analysis_network import VersionQuery, _plain, twin_for

router = APIRouter(prefix="/analysis/dispatch", tags=["analysis"], responses=error_responses(401, 403, 404, 422))
KIND = "dispatch"
KEEP_JOBS = 50
_RUN_ONE_AT_A_TIME = threading.Lock()  # each what-if already uses the machine fully (per worker process)


class WhatIfRequest(BaseModel):
    plant: str = Field(min_length=1, max_length=64, description="plant id or number (1-4)")
    capacity: float = Field(ge=0.0, le=1.0, description="available share of the plant's capacity (0 = out)")
    hours: int = Field(6, ge=1, le=24, description="length of the event")
    start_hour: int = Field(6, ge=0, le=23, description="start, clock hour of the model's first day")
    search_seconds: float = Field(15.0, ge=0.0, le=60.0, description="time budget of the re-dispatch search")
    version_id: int | None = Field(None, ge=1, le=MAX_ID)


def _summary(result: dict[str, Any], network) -> dict[str, Any]:
    """The parts of the analysis the page shows: timeline, verdict, plan actions, affected nodes."""
    keep = ("event", "window", "capacity_balance", "verdict", "solver", "notes", "timing", "critical_users")
    out = {k: result.get(k) for k in keep}
    for case in ("normal", "no_action", "plan"):
        m = result.get(case) or {}
        out[case] = {k: m.get(k) for k in ("unmet_demand_m3", "required_demand_m3", "customer_hours_below_service",
                                           "customer_hours_no_water", "node_hours_below_service", "min_pressure_m",
                                           "hourly", "plants", "tanks", "actions", "search", "critical_users")}
        deficit = m.get("node_max_deficit_m") or {}
        out[case]["nodes_with_deficit"] = {n: d for n, d in deficit.items() if d and d > 0}
    zones = (result.get("sources") or {}).get("plan", {}).get("zones")
    out["zones"] = zones
    out["dma_names"] = {k: v.get("name", k) for k, v in network.utility.dmas.items()}
    return out


def _run(db: Database, job_id: str, network, event, start_s: int, hours: int, budget: float) -> None:
    from runze.analysis.dispatch.service import analyse

    with job_ops.JobReporter(db, job_id) as job:  # beats while queued too: waiting for the lock is alive
        with _RUN_ONE_AT_A_TIME:
            if not job.start():  # failed meanwhile (a stale job): nothing to compute
                return
            try:
                result = analyse(network, event, start_s, hours, optimise=budget > 0,
                                 time_budget_s=max(budget, 1.0), max_evals=60, progress=job.progress)
                summary = _plain(_summary(result, network))
            except Exception as exc:  # reported to the page, never lost in a thread
                job.finish(error=f"{type(exc).__name__}: {exc}")
            else:
                job.finish(result=summary)


@router.get("/plants", response_model=list[dict[str, Any]])
def plants(request: Request, actor: Annotated[Actor, require("analysis:read")], session: SessionDep,
           version_id: VersionQuery = None) -> list[dict[str, Any]]:
    """The plants a what-if can act on (from the network's sidecar)."""
    net = twin_for(request, session, version_id).network
    return [{"id": p["id"], "name": p.get("name", p["id"]), "capacity_m3d": p.get("capacity_m3d")}
            for p in net.utility.plants]


@router.post("/jobs", response_model=dict[str, Any], status_code=202)
def start_whatif(body: WhatIfRequest, request: Request, actor: Annotated[Actor, require("dispatch:whatif")],
                 session: SessionDep) -> dict[str, Any]:
    """Check the what-if and start it; poll GET /jobs/{id}."""
    try:
        from runze.analysis.dispatch.events import EventError, build_event
        from runze.analysis.dispatch.whatif import check_hours, parse_start
    except ImportError as exc:  # the dispatch package not installed in this build
        raise InvalidInput("dispatch what-ifs are not available in this build", message_zh="调度预案功能尚未开放") from exc
    twin = twin_for(request, session, body.version_id)
    net = twin.network
    if not net.utility.plants:
        raise InvalidInput("this network has no plants in its sidecar: a what-if needs them",
                           message_zh="该管网模型未定义水厂，无法进行调度预案", details={"field": "plant"})
    try:
        event = build_event(net, plant=body.plant, capacity=body.capacity)
        start_s = parse_start(f"{body.start_hour:02d}:00", net)
        hours = check_hours(body.hours)
    except (EventError, ValueError) as exc:
        raise InvalidInput(str(exc), message_zh=str(exc), details={"field": "plant"}) from exc
    db: Database = request.app.state.database
    job = job_ops.create_job(session, KIND, created_by=actor.username, request=body.model_dump())
    job_ops.prune_jobs(session, KIND, KEEP_JOBS)
    threading.Thread(target=_run, args=(db, job["id"], net, event, start_s, hours, body.search_seconds),
                     daemon=True, name=f"whatif-{job['id']}").start()
    return job


@router.get("/jobs/{job_id}", response_model=dict[str, Any])
def job_status(job_id: Annotated[str, Path(min_length=1, max_length=32)],
               actor: Annotated[Actor, require("dispatch:whatif")], session: SessionDep) -> dict[str, Any]:
    """Progress of a what-if; `result` once `status` is done."""
    job = job_ops.get_job(session, KIND, job_id)
    if job is None:
        raise NotFound(f"what-if job {job_id} does not exist", message_zh=f"调度预案任务 {job_id} 不存在")
    return job
