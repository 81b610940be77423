"""Write a `Network` as an EPANET 2.3 `.inp` file, in the network's own flow units.

Every section is generated from the model (so networks built in code write correctly); only the sections
Runze does not interpret (`network.verbatim`) and rule text are copied back as read.  Numbers are written at
full precision (shortest text that reads back to the same float) after dividing the SI value by the file
unit's factor, so EPANET reads back the network it was given.  Verbatim text stays valid because the file
is written in the same flow units it was read in.
"""

from __future__ import annotations

from pathlib import Path

from runze.network.errors import NetworkError
from runze.network.inp_common import VERBATIM_SECTIONS, FileUnits, fmt, format_time
from runze.network.inp_controls import format_control, format_rule
from runze.network.model import Network


def _row(*fields: object) -> str:
    return " ".join(str(f) for f in fields)


def _check_ids(net: Network) -> None:
    """Refuse ids the file format cannot carry (they would silently shift every field after them)."""
    bad = [i for i in (*net.node_ids, *net.link_ids, *net.patterns, *net.curves)
           if not i or any(c.isspace() or c in ';"' for c in i) or len(i.encode("utf-8")) > 31]
    if bad:
        raise NetworkError(f"{len(bad)} id(s) cannot be written to an .inp file (empty, over 31 bytes, or "
                           f"containing a space, ';' or '\"'): {', '.join(map(repr, bad[:10]))}")


def format_inp(net: Network) -> str:
    """The text of an `.inp` file for `net` (NetworkError if an id cannot be written)."""
    _check_ids(net)
    opts = net.options
    u = FileUnits(opts.flow_units, opts.pressure_units, opts.specific_gravity, opts.headloss)
    out: list[str] = []
    add = out.append

    def section(name: str) -> None:
        add("")
        add(f"[{name}]")

    add("[TITLE]")
    out.extend(net.title)

    section("JUNCTIONS")
    add(";ID Elev Demand Pattern")
    multi: list[str] = []
    for j in net.junctions.values():
        if len(j.demands) == 1 and j.demands[0].category is None:
            d = j.demands[0]
            add(_row(j.id, fmt(j.elevation / u.length), fmt(d.base / u.flow), d.pattern or ""))
        else:
            add(_row(j.id, fmt(j.elevation / u.length), 0))
            if j.demands:
                multi.append(j.id)

    section("RESERVOIRS")
    add(";ID Head Pattern")
    for r in net.reservoirs.values():
        add(_row(r.id, fmt(r.head / u.length), r.head_pattern or ""))

    section("TANKS")
    add(";ID Elevation InitLevel MinLevel MaxLevel Diameter MinVol VolCurve Overflow")
    for t in net.tanks.values():
        add(_row(t.id, fmt(t.elevation / u.length), fmt(t.init_level / u.length), fmt(t.min_level / u.length),
                 fmt(t.max_level / u.length), fmt(t.diameter / u.length), fmt(t.min_volume / u.volume),
                 t.volume_curve or "*", "YES" if t.overflow else "NO"))

    section("PIPES")
    add(";ID Node1 Node2 Length Diameter Roughness MinorLoss Status")
    for p in net.pipes.values():
        status = "CV" if p.check_valve else p.initial_status
        add(_row(p.id, p.node1, p.node2, fmt(p.length / u.length), fmt(p.diameter / u.diameter),
                 fmt(p.roughness / u.roughness), fmt(p.minor_loss), status))

    section("PUMPS")
    add(";ID Node1 Node2 Parameters")
    for p in net.pumps.values():
        params = [f"HEAD {p.head_curve}"] if p.pump_type == "HEAD" else [f"POWER {fmt(p.power / u.power)}"]
        if p.speed != 1.0:
            params.append(f"SPEED {fmt(p.speed)}")
        if p.speed_pattern:
            params.append(f"PATTERN {p.speed_pattern}")
        add(_row(p.id, p.node1, p.node2, *params))

    section("VALVES")
    add(";ID Node1 Node2 Diameter Type Setting MinorLoss")
    for v in net.valves.values():
        if v.valve_type == "GPV":
            setting = v.curve or ""
        elif v.valve_type in ("PRV", "PSV", "PBV"):
            setting = fmt(v.setting / u.pressure)
        elif v.valve_type == "FCV":
            setting = fmt(v.setting / u.flow)
        else:
            setting = fmt(v.setting)
        extra = [v.curve] if v.valve_type == "PCV" and v.curve else []
        add(_row(v.id, v.node1, v.node2, fmt(v.diameter / u.diameter), v.valve_type, setting, fmt(v.minor_loss),
                 *extra))

    section("TAGS")
    for n in net.nodes():
        if n.tag:
            add(_row("NODE", n.id, n.tag))
    for lk in net.links():
        if lk.tag:
            add(_row("LINK", lk.id, lk.tag))

    section("DEMANDS")
    add(";Junction Demand Pattern Category")
    for jid in multi:
        for d in net.junctions[jid].demands:
            line = _row(jid, fmt(d.base / u.flow), d.pattern or "")
            add(f"{line} ;{d.category}" if d.category else line)

    section("STATUS")
    for p in net.pumps.values():  # pipe status is written in [PIPES]
        if p.initial_status == "CLOSED":
            add(_row(p.id, "CLOSED"))
    for v in net.valves.values():
        if v.initial_status in ("OPEN", "CLOSED") and not (v.valve_type == "GPV" and v.initial_status == "OPEN"):
            add(_row(v.id, v.initial_status))

    section("PATTERNS")
    for pat in net.patterns.values():
        values = pat.multipliers or [1.0]
        for i in range(0, len(values), 12):
            add(_row(pat.id, *(fmt(m) for m in values[i : i + 12])))

    section("CURVES")
    factors = {"PUMP": (u.flow, u.length), "EFFICIENCY": (u.flow, 1.0), "VOLUME": (u.length, u.volume),
               "HEADLOSS": (u.flow, u.length)}
    for c in net.curves.values():
        fx, fy = factors.get(c.kind, (1.0, 1.0))
        add(f";{c.kind}:")
        for x, y in c.points:
            add(_row(c.id, fmt(x / fx), fmt(y / fy)))

    section("CONTROLS")
    for control in net.controls:
        add(format_control(net, control, u))

    section("RULES")
    for rule in net.rules:
        out.extend(format_rule(net, rule, u))
        add("")

    section("ENERGY")
    out.extend(net.verbatim.get("ENERGY", []))
    for p in net.pumps.values():
        if p.energy_price is not None:
            add(_row("PUMP", p.id, "PRICE", fmt(p.energy_price)))
        if p.price_pattern:
            add(_row("PUMP", p.id, "PATTERN", p.price_pattern))
        if p.efficiency_curve:
            add(_row("PUMP", p.id, "EFFIC", p.efficiency_curve))

    section("EMITTERS")
    factor = u.emitter(opts.emitter_exponent)
    for j in net.junctions.values():
        if j.emitter:
            add(_row(j.id, fmt(j.emitter / factor)))

    section("QUALITY")
    for n in net.nodes():
        if n.initial_quality:
            add(_row(n.id, fmt(n.initial_quality)))

    for name in VERBATIM_SECTIONS[:3]:  # SOURCES, REACTIONS, MIXING
        section(name)
        out.extend(net.verbatim.get(name, []))

    t = opts.time
    section("TIMES")
    add(_row("Duration", format_time(t.duration)))
    add(_row("Hydraulic Timestep", format_time(t.hydraulic_step)))
    if t.quality_step is not None:
        add(_row("Quality Timestep", format_time(t.quality_step)))
    if t.rule_step is not None:
        add(_row("Rule Timestep", format_time(t.rule_step)))
    add(_row("Pattern Timestep", format_time(t.pattern_step)))
    add(_row("Pattern Start", format_time(t.pattern_start)))
    add(_row("Report Timestep", format_time(t.report_step)))
    add(_row("Report Start", format_time(t.report_start)))
    add(_row("Start ClockTime", format_time(t.start_clocktime)))
    add(_row("Statistic", t.statistic))

    section("REPORT")
    out.extend(net.verbatim.get("REPORT", []))

    section("OPTIONS")
    add(_row("Units", opts.flow_units))
    if opts.pressure_units:
        add(_row("Pressure", opts.pressure_units))
    add(_row("Headloss", opts.headloss))
    add(_row("Specific Gravity", fmt(opts.specific_gravity)))
    add(_row("Viscosity", fmt(opts.viscosity)))
    add(_row("Trials", opts.trials))
    add(_row("Accuracy", fmt(opts.accuracy)))
    if opts.head_error:
        add(_row("HeadError", fmt(opts.head_error / u.length)))
    if opts.flow_change:
        add(_row("FlowChange", fmt(opts.flow_change / u.flow)))
    add(_row("CheckFreq", opts.check_freq))
    add(_row("MaxCheck", opts.max_check))
    add(_row("DampLimit", fmt(opts.damp_limit)))
    add(_row("Unbalanced", opts.unbalanced, opts.unbalanced_extra if opts.unbalanced == "CONTINUE" else ""))
    if opts.default_pattern:
        add(_row("Pattern", opts.default_pattern))
    elif "1" in net.patterns:
        # EPANET makes pattern "1" the default unless the option names another; naming a pattern that does
        # not exist gives "no default pattern", which is what default_pattern None means here
        absent = "NONE"
        while absent in net.patterns:
            absent += "_"
        add(";no default demand pattern")
        add(_row("Pattern", absent))
    add(_row("Demand Multiplier", fmt(opts.demand_multiplier)))
    add(_row("Demand Model", opts.demand_model))
    add(_row("Minimum Pressure", fmt(opts.minimum_pressure / u.pressure)))
    add(_row("Required Pressure", fmt(opts.required_pressure / u.pressure)))
    add(_row("Pressure Exponent", fmt(opts.pressure_exponent)))
    add(_row("Emitter Exponent", fmt(opts.emitter_exponent)))
    add(_row("Backflow Allowed", "YES" if opts.emitter_backflow else "NO"))
    add(_row("Quality", opts.quality))
    for key, value in opts.extra.items():
        add(_row(key, value))

    section("COORDINATES")
    for n in net.nodes():
        if n.x is not None and n.y is not None:
            add(_row(n.id, fmt(n.x), fmt(n.y)))

    section("VERTICES")
    for lk in net.links():
        for x, y in lk.vertices:
            add(_row(lk.id, fmt(x), fmt(y)))

    section("LEAKAGE")
    for p in net.pipes.values():
        if p.leak_area or p.leak_expansion:
            add(_row(p.id, fmt(p.leak_area), fmt(p.leak_expansion)))

    for name in VERBATIM_SECTIONS[4:]:  # LABELS, BACKDROP, ROUGHNESS
        if name in net.verbatim:
            section(name)
            out.extend(net.verbatim[name])

    section("END")
    add("")
    return "\n".join(out)


def write_inp_file(net: Network, path: str | Path) -> None:
    """Write `net` to `path` in UTF-8 (written to a temporary file first, so a failure leaves no half file)."""
    p = Path(path)
    text = format_inp(net)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)
