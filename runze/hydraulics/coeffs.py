"""Per-element linearisation of the head-loss relations (EPANET's hydcoeffs.c, vectorised).

For every link we compute P = 1 / (head-loss gradient) and Y = head loss / gradient at the current flow, so
that the flow correction of the gradient method is dq = Y − P·(H1 − H2).  Pipes (Hazen-Williams, Darcy-Weisbach
with Swamee-Jain/Dunlop friction factors, Chezy-Manning, plus minor losses and EPANET's linear law below RQtol),
pumps (power-function, multipoint and constant-power curves with speed), and valves (PBV, TCV, GPV, and
PRV/PSV/FCV when their status is fixed) are each handled as whole vectors.  Emitters and pressure-dependent
demands are fictitious links to a reservoir at the junction's elevation and get the same treatment.

All quantities are EPANET internal units (ft, cfs).  Functions write into preallocated arrays.
"""

from __future__ import annotations

import numpy as np

from runze.hydraulics.compile import (
    CBIG,
    CLOSED,
    CONST_HP,
    CSMALL,
    CUSTOM,
    GPV,
    MISSING,
    NOCURVE,
    PBV,
    RQTOL,
    TCV,
    TINY,
    Compiled,
)

# Darcy-Weisbach friction factor constants (EPANET's, from their definitions)
_A1 = 1000.0 * np.pi
_A2 = 500.0 * np.pi
_A8 = 5.74 * (np.pi / 4.0) ** 0.9
_A9 = -2.0 / np.log(10.0)
_AB = 5.74 / 4000.0**0.9
_AC = -2.0 * 0.9 * 2.0 / np.log(10.0) * _AB


def _sign(x: np.ndarray) -> np.ndarray:
    """EPANET's SGN: +1 for zero."""
    return np.where(x < 0.0, -1.0, 1.0)


def curve_segments(c: Compiled, rows: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercept h0 and slope r of the curve segment bracketing x, per (curve row, x) pair."""
    xs = c.curve_x[rows]
    k2 = np.sum(xs < x[:, None], axis=1)
    npts = c.curve_n[rows]
    k2 = np.clip(k2, 1, npts - 1)
    k1 = k2 - 1
    ar = np.arange(rows.size)
    x1, x2 = xs[ar, k1], xs[ar, k2]
    y1, y2 = c.curve_y[rows, k1], c.curve_y[rows, k2]
    r = (y2 - y1) / (x2 - x1)
    return y1 - r * x1, r


def pipe_coeffs(c: Compiled, q_signed: np.ndarray, status: np.ndarray, p: np.ndarray, y: np.ndarray) -> None:
    """P and Y of the pipes (all arrays are the pipe slice)."""
    q = np.abs(q_signed)
    r = c.resist[: q.size]
    ml = c.km[: q.size]
    if c.headloss == "D-W":
        hloss, hgrad = _dw_pipe(c, q, q_signed, r, ml)
    else:
        n = c.hexp
        hgrad = n * r * q ** (n - 1.0)
        small = hgrad < RQTOL
        hgrad[small] = RQTOL / n
        hloss = hgrad * q
        hloss[~small] /= n
        hloss += ml * q * q
        hgrad += 2.0 * ml * q
        hloss *= _sign(q_signed)
    np.divide(1.0, hgrad, out=p)
    np.multiply(hloss, p, out=y)
    closed = status <= CLOSED
    if closed.any():
        p[closed] = 1.0 / CBIG
        y[closed] = q_signed[closed]


def _dw_pipe(c: Compiled, q: np.ndarray, q_signed: np.ndarray, r: np.ndarray, ml: np.ndarray):
    d = c.diam[: q.size]
    e = c.rough[: q.size] / d
    s = c.viscos * d
    lam = q <= _A2 * s
    w = q / s
    # turbulent (Swamee-Jain) and transitional (Dunlop) friction factors, computed for all then selected
    with np.errstate(divide="ignore", invalid="ignore"):
        y1 = _A8 / w**0.9
        y2 = e / 3.7 + y1
        y3 = _A9 * np.log(y2)
        f_t = 1.0 / (y3 * y3)
        dfdq_t = 1.8 * f_t * y1 * _A9 / y2 / y3 / q
        y2b = e / 3.7 + _AB
        y3b = _A9 * np.log(y2b)
        fa = 1.0 / (y3b * y3b)
        fb = (2.0 + _AC / (y2b * y3b)) * fa
        rr = w / _A2
        x1 = 7.0 * fa - fb
        x2 = 0.128 - 17.0 * fa + 2.5 * fb
        x3 = -0.128 + 13.0 * fa - (fb + fb)
        x4 = 0.032 - 3.0 * fa + 0.5 * fb
        f_tr = x1 + rr * (x2 + rr * (x3 + rr * x4))
        dfdq_tr = (x2 + rr * (2.0 * x3 + rr * 3.0 * x4)) / s / _A2
    turb = w >= _A1
    f = np.where(turb, f_t, f_tr)
    dfdq = np.where(turb, dfdq_t, dfdq_tr)
    r1 = f * r + ml
    hloss = r1 * q * q_signed
    hgrad = 2.0 * r1 * q + dfdq * r * q * q
    rl = 16.0 * np.pi * s * r
    hloss = np.where(lam, q_signed * (rl + ml * q), hloss)
    hgrad = np.where(lam, rl + 2.0 * ml * q, hgrad)
    return hloss, hgrad


class PumpGroups:
    """Pump positions by curve type, computed once (avoids re-deriving masks every trial)."""

    def __init__(self, c: Compiled) -> None:
        self.custom = np.flatnonzero(c.ptype == CUSTOM)
        self.hp = np.flatnonzero(c.ptype == CONST_HP)
        self.power = np.flatnonzero((c.ptype != CUSTOM) & (c.ptype != CONST_HP) & (c.ptype != NOCURVE))
        self.novalve = np.flatnonzero(c.ptype == NOCURVE)
        n = c.pump_n[self.power]
        self.pw_lin = np.abs(n - 1.0) < TINY
        self.pw_n = np.where(self.pw_lin, 1.0, n)
        self.pw_h0 = c.pump_h0[self.power]
        self.pw_r = c.pump_r[self.power]
        self.hp_r = c.pump_r[self.hp]
        self.custom_curve = c.pump_curve[self.custom]


def pump_coeffs(c: Compiled, g: PumpGroups, q_signed: np.ndarray, status: np.ndarray, setting: np.ndarray,
                p: np.ndarray, y: np.ndarray) -> None:
    """P and Y of the pumps (arrays are the pump slice, aligned with c.pumps)."""
    q = np.abs(q_signed)
    if g.power.size:
        idx = g.power
        s = setting[idx]
        n = g.pw_n
        h0 = s * s * g.pw_h0
        qi = q[idx]
        qs = q_signed[idx]
        with np.errstate(divide="ignore", invalid="ignore"):  # closed pumps (speed 0) are overwritten below
            r = g.pw_r * s ** (2.0 - n)
            gr = np.where(g.pw_lin, r, n * r * qi ** (n - 1.0))
            small = ~g.pw_lin & (gr < RQTOL)
            gr = np.where(small, RQTOL, gr)
            hl = np.where(g.pw_lin | small, h0 + gr * qs, h0 + gr * qs / n)
            p[idx] = 1.0 / gr
            y[idx] = hl / gr
    if g.custom.size:
        idx = g.custom
        sp_ = np.where(setting[idx] > 0, setting[idx], 1.0)
        h0, r = curve_segments(c, g.custom_curve, q[idx] / sp_)
        gr = -r * sp_
        hl = -h0 * sp_**2 + gr * q_signed[idx]
        p[idx] = 1.0 / gr
        y[idx] = hl / gr
    if g.hp.size:
        idx = g.hp
        s = setting[idx]
        r = g.hp_r * s**3  # n = -1: setting^(2-n)
        with np.errstate(divide="ignore", invalid="ignore"):
            gr = -r / q[idx] / q[idx]
            hl = r / q_signed[idx]
            big = ~(gr <= CBIG)
            tiny = ~big & (gr < CSMALL)
            p[idx] = np.where(big, 1.0 / CBIG, np.where(tiny, 1.0 / CSMALL, 1.0 / gr))
            y[idx] = np.where(big | tiny, q_signed[idx], hl / gr)
    if g.novalve.size:
        p[g.novalve] = 1.0 / CSMALL
        y[g.novalve] = q_signed[g.novalve]
    closed = (status <= CLOSED) | (setting == 0.0)
    if closed.any():
        p[closed] = 1.0 / CBIG
        y[closed] = q_signed[closed]


def valve_open_coeffs(km: np.ndarray, q_signed: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPANET's valvecoeff(): open valve with minor loss (or tiny linear resistance), or closed."""
    q = np.abs(q_signed)
    hgrad = 2.0 * km * q
    small = hgrad < RQTOL
    hgrad = np.where(small, RQTOL / 2.0, hgrad)
    hloss = np.where(small, q_signed * hgrad, q_signed * hgrad / 2.0)
    p = np.where(km > 0.0, 1.0 / hgrad, 1.0 / CSMALL)
    y = np.where(km > 0.0, hloss / hgrad, q_signed)
    p = np.where(closed, 1.0 / CBIG, p)
    y = np.where(closed, q_signed, y)
    return p, y


def valve_coeffs(c: Compiled, vt: np.ndarray, km: np.ndarray, diam: np.ndarray, q_signed: np.ndarray,
                 status: np.ndarray, setting: np.ndarray, p: np.ndarray, y: np.ndarray) -> None:
    """P and Y of the valves (valve slice).  PRV/PSV/FCV with a setting get P = 0 (done in assembly)."""
    closed = status <= CLOSED
    has_set = setting != MISSING
    km_eff = km
    tcv = (vt == TCV) & has_set
    if tcv.any():
        km_eff = km.copy()
        km_eff[tcv] = 0.02517 * setting[tcv] / diam[tcv] ** 4
    pp, yy = valve_open_coeffs(km_eff, q_signed, closed)
    # PBV holding its setting: fixed head loss
    pbv = (vt == PBV) & has_set & (setting != 0.0) & ~(km * q_signed**2 > setting)
    if pbv.any():
        pp = np.where(pbv, CBIG, pp)
        yy = np.where(pbv, setting * CBIG, yy)
    gpv = (vt == GPV) & ~(status == CLOSED)
    if gpv.any():
        idx = np.flatnonzero(gpv)
        qa = np.maximum(np.abs(q_signed[idx]), TINY)
        h0, r = curve_segments(c, setting[idx].astype(np.int64), qa)
        r = np.maximum(r, TINY)
        pp[idx] = 1.0 / r
        yy[idx] = (h0 / r + qa) * _sign(q_signed[idx])
    ctrl = (vt <= 6) & (vt >= 3) & (vt != PBV) & has_set  # PRV, PSV, FCV with a setting
    pp = np.where(ctrl, 0.0, pp)
    p[:] = pp
    y[:] = yy


def barrier(dq: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray]:
    """EPANET's smooth barrier keeping a flow above (lower) or below (upper) a limit: (dhloss, dhgrad)."""
    a = 1.0e9 * dq
    b = np.sqrt(a * a + 1.0e-6)
    if upper:
        return (a + b) / 2.0, 0.5e9 * (1.0 + a / b)
    return (a - b) / 2.0, 0.5e9 * (1.0 - a / b)


def emitter_headloss(c: Compiled, ke: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head loss and gradient through emitters with flows e (junction subset)."""
    ke = np.maximum(CSMALL, ke)
    hgrad = c.qexp * ke * np.abs(e) ** (c.qexp - 1.0)
    small = hgrad < RQTOL
    hgrad = np.where(small, RQTOL / c.qexp, hgrad)
    hloss = np.where(small, hgrad * e, hgrad * e / c.qexp)
    if not c.emit_backflow:
        dl, dg = barrier(e, upper=False)
        hloss = hloss + dl
        hgrad = hgrad + dg
    return hloss, hgrad


def demand_headloss(c: Compiled, d: np.ndarray, dfull: np.ndarray, dp: float) -> tuple[np.ndarray, np.ndarray]:
    """Head loss and gradient of pressure-dependent demands (EPANET 2.2's inverted demand function)."""
    n = 1.0 / c.pexp
    r = np.abs(d) / dfull
    hgrad = n * dp * r ** (n - 1.0) / dfull
    hloss = hgrad * d / n
    dl, dg = barrier(d, upper=False)
    ul, ug = barrier(d - dfull, upper=True)
    return hloss + dl + ul, hgrad + dg + ug
