"""Source tracing (水源追踪): which plant's water reaches every node, and in what share.

Steady mixing: with the flows of one hydraulic solution, the share c_i (a row over the sources) at a node
that is not a source is the flow-weighted mean of what flows in:  (Σ_in |q|) c_i − Σ_{j→i} |q_ji| c_j = 0,
and c = e_k at source k.  That is one sparse linear system A C = B with one right-hand side per source,
built with vectorised index arithmetic and solved by one LU factorisation (nodes no water flows into keep
NaN: stagnant, no share).  Complete mixing at nodes, as EPANET's TRACE assumes.

Over an extended-period run (`trace_run`) every reporting hour is solved with that hour's flows; tanks that
supply the network are sources whose water is their current mixture, and tanks that fill mix their inflow
into their content (complete-mix tank, volume from the level), so storage carries plants' water from the
night into the morning.  Water in the tanks at the start of the traced period has the label "storage"
(origin unknown) unless an earlier period was traced first.

`freeze(network, run, hour)` and `epanet_trace(network, sources)` make the steady-state check against EPANET
2.3's own TRACE water-quality run: the hour's demands, tank heads (as fixed-head reservoirs) and pump states
frozen, EPANET run long enough for the trace to settle.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from runze.network.model import Network, Pattern, Reservoir

STORAGE = "storage"
SINGLE_SOURCE = 0.95
MIN_FLOW = 1e-7  # m³/s (0.1 mL/s): below this a link carries nothing for mixing (solver noise in dry areas)


class Mixer:
    """Index arrays of one network, built once; `solve(flows, source_rows)` per hydraulic snapshot."""

    def __init__(self, network: Network) -> None:
        self.node_ids = network.node_ids
        self.link_ids = network.link_ids
        pos = {n: i for i, n in enumerate(self.node_ids)}
        links = list(network.links())
        self.n1 = np.array([pos[lk.node1] for lk in links], dtype=np.int64)
        self.n2 = np.array([pos[lk.node2] for lk in links], dtype=np.int64)
        self.n = len(self.node_ids)
        self.pos = pos

    def solve(self, flows: np.ndarray, sources: dict[int, np.ndarray]) -> np.ndarray:
        """Shares (nodes x K): flows (m³/s, link order), sources {node index: share row}."""
        q = np.where(np.abs(flows) > MIN_FLOW, flows, 0.0)
        up = np.where(q > 0, self.n1, self.n2)
        down = np.where(q > 0, self.n2, self.n1)
        aq = np.abs(q)
        used = aq > 0
        inflow = np.bincount(down[used], weights=aq[used], minlength=self.n)
        src_idx = np.fromiter(sources.keys(), dtype=np.int64, count=len(sources))
        k = len(next(iter(sources.values()))) if sources else 0
        fixed = inflow <= 0
        fixed[src_idx] = True
        keep = used & ~fixed[down]
        diag = np.where(fixed, 1.0, inflow)
        rows = np.concatenate([np.arange(self.n), down[keep]])
        cols = np.concatenate([np.arange(self.n), up[keep]])
        vals = np.concatenate([diag, -aq[keep]])
        a = sp.csc_matrix((vals, (rows, cols)), shape=(self.n, self.n))
        b = np.zeros((self.n, k))
        if len(src_idx):
            b[src_idx] = np.array(list(sources.values()))
        try:
            c = spla.splu(a).solve(b)
        except RuntimeError:
            # a closed loop of flow with nothing entering it (noise circulating in an area cut off from every
            # source): a small leak on the diagonal gives its nodes ~zero of every source; marked NaN below
            reg = sp.diags(np.full(self.n, 1e-9 * max(float(inflow.max()), 1e-12)))
            c = spla.splu((a + reg).tocsc()).solve(b)
        stagnant = (inflow <= 0) | (c.sum(axis=1) < 0.5) if k else (inflow <= 0)
        stagnant[src_idx] = False
        c[stagnant] = np.nan
        return c


@dataclass
class TraceResult:
    labels: list[str]
    node_ids: list[str]
    shares: np.ndarray  # hours x nodes x labels
    tank_mix: dict[str, np.ndarray]  # composition at the end

    def mean_shares(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Nodes x labels averaged over the hours (weights: hours x nodes, e.g. the demand)."""
        s = np.nan_to_num(self.shares, nan=0.0)
        have = ~np.isnan(self.shares[..., 0])
        w = have.astype(float) if weights is None else np.where(have, weights, 0.0)
        tot = w.sum(axis=0)
        out = np.einsum("hn,hnk->nk", w, s) / np.where(tot > 0, tot, 1.0)[:, None]
        out[tot <= 0] = np.nan
        return out


def source_labels(network: Network) -> tuple[list[str], dict[str, int]]:
    """Labels: one per plant (by id), one per other reservoir, and "storage"."""
    labels, node_label = [], {}
    plant_of = {p["source"]: p["id"] for p in network.utility.plants if "source" in p}
    for r in network.reservoirs:
        lab = plant_of.get(r, r)
        if lab not in labels:
            labels.append(lab)
        node_label[r] = labels.index(lab)
    labels.append(STORAGE)
    return labels, node_label


def trace_run(network: Network, run, tank_mix: dict[str, np.ndarray] | None = None,
              hours: int | None = None) -> TraceResult:
    """Hour-by-hour shares over a run (`run.link['flow']`, `run.node['head'|'demand']`, hourly rows)."""
    mixer = Mixer(network)
    labels, node_label = source_labels(network)
    k = len(labels)
    flows = run.link["flow"].reindex(columns=mixer.link_ids).to_numpy()
    heads = run.node["head"].reindex(columns=list(network.tanks)).to_numpy()
    tdem = run.node["demand"].reindex(columns=list(network.tanks)).to_numpy()  # net inflow (+ filling)
    times = run.link["flow"].index.to_numpy()
    n_h = len(times) if hours is None else min(hours, len(times))
    step = np.diff(times, append=times[-1] + 3600)
    mix = {t: np.eye(k)[k - 1].copy() for t in network.tanks}
    if tank_mix:
        mix.update({t: np.asarray(v, float) for t, v in tank_mix.items()})
    res_rows = {mixer.pos[r]: np.eye(k)[i] for r, i in node_label.items()}
    out = np.full((n_h, mixer.n, k), np.nan)
    tanks = list(network.tanks)
    for h in range(len(times)):
        sources = dict(res_rows)
        for ti, t in enumerate(tanks):
            if tdem[h, ti] < -MIN_FLOW:  # supplying: a source with its own mixture
                sources[mixer.pos[t]] = mix[t]
        c = mixer.solve(flows[h], sources)
        if h < n_h:
            out[h] = c
        for ti, t in enumerate(tanks):
            q_in = tdem[h, ti]
            if q_in > MIN_FLOW and not np.isnan(c[mixer.pos[t], 0]):
                tk = network.tanks[t]
                vol = np.pi / 4 * tk.diameter**2 * max(heads[h, ti] - tk.elevation, 0.0) + tk.min_volume
                vin = q_in * step[h]
                mix[t] = (vol * mix[t] + vin * c[mixer.pos[t]]) / max(vol + vin, 1e-9)
    return TraceResult(labels, mixer.node_ids, out, mix)


def zone_shares(network: Network, trace: TraceResult, weights: np.ndarray | None,
                juncs: list[str]) -> list[dict[str, Any]]:
    """Per DMA (and per pressure zone): demand-weighted shares over the hours; single-plant dependence."""
    pos = {n: i for i, n in enumerate(trace.node_ids)}
    jpos = np.array([pos[j] for j in juncs])
    shares = trace.shares[:, jpos, :]
    sub = TraceResult(trace.labels, juncs, shares, trace.tank_mix)
    w = weights if weights is not None else None
    node_mean = sub.mean_shares(w)
    wsum = (np.nan_to_num(w, nan=0.0).sum(axis=0) if w is not None else np.ones(len(juncs)))
    jp = {j: i for i, j in enumerate(juncs)}
    groups: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for did, d in network.utility.dmas.items():
        groups[did] = [jp[n] for n in d.get("nodes", []) if n in jp]
        names[did] = d.get("name", did)
    zones: dict[str, list[int]] = {}
    for n, z in network.utility.zones.items():
        if n in jp:
            zones.setdefault(f"zone:{z}", []).append(jp[n])
    groups.update(zones)
    rows = []
    for gid, idx in groups.items():
        if not idx:
            continue
        idx_a = np.array(idx)
        ww = wsum[idx_a]
        m = node_mean[idx_a]
        ok = ~np.isnan(m[:, 0])
        tot = ww[ok].sum()
        agg = (m[ok] * ww[ok, None]).sum(axis=0) / tot if tot > 0 else np.full(len(trace.labels), np.nan)
        plant_part = {lab: float(v) for lab, v in zip(trace.labels, agg, strict=True)}
        top = max((lab for lab in trace.labels if lab != STORAGE), key=lambda lab: plant_part[lab])
        rows.append({"id": gid, "name": names.get(gid, gid), "shares": {k: round(v, 4) for k, v in plant_part.items()},
                     "main_source": top, "single_source": bool(plant_part[top] > SINGLE_SOURCE),
                     "nodes": len(idx)})
    return rows


# ---- the steady-state check against EPANET 2.3 ---------------------------------------------------------
def freeze(network: Network, run, hour: int, pattern_offset: int = 0) -> Network:
    """A steady copy at reporting row `hour` of `run`: tanks become reservoirs at their head, demands the
    hour's (constant pattern), pumps as they ran, no controls; duration set by the caller."""
    net = network.copy()
    t_s = int(run.node["head"].index[hour])
    head = run.node["head"].iloc[hour]
    flow = run.link["flow"].iloc[hour]
    for t in list(net.tanks):
        tk = net.tanks.pop(t)
        net.reservoirs[t] = Reservoir(t, float(head[t]), x=tk.x, y=tk.y, tag=tk.tag)
    opts = net.options.time
    pstep = int(opts.pattern_step or 3600)
    k = (int(opts.pattern_start) + pattern_offset + t_s) // pstep
    default = net.options.default_pattern or ("1" if "1" in net.patterns else None)
    for j in net.junctions.values():
        for d in j.demands:
            pat = net.patterns.get(d.pattern if d.pattern is not None else default or "")
            m = pat.multipliers[k % len(pat.multipliers)] if pat and pat.multipliers else 1.0
            d.base *= m * net.options.demand_multiplier
            d.pattern = "FROZEN"
    net.options.demand_multiplier = 1.0
    net.patterns["FROZEN"] = Pattern("FROZEN", [1.0])
    for u, pu in net.pumps.items():
        pu.initial_status = "OPEN" if abs(flow[u]) > 1e-6 else "CLOSED"
        pu.speed_pattern = None
    net.controls, net.rules = [], []
    net.options.time.pattern_start = 0.0
    net.options.time.start_clocktime = 0.0
    return net


def epanet_trace(network: Network, sources: list[str], hours: float = 240.0,
                 quality_step_s: int = 300) -> dict[str, np.ndarray]:
    """EPANET 2.3 TRACE of each source node: {source: percent at every node (network order) at the end}."""
    from epanet import toolkit as en

    from runze.network.inp import write_inp

    out = {}
    with tempfile.TemporaryDirectory(prefix="runze-trace-") as tmp:
        path = Path(tmp) / "trace.inp"
        write_inp(network, path, sidecar=False)
        for src in sources:
            ph = en.createproject()
            try:
                en.open(ph, str(path), str(Path(tmp) / "trace.rpt"), "")
                if network.options.demand_model == "PDA":
                    pass  # the file carries the PDA options
                en.settimeparam(ph, en.DURATION, int(hours * 3600))
                en.settimeparam(ph, en.HYDSTEP, 3600)
                en.settimeparam(ph, en.QUALSTEP, int(quality_step_s))
                en.settimeparam(ph, en.REPORTSTEP, 3600)
                en.setqualtype(ph, en.TRACE, "", "", src)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    en.solveH(ph)
                    en.openQ(ph)
                    en.initQ(ph, 0)
                    while True:
                        en.runQ(ph)
                        if en.nextQ(ph) <= 0:
                            break
                n = en.getcount(ph, en.NODECOUNT)
                ids = [en.getnodeid(ph, i) for i in range(1, n + 1)]
                q = np.array([en.getnodevalue(ph, i, en.QUALITY) for i in range(1, n + 1)])
                en.closeQ(ph)
                order = {nid: i for i, nid in enumerate(ids)}
                out[src] = q[[order[nid] for nid in network.node_ids]]
            finally:
                en.close(ph)
                en.deleteproject(ph)
    return out


def steady_check(network: Network, hour: int, epanet: bool = False, epanet_hours: float = 240.0) -> dict[str, Any]:
    """Shares at a frozen hour of normal operation (plants capped, file's demand model); optionally the
    EPANET 2.3 TRACE run of every plant on the same frozen network, and the largest difference in
    percentage points over the nodes that carry flow."""
    import runze
    from runze.analysis.dispatch.events import cap_plants
    from runze.analysis.dispatch.simrun import Run

    normal = cap_plants(network.copy())
    res = runze.simulate(normal, duration=float(hour * 3600))
    steady = freeze(normal, res, hour)
    steady.options.time.duration = 0.0
    snap = runze.simulate(steady, duration=0.0)
    tr = trace_run(steady, Run(snap.node, snap.link, "runze"))
    juncs = list(steady.junctions)
    pos = {n: i for i, n in enumerate(tr.node_ids)}
    dem = snap.node["demand"][juncs].to_numpy()
    out: dict[str, Any] = {"labels": tr.labels, "shares": tr.shares[0], "node_ids": tr.node_ids,
                           "zones": zone_shares(network, tr, np.clip(dem, 0.0, None), juncs)}
    if epanet:
        plants = {p["source"]: p["id"] for p in network.utility.plants}
        ep = epanet_trace(steady, list(plants), hours=epanet_hours)
        jidx = np.array([pos[j] for j in juncs])
        diffs, compared = {}, 0
        for src, pid in plants.items():
            mine = tr.shares[0][jidx, tr.labels.index(pid)] * 100.0
            theirs = ep[src][jidx]
            ok = ~np.isnan(mine)
            compared = int(ok.sum())
            diffs[pid] = float(np.max(np.abs(mine[ok] - theirs[ok]))) if ok.any() else float("nan")
        out["epanet_percent"] = ep
        out["max_diff_pp"] = diffs
        out["compared_nodes"] = compared
        out["stagnant_nodes"] = int(len(juncs) - compared)
    return out
