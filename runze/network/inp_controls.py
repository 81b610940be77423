"""[CONTROLS] and [RULES] of an `.inp` file: parse into `Control`/`Rule` with SI values, and write them back.

Simple controls are regenerated from the model.  Rules keep their original text (`Rule.text`), which the
writer copies back unchanged (the safest way to reproduce them exactly); the parsed clauses carry SI values
for the solver.  A rule built in code (no text) is written from its clauses, converted back to file units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from runze.network.inp_common import BadValue, FileUnits, fmt, parse_time, to_float
from runze.network.model import Control, Network, Rule

NODE_OBJECTS = ("NODE", "JUNCTION", "RESERVOIR", "TANK")
LINK_OBJECTS = ("LINK", "PIPE", "PUMP", "VALVE")
RELATIONS = ("=", "<>", "<", ">", "<=", ">=", "IS", "NOT", "BELOW", "ABOVE")
STATUS_WORDS = ("OPEN", "CLOSED", "ACTIVE")


def _setting_factor(net: Network, link_id: str, units: FileUnits) -> float:
    """SI factor for a numerical setting of a link: pressure for PRV/PSV/PBV, flow for FCV, else none."""
    valve = net.valves.get(link_id)
    if valve is None:
        return 1.0
    if valve.valve_type in ("PRV", "PSV", "PBV"):
        return units.pressure
    if valve.valve_type == "FCV":
        return units.flow
    return 1.0


def parse_control(net: Network, tokens: list[str], units: FileUnits) -> Control:
    """One line of [CONTROLS] (tokens without comment); EPANET 2.3 marks a disabled control with DISABLED."""
    enabled = True
    if tokens and tokens[-1].upper() in ("DISABLED", "ENABLED"):
        enabled = tokens[-1].upper() == "ENABLED"
        tokens = tokens[:-1]
    if len(tokens) < 6 or tokens[0].upper() != "LINK":
        raise BadValue("control", "not a control", "LINK id OPEN|CLOSED|setting IF NODE id ABOVE|BELOW value, "
                       "or LINK id OPEN|CLOSED|setting AT TIME|CLOCKTIME t")
    link_id = tokens[1]
    if not net.has_link(link_id):
        raise BadValue("link", f"unknown link {link_id!r}", "a link defined in [PIPES], [PUMPS] or [VALVES]")
    pipe = net.pipes.get(link_id)
    if pipe is not None and pipe.check_valve:
        raise BadValue("link", f"link {link_id!r} is a check valve and cannot be controlled")
    word = tokens[2].upper()
    status: Any = None
    setting: float | None = None
    if word in ("OPEN", "CLOSED"):
        status = word
    else:
        valve = net.valves.get(link_id)
        if valve is not None and valve.valve_type == "GPV":
            raise BadValue("setting", "a GPV can only be opened or closed", "OPEN or CLOSED")
        setting = to_float(tokens[2], "setting", "OPEN, CLOSED or a number")
        if link_id in net.pumps or pipe is not None:
            if setting < 0:
                raise BadValue("setting", f"negative setting {tokens[2]}", "a number >= 0")
            status = "CLOSED" if setting == 0 else "OPEN"
        setting *= _setting_factor(net, link_id, units)
    kind = tokens[4].upper()
    if tokens[3].upper() not in ("IF", "AT"):
        raise BadValue("condition", f"{tokens[3]!r}", "IF NODE ... or AT TIME|CLOCKTIME ...")
    if kind in ("TIME", "CLOCKTIME"):
        seconds = parse_time(tokens[5:7], "time")
        if kind == "CLOCKTIME":
            seconds %= 86400.0
        return Control(link_id, status, setting, kind.lower(), None, seconds, enabled)  # type: ignore[arg-type]
    if len(tokens) < 8:
        raise BadValue("condition", "incomplete node condition", "IF NODE id ABOVE|BELOW value")
    node_id = tokens[5]
    if not net.has_node(node_id):
        raise BadValue("node", f"unknown node {node_id!r}", "a node defined in the network")
    relation = tokens[6].upper()
    if relation not in ("ABOVE", "BELOW"):
        raise BadValue("condition", f"{tokens[6]!r}", "ABOVE or BELOW")
    value = to_float(tokens[7], "value")
    value *= units.pressure if node_id in net.junctions else units.length
    return Control(link_id, status, setting, relation.lower(), node_id, value, enabled)  # type: ignore[arg-type]


def _hours_token(seconds: float) -> str:
    """Decimal hours that EPANET turns back into exactly `seconds` (it truncates 3600*h to whole seconds)."""
    whole = int(round(seconds))
    hours = whole / 3600.0
    while int(3600.0 * hours) < whole:
        hours = math.nextafter(hours, math.inf)
    return repr(hours)


def format_control(net: Network, control: Control, units: FileUnits) -> str:
    if control.setting is not None:
        action = fmt(control.setting / _setting_factor(net, control.link, units))
    else:
        action = control.status or "OPEN"
    head = f"LINK {control.link} {action}"
    tail = "" if control.enabled else " DISABLED"
    if control.condition in ("time", "clocktime"):
        return f"{head} AT {control.condition.upper()} {_hours_token(control.value)}{tail}"
    factor = units.pressure if control.node in net.junctions else units.length
    return f"{head} IF NODE {control.node} {control.condition.upper()} {fmt(control.value / factor)}{tail}"


# ---- rules -----------------------------------------------------------------------------------------------

def _value_factor(net: Network, obj: str, ident: str, attribute: str, units: FileUnits) -> float | None:
    """SI factor for a rule value; None when the value is a time to parse."""
    if attribute in ("TIME", "CLOCKTIME"):
        return None
    if attribute in ("DEMAND", "FLOW"):
        return units.flow
    if attribute in ("HEAD", "GRADE", "LEVEL"):
        return units.length
    if attribute == "PRESSURE":
        return units.pressure
    if attribute in ("FILLTIME", "DRAINTIME"):
        return 3600.0
    if attribute == "SETTING":
        return _setting_factor(net, ident, units)
    return 1.0


def _rule_value(net: Network, obj: str, ident: str, attribute: str, tokens: list[str], units: FileUnits) -> Any:
    if not tokens:
        raise BadValue("value", "missing value", "a number, OPEN/CLOSED/ACTIVE or a time")
    word = tokens[0].upper()
    if attribute == "STATUS":
        if word not in STATUS_WORDS:
            raise BadValue("value", f"{tokens[0]!r}", "OPEN, CLOSED or ACTIVE")
        return word
    factor = _value_factor(net, obj, ident, attribute, units)
    if factor is None:
        return parse_time(tokens, "value")
    return to_float(tokens[0], "value") * factor


def _check_object(net: Network, obj: str, ident: str) -> None:
    if obj in NODE_OBJECTS and not net.has_node(ident):
        raise BadValue("object", f"unknown node {ident!r}", "a node defined in the network")
    if obj in LINK_OBJECTS and not net.has_link(ident):
        raise BadValue("object", f"unknown link {ident!r}", "a link defined in the network")


class RuleParser:
    """Feeds [RULES] lines one at a time; `finish()` returns the rules."""

    def __init__(self, net: Network, units: FileUnits) -> None:
        self.net = net
        self.units = units
        self.rules: list[Rule] = []
        self.part = ""  # "IF", "THEN" or "ELSE": where an AND/OR line belongs

    def line(self, tokens: list[str], raw: str) -> None:
        key = tokens[0].upper()
        if key == "RULE":
            if len(tokens) < 2:
                raise BadValue("rule", "rule without a name", "RULE id")
            self.rules.append(Rule(tokens[1], text=[raw.strip()]))
            self.part = ""
            return
        if not self.rules:
            raise BadValue("rule", f"{tokens[0]!r} before any RULE line", "RULE id first")
        rule = self.rules[-1]
        rule.text.append(raw.strip())
        if key == "PRIORITY":
            rule.priority = to_float(tokens[1] if len(tokens) > 1 else "", "priority")
            return
        if key == "IF" or (key in ("AND", "OR") and self.part == "IF"):
            self.part = "IF"
            rule.premises.append(self._premise(key, tokens))
        elif key == "THEN" or (key == "AND" and self.part == "THEN"):
            self.part = "THEN"
            rule.actions.append(self._action(tokens))
        elif key == "ELSE" or (key == "AND" and self.part == "ELSE"):
            self.part = "ELSE"
            rule.else_actions.append(self._action(tokens))
        else:
            raise BadValue("clause", f"unexpected {tokens[0]!r}", "IF, AND, OR, THEN, ELSE or PRIORITY")

    def _premise(self, logic: str, tokens: list[str]) -> tuple[str, str, str, str, str, Any]:
        if len(tokens) < 4:
            raise BadValue("premise", "incomplete premise", "IF object id attribute relation value")
        obj = tokens[1].upper()
        if obj == "SYSTEM":
            ident, rest = "", tokens[2:]
        elif obj in NODE_OBJECTS or obj in LINK_OBJECTS:
            ident, rest = tokens[2], tokens[3:]
            _check_object(self.net, obj, ident)
        else:
            raise BadValue("object", f"{tokens[1]!r}", "NODE, JUNCTION, RESERVOIR, TANK, LINK, PIPE, PUMP, VALVE "
                           "or SYSTEM")
        if len(rest) < 3:
            raise BadValue("premise", "incomplete premise", "attribute relation value")
        attribute = rest[0].upper()
        relation = rest[1].upper()
        if relation not in RELATIONS:
            raise BadValue("relation", f"{rest[1]!r}", " ".join(RELATIONS))
        value_tokens = rest[2:]
        if relation in ("IS", "NOT") and value_tokens and value_tokens[0].upper() == "NOT":
            relation, value_tokens = "NOT", value_tokens[1:]
        value = _rule_value(self.net, obj, ident, attribute, value_tokens, self.units)
        return (logic, obj, ident, attribute, relation, value)

    def _action(self, tokens: list[str]) -> tuple[str, str, str, Any]:
        if len(tokens) < 6:
            raise BadValue("action", "incomplete action", "THEN LINK id STATUS|SETTING = value")
        obj = tokens[1].upper()
        if obj not in LINK_OBJECTS:
            raise BadValue("object", f"{tokens[1]!r}", "LINK, PIPE, PUMP or VALVE")
        ident = tokens[2]
        _check_object(self.net, obj, ident)
        attribute = tokens[3].upper()
        if attribute not in ("STATUS", "SETTING"):
            raise BadValue("attribute", f"{tokens[3]!r}", "STATUS or SETTING")
        value = _rule_value(self.net, obj, ident, attribute, tokens[5:], self.units)
        return (obj, ident, attribute, value)


def _format_value(net: Network, obj: str, ident: str, attribute: str, value: Any, units: FileUnits) -> str:
    if isinstance(value, str):
        return value
    factor = _value_factor(net, obj, ident, attribute, units)
    if factor is None:
        return _hours_token(float(value))
    return fmt(float(value) / factor)


def format_rule(net: Network, rule: Rule, units: FileUnits) -> list[str]:
    """Lines of one rule: its original text when it has one, else generated from its clauses."""
    if rule.text:
        return list(rule.text)
    lines = [f"RULE {rule.id}"]
    for logic, obj, ident, attribute, relation, value in rule.premises:
        target = obj if obj == "SYSTEM" else f"{obj} {ident}"
        lines.append(f"{logic} {target} {attribute} {relation} "
                     f"{_format_value(net, obj, ident, attribute, value, units)}")
    emit: Callable[[str, list[tuple[str, str, str, Any]]], None]

    def emit(first: str, actions: list[tuple[str, str, str, Any]]) -> None:
        for i, (obj, ident, attribute, value) in enumerate(actions):
            word = first if i == 0 else "AND"
            lines.append(f"{word} {obj} {ident} {attribute} = "
                         f"{_format_value(net, obj, ident, attribute, value, units)}")

    emit("THEN", rule.actions)
    emit("ELSE", rule.else_actions)
    if rule.priority:
        lines.append(f"PRIORITY {fmt(rule.priority)}")
    return lines
