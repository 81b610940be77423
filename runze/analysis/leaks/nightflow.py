"""Minimum night flow (最小夜间流量) per DMA against legitimate night use.

MNF of a night = the lowest one-hour mean inflow between `night_start` and `night_end` hours (02:00-04:00 is
typical).  Legitimate night flow = customer night use (L/h per household and per non-household connection)
+ unavoidable background leakage (IWA: L/h per km of mains and per service connection at 50 m, scaled by
(P/50)^1.5) — all configurable.  Night leakage = MNF − legitimate.  A DMA is flagged when its night leakage
rises above its own baseline (median of the first `baseline_nights`) by more than max(`min_rise_m3h`,
`rise_sigmas` × the baseline's robust spread) on `confirm_nights` consecutive nights: the absolute figure
depends on allowances a utility must calibrate, the rise does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from runze.network.model import Network


@dataclass
class NightFlowConfig:
    night_start: int = 1
    night_end: int = 5
    household_l_h: float = 1.7  # per household connection at night
    non_household_l_h: float = 8.0  # per non-household connection
    ubl_mains_l_km_h: float = 9.6  # IWA unavoidable background leakage, mains, at 50 m
    ubl_connection_l_h: float = 0.6  # per service connection, at 50 m
    pressure_m: float = 50.0  # average zone night pressure for the UBL scaling
    baseline_nights: int = 7
    min_rise_m3h: float = 1.0
    rise_sigmas: float = 4.0
    confirm_nights: int = 2


def dma_facts(net: Network, dmas: dict[str, dict]) -> pd.DataFrame:
    """Connections (household / other) and km of mains per DMA."""
    rows = []
    for dma_id, dma in dmas.items():
        nodes = set(dma.get("nodes", []))
        house = other = 0
        for n in nodes:
            for cat, count in net.utility.customers.get(n, {}).items():
                if cat == "residential":
                    house += int(count)
                else:
                    other += int(count)
        km = sum(p.length for p in net.pipes.values() if p.node1 in nodes and p.node2 in nodes) / 1000.0
        rows.append({"dma": dma_id, "households": house, "other_connections": other, "mains_km": km})
    return pd.DataFrame(rows).set_index("dma") if rows else pd.DataFrame(
        columns=["households", "other_connections", "mains_km"])


def legitimate_night_flow(facts: pd.DataFrame, cfg: NightFlowConfig) -> pd.Series:
    """m³/h of expected night flow without leaks per DMA."""
    use = facts["households"] * cfg.household_l_h + facts["other_connections"] * cfg.non_household_l_h
    conns = facts["households"] + facts["other_connections"]
    ubl = (facts["mains_km"] * cfg.ubl_mains_l_km_h + conns * cfg.ubl_connection_l_h) * (cfg.pressure_m / 50) ** 1.5
    return (use + ubl) / 1000.0


def minimum_night_flow(inflow: pd.DataFrame, cfg: NightFlowConfig) -> pd.DataFrame:
    """(night date x DMA) lowest one-hour mean inflow in the night window, m³/h."""
    hourly = inflow.rolling("60min", min_periods=6).mean()
    hours = hourly.index.hour
    night = hourly[(hours >= cfg.night_start) & (hours < cfg.night_end)]
    return night.groupby(night.index.normalize()).min()


def night_flow_report(inflow: pd.DataFrame, net: Network, dmas: dict[str, dict],
                      cfg: NightFlowConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per DMA summary with a `flagged` column and first flagged night, per night MNF table)."""
    cfg = cfg or NightFlowConfig()
    mnf = minimum_night_flow(inflow, cfg)
    facts = dma_facts(net, {k: v for k, v in dmas.items() if k in mnf.columns})
    legit = legitimate_night_flow(facts, cfg).reindex(mnf.columns).fillna(0.0)
    leakage = mnf - legit
    base = leakage.iloc[:cfg.baseline_nights]
    med = base.median()
    spread = 1.4826 * (base - med).abs().median()
    limit = np.maximum(cfg.min_rise_m3h, cfg.rise_sigmas * spread)
    over = leakage.gt(med + limit, axis=1)
    over.iloc[:cfg.baseline_nights] = False
    run = over.astype(int).rolling(cfg.confirm_nights, min_periods=cfg.confirm_nights).sum() >= cfg.confirm_nights
    first = {c: (run.index[run[c].to_numpy()][0].strftime("%Y-%m-%d") if run[c].any() else None)
             for c in run.columns}
    summary = pd.DataFrame({
        "households": facts["households"], "other_connections": facts["other_connections"],
        "mains_km": facts["mains_km"].round(2), "legitimate_m3h": legit.round(2),
        "baseline_mnf_m3h": (med + legit).round(2), "latest_mnf_m3h": mnf.iloc[-1].round(2),
        "night_leakage_m3h": leakage.iloc[-1].round(2), "rise_m3h": (leakage.iloc[-1] - med).round(2),
        "limit_m3h": pd.Series(limit, index=mnf.columns).round(2),
        "flagged": pd.Series({c: first[c] is not None for c in mnf.columns}),
        "first_flagged_night": pd.Series(first),
    })
    summary.index.name = "dma"
    return summary, mnf
