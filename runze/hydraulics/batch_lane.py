"""Per-lane pieces of the dense-inverse lock-step kernel (`batch_inverse.solve_leaks_lanes`).

One lane is one leak scenario in flight.  `lane_newton` solves the lane's small exact system (its emitters and
its strongly nonlinear links S, the rest of the network through R = Mᵀ Z M looked up in the dense inverse Z) by
chord Newton on a small dense LU; `lane_exception` applies the exact link law to a link the vectorised sweep could
not linearise (in S, outside the Taylor window, a check valve about to reverse) and moves it into S when its
gradient changed too much for the chord iteration.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.batch_kernel import MAX_S, NEWTON_TOL, RATIO_HI, RATIO_LO, _njit, link_law, numba


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
def lane_newton(c, g, g2, z_inv, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed, elev, h0,
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
def lane_exception(c, lk, kd, q, ltype, resist, km, hexp, pump_of_link, pump_h0, pump_r, pump_n, speed, q0, p0,
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
