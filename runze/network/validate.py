"""Check a `Network` (read from a file or built in code) for what would make EPANET or Runze fail or mislead.

`validate(network)` returns a list of `Problem`s, never raises.  Severity "error" marks what EPANET 2.3 would
reject (or what makes a model meaningless: a link to a node that does not exist); "warning" marks what runs but
is probably wrong (nodes no source can reach, isolated nodes, demands on unreachable nodes).  Messages are
in Chinese and English (`Problem.text(lang)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runze.network.model import VALVE_TYPES, Network

MESSAGES: dict[str, dict[str, str]] = {
    "no_nodes": {"zh": "管网没有节点", "en": "the network has no nodes"},
    "no_source": {"zh": "管网没有水库或水池，无水源", "en": "the network has no reservoir or tank to supply it"},
    "duplicate_id": {"zh": "{kind} 编号 {id} 重复（也出现在 {other}）", "en": "{kind} id {id} is used twice (also in {other})"},
    "key_mismatch": {"zh": "表键 {key} 与元素编号 {id} 不一致", "en": "table key {key} differs from the element id {id}"},
    "bad_id": {"zh": "编号 {id} 无效：{why}", "en": "id {id} is not usable: {why}"},
    "unknown_node": {"zh": "管段 {id} 连接了不存在的节点 {node}", "en": "link {id} connects to unknown node {node}"},
    "same_ends": {"zh": "管段 {id} 两端是同一节点 {node}", "en": "link {id} starts and ends at the same node {node}"},
    "not_positive": {"zh": "{id} 的 {what} 为 {value}，应大于 0", "en": "{what} of {id} is {value}; it must be > 0"},
    "negative": {"zh": "{id} 的 {what} 为 {value}，不能为负", "en": "{what} of {id} is {value}; it must not be negative"},
    "missing_pattern": {"zh": "{id} 引用了不存在的时间模式 {ref}", "en": "{id} names unknown pattern {ref}"},
    "missing_curve": {"zh": "{id} 引用了不存在的曲线 {ref}", "en": "{id} names unknown curve {ref}"},
    "pump_no_curve": {"zh": "水泵 {id} 既无扬程曲线也无功率", "en": "pump {id} has neither a head curve nor a power"},
    "curve_empty": {"zh": "曲线 {id} 没有数据点", "en": "curve {id} has no points"},
    "curve_order": {"zh": "曲线 {id} 的 x 值未严格递增", "en": "curve {id}: x values are not increasing"},
    "pattern_empty": {"zh": "时间模式 {id} 没有系数", "en": "pattern {id} has no multipliers"},
    "tank_levels": {"zh": "水池 {id} 水位次序不对：最低 {low:.3f} m，初始 {init:.3f} m，最高 {high:.3f} m",
                    "en": "tank {id}: levels out of order, min {low:.3f} m, initial {init:.3f} m, max {high:.3f} m"},
    "valve_type": {"zh": "阀门 {id} 类型 {type} 未知", "en": "valve {id} has unknown type {type}"},
    "valve_at_source": {"zh": "{type} 阀 {id} 直接连接水库/水池 {node}",
                        "en": "{type} {id} is connected directly to reservoir/tank {node}"},
    "control_ref": {"zh": "控制规则引用了不存在的 {kind} {ref}", "en": "a control names unknown {kind} {ref}"},
    "isolated": {"zh": "{count} 个节点没有连接任何管段，例如 {ids}", "en": "{count} node(s) have no link at all, e.g. {ids}"},
    "unreachable": {"zh": "{count} 个节点与任何水源都不连通，例如 {ids}",
                    "en": "{count} node(s) cannot be reached from any reservoir or tank, e.g. {ids}"},
    "utility_ref": {"zh": "公用属性 {field} 引用了不存在的 {kind} {ref}", "en": "utility attribute {field} names unknown {kind} {ref}"},
}


@dataclass(frozen=True, slots=True)
class Problem:
    severity: str  # "error" | "warning"
    code: str  # key of MESSAGES
    element: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        template = MESSAGES[self.code].get(lang) or MESSAGES[self.code]["en"]
        return template.format(**self.params)

    @property
    def message(self) -> str:
        return self.text("en")

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def _ids(net: Network, out: list[Problem]) -> None:
    seen_nodes: dict[str, str] = {}
    for kind, table in (("junction", net.junctions), ("reservoir", net.reservoirs), ("tank", net.tanks)):
        for key, node in table.items():
            if key != node.id:
                out.append(Problem("error", "key_mismatch", key, {"key": key, "id": node.id}))
            if key in seen_nodes:
                out.append(Problem("error", "duplicate_id", key, {"kind": kind, "id": key, "other": seen_nodes[key]}))
            seen_nodes[key] = kind
            _id_ok(key, out)
    seen_links: dict[str, str] = {}
    for kind, table in (("pipe", net.pipes), ("pump", net.pumps), ("valve", net.valves)):
        for key, link in table.items():
            if key != link.id:
                out.append(Problem("error", "key_mismatch", key, {"key": key, "id": link.id}))
            if key in seen_links:
                out.append(Problem("error", "duplicate_id", key, {"kind": kind, "id": key, "other": seen_links[key]}))
            seen_links[key] = kind
            _id_ok(key, out)


def _id_ok(ident: str, out: list[Problem]) -> None:
    why = None
    if not ident:
        why = "empty"
    elif len(ident.encode("utf-8")) > 31:
        why = "longer than 31 bytes (EPANET's limit)"
    elif any(c.isspace() or c in ';"' for c in ident):
        why = "contains a space, ';' or '\"'"
    if why:
        out.append(Problem("error", "bad_id", ident, {"id": ident, "why": why}))


def _elements(net: Network, out: list[Problem]) -> bool:
    """Per-element checks; returns whether every link joins two known, different nodes."""
    ends_ok = True

    def pattern(owner: str, ref: str | None) -> None:
        if ref is not None and ref not in net.patterns:
            out.append(Problem("error", "missing_pattern", owner, {"id": owner, "ref": ref}))

    def curve(owner: str, ref: str | None) -> None:
        if ref is not None and ref not in net.curves:
            out.append(Problem("error", "missing_curve", owner, {"id": owner, "ref": ref}))

    def positive(owner: str, what: str, value: float) -> None:
        if not value > 0:
            out.append(Problem("error", "not_positive", owner, {"id": owner, "what": what, "value": value}))

    def nonneg(owner: str, what: str, value: float) -> None:
        if value < 0:
            out.append(Problem("error", "negative", owner, {"id": owner, "what": what, "value": value}))

    for j in net.junctions.values():
        for d in j.demands:
            pattern(j.id, d.pattern)
        nonneg(j.id, "emitter coefficient", j.emitter)
    for r in net.reservoirs.values():
        pattern(r.id, r.head_pattern)
    for t in net.tanks.values():
        curve(t.id, t.volume_curve)
        if t.volume_curve is None:
            positive(t.id, "diameter", t.diameter)
        if not (0 <= t.min_level <= t.init_level <= t.max_level):
            out.append(Problem("error", "tank_levels", t.id, {"id": t.id, "low": t.min_level, "init": t.init_level,
                                                              "high": t.max_level}))
    sources = set(net.reservoirs) | set(net.tanks)
    for link in net.links():
        for end in (link.node1, link.node2):
            if not net.has_node(end):
                out.append(Problem("error", "unknown_node", link.id, {"id": link.id, "node": end}))
                ends_ok = False
        if link.node1 == link.node2:
            out.append(Problem("error", "same_ends", link.id, {"id": link.id, "node": link.node1}))
    for p in net.pipes.values():
        positive(p.id, "length", p.length)
        positive(p.id, "diameter", p.diameter)
        positive(p.id, "roughness", p.roughness)
        nonneg(p.id, "minor loss", p.minor_loss)
    for pu in net.pumps.values():
        if pu.pump_type == "POWER":
            positive(pu.id, "power", pu.power)
        elif pu.head_curve is None:
            out.append(Problem("error", "pump_no_curve", pu.id, {"id": pu.id}))
        curve(pu.id, pu.head_curve)
        curve(pu.id, pu.efficiency_curve)
        pattern(pu.id, pu.speed_pattern)
        pattern(pu.id, pu.price_pattern)
        nonneg(pu.id, "speed", pu.speed)
    for v in net.valves.values():
        positive(v.id, "diameter", v.diameter)
        if v.valve_type not in VALVE_TYPES:
            out.append(Problem("error", "valve_type", v.id, {"id": v.id, "type": v.valve_type}))
        if v.valve_type == "GPV" and v.curve is None:
            out.append(Problem("error", "missing_curve", v.id, {"id": v.id, "ref": "(none)"}))
        curve(v.id, v.curve)
        if v.valve_type in ("PRV", "PSV", "FCV"):  # EPANET error 219
            for end in (v.node1, v.node2):
                if end in sources:
                    out.append(Problem("error", "valve_at_source", v.id, {"id": v.id, "type": v.valve_type,
                                                                          "node": end}))
    if net.options.default_pattern is not None:
        pattern("[OPTIONS] Pattern", net.options.default_pattern)
    for c in net.curves.values():
        if not c.points:
            out.append(Problem("error", "curve_empty", c.id, {"id": c.id}))
        elif any(b[0] <= a[0] for a, b in zip(c.points, c.points[1:], strict=False)):
            out.append(Problem("error", "curve_order", c.id, {"id": c.id}))
    for pat in net.patterns.values():
        if not pat.multipliers:
            out.append(Problem("error", "pattern_empty", pat.id, {"id": pat.id}))
    return ends_ok


def _controls(net: Network, out: list[Problem]) -> None:
    for c in net.controls:
        if not net.has_link(c.link):
            out.append(Problem("error", "control_ref", c.link, {"kind": "link", "ref": c.link}))
        if c.node is not None and not net.has_node(c.node):
            out.append(Problem("error", "control_ref", c.node, {"kind": "node", "ref": c.node}))
    for rule in net.rules:
        for _, obj, ident, *_ in rule.premises:
            if obj in ("NODE", "JUNCTION", "RESERVOIR", "TANK") and not net.has_node(ident):
                out.append(Problem("error", "control_ref", ident, {"kind": "node", "ref": ident}))
            if obj in ("LINK", "PIPE", "PUMP", "VALVE") and not net.has_link(ident):
                out.append(Problem("error", "control_ref", ident, {"kind": "link", "ref": ident}))
        for _, ident, *_ in [*rule.actions, *rule.else_actions]:
            if not net.has_link(ident):
                out.append(Problem("error", "control_ref", ident, {"kind": "link", "ref": ident}))


def _connectivity(net: Network, out: list[Problem]) -> None:
    from runze.network.topology import NetworkGraph, nodes_without_source

    graph = NetworkGraph.from_network(net)
    ids = np.array(graph.node_ids, dtype=object)
    degree = np.bincount(np.concatenate([graph.start, graph.end]), minlength=graph.n_nodes)
    isolated = np.flatnonzero(degree == 0)
    if isolated.size:
        out.append(Problem("warning", "isolated", None, {"count": int(isolated.size),
                                                         "ids": ", ".join(ids[isolated[:5]])}))
    # reachability through every link, closed ones included: closed links can be opened by controls
    unreachable = np.flatnonzero(nodes_without_source(graph) & (degree > 0))
    if unreachable.size:
        out.append(Problem("warning", "unreachable", None, {"count": int(unreachable.size),
                                                            "ids": ", ".join(ids[unreachable[:5]])}))


def _utility(net: Network, out: list[Problem]) -> None:
    from runze.network.sidecar import unknown_references

    for field_name, kind, ref in unknown_references(net.utility, net):
        out.append(Problem("error", "utility_ref", ref, {"field": field_name, "kind": kind, "ref": ref}))


def validate(network: Network) -> list[Problem]:
    """Every problem found, errors first."""
    out: list[Problem] = []
    if network.n_nodes == 0:
        return [Problem("error", "no_nodes")]
    if not network.reservoirs and not network.tanks:
        out.append(Problem("error", "no_source"))
    _ids(network, out)
    ends_ok = _elements(network, out)
    _controls(network, out)
    if ends_ok and (network.reservoirs or network.tanks):
        _connectivity(network, out)
    _utility(network, out)
    out.sort(key=lambda p: p.severity != "error")
    return out
