"""The whole extended-period loop in one compiled call, for networks without rule-based controls.

`eps_nb` runs EPANET's runhyd/nexthyd loop exactly as `eps.Simulation.run` does in Python — demands of the
period (from the run's `DemandTable`), reservoir-head and pump-speed patterns, simple controls, the gradient
trials (`fastloop.hydsolve_nb`), the per-period warning checks, results at reporting times, the next time step
and the tank levels — without returning to Python between periods.  On a 1,000-junction network a period is
a few hundred microseconds of arithmetic, and the Python glue between the compiled pieces (about a dozen calls,
each type-checking its arguments) cost about 100 µs per period.

Warnings are written to an event log (`ev`: kind, period number, element count, element indices…) that
`eps.Simulation` turns into `HydWarning`s; per-period iteration counts and errors go to small arrays.  The call
returns early, with the loop position saved in `lp`, when those buffers could overflow in the next period
(`FULL`: Python empties them and calls again) or when the LDLᵀ factorisation meets a non-positive pivot
(`SINGULAR`: Python finishes that period with its LU fallback, then calls again).
"""

from __future__ import annotations

from runze.hydraulics.fastkernel import CLOSED, CONST_HP, OPEN, XFCV, XHEAD, XPRESSURE
from runze.hydraulics.fastloop import (
    control_timestep_nb,
    controls_apply_nb,
    fed_junctions_nb,
    hydsolve_nb,
    tank_levels_nb,
    tank_timestep_nb,
)
from runze.hydraulics.ldl import _njit

# return codes
DONE, FULL, SINGULAR = 0, 1, 2
# loop position and counters in `lp`
LP_HTIME, LP_RI, LP_NPER, LP_NEV, LP_ITERS = 0, 1, 2, 3, 4
LP_SIZE = 5
# event kinds (the order in which eps.Simulation._warn reports them within a period)
EV_UNBALANCED, EV_UNSTABLE, EV_NEG_PRESSURE, EV_VALVE, EV_PUMP_HEAD, EV_PUMP_FLOW, EV_DISCONNECTED = range(7)
EV_KINDS = ("unbalanced", "unstable", "negative_pressure", "valve_cannot_deliver", "pump_cannot_deliver_head",
            "pump_cannot_deliver_flow", "disconnected")


def event_space(nj: int, nl: int) -> int:
    """Most event-log entries one period can write."""
    return 2 * nj + nl + 3 * 8


@_njit
def demand_table_nb(table, first, dem_node, dem_base, dem_pat, dmult, pat_flat, pat_start, pat_len):
    """eps.DemandTable's rows: table[r, j] = Σ base × multiplier of period first + r × dmult over j's demand
    entries, summed in entry order as np.bincount does (bit-identical)."""
    for r in range(table.shape[0]):
        period = first + r
        for m in range(dem_node.size):
            p = dem_pat[m]
            table[r, dem_node[m]] += dem_base[m] * pat_flat[pat_start[p] + period % pat_len[p]] * dmult


@_njit
def _warnings(nper, converged, iters, trials, pda, nj, nn, n1, n2, h, elev, node_demand, dfull, status, q,
              valves, pumps, pump_qmax, ev, nev):
    """eps.Simulation._warn for one solved period, written to the event log.  Returns the new log length."""
    flagged = False
    if not converged or iters > trials:
        ev[nev] = EV_UNBALANCED if not converged else EV_UNSTABLE
        ev[nev + 1] = nper
        ev[nev + 2] = 0
        nev += 3
        flagged = True
    if not pda:
        cnt = 0
        for i in range(nj):
            if h[i] < elev[i] and node_demand[i] > 0.0:
                ev[nev + 3 + cnt] = i
                cnt += 1
        if cnt:
            ev[nev] = EV_NEG_PRESSURE
            ev[nev + 1] = nper
            ev[nev + 2] = cnt
            nev += 3 + cnt
            flagged = True
    cnt = 0
    for m in range(valves.size):
        k = valves[m]
        if status[k] == XFCV or status[k] == XPRESSURE:
            ev[nev + 3 + cnt] = k
            cnt += 1
    if cnt:
        ev[nev] = EV_VALVE
        ev[nev + 1] = nper
        ev[nev + 2] = cnt
        nev += 3 + cnt
        flagged = True
    for kind in (EV_PUMP_HEAD, EV_PUMP_FLOW):
        cnt = 0
        for m in range(pumps.size):
            k = pumps[m]
            if kind == EV_PUMP_HEAD:
                hit = status[k] == XHEAD
            else:
                hit = status[k] >= OPEN and q[k] > pump_qmax[m]
            if hit:
                ev[nev + 3 + cnt] = k
                cnt += 1
        if cnt:
            ev[nev] = kind
            ev[nev + 1] = nper
            ev[nev + 2] = cnt
            nev += 3 + cnt
            flagged = True
    if flagged:
        fed = fed_junctions_nb(nj, nn, n1, n2, status)
        cnt = 0
        for i in range(nj):
            if dfull[i] > 0.0 and not fed[i]:
                ev[nev + 3 + cnt] = i
                cnt += 1
        if cnt:
            ev[nev] = EV_DISCONNECTED
            ev[nev + 1] = nper
            ev[nev + 2] = cnt
            nev += 3 + cnt
    return nev


@_njit
def eps_nb(hs_args, acc, hacc, times_, pat, dem, ctl, tanks, warn, state, out, per, ev, lp):
    """Run periods from the position in `lp` until the end of the run (DONE), a full buffer (FULL) or a failed
    factorisation (SINGULAR).  See the module docstring; argument tuples are built by `eps.FastEps`."""
    duration, hstep, pstep, pstart, rstep, tstart, trials, extra_iter, maxtrials, pda, nj, nn = times_
    pat_flat, pat_start, pat_len, res_node, res_pat, pump_links, pump_speed_pat, ptype, pump_q0 = pat
    dem_table, dem_first, dem_nrows, dem_lcm, dem_node, dem_base, dem_pat, dmult = dem
    (c_kind, c_link, c_node, c_grade, c_time, c_status, c_setting, tank_pos, pump_of_link, ltype) = ctl
    tank_node, vmin, vmax, hmin, hmax, area, vcurve, elev, cx, cy, cn = tanks
    n1, n2, valves, pumps, pump_qmax = warn
    h, q, status, setting, e, d, dfull, node_demand, v = state
    times, r_h, r_nd, r_e, r_q, r_status, r_setting, r_iters, r_relerr = out
    p_time, p_iters, p_relerr = per
    htime = lp[LP_HTIME]
    ri = lp[LP_RI]
    nper = lp[LP_NPER]
    nev = lp[LP_NEV]
    total = lp[LP_ITERS]
    need = 2 * nj + valves.size + 2 * pumps.size + 3 * 8
    ntimes = times.size
    while True:
        if nper >= p_time.size or nev + need > ev.size:
            code = FULL
            break
        # EPANET's demands(): junction demands, reservoir heads and pump speeds of the pattern period
        period = (htime + pstart) // pstep
        row = period - dem_first
        if row >= dem_nrows and dem_nrows == dem_lcm:
            row = row % dem_nrows  # the table spans the patterns' common period (see eps.DemandTable)
        if 0 <= row < dem_nrows:
            for i in range(nj):
                x = dem_table[row, i]
                dfull[i] = x
                d[i] = x
        else:  # eps.period_demands: the same sums, in entry order
            for i in range(nj):
                dfull[i] = 0.0
            for m in range(dem_node.size):
                p = dem_pat[m]
                dfull[dem_node[m]] += dem_base[m] * pat_flat[pat_start[p] + period % pat_len[p]] * dmult
            for i in range(nj):
                d[i] = dfull[i]
        for m in range(res_node.size):
            p = res_pat[m]
            if p >= 0:
                n = res_node[m]
                h[n] = elev[n] * pat_flat[pat_start[p] + period % pat_len[p]]
        for m in range(pump_links.size):
            p = pump_speed_pat[m]
            if p < 0:
                continue
            k = pump_links[m]
            value = pat_flat[pat_start[p] + period % pat_len[p]]
            setting[k] = value
            if value > 0.0 and status[k] <= CLOSED:
                if ptype[m] == CONST_HP:
                    q[k] = pump_q0[m]
                status[k] = OPEN
            if value == 0.0 and status[k] > CLOSED:
                status[k] = CLOSED
        if c_kind.size:
            controls_apply_nb(htime, tstart, c_kind, c_link, c_node, c_grade, c_time, c_status, c_setting,
                              tank_pos, h, node_demand, status, setting, ltype, q, pump_of_link, ptype, pump_q0,
                              vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn)
        it, relerr, bad = hydsolve_nb(*hs_args, acc, hacc)
        for i in range(nj):
            node_demand[i] = d[i] + e[i]
        if bad >= 0:
            code = SINGULAR
            break
        iters = min(it, maxtrials)
        converged = it <= maxtrials and relerr <= acc
        total += iters
        p_time[nper] = htime
        p_iters[nper] = iters
        p_relerr[nper] = relerr
        nev = _warnings(nper, converged, iters, trials, pda, nj, nn, n1, n2, h, elev, node_demand, dfull, status,
                        q, valves, pumps, pump_qmax, ev, nev)
        nper += 1
        halted = not converged and extra_iter == -1  # EPANET's Haltflag
        while ri < ntimes and times[ri] <= htime:
            if times[ri] == htime:
                r_h[ri, :] = h
                r_nd[ri, :] = node_demand
                r_e[ri, :] = e
                r_q[ri, :] = q
                r_status[ri, :] = status
                r_setting[ri, :] = setting
                r_iters[ri] = iters
                r_relerr[ri] = relerr
            ri += 1
        tstep = 0
        if htime < duration and not halted:
            # EPANET's timestep(): hydraulic step, next pattern period, reporting time, tanks, controls
            tstep = hstep
            t = ((htime + pstart) // pstep + 1) * pstep - htime
            if 0 < t < tstep:
                tstep = t
            t = ((htime // rstep) + 1) * rstep - htime
            if 0 < t < tstep:
                tstep = t
            if tank_node.size:
                tstep = tank_timestep_nb(tstep, tank_node, h, node_demand, v, vmin, vmax, hmin, hmax)
            if c_kind.size:
                tstep = control_timestep_nb(htime, tstart, tstep, c_kind, c_link, c_node, c_grade, c_time, c_status,
                                            c_setting, tank_pos, h, node_demand, v, status, setting, ltype,
                                            vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn)
            if tank_node.size:
                tank_levels_nb(tstep, tank_node, h, node_demand, v, vmin, vmax, hmin, area, vcurve, elev, cx, cy,
                               cn)
        if tstep <= 0:
            code = DONE
            break
        htime += tstep
    lp[LP_HTIME] = htime
    lp[LP_RI] = ri
    lp[LP_NPER] = nper
    lp[LP_NEV] = nev
    lp[LP_ITERS] = total
    return code


