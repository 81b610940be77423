"""Change detection on one area's inflow residual (m³/h): bursts within the hour, slow leaks within days.

Two detectors share one baseline μ (the residual's level without the leaks found so far):

* burst: a step test on `block_min` means — the mean of the last `burst_after` blocks minus the mean of the
  `burst_before` blocks just before them.  The residual wanders for hours (per-customer demand), so comparing
  with the level just before cancels most of it: a 10 m³/h burst stands out within the hour where an hourly
  mean would need a day.  Threshold: `burst_sigmas` × the robust spread of that step statistic in training.
* slow: a CUSUM of the log-likelihood ratio on hourly means for a leak of `design_m3h`, each hour weighted by
  its own variance (per hour of day from training, inflated by the residual's long-run autocorrelation), so
  quiet night hours count most.  Alarm at `slow_h` (a false alarm per area about every 10^5 hours in theory).

A third, lower CUSUM notices when the residual sits below μ (a repair): μ is reset to the recent level.
After an alarm μ rises by the event's size; after a slow alarm, until a repair is seen (at most
`refractory_days`), further slow alarms of the area only move μ (a growing leak already reported would alarm
again otherwise); bursts are always reported.
Each event: start (after the last time the statistic was zero, or the step), alarm time, size, growth, kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _robust_sd(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if len(x) < 4:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def _hourly_spread(x: np.ndarray, hod: np.ndarray, train: np.ndarray, floor: float) -> np.ndarray:
    """Robust spread per hour of day (24,), smoothed over neighbouring hours."""
    sd = np.array([_robust_sd(x[train & (hod == h)]) for h in range(24)])
    sd = np.where(np.isfinite(sd), sd, np.nanmedian(sd) if np.isfinite(sd).any() else 1.0)
    sd = (np.roll(sd, 1) + 2 * sd + np.roll(sd, -1)) / 4.0
    # few training days give a few values per hour: shrink towards the spread over all hours
    days = (train & (hod == 0)).sum()
    pooled = _robust_sd(x[train])
    if np.isfinite(pooled):
        w = days / (days + 7.0)
        sd = np.sqrt(w * sd ** 2 + (1 - w) * pooled ** 2)
    return np.maximum(sd, floor)


def _long_run_factor(z: np.ndarray, batch: int = 24) -> float:
    """sqrt(long-run variance / variance) of a standardised series: the larger of the AR(1) and batch-means
    estimates (residuals wander for hours; 14 training days give a rough figure either way)."""
    z = z[np.isfinite(z)]
    if len(z) < 3 * batch:
        return 1.5
    rho = float(np.corrcoef(z[:-1], z[1:])[0, 1])
    rho = min(max(rho, 0.0), 0.9)
    f_ar = np.sqrt((1 + rho) / (1 - rho))
    n = len(z) // batch
    means = z[:n * batch].reshape(n, batch).mean(axis=1)
    f_bm = np.sqrt(max(batch * means.var(ddof=1) / max(z.var(), 1e-12), 1.0))
    return float(min(max(f_ar, f_bm), 4.0))


def _ramp_or_step(seg: np.ndarray, per_day: float, min_len: int) -> tuple[str, float]:
    """'incipient' and its growth (m³/h per day) when a ramp from zero fits `seg` better than a step."""
    t = np.arange(len(seg)) + 1.0
    slope = float((seg * t).sum() / (t * t).sum())
    ramp = ((seg - slope * t) ** 2).sum()
    step = ((seg - seg.mean()) ** 2).sum()
    if len(seg) >= min_len and ramp < step:
        return "incipient", slope * per_day
    return "abrupt", 0.0


def area_events(res: pd.Series, cfg, train_end: pd.Timestamp, pred: pd.Series | None = None) -> list[dict]:
    """Alarms on one area's residual (block means, m³/h), `pred` its prediction (the burst test's scale):
    [{start, alarm_at, size, growth, kind}]."""
    r = res.to_numpy(float)
    times = res.index
    bmin = cfg.block_min
    per_hour = max(60 // bmin, 1)
    train_b = np.asarray(times < train_end)
    # hourly means (block-aligned, so hour i covers blocks i*per_hour ...)
    n_h = len(r) // per_hour
    x = r[:n_h * per_hour].reshape(n_h, per_hour).mean(axis=1)
    h_times = times[:n_h * per_hour:per_hour]
    hod = np.asarray(h_times.hour)
    train_h = np.asarray(h_times < train_end)
    if train_h.sum() < 48:
        return []
    mu0 = float(np.nanmedian(x[train_h]))
    sd_h = _hourly_spread(x - mu0, hod, train_h, cfg.min_sigma_m3h)
    f = _long_run_factor(((x - mu0) / sd_h[hod])[train_h])
    var_h = cfg.var_inflation * (sd_h * f) ** 2
    # burst statistic on blocks
    a, b = cfg.burst_after, cfg.burst_before
    idx = np.arange(len(r))
    bad = np.concatenate([[0], np.cumsum(~np.isfinite(r))])
    ok = (idx >= a + b - 1) & (bad[idx + 1] == bad[np.maximum(idx + 1 - a - b, 0)])  # no gap in the windows

    def window_means(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cs = np.concatenate([[0.0], np.cumsum(np.nan_to_num(v))])
        aft = np.where(ok, (cs[idx + 1] - cs[np.maximum(idx + 1 - a, 0)]) / a, np.nan)
        bef = np.where(ok, (cs[np.maximum(idx + 1 - a, 0)] - cs[np.maximum(idx + 1 - a - b, 0)]) / b, np.nan)
        return aft, bef

    after, before = window_means(r)
    if pred is not None:
        # demand noise is relative (each customer's use wanders by a share of it): carry the relative error
        # of the blocks before into the blocks after, so a falling evening demand is no step
        p = np.maximum(pred.reindex(times).to_numpy(float), 1e-6)
        p_after, _ = window_means(p)
        _, e_before = window_means(r / p)
    else:
        p = e_before = None
        before = p_after * e_before
    jump = after - before
    conf = int(cfg.burst_confirm)

    def expected(j: int, start: int, stop: int) -> float:
        """The residual blocks start..stop-1 would have without a step at j (the level before it)."""
        if pred is None:
            return float(before[j])
        return float(p[start:stop].mean() * e_before[j])
    b_hod = np.asarray(times.hour)
    jz = jump / sd_h[b_hod]
    j_sd = _robust_sd(jz[train_b & ok])
    j_limit = cfg.burst_sigmas * (j_sd if np.isfinite(j_sd) and j_sd > 0 else 1.0) * sd_h[b_hod]
    first_h = int(np.searchsorted(h_times, train_end))
    out: list[dict] = []
    mu = mu0
    designs = np.asarray(cfg.design_m3h * np.asarray(cfg.design_factors, dtype=float))
    up = np.zeros(len(designs))
    up_zero = np.full(len(designs), first_h)
    low, low_zero = 0.0, first_h
    quiet_until = -1  # hour index until which slow alarms only move μ
    burst_lock = -1  # block index until which the burst test is off (the same step)
    active: list[float] = []  # sizes of the events not yet seen repaired
    for i in range(first_h, n_h):
        # bursts inside this hour, block by block: a step far above the limit at once, a smaller one once the
        # level has held for `burst_confirm` blocks more (the demand's own wander goes back within hours)
        for j in range(i * per_hour, (i + 1) * per_hour):
            cand = None
            if j > burst_lock and ok[j] and jump[j] > cfg.burst_instant * j_limit[j]:
                cand = j
            jc = j - conf
            if cand is None and conf > 0 and jc > burst_lock and ok[jc] and jump[jc] > j_limit[jc]:
                held = r[jc + 1:j + 1].mean() - expected(jc, jc + 1, j + 1)
                if held >= cfg.burst_hold * jump[jc]:
                    cand = jc
            if cand is None or jump[cand] < cfg.min_burst_m3h or after[cand] - mu < 0.5 * jump[cand]:
                continue
            # the step's block: best split of the blocks around it
            lo = max(cand - a - b + 1, 0)
            seg = r[lo:j + 1]
            best_k, best_gap = cand - a + 1, -np.inf
            for k in range(max(cand - lo - a - 1, 1), cand - lo + 1):
                gap = seg[k:].mean() - seg[:k].mean()
                if gap > best_gap:
                    best_k, best_gap = lo + k, gap
            size = float(r[best_k:j + 1].mean() - expected(cand, best_k, j + 1))
            size = max(size, float(jump[cand]))
            out.append({"start": times[best_k], "alarm_at": times[j] + pd.Timedelta(minutes=bmin),
                        "size": size, "growth": 0.0, "kind": "abrupt", "via": "burst"})
            mu += size
            active.append(size)
            burst_lock = j + a + b
            up[:], up_zero[:], low, low_zero = 0.0, i, 0.0, i
        xi = x[i]
        if not np.isfinite(xi):
            continue
        v = var_h[hod[i]]
        up = np.maximum(0.0, up + designs / v * (xi - mu - designs / 2))
        low = max(0.0, low - designs[0] / v * (xi - mu + designs[0] / 2))
        up_zero = np.where(up == 0.0, i, up_zero)
        if low == 0.0:
            low_zero = i
        if low > cfg.slow_h:  # the residual sits below μ: a repair (or a drift down): re-baseline
            new_mu = float(np.nanmean(x[low_zero + 1:i + 1]))
            drop = mu - new_mu
            if active and drop > 0.7 * max(active):  # a repair: the water of the largest leak stops
                active.remove(max(active))
                quiet_until = i
            # leaks only add water: the level without them is the training level (the low segment was
            # picked for being low, its mean is biased down)
            mu = mu0 if not active else max(new_mu, mu0)
            low, low_zero = 0.0, i
            up[:], up_zero[:] = 0.0, i
        fired = np.flatnonzero(up > cfg.slow_h)
        if len(fired):
            z0 = int(up_zero[fired].max())  # the shortest segment that fired: the freshest start
            seg = x[z0 + 1:i + 1] - mu
            if i <= quiet_until:  # a leak already reported grows: follow it
                mu += float(seg[-max(1, len(seg) // 4):].mean())
            elif seg.mean() >= cfg.min_size_m3h:
                kind, growth = _ramp_or_step(seg, 24.0, 24)
                size = float(seg[-max(1, len(seg) // 4):].mean())
                out.append({"start": h_times[min(z0 + 1, n_h - 1)],
                            "alarm_at": h_times[i] + pd.Timedelta(hours=1), "size": size, "growth": growth,
                            "kind": kind, "via": "slow"})
                mu += size
                active.append(size)
                quiet_until = i + int(cfg.refractory_days * 24)
            up[:], up_zero[:], low, low_zero = 0.0, i, 0.0, i
    return out
