"""Writer on networks built in code, the utility sidecar, GeoJSON export, validation and `runze network`."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from _inp_epanet import NETWORK_FILES, close_project, open_project, simulate
from epanet import toolkit as en
from typer.testing import CliRunner

from runze.cli.main import app
from runze.network.errors import InpError
from runze.network.geojson import to_geojson
from runze.network.inp import read_inp, write_inp
from runze.network.model import (
    Control,
    Curve,
    Demand,
    Junction,
    Network,
    Pattern,
    Pipe,
    Pump,
    Reservoir,
    Rule,
    Tank,
    Valve,
)
from runze.network.sidecar import sidecar_path
from runze.network.validate import validate


def _file(name: str):
    return next(p for p in NETWORK_FILES if p.name == name)


def build_network(flow_units: str = "LPS") -> Network:
    """A small network made in code, SI throughout, with one of every element kind."""
    net = Network(name="code")
    net.options.flow_units = flow_units
    net.options.time.duration = 6 * 3600.0
    net.patterns["day"] = Pattern("day", [0.6, 1.0, 1.4, 1.0])
    net.curves["pc"] = Curve("pc", "PUMP", [(0.05, 40.0)])
    net.curves["gpv"] = Curve("gpv", "HEADLOSS", [(0.0, 0.0), (0.1, 5.0)])
    net.reservoirs["一水厂"] = Reservoir("一水厂", head=20.0, x=0.0, y=0.0)
    net.junctions["J1"] = Junction("J1", 5.0, [Demand(0.01, "day")], x=100.0, y=0.0)
    net.junctions["J2"] = Junction("J2", 8.0, [Demand(0.004, None, "居民"), Demand(0.002, "day", "商业")],
                                   emitter=0.001, x=200.0, y=0.0)
    net.junctions["J3"] = Junction("J3", 6.0, [Demand(0.003)], x=200.0, y=100.0)
    net.junctions["J4"] = Junction("J4", 4.0, [], x=300.0, y=100.0)
    net.tanks["T1"] = Tank("T1", 30.0, init_level=3.0, min_level=0.5, max_level=6.0, diameter=15.0, x=300.0, y=0.0)
    net.pumps["PU1"] = Pump("PU1", "一水厂", "J1", head_curve="pc")
    net.pipes["P1"] = Pipe("P1", "J1", "J2", 500.0, 0.3, 120.0, minor_loss=1.5, vertices=[(150.0, 10.0)])
    net.pipes["P2"] = Pipe("P2", "J2", "T1", 400.0, 0.25, 110.0)
    net.pipes["P3"] = Pipe("P3", "J2", "J3", 300.0, 0.15, 100.0, check_valve=True)
    net.pipes["P4"] = Pipe("P4", "J3", "J4", 250.0, 0.1, 100.0)
    net.valves["V1"] = Valve("V1", "J1", "J3", "PRV", 0.1, setting=25.0)
    net.valves["V2"] = Valve("V2", "J4", "J3", "GPV", 0.1, curve="gpv", initial_status="OPEN")
    net.controls.append(Control("PU1", "CLOSED", None, "above", "T1", 5.5))
    net.controls.append(Control("PU1", "OPEN", None, "below", "T1", 2.0))
    net.controls.append(Control("V1", None, 20.0, "time", None, 7200.0))
    net.rules.append(Rule("R1", premises=[("IF", "TANK", "T1", "LEVEL", ">", 5.0)],
                          actions=[("LINK", "P4", "STATUS", "CLOSED")],
                          else_actions=[("LINK", "P4", "STATUS", "OPEN")], priority=1.0))
    return net


@pytest.mark.parametrize("flow_units", ["LPS", "GPM", "CMH"])
def test_network_built_in_code_is_what_epanet_reads(flow_units, tmp_path):
    net = build_network(flow_units)
    assert validate(net) == []
    path = tmp_path / "code.inp"
    write_inp(net, path)
    ph = open_project(path)
    try:
        en.setflowunits(ph, en.CMS)
        en.setoption(ph, en.PRESS_UNITS, en.METERS)
        j2 = en.getnodeindex(ph, "J2")
        assert en.getnumdemands(ph, j2) == 2
        assert en.getbasedemand(ph, j2, 1) == pytest.approx(0.004, rel=2e-4)
        assert en.getdemandname(ph, j2, 2) == "商业"
        assert en.getnodevalue(ph, j2, en.ELEVATION) == pytest.approx(8.0, rel=1e-12)
        assert en.getnodevalue(ph, j2, en.EMITTER) == pytest.approx(0.001, rel=2e-4)
        assert en.getnodevalue(ph, en.getnodeindex(ph, "一水厂"), en.ELEVATION) == pytest.approx(20.0)
        v1 = en.getlinkindex(ph, "V1")
        assert en.getlinkvalue(ph, v1, en.INITSETTING) == pytest.approx(25.0, rel=1e-6)
        assert en.getlinktype(ph, en.getlinkindex(ph, "P3")) == en.CVPIPE
        assert en.getlinkvalue(ph, en.getlinkindex(ph, "P1"), en.DIAMETER) == pytest.approx(300.0)
        assert en.getcount(ph, en.CONTROLCOUNT) == 3 and en.getcount(ph, en.RULECOUNT) == 1
        _, _, setting, _, level = en.getcontrol(ph, 1)
        assert level == pytest.approx(5.5)
        _, _, setting, _, when = en.getcontrol(ph, 3)
        assert (setting, when) == (pytest.approx(20.0, rel=1e-6), 7200)
        assert en.getcurvevalue(ph, en.getcurveindex(ph, "pc"), 1) == pytest.approx([0.05, 40.0], rel=2e-4)
    finally:
        close_project(ph)
    back = read_inp(path)
    assert back.node_ids == net.node_ids and back.link_ids == net.link_ids
    assert back.junctions["J2"].demands[1].base == pytest.approx(0.002, rel=1e-12)
    assert back.pipes["P1"].vertices == [(150.0, 10.0)]
    assert back.rules[0].premises[0][-1] == pytest.approx(5.0)
    # writing what was read gives EPANET the same hydraulics
    write_inp(back, tmp_path / "again.inp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = simulate(path), simulate(tmp_path / "again.inp")
    np.testing.assert_allclose(b[2], a[2], rtol=1e-9, atol=1e-9)


def test_no_default_pattern_survives_a_pattern_named_1(tmp_path):
    """EPANET applies pattern "1" to demands without a pattern unless told otherwise; None must stay None."""
    net = build_network()
    net.patterns["1"] = Pattern("1", [0.5, 2.0])
    assert net.options.default_pattern is None
    write_inp(net, tmp_path / "p1.inp")
    ph = open_project(tmp_path / "p1.inp")
    try:
        en.setflowunits(ph, en.CMS)
        en.openH(ph)
        en.initH(ph, 0)
        en.runH(ph)
        j3 = en.getnodeindex(ph, "J3")  # one demand of 0.003 m³/s, no pattern
        assert en.getnodevalue(ph, j3, en.DEMAND) == pytest.approx(0.003, rel=2e-4)
        en.closeH(ph)
    finally:
        close_project(ph)
    assert read_inp(tmp_path / "p1.inp").options.default_pattern is None


def test_writer_refuses_ids_the_format_cannot_carry(tmp_path):
    from runze.network.errors import NetworkError

    net = build_network()
    net.junctions["J 5"] = Junction("J 5", 1.0)
    with pytest.raises(NetworkError, match="'J 5'"):
        write_inp(net, tmp_path / "x.inp")
    assert not (tmp_path / "x.inp").exists()


def _utility_net() -> Network:
    net = read_inp(_file("Net1.inp"))
    u = net.utility
    u.plants = [{"id": "一水厂", "name": "一水厂", "capacity_m3d": 40000, "source": "9"}]
    u.dmas = {"DMA-1": {"name": "城东", "inlets": ["10"], "boundary_valves": [], "nodes": ["10", "11", "12"]}}
    u.zones = {"11": "高区"}
    u.customers = {"11": {"residential": 120}}
    u.critical_users = [{"node": "12", "name": "人民医院", "category": "hospital"}]
    u.valves = [{"id": "GV-1", "link": "10", "node": "10", "diameter": 0.3, "status": "open"}]
    u.sensors = [{"id": "P-1", "kind": "pressure", "element": "11", "unit": "MPa"}]
    return net


def test_sidecar_round_trip_and_stale_sidecar_removed(tmp_path):
    net = _utility_net()
    path = tmp_path / "city.inp"
    write_inp(net, path)
    side = sidecar_path(path)
    assert side.name == "city.json" and json.loads(side.read_text(encoding="utf-8"))["format"] == "runze-sidecar"
    back = read_inp(path)
    assert back.utility == net.utility
    assert read_inp(path, sidecar=False).utility.dmas == {}
    back.utility.dmas.clear()
    back.utility = type(back.utility)()
    write_inp(back, path)  # no attributes now: the old sidecar must not be loaded with the new file
    assert not side.exists()


def test_sidecar_naming_unknown_elements_or_malformed_is_an_error(tmp_path):
    net = _utility_net()
    path = tmp_path / "city.inp"
    write_inp(net, path)
    side = sidecar_path(path)
    data = json.loads(side.read_text(encoding="utf-8"))
    data["zones"] = {"NOPE": "高区"}
    side.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InpError) as info:
        read_inp(path)
    assert "NOPE" in str(info.value) and info.value.field == "zones"
    side.write_text("{not json", encoding="utf-8")
    with pytest.raises(InpError) as info:
        read_inp(path)
    assert info.value.path == str(side) and info.value.line == 1
    side.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(InpError):
        read_inp(path)


def test_geojson_has_every_element_with_dma_and_zone():
    net = _utility_net()
    collection = to_geojson(net)
    features = collection["features"]
    assert len(features) == net.n_nodes + net.n_links
    by_id = {f["id"]: f for f in features}
    assert by_id["node:11"]["geometry"] == {"type": "Point", "coordinates": [30.0, 70.0]}
    assert by_id["node:11"]["properties"]["dma"] == "DMA-1"
    assert by_id["node:11"]["properties"]["zone"] == "高区"
    pipe = by_id["link:11"]["properties"]  # pipe 11 joins nodes 11 and 12, both in DMA-1
    assert pipe["kind"] == "pipe" and pipe["dma"] == "DMA-1" and pipe["length_m"] == pytest.approx(5280 * 0.3048)
    assert by_id["link:9"]["properties"]["kind"] == "pump"
    line = next(f for f in to_geojson(build_network())["features"] if f["id"] == "link:P1")["geometry"]
    assert line == {"type": "LineString", "coordinates": [[100.0, 0.0], [150.0, 10.0], [200.0, 0.0]]}
    json.dumps(collection, ensure_ascii=False)


def test_validate_finds_each_kind_of_problem():
    net = build_network()
    net.pipes["P9"] = Pipe("P9", "J1", "NOWHERE", 10.0, 0.1, 100.0)
    net.pipes["P1"].length = 0.0
    net.pipes["P2"].diameter = -0.1
    net.pumps["PU2"] = Pump("PU2", "J3", "J4")
    net.junctions["J3"].demands[0].pattern = "missing"
    net.tanks["T1"].min_level = 7.0
    net.valves["V2"].curve = "nocurve"
    net.reservoirs["J1"] = Reservoir("J1", 10.0)
    net.utility.zones = {"ghost": "z"}
    codes = {p.code for p in validate(net)}
    assert {"unknown_node", "not_positive", "pump_no_curve", "missing_pattern", "tank_levels", "missing_curve",
            "duplicate_id", "utility_ref"} <= codes
    assert all(p.severity == "error" for p in validate(net))
    assert all(p.text("zh") and p.text("en") for p in validate(net))


def test_validate_finds_disconnected_and_unreachable_nodes():
    net = build_network()
    net.junctions["LONE"] = Junction("LONE", 1.0)
    net.junctions["A"] = Junction("A", 1.0)
    net.junctions["B"] = Junction("B", 1.0)
    net.pipes["AB"] = Pipe("AB", "A", "B", 10.0, 0.1, 100.0)
    problems = {p.code: p for p in validate(net)}
    assert problems["isolated"].params["count"] == 1 and "LONE" in problems["isolated"].params["ids"]
    assert problems["unreachable"].params["count"] == 2 and problems["unreachable"].severity == "warning"


def test_validate_is_clean_on_every_good_wntr_network():
    for path in NETWORK_FILES:
        if not path.name.startswith("bad_"):
            assert [p for p in validate(read_inp(path)) if p.severity == "error"] == [], path.name


runner = CliRunner()


def test_cli_info_prints_summary_and_problems(tmp_path):
    result = runner.invoke(app, ["network", "info", str(_file("Net3.inp"))])
    assert result.exit_code == 0, result.output
    assert "117" in result.output and "GPM" in result.output and "65.75" in result.output
    lonely = _utility_net()
    lonely.junctions["LONE"] = Junction("LONE", 1.0)
    write_inp(lonely, tmp_path / "lonely.inp")
    result = runner.invoke(app, ["network", "info", str(tmp_path / "lonely.inp"), "--lang", "en"])
    assert result.exit_code == 0 and "no link at all" in result.output and "DMA-1" in result.output


def test_cli_reports_a_broken_file_with_exit_code_2():
    result = runner.invoke(app, ["network", "info", str(_file("bad_values.inp"))])
    assert result.exit_code == 2
    assert "line 56" in result.output and "Traceback" not in result.output


def test_cli_convert_to_inp_and_geojson(tmp_path):
    src = _file("Net1.inp")
    result = runner.invoke(app, ["network", "convert", str(src), str(tmp_path / "n1.inp")])
    assert result.exit_code == 0, result.output
    assert read_inp(tmp_path / "n1.inp").n_links == read_inp(src).n_links
    result = runner.invoke(app, ["network", "convert", str(src), str(tmp_path / "n1.geojson")])
    assert result.exit_code == 0
    assert json.loads((tmp_path / "n1.geojson").read_text())["type"] == "FeatureCollection"
    result = runner.invoke(app, ["network", "convert", str(src), str(tmp_path / "n1.txt")])
    assert result.exit_code == 2
