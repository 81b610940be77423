"""Leak localisation: candidate pipes ranked by how well a leak there explains the pressure residuals.

1. Pressure residuals: each pressure sensor is predicted from all the others, r = p − B·p − c (ridge fit over
   the days just before the event, on `block_min` means, so seasons and other quasi-static leaks are in it).
   Weather and demand swings move all sensors together and cancel; a leak leaves a local dent.  The same
   linear map applied to a modelled leak's pressure change gives its expected residual: (I − B)·Δp, so
   matching is done in residual space.
2. Observed signature: regress each sensor's residual on the event's leak flow q(t) (the area's inflow residual)
   from the event start to the detection: ŝ_i = Σ r_i q / Σ q², in m per m³/h.
3. Modelled signatures: `sensitivity` — runze's batch solver (`sensitivity.leak_sensitivity`: one emitter
   scenario per candidate node at a few clock hours weighted like q(t)²), at the estimated leak size (head loss
   grows with the square of the flow, so a per-m³/h change from a 1 m³/h probe understates a 5 m³/h leak).
4. Matching only on the sensors some candidate moves (`relevant`), weighted by the full residual covariance of
   the days before the event (shrunk towards its diagonal, `gls`): neighbouring loggers share local demand
   swings, and treating them as independent lets a shared swing pass for a leak's dent.
5. Candidate pipes inside the area: a leak on a pipe is a blend of its end nodes' signatures; the best blend by
   least squares (free scale γ ≥ 0) gives the pipe's misfit.  The best `refine` pipes are scored again with
   their end nodes solved at every clock hour the event covers (full batch solves at the leak size, finer
   blends).
6. Confidence ∝ exp(−Δmisfit / 2Tσ²), σ² the best fit's misfit per degree of freedom; T (`temperature`) was set
   on generated demo-city data so that the confidence mass within 300 m of the top pipe matches how often the
   top pipe is within 300 m of the leak (benchmarks/bench_localise.py).
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
                weights: np.ndarray, leak_m3h: float = 1.0, engine: str = "batch") -> np.ndarray:
    """Expected residual per m³/h of leak at each candidate node (n_sensors x n_candidates), weighted over hours.

    Computed at the estimated leak size `leak_m3h`: per m³/h, a 5 m³/h leak on a DMA main drops the pressure
    about 1.6 times as much as a 1 m³/h one (head loss grows with the square of the flow).  engine: "batch"
    (runze's batch solver) or "epanet" (toolkit steady solves, the reference).
    """
    if engine == "epanet":
        dp, _ = steady_sensitivity(net, candidates, model.nodes, [], list(hours), leak_m3h=leak_m3h)
    else:
        dp = leak_sensitivity(net, candidates, model.nodes, list(hours), leak_m3h=leak_m3h)
    avg = np.tensordot(weights / max(weights.sum(), 1e-12), dp, axes=(0, 0))
    return model.transform(avg)


BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
FINE_BLENDS = tuple(np.linspace(0.0, 1.0, 11))


def _blend_misfit(obs: np.ndarray, sa: np.ndarray, sb: np.ndarray, blends=BLENDS) -> np.ndarray:
    """Best misfit |obs − γ·(t·sa + (1−t)·sb)|² over the blends t and the scale γ ≥ 0, per pipe column."""
    best = np.full(sa.shape[1], np.inf)
    for t in blends:
        s = t * sa + (1 - t) * sb
        gamma = np.clip((s * obs[:, None]).sum(0) / np.maximum((s * s).sum(0), 1e-18), 0.0, None)
        best = np.minimum(best, ((obs[:, None] - gamma * s) ** 2).sum(0))
    return best


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


def localise(net: Network, graph: NetworkGraph, model: PressureModel, residual: pd.DataFrame,
             leak_flow: pd.Series, area_nodes: list[str] | None, top: int = 5, *, engine: str = "batch",
             gls: float = 0.05, relevant: float = 0.05, refine: int = 10, temperature: float = 1.5) -> list[dict]:
    """Candidate pipes, best first: {pipe, confidence, distance_m (from the best), x, y, misfit}.

    engine: "batch" or "epanet" for the sensitivities; gls: shrinkage of the residual covariance (< 0: each
    sensor weighted by its own variance only); relevant: keep sensors moved by at least this share of the
    largest modelled change (0: all); refine: the best `refine` pipes are scored again with full solves of their
    end nodes at every clock hour the event covers; temperature: width of the confidences (0: the old rule).
    """
    q = leak_flow.to_numpy(float)
    r = residual.loc[leak_flow.index].to_numpy(float)
    base = residual.loc[:leak_flow.index[0]].iloc[:-1]
    r = r - (base.mean().to_numpy() if len(base) else 0.0)  # level before the event
    qq = float((q * q).sum())
    if qq <= 0:
        return []
    obs = (r * q[:, None]).sum(0) / qq
    nodes = set(area_nodes) if area_nodes else set(net.junctions)
    pipe_ids = [p.id for p in net.pipes.values() if p.initial_status == "OPEN"
                and (p.node1 in nodes or p.node2 in nodes)]
    if not pipe_ids:
        return []
    cand = sorted({n for pid in pipe_ids for n in (net.pipes[pid].node1, net.pipes[pid].node2)
                   if n in net.junctions})
    size = max(qq / max(float(q.sum()), 1e-9), 0.5)  # the q²-weighted leak flow the regression sees, m³/h
    hours, wts = _hour_weights(leak_flow.index, q, False)
    S = sensitivity(net, cand, model, hours, wts, leak_m3h=size, engine=engine)
    col = {n: i for i, n in enumerate(cand)}
    ia = np.array([col.get(net.pipes[p].node1, len(cand)) for p in pipe_ids])  # len(cand): a tank/reservoir end
    ib = np.array([col.get(net.pipes[p].node2, len(cand)) for p in pipe_ids])
    keep = (np.abs(S).max(axis=1) >= relevant * np.abs(S).max() if relevant > 0
            else np.ones(len(obs), dtype=bool))  # sensors no candidate moves add noise, not information
    if gls >= 0 and len(base) > 8:
        W = whitener(base.to_numpy()[:, keep], gls)
    else:
        noise = base.var().to_numpy()[keep] if len(base) > 8 else np.var(r - np.outer(q, obs), axis=0)[keep]
        W = np.diag(1.0 / np.sqrt(noise + 1e-6))
    obs_w = W @ obs[keep]

    def whiten(S_: np.ndarray) -> np.ndarray:
        return np.hstack([W @ S_[keep], np.zeros((len(obs_w), 1))])  # last column: no signature

    Sx = whiten(S)
    sse = _blend_misfit(obs_w, Sx[:, ia], Sx[:, ib])
    if refine > 0 and engine == "batch":
        # the best pipes again, with their end nodes solved at every clock hour the event covers (weights q²)
        # and finer blends: the 4-hour average smooths over the day's changing flows
        best = np.argsort(sse)[:refine]
        rnodes = sorted({n for i in best for n in (net.pipes[pipe_ids[i]].node1, net.pipes[pipe_ids[i]].node2)
                         if n in col})
        if rnodes:
            rh, rw = _hour_weights(leak_flow.index, q, True)
            Sr = whiten(sensitivity(net, rnodes, model, rh, rw, leak_m3h=size))
            rcol = {n: i for i, n in enumerate(rnodes)}
            ra = np.array([rcol.get(net.pipes[pipe_ids[i]].node1, len(rnodes)) for i in best])
            rb = np.array([rcol.get(net.pipes[pipe_ids[i]].node2, len(rnodes)) for i in best])
            sse[best] = _blend_misfit(obs_w, Sr[:, ra], Sr[:, rb], FINE_BLENDS)
    order = np.argsort(sse)[:max(top, 1)]
    if temperature > 0:
        sigma2 = max(float(sse.min()) / max(len(obs_w) - 2, 1), 1e-15)  # noise + model error, from the best fit
        conf = np.exp(-(sse - sse.min()) / (2 * temperature * sigma2))
    else:
        conf = np.exp(-(sse - sse.min()) / (2 * max(float(np.min(sse)), 1e-9)))
    conf /= conf.sum()
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
