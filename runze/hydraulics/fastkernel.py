"""Compiled (numba) per-trial passes over links: pipe, pump and valve linearisation, assembly of regular links
and of control valves (in EPANET's valve order), flow update, and the valve/link status rules.

They compute what the numpy reference code in `coeffs`, `solver.Kernel` and `status` computes (a test runs
both and compares), in one pass each instead of ~20 array operations: a trial on a 3,000-junction network is
only a few hundred microseconds of arithmetic, so per-call overhead matters.  `fastloop` strings them together.
Used when numba is installed (and RUNZE_NO_JIT is not set).
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.ldl import AVAILABLE as AVAILABLE  # re-exported: callers test fastkernel.AVAILABLE
from runze.hydraulics.ldl import _njit

RQTOL = 1.0e-7
CBIG = 1.0e8
CLOSED = 2


@_njit
def pipe_law(qs, rk, mk, n, qn1):
    """Head loss h(q) and gradient h'(q) of one open power-law pipe at signed flow qs; qn1 = |q| ** (n - 1) (0 at
    q = 0).  EPANET's low-flow rule: below RQTOL the gradient is held and the head loss is linear."""
    q = abs(qs)
    hgrad = n * rk * qn1
    if hgrad < RQTOL:
        hgrad = RQTOL / n
        hloss = hgrad * q
    else:
        hloss = hgrad * q / n
    if mk > 0.0:
        hloss += mk * q * q
        hgrad += 2.0 * mk * q
    if qs < 0.0:
        hloss = -hloss
    return hloss, hgrad


@_njit
def _power_pipe(qs, rk, mk, n, qn1):
    """1/h'(q) and h(q)/h'(q) of one open power-law pipe (`pipe_law`)."""
    hloss, hgrad = pipe_law(qs, rk, mk, n, qn1)
    return 1.0 / hgrad, hloss / hgrad


@_njit
def pipe_coeffs_power(q_signed, status, r, km, n, p, y):
    """Hazen-Williams / Chezy-Manning pipes (head loss r·|q|^n + km·q²), EPANET's low-flow rule."""
    for k in range(q_signed.size):
        qs = q_signed[k]
        if status[k] <= CLOSED:
            p[k] = 1.0 / CBIG
            y[k] = qs
            continue
        q = abs(qs)
        p[k], y[k] = _power_pipe(qs, r[k], km[k], n, q ** (n - 1.0) if q > 0.0 else 0.0)


# Default (Kernel.fast_pow; RUNZE_FAST_POW=0 turns it off): q ** (n - 1) for every pipe and trial through
# `pow_pos` instead of libm's pow, the largest single cost of a trial (Net6: ~120 of ~300 µs; pow_pos is
# branch-free, so the compiler vectorises it, AVX2 four at a time: ~50 µs).  Its results differ from libm's in
# the last bits (≤ ~10 ulp for physical flows), far inside every tolerance; every EPANET comparison of the tests
# passes with either.  (With SuperLU's MMD ordering it moved the time Anytown's cut-off network first failed
# to factorise; with the minimum-degree ordering that network solves all day with both.)
_LN2_HI, _LN2_LO = 0.693147180369123816490, 1.90821492927058770002e-10  # ln 2 split: j·ln2_hi is exact
POW_LO, POW_HI = 1.0e-300, 1.0e300  # inputs outside (or NaN) go to libm pow (exponent range, subnormals)


@_njit
def pow_pos(x, a, out, ibuf):
    """out[k] = x[k] ** a for positive normal x in (POW_LO, POW_HI) and |a| ≤ 2, relative error ≤ ~1e-15.

    exp(a·ln x): ln x = e·ln 2 + 2·atanh(s), s = (m − 1)/(m + 1) with the mantissa m in [√½, √2) (series to
    s²³, |s| ≤ 0.172); exp(y) = 2^j·exp(r), |r| ≤ ln 2 / 2 (Taylor to r¹²), 2^j assembled from its bits.
    `ibuf` is int64 scratch of x's size."""
    xb = x.view(np.int64)
    for k in range(x.size):
        bits = xb[k]
        out[k] = float(((bits >> 52) & 0x7FF) - 1023)
        ibuf[k] = (bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000
    mf = ibuf.view(np.float64)
    for k in range(x.size):
        m = mf[k]
        e = out[k]
        if m > 1.4142135623730951:
            m = m * 0.5
            e = e + 1.0
        s = (m - 1.0) / (m + 1.0)
        s2 = s * s
        t = 2.0 / 23.0
        t = t * s2 + 2.0 / 21.0
        t = t * s2 + 2.0 / 19.0
        t = t * s2 + 2.0 / 17.0
        t = t * s2 + 2.0 / 15.0
        t = t * s2 + 2.0 / 13.0
        t = t * s2 + 2.0 / 11.0
        t = t * s2 + 2.0 / 9.0
        t = t * s2 + 2.0 / 7.0
        t = t * s2 + 2.0 / 5.0
        t = t * s2 + 2.0 / 3.0
        t = t * s2 + 2.0
        yv = a * (e * _LN2_HI + (s * t + e * _LN2_LO))
        j = np.floor(yv * 1.4426950408889634 + 0.5)
        r = (yv - j * _LN2_HI) - j * _LN2_LO
        u = 1.0 / 479001600.0
        u = u * r + 1.0 / 39916800.0
        u = u * r + 1.0 / 3628800.0
        u = u * r + 1.0 / 362880.0
        u = u * r + 1.0 / 40320.0
        u = u * r + 1.0 / 5040.0
        u = u * r + 1.0 / 720.0
        u = u * r + 1.0 / 120.0
        u = u * r + 1.0 / 24.0
        u = u * r + 1.0 / 6.0
        u = u * r + 0.5
        u = u * r + 1.0
        u = u * r + 1.0
        out[k] = u
        ibuf[k] = (np.int64(j) + 1023) << 52
    for k in range(x.size):
        out[k] *= mf[k]


@_njit
def pipe_coeffs_fastpow(q_signed, status, r, km, n, p, y):
    """`pipe_coeffs_power` with q ** (n - 1) from `pow_pos` (see above)."""
    npipe = q_signed.size
    aq = np.empty(npipe)
    w = np.empty(npipe)
    ib = np.empty(npipe, np.int64)
    for k in range(npipe):
        aq[k] = min(max(abs(q_signed[k]), POW_LO), POW_HI)
    pow_pos(aq, n - 1.0, w, ib)
    for k in range(npipe):
        qs = q_signed[k]
        if status[k] <= CLOSED:
            p[k] = 1.0 / CBIG
            y[k] = qs
            continue
        q = abs(qs)
        if POW_LO < q < POW_HI:
            qn1 = w[k]
        else:
            qn1 = q ** (n - 1.0) if q > 0.0 else 0.0
        p[k], y[k] = _power_pipe(qs, r[k], km[k], n, qn1)


@_njit
def add_diag(data, diag_slot, diag):
    for j in range(diag.size):
        data[diag_slot[j]] += diag[j]


@_njit
def new_link_flows(nj, n1, n2, p, y, h, q, status, relax, is_hp, node_demand):
    """dq = Y − P·(H1 − H2) for every link; net inflow into fixed-grade nodes.  Returns (Σ|q|, Σ|dq|, max|dq|)."""
    for i in range(nj, node_demand.size):
        node_demand[i] = 0.0
    qsum = 0.0
    dqsum = 0.0
    dqmax = 0.0
    for k in range(n1.size):
        a = n1[k]
        b = n2[k]
        dq = (y[k] - p[k] * (h[a] - h[b])) * relax
        # EPANET halves the change when a constant-power pump's flow would go negative; a new flow within
        # rounding noise of zero (|q - dq| < 1e-9 cfs) is not "negative" (see RQNOISE in solver.py)
        if is_hp[k] and dq > q[k] + 1.0e-9:
            dq = q[k] / 2.0
        qk = q[k] - dq
        q[k] = qk
        qsum += abs(qk)
        adq = abs(dq)
        dqsum += adq
        if adq > dqmax:
            dqmax = adq
        if status[k] > CLOSED:
            if a >= nj:
                node_demand[a] -= qk
            if b >= nj:
                node_demand[b] += qk
    return qsum, dqsum, dqmax


def link_slots(nl: int, jj_links: np.ndarray, off_slot: np.ndarray) -> np.ndarray:
    """CSC slot of each link's off-diagonal entry, -1 for links touching a fixed-grade node."""
    slot = np.full(nl, -1, np.int64)
    slot[jj_links] = off_slot
    return slot




# ---- pumps, valves and the control-valve part of the assembly (EPANET's per-element logic, compiled) -------
CSMALL = 1.0e-6
TINY = 1.0e-6
MISSING = -1.0e10
OPEN, ACTIVE = 3, 4
PRV, PSV, PBV, FCV, TCV, GPV = 3, 4, 5, 6, 7, 8
CONST_HP, POWER_FUNC, CUSTOM, NOCURVE = 0, 1, 2, 3


@_njit
def _segment(cx, cy, npts, row, x):
    k2 = 0
    while k2 < npts and cx[row, k2] < x:
        k2 += 1
    if k2 == 0:
        k2 = 1
    elif k2 == npts:
        k2 -= 1
    k1 = k2 - 1
    r = (cy[row, k2] - cy[row, k1]) / (cx[row, k2] - cx[row, k1])
    return cy[row, k1] - r * cx[row, k1], r


@_njit
def _valvecoeff(km, qs, closed):
    if closed:
        return 1.0 / CBIG, qs
    if km > 0.0:
        q = abs(qs)
        hgrad = 2.0 * km * q
        if hgrad < RQTOL:
            hgrad = RQTOL / 2.0
            hloss = qs * hgrad
        else:
            hloss = qs * hgrad / 2.0
        return 1.0 / hgrad, hloss / hgrad
    return 1.0 / CSMALL, qs


@_njit
def pump_coeffs_nb(links, ptype, h0s, rs, ns, curve, cx, cy, cn, q_all, status, setting, p, y):
    for m in range(links.size):
        k = links[m]
        qs = q_all[k]
        s = setting[k]
        if status[k] <= CLOSED or s == 0.0:
            p[k] = 1.0 / CBIG
            y[k] = qs
            continue
        q = abs(qs)
        t = ptype[m]
        if t == NOCURVE:
            p[k] = 1.0 / CSMALL
            y[k] = qs
            continue
        if t == CUSTOM:
            row = curve[m]
            h0, r = _segment(cx, cy, cn[row], row, q / s)
            hgrad = -r * s
            hloss = -h0 * s * s + hgrad * qs
        else:
            h0 = s * s * h0s[m]
            n = ns[m]
            if abs(n - 1.0) < TINY:
                n = 1.0
            r = rs[m] * s ** (2.0 - n)
            if t == CONST_HP:
                hgrad = -r / q / q
                if hgrad > CBIG or not hgrad == hgrad:
                    p[k] = 1.0 / CBIG
                    y[k] = qs
                    continue
                if hgrad < CSMALL:
                    p[k] = 1.0 / CSMALL
                    y[k] = qs
                    continue
                hloss = r / qs
            elif n != 1.0:
                hgrad = n * r * q ** (n - 1.0)
                if hgrad < RQTOL:
                    hgrad = RQTOL
                    hloss = h0 + hgrad * qs
                else:
                    hloss = h0 + hgrad * qs / n
            else:
                hgrad = r
                hloss = h0 + hgrad * qs
        p[k] = 1.0 / hgrad
        y[k] = hloss / hgrad


@_njit
def valve_coeffs_nb(links, ltype, km, diam, cx, cy, cn, q_all, status, setting, p, y):
    for m in range(links.size):
        k = links[m]
        t = ltype[k]
        s = setting[k]
        qs = q_all[k]
        closed = status[k] <= CLOSED
        if t == PRV or t == PSV or t == FCV:
            if s == MISSING:
                p[k], y[k] = _valvecoeff(km[k], qs, closed)
            else:
                p[k] = 0.0
        elif t == PBV:
            if s == MISSING or s == 0.0 or km[k] * qs * qs > s:
                p[k], y[k] = _valvecoeff(km[k], qs, closed)
            else:
                p[k] = CBIG
                y[k] = s * CBIG
        elif t == TCV:
            kv = km[k]
            if s != MISSING:
                kv = 0.02517 * s / diam[k] ** 4
            p[k], y[k] = _valvecoeff(kv, qs, closed)
        elif t == GPV:
            if status[k] == CLOSED:
                p[k], y[k] = _valvecoeff(km[k], qs, True)
            else:
                q = max(abs(qs), TINY)
                h0, r = _segment(cx, cy, cn[int(s + 0.5)], int(s + 0.5), q)
                r = max(r, TINY)
                p[k] = 1.0 / r
                y[k] = (h0 / r + q) * (-1.0 if qs < 0.0 else 1.0)


@_njit
def assemble_regular(nj, n1, n2, p, y, q, h, slot, skip, data, f, xflow):
    """EPANET's linkcoeffs(): every link except control valves with a setting (P = 0).  Returns the diagonal."""
    diag = np.zeros(nj)
    for k in range(n1.size):
        if skip[k]:
            continue
        pk = p[k]
        a = n1[k]
        b = n2[k]
        xflow[a] -= q[k]
        xflow[b] += q[k]
        if a < nj:
            diag[a] += pk
            f[a] += y[k]
        elif b < nj:
            f[b] += pk * h[a]
        if b < nj:
            diag[b] += pk
            f[b] -= y[k]
        elif a < nj:
            f[a] += pk * h[b]
        s = slot[k]
        if s >= 0:
            data[s] -= pk
    return diag


@_njit
def control_valves_nb(links, ltype, km, elev, n1, n2, q_all, status, setting, p, y, xflow, f, diag, data, slot):
    """EPANET's valvecoeffs(): PRV/PSV/FCV with a setting, in valve order (Xflow updated as it goes)."""
    for m in range(links.size):
        k = links[m]
        s = setting[k]
        if s == MISSING:
            continue
        t = ltype[k]
        i = n1[k]
        j = n2[k]
        qk = q_all[k]
        act = status[k] == ACTIVE
        if act and t == PRV:
            p[k] = 0.0
            y[k] = qk + xflow[j]
            f[j] += (elev[j] + s) * CBIG
            diag[j] += CBIG
            if xflow[j] < 0.0:
                f[i] += xflow[j]
            continue
        if act and t == PSV:
            p[k] = 0.0
            y[k] = qk - xflow[i]
            f[i] += (elev[i] + s) * CBIG
            diag[i] += CBIG
            if xflow[i] > 0.0:
                f[j] += xflow[i]
            data[slot[k]] -= 1.0 / CBIG
            diag[j] += 1.0 / CBIG
            continue
        if act and t == FCV:
            xflow[i] -= s
            xflow[j] += s
            y[k] = qk - s
            f[i] -= s
            f[j] += s
            p[k] = 1.0 / CBIG
        else:
            p[k], y[k] = _valvecoeff(km[k], qk, status[k] <= CLOSED)
            f[i] += y[k] - qk
            f[j] -= y[k] - qk
        data[slot[k]] -= p[k]
        diag[i] += p[k]
        diag[j] += p[k]


HTOL = 0.0005
QTOL = 0.0001
XPRESSURE = 7


@_njit
def valve_status_nb(links, ltype, km, elev, n1, n2, q_all, h, status, setting):
    """EPANET's valvestatus() for PRVs and PSVs with a setting.  Returns True if any status changed."""
    change = False
    for m in range(links.size):
        k = links[m]
        s = setting[k]
        if s == MISSING:
            continue
        t = ltype[k]
        if t != PRV and t != PSV:
            continue
        old = status[k]
        q = q_all[k]
        h1 = h[n1[k]]
        h2 = h[n2[k]]
        hml = km[k] * q * q
        new = old
        if t == PRV:
            hset = elev[n2[k]] + s
            if old == ACTIVE:
                new = CLOSED if q < -QTOL else (OPEN if h1 - hml < hset - HTOL else ACTIVE)
            elif old == OPEN:
                new = CLOSED if q < -QTOL else (ACTIVE if h2 >= hset + HTOL else OPEN)
            elif old == CLOSED:
                if h1 >= hset + HTOL and h2 < hset - HTOL:
                    new = ACTIVE
                elif h1 < hset - HTOL and h1 > h2 + HTOL:
                    new = OPEN
            elif old == XPRESSURE and q < -QTOL:
                new = CLOSED
        else:
            hset = elev[n1[k]] + s
            if old == ACTIVE:
                new = CLOSED if q < -QTOL else (OPEN if h2 + hml > hset + HTOL else ACTIVE)
            elif old == OPEN:
                new = CLOSED if q < -QTOL else (ACTIVE if h1 < hset - HTOL else OPEN)
            elif old == CLOSED:
                if h2 > hset + HTOL and h1 > h2 + HTOL:
                    new = OPEN
                elif h1 >= hset + HTOL and h1 > h2 + HTOL:
                    new = ACTIVE
            elif old == XPRESSURE and q < -QTOL:
                new = CLOSED
        if new != old:
            status[k] = new
            change = True
    return change


XHEAD, TEMPCLOSED, XFCV = 0, 1, 6
PUMP, CVPIPE = 2, 0


@_njit
def _cv(s, dh, q):
    if abs(dh) > HTOL:
        if dh < -HTOL or q < -QTOL:
            return CLOSED
        return OPEN
    if q < -QTOL:
        return CLOSED
    return s


@_njit
def link_status_nb(links, ltype, n1, n2, h, q, status, setting, km, pump_of_link, pump_hmax, pump_is_hp,
                   tank_of_node, v, tank_vmin, tank_vmax, tank_overflow):
    """EPANET 2.3's linkstatus(): CVs, pumps (XHEAD, constant-power TEMPCLOSED), FCVs, and links that would
    add water to a full tank or take it from an empty one (judged by volume and flow direction, both ends).

    `links` (StatusRules.status_links) lists the links these rules can change: CV pipes, pumps, FCVs and links
    with a tank end.  Every other link keeps its status here (XHEAD and TEMPCLOSED, reset first, are only ever
    given to pumps and tank links), so skipping them changes nothing."""
    change = False
    for m in range(links.size):
        k = links[m]
        a = n1[k]
        b = n2[k]
        dh = h[a] - h[b]
        old = status[k]
        s = old
        if s == XHEAD or s == TEMPCLOSED:
            s = OPEN
        t = ltype[k]
        if t == CVPIPE:
            s = _cv(s, dh, q[k])
        elif t == PUMP and s >= OPEN and setting[k] > 0.0:
            m = pump_of_link[k]
            if pump_is_hp[m]:
                s = TEMPCLOSED if q[k] < TINY else OPEN
            else:
                s = XHEAD if -dh > setting[k] * setting[k] * pump_hmax[m] + HTOL else OPEN
        elif t == FCV and setting[k] != MISSING:
            if dh < -HTOL or q[k] < -QTOL:
                s = XFCV
            elif old == XFCV and q[k] >= setting[k]:
                s = ACTIVE
            elif old == ACTIVE and dh / (q[k] * q[k]) < km[k]:
                s = XFCV  # an active valve cannot lose less than when fully open
            else:
                s = old
        for end in range(2):
            node = a if end == 0 else b
            ti = tank_of_node[node]
            if ti < 0 or s <= CLOSED:
                continue
            qout = q[k] if end == 0 else -q[k]  # flow out of the tank
            if v[ti] >= tank_vmax[ti] and not tank_overflow[ti] and qout < 0.0:
                s = TEMPCLOSED
            elif v[ti] <= tank_vmin[ti] and qout > 0.0:
                s = TEMPCLOSED
        if s != old:
            status[k] = s
            change = True
    return change
