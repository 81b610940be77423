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
`batch_kernel.solve_leak` (same passes and S sets; heads agree to ~1e-11 ft on the same matrix); a scenario it
cannot verify is returned as "not handled" (passes −1) and batch mode solves it with the full gradient loop.
By default J0 leaves out the pipes closed in the base between two junctions (`InverseSolver.matrix_pattern`), which
halves L on a zoned city and moves heads by ~1e-6 ft.  The per-lane pieces live in `batch_lane.py`.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.batch_kernel import (
    DELTA_TOL,
    HEAD_TOL,
    MAX_PASSES,
    MAX_S,
    RATIO_HI,
    RATIO_LO,
    TAYLOR3_SPAN,
    LowRankSolver,
    _njit,
    law_scalar,
    law_table,
    numba,
)
from runze.hydraulics.batch_lane import lane_newton
from runze.hydraulics.compile import CLOSED, CVPIPE, PUMP

MAX_DENSE_BYTES = 200e6  # Z = J0⁻¹ is used only up to this size (nj ≤ 5,000); larger networks: batch_kernel


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
def solve_leaks_lanes(nj, nn, n1, n2, kind, ip1, ip2, tlim, law, elev, h0, q0, p0, hl0, c2, c3, lp, li, lx, d, perm,
                      iperm, z_inv, em_ptr, em_node, em_ke, qexp, H, Q, E, passes, info, nb):
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
    wk = np.zeros((8, maxcols))  # the lanes' Newton scratch vectors (one lane at a time)
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
            fail[c] = lane_newton(c, g, g2, z_inv, law, elev, h0, q0, p0, hl0, ip1, ip2, em_node, em_ke, a0, a1 - a0,
                                  qexp, e_cur, s_links, dq_s, col1, col2, sign2, rm, nr[c], ns[c], lu, piv, wk)
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
            # 2-D indexing, not row views: a view per link and pass costs a reference-count pair
            nexc = 0
            for c in range(nb):
                old = delta[lk, c] if keep[c] else 0.0
                q = qk + pk * (dh[a, c] - dh[b, c] - old)
                dq = q - qk
                qb[lk, c] = q
                exc = (ins[lk, c] != 0) | (abs(dq) > tk) | (q < qmin)
                dn = dq * dq * (ck + ck3 * dq)
                excl[c] = exc
                nexc += exc
                delta[lk, c] = old if exc else dn
                dch[c] = max(dch[c], 0.0 if exc else abs(dn - old))
            # the (lane, link) pairs left to the exact rules, written out here rather than called: a call would
            # pass its arrays by reference count, and there are ~40 such pairs per lane and pass
            for w in range(nw if nexc else 0):
                if excl_w[w] == 0:
                    continue
                for c in range(8 * w, min(8 * w + 8, nb)):
                    if excl[c] == 0 or lane_s[c] < 0 or fail[c] != 0:
                        continue
                    isl = ins[lk, c]
                    if isl > 0:  # in S: its flow is the lane's Newton unknown
                        q = qk + dq_s[c, isl - 1]
                        qb[lk, c] = q
                        if kd == 2 and q < 0.0:
                            fail[c] = 4
                        continue
                    q = qb[lk, c]
                    if kd == 2 and q < 0.0:
                        fail[c] = 4  # a check valve / pump would close: status change, full solver
                        continue
                    dq = q - qk
                    if abs(dq) <= tk:
                        dnew = dq * dq * (ck + ck3 * dq)
                    elif dq == 0.0:
                        dnew = 0.0
                    else:
                        hl, hg = law_scalar(q, law[lk, 0] > 0.5, law[lk, 1], law[lk, 2], law[lk, 3], law[lk, 4])
                        ratio = hg * pk
                        if ratio < RATIO_LO or ratio > RATIO_HI:  # too far from the chord: exact, into S
                            n = ns[c] + added[c]
                            if n >= MAX_S:
                                fail[c] = 5
                                continue
                            s_links[c, n] = lk
                            dq_s[c, n] = dq
                            added[c] += 1
                            ins[lk, c] = n + 1
                            dch[c] = max(dch[c], abs(delta[lk, c]))
                            delta[lk, c] = 0.0
                            continue
                        dnew = hl - hl0[lk] - dq / pk
                    dch[c] = max(dch[c], abs(dnew - delta[lk, c]))
                    delta[lk, c] = dnew
            ia = ip1[lk]
            ib = ip2[lk]
            if ia >= 0:
                for c in range(nb):
                    g[ia, c] += pk * delta[lk, c]
            if ib >= 0:
                for c in range(nb):
                    g[ib, c] -= pk * delta[lk, c]
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

    def __init__(self, engine, leave_out_closed: bool = True) -> None:
        super().__init__(engine)
        self.dense: dict[int, tuple] = {}
        self.patterns: dict[bytes, tuple] = {}
        self.leave_out_closed = leave_out_closed

    def matrix_pattern(self, status: np.ndarray) -> tuple:
        """J0 without the pipes closed in the base (`status`) between two junctions, as the compiled EPS does
        (`Kernel.lagged_pattern`): their 1/CBIG coupling changes a scenario's heads by ~1e-8 of its head changes,
        and on a city zoned by closed boundary pipes it is half of L (demo city: 7,722 -> 3,446 entries), so the
        dense inverse and both substitutions per pass cost half.  Each end keeps the 1/CBIG on its diagonal.  The
        full pattern when some junctions would then hang on no open link to a tank or reservoir (a pocket: J0
        would be near-singular) or when there is nothing to leave out."""
        c = self.engine.c
        nj = c.nj
        drop = (status <= CLOSED) & (c.n1 < nj) & (c.n2 < nj) & (c.n1 != c.n2)
        if not drop.any() or not self.leave_out_closed:
            return self.full_pattern
        key = np.packbits(drop).tobytes()
        if key not in self.patterns:
            self.patterns[key] = self._reduced_pattern(drop, status)
        return self.patterns[key]

    def _reduced_pattern(self, drop: np.ndarray, status: np.ndarray) -> tuple:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        from runze.hydraulics.fastkernel import link_slots
        from runze.hydraulics.smatrix import Factor, MatrixPattern

        c = self.engine.c
        nj, nn = c.nj, c.nn
        held = status > CLOSED
        graph = coo_matrix((np.ones(int(held.sum())), (c.n1[held], c.n2[held])), shape=(nn, nn))
        _, comp = connected_components(graph, directed=False)
        fixed = np.zeros(comp.max() + 1, bool)
        fixed[comp[nj:]] = True  # components holding a tank or reservoir
        if not fixed[comp[:nj]].all():
            return self.full_pattern
        n1 = c.n1.copy()
        n1[drop] = c.n2[drop]  # a self-loop has no off-diagonal entry; its P still lands on the diagonal
        pat = MatrixPattern(nj, n1, c.n2, "ldl")
        sym = Factor(pat, "ldl")._sym
        iperm = np.empty(nj, np.int64)
        iperm[sym.perm] = np.arange(nj)
        return sym, iperm, link_slots(c.nl, pat.jj_links, pat.off_slot), pat.diag_slot, pat.nnz

    def _dense(self, time: int, base):
        if time in self.dense:
            return self.dense[time]
        prep = self._prepare(time, base)
        if prep is None:
            self.dense[time] = None
            return None
        st, status, p0, hl0, c2, c3, lx, d, sym, iperm = prep
        c = self.engine.c
        z = np.empty((c.nj, c.nj))
        dense_inverse(c.nj, sym.lp, sym.li, lx, d, z, 32)
        kind = np.where(status <= CLOSED, 0, np.where((c.ltype == CVPIPE) | (c.ltype == PUMP), 2, 1)).astype(np.int64)
        iperm_ext = np.full(c.nn, -1, np.int64)
        iperm_ext[: c.nj] = iperm
        ip1 = iperm_ext[c.n1]
        ip2 = iperm_ext[c.n2]
        # Taylor terms when the flow moved < 5 % (12.5 % for power-law pipes) and the law has a curvature there
        tlim = np.where(p0 * c2 != 0.0, np.where(c3 != 0.0, TAYLOR3_SPAN, 0.05) * np.abs(st.Q), -1.0)
        out = (z, kind, ip1, ip2, tlim, law_table(c, self.pump_of_link, st.setting))
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
        st, status, p0, hl0, c2, c3, lx, d, sym, iperm = prep
        z, kind, ip1, ip2, tlim, law = dense
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
        solve_leaks_lanes(c.nj, c.nn, c.n1, c.n2, kind, ip1, ip2, tlim, law, c.elev, st.H, st.Q, p0, hl0, c2, c3,
                          sym.lp, sym.li, lx, d, sym.perm, iperm, z, em_ptr, em_node, em_ke, c.qexp, H, Q, E, passes,
                          info, BLOCK)
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
