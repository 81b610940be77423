"""Batch mode: many single-period variants ("scenarios") of one network, solved on one shared kernel.

    from runze.hydraulics.batch import Scenario, solve_batch
    res = solve_batch(net, [Scenario(emitters={"J12": 2e-4}), Scenario(closed_links=["P7"])], times=[0, 7200])
    res.pressure            # (n_scenarios, n_times, n_nodes) m;  res.pressure_frame(7200) -> DataFrame
    res.converged, res.iterations, res.warnings

What the variants share (built once per process): the compiled arrays, the junction-matrix pattern with its
fill-reducing ordering and symbolic LDLᵀ factorisation (a closed link keeps its slot with EPANET's CSMALL
conductance, so the pattern never changes), and the base solution of each time, whose heads, flows and link
statuses are every scenario's starting point.  A scenario therefore converges in a few trials instead of the
cold start's many.  Each time is a snapshot: demands/reservoir heads/pump speeds from the patterns at that time,
simple controls evaluated at that time, tanks at their initial levels (no EPS between the times).

Scenario fields (SI): emitters {junction: C m³/s per m^γ (γ = the file's emitter exponent); 0 removes one},
closed_links [link ids], demand_multiplier (scalar or {junction: multiplier}, on top of the file's),
reservoir_heads {reservoir: head m, replacing the pattern's value}, pump_speeds {pump: relative speed, 0 closes;
applied after the network's simple controls, so it holds even where a control would switch the pump},
link_settings {valve: setting in SI (m of pressure, m³/s, loss coefficient), or pump: speed}.

Executors: in-process (`workers=1`), a local process pool (`workers>1`; the network is sent once per worker
and each worker compiles its own kernel), or Dask (`executor="dask"`, see `batch_dask.py`).  Scenarios that
change only emitters go through the compiled compensation kernel of `batch_kernel.py` (base factorisation,
low-rank update, verified linearisation), run by `batch_inverse.py` on the dense inverse of the base matrix in
lock-step lanes where that inverse fits in 200 MB; anything it cannot verify falls back to the full gradient loop.
`iterations` is then the number of compensation passes rather than gradient trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runze.hydraulics.compile import (
    ACTIVE,
    CFS,
    CLOSED,
    FCV,
    MISSING,
    OPEN,
    PRV,
    PSV,
    PUMP,
    QZERO,
    valve_setting_internal,
)
from runze.hydraulics.eps import initial_state, set_demands
from runze.hydraulics.solver import HydState
from runze.network.model import Network
from runze.network.units import FT

MESSAGES = {
    "unknown": "场景 {scenario}: {field} 中的 {id!r} 不存在 / scenario {scenario}: {field} names unknown {kind} {id!r}",
    "negative": "场景 {scenario}: {field}[{id!r}] = {value} 必须 ≥ 0 / scenario {scenario}: {field}[{id!r}] = {value} "
                "must be ≥ 0",
    "not_finite": "场景 {scenario}: {field}[{id!r}] 不是有限数 / scenario {scenario}: {field}[{id!r}] is not a finite number",
    "executor": "未知执行器 {executor!r} (local|dask) / unknown executor {executor!r} (local|dask)",
    "unconverged": "未收敛 / did not converge (relative flow change {relerr:.2e} after {iterations} trials)",
    "singular": "矩阵奇异 / singular matrix at node {node}",
    "negative_pressure": "负压节点 {count} 个 / {count} junctions with negative pressure",
}


DEFAULT_ACCURACY = 1e-6  # Σ|ΔQ|/Σ|Q| for scenarios solved by the full gradient loop (see BatchEngine)


class BatchError(ValueError):
    """A scenario cannot be applied to the network (names the scenario, the field and the element)."""


@dataclass
class Scenario:
    """One variant of the network for a single-period solve (SI units; see the module docstring)."""

    emitters: dict[str, float] = field(default_factory=dict)
    closed_links: list[str] = field(default_factory=list)
    demand_multiplier: float | dict[str, float] = 1.0
    reservoir_heads: dict[str, float] = field(default_factory=dict)
    pump_speeds: dict[str, float] = field(default_factory=dict)
    link_settings: dict[str, float] = field(default_factory=dict)
    name: str = ""


@dataclass
class Plan:
    """A scenario turned into index arrays and internal units (cheap to pickle to workers)."""

    name: str
    em_node: np.ndarray  # junction index, complete emitter set (base emitters merged)
    em_ke: np.ndarray  # EPANET head-loss coefficient of each
    closed: np.ndarray  # link indices
    dem_scale: float | np.ndarray  # scalar, or per junction
    res_node: np.ndarray
    res_head: np.ndarray  # ft
    pump_link: np.ndarray
    pump_speed: np.ndarray
    set_link: np.ndarray
    set_value: np.ndarray  # internal units

    @property
    def emitters_only(self) -> bool:
        """Only emitters / demands differ from the base: statuses and settings are the base's."""
        return not (self.closed.size or self.res_node.size or self.pump_link.size or self.set_link.size)


@dataclass
class BatchResults:
    """Results of `solve_batch`, SI: arrays (scenario, time, element) plus per-scenario diagnostics."""

    scenario_names: list[str]
    times: np.ndarray  # s
    node_ids: list[str]
    link_ids: list[str]
    head: np.ndarray  # m
    pressure: np.ndarray  # m
    flow: np.ndarray  # m³/s (0 for closed links)
    leak: np.ndarray  # emitter outflow per node, m³/s
    converged: np.ndarray  # (scenario, time) bool
    iterations: np.ndarray  # (scenario, time) trials
    warnings: list[list[str]]  # per scenario

    @property
    def ok(self) -> bool:
        return bool(self.converged.all())

    def _time_row(self, time: float) -> int:
        hits = np.flatnonzero(self.times == time)
        if hits.size == 0:
            raise KeyError(f"time {time} s is not among the solved times {self.times.tolist()}")
        return int(hits[0])

    def pressure_frame(self, time: float = 0) -> pd.DataFrame:
        """Pressures (m) at `time`: one row per scenario, one column per node."""
        return pd.DataFrame(self.pressure[:, self._time_row(time)], index=pd.Index(self.scenario_names,
                            name="scenario"), columns=pd.Index(self.node_ids, name="node"))

    def head_frame(self, time: float = 0) -> pd.DataFrame:
        return pd.DataFrame(self.head[:, self._time_row(time)], index=pd.Index(self.scenario_names, name="scenario"),
                            columns=pd.Index(self.node_ids, name="node"))

    def flow_frame(self, time: float = 0) -> pd.DataFrame:
        return pd.DataFrame(self.flow[:, self._time_row(time)], index=pd.Index(self.scenario_names, name="scenario"),
                            columns=pd.Index(self.link_ids, name="link"))

    def summary_frame(self) -> pd.DataFrame:
        """Per scenario and time: converged, iterations, total leak (m³/s), minimum junction pressure (m)."""
        s, t = self.converged.shape
        nj = self.leak.shape[2]
        return pd.DataFrame({
            "scenario": np.repeat(self.scenario_names, t), "time": np.tile(self.times, s),
            "converged": self.converged.ravel(), "iterations": self.iterations.ravel(),
            "leak": self.leak.sum(axis=2).ravel(),
            "min_pressure": self.pressure[:, :, :nj].min(axis=2).ravel() if nj else np.nan,
        })


# ---- scenario → plan ---------------------------------------------------------------------------------------

def emitter_ke(coeff_si: float, qexp: float) -> float:
    """EPANET's emitter head-loss coefficient (ft per cfs^qexp) of an SI coefficient (as compile_network)."""
    return (CFS / coeff_si) ** qexp / FT


def make_plans(net: Network, c, scenarios: Sequence[Scenario]) -> list[Plan]:
    """Check every scenario against the network and translate it; raises BatchError naming the problem."""
    nj = c.nj
    base_em = {i: float(c.emit_ke[i]) for i in np.flatnonzero(c.emit_ke > 0)}
    plans = []
    for s_i, s in enumerate(scenarios):
        plan = None if base_em else _emitter_plan(c, s, s_i)
        if plan is not None:
            plans.append(plan)
            continue
        label = s.name or f"#{s_i}"

        def fail(key, fld, eid, kind="element", value=None, _label=label):
            raise BatchError(MESSAGES[key].format(scenario=_label, field=fld, id=eid, kind=kind, value=value))

        def number(fld, eid, v, nonneg=True):
            try:
                x = float(v)
            except (TypeError, ValueError):
                fail("not_finite", fld, eid)
            if not math.isfinite(x):
                fail("not_finite", fld, eid)
            if nonneg and x < 0:
                fail("negative", fld, eid, value=x)
            return x

        def junction(fld, nid):
            i = c.node_index.get(nid, -1)
            if not 0 <= i < nj:
                fail("unknown", fld, nid, "junction")
            return i

        def link(fld, lid, want=None):
            k = c.link_index.get(lid, -1)
            if k < 0 or (want is not None and c.ltype[k] != want):
                fail("unknown", fld, lid, "pump" if want == PUMP else "link")
            return k

        em = dict(base_em)
        for nid, coeff in s.emitters.items():
            i = junction("emitters", nid)
            x = number("emitters", nid, coeff)
            if x > 0:
                em[i] = emitter_ke(x, c.qexp)
            else:
                em.pop(i, None)
        em_node = np.array(sorted(em), np.int64)
        dm = s.demand_multiplier
        if isinstance(dm, dict):
            scale = np.ones(nj)
            for nid, v in dm.items():
                scale[junction("demand_multiplier", nid)] = number("demand_multiplier", nid, v)
        else:
            scale = number("demand_multiplier", "*", dm)
        res_node, res_head = [], []
        for rid, h in s.reservoir_heads.items():
            i = c.node_index.get(rid, -1)
            if i < 0 or i not in set(c.res_node.tolist()):
                fail("unknown", "reservoir_heads", rid, "reservoir")
            res_node.append(i)
            res_head.append(number("reservoir_heads", rid, h, nonneg=False) / FT)
        pump_link = [link("pump_speeds", pid, PUMP) for pid in s.pump_speeds]
        pump_speed = [number("pump_speeds", pid, v) for pid, v in s.pump_speeds.items()]
        set_link, set_value = [], []
        for lid, v in s.link_settings.items():
            k = link("link_settings", lid)
            x = number("link_settings", lid, v)
            t = int(c.ltype[k])
            if t < PUMP:
                fail("unknown", "link_settings", lid, "valve or pump")
            if t > PUMP:
                x = valve_setting_internal(t, x)
            set_link.append(k)
            set_value.append(x)
        plans.append(Plan(
            name=s.name or f"scenario-{s_i}", em_node=em_node, em_ke=np.array([em[i] for i in em_node], float),
            closed=_ints([link("closed_links", lid) for lid in s.closed_links]), dem_scale=scale,
            res_node=_ints(res_node), res_head=_floats(res_head), pump_link=_ints(pump_link),
            pump_speed=_floats(pump_speed), set_link=_ints(set_link), set_value=_floats(set_value)))
    return plans


def _emitter_plan(c, s: Scenario, s_i: int) -> Plan | None:
    """Quick path of `make_plans` for a scenario that only sets valid emitters (None: take the full path, which
    also raises the errors)."""
    if s.closed_links or s.reservoir_heads or s.pump_speeds or s.link_settings or \
            type(s.demand_multiplier) not in (int, float) or s.demand_multiplier != 1.0:
        return None
    em = {}
    for nid, coeff in s.emitters.items():
        i = c.node_index.get(nid, -1)
        if not 0 <= i < c.nj or type(coeff) not in (int, float) or not 0 <= coeff < math.inf:
            return None
        if coeff > 0:
            em[i] = emitter_ke(coeff, c.qexp)
        else:
            em.pop(i, None)
    nodes = sorted(em)
    return Plan(name=s.name or f"scenario-{s_i}", em_node=_ints(nodes), em_ke=_floats([em[i] for i in nodes]),
                closed=_NO_INTS, dem_scale=1.0, res_node=_NO_INTS, res_head=_NO_FLOATS, pump_link=_NO_INTS,
                pump_speed=_NO_FLOATS, set_link=_NO_INTS, set_value=_NO_FLOATS)


_NO_INTS = np.zeros(0, np.int64)
_NO_INTS.flags.writeable = False
_NO_FLOATS = np.zeros(0)
_NO_FLOATS.flags.writeable = False


def _ints(values: list) -> np.ndarray:
    return np.array(values, np.int64) if values else _NO_INTS  # most scenarios leave most fields empty


def _floats(values: list) -> np.ndarray:
    return np.array(values, float) if values else _NO_FLOATS


# ---- the engine: one per process -----------------------------------------------------------------------------

class BatchEngine:
    """Compiled network, kernel and the base solution per time; solves plans one after another."""

    def __init__(self, net: Network, pda: bool = False, accuracy: float | None = None, fast: bool = True) -> None:
        from runze.hydraulics import prepare

        self.c, self.kernel, self.controls, self.rules = prepare(net, duration=0, pda=True if pda else None)
        # scenarios start from the base solution, so a loose ACCURACY (the usual 1e-3) stops them early: on the
        # demo city that left up to 0.27 m against EPANET at 1e-6.  Batch mode therefore solves to 1e-6 unless told
        self.accuracy = DEFAULT_ACCURACY if accuracy is None else accuracy
        self.base_emitters = self.kernel.emitters.copy()
        self.base_em_ke = self.kernel.em_ke.copy()
        self.base: dict[int, HydState] = {}
        self.base_info: dict[int, object] = {}
        self.st = initial_state(self.c, self.kernel)  # scratch state, arrays reused for every scenario
        self.fast = fast
        self._lowrank = None

    def _set_emitters(self, nodes: np.ndarray, ke: np.ndarray) -> None:
        k = self.kernel
        k.emitters = nodes
        k.em_ke = ke
        k._fused_state = None  # its cached argument tuple holds the emitter arrays

    def _period_state(self, time: int) -> HydState:
        """Demands, pattern heads/speeds and controls of `time` on a fresh state."""
        c = self.c
        st = initial_state(c, self.kernel)
        set_demands(c, st, time)
        if self.controls is not None:
            self.controls.apply(st, time)
        return st

    def base_state(self, time: int) -> HydState:
        if time not in self.base:
            st = self._period_state(time)
            self._set_emitters(self.base_emitters, self.base_em_ke)
            self.base_info[time] = self.kernel.hydsolve(st, self.accuracy)
            self.base[time] = st
        return self.base[time]

    def solve_plan(self, plan: Plan, time: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, int, list[str]]:
        """Heads (ft), flows (cfs, closed = 0), emitter flows (cfs) of one plan at `time`."""
        c = self.c
        base = self.base_state(time)
        st = self.st
        for name in ("H", "Q", "status", "setting", "D", "Dfull", "node_demand", "V"):
            getattr(st, name)[:] = getattr(base, name)
        if np.ndim(plan.dem_scale) or plan.dem_scale != 1.0:
            st.Dfull *= plan.dem_scale
            st.D[:] = st.Dfull
        if plan.res_node.size:
            st.H[plan.res_node] = plan.res_head
        for k, v in zip(plan.pump_link, plan.pump_speed, strict=True):
            st.setting[k] = v
            if v == 0.0:
                st.status[k] = CLOSED
            elif st.status[k] <= CLOSED:
                st.status[k] = OPEN
                m = int(np.flatnonzero(c.pumps == k)[0])
                st.Q[k] = v * c.pump_q0[m]
        for k, v in zip(plan.set_link, plan.set_value, strict=True):
            st.setting[k] = v
            if c.ltype[k] in (PRV, PSV, FCV):
                st.status[k] = ACTIVE  # a control valve given a setting is active again (as EPANET)
            elif st.status[k] <= CLOSED:
                st.status[k] = OPEN
        if plan.closed.size:
            st.status[plan.closed] = CLOSED
            st.Q[plan.closed] = QZERO
            ctrl = np.isin(c.ltype[plan.closed], (PRV, PSV, FCV))
            st.setting[plan.closed[ctrl]] = MISSING
        # emitter flows start from the base pressures (EPANET starts every emitter at 1 cfs)
        st.E[:] = 0.0
        if plan.em_node.size:
            p = np.maximum(base.H[plan.em_node] - c.elev[plan.em_node], 0.0)
            st.E[plan.em_node] = (p / plan.em_ke) ** (1.0 / c.qexp)
        self._set_emitters(plan.em_node, plan.em_ke)
        info = self.kernel.hydsolve(st, self.accuracy)
        warns = []
        if info.error is not None:
            bad = int(info.bad_nodes[0]) if info.bad_nodes is not None and info.bad_nodes.size else -1
            warns.append(MESSAGES["singular"].format(node=c.node_ids[bad] if bad >= 0 else "?"))
        elif not info.converged:
            warns.append(MESSAGES["unconverged"].format(relerr=info.relerr, iterations=info.iterations))
        q = np.where(st.status <= CLOSED, 0.0, st.Q)
        return st.H.copy(), q, st.E.copy(), bool(info.converged), int(info.iterations), warns

    @property
    def lowrank(self):
        if self._lowrank is None and self.fast:
            try:
                from runze.hydraulics.batch_inverse import InverseSolver
                from runze.hydraulics.batch_kernel import LowRankSolver
            except ImportError:  # pragma: no cover - numba missing
                self._lowrank = False
            else:  # the dense-inverse lock-step kernel where J0⁻¹ fits in memory, else the sparse one
                kind = next((k for k in (InverseSolver, LowRankSolver) if k.applicable(self)), None)
                self._lowrank = kind(self) if kind is not None else False
        return self._lowrank or None

    def solve_plans(self, plans: Sequence[Plan], times: Sequence[int]) -> dict:
        """Raw arrays (internal units) for `plans` × `times`."""
        c = self.c
        s, t = len(plans), len(times)
        H = np.empty((s, t, c.nn))
        Q = np.empty((s, t, c.nl))
        E = np.zeros((s, t, c.nj))
        conv = np.zeros((s, t), bool)
        its = np.zeros((s, t), np.int64)
        warns: list[list[str]] = [[] for _ in range(s)]
        for j, time in enumerate(times):
            todo = range(s)
            fast = [i for i, p in enumerate(plans) if p.emitters_only and isinstance(p.dem_scale, float)
                    and p.dem_scale == 1.0] if self.fast and self.lowrank is not None else []
            if fast:
                solver = self.lowrank
                direct = len(fast) == s and t == 1 and getattr(solver, "fills_out", False)
                if direct:  # written straight into the (contiguous) result arrays
                    out = solver.solve_many(plans, int(time), self.base_state(int(time)),
                                            out=(H[:, j], Q[:, j], E[:, j]))
                else:
                    out = solver.solve_many([plans[i] for i in fast], int(time), self.base_state(int(time)))
                if out is not None:
                    h, q, e, passes, _ = out
                    done = passes >= 0
                    rows = np.asarray(fast)[done]
                    if not direct:
                        H[rows, j], Q[rows, j], E[rows, j] = h[done], q[done], e[done]
                    conv[rows, j] = True
                    its[rows, j] = passes[done]
                    todo = np.asarray(fast)[~done].tolist() + sorted(set(range(s)) - set(fast))
            for i in todo:
                h, q, e, ok, n, w = self.solve_plan(plans[i], int(time))
                H[i, j], Q[i, j], E[i, j], conv[i, j], its[i, j] = h, q, e, ok, n
                warns[i].extend(f"t={int(time)}s: {m}" for m in w)
        return {"H": H, "Q": Q, "E": E, "converged": conv, "iterations": its, "warnings": warns}


# ---- executors ---------------------------------------------------------------------------------------------

_WORKER_ENGINE: BatchEngine | None = None


def _worker_init(net: Network, pda: bool, accuracy: float | None, fast: bool) -> None:
    global _WORKER_ENGINE
    _WORKER_ENGINE = BatchEngine(net, pda=pda, accuracy=accuracy, fast=fast)


def _worker_solve(plans: list[Plan], times: list[int]) -> dict:
    assert _WORKER_ENGINE is not None
    return _WORKER_ENGINE.solve_plans(plans, times)


def chunked(items: Sequence, n_chunks: int) -> list[list]:
    n_chunks = max(1, min(n_chunks, len(items)))
    bounds = np.linspace(0, len(items), n_chunks + 1).astype(int)
    return [list(items[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def merge_raw(parts: list[dict]) -> dict:
    out = {k: np.concatenate([p[k] for p in parts]) for k in ("H", "Q", "E", "converged", "iterations")}
    out["warnings"] = [w for p in parts for w in p["warnings"]]
    return out


def to_results(c, plans: Sequence[Plan], times: Sequence[int], raw: dict) -> BatchResults:
    """SI results; converts `raw`'s arrays in place (they are large: one pass over each, no temporaries)."""
    head = raw["H"]
    pressure = np.subtract(head, c.elev, out=np.empty_like(head))
    pressure *= FT
    head *= FT
    flow = raw["Q"]
    flow *= CFS
    leak = np.zeros(head.shape)  # zero but at each plan's emitters (the only nonzero entries of raw["E"])
    sizes = np.fromiter((p.em_node.size for p in plans), np.int64, len(plans))
    if sizes.sum():
        rows = np.repeat(np.arange(len(plans)), sizes)
        cols = np.concatenate([p.em_node for p in plans])
        leak[rows, :, cols] = raw["E"][rows, :, cols] * CFS
    for i, p in enumerate(plans):
        if p.res_node.size:  # a reservoir given a new head: that head is its new elevation (pressure 0, as EPANET)
            pressure[i, :, p.res_node] = 0.0
    return BatchResults(
        scenario_names=[p.name for p in plans], times=np.asarray(times, np.int64), node_ids=list(c.node_ids),
        link_ids=list(c.link_ids), head=head, pressure=pressure, flow=flow,
        leak=leak, converged=raw["converged"], iterations=raw["iterations"], warnings=raw["warnings"])


def solve_batch(network, scenarios: Sequence[Scenario], *, times: Sequence[float] | None = None, workers: int = 1,
                executor: str = "local", scheduler=None, pda: bool = False, accuracy: float | None = None,
                fast: bool = True) -> BatchResults:
    """Solve every scenario at every time (single-period snapshots).  See the module docstring.

    network: a `Network` or an .inp path.  times: seconds (default [0]).  workers: processes (local) or the
    number of chunks per Dask worker.  executor: "local" or "dask" (scheduler: address or `Client`).
    accuracy: convergence limit of the full gradient loop (default 1e-6, not the file's: scenarios start from
    the base solution and a loose limit stops them early).  fast=False always uses the full gradient loop.
    """
    from runze.hydraulics import load_network

    net = load_network(network)
    times_i = [int(round(float(t))) for t in (times if times is not None else [0])]
    if executor not in ("local", "dask"):
        raise BatchError(MESSAGES["executor"].format(executor=executor))
    engine = BatchEngine(net, pda=pda, accuracy=accuracy, fast=fast)
    plans = make_plans(net, engine.c, scenarios)
    if not plans:
        raw = {"H": np.zeros((0, len(times_i), engine.c.nn)), "Q": np.zeros((0, len(times_i), engine.c.nl)),
               "E": np.zeros((0, len(times_i), engine.c.nj)), "converged": np.zeros((0, len(times_i)), bool),
               "iterations": np.zeros((0, len(times_i)), np.int64), "warnings": []}
    elif executor == "dask":
        from runze.hydraulics.batch_dask import solve_dask

        raw = solve_dask(net, plans, times_i, scheduler, pda=pda, accuracy=accuracy, fast=fast,
                         chunks_per_worker=max(1, workers))
    elif workers <= 1 or len(plans) < 2:
        raw = engine.solve_plans(plans, times_i)
    else:
        chunks = chunked(plans, workers * 4)
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                                 initargs=(net, pda, accuracy, fast)) as pool:
            parts = list(pool.map(_worker_solve, chunks, [times_i] * len(chunks)))
        raw = merge_raw(parts)
    return to_results(engine.c, plans, times_i, raw)


__all__ = ["BatchEngine", "BatchError", "BatchResults", "Plan", "Scenario", "make_plans", "solve_batch"]
