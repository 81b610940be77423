"""Background analysis jobs of the dashboard, kept in the database so that every worker can answer for every job.

With `runze serve --workers N` the browser's polls land on any of the N processes, so a job cannot live in one
process's memory.  The computation still runs in a thread of the worker that accepted the job; that thread
reports through a `JobReporter`, which writes the row in short transactions of its own:

* progress at most every `PROGRESS_EVERY_S` (a what-if reports dozens of steps a second at times; the row
  needs only what a poll every 0.5-1 s can show), and a heartbeat every `HEARTBEAT_S` while the job is alive,
  queued or running, whether or not the analysis reports progress;
* the end state once: `done` with the result (plain JSON) or `failed` with the error.

A worker that dies takes its threads with it and its jobs would stay queued/running for ever: a job whose
heartbeat is older than `STALE_AFTER` is marked failed with a message saying so (on read, on create, on list).
Every write to a live job is conditional on it still being queued/running, so a late write from a worker
that was only slow cannot turn a failed job back into a running or done one.

Kinds that allow one job at a time (leak detection runs) claim the row's unique `exclusive` column while
active: a second create fails with `Busy` on every backend and across workers, without a lock.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, defer

from runze.i18n import bilingual, t
from runze.ops._tx import unit_of_work
from runze.ops.database import Database
from runze.ops.errors import Conflict
from runze.store import AnalysisJob
from runze.store.base import utcnow

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
FINAL = ("done", "failed")
STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_S = 30.0  # well inside STALE_AFTER: a live job can miss several beats (a busy database) and survive
PROGRESS_EVERY_S = 0.5
QUEUED_MESSAGE = bilingual("job.queued", sep=" ")


class Busy(Conflict):
    """A job of a one-at-a-time kind is already queued or running."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _stale_error() -> str:
    return bilingual("job.stale", minutes=round(STALE_AFTER.total_seconds() / 60))


def to_dict(job: AnalysisJob, *, with_result: bool = True) -> dict[str, Any]:
    """The API's job object: `started` once started, `seconds` once finished, `result` once done."""
    out: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "progress": round(float(job.progress), 3),
        "message": job.message,
        "result": job.result if with_result else None,
        "error": job.error,
        "by": job.created_by,
        "request": job.request,
        "created": job.created_at.timestamp(),
    }
    if not with_result:
        del out["result"]
    if job.started_at is not None:
        out["started"] = job.started_at.timestamp()
        if job.finished_at is not None:
            out["seconds"] = round((job.finished_at - job.started_at).total_seconds(), 2)
    return out


def _active_stale(now: datetime):
    return (AnalysisJob.status.in_(ACTIVE)) & (AnalysisJob.heartbeat_at < now - STALE_AFTER)


def _fail_stale(session: Session, now: datetime, job_id: str | None = None) -> int:
    where = _active_stale(now)
    if job_id is not None:
        where = where & (AnalysisJob.id == job_id)
    done = session.execute(
        update(AnalysisJob).where(where).values(status="failed", error=_stale_error(), finished_at=now,
                                                exclusive=None).execution_options(synchronize_session=False))
    return int(done.rowcount or 0)


@unit_of_work
def fail_stale(session: Session, *, now: datetime | None = None, job_id: str | None = None) -> int:
    """Mark queued/running jobs whose worker stopped beating as failed; the number marked."""
    return _fail_stale(session, now or utcnow(), job_id)


@unit_of_work
def create_job(session: Session, kind: str, *, created_by: str, request: dict[str, Any], exclusive: bool = False,
               message: str = QUEUED_MESSAGE) -> dict[str, Any]:
    """A new queued job (the API's object without `result`); `Busy` when `exclusive` and one is active."""
    now = utcnow()
    _fail_stale(session, now)  # a dead worker's job must not block a one-at-a-time kind for ever
    job = AnalysisJob(id=uuid.uuid4().hex[:12], kind=kind, status="queued", progress=0.0, message=message,
                      request=request, created_by=created_by, worker=worker_name(),
                      exclusive=kind if exclusive else None, created_at=now, heartbeat_at=now)
    session.add(job)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if not exclusive:
            raise
        raise Busy(t("job.busy", "en", kind=kind), message_zh=t("job.busy", "zh", kind=kind),
                   details={"kind": kind}) from exc
    return to_dict(job, with_result=False)


@unit_of_work
def set_running(session: Session, job_id: str) -> bool:
    """queued → running; False when the job is no longer queued (marked failed meanwhile)."""
    now = utcnow()
    done = session.execute(
        update(AnalysisJob).where(AnalysisJob.id == job_id, AnalysisJob.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, worker=worker_name())
        .execution_options(synchronize_session=False))
    return bool(done.rowcount)


@unit_of_work
def set_progress(session: Session, job_id: str, progress: float | None = None, message: str | None = None) -> bool:
    """Progress and/or message of a live job, and its heartbeat (both None: the heartbeat only)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = round(min(max(float(progress), 0.0), 1.0), 3)
    if message is not None:
        values["message"] = message
    done = session.execute(
        update(AnalysisJob).where(AnalysisJob.id == job_id, AnalysisJob.status.in_(ACTIVE)).values(**values)
        .execution_options(synchronize_session=False))
    return bool(done.rowcount)


@unit_of_work
def finish_job(session: Session, job_id: str, *, result: dict[str, Any] | None = None,
               error: str | None = None) -> bool:
    """running → done (with `result`, plain JSON) or failed (with `error`); False if it was not live."""
    now = utcnow()
    if error is None:
        try:  # refused here rather than by the database (PostgreSQL's JSON rejects NaN) or by the browser
            json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            result, error = None, f"result is not plain JSON: {type(exc).__name__}: {exc}"
    values: dict[str, Any] = {"finished_at": now, "heartbeat_at": now, "exclusive": None}
    if error is None:
        values.update(status="done", progress=1.0, result=result, error=None)
    else:
        values.update(status="failed", result=None, error=error)
    done = session.execute(
        update(AnalysisJob).where(AnalysisJob.id == job_id, AnalysisJob.status.in_(ACTIVE)).values(**values)
        .execution_options(synchronize_session=False))
    return bool(done.rowcount)


def _load(session: Session, kind: str, job_id: str) -> AnalysisJob | None:
    query = select(AnalysisJob).where(AnalysisJob.id == job_id, AnalysisJob.kind == kind)
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def get_job(session: Session, kind: str, job_id: str) -> dict[str, Any] | None:
    """The API's object of a job of this kind, or None; a stale live job is marked failed first."""
    job = _load(session, kind, job_id)
    if job is not None and job.status in ACTIVE and job.heartbeat_at < utcnow() - STALE_AFTER:
        fail_stale(session, job_id=job_id)
        job = _load(session, kind, job_id)
    return to_dict(job) if job is not None else None


def list_jobs(session: Session, kind: str | None = None, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs (of one kind, or all), newest first, without their results."""
    fail_stale(session)
    query = (select(AnalysisJob).options(defer(AnalysisJob.result))
             .order_by(AnalysisJob.created_at.desc(), AnalysisJob.id).limit(limit))
    if kind is not None:
        query = query.where(AnalysisJob.kind == kind)
    return [to_dict(j, with_result=False) for j in session.scalars(query.execution_options(populate_existing=True))]


@unit_of_work
def prune_jobs(session: Session, kind: str, keep: int) -> int:
    """Delete the finished jobs of `kind` beyond the newest `keep` jobs of that kind (live ones stay)."""
    old = list(session.scalars(select(AnalysisJob.id).where(AnalysisJob.kind == kind)
                               .order_by(AnalysisJob.created_at.desc(), AnalysisJob.id).offset(keep)))
    if not old:
        return 0
    done = session.execute(delete(AnalysisJob).where(AnalysisJob.id.in_(old), AnalysisJob.status.in_(FINAL))
                           .execution_options(synchronize_session=False))
    return int(done.rowcount or 0)


class JobReporter:
    """What the computing thread uses: heartbeat while alive, throttled progress, the end state.

    `with JobReporter(db, job_id) as job:` beats from the start (while the job waits for its turn too) until
    the block ends; `job.start()` marks it running (False: it was failed meanwhile, do not compute);
    `job.progress(message, fraction)` is the analyses' progress callback; `job.finish(result=... | error=...)`.
    Database errors in progress and heartbeat writes are logged, never raised into the analysis.
    """

    def __init__(self, db: Database, job_id: str, *, every_s: float = PROGRESS_EVERY_S,
                 heartbeat_s: float = HEARTBEAT_S) -> None:
        self.db, self.job_id, self.every_s, self.heartbeat_s = db, job_id, every_s, heartbeat_s
        self.fraction = 0.0
        self.message: str | None = None
        self._written = 0.0  # monotonic time of the last progress write
        self._pending = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._write_lock = threading.Lock()  # progress writes from the analysis and the beat: one at a time

    def __enter__(self) -> JobReporter:
        self._beat = threading.Thread(target=self._beat_loop, daemon=True, name=f"job-beat-{self.job_id}")
        self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self._write(heartbeat_only=not self._pending)

    def _write(self, *, heartbeat_only: bool = False) -> None:
        with self._write_lock:
            try:
                with self.db.session() as session:
                    if heartbeat_only:
                        set_progress(session, self.job_id)
                    else:
                        self._pending = False
                        set_progress(session, self.job_id, self.fraction, self.message)
                        self._written = time.monotonic()
            except SQLAlchemyError:
                log.exception("analysis job %s: progress not saved", self.job_id)

    def start(self) -> bool:
        try:
            with self.db.session() as session:
                return set_running(session, self.job_id)
        except SQLAlchemyError:  # left queued: it reads as failed once its heartbeat is stale
            log.exception("analysis job %s: could not be marked running", self.job_id)
            return False

    def progress(self, message: str, fraction: float) -> None:
        self.fraction = max(self.fraction, min(float(fraction), 1.0))
        self.message = message
        self._pending = True
        if time.monotonic() - self._written >= self.every_s:
            self._write()

    def finish(self, *, result: dict[str, Any] | None = None, error: str | None = None) -> bool:
        self._stop.set()
        for attempt in range(3):  # the end state matters: a busy SQLite file or a dropped connection is retried
            try:
                with self.db.session() as session:
                    return finish_job(session, self.job_id, result=result, error=error)
            except SQLAlchemyError:
                log.exception("analysis job %s: end state not saved (attempt %d)", self.job_id, attempt + 1)
                time.sleep(1.0 + attempt)
        return False
