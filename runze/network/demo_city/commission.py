"""Commissioning (调试) of the demo city's plants: tune each pump station's duty head with EPANET 2.3.

Where each plant's water goes depends on the whole network, so the generator does what an engineer does
when commissioning: run the day, look, adjust.  Each round runs 24 h through EPANET and changes the pump
curves' heads (all three points scaled together, as a different impeller trim would):
* a plant loaded above 90 % of its capacity at the peak hour gets less head;
* all plants together get more head if the main service tanks drain over the day, less if they fill (so a
  tank ends the day about where it started), and less if the peak pressure near the plants passes 60 m.
A few rounds suffice; the best round (plants under capacity, tank balanced) is kept.  EPANET is
deterministic, so the result still depends only on the seed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from runze.network.demo_city.check import CheckResult, epanet_check
from runze.network.model import Network

ROUNDS = 8
PEAK_LIMIT = 0.96  # of capacity, at the peak hour
LOAD_TARGET = 0.90  # peak-hour load a plant is trimmed down to (of capacity)
SHARE_GAIN_M = 20.0  # m of pump head per unit of peak-load ratio above the target
TANK_GAIN = 0.11  # share of the main tank's volume that one metre of plant head moves over a day


def _main_tanks(net: Network) -> list[str]:
    return [t for t in net.tanks if net.utility.zones.get(t) == "main" and f"{t}_MAIN" in net.pipes]


def _plant_links(net: Network) -> dict[str, str]:
    links = {p["id"]: p["outlet_link"] for p in net.utility.plants}
    for t in _main_tanks(net):
        links[t] = f"{t}_MAIN"
    return links


def run_day(net: Network) -> CheckResult:
    """24 h through EPANET 2.3 of the network as it stands (written to a temporary file)."""
    from runze.network.inp_writer import format_inp

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "commission.inp"
        path.write_text(format_inp(net), encoding="utf-8")
        return epanet_check(path, _plant_links(net))


def _pinned(net: Network, r: CheckResult, tanks: list[str]) -> int:
    """+1 if a main tank ran full, -1 if one ran empty, 0 if all stayed inside their levels."""
    for t in tanks:
        lo, hi = r.tank_levels[t]
        if hi >= net.tanks[t].max_level - 0.05:
            return 1
        if lo <= net.tanks[t].min_level + 0.05:
            return -1
    return 0


def _score(net: Network, r: CheckResult, tank_volume: float) -> tuple[float, np.ndarray, float]:
    cap = np.array([p["capacity_m3d"] / 86400.0 for p in net.utility.plants])
    peak = np.array([r.plant_peak_m3s[p["id"]] for p in net.utility.plants])
    ratio = peak / cap
    tanks = _main_tanks(net)
    drained = sum(r.plant_volume_m3[t] for t in tanks)  # flow out of the tanks into the network is positive
    pinned = _pinned(net, r, tanks) != 0
    badness = max(0.0, float(ratio.max()) - PEAK_LIMIT) * 10.0 + abs(drained) / max(tank_volume, 1.0)
    badness += 1.0 if pinned else 0.0
    badness += len(r.warnings) + max(0.0, 14.0 - float(r.min_pressure.min()))
    badness += max(0.0, r.peak_max_pressure - 60.0) / 5.0
    return badness, ratio, drained


def _plant_distances(net: Network) -> tuple[dict[str, int], np.ndarray]:
    """Distance along open pipes from each plant's outlet to every node (plants x nodes), m."""
    ids = net.node_ids
    pos = {k: i for i, k in enumerate(ids)}
    pipes = [p for p in net.pipes.values() if p.initial_status == "OPEN"]
    a = np.array([pos[p.node1] for p in pipes])
    b = np.array([pos[p.node2] for p in pipes])
    w = np.array([p.length for p in pipes])
    graph = sp.csr_matrix((w, (a, b)), shape=(len(ids), len(ids)))
    dist = dijkstra(graph, directed=False, indices=[pos[p["outlet_node"]] for p in net.utility.plants])
    return pos, dist


def commission(net: Network, progress=None, rounds: int = ROUNDS) -> CheckResult:
    """Tune the plants' pump curves in place; returns the EPANET check of the kept round."""
    plants = net.utility.plants
    tank_volume = sum(np.pi / 4 * net.tanks[t].diameter**2 * (net.tanks[t].max_level - net.tanks[t].min_level)
                      for t in _main_tanks(net))
    base = {p["id"]: [pt for pt in net.curves[f"{p['id']}_CURVE"].points] for p in plants}
    design = np.array([base[p["id"]][1][1] for p in plants])
    shift = np.zeros(len(plants))
    node_pos, plant_dist = _plant_distances(net)
    best = None
    for k in range(rounds):
        for i, p in enumerate(plants):
            f = (design[i] + shift[i]) / design[i]
            net.curves[f"{p['id']}_CURVE"].points = [(q, round(h * f, 2)) for q, h in base[p["id"]]]
        try:
            r = run_day(net)
        except Exception:  # EPANET gave up on this trim (error 110 ...): keep the best round so far
            if best is None:
                raise
            break
        badness, ratio, drained = _score(net, r, tank_volume)
        if progress:
            progress(f"commissioning round {k + 1}: peak load {ratio.max():.2f} of capacity")
        if best is None or badness < best[0]:
            best = (badness, shift.copy(), r)
        if badness < 0.05:
            break
        pinned = _pinned(net, r, _main_tanks(net))
        if pinned:
            common = -3.0 * pinned  # a tank ran full: the plants push too hard (empty: too little)
        else:
            common = 0.7 * drained / max(TANK_GAIN * tank_volume, 1.0)
        # only a plant over its load target gets less head: more head on a plant whose own district
        # cannot take more water would only raise pressures around it
        shift = shift - SHARE_GAIN_M * np.maximum(ratio - LOAD_TARGET, 0.0) + common
        if r.peak_max_pressure > 60.0:  # too much pressure at the peak: the nearest plant backs off
            shift[int(np.argmin(plant_dist[:, node_pos[r.peak_max_node]]))] -= r.peak_max_pressure - 59.0
    _, shift, r = best
    for i, p in enumerate(plants):
        f = (design[i] + shift[i]) / design[i]
        net.curves[f"{p['id']}_CURVE"].points = [(q, round(h * f, 2)) for q, h in base[p["id"]]]
    return r
