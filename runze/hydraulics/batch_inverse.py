"""Batch leak kernel on the dense inverse of the base junction matrix: many emitter scenarios in lock-step.

The compensation method of `batch_kernel.py` (read its docstring first) spends most of its time on work that
does not depend on the scenario: sparse forward solves W = L⁻¹M for every emitter / nonlinear link of every
scenario, and triangular solves and a link sweep per pass, one scenario at a time.  When the base junction
matrix is small enough to invert densely (nj² doubles ≤ MAX_DENSE_BYTES: the demo city's 1,328 junctions take
14 MB), this module instead

* computes Z = J0⁻¹ once per time (a blocked multi-RHS LDLᵀ solve; Z is symmetric, stored by rows);
* takes the reduced response R = Mᵀ Z M of a scenario's emitters and nonlinear links S from Z (four look-ups
  per entry, only the entries of newly added S links per pass) instead of sparse forward solves;
* advances BLOCK scenarios ("lanes") in lock-step passes.  Per pass, all lanes at once: the chord injections
  J0⁻¹·(A·P0·δ) and the head changes J0⁻¹·(A·P0·δ + M·coef) as multi-RHS substitutions, and the link sweep
  (flows, Taylor linearisation errors), all vectorised across the lanes (element-major arrays); the few
  (lane, link) pairs that need the exact rules (links in S, flow outside the Taylor window, a check valve
  reversing) are then handled one by one.  Per lane: the small dense Newton system (chord Jacobian, re-factorised when
  convergence slows).  A lane whose scenario is done writes its heads and flows out and takes the next one.

The iteration, its nonlinear-link rule, its tolerances and its acceptance test are those of
`batch_kernel.solve_leak` (same passes and S sets; heads agree to ~1e-11 ft); a scenario it cannot verify is
returned as "not handled" (passes −1) and batch mode solves it with the full gradient loop.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.batch_kernel import (
    DELTA_TOL,
    HEAD_TOL,
    MAX_PASSES,
    MAX_S,
    NEWTON_TOL,
    RATIO_HI,
    RATIO_LO,
    TAYLOR3_SPAN,
    LowRankSolver,
    _njit,
    link_law,
    numba,
)
from runze.hydraulics.compile import CLOSED, CVPIPE, PUMP

MAX_DENSE_BYTES = 200e6  # Z = J0⁻¹ is used only up to this size (nj ≤ 5,000); larger networks: batch_kernel


def _njit_inline(f):
    return numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")(f) if numba is not None else f


BLOCK = 32  # lanes: scenarios advanced in lock-step (one multi-RHS substitution, one vectorised sweep)


@_njit
def dense_inverse(n, lp, li, lx, d, z, width):
    """Z = L⁻ᵀ D⁻¹ L⁻¹ (the inverse of J0 in the factorisation's ordering), row-major n×n.  Computed `width`
    columns at a time in a contiguous buffer that stays in cache (the whole of Z does not)."""
    buf = np.zeros((n, width))
    for c0 in range(0, n, width):
        w = min(width, n - c0)
        buf[:, :] = 0.0
        for c in range(w):
            buf[c0 + c, c] = 1.0
        for j in range(c0, n):  # Y = L⁻¹: row j of Y is zero in columns > j
            top = min(w, j - c0 + 1)
            for p in range(lp[j], lp[j + 1]):
                r = li[p]
                f = lx[p]
                for c in range(top):
                    buf[r, c] -= f * buf[j, c]
        for j in range(c0, n):
            inv = 1.0 / d[j]
            for c in range(w):
                buf[j, c] *= inv
        for j in range(n - 1, c0 - 1, -1):  # rows above the block: from the earlier blocks (Z is symmetric)
            for p in range(lp[j], lp[j + 1]):
                r = li[p]
                f = lx[p]
                for c in range(w):
                    buf[j, c] -= f * buf[r, c]
        for c in range(w):  # the block's columns stored as rows (contiguous look-ups later)
            for j in range(c0):
                z[c0 + c, j] = z[j, c0 + c]
            for j in range(c0, n):
                z[c0 + c, j] = buf[j, c]


@_njit
def multi_solve(n, lp, li, lx, d, g, na):
    """g[:, :na] ← J0⁻¹ g[:, :na] (permuted ordering): one substitution for all columns, vectorised across them."""
    for j in range(n):
        for p in range(lp[j], lp[j + 1]):
            r = li[p]
            f = lx[p]
            for c in range(na):
                g[r, c] -= f * g[j, c]
    for j in range(n):
        inv = 1.0 / d[j]
        for c in range(na):
            g[j, c] *= inv
    for j in range(n - 1, -1, -1):
        for p in range(lp[j], lp[j + 1]):
            r = li[p]
            f = lx[p]
            for c in range(na):
                g[j, c] -= f * g[r, c]


@_njit
def _lu_factor(a, piv, n):
    """In-place LU with partial pivoting of a[:n, :n] (small systems, reused across chord iterations)."""
    for col in range(n):
        p = col
        best = abs(a[col, col])
        for r in range(col + 1, n):
            if abs(a[r, col]) > best:
                best = abs(a[r, col])
                p = r
        if best == 0.0:
            return False
        piv[col] = p
        if p != col:
            for c in range(n):
                t = a[col, c]
                a[col, c] = a[p, c]
                a[p, c] = t
        inv = 1.0 / a[col, col]
        for r in range(col + 1, n):
            f = a[r, col] * inv
            a[r, col] = f
            if f != 0.0:
                for c in range(col + 1, n):
                    a[r, c] -= f * a[col, c]
    return True


@_njit
def _lu_solve(a, piv, b, n):
    for col in range(n):  # the factorisation swapped whole rows (multipliers included): permute b first
        p = piv[col]
        if p != col:
            t = b[col]
            b[col] = b[p]
            b[p] = t
    for col in range(n):
        for r in range(col + 1, n):
            b[r] -= a[r, col] * b[col]
    for r in range(n - 1, -1, -1):
        acc = b[r]
        for c in range(r + 1, n):
            acc -= a[r, c] * b[c]
        b[r] = acc / a[r, r]


@_njit
def _zz(z, i, j):
    return z[i, j] if i >= 0 and j >= 0 else 0.0


@_njit
def _lane_newton(c, g, g2, z_inv, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed, elev, h0,
                 q0, p0, hl0, ip1, ip2, em_node, em_ke, qexp, e_cur, s_links, dq_s, col1, col2, sign2, rm, nr, ns,
                 lu, piv):
    """The small system of one lane: emitters and nonlinear links S exact, the rest through R = Mᵀ Z M and the
    solved injections g[:, c] = J0⁻¹·A·P0·δ.  Adds M·coef to g2[:, c] (so that J0⁻¹·g2 is the head change).
    Returns 0, or the "not handled" reason (2: emitter flow ≤ 0, 3: Newton failed)."""
    m = em_node.size
    k = m + ns
    for a in range(nr, k):  # R: only the columns added since the last pass
        if a >= m:
            lk = s_links[a - m]
            col1[a] = ip1[lk]
            col2[a] = ip2[lk]
            sign2[a] = -1.0
        for b in range(a + 1):
            v = _zz(z_inv, col1[a], col1[b]) + sign2[b] * _zz(z_inv, col1[a], col2[b]) \
                + sign2[a] * (_zz(z_inv, col2[a], col1[b]) + sign2[b] * _zz(z_inv, col2[a], col2[b]))
            rm[a, b] = v
            rm[b, a] = v
    toff = np.empty(k)
    for a in range(k):
        v = g[col1[a], c] if col1[a] >= 0 else 0.0
        if col2[a] >= 0:
            v += sign2[a] * g[col2[a], c]
        toff[a] = v
    # F(z) = u(z) + R·(z − Π·u(z)) − toff = 0 in z = [E, dq_S]; chord Newton (Jacobian refreshed when slow)
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
    rhs = np.empty(k)
    zprev = np.empty(k)
    wv = np.empty(k)
    ok = False
    fresh = True
    stale_step = False
    prev = np.inf
    for _newton in range(60):
        neg = False
        for a in range(m):
            i = em_node[a]
            e = z[a]
            if e <= 0.0:
                neg = True
                break
            t = em_ke[a] * e ** (qexp - 1.0)  # one power for the law and its gradient
            u[a] = t * e - (h0[i] - elev[i])
            du[a] = qexp * t
        if neg:
            if not stale_step:
                return 2
            for r in range(k):  # a step on the frozen Jacobian overshot: retake it on a fresh one
                z[r] = zprev[r]
            fresh = True
            stale_step = False
            continue
        for t in range(ns):
            lk = s_links[t]
            hl, hg = link_law(lk, q0[lk] + z[m + t], ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r,
                              pump_n, speed)
            u[m + t] = hl - hl0[lk]
            du[m + t] = hg
        for b in range(k):
            wv[b] = z[b] - pi[b] * u[b]
        gmax = 0.0
        for a in range(k):
            acc = u[a] - toff[a]
            ra = rm[a]
            for b in range(k):
                acc += ra[b] * wv[b]
            rhs[a] = acc
            if abs(acc) > gmax:
                gmax = abs(acc)
        if fresh or gmax > 0.25 * prev:
            for b in range(k):
                wv[b] = 1.0 - pi[b] * du[b]
            for a in range(k):
                ra = rm[a]
                la = lu[a]
                for b in range(k):
                    la[b] = ra[b] * wv[b]
                la[a] += du[a]
            if not _lu_factor(lu, piv, k):
                return 3
            fresh = False
            stale_step = False
        else:
            stale_step = True
        prev = gmax
        _lu_solve(lu, piv, rhs, k)
        dzmax = 0.0
        for r in range(k):
            if abs(rhs[r]) > dzmax:
                dzmax = abs(rhs[r])
        if gmax < NEWTON_TOL and dzmax < 1e-9:
            ok = True  # z (residual < NEWTON_TOL, evaluated) and its u are the answer: no re-evaluation
            break
        for r in range(k):
            zprev[r] = z[r]
            z[r] -= rhs[r]
    if not ok:
        return 3
    for a in range(m):
        e_cur[a] = z[a]
    for t in range(ns):
        dq_s[t] = z[m + t]
    for a in range(k):  # coef = −[E; dq_S − P0_S·u_S] injected at the columns' nodes
        coef = -(z[a] - pi[a] * u[a])
        if col1[a] >= 0:
            g2[col1[a], c] += coef
        if col2[a] >= 0:
            g2[col2[a], c] += coef * sign2[a]
    return 0


@_njit_inline
def _lane_exception(c, lk, kd, q, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed, q0, p0,
                    hl0, c2, c3, tlim, delta, ins, qb, s_links, dq_s, ns, added, dch):
    """A link the vectorised sweep left to the exact rules (in S, outside the Taylor window, check valve reversing).
    Returns 0, or the "not handled" reason (4: a check valve / pump would close, 5: S too large)."""
    isl = ins[lk, c]
    if isl > 0:
        q = q0[lk] + dq_s[isl - 1]
        qb[lk, c] = q
        return 4 if kd == 2 and q < 0.0 else 0
    qb[lk, c] = q
    if kd == 2 and q < 0.0:
        return 4  # status change: full solver
    dq = q - q0[lk]
    if abs(dq) <= tlim[lk]:
        dnew = dq * dq * (c2[lk] + c3[lk] * dq)
    elif dq == 0.0:
        dnew = 0.0
    else:
        hl, hg = link_law(lk, q, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed)
        ratio = hg * p0[lk]
        if ratio < RATIO_LO or ratio > RATIO_HI:
            n = ns + added[c]
            if n >= MAX_S:
                return 5
            s_links[n] = lk
            dq_s[n] = dq
            added[c] += 1
            ins[lk, c] = n + 1
            if abs(delta[lk, c]) > dch[c]:
                dch[c] = abs(delta[lk, c])
            delta[lk, c] = 0.0
            return 0
        dnew = hl - hl0[lk] - dq / p0[lk]
    dd = abs(dnew - delta[lk, c])
    if dd > dch[c]:
        dch[c] = dd
    delta[lk, c] = dnew
    return 0


@_njit
def solve_leaks_lanes(nj, nn, n1, n2, kind, ip1, ip2, tlim, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r,
                      pump_n, speed, elev, h0, q0, p0, hl0, c2, c3, lp, li, lx, d, perm, iperm, z_inv, em_ptr, em_node,
                      em_ke, qexp, H, Q, E, passes, info, nb):
    """Every scenario s (emitters em_node[em_ptr[s]:em_ptr[s+1]]) on a pool of `nb` lanes advanced in lock-step;
    a lane whose scenario is done (or not handled) takes the next one.  passes[s] = −1: not handled (info[s] =
    reason); 0: no emitter (the caller copies the base solution)."""
    nl = n1.size
    nscen = em_ptr.size - 1
    maxm = 1
    for s in range(nscen):
        maxm = max(maxm, em_ptr[s + 1] - em_ptr[s])
    maxcols = maxm + MAX_S
    # per lane, element-major (lanes contiguous: the sweep and the substitutions vectorise across lanes)
    dh = np.zeros((nn, nb))
    delta = np.zeros((nl, nb))
    ins = np.zeros((nl, nb), np.int8)  # 1 + position in the lane's S (MAX_S < 127), 0: not in S
    qb = np.zeros((nl, nb))
    g = np.zeros((nj, nb))
    g2 = np.zeros((nj, nb))
    hch = np.zeros(nb)
    dch = np.zeros(nb)
    added = np.zeros(nb, np.int64)
    # per lane, scenario state
    lane_s = np.full(nb, -1, np.int64)
    lane_pass = np.zeros(nb, np.int64)
    fail = np.zeros(nb, np.int64)
    e_cur = np.zeros((nb, maxm))
    s_links = np.zeros((nb, MAX_S), np.int64)
    dq_s = np.zeros((nb, MAX_S))
    col1 = np.full((nb, maxcols), -1, np.int64)
    col2 = np.full((nb, maxcols), -1, np.int64)
    sign2 = np.zeros((nb, maxcols))
    rm = np.zeros((nb, maxcols, maxcols))
    nr = np.zeros(nb, np.int64)
    ns = np.zeros(nb, np.int64)
    lu = np.zeros((maxcols, maxcols))
    piv = np.zeros(maxcols, np.int64)
    passes[:] = -1
    info[:] = 6
    fin_c = np.zeros(nb, np.int64)  # lanes finished in this round, and their scenario (−1: not handled)
    fin_s = np.zeros(nb, np.int64)
    nw = (nb + 7) // 8
    excl = np.zeros(nw * 8, np.int8)  # lanes a link leaves to the exact rules, scanned 8 at a time
    excl_w = excl.view(np.uint64)
    keep = np.zeros(nb, np.bool_)  # False for a lane's first pass: its columns still hold the previous scenario's
    next_s = 0
    active = 0
    while True:
        # fill free lanes with the next scenarios
        for c in range(nb):
            if lane_s[c] >= 0:
                continue
            while next_s < nscen and lane_s[c] < 0:
                s = next_s
                next_s += 1
                a0, a1 = em_ptr[s], em_ptr[s + 1]
                if a1 == a0:
                    passes[s] = 0
                    info[s] = 0
                    continue
                usable = True
                for a in range(a1 - a0):
                    i = em_node[a0 + a]
                    if h0[i] - elev[i] <= 0.0:
                        usable = False  # no pressure at the leak: the emitter law's barrier region, full solver
                        break
                    e_cur[c, a] = ((h0[i] - elev[i]) / em_ke[a0 + a]) ** (1.0 / qexp)
                    col1[c, a] = iperm[i]
                    col2[c, a] = -1
                    sign2[c, a] = 0.0
                if not usable:
                    info[s] = 1
                    continue
                lane_s[c] = s
                lane_pass[c] = 0
                ns[c] = 0
                nr[c] = 0
                fail[c] = 0
                active += 1
        if active == 0:
            break
        for c in range(nb):
            keep[c] = lane_s[c] >= 0 and lane_pass[c] > 0
        # 1. injections of the mild links' linearisation errors: g ← J0⁻¹·g, raw g kept in g2
        g2[:, :] = g
        multi_solve(nj, lp, li, lx, d, g, nb)
        # 2. every lane's small exact system; M·coef joins g2
        for c in range(nb):
            s = lane_s[c]
            if s < 0:
                continue
            a0, a1 = em_ptr[s], em_ptr[s + 1]
            fail[c] = _lane_newton(c, g, g2, z_inv, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n,
                                   speed, elev, h0, q0, p0, hl0, ip1, ip2, em_node[a0:a1], em_ke[a0:a1], qexp,
                                   e_cur[c], s_links[c], dq_s[c], col1[c], col2[c], sign2[c], rm[c], nr[c], ns[c], lu,
                                   piv)
            nr[c] = a1 - a0 + ns[c]
        # 3. head changes of every junction, all lanes at once
        multi_solve(nj, lp, li, lx, d, g2, nb)
        hch[:] = 0.0
        dch[:] = 0.0
        added[:] = 0
        for j in range(nj):
            row = perm[j]
            for c in range(nb):
                v = g2[j, c]
                ch = abs(v - (dh[row, c] if keep[c] else 0.0))
                hch[c] = max(hch[c], ch)
                dh[row, c] = v
        # 4. every link: flow of the model just solved, linearisation error at that flow (vectorised over lanes,
        # the exceptions by the exact rules), and the next pass's injections
        g[:, :] = 0.0
        for lk in range(nl):
            kd = kind[lk]
            if kd == 0:
                for c in range(nb):
                    qb[lk, c] = 0.0
                continue
            a = n1[lk]
            b = n2[lk]
            qk = q0[lk]
            pk = p0[lk]
            ck = c2[lk]
            ck3 = c3[lk]
            tk = tlim[lk]
            qmin = 0.0 if kd == 2 else -np.inf  # a check valve / pump must not reverse
            dl = delta[lk]
            ha = dh[a]
            hb = dh[b]
            ql = qb[lk]
            il = ins[lk]
            nexc = 0
            for c in range(nb):
                old = dl[c] if keep[c] else 0.0
                q = qk + pk * (ha[c] - hb[c] - old)
                dq = q - qk
                ql[c] = q
                exc = (il[c] != 0) | (abs(dq) > tk) | (q < qmin)
                dn = dq * dq * (ck + ck3 * dq)
                excl[c] = exc
                nexc += exc
                dl[c] = old if exc else dn
                dch[c] = max(dch[c], 0.0 if exc else abs(dn - old))
            for w in range(nw if nexc else 0):
                if excl_w[w] == 0:
                    continue
                for c in range(8 * w, min(8 * w + 8, nb)):
                    if excl[c] == 0 or lane_s[c] < 0 or fail[c] != 0:
                        continue
                    fail[c] = _lane_exception(c, lk, kd, ql[c], ltype, resist, km, hexp, pump_of_link, pump_h0,
                                              pump_r, pump_n, speed, q0, p0, hl0, c2, c3, tlim, delta, ins, qb,
                                              s_links[c], dq_s[c], ns[c], added, dch)
            ia = ip1[lk]
            ib = ip2[lk]
            if ia >= 0:
                ga = g[ia]
                for c in range(nb):
                    ga[c] += pk * dl[c]
            if ib >= 0:
                gb = g[ib]
                for c in range(nb):
                    gb[c] -= pk * dl[c]
        # 5. lanes done, not handled, or on to the next pass
        nfin = 0
        for c in range(nb):
            s = lane_s[c]
            if s < 0:
                continue
            a0, a1 = em_ptr[s], em_ptr[s + 1]
            if fail[c] != 0:
                info[s] = fail[c]
                fin_s[nfin] = -1
            elif added[c] == 0 and lane_pass[c] > 0 and dch[c] < DELTA_TOL and (hch[c] < HEAD_TOL
                                                                                  or dch[c] < 0.1 * DELTA_TOL):
                passes[s] = lane_pass[c] + 1
                info[s] = ns[c]
                for a in range(a1 - a0):
                    E[s, em_node[a0 + a]] = e_cur[c, a]
                fin_s[nfin] = s
            else:
                ns[c] += added[c]
                lane_pass[c] += 1
                if lane_pass[c] < MAX_PASSES:
                    continue
                info[s] = 6
                fin_s[nfin] = -1
            fin_c[nfin] = c
            nfin += 1
            lane_s[c] = -1
            active -= 1
        if nfin:  # results out; the lanes' S marks and next injections cleared (the rest is masked by `keep`)
            for t in range(nfin):
                c = fin_c[t]
                for u in range(min(ns[c] + added[c], MAX_S)):
                    ins[s_links[c, u], c] = 0
            for j in range(nn):
                for t in range(nfin):
                    if fin_s[t] >= 0:
                        H[fin_s[t], j] = h0[j] + dh[j, fin_c[t]]
            for lk in range(nl):
                for t in range(nfin):
                    if fin_s[t] >= 0:
                        Q[fin_s[t], lk] = qb[lk, fin_c[t]]
            for j in range(nj):
                for t in range(nfin):
                    g[j, fin_c[t]] = 0.0


class InverseSolver(LowRankSolver):
    """`LowRankSolver` with the dense-inverse lock-step kernel (same `solve_many` contract, plus `out`)."""

    fills_out = True

    @staticmethod
    def applicable(engine) -> bool:
        return LowRankSolver.applicable(engine) and engine.c.nj ** 2 * 8 <= MAX_DENSE_BYTES

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.dense: dict[int, tuple] = {}

    def _dense(self, time: int, base):
        if time in self.dense:
            return self.dense[time]
        prep = self._prepare(time, base)
        if prep is None:
            self.dense[time] = None
            return None
        st, status, p0, hl0, c2, c3, lx, d = prep
        c, sym = self.engine.c, self.sym
        z = np.empty((c.nj, c.nj))
        dense_inverse(c.nj, sym.lp, sym.li, lx, d, z, 32)
        kind = np.where(status <= CLOSED, 0, np.where((c.ltype == CVPIPE) | (c.ltype == PUMP), 2, 1)).astype(np.int64)
        iperm_ext = np.full(c.nn, -1, np.int64)
        iperm_ext[: c.nj] = self.iperm
        ip1 = iperm_ext[c.n1]
        ip2 = iperm_ext[c.n2]
        # Taylor terms when the flow moved < 5 % (12.5 % for power-law pipes) and the law has a curvature there
        tlim = np.where(p0 * c2 != 0.0, np.where(c3 != 0.0, TAYLOR3_SPAN, 0.05) * np.abs(st.Q), -1.0)
        out = (z, kind, ip1, ip2, tlim)
        self.dense[time] = out
        return out

    def solve_many(self, plans, time: int, base, out=None):
        """As `LowRankSolver.solve_many`; `out` = (H, Q, E) arrays (n_plans × elements, E zeroed) to fill in place
        (batch mode passes views of its result arrays: no copy of the 1,000 × nodes block)."""
        c = self.engine.c
        prep = self._prepare(time, base)
        dense = self._dense(time, base) if prep is not None else None
        if dense is None:
            return None
        st, status, p0, hl0, c2, c3, lx, d = prep
        z, kind, ip1, ip2, tlim = dense
        sym = self.sym
        n = len(plans)
        sizes = np.fromiter((p.em_node.size for p in plans), np.int64, n)
        em_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(sizes, out=em_ptr[1:])
        em_node = np.concatenate([p.em_node for p in plans]).astype(np.int64) if n else np.zeros(0, np.int64)
        em_ke = np.concatenate([p.em_ke for p in plans]).astype(float) if n else np.zeros(0)
        if out is None:
            H, Q, E = np.empty((n, c.nn)), np.empty((n, c.nl)), np.zeros((n, c.nj))
        else:
            H, Q, E = out
        passes = np.zeros(n, np.int64)
        info = np.zeros(n, np.int64)
        solve_leaks_lanes(c.nj, c.nn, c.n1, c.n2, kind, ip1, ip2, tlim, c.ltype, c.resist, c.km, c.hexp,
                          self.pump_of_link, c.pump_h0, c.pump_r, c.pump_n, st.setting, c.elev, st.H, st.Q, p0, hl0,
                          c2, c3, sym.lp, sym.li, lx, d, sym.perm, self.iperm, z, em_ptr, em_node, em_ke, c.qexp, H, Q, E,
                          passes, info, BLOCK)
        base_rows = sizes == 0
        if base_rows.any():
            H[base_rows] = st.H
            Q[base_rows] = np.where(status <= CLOSED, 0.0, st.Q)
            E[base_rows] = 0.0
            passes[base_rows] = 0
        self.handled += int((passes >= 0).sum())
        self.fallbacks += int((passes < 0).sum())
        return H, Q, E, passes, info


__all__ = ["BLOCK", "MAX_DENSE_BYTES", "InverseSolver", "dense_inverse", "multi_solve", "numba"]
