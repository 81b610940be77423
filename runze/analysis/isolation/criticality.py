"""Segment criticality: every valve segment ranked by what its isolation would cost customers.

For each segment: its own nodes and pipes, plus the unintended isolation its shutting causes (segments that
lose every source).  Unintended isolation can only follow from a segment that is a cut vertex (articulation
point) of the segment graph joined to one super-source, so only those are worked out one by one with
scipy.sparse.csgraph; every other segment cuts off nothing.  Sums per segment (customers by category, mean
demand, pipe length) are bincounts over node and link labels.

Export: CSV (one row per segment, ranked) and GeoJSON (a MultiLineString per segment from its pipes' end
node coordinates and vertices; a Point for a segment that is a single node) for the map.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from runze.analysis.isolation.plan import OutagePlanner
from runze.analysis.isolation.segments import Segmentation
from runze.i18n import bilingual


def articulation_segments(seg: Segmentation, backfeed: bool = False) -> np.ndarray:
    """Segments whose removal disconnects some fed segment from every source (cut vertices)."""
    adj = seg.segment_adjacency(carrying_only=not backfeed).tocoo()
    g = nx.Graph()
    g.add_nodes_from(range(seg.n_segments + 1))
    g.add_edges_from(zip(adj.row.tolist(), adj.col.tolist(), strict=True))
    super_source = seg.n_segments
    g.add_edges_from((super_source, int(s)) for s in np.flatnonzero(seg.segment_has_source))
    cut = np.array(sorted(n for n in nx.articulation_points(g) if n != super_source), dtype=np.int64)
    return cut


def criticality(planner: OutagePlanner, broken: tuple[str, ...] = (),
                progress: Callable[[int, int], None] | None = None, backfeed: bool = False) -> pd.DataFrame:
    """One row per segment, most critical first (customers, then demand affected).

    `backfeed`: normally closed valves (DMA boundaries) may be opened to keep other segments supplied, so
    only what no valve operation can reach counts as cut off.
    """
    seg = planner.segmentation(planner.check_broken(broken))
    g = planner.graph
    n = seg.n_segments
    # unintended isolation per segment: only cut vertices can cause any
    cut = articulation_segments(seg, backfeed)
    adj = seg.segment_adjacency(carrying_only=not backfeed)
    unintended: dict[int, np.ndarray] = {}
    total = len(cut)
    for i, s in enumerate(cut):
        lost = seg.cut_off_by(np.array([s]), adj)
        if lost.size:
            unintended[int(s)] = lost
        if progress is not None:
            progress(i + 1, total)
    if progress is not None and total == 0:
        progress(0, 0)

    # per-segment sums
    customers = planner.network.utility.customers
    categories = sorted({c for cats in customers.values() for c in cats})
    cust = np.zeros((g.n_nodes, len(categories)))
    for node_id, cats in customers.items():
        if node_id in g.node_index:
            for c, count in cats.items():
                cust[g.node_index[node_id], categories.index(c)] = count
    crit = np.zeros(g.n_nodes)
    for c in planner.network.utility.critical_users:
        if str(c.get("node")) in g.node_index:
            crit[g.node_index[str(c.get("node"))]] += 1
    mean_q = planner.demand.mean_per_node() * 3600.0  # m³/h
    per_seg_cust = np.stack([np.bincount(seg.node_segment, weights=cust[:, k], minlength=n)
                             for k in range(len(categories))], axis=1) if categories else np.zeros((n, 0))
    per_seg_q = np.bincount(seg.node_segment, weights=mean_q, minlength=n)
    per_seg_crit = np.bincount(seg.node_segment, weights=crit, minlength=n)
    per_seg_nodes = np.bincount(seg.node_segment, minlength=n)
    sizes = seg.segment_sizes()

    # add what each cut vertex cuts off: a sparse (segment x segment) "also loses" matrix
    rows = np.concatenate([np.full(len(v), s) for s, v in unintended.items()] or [np.zeros(0, np.int64)])
    cols = np.concatenate(list(unintended.values()) or [np.zeros(0, np.int64)])
    import scipy.sparse as sp

    also = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    total_cust = per_seg_cust + also @ per_seg_cust
    total_q = per_seg_q + also @ per_seg_q
    total_crit = per_seg_crit + also @ per_seg_crit
    un_nodes = also @ per_seg_nodes
    un_len = also @ sizes["length_m"]

    # the closers bounding each segment
    keep = seg.closer_a != seg.closer_b
    ids = np.asarray(seg.closer_ids, dtype=object)[keep]
    bound = pd.DataFrame({"segment": np.concatenate([seg.closer_a[keep], seg.closer_b[keep]]),
                          "closer": np.concatenate([ids, ids])})
    closers = bound.groupby("segment")["closer"].agg(lambda s: " ".join(sorted(set(s))))
    frame = pd.DataFrame({
        "segment": np.arange(n),
        "nodes": per_seg_nodes,
        "links": sizes["links"],
        "length_m": sizes["length_m"].round(2),
        "volume_m3": sizes["volume_m3"].round(3),
        "valves": closers.reindex(np.arange(n)).fillna("").to_numpy(),
        "n_valves": closers.reindex(np.arange(n)).fillna("").str.split().str.len().to_numpy(),
        "unintended_nodes": un_nodes.astype(int),
        "unintended_length_m": un_len.round(2),
        "customers": total_cust.sum(axis=1).astype(int) if categories else np.zeros(n, dtype=int),
        "demand_m3h": total_q.round(4),
        "critical_users": total_crit.astype(int),
        "has_source": seg.segment_has_source,
    })
    for k, c in enumerate(categories):
        frame[f"customers_{c}"] = total_cust[:, k].astype(int)
    frame = frame.sort_values(["customers", "demand_m3h", "segment"], ascending=[False, False, True])
    frame.insert(0, "rank", np.arange(1, n + 1))
    return frame.reset_index(drop=True)


def to_geojson(planner: OutagePlanner, frame: pd.DataFrame, broken: tuple[str, ...] = ()) -> dict[str, Any]:
    """FeatureCollection: one feature per segment with the criticality row as properties."""
    seg = planner.segmentation(planner.check_broken(broken))
    g = planner.graph
    net = planner.network
    lines: dict[int, list[list[list[float]]]] = {}
    for li in np.flatnonzero(seg.link_segment >= 0):
        a, b = g.start[li], g.end[li]
        if np.isnan(g.x[a]) or np.isnan(g.x[b]):
            continue
        mid = getattr(net.link(g.link_ids[li]), "vertices", []) or []
        coords = [[float(g.x[a]), float(g.y[a])], *[[float(x), float(y)] for x, y in mid],
                  [float(g.x[b]), float(g.y[b])]]
        lines.setdefault(int(seg.link_segment[li]), []).append(coords)
    first_node = pd.Series(np.arange(g.n_nodes)).groupby(seg.node_segment).first()
    features = []
    for row in frame.to_dict(orient="records"):
        s = int(row["segment"])
        if s in lines:
            geometry: dict[str, Any] | None = {"type": "MultiLineString", "coordinates": lines[s]}
        elif s in first_node.index and not np.isnan(g.x[first_node[s]]):
            i = first_node[s]
            geometry = {"type": "Point", "coordinates": [float(g.x[i]), float(g.y[i])]}
        else:
            geometry = None
        props = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        features.append({"type": "Feature", "id": s, "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def export(planner: OutagePlanner, frame: pd.DataFrame, path: str | Path, broken: tuple[str, ...] = ()) -> Path:
    """Write the ranking as .csv or .geojson (by the file's suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".geojson", ".json"):
        path.write_text(json.dumps(to_geojson(planner, frame, broken), ensure_ascii=False), encoding="utf-8")
    else:
        raise ValueError(bilingual("outage.output_suffix", path=path))
    return path
