"""Demo replay: a simulated day of the demo city's sensors, with the rainstorm night, published through MQTT.

The day starts at noon (China Standard Time) and runs 24 h through the night of the rainstorm:

* 22:00 rain begins: raw-water turbidity climbs at the river intakes, most at plant 3's (to ~900 NTU by 02:00,
  falling slowly after 05:00); plants 1 and 2 see a smaller rise, plant 4 (reservoir) none;
* 01:00–09:00 plant 3 is limited: one of its two duty pumps is stopped (the throttled intake), the other plants
  and the main service tank carry the city;
* 03:00–07:00 a main bursts in the DMA of pressure logger PL001 (about 180 m³/h lost), repaired in the small hours.

The hydraulics come from Runze's own engine (`runze.simulate`) on the demo city
(`runze.network.demo_city.build_demo_city`) at the reading interval; turbidity is synthetic.  Readings carry a
little measurement noise (deterministic seed) and are published in the units a SCADA sends: pressure MPa, flow
m³/h, level m, turbidity NTU.  ``publish`` paces them at ``speed`` simulated seconds per wall second.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from runze.network.model import Control, Demand, Network, Pattern
from runze.network.units import MPA_PER_M

CST = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 11, 24, 12, 0, tzinfo=CST)
BURST_M3S = 0.05  # 180 m³/h: a DN200 main
BURST_HOURS = (3, 7)  # clock hours [start, end)
PLANT3_LIMIT_HOURS = (1, 9)  # clock hours: 01:00 to 09:00
PUBLISH_UNIT = {"pressure": "MPa", "flow": "m3/h", "level": "m", "turbidity": "NTU"}


@dataclass
class Scenario:
    start: datetime
    step_s: int
    sensors: list[dict]
    readings: list[tuple[float, str, dict]]  # (seconds after start, sensor id, payload), in time order
    events: list[str] = field(default_factory=list)
    network: Network | None = None


def rainstorm_network(net: Network, start_clock_s: float = 12 * 3600.0) -> tuple[Network, str, list[str]]:
    """The demo city with the night's events as EPANET controls and a burst demand (a copy).

    ``start_clock_s``: the clock time (seconds after midnight) at which the simulation starts.
    """
    net = copy.deepcopy(net)
    limit = [((h * 3600.0 - start_clock_s) % 86400.0) for h in PLANT3_LIMIT_HOURS]  # seconds after the start
    events = []
    plant3 = next((p for p in net.utility.plants if p["id"] == "P3"), net.utility.plants[-1])
    stopped = plant3["duty_pumps"][: max(1, len(plant3["duty_pumps"]) // 2)]
    for pump in stopped:
        net.controls.append(Control(pump, "CLOSED", None, "time", None, limit[0]))
        net.controls.append(Control(pump, "OPEN", None, "time", None, limit[1]))
    events.append(f"01:00–09:00 {plant3['id']} limited: {', '.join(stopped)} stopped")
    logger = next(s for s in net.utility.sensors if s["id"] == "PL001")
    dma = next((d for d in net.utility.dmas.values() if logger["element"] in d["nodes"]), None)
    nodes = [n for n in (dma["nodes"] if dma else [logger["element"]]) if n in net.junctions]
    burst_node = nodes[len(nodes) // 2] if len(nodes) > 1 else logger["element"]
    steps = int(round(24 * 3600 / net.options.time.pattern_step))
    per_hour = steps / 24
    mult = [1.0 if BURST_HOURS[0] <= k / per_hour < BURST_HOURS[1] else 0.0 for k in range(steps)]
    net.patterns["BURST"] = Pattern("BURST", mult)
    net.junctions[burst_node].demands.append(Demand(BURST_M3S, "BURST", "burst"))
    events.append(f"03:00–07:00 burst at {burst_node} ({BURST_M3S * 3600:.0f} m³/h) near PL001")
    return net, burst_node, events


def inlet_signs(net: Network) -> dict[str, float]:
    """+1/-1 per DMA inlet flow sensor: the sign that makes the link's flow positive into the DMA."""
    signs = {}
    for s in net.utility.sensors:
        if s["kind"] != "flow" or not s["id"].startswith("DMA"):
            continue
        dma = net.utility.dmas.get(s["id"].split("-")[0])
        link = net.link(s["element"])
        if dma is not None:
            signs[s["id"]] = 1.0 if link.node2 in set(dma["nodes"]) else -1.0
    return signs


def raw_turbidity(plant_id: str, since_noon_h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Synthetic raw-water turbidity (NTU) at a plant's intake, by hours after noon (22:00 is 10)."""
    base = {"P1": 18.0, "P2": 22.0, "P3": 30.0}.get(plant_id, 6.0)
    peak = {"P1": 160.0, "P2": 220.0, "P3": 900.0}.get(plant_id, 0.0)
    h = since_noon_h - 10.0  # hours after 22:00
    rise = np.clip(h / 4.0, 0.0, 1.0) ** 2  # 22:00 → 02:00
    fall = np.where(h > 7.0, np.exp(-(h - 7.0) / 5.0), 1.0)  # after 05:00
    return base + peak * rise * fall + rng.normal(0.0, 0.03 * base, len(h))


def build_scenario(hours: float = 24.0, step_s: int = 300, seed: int = 2026, start: datetime = DEFAULT_START,
                   network: Network | None = None, noise: bool = True) -> Scenario:
    from runze.hydraulics import simulate

    if network is None:
        from runze.network.demo_city import build_demo_city

        network = build_demo_city(seed=seed)
    local = start.astimezone(CST)
    net, _burst, events = rainstorm_network(network, float(local.hour * 3600 + local.minute * 60))
    t = net.options.time
    t.duration = hours * 3600.0
    t.hydraulic_step = t.report_step = float(step_s)
    t.pattern_start = float(local.hour * 3600 + local.minute * 60)
    t.start_clocktime = t.pattern_start
    res = simulate(net)
    if not res.ok:
        raise RuntimeError(f"the replay simulation failed: {res.warnings_frame().head()}")
    times = res.times.astype(float)
    rng = np.random.default_rng(seed) if noise else None
    columns: dict[str, np.ndarray] = {}
    into_dma = inlet_signs(net)
    since_noon = (t.pattern_start + times) / 3600.0 - 12.0  # the storm's clock: hours after noon
    for s in net.utility.sensors:
        kind, el = s["kind"], s["element"]
        if kind == "pressure":
            values = res.node["pressure"][el].to_numpy() * MPA_PER_M
            sd = 0.002
        elif kind == "flow":
            # a DMA inlet meter reads positive into its DMA (bidirectional meter); plant/booster meters outwards
            values = res.link["flow"][el].to_numpy() * 3600.0 * into_dma.get(s["id"], 1.0)
            sd = 0.01 * max(float(np.mean(values)), 1.0)
        elif kind == "level":
            values = res.node["pressure"][el].to_numpy()  # a tank's pressure head is its level
            sd = 0.01
        elif s["id"].endswith("-RAW-NTU"):
            values = raw_turbidity(s["id"].split("-")[0], since_noon, np.random.default_rng(seed + len(s["id"])))
            sd = 0.0
        else:  # outlet turbidity: well treated, a little worse while the raw water is bad
            raw = raw_turbidity(s["id"].split("-")[0], since_noon, np.random.default_rng(seed))
            values = 0.15 + 0.0005 * raw
            sd = 0.01
        if rng is not None and sd:
            values = values + rng.normal(0.0, sd, len(values))
        columns[s["id"]] = values
    readings = []
    for k, sec in enumerate(times):
        stamp = (start + timedelta(seconds=float(sec))).isoformat()
        for s in net.utility.sensors:
            v = float(columns[s["id"]][k])
            readings.append((float(sec), s["id"], {"t": stamp, "v": round(v, 4 if s["kind"] == "pressure" else 3),
                                                   "unit": PUBLISH_UNIT[s["kind"]], "q": "good"}))
    events.insert(0, "22:00 rain: raw-water turbidity rising at the river intakes, most at P3")
    sensors = [dict(s, unit=PUBLISH_UNIT[s["kind"]]) for s in net.utility.sensors]
    return Scenario(start, step_s, sensors, readings, events, net)


def publish(scenario: Scenario, broker: str, *, speed: float = 720.0, prefix: str = "runze/readings",
            progress: Callable[[str], None] | None = None) -> int:
    """Publish the readings, QoS 1, paced at ``speed`` simulated seconds per wall second."""
    from runze.telemetry.mqtt import connect_publisher, publish_readings

    sent = 0
    client = connect_publisher(broker)
    started = time.monotonic()
    by_time: dict[float, list[tuple[str, dict]]] = {}
    for sec, sid, payload in scenario.readings:
        by_time.setdefault(sec, []).append((sid, payload))
    for sec in sorted(by_time):
        delay = started + sec / speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent += publish_readings(broker, by_time[sec], prefix=prefix, client=client)
        if progress and int(sec) % 3600 == 0:
            progress(f"{(scenario.start + timedelta(seconds=sec)).isoformat()}  {sent} readings published")
    client.disconnect()
    client.loop_stop()
    return sent
