"""A network as a GeoJSON FeatureCollection: nodes as Points, links as LineStrings through their vertices.

Coordinates are written as the network holds them (the `.inp` map coordinates); GeoJSON readers expect
WGS84 longitude/latitude, so a network drawn in a projected system should be reprojected by the caller.
Elements without coordinates get a null geometry rather than being dropped, so every element is listed.
Properties carry the id, kind, the main SI attributes and the utility's DMA and pressure zone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runze.network.model import Junction, Network, Pipe, Pump, Reservoir, Tank, Valve


def _dma_of_nodes(net: Network) -> dict[str, str]:
    out: dict[str, str] = {}
    for dma_id, dma in net.utility.dmas.items():
        for node_id in dma.get("nodes", []) if isinstance(dma, dict) else []:
            out.setdefault(str(node_id), dma_id)
    return out


def _node_props(node: Any, dma: str | None, zone: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"id": node.id, "dma": dma, "zone": zone, "tag": node.tag}
    if isinstance(node, Junction):
        props.update(kind="junction", elevation_m=node.elevation, base_demand_m3s=node.base_demand)
    elif isinstance(node, Reservoir):
        props.update(kind="reservoir", head_m=node.head)
    elif isinstance(node, Tank):
        props.update(kind="tank", elevation_m=node.elevation, min_level_m=node.min_level,
                     max_level_m=node.max_level, diameter_m=node.diameter)
    return props


def _link_props(link: Any, dma: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"id": link.id, "node1": link.node1, "node2": link.node2, "dma": dma,
                             "status": link.initial_status, "tag": link.tag}
    if isinstance(link, Pipe):
        props.update(kind="pipe", length_m=link.length, diameter_m=link.diameter, roughness=link.roughness,
                     check_valve=link.check_valve)
    elif isinstance(link, Pump):
        props.update(kind="pump", head_curve=link.head_curve, power_kw=link.power if link.pump_type == "POWER"
                     else None)
    elif isinstance(link, Valve):
        props.update(kind="valve", valve_type=link.valve_type, diameter_m=link.diameter, setting=link.setting)
    return props


def to_geojson(net: Network) -> dict[str, Any]:
    """The FeatureCollection as a dict (nodes first, then links, in engine order)."""
    dma_of = _dma_of_nodes(net)
    zones = net.utility.zones
    xy: dict[str, tuple[float, float]] = {}
    features: list[dict[str, Any]] = []
    for node in net.nodes():
        geometry = None
        if node.x is not None and node.y is not None:
            xy[node.id] = (node.x, node.y)
            geometry = {"type": "Point", "coordinates": [node.x, node.y]}
        features.append({"type": "Feature", "id": f"node:{node.id}", "geometry": geometry,
                         "properties": _node_props(node, dma_of.get(node.id), zones.get(node.id))})
    for link in net.links():
        geometry = None
        a, b = xy.get(link.node1), xy.get(link.node2)
        if a is not None and b is not None:
            points = [list(a), *([x, y] for x, y in link.vertices), list(b)]
            geometry = {"type": "LineString", "coordinates": points}
        d1, d2 = dma_of.get(link.node1), dma_of.get(link.node2)
        features.append({"type": "Feature", "id": f"link:{link.id}", "geometry": geometry,
                         "properties": _link_props(link, d1 if d1 == d2 else None)})
    return {"type": "FeatureCollection", "name": net.name, "features": features}


def write_geojson(net: Network, path: str | Path) -> None:
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(to_geojson(net), ensure_ascii=False), encoding="utf-8")
    tmp.replace(p)
