"""/api/analysis/leaks: the dashboard's 漏损 view — a leak detection demonstration as a background job.

POST /run generates `days` of 5-minute SCADA data with leaks on the stored network (`runze.analysis.leaks`
generator, the network's own sensors plus 4 extra pressure loggers per DMA), runs detection + localisation
on it and scores the reports against the generated truth (BattLeDIM rules).  GET /jobs/{id} gives progress
and, once done, the events, the true leaks, the score and the night-flow flags per DMA.

The data lives in memory (no temp files: the generator's frames are what `read_scada` would return).  The
request is checked up front (days 7-60, leaks 1-6, a network with DMAs and flow meters → else 422), and a
second run while one is queued or running is refused (409), so a client (or a fuzzer) cannot pile up jobs.
Jobs are rows of the database (runze.ops.jobs), as the dispatch what-ifs are: any worker of `runze serve
--workers N` answers a poll, and "one run at a time" holds across workers (the row's unique `exclusive`).
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from runze.ops import jobs as job_ops
from runze.ops.auth import Actor
from runze.ops.database import Database
from runze.ops.errors import Conflict, InvalidInput, NotFound
from runze.web.deps import MAX_ID, SessionDep, require
from runze.web.errors import error_responses
from runze.web.routes.analysis_network import _plain, twin_for

router = APIRouter(
    prefix="/analysis/leaks", tags=["analysis"], responses=error_responses(401, 403, 404, 409, 422)
)
KIND = "leaks"
KEEP_JOBS = 20
LOGGERS_PER_DMA = 4  # extra pressure loggers, as in the leak tests (the demo city's own 30 are too sparse)
MESSAGES = {
    "no_dmas": (
        "该管网模型没有分区 (DMA) 或流量计，无法进行漏损检测",
        "this network has no DMAs or flow meters in its sidecar: leak detection needs them",
    ),
    "busy": ("已有漏损检测任务在运行，请稍后", "a leak detection run is already in progress: wait for it"),
    "missing": ("漏损检测任务 {id} 不存在", "leak detection job {id} does not exist"),
    "generate": ("生成 SCADA 数据", "generating SCADA data"),
    "detect": ("检测与定位", "detecting and localising"),
    "score": ("评分", "scoring"),
}


def _say(key: str, **kw) -> str:
    zh, en = MESSAGES[key]
    return f"{zh.format(**kw)} / {en.format(**kw)}"


class LeakRunRequest(BaseModel):
    days: int = Field(
        21, ge=7, le=60, description="days of 5-minute data (the first ones are leak-free training)"
    )
    leaks: int = Field(3, ge=1, le=6, description="number of leaks drawn on random pipes")
    seed: int = Field(1, ge=0, le=1_000_000, description="random seed of demand, leaks and noise")
    version_id: int | None = Field(None, ge=1, le=MAX_ID)


def training_days(days: int) -> int:
    """Leak-free days at the start, also the detector's training window: 14 when there is room, else half."""
    return min(14, max(3, days // 2))


def _midpoint(net, pipe_id: str) -> list[float] | None:
    link = net.link(pipe_id)
    a, b = net.node(link.node1), net.node(link.node2)
    if a.x is None or b.x is None:
        return None
    return [round((a.x + b.x) / 2, 2), round((a.y + b.y) / 2, 2)]


def _layout(net):
    from runze.analysis.leaks.layout import LayoutError, layout_from_network, place_loggers

    try:
        layout = layout_from_network(net)
        layout.validate(net, "sidecar")
    except LayoutError as exc:
        raise InvalidInput(str(exc), message_zh=str(exc), details={"field": "version_id"}) from exc
    if not layout.dmas or not layout.flow:
        zh, en = MESSAGES["no_dmas"]
        raise InvalidInput(en, message_zh=zh, details={"field": "version_id"})
    return place_loggers(net, layout, LOGGERS_PER_DMA)


def analyse(
    net, layout, days: int, n_leaks: int, seed: int, progress=lambda msg, frac: None
) -> dict[str, Any]:
    """Generate → detect + localise → score; the page's result (plain types)."""
    import pandas as pd

    from runze.analysis.leaks.detect import DetectConfig, dma_inflows
    from runze.analysis.leaks.nightflow import night_flow_report
    from runze.analysis.leaks.pipeline import detect_and_localise, events_frame
    from runze.analysis.leaks.score import score
    from runze.analysis.leaks.simulate import GeneratorConfig, generate

    timing: dict[str, float] = {}
    clean = training_days(days)
    cfg = GeneratorConfig(days=days, n_leaks=n_leaks, seed=seed, clean_days=clean)
    t0 = time.perf_counter()
    steps = {"baseline": 0.05, "leaks": 0.3}
    data = generate(
        net,
        layout,
        cfg,
        progress=lambda step: progress(_say("generate") + f" ({step})", steps.get(step, 0.1)),
    )
    timing["generate_s"] = round(time.perf_counter() - t0, 2)
    progress(_say("detect"), 0.55)
    t1 = time.perf_counter()
    det_cfg = DetectConfig(train_days=float(clean))
    events = detect_and_localise(
        data.readings,
        layout,
        net,
        det_cfg,
        progress=lambda k, n: progress(_say("detect") + f" {k + 1}/{n}", 0.6 + 0.3 * k / max(n, 1)),
    )
    timing["detect_s"] = round(time.perf_counter() - t1, 2)
    progress(_say("score"), 0.92)
    frame = events_frame(events)
    truth = data.leaks
    summary, table = score(
        truth[["pipe", "start", "end", "kind", "peak_m3h"]].copy(),
        frame[["pipe_id", "detected_at"]].copy(),
        net,
    )
    outcome_of = {}
    for _, row in table.iterrows():  # detections are scored in time order; map back by (pipe, time)
        outcome_of[(row["pipe_id"], pd.Timestamp(row["detected_at"]))] = row
    night, _ = night_flow_report(dma_inflows(data.readings, layout, net), net, layout.dmas)
    timing["total_s"] = round(time.perf_counter() - t0, 2)
    out_events = []
    for ev in events:
        row = outcome_of.get((ev.pipe, ev.detected_at)) if ev.pipe else None
        out_events.append(
            {
                "dma": ev.dma,
                "start": ev.start.strftime("%Y-%m-%d %H:%M"),
                "detected_at": ev.detected_at.strftime("%Y-%m-%d %H:%M"),
                "alarm_at": (ev.alarm_at or ev.detected_at).strftime("%Y-%m-%d %H:%M"),
                "size_m3h": round(float(ev.size_m3h), 2),
                "growth_m3h_per_day": round(float(ev.growth_m3h_per_day), 3),
                "kind": ev.kind,
                "pipe": ev.pipe,
                "candidates": [
                    {
                        "pipe": c["pipe"],
                        "confidence": c["confidence"],
                        "distance_m": c["distance_m"],
                        "xy": [c.get("x"), c.get("y")],
                    }
                    for c in ev.candidates
                ],
                "outcome": None if row is None else row["outcome"],
                "true_leak": None if row is None else row["leak"],
                "distance_to_leak_m": None
                if row is None or row["distance_m"] is None
                else round(float(row["distance_m"]), 1),
            }
        )
    truth_rows = [
        {
            "pipe": r["pipe"],
            "node": r["node"],
            "start": str(r["start"])[:16],
            "end": str(r["end"])[:16],
            "kind": r["kind"],
            "peak_m3h": round(float(r["peak_m3h"]), 2),
            "mean_m3h": round(float(r["mean_m3h"]), 2),
            "xy": _midpoint(net, r["pipe"]),
            "dma": next((d for d, v in layout.dmas.items() if r["node"] in set(v.get("nodes", []))), None),
        }
        for _, r in truth.iterrows()
    ]
    night_rows = [
        {
            "dma": dma,
            "flagged": bool(r["flagged"]),
            "first_flagged_night": r["first_flagged_night"],
            "baseline_mnf_m3h": r["baseline_mnf_m3h"],
            "latest_mnf_m3h": r["latest_mnf_m3h"],
            "rise_m3h": r["rise_m3h"],
            "limit_m3h": r["limit_m3h"],
        }
        for dma, r in night.iterrows()
    ]
    return _plain(
        {
            "days": days,
            "training_days": clean,
            "leaks_requested": n_leaks,
            "seed": seed,
            "sensors": {"pressure": len(layout.pressure), "flow": len(layout.flow)},
            "events": out_events,
            "truth": truth_rows,
            "score": summary,
            "night_flow": night_rows,
            "dma_names": {k: v.get("name", k) for k, v in net.utility.dmas.items()},
            "timing": timing,
        }
    )


def _run(db: Database, job_id: str, net, layout, body: LeakRunRequest) -> None:
    with job_ops.JobReporter(db, job_id) as job:
        if not job.start():  # failed meanwhile (a stale job): nothing to compute
            return
        try:
            result = analyse(net, layout, body.days, body.leaks, body.seed, job.progress)
        except Exception as exc:  # reported to the page, never lost in a thread
            job.finish(error=f"{type(exc).__name__}: {exc}")
        else:
            job.finish(result=result)


@router.post("/run", response_model=dict[str, Any], status_code=202)
def start_run(
    body: LeakRunRequest, request: Request, actor: Annotated[Actor, require("leaks:run")], session: SessionDep
) -> dict[str, Any]:
    """Check the request and start a leak detection run; poll GET /jobs/{id}."""
    net = twin_for(request, session, body.version_id).network
    layout = _layout(net)
    db: Database = request.app.state.database
    try:  # one run at a time, across workers: the job row's unique `exclusive` decides
        job = job_ops.create_job(
            session, KIND, created_by=actor.username, request=body.model_dump(), exclusive=True
        )
    except job_ops.Busy as exc:
        zh, en = MESSAGES["busy"]
        raise Conflict(en, message_zh=zh) from exc
    job_ops.prune_jobs(session, KIND, KEEP_JOBS)
    threading.Thread(
        target=_run, args=(db, job["id"], net, layout, body), daemon=True, name=f"leaks-{job['id']}"
    ).start()
    return job


@router.get("/jobs/{job_id}", response_model=dict[str, Any])
def job_status(
    job_id: Annotated[str, Path(min_length=1, max_length=32)],
    actor: Annotated[Actor, require("analysis:read")],
    session: SessionDep,
) -> dict[str, Any]:
    """Progress of a leak detection run; `result` once `status` is done."""
    job = job_ops.get_job(session, KIND, job_id)
    if job is None:
        zh, en = MESSAGES["missing"]
        raise NotFound(en.format(id=job_id), message_zh=zh.format(id=job_id))
    return job
