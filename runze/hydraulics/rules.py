"""Rule-based controls ([RULES]) as EPANET's rules.c evaluates them, and its rule time step.

Between hydraulic solutions EPANET advances tank levels in rule-step increments and checks every rule after
each increment; the first increment in which any rule changes a link ends the hydraulic step there
(`rule_time_step`).  A rule's premises are combined left to right (AND/OR, as written), compared in the file's
units with a tolerance of 0.001; TIME/CLOCKTIME "=" premises are true when the time falls inside the increment
just taken.  True premises queue the THEN actions, false ones the ELSE actions; one action per link, the rule
with the higher priority winning.  Rules are few (tens), so they are evaluated per rule in Python: no loop over
network elements.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics import controls as simple
from runze.hydraulics.compile import (
    CLOSED,
    FCV,
    GPV,
    MISSING,
    OPEN,
    PBV,
    PIPE,
    PRV,
    PSV,
    PUMP,
    TINY,
    Compiled,
    valve_setting_internal,
)
from runze.network.model import Network
from runze.network.units import FLOW_FACTORS, FT, PSI_PER_FT, US_FLOW_UNITS

NODE_OBJ = ("NODE", "JUNCTION", "RESERVOIR", "TANK")
RELOPS = {"=": "EQ", "IS": "EQ", "<>": "NE", "NOT": "NE", "<": "LT", "BELOW": "LT", ">": "GT", "ABOVE": "GT",
          "<=": "LE", ">=": "GE"}


class RuleSet:
    """The network's rules compiled against `Compiled` indices (SI values, file-unit tolerances)."""

    def __init__(self, net: Network, c: Compiled) -> None:
        self.c = c
        us = (net.options.flow_units or "").upper() in US_FLOW_UNITS
        # EPANET compares in the file's units with a tolerance of 0.001: the same tolerance, in SI
        self.tol = {
            "flow": 1e-3 * FLOW_FACTORS.get((net.options.flow_units or "LPS").upper(), 1e-3),
            "length": 1e-3 * (FT if us else 1.0),
            "pressure": 1e-3 * (FT / PSI_PER_FT if us else 1.0),
        }
        self.rules = []
        for r in net.rules:
            prem = []
            for logic, obj, ident, attr, rel, value in r.premises:
                obj = obj.upper()
                index = -1
                if obj in NODE_OBJ:
                    index = c.node_index.get(ident, -1)
                elif obj != "SYSTEM":
                    index = c.link_index.get(ident, -1)
                prem.append((logic.upper(), "NODE" if obj in NODE_OBJ else ("SYSTEM" if obj == "SYSTEM" else "LINK"),
                             index, attr.upper(), RELOPS.get(rel.upper(), "EQ"), value))
            self.rules.append((r.id, float(r.priority or 0.0), prem, [self._action(a) for a in r.actions],
                               [self._action(a) for a in r.else_actions]))
        self.n = len(self.rules)
        self.tank_of_node = np.full(c.nn, -1, np.int64)
        self.tank_of_node[c.tank_node] = np.arange(c.tank_node.size)
        self.fired: list[tuple[int, str, str]] = []  # (time, rule id, link id) of every action taken

    def _action(self, a) -> tuple[int, int, float]:
        _, ident, attr, value = a
        k = self.c.link_index[ident]
        t = int(self.c.ltype[k])
        status, setting = -1, MISSING
        if attr.upper() == "STATUS":
            word = str(value).upper()
            status = {"OPEN": OPEN, "CLOSED": CLOSED, "ACTIVE": 4}.get(word, -1)
        else:
            x = float(value)
            if t == PIPE:
                status = CLOSED if x == 0.0 else OPEN
            elif t == PUMP:
                setting = x
            else:
                setting = valve_setting_internal(t, x, self.c.qcf)
        return k, status, setting

    # ---- premises --------------------------------------------------------------------------------------
    def _value(self, st, kind: str, index: int, var: str) -> tuple[float | None, float]:
        """The variable's current value in SI and the comparison tolerance; None when EPANET says false."""
        c = self.c
        tol = self.tol
        if kind == "SYSTEM" and var == "DEMAND":
            return float(np.clip(st.Dfull, 0, None).sum()) * c.qcf, tol["flow"]
        if kind == "NODE":
            h = st.H[index]
            el = c.elev[index]
            if var == "DEMAND":
                return st.node_demand[index] * c.qcf, tol["flow"]
            if var in ("HEAD", "GRADE"):
                return h * FT, tol["length"]
            if var == "PRESSURE":
                return (h - el) * FT, tol["pressure"]
            if var == "LEVEL":
                return (h - el) * FT, tol["length"]
            if var in ("FILLTIME", "DRAINTIME"):
                t = self.tank_of_node[index]
                q = st.node_demand[index]
                if t < 0:
                    return None, 0.0
                if var == "FILLTIME":
                    if q <= TINY:
                        return None, 0.0
                    return (c.tank_vmax[t] - st.V[t]) / q, 1e-3
                if q >= -TINY:
                    return None, 0.0
                return (c.tank_vmin[t] - st.V[t]) / q, 1e-3
            return None, 0.0
        if var == "FLOW":
            return abs(st.Q[index]) * c.qcf, tol["flow"]
        if var == "SETTING":
            s = st.setting[index]
            if s == MISSING:
                return None, 0.0
            t = c.ltype[index]
            if t in (PRV, PSV, PBV):
                return s * FT, tol["pressure"]
            if t == FCV:
                return s * c.qcf, tol["flow"]
            return s, 1e-3
        return None, 0.0

    def _premise(self, st, p, t1: int, t2: int) -> bool:
        _, kind, index, var, rel, value = p
        c = self.c
        if var in ("TIME", "CLOCKTIME"):
            if var == "CLOCKTIME":
                t1 = (t1 + c.tstart) % 86400
                t2 = (t2 + c.tstart) % 86400
            x = float(value)
            if rel == "LT":
                return t2 < x
            if rel == "LE":
                return t2 <= x
            if rel == "GT":
                return t2 > x
            if rel == "GE":
                return t2 >= x
            inside = (x >= t1 or x <= t2) if t2 < t1 else (t1 <= x <= t2)
            return inside if rel == "EQ" else not inside
        if var == "STATUS":
            s = st.status[index]
            cur = "CLOSED" if s <= CLOSED else ("ACTIVE" if s == 4 else "OPEN")
            want = str(value).upper()
            return (cur == want) if rel == "EQ" else (cur != want) if rel == "NE" else False
        x, tol = self._value(st, kind, index, var)
        if x is None:
            return False
        v = float(value)
        return {"EQ": abs(x - v) <= tol, "NE": abs(x - v) >= tol, "LT": x <= v + tol, "LE": x <= v - tol,
                "GT": x >= v - tol, "GE": x >= v + tol}[rel]

    def _premises_true(self, st, prem, t1: int, t2: int) -> bool:
        result = True
        for p in prem:
            if p[0] == "OR":
                if not result:
                    result = self._premise(st, p, t1, t2)
            else:
                if not result:
                    return False
                result = self._premise(st, p, t1, t2)
        return result

    # ---- evaluation ------------------------------------------------------------------------------------
    def check(self, st, htime: int, dt: int) -> int:
        """EPANET's checkrules(): queue and take actions; returns how many links changed."""
        t1 = htime - dt + 1
        queue: dict[int, tuple[float, tuple[int, int, float], str]] = {}
        order: list[int] = []
        for rid, prio, prem, then, els in self.rules:
            actions = then if self._premises_true(st, prem, t1, htime) else els
            for a in actions:
                k = a[0]
                if k in queue:
                    if prio > queue[k][0]:
                        queue[k] = (prio, a, rid)
                    continue
                queue[k] = (prio, a, rid)
                order.append(k)
        n = 0
        for k in reversed(order):  # EPANET prepends to its list, so the last queued link is acted on first
            _, (kk, status, setting), rid = queue[k]
            if self._take(st, kk, status, setting):
                n += 1
                self.fired.append((htime, rid, self.c.link_ids[kk]))
        return n

    def _take(self, st, k: int, status: int, setting: float) -> bool:
        c = self.c
        t = int(c.ltype[k])
        s = st.status[k]
        if status == OPEN and s <= CLOSED:
            if t == PUMP:
                st.setting[k] = 1.0
                if s == CLOSED:
                    simple.reset_pump_flow(c, st, k)
            if t > PUMP and t != GPV:
                st.setting[k] = MISSING
            st.status[k] = OPEN
            return True
        if status == CLOSED and s > CLOSED:
            if t == PUMP:
                st.setting[k] = 0.0
            if t > PUMP and t != GPV:
                st.setting[k] = MISSING
            st.status[k] = CLOSED
            return True
        if status in (OPEN, CLOSED, 4) or setting == MISSING:
            return False
        if abs(setting - st.setting[k]) <= 1e-3:
            return False
        if t == PUMP:
            st.setting[k] = setting
            if setting > 0 and s <= CLOSED:
                simple.reset_pump_flow(c, st, k)
                st.status[k] = OPEN
            if setting == 0 and s > CLOSED:
                st.status[k] = CLOSED
        elif t == FCV:
            st.setting[k] = setting
            st.status[k] = 4
        else:
            if st.setting[k] == MISSING and s <= CLOSED:
                st.status[k] = OPEN
            st.setting[k] = setting
        return True

    def rule_time_step(self, st, htime: int, tstep: int, tank_levels) -> int:
        """EPANET's ruletimestep(): advance tanks in rule steps until a rule fires or the step ends."""
        c = self.c
        rs = max(c.rulestep, 1)
        tmax = htime + tstep
        dt = min(rs, tstep)
        dt1 = min(rs - (htime % rs), tstep)
        if dt1 == 0:
            dt1 = dt
        t = htime
        while True:
            t += dt1
            tank_levels(c, st, dt1)
            if self.check(st, t, dt1):
                break
            dt = min(dt, tmax - t)
            dt1 = dt
            if dt <= 0:
                break
        return t - htime
