"""Simple controls ([CONTROLS]) as arrays, evaluated as EPANET's controls() and controltimestep() do.

Tank-level controls compare volumes with a one-second tolerance (the volume change in one second at the tank's
current net inflow), timer and time-of-day controls fire at exact times, and junction-pressure controls are
left to the solver's pressure switch (checked when the iterations converge).  Controls that fire in the same
instant are applied in file order, so the last one on a link wins, as in EPANET.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics import fastkernel, fastloop
from runze.hydraulics.compile import (
    CLOSED,
    CONST_HP,
    GPV,
    HILEVEL,
    LOWLEVEL,
    MISSING,
    OPEN,
    PIPE,
    PUMP,
    QZERO,
    TIMEOFDAY,
    TIMER,
    Compiled,
    valve_setting_internal,
)
from runze.network.model import Network
from runze.network.units import FT

SEC_PER_DAY = 86400
_KINDS = {"below": LOWLEVEL, "above": HILEVEL, "time": TIMER, "clocktime": TIMEOFDAY}


def tank_volume(c: Compiled, t: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Volume (ft³) of tanks t (tank positions) at heads h."""
    v = c.tank_vmin[t] + (h - c.tank_hmin[t]) * c.tank_area[t]
    curved = c.tank_vcurve[t] >= 0
    if np.any(curved):
        for i in np.flatnonzero(curved):  # volume-curve tanks are few; each has its own curve
            row = c.tank_vcurve[t[i]]
            n = c.curve_n[row]
            el = c.elev[c.tank_node[t[i]]]
            v[i] = np.interp(h[i] - el, c.curve_x[row, :n], c.curve_y[row, :n])
    return v


def tank_grade(c: Compiled, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Water head (ft) of tanks t holding volumes v."""
    h = c.tank_hmin[t] + (v - c.tank_vmin[t]) / c.tank_area[t]
    curved = c.tank_vcurve[t] >= 0
    if np.any(curved):
        for i in np.flatnonzero(curved):
            row = c.tank_vcurve[t[i]]
            n = c.curve_n[row]
            el = c.elev[c.tank_node[t[i]]]
            h[i] = el + np.interp(v[i], c.curve_y[row, :n], c.curve_x[row, :n])
    return h


class SimpleControls:
    """The simple controls of a network, compiled against `Compiled` indices."""

    def __init__(self, net: Network, c: Compiled) -> None:
        rows = []
        for ctl in net.controls:
            if not ctl.enabled or ctl.link not in c.link_index:
                continue
            k = c.link_index[ctl.link]
            t = int(c.ltype[k])
            if ctl.setting is not None:
                val = float(ctl.setting)
                if t == PUMP or t <= PIPE:
                    status = CLOSED if val == 0.0 else OPEN
                    setting = val
                else:
                    status = 4  # ACTIVE
                    setting = valve_setting_internal(t, val, c.qcf)
            else:
                status = OPEN if ctl.status == "OPEN" else CLOSED
                if t == PUMP:
                    setting = 1.0 if status == OPEN else 0.0
                elif t == GPV:
                    setting = float(c.setting0[k])
                else:
                    setting = MISSING
            kind = _KINDS[ctl.condition]
            node, grade, time = -1, 0.0, 0
            if kind in (LOWLEVEL, HILEVEL):
                node = c.node_index.get(ctl.node or "", -1)
                if node < 0:
                    continue
                grade = c.elev[node] + ctl.value / FT
            else:
                time = int(round(ctl.value))
            rows.append((k, node, kind, grade, time, status, setting))
        arr = np.array(rows, dtype=float).reshape(-1, 7)
        self.link = arr[:, 0].astype(np.int64)
        self.node = arr[:, 1].astype(np.int64)
        self.kind = arr[:, 2].astype(np.int64)
        self.grade = arr[:, 3]
        self.time = arr[:, 4].astype(np.int64)
        self.status = arr[:, 5].astype(np.int8)
        self.setting = arr[:, 6]
        self.c = c
        self.n = len(rows)
        level = np.isin(self.kind, (LOWLEVEL, HILEVEL))
        self.junction_ctl = np.flatnonzero(level & (self.node >= 0) & (self.node < c.nj))
        tank_pos = np.full(c.nn, -1)
        tank_pos[c.tank_node] = np.arange(c.tank_node.size)
        self.tank_ctl = np.flatnonzero(level & (self.node >= c.nj))
        self.tank_ctl_pos = tank_pos[self.node[self.tank_ctl]]
        # node -> tank position (-1 junction, -2 reservoir) and pump lookups for the compiled versions
        self.tank_of_node = np.full(c.nn, -1, np.int64)
        self.tank_of_node[c.nj:] = -2
        self.tank_of_node[c.tank_node] = np.arange(c.tank_node.size)
        self.pump_of_link = np.full(c.nl, -1, np.int64)
        self.pump_of_link[c.pumps] = np.arange(c.pumps.size)
        self.fast = fastkernel.AVAILABLE

    def _tank_args(self):
        c = self.c
        return (c.tank_vmin, c.tank_hmin, c.tank_area, c.tank_vcurve, c.tank_node, c.elev, c.curve_x, c.curve_y,
                c.curve_n)

    def apply(self, st, htime: int) -> int:
        """EPANET's controls(): apply tank-level and time controls at the start of a period."""
        if self.n == 0:
            return 0
        c = self.c
        if self.fast:
            return int(fastloop.controls_apply_nb(
                htime, c.tstart, self.kind, self.link, self.node, self.grade, self.time, self.status, self.setting,
                self.tank_of_node, st.H, st.node_demand, st.status, st.setting, c.ltype, st.Q, self.pump_of_link,
                c.ptype, c.pump_q0, *self._tank_args()))
        reset = np.zeros(self.n, bool)
        reset |= (self.kind == TIMER) & (self.time == htime)
        reset |= (self.kind == TIMEOFDAY) & ((htime + c.tstart) % SEC_PER_DAY == self.time)
        if self.tank_ctl.size:
            i = self.tank_ctl
            n = self.node[i]
            pos = self.tank_ctl_pos
            h = st.H[n]
            vplus = np.abs(st.node_demand[n])
            is_tank = pos >= 0
            tp = np.where(is_tank, pos, 0)
            v1 = np.where(is_tank, tank_volume(c, tp, h), h)
            v2 = np.where(is_tank, tank_volume(c, tp, self.grade[i]), self.grade[i])
            kind = self.kind[i]
            reset[i] = ((kind == LOWLEVEL) & (v1 <= v2 + vplus)) | ((kind == HILEVEL) & (v1 >= v2 - vplus))
        count = 0
        for j in np.flatnonzero(reset):  # only the controls that fire, in file order
            k = self.link[j]
            s1 = CLOSED if st.status[k] <= CLOSED else OPEN
            s2 = self.status[j]
            k1 = st.setting[k]
            k2 = self.setting[j] if c.ltype[k] > PIPE else k1
            if c.ltype[k] == PUMP and s1 == CLOSED and s2 == OPEN:
                reset_pump_flow(c, st, k)
            if s1 != s2 or k1 != k2:
                st.status[k] = s2
                st.setting[k] = k2
                count += 1
        return count

    def time_to_next(self, st, htime: int, tstep: int) -> int:
        """EPANET's controltimestep(): shorten the step to the next control that would change a link."""
        if self.n == 0:
            return tstep
        c = self.c
        if self.fast:
            return int(fastloop.control_timestep_nb(
                htime, c.tstart, tstep, self.kind, self.link, self.node, self.grade, self.time, self.status,
                self.setting, self.tank_of_node, st.H, st.node_demand, st.V, st.status, st.setting, c.ltype,
                *self._tank_args()))
        t = np.zeros(self.n, np.int64)
        if self.tank_ctl.size:
            i = self.tank_ctl
            n = self.node[i]
            pos = self.tank_ctl_pos
            h = st.H[n]
            q = st.node_demand[n]
            kind = self.kind[i]
            ok = (pos >= 0) & (np.abs(q) > QZERO) & (
                ((h < self.grade[i]) & (kind == HILEVEL) & (q > 0)) |
                ((h > self.grade[i]) & (kind == LOWLEVEL) & (q < 0)))
            if ok.any():
                ii = i[ok]
                tp = pos[ok]
                v = tank_volume(c, tp, self.grade[ii]) - st.V[tp]
                t[ii] = _round(v / q[ok])
        timer = self.kind == TIMER
        t = np.where(timer & (self.time > htime), self.time - htime, t)
        tod = self.kind == TIMEOFDAY
        if tod.any():
            t1 = (htime + c.tstart) % SEC_PER_DAY
            t2 = self.time
            t = np.where(tod, np.where(t2 >= t1, t2 - t1, SEC_PER_DAY - t1 + t2), t)
        cand = (t > 0) & (t < tstep)
        if cand.any():
            k = self.link
            changes = ((c.ltype[k] > PIPE) & (st.setting[k] != self.setting)) | (st.status[k] != self.status)
            # EPANET compares sequentially, shrinking tstep as it goes; the minimum over changers is the same
            sel = cand & changes
            if sel.any():
                tstep = int(min(tstep, t[sel].min()))
        return tstep


def _round(x: np.ndarray) -> np.ndarray:
    """EPANET's ROUND: half away from zero, to integer seconds."""
    return np.where(x >= 0, np.floor(x + 0.5), -np.floor(-x + 0.5)).astype(np.int64)


def reset_pump_flow(c: Compiled, st, k: int) -> None:
    """A constant-power pump being re-opened restarts from its design flow (EPANET's resetpumpflow)."""
    m = int(np.searchsorted(c.pumps, k))
    if c.ptype[m] == CONST_HP:
        st.Q[k] = c.pump_q0[m]
