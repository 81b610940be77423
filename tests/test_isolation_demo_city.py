"""Outage planning on the demo city: a DN300 main's plan checked independently with networkx, and the
criticality of every segment within the time budget (60 s)."""

from __future__ import annotations

import json
import time

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from runze.analysis.isolation.plan import OutagePlanner
from runze.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory):
    build = pytest.importorskip("runze.network.demo_city.build", reason="demo city generator not available")
    from runze.network.inp import read_inp

    inp, _ = build.write_demo_city(tmp_path_factory.mktemp("city"))
    return inp, read_inp(inp)


def _dn300_main(planner: OutagePlanner) -> str:
    """The open DN300 pipe whose segment holds the most nodes (a main worth planning for)."""
    g, seg = planner.graph, planner.segmentation()
    sizes = seg.segment_sizes()["nodes"]
    cand = np.flatnonzero(g.is_pipe & g.link_open & np.isclose(g.diameter, 0.3))
    return g.link_ids[cand[np.argmax(sizes[seg.link_segment[cand]])]]


def test_dn300_plan_agrees_with_networkx(demo_city, tmp_path):
    inp, net = demo_city
    planner = OutagePlanner(net)
    pipe = _dn300_main(planner)
    out = tmp_path / "plan.json"
    r = runner.invoke(app, ["outage", "plan", str(inp), "--pipe", pipe, "--hours", "4", "--solver", "epanet",
                            "--start", "2030-03-05T01:00", "--allow-large", "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["valves_to_close"] and d["isolated_nodes"] and d["pressure"]["solver"] == "epanet"

    # independent check: shut the listed valves (cut their pipe from their node) and every closed link
    closed_valves = {v["id"]: v for v in net.utility.valves}
    shut_ends = {(closed_valves[v]["link"], closed_valves[v]["node"]) for v in d["valves_to_close"]}
    G = nx.Graph()
    G.add_nodes_from(net.node_ids)
    for link in net.links():
        if link.initial_status == "CLOSED" or link.id in d["pumps_to_stop"]:
            continue
        a = link.node1 if (link.id, link.node1) not in shut_ends else f"cut:{link.id}:a"
        b = link.node2 if (link.id, link.node2) not in shut_ends else f"cut:{link.id}:b"
        G.add_edge(a, b, id=link.id)
    # normally closed isolation valves (boundary valves) stay shut too
    for v in net.utility.valves:
        if str(v.get("status", "OPEN")).upper() == "CLOSED":
            G.remove_edges_from([(u, w) for u, w, k in G.edges(data="id") if k == v["link"]])
    link = net.link(pipe)
    comp = nx.node_connected_component(G, link.node1)
    assert sorted(n for n in comp if not n.startswith("cut:")) == sorted(d["isolated_nodes"])
    sources = set(net.reservoirs) | set(net.tanks)
    H = G.copy()
    H.remove_nodes_from(comp)
    fed_after = set().union(*(nx.node_connected_component(H, s) for s in sources if s in H))
    # fed before in normal operation (nothing shut): recompute without the shut valves
    G0 = nx.Graph()
    G0.add_nodes_from(net.node_ids)
    for lk in net.links():
        if lk.initial_status != "CLOSED":
            G0.add_edge(lk.node1, lk.node2, id=lk.id)
    for v in net.utility.valves:
        if str(v.get("status", "OPEN")).upper() == "CLOSED":
            G0.remove_edges_from([(u, w) for u, w, k in G0.edges(data="id") if k == v["link"]])
    fed_before = set().union(*(nx.node_connected_component(G0, s) for s in sources))
    expected_unintended = sorted(n for n in net.node_ids if n in fed_before and n not in fed_after
                                 and n not in comp)
    assert sorted(d["unintended_nodes"]) == expected_unintended


def test_criticality_of_every_segment_under_60_s(demo_city, tmp_path):
    inp, _ = demo_city
    t = time.perf_counter()
    r = runner.invoke(app, ["outage", "criticality", str(inp), "-o", str(tmp_path / "crit.geojson")])
    elapsed = time.perf_counter() - t
    assert r.exit_code == 0, r.output
    gj = json.loads((tmp_path / "crit.geojson").read_text())
    assert len(gj["features"]) > 100 and elapsed < 60.0
    ranks = [f["properties"]["rank"] for f in gj["features"]]
    assert ranks == sorted(ranks) and gj["features"][0]["properties"]["customers"] > 0


def test_demo_city_segments_equal_wntr_partition(demo_city):
    wntr = pytest.importorskip("wntr")
    import pandas as pd

    from runze.analysis.isolation.segments import ValveLayer, build_segments
    from runze.network.topology import NetworkGraph

    _, net = demo_city
    G = nx.MultiDiGraph()
    G.add_nodes_from(net.node_ids)
    for link in net.links():
        G.add_edge(link.node1, link.node2, key=link.id)
    layer = pd.DataFrame([{"link": v["link"], "node": v["node"]} for v in net.utility.valves])
    node_seg, link_seg, sizes = wntr.metrics.topographic.valve_segments(G, layer)
    g = NetworkGraph.from_network(net)
    seg = build_segments(g, ValveLayer.from_rows(g, net.utility.valves), closable="link")
    ours = pd.concat([pd.Series(seg.node_segment, index=["N" + n for n in g.node_ids]),
                      pd.Series(seg.link_segment, index=["L" + k for k in g.link_ids])])
    theirs = pd.concat([node_seg.rename(lambda x: "N" + x), link_seg.rename(lambda x: "L" + x)])
    pairs = pd.DataFrame({"ours": ours, "theirs": theirs.reindex(ours.index)})
    assert seg.n_segments == len(sizes)
    assert pairs.groupby("ours")["theirs"].nunique().max() == 1
    assert pairs.groupby("theirs")["ours"].nunique().max() == 1
