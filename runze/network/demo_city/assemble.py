"""Turn the generated city (streets, zones, plants, customers, sizes) into a `Network` with its sidecar.

EPANET elements: street junctions J…, street pipes P… (closed boundary valves are CLOSED pipes), for each
plant its clearwell reservoir Pk_CW, pumps Pk_PUi on curve Pk_CURVE (last one the standby, CLOSED), header
junctions Pk_OUT/Pk_HDR, outlet pipe Pk_OUTLET and trunk mains Pk_TMj; the main service tank(s) T1 (.. Tk,
one per group of four plants) on the ridge with pipe T1_MAIN; the booster station BS1 (pumps BS1_PUi,
rising main BS1_RM) and the high zone's tank (T2 at scale 1, the last tank) with outlet T2_OUT.  Options: LPS, Hazen-Williams, 24 h at 1 h steps.
"""

from __future__ import annotations

import numpy as np

from runze.network.demo_city.customers import CATEGORIES, PATTERNS, combined_pattern
from runze.network.demo_city.plants import (
    OUTLET_HEAD_M,
    TankSpec,
    chinese_number,
    pump_curve,
    tank_diameter,
)
from runze.network.demo_city.sensors import LOGGERS_PER_SCALE, isolation_valves, logger_sites, sensor_layout
from runze.network.demo_city.sizing import choose_dn, hw_gradient, materials
from runze.network.demo_city.terrain import MAIN_TANK_BOTTOM_M
from runze.network.model import (
    Control,
    Curve,
    Demand,
    Junction,
    Network,
    Options,
    Pattern,
    Pipe,
    Pump,
    Reservoir,
    Tank,
    TimeOptions,
)

MAIN_TANK_STORAGE = 0.14  # share of the average day's volume held in the main service tank
HIGH_TANK_STORAGE = 0.35  # of the high zone's daily volume
BOOSTER_DUTY = 2


def _r(v: float, nd: int = 3) -> float:
    return float(round(float(v), nd))


def _pipe_dn(q: float, min_dn: int = 100, g_lim: float = 0.003, large: bool = False) -> float:
    return float(choose_dn(np.array([q]), np.array([min_dn]), g_lim, large)[0]) / 1000.0


def network(rng, seed, scale, terrain, streets, elevation, plants, zones, customers, dn_mm, design_q, g_lim
            ) -> Network:
    xy, edges = streets.xy, streets.edges
    n = len(xy)
    large = scale > 1.5
    width = len(str(n))
    node_ids = [f"J{i + 1:0{width}d}" for i in range(n)]
    net = Network(name="demo-city")
    net.title = [f"Runze demo city (润泽示范城市), seed {seed}, scale {scale:g}",
                 "A county-level city in a Hunan river valley: 4 plants, 2 pressure zones, DMAs"]
    net.options = Options(flow_units="LPS", headloss="H-W", demand_model="DDA",
                          time=TimeOptions(duration=86400.0, hydraulic_step=3600.0, pattern_step=3600.0,
                                           report_step=3600.0))
    for cat in (*CATEGORIES, "leakage"):
        net.patterns[cat] = Pattern(cat, [float(v) for v in PATTERNS[cat]])

    # ---- street junctions with their demands by category ----------------------------------------------
    use, leak = customers.use_m3s, customers.leakage_m3s
    for i in range(n):
        demands = [Demand(_r(use[i, c], 8), cat, cat) for c, cat in enumerate(CATEGORIES) if use[i, c] > 0]
        if leak[i] > 0:
            demands.append(Demand(_r(leak[i], 8), "leakage", "leakage"))
        net.junctions[node_ids[i]] = Junction(node_ids[i], _r(elevation[i], 2), demands,
                                              x=_r(xy[i, 0], 2), y=_r(xy[i, 1], 2))

    # ---- street pipes ---------------------------------------------------------------------------------
    m = len(edges)
    pwidth = len(str(m))
    pipe_ids = [f"P{k + 1:0{pwidth}d}" for k in range(m)]
    closed = np.zeros(m, dtype=bool)
    closed[zones.closed] = True
    bridge = np.zeros(m, dtype=bool)
    bridge[streets.bridges] = True
    kind_edge = streets.district_kind[streets.district[edges[:, 0]]]
    code, year, hw_c = materials(rng, dn_mm, kind_edge, bridge)
    length = streets.lengths * 1.03  # streets are not quite straight between junctions
    for k in range(m):
        a, b = int(edges[k, 0]), int(edges[k, 1])
        net.pipes[pipe_ids[k]] = Pipe(pipe_ids[k], node_ids[a], node_ids[b], _r(length[k], 1),
                                      float(dn_mm[k]) / 1000.0, float(hw_c[k]),
                                      initial_status="CLOSED" if closed[k] else "OPEN",
                                      tag=f"{code[k]}-{year[k]}")
    avg_total = float(customers.total_m3s.sum())
    zone_of = {node_ids[i]: ("high" if zones.high[i] else "main") for i in range(n)}

    # ---- plants ---------------------------------------------------------------------------------------
    plant_rows = []
    for p in plants:
        pid = p.id
        cw, out, hdr = f"{pid}_CW", f"{pid}_OUT", f"{pid}_HDR"
        x, y = _r(p.xy[0], 2), _r(p.xy[1], 2)
        net.reservoirs[cw] = Reservoir(cw, p.clearwell_head, x=x, y=y, tag="clearwell")
        net.junctions[out] = Junction(out, p.ground, x=_r(x + 25.0, 2), y=y)
        net.junctions[hdr] = Junction(hdr, p.ground, x=_r(x + 60.0, 2), y=y)
        q_unit = p.capacity_m3s / p.n_duty
        h_design = OUTLET_HEAD_M + 1.5 - p.clearwell_head
        net.curves[f"{pid}_CURVE"] = Curve(f"{pid}_CURVE", "PUMP", pump_curve(q_unit, h_design))
        pumps = []
        for i in range(p.n_duty + 1):
            pu = f"{pid}_PU{i + 1}"
            net.pumps[pu] = Pump(pu, cw, out, head_curve=f"{pid}_CURVE",
                                 initial_status="CLOSED" if i == p.n_duty else "OPEN")
            pumps.append(pu)
        d_out = _pipe_dn(p.capacity_m3s, 300, 0.0015, large)
        net.pipes[f"{pid}_OUTLET"] = Pipe(f"{pid}_OUTLET", out, hdr, 35.0, d_out, 130.0, tag="SP-outlet")
        for j, node in enumerate(p.connect_nodes, start=1):
            dist = float(np.hypot(*(xy[node] - p.xy)))
            d_tm = _pipe_dn(p.capacity_m3s / p.n_trunks, 300, 0.0015, large)  # a plant's trunk runs slow
            net.pipes[f"{pid}_TM{j}"] = Pipe(f"{pid}_TM{j}", hdr, node_ids[node], _r(max(60.0, 1.1 * dist), 1),
                                             d_tm, 130.0, tag="DI-trunk")
        for nid in (out, hdr):
            zone_of[nid] = "main"
        zone_of[cw] = "main"
        plant_rows.append({"id": pid, "name": p.name, "capacity_m3d": p.capacity_m3d, "source": cw,
                           "clearwell": cw, "pumps": pumps, "duty_pumps": pumps[:-1], "standby_pumps": pumps[-1:],
                           "raw_water": p.raw_water, "outlet_link": f"{pid}_OUTLET", "outlet_node": hdr,
                           "trunk_mains": [f"{pid}_TM{j}" for j in range(1, len(p.connect_nodes) + 1)],
                           "x": x, "y": y})

    # ---- main service tanks on the ridge (one per group of plants) ---------------------------------
    daily = avg_total * 86400.0
    sites = terrain.ridge_sites
    tanks = []
    for k, (site, node) in enumerate(zip(sites, zones.main_tank_nodes, strict=True), start=1):
        name = "北山清水池" if len(sites) == 1 else f"北山{chinese_number(k)}号清水池"
        tank = TankSpec(f"T{k}", name, np.asarray(site), MAIN_TANK_BOTTOM_M, 0.5, 7.0, 3.5,
                        tank_diameter(MAIN_TANK_STORAGE * daily / len(sites), 6.5))
        tanks.append(tank)
        dist = float(np.hypot(*(xy[node] - tank.xy)))
        net.pipes[f"{tank.id}_MAIN"] = Pipe(f"{tank.id}_MAIN", tank.id, node_ids[node], _r(1.1 * dist, 1),
                                            _pipe_dn(0.3 * avg_total / len(sites), 300, 0.0015, large), 130.0,
                                            tag="DI-trunk")
        zone_of[tank.id] = "main"

    # ---- booster station and the high zone's tank ---------------------------------------------------
    booster = None
    if zones.high.any():
        high_avg = float(customers.total_m3s[zones.high].sum())
        high_id = f"T{len(tanks) + 1}"
        t2_elev = float(np.ceil(elevation[zones.high].max() + 18.0))
        t2 = TankSpec(high_id, "东山高位水池", terrain.hill_summit(), t2_elev, 0.5, 6.5, 3.5,
                      tank_diameter(HIGH_TANK_STORAGE * high_avg * 86400.0, 6.0))
        tanks.append(t2)
        suction = zones.booster_suction
        bs_out = "BS1_OUT"
        bx, by = xy[suction] + np.array([20.0, 0.0])
        net.junctions[bs_out] = Junction(bs_out, _r(elevation[suction], 2), x=_r(bx, 2), y=_r(by, 2))
        zone_of[bs_out] = "high"
        q_unit = high_avg
        rm_len = _r(1.1 * float(np.hypot(*(xy[suction] - t2.xy))), 1)
        rm_d = _pipe_dn(BOOSTER_DUTY * q_unit, 150, 0.003, large)
        rm_loss = float(hw_gradient(np.array([BOOSTER_DUTY * q_unit]), np.array([rm_d]), 130.0)[0]) * rm_len
        h_design = t2_elev + 4.0 + rm_loss - (MAIN_TANK_BOTTOM_M - 6.0)  # suction: main zone's low peak head
        net.curves["BS1_CURVE"] = Curve("BS1_CURVE", "PUMP", pump_curve(q_unit, h_design))
        bpumps = []
        for i in range(BOOSTER_DUTY + 1):
            pu = f"BS1_PU{i + 1}"
            net.pumps[pu] = Pump(pu, node_ids[suction], bs_out, head_curve="BS1_CURVE",
                                 initial_status="CLOSED" if i >= 1 else "OPEN")
            bpumps.append(pu)
        net.pipes["BS1_RM"] = Pipe("BS1_RM", bs_out, high_id, rm_len, rm_d, 130.0, tag="DI-rising-main")
        hnode = zones.high_tank_node
        dist = float(np.hypot(*(xy[hnode] - t2.xy)))
        net.pipes[f"{high_id}_OUT"] = Pipe(f"{high_id}_OUT", high_id, node_ids[hnode], _r(max(50.0, 1.1 * dist), 1),
                                   _pipe_dn(1.8 * high_avg, 200, 0.003, large), 130.0, tag="DI-trunk")
        zone_of[high_id] = "high"
        # duty pumps switch on the tank level: the first keeps it high, the second helps at the peaks
        net.controls += [
            Control("BS1_PU1", "OPEN", None, "below", high_id, 3.0),
            Control("BS1_PU1", "CLOSED", None, "above", high_id, 6.0),
            Control("BS1_PU2", "OPEN", None, "below", high_id, 1.8),
            Control("BS1_PU2", "CLOSED", None, "above", high_id, 4.5),
        ]
        booster = {"id": "BS1", "name": "高区加压泵站", "pumps": bpumps, "duty_pumps": bpumps[:-1],
                   "standby_pumps": bpumps[-1:], "suction": node_ids[suction], "discharge": bs_out,
                   "outlet_link": "BS1_RM", "tank": high_id}
    for t in tanks:
        net.tanks[t.id] = Tank(t.id, t.elevation, t.init_level, t.min_level, t.max_level, t.diameter,
                               x=_r(t.xy[0], 2), y=_r(t.xy[1], 2), tag=t.name)

    # ---- utility attributes -------------------------------------------------------------------------
    u = net.utility
    u.plants = plant_rows
    u.zones = zone_of
    dmas = {}
    dma_ids = [f"DMA{d + 1:02d}" for d in range(len(zones.dma_names))]
    label = zones.dma
    a, b = edges[:, 0], edges[:, 1]
    closed_idx = zones.closed
    for d, did in enumerate(dma_ids):
        nodes = [node_ids[i] for i in np.flatnonzero(label == d)]
        inl = [pipe_ids[k] for k in zones.inlets if label[a[k]] == d or label[b[k]] == d]
        if zones.high.any() and d == len(dma_ids) - 1:
            inl = [f"T{len(tanks)}_OUT"]
        bnd = [pipe_ids[k] for k in closed_idx if label[a[k]] == d or label[b[k]] == d]
        dmas[did] = {"name": zones.dma_names[d], "inlets": inl, "boundary_valves": bnd, "nodes": nodes,
                     "zone": "high" if zones.high.any() and d == len(dma_ids) - 1 else "main"}
    u.dmas = dmas
    counts = customers.counts
    u.customers = {node_ids[i]: {cat: int(counts[i, c]) for c, cat in enumerate(CATEGORIES) if counts[i, c]}
                   for i in np.flatnonzero(counts.sum(axis=1) > 0)}
    u.critical_users = [{"id": f"CU{k:02d}", "name": c["name"], "category": c["category"],
                         "node": node_ids[c["node"]]} for k, c in enumerate(customers.critical, start=1)]
    u.valves = isolation_valves(rng, pipe_ids, [node_ids[i] for i in a], [node_ids[i] for i in b], dn_mm,
                                closed)
    cand = np.flatnonzero(label >= 0)
    count = max(3, int(round(LOGGERS_PER_SCALE * scale)))
    sites = logger_sites(xy, cand, count)
    site_names = [zones.dma_names[label[i]] for i in sites]
    u.sensors = sensor_layout(plant_rows, dmas, [(t.id, t.name) for t in tanks], booster,
                              [node_ids[i] for i in sites], site_names)
    u.extra = {
        "generator": {"name": "runze.network.demo_city", "seed": int(seed), "scale": float(scale)},
        "units": {"coordinates": "m, local grid, origin at the city centre", "sensor_flow": "m3/h"},
        "boosters": [booster] if booster else [],
        "tanks": {t.id: {"name": t.name, "zone": zone_of[t.id]} for t in tanks},
        "pipe_materials": {"codes": {"CI": "灰口铸铁 grey cast iron", "DI": "球墨铸铁 ductile iron",
                                     "PE": "聚乙烯 polyethylene", "SP": "钢管 steel"},
                           "note": "each street pipe's [TAGS] entry is MATERIAL-INSTALL_YEAR"},
        "demand_pattern": [float(v) for v in np.round(combined_pattern(customers), 4)],
        "leakage": "demand category 'leakage' (flat pattern), about 10 % of system input",
        "design": {"peak_factor": 1.5, "gradient_limit_m_per_km": round(g_lim * 1000.0, 3),
                   "plant_outlet_head_m": OUTLET_HEAD_M},
        "names": {"plants": [chinese_number(i + 1) + "水厂" for i in range(len(plants))]},
    }
    return net
