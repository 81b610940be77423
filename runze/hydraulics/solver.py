"""The gradient (Todini-Pilati) iteration for one time period, as EPANET's hydsolver.c, vectorised.

`Kernel` holds everything that depends only on topology (incidence matrices, the junction-matrix pattern and
its symbolic factorisation, index sets of element types); it is built once per network and reused for every
period and every scenario.  `HydState` is the mutable solution (heads, flows, statuses, settings, emitter and
demand flows, tank volumes).  `Kernel.hydsolve(state)` runs EPANET's loop: linearise every element, assemble
and solve A·H = F for junction heads, update flows, apply valve status rules every trial and the other status
rules every CheckFreq trials up to MaxCheck, stop when Σ|ΔQ| / Σ|Q| ≤ accuracy and no status changes.

The per-trial work is a fixed number of whole-array numpy operations and one numeric LDLᵀ refactorisation: no
Python loop over nodes or links.  Batch mode can add a leading scenario axis to the `HydState` arrays and keep
the same pattern and ordering.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from runze.hydraulics import coeffs, fastkernel, fastloop
from runze.hydraulics.compile import (
    ACTIVE,
    CBIG,
    CLOSED,
    CONST_HP,
    FCV,
    MISSING,
    PIPE,
    PRV,
    PSV,
    PUMP,
    QZERO,
    XFCV,
    XPRESSURE,
    Compiled,
)
from runze.hydraulics.smatrix import Factor, MatrixPattern, SingularMatrix, default_backend
from runze.hydraulics.status import StatusRules

PDA_QTOL = 0.0001  # cfs, EPANET's PDA demand convergence tolerance
# A constant-power pump whose new flow is within this of zero (cfs) is not taken as reversing: the sign of a
# flow of ~1e-13 cfs is rounding noise that differs between any two factorisations (ky10's pump ~@Pump-11).
RQNOISE = 1.0e-9
_NO_LINKS = np.zeros(0, np.int64)
_NO_CONN = np.zeros(1, np.int8)


@dataclass
class HydState:
    """The solution being iterated (EPANET internal units)."""

    H: np.ndarray  # node heads, ft
    Q: np.ndarray  # link flows, cfs
    status: np.ndarray  # int8 status codes
    setting: np.ndarray  # speed / valve setting / MISSING
    E: np.ndarray  # emitter flows per junction
    D: np.ndarray  # delivered demand per junction (PDA) or full demand
    Dfull: np.ndarray  # full (required) demand per junction
    node_demand: np.ndarray  # per node: junction outflow, tank/reservoir net inflow
    V: np.ndarray  # tank volumes, ft³
    time: int = 0

    def copy(self) -> HydState:
        return HydState(*(getattr(self, f).copy() for f in
                          ("H", "Q", "status", "setting", "E", "D", "Dfull", "node_demand", "V")), self.time)


@dataclass
class SolveInfo:
    iterations: int
    relerr: float
    converged: bool
    error: str | None = None  # "singular" when the matrix could not be factorised
    bad_nodes: np.ndarray | None = None


def _incidence(rows: np.ndarray, nrows: int, ncols: int, vals: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix((vals, (rows, np.arange(ncols))), shape=(nrows, ncols))


class Kernel:
    """Topology-dependent structures for the gradient method (built once)."""

    def __init__(self, c: Compiled, controls=None, backend: str | None = None, fast: bool | None = None) -> None:
        self.c = c
        # compiled link passes when numba is present (fast=False forces the pure numpy path)
        self.fast = fastkernel.AVAILABLE if fast is None else (fast and fastkernel.AVAILABLE)
        nj, nl = c.nj, c.nl
        n1, n2 = c.n1, c.n2
        # junction incidence: rows are junctions, fixed-grade ends dropped
        j1 = n1 < nj
        j2 = n2 < nj
        # links with one fixed-grade end: F[junction] += P * H[fixed end]
        fx1 = np.flatnonzero(j1 & ~j2)
        fx2 = np.flatnonzero(~j1 & j2)
        self.fx_links = np.concatenate([fx1, fx2])
        self.fx_row = np.concatenate([n1[fx1], n2[fx2]])
        self.fx_other = np.concatenate([n2[fx1], n1[fx2]])
        # flows into fixed-grade nodes
        self.fg_links = np.flatnonzero(~j1 | ~j2)
        # the matrix pattern, its ordering and symbolic factorisation are built on first use (`pattern`,
        # `factor`): a run of the compiled EPS that leaves closed pipes out (`lagged_pattern`) never needs them
        self._backend = backend or default_backend()
        # slices by element type (model order: pipes, pumps, valves)
        npipe = c.pipes.size
        npump = c.pumps.size
        self.sl_pipe = slice(0, npipe)
        self.sl_pump = slice(npipe, npipe + npump)
        self.sl_valve = slice(npipe + npump, nl)
        vt = c.ltype[self.sl_valve]
        self.valve_types = vt
        self.valve_km = c.km[self.sl_valve]
        self.valve_diam = c.diam[self.sl_valve]
        self.ctrl = np.flatnonzero(np.isin(c.ltype, (PRV, PSV, FCV)))  # control valves (link index)
        self.hp_pumps = c.pumps[c.ptype == CONST_HP]
        self.emitters = np.flatnonzero(c.emit_ke > 0)
        self.em_ke = c.emit_ke[self.emitters]
        self.rules = StatusRules(c, controls)
        self.rules.fast = self.fast
        self.pump_groups = coeffs.PumpGroups(c)
        self.P = np.zeros(nl)
        self.Y = np.zeros(nl)
        self.is_hp_link = np.zeros(nl, bool)
        self.is_hp_link[self.hp_pumps] = True
        self.fast_pipes = self.fast and c.headloss != "D-W"
        self.skip = np.zeros(nl, bool)
        # one compiled call per trial when everything it needs is compiled (H-W/C-M, own LDLᵀ)
        self.fused = self.fast_pipes and self._backend == "ldl"
        if self.fused:
            self._f = np.zeros(nj)
            self._xflow = np.zeros(c.nn)
            self._head = np.zeros(c.nn)
        # vectorised pipe head-loss powers (fastkernel.pow_pos; results differ from libm's pow in the last bits,
        # every EPANET comparison holds either way); RUNZE_FAST_POW=0 switches back to libm's pow
        self.fast_pow = self.fused and os.environ.get("RUNZE_FAST_POW", "1").lower() not in ("0", "false", "no")
        # links a simple control can switch (never left out of the matrix pattern: see fused_args)
        self._ctl_links = np.asarray(getattr(controls, "link", ()) if controls is not None and controls.n else (),
                                     np.int64)
        self._lagged = None
        no_pswitch = controls is None or controls.junction_ctl.size == 0
        self.fused_loop = self.fused and no_pswitch and c.head_error <= 0.0 and c.flow_change <= 0.0

    @cached_property
    def pattern(self) -> MatrixPattern:
        return MatrixPattern(self.c.nj, self.c.n1, self.c.n2, self._backend)

    @cached_property
    def factor(self) -> Factor:
        return Factor(self.pattern, self._backend)

    @cached_property
    def jj(self) -> np.ndarray:
        return self.pattern.jj_links

    @cached_property
    def slot(self) -> np.ndarray:
        return fastkernel.link_slots(self.c.nl, self.jj, self.pattern.off_slot)

    @cached_property
    def _data(self) -> np.ndarray:
        return np.zeros(self.pattern.nnz)

    @cached_property
    def inc(self) -> sp.csr_matrix:
        """Junction incidence, +1 at n1, -1 at n2 (junction ends only); the numpy path's assembly only."""
        c = self.c
        nj, nl, n1, n2 = c.nj, c.nl, c.n1, c.n2
        k1 = np.flatnonzero(n1 < nj)
        k2 = np.flatnonzero(n2 < nj)
        return sp.csr_matrix((np.concatenate([np.ones(k1.size), -np.ones(k2.size)]),
                              (np.concatenate([n1[k1], n2[k2]]), np.concatenate([k1, k2]))), shape=(nj, nl))

    @cached_property
    def absinc(self) -> sp.csr_matrix:
        return abs(self.inc).tocsr()

    # ---- linearisation and assembly --------------------------------------------------------------------
    def _link_coeffs(self, st: HydState) -> None:
        c = self.c
        P, Y = self.P, self.Y
        sl = self.sl_pipe
        if self.fast_pipes:
            fastkernel.pipe_coeffs_power(st.Q[sl], st.status[sl], c.resist[sl], c.km[sl], c.hexp, P[sl], Y[sl])
        else:
            coeffs.pipe_coeffs(c, st.Q[sl], st.status[sl], P[sl], Y[sl])
        if self.fast:
            pg = self.pump_groups
            if c.pumps.size:
                fastkernel.pump_coeffs_nb(c.pumps, c.ptype, c.pump_h0, c.pump_r, c.pump_n, c.pump_curve, c.curve_x,
                                          c.curve_y, c.curve_n, st.Q, st.status, st.setting, P, Y)
            if c.valves.size:
                fastkernel.valve_coeffs_nb(c.valves, c.ltype, c.km, c.diam, c.curve_x, c.curve_y, c.curve_n, st.Q,
                                           st.status, st.setting, P, Y)
            del pg
            return
        sl = self.sl_pump
        if sl.stop > sl.start:
            coeffs.pump_coeffs(c, self.pump_groups, st.Q[sl], st.status[sl], st.setting[sl], P[sl], Y[sl])
        sl = self.sl_valve
        if sl.stop > sl.start:
            coeffs.valve_coeffs(c, self.valve_types, self.valve_km, self.valve_diam, st.Q[sl], st.status[sl],
                                st.setting[sl], P[sl], Y[sl])

    def _assemble(self, st: HydState):
        """Matrix data and right-hand side for the junction heads; also sets P, Y of control valves."""
        c = self.c
        nj = c.nj
        self._link_coeffs(st)
        if self.fast:
            return self._assemble_fast(st)
        P, Y, Q = self.P, self.Y, st.Q
        Pm = P
        Yq = Y - Q  # what each link adds to F at its start node (minus at its end node)
        diag_extra = np.zeros(nj)
        F = np.zeros(nj)
        ctrl = self.ctrl
        if ctrl.size:
            cset = st.setting[ctrl] != MISSING
            if cset.any():
                Pm = P.copy()
                k = ctrl[cset]
                kt = c.ltype[k]
                ks = st.status[k]
                kn1, kn2 = c.n1[k], c.n2[k]
                # valves not ACTIVE behave as open/closed valves (valvecoeff) inside the matrix
                act = ks == ACTIVE
                q = Q[k]
                pv, yv = coeffs.valve_open_coeffs(c.km[k], q, ks <= CLOSED)
                Pm[k] = np.where(act, 0.0, pv)
                P[k] = Pm[k]
                Y[k] = yv
                Yq[k] = yv - q
                # Xflow for the valves' own rules excludes every control valve with a setting (EPANET)
                qreg = Q.copy()
                qreg[k] = 0.0
                xflow = -(self._inc_full() @ qreg)
                xflow[:nj] -= st.D
                if self.emitters.size:
                    xflow[self.emitters] -= st.E[self.emitters]
                fcv = act & (kt == FCV)
                if fcv.any():
                    kf = k[fcv]
                    qs = st.setting[kf]
                    np.subtract.at(xflow, c.n1[kf], qs)
                    np.add.at(xflow, c.n2[kf], qs)
                    Y[kf] = Q[kf] - qs
                    Pm[kf] = 1.0 / CBIG
                    P[kf] = 1.0 / CBIG
                    Yq[kf] = -qs
                prv = act & (kt == PRV)
                if prv.any():
                    kp = k[prv]
                    x2 = xflow[kn2[prv]]
                    hset = c.elev[kn2[prv]] + st.setting[kp]
                    Y[kp] = Q[kp] + x2
                    Yq[kp] = 0.0
                    np.add.at(F, kn2[prv], hset * CBIG)
                    np.add.at(diag_extra, kn2[prv], CBIG)
                    np.add.at(F, kn1[prv], np.minimum(x2, 0.0))
                psv = act & (kt == PSV)
                if psv.any():
                    ks_ = k[psv]
                    x1 = xflow[kn1[psv]]
                    hset = c.elev[kn1[psv]] + st.setting[ks_]
                    Y[ks_] = Q[ks_] - x1
                    Yq[ks_] = 0.0
                    P[ks_] = 0.0
                    Pm[ks_] = 1.0 / CBIG
                    np.add.at(F, kn1[psv], hset * CBIG)
                    np.add.at(diag_extra, kn1[psv], CBIG)
                    np.add.at(F, kn2[psv], np.maximum(x1, 0.0))
        diag = self.absinc @ Pm
        diag += diag_extra
        F += self.inc @ Yq
        if self.fx_links.size:
            F += np.bincount(self.fx_row, Pm[self.fx_links] * st.H[self.fx_other], minlength=nj)
        # emitters: fictitious pipe to a reservoir at the junction's elevation
        if self.emitters.size:
            e = self.emitters
            hl, hg = coeffs.emitter_headloss(c, self.em_ke, st.E[e])
            diag[e] += 1.0 / hg
            F[e] += (hl + c.elev[e]) / hg - st.E[e]
        if c.pda:
            dj = np.flatnonzero(st.Dfull > 0.0)
            if dj.size:
                hl, hg = coeffs.demand_headloss(c, st.D[dj], st.Dfull[dj], c.preq - c.pmin)
                ok = hg > 0.0
                dj2, hl, hg = dj[ok], hl[ok], hg[ok]
                diag[dj2] += 1.0 / hg
                F[dj2] += (hl + c.elev[dj2] + c.pmin) / hg
        F -= st.D
        data = self.pattern.assemble(Pm[self.jj], diag)
        return data, F

    def _trial_fused(self, st: HydState, relax: float) -> float:
        """Linearise, assemble, factorise, solve, update flows: one compiled call (see fastloop.trial_nb)."""
        c = self.c
        sym = self.factor._sym
        dqsum, qsum, dqmax, bad = fastloop.trial_nb(
            c.nj, c.n1, c.n2, c.ltype, c.resist, c.km, c.diam, c.elev, c.hexp, c.pipes.size, self.slot,
            self.pattern.diag_slot, c.pumps, c.ptype, c.pump_h0, c.pump_r, c.pump_n, c.pump_curve, c.curve_x,
            c.curve_y, c.curve_n, c.valves, self.ctrl, self.is_hp_link, self.emitters, self.em_ke, c.qexp,
            c.emit_backflow, c.pda, c.pmin, c.preq, c.pexp,
            sym.ap, sym.ai, sym.lp, sym.rp, sym.rj, sym.rpos, sym.li, sym.lx, sym.d, sym.y, sym.perm, sym.x,
            st.H, st.Q, st.status, st.setting, st.E, st.D, st.Dfull, st.node_demand, self.P, self.Y, self.skip,
            self._data, self._f, self._xflow, _NO_LINKS, _NO_CONN, relax, self.fast_pow)
        if bad >= 0:
            raise SingularMatrix(f"non-positive pivot at junction row {bad}", np.array([bad]))
        self.max_dq = dqmax
        return dqsum / qsum if qsum > c.accuracy else dqsum

    def _assemble_fast(self, st: HydState):
        """The same system as `_assemble`, built by compiled passes in EPANET's exact order."""
        c = self.c
        nj = c.nj
        data = np.zeros(self.pattern.nnz)
        F = np.zeros(nj)
        xflow = np.zeros(c.nn)
        skip = self.skip
        if self.ctrl.size:
            skip[self.ctrl] = st.setting[self.ctrl] != MISSING
        diag = fastkernel.assemble_regular(nj, c.n1, c.n2, self.P, self.Y, st.Q, st.H, self.slot, skip, data, F,
                                           xflow)
        if self.emitters.size:
            e = self.emitters
            hl, hg = coeffs.emitter_headloss(c, self.em_ke, st.E[e])
            diag[e] += 1.0 / hg
            F[e] += (hl + c.elev[e]) / hg
            xflow[e] -= st.E[e]
        if c.pda:
            dj = np.flatnonzero(st.Dfull > 0.0)
            if dj.size:
                hl, hg = coeffs.demand_headloss(c, st.D[dj], st.Dfull[dj], c.preq - c.pmin)
                ok = hg > 0.0
                dj2, hl, hg = dj[ok], hl[ok], hg[ok]
                diag[dj2] += 1.0 / hg
                F[dj2] += (hl + c.elev[dj2] + c.pmin) / hg
        xflow[:nj] -= st.D
        F += xflow[:nj]
        if self.ctrl.size:
            fastkernel.control_valves_nb(self.ctrl, c.ltype, c.km, c.elev, c.n1, c.n2, st.Q, st.status, st.setting,
                                         self.P, self.Y, xflow, F, diag, data, self.slot)
        fastkernel.add_diag(data, self.pattern.diag_slot, diag)
        return data, F

    def _inc_full(self):
        if not hasattr(self, "_incf"):
            c = self.c
            nl = c.nl
            self._incf = (_incidence(c.n1, c.nn, nl, np.ones(nl)) - _incidence(c.n2, c.nn, nl, np.ones(nl))).tocsr()
        return self._incf

    # ---- flow updates -------------------------------------------------------------------------------
    def _new_flows(self, st: HydState, relax: float) -> float:
        c = self.c
        if self.fast:
            qsum, dqsum, self.max_dq = fastkernel.new_link_flows(c.nj, c.n1, c.n2, self.P, self.Y, st.H, st.Q,
                                                                  st.status, relax, self.is_hp_link, st.node_demand)
        else:
            qsum, dqsum = self._new_link_flows_numpy(st, relax)
        if self.emitters.size:
            e = self.emitters
            hl, hg = coeffs.emitter_headloss(c, self.em_ke, st.E[e])
            dqe = (hl - (st.H[e] - c.elev[e])) / hg * relax
            st.E[e] -= dqe
            qsum += float(np.abs(st.E[e]).sum())
            dqsum += float(np.abs(dqe).sum())
            self.max_dq = max(self.max_dq, float(np.abs(dqe).max()))
        if c.pda:
            dj = np.flatnonzero(st.Dfull > 0.0)
            if dj.size:
                dp = max(c.preq - c.pmin, 0.1)  # EPANET's MINPDIFF guard
                hl, hg = coeffs.demand_headloss(c, st.D[dj], st.Dfull[dj], dp)
                dqd = (hl - (st.H[dj] - c.elev[dj] - c.pmin)) / hg * relax
                lim = 0.4 * st.Dfull[dj]
                dqd = np.where(np.abs(dqd) > lim, 0.4 * np.sign(dqd) * st.Dfull[dj], dqd)
                st.D[dj] -= dqd
                qsum += float(np.abs(st.D[dj]).sum())
                dqsum += float(np.abs(dqd).sum())
                self.max_dq = max(self.max_dq, float(np.abs(dqd).max()))
        return dqsum / qsum if qsum > c.accuracy else dqsum

    def _new_link_flows_numpy(self, st: HydState, relax: float) -> tuple[float, float]:
        c = self.c
        dh = st.H[c.n1] - st.H[c.n2]
        dq = self.Y - self.P * dh
        if relax != 1.0:
            dq *= relax
        if self.hp_pumps.size:
            k = self.hp_pumps
            over = dq[k] > st.Q[k] + RQNOISE
            dq[k] = np.where(over, st.Q[k] / 2.0, dq[k])
        st.Q -= dq
        qsum = float(np.abs(st.Q).sum())
        dqsum = float(np.abs(dq).sum())
        self.max_dq = float(np.abs(dq).max()) if dq.size else 0.0
        # net inflow to fixed-grade nodes
        nd = st.node_demand
        nd[c.nj:] = 0.0
        k = self.fg_links
        if k.size:
            qo = np.where(st.status[k] > CLOSED, st.Q[k], 0.0)
            n1k, n2k = c.n1[k], c.n2[k]
            m1 = n1k >= c.nj
            m2 = n2k >= c.nj
            nd -= np.bincount(n1k[m1], qo[m1], minlength=c.nn)
            nd += np.bincount(n2k[m2], qo[m2], minlength=c.nn)
        return qsum, dqsum

    def _pda_converged(self, st: HydState) -> bool:
        c = self.c
        dj = np.flatnonzero(st.Dfull > 0.0)
        if dj.size == 0:
            return True
        p = st.H[dj] - c.elev[dj]
        dp = c.preq - c.pmin
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.clip((p - c.pmin) / dp, 0.0, None)
            q = np.where(p <= c.pmin, 0.0, np.where(p >= c.preq, st.Dfull[dj], st.Dfull[dj] * r ** c.pexp))
        return bool(np.all(np.abs(q - st.D[dj]) <= PDA_QTOL))

    def _head_error(self, st: HydState) -> float:
        c = self.c
        self._link_coeffs(st)
        ok = (st.status > CLOSED) & (self.P != 0.0)
        dh = st.H[c.n1] - st.H[c.n2]
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.abs(dh - self.Y / self.P)
        return float(err[ok].max()) if ok.any() else 0.0

    def _converged(self, st: HydState, relerr: float, accuracy: float) -> bool:
        c = self.c
        if relerr > accuracy:
            return False
        if c.head_error > 0.0 and self._head_error(st) > c.head_error:
            return False
        if c.flow_change > 0.0 and self.max_dq > c.flow_change:
            return False
        if c.pda:
            return self._pda_converged(st)
        return True

    def _bad_valve(self, st: HydState, node: int) -> bool:
        """EPANET's badvalve(): an active control valve at an unsolvable node is forced open (XFCV/XPRESSURE)."""
        c = self.c
        for k in self.ctrl:
            if c.n1[k] == node or c.n2[k] == node:
                if st.status[k] == ACTIVE:
                    st.status[k] = XFCV if c.ltype[k] == FCV else XPRESSURE
                    return True
                return False
        return False

    # ---- the loop -----------------------------------------------------------------------------------
    def fused_args(self, st: HydState, lagged: bool = False) -> tuple:
        """Arguments of `fastloop.hydsolve_nb` (less the accuracies) for state `st`: its arrays are updated in
        place, so the tuple stays valid while the state object is the same.

        lagged=True (for a run whose link statuses only the simple controls and the status rules change, i.e.
        without rule-based controls: eps.FastEps): pipes closed at the start and switched by no control are left
        out of the matrix pattern (`lagged_pattern`); fastloop.trial_nb couples their ends through the right-hand
        side instead."""
        c = self.c
        lag = self.lagged_pattern(st.status) if lagged else None
        if getattr(self, "_fused_state", None) is not st or self._fused_lagged is not lag:
            if lag is None:
                links, sym, slot, diag_slot, skip, data, conn = (_NO_LINKS, self.factor._sym, self.slot,
                                                                 self.pattern.diag_slot, self.skip, self._data,
                                                                 _NO_CONN)
            else:
                links, sym, slot, diag_slot, skip, data, conn = lag
            r = self.rules
            self._fused_args = (
                c.nj, c.n1, c.n2, c.ltype, c.resist, c.km, c.diam, c.elev, c.hexp, c.pipes.size, slot,
                diag_slot, c.pumps, c.ptype, c.pump_h0, c.pump_r, c.pump_n, c.pump_curve, c.curve_x,
                c.curve_y, c.curve_n, c.valves, self.ctrl, self.is_hp_link, self.emitters, self.em_ke, c.qexp,
                c.emit_backflow, c.pda, c.pmin, c.preq, c.pexp,
                sym.ap, sym.ai, sym.lp, sym.rp, sym.rj, sym.rpos, sym.li, sym.lx, sym.d, sym.y, sym.perm, sym.x,
                st.H, st.Q, st.status, st.setting, st.E, st.D, st.Dfull, st.node_demand, self.P, self.Y, skip,
                data, self._f, self._xflow, links, conn,
                r.prv_psv, r.status_links, r.pump_of_link, r.pump_hmax, r.pump_is_hp, r.tank_of_node, st.V,
                c.tank_vmin, c.tank_vmax, c.tank_overflow, c.trials, c.extra_iter, c.check_freq, c.max_check,
                c.damp_limit, self.fast_pow)
            self._fused_state = st
            self._fused_lagged = lag
        return self._fused_args

    def lagged_pattern(self, status: np.ndarray) -> tuple | None:
        """(links, symbolic LDLᵀ, link slots, diagonal slots, skip mask, data array, pocket-check state: see
        fastloop._lag_pocket) of the junction matrix
        without the pipes between two junctions that are closed in `status` (the run's start) and named by no
        simple control (None when there are none).  In a run without rule-based controls nothing opens them
        (status rules only touch CVs, pumps, FCVs and tank links), and their P is 1/CBIG: EPANET keeps that 1e-8 coupling in the
        matrix, and on a city split into zones by closed boundary pipes it is most of the fill (demo city: L's
        entries 7,722 -> 3,381, factorisation work ~9x less).  Kept for the last set of links."""
        c = self.c
        nj = c.nj
        cand = (c.ltype == PIPE) & (status <= CLOSED) & (c.n1 < nj) & (c.n2 < nj) & (c.n1 != c.n2)
        cand[self._ctl_links] = False
        links = np.flatnonzero(cand)
        if self._lagged is None or not np.array_equal(self._lagged_links, links):
            self._lagged_links = links
            if links.size == 0:
                self._lagged = ()
            else:
                n1 = c.n1.copy()
                n1[links] = c.n2[links]  # a self-loop has no off-diagonal entry
                pat = MatrixPattern(nj, n1, c.n2, "ldl")
                sym = Factor(pat, "ldl")._sym
                skip = np.zeros(c.nl, bool)
                skip[links] = True
                self._lagged = (links, sym, fastkernel.link_slots(c.nl, pat.jj_links, pat.off_slot),
                                pat.diag_slot, skip, np.zeros(pat.nnz), np.full(c.nl + 1, -1, np.int8))
        return self._lagged or None

    def _hydsolve_fused(self, st: HydState, acc: float) -> SolveInfo:
        """The whole trial loop in one compiled call (no head-error/flow-change limits, no pressure switches)."""
        c = self.c
        self.fused_args(st)
        it, relerr, bad = fastloop.hydsolve_nb(*self._fused_args, acc, c.accuracy)
        st.node_demand[: c.nj] = st.D + st.E
        maxtrials = c.trials + (c.extra_iter if c.extra_iter > 0 else 0)
        if bad >= 0:
            return SolveInfo(iterations=min(it, maxtrials), relerr=relerr, converged=False, error="singular",
                             bad_nodes=np.array([bad]))
        return SolveInfo(iterations=min(it, maxtrials), relerr=relerr, converged=it <= maxtrials and relerr <= acc)

    def hydsolve(self, st: HydState, accuracy: float | None = None) -> SolveInfo:
        c = self.c
        if self.fused_loop:
            info = self._hydsolve_fused(st, c.accuracy if accuracy is None else accuracy)
            if info.error != "singular":
                return info
            # the compiled LDLᵀ met a non-positive pivot: carry on in the step-by-step loop, whose
            # factorisation falls back to LU with pivoting (see smatrix.Factor.solve)
            return self._hydsolve_loop(st, accuracy, fused_trials=False)
        return self._hydsolve_loop(st, accuracy, fused_trials=self.fused)

    def _hydsolve_loop(self, st: HydState, accuracy: float | None = None, fused_trials: bool = False) -> SolveInfo:
        c = self.c
        acc = c.accuracy if accuracy is None else accuracy
        rules = self.rules
        nextcheck = c.check_freq
        maxtrials = c.trials + (c.extra_iter if c.extra_iter > 0 else 0)
        it = 1
        relax = 1.0
        relerr = 0.0
        error = None
        bad = None
        while it <= maxtrials:
            try:
                if fused_trials:
                    relerr = self._trial_fused(st, relax)
                else:
                    data, F = self._assemble(st)
                    st.H[: c.nj] = self.factor.solve(data, F)
                    relerr = self._new_flows(st, relax)
            except SingularMatrix as exc:
                node = int(exc.rows[0]) if exc.rows.size else -1
                if node >= 0 and self._bad_valve(st, node):
                    continue
                error, bad = "singular", exc.rows
                break
            relax = 1.0  # damping applies to the next update, as EPANET's RelaxFactor
            valve_change = False
            if c.damp_limit > 0.0:
                if relerr <= c.damp_limit:
                    relax = 0.6
                    valve_change = rules.valve_status(st)
            else:
                valve_change = rules.valve_status(st)
            if self._converged(st, relerr, acc):
                if it > c.trials:
                    break
                change = valve_change
                if rules.link_status(st):
                    change = True
                if rules.pressure_switch(st):
                    change = True
                if not change:
                    break
                nextcheck = it + c.check_freq
            elif it <= c.max_check and it == nextcheck:
                rules.link_status(st)
                nextcheck += c.check_freq
            it += 1
        # reported junction outflow = delivered demand + emitter flow
        nj = c.nj
        st.node_demand[:nj] = st.D + st.E
        converged = error is None and it <= maxtrials and relerr <= acc
        return SolveInfo(iterations=min(it, maxtrials), relerr=relerr, converged=converged, error=error,
                         bad_nodes=bad)

    def init_flows(self, st: HydState) -> None:
        """Initial flows as EPANET's initlinkflow: pump design flow, 1 ft/s elsewhere, ~0 when closed."""
        c = self.c
        q = np.pi * c.diam**2 / 4.0
        k = c.pumps
        q[k] = st.setting[k] * c.pump_q0
        q[st.status <= CLOSED] = QZERO
        st.Q[:] = q


__all__ = ["Kernel", "HydState", "SolveInfo", "PUMP"]
