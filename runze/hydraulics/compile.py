"""Compile a `Network` once into flat numpy arrays in EPANET's internal units (ft, cfs, s).

Why US units inside: EPANET's constants (CBIG, CSMALL, RQtol, Htol, Qtol, QZERO, the barrier functions, the
PDA flow tolerance, the Hazen-Williams coefficient 4.727) are all tuned for feet and cubic feet per second.
Converting our SI model to those units once, and results back once, reproduces EPANET's numerical behaviour
instead of approximating it with re-derived SI constants.

Node order is the model's (junctions, reservoirs, tanks); link order is pipes, pumps, valves.  Everything the
solver needs per iteration lives in `Compiled` as arrays indexed by node or link, plus index arrays per element
type, so that coefficient kernels work on whole vectors.  `Compiled` is immutable after compilation and can be
shared by many scenarios (batch mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter

import numpy as np

from runze.network.model import Network
from runze.network.units import FLOW_FACTORS, FT

# ---- EPANET constants (internal US units) -----------------------------------------------------------------
CBIG = 1.0e8
CSMALL = 1.0e-6
QZERO = 1.0e-6  # cfs, "zero" flow
HTOL = 0.0005  # ft
QTOL = 0.0001  # cfs
RQTOL = 1.0e-7
TINY = 1.0e-6
BIG = 1.0e10
MISSING = -1.0e10  # EPANET's marker for "no setting": kept as a number so comparisons behave as in C
VISCOS = 1.1e-5  # ft²/s, water at 20 °C
CFS = FT**3  # m³/s per cfs (exact; used for volumes, ft³ <-> m³)
# EPANET converts flows with rounded constants (file flow units per cfs, types.h); using the same ones makes
# our internal flows EPANET's to the last digit, which matters where a tank drains to exactly its minimum.
EPANET_FLOW_UCF = {"CFS": 1.0, "GPM": 448.831, "MGD": 0.64632, "IMGD": 0.5382, "AFD": 1.9837, "LPS": 28.317,
                   "LPM": 1699.0, "MLD": 2.4466, "CMH": 101.94, "CMD": 2446.6, "CMS": 0.028317}

# link types (EPANET's enumeration)
CVPIPE, PIPE, PUMP, PRV, PSV, PBV, FCV, TCV, GPV, PCV = range(10)
VALVE_CODES = {"PRV": PRV, "PSV": PSV, "PBV": PBV, "FCV": FCV, "TCV": TCV, "GPV": GPV, "PCV": PCV}
# link status (EPANET's StatusType, also the codes of its binary output)
XHEAD, TEMPCLOSED, CLOSED, OPEN, ACTIVE, XFLOW, XFCV, XPRESSURE = range(8)
STATUS_NAMES = ("XHEAD", "TEMPCLOSED", "CLOSED", "OPEN", "ACTIVE", "XFLOW", "XFCV", "XPRESSURE")
# pump types
CONST_HP, POWER_FUNC, CUSTOM, NOCURVE = range(4)
# simple control types
LOWLEVEL, HILEVEL, TIMER, TIMEOFDAY = range(4)


class CompileError(ValueError):
    """The network cannot be turned into a hydraulic model (names the element and the problem)."""


@dataclass
class Compiled:
    """A network as arrays, EPANET internal units.  See module docstring."""

    node_ids: list[str]
    link_ids: list[str]
    nj: int  # junctions are nodes 0..nj-1
    nn: int
    nl: int
    elev: np.ndarray  # ft, per node (reservoir: its head)
    # links
    n1: np.ndarray
    n2: np.ndarray
    ltype: np.ndarray  # int8 link type
    diam: np.ndarray  # ft (pumps: 0)
    length: np.ndarray  # ft
    rough: np.ndarray  # HW C, DW roughness (ft), CM n
    resist: np.ndarray  # resistance coefficient R (pipes), PCV/valve CSMALL, pumps CBIG
    km: np.ndarray  # minor-loss coefficient, ft/cfs² (0.02517 K / d⁴)
    status0: np.ndarray  # initial status code
    setting0: np.ndarray  # initial setting (Kc): speed, valve setting (internal units), MISSING, curve index
    hexp: float
    headloss: str
    viscos: float
    # element index sets
    pipes: np.ndarray  # pipes incl. CV pipes
    cvpipes: np.ndarray
    pumps: np.ndarray  # link index of each pump
    valves: np.ndarray
    # pumps (per pump, aligned with `pumps`)
    ptype: np.ndarray
    pump_h0: np.ndarray  # ft, negative (head loss convention)
    pump_r: np.ndarray
    pump_n: np.ndarray
    pump_q0: np.ndarray  # cfs
    pump_qmax: np.ndarray
    pump_hmax: np.ndarray  # ft
    pump_curve: np.ndarray  # curve row index for CUSTOM, -1 otherwise
    pump_speed_pat: np.ndarray  # pattern row, -1 none
    # curves (padded): x flows cfs / levels ft, y heads ft / volumes ft³
    curve_ids: list[str]
    curve_x: np.ndarray  # (ncurves, maxpts) padded with +inf
    curve_y: np.ndarray
    curve_n: np.ndarray
    # tanks (per tank, node index in `tank_node`; reservoirs excluded)
    tank_node: np.ndarray
    tank_area: np.ndarray  # ft²
    tank_hmin: np.ndarray
    tank_hmax: np.ndarray
    tank_h0: np.ndarray
    tank_vmin: np.ndarray
    tank_vmax: np.ndarray
    tank_v0: np.ndarray
    tank_vcurve: np.ndarray  # -1 none
    tank_overflow: np.ndarray
    res_node: np.ndarray
    res_pat: np.ndarray  # pattern row or -1
    # demands (one row per demand entry)
    dem_node: np.ndarray
    dem_base: np.ndarray  # cfs
    dem_pat: np.ndarray  # pattern row (0 = constant 1.0)
    emit_ke: np.ndarray  # per junction, head-loss coefficient (0 = no emitter)
    qexp: float  # emitter head-loss exponent (1/emitter exponent)
    # patterns: flat multipliers with offsets
    pat_ids: list[str]
    pat_flat: np.ndarray
    pat_start: np.ndarray
    pat_len: np.ndarray
    # options
    dmult: float
    trials: int
    accuracy: float
    extra_iter: int  # -1 stop, else extra trials
    check_freq: int
    max_check: int
    damp_limit: float
    head_error: float
    flow_change: float
    pda: bool
    pmin: float  # ft
    preq: float
    pexp: float
    emit_backflow: bool
    sg: float
    # times, s
    duration: int
    hstep: int
    pstep: int
    pstart: int
    rstep: int
    rstart: int
    rulestep: int
    tstart: int
    qcf: float = CFS  # m³/s per internal flow unit (EPANET's "cfs" for the file's flow units)
    node_index: dict[str, int] = field(default_factory=dict)
    link_index: dict[str, int] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)

    def pattern_factors(self, period: int) -> np.ndarray:
        """Multiplier of every pattern in pattern period `period` (row 0 is the constant pattern)."""
        return self.pat_flat[self.pat_start + period % self.pat_len]

    def is_tank_node(self) -> np.ndarray:
        mask = np.zeros(self.nn, bool)
        mask[self.tank_node] = True
        return mask


def _powercurve(h0: float, h1: float, h2: float, q1: float, q2: float) -> tuple[float, float, float] | None:
    """EPANET's 3-point power-function fit h = a + b q^c; None where the points do not define one."""
    if h0 < TINY or h0 - h1 < TINY or h1 - h2 < TINY or q1 < TINY or q2 - q1 < TINY:
        return None
    h4 = h0 - h1
    h5 = h0 - h2
    c = math.log(h5 / h4) / math.log(q2 / q1)
    if c <= 0.0 or c > 20.0:
        return None
    b = -h4 / q1**c
    if b >= 0.0:
        return None
    return h0, b, c


def _time(value: float | None, default: int) -> int:
    return int(round(value)) if value is not None else default


def compile_network(net: Network, duration: float | None = None, pda: bool | None = None) -> Compiled:
    """Turn `net` into arrays (EPANET internal units).  `duration` (s) overrides the file's."""
    opts = net.options
    node_ids = net.node_ids
    link_ids = net.link_ids
    node_index = dict(zip(node_ids, range(len(node_ids)), strict=True))
    link_index = dict(zip(link_ids, range(len(link_ids)), strict=True))
    nj = len(net.junctions)
    nn = len(node_ids)
    nl = len(link_ids)
    if nn - nj == 0:
        raise CompileError("the network has no reservoir or tank: heads cannot be fixed (EPANET error 224)")
    sg = opts.specific_gravity if opts.specific_gravity > 0 else 1.0
    warnings: list[dict] = []
    units = (opts.flow_units or "CFS").upper()
    qcf = FLOW_FACTORS.get(units, CFS) * EPANET_FLOW_UCF.get(units, 1.0 / FLOW_FACTORS.get(units, CFS) * CFS)

    # patterns: row 0 is the constant pattern
    pat_ids = ["", *net.patterns]
    pat_row = {pid: i for i, pid in enumerate(pat_ids)}
    mults = [[1.0]] + [list(p.multipliers) or [1.0] for p in net.patterns.values()]
    pat_len = np.array([len(m) for m in mults], dtype=np.int64)
    pat_start = np.concatenate([[0], np.cumsum(pat_len)[:-1]]).astype(np.int64)
    pat_flat = np.array([x for m in mults for x in m], dtype=float)
    default_pat = opts.default_pattern if opts.default_pattern in pat_row else ("1" if "1" in pat_row else None)

    def pattern_of(pid: str | None, default: str | None = None) -> int:
        pid = pid if pid else default
        return pat_row.get(pid, 0) if pid else 0

    # curves, converted to internal units per use
    curve_ids = list(net.curves)
    curve_row = {cid: i for i, cid in enumerate(curve_ids)}
    maxpts = max([len(c.points) for c in net.curves.values()] + [1])
    curve_x = np.full((max(len(curve_ids), 1), maxpts), np.inf)
    curve_y = np.zeros((max(len(curve_ids), 1), maxpts))
    curve_n = np.zeros(max(len(curve_ids), 1), dtype=np.int64)

    def put_curve(cid: str, xf: float, yf: float) -> int:
        row = curve_row[cid]
        pts = net.curves[cid].points
        curve_n[row] = len(pts)
        curve_x[row, : len(pts)] = [p[0] / xf for p in pts]
        curve_y[row, : len(pts)] = [p[1] / yf for p in pts]
        return row

    # nodes
    elev = np.zeros(nn)
    elev[:nj] = np.fromiter(map(attrgetter("elevation"), net.junctions.values()), float, nj) / FT
    res_node, res_pat = [], []
    for r in net.reservoirs.values():
        i = node_index[r.id]
        elev[i] = r.head / FT
        res_node.append(i)
        res_pat.append(pattern_of(r.head_pattern) if r.head_pattern else -1)
    tank_cols: dict[str, list] = {k: [] for k in ("node", "area", "hmin", "hmax", "h0", "vmin", "vmax", "v0",
                                                  "vcurve", "overflow")}
    for t in net.tanks.values():
        i = node_index[t.id]
        el = t.elevation / FT
        elev[i] = el
        area = math.pi * (t.diameter / FT) ** 2 / 4.0
        hmin, hmax, h0 = el + t.min_level / FT, el + t.max_level / FT, el + t.init_level / FT
        vc = -1
        if t.volume_curve and t.volume_curve in curve_row:
            vc = put_curve(t.volume_curve, FT, CFS)
            xs, ys = curve_x[vc, : curve_n[vc]], curve_y[vc, : curve_n[vc]]
            vmin, vmax, v0 = (float(np.interp(h - el, xs, ys)) for h in (hmin, hmax, h0))
            if area == 0.0:  # EPANET gives curve tanks a nominal area so that they are not reservoirs
                area = max((vmax - vmin) / max(hmax - hmin, TINY), TINY)
        else:
            vmin = t.min_volume / CFS if t.min_volume > 0 else area * (hmin - el)
            vmax = vmin + area * (hmax - hmin)
            v0 = vmin + area * (h0 - hmin)
        if area <= 0.0:
            raise CompileError(f"tank {t.id!r} has no diameter and no volume curve")
        for k, v in zip(tank_cols, (i, area, hmin, hmax, h0, vmin, vmax, v0, vc, t.overflow), strict=True):
            tank_cols[k].append(v)

    # demands and emitters (one row per demand entry; attribute reads through C-level getters: this runs for
    # every junction)
    juncs = list(net.junctions.values())
    dem_lists = list(map(attrgetter("demands"), juncs))
    dem_node = np.repeat(np.arange(nj, dtype=np.int64), np.fromiter(map(len, dem_lists), np.int64, nj))
    dem_all = list(chain.from_iterable(dem_lists))
    dem_base = np.fromiter(map(attrgetter("base"), dem_all), float, len(dem_all)) / qcf
    default_row = pat_row.get(default_pat, 0) if default_pat else 0
    # pattern id -> row, with no id ("" or None) meaning the default pattern and unknown ids the constant one;
    # looked up through dict.get at C level (this runs for every demand entry)
    dem_rows = {**pat_row, "": default_row, None: default_row}
    dem_pat = np.fromiter(map(dem_rows.get, map(attrgetter("pattern"), dem_all), repeat(0)), np.int64, len(dem_all))
    qexp = 1.0 / (opts.emitter_exponent if opts.emitter_exponent > 0 else 0.5)
    emitter = np.fromiter(map(attrgetter("emitter"), juncs), float, nj)
    emit_ke = np.zeros(nj)
    has_em = emitter > 0.0
    # q_si = C p_m^γ  ->  h_ft = (q_cfs·qcf / C)^(1/γ) / FT
    emit_ke[has_em] = (qcf / emitter[has_em]) ** qexp / FT

    # links
    n1 = np.zeros(nl, np.int64)
    n2 = np.zeros(nl, np.int64)
    ltype = np.zeros(nl, np.int8)
    diam = np.zeros(nl)
    length = np.zeros(nl)
    rough = np.zeros(nl)
    kminor = np.zeros(nl)
    status0 = np.full(nl, OPEN, np.int8)
    setting0 = np.zeros(nl)
    links = list(net.links())
    node_get = node_index.get
    n1[:] = np.fromiter(map(node_get, map(attrgetter("node1"), links), repeat(-1)), np.int64, nl)
    n2[:] = np.fromiter(map(node_get, map(attrgetter("node2"), links), repeat(-1)), np.int64, nl)
    unknown = np.flatnonzero((n1 < 0) | (n2 < 0))
    if unknown.size:
        bad = links[int(unknown[0])]
        missing = bad.node1 if n1[unknown[0]] < 0 else bad.node2
        raise CompileError(f"link {bad.id!r} refers to unknown node {missing!r}")
    headloss = (opts.headloss or "H-W").upper()
    pipes = list(net.pipes.values())
    npipes = len(pipes)
    if npipes:
        get = attrgetter("diameter", "length", "roughness", "minor_loss", "check_valve", "leak_area", "leak_expansion")
        num = np.fromiter(chain.from_iterable(map(get, pipes)), float, 7 * npipes).reshape(npipes, 7)
        closed = np.array(list(map(attrgetter("initial_status"), pipes)), dtype=object) == "CLOSED"
        cols = np.column_stack([num[:, :5], closed, (num[:, 5] > 0) | (num[:, 6] > 0)]).astype(float)
        ltype[:npipes] = np.where(cols[:, 4] > 0, CVPIPE, PIPE)
        diam[:npipes] = cols[:, 0] / FT
        length[:npipes] = cols[:, 1] / FT
        rough[:npipes] = cols[:, 2] / FT if headloss == "D-W" else cols[:, 2]
        kminor[:npipes] = cols[:, 3]
        status0[:npipes] = np.where(cols[:, 5] > 0, CLOSED, OPEN)
        setting0[:npipes] = rough[:npipes]
        leaky = np.flatnonzero(cols[:, 6] > 0)
        if leaky.size:
            warnings.append({"kind": "pipe_leakage_ignored", "time": 0,
                             "elements": [pipes[i].id for i in leaky]})
    pump_cols: dict[str, list] = {k: [] for k in ("ptype", "h0", "r", "n", "q0", "qmax", "hmax", "curve", "pat")}
    for m, pu in enumerate(net.pumps.values()):
        k = npipes + m
        ltype[k] = PUMP
        status0[k] = CLOSED if pu.initial_status == "CLOSED" else OPEN
        setting0[k] = pu.speed
        if pu.initial_status != "CLOSED" and pu.speed == 0.0:
            status0[k] = CLOSED
        curve = -1
        if pu.pump_type == "POWER" and pu.power > 0:
            hp = pu.power / 0.7457  # EPANET's KWperHP
            vals = (CONST_HP, 0.0, -8.814 * hp, -1.0, 1.0, BIG, BIG)
        elif pu.head_curve and pu.head_curve in curve_row:
            pts = net.curves[pu.head_curve].points
            q = [x / qcf for x, _ in pts]
            h = [y / FT for _, y in pts]
            fit = None
            if len(pts) == 1:
                fit = _powercurve(1.33334 * h[0], h[0], 0.0, q[0], 2.0 * q[0])
                q1 = q[0]
            elif len(pts) == 3 and pts[0][0] == 0.0:
                fit = _powercurve(h[0], h[1], h[2], q[1], q[2])
                q1 = q[1]
            if len(pts) in (1, 3) and (len(pts) == 1 or pts[0][0] == 0.0):
                if fit is None:
                    raise CompileError(f"pump {pu.id!r}: curve {pu.head_curve!r} is not a valid pump curve "
                                       "(EPANET error 227)")
                a, b, c = fit
                vals = (POWER_FUNC, -a, -b, c, q1, (-a / b) ** (1.0 / c), a)
            else:
                if any(h[i] >= h[i - 1] for i in range(1, len(h))):
                    raise CompileError(f"pump {pu.id!r}: head curve {pu.head_curve!r} must fall with flow "
                                       "(EPANET error 227)")
                curve = put_curve(pu.head_curve, qcf, FT)
                vals = (CUSTOM, 0.0, 0.0, 1.0, (q[0] + q[-1]) / 2.0, q[-1], h[0])
        else:
            vals = (NOCURVE, 0.0, 0.0, 1.0, 1.0, BIG, BIG)
        for key, v in zip(("ptype", "h0", "r", "n", "q0", "qmax", "hmax"), vals, strict=True):
            pump_cols[key].append(v)
        pump_cols["curve"].append(curve)
        pump_cols["pat"].append(pattern_of(pu.speed_pattern) if pu.speed_pattern else -1)
    nvalve0 = npipes + len(net.pumps)
    for m, v in enumerate(net.valves.values()):
        k = nvalve0 + m
        vt = VALVE_CODES.get(v.valve_type.upper())
        if vt is None or vt == PCV:
            raise CompileError(f"valve {v.id!r}: type {v.valve_type!r} is not supported by the solver")
        ltype[k] = vt
        diam[k] = v.diameter / FT
        kminor[k] = v.minor_loss
        if vt in (PRV, PSV, FCV) and (n1[k] >= nj or n2[k] >= nj):
            raise CompileError(f"valve {v.id!r}: a {v.valve_type} cannot be joined to a tank or reservoir "
                               "(EPANET error 219)")
        if vt == GPV:
            if not v.curve or v.curve not in curve_row:
                raise CompileError(f"valve {v.id!r}: GPV needs a head-loss curve")
            setting0[k] = put_curve(v.curve, qcf, FT)
            status0[k] = CLOSED if v.initial_status == "CLOSED" else OPEN
            continue
        if v.initial_status in ("OPEN", "CLOSED"):
            status0[k] = OPEN if v.initial_status == "OPEN" else CLOSED
            setting0[k] = MISSING
        else:
            status0[k] = ACTIVE
            setting0[k] = valve_setting_internal(vt, v.setting, qcf)
    # resistance and minor losses (hydcoeffs.c resistcoeff)
    hexp = 1.852 if headloss == "H-W" else 2.0
    resist = np.full(nl, CSMALL)
    pi = np.arange(npipes)
    d, L, e = diam[pi], length[pi], rough[pi]
    if npipes:
        if np.any(d <= 0) or np.any(L <= 0) or np.any(e <= 0):
            bad = [link_ids[k] for k in pi[(d <= 0) | (L <= 0) | (e <= 0)]][:10]
            raise CompileError(f"pipes with non-positive length, diameter or roughness: {bad}")
        if headloss == "H-W":
            resist[pi] = 4.727 * L / e**hexp / d**4.871
        elif headloss == "D-W":
            resist[pi] = L / 2.0 / 32.2 / d / (math.pi * d**2 / 4.0) ** 2
        else:
            resist[pi] = (4.0 * e / (1.49 * math.pi * d**2)) ** 2 * (d / 4.0) ** -1.333 * L
    resist[ltype == PUMP] = CBIG
    with np.errstate(divide="ignore", invalid="ignore"):
        km = np.where(diam > 0, 0.02517 * kminor / diam**4, 0.0)
    km[ltype == PUMP] = 0.0

    t = opts.time
    hstep = _time(t.hydraulic_step, 3600) or 3600
    pstep = _time(t.pattern_step, 3600) or 3600
    rstep = _time(t.report_step, pstep) or pstep
    hstep = min(hstep, pstep, rstep)
    dur = _time(duration if duration is not None else t.duration, 0)
    rstart = _time(t.report_start, 0)
    if rstart > dur:
        rstart = 0
    rulestep = _time(t.rule_step, 0) or max(hstep // 10, 1)
    use_pda = (opts.demand_model == "PDA") if pda is None else bool(pda)
    unbalanced = (opts.unbalanced or "STOP").upper()
    extra = -1 if unbalanced.startswith("STOP") else int(opts.unbalanced_extra or 0)

    arr = np.asarray
    return Compiled(
        node_ids=node_ids, link_ids=link_ids, nj=nj, nn=nn, nl=nl, elev=elev,
        n1=n1, n2=n2, ltype=ltype, diam=diam, length=length, rough=rough, resist=resist, km=km,
        status0=status0, setting0=setting0, hexp=hexp, headloss=headloss,
        viscos=VISCOS * (opts.viscosity if opts.viscosity > 0 else 1.0),
        pipes=np.flatnonzero(ltype <= PIPE), cvpipes=np.flatnonzero(ltype == CVPIPE),
        pumps=np.flatnonzero(ltype == PUMP), valves=np.flatnonzero(ltype > PUMP),
        ptype=arr(pump_cols["ptype"], np.int8), pump_h0=arr(pump_cols["h0"], float),
        pump_r=arr(pump_cols["r"], float), pump_n=arr(pump_cols["n"], float), pump_q0=arr(pump_cols["q0"], float),
        pump_qmax=arr(pump_cols["qmax"], float), pump_hmax=arr(pump_cols["hmax"], float),
        pump_curve=arr(pump_cols["curve"], np.int64), pump_speed_pat=arr(pump_cols["pat"], np.int64),
        curve_ids=curve_ids, curve_x=curve_x, curve_y=curve_y, curve_n=curve_n,
        tank_node=arr(tank_cols["node"], np.int64), tank_area=arr(tank_cols["area"], float),
        tank_hmin=arr(tank_cols["hmin"], float), tank_hmax=arr(tank_cols["hmax"], float),
        tank_h0=arr(tank_cols["h0"], float), tank_vmin=arr(tank_cols["vmin"], float),
        tank_vmax=arr(tank_cols["vmax"], float), tank_v0=arr(tank_cols["v0"], float),
        tank_vcurve=arr(tank_cols["vcurve"], np.int64), tank_overflow=arr(tank_cols["overflow"], bool),
        res_node=arr(res_node, np.int64), res_pat=arr(res_pat, np.int64),
        dem_node=arr(dem_node, np.int64), dem_base=arr(dem_base, float), dem_pat=arr(dem_pat, np.int64),
        emit_ke=emit_ke, qexp=qexp,
        pat_ids=pat_ids, pat_flat=pat_flat, pat_start=pat_start, pat_len=pat_len,
        dmult=opts.demand_multiplier, trials=int(opts.trials or 200), accuracy=float(opts.accuracy or 0.001),
        extra_iter=extra, check_freq=int(opts.check_freq or 2), max_check=int(opts.max_check or 10),
        damp_limit=float(opts.damp_limit or 0.0), head_error=float(opts.head_error or 0.0) / FT,
        flow_change=float(opts.flow_change or 0.0) / qcf, pda=use_pda,
        pmin=opts.minimum_pressure / FT, preq=opts.required_pressure / FT, pexp=opts.pressure_exponent,
        emit_backflow=bool(opts.emitter_backflow), sg=sg,
        duration=dur, hstep=hstep, pstep=pstep, pstart=_time(t.pattern_start, 0), rstep=rstep, rstart=rstart,
        rulestep=rulestep, tstart=_time(t.start_clocktime, 0),
        qcf=qcf, node_index=node_index, link_index=link_index, warnings=warnings,
    )


def valve_setting_internal(vtype: int, si_value: float, qcf: float = CFS) -> float:
    """A valve setting from SI (m of head, m³/s, loss coefficient) to EPANET internal units."""
    if vtype in (PRV, PSV, PBV):
        return si_value / FT
    if vtype == FCV:
        return si_value / qcf
    return si_value


def valve_setting_si(vtype: np.ndarray, value: np.ndarray, qcf: float = CFS) -> np.ndarray:
    """Inverse of `valve_setting_internal`, vectorised; MISSING becomes NaN."""
    out = np.where(np.isin(vtype, (PRV, PSV, PBV)), value * FT, np.where(vtype == FCV, value * qcf, value))
    return np.where(value == MISSING, np.nan, out)
