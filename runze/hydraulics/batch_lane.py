"""Per-lane pieces of the dense-inverse lock-step kernel (`batch_inverse.solve_leaks_lanes`).

One lane is one leak scenario in flight.  `lane_newton` solves the lane's small exact system (its emitters and
its strongly nonlinear links S, the rest of the network through R = Mᵀ Z M looked up in the dense inverse Z) by
chord Newton on a small dense LU.  Nothing here takes an array it could index instead of slicing, and the link law
is `law_scalar` over the per-link table `law` (`batch_kernel.law_table`): every array passed to a compiled call or
sliced costs an atomic reference-count pair, and those pairs were 15-17 % of the kernel's time.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.batch_kernel import NEWTON_TOL, _njit, law_scalar, numba


def _njit_inline(f):
    return numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")(f) if numba is not None else f



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
def _lu_solve(a, piv, w, row, n):
    """w[row, :n] ← a⁻¹·w[row, :n] with `_lu_factor`'s factors (w's row by index: no view per call)."""
    for col in range(n):  # the factorisation swapped whole rows (multipliers included): permute b first
        p = piv[col]
        if p != col:
            t = w[row, col]
            w[row, col] = w[row, p]
            w[row, p] = t
    for col in range(n):
        for r in range(col + 1, n):
            w[row, r] -= a[r, col] * w[row, col]
    for r in range(n - 1, -1, -1):
        acc = w[row, r]
        for c in range(r + 1, n):
            acc -= a[r, c] * w[row, c]
        w[row, r] = acc / a[r, r]


@_njit_inline  # a call would pass z by reference count: four per entry of R
def _zz(z, i, j):
    return z[i, j] if i >= 0 and j >= 0 else 0.0


@_njit
def lane_newton(c, g, g2, z_inv, law, elev, h0, q0, p0, hl0, ip1, ip2, em_node, em_ke, a0, m, qexp, e_cur, s_links,
                dq_s, col1, col2, sign2, rm, nr, ns, lu, piv, wk):
    """The small system of lane c: its emitters (em_node[a0:a0 + m]) and nonlinear links S exact, the rest through
    R = Mᵀ Z M and the solved injections g[:, c] = J0⁻¹·A·P0·δ.  Adds M·coef to g2[:, c] (so that J0⁻¹·g2 is the
    head change).  Per-lane state is indexed by c, never sliced (a row view per call or row costs a reference-count
    pair, 15 % of the kernel's time); wk holds the scratch vectors.  Returns 0, or the "not handled" reason (2:
    emitter flow ≤ 0, 3: Newton failed)."""
    k = m + ns
    for a in range(nr, k):  # R: only the columns added since the last pass
        if a >= m:
            lk = s_links[c, a - m]
            col1[c, a] = ip1[lk]
            col2[c, a] = ip2[lk]
            sign2[c, a] = -1.0
        ca1 = col1[c, a]
        ca2 = col2[c, a]
        sa = sign2[c, a]
        for b in range(a + 1):
            cb1 = col1[c, b]
            cb2 = col2[c, b]
            sb = sign2[c, b]
            v = _zz(z_inv, ca1, cb1) + sb * _zz(z_inv, ca1, cb2) + sa * (_zz(z_inv, ca2, cb1)
                                                                        + sb * _zz(z_inv, ca2, cb2))
            rm[c, a, b] = v
            rm[c, b, a] = v
    # scratch rows: 0 toff, 1 z, 2 u, 3 du, 4 Π (P0 of S links), 5 rhs, 6 previous z, 7 work
    for a in range(k):
        v = g[col1[c, a], c] if col1[c, a] >= 0 else 0.0
        if col2[c, a] >= 0:
            v += sign2[c, a] * g[col2[c, a], c]
        wk[0, a] = v
    # F(z) = u(z) + R·(z − Π·u(z)) − toff = 0 in z = [E, dq_S]; chord Newton (Jacobian refreshed when slow)
    for a in range(m):
        wk[1, a] = e_cur[c, a]
        wk[4, a] = 0.0
    for t in range(ns):
        wk[1, m + t] = dq_s[c, t]
        wk[4, m + t] = p0[s_links[c, t]]
    ok = False
    fresh = True
    stale_step = False
    prev = np.inf
    for _newton in range(60):
        neg = False
        for a in range(m):
            i = em_node[a0 + a]
            e = wk[1, a]
            if e <= 0.0:
                neg = True
                break
            t = em_ke[a0 + a] * e ** (qexp - 1.0)  # one power for the law and its gradient
            wk[2, a] = t * e - (h0[i] - elev[i])
            wk[3, a] = qexp * t
        if neg:
            if not stale_step:
                return 2
            for r in range(k):  # a step on the frozen Jacobian overshot: retake it on a fresh one
                wk[1, r] = wk[6, r]
            fresh = True
            stale_step = False
            continue
        for t in range(ns):
            lk = s_links[c, t]
            hl, hg = law_scalar(q0[lk] + wk[1, m + t], law[lk, 0] > 0.5, law[lk, 1], law[lk, 2], law[lk, 3],
                                law[lk, 4])
            wk[2, m + t] = hl - hl0[lk]
            wk[3, m + t] = hg
        for b in range(k):
            wk[7, b] = wk[1, b] - wk[4, b] * wk[2, b]
        gmax = 0.0
        for a in range(k):
            acc = wk[2, a] - wk[0, a]
            for b in range(k):
                acc += rm[c, a, b] * wk[7, b]
            wk[5, a] = acc
            if abs(acc) > gmax:
                gmax = abs(acc)
        if fresh or gmax > 0.25 * prev:
            for b in range(k):
                wk[7, b] = 1.0 - wk[4, b] * wk[3, b]
            for a in range(k):
                for b in range(k):
                    lu[a, b] = rm[c, a, b] * wk[7, b]
                lu[a, a] += wk[3, a]
            if not _lu_factor(lu, piv, k):
                return 3
            fresh = False
            stale_step = False
        else:
            stale_step = True
        prev = gmax
        _lu_solve(lu, piv, wk, 5, k)
        dzmax = 0.0
        for r in range(k):
            if abs(wk[5, r]) > dzmax:
                dzmax = abs(wk[5, r])
        if gmax < NEWTON_TOL and dzmax < 1e-9:
            ok = True  # z (residual < NEWTON_TOL, evaluated) and its u are the answer: no re-evaluation
            break
        for r in range(k):
            wk[6, r] = wk[1, r]
            wk[1, r] -= wk[5, r]
    if not ok:
        return 3
    for a in range(m):
        e_cur[c, a] = wk[1, a]
    for t in range(ns):
        dq_s[c, t] = wk[1, m + t]
    for a in range(k):  # coef = −[E; dq_S − P0_S·u_S] injected at the columns' nodes
        coef = -(wk[1, a] - wk[4, a] * wk[2, a])
        if col1[c, a] >= 0:
            g2[col1[c, a], c] += coef
        if col2[c, a] >= 0:
            g2[col2[c, a], c] += coef * sign2[c, a]
    return 0
