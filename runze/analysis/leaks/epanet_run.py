"""Hourly EPANET 2.3 runs with per-node demand series and time-varying leak emitters (the generator's engine).

`HourlyRun` opens a network with the toolkit (`from epanet import toolkit as en`), switches it to m³/h flow
units (pressures then in m), replaces every junction's demands by one demand with its own pattern of hourly
multipliers (the stochastic demand the generator drew), and steps the extended-period simulation hour by hour.
Before each hour's solve, the emitter coefficient of every leak node is set from the leak schedule; after it,
the sensor readings (pressure at nodes, flow in links, tank levels, node demand) and the leak outflows are kept.
EPANET adds intermediate steps itself (tank full/empty, controls); only the on-the-hour solutions are kept.

Why EPANET here: the generator's data are the "truth" a detector is judged against, so they come from the
reference solver; one year is 8,760 hourly solves (~2 ms each on an 800-1,300 node network).
Also here: `steady_sensitivity`, steady-state solves with a small emitter at each candidate node — the
finite-difference sensitivity matrix used by localisation (switchable to `runze.solve_batch` later).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from epanet import toolkit as en

from runze.network.inp import write_inp
from runze.network.model import Network


def _open(net: Network):
    """An EPANET project for the network (written to a temporary .inp), in m³/h and metres."""
    fd, path = tempfile.mkstemp(suffix=".inp", prefix="runze-leaks-")
    os.close(fd)
    rpt = os.devnull  # the report is not wanted
    try:
        write_inp(net, path, sidecar=False)
        ph = en.createproject()
        en.open(ph, path, rpt, "")
    finally:
        Path(path).unlink(missing_ok=True)
    en.setflowunits(ph, en.CMH)
    return ph


def _array(values: np.ndarray):
    """A C double array for the toolkit's pointer arguments."""
    buf = en.doubleArray(len(values))
    for i, v in enumerate(values.tolist()):
        buf[i] = v
    return buf


def _close(ph) -> None:
    try:
        en.closeH(ph)
    except Exception:  # noqa: BLE001 - not opened
        pass
    en.close(ph)
    en.deleteproject(ph)


@dataclass
class HourlyRecord:
    """Values on the hour (rows = periods) plus, in `events`, the solutions EPANET made between hours.

    events: (time s, pressure row, flow row, level row) at every intermediate solve (a control switching a
    pump, a tank filling): the 5-minute assembly holds the earlier state until such a time instead of
    smearing a pump start over the hour.
    """

    pressure: np.ndarray  # (hours, n_pressure) m
    flow: np.ndarray  # (hours, n_flow) m³/h
    level: np.ndarray  # (hours, n_level) m
    demand: np.ndarray  # (hours, n_demand) m³/h
    leak_flow: np.ndarray  # (hours, n_leaks) m³/h
    events: list = field(default_factory=list)


def run_hourly(net: Network, node_demand_m3h: np.ndarray, junction_ids: list[str],
               sensors: dict[str, list[str]], leak_nodes: list[str], leak_coeff: np.ndarray,
               step_s: int = 3600) -> HourlyRecord:
    """One EPS of `hours` (periods of `step_s`, an hour by default) = node_demand_m3h.shape[0] hourly periods.

    node_demand_m3h: (hours, n_junctions) demand of every junction; leak_coeff: (hours, n_leaks) emitter
    coefficient in m³/h per m^0.5 of each leak node at each hour (0 = not leaking).
    sensors: {"pressure": [node ids], "flow": [link ids], "level": [tank ids], "demand": [node ids]}.
    """
    hours = node_demand_m3h.shape[0]
    ph = _open(net)
    try:
        for key, value in ((en.DURATION, (hours - 1) * step_s), (en.HYDSTEP, step_s), (en.PATTERNSTEP, step_s),
                           (en.PATTERNSTART, 0), (en.REPORTSTEP, step_s), (en.REPORTSTART, 0)):
            en.settimeparam(ph, key, int(value))
        mean = node_demand_m3h.mean(axis=0)
        for j, jid in enumerate(junction_ids):
            idx = en.getnodeindex(ph, jid)
            nd = en.getnumdemands(ph, idx)
            for d in range(2, nd + 1):
                en.setbasedemand(ph, idx, d, 0.0)
            if nd == 0 or mean[j] <= 0:
                continue
            en.addpattern(ph, f"RZL{j}")
            pidx = en.getpatternindex(ph, f"RZL{j}")
            en.setpattern(ph, pidx, _array(node_demand_m3h[:, j] / mean[j]), hours)
            en.setbasedemand(ph, idx, 1, float(mean[j]))
            en.setdemandpattern(ph, idx, 1, pidx)
        en.setoption(ph, en.EMITEXPON, 0.5)
        p_idx = [en.getnodeindex(ph, n) for n in sensors.get("pressure", [])]
        f_idx = [en.getlinkindex(ph, k) for k in sensors.get("flow", [])]
        l_idx = [en.getnodeindex(ph, n) for n in sensors.get("level", [])]
        l_elev = np.array([en.getnodevalue(ph, i, en.ELEVATION) for i in l_idx])
        d_idx = [en.getnodeindex(ph, n) for n in sensors.get("demand", [])]
        k_idx = [en.getnodeindex(ph, n) for n in leak_nodes]
        rec = HourlyRecord(np.zeros((hours, len(p_idx))), np.zeros((hours, len(f_idx))),
                           np.zeros((hours, len(l_idx))), np.zeros((hours, len(d_idx))),
                           np.zeros((hours, len(k_idx))))
        en.openH(ph)
        en.initH(ph, 0)
        t_next = 0
        while True:
            h = min(t_next // step_s, hours - 1)
            for m, i in enumerate(k_idx):  # emitters as scheduled for this hour
                en.setnodevalue(ph, i, en.EMITTER, float(leak_coeff[h, m]))
            t = en.runH(ph)
            if t // step_s < hours:
                pres = [en.getnodevalue(ph, i, en.PRESSURE) for i in p_idx]
                flow = [en.getlinkvalue(ph, i, en.FLOW) for i in f_idx]
                level = np.array([en.getnodevalue(ph, i, en.HEAD) for i in l_idx]) - l_elev
                if t % step_s == 0:
                    r = t // step_s
                    rec.pressure[r], rec.flow[r], rec.level[r] = pres, flow, level
                    rec.demand[r] = [en.getnodevalue(ph, i, en.DEMAND) for i in d_idx]
                    rec.leak_flow[r] = [en.getnodevalue(ph, i, en.EMITTERFLOW) for i in k_idx]
                else:
                    rec.events.append((t, np.array(pres), np.array(flow), level))
            step = en.nextH(ph)
            if step <= 0:
                break
            t_next = t + step
        return rec
    finally:
        _close(ph)


def run_hourly_fine(net: Network, node_demand: np.ndarray, junction_ids: list[str], sensors: dict[str, list[str]],
                    step_s: int) -> HourlyRecord:
    """The same run at a short hydraulic step and no leaks (the reference for the interpolation check)."""
    return run_hourly(net, node_demand, junction_ids, sensors, [], np.zeros((node_demand.shape[0], 0)), step_s)


def mean_pressures(net: Network, hours: int = 24) -> dict[str, float]:
    """Average pressure (m) of every junction over the first `hours` of the file's own EPS (leak sizing)."""
    ph = _open(net)
    try:
        en.settimeparam(ph, en.DURATION, int(hours * 3600))
        en.settimeparam(ph, en.HYDSTEP, 3600)
        ids = list(net.junctions)
        idx = [en.getnodeindex(ph, n) for n in ids]
        acc = np.zeros(len(ids))
        count = 0
        en.openH(ph)
        en.initH(ph, 0)
        while True:
            t = en.runH(ph)
            if t % 3600 == 0:
                acc += [en.getnodevalue(ph, i, en.PRESSURE) for i in idx]
                count += 1
            if en.nextH(ph) <= 0:
                break
        return dict(zip(ids, acc / max(count, 1), strict=True))
    finally:
        _close(ph)


def steady_sensitivity(net: Network, candidates: list[str], pressure_nodes: list[str], flow_links: list[str],
                       clock_hours: list[float], leak_m3h: float = 5.0,
                       node_demand_m3h: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Change of sensor pressures (m) and flows (m³/h) per m³/h of leak at each candidate node.

    One steady-state solve per (hour of day, candidate): the file's patterns at that clock hour, tanks at their
    initial levels, an emitter sized to leak about `leak_m3h` at the candidate; the column is the change from the
    leak-free solve divided by the emitter's actual outflow.  Returns (dp, dq) of shapes
    (len(clock_hours), n_pressure, n_candidates) and (len(clock_hours), n_flow, n_candidates).
    """
    ph = _open(net)
    try:
        en.settimeparam(ph, en.DURATION, 0)
        en.setoption(ph, en.EMITEXPON, 0.5)
        p_idx = [en.getnodeindex(ph, n) for n in pressure_nodes]
        f_idx = [en.getlinkindex(ph, k) for k in flow_links]
        c_idx = [en.getnodeindex(ph, n) for n in candidates]
        dp = np.zeros((len(clock_hours), len(p_idx), len(c_idx)))
        dq = np.zeros((len(clock_hours), len(f_idx), len(c_idx)))
        en.openH(ph)

        def solve() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            en.initH(ph, 0)
            en.runH(ph)
            return (np.array([en.getnodevalue(ph, i, en.PRESSURE) for i in p_idx]),
                    np.array([en.getlinkvalue(ph, i, en.FLOW) for i in f_idx]),
                    np.array([en.getnodevalue(ph, i, en.PRESSURE) for i in c_idx]))

        for a, hour in enumerate(clock_hours):
            en.settimeparam(ph, en.PATTERNSTART, int(hour * 3600))
            p0, q0, pc = solve()
            for m, i in enumerate(c_idx):
                coeff = leak_m3h / np.sqrt(max(pc[m], 1.0))
                en.setnodevalue(ph, i, en.EMITTER, coeff)
                p1, q1, _ = solve()
                out = en.getnodevalue(ph, i, en.EMITTERFLOW)
                en.setnodevalue(ph, i, en.EMITTER, 0.0)
                if out > 1e-6:
                    dp[a, :, m] = (p1 - p0) / out
                    dq[a, :, m] = (q1 - q0) / out
        return dp, dq
    finally:
        _close(ph)
