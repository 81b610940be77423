"""Leak events from SCADA: DMA inflow residuals against a data-driven prediction, with CUSUM change detection.

Per DMA the net inflow (sum of metered inlets, signed into the DMA; without DMAs, one area "ALL" fed by the
metered source links and the tanks) is averaged over `block_min` minutes.  Its prediction is the rest of the
system: Q_k(t) ≈ a_k(time of day) × Σ_{j≠k} Q_j(t), fitted over a clean training window, because weather,
weekday and season move all DMAs together while a leak moves one (one area only: the same-time-of-day mean of
the previous week).  The residual r = Q − prediction, scaled by its training spread per time of day, drives an
upper CUSUM (S = max(0, S + z − k), alarm at S > h).  At an alarm: start = last time S was 0, size = mean
residual since the start above the DMA's current baseline, growth = slope of a ramp fitted from the start;
kind = abrupt when a step fits the residual since the start better than a ramp, else incipient.  The baseline
then moves to the new level and follows it slowly (EWMA) so a growing or repaired leak does not re-alarm, while
a new leak in the same DMA still does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runze.analysis.leaks.layout import SensorLayout
from runze.network.model import Network

INFLATION_BATCH = 48  # blocks per batch mean (12 h of 15-min blocks): longer than the demand wander


@dataclass
class DetectConfig:
    train_days: float = 14.0
    block_min: int = 15
    cusum_k: float = 0.5
    cusum_h: float = 20.0
    min_size_m3h: float = 0.8
    track_days: float = 1.0  # EWMA time constant of the baseline after a detection
    localise: bool = True
    # report a leak only once this many hours of data since its estimated start are in, so that localisation
    # has a signature to work with (the detection time moves accordingly: honest, costs a little volume)
    localise_hours: float = 6.0


@dataclass
class LeakEvent:
    dma: str
    start: pd.Timestamp
    detected_at: pd.Timestamp
    size_m3h: float
    growth_m3h_per_day: float
    kind: str
    candidates: list[dict] = field(default_factory=list)
    pipe: str | None = None

    def as_row(self) -> dict:
        return {"pipe_id": self.pipe, "detected_at": self.detected_at.strftime("%Y-%m-%d %H:%M:%S"),
                "dma": self.dma, "start": self.start.strftime("%Y-%m-%d %H:%M:%S"),
                "size_m3h": round(self.size_m3h, 3), "growth_m3h_per_day": round(self.growth_m3h_per_day, 4),
                "kind": self.kind}


def dma_inflows(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network) -> pd.DataFrame:
    """(time x area) net inflow in m³/h: DMAs from the layout, or one area "ALL" (sources minus tank filling)."""
    flow = frames.get("flow", pd.DataFrame())
    by_link = {el: sid for sid, el in layout.flow.items() if sid in flow.columns}
    cols = {}
    for dma_id, dma in layout.dmas.items():
        nodes = set(dma.get("nodes", []))
        total = None
        for lk in dma.get("inlets", []):
            if lk not in by_link:
                total = None
                break
            link = net.link(lk)
            sign = 1.0 if link.node2 in nodes else -1.0
            part = sign * flow[by_link[lk]]
            total = part if total is None else total + part
        if total is not None:
            cols[dma_id] = total
    if cols:
        return pd.DataFrame(cols)
    total = pd.Series(0.0, index=flow.index if len(flow) else frames["pressure"].index)
    for lk, sid in by_link.items():  # metered links next to reservoirs: outflow of the source
        link = net.link(lk)
        if link.node1 in net.reservoirs:
            total = total + flow[sid]
        elif link.node2 in net.reservoirs:
            total = total - flow[sid]
    level = frames.get("level", pd.DataFrame())
    for sid, tank_id in layout.level.items():
        if sid in level.columns:
            area = np.pi * net.tanks[tank_id].diameter ** 2 / 4.0
            rise = level[sid].rolling(7, center=True, min_periods=2).mean().diff() * 12.0  # m per hour
            total = total - area * rise.fillna(0.0)
    return pd.DataFrame({"ALL": total})


def _blocks(series: pd.DataFrame, minutes: int) -> pd.DataFrame:
    return series.resample(f"{minutes}min").mean().interpolate(limit=8).ffill().bfill()


def _tod_index(index: pd.DatetimeIndex, minutes: int) -> np.ndarray:
    return ((index.hour * 60 + index.minute) // minutes).to_numpy()


def residuals(inflow: pd.DataFrame, cfg: DetectConfig, train_end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(residual m³/h, spread m³/h) per block and area."""
    q = _blocks(inflow, cfg.block_min)
    tod = _tod_index(q.index, cfg.block_min)
    n_tod = 24 * 60 // cfg.block_min
    weekend = np.asarray(q.index.day_of_week >= 5)
    train = (q.index < train_end)
    res = pd.DataFrame(index=q.index, columns=q.columns, dtype=float)
    if q.shape[1] > 1:
        total = q.sum(axis=1)
        for col in q.columns:
            rest = (total - q[col]).to_numpy()
            y = q[col].to_numpy()
            pred = np.zeros(len(y))
            for day_kind in (False, True):  # weekends get their own ratios: people and firms use water differently
                sel = train & (weekend == day_kind)
                if not sel.any():
                    sel = train
                num = _smooth_circular(np.bincount(tod[sel], (y * rest)[sel], n_tod), 2)
                den = _smooth_circular(np.bincount(tod[sel], (rest * rest)[sel], n_tod), 2)
                a = num / np.maximum(den, 1e-9)
                mine = weekend == day_kind
                pred[mine] = a[tod[mine]] * rest[mine]
            res[col] = y - pred
    else:
        col = q.columns[0]
        per_day = 24 * 60 // cfg.block_min
        y = q[col]
        ref = sum(y.shift(per_day * d) for d in range(2, 9)) / 7.0
        res[col] = (y - ref).fillna(0.0)
    spread = pd.DataFrame(index=q.index, columns=q.columns, dtype=float)
    for col in q.columns:
        r = res[col].to_numpy()
        mad = np.array([np.median(np.abs(r[train & (tod == b)] - np.median(r[train & (tod == b)])))
                        if (train & (tod == b)).any() else np.nan for b in range(n_tod)])
        sd = _smooth_circular(1.4826 * np.nan_to_num(mad, nan=np.nanmedian(mad)), 4)
        spread[col] = np.maximum(sd, 0.05)[tod] * _inflation(r[train] / np.maximum(sd, 0.05)[tod[train]], INFLATION_BATCH)
    return res, spread


def _inflation(z: np.ndarray, batch: int) -> float:
    """sqrt(long-run variance / variance) of a standardised residual, by batch means (residuals are
    autocorrelated — demand wanders for hours — and a CUSUM on them would alarm far too often otherwise)."""
    n = len(z) // batch
    if n < 4:
        return 1.0
    means = z[:n * batch].reshape(n, batch).mean(axis=1)
    return float(np.sqrt(max(batch * means.var() / max(z.var(), 1e-12), 1.0)))


def _smooth_circular(x: np.ndarray, half: int) -> np.ndarray:
    k = np.ones(2 * half + 1) / (2 * half + 1)
    padded = np.concatenate([x[-half:], x, x[:half]])
    return np.convolve(padded, k, mode="valid")


def cusum_events(res: pd.Series, spread: pd.Series, cfg: DetectConfig, train_end: pd.Timestamp) -> list[dict]:
    """Alarms on one area's residual: [{start, detected_at, size, growth, kind}]."""
    r = res.to_numpy(float)
    s = spread.to_numpy(float)
    times = res.index
    blocks_per_day = 24 * 60 / cfg.block_min
    alpha = 1.0 / (cfg.track_days * blocks_per_day)
    first = int(np.searchsorted(times, train_end))
    mu = float(np.median(r[:first])) if first > 0 else 0.0
    tracking = False
    stat, zero_at = 0.0, first
    out: list[dict] = []
    for i in range(first, len(r)):
        z = (r[i] - mu) / s[i]
        stat = max(0.0, stat + z - cfg.cusum_k)
        if stat == 0.0:
            zero_at = i
        if stat > cfg.cusum_h:
            seg = r[zero_at + 1:i + 1] - mu
            size = float(seg.mean())
            if size >= cfg.min_size_m3h:
                t = np.arange(len(seg)) + 1.0
                slope = float((seg * t).sum() / (t * t).sum())  # ramp through zero at the start
                sse_ramp = float(((seg - slope * t) ** 2).sum())
                sse_step = float(((seg - size) ** 2).sum())
                incipient = sse_ramp < sse_step and len(seg) > blocks_per_day / 4
                out.append({"start": times[zero_at + 1] if zero_at + 1 < len(times) else times[i],
                            "detected_at": times[i] + pd.Timedelta(minutes=cfg.block_min),
                            "size": float(seg[-max(1, len(seg) // 4):].mean()),
                            "growth": slope * blocks_per_day if incipient else 0.0,
                            "kind": "incipient" if incipient else "abrupt",
                            "start_i": zero_at + 1, "end_i": i + 1})
                mu = mu + float(seg[-max(1, len(seg) // 4):].mean())
                tracking = True
            stat, zero_at = 0.0, i
        elif tracking and z < 6:  # follow growth and repairs, not a new burst
            mu += alpha * (r[i] - mu)
    return out


def detect_events(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network,
                  cfg: DetectConfig | None = None, train_end: pd.Timestamp | None = None) -> list[LeakEvent]:
    cfg = cfg or DetectConfig()
    inflow = dma_inflows(frames, layout, net)
    if train_end is None:
        train_end = inflow.index[0] + pd.Timedelta(days=cfg.train_days)
    res, spread = residuals(inflow, cfg, train_end)
    events: list[LeakEvent] = []
    for col in res.columns:
        for e in cusum_events(res[col], spread[col], cfg, train_end):
            events.append(LeakEvent(col, e["start"], e["detected_at"], e["size"], e["growth"], e["kind"]))
    events.sort(key=lambda e: e.detected_at)
    return events
