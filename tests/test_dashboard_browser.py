"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against `runze serve`'s app
(uvicorn in a thread, temp SQLite demo database: the demo city and a year of records).

Logs in through the page, opens every view, runs an outage plan by clicking a pipe on the map and a dispatch
what-if from the form, and checks what the page shows against the API's own answers.  The network map's
render time (performance.now around setOption until ECharts' 'finished') and pan frame times are measured in
the page and printed.  Screenshots go to test-artifacts/dashboard/.  Skipped only when /usr/bin/chromium is
missing (CI: `apt-get install -y chromium fonts-noto-cjk`); never downloads a browser.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
MAP_BUDGET_MS = 2000.0
PAN_FRAME_BUDGET_MS = 250.0

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                       "(apt-get install -y chromium fonts-noto-cjk)"),
    pytest.mark.timeout(240),
]
playwright_sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raise_two_alarms(database, csv_path: Path) -> None:
    """Register the demo city's sensors and import readings in which two plant-outlet pressures fall to 5 m."""
    from runze.ops import networks as network_ops
    from runze.ops import telemetry as telemetry_ops

    with database.session() as session:
        version = network_ops.get_version(session, 1)
        net = network_ops.parse_network(version.inp_text, version.filename, version.sidecar)
        telemetry_ops.register_sensors_now(session, telemetry_ops.sensors_from_network(net))
    sensors = [s["id"] for s in net.utility.sensors if s["kind"] == "pressure"][:2]
    rows = ["timestamp,sensor_id,value,unit"] + [
        f"2025-12-31T02:{5 * i:02d}:00+08:00,{sid},{30 if i < 2 else 5},m" for i in range(8) for sid in sensors]
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with database.session() as session:
        telemetry_ops.import_file(session, csv_path)
        session.commit()


def _warm_up(base: str, password: str) -> None:
    """Parse the network and run the day's simulation once, so the page timings are the page's, not the solver's."""
    import httpx

    token = httpx.post(f"{base}/api/auth/token", data={"username": "dispatcher", "password": password}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    started = time.perf_counter()
    assert httpx.get(f"{base}/api/analysis/overview", headers=headers, timeout=120).status_code == 200
    print(f"\nfirst overview (parse + 24 h simulation) {time.perf_counter() - started:.1f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn
    from runze_db_fixtures import make_settings

    from runze.ops import database as db_ops
    from runze.ops.demo import DEMO_PASSWORD, load_demo
    from runze.web import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'demo.db'}"
    settings = make_settings(url)
    database = db_ops.open_database(settings)
    db_ops.migrate(database)
    with database.session() as session:
        load_demo(session, settings)
    _raise_two_alarms(database, tmp_path_factory.mktemp("readings") / "low.csv")
    app = create_app(settings, database=database)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    base = f"http://127.0.0.1:{port}"
    _warm_up(base, DEMO_PASSWORD)
    yield {"base": base, "password": DEMO_PASSWORD, "app": app}
    srv.should_exit = True
    thread.join(timeout=10)
    database.dispose()


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _login(browser, server, user: str = "dispatcher"):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server["base"] + "/")
    page.fill("#u", user)
    page.fill("#p", server["password"])
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=view-overview][data-ready='1']", timeout=60_000)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _api(page, path: str, method: str = "GET", body=None):
    """The same call the page makes, with the page's token (sessionStorage)."""
    return page.evaluate(
        """async ([path, method, body]) => {
            const r = await fetch(path, {method, headers: {Authorization: 'Bearer ' + sessionStorage.getItem('runze.token'),
              'Content-Type': 'application/json'}, body: body === null ? undefined : JSON.stringify(body)});
            return {status: r.status, json: await r.json()};
        }""", [path, method, body])


def _number(text: str) -> float:
    return float("".join(c for c in text if c.isdigit() or c in ".-"))


def _open(page, view: str):
    page.click(f"[data-testid=nav-{view}]")
    page.wait_for_selector(f"[data-testid=view-{view}][data-ready='1']", timeout=60_000)


def test_login_title_and_every_view(browser, server):
    page = _login(browser, server)
    assert "润泽" in page.title()
    views = page.eval_on_selector_all("nav a", "els => els.map(e => e.dataset.view)")
    assert views == ["overview", "network", "plants", "alarms", "dispatch", "leaks", "outage", "workorders",
                     "connections", "party", "reports"]
    for view in views:
        _open(page, view)
        assert page.query_selector("[data-testid=view-error]") is None, page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / f"view-{view}.png"))
    # views without a back end say so, with no figures
    for view in ("leaks", "connections", "party", "reports"):
        spec = _api(page, "/openapi.json")["json"]["paths"]
        if not any(view in p for p in spec):
            _open(page, view)
            assert "尚未开放" in page.inner_text("[data-testid=unavailable]")
    assert page.errors == []  # type: ignore[attr-defined]
    page.close()


def test_overview_numbers_match_the_api(browser, server):
    page = _login(browser, server)
    ov = _api(page, "/api/analysis/overview")["json"]
    states = "&".join(f"status={s}" for s in ("reported", "dispatched", "on_site", "isolated", "repaired", "restored"))
    open_wo = _api(page, f"/api/workorders?{states}&limit=1")["json"]["total"]
    assert ov["total_supply_m3"] > 90_000  # the demo city delivers about 10 万吨 a day
    assert _number(page.inner_text("[data-testid=total-supply]")) == pytest.approx(ov["total_supply_m3"] / 1e4, abs=0.006)
    assert _number(page.inner_text("[data-testid=pressure-compliance]")) == pytest.approx(
        ov["pressure_compliance"] * 100, abs=0.06)
    assert _number(page.inner_text("[data-testid=open-workorders]")) == open_wo
    assert _number(page.inner_text("[data-testid=nrw]")) == pytest.approx(ov["nrw"]["nrw_fraction"] * 100, abs=0.06)
    for plant in ov["plants"]:
        assert _number(page.inner_text(f"[data-testid=supply-{plant['id']}]")) == pytest.approx(plant["supply_m3"], abs=1)
    page.screenshot(path=str(ARTIFACTS / "overview.png"))
    page.close()


def test_network_map_renders_fast_on_canvas_and_pans(browser, server):
    page = _login(browser, server)
    _open(page, "network")
    page.wait_for_function("window.runzeMap && window.runzeMap.timing.finished_ms > 0")
    timing = page.evaluate("window.runzeMap.timing")
    # hover details and the side panel on a click at a pipe's midpoint (before any zoom)
    x, y = page.evaluate("window.runzeMap.pipePixel('P1182')")
    box = page.query_selector("[data-testid=network-map]").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("[data-testid=selected-pipe]", timeout=10_000)
    assert page.inner_text("[data-testid=selected-pipe]").startswith("P")
    # a fresh render, measured again now that the data is in memory
    again = page.evaluate("window.runzeMap.render().then(t => ({...t}))")
    counts = page.evaluate("""() => ({canvas: document.querySelectorAll('[data-testid=network-map] canvas').length,
                                       svg: document.querySelectorAll('[data-testid=network-map] svg *').length})""")
    pan = page.evaluate("""async () => {
        const c = window.runzeMap.chart; const frames = [];
        for (let i = 0; i < 20; i++) {
            const t0 = performance.now();
            await new Promise(res => { c.off('finished'); c.on('finished', () => { c.off('finished'); res(); });
              c.dispatchAction({type: 'dataZoom', batch: [{dataZoomIndex: 0, start: 20 + i, end: 60 + i},
                                                          {dataZoomIndex: 1, start: 20 + i, end: 60 + i}]}); });
            frames.push(performance.now() - t0);
        }
        frames.sort((a, b) => a - b);
        return {median: frames[10], max: frames[19]};
    }""")
    slider = page.evaluate("""() => { const t0 = performance.now(); const s = document.querySelector('[data-testid=time-slider]');
        s.value = 3; s.dispatchEvent(new Event('input')); return performance.now() - t0; }""")
    print(f"\nmap render: first {timing['finished_ms']:.0f} ms (setOption {timing['setOption_ms']:.0f} ms), "
          f"again {again['finished_ms']:.0f} ms; pan frame median {pan['median']:.1f} ms, max {pan['max']:.1f} ms; "
          f"time-slider recolour {slider:.0f} ms; canvases {counts['canvas']}, svg elements {counts['svg']}")
    page.screenshot(path=str(ARTIFACTS / "network-map.png"))
    assert counts["canvas"] >= 1 and counts["svg"] == 0
    assert timing["finished_ms"] < MAP_BUDGET_MS and again["finished_ms"] < MAP_BUDGET_MS
    # a pan frame (dataZoom action to ECharts' 'finished'): 60-130 ms measured on this 2-core machine at load
    # 5-10 (software rendering); one SVG element per pipe would take seconds.  A regression guard, not a target.
    assert pan["median"] < PAN_FRAME_BUDGET_MS, pan
    assert page.inner_text("[data-testid=hour-label]") == "03:00"
    page.screenshot(path=str(ARTIFACTS / "network-map-zoomed.png"))
    page.close()


def test_outage_plan_from_a_click_on_the_map(browser, server):
    page = _login(browser, server)
    _open(page, "outage")
    page.wait_for_function("window.runzeMap && window.runzeMap.timing.finished_ms > 0")
    pipe = "P1182"  # a DN300 main in the demo city (issue 6's benchmark pipe)
    x, y = page.evaluate(f"window.runzeMap.pipePixel('{pipe}')")
    box = page.query_selector("[data-testid=outage-map]").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)  # ECharts' large lines find the pipe under the pointer on move
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("[data-testid=plan-pipe]", timeout=60_000)
    clicked = page.inner_text("[data-testid=plan-pipe]")
    api = _api(page, "/api/analysis/outage/plan", "POST", {"pipe": clicked, "hours": 4})
    assert api["status"] == 200
    plan = api["json"]["plan"]
    assert _number(page.inner_text("[data-testid=plan-valves]")) == len(plan["valves_to_close"]) > 0
    assert _number(page.inner_text("[data-testid=plan-customers]")) == plan["customers_total"]
    notice = page.inner_text("[data-testid=plan-notice]")
    assert "停水" in notice
    assert len(page.query_selector_all("[data-testid=plan-windows] li")) == len(api["json"]["windows"]["windows"]) > 0
    page.screenshot(path=str(ARTIFACTS / "outage-plan.png"))
    print(f"\nclicked pipe {clicked} (aimed at {pipe}): {len(plan['valves_to_close'])} valves, "
          f"{plan['customers_total']} customers")
    page.close()


def test_dispatch_whatif_from_the_form(browser, server):
    page = _login(browser, server)
    _open(page, "dispatch")
    page.select_option("[data-testid=wf-plant]", "P1")
    page.fill("[data-testid=wf-capacity]", "0")
    page.fill("[data-testid=wf-hours]", "4")
    page.fill("[data-testid=wf-start]", "6")
    page.fill("[data-testid=wf-search]", "5")
    started = time.perf_counter()
    page.click("[data-testid=wf-run]")
    page.wait_for_selector("[data-testid=wf-verdict]", timeout=120_000)
    seconds = time.perf_counter() - started
    job_id = page.eval_on_selector("[data-testid=view-dispatch]", "e => e.dataset.job")
    job = _api(page, f"/api/analysis/dispatch/jobs/{job_id}")["json"]
    assert job["status"] == "done" and job["progress"] == 1.0
    result = job["result"]
    assert page.inner_text("[data-testid=wf-progress]") == "" and "100%" in page.inner_text("[data-testid=wf-message]")
    for case, prefix in (("no_action", "na"), ("plan", "plan")):
        shown = page.inner_text(f"[data-testid={prefix}-unmet_demand_m3]")
        assert _number(shown) == pytest.approx(result[case]["unmet_demand_m3"], abs=0.06)
        shown = page.inner_text(f"[data-testid={prefix}-customer_hours_below_service]")
        assert _number(shown) == pytest.approx(result[case]["customer_hours_below_service"], abs=0.6)
    assert result["verdict"]["zh"] in page.inner_text("[data-testid=wf-verdict]")
    page.screenshot(path=str(ARTIFACTS / "dispatch-whatif.png"), full_page=True)
    print(f"\nwhat-if plant 1 out 06:00+4 h in {seconds:.1f} s: unmet {result['no_action']['unmet_demand_m3']:.0f} → "
          f"{result['plan']['unmet_demand_m3']:.0f} m³; verdict {result['verdict']['kind']}")
    page.close()


def test_roles_see_only_their_views_and_language_switch(browser, server):
    page = _login(browser, server, "viewer")
    views = page.eval_on_selector_all("nav a", "els => els.map(e => e.dataset.view)")
    assert "dispatch" not in views and "outage" not in views and "overview" in views
    me = _api(page, "/api/auth/me")["json"]
    assert "dispatch:whatif" not in me["permissions"]
    page.click("[data-testid=lang-toggle]")
    page.wait_for_selector("[data-testid=view-overview][data-ready='1']")
    assert page.inner_text("[data-testid=nav-overview]") == "Overview"
    page.screenshot(path=str(ARTIFACTS / "viewer-english.png"))
    page.close()
    page = _login(browser, server, "engineer")
    views = page.eval_on_selector_all("nav a", "els => els.map(e => e.dataset.view)")
    assert "outage" in views
    page.close()


def test_connections_party_and_report_figures_match_the_api(browser, server):
    page = _login(browser, server, "admin")
    paths = _api(page, "/openapi.json")["json"]["paths"]
    if "/api/connections/figures" not in paths:
        pytest.skip("the API has no connection routes yet (issue 8): the 报装 view shows 尚未开放")
    _open(page, "connections")
    month = page.input_value("[data-testid=month]")
    figures = _api(page, f"/api/connections/figures?month={month}")["json"]
    assert figures["submitted"] > 0  # the default month is the newest application's, so it has data
    assert _number(page.inner_text("[data-testid=conn-submitted]")) == figures["submitted"]
    assert _number(page.inner_text("[data-testid=conn-completed]")) == figures["completed"]
    median = next(k for k in figures["by_kind"] if k["customer_kind"] == "all")["workdays_median"]
    assert _number(page.inner_text("[data-testid=conn-workdays]")) == pytest.approx(median, abs=0.006)
    page.screenshot(path=str(ARTIFACTS / "connections.png"))
    _open(page, "party")
    report = _api(page, f"/api/party/report?month={month}")["json"]
    assert _number(page.inner_text("[data-testid=party-members]")) == report["members"]
    _open(page, "reports")
    monthly = _api(page, f"/api/reports/monthly?month={month}")["json"]
    assert _number(page.inner_text("[data-testid=report-nrw]")) == pytest.approx(
        monthly["headline"]["nrw_percent"], abs=0.06)
    page.click("[data-testid=report-html]")
    page.wait_for_function("document.querySelector('#frame')?.style.display === 'block'")
    page.screenshot(path=str(ARTIFACTS / "report.png"))
    page.close()


def _unacknowledged(page) -> int:
    return sum(_api(page, f"/api/telemetry/alarms?status={s}&limit=1")["json"]["total"]
               for s in ("raised", "cleared_unacknowledged"))


def test_acknowledge_an_alarm(browser, server):
    page = _login(browser, server)
    paths = _api(page, "/openapi.json")["json"]["paths"]
    if "/api/telemetry/alarms" not in paths:
        pytest.skip("the API has no alarm routes (runze/web/routes/telemetry.py): the alarms view shows 尚未开放")
    attention = _unacknowledged(page)
    assert attention >= 1  # raised by the readings the fixture imported
    assert _number(page.inner_text("[data-testid=open-alarms]")) == attention
    _open(page, "alarms")
    alarm = _api(page, "/api/telemetry/alarms?status=raised&limit=1")["json"]["items"][0]
    assert page.inner_text(f"[data-testid=alarm-status-{alarm['id']}]") == "raised"
    page.screenshot(path=str(ARTIFACTS / "alarms-before.png"))
    page.click(f"[data-testid=ack-{alarm['id']}]")
    page.wait_for_function(f"document.querySelector('[data-testid=alarm-status-{alarm['id']}]')?.textContent "
                           "=== 'acknowledged'", timeout=10_000)
    after = _api(page, "/api/telemetry/alarms?limit=100")["json"]["items"]
    stored = next(a for a in after if a["id"] == alarm["id"])
    assert stored["status"] == "acknowledged" and stored["acknowledged_by"] == "dispatcher"
    assert _unacknowledged(page) == attention - 1
    assert _number(page.inner_text("[data-testid=alarms-open]")) == attention - 1
    page.screenshot(path=str(ARTIFACTS / "alarms-after.png"))
    # a viewer sees the alarms but gets no acknowledge button
    viewer = _login(browser, server, "viewer")
    _open(viewer, "alarms")
    assert viewer.query_selector("button[data-ack]") is None
    viewer.close()
    page.close()
