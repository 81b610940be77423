"""Sensor layouts for leak work: which sensor reads which node or link, and the metered areas (DMAs).

A layout comes from the network's sidecar (``utility.sensors`` rows ``{id, kind, element, unit}`` and
``utility.dmas``) or from a SENSORS.json file holding either a sidecar-like object (``{"sensors": [...],
"dmas": {...}}``) or a bare list of sensor rows.  Kinds used here: pressure (m), flow (m³/h), level (m),
demand (AMR, L/h); turbidity sensors are ignored.  Every element must exist in the network: a layout naming an
unknown node or link raises `LayoutError` naming the sensor.

`place_loggers` adds pressure loggers spread inside each DMA (farthest-point sampling on coordinates), the
layout a utility would choose for leak localisation; benchmarks use it on top of the demo city's own loggers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runze.network.model import Network

KIND_UNITS = {"pressure": "m", "flow": "m3/h", "level": "m", "demand": "L/h"}
FILE_OF_KIND = {"pressure": "Pressures.csv", "flow": "Flows.csv", "level": "Levels.csv", "demand": "Demands.csv"}
MESSAGES = {
    "unknown_element": {"zh": "传感器 {sid} 指向不存在的{what} {el}", "en": "sensor {sid} names unknown {what} {el}"},
    "bad_layout": {"zh": "传感器布置文件格式错误: {why}", "en": "sensor layout file is malformed: {why}"},
}


class LayoutError(ValueError):
    """A sensor layout that does not fit the network (bilingual message)."""


def _msg(key: str, **kw) -> str:
    m = MESSAGES[key]
    return f"{m['zh'].format(**kw)} / {m['en'].format(**kw)}"


@dataclass
class SensorLayout:
    """Sensors by kind: {sensor id: element id}; DMAs: {dma id: {"inlets": [...], "nodes": [...]}}."""

    pressure: dict[str, str] = field(default_factory=dict)
    flow: dict[str, str] = field(default_factory=dict)
    level: dict[str, str] = field(default_factory=dict)
    demand: dict[str, str] = field(default_factory=dict)
    dmas: dict[str, dict] = field(default_factory=dict)

    def of_kind(self, kind: str) -> dict[str, str]:
        return getattr(self, kind)

    def element_to_sensor(self, kind: str) -> dict[str, str]:
        return {el: sid for sid, el in self.of_kind(kind).items()}

    def to_json(self) -> dict:
        rows = [{"id": sid, "kind": kind, "element": el, "unit": KIND_UNITS[kind]}
                for kind in KIND_UNITS for sid, el in self.of_kind(kind).items()]
        return {"format": "runze-sidecar", "sensors": rows, "dmas": self.dmas}

    def validate(self, net: Network, source: str = "sensors") -> None:
        for kind in KIND_UNITS:
            is_link = kind == "flow"
            for sid, el in self.of_kind(kind).items():
                ok = net.has_link(el) if is_link else net.has_node(el)
                if kind == "level":
                    ok = el in net.tanks
                if not ok:
                    what = "link" if is_link else ("tank" if kind == "level" else "node")
                    raise LayoutError(f"{source}: " + _msg("unknown_element", sid=sid, what=what, el=el))
        for dma_id, dma in self.dmas.items():
            for lk in dma.get("inlets", []):
                if not net.has_link(lk):
                    raise LayoutError(f"{source}: DMA {dma_id}: " + _msg("unknown_element", sid=dma_id,
                                                                           what="link", el=lk))


def layout_from_rows(rows: list, dmas: dict | None, source: str) -> SensorLayout:
    lay = SensorLayout(dmas=dict(dmas or {}))
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "id" not in row or "kind" not in row or "element" not in row:
            raise LayoutError(f"{source}: " + _msg("bad_layout", why=f"sensors[{i}] needs id, kind, element"))
        kind = str(row["kind"]).lower()
        if kind in KIND_UNITS:
            lay.of_kind(kind)[str(row["id"])] = str(row["element"])
    return lay


def layout_from_network(net: Network) -> SensorLayout:
    return layout_from_rows(net.utility.sensors, net.utility.dmas, "sidecar")


def read_layout(path: str | Path, net: Network) -> SensorLayout:
    """A layout from SENSORS.json (sidecar-like object or list of rows), checked against the network."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LayoutError(f"{p}: " + _msg("bad_layout", why=str(exc))) from None
    if isinstance(data, list):
        lay = layout_from_rows(data, net.utility.dmas, str(p))
    elif isinstance(data, dict) and isinstance(data.get("sensors"), list):
        lay = layout_from_rows(data["sensors"], data.get("dmas", net.utility.dmas), str(p))
    else:
        raise LayoutError(f"{p}: " + _msg("bad_layout", why="expected a list of sensors or {\"sensors\": [...]}"))
    lay.validate(net, str(p))
    return lay


def _farthest(xy: np.ndarray, count: int, taken: np.ndarray) -> list[int]:
    """Indices into xy, spread by farthest-point sampling away from points already `taken` (k x 2)."""
    if len(xy) == 0 or count <= 0:
        return []
    d = np.full(len(xy), np.inf)
    for t in taken:
        d = np.minimum(d, np.hypot(*(xy - t).T))
    chosen: list[int] = []
    if not np.isfinite(d).any():
        first = int(np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T)))
        chosen.append(first)
        d = np.hypot(*(xy - xy[first]).T)
    while len(chosen) < min(count, len(xy)):
        nxt = int(np.argmax(d))
        if d[nxt] <= 0:
            break
        chosen.append(nxt)
        d = np.minimum(d, np.hypot(*(xy - xy[nxt]).T))
    return chosen


def place_loggers(net: Network, layout: SensorLayout, per_dma: int = 3, prefix: str = "LK") -> SensorLayout:
    """A copy of `layout` with `per_dma` more pressure loggers in each DMA (or over the whole network)."""
    out = SensorLayout(dict(layout.pressure), dict(layout.flow), dict(layout.level), dict(layout.demand),
                       dict(layout.dmas))
    areas = {k: v.get("nodes", []) for k, v in layout.dmas.items()} or {"ALL": list(net.junctions)}
    used = set(out.pressure.values())
    k = 0
    for nodes in areas.values():
        nodes = [n for n in nodes if n in net.junctions and net.junctions[n].x is not None]
        if not nodes:
            continue
        xy = np.array([(net.junctions[n].x, net.junctions[n].y) for n in nodes], dtype=float)
        taken = np.array([(net.junctions[n].x, net.junctions[n].y) for n in nodes if n in used]).reshape(-1, 2)
        for i in _farthest(xy, per_dma, taken):
            k += 1
            out.pressure[f"{prefix}{k:03d}"] = nodes[i]
    return out
