"""Source tracing: closed-form mixing on a small network, and EPANET 2.3's TRACE on the demo city (±2 pp)."""

from __future__ import annotations

import numpy as np
import pytest
from _dispatch_city import demo_city

import runze
from runze.analysis.dispatch.simrun import Run
from runze.analysis.dispatch.trace import Mixer, epanet_trace, steady_check, trace_run
from runze.network.model import Demand, Junction, Network, Options, Pipe, Reservoir, TimeOptions


def two_source_network() -> Network:
    """R1 and R2 feed J1, which feeds J2 and J3; J3 also gets water from R2 directly."""
    net = Network(name="mix")
    net.options = Options(flow_units="LPS", time=TimeOptions(duration=0.0))
    net.reservoirs["R1"] = Reservoir("R1", 60.0)
    net.reservoirs["R2"] = Reservoir("R2", 55.0)
    for jid, dem in (("J1", 0.010), ("J2", 0.030), ("J3", 0.020)):
        net.junctions[jid] = Junction(jid, 10.0, [Demand(dem)])
    for pid, a, b, length in (("P1", "R1", "J1", 500.0), ("P2", "R2", "J1", 400.0), ("P3", "J1", "J2", 300.0),
                              ("P4", "J2", "J3", 300.0), ("P5", "R2", "J3", 900.0)):
        net.pipes[pid] = Pipe(pid, a, b, length, 0.2, 110.0)
    return net


def test_mixing_shares_follow_the_flows_exactly():
    net = two_source_network()
    res = runze.simulate(net, duration=0.0)
    tr = trace_run(net, Run(res.node, res.link, "runze"))
    assert tr.labels == ["R1", "R2", "storage"]
    q = res.link["flow"].iloc[0]
    c = dict(zip(tr.node_ids, tr.shares[0], strict=True))
    share_j1 = q["P1"] / (q["P1"] + q["P2"])  # both flow into J1
    assert c["J1"][0] == pytest.approx(share_j1, rel=1e-9)
    assert c["J2"][0] == pytest.approx(share_j1, rel=1e-9)  # J2 is fed by J1 alone
    # J3: from J2 (mixed) and from R2 (pure), flow-weighted
    q4, q5 = abs(q["P4"]), q["P5"]
    assert c["J3"][0] == pytest.approx(q4 * share_j1 / (q4 + q5), rel=1e-9)
    assert np.allclose(tr.shares[0].sum(axis=1), 1.0)
    ep = epanet_trace(net, ["R1"], hours=48)
    assert np.allclose(tr.shares[0][:, 0] * 100.0, ep["R1"], atol=0.05)


def test_stagnant_nodes_have_no_share():
    net = two_source_network()
    net.junctions["J4"] = Junction("J4", 10.0, [])
    net.pipes["P6"] = Pipe("P6", "J3", "J4", 100.0, 0.1, 110.0)
    res = runze.simulate(net, duration=0.0)
    c = Mixer(net).solve(res.link["flow"].iloc[0].reindex(net.link_ids).to_numpy(),
                         {net.node_ids.index("R1"): np.array([1.0, 0.0]), net.node_ids.index("R2"): np.array([0.0, 1.0])})
    assert np.isnan(c[net.node_ids.index("J4")]).all()


def test_demo_city_shares_match_epanet_trace_within_2_points():
    res = steady_check(demo_city(), hour=3, epanet=True, epanet_hours=240.0)
    assert res["compared_nodes"] >= 1300 and res["stagnant_nodes"] == 0
    assert set(res["max_diff_pp"]) == {"P1", "P2", "P3", "P4"}
    for pid, diff in res["max_diff_pp"].items():
        assert diff <= 2.0, (pid, diff)
    # every plant's water reaches part of the city, and the shares add up with the tanks' to 100 %
    shares = res["shares"]
    assert np.allclose(np.nansum(shares, axis=1)[: len(demo_city().junctions)], 1.0)
    assert all(np.nanmax(shares[:, k]) > 0.99 for k in range(4))
    assert any(z["single_source"] for z in res["zones"]) and not all(z["single_source"] for z in res["zones"])
