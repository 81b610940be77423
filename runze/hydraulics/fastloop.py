"""Compiled whole-trial and whole-period steps: one numba call per gradient trial loop and per EPS step.

`hydsolve_nb` is EPANET's hydsolve() loop (linearise, assemble, factorise, solve, update flows, valve and link
status rules, convergence test) for networks whose head-loss formula and factorisation are compiled;
`controls_apply_nb`, `control_timestep_nb`, `tank_timestep_nb` and `tank_levels_nb` are EPANET's controls(),
controltimestep(), tanktimestep() and tanklevels(); `fed_junctions_nb` is a union-find connectivity check;
`warning_flags_nb` tells which of the per-period warning checks fire (the common answer is none).
Each mirrors a numpy reference implementation elsewhere in the package (the tests compare them).
"""

from __future__ import annotations

import math

import numpy as np

from runze.hydraulics.fastkernel import (
    ACTIVE,
    CLOSED,
    CONST_HP,
    CSMALL,
    FCV,
    MISSING,
    OPEN,
    PRV,
    PSV,
    PUMP,
    QTOL,
    RQTOL,
    XFCV,
    XHEAD,
    XPRESSURE,
    add_diag,
    assemble_regular,
    control_valves_nb,
    link_status_nb,
    new_link_flows,
    pipe_coeffs_fastpow,
    pipe_coeffs_power,
    pump_coeffs_nb,
    valve_coeffs_nb,
    valve_status_nb,
)
from runze.hydraulics.ldl import _njit, ldl_numeric_rows, ldl_solve


# ---- one whole gradient trial in a single compiled call (no Python between the passes) ----------------------
@_njit
def _barrier(dq, upper):
    a = 1.0e9 * dq
    b = math.sqrt(a * a + 1.0e-6)
    if upper:
        return (a + b) / 2.0, 0.5e9 * (1.0 + a / b)
    return (a - b) / 2.0, 0.5e9 * (1.0 - a / b)


@_njit
def _emitter(ke, e, qexp, backflow):
    ke = max(CSMALL, ke)
    hgrad = qexp * ke * abs(e) ** (qexp - 1.0)
    if hgrad < RQTOL:
        hgrad = RQTOL / qexp
        hloss = hgrad * e
    else:
        hloss = hgrad * e / qexp
    if not backflow:
        dl, dg = _barrier(e, False)
        hloss += dl
        hgrad += dg
    return hloss, hgrad


@_njit
def _demand(d, dfull, dp, pexp):
    n = 1.0 / pexp
    r = abs(d) / dfull
    hgrad = n * dp * r ** (n - 1.0) / dfull
    hloss = hgrad * d / n
    dl, dg = _barrier(d, False)
    ul, ug = _barrier(d - dfull, True)
    return hloss + dl + ul, hgrad + dg + ug


@_njit
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@_njit
def _lag_pocket(nj, n1, n2, p, skip, lag, nn, conn):
    """True when an end of a lagged link (see trial_nb) is in a pocket: linked to no tank or reservoir by links
    of this trial's matrix other than closed ones (P ≤ 1e-6, closed links have 1/CBIG).  There its head is
    held only by 1e-8 couplings, lagging them would leave it far from EPANET's, so the period is solved with the
    full pattern instead (fasteps: SINGULAR).

    conn (int8, links + 1; -1 at first) keeps the connecting-link mask of the last check and, last, its answer:
    the union-find only runs when the mask changed (a status change, mostly)."""
    changed = False
    for k in range(n1.size):
        ck = 0 if skip[k] or not p[k] > 1.0e-6 else 1
        if conn[k] != ck:
            conn[k] = ck
            changed = True
    if not changed and conn[n1.size] >= 0:
        return conn[n1.size] == 1
    conn[n1.size] = 1
    parent = np.arange(nn)
    for k in range(n1.size):
        if skip[k] or not p[k] > 1.0e-6:
            continue
        a = _find(parent, n1[k])
        b = _find(parent, n2[k])
        if a != b:
            parent[a] = b
    grounded = np.zeros(nn, np.bool_)
    for i in range(nj, nn):
        grounded[_find(parent, i)] = True
    for m in range(lag.size):
        k = lag[m]
        if not grounded[_find(parent, n1[k])] or not grounded[_find(parent, n2[k])]:
            return True
    conn[n1.size] = 0
    return False


@_njit
def trial_nb(
    # network
    nj, n1, n2, ltype, resist, km, diam, elev, hexp, npipe, slot, diag_slot,
    pumps, ptype, ph0, pr, pn, pcurve, cx, cy, cn, valves, ctrl, is_hp,
    emitters, em_ke, qexp, backflow, pda, pmin, preq, pexp,
    # factorisation
    ap, ai, lp, rp, rj, rpos, li, lx, d, yw, perm, xw,
    # state and work
    h, q, status, setting, e, dem, dfull, node_demand, p, y, skip, data, f, xflow, lag, conn, relax, fast_pow,
):
    """Linearise, assemble, factorise, solve and update flows once.  Returns (relerr numerator, denominator,
    max |dq|, bad row or -1).  fast_pow: pipe head losses through fastkernel.pow_pos (see there).

    lag: links left out of the matrix pattern (skip[k] True), pipes closed for the whole run (see
    solver.Kernel.fused_args): each end sees the other as a fixed grade at its last head."""
    if fast_pow:
        pipe_coeffs_fastpow(q[:npipe], status[:npipe], resist[:npipe], km[:npipe], hexp, p[:npipe], y[:npipe])
    else:
        pipe_coeffs_power(q[:npipe], status[:npipe], resist[:npipe], km[:npipe], hexp, p[:npipe], y[:npipe])
    if pumps.size:
        pump_coeffs_nb(pumps, ptype, ph0, pr, pn, pcurve, cx, cy, cn, q, status, setting, p, y)
    if valves.size:
        valve_coeffs_nb(valves, ltype, km, diam, cx, cy, cn, q, status, setting, p, y)
    for m in range(ctrl.size):
        skip[ctrl[m]] = setting[ctrl[m]] != MISSING
    if lag.size and _lag_pocket(nj, n1, n2, p, skip, lag, h.size, conn):
        return 0.0, 1.0, 0.0, -2
    data[:] = 0.0
    f[:] = 0.0
    xflow[:] = 0.0
    diag = assemble_regular(nj, n1, n2, p, y, q, h, slot, skip, data, f, xflow)
    for m in range(lag.size):
        # a closed pipe's P is 1/CBIG: its coupling moved to the right-hand side at the other end's last head
        # (the same system once heads settle, differences ~1e-8 of a trial's head change); leaving it out of the
        # pattern keeps zones split by closed boundary pipes apart in the factorisation (far less fill)
        k = lag[m]
        a = n1[k]
        b = n2[k]
        pk = p[k]
        xflow[a] -= q[k]
        xflow[b] += q[k]
        diag[a] += pk
        f[a] += y[k] + pk * h[b]
        diag[b] += pk
        f[b] += pk * h[a] - y[k]
    for m in range(emitters.size):
        i = emitters[m]
        hl, hg = _emitter(em_ke[m], e[i], qexp, backflow)
        diag[i] += 1.0 / hg
        f[i] += (hl + elev[i]) / hg
        xflow[i] -= e[i]
    if pda:
        for i in range(nj):
            if dfull[i] > 0.0:
                hl, hg = _demand(dem[i], dfull[i], preq - pmin, pexp)
                if hg > 0.0:
                    diag[i] += 1.0 / hg
                    f[i] += (hl + elev[i] + pmin) / hg
    for i in range(nj):
        xflow[i] -= dem[i]
        f[i] += xflow[i]
    if ctrl.size:
        control_valves_nb(ctrl, ltype, km, elev, n1, n2, q, status, setting, p, y, xflow, f, diag, data, slot)
    add_diag(data, diag_slot, diag)
    bad = ldl_numeric_rows(nj, ap, ai, data, lp, rp, rj, rpos, li, lx, d, yw)
    if bad >= 0:
        return 0.0, 1.0, 0.0, perm[bad]
    ldl_solve(nj, lp, li, lx, d, perm, f, xw)
    for j in range(nj):
        h[perm[j]] = xw[j]
    qsum, dqsum, dqmax = new_link_flows(nj, n1, n2, p, y, h, q, status, relax, is_hp, node_demand)
    for m in range(emitters.size):
        i = emitters[m]
        hl, hg = _emitter(em_ke[m], e[i], qexp, backflow)
        dq = (hl - (h[i] - elev[i])) / hg * relax
        e[i] -= dq
        qsum += abs(e[i])
        dqsum += abs(dq)
        dqmax = max(dqmax, abs(dq))
    if pda:
        dp = max(preq - pmin, 0.1)
        for i in range(nj):
            if dfull[i] > 0.0:
                hl, hg = _demand(dem[i], dfull[i], dp, pexp)
                dq = (hl - (h[i] - elev[i] - pmin)) / hg * relax
                if abs(dq) > 0.4 * dfull[i]:
                    dq = 0.4 * dfull[i] * (1.0 if dq > 0 else -1.0)
                dem[i] -= dq
                qsum += abs(dem[i])
                dqsum += abs(dq)
                dqmax = max(dqmax, abs(dq))
    return dqsum, qsum, dqmax, -1


@_njit
def fed_junctions_nb(nj, nn, n1, n2, status):
    """Union-find over open links: True for each junction connected to some tank or reservoir."""
    parent = np.arange(nn)
    for k in range(n1.size):
        if status[k] <= CLOSED:
            continue
        a = n1[k]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = n2[k]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            parent[a] = b
    fed_root = np.zeros(nn, np.bool_)
    for i in range(nj, nn):
        r = i
        while parent[r] != r:
            r = parent[r]
        fed_root[r] = True
    out = np.zeros(nj, np.bool_)
    for i in range(nj):
        r = i
        while parent[r] != r:
            r = parent[r]
        out[i] = fed_root[r]
    return out


@_njit
def _pda_converged(nj, h, elev, dem, dfull, pmin, preq, pexp):
    dp = preq - pmin
    for i in range(nj):
        if dfull[i] <= 0.0:
            continue
        pr_ = h[i] - elev[i]
        if pr_ <= pmin:
            qq = 0.0
        elif pr_ >= preq:
            qq = dfull[i]
        else:
            qq = dfull[i] * ((pr_ - pmin) / dp) ** pexp
        if abs(qq - dem[i]) > QTOL:
            return False
    return True


@_njit
def _bad_valve(node, valves, ltype, n1, n2, status):
    for m in range(valves.size):
        k = valves[m]
        if n1[k] == node or n2[k] == node:
            t = ltype[k]
            if (t == PRV or t == PSV or t == FCV) and status[k] == ACTIVE:
                status[k] = XFCV if t == FCV else XPRESSURE
                return True
            return False
    return False


@_njit
def hydsolve_nb(
    nj, n1, n2, ltype, resist, km, diam, elev, hexp, npipe, slot, diag_slot,
    pumps, ptype, ph0, pr, pn, pcurve, cx, cy, cn, valves, ctrl, is_hp,
    emitters, em_ke, qexp, backflow, pda, pmin, preq, pexp,
    ap, ai, lp, rp, rj, rpos, li, lx, d, yw, perm, xw,
    h, q, status, setting, e, dem, dfull, node_demand, p, y, skip, data, f, xflow, lag, conn,
    prv_psv, status_links, pump_of_link, pump_hmax, pump_is_hp, tank_of_node, v, tank_vmin, tank_vmax,
    tank_overflow, trials, extra, check_freq, max_check, damp_limit, fast_pow, acc, hacc,
):
    """EPANET's hydsolve() loop entirely compiled.  Returns (iterations, relerr, bad row or -1); bad row nj
    (no junction) when a lagged link's end is in a pocket (see _lag_pocket)."""
    nextcheck = check_freq
    maxtrials = trials + (extra if extra > 0 else 0)
    it = 1
    relax = 1.0
    relerr = 0.0
    while it <= maxtrials:
        dqsum, qsum, dqmax, bad = trial_nb(
            nj, n1, n2, ltype, resist, km, diam, elev, hexp, npipe, slot, diag_slot,
            pumps, ptype, ph0, pr, pn, pcurve, cx, cy, cn, valves, ctrl, is_hp,
            emitters, em_ke, qexp, backflow, pda, pmin, preq, pexp,
            ap, ai, lp, rp, rj, rpos, li, lx, d, yw, perm, xw,
            h, q, status, setting, e, dem, dfull, node_demand, p, y, skip, data, f, xflow, lag, conn, relax, fast_pow)
        if bad == -2:  # a lagged link in a pocket: no bad row, but the caller must use the full pattern
            return it, relerr, nj
        if bad >= 0:
            if _bad_valve(bad, valves, ltype, n1, n2, status):
                continue
            return it, relerr, bad
        relerr = dqsum / qsum if qsum > hacc else dqsum
        relax = 1.0
        valve_change = False
        if damp_limit > 0.0:
            if relerr <= damp_limit:
                relax = 0.6
                valve_change = valve_status_nb(prv_psv, ltype, km, elev, n1, n2, q, h, status, setting)
        else:
            valve_change = valve_status_nb(prv_psv, ltype, km, elev, n1, n2, q, h, status, setting)
        conv = relerr <= acc
        if conv and pda:
            conv = _pda_converged(nj, h, elev, dem, dfull, pmin, preq, pexp)
        if conv:
            if it > trials:
                break
            change = valve_change
            if link_status_nb(status_links, ltype, n1, n2, h, q, status, setting, km, pump_of_link, pump_hmax,
                              pump_is_hp, tank_of_node, v, tank_vmin, tank_vmax, tank_overflow):
                change = True
            if not change:
                break
            nextcheck = it + check_freq
        elif it <= max_check and it == nextcheck:
            link_status_nb(status_links, ltype, n1, n2, h, q, status, setting, km, pump_of_link, pump_hmax,
                           pump_is_hp, tank_of_node, v, tank_vmin, tank_vmax, tank_overflow)
            nextcheck += check_freq
        it += 1
    return it, relerr, -1


# ---- period-level steps of the EPS (EPANET's controls(), tanktimestep(), controltimestep(), tanklevels()) ----
LOWLEVEL, HILEVEL, TIMER, TIMEOFDAY = 0, 1, 2, 3


@_njit
def tank_volume_nb(t, h, vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn):
    row = vcurve[t]
    if row < 0:
        return vmin[t] + (h - hmin[t]) * area[t]
    n = cn[row]
    return np.interp(h - elev[tank_node[t]], cx[row, :n], cy[row, :n])


@_njit
def tank_grade_nb(t, v, vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn):
    row = vcurve[t]
    if row < 0:
        return hmin[t] + (v - vmin[t]) / area[t]
    n = cn[row]
    return elev[tank_node[t]] + np.interp(v, cy[row, :n], cx[row, :n])


@_njit
def _round_nb(x):
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


@_njit
def controls_apply_nb(htime, tstart, kind, link, node, grade, ctime, cstatus, csetting, tank_pos,
                      h, node_demand, status, setting, ltype, q, pump_of_link, ptype, pump_q0,
                      vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn):
    count = 0
    nj = nj_of(tank_pos)
    for j in range(kind.size):
        kd = kind[j]
        reset = False
        if kd == TIMER:
            reset = ctime[j] == htime
        elif kd == TIMEOFDAY:
            reset = (htime + tstart) % 86400 == ctime[j]
        else:
            n = node[j]
            if n < nj:
                continue
            t = tank_pos[n]
            vplus = abs(node_demand[n])
            if t >= 0:
                v1 = tank_volume_nb(t, h[n], vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn)
                v2 = tank_volume_nb(t, grade[j], vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn)
            else:
                v1 = h[n]
                v2 = grade[j]
            if kd == LOWLEVEL:
                reset = v1 <= v2 + vplus
            else:
                reset = v1 >= v2 - vplus
        if not reset:
            continue
        k = link[j]
        s1 = CLOSED if status[k] <= CLOSED else OPEN
        s2 = cstatus[j]
        k1 = setting[k]
        k2 = csetting[j] if ltype[k] > 1 else k1
        if ltype[k] == PUMP and s1 == CLOSED and s2 == OPEN:
            m = pump_of_link[k]
            if ptype[m] == CONST_HP:
                q[k] = pump_q0[m]
        if s1 != s2 or k1 != k2:
            status[k] = s2
            setting[k] = k2
            count += 1
    return count


@_njit
def nj_of(tank_pos):
    """Number of junctions, from the node -> tank map (-1 junction, -2 reservoir, >= 0 tank)."""
    for i in range(tank_pos.size):
        if tank_pos[i] != -1:
            return i
    return tank_pos.size


@_njit
def control_timestep_nb(htime, tstart, tstep, kind, link, node, grade, ctime, cstatus, csetting, tank_pos,
                        h, node_demand, v, status, setting, ltype,
                        vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn):
    nj = nj_of(tank_pos)
    for j in range(kind.size):
        kd = kind[j]
        t = 0
        if kd == LOWLEVEL or kd == HILEVEL:
            n = node[j]
            if n < nj:
                continue
            ti = tank_pos[n]
            qn = node_demand[n]
            if ti < 0 or abs(qn) <= 1.0e-6:
                continue
            hn = h[n]
            if (hn < grade[j] and kd == HILEVEL and qn > 0.0) or (hn > grade[j] and kd == LOWLEVEL and qn < 0.0):
                vv = tank_volume_nb(ti, grade[j], vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn) - v[ti]
                t = int(_round_nb(vv / qn))
        elif kd == TIMER:
            if ctime[j] > htime:
                t = ctime[j] - htime
        else:
            t1 = (htime + tstart) % 86400
            t2 = ctime[j]
            t = t2 - t1 if t2 >= t1 else 86400 - t1 + t2
        if t > 0 and t < tstep:
            k = link[j]
            if (ltype[k] > 1 and setting[k] != csetting[j]) or status[k] != cstatus[j]:
                tstep = t
    return tstep


@_njit
def tank_timestep_nb(tstep, tank_node, h, node_demand, v, vmin, vmax, hmin, hmax):
    for t in range(tank_node.size):
        n = tank_node[t]
        qn = node_demand[n]
        if abs(qn) <= 1.0e-6:
            continue
        if qn > 0.0 and h[n] < hmax[t]:
            vv = vmax[t] - v[t]
        elif qn < 0.0 and h[n] > hmin[t]:
            vv = vmin[t] - v[t]
        else:
            continue
        dt = int(_round_nb(vv / qn))
        if dt > 0 and dt < tstep:
            tstep = dt
    return tstep


@_njit
def tank_levels_nb(tstep, tank_node, h, node_demand, v, vmin, vmax, hmin, area, vcurve, elev, cx, cy, cn):
    for t in range(tank_node.size):
        n = tank_node[t]
        qn = node_demand[n]
        vt = v[t] + qn * tstep
        if vt + qn >= vmax[t]:
            vt = vmax[t]
        elif vt - qn <= vmin[t]:  # EPANET's test, as written (see eps.tank_levels)
            vt = vmin[t]
        v[t] = vt
        h[n] = tank_grade_nb(t, vt, vmin, hmin, area, vcurve, tank_node, elev, cx, cy, cn)


NEG_PRESSURE, VALVE_XP, PUMP_XHEAD, PUMP_XFLOW = 1, 2, 4, 8


@_njit
def warning_flags_nb(nj, pda, h, elev, node_demand, valves, pumps, status, q, pump_qmax):
    """Bit mask of the per-period warnings that fire (eps.Simulation._warn builds the element lists)."""
    flags = 0
    if not pda:
        for i in range(nj):
            if h[i] < elev[i] and node_demand[i] > 0.0:
                flags |= NEG_PRESSURE
                break
    for m in range(valves.size):
        s = status[valves[m]]
        if s == XFCV or s == XPRESSURE:
            flags |= VALVE_XP
            break
    for m in range(pumps.size):
        k = pumps[m]
        if status[k] == XHEAD:
            flags |= PUMP_XHEAD
        if status[k] >= OPEN and q[k] > pump_qmax[m]:
            flags |= PUMP_XFLOW
    return flags
