"""Dashboard analysis jobs in the database (runze.ops.jobs), on SQLite and PostgreSQL.

`runze serve --workers N` is N processes on one database: here two apps, each with its own engine, on the same
database stand for two workers.  A what-if started through one is polled to the end through the other; the
leak runs' "one at a time" holds across them; a job whose worker died (no heartbeat for 10 minutes) reads as
failed with a message saying so, and a late write from that worker cannot revive it.  The store side: the
schema the migrations build is the models' schema, progress writes are throttled, old jobs are pruned.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from runze_api_fixtures import *  # noqa: F403
from runze_api_fixtures import make_api
from runze_db_fixtures import make_settings
from sqlalchemy import event, select, update

from runze.ops import jobs
from runze.ops import networks as network_ops
from runze.ops.auth import SYSTEM
from runze.ops.database import open_database
from runze.store import AnalysisJob, Base
from runze.store.base import utcnow
from runze.store.migrate import alembic_config
from runze.web import create_app


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> tuple[bytes, bytes]:
    """The demo city at 15 % scale (~260 nodes, 4 plants, 3 DMAs with flow meters): .inp and sidecar bytes."""
    from runze.network.demo_city.build import write_demo_city

    inp, sidecar = write_demo_city(tmp_path_factory.mktemp("small-city"), scale=0.15)
    return inp.read_bytes(), sidecar.read_bytes()


@pytest.fixture
def workers(db_url, small_city):
    """Two apps ("workers") on one database, with a stored network; clients per worker and role."""
    first = make_api(db_url)
    with first.database.session() as session:
        network_ops.import_network_file(session, SYSTEM, inp_data=small_city[0], filename="city.inp",
                                        sidecar_data=small_city[1], sidecar_filename="city.json")
    settings = make_settings(db_url)
    second_db = open_database(settings)  # its own engine and pool, as another process would have
    second = create_app(settings, database=second_db)

    def client(app, role):
        c = TestClient(app, raise_server_exceptions=False)
        c.headers.update(first.headers(role))
        return c

    yield {"a": {r: client(first.app, r) for r in ("dispatcher", "viewer")},
           "b": {r: client(second, r) for r in ("dispatcher", "viewer")},
           "database": first.database}
    second_db.dispose()
    first.database.dispose()


def _poll(client, url, seconds=120.0):
    seen, t0 = [], time.perf_counter()
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        job = response.json()
        seen.append(job["progress"])
        if job["status"] in ("done", "failed") or time.perf_counter() - t0 > seconds:
            return job, seen
        time.sleep(0.2)


def test_a_whatif_started_on_one_worker_is_answered_by_the_other(workers):
    a, b = workers["a"]["dispatcher"], workers["b"]["dispatcher"]
    body = {"plant": "P1", "capacity": 0.0, "hours": 2, "start_hour": 7, "search_seconds": 0}
    started = a.post("/api/analysis/dispatch/jobs", json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert set(job) >= {"id", "status", "progress", "message", "error", "by", "request", "created"}
    assert "result" not in job and job["by"] == "u_dispatcher" and job["request"]["plant"] == "P1"
    job, seen = _poll(b, f"/api/analysis/dispatch/jobs/{job['id']}")  # every poll on the other worker
    assert job["status"] == "done", job.get("error")
    assert seen == sorted(seen) and job["progress"] == 1.0 and job["seconds"] >= 0
    assert job["started"] >= job["created"]
    result = job["result"]
    assert len(result["no_action"]["hourly"]) == 2 and result["no_action"]["unmet_demand_m3"] >= 0
    assert a.get(f"/api/analysis/dispatch/jobs/{job['id']}").json() == job  # both workers say the same
    assert b.get("/api/analysis/dispatch/jobs/nosuchjob").status_code == 404
    # a job is found under its own kind only, as when the two kinds had separate tables in memory
    assert workers["b"]["viewer"].get(f"/api/analysis/leaks/jobs/{job['id']}").status_code == 404


def test_one_leak_run_at_a_time_across_workers(workers, monkeypatch):
    from runze.web.routes import analysis_leaks

    release = threading.Event()

    def fake_analyse(net, layout, days, n_leaks, seed, progress):  # the real one is tests/test_dashboard_leaks.py
        for k in range(2000):  # far more calls than the row should see: the reporter throttles them
            progress(f"step {k}", k / 4000)
        release.wait(30)
        return {"days": days, "nan_free": True}

    monkeypatch.setattr(analysis_leaks, "analyse", fake_analyse)
    a, b = workers["a"]["dispatcher"], workers["b"]["dispatcher"]
    assert workers["a"]["viewer"].post("/api/analysis/leaks/run", json={"days": 7}).status_code == 403
    assert a.post("/api/analysis/leaks/run", json={"days": 6}).status_code == 422
    with workers["database"].session() as session:
        assert jobs.list_jobs(session) == []  # refused requests leave no job behind
    started = a.post("/api/analysis/leaks/run", json={"days": 7, "leaks": 1})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    busy = b.post("/api/analysis/leaks/run", json={"days": 8, "leaks": 1})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict", busy.text
    assert "漏损检测任务" in busy.json()["error"]["message_zh"]
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 20:  # the other worker sees it running, with progress
        job = workers["b"]["viewer"].get(f"/api/analysis/leaks/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"] > 0.4:
            break
        time.sleep(0.1)
    assert job["status"] == "running" and "started" in job and "seconds" not in job, job
    release.set()
    job, _ = _poll(workers["b"]["viewer"], f"/api/analysis/leaks/jobs/{job_id}", 30)
    assert job["status"] == "done" and job["result"] == {"days": 7, "nan_free": True}
    again = b.post("/api/analysis/leaks/run", json={"days": 7, "leaks": 1})  # the slot is free again
    assert again.status_code == 202, again.text
    _poll(workers["a"]["viewer"], f"/api/analysis/leaks/jobs/{again.json()['id']}", 30)


def test_a_job_whose_worker_died_reads_as_failed_and_stays_failed(workers):
    database = workers["database"]
    with database.session() as session:
        job = jobs.create_job(session, "leaks", created_by="u_dispatcher", request={"days": 7}, exclusive=True)
        assert jobs.set_running(session, job["id"])
        with pytest.raises(jobs.Busy):  # its worker "dies" holding the one-at-a-time slot
            jobs.create_job(session, "leaks", created_by="u_dispatcher", request={}, exclusive=True)
        # 9 minutes without a beat: still alive
        session.execute(update(AnalysisJob).values(heartbeat_at=utcnow() - timedelta(minutes=9)))
        session.commit()
    url = f"/api/analysis/leaks/jobs/{job['id']}"
    assert workers["b"]["viewer"].get(url).json()["status"] == "running"
    with database.session() as session:
        session.execute(update(AnalysisJob).values(heartbeat_at=utcnow() - timedelta(minutes=11)))
        session.commit()
    seen = workers["b"]["viewer"].get(url).json()
    assert seen["status"] == "failed" and seen["result"] is None and "seconds" in seen
    assert "服务进程已停止" in seen["error"] and "worker computing this job stopped" in seen["error"]
    with database.session() as session:
        assert not jobs.finish_job(session, job["id"], result={"late": True})  # the slow worker's late write
        assert not jobs.set_progress(session, job["id"], 0.9, "late")
        assert jobs.get_job(session, "leaks", job["id"])["status"] == "failed"
        # the slot was released with it
        assert jobs.create_job(session, "leaks", created_by="u", request={}, exclusive=True)["status"] == "queued"
    assert workers["a"]["viewer"].get(url).json() == seen


def test_store_lifecycle_prune_and_list(database):
    with database.session() as session:
        made = [jobs.create_job(session, "dispatch", created_by="u", request={"n": n}) for n in range(6)]
        other = jobs.create_job(session, "leaks", created_by="u", request={})
        ids = [j["id"] for j in made]
        assert jobs.set_running(session, ids[0]) and not jobs.set_running(session, ids[0])
        assert jobs.set_progress(session, ids[0], 0.25, "half way there")
        assert jobs.finish_job(session, ids[0], result={"x": [1, 2.5, None], "名": "水厂"})
        assert not jobs.finish_job(session, ids[0], error="twice")  # finished is final
        done = jobs.get_job(session, "dispatch", ids[0])
        assert done["status"] == "done" and done["progress"] == 1.0 and done["result"]["名"] == "水厂"
        assert done["error"] is None and done["request"] == {"n": 0}
        jobs.set_running(session, ids[1])
        assert jobs.finish_job(session, ids[1], result={"bad": float("nan")})  # not JSON: failed, not a 500
        bad = jobs.get_job(session, "dispatch", ids[1])
        assert bad["status"] == "failed" and "not plain JSON" in bad["error"] and bad["result"] is None
        for j in ids[2:4]:
            jobs.finish_job(session, j, error="boom")  # a queued job may fail before it starts
        assert jobs.get_job(session, "dispatch", ids[2])["status"] == "failed"
        assert jobs.get_job(session, "dispatch", ids[2]).get("seconds") is None  # never started

        listed = jobs.list_jobs(session, "dispatch")
        assert [j["id"] for j in listed] == ids[::-1] and all("result" not in j for j in listed)
        assert {j["id"] for j in jobs.list_jobs(session)} == {*ids, other["id"]}
        # keep the newest 2: the 4 older are 0-3, all finished; the live 4 and 5 stay whatever happens
        assert jobs.prune_jobs(session, "dispatch", 2) == 4
        assert [j["id"] for j in jobs.list_jobs(session, "dispatch")] == ids[:3:-1]
        assert jobs.prune_jobs(session, "dispatch", 0) == 0  # live jobs are never pruned
        assert jobs.get_job(session, "leaks", other["id"]) is not None  # other kinds untouched


def test_reporter_throttles_progress_and_beats_without_it(database):
    with database.session() as session:
        job = jobs.create_job(session, "dispatch", created_by="u", request={})
    writes = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE ANALYSIS_JOBS"):
            writes.append(time.perf_counter())

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with jobs.JobReporter(database, job["id"], every_s=0.5, heartbeat_s=0.1) as reporter:
            assert reporter.start()
            t0 = time.perf_counter()
            for k in range(5000):
                reporter.progress(f"step {k}", k / 5000)
            burst = time.perf_counter() - t0
            progress_writes = len(writes) - 1  # minus set_running
            with database.session() as session:
                first_beat = session.scalar(select(AnalysisJob.heartbeat_at).where(AnalysisJob.id == job["id"]))
            time.sleep(0.5)  # no progress reported: the heartbeat still moves
            with database.session() as session:
                row = session.get(AnalysisJob, job["id"])
                assert row.heartbeat_at > first_beat and row.status == "running"
            assert reporter.finish(result={"ok": 1})
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    # at most one write per 0.5 s of the burst, plus the first
    assert 1 <= progress_writes <= 2 + burst / 0.5, (progress_writes, burst)
    with database.session() as session:
        final = jobs.get_job(session, "dispatch", job["id"])
    assert final["status"] == "done" and final["progress"] == 1.0 and final["result"] == {"ok": 1}


def test_migrations_build_the_models_schema_with_one_head(database):
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
