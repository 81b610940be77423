"""Live twin: the hydraulic model driven by the latest measurements, compared with the pressure sensors.

One snapshot (single period) at time ``at``:

* **plant outputs**: a plant whose outflow is measured (sensor ``<plant>-OUT-Q`` on its outlet link) has its
  pumps stopped and the measured flow injected at the pump discharge node (a negative demand), so the model
  delivers exactly what the plant delivered;
* **tank levels**: each measured tank starts at its measured level (clipped to its limits): tanks are the fixed
  heads of the snapshot;
* **DMA inflows**: each DMA whose inlet flows are all measured (positive into the DMA) has its nodes' demands
  scaled so that the DMA's demand at this time of day equals the measured net inflow (leakage and any burst are
  spread over the DMA); a factor outside 0.2–5 (meter fault, transit flow) is reported and not applied;
* **boosters**: a booster whose flow is measured runs its first duty pump if that flow is above 1 m³/h, else
  stops (its level controls have hysteresis that one period cannot replay);
* demands elsewhere follow the model's patterns at the clock time of ``at`` (China Standard Time).

Residual = measured − modelled pressure (MPa) at each pressure sensor: near zero where the model explains the
network; a cluster of negative residuals points at something the model does not know (a burst, a closed valve).
Pure computation: runze.ops.telemetry reads the measurements and stores the run.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from runze.network.model import Demand, Network, Pattern
from runze.network.units import MPA_PER_M

CST = timezone(timedelta(hours=8))
MIN_SCALE, MAX_SCALE = 0.2, 5.0  # plausible DMA demand factors (measured inflow / modelled demand)


@dataclass
class TwinResult:
    at: datetime
    residuals: pd.DataFrame  # sensor_id, measured, modelled, residual (MPa)
    summary: dict = field(default_factory=dict)
    ok: bool = True


def _multiplier(net: Network, pattern_id: str | None, seconds: float) -> float:
    pid = pattern_id or net.options.default_pattern or ("1" if "1" in net.patterns else None)
    if pid is None or pid not in net.patterns or not net.patterns[pid].multipliers:
        return 1.0
    mult = net.patterns[pid].multipliers
    return float(mult[int(seconds // net.options.time.pattern_step) % len(mult)])


def twin_network(net: Network, measured: Mapping[str, float], at: datetime) -> tuple[Network, dict]:
    """A copy of ``net`` set up for the snapshot at ``at`` from ``measured`` (sensor id → canonical value)."""
    net = copy.deepcopy(net)
    local = at.astimezone(CST)
    clock = float(local.hour * 3600 + local.minute * 60 + local.second)
    t = net.options.time
    t.duration, t.pattern_start, t.start_clocktime = 0.0, clock, clock
    sensors = {s["id"]: s for s in net.utility.sensors}
    used: dict = {"plants": {}, "tanks": {}, "dma_scale": {}, "clock_s": clock}
    net.patterns["TWIN_FLAT"] = Pattern("TWIN_FLAT", [1.0])
    for plant in net.utility.plants:
        q = measured.get(f"{plant['id']}-OUT-Q")
        if q is None:
            continue
        for pump in plant["pumps"]:
            net.pumps[pump].initial_status = "CLOSED"
        net.controls = [c for c in net.controls if c.link not in plant["pumps"]]
        discharge = net.pumps[plant["pumps"][0]].node2
        net.junctions[discharge].demands.append(Demand(-q / 3600.0, "TWIN_FLAT", "plant_output"))
        used["plants"][plant["id"]] = q
    for booster in net.utility.extra.get("boosters", []):
        q = measured.get(f"{booster['id']}-Q")
        if q is None:
            continue
        # level controls have hysteresis a snapshot cannot replay: the measured flow says whether it runs
        running = q > 1.0
        for pump in booster["pumps"]:
            net.pumps[pump].initial_status = "OPEN" if running and pump in booster["duty_pumps"][:1] else "CLOSED"
        net.controls = [c for c in net.controls if c.link not in booster["pumps"]]
        used.setdefault("boosters", {})[booster["id"]] = running
    for s in sensors.values():
        if s["kind"] == "level" and s["id"] in measured and s["element"] in net.tanks:
            tank = net.tanks[s["element"]]
            tank.init_level = float(np.clip(measured[s["id"]], tank.min_level, tank.max_level))
            used["tanks"][tank.id] = tank.init_level
    for dma_id, dma in net.utility.dmas.items():
        inlet_ids = [sid for sid, s in sensors.items() if s["kind"] == "flow" and s["element"] in dma["inlets"]]
        if not inlet_ids or any(sid not in measured for sid in inlet_ids):
            continue
        inflow = sum(measured[sid] for sid in inlet_ids) / 3600.0
        nodes = [net.junctions[n] for n in dma["nodes"] if n in net.junctions]
        modelled = sum(d.base * _multiplier(net, d.pattern, clock) for j in nodes for d in j.demands)
        if modelled <= 0:
            continue
        scale = inflow / modelled
        if not MIN_SCALE <= scale <= MAX_SCALE:  # a meter fault or transit flow: do not bend the model to it
            used.setdefault("dma_skipped", {})[dma_id] = round(scale, 4)
            continue
        for j in nodes:
            for d in j.demands:
                d.base *= scale
        used["dma_scale"][dma_id] = round(scale, 4)
    return net, used


def run_snapshot(net: Network, measured: Mapping[str, float], at: datetime) -> TwinResult:
    """Simulate the snapshot and compare with every measured pressure sensor."""
    from runze.hydraulics import simulate

    model, used = twin_network(net, measured, at)
    res = simulate(model, duration=0)
    pressure = res.node["pressure"].iloc[0]
    rows = []
    for s in net.utility.sensors:
        if s["kind"] != "pressure" or s["id"] not in measured or s["element"] not in pressure.index:
            continue
        modelled = float(pressure[s["element"]]) * MPA_PER_M
        rows.append((s["id"], float(measured[s["id"]]), modelled, float(measured[s["id"]]) - modelled))
    frame = pd.DataFrame(rows, columns=["sensor_id", "measured", "modelled", "residual"])
    r = frame["residual"].to_numpy()
    summary = dict(used, sensors=len(frame), solver_ok=bool(res.ok),
                   warnings=[w.as_dict()["message"] for w in res.warnings][:10])
    if len(r):
        worst = int(np.argmax(np.abs(r)))
        summary.update(mean_mpa=float(r.mean()), rmse_mpa=float(np.sqrt((r ** 2).mean())),
                       worst_sensor=frame["sensor_id"].iloc[worst], worst_mpa=float(r[worst]))
    return TwinResult(at, frame, summary, bool(res.ok))
