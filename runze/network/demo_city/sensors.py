"""Isolation valves and the sensor layout of the demo city (utility attributes, not EPANET elements).

Isolation valves follow WNTR's valve layer (one row per valve: the pipe it sits on and the node it is next
to): trunk mains get valves at both ends, distribution mains one at a time with the density of a typical
Chinese network (about one valve per two to three pipes).  Closed DMA boundary valves are valves too.

Sensors: each plant's outflow, outlet pressure and intake/outlet turbidity; DMA inlet flows; tank levels;
booster flow and pressures; pressure loggers spread over the city by farthest-point sampling (one per
~15 km of mains, at least 3), the spread a utility would choose for network pressure compliance.
"""

from __future__ import annotations

import numpy as np

LOGGERS_PER_SCALE = 30


def isolation_valves(rng: np.random.Generator, pipe_ids: list[str], node1: list[str], node2: list[str],
                     dn_mm: np.ndarray, closed: np.ndarray) -> list[dict]:
    """Valve rows {id, link, node, diameter (m), status} on street pipes."""
    m = len(pipe_ids)
    p_end = np.where(dn_mm >= 300, 0.7, 0.12)
    at1 = rng.random(m) < p_end
    at2 = rng.random(m) < p_end
    at1 |= closed  # a boundary valve is a real (shut) valve
    at2 &= ~closed
    rows: list[dict] = []
    idx1, idx2 = np.flatnonzero(at1), np.flatnonzero(at2)
    which = np.concatenate([idx1, idx2])
    end = np.concatenate([np.zeros(len(idx1), dtype=int), np.ones(len(idx2), dtype=int)])
    order = np.lexsort((end, which))
    for k, (i, e) in enumerate(zip(which[order], end[order], strict=True), start=1):
        rows.append({"id": f"V{k:05d}", "link": pipe_ids[i], "node": node1[i] if e == 0 else node2[i],
                     "diameter": float(dn_mm[i]) / 1000.0, "status": "CLOSED" if closed[i] else "OPEN"})
    return rows


def logger_sites(xy: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """`count` nodes among `candidates` spread by farthest-point sampling (starting at the most central)."""
    pts = xy[candidates]
    count = min(count, len(candidates))
    chosen = [int(np.argmin(np.hypot(*(pts - pts.mean(axis=0)).T)))]
    d = np.hypot(*(pts - pts[chosen[0]]).T)
    for _ in range(count - 1):
        nxt = int(np.argmax(d))
        chosen.append(nxt)
        d = np.minimum(d, np.hypot(*(pts - pts[nxt]).T))
    return candidates[np.array(chosen)]


def sensor_layout(plants: list[dict], dmas: dict[str, dict], tanks: list[tuple[str, str]],
                  booster: dict | None, logger_nodes: list[str], logger_names: list[str]) -> list[dict]:
    """Sensor rows {id, kind, element, unit, name}; flows in m³/h, pressures and levels in m, turbidity NTU."""
    s: list[dict] = []

    def add(sid: str, kind: str, element: str, unit: str, name: str) -> None:
        s.append({"id": sid, "kind": kind, "element": element, "unit": unit, "name": name})

    for p in plants:
        pid = p["id"]
        add(f"{pid}-RAW-NTU", "turbidity", p["source"], "NTU", f"{p['name']}原水浊度 (取水口)")
        add(f"{pid}-OUT-Q", "flow", p["outlet_link"], "m3/h", f"{p['name']}出厂流量")
        add(f"{pid}-OUT-P", "pressure", p["outlet_node"], "m", f"{p['name']}出厂压力")
        add(f"{pid}-OUT-NTU", "turbidity", p["outlet_link"], "NTU", f"{p['name']}出厂水浊度")
    for tid, name in tanks:
        add(f"{tid}-L", "level", tid, "m", f"{name}水位")
    if booster:
        add("BS1-Q", "flow", booster["outlet_link"], "m3/h", "高区加压泵站流量")
        add("BS1-PS", "pressure", booster["suction"], "m", "高区加压泵站进水压力")
        add("BS1-PD", "pressure", booster["discharge"], "m", "高区加压泵站出水压力")
    for dma_id, dma in dmas.items():
        for k, link in enumerate(dma["inlets"], start=1):
            add(f"{dma_id}-IN{k}-Q", "flow", link, "m3/h", f"{dma['name']}进水流量{k}")
    for k, (node, name) in enumerate(zip(logger_nodes, logger_names, strict=True), start=1):
        add(f"PL{k:03d}", "pressure", node, "m", f"{name}压力监测点{k}")
    return s
