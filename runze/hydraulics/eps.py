"""Extended-period simulation: EPANET's runhyd/nexthyd loop (hydraul.c), with results kept in arrays.

Each period: demands from patterns (and reservoir-head and pump-speed patterns), simple controls, the gradient
solve, warnings, then the next time step — the hydraulic step shortened to the next pattern period, reporting
time, tank full/empty time and control time, or to the first rule that fires — and the tank volumes integrated
over it (Euler, as EPANET).  Results at reporting times are copied into preallocated arrays; DataFrames are built
once at the end (`results.py`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csgraph, csr_matrix

from runze.hydraulics import fasteps, fastkernel, fastloop
from runze.hydraulics.compile import (
    CLOSED,
    OPEN,
    PUMP,
    QZERO,
    XFCV,
    XHEAD,
    XPRESSURE,
    Compiled,
)
from runze.hydraulics.controls import SimpleControls, _round, reset_pump_flow, tank_grade
from runze.hydraulics.results import HydWarning, RawResults, warning_message
from runze.hydraulics.solver import HydState, Kernel

ALL_WARNING_FLAGS = fastloop.NEG_PRESSURE | fastloop.VALVE_XP | fastloop.PUMP_XHEAD | fastloop.PUMP_XFLOW


def initial_state(c: Compiled, kernel: Kernel) -> HydState:
    H = c.elev.copy()
    H[c.tank_node] = c.tank_h0
    st = HydState(
        H=H, Q=np.zeros(c.nl), status=c.status0.copy(), setting=c.setting0.copy(),
        E=np.where(c.emit_ke > 0, 1.0, 0.0), D=np.zeros(c.nj), Dfull=np.zeros(c.nj),
        node_demand=np.zeros(c.nn), V=c.tank_v0.copy(),
    )
    kernel.init_flows(st)
    return st


class DemandTable:
    """Junction demands of every pattern period a run visits, computed in one vectorised pass.

    Row r holds the demand vector of pattern period `first + r`; EPANET's demands() then becomes a row copy.
    The per-entry arithmetic (base × multiplier × DEMAND MULTIPLIER, summed per junction in entry order) is
    the same as the one-period formula, so the values are bit-identical.  Runs too long for a table of
    modest size (rows × demand entries > `MAX_CELLS`) compute one period at a time instead."""

    MAX_CELLS = 20_000_000

    def __init__(self, c: Compiled, duration: int) -> None:
        self.c = c
        self.first = c.pstart // c.pstep
        last = (duration + c.pstart) // c.pstep
        # patterns repeat: rows beyond the patterns' common period are copies, so stop there
        period_lcm = int(np.lcm.reduce(c.pat_len)) if c.pat_len.size else 1
        nrows = max(1, min(last - self.first + 1, period_lcm))
        self.nrows = nrows
        self.period_lcm = period_lcm
        self.table = None
        if nrows * max(c.dem_node.size, 1) <= self.MAX_CELLS and nrows * c.nj <= self.MAX_CELLS:
            table = np.zeros((nrows, c.nj))
            if c.dem_node.size and fastkernel.AVAILABLE:  # the same sums in the same order, compiled
                fasteps.demand_table_nb(table, self.first, c.dem_node, c.dem_base, c.dem_pat, float(c.dmult),
                                        c.pat_flat, c.pat_start, c.pat_len)
            elif c.dem_node.size:
                periods = np.arange(self.first, self.first + nrows, dtype=np.int64)
                mult = c.pat_flat[c.pat_start[None, :] + periods[:, None] % c.pat_len[None, :]]  # periods × patterns
                vals = c.dem_base[None, :] * mult[:, c.dem_pat] * c.dmult
                idx = (np.arange(nrows, dtype=np.int64)[:, None] * c.nj + c.dem_node[None, :]).ravel()
                table = np.bincount(idx, vals.ravel(), minlength=nrows * c.nj).reshape(nrows, c.nj)
            self.table = table
        self.has_res_pat = bool(c.res_node.size and (c.res_pat >= 0).any())
        self.speed_pumps = np.flatnonzero(c.pump_speed_pat >= 0)

    def row(self, period: int) -> np.ndarray:
        r = period - self.first
        if self.table is not None and r >= 0:
            if r < self.nrows:
                return self.table[r]
            if self.nrows == self.period_lcm:  # the table spans the patterns' common period
                return self.table[r % self.period_lcm]
        return period_demands(self.c, period)


def period_demands(c: Compiled, period: int) -> np.ndarray:
    """Junction demand vector of one pattern period (cfs)."""
    if not c.dem_node.size:
        return np.zeros(c.nj)
    mult = c.pattern_factors(period)
    return np.bincount(c.dem_node, c.dem_base * mult[c.dem_pat] * c.dmult, minlength=c.nj)


def set_demands(c: Compiled, st: HydState, htime: int, table: DemandTable | None = None) -> None:
    """EPANET's demands(): pattern-driven demands, reservoir heads and pump speeds for the period.

    `table` (built once per run, `DemandTable`) holds the junction demands of every period of the run."""
    period = (htime + c.pstart) // c.pstep
    d = table.row(period) if table is not None else period_demands(c, period)
    st.Dfull[:] = d
    st.D[:] = d
    has_res_pat = table.has_res_pat if table is not None else bool(c.res_node.size and (c.res_pat >= 0).any())
    speed_pumps = table.speed_pumps if table is not None else np.flatnonzero(c.pump_speed_pat >= 0)
    if not has_res_pat and not speed_pumps.size:
        return
    mult = c.pattern_factors(period)
    if has_res_pat:
        pat = c.res_pat >= 0
        st.H[c.res_node[pat]] = c.elev[c.res_node[pat]] * mult[c.res_pat[pat]]
    for m in speed_pumps:  # pumps with speed patterns (few)
        k = c.pumps[m]
        value = mult[c.pump_speed_pat[m]]
        st.setting[k] = value
        if value > 0 and st.status[k] <= CLOSED:
            reset_pump_flow(c, st, k)
            st.status[k] = OPEN
        if value == 0 and st.status[k] > CLOSED:
            st.status[k] = CLOSED


def tank_levels(c: Compiled, st: HydState, tstep: int) -> None:
    """EPANET's tanklevels(): integrate tank volumes over tstep seconds, snapping to full/empty."""
    if c.tank_node.size == 0:
        return
    if fastkernel.AVAILABLE:
        fastloop.tank_levels_nb(tstep, c.tank_node, st.H, st.node_demand, st.V, c.tank_vmin, c.tank_vmax,
                                  c.tank_hmin, c.tank_area, c.tank_vcurve, c.elev, c.curve_x, c.curve_y, c.curve_n)
        return
    n = c.tank_node
    q = st.node_demand[n]
    v = st.V + q * tstep
    # EPANET's test (V - q for empty) lets a draining tank end a step slightly below its minimum: kept as is
    v = np.where(v + q >= c.tank_vmax, c.tank_vmax, np.where(v - q <= c.tank_vmin, c.tank_vmin, v))
    st.V[:] = v
    st.H[n] = tank_grade(c, np.arange(n.size), v)


def tank_time_step(c: Compiled, st: HydState, tstep: int) -> int:
    """EPANET's tanktimestep(): shorten the step to the time the first tank fills or empties."""
    if c.tank_node.size == 0:
        return tstep
    if fastkernel.AVAILABLE:
        return int(fastloop.tank_timestep_nb(tstep, c.tank_node, st.H, st.node_demand, st.V, c.tank_vmin,
                                               c.tank_vmax, c.tank_hmin, c.tank_hmax))
    n = c.tank_node
    h = st.H[n]
    q = st.node_demand[n]
    fill = (q > 0) & (h < c.tank_hmax)
    drain = (q < 0) & (h > c.tank_hmin)
    ok = (np.abs(q) > QZERO) & (fill | drain)
    if not ok.any():
        return tstep
    v = np.where(fill, c.tank_vmax - st.V, c.tank_vmin - st.V)
    t = _round(v[ok] / q[ok])
    t = t[(t > 0) & (t < tstep)]
    return int(t.min()) if t.size else tstep


class Simulation:
    """One EPS run over a compiled network; `run()` returns `RawResults` (internal units)."""

    def __init__(self, c: Compiled, kernel: Kernel, controls: SimpleControls | None, rules=None,
                 accuracy: float | None = None, progress: Callable[[int, int], None] | None = None) -> None:
        self.c = c
        self.kernel = kernel
        self.controls = controls
        self.rules = rules
        self.accuracy = accuracy
        self.progress = progress

    def report_times(self) -> np.ndarray:
        c = self.c
        if c.duration <= 0:
            return np.array([0], np.int64)
        return np.arange(c.rstart, c.duration + 1, c.rstep, dtype=np.int64)

    def run(self) -> RawResults:
        c, kernel = self.c, self.kernel
        st = initial_state(c, kernel)
        times = self.report_times()
        raw = RawResults.allocate(c, times)
        self._st, self._raw, self._times = st, raw, times
        self._warnings: list[HydWarning] = list(HydWarning(**w) for w in c.warnings)
        self._htime = 0
        self._ri = 0  # next report row
        self._total_iters = 0
        self._periods: list[int] = []
        self._demand_table = DemandTable(c, c.duration)
        fast = FastEps(self) if self._fast_eps_ok() else None
        while True:
            if fast is not None:
                if fast.run() == fasteps.DONE:
                    break
                # the compiled LDLᵀ met a non-positive pivot: finish this period with the step-by-step loop,
                # whose factorisation falls back to LU with pivoting (as Kernel.hydsolve does)
                tstep = self._after_solve(kernel._hydsolve_loop(st, self.accuracy, fused_trials=False))
            else:
                set_demands(c, st, self._htime, self._demand_table)
                if self.controls is not None:
                    self.controls.apply(st, self._htime)
                tstep = self._after_solve(kernel.hydsolve(st, self.accuracy))
            if tstep <= 0:
                break
            self._htime += tstep
        raw.rows_filled = self._ri
        raw.warnings = self._warnings
        raw.iterations = self._total_iters
        raw.period_times = np.array(self._periods, np.int64)
        raw.final_state = st
        return raw

    def _fast_eps_ok(self) -> bool:
        """The compiled whole-run loop covers the common case; everything else takes the Python loop."""
        c = self.c
        return (self.kernel.fused_loop and fastkernel.AVAILABLE and self.progress is None
                and (self.rules is None or not self.rules.n) and self._demand_table.table is not None
                and c.duration > 0 and c.rstart % c.rstep == 0)

    def _after_solve(self, info) -> int:
        """The rest of one period after its gradient solve: warnings, results, the next time step (0: stop)."""
        c, st, raw, times = self.c, self._st, self._raw, self._times
        htime = self._htime
        self._total_iters += info.iterations
        self._periods.append(htime)
        self._warn(st, info, htime, self._warnings)
        halted = False
        if info.error is not None:
            raw.failed_from = htime
            halted = True
        elif not info.converged and c.extra_iter == -1:
            halted = True  # EPANET's Haltflag: UNBALANCED STOP ends the run here
        # record the reporting times covered by this period (before tank levels move on)
        ri = self._ri
        while ri < times.size and times[ri] <= htime:
            if times[ri] == htime:
                raw.store(ri, st, info)
            ri += 1
        tstep = 0
        pre = None
        if htime < c.duration and not halted:
            if c.rstart % c.rstep and ri < times.size and times[ri] < htime + c.hstep:
                pre = st.copy()  # a reporting time falls inside the coming step (unaligned REPORT START)
            tstep = self._time_step(st, htime)
        while pre is not None and ri < times.size and times[ri] < htime + tstep:
            raw.store(ri, pre, info)
            ri += 1
        self._ri = ri
        if self.progress is not None:
            self.progress(htime, c.duration)
        return tstep

    def _time_step(self, st: HydState, htime: int) -> int:
        """EPANET's timestep(): the next step, with tank levels (and rules) advanced over it."""
        c = self.c
        tstep = c.hstep
        n = (htime + c.pstart) // c.pstep + 1
        t = n * c.pstep - htime
        if 0 < t < tstep:
            tstep = t
        # reporting time: EPANET's Rtime is the first multiple of Rstep after the current time
        rt = ((htime // c.rstep) + 1) * c.rstep
        t = rt - htime
        if 0 < t < tstep:
            tstep = t
        tstep = tank_time_step(c, st, tstep)
        if self.controls is not None:
            tstep = self.controls.time_to_next(st, htime, tstep)
        if self.rules is not None and self.rules.n:
            tstep = self.rules.rule_time_step(st, htime, tstep, tank_levels)
        else:
            tank_levels(c, st, tstep)
        return tstep

    def _warn(self, st: HydState, info, htime: int, out: list[HydWarning]) -> None:
        c = self.c
        ids = c.node_ids
        lids = c.link_ids
        flagged = False
        if info.error is not None:
            bad_nodes = info.bad_nodes if info.bad_nodes is not None else []
            out.append(HydWarning("cannot_solve", htime, [ids[int(i)] for i in bad_nodes[:20]]))
            return
        if not info.converged:
            out.append(HydWarning("unbalanced", htime, [],
                                  warning_message("unbalanced", trials=info.iterations, relerr=info.relerr)))
            flagged = True
        elif info.iterations > c.trials:
            out.append(HydWarning("unstable", htime, []))
            flagged = True
        # one compiled pass says which checks fire; the element lists are built only for those
        flags = (fastloop.warning_flags_nb(c.nj, c.pda, st.H, c.elev, st.node_demand, c.valves, c.pumps, st.status,
                                           st.Q, c.pump_qmax) if fastkernel.AVAILABLE else ALL_WARNING_FLAGS)
        if not c.pda and flags & fastloop.NEG_PRESSURE:
            nj = c.nj
            neg = np.flatnonzero((st.H[:nj] < c.elev[:nj]) & (st.node_demand[:nj] > 0.0))
            if neg.size:
                out.append(HydWarning("negative_pressure", htime, [ids[i] for i in neg]))
                flagged = True
        v = c.valves
        if v.size and flags & fastloop.VALVE_XP:
            bad = v[(st.status[v] == XFCV) | (st.status[v] == XPRESSURE)]
            if bad.size:
                out.append(HydWarning("valve_cannot_deliver", htime, [lids[k] for k in bad]))
                flagged = True
        p = c.pumps
        if p.size and flags & (fastloop.PUMP_XHEAD | fastloop.PUMP_XFLOW):
            xh = p[st.status[p] == XHEAD]
            if xh.size:
                out.append(HydWarning("pump_cannot_deliver_head", htime, [lids[k] for k in xh]))
                flagged = True
            xf = p[(st.status[p] >= OPEN) & (st.Q[p] > c.pump_qmax)]
            if xf.size:
                out.append(HydWarning("pump_cannot_deliver_flow", htime, [lids[k] for k in xf]))
                flagged = True
        if flagged:
            disc = self._disconnected(st)
            if disc.size:
                out.append(HydWarning("disconnected", htime, [ids[i] for i in disc]))


    def _disconnected(self, st: HydState) -> np.ndarray:
        """`disconnected_nodes`, reused while the open links and the junctions with demand stay the same
        (warning periods often repeat with unchanged statuses: ky10 flags 21 of its 48 periods)."""
        open_links = st.status > CLOSED
        with_demand = st.Dfull > 0
        last = getattr(self, "_disc_last", None)
        if last is not None and np.array_equal(last[0], open_links) and np.array_equal(last[1], with_demand):
            return last[2]
        disc = disconnected_nodes(self.c, st)
        self._disc_last = (open_links, with_demand, disc)
        return disc


class FastEps:
    """Drives `fasteps.eps_nb` for one `Simulation`: builds its argument tuples once, and after each return
    moves the period log and the warning events into the simulation's lists."""

    # buffer sizes: periods logged per call (at least PERIODS_MIN, else PERIODS_PER_STEP per hydraulic step of the
    # run) and event-log room for EVENT_PERIODS worst-case periods; a full buffer only costs a return to Python
    PERIODS_MIN, PERIODS_PER_STEP, EVENT_PERIODS = 64, 4, 4

    def __init__(self, sim: Simulation) -> None:
        c, k, st, raw = sim.c, sim.kernel, sim._st, sim._raw
        self.sim = sim
        ctl = sim.controls
        rules = k.rules
        maxtrials = c.trials + (c.extra_iter if c.extra_iter > 0 else 0)
        table = sim._demand_table
        acc = c.accuracy if sim.accuracy is None else sim.accuracy
        empty_i = np.zeros(0, np.int64)
        if ctl is not None and ctl.n:
            ctl_args = (ctl.kind, ctl.link, ctl.node, ctl.grade, ctl.time, ctl.status, ctl.setting,
                        ctl.tank_of_node, ctl.pump_of_link)
        else:
            ctl_args = (empty_i, empty_i, empty_i, np.zeros(0), empty_i, np.zeros(0, np.int8), np.zeros(0),
                        rules.tank_of_node, rules.pump_of_link)
        nper = max(self.PERIODS_MIN, self.PERIODS_PER_STEP * (c.duration // max(c.hstep, 1) + 1))
        self.p_time = np.zeros(nper, np.int64)
        self.p_iters = np.zeros(nper, np.int64)
        self.p_relerr = np.zeros(nper)
        self.event_space = fasteps.event_space(c.nj, c.nl)
        self.ev = np.zeros(self.EVENT_PERIODS * self.event_space, np.int64)
        self.lp = np.zeros(fasteps.LP_SIZE, np.int64)
        self.args = (
            k.fused_args(st, lagged=True), float(acc), float(c.accuracy),
            (int(c.duration), int(c.hstep), int(c.pstep), int(c.pstart), int(c.rstep), int(c.tstart), int(c.trials),
             int(c.extra_iter), int(maxtrials), bool(c.pda), int(c.nj), int(c.nn)),
            (c.pat_flat, c.pat_start, c.pat_len, c.res_node, c.res_pat, c.pumps, c.pump_speed_pat, c.ptype,
             c.pump_q0),
            (table.table, int(table.first), int(table.nrows), int(table.period_lcm), c.dem_node, c.dem_base,
             c.dem_pat, float(c.dmult)),
            ctl_args + (c.ltype,),
            (c.tank_node, c.tank_vmin, c.tank_vmax, c.tank_hmin, c.tank_hmax, c.tank_area, c.tank_vcurve, c.elev,
             c.curve_x, c.curve_y, c.curve_n),
            (c.n1, c.n2, c.valves, c.pumps, c.pump_qmax),
            (st.H, st.Q, st.status, st.setting, st.E, st.D, st.Dfull, st.node_demand, st.V),
            (raw.times, raw.H, raw.node_demand, raw.E, raw.Q, raw.status, raw.setting, raw.iters, raw.relerr),
            (self.p_time, self.p_iters, self.p_relerr), self.ev, self.lp,
        )

    def run(self) -> int:
        """Run compiled periods until the end (DONE) or a failed factorisation (SINGULAR); the simulation's
        htime, report row, period list, iteration count and warnings are brought up to date."""
        sim, lp = self.sim, self.lp
        while True:
            lp[fasteps.LP_HTIME] = sim._htime
            lp[fasteps.LP_RI] = sim._ri
            lp[fasteps.LP_NPER] = lp[fasteps.LP_NEV] = lp[fasteps.LP_ITERS] = 0
            code = int(fasteps.eps_nb(*self.args))
            sim._htime = int(lp[fasteps.LP_HTIME])
            sim._ri = int(lp[fasteps.LP_RI])
            sim._total_iters += int(lp[fasteps.LP_ITERS])
            nper, nev = int(lp[fasteps.LP_NPER]), int(lp[fasteps.LP_NEV])
            self._flush(nper, nev)
            if code != fasteps.FULL:
                return code
            self._grow(nper, nev)

    def _grow(self, nper: int, nev: int) -> None:
        """After a FULL return: double whichever buffer filled (warnings in every period fill the event log)."""
        args = list(self.args)
        if nper >= self.p_time.size:
            n = 2 * self.p_time.size
            self.p_time, self.p_iters, self.p_relerr = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n)
            args[-3] = (self.p_time, self.p_iters, self.p_relerr)
        elif 2 * nev > self.ev.size and self.ev.size < 64 * self.event_space:
            self.ev = args[-2] = np.zeros(2 * self.ev.size, np.int64)
        self.args = tuple(args)

    def _flush(self, nper: int, nev: int) -> None:
        sim = self.sim
        c = sim.c
        first = len(sim._periods)
        sim._periods.extend(self.p_time[:nper].tolist())
        ev = self.ev
        pos = 0
        while pos < nev:
            kind, per, cnt = int(ev[pos]), int(ev[pos + 1]), int(ev[pos + 2])
            elems = ev[pos + 3: pos + 3 + cnt]
            pos += 3 + cnt
            name = fasteps.EV_KINDS[kind]
            htime = sim._periods[first + per]
            if name == "unbalanced":
                msg = warning_message("unbalanced", trials=int(self.p_iters[per]), relerr=float(self.p_relerr[per]))
                sim._warnings.append(HydWarning(name, htime, [], msg))
            elif name == "unstable":
                sim._warnings.append(HydWarning(name, htime, []))
            else:
                ids = c.link_ids if name in ("valve_cannot_deliver", "pump_cannot_deliver_head",
                                             "pump_cannot_deliver_flow") else c.node_ids
                sim._warnings.append(HydWarning(name, htime, [ids[i] for i in elems.tolist()]))


def disconnected_nodes(c: Compiled, st: HydState) -> np.ndarray:
    """Junctions with positive demand not reachable from a tank or reservoir through open links."""
    if fastkernel.AVAILABLE:
        fed = fastloop.fed_junctions_nb(c.nj, c.nn, c.n1, c.n2, st.status)
        return np.flatnonzero((st.Dfull > 0) & ~fed)
    open_ = st.status > CLOSED
    a, b = c.n1[open_], c.n2[open_]
    g = csr_matrix((np.ones(a.size), (a, b)), shape=(c.nn, c.nn))
    ncomp, label = csgraph.connected_components(g, directed=False)
    fed = np.zeros(ncomp, bool)
    fed[label[c.nj:]] = True
    dem = st.Dfull > 0
    return np.flatnonzero(dem & ~fed[label[: c.nj]])


__all__ = ["Simulation", "initial_state", "PUMP"]
