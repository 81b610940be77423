"""The dashboard's API (/api/analysis/...) and static files, without a browser, on a demo database.

The map data is checked against the stored network, the time-slider simulation against EPANET 2.3 (owa-epanet)
run on the stored .inp, the overview's figures against the simulation and the demo city's design (leakage is
10 % of input), the outage plan against `OutagePlanner` called directly, and the what-if job against
`runze.analysis.dispatch.service.analyse` called directly.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parent.parent / "runze" / "web" / "static"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from runze_db_fixtures import make_settings

    from runze.ops import database as db_ops
    from runze.ops import networks as network_ops
    from runze.ops.demo import DEMO_PASSWORD, load_demo
    from runze.web import create_app

    settings = make_settings(f"sqlite:///{tmp_path_factory.mktemp('dash-api') / 'demo.db'}")
    database = db_ops.open_database(settings)
    db_ops.migrate(database)
    with database.session() as session:
        load_demo(session, settings)
        version = network_ops.get_version(session, 1)
        inp_text, filename, sidecar = version.inp_text, version.filename, version.sidecar
    network = network_ops.parse_network(inp_text, filename, sidecar)
    inp_path = tmp_path_factory.mktemp("dash-inp") / "demo-city.inp"
    inp_path.write_text(inp_text, encoding="utf-8")
    app = create_app(settings, database=database)
    clients = {}
    for user in ("dispatcher", "viewer", "crew1", "engineer"):
        client = TestClient(app, raise_server_exceptions=False)
        token = client.post("/api/auth/token", data={"username": user, "password": DEMO_PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        clients[user] = client
    yield {"app": app, "clients": clients, "network": network, "inp": inp_path,
           "anonymous": TestClient(app, raise_server_exceptions=False)}
    database.dispose()


def test_index_and_static_files_are_served_without_login_and_without_cdn(demo):
    client = demo["anonymous"]
    index = client.get("/")
    assert index.status_code == 200 and "润泽" in index.text and index.headers["cache-control"] == "no-cache"
    assert client.get("/static/vendor/echarts.min.js").status_code == 200
    for src in re.findall(r'(?:src|href)="([^"]+)"', index.text):
        assert src.startswith("/static/"), src  # nothing from the internet: utility networks are often offline
        assert client.get(src).status_code == 200, src
    for js in (STATIC / "js").glob("*.js"):
        text = js.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), f"{js.name} refers to an outside address"
        for imported in re.findall(r'from "\./([^"]+)"', text):
            assert client.get(f"/static/js/{imported}").status_code == 200
    assert client.get("/api/analysis/network").status_code == 401  # the data is not public
    assert "/" not in demo["app"].openapi()["paths"]  # the page is outside the API spec


def test_map_geometry_is_the_stored_network(demo):
    geo = demo["clients"]["viewer"].get("/api/analysis/network").json()
    net = demo["network"]
    assert geo["nodes"]["ids"] == net.node_ids and geo["links"]["ids"] == net.link_ids
    k = net.node_ids.index("J0001")
    assert (geo["nodes"]["x"][k], geo["nodes"]["y"][k]) == pytest.approx((net.node("J0001").x, net.node("J0001").y),
                                                                           abs=0.06)
    for i, link in enumerate(net.links()):
        assert (geo["links"]["n1"][i], geo["links"]["n2"][i]) == (net.node_ids.index(link.node1),
                                                                  net.node_ids.index(link.node2))
        if i > 50:
            break
    assert len(geo["dmas"]) == len(net.utility.dmas) == 20 and all(len(d["hull"]) >= 3 for d in geo["dmas"])
    assert [p["name"] for p in geo["plants"]] == ["一水厂", "二水厂", "三水厂", "四水厂"]
    assert sum(geo["links"]["closed"]) == sum(link.initial_status == "CLOSED" for link in net.links())
    assert len(geo["valves"]) == len(net.utility.valves) and len(geo["sensors"]) == len(net.utility.sensors)
    assert geo["summary"]["mains_km"] > 400


def test_time_slider_simulation_agrees_with_epanet(demo):
    from _inp_epanet import simulate as epanet_simulate

    started = time.perf_counter()
    sim = demo["clients"]["viewer"].get("/api/analysis/simulation").json()
    seconds = time.perf_counter() - started
    net = demo["network"]
    node_ids, link_ids, heads, flows, times = epanet_simulate(demo["inp"], max_hours=24)
    assert node_ids == net.node_ids and link_ids == net.link_ids
    assert sim["times_s"] == [t for t in times if t % 3600 == 0] and len(sim["times_s"]) == 25
    rows = [times.index(t) for t in sim["times_s"]]
    elevation = np.array([getattr(n, "elevation", getattr(n, "head", 0.0)) for n in net.nodes()])
    epanet_pressure = heads[rows] - elevation
    n_j = len(net.junctions)
    ours = np.array(sim["pressure_m"], dtype=float)
    dp = np.abs(ours[:, :n_j] - epanet_pressure[:, :n_j])
    dq = np.abs(np.array(sim["flow_lps"], dtype=float) - flows[rows])  # the demo city's file is in LPS
    print(f"\nsimulation endpoint {seconds:.1f} s; vs EPANET: max |dp| {dp.max():.4f} m, max |dq| {dq.max():.3f} L/s")
    assert dp.max() < 0.02  # measured 0.005 m
    assert dq.max() < 0.1  # measured 0.006 L/s


def test_overview_figures_follow_from_the_simulation(demo):
    client = demo["clients"]["viewer"]
    ov = client.get("/api/analysis/overview").json()
    sim = client.get("/api/analysis/simulation").json()
    for plant in ov["plants"]:
        assert plant["supply_m3"] == pytest.approx(sum(sim["plant_outflow_m3h"][plant["id"]][:24]), abs=0.2)
    assert ov["total_supply_m3"] == pytest.approx(sum(p["supply_m3"] for p in ov["plants"]), abs=0.5)
    assert 95_000 < ov["total_supply_m3"] < 115_000  # "日供水量超过10万吨"
    pressure = np.array(sim["pressure_m"], dtype=float)[:24, : len(demo["network"].junctions)]
    customers = np.array([sum(demo["network"].utility.customers.get(j, {}).values()) > 0
                          for j in demo["network"].junctions])
    assert ov["pressure_compliance"] == pytest.approx(np.mean(pressure[:, customers] >= 14.0 * 1.0197), abs=1e-4)
    assert ov["nrw"]["nrw_fraction"] == pytest.approx(0.10, abs=0.005)  # the demo city's leakage is 10 % of input


def test_outage_plan_is_the_planners(demo):
    from runze.analysis.isolation.plan import OutagePlanner

    client = demo["clients"]["dispatcher"]
    answer = client.post("/api/analysis/outage/plan", json={"pipe": "P1182", "hours": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    best = body["windows"]["windows"][0]
    assert body["plan"]["start"] == best["start"]
    from datetime import datetime

    direct = OutagePlanner(demo["network"]).plan(pipe="P1182", start=datetime.fromisoformat(best["start"]), hours=4)
    assert body["plan"]["valves_to_close"] == direct.valves_to_close
    assert body["plan"]["customers_total"] == sum(direct.customers.values())
    assert body["plan"]["demand_lost_m3"] == pytest.approx(direct.demand_lost_m3)
    assert "P1182" in body["notice"]["texts"]["zh"] and "P1182" in body["notice"]["texts"]["en"]
    bad = client.post("/api/analysis/outage/plan", json={"pipe": "NO-SUCH-PIPE", "hours": 4})
    assert bad.status_code == 422 and "NO-SUCH-PIPE" in bad.json()["error"]["message"]
    assert client.post("/api/analysis/outage/plan", json={"pipe": "P1182", "hours": 0}).status_code == 422
    assert demo["clients"]["viewer"].post("/api/analysis/outage/plan", json={"pipe": "P1182"}).status_code == 403
    assert demo["clients"]["engineer"].post("/api/analysis/outage/plan",
                                            json={"pipe": "P1182", "hours": 2}).status_code == 200


def test_whatif_job_reports_progress_and_the_analysis_result(demo):
    from runze.analysis.dispatch.events import build_event
    from runze.analysis.dispatch.service import analyse

    client = demo["clients"]["dispatcher"]
    for bad in ({"plant": "P9", "capacity": 0.0}, {"plant": "P1", "capacity": 1.5}, {"plant": "P1"}):
        assert client.post("/api/analysis/dispatch/jobs", json=bad).status_code == 422, bad
    assert demo["clients"]["crew1"].post("/api/analysis/dispatch/jobs",
                                         json={"plant": "P1", "capacity": 0.0}).status_code == 403
    started = client.post("/api/analysis/dispatch/jobs", json={"plant": "P1", "capacity": 0.0, "hours": 3,
                                                                "start_hour": 7, "search_seconds": 0})
    assert started.status_code == 202, started.text
    job_id, seen = started.json()["id"], []
    deadline = time.time() + 90
    while time.time() < deadline:
        job = client.get(f"/api/analysis/dispatch/jobs/{job_id}").json()
        seen.append(job["progress"])
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "done", job.get("error")
    assert seen == sorted(seen) and seen[-1] == 1.0
    net = demo["network"]
    direct = analyse(net, build_event(net, plant="P1", capacity=0.0), 7 * 3600, 3, optimise=False)
    result = job["result"]
    assert result["no_action"]["unmet_demand_m3"] == pytest.approx(direct["no_action"]["unmet_demand_m3"], rel=1e-6)
    assert result["no_action"]["unmet_demand_m3"] > 0  # plant 1 out at the morning peak leaves demand unmet
    assert len(result["no_action"]["hourly"]) == 3
    assert client.get("/api/analysis/dispatch/jobs/nosuchjob").status_code == 404


def test_me_lists_the_dashboard_actions_by_role(demo):
    me = demo["clients"]["dispatcher"].get("/api/auth/me").json()
    assert {"analysis:read", "outage:plan", "dispatch:whatif"} <= set(me["permissions"])
    viewer = demo["clients"]["viewer"].get("/api/auth/me").json()
    assert "analysis:read" in viewer["permissions"] and "dispatch:whatif" not in viewer["permissions"]
