"""`runze outage` commands end to end, the pressure run in EPANET, and clear exits (code 2) on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_isolation_nets import loop_network
from typer.testing import CliRunner

from runze.analysis.isolation.hydraulic import outage_pressures
from runze.cli.main import app
from runze.network.inp import write_inp

runner = CliRunner()
NET3 = Path(__file__).resolve().parents[1] / ".venv/lib/python3.11/site-packages/wntr/library/networks/Net3.inp"


@pytest.fixture()
def loop_inp(tmp_path):
    path = tmp_path / "loop.inp"
    write_inp(loop_network(), path)  # writes loop.json, the sidecar with valves and customers
    return path


def test_plan_command_writes_json_with_sidecar_valves(loop_inp, tmp_path):
    out = tmp_path / "plan.json"
    r = runner.invoke(app, ["outage", "plan", str(loop_inp), "--pipe", "P5", "--start", "2030-01-02T02:00",
                            "--hours", "3", "--solver", "epanet", "--max-share", "0.5", "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert sorted(d["valves_to_close"]) == ["V3", "V4"]
    assert d["isolated_links"] == ["P5"] and d["isolated_nodes"] == ["J5"] and d["unintended_nodes"] == ["J6"]
    assert d["demand_lost_m3h"] > 0 and d["demand_lost_m3"] > 0 and d["pressure"]["solver"] == "epanet"
    assert d["customers"]["hospital"] == 1 and d["notice"]["texts"]["zh"].startswith("停水通知")
    assert d["start"] == "2030-01-02T02:00:00+08:00" and d["hours"] == 3


def test_plan_command_with_valve_csv_and_broken_valve(loop_inp, tmp_path):
    csv_path = tmp_path / "valves.csv"
    csv_path.write_text("valve,link,node\nA1,P1,J1\nA2,P2,J3\nA3,P5,J3\n")
    records = tmp_path / "customers.csv"
    records.write_text("id,name,node,category\nC1,张三,J5,residential\nC2,李四,J2,residential\nC3,王五,XX,shop\n")
    out = tmp_path / "plan.json"
    r = runner.invoke(app, ["outage", "plan", str(loop_inp), "--pipe", "P1", "--valves", str(csv_path),
                            "--customers", str(records), "--at", "0.25",
                            "--broken", "A2", "--hours", "2", "--solver", "none", "--allow-large",
                            "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    # with A2 stuck, the loop feeds P1 from both sides: only A3 bounds what is left (everything but J5, J6)
    assert d["valves_to_close"] == ["A3"] and d["broken_skipped"] == ["A2"]
    assert sorted(d["isolated_nodes"]) == ["J1", "J2", "J3", "J4", "R"] and sorted(d["unintended_nodes"]) == [
        "J5", "J6"]
    assert sorted(d["segment_without_broken"]["valves_to_close"]) == ["A1", "A2"]
    assert d["position"] == 0.25
    assert {(c["id"], c["cause"]) for c in d["affected_customers"]} == {("C1", "unintended"), ("C2", "isolated")}


@pytest.mark.parametrize("args,message", [
    (["--pipe", "NOPE", "--hours", "2"], "unknown pipe 'NOPE'"),
    (["--pipe", "P1", "--hours", "0"], "more than 0 hours"),
    (["--pipe", "P1", "--hours", "200"], "over 7 days"),
    (["--pipe", "P1", "--hours", "2", "--start", "tomorrow"], "not an ISO date-time"),
    (["--pipe", "P1", "--hours", "2", "--broken", "VX"], "unknown broken valve"),
])
def test_plan_command_bad_input_exits_2(loop_inp, args, message):
    r = runner.invoke(app, ["outage", "plan", str(loop_inp), "--solver", "none", *args])
    assert r.exit_code == 2 and message in r.output
    assert "Traceback" not in r.output


def test_segment_too_large_is_refused_without_allow_large(tmp_path):
    out = tmp_path / "p.json"
    r = runner.invoke(app, ["outage", "plan", str(NET3), "--pipe", "101", "--hours", "2", "--solver", "none",
                            "--json", str(out)])  # Net3 has no valve layer: one segment
    assert r.exit_code == 2 and "outage too large" in r.output and not out.exists()
    bad = tmp_path / "v.csv"
    bad.write_text("valve,link,node\nX,101,999\n")
    r = runner.invoke(app, ["outage", "plan", str(NET3), "--pipe", "101", "--valves", str(bad), "--hours", "2"])
    assert r.exit_code == 2 and "row 1" in r.output and "'node'" in r.output


def test_window_and_criticality_commands(loop_inp, tmp_path):
    r = runner.invoke(app, ["outage", "window", str(loop_inp), "--pipe", "P1", "--hours", "2", "--days", "3"])
    assert r.exit_code == 0, r.output
    assert r.output.count("m³ not supplied") == 3 and "T03:00:00+08:00" in r.output
    for name in ("c.csv", "c.geojson"):
        r = runner.invoke(app, ["outage", "criticality", str(loop_inp), "-o", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "c.geojson").read_text())["features"][0]["properties"]["rank"] == 1
    r = runner.invoke(app, ["outage", "criticality", str(loop_inp), "-o", str(tmp_path / "c.txt")])
    assert r.exit_code == 2


def test_outage_pressure_run_shows_nodes_pushed_below_service_pressure():
    net = loop_network()
    net.reservoirs["R"].head = 27.0  # 17 m static at the 10 m junctions
    net.junctions["J5"].demands[0].base = 0.04  # a big user behind the loop
    noon = 12 * 3600.0
    base = outage_pressures(net, [], [], noon, noon, 3600.0, solver="epanet")
    out = outage_pressures(net, ["P1", "P2"], ["J2"], noon, noon, 3600.0, solver="epanet")
    assert base.low_nodes == [] and "J2" not in out.min_pressure_m
    # with the short route through J2 shut, J3/J5/J6 are fed the long way round and drop below 14 m
    assert {r["node"] for r in out.low_nodes} == {"J3", "J5", "J6"}
    assert all(r["newly_low"] and r["min_pressure_m"] < r["baseline_min_pressure_m"] for r in out.low_nodes)
    assert out.min_pressure_m["J5"] < base.min_pressure_m["J5"] - 1.0


def test_runze_solver_matches_epanet_on_the_outage():
    pytest.importorskip("runze.hydraulics")
    net = loop_network()
    net.reservoirs["R"].head = 27.0
    net.junctions["J5"].demands[0].base = 0.04
    noon = 12 * 3600.0
    ours = outage_pressures(net, ["P1", "P2"], ["J2"], noon, noon, 3 * 3600.0, solver="runze")
    ref = outage_pressures(net, ["P1", "P2"], ["J2"], noon, noon, 3 * 3600.0, solver="epanet")
    assert ours.solver == "runze" and ref.solver == "epanet" and not ours.message
    assert ours.min_pressure_m.keys() == ref.min_pressure_m.keys()
    for node, p in ref.min_pressure_m.items():
        assert ours.min_pressure_m[node] == pytest.approx(p, abs=1e-3)


def test_conflicts_command_flags_overlapping_plans(loop_inp, tmp_path):
    def make(name, pipe, start, hours):
        out = tmp_path / name
        r = runner.invoke(app, ["outage", "plan", str(loop_inp), "--pipe", pipe, "--start", start, "--hours",
                                str(hours), "--solver", "none", "--allow-large", "--json", str(out)])
        assert r.exit_code == 0, r.output
        return str(out)

    a = make("a.json", "P5", "2030-01-02T01:00", 3)
    b = make("b.json", "P6", "2030-01-02T03:00", 2)  # shares J6 with a, overlaps 03:00-04:00
    c = make("c.json", "P6", "2030-01-02T04:00", 2)  # same place as a, after it
    r = runner.invoke(app, ["outage", "conflicts", a, b])
    assert r.exit_code == 1 and "a.json (P5) and b.json (P6)" in r.output
    r = runner.invoke(app, ["outage", "conflicts", a, c])
    assert r.exit_code == 0 and "no conflicts" in r.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = runner.invoke(app, ["outage", "conflicts", a, str(bad)])
    assert r.exit_code == 2 and "not a plan file" in r.output
