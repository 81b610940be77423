"""Leak events from SCADA: each metered area's inflow against its expected inflow, with change detection.

Areas (areas.py) are the DMAs and the trunk mains the flow meters close off; an area's net inflow is the
signed sum of its meters.  Expected inflow (`model_prediction`): the model's demand of the area (base ×
patterns) × the area's own level against it (weekdays, weekends; from training) × what moves every area
together (the median over areas, a day's mean: season).  Without modelled demand, the prediction is
data-driven: Q_k(t) ≈ a_k(time of day) × Σ_{j≠k} Q_j(t), or one area against its own profile.
The residual (measured − expected) goes to change.py: a step test on the 5-minute residual for bursts, and
CUSUMs on hourly means for slow leaks.  Each event: area, start, alarm time, size, growth, kind.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from runze.analysis.leaks.areas import area_inflows, metered_areas, model_demand
from runze.analysis.leaks.change import area_events
from runze.analysis.leaks.layout import SensorLayout
from runze.network.model import Network

INFLATION_BATCH = 48  # blocks per batch mean (12 h of 15-min blocks): longer than the demand wander


@dataclass
class DetectConfig:
    train_days: float = 14.0
    block_min: int = 15
    design_m3h: float = 2.0  # the slow CUSUMs are tuned to leaks of this size ...
    design_factors: tuple[float, ...] = (1.0, 3.0, 8.0)  # ... times these (one CUSUM each)
    slow_h: float = 11.0  # its alarm level (log-likelihood ratio)
    # variance of hourly means × this: 14 training days say little about the tails of a year (summer use,
    # weekends, holidays), and every area's false alarms add up
    var_inflation: float = 2.0
    min_size_m3h: float = 1.5
    min_sigma_m3h: float = 0.3  # floor of the hourly residual spread
    # burst step test on the 5-minute residual (change.step_alarms): (samples before, after) of each window ...
    burst_windows: tuple[tuple[int, int], ...] = ((12, 6), (12, 12), (24, 21))
    burst_instant_z: float = 7.5  # ... alarm 30 min after a step this far out in the first window, ...
    burst_z: float = 5.0  # ... or 2 h after one this far out in every window (set on leak-free years)
    # ... or, for smaller bursts, this many hours after a start sharp enough (first window) whose level held
    burst_held_hours: tuple[float, ...] = (6.0, 12.0, 24.0)
    burst_held_sharp_z: float = 3.5
    burst_held_z: float = 6.0
    burst_refine: int = 3  # samples waited to place the step at its best z
    min_step_sd_m3h: float = 0.05  # floor of the step statistic's spread
    min_burst_m3h: float = 2.0
    refractory_days: float = 30.0  # after an alarm, slow alarms of the area only move μ until a repair is seen
    localise: bool = True
    # report a leak only once this many hours of data since its estimated start are in, so that localisation
    # has a signature to work with (the detection time moves accordingly: honest, costs a little volume) ...
    localise_hours: float = 24.0
    # ... but a burst found by the step test (clear within the hour in 5-minute data) after this many only
    burst_localise_hours: float = 2.0
    outside_regressors: bool = False  # pressure residuals from sensors outside the event's DMA only
    scale_hours: float = 24.0  # what moves all areas together (season): averaged over this many hours
    model_based: bool = True  # predict area inflows from the model's demand patterns (areas.model_demand)
    # watch areas whose balance needs a tank's level rate (a tank without a metered main in the trunk): off,
    # since 1 mm of level noise on a 50 m tank is tens of m³/h over 15 minutes, and on generated data EPANET's
    # hourly Euler levels do not follow the interpolated flows (see simulate.py)
    level_storage: bool = False


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
    alarm_at: pd.Timestamp | None = None  # when the detector fired; detected_at may wait for localisation data
    trigger: str = ""  # which detector fired: "burst" (step test) or "slow" (CUSUM)

    def as_row(self) -> dict:
        return {"pipe_id": self.pipe, "detected_at": self.detected_at.strftime("%Y-%m-%d %H:%M:%S"),
                "dma": self.dma, "start": self.start.strftime("%Y-%m-%d %H:%M:%S"),
                "size_m3h": round(self.size_m3h, 3), "growth_m3h_per_day": round(self.growth_m3h_per_day, 4),
                "kind": self.kind,
                "alarm_at": (self.alarm_at or self.detected_at).strftime("%Y-%m-%d %H:%M:%S")}


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
        # the trunk mains outside every DMA (system input minus the DMAs' inflows) are not an area here: with
        # tank volumes from levels the balance is too noisy (tens of m³/h); see the notes of issue 5
        return pd.DataFrame(cols)
    total = _system_input(frames, layout, net, flow, by_link)
    if total is None:
        total = pd.Series(0.0, index=flow.index if len(flow) else frames["pressure"].index)
    return pd.DataFrame({"ALL": total})


def _system_input(frames, layout, net, flow, by_link) -> pd.Series | None:
    """Water into the network (metered sources: plant outlets from the sidecar, links next to reservoirs) minus
    what the tanks take (their metered links, else their level's rate of change); None without source meters."""
    plant_links = {p.get("outlet_link") for p in net.utility.plants if isinstance(p, dict)}
    if not any(lk in plant_links or _touches(net.link(lk), net.reservoirs) for lk in by_link):
        return None
    total = pd.Series(0.0, index=flow.index)
    metered_tanks = set()
    for lk, sid in by_link.items():  # metered links next to reservoirs and tanks: what they give the network
        link = net.link(lk)
        if lk in plant_links and not _touches(link, net.reservoirs):
            total = total + flow[sid]
            continue
        for store in (net.reservoirs, net.tanks):
            if link.node1 in store:
                total = total + flow[sid]
                metered_tanks.add(link.node1)
            elif link.node2 in store:
                total = total - flow[sid]
                metered_tanks.add(link.node2)
    level = frames.get("level", pd.DataFrame())
    for sid, tank_id in layout.level.items():  # tanks without a meter: from the level's rate of change
        if sid in level.columns and tank_id not in metered_tanks:
            area = np.pi * net.tanks[tank_id].diameter ** 2 / 4.0
            rise = level[sid].rolling(7, center=True, min_periods=2).mean().diff() * 12.0  # m per hour
            total = total - area * rise.fillna(0.0)
    return total


def _touches(link, table) -> bool:
    return link.node1 in table or link.node2 in table


def _blocks(series: pd.DataFrame, minutes: int) -> pd.DataFrame:
    return series.resample(f"{minutes}min").mean().interpolate(limit=8).ffill().bfill()


def _tod_index(index: pd.DatetimeIndex, minutes: int) -> np.ndarray:
    return ((index.hour * 60 + index.minute) // minutes).to_numpy()


def model_prediction(q: pd.DataFrame, d: pd.DataFrame, train: np.ndarray, cfg: DetectConfig) -> pd.DataFrame:
    """Expected inflow per block and area: c_k × D_k(t) × s(t).

    D_k is the area's modelled demand (base × patterns), so the shape of the day needs no training; c_k (one per
    weekdays/weekends) is the area's level against the model in training; s(t) is what moves every area
    together (season, weather): the median over areas of Q_j / (c_j D_j), averaged over the past
    `scale_hours` — a leak moves one area and not the median.  With one area the median is the area itself, so
    s(t) is taken from the week before the previous day (a leak is seen before it is learnt away)."""
    with warnings.catch_warnings():  # blocks in a gap of the data are all-NaN rows: NaN out, no warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return _model_prediction(q, d, train, cfg)


def _model_prediction(q: pd.DataFrame, d: pd.DataFrame, train: np.ndarray, cfg: DetectConfig) -> pd.DataFrame:
    weekend = np.asarray(q.index.day_of_week >= 5)
    dd = d.reindex(q.index).to_numpy(float)
    ratio = q.to_numpy(float) / np.maximum(dd, 1e-6)
    ok = dd.mean(axis=0) > 0
    c = np.ones((2, q.shape[1]))
    s0 = np.nanmedian(ratio[:, ok], axis=1)
    for _ in range(2):
        for day_kind in (0, 1):
            sel = train & (weekend == day_kind)
            sel = sel if sel.any() else train
            c[day_kind] = np.nanmedian(ratio[sel] / s0[sel, None], axis=0)
        rel = ratio / c[weekend.astype(int)]
        s0 = np.nanmedian(rel[:, ok], axis=1)
    per_hour = 60 // cfg.block_min
    if ok.sum() >= 3:
        s = pd.Series(s0).rolling(int(cfg.scale_hours * per_hour), min_periods=1).mean().to_numpy()
    else:
        day = 24 * per_hour
        s = pd.Series(s0).shift(day).rolling(7 * day, min_periods=day).median()
        s = s.fillna(float(np.nanmedian(s0[train]))).to_numpy()
    pred = c[weekend.astype(int)] * dd * s[:, None]
    return pd.DataFrame(pred, index=q.index, columns=q.columns)


def residuals(inflow: pd.DataFrame, cfg: DetectConfig, train_end: pd.Timestamp,
              demand: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(residual m³/h, spread m³/h) per block and area; model-based when `demand` (area_inflows' modelled
    demand) is given and varies through the day, else the data-driven prediction below."""
    q = _blocks(inflow, cfg.block_min)
    if demand is not None and len(demand.columns) and (demand.std() > 0.05 * demand.mean()).any():
        # gaps longer than two hours (a history with its known leaks cut out) stay gaps: no training there
        q = inflow.resample(f"{cfg.block_min}min").mean().interpolate(limit=8, limit_area="inside")
        train = np.asarray(q.index < train_end)
        res = q - model_prediction(q, _blocks(demand, cfg.block_min), train, cfg)
        return res, _spread(res, train, _tod_index(q.index, cfg.block_min), 24 * 60 // cfg.block_min)
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
        # one area: nothing moves with it, so time is the reference: the training profile per time of day
        # (weekdays, weekends) scaled by the median ratio of the previous two weeks (lagged a day: seasons)
        col = q.columns[0]
        y = q[col].to_numpy()
        profile = np.zeros(len(y))
        for day_kind in (False, True):
            sel = train & (weekend == day_kind)
            sel = sel if sel.any() else train
            prof = _smooth_circular(np.bincount(tod[sel], y[sel], n_tod) / np.maximum(
                np.bincount(tod[sel], minlength=n_tod), 1), 1)
            profile[weekend == day_kind] = prof[tod[weekend == day_kind]]
        ratio = pd.Series(y / np.maximum(profile, 1e-9), index=q.index).resample("1D").median()
        scale = ratio.shift(1).rolling(14, min_periods=1).median().reindex(q.index, method="ffill")
        scale = scale.where(q.index >= train_end, 1.0).fillna(1.0).to_numpy()
        res[col] = y - profile * scale
    return res, _spread(res, train, tod, n_tod)


def _spread(res: pd.DataFrame, train: np.ndarray, tod: np.ndarray, n_tod: int) -> pd.DataFrame:
    """Robust spread of the residual per time of day in training, inflated for autocorrelation."""
    spread = pd.DataFrame(index=res.index, columns=res.columns, dtype=float)
    for col in res.columns:
        r = res[col].to_numpy()
        mad = np.array([np.nanmedian(np.abs(r[train & (tod == b)] - np.nanmedian(r[train & (tod == b)])))
                        if (train & (tod == b)).any() else np.nan for b in range(n_tod)])
        sd = _smooth_circular(1.4826 * np.nan_to_num(mad, nan=np.nanmedian(mad)), 4)
        spread[col] = np.maximum(sd, 0.05)[tod] * _inflation(r[train] / np.maximum(sd, 0.05)[tod[train]], INFLATION_BATCH)
    return spread


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


def fine_residuals(inflow: pd.DataFrame, cfg: DetectConfig, train_end: pd.Timestamp,
                   demand: pd.DataFrame | None) -> pd.DataFrame | None:
    """The residual on the data's own 5-minute grid (None when the data are coarser)."""
    step = inflow.index[1] - inflow.index[0] if len(inflow.index) > 1 else pd.Timedelta(minutes=cfg.block_min)
    minutes = int(round(step.total_seconds() / 60.0))
    if minutes <= 0 or minutes >= cfg.block_min or cfg.block_min % minutes:
        return None
    res, _ = residuals(inflow, replace(cfg, block_min=minutes), train_end, demand)
    return res


def area_inputs(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network,
                cfg: DetectConfig) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(inflow, modelled demand or None) per area: metered areas (DMAs and the trunk) with the model's demand
    when `cfg.model_based`, else the layout's DMAs (or one area) with the data-driven prediction."""
    if cfg.model_based:
        flow = frames.get("flow", pd.DataFrame())
        areas = metered_areas(net, layout, set(flow.columns), cfg.level_storage)
        if areas:
            inflow = area_inflows(frames, layout, net, areas)
            return inflow, model_demand(net, areas, inflow.index)
    return dma_inflows(frames, layout, net), None


def detect_events(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network,
                  cfg: DetectConfig | None = None, train_end: pd.Timestamp | None = None) -> list[LeakEvent]:
    cfg = cfg or DetectConfig()
    inflow, demand = area_inputs(frames, layout, net, cfg)
    if train_end is None:
        train_end = inflow.index[0] + pd.Timedelta(days=cfg.train_days)
    res, _ = residuals(inflow, cfg, train_end, demand)
    # the burst test reads the 5-minute residual: a burst is a step within one reading
    fine = fine_residuals(inflow, cfg, train_end, demand)
    events: list[LeakEvent] = []
    for col in res.columns:
        for e in area_events(res[col], cfg, train_end, fine[col] if fine is not None else None):
            events.append(LeakEvent(col, e["start"], e["alarm_at"], e["size"], e["growth"], e["kind"],
                                    alarm_at=e["alarm_at"], trigger=e.get("via", "")))
    events.sort(key=lambda e: e.detected_at)
    return events
