"""Valve segmentation and topology helpers: hand-made networks with known answers, and Net3 against WNTR."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_isolation_nets import LOOP_VALVES, loop_network

from runze.analysis.isolation.segments import ValveLayer, build_segments, read_valve_csv
from runze.network.errors import NetworkError
from runze.network.topology import NetworkGraph, components, incidence, nodes_without_source, pipe_distance

WNTR_NETS = Path(__file__).resolve().parents[1] / ".venv/lib/python3.11/site-packages/wntr/library/networks"


def groups(graph: NetworkGraph, seg) -> set[frozenset[str]]:
    """The partition of nodes and links ("N:"/"L:" prefixed) into segments, label-free."""
    out: dict[int, set[str]] = {}
    for n, s in zip(graph.node_ids, seg.node_segment, strict=True):
        out.setdefault(int(s), set()).add("N:" + n)
    for k, s in zip(graph.link_ids, seg.link_segment, strict=True):
        if s >= 0:
            out.setdefault(int(s), set()).add("L:" + k)
    return {frozenset(v) for v in out.values()}


def fs(*items: str) -> frozenset[str]:
    return frozenset(items)


def test_loop_segments_known_partition():
    net = loop_network()
    g = NetworkGraph.from_network(net)
    seg = build_segments(g, ValveLayer.from_rows(g, net.utility.valves))
    assert groups(g, seg) == {fs("N:R", "L:P0"), fs("N:J1", "L:P4"), fs("N:J2", "L:P1", "L:P2"),
                              fs("N:J3", "N:J4", "L:P3"), fs("N:J5", "L:P5"), fs("N:J6", "L:P6")}
    j2 = seg.node_segment[g.node_index["J2"]]
    assert {seg.closer_ids[k] for k in seg.boundary_closers([j2])} == {"V1", "V2"}
    # shutting J1's segment cuts everything downstream off from the reservoir
    j1 = seg.node_segment[g.node_index["J1"]]
    lost = seg.cut_off_by([j1])
    assert {g.node_ids[i] for i in seg.segment_nodes(lost)} == {"J2", "J3", "J4", "J5", "J6"}


def test_broken_valve_merges_segments():
    net = loop_network()
    g = NetworkGraph.from_network(net)
    seg = build_segments(g, ValveLayer.from_rows(g, net.utility.valves), broken=["V2"])
    assert fs("N:J2", "N:J3", "N:J4", "L:P1", "L:P2", "L:P3") in groups(g, seg)
    assert "V2" in seg.ignored_valves
    # a valve marked BROKEN in the layer counts the same as one named broken
    rows = [dict(v, status="BROKEN") if v["valve"] == "V2" else v for v in LOOP_VALVES]
    seg2 = build_segments(g, ValveLayer.from_rows(g, rows))
    assert groups(g, seg2) == groups(g, seg)


def test_pump_is_a_closer_under_boundary_rule_and_a_link_under_link_rule():
    net = loop_network(pump_inlet=True)
    g = NetworkGraph.from_network(net)
    layer = ValveLayer.from_rows(g, net.utility.valves)
    seg = build_segments(g, layer, closable="boundary")
    assert fs("N:R") in groups(g, seg) and seg.link_segment[g.link_index["PU1"]] == -1
    k = seg.closer_ids.index("PU1")
    assert seg.closer_kind[k] == "pump"
    seg_link = build_segments(g, layer, closable="link")
    assert fs("N:R", "N:J1", "L:PU1", "L:P4") in groups(g, seg_link)


def test_dead_end_with_tank_is_not_cut_off():
    net = loop_network(with_tank=True)
    g = NetworkGraph.from_network(net)
    seg = build_segments(g, ValveLayer.from_rows(g, net.utility.valves))
    j5 = seg.node_segment[g.node_index["J5"]]
    assert seg.cut_off_by([j5]).size == 0


def test_valve_layer_errors_name_row_and_field(tmp_path):
    net = loop_network()
    g = NetworkGraph.from_network(net)
    with pytest.raises(NetworkError, match="row 1.*'link'.*unknown link 'PX'"):
        ValveLayer.from_rows(g, [{"valve": "A", "link": "PX", "node": "J1"}])
    with pytest.raises(NetworkError, match="'node'.*'J3' is not an end of link 'P1'"):
        ValveLayer.from_rows(g, [{"valve": "A", "link": "P1", "node": "J3"}])
    bad = tmp_path / "v.csv"
    bad.write_text("id,link\nA,P1\n")
    with pytest.raises(NetworkError, match="missing column.*node"):
        read_valve_csv(bad)


def test_topology_helpers_on_loop():
    net = loop_network()
    g = NetworkGraph.from_network(net)
    a = incidence(g)
    assert a.shape == (7, 7) and np.allclose(np.asarray(a.sum(axis=0)).ravel(), 0.0)
    n, _ = components(g)
    assert n == 1
    cut = np.ones(g.n_links, dtype=bool)
    cut[g.link_index["P5"]] = False
    off = nodes_without_source(g, cut)
    assert {g.node_ids[i] for i in np.flatnonzero(off)} == {"J5", "J6"}
    d = pipe_distance(g, g.link_indices(["P1"]), g.link_indices(["P1", "P2", "P5", "P3"]))
    assert d[0].tolist() == pytest.approx([0.0, 100.0, 200.0, 50 + 100 + 70.5])


def _net3():
    wntr = pytest.importorskip("wntr")
    from runze.network.inp_reader import read_inp_file

    path = WNTR_NETS / "Net3.inp"
    return wntr, wntr.network.WaterNetworkModel(str(path)), read_inp_file(path)


def test_pipe_distance_matches_networkx_on_net3():
    _, _, net = _net3()
    g = NetworkGraph.from_network(net)
    G = nx.Graph()
    for i in range(g.n_links):
        G.add_edge(g.start[i], g.end[i], weight=min(G.get_edge_data(g.start[i], g.end[i], {}).get("weight", 1e18),
                                                    g.length[i]))
    src = g.link_indices(["101", "171", "329"])
    d = pipe_distance(g, src)
    rng = np.random.default_rng(0)
    for i, s in enumerate(src):
        for t in rng.choice(g.n_links, 10, replace=False):
            if t == s:
                continue
            best = min(nx.shortest_path_length(G, a, b, weight="weight")
                       for a in (g.start[s], g.end[s]) for b in (g.start[t], g.end[t]))
            assert d[i, t] == pytest.approx(best + g.length[s] / 2 + g.length[t] / 2)


@pytest.mark.parametrize("kind,n,seed", [("strategic", 2, 11), ("strategic", 1, 12), ("strategic", 0, 13),
                                         ("random", 40, 14), ("random", 150, 15)])
def test_net3_segments_equal_wntr_partition(kind, n, seed):
    wntr, wn, net = _net3()
    layer = wntr.network.generate_valve_layer(wn, kind, n, seed=seed)
    rows = [{"valve": f"V{i}", "link": r.link, "node": r.node} for i, r in enumerate(layer.itertuples())]
    g = NetworkGraph.from_network(net)
    seg = build_segments(g, ValveLayer.from_rows(g, rows), closable="link")  # WNTR's convention
    node_seg, link_seg, sizes = wntr.metrics.topographic.valve_segments(wn.to_graph(), layer)
    theirs: dict[int, set[str]] = {}
    for name, s in pd.concat([node_seg.rename(lambda x: "N:" + x), link_seg.rename(lambda x: "L:" + x)]).items():
        theirs.setdefault(int(s), set()).add(name)
    assert groups(g, seg) == {frozenset(v) for v in theirs.values()}
    assert seg.n_segments == len(sizes)
