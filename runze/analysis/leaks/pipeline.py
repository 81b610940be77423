"""Detection end to end: SCADA frames → leak events (detect.py) → localised pipes (localise.py) → rows.

`detect_and_localise` trains on the first `train_days` of the data (or on a history directory, leaving out
the history's known leaks), finds events per DMA and names the most likely pipe of each, with its candidates.
The row of a detection is `pipe_id,detected_at` (BattLeDIM) plus DMA, start, size, growth, kind, confidence,
coordinates and the runner-up candidates.
"""

from __future__ import annotations

import pandas as pd

from runze.analysis.leaks.areas import TRUNK
from runze.analysis.leaks.detect import DetectConfig, LeakEvent, area_inputs, detect_events, residuals
from runze.analysis.leaks.layout import SensorLayout
from runze.analysis.leaks.localise import fit_pressure_model, localise
from runze.network.model import Network
from runze.network.topology import NetworkGraph


def detect_and_localise(frames: dict[str, pd.DataFrame], layout: SensorLayout, net: Network,
                        cfg: DetectConfig | None = None, history: dict[str, pd.DataFrame] | None = None,
                        progress=None) -> list[LeakEvent]:
    cfg = cfg or DetectConfig()
    if history is not None:  # train on the history, detect on the data: one series, training = history
        frames = {k: pd.concat([history[k], v]).sort_index() for k, v in frames.items() if k in history}
        frames = {k: v[~v.index.duplicated()] for k, v in frames.items()}
        train_end = min(f.index.max() for f in history.values()) + pd.Timedelta(minutes=5)
    else:
        first = min(f.index.min() for f in frames.values())
        train_end = first + pd.Timedelta(days=cfg.train_days)
    events = detect_events(frames, layout, net, cfg, train_end)
    if not cfg.localise or "pressure" not in frames or not events:
        return events
    graph = NetworkGraph.from_network(net)
    inflow, demand = area_inputs(frames, layout, net, cfg)
    flow_res, _ = residuals(inflow, cfg, train_end, demand)
    block = f"{cfg.block_min}min"
    inflow_blocks = inflow.resample(block).mean()
    link_flows = frames["flow"].rename(columns=layout.flow) if "flow" in frames else None
    for k, ev in enumerate(events):
        if progress:
            progress(k, len(events))
        ev.alarm_at = ev.alarm_at or ev.detected_at
        # a burst found by the step test has a clear signature within the hour; a leak found by the slow
        # test is small, and its localisation needs a day of data
        wait = cfg.burst_localise_hours if ev.trigger == "burst" else cfg.localise_hours
        ev.detected_at = max(ev.detected_at, ev.start + pd.Timedelta(hours=wait))
        window = flow_res[ev.dma].loc[ev.start:ev.detected_at - pd.Timedelta(minutes=cfg.block_min)]
        before = flow_res[ev.dma].loc[:ev.start].iloc[-2 * 96:-1]
        q = window - (before.median() if len(before) else 0.0)
        q = q.clip(lower=0.0)
        nodes = layout.dmas.get(ev.dma, {}).get("nodes") if ev.dma in layout.dmas else None
        if ev.dma == TRUNK:
            inside = {n for d in layout.dmas.values() for n in d.get("nodes", [])}
            nodes = [n for n in net.junctions if n not in inside]
        # the pressure model of the week before the event (seasons drift; earlier leaks are in its baseline)
        model = fit_pressure_model(frames["pressure"], layout, ev.start, cfg.block_min, train_days=7.0,
                                   regressors_outside=set(nodes) if (nodes and cfg.outside_regressors) else None)
        span = frames["pressure"].loc[ev.start - pd.Timedelta(days=3):ev.detected_at - pd.Timedelta(seconds=1)]
        pres = model.residuals(span)
        # the area's inflow residual over the span (the localiser's demand correction) and its metered link flows
        # against the area's inflow (extra sensors), as bench_localise.py measures them
        extra = {"area_flow": flow_res[ev.dma].loc[span.index[0]:span.index[-1]]} if ev.dma in flow_res else {}
        if extra and link_flows is not None and ev.dma in inflow_blocks:
            extra["flows"] = link_flows.loc[span.index[0]:ev.detected_at].resample(block).mean()
            extra["area_inflow"] = inflow_blocks[ev.dma].loc[span.index[0]:ev.detected_at]
        ev.candidates = localise(net, graph, model, pres, q, nodes, **extra)
        ev.pipe = ev.candidates[0]["pipe"] if ev.candidates else None
    return events


def events_frame(events: list[LeakEvent]) -> pd.DataFrame:
    rows = []
    for ev in events:
        row = ev.as_row()
        best = ev.candidates[0] if ev.candidates else {}
        row.update({"confidence": best.get("confidence"), "x": best.get("x"), "y": best.get("y"),
                    "candidates": " ".join(f"{c['pipe']}:{c['confidence']:.2f}@{c['distance_m']:.0f}m"
                                           for c in ev.candidates[1:])})
        rows.append(row)
    cols = ["pipe_id", "detected_at", "dma", "start", "size_m3h", "growth_m3h_per_day", "kind", "alarm_at",
            "confidence", "x", "y", "candidates"]
    return pd.DataFrame(rows, columns=cols)
