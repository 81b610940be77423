"""Metered areas for leak detection: the water balance of every part of the network the flow meters close off.

An area is a connected piece of the network once the metered links (and links shut at the start, pumps
excepted: controls start them) are cut away.  Its net inflow is the signed sum of the meters on its edge minus
what its tanks store (level rate × cross-section).  Pieces holding a reservoir (unknown supply), a tank without
a level sensor, or no consumer are left out (and, on request, any piece holding a tank: a level's rate of
change is a noisy balance term, see `DetectConfig.level_storage`).  So DMAs come out by themselves, and so does the trunk main
system outside every DMA ("TRUNK": plant outlets in, DMA inlets out, the service tank's level) — a quarter of
the mains, which the DMA inflows alone never watch.  A piece is named after the layout DMA it mostly covers,
else TRUNK (one piece, when the layout has DMAs), ALL (one piece, no DMAs) or AREA<n>.

`model_demand` gives each area's modelled demand (base × pattern, `simulate.hourly_base_demand`) on the data's
clock: the shape of its use through the day, known without training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runze.analysis.leaks.layout import SensorLayout
from runze.network.model import Network

TRUNK = "TRUNK"


@dataclass
class Area:
    name: str
    junctions: list[str]
    meters: list[tuple[str, float]]  # (link id, +1 when its positive flow enters the area, else −1)
    tanks: list[str] = field(default_factory=list)


def _components(net: Network, cut: set[str]) -> dict[str, int]:
    """Node id → component label of the network without the `cut` links and the links shut at the start."""
    parent = {n: n for n in net.node_ids}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for link in net.links():
        shut = str(getattr(link, "initial_status", "OPEN")).upper() == "CLOSED" and link.id not in net.pumps
        if link.id in cut or shut:
            continue
        ra, rb = find(link.node1), find(link.node2)
        if ra != rb:
            parent[ra] = rb
    roots = {}
    return {n: roots.setdefault(find(n), len(roots)) for n in net.node_ids}


def metered_areas(net: Network, layout: SensorLayout, flow_columns: set[str] | None = None,
                  level_storage: bool = True) -> list[Area]:
    """The areas the layout's flow meters (those with data, when `flow_columns` is given) and levels close off;
    without `level_storage`, areas holding a tank (whose balance needs its level's rate) are left out."""
    meters = {el: sid for sid, el in layout.flow.items() if flow_columns is None or sid in flow_columns}
    meters = {el: sid for el, sid in meters.items() if net.has_link(el)}
    comp = _components(net, set(meters))
    leveled = set(layout.level.values())
    members: dict[int, list[str]] = {}
    for n, c in comp.items():
        members.setdefault(c, []).append(n)
    dma_sets = {d: set(v.get("nodes", [])) for d, v in layout.dmas.items()}
    areas: list[Area] = []
    for c, nodes in members.items():
        if any(n in net.reservoirs for n in nodes):
            continue
        tanks = [n for n in nodes if n in net.tanks]
        if any(t not in leveled for t in tanks) or (tanks and not level_storage):
            continue
        junctions = [n for n in nodes if n in net.junctions and any(d.base > 0 for d in net.junctions[n].demands)]
        if not junctions:
            continue
        signs = []
        for el in meters:
            link = net.link(el)
            a, b = comp[link.node1] == c, comp[link.node2] == c
            if a != b:
                signs.append((el, 1.0 if b else -1.0))
        if not signs and not tanks:
            continue
        areas.append(Area("", [n for n in nodes if n in net.junctions], signs, tanks))
    used: set[str] = set()
    for ar in areas:
        js = set(ar.junctions)
        best = max(dma_sets, key=lambda d: len(js & dma_sets[d]), default=None)
        if best is not None and best not in used and len(js & dma_sets[best]) > 0.5 * len(js):
            ar.name = best
            used.add(best)
    rest = [ar for ar in areas if not ar.name]
    for k, ar in enumerate(rest, start=1):
        ar.name = (TRUNK if layout.dmas else "ALL") if len(rest) == 1 else f"AREA{k}"
    return areas


def area_inflows(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network,
                 areas: list[Area]) -> pd.DataFrame:
    """(time × area) net inflow in m³/h on the 5-minute grid."""
    flow = frames.get("flow", pd.DataFrame())
    index = flow.index if len(flow) else next(iter(frames.values())).index
    by_link = {el: sid for sid, el in layout.flow.items() if sid in flow.columns}
    level = frames.get("level", pd.DataFrame())
    by_tank = {el: sid for sid, el in layout.level.items() if sid in level.columns}
    cols = {}
    for ar in areas:
        total = pd.Series(0.0, index=index)
        for el, sign in ar.meters:
            total = total + sign * flow[by_link[el]].reindex(index)
        for t in ar.tanks:
            tank = net.tanks[t]
            area = np.pi * tank.diameter ** 2 / 4.0
            # storage from the level's rate of change: a centred hour of 5-minute levels, in m per hour
            lv = level[by_tank[t]].reindex(index).interpolate(limit=12)
            rise = (lv.shift(-6) - lv.shift(6)) / 1.0
            total = total - area * rise.fillna(0.0)
        cols[ar.name] = total
    return pd.DataFrame(cols, index=index)


def model_demand(net: Network, areas: list[Area], index: pd.DatetimeIndex) -> pd.DataFrame:
    """(time × area) modelled demand in m³/h on `index`: base × pattern of the area's junctions, the pattern
    clock starting at midnight of the data's first day; linear between pattern hours like EPANET's hourly
    solutions joined by the generator (and like a real hourly-pattern model would be read)."""
    from runze.analysis.leaks.simulate import hourly_base_demand

    t0 = index[0].normalize()
    hours_f = (index - t0).total_seconds().to_numpy() / 3600.0
    hours = int(np.ceil(hours_f.max())) + 2
    base = hourly_base_demand(net, hours)
    col = {j: i for i, j in enumerate(net.junctions)}
    out = {}
    for ar in areas:
        idx = [col[j] for j in ar.junctions if j in col]
        d = base[:, idx].sum(axis=1) if idx else np.zeros(hours)
        out[ar.name] = np.interp(hours_f, np.arange(hours), d)
    return pd.DataFrame(out, index=index)
