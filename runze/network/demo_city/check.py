"""Steady-state check of a demo city file through EPANET 2.3 (owa-epanet): a 24 h extended-period run.

`epanet_check(inp)` runs the file hour by hour and returns what a modeller looks at first: pressures at demand
nodes (every hour and at the peak hour), plant outflows and their shares of the day's volume, tank levels,
pump switching, and every warning EPANET wrote to its report (a clean city has none).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(slots=True)
class CheckResult:
    times_h: np.ndarray  # reporting hours
    min_pressure: np.ndarray  # per hour, over demand nodes, m
    max_pressure: np.ndarray
    demand_total: np.ndarray  # per hour, m³/s, all junction demands
    peak_hour: float
    peak_min_pressure: float
    peak_max_pressure: float
    worst_node: str  # lowest pressure of the day
    peak_max_node: str  # highest pressure at the peak hour
    daily_volume_m3: float
    plant_volume_m3: dict[str, float]
    plant_peak_m3s: dict[str, float]
    tank_levels: dict[str, tuple[float, float]]  # min, max level over the day, m
    peak_max_velocity: float  # m/s, over pipes at the peak hour
    peak_max_velocity_pipe: str
    warnings: list[str] = field(default_factory=list)

    @property
    def plant_share(self) -> dict[str, float]:
        total = sum(self.plant_volume_m3.values()) or 1.0
        return {k: v / total for k, v in self.plant_volume_m3.items()}


def _values(en, ph, getter, prop: int, count: int) -> np.ndarray:
    """All nodes' or links' values of one property (EPANET 2.3's bulk getters fill a C array)."""
    buf = en.doubleArray(count)
    getter(ph, prop, buf)
    return np.fromiter((buf[i] for i in range(count)), dtype=float, count=count)


def epanet_check(inp: str | Path, plant_links: dict[str, str] | None = None) -> CheckResult:
    """Run `inp` for its duration through EPANET 2.3 and summarise it (SI units: m, m³/s, m³)."""
    from epanet import toolkit as en

    with tempfile.TemporaryDirectory() as tmp:
        rpt = Path(tmp) / "check.rpt"
        ph = en.createproject()
        try:
            en.open(ph, str(inp), str(rpt), "")
            n_nodes = en.getcount(ph, en.NODECOUNT)
            n_links = en.getcount(ph, en.LINKCOUNT)
            node_ids = [en.getnodeid(ph, i) for i in range(1, n_nodes + 1)]
            link_ids = [en.getlinkid(ph, i) for i in range(1, n_links + 1)]
            node_type = np.array([en.getnodetype(ph, i) for i in range(1, n_nodes + 1)])
            junction = node_type == en.JUNCTION
            tank_idx = np.flatnonzero(node_type == en.TANK)
            elev = _values(en, ph, en.getnodevalues, en.ELEVATION, n_nodes)
            link_pos = {lk: i for i, lk in enumerate(link_ids)}
            plant_links = plant_links or {}
            en.openH(ph)
            en.initH(ph, 0)
            times, pmin, pmax, demand, flows, levels, pressures = [], [], [], [], [], [], []
            velocities = []
            is_pipe = np.array([en.getlinktype(ph, i) in (en.PIPE, en.CVPIPE) for i in range(1, n_links + 1)])
            demand_node = np.zeros(n_nodes, dtype=bool)
            while True:
                t = en.runH(ph)
                if t % 3600 == 0:
                    p = _values(en, ph, en.getnodevalues, en.PRESSURE, n_nodes)
                    d = _values(en, ph, en.getnodevalues, en.DEMAND, n_nodes)
                    q = _values(en, ph, en.getlinkvalues, en.FLOW, n_links)
                    head = _values(en, ph, en.getnodevalues, en.HEAD, n_nodes)
                    velocities.append(np.where(is_pipe, _values(en, ph, en.getlinkvalues, en.VELOCITY, n_links), 0.0))
                    demand_node |= junction & (d > 0)
                    times.append(t / 3600.0)
                    pressures.append(p)
                    demand.append(d[junction].sum() / 1000.0)
                    flows.append([q[link_pos[lk]] / 1000.0 for lk in plant_links.values()])
                    levels.append(head[tank_idx] - elev[tank_idx])
                if en.nextH(ph) <= 0:
                    break
            en.closeH(ph)
        finally:
            try:
                en.close(ph)
            finally:
                en.deleteproject(ph)
        report = rpt.read_text(errors="replace") if rpt.exists() else ""
    warnings = [line.strip() for line in report.splitlines() if "WARNING" in line.upper()]
    press = np.array(pressures)[:, demand_node]
    pmin, pmax = press.min(axis=1), press.max(axis=1)
    times_arr = np.array(times)
    demand_arr = np.array(demand)
    # the last report (t = duration) repeats hour 0 of the next day: volumes use hours 0..23
    day = times_arr < 24.0
    peak = int(np.argmax(np.where(day, demand_arr, -1.0)))
    flows_arr = np.array(flows) if flows and flows[0] else np.zeros((len(times), 0))
    plant_volume = {k: float(flows_arr[day, i].sum() * 3600.0) for i, k in enumerate(plant_links)}
    plant_peak = {k: float(flows_arr[day, i].max()) for i, k in enumerate(plant_links)}
    lv = np.array(levels)
    tank_levels = {node_ids[i]: (float(lv[:, j].min()), float(lv[:, j].max())) for j, i in enumerate(tank_idx)}
    worst = np.array(node_ids)[demand_node][int(np.argmin(press.min(axis=0)))]
    peak_max_node = str(np.array(node_ids)[demand_node][int(np.argmax(press[peak]))])
    v_peak = np.abs(velocities[peak])
    v_arg = int(np.argmax(v_peak))
    return CheckResult(times_arr, pmin, pmax, demand_arr, float(times_arr[peak]), float(pmin[peak]),
                       float(pmax[peak]), str(worst), peak_max_node, float(demand_arr[day].sum() * 3600.0),
                       plant_volume,
                       plant_peak, tank_levels, float(v_peak[v_arg]), link_ids[v_arg], warnings)
