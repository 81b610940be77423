"""Pressure zones, trunk mains and district metered areas (DMAs) of the demo city.

* High zone: the streets on the big hill above `HIGH_ZONE_FROM_M`; fed by a booster pump station through
  its own service tank, cut off from the main zone by closed boundary valves.
* Trunk network: the union of the shortest paths from the plants to each DMA's centre, to the main service
  tank and to the booster station (a balanced forest, so each plant serves a share of the city in proportion
  to its capacity).  Trunk nodes carry no service connections.
* DMAs: the remaining main-zone streets clustered around centres (a few Lloyd iterations), made connected by
  relabelling stray pieces, each fed from the trunk through one or two metered inlets; every other pipe that
  crosses a DMA boundary is a closed boundary valve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from runze.network.demo_city.graphs import adjacency, balanced_forest, subtree_sums
from runze.network.demo_city.terrain import HIGH_ZONE_FROM_M

DIRECTIONS = ("城东", "城东北", "城北", "城西北", "城西", "城西南", "城南", "城东南")
NUMERALS = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


@dataclass(slots=True)
class ZoneLayout:
    high: np.ndarray  # bool per node: in the high zone
    trunk: np.ndarray  # bool per node: on the trunk network (main zone)
    dma: np.ndarray  # int per node: DMA index, -1 for trunk nodes
    dma_names: list[str]
    inlets: np.ndarray  # edge indices of metered DMA inlets (from the trunk)
    closed: np.ndarray  # edge indices of closed boundary valves
    edge_dma: np.ndarray  # int per closed/inlet edge: the DMA it bounds (the non-trunk side, first end's DMA)
    booster_suction: int  # node feeding the booster station
    main_tank_nodes: np.ndarray  # nodes the main service tanks join
    high_tank_node: int  # high-zone node the high service tank feeds


def _components(n: int, edges: np.ndarray, mask: np.ndarray) -> np.ndarray:
    e = edges[mask]
    graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def high_zone(n: int, edges: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """The largest connected group of streets above the high-zone line."""
    high = elevation > HIGH_ZONE_FROM_M
    comp = _components(n, edges, high[edges[:, 0]] & high[edges[:, 1]])
    if not high.any():
        return high
    sizes = np.bincount(comp[high], minlength=n)
    high &= comp == np.argmax(sizes)
    # main-zone streets cut off from the rest of the main zone (reachable only through the hill) go uphill too
    comp = _components(n, edges, ~high[edges[:, 0]] & ~high[edges[:, 1]])
    sizes = np.bincount(comp[~high], minlength=n)
    return high | (comp != np.argmax(sizes))


def _lloyd(rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """k cluster centres of the points (weighted k-means, a few Lloyd steps from a seeded start)."""
    start = rng.choice(len(xy), size=k, replace=False, p=weight / weight.sum())
    centres = xy[start].copy()
    for _ in range(12):
        _, lab = cKDTree(centres).query(xy)
        wsum = np.bincount(lab, weights=weight, minlength=k)
        for axis in range(2):
            s = np.bincount(lab, weights=weight * xy[:, axis], minlength=k)
            centres[:, axis] = np.where(wsum > 0, s / np.maximum(wsum, 1e-12), centres[:, axis])
    return centres


def _make_connected(n: int, edges: np.ndarray, label: np.ndarray, trunk: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Make every DMA one piece touching the trunk: stray pieces join a neighbouring DMA (whole pieces at a
    time), and pieces with only trunk around them become trunk.  Returns (label, trunk)."""
    label, trunk = label.copy(), trunk.copy()
    a, b = edges[:, 0], edges[:, 1]
    for _ in range(200):
        same = (label[a] == label[b]) & (label[a] >= 0)
        comp = np.where(label >= 0, _components(n, edges, same), -1)
        touch = np.zeros(n, dtype=bool)
        for u, v in ((a, b), (b, a)):
            m = trunk[u] & (label[v] >= 0)
            touch[comp[v[m]]] = True
        size = np.bincount(comp[comp >= 0], minlength=n)
        pieces = np.unique(comp[comp >= 0])
        piece_label = np.full(n, -1)
        piece_label[comp[label >= 0]] = label[label >= 0]
        # keeper of each label: its biggest trunk-touching piece
        score = size[pieces] + n * touch[pieces]
        order = np.lexsort((-score, piece_label[pieces]))
        first = np.ones(len(order), dtype=bool)
        first[1:] = piece_label[pieces[order]][1:] != piece_label[pieces[order]][:-1]
        keeper = np.zeros(n, dtype=bool)
        keeper[pieces[order][first & touch[pieces[order]]]] = True
        bad_piece = np.zeros(n, dtype=bool)
        bad_piece[pieces] = ~keeper[pieces]
        if not bad_piece.any():
            break
        # a bad piece takes the label of one neighbouring piece (the first edge found, deterministic)
        # (into a keeper piece where one is next door; otherwise only towards lower piece numbers, so that
        # two stray pieces never swap labels back and forth)
        new_label_of_piece = np.full(n, -1)
        for into_keeper in (True, False):
            for u, v in ((a, b), (b, a)):
                cu, cv = np.maximum(comp[u], 0), np.maximum(comp[v], 0)
                m = (label[u] >= 0) & (label[v] >= 0) & (cu != cv) & bad_piece[cu]
                m &= keeper[cv] if into_keeper else (cv < cu)
                new_label_of_piece[cu[m][::-1]] = label[v[m]][::-1]
            if (new_label_of_piece >= 0).any():
                break
        node_bad = (label >= 0) & bad_piece[np.maximum(comp, 0)]
        moved = node_bad & (new_label_of_piece[np.maximum(comp, 0)] >= 0)
        stuck = node_bad & ~moved
        if not moved.any():
            trunk |= stuck  # only trunk around them: they become part of the trunk
            label[stuck] = -1
            break
        label[moved] = new_label_of_piece[comp[moved]]
    return label, trunk


def _dma_names(xy_centres: np.ndarray, half: np.ndarray, old_town: int, industrial: np.ndarray) -> list[str]:
    """Chinese names from each centre's direction from the city centre: 城东一片区, 城中片区, 老城片区 ..."""
    norm = xy_centres / half
    r = np.hypot(*norm.T)
    sector = np.round(np.arctan2(norm[:, 1], norm[:, 0]) / (np.pi / 4)).astype(int) % 8
    base = [("城中" if r[i] < 0.3 else DIRECTIONS[sector[i]]) for i in range(len(norm))]
    base = ["工业园" if industrial[i] else b for i, b in enumerate(base)]
    base[old_town] = "老城"
    names = []
    for i, b in enumerate(base):
        same = [j for j in range(len(base)) if base[j] == b]
        k = same.index(i) + 1
        suffix = "" if len(same) == 1 else (NUMERALS[k] if k < len(NUMERALS) else str(k))
        names.append(f"{b}{suffix}片区")
    return names


def _ring(n: int, edges: np.ndarray, length: np.ndarray, xy: np.ndarray, sources: np.ndarray,
          trunk: np.ndarray) -> np.ndarray:
    """Nodes of a transmission ring joining the plants' trunks (shortest paths between plants in angular
    order, preferring streets that already carry a trunk), so that plants back each other up."""
    on_ring = np.zeros(n, dtype=bool)
    uniq = np.unique(sources)
    if len(uniq) < 2:
        return on_ring
    order = uniq[np.argsort(np.arctan2(xy[uniq, 1], xy[uniq, 0]))]
    both = trunk[edges[:, 0]] & trunk[edges[:, 1]]
    graph = adjacency(n, edges, np.where(both, 0.4, 1.0) * length)
    _, pred = dijkstra(graph, directed=False, indices=order, return_predecessors=True)
    for i in range(len(order)):
        target = order[(i + 1) % len(order)]
        node = target
        while node >= 0 and node != order[i]:  # walk one path back: its length, not the node count
            on_ring[node] = True
            node = pred[i, node]
    return on_ring


def plan_zones(rng: np.random.Generator, xy: np.ndarray, edges: np.ndarray, length: np.ndarray,
               elevation: np.ndarray, district_kind_of_node: np.ndarray, sources: np.ndarray,
               source_share: np.ndarray, main_tank_xy: np.ndarray, high_tank_xy: np.ndarray,
               weight: np.ndarray, n_dmas: int, half: np.ndarray) -> ZoneLayout:
    """Zones, trunk, DMAs and their inlets and boundary valves, for street nodes `xy` and `edges`."""
    n = len(xy)
    high = high_zone(n, edges, elevation)
    main_edge = ~high[edges[:, 0]] & ~high[edges[:, 1]]
    main_idx = np.flatnonzero(~high)
    main_tree = cKDTree(xy[main_idx])
    main_tank_nodes = main_idx[main_tree.query(np.atleast_2d(main_tank_xy))[1]]
    high_idx = np.flatnonzero(high)
    high_tank_node = int(high_idx[cKDTree(xy[high_idx]).query(high_tank_xy)[1]]) if len(high_idx) else -1
    # booster station at the main-zone node nearest the hill's tank
    booster_suction = int(main_idx[main_tree.query(high_tank_xy)[1]])

    # DMA centres over the main zone, weighted by where customers will be
    k_main = n_dmas - (1 if high.any() else 0)
    centres = _lloyd(rng, xy[main_idx], weight[main_idx] + 1e-9, k_main)
    anchors = main_idx[main_tree.query(centres)[1]]
    # trunk: paths of the balanced forest (main-zone edges only) to the anchors, tanks and the booster
    dist, parent, owner = balanced_forest(n, edges[main_edge], length[main_edge], sources,
                                          weight * ~high, source_share)
    marks = np.zeros(n)
    marks[anchors] = 1.0
    marks[main_tank_nodes] = 1.0
    marks[booster_suction] = 1.0
    below = subtree_sums(parent, marks)
    trunk = (below > 0.5) & ~high
    # an anchor at the end of its path belongs to its DMA (the trunk ends at its doorstep); one that other
    # paths pass through stays trunk
    end_anchor = anchors[below[anchors] < 1.5]
    trunk[end_anchor] = False
    trunk[main_tank_nodes] = True
    trunk[booster_suction] = True
    trunk[sources] = True
    trunk |= _ring(n, edges[main_edge], length[main_edge], xy, sources, trunk)

    # DMA labels: nearest centre, then stray pieces relabelled so each DMA is one piece touching the trunk
    label = np.full(n, -1)
    dma_nodes = ~trunk & ~high
    label[dma_nodes] = cKDTree(centres).query(xy[dma_nodes])[1]
    label, trunk = _make_connected(n, edges[main_edge], label, trunk)
    used = np.unique(label[label >= 0])
    remap = np.full(k_main, -1)
    remap[used] = np.arange(len(used))
    label = np.where(label >= 0, remap[np.maximum(label, 0)], -1)
    k_main = len(used)
    if high.any():
        label[high] = k_main

    # inlets: per DMA, the trunk edge nearest the sources, and for big DMAs a second one far from the first
    a, b = edges[:, 0], edges[:, 1]
    inlet_cand = np.flatnonzero(main_edge & (trunk[a] ^ trunk[b]))
    dma_of_cand = np.where(trunk[a[inlet_cand]], label[b[inlet_cand]], label[a[inlet_cand]])
    trunk_end = np.where(trunk[a[inlet_cand]], a[inlet_cand], b[inlet_cand])
    dma_weight = np.bincount(label[label >= 0], weights=weight[label >= 0], minlength=k_main + 1)
    big = dma_weight > 1.2 * np.median(dma_weight[:k_main])
    inlets = []
    for d in range(k_main):
        cand = np.flatnonzero(dma_of_cand == d)
        first = cand[np.argmin(dist[trunk_end[cand]])]
        inlets.append(inlet_cand[first])
        if big[d] and len(cand) > 1:
            mid = 0.5 * (xy[a[inlet_cand[cand]]] + xy[b[inlet_cand[cand]]])
            far = cand[np.argmax(np.hypot(*(mid - mid[cand == first][0]).T))]
            inlets.append(inlet_cand[far])
    inlets = np.array(sorted(inlets), dtype=np.int64)
    # closed: every edge between two different DMAs, between zones, or trunk-DMA that is not an inlet
    la, lb = label[a], label[b]
    crossing = (la != lb) & (la >= 0) & (lb >= 0)
    crossing |= high[a] ^ high[b]
    crossing |= main_edge & (trunk[a] ^ trunk[b])
    crossing[inlets] = False
    closed = np.flatnonzero(crossing)
    edge_dma = np.where(la >= 0, la, lb)

    kinds = district_kind_of_node
    centre_all = np.vstack([np.array([xy[label == d].mean(axis=0) for d in range(k_main + high.any())])])
    industrial = np.array([np.mean(kinds[label == d] == 3) > 0.5 for d in range(len(centre_all))])
    old_counts = np.array([np.sum(kinds[label == d] == 0) for d in range(len(centre_all))])
    names = _dma_names(centre_all, half, int(np.argmax(old_counts)), industrial)
    if high.any():
        names[-1] = "东山高区片区"
    return ZoneLayout(high=high, trunk=trunk, dma=label, dma_names=names, inlets=inlets, closed=closed,
                      edge_dma=edge_dma, booster_suction=booster_suction, main_tank_nodes=main_tank_nodes,
                      high_tank_node=high_tank_node)
