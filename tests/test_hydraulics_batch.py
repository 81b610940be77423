"""Batch mode (`runze.solve_batch`) against EPANET 2.3: mixed scenarios on Net3, leaks on the demo city, the
process pool and the Dask executor, bad input.  EPANET references are solved in a fresh project per scenario
at ACCURACY 1e-6 (EPANET's loop keeps stale emitter flows otherwise)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("epanet")
wntr = pytest.importorskip("wntr")

from runze.hydraulics import load_network  # noqa: E402
from runze.hydraulics.batch import BatchError, Scenario, solve_batch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NET3 = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"
TOL = 0.05  # m, the acceptance limit against EPANET


def _bench():
    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "benchmarks" / "bench_batch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _loop_pipes(net) -> list[str]:
    """Pipes whose closure leaves the network connected (not bridges), so that both solvers stay well posed."""
    g = nx.MultiGraph()
    for link in net.links():
        g.add_edge(link.node1, link.node2, key=link.id)
    simple = nx.Graph(g)
    bridges = {frozenset(e) for e in nx.bridges(simple)}
    return [p.id for p in net.pipes.values()
            if frozenset((p.node1, p.node2)) not in bridges and p.initial_status != "CLOSED"]


def _mixed_scenarios(net, n: int, seed: int) -> list[Scenario]:
    rng = np.random.default_rng(seed)
    junctions = list(net.junctions)
    pipes = _loop_pipes(net)
    out = []
    for s in range(n):
        kind = s % 5
        sc = Scenario(name=f"s{s}-k{kind}")
        k = int(rng.integers(1, 4))
        sc.emitters = {str(j): float(rng.uniform(2e-4, 1.5e-3)) for j in rng.choice(junctions, k, replace=False)}
        if kind == 1:
            sc.closed_links = [str(p) for p in rng.choice(pipes, 2, replace=False)]
        elif kind == 2:
            sc.demand_multiplier = float(rng.uniform(0.7, 1.4))
        elif kind == 3:
            sc.reservoir_heads = {"River": 220.0 * 0.3048 + float(rng.uniform(-3, 3))}
        elif kind == 4:
            sc.pump_speeds = {"335": float(rng.uniform(0.85, 1.1))}
        out.append(sc)
    return out


def _compare(res, ids, ref, scenarios):
    ours = res.pressure_frame(0)[ids].to_numpy()
    dp = np.abs(ours - ref)
    worst = dp.max(axis=1)
    bad = [(scenarios[i].name, float(worst[i])) for i in np.flatnonzero(worst > TOL)]
    assert not bad, f"scenarios over {TOL} m: {bad}"
    return float(dp.max())


def test_net3_mixed_scenarios_match_epanet():
    net = load_network(NET3)
    scen = _mixed_scenarios(net, 50, seed=3)
    res = solve_batch(net, scen)
    assert res.converged.all(), [w for w in res.warnings if w]
    assert res.pressure.shape == (50, 1, len(net.node_ids))
    ids, ref = _bench().epanet_reference(NET3, scen, accuracy=1e-6)
    _compare(res, ids, ref, scen)
    # the emitters really leak: total emitter flow > 0 in every scenario, and closing pipes changes pressures
    assert (res.leak.sum(axis=2) > 0).all()


def test_net3_several_times():
    net = load_network(NET3)
    scen = _mixed_scenarios(net, 6, seed=5)
    res = solve_batch(net, scen, times=[0, 3600 * 12])
    assert res.pressure.shape[1] == 2 and res.converged.all()
    # a later pattern time gives different demands, hence different pressures
    assert np.abs(res.pressure[:, 0] - res.pressure[:, 1]).max() > 0.1


@pytest.fixture(scope="module")
def demo():
    from runze.network.demo_city.build import build_demo_city
    from runze.network.inp import write_inp

    net = build_demo_city(seed=2026)
    path = Path(__import__("tempfile").mkdtemp()) / "demo.inp"
    write_inp(net, path)
    return net, path


def test_demo_city_leaks_fast_path_match_epanet(demo):
    net, path = demo
    bench = _bench()
    scen = bench.leak_scenarios(net, 25, seed=7)
    # a two-emitter scenario and a "leak removed again" one (coefficient 0 = the base, not a stale emitter)
    j0, j1 = next(iter(scen[0].emitters)), next(iter(scen[1].emitters))
    scen.append(Scenario(emitters={j0: 2e-4, j1: 3e-4}, name="two-leaks"))
    scen.append(Scenario(emitters={j0: 0.0}, name="no-leak"))
    res = solve_batch(net, scen)
    assert res.converged.all()
    ids, ref = bench.epanet_reference(path, scen, accuracy=1e-6)
    worst = _compare(res, ids, ref, scen)
    assert worst < 0.01  # the compensation kernel is verified to far better than the acceptance limit
    leaks = res.leak.sum(axis=2)[:25, 0]
    assert ((leaks > 0.8e-3) & (leaks < 5.5e-3)).all()  # ~1–5 L/s as designed
    assert res.leak[-1].sum() == 0.0


def test_fast_path_equals_full_solver(demo):
    net, _ = demo
    scen = _bench().leak_scenarios(net, 8, seed=11)
    fast = solve_batch(net, scen, accuracy=1e-8)
    full = solve_batch(net, scen, accuracy=1e-8, fast=False)
    assert np.abs(fast.pressure - full.pressure).max() < 2e-3
    assert np.abs(fast.flow - full.flow).max() < 1e-5  # m³/s


def test_inverse_lanes_equal_sparse_kernel(demo):
    """The dense-inverse lock-step kernel (three times more scenarios than lanes, 0-3 emitters each) gives the
    sparse compensation kernel's answer: same passes and nonlinear-link counts, heads and flows to rounding."""
    from runze.hydraulics.batch import BatchEngine, make_plans
    from runze.hydraulics.batch_inverse import BLOCK, InverseSolver
    from runze.hydraulics.batch_kernel import LowRankSolver

    net, _ = demo
    single = _bench().leak_scenarios(net, 3 * BLOCK, seed=13)
    scen = []
    for i in range(len(single)):
        em: dict[str, float] = {}
        for other in single[i:i + i % 4]:
            em.update(other.emitters)
        scen.append(Scenario(emitters=em, name=f"s{i}"))
    engine = BatchEngine(net)
    assert isinstance(engine.lowrank, InverseSolver)
    plans = make_plans(net, engine.c, scen)
    base = engine.base_state(0)
    h, q, e, passes, info = InverseSolver(engine, leave_out_closed=False).solve_many(plans, 0, base)
    h2, q2, e2, passes2, info2 = LowRankSolver(engine).solve_many(plans, 0, base)
    assert (passes[::4] == 0).all() and (passes[1::4] >= 2).all()  # no emitter: the base; else ≥ 2 passes
    # three leaks at once can need more than MAX_S exact links: both kernels hand those to the full solver
    np.testing.assert_array_equal(passes < 0, passes2 < 0)
    np.testing.assert_array_equal(info[passes < 0], info2[passes < 0])
    ok = passes >= 0
    assert ok.mean() > 0.85
    assert (passes[ok] == passes2[ok]).mean() > 0.98 and (info[ok] == info2[ok]).mean() > 0.98
    np.testing.assert_allclose(h[ok], h2[ok], atol=1e-8)  # ft
    np.testing.assert_allclose(q[ok], q2[ok], atol=1e-8)  # cfs
    np.testing.assert_allclose(e[ok], e2[ok], atol=1e-10)
    # the default leaves the demo city's closed zone-boundary pipes out of J0 (their 1e-8 coupling): heads move by
    # ~1e-6 ft, no more than that coupling times the head changes can explain
    red = InverseSolver(engine)
    h3, q3, e3, passes3, _ = red.solve_many(plans, 0, base)
    assert red.per_time[0][8].lp[-1] < 0.6 * red.full_pattern[0].lp[-1]  # L's entries: 7,722 -> 3,381
    ok3 = ok & (passes3 >= 0)
    assert ok3.mean() > 0.85 and (passes3[ok3] == passes[ok3]).mean() > 0.95
    assert np.abs(h3[ok3] - h[ok3]).max() < 2e-5  # ft
    assert np.abs(q3[ok3] - q[ok3]).max() < 1e-5  # cfs
    assert np.abs(h3[ok3] - h[ok3]).max() > 0.0  # really another matrix
    # through solve_batch (results written in place, the unhandled ones by the full solver): as the full solver
    fast = solve_batch(net, scen[:16], accuracy=1e-8)
    full = solve_batch(net, scen[:16], accuracy=1e-8, fast=False)
    assert fast.converged.all() and (passes[:16] < 0).any()
    assert np.abs(fast.pressure - full.pressure).max() < 2e-3
    assert np.abs(fast.leak - full.leak).max() < 1e-7  # m³/s


def test_process_pool_same_as_in_process():
    net = load_network(NET3)
    scen = _mixed_scenarios(net, 10, seed=9)
    one = solve_batch(net, scen)
    two = solve_batch(net, scen, workers=2)
    assert two.scenario_names == one.scenario_names
    np.testing.assert_allclose(two.pressure, one.pressure, atol=1e-9)
    np.testing.assert_array_equal(two.converged, one.converged)


def test_dask_local_cluster_same_as_in_process():
    distributed = pytest.importorskip("dask.distributed")
    net = load_network(NET3)
    scen = _mixed_scenarios(net, 6, seed=13)
    one = solve_batch(net, scen)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            res = solve_batch(net, scen, executor="dask", scheduler=client)
            res2 = solve_batch(net, scen, executor="dask", scheduler=cl.scheduler_address, workers=1)
    np.testing.assert_allclose(res.pressure, one.pressure, atol=1e-9)
    np.testing.assert_allclose(res2.flow, one.flow, atol=1e-12)


def test_bad_scenarios_are_named():
    net = load_network(NET3)
    with pytest.raises(BatchError, match="nope"):
        solve_batch(net, [Scenario(emitters={"nope": 1e-3}, name="leak-x")])
    with pytest.raises(BatchError, match="leak-y"):
        solve_batch(net, [Scenario(emitters={"10": -1.0}, name="leak-y")])
    with pytest.raises(BatchError, match="pump"):
        solve_batch(net, [Scenario(pump_speeds={"20": 1.0})])  # 20 is a pipe
    with pytest.raises(BatchError, match="executor"):
        solve_batch(net, [Scenario()], executor="spark")
    with pytest.raises(KeyError):
        solve_batch(net, [Scenario()]).pressure_frame(123)


def test_cli_batch_leaks(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from runze.cli.main import app

    out = tmp_path / "leaks.parquet"
    r = CliRunner().invoke(app, ["batch", str(NET3), "--leaks-at", "15,35,123", "--emitter", "5e-4", "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_parquet(out)
    assert sorted(table["scenario"].unique()) == ["123", "15", "35"]
    leak = table[table["leak"] > 0]
    assert sorted(leak["node"].unique()) == ["123", "15", "35"] and table["converged"].all()
    r = CliRunner().invoke(app, ["batch", str(NET3), "--leaks-at", "nope", "-o", str(tmp_path / "x.parquet")])
    assert r.exit_code == 2 and "nope" in r.output and not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("closed_at, pocket", [("101", True), ("pipe 121", False)])
def test_inverse_kernel_closed_pipes_and_pockets(closed_at, pocket):
    """Closed pipes between junctions are left out of J0 unless that leaves junctions held by no open link to a
    tank or reservoir (Net3 with every pipe at junction 101 closed): then the full pattern is used.  Either way
    the leak scenarios agree with the full gradient solver."""
    import wntr

    from runze.hydraulics.batch import BatchEngine
    from runze.hydraulics.batch_inverse import InverseSolver
    from runze.network.inp import read_inp

    net = read_inp(Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp")
    for pid, p in net.pipes.items():
        if closed_at in (p.node1, p.node2, f"pipe {pid}"):
            p.initial_status = "CLOSED"
    engine = BatchEngine(net)
    solver = engine.lowrank
    assert isinstance(solver, InverseSolver)
    status = engine.base_state(0).status
    c = engine.c
    assert ((status <= 2) & (c.n1 < c.nj) & (c.n2 < c.nj)).any()
    assert (solver.matrix_pattern(status) is solver.full_pattern) == pocket
    nodes = [j for j in net.junctions if j not in ("101", "10")][:12]
    scen = [Scenario(emitters={j: 2e-4}, name=j) for j in nodes]
    from runze.hydraulics.batch import make_plans

    passes = solver.solve_many(make_plans(net, c, scen), 0, engine.base_state(0))[3]
    assert (passes >= 2).sum() >= 8  # most by the kernel's passes, not handed to the full solver
    fast = solve_batch(net, scen)
    full = solve_batch(net, scen, fast=False)
    assert fast.converged.all() and full.converged.all()
    assert np.abs(fast.pressure - full.pressure).max() < 2e-3


def test_kernel_with_a_pump_stopped_by_speed_zero():
    """A pump whose speed is 0 at the solved time (the demo city's default build has some) is closed: the batch
    kernel's law table must not evaluate its curve (0 ** (2 - n) divided by zero and broke every scenario)."""
    from runze.hydraulics.batch import BatchEngine
    from runze.hydraulics.batch_kernel import law_table
    from runze.hydraulics.compile import PUMP
    from runze.network.demo_city.build import build_demo_city

    net = build_demo_city()
    engine = BatchEngine(net)
    c = engine.c
    speed = engine.base_state(0).setting.copy()
    pumps = np.flatnonzero(c.ltype == PUMP)
    assert pumps.size
    speed[pumps[0]] = 0.0
    c.pump_n[engine.lowrank.pump_of_link[pumps[0]]] = 2.5  # an exponent above 2 as well
    tab = law_table(c, engine.lowrank.pump_of_link, speed)
    assert np.isfinite(tab).all() and tab[pumps[0], 1] == 0.0
    node = sorted(net.junctions)[100]
    for t in (0, 3 * 3600):
        fast = solve_batch(net, [Scenario(emitters={node: 1e-3})], times=[t])
        full = solve_batch(net, [Scenario(emitters={node: 1e-3})], times=[t], fast=False)
        assert fast.ok and np.abs(fast.pressure - full.pressure).max() < 2e-3
