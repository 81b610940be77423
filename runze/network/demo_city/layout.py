"""Street layout of the demo city: street nodes (junction sites) and street segments (pipe routes).

The built-up area is a noisy ellipse cut by the river.  It is split into districts (the Voronoi cells of
district seeds); each district is a rotated street lattice with its own block size and jitter: an old town on
the north bank with small irregular blocks, a denser centre, looser suburbs and large industrial blocks.  A
smooth displacement field bends the straight streets, districts are stitched together with short Gabriel
edges of the Delaunay triangulation, streets crossing the river are cut except for a few bridges, and cul-de-
sacs at the edge add branches.  Hill tops above the park line carry no streets.  Everything is vectorised:
loops run over districts and bridges, never over nodes or edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, cKDTree

from runze.network.demo_city.terrain import PARK_ABOVE_M, RIVER_HALF_WIDTH_M, Terrain

DISTRICT_KINDS = ("old_town", "centre", "suburb", "industrial")


@dataclass(slots=True)
class StreetLayout:
    xy: np.ndarray  # (n, 2) m
    edges: np.ndarray  # (m, 2) int, i < j
    district: np.ndarray  # (n,) int
    district_kind: np.ndarray  # (n_districts,) int code into DISTRICT_KINDS
    bridges: np.ndarray  # indices into edges of the bridge segments

    @property
    def lengths(self) -> np.ndarray:
        return np.hypot(*(self.xy[self.edges[:, 0]] - self.xy[self.edges[:, 1]]).T)


def _district_seeds(rng: np.random.Generator, terrain: Terrain, n: int) -> np.ndarray:
    """About n seeds spread over the ellipse: a jittered grid clipped to the ellipse."""
    aspect = terrain.half_x / terrain.half_y
    ny = max(2, int(round(np.sqrt(n * 4 / np.pi / aspect))))
    nx = max(2, int(round(ny * aspect)))
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) / nx * 2 - 1, (np.arange(ny) + 0.5) / ny * 2 - 1)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts += rng.uniform(-0.35, 0.35, pts.shape) * np.array([2 / nx, 2 / ny])
    pts = pts[(pts**2).sum(axis=1) < 1.05]
    return pts * np.array([terrain.half_x, terrain.half_y])


def _district_styles(rng: np.random.Generator, terrain: Terrain, seeds: np.ndarray) -> tuple[np.ndarray, ...]:
    """Kind, block size (m), jitter fraction and street angle of each district."""
    norm = seeds / np.array([terrain.half_x, terrain.half_y])
    r = np.hypot(*norm.T)
    kind = np.where(r < 0.55, 1, 2)
    # the old town: the district nearest a point on the north bank west of the centre
    old_site = np.array([-0.25 * terrain.half_x, terrain.river_y0 + 0.18 * terrain.half_y])
    kind[np.argmin(((seeds - old_site) ** 2).sum(axis=1))] = 0
    # industrial estates: outer districts east of the centre, downstream on the river
    east = (norm[:, 0] > 0.45) & (r > 0.6)
    kind[east & (rng.random(len(seeds)) < 0.6)] = 3
    block = np.choose(kind, [105.0, 150.0, 215.0, 300.0]) * rng.uniform(0.9, 1.12, len(seeds))
    jitter = np.choose(kind, [0.26, 0.10, 0.12, 0.06])
    # streets run roughly along or across the radial direction, with a random twist
    angle = np.arctan2(seeds[:, 1], seeds[:, 0]) + rng.normal(0.0, 0.25, len(seeds))
    return kind, block, jitter, angle


def _lattice_edges(index: np.ndarray, keep_prob: float, rng: np.random.Generator) -> np.ndarray:
    """Edges between lattice neighbours that both exist (index >= 0); some dropped at random."""
    right = np.column_stack([index[:, :-1].ravel(), index[:, 1:].ravel()])
    up = np.column_stack([index[:-1, :].ravel(), index[1:, :].ravel()])
    e = np.vstack([right, up])
    e = e[(e >= 0).all(axis=1)]
    return e[rng.random(len(e)) < keep_prob]


def _warp(rng: np.random.Generator, terrain: Terrain) -> np.ndarray:
    """Waves (amplitude, kx, ky, phase) of a smooth displacement field that bends straight streets."""
    k = 6
    wl = rng.uniform(1200.0, 2600.0, k) * terrain.lin
    ang = rng.uniform(0.0, np.pi, k)
    return np.column_stack([rng.uniform(25.0, 45.0, k), 2 * np.pi / wl * np.cos(ang), 2 * np.pi / wl * np.sin(ang),
                            rng.uniform(0.0, 2 * np.pi, k)])


def _apply_warp(xy: np.ndarray, waves: np.ndarray) -> np.ndarray:
    phase = np.outer(xy[:, 0], waves[:, 1]) + np.outer(xy[:, 1], waves[:, 2]) + waves[:, 3]
    half = len(waves) // 2
    dx = (waves[:half, 0] * np.sin(phase[:, :half])).sum(axis=1)
    dy = (waves[half:, 0] * np.sin(phase[:, half:])).sum(axis=1)
    return xy + np.column_stack([dx, dy])


def _stitch_edges(xy: np.ndarray, district: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Short Gabriel edges of the Delaunay triangulation joining different districts."""
    tri = Delaunay(xy)
    s = tri.simplices
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    e = e[district[e[:, 0]] != district[e[:, 1]]]
    length = np.hypot(*(xy[e[:, 0]] - xy[e[:, 1]]).T)
    limit = 1.25 * np.maximum(block[district[e[:, 0]]], block[district[e[:, 1]]])
    e, length = e[length < limit], length[length < limit]
    # Gabriel test: no other node inside the circle on the edge as diameter (keeps the stitching planar-ish)
    mid = 0.5 * (xy[e[:, 0]] + xy[e[:, 1]])
    dist, _ = cKDTree(xy).query(mid, k=3)
    return e[dist[:, 2] >= 0.5 * length * 0.999] if len(e) else e


def generate_streets(rng: np.random.Generator, terrain: Terrain) -> StreetLayout:
    """Street nodes and segments over the terrain's built-up area."""
    hx, hy = terrain.half_x, terrain.half_y
    n_districts = int(round(15 * terrain.lin**2))
    seeds = _district_seeds(rng, terrain, n_districts)
    kind, block, jitter, angle = _district_styles(rng, terrain, seeds)
    seed_tree = cKDTree(seeds)
    # edge of the built-up area: an ellipse with a wavy outline
    outline = rng.normal(0.0, 0.05, 5)
    warp = _warp(rng, terrain)

    xs, ds, es = [], [], []
    offset = 0
    for d in range(len(seeds)):
        # a lattice in the district's own rotated frame, big enough to cover its Voronoi cell
        reach = 2.2 * np.sqrt(4 * hx * hy / len(seeds))
        n = int(np.ceil(reach / block[d]))
        i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1))
        local = np.column_stack([i.ravel(), j.ravel()]) * block[d]
        local = local + rng.uniform(-jitter[d], jitter[d], local.shape) * block[d]
        c, s_ = np.cos(angle[d]), np.sin(angle[d])
        pts = seeds[d] + local @ np.array([[c, s_], [-s_, c]])
        pts = _apply_warp(pts, warp)
        _, owner = seed_tree.query(pts)
        th = np.arctan2(pts[:, 1] / hy, pts[:, 0] / hx)
        rim = 1.0 + outline[0] * np.sin(th + outline[1]) + outline[2] * np.sin(2 * th + outline[3]) \
            + 0.5 * outline[4] * np.sin(3 * th)
        inside = ((pts[:, 0] / hx) ** 2 + (pts[:, 1] / hy) ** 2 < rim**2) & (owner == d)
        inside &= terrain.river_distance(pts) > RIVER_HALF_WIDTH_M
        inside &= terrain.elevation(pts) <= PARK_ABOVE_M
        index = np.full(i.shape, -1, dtype=np.int64)
        flat = index.ravel()
        flat[inside] = offset + np.arange(inside.sum())
        keep = 0.80 if kind[d] == 0 else 0.93
        e = _lattice_edges(flat.reshape(i.shape), keep, rng)
        if kind[d] == 0:  # lanes cutting the old town's blocks diagonally
            diag = np.column_stack([flat.reshape(i.shape)[:-1, :-1].ravel(), flat.reshape(i.shape)[1:, 1:].ravel()])
            diag = diag[(diag >= 0).all(axis=1)]
            es.append(diag[rng.random(len(diag)) < 0.12])
        xs.append(pts[inside])
        ds.append(np.full(inside.sum(), d))
        es.append(e)
        offset += int(inside.sum())
    xy = np.vstack(xs)
    district = np.concatenate(ds)
    edges = np.vstack(es)
    edges = np.vstack([edges, _stitch_edges(xy, district, block)])

    # the river: cut every street that crosses it, then build bridges
    side = terrain.river_side(xy)
    edges = edges[side[edges[:, 0]] == side[edges[:, 1]]]
    n_bridges = max(3, int(round(4 * terrain.lin)))
    bx = np.linspace(-0.62, 0.62, n_bridges) * hx + rng.uniform(-0.06, 0.06, n_bridges) * hx
    on_river = np.column_stack([bx, terrain.river_y(bx)])
    tree_n, tree_s = cKDTree(xy[side > 0]), cKDTree(xy[side < 0])
    north_ids, south_ids = np.flatnonzero(side > 0), np.flatnonzero(side < 0)
    bridges = np.column_stack([north_ids[tree_n.query(on_river)[1]], south_ids[tree_s.query(on_river)[1]]])
    edges = np.vstack([edges, bridges])

    # cul-de-sacs: short stubs off nodes at the edge of the built-up area
    deg = np.bincount(edges.ravel(), minlength=len(xy))
    norm_r = np.hypot(xy[:, 0] / hx, xy[:, 1] / hy)
    cand = np.flatnonzero((deg <= 2) & (norm_r > 0.75))
    cand = cand[rng.random(len(cand)) < 0.35]
    outward = xy[cand] / np.maximum(np.hypot(*xy[cand].T), 1.0)[:, None]
    stub = xy[cand] + outward * rng.uniform(90.0, 160.0, len(cand))[:, None]
    ok = (terrain.river_distance(stub) > RIVER_HALF_WIDTH_M) & (terrain.elevation(stub) <= PARK_ABOVE_M)
    cand, stub = cand[ok], stub[ok]
    new_ids = len(xy) + np.arange(len(cand))
    xy = np.vstack([xy, stub])
    district = np.concatenate([district, district[cand]])
    edges = np.vstack([edges, np.column_stack([cand, new_ids])])

    edges = np.unique(np.sort(edges, axis=1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]
    # keep the largest connected piece: isolated fragments (a lattice corner cut off by the river) go
    n = len(xy)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    main = np.argmax(np.bincount(comp))
    keep = comp == main
    new_index = np.cumsum(keep) - 1
    edges = new_index[edges[keep[edges[:, 0]]]]
    xy, district = xy[keep], district[keep]
    # bridges are the edges whose ends lie on different banks
    side = terrain.river_side(xy)
    bridge_idx = np.flatnonzero(side[edges[:, 0]] != side[edges[:, 1]])
    return StreetLayout(xy=xy, edges=edges, district=district, district_kind=kind, bridges=bridge_idx)
