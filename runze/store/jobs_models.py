"""Background analysis jobs of the dashboard (dispatch what-ifs, leak detection runs), shared by every worker.

`runze serve --workers N` runs N processes; a job is computed in a thread of the worker that accepted it, but
its row is what every worker reads, so the browser's polling may land on any of them.  `kind` says which
analysis (dispatch / leaks), `status` is queued → running → done | failed, `result` the page's JSON once done.

`heartbeat_at` is touched by the computing worker while the job is alive (progress updates and a periodic beat):
a queued or running job whose heartbeat is old belongs to a worker that died, and runze.ops.jobs marks it failed.
`exclusive` holds the job's kind while a job of a one-at-a-time kind (leaks) is queued or running and NULL
otherwise; its unique constraint makes "one run at a time" hold across workers (NULLs never collide).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from runze.store.base import Base, utcnow


class AnalysisJob(Base):
    __tablename__ = "analysis_jobs"
    __table_args__ = (Index("ix_analysis_jobs_kind_created_at", "kind", "created_at"),
                      Index("ix_analysis_jobs_status", "status"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # dispatch / leaks
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued / running / done / failed
    progress: Mapped[float] = mapped_column(default=0.0)  # 0-1, never decreases
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column()  # the request body as sent (plain JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))  # username (the API's `by`)
    worker: Mapped[str] = mapped_column(String(128), default="")  # host:pid computing it, for diagnosis
    exclusive: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
