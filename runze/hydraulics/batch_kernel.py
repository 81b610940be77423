"""Compiled fast path of batch mode for emitter (leak) scenarios: compensation on the base factorisation.

A leak scenario differs from the base solution by a few emitters.  Far from the leak the network responds
linearly: every link obeys its base linearisation Δq = P0·Δ(H1 − H2) to within rounding.  Near the leak a
handful of links (and the emitter itself) do not.  So, with the junction matrix J0 = A·P0·Aᵀ of the *converged
base* factorised once (LDLᵀ, the engine's own symbolic factorisation) and shared by every scenario:

1. B = the emitter nodes plus the junction ends of a set S of "nonlinear" links (empty at first).  The
   network's linear response seen from B is R = Mᵀ J0⁻¹ M (M: unit / incidence columns); with J0 = L D Lᵀ,
   R = Wᵀ D⁻¹ W where W = L⁻¹ M is a *sparse* forward solve (only the elimination-tree paths of B).
2. The exact nonlinear laws of the emitters and of S (EPANET's head-loss formulas) plus u = −R·[E; c] give a
   small dense system (|B| unknowns: emitter flows and S-link flow changes) solved by Newton to 1e-10.
3. One back-substitution gives every junction's head change; every other link's flow follows linearly.
4. Every link's linearisation error δ = hl(q) − hl0 − (q − q0)/P0 is evaluated at its new flow (Taylor terms
   when the flow moved < 5 %, or < 12.5 % for power-law pipes with the third-order term; the exact law
   otherwise: the Taylor rest is below 5e-6 of the base head loss either way).  Links whose gradient changed by more than
   20–25 % join S (exact, step 2); the others' δ enter the next pass as flow injections A·P0·δ (one more
   dense forward solve: a chord iteration, contraction ≈ the relative gradient change, a few per cent).
5. Done when a pass adds no link to S, moves no head by more than HEAD_TOL and no δ by more than DELTA_TOL
   (typically 2–3 passes).  A check valve or pump whose flow would reverse, a leak at a node without
   pressure, S growing past MAX_S or no convergence in MAX_PASSES returns "not handled" and the caller
   solves that scenario with the full gradient loop — the answer is never an unverified approximation.

Applicable when the base has no PDA, no emitters of its own and every open link is a pipe (H-W or C-M, check
valves included) or a power-function pump; otherwise batch mode uses the full solver for every scenario.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.compile import CBIG, CLOSED, CVPIPE, PIPE, POWER_FUNC, PUMP, RQTOL, TINY
from runze.hydraulics.fastkernel import pipe_law
from runze.hydraulics.ldl import ldl_numeric_rows

try:
    import numba
except ImportError:  # pragma: no cover
    numba = None

HEAD_TOL = 1.0e-3  # ft: a scenario is done when a pass moves no head by more than this (0.3 mm; the next
DELTA_TOL = 1.0e-4  # ft: pass would move it ~5× less) and no link's linearisation error by more than this
NEWTON_TOL = 1.0e-10
# a link whose head-loss gradient moved outside [RATIO_LO, RATIO_HI] × its base value is solved exactly (S);
# inside, the chord iteration on its δ contracts by |1 − ratio| ≤ 0.25 per pass
RATIO_LO, RATIO_HI = 0.8, 1.25
# δ by Taylor terms instead of the exact law: c2·dq² within 5 % of the base flow (rest ≤ 4.9e-6 of the base head
# loss for H-W), c2·dq² + c3·dq³ within TAYLOR3_SPAN for pipes in the power-law branch (rest ≤ 2.7e-6)
TAYLOR3_SPAN = 0.125
MAX_S = 60  # strongly nonlinear links per scenario before giving up (full solver instead)
MAX_PASSES = 12


def _njit(f):
    return numba.njit(cache=True, nogil=True, error_model="numpy")(f) if numba is not None else f


@_njit
def law_scalar(qs, pump, r, n, h0, mk):
    """EPANET's head loss and gradient at signed flow qs of an open pipe (pump = 0: resistance r, exponent n, minor
    loss mk) or a power-function pump (pump = 1: h0 − r·q^n at its speed, see `law_table`).  Scalars only, so a
    compiled caller passes no arrays (each array argument costs a reference-count pair per call)."""
    q = abs(qs)
    if pump:
        hgrad = n * r * q ** (n - 1.0) if n != 1.0 else r
        if hgrad < RQTOL:
            hgrad = RQTOL
            return h0 + hgrad * qs, hgrad
        return h0 + hgrad * qs / n, hgrad
    return pipe_law(qs, r, mk, n, q ** (n - 1.0) if q > 0.0 else 0.0)


@_njit
def link_law(k, qs, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed):
    """EPANET's head loss and gradient of an open pipe / power-function pump at signed flow qs (ft, ft/cfs)."""
    if ltype[k] == PUMP:
        m = pump_of_link[k]
        s = speed[k]
        n = pump_n[m]
        if abs(n - 1.0) < TINY:
            n = 1.0
        return law_scalar(qs, 1, pump_r[m] * s ** (2.0 - n), n, s * s * pump_h0[m], 0.0)
    return law_scalar(qs, 0, resist[k], hexp, 0.0, km[k])


def law_table(c, pump_of_link: np.ndarray, speed: np.ndarray) -> np.ndarray:
    """(nl, 5) parameters of `law_scalar` per link (pump flag, r, n, h0, mk) at the given pump speeds."""
    tab = np.zeros((c.nl, 5))
    tab[:, 1] = c.resist
    tab[:, 2] = c.hexp
    tab[:, 4] = c.km
    for k in np.flatnonzero(c.ltype == PUMP):
        m = pump_of_link[k]
        s = float(speed[k])
        n = 1.0 if abs(c.pump_n[m] - 1.0) < TINY else float(c.pump_n[m])
        # a pump at speed 0 is closed (never evaluated); 0 ** (2 - n) would divide by zero for n > 2
        r = c.pump_r[m] * s ** (2.0 - n) if s > 0.0 else 0.0
        tab[k] = (1.0, r, n, s * s * c.pump_h0[m], 0.0)
    return tab


@_njit
def half_curvature(k, qs, ltype, resist, km, hexp, pump_of_link, pump_r, pump_n, speed):
    """h''(q)/2 of the same laws (0 in EPANET's linear low-flow branch, where the exact law is used instead)."""
    q = abs(qs)
    if q == 0.0:
        return 0.0
    if ltype[k] == PUMP:
        m = pump_of_link[k]
        n = pump_n[m]
        if abs(n - 1.0) < TINY:
            return 0.0
        r = pump_r[m] * speed[k] ** (2.0 - n)
        if n * r * q ** (n - 1.0) < RQTOL:
            return 0.0
        c = 0.5 * n * (n - 1.0) * r * q ** (n - 2.0)
    else:
        n = hexp
        if n * resist[k] * q ** (n - 1.0) < RQTOL:
            return 0.0
        c = 0.5 * n * (n - 1.0) * resist[k] * q ** (n - 2.0) + km[k]
    return c if qs > 0.0 else -c


@_njit
def base_linearisation(nj, n1, n2, status, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed,
                       q0, slot, diag_slot, data, p0, hl0, c2):
    """P0 = 1/hgrad, head loss and h''/2 of every link at the base flows; the matrix J0 = A·P0·Aᵀ (slot data)."""
    data[:] = 0.0
    for k in range(n1.size):
        if status[k] <= CLOSED:
            p0[k] = 1.0 / CBIG
            hl0[k] = 0.0
            c2[k] = 0.0
        else:
            hl, hg = link_law(k, q0[k], ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed)
            p0[k] = 1.0 / hg
            hl0[k] = hl
            c2[k] = half_curvature(k, q0[k], ltype, resist, km, hexp, pump_of_link, pump_r, pump_n, speed)
        a = n1[k]
        b = n2[k]
        if a < nj:
            data[diag_slot[a]] += p0[k]
        if b < nj:
            data[diag_slot[b]] += p0[k]
        if slot[k] >= 0:
            data[slot[k]] -= p0[k]


@_njit
def _dense_solve(a, b, n):
    """Solve a[:n, :n]·x = b[:n] in place (b becomes x) by Gaussian elimination with partial pivoting; a is
    overwritten.  The systems are small (2·|B|) and solved many times: this avoids LAPACK's per-call cost."""
    for col in range(n):
        piv = col
        best = abs(a[col, col])
        for r in range(col + 1, n):
            if abs(a[r, col]) > best:
                best = abs(a[r, col])
                piv = r
        if best == 0.0:
            return False
        if piv != col:
            for c in range(n):
                t = a[col, c]
                a[col, c] = a[piv, c]
                a[piv, c] = t
            t = b[col]
            b[col] = b[piv]
            b[piv] = t
        inv = 1.0 / a[col, col]
        for r in range(col + 1, n):
            f = a[r, col] * inv
            if f != 0.0:
                for c in range(col + 1, n):
                    a[r, c] -= f * a[col, c]
                b[r] -= f * b[col]
    for r in range(n - 1, -1, -1):
        acc = b[r]
        for c in range(r + 1, n):
            acc -= a[r, c] * b[c]
        b[r] = acc / a[r, r]
    return True


@_njit
def _forward_sparse(ncols, col_node1, col_node2, col_sign2, iperm, parent, lp, li, lx, mark, w, reach_ptr,
                    reach_idx, reach_val):
    """W = L⁻¹·M for the columns of M (+1 at node1, sign2 at node2; -1 = no node), stored compressed."""
    nnz = 0
    stamp_base = 1
    for c in range(ncols):
        reach_ptr[c] = nnz
        stamp = stamp_base + c
        start = nnz
        for side in range(2):
            node = col_node1[c] if side == 0 else col_node2[c]
            if node < 0:
                continue
            j = iperm[node]
            w[j] += 1.0 if side == 0 else col_sign2[c]
            while j >= 0 and mark[j] != stamp:
                mark[j] = stamp
                reach_idx[nnz] = j
                nnz += 1
                j = parent[j]
        reach_idx[start:nnz] = np.sort(reach_idx[start:nnz])
        for t in range(start, nnz):
            j = reach_idx[t]
            wj = w[j]
            if wj != 0.0:
                for p in range(lp[j], lp[j + 1]):
                    w[li[p]] -= lx[p] * wj
        for t in range(start, nnz):
            j = reach_idx[t]
            reach_val[t] = w[j]
            w[j] = 0.0
    reach_ptr[ncols] = nnz
    return stamp_base + ncols


@_njit
def solve_leak(nj, nn, n1, n2, status, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed,
               elev, h0, q0, p0, hl0, c2, c3, lp, li, lx, d, perm, iperm, parent, em_node, em_ke, qexp, h_out, q_out,
               e_out, mark, w, x, yg, in_s, delta, reach_ptr, reach_idx, reach_val, s_links):
    """One emitter scenario on the base factorisation.  Returns (passes, |S|) or (-1, reason) when not handled."""
    m = em_node.size
    nl = n1.size
    ns = 0
    maxcols = m + MAX_S
    col1 = np.empty(maxcols, np.int64)
    col2 = np.empty(maxcols, np.int64)
    sign2 = np.empty(maxcols)
    dq_s = np.zeros(MAX_S)
    e_cur = np.empty(m)
    for a in range(m):
        i = em_node[a]
        col1[a] = i
        col2[a] = -1
        sign2[a] = 0.0
        if h0[i] - elev[i] <= 0.0:
            return -1, 1  # no pressure at the leak: the emitter law's barrier region, full solver
        e_cur[a] = ((h0[i] - elev[i]) / em_ke[a]) ** (1.0 / qexp)
    for lk in range(nl):
        delta[lk] = 0.0
    for j in range(nn):
        h_out[j] = h0[j]
    need_w = True
    use_g = False
    R = np.zeros((1, 1))
    toff = np.zeros(maxcols)
    result = -1
    reason = 6
    for it_pass in range(MAX_PASSES):
        k = m + ns
        if need_w:
            for t in range(ns):
                lk = s_links[t]
                col1[m + t] = n1[lk] if n1[lk] < nj else -1
                col2[m + t] = n2[lk] if n2[lk] < nj else -1
                sign2[m + t] = -1.0
            _forward_sparse(k, col1, col2, sign2, iperm, parent, lp, li, lx, mark, w, reach_ptr, reach_idx, reach_val)
            for t in range(reach_ptr[k]):
                mark[reach_idx[t]] = 0
            R = np.zeros((k, k))
            for a in range(k):
                for t in range(reach_ptr[a], reach_ptr[a + 1]):
                    w[reach_idx[t]] = reach_val[t] / d[reach_idx[t]]
                for b in range(a, k):
                    acc = 0.0
                    for t in range(reach_ptr[b], reach_ptr[b + 1]):
                        acc += w[reach_idx[t]] * reach_val[t]
                    R[a, b] = acc
                    R[b, a] = acc
                for t in range(reach_ptr[a], reach_ptr[a + 1]):
                    w[reach_idx[t]] = 0.0
            need_w = False
        # the mild links' linearisation errors δ act as flow injections g = A·(P0·δ): yg = L⁻¹·g (dense)
        for j in range(nj):
            yg[j] = 0.0
        if use_g:
            for lk in range(nl):
                v = p0[lk] * delta[lk]
                if v != 0.0:
                    if n1[lk] < nj:
                        yg[iperm[n1[lk]]] += v
                    if n2[lk] < nj:
                        yg[iperm[n2[lk]]] -= v
            for j in range(nj):
                yj = yg[j]
                if yj != 0.0:
                    for p in range(lp[j], lp[j + 1]):
                        yg[li[p]] -= lx[p] * yj
        for a in range(k):
            acc = 0.0
            if use_g:
                for t in range(reach_ptr[a], reach_ptr[a + 1]):
                    acc += reach_val[t] * yg[reach_idx[t]] / d[reach_idx[t]]
            toff[a] = acc
        # reduced system in z = [E (m), dq_S (ns)]: the exact laws give u(z) (head change at each emitter,
        # head-loss change of each S link), and the network's linear response requires
        # F(z) = u(z) + R·(z − Π·u(z)) − toff = 0  (Π = P0 on the S entries, 0 on the emitters)
        z = np.empty(k)
        for a in range(m):
            z[a] = e_cur[a]
        for t in range(ns):
            z[m + t] = dq_s[t]
        u = np.empty(k)
        du = np.empty(k)
        pi = np.zeros(k)
        for t in range(ns):
            pi[m + t] = p0[s_links[t]]
        J = np.empty((k, k))
        G = np.empty(k)
        ok = False
        for _newton in range(50):
            for a in range(m):
                i = em_node[a]
                e = z[a]
                if e <= 0.0:
                    return -1, 2
                u[a] = em_ke[a] * e**qexp - (h0[i] - elev[i])
                du[a] = qexp * em_ke[a] * e ** (qexp - 1.0)
            for t in range(ns):
                lk = s_links[t]
                hl, hg = link_law(lk, q0[lk] + z[m + t], ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r,
                                  pump_n, speed)
                u[m + t] = hl - hl0[lk]
                du[m + t] = hg
            gmax = 0.0
            for a in range(k):
                acc = u[a] - toff[a]
                for b in range(k):
                    acc += R[a, b] * (z[b] - pi[b] * u[b])
                    J[a, b] = R[a, b] * (1.0 - pi[b] * du[b])
                J[a, a] += du[a]
                G[a] = acc
                if abs(acc) > gmax:
                    gmax = abs(acc)
            if not _dense_solve(J, G, k):
                return -1, 3
            dzmax = 0.0
            for r in range(k):
                z[r] -= G[r]
                if abs(G[r]) > dzmax:
                    dzmax = abs(G[r])
            if gmax < NEWTON_TOL and dzmax < 1e-9:
                ok = True
                break
        if not ok:
            return -1, 3
        # u at the solution (for the injections below)
        for a in range(m):
            u[a] = em_ke[a] * z[a] ** qexp - (h0[em_node[a]] - elev[em_node[a]])
        for t in range(ns):
            lk = s_links[t]
            hl, hg = link_law(lk, q0[lk] + z[m + t], ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n,
                              speed)
            u[m + t] = hl - hl0[lk]
        for a in range(m):
            e_cur[a] = z[a]
        for t in range(ns):
            dq_s[t] = z[m + t]
        # junction head changes: x = L⁻ᵀ D⁻¹ (Σ_a coef_a W_a + yg), coef = −[E; c], c = dq_S − P0_S·v
        for j in range(nj):
            x[j] = yg[j]
        for a in range(k):
            coef = -(z[a] - pi[a] * u[a])
            for t in range(reach_ptr[a], reach_ptr[a + 1]):
                x[reach_idx[t]] += coef * reach_val[t]
        for j in range(nj):
            x[j] /= d[j]
        for j in range(nj - 1, -1, -1):
            acc = x[j]
            for p in range(lp[j], lp[j + 1]):
                acc -= lx[p] * x[li[p]]
            x[j] = acc
        hchange = 0.0
        for j in range(nj):
            old = perm[j]
            hnew = h0[old] + x[j]
            if abs(hnew - h_out[old]) > hchange:
                hchange = abs(hnew - h_out[old])
            h_out[old] = hnew
        # every link: flow of the model just solved, then its linearisation error at that flow
        added = 0
        dchange = 0.0
        for lk in range(nl):
            a = n1[lk]
            b = n2[lk]
            dh = (h_out[a] - h0[a]) - (h_out[b] - h0[b])
            if in_s[lk] > 0:
                q = q0[lk] + dq_s[in_s[lk] - 1]
            else:
                q = q0[lk] + p0[lk] * (dh - delta[lk])
            if status[lk] <= CLOSED:
                q_out[lk] = 0.0
                continue
            q_out[lk] = q
            t = ltype[lk]
            if (t == CVPIPE or t == PUMP) and q < 0.0:
                return -1, 4  # a check valve / pump would close: status change, full solver
            if in_s[lk] > 0:
                continue
            dq = q - q0[lk]
            aq = abs(q0[lk])
            if abs(dq) <= (TAYLOR3_SPAN if c3[lk] != 0.0 else 0.05) * aq and p0[lk] * c2[lk] != 0.0:
                dnew = dq * dq * (c2[lk] + c3[lk] * dq)  # Taylor terms (see TAYLOR3_SPAN)
            elif dq == 0.0:
                dnew = 0.0
            else:
                hl, hg = link_law(lk, q, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed)
                ratio = hg * p0[lk]
                if ratio < RATIO_LO or ratio > RATIO_HI:
                    if ns + added >= MAX_S:
                        return -1, 5
                    s_links[ns + added] = lk
                    dq_s[ns + added] = dq
                    added += 1
                    in_s[lk] = ns + added
                    if abs(delta[lk]) > dchange:
                        dchange = abs(delta[lk])
                    delta[lk] = 0.0
                    continue
                dnew = hl - hl0[lk] - dq / p0[lk]
            if abs(dnew - delta[lk]) > dchange:
                dchange = abs(dnew - delta[lk])
            delta[lk] = dnew
        if added:
            ns += added
            need_w = True
        use_g = True
        # done when the pass just solved used S and δ that the sweep confirms (the next pass would move heads by
        # about the δ change, below DELTA_TOL); the first pass (pure linear response) always gets a second
        if added == 0 and it_pass > 0 and dchange < DELTA_TOL and (hchange < HEAD_TOL or dchange < 0.1 * DELTA_TOL):
            result = it_pass + 1
            reason = ns
            break
    for a in range(m):
        e_out[em_node[a]] = e_cur[a]
    for t in range(ns):
        in_s[s_links[t]] = 0
    return result, reason


@_njit
def solve_leaks(nj, nn, n1, n2, status, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed,
                elev, h0, q0, p0, hl0, c2, c3, lp, li, lx, d, perm, iperm, parent, em_ptr, em_node, em_ke, qexp, H, Q, E,
                passes, info):
    """Every scenario s (emitters em_node[em_ptr[s]:em_ptr[s+1]]) in one compiled loop; passes[s] = -1: not handled."""
    nl = n1.size
    mark = np.zeros(nj, np.int64)
    w = np.zeros(nj)
    x = np.zeros(nj)
    yg = np.zeros(nj)
    in_s = np.zeros(nl, np.int64)
    delta = np.zeros(nl)
    maxm = 1
    for s in range(em_ptr.size - 1):
        if em_ptr[s + 1] - em_ptr[s] > maxm:
            maxm = em_ptr[s + 1] - em_ptr[s]
    maxcols = maxm + MAX_S
    reach_ptr = np.empty(maxcols + 1, np.int64)
    reach_idx = np.empty(maxcols * nj, np.int64)
    reach_val = np.empty(maxcols * nj)
    s_links = np.empty(MAX_S, np.int64)
    for s in range(em_ptr.size - 1):
        a, b = em_ptr[s], em_ptr[s + 1]
        if b == a:  # no emitter: the caller copies the base solution
            passes[s] = 0
            info[s] = 0
            continue
        r, why = solve_leak(nj, nn, n1, n2, status, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n,
                            speed, elev, h0, q0, p0, hl0, c2, c3, lp, li, lx, d, perm, iperm, parent, em_node[a:b],
                            em_ke[a:b], qexp, H[s], Q[s], E[s], mark, w, x, yg, in_s, delta, reach_ptr, reach_idx,
                            reach_val, s_links)
        for lk in range(nl):
            in_s[lk] = 0
        passes[s] = r
        info[s] = why


def third_order(c, status, q0) -> np.ndarray:
    """h'''/6 of every open pipe at its base flow (0 for pumps, C-M pipes, and pipes near EPANET's linear
    low-flow branch, which keep the 5 % second-order window)."""
    n = c.hexp
    q = np.abs(q0)
    c3 = np.zeros(q.size)
    pipe = (status > CLOSED) & (c.ltype != PUMP) & (q > 0.0)
    if n == 2.0 or not pipe.any():
        return c3
    qp, r = q[pipe], c.resist[pipe]
    powered = n * r * qp ** (n - 1.0) * (1.0 - TAYLOR3_SPAN) ** (n - 1.0) >= 1.2 * RQTOL  # whole window in it
    c3[np.flatnonzero(pipe)[powered]] = n * (n - 1.0) * (n - 2.0) / 6.0 * r[powered] * qp[powered] ** (n - 3.0)
    return c3


class LowRankSolver:
    """Per-engine wrapper: base linearisation and factor per time; `solve` returns None when not handled."""

    @staticmethod
    def applicable(engine) -> bool:
        c = engine.c
        if numba is None or c.pda or engine.base_emitters.size or engine.kernel.factor.backend != "ldl":
            return False
        if c.headloss == "D-W":
            return False
        if c.valves.size:
            return False
        return bool(np.all(c.ptype == POWER_FUNC)) if c.pumps.size else True

    def __init__(self, engine) -> None:
        self.engine = engine
        c = engine.c
        k = engine.kernel
        self.sym = k.factor._sym
        self.iperm = np.empty(c.nj, np.int64)
        self.iperm[self.sym.perm] = np.arange(c.nj)
        self.full_pattern = (self.sym, self.iperm, k.slot, k.pattern.diag_slot, k.pattern.nnz)
        self.pump_of_link = np.full(c.nl, -1, np.int64)
        self.pump_of_link[c.pumps] = np.arange(c.pumps.size)
        self.per_time: dict[int, tuple] = {}
        self.handled = 0
        self.fallbacks = 0

    def _prepare(self, time: int, base):
        if time in self.per_time:
            return self.per_time[time]
        eng, c = self.engine, self.engine.c
        # the base must be converged tightly: every scenario inherits its residual
        st = base.copy()
        eng._set_emitters(eng.base_emitters, eng.base_em_ke)
        info = eng.kernel.hydsolve(st, 1e-10)
        if not info.converged and info.relerr > 1e-8:
            self.per_time[time] = None
            return None
        status = st.status.copy()
        sym, iperm, slot, diag_slot, nnz = self.matrix_pattern(status)
        data = np.zeros(nnz)
        p0 = np.zeros(c.nl)
        hl0 = np.zeros(c.nl)
        c2 = np.zeros(c.nl)
        for k in np.flatnonzero(status > CLOSED):  # only pipes and pumps may be open here (applicable())
            if c.ltype[k] not in (PIPE, CVPIPE, PUMP):
                self.per_time[time] = None
                return None
        base_linearisation(c.nj, c.n1, c.n2, status, c.ltype, c.resist, c.km, c.hexp, self.pump_of_link,
                           c.pump_h0, c.pump_r, c.pump_n, st.setting, st.Q, slot, diag_slot, data, p0, hl0, c2)
        lx = np.empty_like(sym.lx)
        d = np.empty(c.nj)
        y = np.zeros(c.nj)
        bad = ldl_numeric_rows(sym.n, sym.ap, sym.ai, data, sym.lp, sym.rp, sym.rj, sym.rpos, sym.li, lx, d, y)
        if bad >= 0:
            self.per_time[time] = None
            return None
        c3 = third_order(c, status, st.Q)
        prep = (st, status, p0, hl0, c2, c3, lx, d, sym, iperm)
        self.per_time[time] = prep
        return prep

    def matrix_pattern(self, status: np.ndarray) -> tuple:
        """(symbolic LDLᵀ, inverse ordering, link slots, diagonal slots, nnz) of J0 for the base `status`: the
        engine's full pattern here; `InverseSolver` leaves closed pipes out."""
        return self.full_pattern

    def solve_many(self, plans, time: int, base):
        """Raw (H, Q, E, passes) for `plans` (emitter-only); passes −1 where the full solver must take over."""
        c = self.engine.c
        prep = self._prepare(time, base)
        if prep is None:
            return None
        st, status, p0, hl0, c2, c3, lx, d, sym, iperm = prep
        n = len(plans)
        em_ptr = np.zeros(n + 1, np.int64)
        em_ptr[1:] = np.cumsum([p.em_node.size for p in plans])
        em_node = np.concatenate([p.em_node for p in plans]) if n else np.zeros(0, np.int64)
        em_ke = np.concatenate([p.em_ke for p in plans]) if n else np.zeros(0)
        H = np.empty((n, c.nn))
        Q = np.empty((n, c.nl))
        E = np.zeros((n, c.nj))
        passes = np.zeros(n, np.int64)
        info = np.zeros(n, np.int64)
        solve_leaks(c.nj, c.nn, c.n1, c.n2, status, c.ltype, c.resist, c.km, c.hexp, self.pump_of_link, c.pump_h0,
                    c.pump_r, c.pump_n, st.setting, c.elev, st.H, st.Q, p0, hl0, c2, c3, sym.lp, sym.li, lx, d, sym.perm,
                    iperm, sym.parent, em_ptr, em_node.astype(np.int64), em_ke.astype(float), c.qexp, H, Q, E,
                    passes, info)
        base_rows = em_ptr[1:] == em_ptr[:-1]  # no emitter at all: the base itself
        if base_rows.any():
            H[base_rows] = st.H
            Q[base_rows] = np.where(status <= CLOSED, 0.0, st.Q)
            E[base_rows] = 0.0
            passes[base_rows] = 0
        self.handled += int((passes >= 0).sum())
        self.fallbacks += int((passes < 0).sum())
        return H, Q, E, passes, info
