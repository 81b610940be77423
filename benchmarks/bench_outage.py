"""Benchmark: outage planning on the demo city (or a synthetic grid city when the demo city is not available).

    python benchmarks/bench_outage.py [NET.inp] [--repeat 3] [--grid 70] [--solver epanet]

Times (perf_counter, each repeated): preparing the planner (graph, valve layer, segments), a repair plan on a
DN300 main (with the pressure-driven run), and criticality of every segment (target: under 60 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta

import numpy as np

from runze.analysis.isolation.criticality import criticality
from runze.analysis.isolation.demand import CST
from runze.analysis.isolation.plan import OutagePlanner
from runze.network.model import Demand, Junction, Network, Pattern, Pipe, Reservoir


def grid_city(side: int, seed: int = 1) -> Network:
    """A side x side street grid, two reservoirs, DN300 mains on every 10th street, a valve at most pipe ends."""
    rng = np.random.default_rng(seed)
    net = Network(name=f"grid{side}")
    net.patterns["1"] = Pattern("1", [0.5, 0.4, 0.35, 0.3, 0.35, 0.6, 1.0, 1.3, 1.2, 1.1, 1.0, 1.1, 1.2, 1.1,
                                      1.0, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 0.9, 0.7, 0.6])
    ij = np.indices((side, side)).reshape(2, -1).T
    for k, (i, j) in enumerate(ij):
        net.junctions[f"J{k}"] = Junction(f"J{k}", 20.0 + 0.05 * i, [Demand(2e-4 * rng.random(), "1")],
                                          x=float(j) * 100, y=float(i) * 100)
    net.utility.customers = {f"J{k}": {"residential": int(rng.integers(5, 60))} for k in range(side * side)}
    idx = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], 1)])
    main = (ij[pairs[:, 0], 0] % 10 == 0) & (ij[pairs[:, 0], 0] == ij[pairs[:, 1], 0]) | \
           (ij[pairs[:, 0], 1] % 10 == 0) & (ij[pairs[:, 0], 1] == ij[pairs[:, 1], 1])
    valves = []
    for k, (a, b) in enumerate(pairs):
        pid = f"P{k}"
        net.pipes[pid] = Pipe(pid, f"J{a}", f"J{b}", 100.0, 0.3 if main[k] else 0.15, 110.0)
        for node in (a, b):
            if rng.random() < 0.6:
                valves.append({"valve": f"V{len(valves)}", "link": pid, "node": f"J{node}"})
    for r, node in (("R1", 0), ("R2", side * side - 1)):
        net.reservoirs[r] = Reservoir(r, 80.0)
        net.pipes[f"M{r}"] = Pipe(f"M{r}", r, f"J{node}", 50.0, 0.6, 120.0)
    net.utility.valves = valves
    return net


def load(path: str | None, grid: int) -> tuple[Network, str | None]:
    if path:
        from runze.network.inp import read_inp

        return read_inp(path), path
    try:  # the demo city, when its generator is in this checkout
        from runze.network.demo_city.build import build_demo_city

        return build_demo_city(), None
    except Exception as exc:  # noqa: BLE001 - fall back to a synthetic city, and say so
        print(f"demo city not available ({exc.__class__.__name__}: {exc}); using a {grid}x{grid} grid city")
        return grid_city(grid), None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("network", nargs="?")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--grid", type=int, default=70)
    ap.add_argument("--solver", default="epanet")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    net, inp = load(args.network, args.grid)
    print(f"network: {net.name}: {net.n_nodes} nodes, {net.n_links} links, {net.total_pipe_length() / 1000:.1f} km, "
          f"{len(net.utility.valves)} valves (loaded in {time.perf_counter() - t:.2f} s)")
    # the DN300 main whose segment holds the most nodes: the interesting repair
    planner = OutagePlanner(net, inp_path=inp, max_share=0.5)
    g, seg = planner.graph, planner.segmentation()
    dn300 = np.flatnonzero(g.is_pipe & g.link_open & np.isclose(g.diameter, 0.3))
    if not dn300.size:
        print("no DN300 pipe in this network", file=sys.stderr)
        return 1
    nodes_in = seg.segment_sizes()["nodes"][seg.link_segment[dn300]]
    pipe = g.link_ids[dn300[np.argmax(nodes_in)]]
    timings: dict[str, list[float]] = {"prepare": [], "plan": [], "criticality": []}
    start = datetime.now(CST).replace(hour=0, minute=30, second=0, microsecond=0) + timedelta(days=2)
    for _ in range(args.repeat):
        t = time.perf_counter()
        planner = OutagePlanner(net, inp_path=inp, max_share=0.5)
        seg = planner.segmentation()
        timings["prepare"].append(time.perf_counter() - t)
        t = time.perf_counter()
        plan = planner.plan(pipe=pipe, start=start, hours=4, solver=args.solver)
        timings["plan"].append(time.perf_counter() - t)
        t = time.perf_counter()
        frame = criticality(planner)
        timings["criticality"].append(time.perf_counter() - t)
    print(f"segments: {seg.n_segments}; DN300 main {pipe}: close {len(plan.valves_to_close)} valves, "
          f"{plan.pipes['length_m'] / 1000:.1f} km / {plan.pipes['volume_m3']:.0f} m³ to drain, "
          f"{len(plan.isolated_nodes)} nodes isolated, {len(plan.unintended_nodes)} cut off, "
          f"{plan.demand_lost_m3h:.1f} m³/h, pressure ({plan.pressure['solver']}): "
          f"{plan.pressure['n_low_pressure_nodes']} nodes below 14 m ({plan.pressure['n_newly_low']} newly) "
          f"{plan.pressure.get('message', '')}")
    print(f"most critical segment: {frame.iloc[0]['customers']} customers, {frame.iloc[0]['demand_m3h']:.1f} m³/h")
    for name, values in timings.items():
        print(f"{name:12s} median {statistics.median(values):.3f} s  (min {min(values):.3f}, max {max(values):.3f},"
              f" n={len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
