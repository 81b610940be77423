"""Graph helpers on a `Network`: index arrays, sparse incidence/adjacency, components, sources, distances.

`NetworkGraph.from_network` turns the element tables into flat numpy arrays once (node and link order as
`Network.node_ids` / `Network.link_ids`); everything else here works on those arrays with scipy.sparse and
scipy.sparse.csgraph, so no function loops over nodes or links in Python.

Conventions: links are undirected for connectivity (a pump or check valve still joins its two nodes: whether
water can pass one way is a hydraulic question, not a topological one).  A link whose initial status is
CLOSED is "open=False"; callers decide whether closed links count (`link_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from runze.network.model import Network

LINK_KIND_CODES = {"pipe": 0, "pump": 1, "valve": 2}


@dataclass(frozen=True, slots=True)
class NetworkGraph:
    """The network as arrays: link i joins nodes start[i] and end[i] (indices into node_ids)."""

    node_ids: tuple[str, ...]
    link_ids: tuple[str, ...]
    node_index: dict[str, int]
    link_index: dict[str, int]
    start: np.ndarray  # int, per link
    end: np.ndarray  # int, per link
    link_kind: np.ndarray  # int8 code, LINK_KIND_CODES
    length: np.ndarray  # m, 0 for pumps and valves
    diameter: np.ndarray  # m, 0 for pumps
    link_open: np.ndarray  # bool: initial status is not CLOSED
    is_source: np.ndarray  # bool, per node: reservoir or tank
    x: np.ndarray  # node coordinates, NaN where unknown
    y: np.ndarray

    @classmethod
    def from_network(cls, network: Network) -> NetworkGraph:
        node_ids = tuple(network.node_ids)
        link_ids = tuple(network.link_ids)
        node_index = {n: i for i, n in enumerate(node_ids)}
        link_index = {k: i for i, k in enumerate(link_ids)}
        links = list(network.links())
        try:
            start = np.fromiter((node_index[lk.node1] for lk in links), dtype=np.int64, count=len(links))
            end = np.fromiter((node_index[lk.node2] for lk in links), dtype=np.int64, count=len(links))
        except KeyError as exc:  # a link naming a node that does not exist: say which
            bad = next(lk for lk in links if lk.node1 not in node_index or lk.node2 not in node_index)
            raise ValueError(f"link {bad.id!r} joins unknown node {exc.args[0]!r}") from None
        n_pipes, n_pumps = len(network.pipes), len(network.pumps)
        kind = np.zeros(len(links), dtype=np.int8)
        kind[n_pipes:n_pipes + n_pumps] = LINK_KIND_CODES["pump"]
        kind[n_pipes + n_pumps:] = LINK_KIND_CODES["valve"]
        length = np.zeros(len(links))
        length[:n_pipes] = [p.length for p in network.pipes.values()]
        diameter = np.zeros(len(links))
        diameter[:n_pipes] = [p.diameter for p in network.pipes.values()]
        diameter[n_pipes + n_pumps:] = [v.diameter for v in network.valves.values()]
        link_open = np.array([lk.initial_status != "CLOSED" for lk in links], dtype=bool)
        n_j = len(network.junctions)
        is_source = np.zeros(len(node_ids), dtype=bool)
        is_source[n_j:] = True
        nodes = list(network.nodes())
        x = np.array([np.nan if n.x is None else n.x for n in nodes], dtype=float)
        y = np.array([np.nan if n.y is None else n.y for n in nodes], dtype=float)
        return cls(node_ids, link_ids, node_index, link_index, start, end, kind, length, diameter,
                   link_open, is_source, x, y)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_links(self) -> int:
        return len(self.link_ids)

    @property
    def is_pipe(self) -> np.ndarray:
        return self.link_kind == LINK_KIND_CODES["pipe"]

    def link_indices(self, ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Indices of links by id; raises KeyError naming the first unknown id."""
        return np.array([self.link_index[k] for k in ids], dtype=np.int64)

    def node_indices(self, ids: list[str] | tuple[str, ...]) -> np.ndarray:
        return np.array([self.node_index[n] for n in ids], dtype=np.int64)


def incidence(graph: NetworkGraph) -> sp.csr_matrix:
    """Node-link incidence matrix A (n_nodes x n_links): -1 at a link's start node, +1 at its end node."""
    cols = np.arange(graph.n_links)
    rows = np.concatenate([graph.start, graph.end])
    data = np.concatenate([-np.ones(graph.n_links), np.ones(graph.n_links)])
    return sp.csr_matrix((data, (rows, np.concatenate([cols, cols]))), shape=(graph.n_nodes, graph.n_links))


def adjacency(graph: NetworkGraph, link_mask: np.ndarray | None = None,
              weights: np.ndarray | None = None) -> sp.csr_matrix:
    """Symmetric node adjacency over the links in `link_mask` (all links if None).

    With `weights` (per link), entries are the weights (parallel links keep the smallest, as a shortest-path
    search needs); without, entries are 1.
    """
    mask = np.ones(graph.n_links, dtype=bool) if link_mask is None else np.asarray(link_mask, dtype=bool)
    s, e = graph.start[mask], graph.end[mask]
    w = np.ones(int(mask.sum())) if weights is None else np.asarray(weights, dtype=float)[mask]
    rows = np.concatenate([s, e])
    cols = np.concatenate([e, s])
    vals = np.concatenate([w, w])
    if weights is None:
        return sp.csr_matrix((vals, (rows, cols)), shape=(graph.n_nodes, graph.n_nodes))
    # keep the minimum over parallel links: sort by value and drop later duplicates of (row, col)
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    # csgraph treats explicit zeros as missing edges: a zero-length link still joins its nodes
    vals = np.maximum(vals[first], 1e-9)
    return sp.csr_matrix((vals, (rows[first], cols[first])), shape=(graph.n_nodes, graph.n_nodes))


def components(graph: NetworkGraph, link_mask: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Connected components over the links in `link_mask`: (count, label per node)."""
    return csgraph.connected_components(adjacency(graph, link_mask), directed=False)


def source_nodes(graph: NetworkGraph) -> np.ndarray:
    """Indices of reservoirs and tanks."""
    return np.flatnonzero(graph.is_source)


def nodes_without_source(graph: NetworkGraph, link_mask: np.ndarray | None = None,
                         node_mask: np.ndarray | None = None) -> np.ndarray:
    """Boolean per node: not connected to any reservoir or tank.

    `link_mask` selects the links that carry water; `node_mask` (False = removed) drops nodes, and every link
    touching a removed node, as if they were valved off.
    """
    mask = np.ones(graph.n_links, dtype=bool) if link_mask is None else np.asarray(link_mask, dtype=bool).copy()
    alive = np.ones(graph.n_nodes, dtype=bool) if node_mask is None else np.asarray(node_mask, dtype=bool)
    mask &= alive[graph.start] & alive[graph.end]
    _, label = components(graph, mask)
    fed = np.zeros(label.max() + 1, dtype=bool)
    fed[label[graph.is_source & alive]] = True
    return ~fed[label]


def pipe_distance(graph: NetworkGraph, from_links: np.ndarray,
                  to_links: np.ndarray | None = None) -> np.ndarray:
    """Network (path) distance in m from the midpoint of each link in `from_links` to each in `to_links`.

    Path length along pipes (pumps and valves count as zero length), midpoint to midpoint, as BattLeDIM
    scores detections: min over the two ends of each link of half-lengths plus the node-to-node shortest
    path.  The distance of a link to itself is 0.  Returns an array (len(from_links), len(to_links)).
    """
    from_links = np.asarray(from_links, dtype=np.int64)
    to_links = np.arange(graph.n_links) if to_links is None else np.asarray(to_links, dtype=np.int64)
    adj = adjacency(graph, weights=graph.length)
    ends = np.unique(np.concatenate([graph.start[from_links], graph.end[from_links]]))
    dist = csgraph.dijkstra(adj, directed=False, indices=ends)  # (n_ends, n_nodes)
    row = np.searchsorted(ends, graph.start[from_links]), np.searchsorted(ends, graph.end[from_links])
    half_from = graph.length[from_links][:, None] / 2.0
    half_to = graph.length[to_links][None, :] / 2.0
    best = np.full((len(from_links), len(to_links)), np.inf)
    for r in row:  # two ends of the source link x two ends of the target link: four combinations
        for col in (graph.start[to_links], graph.end[to_links]):
            best = np.minimum(best, dist[r][:, col])
    out = best + half_from + half_to
    out[from_links[:, None] == to_links[None, :]] = 0.0
    return out
