"""The dashboard's 漏损 view back end (/api/analysis/leaks): a leak detection run as a background job.

On the demo database: the run is guarded (`leaks:run` to start, `analysis:read` to poll), its input is checked
before any work starts (days 7-60, leaks 1-6, one run at a time), and a short run (7 days, 1 leak) finishes
with events, truth, score and night-flow rows whose figures agree with each other and with the stored network.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from runze.ops.jobs import list_jobs

EVENT_KEYS = {
    "dma",
    "start",
    "detected_at",
    "alarm_at",
    "size_m3h",
    "growth_m3h_per_day",
    "kind",
    "pipe",
    "candidates",
    "outcome",
    "true_leak",
    "distance_to_leak_m",
}
TRUTH_KEYS = {"pipe", "node", "start", "end", "kind", "peak_m3h", "mean_m3h", "xy", "dma"}
SCORE_KEYS = {
    "leaks",
    "leaks_found",
    "false_positives",
    "repeats",
    "median_distance_m",
    "score_eur",
    "perfect_eur",
    "score_pct_of_perfect",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from runze_db_fixtures import make_settings

    from runze.ops import database as db_ops
    from runze.ops import networks as network_ops
    from runze.ops.demo import DEMO_PASSWORD, load_demo
    from runze.web import create_app

    settings = make_settings(f"sqlite:///{tmp_path_factory.mktemp('dash-leaks') / 'demo.db'}")
    database = db_ops.open_database(settings)
    db_ops.migrate(database)
    with database.session() as session:
        load_demo(session, settings)
        version = network_ops.get_version(session, 1)
        network = network_ops.parse_network(version.inp_text, version.filename, version.sidecar)
    app = create_app(settings, database=database)
    clients = {}
    for user in ("dispatcher", "viewer", "crew1", "engineer"):
        client = TestClient(app, raise_server_exceptions=False)
        token = client.post("/api/auth/token", data={"username": user, "password": DEMO_PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        clients[user] = client
    yield {"app": app, "clients": clients, "network": network}
    database.dispose()


def test_run_is_guarded_and_checked_before_any_work(demo):
    clients = demo["clients"]
    for user in ("viewer", "crew1"):
        response = clients[user].post("/api/analysis/leaks/run", json={"days": 7, "leaks": 1})
        assert response.status_code == 403, user
        assert response.json()["error"]["details"]["action"] == "leaks:run"
    for bad in ({"days": 6}, {"days": 61}, {"leaks": 0}, {"leaks": 7}, {"seed": -1}, {"days": "x"}):
        assert clients["dispatcher"].post("/api/analysis/leaks/run", json=bad).status_code == 422, bad
    assert clients["viewer"].get("/api/analysis/leaks/jobs/nosuchjob").status_code == 404
    with demo["app"].state.database.session() as session:  # nothing was started (jobs live in the database)
        assert list_jobs(session, "leaks") == []


def test_short_run_finishes_with_events_truth_score_and_night_flow(demo):
    client, viewer, net = demo["clients"]["dispatcher"], demo["clients"]["viewer"], demo["network"]
    started = client.post("/api/analysis/leaks/run", json={"days": 7, "leaks": 1, "seed": 3})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    again = demo["clients"]["engineer"].post("/api/analysis/leaks/run", json={"days": 7, "leaks": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"  # one run at a time
    t0, seen = time.perf_counter(), []
    while True:
        job = viewer.get(f"/api/analysis/leaks/jobs/{job_id}").json()  # a viewer may watch (analysis:read)
        seen.append(job["progress"])
        if job["status"] in ("done", "failed") or time.perf_counter() - t0 > 50:
            break
        time.sleep(0.5)
    assert job["status"] == "done", job.get("error") or job["status"]
    assert seen == sorted(seen) and job["progress"] == 1.0
    result = job["result"]
    print(f"leak run (7 days, 1 leak): {job['seconds']} s, timing {result['timing']}")
    assert result["days"] == 7 and result["training_days"] == 3
    assert result["sensors"]["pressure"] > 30 and result["sensors"]["flow"] > 0  # the sidecar's + 4 per DMA

    assert len(result["truth"]) == 1
    leak = result["truth"][0]
    assert TRUTH_KEYS <= set(leak) and leak["pipe"] in net.pipes
    assert pd.Timestamp(leak["start"]) >= pd.Timestamp("2019-01-04")  # no leak in the 3 training days
    pipe = net.pipes[leak["pipe"]]
    a, b = net.node(pipe.node1), net.node(pipe.node2)
    assert leak["xy"] == pytest.approx([(a.x + b.x) / 2, (a.y + b.y) / 2], abs=0.01)
    assert leak["mean_m3h"] > 0 and leak["kind"] in ("abrupt", "incipient")

    score = result["score"]
    assert SCORE_KEYS <= set(score) and score["leaks"] == 1
    outcomes = [ev["outcome"] for ev in result["events"]]
    assert score["leaks_found"] == outcomes.count("true_positive")
    assert score["false_positives"] == outcomes.count("false_positive")
    for ev in result["events"]:
        assert EVENT_KEYS <= set(ev)
        assert ev["dma"] in net.utility.dmas or ev["dma"]
        assert pd.Timestamp(ev["start"]) <= pd.Timestamp(ev["detected_at"])
        assert 1 <= len(ev["candidates"]) <= 5 and ev["candidates"][0]["pipe"] == ev["pipe"]
        assert all(c["pipe"] in net.pipes and 0 <= c["confidence"] <= 1 for c in ev["candidates"])
        if ev["outcome"] == "true_positive":
            assert ev["true_leak"] == leak["pipe"] and ev["distance_to_leak_m"] <= 300

    night = {row["dma"]: row for row in result["night_flow"]}
    assert set(night) == set(net.utility.dmas)
    assert all(isinstance(row["flagged"], bool) and row["limit_m3h"] >= 1.0 for row in night.values())


def test_leaks_view_runs_from_the_form_and_marks_the_map(demo, tmp_path):
    """One browser step: the 漏损 view (no longer 尚未开放) runs a job from its form and shows the API's figures."""
    import socket
    import threading
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    playwright_sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")
    import uvicorn

    from runze.ops.demo import DEMO_PASSWORD

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(demo["app"], host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    try:
        with playwright_sync.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=args, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#u", "dispatcher")
            page.fill("#p", DEMO_PASSWORD)
            page.click("[data-testid=login-submit]")
            page.wait_for_selector("[data-testid=view-overview][data-ready='1']", timeout=60_000)
            page.click("[data-testid=nav-leaks]")
            page.wait_for_selector("[data-testid=view-leaks][data-ready='1']", timeout=60_000)
            assert page.query_selector("[data-testid=unavailable]") is None
            page.fill("[data-testid=lk-days]", "7")
            page.fill("[data-testid=lk-leaks]", "1")
            page.fill("[data-testid=lk-seed]", "3")
            page.click("[data-testid=lk-run]")
            page.wait_for_selector("[data-testid=lk-found]", timeout=55_000)
            job_id = page.eval_on_selector("[data-testid=view-leaks]", "e => e.dataset.job")
            job = demo["clients"]["viewer"].get(f"/api/analysis/leaks/jobs/{job_id}").json()
            result = job["result"]
            assert page.inner_text("[data-testid=lk-found]") == f"{result['score']['leaks_found']} / 1"
            assert "100%" in page.inner_text("[data-testid=lk-message]")
            assert result["truth"][0]["pipe"] in page.inner_text("[data-testid=lk-truth]")
            shown = page.eval_on_selector("[data-testid=view-leaks]", "e => e.dataset.highlighted")
            assert int(shown) == sum(len(ev["candidates"]) for ev in result["events"])
            marks = page.evaluate(
                "() => window.runzeMap.chart.getOption().series.find(s => s.id === 'marks').data"
            )
            assert len(marks) == 1  # the true leak's node
            artifacts = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
            artifacts.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(artifacts / "leaks-run.png"), full_page=True)
            assert errors == []
            browser.close()
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
