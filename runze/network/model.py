"""The network model: tables of elements that users edit, in SI units, with ids exactly as in the source file.

`Network` holds one ordered dict per element kind (junctions, reservoirs, tanks, pipes, pumps, valves), plus
patterns, curves, controls, rules, options and the utility attributes EPANET lacks (DMAs, zones, customers,
isolation valves, sensors).  The hydraulic engine does not work on these objects: it compiles them once into
flat numpy arrays (see `runze.hydraulics`).  Insertion order is file order, and it is the index order the engine
uses, so results line up with the file.

Units (internal, everywhere): lengths and heads m, diameters m, flows m³/s, volumes m³, times s, power kW,
Darcy-Weisbach roughness m (Hazen-Williams C and Manning n are dimensionless), emitter coefficients
m³/s per m**exponent, minor-loss coefficients dimensionless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

NodeKind = Literal["junction", "reservoir", "tank"]
LinkKind = Literal["pipe", "pump", "valve"]
VALVE_TYPES = ("PRV", "PSV", "PBV", "FCV", "TCV", "GPV", "PCV")
HEADLOSS_FORMULAS = ("H-W", "D-W", "C-M")
CURVE_KINDS = ("PUMP", "EFFICIENCY", "VOLUME", "HEADLOSS", "VALVE", "GENERIC")


@dataclass(slots=True)
class Demand:
    base: float  # m³/s
    pattern: str | None = None  # None: the default pattern of the options
    category: str | None = None


@dataclass(slots=True)
class Junction:
    id: str
    elevation: float = 0.0
    demands: list[Demand] = field(default_factory=list)
    emitter: float = 0.0  # m³/s per m**emitter_exponent
    initial_quality: float = 0.0
    tag: str | None = None
    x: float | None = None
    y: float | None = None

    @property
    def base_demand(self) -> float:
        return sum(d.base for d in self.demands)


@dataclass(slots=True)
class Reservoir:
    id: str
    head: float = 0.0
    head_pattern: str | None = None
    initial_quality: float = 0.0
    tag: str | None = None
    x: float | None = None
    y: float | None = None

    @property
    def elevation(self) -> float:
        return self.head


@dataclass(slots=True)
class Tank:
    id: str
    elevation: float = 0.0
    init_level: float = 0.0
    min_level: float = 0.0
    max_level: float = 0.0
    diameter: float = 0.0
    min_volume: float = 0.0
    volume_curve: str | None = None
    overflow: bool = False
    initial_quality: float = 0.0
    tag: str | None = None
    x: float | None = None
    y: float | None = None


Node = Junction | Reservoir | Tank


@dataclass(slots=True)
class Pipe:
    id: str
    node1: str
    node2: str
    length: float = 1.0
    diameter: float = 0.3
    roughness: float = 100.0
    minor_loss: float = 0.0
    initial_status: Literal["OPEN", "CLOSED"] = "OPEN"
    check_valve: bool = False
    bulk_coeff: float | None = None
    wall_coeff: float | None = None
    leak_area: float = 0.0  # EPANET 2.3 [LEAKAGE], kept in file units (mm² per 100 length units)
    leak_expansion: float = 0.0
    tag: str | None = None
    vertices: list[tuple[float, float]] = field(default_factory=list)


@dataclass(slots=True)
class Pump:
    id: str
    node1: str
    node2: str
    pump_type: Literal["HEAD", "POWER"] = "HEAD"
    head_curve: str | None = None
    power: float = 0.0  # kW, for POWER pumps
    speed: float = 1.0
    speed_pattern: str | None = None
    initial_status: Literal["OPEN", "CLOSED"] = "OPEN"
    efficiency_curve: str | None = None
    energy_price: float | None = None
    price_pattern: str | None = None
    tag: str | None = None
    vertices: list[tuple[float, float]] = field(default_factory=list)


@dataclass(slots=True)
class Valve:
    id: str
    node1: str
    node2: str
    valve_type: str = "PRV"
    diameter: float = 0.3
    setting: float = 0.0  # SI: m of pressure (PRV/PSV/PBV), m³/s (FCV), loss coefficient (TCV)
    curve: str | None = None  # GPV head-loss curve, or PCV loss-coefficient curve (EPANET 2.3)
    minor_loss: float = 0.0
    initial_status: Literal["ACTIVE", "OPEN", "CLOSED"] = "ACTIVE"
    tag: str | None = None
    vertices: list[tuple[float, float]] = field(default_factory=list)


Link = Pipe | Pump | Valve


@dataclass(slots=True)
class Pattern:
    id: str
    multipliers: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Curve:
    """A curve in SI: PUMP (m³/s, m), EFFICIENCY (m³/s, %), VOLUME (m, m³), HEADLOSS (m³/s, m)."""

    id: str
    kind: str = "GENERIC"
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass(slots=True)
class Control:
    """A simple control: set `link` to `status` or `setting` when the condition holds.

    condition: "above"/"below" (node `node` head-level/pressure compared with `value`, SI: tank level or
    junction pressure in m), "time" (`value` seconds since start), "clocktime" (`value` seconds after
    midnight).  `setting` is in SI for valves (as Valve.setting) and a relative speed for pumps.
    """

    link: str
    status: Literal["OPEN", "CLOSED"] | None
    setting: float | None
    condition: Literal["above", "below", "time", "clocktime"]
    node: str | None
    value: float
    enabled: bool = True


@dataclass(slots=True)
class Rule:
    """A rule-based control, kept as its clauses; `runze.hydraulics` evaluates them.

    premises: list of (logic, object kind, id, attribute, relation, value) where logic is IF/AND/OR;
    actions and else_actions: list of (kind, id, attribute, value) — values as written in the file, converted
    to SI by the reader where they are pressures, heads, levels, flows or times (seconds).
    text: the rule's lines as read; the `.inp` writer copies them back unchanged, so code that edits the
    clauses must clear `text` (the writer then generates the rule from the clauses).
    """

    id: str
    premises: list[tuple[str, str, str, str, str, Any]] = field(default_factory=list)
    actions: list[tuple[str, str, str, Any]] = field(default_factory=list)
    else_actions: list[tuple[str, str, str, Any]] = field(default_factory=list)
    priority: float = 0.0
    text: list[str] = field(default_factory=list)  # the rule's lines as read; the writer copies them back


@dataclass(slots=True)
class TimeOptions:
    duration: float = 0.0
    hydraulic_step: float = 3600.0
    quality_step: float | None = None
    pattern_step: float = 3600.0
    pattern_start: float = 0.0
    report_step: float = 3600.0
    report_start: float = 0.0
    rule_step: float | None = None
    start_clocktime: float = 0.0
    statistic: str = "NONE"


@dataclass(slots=True)
class Options:
    flow_units: str = "LPS"
    pressure_units: str | None = None
    headloss: str = "H-W"
    demand_model: Literal["DDA", "PDA"] = "DDA"
    minimum_pressure: float = 0.0  # m
    required_pressure: float = 0.1  # m (EPANET's default is 0.1 psi/m in file units; reader converts)
    pressure_exponent: float = 0.5
    emitter_exponent: float = 0.5
    emitter_backflow: bool = True
    specific_gravity: float = 1.0
    viscosity: float = 1.0  # relative to water at 20 °C
    trials: int = 200
    accuracy: float = 0.001
    unbalanced: str = "STOP"
    unbalanced_extra: int = 0
    default_pattern: str | None = None
    demand_multiplier: float = 1.0
    head_error: float = 0.0
    flow_change: float = 0.0
    check_freq: int = 2
    max_check: int = 10
    damp_limit: float = 0.0
    quality: str = "NONE"
    time: TimeOptions = field(default_factory=TimeOptions)
    extra: dict[str, str] = field(default_factory=dict)  # options kept verbatim (quality, energy, report ...)


@dataclass(slots=True)
class UtilityAttributes:
    """What a utility knows about its network that EPANET has no place for (the sidecar file).

    plants: [{"id", "name", "capacity_m3d", "source", "clearwell", "pumps": [...], ...}]
    dmas: {dma_id: {"name", "inlets": [link ids], "boundary_valves": [...], "nodes": [...]}}
    zones: {node_id: pressure-zone id}
    customers: {node_id: {category: count}}, critical: [{"node", "name", "category"}]
    valves: [{"id", "link", "node", "diameter", "status"}] isolation valves as WNTR's valve layer
    sensors: [{"id", "kind", "element", "unit"}]
    """

    plants: list[dict[str, Any]] = field(default_factory=list)
    dmas: dict[str, dict[str, Any]] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    customers: dict[str, dict[str, int]] = field(default_factory=dict)
    critical_users: list[dict[str, Any]] = field(default_factory=list)
    valves: list[dict[str, Any]] = field(default_factory=list)
    sensors: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Network:
    """A water network: the element tables plus options and utility attributes."""

    title: list[str] = field(default_factory=list)
    junctions: dict[str, Junction] = field(default_factory=dict)
    reservoirs: dict[str, Reservoir] = field(default_factory=dict)
    tanks: dict[str, Tank] = field(default_factory=dict)
    pipes: dict[str, Pipe] = field(default_factory=dict)
    pumps: dict[str, Pump] = field(default_factory=dict)
    valves: dict[str, Valve] = field(default_factory=dict)
    patterns: dict[str, Pattern] = field(default_factory=dict)
    curves: dict[str, Curve] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    options: Options = field(default_factory=Options)
    utility: UtilityAttributes = field(default_factory=UtilityAttributes)
    # sections Runze does not interpret (water quality, energy, report, labels, backdrop ...), kept verbatim
    # as {section name: [lines]} so that writing a file loses nothing a modeller put there.
    verbatim: dict[str, list[str]] = field(default_factory=dict)
    name: str = ""

    # ---- views -------------------------------------------------------------------------------------
    def nodes(self) -> Iterator[Node]:
        """All nodes in engine order: junctions, then reservoirs, then tanks (file order within each)."""
        yield from self.junctions.values()
        yield from self.reservoirs.values()
        yield from self.tanks.values()

    def links(self) -> Iterator[Link]:
        """All links in engine order: pipes, then pumps, then valves."""
        yield from self.pipes.values()
        yield from self.pumps.values()
        yield from self.valves.values()

    @property
    def node_ids(self) -> list[str]:
        return [*self.junctions, *self.reservoirs, *self.tanks]

    @property
    def link_ids(self) -> list[str]:
        return [*self.pipes, *self.pumps, *self.valves]

    def node(self, node_id: str) -> Node:
        for table in (self.junctions, self.reservoirs, self.tanks):
            if node_id in table:
                return table[node_id]
        raise KeyError(f"unknown node {node_id!r}")

    def link(self, link_id: str) -> Link:
        for table in (self.pipes, self.pumps, self.valves):
            if link_id in table:
                return table[link_id]
        raise KeyError(f"unknown link {link_id!r}")

    def node_kind(self, node_id: str) -> NodeKind:
        if node_id in self.junctions:
            return "junction"
        if node_id in self.reservoirs:
            return "reservoir"
        if node_id in self.tanks:
            return "tank"
        raise KeyError(f"unknown node {node_id!r}")

    def link_kind(self, link_id: str) -> LinkKind:
        if link_id in self.pipes:
            return "pipe"
        if link_id in self.pumps:
            return "pump"
        if link_id in self.valves:
            return "valve"
        raise KeyError(f"unknown link {link_id!r}")

    def has_node(self, node_id: str) -> bool:
        return node_id in self.junctions or node_id in self.reservoirs or node_id in self.tanks

    def has_link(self, link_id: str) -> bool:
        return link_id in self.pipes or link_id in self.pumps or link_id in self.valves

    @property
    def n_nodes(self) -> int:
        return len(self.junctions) + len(self.reservoirs) + len(self.tanks)

    @property
    def n_links(self) -> int:
        return len(self.pipes) + len(self.pumps) + len(self.valves)

    def total_pipe_length(self) -> float:
        """Total length of pipes in metres."""
        return float(sum(p.length for p in self.pipes.values()))

    def coordinates(self, node_id: str) -> tuple[float, float] | None:
        n = self.node(node_id)
        if n.x is None or n.y is None:
            return None
        return (n.x, n.y)

    def copy(self) -> Network:
        """A deep copy, for scenarios that change the network."""
        import copy

        return copy.deepcopy(self)

    def summary(self) -> dict[str, Any]:
        """Counts and totals, as `runze network info` prints them."""
        return {
            "name": self.name,
            "junctions": len(self.junctions),
            "reservoirs": len(self.reservoirs),
            "tanks": len(self.tanks),
            "pipes": len(self.pipes),
            "pumps": len(self.pumps),
            "valves": len(self.valves),
            "patterns": len(self.patterns),
            "curves": len(self.curves),
            "controls": len(self.controls),
            "rules": len(self.rules),
            "pipe_length_km": self.total_pipe_length() / 1000.0,
            "flow_units": self.options.flow_units,
            "headloss": self.options.headloss,
            "demand_model": self.options.demand_model,
            "duration_h": self.options.time.duration / 3600.0,
            "dmas": len(self.utility.dmas),
            "customers": int(sum(sum(c.values()) for c in self.utility.customers.values())),
        }
