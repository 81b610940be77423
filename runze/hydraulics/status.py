"""Status rules applied inside the gradient iterations (EPANET's hydstatus.c and pswitch), vectorised.

* `valve_status`: PRV/PSV with a setting move between ACTIVE, OPEN and CLOSED (and XPRESSURE → CLOSED).
* `link_status`: re-open temporarily closed links, check valves, pumps that cannot deliver their head (XHEAD),
  FCVs that cannot hold their flow (XFCV), links that would fill a full tank or drain an empty one.
* `pressure_switch`: simple controls whose condition is a junction pressure (checked on convergence).

Each returns True when any status changed, as the solver needs to know whether to keep iterating.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics import fastkernel
from runze.hydraulics.compile import (
    ACTIVE,
    CLOSED,
    CONST_HP,
    CVPIPE,
    FCV,
    HILEVEL,
    HTOL,
    LOWLEVEL,
    MISSING,
    OPEN,
    PIPE,
    PRV,
    PSV,
    PUMP,
    QTOL,
    TEMPCLOSED,
    TINY,
    XFCV,
    XHEAD,
    XPRESSURE,
)


def cv_status(s: np.ndarray, dh: np.ndarray, q: np.ndarray) -> np.ndarray:
    """EPANET's cvstatus: a check valve closes on reverse head or flow."""
    big = np.abs(dh) > HTOL
    rev = q < -QTOL
    closed_big = (dh < -HTOL) | rev
    out = np.where(big, np.where(closed_big, CLOSED, OPEN), np.where(rev, CLOSED, s))
    return out.astype(np.int8)


class StatusRules:
    """Index sets and data the status rules need, built once from a compiled network and its kernel."""

    def __init__(self, c, controls) -> None:
        self.c = c
        v = c.valves
        self.prv = v[c.ltype[v] == PRV]
        self.psv = v[c.ltype[v] == PSV]
        self.fcv = v[c.ltype[v] == FCV]
        self.prv_psv = v[(c.ltype[v] == PRV) | (c.ltype[v] == PSV)]  # in valve order, as EPANET checks them
        self.fast = fastkernel.AVAILABLE  # the kernel may switch this off
        self.cv = c.cvpipes
        self.pumps = c.pumps
        # tank links: the tank side (n1 if it is a tank/reservoir, else n2), reservoirs excluded
        fixed = np.arange(c.nn) >= c.nj
        tl = np.flatnonzero(fixed[c.n1] | fixed[c.n2])
        side_is_n1 = fixed[c.n1[tl]]
        tank_node = np.where(side_is_n1, c.n1[tl], c.n2[tl])
        tank_pos = np.full(c.nn, -1)
        tank_pos[c.tank_node] = np.arange(c.tank_node.size)
        keep = tank_pos[tank_node] >= 0
        self.tl = tl[keep]
        self.tl_sign = np.where(side_is_n1[keep], 1.0, -1.0)
        self.tl_tank = tank_pos[tank_node[keep]]
        self.tl_tanknode = tank_node[keep]
        self.tl_is_pump = c.ltype[self.tl] == PUMP
        self.tl_pump_in = self.tl_is_pump & (c.n2[self.tl] == self.tl_tanknode)  # pump discharges into tank
        self.tl_pump_out = self.tl_is_pump & (c.n1[self.tl] == self.tl_tanknode)
        self.controls = controls
        pumpmask = c.ptype == CONST_HP
        self.pump_hmax = np.where(pumpmask, 1.0e10, c.pump_hmax)
        self.pump_is_hp = pumpmask
        # lookups for the compiled version
        self.pump_of_link = np.full(c.nl, -1, np.int64)
        self.pump_of_link[c.pumps] = np.arange(c.pumps.size)
        self.tank_of_node = np.full(c.nn, -1, np.int64)
        self.tank_of_node[c.nj:] = -2  # reservoirs
        self.tank_of_node[c.tank_node] = np.arange(c.tank_node.size)
        # the links linkstatus() can change (see fastkernel.link_status_nb), in link order
        tank_end = (self.tank_of_node[c.n1] >= 0) | (self.tank_of_node[c.n2] >= 0)
        self.status_links = np.flatnonzero(np.isin(c.ltype, (CVPIPE, PUMP, FCV)) | tank_end).astype(np.int64)

    # ------------------------------------------------------------------------------------------------
    def valve_status(self, st) -> bool:
        c = self.c
        if self.fast:
            if self.prv_psv.size == 0:
                return False
            return bool(fastkernel.valve_status_nb(self.prv_psv, c.ltype, c.km, c.elev, c.n1, c.n2, st.Q, st.H,
                                                   st.status, st.setting))
        change = False
        for idx, is_prv in ((self.prv, True), (self.psv, False)):
            if idx.size == 0:
                continue
            k = idx[st.setting[idx] != MISSING]
            if k.size == 0:
                continue
            s = st.status[k]
            q = st.Q[k]
            h1 = st.H[c.n1[k]]
            h2 = st.H[c.n2[k]]
            hml = c.km[k] * q * q
            rev = q < -QTOL
            if is_prv:
                hset = c.elev[c.n2[k]] + st.setting[k]
                new = np.where(
                    s == ACTIVE, np.where(rev, CLOSED, np.where(h1 - hml < hset - HTOL, OPEN, ACTIVE)),
                    np.where(s == OPEN, np.where(rev, CLOSED, np.where(h2 >= hset + HTOL, ACTIVE, OPEN)),
                             np.where(s == CLOSED,
                                      np.where((h1 >= hset + HTOL) & (h2 < hset - HTOL), ACTIVE,
                                               np.where((h1 < hset - HTOL) & (h1 > h2 + HTOL), OPEN, CLOSED)),
                                      np.where((s == XPRESSURE) & rev, CLOSED, s))))
            else:
                hset = c.elev[c.n1[k]] + st.setting[k]
                new = np.where(
                    s == ACTIVE, np.where(rev, CLOSED, np.where(h2 + hml > hset + HTOL, OPEN, ACTIVE)),
                    np.where(s == OPEN, np.where(rev, CLOSED, np.where(h1 < hset - HTOL, ACTIVE, OPEN)),
                             np.where(s == CLOSED,
                                      np.where((h2 > hset + HTOL) & (h1 > h2 + HTOL), OPEN,
                                               np.where((h1 >= hset + HTOL) & (h1 > h2 + HTOL), ACTIVE, CLOSED)),
                                      np.where((s == XPRESSURE) & rev, CLOSED, s))))
            new = new.astype(np.int8)
            if np.any(new != s):
                change = True
                st.status[k] = new
        return change

    def link_status(self, st) -> bool:
        c = self.c
        if self.fast:
            return bool(fastkernel.link_status_nb(self.status_links, c.ltype, c.n1, c.n2, st.H, st.Q, st.status,
                                                  st.setting, c.km,
                                                  self.pump_of_link, self.pump_hmax, self.pump_is_hp,
                                                  self.tank_of_node, st.V, c.tank_vmin, c.tank_vmax,
                                                  c.tank_overflow))
        old = st.status.copy()
        status = st.status
        status[(status == XHEAD) | (status == TEMPCLOSED)] = OPEN
        if self.cv.size:
            k = self.cv
            dh = st.H[c.n1[k]] - st.H[c.n2[k]]
            status[k] = cv_status(status[k], dh, st.Q[k])
        if self.pumps.size:
            k = self.pumps
            sel = (status[k] >= OPEN) & (st.setting[k] > 0.0)
            if sel.any():
                gain = st.H[c.n2[k]] - st.H[c.n1[k]]
                hmax = st.setting[k] ** 2 * self.pump_hmax
                hmax = np.where(self.pump_is_hp, 1.0e10, hmax)
                new = np.where(gain > hmax + HTOL, XHEAD, OPEN)
                # EPANET 2.3: a constant-power pump with (near) zero flow is closed temporarily
                new = np.where(self.pump_is_hp & (st.Q[k] < TINY), TEMPCLOSED, new)
                status[k] = np.where(sel, new, status[k])
        if self.fcv.size:
            k = self.fcv[st.setting[self.fcv] != MISSING]
            if k.size:
                s0 = old[k]
                dh = st.H[c.n1[k]] - st.H[c.n2[k]]
                q = st.Q[k]
                with np.errstate(divide="ignore", invalid="ignore"):
                    too_open = (s0 == ACTIVE) & (dh / (q * q) < c.km[k])  # active loss below fully open loss
                new = np.where((dh < -HTOL) | (q < -QTOL), XFCV,
                               np.where((s0 == XFCV) & (q >= st.setting[k]), ACTIVE,
                                        np.where(too_open, XFCV, s0)))
                status[k] = new
        # EPANET 2.3: a link may not add water to a full tank nor take it from an empty one (volume and flow
        # direction decide; both ends are checked, start node first)
        for nodes, sign in ((c.n1, 1.0), (c.n2, -1.0)):
            t = self.tank_of_node[nodes]
            k = np.flatnonzero(t >= 0)
            if k.size == 0:
                continue
            t = t[k]
            qout = sign * st.Q[k]
            opened = status[k] > CLOSED
            full = (st.V[t] >= c.tank_vmax[t]) & ~c.tank_overflow[t] & (qout < 0.0)
            empty = (st.V[t] <= c.tank_vmin[t]) & (qout > 0.0)
            status[k[opened & (full | empty)]] = TEMPCLOSED
        return bool(np.any(status != old))

    def pressure_switch(self, st) -> bool:
        """Junction-pressure simple controls (EPANET's pswitch)."""
        ctl = self.controls
        if ctl is None or ctl.junction_ctl.size == 0:
            return False
        c = self.c
        i = ctl.junction_ctl
        n = ctl.node[i]
        h = st.H[n]
        reset = ((ctl.kind[i] == LOWLEVEL) & (h <= ctl.grade[i] + HTOL)) | \
                ((ctl.kind[i] == HILEVEL) & (h >= ctl.grade[i] - HTOL))
        anychange = False
        for j in i[reset]:  # few controls fire at once; order matters (the last one wins), as in EPANET
            k = ctl.link[j]
            t = c.ltype[k]
            s = st.status[k]
            change = False
            if t == PIPE or t == CVPIPE:
                change = s != ctl.status[j]
            elif t == PUMP:
                change = st.setting[k] != ctl.setting[j]
            else:
                change = st.setting[k] != ctl.setting[j] or (st.setting[k] == MISSING and s != ctl.status[j])
            if change:
                st.status[k] = ctl.status[j]
                if t > PIPE:
                    st.setting[k] = ctl.setting[j]
                anychange = True
        return anychange


__all__ = ["StatusRules", "cv_status", "XPRESSURE", "XFCV", "ACTIVE"]
