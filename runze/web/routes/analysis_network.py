"""/api/analysis: the network map, a 24 h simulation for the dashboard's time slider, and the overview figures.

The network is a stored version (the newest when no `version_id` is given), parsed once and kept with its
simulation, outage planner and map geometry in a per-app cache (`twin_for`), so that the map, the slider and
the outage/dispatch routes share one parse and one simulation.  The simulation is Runze's own engine
(`runze.hydraulics.simulate`) over the file's duration (24 h for the demo city), reported hourly.

Figures here come from the model, and say so (`source: "model"`): supply per plant is the simulated outflow of
each plant's outlet link, pressure compliance the share of customer-node-hours at or above 0.14 MPa, and NRW a
model water balance (input = simulated demand incl. the leakage category, billed = demand without it).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request

from runze.network.model import Network
from runze.ops import networks as network_ops
from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput, NotFound
from runze.web.deps import MAX_ID, SessionDep, require
from runze.web.errors import error_responses

router = APIRouter(prefix="/analysis", tags=["analysis"], responses=error_responses(401, 403, 404, 422))
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="network version (default: the newest)")]
SERVICE_PRESSURE_M = 14.0 * 1.0197  # 0.14 MPa in metres of head (1 MPa ≈ 102 m)
MAX_SIM_NODES = 60_000  # a larger model would make the slider's payload too big for a browser


@dataclass
class Twin:
    """One stored network version, parsed, with what the dashboard computes on it (lazily, once)."""

    version_id: int
    name: str
    network: Network
    lock: threading.Lock = field(default_factory=threading.Lock)
    geometry: dict[str, Any] | None = None
    simulation: dict[str, Any] | None = None
    planner: Any = None


def _twins(request: Request) -> dict[int, Twin]:
    state = request.app.state
    if not hasattr(state, "dashboard_twins"):
        state.dashboard_twins = {}
        state.dashboard_twins_lock = threading.Lock()
    return state.dashboard_twins


def twin_for(request: Request, session, version_id: int | None) -> Twin:
    """The cached Twin of a version (the newest if None); 404 when no network is stored."""
    twins = _twins(request)
    if version_id is None:
        page = network_ops.list_versions(session, limit=1)
        if not page.items:
            raise NotFound("no network stored yet: import one (runze network import / POST /api/networks)",
                           message_zh="尚未导入管网模型", details={"field": "version_id"})
        version_id = page.items[0].id
    with request.app.state.dashboard_twins_lock:
        if version_id in twins:
            return twins[version_id]
    version = network_ops.get_version(session, version_id)
    network = network_ops.parse_network(version.inp_text, version.filename, version.sidecar)
    twin = Twin(version_id=version.id, name=f"{version.name} v{version.number}", network=network)
    with request.app.state.dashboard_twins_lock:
        return twins.setdefault(version_id, twin)


# ---- geometry --------------------------------------------------------------------------------------------
def _hull(points: np.ndarray) -> list[list[float]]:
    if len(points) < 3:
        return points.round(1).tolist()
    from scipy.spatial import ConvexHull, QhullError

    try:
        return points[ConvexHull(points).vertices].round(1).tolist()
    except QhullError:  # collinear nodes: no area to shade
        return []


def build_geometry(twin: Twin) -> dict[str, Any]:
    net = twin.network
    node_ids = net.node_ids
    index = {n: i for i, n in enumerate(node_ids)}
    nodes = list(net.nodes())
    xy = np.array([[n.x if n.x is not None else math.nan, n.y if n.y is not None else math.nan] for n in nodes],
                  dtype=float).reshape(-1, 2)
    if len(xy) and np.isnan(xy).any():
        raise InvalidInput("the network has nodes without coordinates: the map needs [COORDINATES] for every node",
                           message_zh="管网模型缺少节点坐标，无法绘制地图", details={"section": "COORDINATES"})
    u = net.utility
    node_dma = np.full(len(node_ids), -1, dtype=int)
    dmas = []
    for k, (dma_id, dma) in enumerate(u.dmas.items()):
        members = [index[n] for n in dma.get("nodes", []) if n in index]
        node_dma[members] = k
        dmas.append({"id": dma_id, "name": dma.get("name", dma_id), "inlets": dma.get("inlets", []),
                     "nodes": len(members), "hull": _hull(xy[members])})
    kinds = ["junction"] * len(net.junctions) + ["reservoir"] * len(net.reservoirs) + ["tank"] * len(net.tanks)
    links = list(net.links())
    n1 = np.array([index[lk.node1] for lk in links], dtype=int)
    n2 = np.array([index[lk.node2] for lk in links], dtype=int)
    link_kind = ["pipe"] * len(net.pipes) + ["pump"] * len(net.pumps) + ["valve"] * len(net.valves)
    diameter = [round(getattr(lk, "diameter", 0.0) * 1000.0) for lk in links]
    length = [round(lk.length, 1) if hasattr(lk, "length") else 0.0 for lk in links]
    closed = [lk.initial_status == "CLOSED" for lk in links]
    vertices = {i: [list(v) for v in lk.vertices] for i, lk in enumerate(links) if lk.vertices}
    customers = np.zeros(len(node_ids), dtype=int)
    for node, counts in u.customers.items():
        if node in index:
            customers[index[node]] = sum(int(c) for c in counts.values())

    def at(element: str) -> list[float] | None:
        if element in index:
            return xy[index[element]].round(1).tolist()
        if net.has_link(element):
            lk = net.link(element)
            return ((xy[index[lk.node1]] + xy[index[lk.node2]]) / 2).round(1).tolist()
        return None

    plants = [{"id": p["id"], "name": p.get("name", p["id"]), "capacity_m3d": float(p.get("capacity_m3d", 0.0)),
               "raw_water": p.get("raw_water", ""), "outlet_link": p.get("outlet_link"),
               "xy": [p["x"], p["y"]] if "x" in p and "y" in p else at(p.get("clearwell", ""))} for p in u.plants]
    tanks = [{"id": t.id, "name": t.tag or t.id, "xy": at(t.id)} for t in net.tanks.values()]
    valves = []
    for v in u.valves:  # drawn a fifth of the way from its node along its pipe, so both ends' valves show
        if v.get("node") in index and net.has_link(v.get("link", "")):
            lk = net.link(v["link"])
            other = lk.node2 if lk.node1 == v["node"] else lk.node1
            p = xy[index[v["node"]]] * 0.8 + xy[index[other]] * 0.2
            valves.append({"id": v["id"], "link": v["link"], "node": v["node"], "status": v.get("status", "OPEN"),
                           "dn": round(float(v.get("diameter") or 0) * 1000), "xy": p.round(1).tolist()})
    sensors = [{"id": s["id"], "kind": s.get("kind"), "name": s.get("name", s["id"]), "unit": s.get("unit"),
                "element": s.get("element"), "xy": at(s.get("element", ""))} for s in u.sensors]
    critical = [{"name": c.get("name"), "node": c.get("node"), "category": c.get("category"),
                 "xy": at(c.get("node", ""))} for c in u.critical_users]
    try:
        from runze.network.demo_city.summary import city_summary

        summary = city_summary(net) if u.plants else dict(net.summary())
    except Exception:  # a network without the sidecar's attributes: the plain counts
        summary = dict(net.summary())
    return {
        "version_id": twin.version_id, "name": twin.name,
        "nodes": {"ids": node_ids, "x": xy[:, 0].round(1).tolist(), "y": xy[:, 1].round(1).tolist(),
                  "kind": kinds, "dma": node_dma.tolist(), "customers": customers.tolist()},
        "links": {"ids": net.link_ids, "n1": n1.tolist(), "n2": n2.tolist(), "kind": link_kind,
                  "dn_mm": diameter, "length_m": length, "closed": closed, "vertices": vertices},
        "dmas": dmas, "plants": plants, "tanks": tanks, "valves": valves, "sensors": sensors,
        "critical_users": critical, "summary": _plain(summary),
    }


def _plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None (a browser's JSON.parse rejects NaN)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def geometry_of(twin: Twin) -> dict[str, Any]:
    with twin.lock:
        if twin.geometry is None:
            twin.geometry = build_geometry(twin)
        return twin.geometry


# ---- simulation ------------------------------------------------------------------------------------------
def _rounded(frame, digits: int) -> list[list[float | None]]:
    values = np.round(frame.to_numpy(dtype=float), digits)
    return [[None if not math.isfinite(v) else v for v in row] for row in values.tolist()]


def run_simulation(twin: Twin) -> dict[str, Any]:
    from runze.hydraulics import simulate

    net = twin.network
    if net.n_nodes > MAX_SIM_NODES:
        raise InvalidInput(f"{net.n_nodes} nodes: too many for the dashboard's time slider (max {MAX_SIM_NODES})")
    t0 = time.perf_counter()
    duration = net.options.time.duration if net.options.time.duration > 0 else 86400.0
    res = simulate(net, duration=min(duration, 86400.0))
    seconds = time.perf_counter() - t0
    times = res.times
    hourly = np.isclose(times % 3600, 0)  # intermediate (control/tank) steps are not slider positions
    node_ids, link_ids = net.node_ids, net.link_ids
    pressure = res.node["pressure"].reindex(columns=node_ids)[hourly]
    demand = res.node["demand"].reindex(columns=node_ids)[hourly]
    flow = res.link["flow"].reindex(columns=link_ids)[hourly]
    velocity = res.link["velocity"].reindex(columns=link_ids)[hourly]
    clock0 = net.options.time.start_clocktime
    hours = [int(((clock0 + t) % 86400) // 3600) for t in times[hourly]]
    plant_flow = {p["id"]: (flow[p["outlet_link"]] * 3600.0).round(1).tolist()
                  for p in net.utility.plants if p.get("outlet_link") in flow}
    tank_level = {t.id: (res.node["head"][t.id][hourly] - t.elevation).round(2).tolist() for t in net.tanks.values()}
    return {
        "version_id": twin.version_id, "ok": bool(res.ok), "solver": "runze.hydraulics",
        "seconds": round(seconds, 3), "times_s": times[hourly].astype(int).tolist(), "clock_hours": hours,
        "warnings": [w.as_dict() for w in res.warnings][:20],
        "pressure_m": _rounded(pressure, 2), "demand_lps": _rounded(demand * 1000.0, 3),
        "flow_lps": _rounded(flow * 1000.0, 2), "velocity_ms": _rounded(velocity, 3),
        "plant_outflow_m3h": plant_flow, "tank_level_m": tank_level,
        "service_pressure_m": round(SERVICE_PRESSURE_M, 2),
    }


def simulation_of(twin: Twin) -> dict[str, Any]:
    with twin.lock:
        if twin.simulation is None:
            twin.simulation = _plain(run_simulation(twin))
        return twin.simulation


def _leakage_share(net: Network) -> np.ndarray:
    """Per junction, the hourly share of its demand that is the 'leakage' category (0 where none)."""
    default = net.options.default_pattern or ("1" if "1" in net.patterns else None)
    shares = []
    for j in net.junctions.values():
        total = np.zeros(24)
        leak = np.zeros(24)
        for d in j.demands:
            pid = d.pattern or default
            mult = np.array(net.patterns[pid].multipliers if pid in net.patterns else [1.0], dtype=float)
            series = d.base * mult[np.arange(24) % len(mult)]
            total += series
            if d.category == "leakage":
                leak += series
        shares.append(np.divide(leak, total, out=np.zeros(24), where=total > 0))
    return np.array(shares).T if shares else np.zeros((24, 0))


def overview_of(twin: Twin) -> dict[str, Any]:
    from runze.analysis.kpi import water_balance

    net = twin.network
    sim = simulation_of(twin)
    geo = geometry_of(twin)
    n_steps = max(len(sim["times_s"]) - 1, 1)  # 25 hourly rows = 24 intervals; volumes use the first 24
    plants = []
    for p in geo["plants"]:
        q = sim["plant_outflow_m3h"].get(p["id"], [])
        plants.append({"id": p["id"], "name": p["name"], "capacity_m3d": p["capacity_m3d"],
                       "supply_m3": round(float(np.nansum(q[:n_steps])), 1) if q else None,
                       "peak_m3h": round(float(np.nanmax(q)), 1) if q else None})
    pressure = np.array(sim["pressure_m"], dtype=float)[:n_steps]
    n_j = len(net.junctions)
    customers = np.array(geo["nodes"]["customers"][:n_j]) > 0
    served = pressure[:, :n_j][:, customers] if customers.any() else pressure[:, :n_j]
    compliance = float(np.mean(served >= SERVICE_PRESSURE_M)) if served.size else None
    demand = np.array(sim["demand_lps"], dtype=float)[:n_steps, :n_j] / 1000.0  # m³/s
    share = _leakage_share(net)[np.array(sim["clock_hours"][:n_steps]) % 24] if n_j else np.zeros_like(demand)
    system_input = float(np.nansum(demand) * 3600.0)
    leakage = float(np.nansum(demand * share) * 3600.0)
    nrw = None
    if system_input > 0:
        wb = water_balance(system_input, system_input - leakage, period_days=1)
        nrw = {"system_input_m3": round(system_input, 1), "billed_m3": round(system_input - leakage, 1),
               "nrw_m3": round(float(wb.non_revenue_water), 1), "nrw_fraction": round(float(wb.nrw_fraction), 4)}
    return {"version_id": twin.version_id, "name": twin.name, "source": "model", "plants": plants,
            "total_supply_m3": round(sum(p["supply_m3"] or 0.0 for p in plants), 1),
            "pressure_compliance": None if compliance is None else round(compliance, 4),
            "service_pressure_mpa": 0.14, "min_pressure_m": round(float(np.nanmin(served)), 2) if served.size else None,
            "nrw": nrw, "simulation_seconds": sim["seconds"]}


# ---- routes ----------------------------------------------------------------------------------------------
@router.get("/network", response_model=dict[str, Any])
def network_map(request: Request, actor: Annotated[Actor, require("analysis:read")], session: SessionDep,
                version_id: VersionQuery = None) -> dict[str, Any]:
    """Map data: nodes with coordinates, links as node-index pairs, DMAs (hulls), plants, tanks, valves, sensors."""
    return geometry_of(twin_for(request, session, version_id))


@router.get("/simulation", response_model=dict[str, Any])
def simulation(request: Request, actor: Annotated[Actor, require("analysis:read")], session: SessionDep,
               version_id: VersionQuery = None) -> dict[str, Any]:
    """Hourly pressure (m), demand (L/s), flow (L/s), velocity (m/s) of a 24 h run; cached per version."""
    return simulation_of(twin_for(request, session, version_id))


@router.get("/overview", response_model=dict[str, Any])
def overview(request: Request, actor: Annotated[Actor, require("analysis:read")], session: SessionDep,
             version_id: VersionQuery = None) -> dict[str, Any]:
    """Supply per plant, pressure compliance and model NRW for the dashboard's overview."""
    return _plain(overview_of(twin_for(request, session, version_id)))
