"""Graph tools for the generator: multi-source shortest-path forests and flow accumulation on them.

A forest grown from several sources by Dijkstra, where each source starts with an offset, lets plants of
different sizes serve catchments in proportion to their capacity (offsets are tuned until each catchment's
demand matches the plant's share).  Sums over subtrees (demand carried by each tree edge, "does this subtree
hold an anchor") are one sparse triangular solve, not a walk over nodes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.sparse.linalg import spsolve_triangular


def adjacency(n: int, edges: np.ndarray, weight: np.ndarray) -> sp.csr_matrix:
    """Symmetric weighted adjacency matrix of an undirected edge list."""
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sp.csr_matrix((np.concatenate([weight, weight]), (rows, cols)), shape=(n, n))


def forest(n: int, edges: np.ndarray, length: np.ndarray, sources: np.ndarray,
           offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest-path forest from `sources`, each starting at distance `offsets[k]`.

    Returns (dist, parent, owner): distance including the offset, parent node (-1 at roots and unreached
    nodes) and the index into `sources` of the source that reaches each node (-1 if none).
    A virtual super-source joined to every source by an edge of its offset gives all of it in one Dijkstra.
    """
    extra = np.column_stack([np.full(len(sources), n), sources])
    all_edges = np.vstack([edges, extra])
    w = np.concatenate([length, np.maximum(offsets, 1e-6)])
    graph = adjacency(n + 1, all_edges, w)
    dist, pred = dijkstra(graph, directed=False, indices=n, return_predecessors=True)
    dist, pred = dist[:n], pred[:n]
    parent = np.where((pred < 0) | (pred == n), -1, pred)
    # owner: follow parents to the root; pointer jumping does it in log(depth) vectorised steps
    root = np.where(parent >= 0, parent, np.arange(n))
    for _ in range(64):
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    source_pos = np.full(n, -1)
    source_pos[sources] = np.arange(len(sources))
    owner = np.where(np.isfinite(dist), source_pos[root], -1)
    return dist, parent, owner


def subtree_sums(parent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For every node, the sum of `values` over its subtree in the forest given by `parent`.

    (I - C) s = v with C[p, c] = 1 for each child c of p; ordering nodes by depth makes the matrix triangular.
    """
    n = len(parent)
    child = np.flatnonzero(parent >= 0)
    depth = _depth(parent)
    order = np.argsort(-depth, kind="stable")  # deepest first: children come before their parents
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    rows = np.concatenate([pos, pos[parent[child]]])
    cols = np.concatenate([pos, pos[child]])
    data = np.concatenate([np.ones(n), -np.ones(len(child))])
    mat = sp.csr_matrix((data, (rows, cols)), shape=(n, n))
    sol = spsolve_triangular(mat, values[order].astype(float), lower=True)
    out = np.empty(n)
    out[order] = sol
    return out


def _depth(parent: np.ndarray) -> np.ndarray:
    """Number of edges from each node to its root, by pointer jumping."""
    n = len(parent)
    up = np.where(parent >= 0, parent, np.arange(n))
    depth = (parent >= 0).astype(np.int64)
    for _ in range(64):
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        depth = depth + depth[up] * (up != np.arange(n))
        up = nxt
    return depth


def balanced_forest(n: int, edges: np.ndarray, length: np.ndarray, sources: np.ndarray, demand: np.ndarray,
                    share: np.ndarray, iterations: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A forest whose catchments carry demand in proportion to `share` (offsets tuned by a few Dijkstras)."""
    offsets = np.zeros(len(sources))
    typical = float(np.median(length)) * np.sqrt(n) / 2.0
    target = share / share.sum()
    best = None
    for it in range(iterations):
        dist, parent, owner = forest(n, edges, length, sources, offsets)
        got = np.bincount(owner[owner >= 0], weights=demand[owner >= 0], minlength=len(sources))
        got = got / max(got.sum(), 1e-12)
        err = float(np.abs(got - target).max())
        if best is None or err < best[0]:
            best = (err, dist, parent, owner)
        # a source serving too much starts later; too little, earlier
        step = 0.3 * typical * 0.9**it  # damped: catchments jump when a boundary passes a junction
        offsets = offsets + step * np.clip((got - target) / target, -1.0, 1.0)
        offsets = offsets - offsets.min()
    return best[1], best[2], best[3]
