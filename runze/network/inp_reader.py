"""Read an EPANET 2.3 `.inp` file into a `Network` in SI units.

One pass splits the text into sections (lines kept with their numbers); [OPTIONS] is then read first
because the flow unit and head-loss formula decide every other conversion, then the sections in the order
their references need (patterns and curves before the elements that name them).  Each bad line becomes an
`InpError` naming file, line, section and field; the reader goes on collecting and raises them all
together (`InpErrors`) at the end, so the caller never receives a half-built model.

EPANET semantics kept on purpose: a [DEMANDS] entry replaces the junction's [JUNCTIONS] demand (further
entries add categories); [STATUS] OPEN on a pump resets its speed to 1 and CLOSED to 0; with no PATTERN
option the pattern named "1" is the default demand pattern; curve kinds come from how the curve is used
(pump head, efficiency, tank volume, GPV head loss, PCV), else from a ``;PUMP:``-style comment above it.
"""

from __future__ import annotations

from pathlib import Path

from runze.network.errors import InpError, InpErrors
from runze.network.inp_common import (
    SECTION_SET,
    SECTIONS,
    VERBATIM_SECTIONS,
    BadValue,
    FileUnits,
    decode_bytes,
    split_tokens,
    to_float,
)
from runze.network.inp_controls import RuleParser, parse_control
from runze.network.inp_options import read_options, read_time
from runze.network.inp_verbatim import CHECKS as VERBATIM_CHECKS
from runze.network.inp_verbatim import check_energy
from runze.network.model import (
    CURVE_KINDS,
    VALVE_TYPES,
    Curve,
    Demand,
    Junction,
    Network,
    Pattern,
    Pipe,
    Pump,
    Reservoir,
    Tank,
    Valve,
)

Line = tuple[int, str]  # (1-based line number, raw text)


def _comment_split(raw: str) -> tuple[list[str], str]:
    semi = raw.find(";")
    if semi < 0:
        return split_tokens(raw), ""
    return split_tokens(raw[:semi]), raw[semi + 1 :].strip()


def _need(tokens: list[str], count: int, expected: str) -> None:
    if len(tokens) < count:
        raise BadValue("line", f"{len(tokens)} field(s), at least {count} needed", expected)


def _nonneg(token: str, field: str) -> float:
    value = to_float(token, field)
    if value < 0:
        raise BadValue(field, f"negative value {token}", "a number >= 0")
    return value


def _positive(token: str, field: str) -> float:
    value = to_float(token, field)
    if value <= 0:
        raise BadValue(field, f"{token} is not positive", "a number > 0")
    return value


class InpReader:
    """State of one read; use `read_text`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[InpError] = []
        self.net = Network(name=Path(path).stem if path else "")
        self.curve_usage: dict[str, str] = {}
        self.curve_comment_kind: dict[str, str] = {}
        self.replaced_demands: set[str] = set()
        self.pending_kind: str | None = None  # curve kind named by a ";PUMP:"-style comment line

    # ---- errors ----------------------------------------------------------------------------------------
    def _bad(self, lineno: int | None, section: str | None, exc: BadValue, raw: str | None) -> None:
        self.errors.append(InpError(exc.message, path=self.path, line=lineno, section=section, field=exc.field,
                                    expected=exc.expected, text=raw))

    def _run(self, section: str, lines: list[Line], handler, with_comment: bool = False,
             with_raw: bool = False) -> None:
        for lineno, raw in lines:
            try:
                tokens, comment = _comment_split(raw)
                if not tokens:
                    if with_comment and comment:
                        handler(None, comment)
                    continue
                if with_comment:
                    handler(tokens, comment)
                elif with_raw:
                    handler(tokens, raw)
                else:
                    handler(tokens)
            except BadValue as exc:
                self._bad(lineno, section, exc, raw)
            except (ValueError, KeyError, IndexError, OverflowError) as exc:  # safety net: never a traceback
                self._bad(lineno, section, BadValue("line", f"cannot read this line ({exc})"), raw)
            if len(self.errors) > 500:
                return

    # ---- entry -----------------------------------------------------------------------------------------
    def read_text(self, text: str) -> Network:
        sections: dict[str, list[Line]] = {}
        current: str | None = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            s = raw.strip()
            if not s:
                continue
            if s[0] == "[":
                close = s.find("]")
                name = (s[1:close] if close > 0 else s[1:]).strip().upper()
                if name not in SECTION_SET:
                    self._bad(lineno, None, BadValue("section", f"unknown section [{name}]",
                                                     "one of " + " ".join(f"[{n}]" for n in SECTIONS)), raw)
                    current = None
                    continue
                if name == "END":  # EPANET stops here; it does not require [END] either
                    break
                current = name
                sections.setdefault(name, [])
                continue
            if current is None:
                if s[0] == ";":
                    continue
                if not self.errors or self.errors[-1].field != "section":
                    self._bad(lineno, None, BadValue("section", "data outside any known section",
                                                     "a [SECTION] header first"), raw)
                continue
            sections[current].append((lineno, raw))
        self._read_sections(sections)
        if not self.errors and self.net.n_nodes == 0:  # EPANET error 223
            self._bad(None, None, BadValue("JUNCTIONS", "the file defines no nodes (empty or truncated?)",
                                        "[JUNCTIONS], [RESERVOIRS] or [TANKS] with data"), None)
        elif not self.errors and not self.net.reservoirs and not self.net.tanks:  # EPANET error 224
            self._bad(None, None, BadValue("RESERVOIRS", "the network has no reservoir or tank to supply it",
                                        "at least one [RESERVOIRS] or [TANKS] entry"), None)
        if self.errors:
            self.errors.sort(key=lambda e: e.line or 0)  # file order, whatever order sections were read in
            if len(self.errors) == 1:
                raise self.errors[0]
            raise InpErrors(self.errors)
        return self.net

    def _read_sections(self, sections: dict[str, list[Line]]) -> None:
        net = self.net
        net.title = [raw.strip() for _, raw in sections.get("TITLE", [])]
        read_options(self.net.options, sections.get("OPTIONS", []), self._bad)
        try:
            self.units = FileUnits(net.options.flow_units, net.options.pressure_units,
                                   net.options.specific_gravity, net.options.headloss)
        except ValueError:  # unknown unit already reported; go on in LPS to find more problems
            self.units = FileUnits("LPS", None, 1.0, net.options.headloss)
        opts, u = net.options, self.units
        opts.minimum_pressure *= u.pressure
        opts.required_pressure *= u.pressure
        opts.head_error *= u.length
        opts.flow_change *= u.flow
        self._run("PATTERNS", sections.get("PATTERNS", []), self._pattern)
        self._run("CURVES", sections.get("CURVES", []), self._curve, with_comment=True)
        if opts.default_pattern is None and "1" in net.patterns:
            opts.default_pattern = "1"
        elif opts.default_pattern is not None and opts.default_pattern not in net.patterns:
            opts.default_pattern = None  # EPANET then uses no default pattern
        for name, handler in (
            ("JUNCTIONS", self._junction), ("RESERVOIRS", self._reservoir), ("TANKS", self._tank),
            ("PIPES", self._pipe), ("PUMPS", self._pump), ("VALVES", self._valve),
        ):
            self._run(name, sections.get(name, []), handler)
        self._run("DEMANDS", sections.get("DEMANDS", []), self._demand, with_comment=True)
        for name, handler in (
            ("STATUS", self._status), ("EMITTERS", self._emitter), ("QUALITY", self._quality),
            ("TAGS", self._tag), ("COORDINATES", self._coordinate), ("VERTICES", self._vertex),
            ("LEAKAGE", self._leakage),
            ("TIMES", lambda tokens: read_time(net.options.time, tokens)),
        ):
            self._run(name, sections.get(name, []), handler)
        self.energy_lines: list[str] = []
        def energy(tokens: list[str], raw: str) -> None:
            if not self._energy(tokens):
                check_energy(net, tokens)
                self.energy_lines.append(raw.strip())

        self._run("ENERGY", sections.get("ENERGY", []), energy, with_raw=True)
        if self.energy_lines:
            net.verbatim["ENERGY"] = self.energy_lines
        self._run("CONTROLS", sections.get("CONTROLS", []),
                  lambda tokens: net.controls.append(parse_control(net, tokens, u)))
        rules = RuleParser(net, u)
        self._run("RULES", sections.get("RULES", []),
                  lambda tokens, raw: rules.line(tokens, raw.split(";", 1)[0]), with_raw=True)
        net.rules = rules.rules
        for name in VERBATIM_SECTIONS:
            if name in sections:
                net.verbatim[name] = [raw.rstrip() for _, raw in sections[name]]
                if name in VERBATIM_CHECKS:
                    check = VERBATIM_CHECKS[name]
                    self._run(name, sections[name], lambda tokens, check=check: check(net, tokens))
        self._finish_curves()

    # ---- references ------------------------------------------------------------------------------------
    def _pattern_ref(self, token: str, field: str) -> str | None:
        if token == "" or token == "*":
            return None
        if token not in self.net.patterns:
            raise BadValue(field, f"unknown pattern {token!r}", "a pattern defined in [PATTERNS]")
        return token

    def _curve_ref(self, token: str, field: str, kind: str) -> str:
        if token not in self.net.curves:
            raise BadValue(field, f"unknown curve {token!r}", "a curve defined in [CURVES]")
        self.curve_usage[token] = kind
        return token

    def _node_ref(self, token: str, field: str) -> str:
        if not self.net.has_node(token):
            raise BadValue(field, f"unknown node {token!r}", "a node defined in [JUNCTIONS], [RESERVOIRS] or [TANKS]")
        return token

    def _new_node_id(self, token: str) -> str:
        if self.net.has_node(token):
            raise BadValue("ID", f"duplicate node id {token!r}", "a node id used once")
        if len(token) > 7 and len(token.encode("utf-8")) > 31:  # 7 chars are at most 28 UTF-8 bytes
            raise BadValue("ID", f"id {token!r} longer than 31 bytes", "an id of at most 31 bytes (EPANET)")
        return token

    def _new_link_id(self, token: str) -> str:
        if self.net.has_link(token):
            raise BadValue("ID", f"duplicate link id {token!r}", "a link id used once")
        if len(token) > 7 and len(token.encode("utf-8")) > 31:  # 7 chars are at most 28 UTF-8 bytes
            raise BadValue("ID", f"id {token!r} longer than 31 bytes", "an id of at most 31 bytes (EPANET)")
        return token

    def _ends(self, tokens: list[str]) -> tuple[str, str]:
        n1 = self._node_ref(tokens[1], "Node1")
        n2 = self._node_ref(tokens[2], "Node2")
        if n1 == n2:
            raise BadValue("Node2", f"link {tokens[0]!r} starts and ends at node {n1!r}", "two different nodes")
        return n1, n2

    # ---- sections --------------------------------------------------------------------------------------
    def _pattern(self, tokens: list[str]) -> None:
        _need(tokens, 2, "ID multiplier [multiplier ...]")
        values = [to_float(t, "Multiplier") for t in tokens[1:]]
        pattern = self.net.patterns.get(tokens[0])
        if pattern is None:
            self.net.patterns[tokens[0]] = Pattern(tokens[0], values)
        else:
            pattern.multipliers.extend(values)

    def _curve(self, tokens: list[str] | None, comment: str) -> None:
        if tokens is None:  # a comment line such as ";PUMP: Pump curve for pump 9" names the next curve's kind
            head = comment.split(":", 1)[0].strip().upper()
            self.pending_kind = head if head in CURVE_KINDS else None
            return
        _need(tokens, 3, "ID x y")
        if (len(tokens) - 1) % 2:
            raise BadValue("Y-Value", "x without y", "pairs of x y values")
        points = [(to_float(tokens[i], "X-Value"), to_float(tokens[i + 1], "Y-Value"))
                  for i in range(1, len(tokens), 2)]
        curve = self.net.curves.get(tokens[0])
        if curve is None:
            kind = self.pending_kind
            self.net.curves[tokens[0]] = Curve(tokens[0], "GENERIC", points)
            if kind:
                self.curve_comment_kind[tokens[0]] = kind
            self.pending_kind = None
        else:
            curve.points.extend(points)

    def _junction(self, tokens: list[str]) -> None:
        u = self.units
        jid = self._new_node_id(tokens[0])
        elevation = to_float(tokens[1], "Elev") * u.length if len(tokens) > 1 else 0.0
        base = to_float(tokens[2], "Demand") * u.flow if len(tokens) > 2 else 0.0
        pattern = self._pattern_ref(tokens[3], "Pattern") if len(tokens) > 3 else None
        self.net.junctions[jid] = Junction(jid, elevation, [Demand(base, pattern)])

    def _reservoir(self, tokens: list[str]) -> None:
        _need(tokens, 2, "ID Head [Pattern]")
        rid = self._new_node_id(tokens[0])
        head = to_float(tokens[1], "Head") * self.units.length
        pattern = self._pattern_ref(tokens[2], "Pattern") if len(tokens) > 2 else None
        self.net.reservoirs[rid] = Reservoir(rid, head, pattern)

    def _tank(self, tokens: list[str]) -> None:
        if len(tokens) <= 3:  # EPANET reads a short [TANKS] line as a reservoir
            self._reservoir(tokens)
            return
        _need(tokens, 6, "ID Elevation InitLevel MinLevel MaxLevel Diameter [MinVol VolCurve Overflow]")
        u = self.units
        tid = self._new_node_id(tokens[0])
        elevation = to_float(tokens[1], "Elevation") * u.length
        init, low, high = (_nonneg(tokens[i], f) * u.length for i, f in
                           ((2, "InitLevel"), (3, "MinLevel"), (4, "MaxLevel")))
        diameter = _nonneg(tokens[5], "Diameter") * u.length
        min_volume = _nonneg(tokens[6], "MinVol") * u.volume if len(tokens) > 6 else 0.0
        curve = None
        if len(tokens) > 7 and tokens[7] != "*":
            curve = self._curve_ref(tokens[7], "VolCurve", "VOLUME")
        overflow = False
        if len(tokens) > 8:
            flag = tokens[8].upper()
            if flag not in ("YES", "NO"):
                raise BadValue("Overflow", f"{tokens[8]!r}", "YES or NO")
            overflow = flag == "YES"
        if low > high or not (low <= init <= high):
            raise BadValue("InitLevel", f"levels min {tokens[3]}, initial {tokens[2]}, max {tokens[4]} out of order",
                           "MinLevel <= InitLevel <= MaxLevel")
        if diameter == 0 and curve is None:  # EPANET treats a zero-diameter tank as a reservoir
            self.net.reservoirs[tid] = Reservoir(tid, elevation)
            return
        self.net.tanks[tid] = Tank(tid, elevation, init, low, high, diameter, min_volume, curve, overflow)

    def _pipe(self, tokens: list[str]) -> None:
        _need(tokens, 6, "ID Node1 Node2 Length Diameter Roughness [MinorLoss] [Status]")
        u = self.units
        pid = self._new_link_id(tokens[0])
        n1, n2 = self._ends(tokens)
        length = _positive(tokens[3], "Length") * u.length
        diameter = _positive(tokens[4], "Diameter") * u.diameter
        roughness = _positive(tokens[5], "Roughness") * u.roughness
        minor, status_token = 0.0, None
        if len(tokens) == 7:
            if tokens[6].upper() in ("OPEN", "CLOSED", "CV"):
                status_token = tokens[6].upper()
            else:
                minor = _nonneg(tokens[6], "MinorLoss")
        elif len(tokens) > 7:
            minor = _nonneg(tokens[6], "MinorLoss")
            status_token = tokens[7].upper()
            if status_token not in ("OPEN", "CLOSED", "CV"):
                raise BadValue("Status", f"{tokens[7]!r}", "OPEN, CLOSED or CV")
        self.net.pipes[pid] = Pipe(pid, n1, n2, length, diameter, roughness, minor,
                                   "CLOSED" if status_token == "CLOSED" else "OPEN", status_token == "CV")

    def _pump(self, tokens: list[str]) -> None:
        _need(tokens, 5, "ID Node1 Node2 HEAD curve|POWER kW [SPEED s] [PATTERN p]")
        pid = self._new_link_id(tokens[0])
        n1, n2 = self._ends(tokens)
        pump = Pump(pid, n1, n2)
        if (len(tokens) - 3) % 2:
            raise BadValue("Parameters", "keyword without value", "KEYWORD value pairs")
        for i in range(3, len(tokens), 2):
            key, value = tokens[i].upper(), tokens[i + 1]
            if key == "HEAD":
                pump.head_curve = self._curve_ref(value, "HEAD", "PUMP")
            elif key == "POWER":
                pump.pump_type, pump.power = "POWER", _positive(value, "POWER") * self.units.power
            elif key == "SPEED":
                pump.speed = _nonneg(value, "SPEED")
            elif key == "PATTERN":
                pump.speed_pattern = self._pattern_ref(value, "PATTERN")
            else:
                raise BadValue("Parameters", f"unknown keyword {tokens[i]!r}", "HEAD, POWER, SPEED or PATTERN")
        if pump.head_curve is None and pump.pump_type != "POWER":
            raise BadValue("Parameters", f"pump {pid!r} has neither a head curve nor a power",
                           "HEAD curve or POWER value")
        self.net.pumps[pid] = pump

    def _valve(self, tokens: list[str]) -> None:
        _need(tokens, 6, "ID Node1 Node2 Diameter Type Setting [MinorLoss]")
        u = self.units
        vid = self._new_link_id(tokens[0])
        n1, n2 = self._ends(tokens)
        diameter = _positive(tokens[3], "Diameter") * u.diameter
        vtype = tokens[4].upper()
        if vtype not in VALVE_TYPES:
            raise BadValue("Type", f"unknown valve type {tokens[4]!r}", " ".join(VALVE_TYPES))
        valve = Valve(vid, n1, n2, vtype, diameter)
        if vtype == "GPV":
            valve.curve = self._curve_ref(tokens[5], "Setting", "HEADLOSS")
            valve.initial_status = "OPEN"
        else:
            setting = to_float(tokens[5], "Setting")
            if vtype in ("PRV", "PSV", "PBV"):
                setting *= u.pressure
            elif vtype == "FCV":
                setting *= u.flow
            elif vtype == "PCV":
                setting = min(setting, 100.0)
            valve.setting = setting
        if len(tokens) > 6:
            valve.minor_loss = _nonneg(tokens[6], "MinorLoss")
        if len(tokens) > 7 and vtype == "PCV":
            valve.curve = self._curve_ref(tokens[7], "Curve", "VALVE")
        self.net.valves[vid] = valve

    def _demand(self, tokens: list[str] | None, comment: str) -> None:
        if tokens is None:
            return
        if tokens[0].upper() == "MULTIPLY":  # EPANET 1.x form of the demand multiplier
            self.net.options.demand_multiplier = _positive(tokens[1] if len(tokens) > 1 else "", "MULTIPLY")
            return
        _need(tokens, 2, "Junction Demand [Pattern] [;Category]")
        base = to_float(tokens[1], "Demand") * self.units.flow
        node_id = self._node_ref(tokens[0], "Junction")
        pattern = self._pattern_ref(tokens[2], "Pattern") if len(tokens) > 2 else None
        junction = self.net.junctions.get(node_id)
        if junction is None:
            return  # EPANET ignores demands on tanks and reservoirs
        demand = Demand(base, pattern, comment or None)
        if node_id not in self.replaced_demands:
            self.replaced_demands.add(node_id)
            junction.demands = [demand]
        else:
            junction.demands.append(demand)

    def _links_in(self, tokens: list[str]) -> list[str]:
        """One link id, or EPANET's range form `first last` (numeric ids compared as numbers)."""
        if len(tokens) == 2:
            if not self.net.has_link(tokens[0]):
                raise BadValue("ID", f"unknown link {tokens[0]!r}", "a link defined in the network")
            return [tokens[0]]
        return _id_range(self.net.link_ids, tokens[0], tokens[1])

    def _status(self, tokens: list[str]) -> None:
        _need(tokens, 2, "Link OPEN|CLOSED|setting")
        word = tokens[-1].upper()
        value = None
        if word not in ("OPEN", "CLOSED", "ACTIVE"):
            value = _nonneg(tokens[-1], "Status/Setting")
        for link_id in self._links_in(tokens):
            pipe = self.net.pipes.get(link_id)
            if pipe is not None:
                if pipe.check_valve:
                    raise BadValue("ID", f"pipe {link_id!r} is a check valve; its status cannot be set")
                if word in ("OPEN", "CLOSED"):
                    pipe.initial_status = word  # type: ignore[assignment]
                continue
            pump = self.net.pumps.get(link_id)
            if pump is not None:
                if value is not None:
                    pump.speed = value
                    pump.initial_status = "CLOSED" if value == 0 else "OPEN"
                elif word in ("OPEN", "CLOSED"):
                    pump.speed = 1.0 if word == "OPEN" else 0.0
                    pump.initial_status = word  # type: ignore[assignment]
                continue
            valve = self.net.valves[link_id]
            if valve.valve_type == "GPV":
                if value is not None:
                    raise BadValue("Status/Setting", "a GPV takes OPEN or CLOSED", "OPEN or CLOSED")
                if word in ("OPEN", "CLOSED"):
                    valve.initial_status = word  # type: ignore[assignment]
                continue
            if value is not None:
                if valve.valve_type in ("PRV", "PSV", "PBV"):
                    value *= self.units.pressure
                elif valve.valve_type == "FCV":
                    value *= self.units.flow
                valve.setting, valve.initial_status = value, "ACTIVE"
            elif word in ("OPEN", "CLOSED"):
                valve.initial_status = word  # type: ignore[assignment]

    def _emitter(self, tokens: list[str]) -> None:
        _need(tokens, 2, "Junction Coefficient")
        node_id = self._node_ref(tokens[0], "Junction")
        coeff = _nonneg(tokens[1], "Coefficient")
        junction = self.net.junctions.get(node_id)
        if junction is not None:
            junction.emitter = coeff * self.units.emitter(self.net.options.emitter_exponent)

    def _quality(self, tokens: list[str]) -> None:
        _need(tokens, 2, "Node InitQual")
        value = _nonneg(tokens[-1], "InitQual")
        if len(tokens) == 2:
            self.net.node(self._node_ref(tokens[0], "Node")).initial_quality = value
            return
        for node_id in _id_range(self.net.node_ids, tokens[0], tokens[1]):
            self.net.node(node_id).initial_quality = value

    def _tag(self, tokens: list[str]) -> None:
        _need(tokens, 3, "NODE|LINK id tag")
        kind = tokens[0].upper()
        if kind == "NODE":
            self.net.node(self._node_ref(tokens[1], "ID")).tag = tokens[2]
        elif kind == "LINK":
            if not self.net.has_link(tokens[1]):
                raise BadValue("ID", f"unknown link {tokens[1]!r}", "a link defined in the network")
            self.net.link(tokens[1]).tag = tokens[2]
        else:
            raise BadValue("Object", f"{tokens[0]!r}", "NODE or LINK")

    def _coordinate(self, tokens: list[str]) -> None:
        _need(tokens, 3, "Node X Y")
        if not self.net.has_node(tokens[0]):
            return  # EPANET ignores coordinates of unknown nodes (stale map data); nothing to attach them to
        node = self.net.node(tokens[0])
        node.x, node.y = to_float(tokens[1], "X-Coord"), to_float(tokens[2], "Y-Coord")

    def _vertex(self, tokens: list[str]) -> None:
        _need(tokens, 3, "Link X Y")
        if not self.net.has_link(tokens[0]):
            return  # as for coordinates: EPANET ignores vertices of unknown links
        self.net.link(tokens[0]).vertices.append((to_float(tokens[1], "X-Coord"), to_float(tokens[2], "Y-Coord")))

    def _leakage(self, tokens: list[str]) -> None:
        _need(tokens, 3, "Pipe LeakArea LeakExpansion")
        if not self.net.has_link(tokens[0]):
            raise BadValue("Pipe", f"unknown link {tokens[0]!r}", "a pipe defined in [PIPES]")
        pipe = self.net.pipes.get(tokens[0])
        area, expansion = _nonneg(tokens[1], "LeakArea"), _nonneg(tokens[2], "LeakExpansion")
        if pipe is not None:
            pipe.leak_area, pipe.leak_expansion = area, expansion

    def _energy(self, tokens: list[str]) -> bool:
        """Pump-specific [ENERGY] lines go into the pump; returns False for lines kept verbatim."""
        if tokens[0].upper() != "PUMP":
            return False
        _need(tokens, 4, "PUMP id PRICE|PATTERN|EFFIC value")
        pump = self.net.pumps.get(tokens[1])
        if pump is None:
            raise BadValue("Pump", f"unknown pump {tokens[1]!r}", "a pump defined in [PUMPS]")
        key, value = tokens[-2].upper(), tokens[-1]
        if key.startswith("PRICE"):
            pump.energy_price = _nonneg(value, "PRICE")
        elif key.startswith("PATT"):
            pump.price_pattern = self._pattern_ref(value, "PATTERN")
        elif key.startswith("EFFIC"):
            pump.efficiency_curve = self._curve_ref(value, "EFFIC", "EFFICIENCY")
        else:
            raise BadValue("Parameter", f"{tokens[-2]!r}", "PRICE, PATTERN or EFFIC")
        return True

    # ---- curves in SI ----------------------------------------------------------------------------------
    def _finish_curves(self) -> None:
        u = self.units
        factors = {"PUMP": (u.flow, u.length), "EFFICIENCY": (u.flow, 1.0), "VOLUME": (u.length, u.volume),
                   "HEADLOSS": (u.flow, u.length), "VALVE": (1.0, 1.0), "GENERIC": (1.0, 1.0)}
        for cid, curve in self.net.curves.items():
            kind = self.curve_usage.get(cid) or self.curve_comment_kind.get(cid) or "GENERIC"
            curve.kind = kind
            fx, fy = factors[kind]
            if fx != 1.0 or fy != 1.0:
                curve.points = [(x * fx, y * fy) for x, y in curve.points]


def _id_range(ids: list[str], first: str, last: str) -> list[str]:
    """EPANET's id range: numeric comparison when both ends are positive integers, else text comparison."""
    try:
        lo, hi = int(first), int(last)
        numeric = lo > 0 and hi > 0
    except ValueError:
        numeric = False
    if numeric:
        out = []
        for i in ids:
            try:
                if lo <= int(i) <= hi:
                    out.append(i)
            except ValueError:
                continue
        return out
    return [i for i in ids if first <= i <= last]


def parse_inp(text: str, path: str = "<text>") -> Network:
    """A network from the text of an `.inp` file (`path` only names it in errors)."""
    return InpReader(path).read_text(text)


def read_inp_file(path: str | Path) -> Network:
    """Read and decode an `.inp` file (UTF-8, else GB18030/GBK, else Latin-1)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InpError(f"cannot read the file: {exc.strerror or exc}", path=str(p)) from None
    return parse_inp(decode_bytes(data), str(p))
