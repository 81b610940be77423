"""The demo city: size, structure, sidecar, determinism, and a clean 24 h run through EPANET 2.3."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from runze.network.demo_city import build_demo_city, city_summary, write_demo_city
from runze.network.demo_city.check import epanet_check
from runze.network.demo_city.customers import CATEGORIES, USE_M3D
from runze.network.demo_city.sizing import DN_SERIES_MM
from runze.network.inp import read_inp


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    inp, side = write_demo_city(out, seed=2026, scale=1.0)
    net = read_inp(inp)
    result = epanet_check(inp, {p["id"]: p["outlet_link"] for p in net.utility.plants})
    return inp, side, net, result


def test_files_and_sources(city):
    inp, side, net, _ = city
    assert inp.name == "demo-city.inp" and side.name == "demo-city.json" and side.exists()
    assert len(net.reservoirs) == 4
    assert net.options.flow_units == "LPS" and net.options.headloss == "H-W"
    assert net.options.time.duration == 86400 and net.options.time.hydraulic_step <= 3600
    for node in net.nodes():
        assert node.x is not None and node.y is not None


def test_mains_length_and_sizes(city):
    _, _, net, _ = city
    km = net.total_pipe_length() / 1000.0
    assert 380.0 <= km <= 450.0
    dn = {round(p.diameter * 1000) for p in net.pipes.values()}
    assert dn <= set(DN_SERIES_MM.tolist())
    assert min(dn) == 100 and max(dn) == 1000
    c = np.array([p.roughness for p in net.pipes.values()])
    assert c.min() >= 100 and c.max() <= 140


def test_epanet_day_is_clean(city):
    _, _, net, r = city
    assert r.warnings == []
    assert len(r.times_h) >= 25
    assert r.min_pressure.min() >= 14.0  # every demand node, every hour
    assert r.peak_max_pressure <= 60.0
    assert 0.5 < r.peak_max_velocity <= 1.5  # pipes sized for ~1 m/s at the design peak
    assert 90_000 <= r.daily_volume_m3 <= 130_000
    # the tanks fill and draw down without running full or empty
    for tid, (lo, hi) in r.tank_levels.items():
        t = net.tanks[tid]
        assert t.min_level + 0.05 < lo < hi < t.max_level - 0.05
        assert hi - lo > 0.5


def test_plants_share_the_load(city):
    _, _, net, r = city
    total_cap = sum(p["capacity_m3d"] for p in net.utility.plants)
    assert 140_000 <= total_cap <= 160_000
    for p in net.utility.plants:
        assert r.plant_volume_m3[p["id"]] > 0.1 * r.daily_volume_m3  # none idle
        assert r.plant_peak_m3s[p["id"]] * 86400.0 <= p["capacity_m3d"]  # none over capacity at the peak


def test_sidecar_plants(city):
    _, side, net, _ = city
    data = json.loads(side.read_text(encoding="utf-8"))
    plants = data["plants"]
    assert [p["name"] for p in plants] == ["一水厂", "二水厂", "三水厂", "四水厂"]
    assert [p["raw_water"] for p in plants] == ["river", "river", "river", "reservoir"]
    for p in plants:
        for key in ("id", "name", "capacity_m3d", "source", "clearwell", "pumps", "raw_water", "outlet_link"):
            assert key in p
        assert p["source"] in net.reservoirs and p["outlet_link"] in net.pipes
        statuses = [net.pumps[pu].initial_status for pu in p["pumps"]]
        assert statuses.count("CLOSED") == 1 and statuses[-1] == "CLOSED"  # one standby
        curve = net.curves[net.pumps[p["pumps"][0]].head_curve]
        assert len(curve.points) == 3
    for key in ("dmas", "zones", "customers", "critical_users", "valves", "sensors"):
        assert data[key]


def test_dmas_zones_valves_sensors(city):
    _, _, net, _ = city
    u = net.utility
    assert len(u.dmas) >= 18
    for dma_id, dma in u.dmas.items():
        assert dma_id.startswith("DMA") and dma["name"].endswith("片区")
        assert dma["inlets"] and dma["nodes"]
        assert all(net.link(k).initial_status == "OPEN" for k in dma["inlets"])
        assert all(net.pipes[k].initial_status == "CLOSED" for k in dma["boundary_valves"])
    assert set(u.zones.values()) == {"main", "high"}
    assert len(net.tanks) >= 2 and any(u.zones[t] == "high" for t in net.tanks)
    n_pipes = len(net.pipes)
    assert n_pipes / 3.5 <= len(u.valves) <= n_pipes / 1.5
    kinds = {s["kind"] for s in u.sensors}
    assert kinds == {"pressure", "flow", "level", "turbidity"}
    for s in u.sensors:
        assert net.has_node(s["element"]) or net.has_link(s["element"])
    loggers = [s for s in u.sensors if s["id"].startswith("PL")]
    assert 25 <= len(loggers) <= 35


def test_customers_match_demands(city):
    _, _, net, _ = city
    u = net.utility
    assert sum(sum(c.values()) for c in u.customers.values()) >= 90_000
    use = dict(zip(CATEGORIES, USE_M3D / 86400.0, strict=True))
    for node, counts in list(u.customers.items())[::50]:
        demands = {d.category: d.base for d in net.junctions[node].demands}
        for cat, n in counts.items():
            assert demands[cat] == pytest.approx(n * use[cat], rel=1e-4, abs=1e-8)
    names = {c["name"] for c in u.critical_users}
    assert {"县人民医院", "县中医院", "县消防救援大队"} <= names
    patterns = {d.pattern for j in net.junctions.values() for d in j.demands if d.base > 0}
    assert patterns == {*CATEGORIES, "leakage"}
    summary = city_summary(net)
    assert summary["customers"] >= 90_000 and summary["dmas"] == len(u.dmas)


def test_same_seed_same_bytes(city, tmp_path):
    inp, side, _, _ = city
    inp2, side2 = write_demo_city(tmp_path, seed=2026, scale=1.0)
    assert inp2.read_bytes() == inp.read_bytes()
    assert side2.read_bytes() == side.read_bytes()


def test_other_seed_other_city():
    a = build_demo_city(seed=7, scale=0.3, commission_plants=False)
    b = build_demo_city(seed=8, scale=0.3, commission_plants=False)
    assert a.junctions.keys() != b.junctions.keys() or [j.x for j in a.junctions.values()] != [
        j.x for j in b.junctions.values()]


def test_cli(tmp_path):
    from runze.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["demo-city", "--out", str(tmp_path), "--scale", "0.3", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "demo-city.inp").exists() and (tmp_path / "demo-city.json").exists()
    res = runner.invoke(app, ["demo-city", "--out", str(tmp_path), "--scale", "-1"])
    assert res.exit_code == 2
    assert "scale" in res.output
    with pytest.raises(ValueError, match="scale"):
        build_demo_city(scale=0.0)
