"""Leak localisation: batch-solver sensitivities against EPANET, and the ranking on synthetic residuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runze.analysis.leaks.epanet_run import steady_sensitivity
from runze.analysis.leaks.layout import layout_from_network, place_loggers
from runze.analysis.leaks.localise import CLOCK_HOURS, PressureModel, demand_weights, localise
from runze.analysis.leaks.sensitivity import leak_response, leak_sensitivity
from runze.network.demo_city import write_demo_city
from runze.network.inp import read_inp
from runze.network.topology import NetworkGraph, pipe_distance


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    inp, _ = write_demo_city(tmp_path_factory.mktemp("city"))
    net = read_inp(inp)
    layout = place_loggers(net, layout_from_network(net), 6)
    dma = sorted(layout.dmas)[2]
    return net, layout, dma


def test_batch_sensitivity_matches_epanet(city):
    net, layout, dma = city
    cand = [n for n in layout.dmas[dma]["nodes"] if n in net.junctions][:8]
    sensors = list(layout.pressure.values())
    hours = [3.0, 15.0]
    ref, _ = steady_sensitivity(net, cand, sensors, [], hours, leak_m3h=5.0)
    got = leak_sensitivity(net, cand, sensors, hours, leak_m3h=5.0)
    assert got.shape == ref.shape == (2, len(sensors), len(cand))
    scale = np.abs(ref).max()
    assert scale > 1e-3  # a 5 m³/h leak inside a DMA moves its loggers by millimetres at least
    # EPANET solves to its file ACCURACY (1e-3), the batch solver to 1e-6: a few % of the largest change
    assert np.abs(got - ref).max() < 0.06 * scale


def test_leak_response_outflow_near_requested_size(city):
    net, layout, dma = city
    nodes = [n for n in layout.dmas[dma]["nodes"] if n in net.junctions][:3]
    dp, out, ok = leak_response(net, nodes, 8.0, list(layout.pressure.values()), [3.0, 12.0])
    assert ok.all()
    assert dp.shape == (2, len(layout.pressure), 3) and (dp <= 1e-6).all()  # a leak never raises pressure
    assert np.allclose(out, 8.0, rtol=0.35)  # sized on the mean pressure; it varies with the hour's pressure


def _no_regression_model(layout):
    """Every pressure logger with a zero sensor-from-sensor model: residuals are the readings themselves."""
    sensors = list(layout.pressure)
    n = len(sensors)
    return sensors, PressureModel(sensors, [layout.pressure[s] for s in sensors], np.zeros((n, n)), np.zeros(n), 15)


def test_localise_finds_a_synthetic_leak(city):
    """Residuals made from the modelled signature of one node plus sensor noise: the top pipe must touch it."""
    net, layout, dma = city
    nodes = layout.dmas[dma]["nodes"]
    sensors, model = _no_regression_model(layout)
    graph = NetworkGraph.from_network(net)
    rng = np.random.default_rng(7)
    inner = sorted(p.id for p in net.pipes.values() if p.node1 in nodes and p.node2 in nodes
                   and p.initial_status == "OPEN")
    hits = []
    for pipe in inner[5:40:7]:
        leak_node = net.pipes[pipe].node2
        size = 6.0
        sig = leak_sensitivity(net, [leak_node], model.nodes, list(CLOCK_HOURS), leak_m3h=size).mean(axis=0)[:, 0]
        index = pd.date_range("2019-03-01", periods=4 * 96, freq="15min")
        q = pd.Series(np.where(np.arange(len(index)) >= 3 * 96, size, 0.0), index=index)
        res = pd.DataFrame(rng.normal(0, 0.002, (len(index), len(sensors))) + np.outer(q.to_numpy(), sig), index=index,
                           columns=sensors)
        out = localise(net, graph, model, res, q.iloc[3 * 96:], nodes, top=20)
        assert out and abs(sum(c["confidence"] for c in out) - 1.0) < 0.05
        assert out[0]["distance_m"] == 0.0 and all(c["distance_m"] >= 0 for c in out)
        assert all(c["x"] is not None for c in out)
        d = pipe_distance(graph, graph.link_indices([pipe]), graph.link_indices([out[0]["pipe"]]))[0, 0]
        hits.append(d)
    # noise-free signature shapes of neighbouring nodes are close, so allow a neighbour, not a far pipe
    assert np.median(hits) <= 150.0 and max(hits) <= 400.0, hits


def test_inlet_flow_sensitivity_matches_epanet(city):
    """A leak in a DMA fed by one main draws all its water through that main; the batch flow rows agree
    with EPANET's."""
    net, layout, _ = city
    dma = next(d for d, v in sorted(layout.dmas.items()) if len(v["inlets"]) == 1)
    inlet = layout.dmas[dma]["inlets"][0]
    cand = [n for n in layout.dmas[dma]["nodes"] if n in net.junctions][:5]
    sensors = list(layout.pressure.values())[:4]
    got = leak_sensitivity(net, cand, sensors, [3.0, 15.0], leak_m3h=5.0, flow_links=[inlet])
    assert got.shape == (2, len(sensors) + 1, len(cand))
    assert np.allclose(np.abs(got[:, -1, :]), 1.0, atol=0.03)  # m³/h through the inlet per m³/h of leak
    _, ref = steady_sensitivity(net, cand, sensors, [inlet], [3.0, 15.0], leak_m3h=5.0)
    assert np.abs(got[:, -1, :] - ref[:, 0, :]).max() < 0.05


def test_demand_correction_keeps_the_leak_not_the_area_swing(city):
    """The area's own demand swings move its inflow and its pressures together, and a swing as large as the
    leak lands on the leak's window.  Regressing the pressures on the metered leak flow then mixes the swing's
    pattern (the demand-weighted mean of every node's) into the leak's; with the area's inflow residual given
    (`area_flow`) the swing is taken out first and the leak is found again."""
    net, layout, dma = city
    nodes = layout.dmas[dma]["nodes"]
    sensors, model = _no_regression_model(layout)
    graph = NetworkGraph.from_network(net)
    area = [j for j in nodes if j in net.junctions]
    sig_all = leak_sensitivity(net, area, model.nodes, list(CLOCK_HOURS), leak_m3h=4.0).mean(axis=0)
    swing = sig_all @ demand_weights(net, area)  # m per m³/h of the area's demand above its usual
    inner = sorted(p.id for p in net.pipes.values() if p.node1 in nodes and p.node2 in nodes
                   and p.initial_status == "OPEN")
    index = pd.date_range("2019-03-01", periods=4 * 96, freq="15min")  # the leak's day after three clean ones
    rng = np.random.default_rng(11)
    hits, raw = [], []
    for pipe in inner[3:40:6]:
        col = area.index(net.pipes[pipe].node2)
        leak = np.where(np.arange(len(index)) >= 3 * 96, 4.0, 0.0)
        # the swing: slow (hours), several m³/h, and up during the leak's day
        swing_q = np.convolve(rng.normal(0, 1.5, len(index) + 16), np.ones(16) / 4, "valid")[:len(index)]
        swing_q[3 * 96:] += 6.0
        res = pd.DataFrame(np.outer(leak, sig_all[:, col]) + np.outer(swing_q, swing)
                           + rng.normal(0, 0.001, (len(index), len(sensors))), index=index, columns=sensors)
        flow = pd.Series(leak + swing_q + rng.normal(0, 0.2, len(index)), index=index)
        q = (flow.iloc[3 * 96:] - flow.iloc[:3 * 96].median()).clip(lower=0.0)
        for out_list, kw in ((hits, {"area_flow": flow}), (raw, {})):
            out = localise(net, graph, model, res, q, nodes, top=5, **kw)
            d = pipe_distance(graph, graph.link_indices([pipe]), graph.link_indices([out[0]["pipe"]]))[0, 0]
            out_list.append(d)
    assert np.median(hits) <= 150.0, hits
    assert np.median(raw) > 2 * max(np.median(hits), 100.0), (raw, hits)  # the swing does matter here
