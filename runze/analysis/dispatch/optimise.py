"""Re-dispatch plan (应急调度方案): new set-points found by a search that runs the solver, not by rules.

Decision vector (small, discrete):
- per pump station that still works (plants not out, the booster) and per time block: the standby pump on or
  off, and for plant stations the relative speed of the running pumps, 0.8-1.2 in steps of 0.1 (pump
  affinity laws: the head curve scales with speed², so every point stays on the pump's own curve);
- DMA boundary valves (normally closed pipes listed in the sidecar's DMAs) to open for the whole event:
  candidates are the few with the largest head difference across them at hours when one side is below the
  service pressure in the no-action run.
Constraints: each plant's output ≤ its capacity (× the event's fraction) is enforced physically by the plant's
FCV cap (events.py), so no candidate can break it; speeds stay in [0.8, 1.2].
Objective (m³-equivalent, lower is better): unmet customer demand + 0.05 m³ per customer-hour below 14 m
+ 0.1 m³ per customer-hour below 3 m + a small cost per action (so that with nothing to gain the plan is
"no action").  Every candidate is scored by a PDA run of the whole window (tank filling at night is what pays
at the morning peak, which only an extended-period run shows); the search is coordinate descent: first every
station's setting for the whole window together, then block by block, first improvement, until no move helps
or the evaluation/time budget is spent.  The best plan is then verified by a full simulation with detail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runze.analysis.dispatch.whatif import Plan, WhatIf, clock_label
from runze.i18n import bilingual

SPEEDS = (0.8, 0.9, 1.0, 1.1, 1.2)
W_CUSTOMER_HOUR = 0.05
W_NO_WATER_HOUR = 0.10
COST_STANDBY = 0.5  # m³-equivalent per station-block with its standby pump on
COST_SPEED = 0.2  # per 0.1 of speed away from 1.0, per station-block
COST_VALVE = 1.0  # per boundary valve opened
N_VALVE_CANDIDATES = 8


@dataclass
class SearchLog:
    evaluations: int = 0
    seconds: float = 0.0
    history: list[float] = field(default_factory=list)
    stopped: str = ""


def objective(m: dict[str, Any]) -> float:
    return (m["unmet_demand_m3"] + W_CUSTOMER_HOUR * m["customer_hours_below_service"]
            + W_NO_WATER_HOUR * m["customer_hours_no_water"])


def action_cost(plan: Plan) -> float:
    cost = COST_VALVE * len(plan.valves_open)
    for block in plan.stations:
        for s in block.values():
            cost += COST_STANDBY * bool(s.get("standby")) + COST_SPEED * abs(s.get("speed", 1.0) - 1.0) / 0.1
    return cost


def make_blocks(hours: int, n_blocks: int) -> list[tuple[int, int]]:
    edges = np.unique(np.round(np.linspace(0, hours, min(n_blocks, hours) + 1)).astype(int))
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def valve_candidates(whatif: WhatIf, run, k: int = N_VALVE_CANDIDATES) -> list[str]:
    """Closed DMA boundary pipes with the largest head difference where one end is below service."""
    net = whatif.event_net
    names = sorted({v for d in net.utility.dmas.values() for v in d.get("boundary_valves", [])
                    if v in net.pipes and net.pipes[v].initial_status == "CLOSED"})
    if not names:
        return []
    head = run.node["head"].reindex(index=whatif.times)
    pres = run.node["pressure"].reindex(index=whatif.times)
    n1 = [net.pipes[v].node1 for v in names]
    n2 = [net.pipes[v].node2 for v in names]
    dh = np.abs(head[n1].to_numpy() - head[n2].to_numpy())
    low = np.minimum(pres[n1].to_numpy(), pres[n2].to_numpy()) < whatif.service_m
    score = np.where(low, dh, 0.0).max(axis=0)
    order = np.argsort(-score)
    return [names[i] for i in order[:k] if score[i] > 0.5]


class Optimiser:
    """Coordinate search over the dispatch decision vector; `optimise()` -> (plan, metrics, log)."""

    def __init__(self, whatif: WhatIf, n_blocks: int = 3, max_evals: int = 120, time_budget_s: float = 30.0,
                 progress: Callable[[str, float], None] | None = None) -> None:
        self.w = whatif
        self.blocks = make_blocks(whatif.hours, n_blocks)
        self.max_evals = max_evals
        self.time_budget_s = time_budget_s
        self.progress = progress or (lambda _msg, _frac: None)
        self.stations = [s for s, st in whatif.stations.items()
                         if s not in whatif.locked and st["pumps"]]
        self.log = SearchLog()
        self.cache: dict[tuple, float] = {}

    def _key(self, plan: Plan) -> tuple:
        return (tuple(tuple(sorted((s, bool(v.get("standby")), round(v.get("speed", 1.0), 2))
                                   for s, v in b.items())) for b in plan.stations), tuple(sorted(plan.valves_open)))

    def _budget_left(self) -> bool:
        return self.log.evaluations < self.max_evals and time.perf_counter() - self._t0 < self.time_budget_s

    def score(self, plan: Plan) -> float:
        key = self._key(plan)
        if key in self.cache:
            return self.cache[key]
        m = self.w.metrics(self.w.run(plan), detail=False)
        value = objective(m) + action_cost(plan)
        self.cache[key] = value
        self.log.evaluations += 1
        self.log.history.append(value)
        frac = min(1.0, max(self.log.evaluations / self.max_evals,
                            (time.perf_counter() - self._t0) / self.time_budget_s))
        self.progress(bilingual("dispatch.progress.search", sep=" ", runs=self.log.evaluations,
                                best=min(self.log.history)), frac)
        return value

    def _moves(self, plan: Plan, blocks: list[int]) -> list[Plan]:
        out = []
        for s in self.stations:
            kind = self.w.stations[s]["kind"]
            has_standby = bool(self.w.stations[s]["standby"])
            cur = plan.stations[blocks[0]][s]
            options: list[dict[str, Any]] = []
            if has_standby:
                options.append({**cur, "standby": not cur["standby"]})
            if kind == "plant":
                i = SPEEDS.index(round(cur["speed"], 1))
                for j in (i + 1, i - 1):
                    if 0 <= j < len(SPEEDS):
                        options.append({**cur, "speed": SPEEDS[j]})
            for opt in options:
                cand = plan.copy()
                for b in blocks:
                    cand.stations[b][s] = dict(opt)
                out.append(cand)
        return out

    def optimise(self, baseline_run=None) -> tuple[Plan, float, SearchLog]:
        self._t0 = time.perf_counter()
        nb = len(self.blocks)
        plan = Plan(self.blocks, [{s: {"standby": False, "speed": 1.0} for s in self.stations} for _ in range(nb)])
        best = self.score(plan)
        base_run = baseline_run if baseline_run is not None else self.w.run(plan)
        valves = valve_candidates(self.w, base_run)
        if best <= 1e-9:  # nothing to gain: no action is the plan
            self.log.stopped = "no deficit without action"
            return plan, best, self._done()
        # a second starting point, the "everything available" corner (every standby pump on, top speed, every
        # candidate valve open): when the shortfall is large the search descends from there (dropping what does
        # not help) instead of climbing to it one move at a time
        corner = plan.copy()
        corner.valves_open = sorted(valves)
        for block in corner.stations:
            for s in block:
                block[s] = {"standby": bool(self.w.stations[s]["standby"]),
                            "speed": SPEEDS[-1] if self.w.stations[s]["kind"] == "plant" else 1.0}
        value = self.score(corner)
        if value < best:
            plan, best = corner, value
        phases = [list(range(nb))] + [[b] for b in range(nb)]
        for phase in phases:
            improved = True
            while improved and self._budget_left():
                improved = False
                moves = self._moves(plan, phase)
                if phase == phases[0]:
                    for v in valves:
                        cand = plan.copy()
                        cand.valves_open = sorted(set(cand.valves_open) ^ {v})
                        moves.append(cand)
                for cand in moves:  # first improvement: take it and rebuild the moves around it
                    if not self._budget_left():
                        break
                    value = self.score(cand)  # repeated candidates come from the cache, free
                    if value < best - 1e-6:
                        plan, best, improved = cand, value, True
                        break
        self.log.stopped = self.log.stopped or ("budget" if not self._budget_left() else "converged")
        return plan, best, self._done()

    def _done(self) -> SearchLog:
        self.log.seconds = time.perf_counter() - self._t0
        return self.log


def plan_actions(whatif: WhatIf, plan: Plan) -> list[dict[str, Any]]:
    """The plan as a duty manager's list: {time, element, setting, ...}, only where something changes."""
    clock0 = int(whatif.source.options.time.start_clocktime) + whatif.start_s
    actions: list[dict[str, Any]] = []
    for v in plan.valves_open:
        actions.append({"time": clock_label(clock0), "hour": 0, "element": v, "kind": "valve",
                        "setting": "OPEN", "text": bilingual("dispatch.action.open_valve", valve=v)})
    prev: dict[str, dict[str, Any]] = {s: {"standby": False, "speed": 1.0} for s in whatif.stations}
    for (h0, _h1), block in zip(plan.blocks, plan.stations, strict=True):
        for s, cur in block.items():
            st = whatif.stations[s]
            if bool(cur.get("standby")) != bool(prev[s].get("standby")):
                for u in st["standby"]:
                    on = bool(cur.get("standby"))
                    actions.append({"time": clock_label(clock0 + h0 * 3600), "hour": h0, "element": u,
                                    "kind": "pump", "setting": "ON" if on else "OFF",
                                    "text": bilingual("dispatch.action.standby_on" if on else "dispatch.action.standby_off",
                                                      station=st["name"], pump=u)})
            if st["kind"] == "plant" and round(cur.get("speed", 1.0), 2) != round(prev[s].get("speed", 1.0), 2):
                running = [u for u in st["pumps"] if u not in st["standby"]
                           or cur.get("standby")]
                actions.append({"time": clock_label(clock0 + h0 * 3600), "hour": h0, "element": ",".join(running),
                                "kind": "speed", "setting": round(float(cur["speed"]), 2),
                                "text": bilingual("dispatch.action.pump_speed", station=st["name"], speed=cur["speed"])})
            prev[s] = dict(cur)
    actions.sort(key=lambda a: a["hour"])
    return actions
