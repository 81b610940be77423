"""Valve segments (Walski): the pieces of network bounded by isolation valves, and the segment–valve graph.

Valve layer: rows {valve, link, node} — valve `valve` sits on link `link` next to its end node `node` (WNTR's
valve layer).  Closing it cuts the link from that node.

Construction (vectorised): every link end that carries a valve gets its own "valve-side" virtual vertex
instead of the real node; links join their two end vertices; the connected components of that graph
(scipy.sparse.csgraph) are the segments.  A link valved at both ends becomes a segment of its own with no
node, a node whose every link is valved at its side becomes a segment of its own with no link — the same
partition WNTR's `valve_segments` gives.

Pumps and EPANET valves (PRV, TCV, ...) and pipes that are CLOSED in the model — rule `closable="boundary"`
(default): they can be shut themselves (a pump stopped, a control valve set closed, a closed pipe left shut),
so they belong to no segment and act as closers between the segments of their two end nodes, exactly like an
isolation valve.  Rule `closable="link"`: they are ordinary links inside segments (WNTR's convention, used
to compare with WNTR).  Under "boundary" every segment is internally connected by open pipes, so
connectivity to sources can be worked out on the small segment graph instead of the node graph.

Broken or inaccessible valves (passed by id, or status BROKEN/INACCESSIBLE/STUCK in the layer) are left
out before building, which merges the segments on their two sides — the larger outage a crew actually gets.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from runze.i18n import bilingual
from runze.network.errors import NetworkError
from runze.network.topology import LINK_KIND_CODES, NetworkGraph

Closable = Literal["boundary", "link"]
BROKEN_STATUSES = frozenset({"BROKEN", "INACCESSIBLE", "STUCK", "INOPERABLE"})
NORMALLY_CLOSED = frozenset({"CLOSED", "SHUT"})


@dataclass(frozen=True, slots=True)
class ValveLayer:
    """Isolation valves as arrays aligned with a NetworkGraph (one entry per valve row)."""

    ids: tuple[str, ...]
    link: np.ndarray  # link index
    node: np.ndarray  # node index (an end of the link)
    status: tuple[str, ...]  # "OPEN" (normal), "CLOSED" (normally closed), or a broken status
    diameter: np.ndarray  # m, NaN where unknown

    @classmethod
    def from_rows(cls, graph: NetworkGraph, rows: Iterable[Mapping[str, Any]], source: str = "valve layer"
                  ) -> ValveLayer:
        """Check and index valve rows {id|valve, link, node[, status, diameter]}.

        Raises NetworkError naming the row and field for an unknown link, an unknown node, a node that is not
        an end of the link, or a repeated valve id.
        """
        ids: list[str] = []
        links: list[int] = []
        nodes: list[int] = []
        status: list[str] = []
        diam: list[float] = []
        seen: set[str] = set()
        for i, row in enumerate(rows, start=1):
            vid = str(row.get("valve", row.get("id", "")) or "").strip() or f"V{i}"
            link_id, node_id = str(row.get("link", "")).strip(), str(row.get("node", "")).strip()
            where = {"source": source, "row": i, "valve": vid, "link": link_id, "node": node_id}
            if vid in seen:
                raise NetworkError(bilingual("outage.valves.repeated", **where))
            if link_id not in graph.link_index:
                raise NetworkError(bilingual("outage.valves.unknown_link", **where))
            if node_id not in graph.node_index:
                raise NetworkError(bilingual("outage.valves.unknown_node", **where))
            li, ni = graph.link_index[link_id], graph.node_index[node_id]
            if ni not in (graph.start[li], graph.end[li]):
                raise NetworkError(bilingual("outage.valves.not_an_end", **where))
            seen.add(vid)
            ids.append(vid)
            links.append(li)
            nodes.append(ni)
            status.append(str(row.get("status") or "OPEN").strip().upper())
            d = row.get("diameter")
            diam.append(float(d) if d not in (None, "") else np.nan)
        return cls(tuple(ids), np.array(links, dtype=np.int64), np.array(nodes, dtype=np.int64),
                   tuple(status), np.array(diam, dtype=float))

    def __len__(self) -> int:
        return len(self.ids)


def read_valve_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a valve CSV with columns valve,link,node (optional status, diameter)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip().lower() for f in (reader.fieldnames or [])]
            missing = {"valve", "link", "node"} - set(fields)
            if missing:
                raise NetworkError(bilingual("outage.valves.missing_columns", path=path,
                                             missing=", ".join(sorted(missing))))
            rows = []
            for row in reader:
                rows.append({k.strip().lower(): (v or "").strip() for k, v in row.items() if k})
            return rows
    except OSError as exc:
        raise NetworkError(bilingual("outage.valves.unreadable", path=path, error=exc.strerror)) from None


@dataclass(frozen=True, slots=True)
class Segmentation:
    """Segments of a network and the closers (valves and closable links) between them.

    node_segment[n], link_segment[l] (-1 for a link that is itself a closer) label segments 0..n_segments-1.
    Closer k (isolation valve or closable link) separates segments closer_a[k] and closer_b[k]; when shut it
    cuts them apart; `closer_carries[k]` says water passes it in normal operation.
    """

    graph: NetworkGraph
    valves: ValveLayer  # the valves used (broken ones removed)
    closable: Closable
    n_segments: int
    node_segment: np.ndarray
    link_segment: np.ndarray
    closer_ids: tuple[str, ...]
    closer_kind: np.ndarray  # "valve", "pump", "control valve", "closed pipe"
    closer_link: np.ndarray  # link index the closer is on
    closer_a: np.ndarray  # segment on the link side (valves) / start-node side (links)
    closer_b: np.ndarray  # segment on the node side (valves) / end-node side (links)
    closer_carries: np.ndarray  # bool
    segment_has_source: np.ndarray  # bool per segment
    segment_fed: np.ndarray  # bool per segment: connected to a source in normal operation
    ignored_valves: tuple[str, ...]  # broken, duplicate, or on a closable link

    # ---- sizes -------------------------------------------------------------------------------------
    def segment_nodes(self, segments: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.node_segment, segments))

    def segment_links(self, segments: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.link_segment, segments))

    def segment_sizes(self) -> dict[str, np.ndarray]:
        """Per segment: node count, link count, pipe length (m) and pipe volume (m³)."""
        g, n = self.graph, self.n_segments
        in_seg = self.link_segment >= 0
        ls = self.link_segment[in_seg]
        vol = np.pi * g.diameter**2 / 4.0 * g.length
        return {
            "nodes": np.bincount(self.node_segment, minlength=n),
            "links": np.bincount(ls, minlength=n),
            "length_m": np.bincount(ls, weights=g.length[in_seg], minlength=n),
            "volume_m3": np.bincount(ls, weights=vol[in_seg], minlength=n),
        }

    # ---- segment graph -----------------------------------------------------------------------------
    def segment_adjacency(self, carrying_only: bool = True) -> sp.csr_matrix:
        """Segment graph: segments joined by the closers between them (those carrying water if asked)."""
        keep = self.closer_carries if carrying_only else np.ones(len(self.closer_ids), dtype=bool)
        keep = keep & (self.closer_a != self.closer_b)
        a, b = self.closer_a[keep], self.closer_b[keep]
        data = np.ones(2 * len(a))
        m = sp.csr_matrix((data, (np.concatenate([a, b]), np.concatenate([b, a]))),
                          shape=(self.n_segments, self.n_segments))
        m.sum_duplicates()
        return m

    def boundary_closers(self, segments: Sequence[int] | np.ndarray) -> np.ndarray:
        """Indices of the closers to shut to isolate `segments` (one side inside, the other outside)."""
        inside = np.zeros(self.n_segments, dtype=bool)
        inside[np.asarray(segments, dtype=np.int64)] = True
        return np.flatnonzero(inside[self.closer_a] != inside[self.closer_b])

    def cut_off_by(self, segments: Sequence[int] | np.ndarray, adjacency: sp.csr_matrix | None = None
                   ) -> np.ndarray:
        """Segments that lose every source when `segments` are isolated (unintended isolation).

        Only segments fed in normal operation count: one already cut off is not a consequence of this work.
        """
        adj = self.segment_adjacency() if adjacency is None else adjacency
        removed = np.zeros(self.n_segments, dtype=bool)
        removed[np.asarray(segments, dtype=np.int64)] = True
        keep = sp.diags((~removed).astype(float))
        _, label = csgraph.connected_components(keep @ adj @ keep, directed=False)
        fed = np.zeros(label.max() + 1, dtype=bool)
        fed[label[self.segment_has_source & ~removed]] = True
        return np.flatnonzero(~fed[label] & ~removed & self.segment_fed)


def backfeed_opening(seg: Segmentation, segments: Sequence[int] | np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normally closed closers (DMA boundary valves, closed pipes) to open so that segments cut off by
    shutting `segments` get water back from another side.

    Shortest paths from the sources over the segment graph, where passing a normally open closer costs
    nothing and opening a closed one costs 1, so each cut-off segment is reached opening as few closed
    valves as possible.  Returns (closer indices to open, segments rescued, segments still cut off).
    """
    lost = seg.cut_off_by(segments)
    if lost.size == 0:
        return np.zeros(0, np.int64), lost, lost
    n = seg.n_segments
    removed = np.zeros(n, dtype=bool)
    removed[np.asarray(segments, dtype=np.int64)] = True
    usable = (seg.closer_a != seg.closer_b) & ~removed[seg.closer_a] & ~removed[seg.closer_b]
    k_idx = np.flatnonzero(usable)
    weight = np.where(seg.closer_carries[k_idx], 1e-9, 1.0)
    src = np.flatnonzero(seg.segment_has_source & ~removed)
    u = np.concatenate([seg.closer_a[k_idx], seg.closer_b[k_idx], np.full(len(src), n)])
    v = np.concatenate([seg.closer_b[k_idx], seg.closer_a[k_idx], src])
    w = np.concatenate([weight, weight, np.full(len(src), 1e-9)])
    closer_of = np.concatenate([k_idx, k_idx, np.full(len(src), -1)])
    order = np.lexsort((w, v, u))  # parallel edges: keep the cheapest (an open closer beats a closed one)
    u, v, w, closer_of = u[order], v[order], w[order], closer_of[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w, closer_of = u[first], v[first], w[first], closer_of[first]
    graph = sp.csr_matrix((w, (u, v)), shape=(n + 1, n + 1))
    dist, pred = csgraph.dijkstra(graph, directed=True, indices=n, return_predecessors=True)
    edge_closer = dict(zip(zip(u.tolist(), v.tolist(), strict=True), closer_of.tolist(), strict=True))
    rescued = lost[np.isfinite(dist[lost])]
    to_open: set[int] = set()
    for s in rescued.tolist():  # walk each rescued segment's path back to the super-source
        while pred[s] >= 0 and s != n:
            k = edge_closer[(int(pred[s]), s)]
            if k >= 0 and not seg.closer_carries[k]:
                to_open.add(k)
            s = int(pred[s])
    return np.array(sorted(to_open), dtype=np.int64), rescued, lost[~np.isfinite(dist[lost])]


def build_segments(graph: NetworkGraph, valves: ValveLayer, broken: Iterable[str] = (),
                   closable: Closable = "boundary") -> Segmentation:
    """Segment the network bounded by `valves`; valves (or closable links) in `broken` cannot be shut."""
    broken_set = {str(b) for b in broken}
    valve_ok = np.array([v not in broken_set and s not in BROKEN_STATUSES
                         for v, s in zip(valves.ids, valves.status, strict=True)], dtype=bool)
    n, m = graph.n_nodes, graph.n_links
    if closable == "boundary":
        closer_link_mask = (graph.link_kind != LINK_KIND_CODES["pipe"]) | ~graph.link_open
        closer_link_mask &= ~np.isin(np.asarray(graph.link_ids, dtype=object), list(broken_set))
    elif closable == "link":
        closer_link_mask = np.zeros(m, dtype=bool)
    else:
        raise ValueError(f"closable must be 'boundary' or 'link', not {closable!r}")
    # a valve on a closable link adds nothing (the link is shut itself); duplicates of a (link, node) end too
    valve_ok &= ~closer_link_mask[valves.link]
    end_key = valves.link * 2 + (valves.node == graph.end[valves.link])  # which end of its link
    _, first = np.unique(np.where(valve_ok, end_key, -1 - np.arange(len(valves))), return_index=True)
    is_first = np.zeros(len(valves), dtype=bool)
    is_first[first] = True
    used = valve_ok & is_first
    ignored = tuple(v for v, u in zip(valves.ids, used, strict=True) if not u)
    u_link, u_node, u_key = valves.link[used], valves.node[used], end_key[used]
    u_ids = tuple(v for v, u in zip(valves.ids, used, strict=True) if u)

    # vertex of each link end: the real node, or the virtual valve-side vertex n + k for valved end k
    vertex_of_end = np.concatenate([graph.start, graph.end])  # index: link (start) / m + link (end)
    end_pos = np.where(u_key % 2 == 1, m + u_link, u_link)
    vertex_of_end[end_pos] = n + np.arange(len(u_ids))
    seg_links = np.flatnonzero(~closer_link_mask)
    a, b = vertex_of_end[seg_links], vertex_of_end[m + seg_links]
    n_vert = n + len(u_ids)
    adj = sp.csr_matrix((np.ones(len(a)), (a, b)), shape=(n_vert, n_vert))
    n_raw, label = csgraph.connected_components(adj, directed=False)
    # virtual vertices of valves whose link is a closer never join anything: drop their labels by renumbering
    used_labels = np.unique(np.concatenate([label[:n], label[vertex_of_end[seg_links]]]))
    remap = np.full(n_raw, -1, dtype=np.int64)
    remap[used_labels] = np.arange(len(used_labels))
    label = remap[label]
    n_seg = len(used_labels)
    node_segment = label[:n]
    link_segment = np.full(m, -1, dtype=np.int64)
    link_segment[seg_links] = label[a]

    # closers: the isolation valves, then the closable links
    cl_links = np.flatnonzero(closer_link_mask)
    kind_names = np.where(graph.link_kind[cl_links] == LINK_KIND_CODES["pump"], "pump",
                          np.where(graph.link_kind[cl_links] == LINK_KIND_CODES["valve"], "control valve",
                                   "closed pipe"))
    u_status = np.array([s for s, u in zip(valves.status, used, strict=True) if u], dtype=object)
    closer_ids = u_ids + tuple(graph.link_ids[i] for i in cl_links)
    closer_kind = np.concatenate([np.full(len(u_ids), "valve", dtype=object), kind_names.astype(object)])
    closer_link = np.concatenate([u_link, cl_links])
    closer_a = np.concatenate([label[n + np.arange(len(u_ids))], node_segment[graph.start[cl_links]]])
    closer_b = np.concatenate([node_segment[u_node], node_segment[graph.end[cl_links]]])
    carries = np.concatenate([~np.isin(u_status, list(NORMALLY_CLOSED)) if len(u_ids) else np.zeros(0, bool),
                              graph.link_open[cl_links]]).astype(bool)

    has_source = np.zeros(n_seg, dtype=bool)
    has_source[node_segment[graph.is_source]] = True
    seg = Segmentation(graph, valves, closable, n_seg, node_segment, link_segment, closer_ids,
                       closer_kind, closer_link, closer_a, closer_b, carries, has_source,
                       np.ones(n_seg, dtype=bool), ignored)
    fed = np.ones(n_seg, dtype=bool)
    fed[seg.cut_off_by(np.zeros(0, dtype=np.int64))] = False  # segment_fed is all-True here: this finds the unfed
    object.__setattr__(seg, "segment_fed", fed)
    return seg
