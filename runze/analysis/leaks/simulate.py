"""Synthetic SCADA data with leaks, BattLeDIM style: 5-minute readings plus the ground truth.

Demand: every junction gets its own hourly series = its modelled demand (base × pattern, all categories) ×
a weekly factor (its own weekend ratio) × a seasonal factor (±`seasonal_amp`, summer high) × exp(AR(1) noise)
(hourly φ = `demand_phi`, marginal σ = `demand_sigma`), so DMAs and nodes do not move in lockstep.

Leaks: `n_leaks` pipes (chosen by length, open pipes only, one leak per pipe), half abrupt (a burst: full size
at its start) and half incipient (orifice growing linearly from nothing at its start to `peak_m3h` at its end).
Each leak is an EPANET emitter at the pipe's downstream end node (orifice equation Q = C·√p, C = Cd·A·√(2g);
the area is written to the truth), sized so that it loses about `peak_m3h` at that node's mean pressure.
No leak starts in the first `clean_days` (the detector's training window); `end` is the repair (or the end of
the data); `leaks.csv` holds pipe,start,end,kind,peak_m3h (+ node, area_mm2, mean_m3h).

Time: the network is solved hourly by EPANET twice — without and with the leaks — and 5-minute values are
    baseline interpolated linearly between hours (a pump switched by a control in between: a step at its
    time on top, see `to_five_minutes`)  +  leak effect (with − without)
where the leak effect is taken from whichever neighbouring hour has the same set of active leaks as the
5-minute instant (both: interpolated, so incipient growth is smooth; a burst at 10:35 appears at 10:35, not
spread over the hour).  The approximation is checked against 5-minute EPANET solves in the tests/benchmark.
Then sensor noise (Gaussian) and resolution (rounding); flows get a little within-hour AR(1) demand wobble.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from runze.analysis.leaks.epanet_run import mean_pressures, run_hourly
from runze.analysis.leaks.layout import FILE_OF_KIND, SensorLayout
from runze.network.model import Network

G = 9.80665
STEP_S = 300
LEAK_COLUMNS = ["pipe", "node", "start_s", "end_s", "kind", "peak_m3h", "coeff", "area_mm2"]


@dataclass
class GeneratorConfig:
    days: int = 365
    n_leaks: int = 20
    seed: int = 0
    start: str = "2019-01-01 00:00:00"
    clean_days: int = 14
    demand_sigma: float = 0.10
    demand_phi: float = 0.7
    weekend_sigma: float = 0.05
    seasonal_amp: float = 0.08
    abrupt_share: float = 0.5
    abrupt_m3h: tuple[float, float] = (3.0, 30.0)
    incipient_m3h: tuple[float, float] = (1.5, 12.0)
    abrupt_days: tuple[float, float] = (1.0, 12.0)  # burst to repair
    incipient_days: tuple[float, float] = (20.0, 120.0)  # growth to repair
    cd: float = 0.6
    pressure_noise_m: float = 0.01
    pressure_res_m: float = 0.01
    flow_noise_rel: float = 0.003
    flow_noise_abs: float = 0.05
    flow_wobble_rel: float = 0.005
    flow_res: float = 0.01
    level_noise_m: float = 0.002
    level_res_m: float = 0.001


def hourly_base_demand(net: Network, hours: int) -> np.ndarray:
    """(hours, n_junctions) modelled demand in m³/h: base × pattern × demand multiplier, all categories."""
    t = net.options.time
    pstep = max(int(t.pattern_step or 3600), 1)
    default = net.options.default_pattern or ("1" if "1" in net.patterns else None)
    pat_ids = list(net.patterns)
    pat_index = {p: i for i, p in enumerate(pat_ids)}
    times = np.arange(hours) * 3600 + int(t.pattern_start)
    period = times // pstep
    mult = np.ones((len(pat_ids) + 1, hours))  # last row: no pattern (flat)
    for i, pid in enumerate(pat_ids):
        m = np.asarray(net.patterns[pid].multipliers or [1.0], dtype=float)
        mult[i] = m[period % len(m)]
    cols, base, pat = [], [], []
    for j, junction in enumerate(net.junctions.values()):
        for d in junction.demands:
            pid = d.pattern if d.pattern is not None else default
            cols.append(j)
            base.append(d.base * 3600.0)
            pat.append(pat_index.get(pid, len(pat_ids)) if pid else len(pat_ids))
    out = np.zeros((hours, len(net.junctions)))
    if cols:
        contrib = mult[np.array(pat)] * np.array(base)[:, None] * net.options.demand_multiplier  # (n_dem, hours)
        np.add.at(out.T, np.array(cols), contrib)
    return out


def stochastic_demand(base: np.ndarray, rng: np.random.Generator, cfg: GeneratorConfig,
                      start: pd.Timestamp) -> np.ndarray:
    hours, n = base.shape
    stamps = start + pd.to_timedelta(np.arange(hours), unit="h")
    weekend = np.asarray(stamps.day_of_week >= 5)
    node_weekend = 1.0 + cfg.weekend_sigma * rng.standard_normal(n)
    week = np.where(weekend[:, None], node_weekend[None, :], 1.0)
    doy = np.asarray(stamps.day_of_year)
    season = 1.0 + cfg.seasonal_amp * np.sin(2 * np.pi * (doy - 105) / 365.0)
    innov = rng.standard_normal((hours, n)) * cfg.demand_sigma * np.sqrt(1 - cfg.demand_phi ** 2)
    ar = lfilter([1.0], [1.0, -cfg.demand_phi], innov, axis=0)
    noise = np.exp(ar - cfg.demand_sigma ** 2 / 2)
    return base * week * season[:, None] * noise


def draw_leaks(net: Network, rng: np.random.Generator, cfg: GeneratorConfig, mean_p: dict[str, float],
               start: pd.Timestamp) -> pd.DataFrame:
    """The leak schedule: pipe, node, start, end, kind, peak_m3h, coefficient (m³/h per √m), area_mm2."""
    pipes = [p for p in net.pipes.values() if p.initial_status == "OPEN"
             and (p.node1 in net.junctions or p.node2 in net.junctions)]
    length = np.array([p.length for p in pipes])
    n = min(cfg.n_leaks, len(pipes))
    chosen = rng.choice(len(pipes), size=n, replace=False, p=length / length.sum())
    total_s = cfg.days * 86400
    rows = []
    used_nodes: set[str] = set()
    for k, i in enumerate(chosen):
        pipe = pipes[i]
        node = pipe.node2 if pipe.node2 in net.junctions else pipe.node1
        if node in used_nodes:
            node = pipe.node1 if pipe.node1 in net.junctions and pipe.node1 not in used_nodes else node
        used_nodes.add(node)
        abrupt = k < round(n * cfg.abrupt_share)
        lo, hi = cfg.abrupt_m3h if abrupt else cfg.incipient_m3h
        peak = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        dlo, dhi = cfg.abrupt_days if abrupt else cfg.incipient_days
        t0 = int(rng.uniform(cfg.clean_days * 86400, total_s - 86400) // STEP_S * STEP_S)
        t1 = min(total_s, t0 + int(rng.uniform(dlo, dhi) * 86400) // STEP_S * STEP_S)
        p = max(mean_p.get(node, 20.0), 1.0)
        coeff = peak / np.sqrt(p)
        area_mm2 = coeff / 3600.0 / (cfg.cd * np.sqrt(2 * G)) * 1e6
        rows.append({"pipe": pipe.id, "node": node, "start_s": t0, "end_s": t1,
                     "kind": "abrupt" if abrupt else "incipient", "peak_m3h": round(peak, 3),
                     "coeff": coeff, "area_mm2": round(area_mm2, 3)})
    df = pd.DataFrame(rows, columns=LEAK_COLUMNS).sort_values("start_s", kind="stable").reset_index(drop=True)
    df["start"] = (start + pd.to_timedelta(df["start_s"], unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S")
    df["end"] = (start + pd.to_timedelta(df["end_s"], unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S")
    return df


def leak_coefficients(leaks: pd.DataFrame, times_s: np.ndarray) -> np.ndarray:
    """(len(times_s), n_leaks) emitter coefficient of each leak at each time (0 outside start..end)."""
    t = times_s[:, None].astype(float)
    t0, t1 = leaks["start_s"].to_numpy(float)[None, :], leaks["end_s"].to_numpy(float)[None, :]
    active = (t >= t0) & (t < t1)
    incipient = (leaks["kind"] == "incipient").to_numpy()[None, :]
    growth = np.clip((t - t0) / np.maximum(t1 - t0, 1.0), 0.0, 1.0)
    frac = np.where(incipient, growth, 1.0)
    return np.where(active, frac * leaks["coeff"].to_numpy(float)[None, :], 0.0)


def _active_signature(leaks: pd.DataFrame, times_s: np.ndarray) -> np.ndarray:
    """A number per time that is equal exactly when the same set of leaks is active."""
    t = times_s[:, None]
    active = (t >= leaks["start_s"].to_numpy()[None, :]) & (t < leaks["end_s"].to_numpy()[None, :])
    weights = np.exp2(np.arange(len(leaks)) % 52)  # distinct bit per leak (repeats only beyond 52 leaks)
    weights = weights + np.arange(len(leaks)) * 1e-3
    return active.astype(float) @ weights


def _event_arrays(events: list, column: int | None, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of EPANET's intermediate solves (a control switched a pump, a tank filled), time-sorted."""
    if column is None or not events:
        return np.zeros(0), np.zeros((0, width))
    et = np.array([e[0] for e in events], dtype=float)
    ev = np.array([e[column] for e in events], dtype=float).reshape(len(events), width)
    order = np.argsort(et, kind="stable")
    return et[order], ev[order]


def to_five_minutes(base: np.ndarray, leaky: np.ndarray, leaks: pd.DataFrame, n_steps: int,
                    events: list | None = None, column: int | None = None, continuous: bool = False) -> np.ndarray:
    """5-minute values from hourly baseline and hourly with-leak values (see the module docstring).

    Between the hour's solution H0 and the next H1 the value moves linearly (demand changes smoothly).  When
    EPANET solved in between (a control switched a pump at time te, value E there; E_n the hour's last such
    solve), the switch is a step at te on top of that course: v(t) = E_last(t) + w(t)·(H1 − E_n), E_last the
    latest solve at or before t within the hour (H0 before the first).  EPANET's demands are the same at H0 and
    at te, so demand-driven flows (DMA inflows) keep their smooth course and a pump's flow steps at its switch;
    every term is a linear combination of solutions that each conserve mass, so water balances still close.
    `continuous` values (tank levels) are joined linearly through every solution instead (they never jump).
    """
    hours = base.shape[0]
    t = np.arange(n_steps) * STEP_S
    lo = np.minimum(t // 3600, hours - 1)
    hi = np.minimum(lo + 1, hours - 1)
    w = ((t - lo * 3600) / 3600.0)[:, None]
    et, ev = _event_arrays(events or [], column, base.shape[1])
    if len(et) == 0:
        out = base[lo] * (1 - w) + base[hi] * w
    elif continuous:
        all_t = np.concatenate([np.arange(hours, dtype=float) * 3600, et])
        order = np.argsort(all_t, kind="stable")
        st, sv = all_t[order], np.vstack([base, ev])[order]
        out = np.column_stack([np.interp(t, st, sv[:, k]) for k in range(sv.shape[1])])
    else:
        k_t = np.searchsorted(et, t, side="right") - 1
        in_hour = (k_t >= 0) & (et[np.maximum(k_t, 0)] > lo * 3600)
        e_last = np.where(in_hour[:, None], ev[np.maximum(k_t, 0)], base[lo])
        k_n = np.searchsorted(et, (lo + 1) * 3600.0, side="left") - 1
        n_in = (k_n >= 0) & (et[np.maximum(k_n, 0)] > lo * 3600)
        e_n = np.where(n_in[:, None], ev[np.maximum(k_n, 0)], base[lo])
        out = e_last + w * (base[hi] - e_n)
    if len(leaks) == 0:
        return out
    delta = leaky - base
    sig_t = _active_signature(leaks, t)
    sig_h = _active_signature(leaks, np.arange(hours) * 3600)
    same_lo = np.isclose(sig_h[lo], sig_t)
    same_hi = np.isclose(sig_h[hi], sig_t) & (hi > lo)
    d_lo, d_hi = delta[lo], delta[hi]
    effect = np.where((same_lo & same_hi)[:, None], d_lo * (1 - w) + d_hi * w,
                      np.where(same_hi[:, None], d_hi, d_lo))
    return out + effect


def _noisy(x: np.ndarray, rng: np.random.Generator, sigma, resolution: float) -> np.ndarray:
    y = x + rng.standard_normal(x.shape) * sigma
    return np.round(y / resolution) * resolution if resolution > 0 else y


@dataclass
class GeneratedData:
    readings: dict[str, pd.DataFrame]  # kind -> wide frame (index timestamps, columns sensor ids)
    leaks: pd.DataFrame
    leak_flow_hourly: np.ndarray


def fixed_leaks(net: Network, rows: list[dict], mean_p: dict[str, float], cfg: GeneratorConfig,
                start: pd.Timestamp) -> pd.DataFrame:
    """A given schedule instead of a drawn one: rows {pipe, start_h, hours, kind, peak_m3h} (tests, what-ifs)."""
    out = []
    for r in rows:
        pipe = net.pipes[r["pipe"]]
        node = pipe.node2 if pipe.node2 in net.junctions else pipe.node1
        coeff = r["peak_m3h"] / np.sqrt(max(mean_p.get(node, 20.0), 1.0))
        t0 = int(r["start_h"] * 3600) // STEP_S * STEP_S
        out.append({"pipe": pipe.id, "node": node, "start_s": t0,
                    "end_s": min(cfg.days * 86400, t0 + int(r["hours"] * 3600)), "kind": r["kind"],
                    "peak_m3h": r["peak_m3h"], "coeff": coeff,
                    "area_mm2": round(coeff / 3600.0 / (cfg.cd * np.sqrt(2 * G)) * 1e6, 3)})
    df = pd.DataFrame(out, columns=LEAK_COLUMNS)
    df["start"] = (start + pd.to_timedelta(df["start_s"], unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S")
    df["end"] = (start + pd.to_timedelta(df["end_s"], unit="s")).dt.strftime("%Y-%m-%d %H:%M:%S")
    return df


def generate(net: Network, layout: SensorLayout, cfg: GeneratorConfig, progress=None,
             leak_rows: list[dict] | None = None) -> GeneratedData:
    rng = np.random.default_rng(cfg.seed)
    start = pd.Timestamp(cfg.start)
    hours = cfg.days * 24 + 1
    n_steps = cfg.days * 288
    base = hourly_base_demand(net, hours)
    demand = stochastic_demand(base, rng, cfg, start)
    mean_p = mean_pressures(net)
    leaks = (fixed_leaks(net, leak_rows, mean_p, cfg, start) if leak_rows is not None
             else draw_leaks(net, rng, cfg, mean_p, start))
    sensors = {k: list(layout.of_kind(k).values()) for k in ("pressure", "flow", "level", "demand")}
    junctions = list(net.junctions)
    zero = np.zeros((hours, len(leaks)))
    if progress:
        progress("baseline")
    rec0 = run_hourly(net, demand, junctions, sensors, list(leaks["node"]), zero)
    if progress:
        progress("leaks")
    coeff = leak_coefficients(leaks, np.arange(hours) * 3600)
    rec1 = run_hourly(net, demand, junctions, sensors, list(leaks["node"]), coeff)
    times = start + pd.to_timedelta(np.arange(n_steps) * STEP_S, unit="s")
    out: dict[str, pd.DataFrame] = {}
    for kind in ("pressure", "flow", "level", "demand"):
        ids = list(layout.of_kind(kind))
        if not ids:
            continue
        column = {"pressure": 1, "flow": 2, "level": 3}.get(kind)
        v = to_five_minutes(getattr(rec0, kind), getattr(rec1, kind), leaks, n_steps, rec0.events, column,
                            continuous=kind == "level")
        if kind == "pressure":
            v = _noisy(v, rng, cfg.pressure_noise_m, cfg.pressure_res_m)
        elif kind == "flow":
            innov = rng.standard_normal(v.shape) * np.sqrt(1 - 0.7 ** 2)
            v = v * (1 + cfg.flow_wobble_rel * lfilter([1.0], [1.0, -0.7], innov, axis=0))
            v = _noisy(v, rng, cfg.flow_noise_rel * np.abs(v) + cfg.flow_noise_abs, cfg.flow_res)
        elif kind == "level":
            v = _noisy(v, rng, cfg.level_noise_m, cfg.level_res_m)
        else:
            v = _noisy(v * 1000.0, rng, 0.01 * np.abs(v) * 1000.0, 1.0)  # AMR in L/h
        out[kind] = pd.DataFrame(v, index=times, columns=ids)
    # the truth: mean leak outflow over each leak's life (hourly EPANET emitter flows)
    lf = rec1.leak_flow
    active = coeff > 0
    leaks["mean_m3h"] = np.round(np.where(active, lf, 0).sum(0) / np.maximum(active.sum(0), 1), 3)
    return GeneratedData(out, leaks, lf)


def write_battledim(frame: pd.DataFrame, path: Path, decimals: int = 3) -> None:
    """`Timestamp;<id>;...` with `;` separators and `,` decimal mark."""
    body = frame.to_csv(sep=";", decimal=",", float_format=f"%.{decimals}f", index_label="Timestamp",
                        date_format="%Y-%m-%d %H:%M:%S")
    path.write_text(body, encoding="utf-8")


def write_generated(data: GeneratedData, layout: SensorLayout, cfg: GeneratorConfig, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, frame in data.readings.items():
        write_battledim(frame, out_dir / FILE_OF_KIND[kind], 0 if kind == "demand" else 3)
    cols = ["pipe", "start", "end", "kind", "peak_m3h", "node", "area_mm2", "mean_m3h"]
    data.leaks[cols].to_csv(out_dir / "leaks.csv", index=False)
    (out_dir / "sensors.json").write_text(json.dumps(layout.to_json(), ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    meta = {"generator": "runze leaks simulate", "config": asdict(cfg), "step_s": STEP_S}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
