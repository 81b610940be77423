"""Build the demo city: `build_demo_city(seed, scale) -> Network` and `write_demo_city(out_dir, ...)`.

Steps: terrain -> streets (area tuned until the mains measure ~405 km per unit of scale) -> plants ->
zones, trunk and DMAs -> customers -> pipe sizes -> EPANET elements (plants, booster, tanks, patterns,
controls) -> utility attributes (plants, DMAs, zones, customers, critical users, valves, sensors).  One
numpy Generator seeded once drives every random choice, so a seed gives the same files byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from runze.network.demo_city import assemble
from runze.network.demo_city.commission import commission
from runze.network.demo_city.customers import frontage, place_customers
from runze.network.demo_city.graphs import balanced_forest, forest, subtree_sums
from runze.network.demo_city.layout import generate_streets
from runze.network.demo_city.plants import plant_specs
from runze.network.demo_city.sizing import choose_dn, gradient_limit_for
from runze.network.demo_city.terrain import make_terrain
from runze.network.demo_city.zones import high_zone, plan_zones
from runze.network.model import Network

STREET_KM_PER_SCALE = 405.0
PEAK_FACTOR = 1.5  # design peak hour / average day
DMAS_PER_SCALE = 20
MAIN_TANK_EXCHANGE = 0.3  # design refill flow of the main service tank, share of the average demand
TANK_PEAK_SHARE = 0.15  # share of the peak hour the main service tank supplies (plants carry the rest)
NIGHT_FACTOR = 0.6
FILE_STEM = "demo-city"

Progress = Callable[[str], None]


def _streets(seed: int, scale: float):
    """Terrain and streets, the built-up area stretched until the street length is on target."""
    target = STREET_KM_PER_SCALE * scale
    size = 1.0
    for _ in range(4):
        rng = np.random.default_rng(seed)
        terrain = make_terrain(rng, scale, size)
        streets = generate_streets(rng, terrain)
        km = streets.lengths.sum() / 1000.0
        if abs(km / target - 1.0) < 0.015:
            break
        size *= float(np.sqrt(target / km))
    return rng, terrain, streets


def _connect_plants(plants, xy, main_nodes, terrain) -> None:
    """Each plant's trunk mains reach the nearest street nodes on its own bank of the river."""
    side = terrain.river_side(xy)
    for p in plants:
        p_side = terrain.river_side(p.xy[None, :])[0]
        cand = main_nodes[side[main_nodes] == p_side]
        k = min(len(cand), 4 * p.n_trunks)
        _, idx = cKDTree(xy[cand]).query(p.xy, k=k)
        idx = np.atleast_1d(idx)
        p.connect_nodes = [int(v) for v in cand[idx[:: max(1, k // p.n_trunks)][: p.n_trunks]]]


def _edge_lookup(n: int, edges: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    keys = np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1])
    order = np.argsort(keys)
    sorted_keys = keys[order]

    def find(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = np.minimum(a, b) * n + np.maximum(a, b)
        pos = np.searchsorted(sorted_keys, k)
        return order[np.minimum(pos, len(order) - 1)]

    return find


def _tree_flows(n, edges, length, open_main, sources, share, demand, high, high_open, high_tank_node):
    """Design flow per edge: demand accumulated along a balanced forest from `sources` (and the high
    zone's tree from its tank), plus each node's path length from its source."""
    dist, parent, owner = balanced_forest(n, edges[open_main], length[open_main], sources, demand * ~high, share)
    path = np.where(owner >= 0, dist - dist[sources[np.maximum(owner, 0)]], 0.0)
    if high.any():
        _, parent_h, _ = forest(n, edges[high_open], length[high_open], np.array([high_tank_node]), np.zeros(1))
        parent = np.where(high, parent_h, parent)
    flow_through = subtree_sums(parent, demand)
    child = np.flatnonzero(parent >= 0)
    q = np.zeros(len(edges))
    q[_edge_lookup(n, edges)(child, parent[child])] = flow_through[child]
    return q, path


def _size_pipes(n, edges, length, zones, plants, avg, booster_flow, kind_node, scale):
    """DN (mm) per street edge: the larger of two design cases on the open network.

    Peak hour: peak demand served by the plants (by capacity) and the main service tank (a share of the
    peak).  Night: low demand plus the tank refilling, served by the plants alone.
    """
    closed = np.zeros(len(edges), dtype=bool)
    closed[zones.closed] = True
    open_edges = ~closed
    high = zones.high
    main_open = open_edges & ~high[edges[:, 0]] & ~high[edges[:, 1]]
    high_open = open_edges & high[edges[:, 0]] & high[edges[:, 1]]
    plant_src = np.array([c for p in plants for c in p.connect_nodes])
    plant_share = np.array([p.capacity_m3d / p.n_trunks for p in plants for _ in p.connect_nodes])
    tanks = zones.main_tank_nodes
    tank_share = TANK_PEAK_SHARE / (1 - TANK_PEAK_SHARE) * plant_share.sum() / len(tanks)
    peak = avg * PEAK_FACTOR
    peak[zones.booster_suction] += booster_flow
    q_peak, path = _tree_flows(n, edges, length, main_open, np.append(plant_src, tanks),
                               np.append(plant_share, np.full(len(tanks), tank_share)),
                               peak, high, high_open, zones.high_tank_node)
    night = avg * NIGHT_FACTOR
    night[zones.booster_suction] += booster_flow
    np.add.at(night, tanks, MAIN_TANK_EXCHANGE * avg.sum() / len(tanks))
    q_night, _ = _tree_flows(n, edges, length, main_open, plant_src, plant_share, night, high, high_open,
                             zones.high_tank_node)
    q = np.maximum(q_peak, q_night)
    # minimum sizes: DN150 in town, DN100 in the suburbs and on dead ends, DN200 along the trunk
    kind_edge = kind_node[edges[:, 0]]
    min_dn = np.where(np.isin(kind_edge, (0, 1, 3)), 150, 100)
    deg = np.bincount(edges[open_edges].ravel(), minlength=n)
    min_dn[(deg[edges[:, 0]] == 1) | (deg[edges[:, 1]] == 1)] = 100
    min_dn[zones.trunk[edges[:, 0]] & zones.trunk[edges[:, 1]]] = 200
    g_lim = gradient_limit_for(float(path.max()))
    dn = choose_dn(q, min_dn, g_lim, allow_large=scale > 1.5)
    return dn, q, g_lim


def build_demo_city(seed: int = 2026, scale: float = 1.0, progress: Progress | None = None,
                    commission_plants: bool = True) -> Network:
    """The demo city for `seed` at `scale` (1.0: ~405 km of mains, ~100,000 connections, 4 plants)."""
    if not (np.isfinite(scale) and 0.05 <= scale <= 50.0):
        raise ValueError(f"scale must be between 0.05 and 50, got {scale}")
    say = progress or (lambda _msg: None)
    say("streets")
    rng, terrain, streets = _streets(int(seed), float(scale))
    xy, edges = streets.xy, streets.edges
    length = streets.lengths
    n = len(xy)
    kind_node = streets.district_kind[streets.district]
    elevation = terrain.elevation(xy)

    say("plants and zones")
    plants = plant_specs(terrain, scale)
    high = high_zone(n, edges, elevation)
    _connect_plants(plants, xy, np.flatnonzero(~high), terrain)
    front = frontage(n, edges, length)
    weight = front * np.array([2.2, 1.6, 0.8, 0.4])[kind_node]
    # the main service tank is a source at the peak: it serves a catchment of its own, plants the rest
    main_nodes = np.flatnonzero(~high)
    tank_nodes = main_nodes[cKDTree(xy[main_nodes]).query(terrain.ridge_sites)[1]]
    sources = np.array([c for p in plants for c in p.connect_nodes] + list(tank_nodes))
    share = np.array([p.capacity_m3d / p.n_trunks for p in plants for _ in p.connect_nodes])
    share = np.append(share, np.full(len(tank_nodes), TANK_PEAK_SHARE / (1 - TANK_PEAK_SHARE) * share.sum()
                                     / len(tank_nodes)))
    half = np.array([terrain.half_x, terrain.half_y])
    zones = plan_zones(rng, xy, edges, length, elevation, kind_node, sources, share,
                       terrain.ridge_sites, terrain.hill_summit(), weight,
                       int(round(DMAS_PER_SCALE * scale)), half)

    say("customers")
    customers = place_customers(rng, scale, kind_node, front, ~zones.trunk, front)
    avg = customers.total_m3s
    high_avg = float(avg[zones.high].sum())

    say("pipe sizes")
    dn, design_q, g_lim = _size_pipes(n, edges, length, zones, plants, avg, 2.0 * high_avg,
                                      kind_node, scale)
    say("network")
    net = assemble.network(rng, seed, scale, terrain, streets, elevation, plants, zones, customers, dn,
                           design_q, g_lim)
    if commission_plants:
        say("commissioning")
        # a big city takes seconds per EPANET day: fewer rounds keep generation under a minute
        commission(net, progress, rounds=6 if scale <= 2.0 else 3)
    return net


def write_demo_city(out_dir: str | Path, seed: int = 2026, scale: float = 1.0,
                    progress: Progress | None = None) -> tuple[Path, Path]:
    """Build the city and write `demo-city.inp` and its sidecar `demo-city.json` into `out_dir`."""
    from runze.network.inp import write_inp
    from runze.network.sidecar import sidecar_path

    net = build_demo_city(seed, scale, progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inp = out / f"{FILE_STEM}.inp"
    if progress:
        progress("write")
    write_inp(net, inp)
    return inp, sidecar_path(inp)
