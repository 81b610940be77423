"""Change detection on one area's inflow residual (m³/h): bursts within the hour or two, slow leaks within days.

Two detectors share one baseline μ (the residual's level without the leaks found so far):

* burst (`step_alarms`): a step test on the 5-minute residual.  For a step at τ, least squares of a line
  plus a step on B samples before τ and A from τ on gives the step's size S (a fixed linear filter); z = S /
  its robust spread at that hour of day in training.  A burst is sharp where the demand's own wander is
  smooth at 5 minutes and the meters' noise is short-lived, so the windows are short: an alarm
  A = 30 minutes after the step when z of the (12, 6) window is beyond `burst_instant_z`, else 2 hours after
  it when the smallest z of the (12, 6), (12, 12) and (24, 21) windows is beyond `burst_z` (a meter's spike
  is gone within half an hour, a demand wander has no sharp start: a burst is both).  The two levels were set
  on two generated leak-free years of the demo city (seeds 104 and 105, 22 areas): no burst false alarm
  there (two a year each from the step test alone; the check that the level since the step sits above the
  baseline removes them).  For smaller bursts, a third way: 6, 12 or 24 hours after a start sharp enough
  (first window's z beyond `burst_held_sharp_z`) whose level held, i.e. the mean since τ minus the mean of
  the whole day before τ (the area's own level error and the season cancel) beyond `burst_held_z` times its
  training spread.  At 6.0 it gave no false alarm on the two leak-free years nor on the seed-4 leak year
  (at 5.5: two on the leak year; at 4.5: 2-8 a year).  (A 6 h path on a line + step window instead, tried
  first, gave 3-4 false alarms a year from evening demand wander.)
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


def _ramp_or_step(seg: np.ndarray, per_day: float, min_len: int, lrf: float = 2.5) -> tuple[str, float]:
    """'incipient' and its growth (m³/h per day) when `seg` (the residual since the alarm's start) rises
    along a line clearly (slope over its standard error, widened by `lrf` for the residual's autocorrelation,
    beyond 2), else 'abrupt' (a step: flat since the start)."""
    n = len(seg)
    if n < max(min_len, 3):
        return "abrupt", 0.0
    t = np.arange(n, dtype=float)
    tc = t - t.mean()
    slope = float((seg * tc).sum() / (tc * tc).sum())
    rss = float(((seg - seg.mean() - slope * tc) ** 2).sum())
    se = lrf * np.sqrt(rss / (n - 2) / (tc * tc).sum())
    if slope > 0 and slope > 2.0 * se:
        return "incipient", slope * per_day
    return "abrupt", 0.0


def step_filter(before: int, after: int) -> np.ndarray:
    """Weights w (before + after) such that Σ w_k r[τ−before+k] is the least-squares size of a step at τ on top
    of a straight line through the window."""
    t = np.arange(-before, after, dtype=float)
    design = np.column_stack([np.ones_like(t), t, (t >= 0).astype(float)])
    return np.linalg.pinv(design)[-1]


def _step_sizes(r: np.ndarray, before: int, after: int) -> np.ndarray:
    """Step size at every τ (NaN where the window leaves the data or holds a gap)."""
    w = step_filter(before, after)
    n = len(w)
    out = np.full(len(r), np.nan)
    if len(r) < n:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(np.nan_to_num(r), n)
    bad = np.lib.stride_tricks.sliding_window_view((~np.isfinite(r)).astype(np.int8), n).any(axis=1)
    out[before:before + len(windows)] = np.where(bad, np.nan, windows @ w)
    return out


def _held_levels(r: np.ndarray, after: int, before: int) -> np.ndarray:
    """Mean of r over [τ, τ+after) minus its mean over [τ−before, τ), at every τ (NaN where a window leaves
    the data or misses more than a fifth of its samples)."""
    n = len(r)
    ok = np.isfinite(r)
    cs = np.concatenate([[0.0], np.cumsum(np.where(ok, r, 0.0))])
    cn = np.concatenate([[0], np.cumsum(ok)])
    tau = np.arange(n)
    t0, t1 = np.clip(tau - before, 0, n), np.clip(tau + after, 0, n)
    n_post, n_pre = cn[t1] - cn[tau], cn[tau] - cn[t0]
    full = (tau >= before) & (tau + after <= n) & (n_post >= 0.8 * after) & (n_pre >= 0.8 * before)
    post = (cs[t1] - cs[tau]) / np.maximum(n_post, 1)
    pre = (cs[tau] - cs[t0]) / np.maximum(n_pre, 1)
    return np.where(full, post - pre, np.nan)


def step_alarms(fine: pd.Series, cfg, train_end: pd.Timestamp) -> list[dict]:
    """Burst alarms on a 5-minute residual: [{tau, end, start, alarm_at, size, z}] in alarm order (see the
    module docstring); `end` is the index after the last sample the alarm used."""
    r = fine.to_numpy(float)
    times = fine.index
    if len(r) < 2:
        return []
    step_min = (times[1] - times[0]).total_seconds() / 60.0
    hod = np.asarray(times.hour)
    train = np.asarray(times < train_end)
    zs, sizes = [], []
    for before, after in cfg.burst_windows:
        s = _step_sizes(r, before, after)
        sd = np.array([_robust_sd(s[train & (hod == h)]) for h in range(24)])
        sd = np.where(np.isfinite(sd), sd, np.nanmedian(sd) if np.isfinite(sd).any() else np.inf)
        zs.append(s / np.maximum(sd, cfg.min_step_sd_m3h)[hod])
        sizes.append(s)
    longest = max(range(len(zs)), key=lambda k: cfg.burst_windows[k][1])
    per_hour = max(int(round(60.0 / step_min)), 1)
    # ways to alarm: (z that must pass its threshold, size, samples after τ it needs)
    lock = max(b + a for b, a in cfg.burst_windows)
    paths = [(zs[0], sizes[0], cfg.burst_windows[0][1], cfg.burst_instant_z, lock),
             (np.fmin.reduce(zs), sizes[longest], cfg.burst_windows[longest][1], cfg.burst_z, lock)]
    for hours in cfg.burst_held_hours:
        # a sharp start that held: the mean since τ against the mean of the day before it (a whole day, so
        # the area's own level error and the season cancel), its spread from training
        held = _held_levels(r, int(hours * per_hour), 24 * per_hour)
        fit = train & np.roll(train, -int(hours * per_hour))
        sd = _robust_sd(held[fit])
        if not np.isfinite(sd) or sd <= 0:
            continue
        with np.errstate(invalid="ignore"):
            z_held = np.where(zs[0] > cfg.burst_held_sharp_z, held / max(sd, cfg.min_step_sd_m3h), np.nan)
        # (a step within the day before τ is in the held test's baseline: the same step, not a new one)
        paths.append((z_held, held, int(hours * per_hour), cfg.burst_held_z, 24 * per_hour))
    look = int(cfg.burst_refine)
    cand = []
    for zz, size_of, after, limit, guard in paths:
        with np.errstate(invalid="ignore"):
            hits = np.flatnonzero((zz > limit) & ~train)
        for tau in hits:
            # the step's sample: the best z among the next few τ (a large step shows before its own τ
            # already, at a fraction of its size); waiting for them costs `burst_refine` samples
            span = zz[tau:tau + look + 1]
            best = tau + int(np.nanargmax(span)) if np.isfinite(span).any() else tau
            cand.append((tau + look + after, best, float(size_of[best]), float(zz[best]), guard))
    cand.sort()
    out: list[dict] = []
    taken: list[int] = []
    for end, tau, size, z, guard in cand:
        if any(abs(tau - t) < guard for t in taken):  # the same step, seen again by another path or τ
            continue
        taken.append(tau)
        out.append({"tau": int(tau), "end": int(min(end, len(r))), "start": times[tau],
                    "alarm_at": times[min(end, len(r)) - 1] + pd.Timedelta(minutes=step_min),
                    "size": size, "z": z})
    return out


def area_events(res: pd.Series, cfg, train_end: pd.Timestamp, fine: pd.Series | None = None) -> list[dict]:
    """Alarms on one area's residual (block means, m³/h; `fine`: the same on the 5-minute grid, for the burst
    test): [{start, alarm_at, size, growth, kind, via}]."""
    r = res.to_numpy(float)
    times = res.index
    per_hour = max(60 // cfg.block_min, 1)
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
    first_h = int(np.searchsorted(h_times, train_end))
    # bursts from the 5-minute residual (step_alarms), processed in the hour their alarm falls in
    steps = step_alarms(fine, cfg, train_end) if fine is not None else []
    fine_r = fine.to_numpy(float) if fine is not None else None
    k_step = 0
    out: list[dict] = []
    mu = mu0
    designs = np.asarray(cfg.design_m3h * np.asarray(cfg.design_factors, dtype=float))
    up = np.zeros(len(designs))
    up_zero = np.full(len(designs), first_h)
    low, low_zero = 0.0, first_h
    quiet_until = -1  # hour index until which slow alarms only move μ
    active: list[float] = []  # sizes of the events not yet seen repaired
    for i in range(first_h, n_h):
        hour_end = h_times[i] + pd.Timedelta(hours=1)
        while k_step < len(steps) and steps[k_step]["alarm_at"] <= hour_end:
            st = steps[k_step]
            k_step += 1
            if st["alarm_at"] <= h_times[i]:
                continue  # before the first watched hour
            # the level since the step must sit above the baseline by most of the step (a dip recovering
            # is no burst)
            level = float(np.nanmean(fine_r[st["tau"]:st["end"]]))
            if st["size"] < cfg.min_burst_m3h or level - mu < 0.5 * st["size"]:
                continue
            out.append({"start": st["start"], "alarm_at": st["alarm_at"], "size": st["size"], "growth": 0.0,
                        "kind": "abrupt", "via": "burst"})
            mu += st["size"]
            active.append(st["size"])
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
                # kind and growth from the longest segment any CUSUM has run (a slow rise needs days to show)
                kind, growth = _ramp_or_step(x[int(up_zero.min()) + 1:i + 1] - mu, 24.0, 24)
                size = float(seg[-max(1, len(seg) // 4):].mean())
                out.append({"start": h_times[min(z0 + 1, n_h - 1)],
                            "alarm_at": h_times[i] + pd.Timedelta(hours=1), "size": size, "growth": growth,
                            "kind": kind, "via": "slow"})
                mu += size
                active.append(size)
                quiet_until = i + int(cfg.refractory_days * 24)
            up[:], up_zero[:], low, low_zero = 0.0, i, 0.0, i
    return out
