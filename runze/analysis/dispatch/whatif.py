"""What-if of a supply event: pressure-driven extended-period run from the current state, hour by hour.

`WhatIf(network, event, start_s, hours)` prepares once:
- the normal network with every plant capped at its capacity (see events.py), and the event network;
- the current state at the start: normal operation from the model's start (t = 0, START CLOCKTIME) to the
  event start (tank levels, which pumps run), unless `levels` gives measured tank levels;
- per-junction demand tables by pattern (built once, sparse), so that the required demand of any hour is
  one matrix product.
`run(plan)` runs the event window (pattern time and clock time shifted to the start; PDA with minimum 0 m and
required pressure = the service pressure, 14 m, exponent 0.5, unless the model is PDA already) with the
plan's settings, and `metrics(run)` condenses it per hour:
- junctions and customers (by category; critical users named) below the service pressure and below 3 m;
- unmet customer demand in m³: required − delivered under PDA (PDA scales every demand at a node by the same
  factor, so the customer part of the shortfall is that factor times the customer demand; leakage shortfall
  is not a customer's loss and is left out);
- each tank's level and when it runs empty (or the hours left at the last hour's rate);
- each plant's output against its capacity (and the event's cap).
Hours are the reporting rows (hourly); a row's values hold for the hour that starts there.
"""

from __future__ import annotations

import copy as _copy
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from runze.analysis.dispatch.events import (
    LEAKAGE_CATEGORY,
    Event,
    EventError,
    apply_event,
    cap_plants,
    locked_stations,
    stations_of,
)
from runze.analysis.dispatch.simrun import Run, run_network
from runze.i18n import bilingual
from runze.network.model import Control, Network

SERVICE_M = 14.0
NO_WATER_M = 3.0
MAX_HOURS = 48  # the dispatch horizon: longer events are planned as scenarios day by day
MAX_START_DAYS = 7

def parse_start(text: str, network: Network) -> int:
    """Seconds from the model's start (START CLOCKTIME on day 0) to `text` ("22:00", "1d 06:30")."""
    m = re.fullmatch(r"\s*(?:(\d+)\s*d\s*)?(\d{1,2}):(\d{2})\s*", str(text))
    if not m or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise EventError(bilingual("dispatch.bad_start", text=text))
    day = int(m.group(1) or 0)
    clock = int(m.group(2)) * 3600 + int(m.group(3)) * 60
    begin = int(network.options.time.start_clocktime) % 86400
    offset = day * 86400 + clock - begin
    if offset < 0:
        h, mi = divmod(begin // 60, 60)
        raise EventError(bilingual("dispatch.start_past", text=text, clock=f"{h:02d}:{mi:02d}"))
    if offset > MAX_START_DAYS * 86400:
        raise EventError(bilingual("dispatch.start_late", text=text, days=MAX_START_DAYS))
    return offset


def check_hours(hours: float, horizon: float | None = None) -> int:
    if hours != hours or hours <= 0 or hours > MAX_HOURS or float(hours) != int(hours):
        raise EventError(bilingual("dispatch.bad_hours", hours=hours, max_hours=MAX_HOURS))
    if horizon is not None and hours > horizon:
        raise EventError(bilingual("dispatch.event_too_long", hours=hours, horizon=horizon))
    return int(hours)


def clock_label(clock_s: float) -> str:
    s = int(clock_s) % 86400
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}"


@dataclass
class DemandTable:
    """Junction demand by pattern: required(t) = B_cust @ mult(t) (customers) and B_leak @ mult(t)."""

    junctions: list[str]
    cust: sp.csr_matrix
    leak: sp.csr_matrix
    mult: np.ndarray  # patterns x steps
    pstep: int
    pstart: int

    @classmethod
    def build(cls, net: Network) -> DemandTable:
        juncs = list(net.junctions)
        pats = list(net.patterns)
        default = net.options.default_pattern or ("1" if "1" in net.patterns else None)
        pidx = {p: i for i, p in enumerate(pats)}
        n_pat = len(pats) + 1  # last row: the constant pattern
        rows, cols, vals, is_leak = [], [], [], []
        for i, j in enumerate(juncs):
            for d in net.junctions[j].demands:
                pat = d.pattern if d.pattern is not None else default
                rows.append(i)
                cols.append(pidx.get(pat, n_pat - 1) if pat is not None else n_pat - 1)
                vals.append(d.base * net.options.demand_multiplier)
                is_leak.append(d.category == LEAKAGE_CATEGORY)
        rows_a, cols_a, vals_a, leak_a = map(np.asarray, (rows, cols, vals, is_leak))
        shape = (len(juncs), n_pat)
        cust = sp.csr_matrix((np.where(leak_a, 0.0, vals_a), (rows_a, cols_a)), shape=shape)
        leak = sp.csr_matrix((np.where(leak_a, vals_a, 0.0), (rows_a, cols_a)), shape=shape)
        length = max([len(p.multipliers) for p in net.patterns.values()] + [1])
        mult = np.ones((n_pat, length))
        for p, i in pidx.items():
            m = net.patterns[p].multipliers or [1.0]
            mult[i] = np.resize(np.asarray(m, float), length) if len(m) == length else \
                np.array([m[k % len(m)] for k in range(length)])
        return cls(juncs, cust, leak, mult, int(net.options.time.pattern_step or 3600),
                   int(net.options.time.pattern_start))

    def at(self, times: np.ndarray, pattern_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """(customer, leakage) required demand, m³/s, times x junctions, at seconds `times` of a run."""
        k = ((self.pstart + pattern_offset + np.asarray(times, dtype=np.int64)) // self.pstep) % self.mult.shape[1]
        m = self.mult[:, k]  # patterns x times
        return (self.cust @ m).T, (self.leak @ m).T


@dataclass
class Plan:
    """Settings by block: {station: {"standby": bool, "speed": float}} per block; valves opened at the start."""

    blocks: list[tuple[int, int]]  # (start hour, end hour) since the event start
    stations: list[dict[str, dict[str, Any]]]
    valves_open: list[str] = field(default_factory=list)

    @classmethod
    def no_action(cls, hours: int) -> Plan:
        return cls([(0, hours)], [{}], [])

    def copy(self) -> Plan:
        return Plan(list(self.blocks), [{k: dict(v) for k, v in b.items()} for b in self.stations],
                    list(self.valves_open))


class WhatIf:
    """The event window prepared once; `run(plan)` and `metrics(run)` as often as the optimiser needs."""

    def __init__(self, network: Network, event: Event, start_s: int, hours: int, service_m: float = SERVICE_M,
                 no_water_m: float = NO_WATER_M, solver: str | None = None,
                 levels: dict[str, float] | None = None) -> None:
        self.source = network
        self.event = event
        self.start_s = int(start_s)
        self.hours = check_hours(hours)
        self.service_m, self.no_water_m = float(service_m), float(no_water_m)
        self.solver = solver
        self.normal = cap_plants(network.copy())
        self.event_net = apply_event(network, event)
        self.notes: list[str] = []
        self.spin_run: Run | None = None
        self.stations = stations_of(network)
        self.locked = locked_stations(network, event)
        self.locked_pumps = {u for s in self.locked for u in self.stations[s]["pumps"]}
        self.state = self._current_state(levels)
        self.demand_normal = DemandTable.build(self.normal)
        self.demand_event = DemandTable.build(self.event_net)
        self.times = np.arange(self.hours) * 3600
        self._customers()

    # ---- preparation -----------------------------------------------------------------------------------
    def _customers(self) -> None:
        u = self.source.utility
        juncs = self.demand_event.junctions
        pos = {j: i for i, j in enumerate(juncs)}
        cats = sorted({c for counts in u.customers.values() for c in counts})
        self.categories = cats
        counts = np.zeros((len(juncs), len(cats)))
        cidx = {c: k for k, c in enumerate(cats)}
        for node, by_cat in u.customers.items():
            if node in pos:
                for c, n in by_cat.items():
                    counts[pos[node], cidx[c]] += n
        self.customer_counts = counts
        self.customers = counts.sum(axis=1)
        required = np.asarray(self.demand_event.cust.sum(axis=1)).ravel()
        # service nodes: junctions with customers or customer demand (plant headers etc. are not reported)
        self.service = (self.customers > 0) | (required > 0)
        self.critical = [c for c in u.critical_users if c.get("node") in pos]
        self.critical_pos = np.array([pos[c["node"]] for c in self.critical], dtype=np.int64)

    def _prepare(self, net: Network, duration_s: int, start_s: int) -> Network:
        """Time options and PDA settings of a run that starts `start_s` after the model's start."""
        t = net.options.time
        base_clock = int(self.source.options.time.start_clocktime)
        t.pattern_start = float(self.source.options.time.pattern_start + start_s)
        t.start_clocktime = float((base_clock + start_s) % 86400)
        t.duration = float(duration_s)
        t.hydraulic_step = min(t.hydraulic_step or 3600.0, 3600.0)
        t.report_step, t.report_start = 3600.0, 0.0
        # time controls count from the model's start: shift them to this run's start, drop the past ones
        kept = []
        for c in net.controls:
            if c.condition == "time":
                if c.value < start_s:
                    continue
                c.value -= start_s
            kept.append(c)
        net.controls = kept
        o = net.options
        if self.source.options.demand_model != "PDA":
            o.minimum_pressure, o.required_pressure, o.pressure_exponent = 0.0, self.service_m, 0.5
        o.demand_model = "PDA"
        return net

    def _current_state(self, levels: dict[str, float] | None) -> dict[str, Any]:
        net = self.source
        state: dict[str, Any] = {"levels": {t: tk.init_level for t, tk in net.tanks.items()}, "pumps_on": None,
                                 "from": "file"}
        if self.start_s > 0:
            run = run_network(self._prepare(self.normal.copy(), self.start_s, 0), self.solver)
            self.notes += run.notes
            self.spin_run = run
            head = run.node["head"].iloc[-1]
            state["levels"] = {t: float(head[t] - tk.elevation) for t, tk in net.tanks.items()}
            flow = run.link["flow"].iloc[-1]
            state["pumps_on"] = {u: bool(abs(flow[u]) > 1e-6) for u in net.pumps}
            state["from"] = bilingual("dispatch.state.spin_up", hours=self.start_s / 3600, solver=run.solver)
        if levels:
            for t, v in levels.items():
                if t not in net.tanks:
                    raise EventError(bilingual("dispatch.unknown_tank", tank=t))
                state["levels"][t] = float(v)
            state["from"] += " + " + bilingual("dispatch.state.measured_levels")
        return state

    # ---- runs -----------------------------------------------------------------------------------------
    def network_for(self, plan: Plan | None, normal: bool = False) -> Network:
        net = light_copy(self.normal if normal else self.event_net)
        for t, lv in self.state["levels"].items():
            tk = net.tanks[t]
            tk.init_level = float(min(max(lv, tk.min_level), tk.max_level))
        if self.state["pumps_on"] is not None:
            for u, on in self.state["pumps_on"].items():
                if normal or u not in self.locked_pumps:
                    net.pumps[u].initial_status = "OPEN" if on else "CLOSED"
        self._prepare(net, self.hours * 3600, self.start_s)
        if plan is not None and not normal:
            apply_plan(net, plan, self.stations, self.state.get("pumps_on"))
        return net

    def run(self, plan: Plan | None = None, normal: bool = False) -> Run:
        return run_network(self.network_for(plan, normal), self.solver)

    # ---- metrics --------------------------------------------------------------------------------------
    def metrics(self, run: Run, normal: bool = False, detail: bool = True) -> dict[str, Any]:
        table = self.demand_normal if normal else self.demand_event
        juncs = table.junctions
        times = self.times
        pres = run.node["pressure"].reindex(index=times, columns=juncs).to_numpy()
        delivered = run.node["demand"].reindex(index=times, columns=juncs).to_numpy()
        req_c, req_l = table.at(times, self.start_s)
        req = req_c + req_l
        frac = np.where(req > 1e-12, np.clip(delivered / np.where(req > 1e-12, req, 1.0), 0.0, 1.0), 1.0)
        frac = np.nan_to_num(frac, nan=0.0)
        unmet = (1.0 - frac) * req_c * 3600.0  # m³ per hour per junction
        low = (pres < self.service_m) & self.service
        dry = (pres < self.no_water_m) & self.service
        pres_nan = np.isnan(pres)
        low |= pres_nan & self.service
        dry |= pres_nan & self.service
        cust_low = low @ self.customers
        cust_dry = dry @ self.customers
        out: dict[str, Any] = {
            "solver": run.solver,
            "unmet_demand_m3": float(unmet.sum()),
            "required_demand_m3": float(req_c.sum() * 3600.0),
            "customer_hours_below_service": float(cust_low.sum()),
            "customer_hours_no_water": float(cust_dry.sum()),
            "node_hours_below_service": int(low.sum()),
            "min_pressure_m": float(np.nanmin(np.where(self.service, pres, np.inf))),
        }
        if not detail:
            return out
        clock0 = int(self.source.options.time.start_clocktime) + self.start_s
        hourly = []
        cat_low = low.astype(float) @ self.customer_counts
        cat_dry = dry.astype(float) @ self.customer_counts
        heads = run.node["head"].reindex(index=times)
        flows = run.link["flow"].reindex(index=times)
        plants = self.source.utility.plants
        for h in range(self.hours):
            crit_low = [self.critical[i]["name"] for i, p in enumerate(self.critical_pos) if low[h, p]]
            crit_dry = [self.critical[i]["name"] for i, p in enumerate(self.critical_pos) if dry[h, p]]
            hourly.append({
                "hour": h, "clock": clock_label(clock0 + times[h]),
                "nodes_below_service": int(low[h].sum()), "nodes_no_water": int(dry[h].sum()),
                "customers_below_service": int(cust_low[h]), "customers_no_water": int(cust_dry[h]),
                "customers_below_service_by_category": {c: int(cat_low[h, k]) for k, c in enumerate(self.categories)},
                "customers_no_water_by_category": {c: int(cat_dry[h, k]) for k, c in enumerate(self.categories)},
                "critical_below_service": crit_low, "critical_no_water": crit_dry,
                "required_m3": float(req_c[h].sum() * 3600.0), "unmet_m3": float(unmet[h].sum()),
                "tank_level_m": {t: float(heads[t].iloc[h] - tk.elevation) for t, tk in self.source.tanks.items()},
                "plant_output_m3h": {p["id"]: float(flows[p["outlet_link"]].iloc[h] * 3600.0) for p in plants},
            })
        out["hourly"] = hourly
        out["tanks"] = self._tanks(heads)
        out["plants"] = [{"id": p["id"], "name": p.get("name", p["id"]), "capacity_m3h": p["capacity_m3d"] / 24.0,
                          "event_cap_m3h": p["capacity_m3d"] / 24.0 * (1.0 if normal else
                                                                        self.event.capacity.get(p["id"], 1.0)),
                          "mean_output_m3h": float(flows[p["outlet_link"]].mean() * 3600.0),
                          "max_output_m3h": float(flows[p["outlet_link"]].max() * 3600.0)} for p in plants]
        deficit = np.nan_to_num(np.clip(self.service_m - pres, 0.0, None), nan=self.service_m)
        deficit[:, ~self.service] = 0.0  # plant headers and other nodes without customers are not reported
        out["node_max_deficit_m"] = dict(zip(juncs, np.round(deficit.max(axis=0), 2).tolist(), strict=True))
        out["node_min_pressure_m"] = dict(zip(juncs, np.round(np.nanmin(pres, axis=0), 2).tolist(), strict=True))
        out["critical_users"] = [
            {**c, "min_pressure_m": round(float(np.nanmin(pres[:, p])), 2), "hours_below_service": int(low[:, p].sum()),
             "hours_no_water": int(dry[:, p].sum())} for c, p in zip(self.critical, self.critical_pos, strict=True)]
        out["notes"] = list(run.notes)
        return out

    def _tanks(self, heads) -> list[dict[str, Any]]:
        rows = []
        clock0 = int(self.source.options.time.start_clocktime) + self.start_s
        for t, tk in self.source.tanks.items():
            level = heads[t].to_numpy() - tk.elevation
            empty = np.flatnonzero(level <= tk.min_level + 0.05)
            row = {"id": t, "name": tk.tag or t, "min_level_m": tk.min_level, "max_level_m": tk.max_level,
                   "start_level_m": float(level[0]), "end_level_m": float(level[-1]),
                   "lowest_level_m": float(level.min())}
            if empty.size:
                row["empty_at_hour"] = int(empty[0])
                row["empty_at_clock"] = clock_label(clock0 + empty[0] * 3600)
                row["hours_to_empty"] = float(empty[0])
            else:
                rate = (level[-1] - level[-2]) if level.size > 1 else 0.0
                row["hours_to_empty"] = (float(self.hours - 1 + (level[-1] - tk.min_level) / -rate)
                                         if rate < 0 else None)
            rows.append(row)
        return rows


def light_copy(net: Network) -> Network:
    """A copy for one run: what a run changes (tanks, pumps, valves, controls, options, the statuses of pipes
    opened by a plan) is copied, the rest (junctions, demands, curves, patterns, utility data) is shared.
    A full deepcopy of the demo city costs more than its 13 h simulation."""
    out = _copy.copy(net)
    out.tanks = {k: _copy.copy(v) for k, v in net.tanks.items()}
    out.pumps = {k: _copy.copy(v) for k, v in net.pumps.items()}
    out.valves = {k: _copy.copy(v) for k, v in net.valves.items()}
    out.pipes = dict(net.pipes)
    out.controls = [_copy.copy(c) for c in net.controls]
    out.options = _copy.deepcopy(net.options)
    return out


def apply_plan(net: Network, plan: Plan, stations: dict[str, dict[str, Any]],
               pumps_on: dict[str, bool] | None) -> None:
    """Write the plan into the network: block 0 as initial settings, later blocks as time controls."""
    for v in plan.valves_open:
        if v in net.pipes:
            net.pipes[v] = _copy.copy(net.pipes[v])
        net.link(v).initial_status = "OPEN"  # type: ignore[union-attr]
    net.controls = [c for c in net.controls if c.link not in set(plan.valves_open)]
    current: dict[str, tuple[str, float]] = {}
    for st in stations.values():
        for u in st["pumps"]:
            pu = net.pumps[u]
            current[u] = (pu.initial_status, pu.speed)
    for b, (h0, _h1) in enumerate(plan.blocks):
        for sid, setting in plan.stations[b].items():
            st = stations[sid]
            speed = float(setting.get("speed", 1.0))
            standby_on = bool(setting.get("standby", False))
            for u in st["pumps"]:
                is_standby = u in st["standby"]
                if st["kind"] == "booster" and not is_standby:
                    continue  # the booster's duty pumps follow their level controls
                base_on = current[u][0] != "CLOSED" if b == 0 else None
                if b == 0:
                    on = standby_on if is_standby else base_on
                    net.pumps[u].initial_status = "OPEN" if on else "CLOSED"
                    if on and st["kind"] == "plant":
                        net.pumps[u].speed = speed
                else:
                    on = standby_on if is_standby else net.pumps[u].initial_status != "CLOSED"
                    if on:
                        sp_ = speed if st["kind"] == "plant" else 1.0
                        net.controls.append(Control(u, "OPEN", sp_, "time", None, float(h0 * 3600)))
                    else:
                        net.controls.append(Control(u, "CLOSED", None, "time", None, float(h0 * 3600)))
