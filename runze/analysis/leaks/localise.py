"""Leak localisation: candidate pipes ranked by how well a leak there explains the pressure residuals.

1. Pressure residuals: each pressure sensor is predicted from all the others, r = p − B·p − c (ridge fit over
   the days just before the event, on `block_min` means, so seasons and other quasi-static leaks are in it).
   Weather and demand swings move all sensors together and cancel; a leak leaves a local dent.  The same
   linear map applied to a modelled leak's pressure change gives its expected residual: (I − B)·Δp, so
   matching is done in residual space.
2. The area's own demand swings (`area_flow`, its inflow residual f(t)): they move the area's inflow and its
   pressures together just as a leak does, and on generated data they are as large as the leak (±5 m³/h on
   a DMA taking 460 m³/h).  Residuals minus β·f(t), β the modelled pressure change of one m³/h more demand
   spread over the area's junctions like their use (`demand_weights`); a leak at node j then leaves
   (S_j − β)·ℓ(t).  Without `area_flow`: no correction, ℓ = q.
3. Observed signature: regress each sensor's residual on the leak's course ℓ(t) (the metered leak flow q(t)
   from the start to the detection, smoothed by `_leak_course`: a step's mean, or a ramp over long windows):
   ŝ_i = Σ r_i ℓ / Σ ℓ², in m per m³/h.
4. Modelled signatures: `sensitivity` — runze's batch solver (`sensitivity.leak_sensitivity`: one emitter
   scenario per candidate node at a few clock hours weighted like ℓ(t)²), at the estimated leak size (head loss
   grows with the square of the flow, so a per-m³/h change from a 1 m³/h probe understates a 5 m³/h leak).
   With `flows` (metered link flows) and `area_inflow`: each meter's departure from its usual share of the
   area's inflow joins the sensors, modelled by the batch solver's link flows (which inlet or source the
   leak draws from).
5. Matching only on the sensors some candidate moves (`relevant`), weighted by the full residual covariance of
   the days before the event (shrunk towards its diagonal, `gls`): neighbouring loggers share local demand
   swings, and treating them as independent lets a shared swing pass for a leak's dent (diagonal weights
   alone: median 548 m instead of 240 on the harness).
6. Candidate pipes inside the area: a leak on a pipe is a blend of its end nodes' signatures; the misfit at
   each blend (free scale γ ≥ 0).  The best `refine` pipes are scored again with their end nodes solved at
   every clock hour the event covers (full batch solves at the leak size, finer blends).
7. Posterior of each pipe: likelihood exp(−Δmisfit / 2Tσ²) averaged along the pipe (the leak anywhere on it)
   × length (leaks per km), σ² the best fit's misfit per degree of freedom; T (`temperature`) was set on
   generated demo-city data so that the confidence mass within 300 m of the top pipe matches how often the
   top pipe is within 300 m of the leak.  The pick (first row) minimises the expected network distance to the
   leak under a sharper posterior (`decide_temperature`); the others follow by confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from runze.analysis.leaks.epanet_run import steady_sensitivity
from runze.analysis.leaks.layout import SensorLayout
from runze.analysis.leaks.sensitivity import leak_sensitivity
from runze.network.model import Network
from runze.network.topology import NetworkGraph, pipe_distance

CLOCK_HOURS = (3.0, 9.0, 15.0, 21.0)


@dataclass
class PressureModel:
    sensors: list[str]
    nodes: list[str]
    B: np.ndarray  # (n, n) zero diagonal
    c: np.ndarray
    block_min: int

    def residuals(self, pressure: pd.DataFrame) -> pd.DataFrame:
        p = pressure[self.sensors].resample(f"{self.block_min}min").mean().interpolate(limit=8).ffill().bfill()
        x = p.to_numpy()
        r = x - x @ self.B.T - self.c
        return pd.DataFrame(r, index=p.index, columns=self.sensors)

    def transform(self, dp: np.ndarray) -> np.ndarray:
        """Expected residual of a pressure change dp (n_sensors x ...)."""
        return dp - np.tensordot(self.B, dp, axes=(1, 0))


def fit_pressure_model(pressure: pd.DataFrame, layout: SensorLayout, train_end: pd.Timestamp,
                       block_min: int = 15, ridge: float = 0.1, train_days: float | None = None,
                       regressors_outside: set[str] | None = None) -> PressureModel:
    """Ridge regression of every sensor on all the others over the `train_days` before `train_end` (all before
    it when None), from one regularised precision matrix P: B_ij = −P_ij / P_ii (the regression of i on the
    rest), so the fit is one inverse however many sensors there are.  `ridge` (× the mean variance): 0.1 localised
    one leak more in 29 than 0.01 on the demo-city harness, at 2 h and at 24 h (within the noise, same direction)."""
    sensors = [s for s in pressure.columns if s in layout.pressure and pressure[s].notna().mean() > 0.5]
    window = pressure.loc[:train_end - pd.Timedelta(seconds=1), sensors]
    if train_days is not None:
        window = window.loc[train_end - pd.Timedelta(days=train_days):]
    p = window.resample(f"{block_min}min").mean().interpolate(limit=8).ffill().bfill()
    x = p.to_numpy()
    mean = x.mean(axis=0)
    xc = x - mean
    n = len(sensors)
    cov = xc.T @ xc / max(len(xc) - 1, 1)
    lam = ridge * np.trace(cov) / max(n, 1)
    if regressors_outside:
        # predict every sensor from the sensors away from the suspected area only, so the leak's local dent
        # is not explained away by its neighbours (the same map still applies to modelled signatures)
        out = np.array([layout.pressure[sn] not in regressors_outside for sn in sensors])
        if 3 <= out.sum() < n:
            B = np.zeros((n, n))
            g = cov[np.ix_(out, out)] + lam * np.eye(int(out.sum()))
            B[:, out] = np.linalg.solve(g, cov[out, :]).T
            B[out, :] = 0.0  # outside sensors: from the other outside sensors (below)
            idx = np.flatnonzero(out)
            for k, i in enumerate(idx):  # leave-one-out among the few outside regressors
                others = np.delete(idx, k)
                gi = cov[np.ix_(others, others)] + lam * np.eye(len(others))
                B[i, others] = np.linalg.solve(gi, cov[others, i])
            c = mean - B @ mean
            return PressureModel(sensors, [layout.pressure[sn] for sn in sensors], B, c, block_min)
    prec = np.linalg.inv(cov + lam * np.eye(n))
    B = -prec / np.diag(prec)[:, None]
    np.fill_diagonal(B, 0.0)
    c = mean - B @ mean
    return PressureModel(sensors, [layout.pressure[s] for s in sensors], B, c, block_min)


def sensitivity(net: Network, candidates: list[str], model: PressureModel, hours: list[float],
                weights: np.ndarray, leak_m3h: float = 1.0, engine: str = "batch",
                flow_links: list[str] = ()) -> np.ndarray:
    """Expected residual per m³/h of leak at each candidate node (n_sensors x n_candidates), weighted over hours;
    with `flow_links`, one more row per link: its flow change per m³/h of leak.

    Computed at the estimated leak size `leak_m3h`: per m³/h, a 5 m³/h leak on a DMA main drops the pressure
    about 1.6 times as much as a 1 m³/h one (head loss grows with the square of the flow).  engine: "batch"
    (runze's batch solver) or "epanet" (toolkit steady solves, the reference).
    """
    flow_links = list(flow_links)
    if engine == "epanet":
        dp, dq = steady_sensitivity(net, candidates, model.nodes, flow_links, list(hours), leak_m3h=leak_m3h)
        if flow_links:
            dp = np.concatenate([dp, dq], axis=1)
    else:
        dp = leak_sensitivity(net, candidates, model.nodes, list(hours), leak_m3h=leak_m3h, flow_links=flow_links)
    avg = np.tensordot(weights / max(weights.sum(), 1e-12), dp, axes=(0, 0))
    n = len(model.nodes)
    return np.vstack([model.transform(avg[:n]), avg[n:]])


BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
FINE_BLENDS = tuple(np.linspace(0.0, 1.0, 11))


def _blend_misfits(obs: np.ndarray, sa: np.ndarray, sb: np.ndarray, blends=BLENDS) -> np.ndarray:
    """Misfit |obs − γ·(t·sa + (1−t)·sb)|² at each blend t (best scale γ ≥ 0): (n_blends, n_pipes)."""
    out = np.empty((len(blends), sa.shape[1]))
    for k, t in enumerate(blends):
        s = t * sa + (1 - t) * sb
        gamma = np.clip((s * obs[:, None]).sum(0) / np.maximum((s * s).sum(0), 1e-18), 0.0, None)
        out[k] = ((obs[:, None] - gamma * s) ** 2).sum(0)
    return out


def whitener(base: np.ndarray, shrink: float) -> np.ndarray:
    """W with Wᵀ W = Σ⁻¹, Σ the covariance of the residuals before the event, shrunk towards its diagonal.

    Neighbouring sensors share the same local demand swings, so their residual noise is correlated; weighting
    by the full (shrunk) covariance instead of each sensor's variance keeps that shared swing from looking like
    a leak's dent."""
    cov = np.atleast_2d(np.cov(base, rowvar=False))
    d = np.diag(cov).copy()
    cov = (1 - shrink) * cov + shrink * np.diag(d) + 1e-6 * np.eye(len(d))
    return np.linalg.inv(np.linalg.cholesky(cov))


def _hour_weights(index: pd.DatetimeIndex, q: np.ndarray, hourly: bool) -> tuple[list[float], np.ndarray]:
    """Clock hours to solve and their weights (share of Σq²): CLOCK_HOURS ± 3 h, or every hour covered."""
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    if hourly:
        wts = np.bincount(np.floor(hours).astype(int) % 24, q ** 2, 24)
        return [float(h) + 0.5 for h in np.flatnonzero(wts > 0)], wts[wts > 0]
    wts = np.array([((q ** 2)[np.abs(((hours - h + 12) % 24) - 12) <= 3]).sum() for h in CLOCK_HOURS])
    return list(CLOCK_HOURS), wts


def demand_weights(net: Network, nodes: list[str]) -> np.ndarray:
    """Share of the day's modelled demand of each of `nodes` (junctions; others 0): where an area's own
    demand swings are drawn from."""
    from runze.analysis.leaks.simulate import hourly_base_demand

    col = {j: i for i, j in enumerate(net.junctions)}
    mean = hourly_base_demand(net, 24).mean(axis=0)
    w = np.array([mean[col[n]] if n in col else 0.0 for n in nodes])
    return w / w.sum() if w.sum() > 0 else w


def _leak_course(q: np.ndarray) -> np.ndarray:
    """The leak's flow through the window, smoothed: its mean over short windows (a burst is a step; the
    area's demand swings are as large as the leak within hours), a least-squares ramp over long ones (an
    incipient leak grows), never below 0."""
    n = len(q)
    if n < 48:
        return np.full(n, max(float(q.mean()), 0.0))
    t = np.arange(n, dtype=float)
    a, b = np.polyfit(t, q, 1)
    return np.clip(a * t + b, 0.0, None)


def localise(net: Network, graph: NetworkGraph, model: PressureModel, residual: pd.DataFrame,
             leak_flow: pd.Series, area_nodes: list[str] | None, top: int = 5, *, engine: str = "batch",
             gls: float = 0.05, relevant: float = 0.05, refine: int = 10, temperature: float = 1.5,
             area_flow: pd.Series | None = None, demand_correct: str = "model",
             decide: str = "distance", prior_len: float = 1.0, decide_temperature: float = 0.3,
             info: dict | None = None,
             flows: pd.DataFrame | None = None, area_inflow: pd.Series | None = None) -> list[dict]:
    """Candidate pipes, best first: {pipe, confidence, distance_m (from the best), x, y, misfit}.

    engine: "batch" or "epanet" for the sensitivities; gls: shrinkage of the residual covariance (< 0: each
    sensor weighted by its own variance only); relevant: keep sensors moved by at least this share of the
    largest modelled change (0: all); refine: the best `refine` pipes are scored again with full solves of their
    end nodes at every clock hour the event covers; temperature: width of the confidences (0: the old rule).
    area_flow: the area's inflow residual (m³/h) over the residual's span, before the event included (the
    demand correction, step 2; demand_correct "model", "empirical" (β regressed on the days before) or
    "none"); flows / area_inflow: metered link flows (columns: link ids) and the area's inflow, m³/h, on the
    same clock (step 4); decide: "distance" (step 7) or "none" (most likely first); prior_len: exponent of
    the length prior; info: filled with diagnostics (sensors used, leak size, signal, σ²).
    """
    q = leak_flow.to_numpy(float)
    if float((q * q).sum()) <= 0:
        return []
    nodes = set(area_nodes) if area_nodes else set(net.junctions)
    pipe_ids = [p.id for p in net.pipes.values() if p.initial_status == "OPEN"
                and (p.node1 in nodes or p.node2 in nodes)]
    if not pipe_ids:
        return []
    cand = sorted({n for pid in pipe_ids for n in (net.pipes[pid].node1, net.pipes[pid].node2)
                   if n in net.junctions})
    correct = area_flow is not None and demand_correct != "none"
    ell = _leak_course(q) if correct else q
    if float((ell * ell).sum()) <= 0:
        ell = q
    size = max(float((ell * ell).sum()) / max(float(ell.sum()), 1e-9), 0.5)  # the ℓ²-weighted leak flow, m³/h
    hours, wts = _hour_weights(leak_flow.index, ell, False)
    links = []
    if flows is not None and area_inflow is not None:
        known = {lk.id for lk in net.links()}
        links = [k for k in flows.columns if k in known]
    S = sensitivity(net, cand, model, hours, wts, leak_m3h=size, engine=engine, flow_links=links)
    n_p = residual.shape[1]
    R = residual
    beta = np.zeros(R.shape[1])
    if correct:
        # the area's own demand swings move its inflow and its pressures together, as a leak does: the
        # residual minus β × (inflow residual) keeps the leak's dent and drops most of the swing, and a leak
        # at node j then leaves (S_j − β)·ℓ(t)
        f = area_flow.reindex(R.index).interpolate(limit_direction="both").fillna(0.0).to_numpy(float)
        pre = R.index < leak_flow.index[0]
        if demand_correct == "empirical" and pre.sum() > 8:
            fc = f[pre] - f[pre].mean()
            beta = ((R.to_numpy()[pre] - R.to_numpy()[pre].mean(0)) * fc[:, None]).sum(0) / max(float(fc @ fc), 1e-9)
        else:
            inside = [i for i, n in enumerate(cand) if n in nodes]
            beta = S[:n_p, inside] @ demand_weights(net, [cand[i] for i in inside])
        R = R - np.outer(f, beta)
    if links:
        # metered flows: each meter's share of the area's inflow, r_k = Q_k − c_k − a_k·A (fitted before the
        # event); a leak at j adds ℓ to A and s_kj·ℓ to Q_k, so it leaves (s_kj − a_k)·ℓ: where the leak
        # draws its water from (which inlet, which source) says where it is
        A = area_inflow.reindex(R.index).interpolate(limit_direction="both").fillna(0.0).to_numpy(float)
        Q = flows[links].reindex(R.index).interpolate(limit_direction="both").fillna(0.0).to_numpy(float)
        pre = np.asarray(R.index < leak_flow.index[0])
        X = np.column_stack([np.ones(int(pre.sum())), A[pre]])
        coef = np.linalg.lstsq(X, Q[pre], rcond=None)[0] if pre.sum() > 8 else np.zeros((2, len(links)))
        rq = Q - coef[0] - np.outer(A, coef[1])
        R = pd.concat([R, pd.DataFrame(rq, index=R.index, columns=[f"Q:{k}" for k in links])], axis=1)
        beta = np.concatenate([beta, coef[1]])
    S = S - beta[:, None]
    r = R.loc[leak_flow.index].to_numpy(float)
    base = R.loc[:leak_flow.index[0]].iloc[:-1]
    r = r - (base.mean().to_numpy() if len(base) else 0.0)  # level before the event
    obs = (r * ell[:, None]).sum(0) / float((ell * ell).sum())
    col = {n: i for i, n in enumerate(cand)}
    ia = np.array([col.get(net.pipes[p].node1, len(cand)) for p in pipe_ids])  # len(cand): a tank/reservoir end
    ib = np.array([col.get(net.pipes[p].node2, len(cand)) for p in pipe_ids])
    keep = (np.abs(S[:n_p]).max(axis=1) >= relevant * np.abs(S[:n_p]).max() if relevant > 0
            else np.ones(n_p, dtype=bool))  # sensors no candidate moves add noise, not information
    keep = np.concatenate([keep, np.ptp(S[n_p:], axis=1) > 0.02])  # meters whose share moves with the place
    if gls >= 0 and len(base) > 8:
        W = whitener(base.to_numpy()[:, keep], gls)
    else:
        noise = base.var().to_numpy()[keep] if len(base) > 8 else np.var(r - np.outer(ell, obs), axis=0)[keep]
        W = np.diag(1.0 / np.sqrt(noise + 1e-6))
    obs_w = W @ obs[keep]

    def whiten(S_: np.ndarray) -> np.ndarray:
        # last column: a tank or reservoir end, where a leak moves nothing (−β after the demand correction)
        return np.hstack([W @ S_[keep], (W @ -beta[keep])[:, None]])

    Sx = whiten(S)
    fits = list(_blend_misfits(obs_w, Sx[:, ia], Sx[:, ib]).T)  # per pipe: misfit at each position along it
    sse = np.array([f.min() for f in fits])
    if refine > 0 and engine == "batch":
        # the best pipes again, with their end nodes solved at every clock hour the event covers (weights q²)
        # and finer blends: the 4-hour average smooths over the day's changing flows
        best = np.argsort(sse)[:refine]
        rnodes = sorted({n for i in best for n in (net.pipes[pipe_ids[i]].node1, net.pipes[pipe_ids[i]].node2)
                         if n in col})
        if rnodes:
            rh, rw = _hour_weights(leak_flow.index, ell, True)
            Sr = whiten(sensitivity(net, rnodes, model, rh, rw, leak_m3h=size, flow_links=links) - beta[:, None])
            rcol = {n: i for i, n in enumerate(rnodes)}
            ra = np.array([rcol.get(net.pipes[pipe_ids[i]].node1, len(rnodes)) for i in best])
            rb = np.array([rcol.get(net.pipes[pipe_ids[i]].node2, len(rnodes)) for i in best])
            fine = _blend_misfits(obs_w, Sr[:, ra], Sr[:, rb], FINE_BLENDS)
            for k, i in enumerate(best):
                fits[i] = fine[:, k]
            sse[best] = fine.min(axis=0)
    sigma2 = max(float(sse.min()) / max(len(obs_w) - 2, 1), 1e-15)  # noise + model error, from the best fit
    if temperature > 0:
        scale = 2 * temperature * sigma2
    else:
        scale = 2 * max(float(np.min(sse)), 1e-9)
    if info is not None:  # diagnostics: signal and noise of the fit
        info.update(sensors=int(keep.sum()), size_m3h=size, signal=float(obs_w @ obs_w), best=float(sse.min()),
                    sigma2=sigma2)
    # posterior of each pipe: the leak anywhere along it (likelihood averaged over the positions), a prior
    # ∝ length^prior_len (leaks per km of main)
    length = np.array([max(float(net.pipes[p].length), 1.0) for p in pipe_ids])
    like = np.array([np.exp(-(f - sse.min()) / scale).mean() for f in fits])
    conf = like * length ** prior_len
    conf /= conf.sum()
    order = np.argsort(-conf)
    if decide == "distance":
        # the pick that minimises the expected network distance to the leak over the posterior (what the crew
        # walks and what BattLeDIM charges), rather than the single most likely pipe: a dent explained as well
        # by every pipe at one junction is best answered by the pipe in the middle of them
        k = min(len(order), 60)
        head = order[:k]
        lk = graph.link_indices([pipe_ids[i] for i in head])
        dmat = pipe_distance(graph, lk, lk)
        # a narrower posterior for the pick than for the confidences shown: the wide one averages over places
        # the fit already rules out
        sharp = np.array([np.exp(-(fits[i] - sse.min()) / (2 * decide_temperature * sigma2)).mean()
                          for i in head]) * length[head] ** prior_len
        expected = dmat @ (sharp / sharp.sum())
        pick = head[int(np.argmin(expected))]
        order = np.concatenate([[pick], order[order != pick]])  # the rest most likely first
    order = order[:max(top, 1)]
    links = graph.link_indices([pipe_ids[i] for i in order])
    dist = pipe_distance(graph, links[:1], links)[0]
    out = []
    for rank, i in enumerate(order):
        p = net.pipes[pipe_ids[i]]
        a, b = net.node(p.node1), net.node(p.node2)
        x = None if a.x is None or b.x is None else (a.x + b.x) / 2
        y = None if a.y is None or b.y is None else (a.y + b.y) / 2
        out.append({"pipe": p.id, "confidence": round(float(conf[i]), 4), "distance_m": round(float(dist[rank]), 1),
                    "x": x, "y": y, "misfit": float(sse[i])})
    return out
