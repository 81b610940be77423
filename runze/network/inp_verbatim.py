"""Light checks of the sections Runze keeps as text (ENERGY globals, REACTIONS, SOURCES, MIXING, REPORT).

Runze does not interpret them, but it writes them back; a line EPANET would reject must be reported when the
file is read (with line and field), not discovered later when EPANET refuses the file Runze wrote.  The checks
follow EPANET 2.3's input rules: keywords, numbers where numbers go, and ids that must exist.
"""

from __future__ import annotations

from runze.network.inp_common import BadValue, to_float
from runze.network.model import Network

SOURCE_TYPES = ("CONCEN", "MASS", "SETPOINT", "FLOWPACED")
MIX_MODELS = ("MIXED", "2COMP", "FIFO", "LIFO")
REACTION_WORDS = ("ORDER", "GLOBAL", "BULK", "WALL", "TANK", "LIMITING", "ROUGHNESS")


def _number(token: str, field: str) -> float:
    return to_float(token, field)


def check_energy(net: Network, tokens: list[str]) -> None:
    """GLOBAL PRICE|PATTERN|EFFIC value, DEMAND CHARGE value (PUMP lines are read into the pumps)."""
    key = tokens[0].upper()
    if len(tokens) < 3:
        raise BadValue("line", "incomplete [ENERGY] line", "GLOBAL PRICE|PATTERN|EFFIC value or DEMAND CHARGE value")
    if key.startswith("DEMAND"):
        if _number(tokens[2], "DEMAND CHARGE") < 0:
            raise BadValue("DEMAND CHARGE", f"negative value {tokens[2]}", "a number >= 0")
        return
    if not key.startswith("GLOBAL"):
        raise BadValue("keyword", f"{tokens[0]!r}", "GLOBAL, PUMP or DEMAND")
    what = tokens[-2].upper()
    if what.startswith("PATT"):
        if tokens[-1] not in net.patterns:
            raise BadValue("PATTERN", f"unknown pattern {tokens[-1]!r}", "a pattern defined in [PATTERNS]")
    elif what.startswith("PRICE") or what.startswith("EFFIC"):
        value = _number(tokens[-1], tokens[-2])
        if value < 0 or (what.startswith("EFFIC") and value == 0):
            raise BadValue(tokens[-2], f"{tokens[-1]} out of range", "a positive number")
    else:
        raise BadValue("keyword", f"{tokens[-2]!r}", "PRICE, PATTERN or EFFIC")


def check_reactions(net: Network, tokens: list[str]) -> None:
    if len(tokens) < 3:
        return  # EPANET skips short lines here
    key = tokens[0].upper()
    if not key.startswith(REACTION_WORDS):
        raise BadValue("keyword", f"{tokens[0]!r}", " ".join(REACTION_WORDS))
    value = _number(tokens[-1], "Coefficient")
    if key.startswith("ORDER"):
        sub = tokens[1].upper()
        if not sub.startswith(("BULK", "TANK", "WALL")):
            raise BadValue("Order", f"{tokens[1]!r}", "BULK, TANK or WALL")
        if sub.startswith("WALL") and value not in (0.0, 1.0):
            raise BadValue("Order", f"wall order {tokens[-1]}", "0 or 1")
    elif key.startswith("GLOBAL") and not tokens[1].upper().startswith(("BULK", "WALL")):
        raise BadValue("Global", f"{tokens[1]!r}", "BULK or WALL")


def check_sources(net: Network, tokens: list[str]) -> None:
    if len(tokens) < 2:
        raise BadValue("line", "incomplete [SOURCES] line", "Node Type Quality [Pattern]")
    if not net.has_node(tokens[0]):
        raise BadValue("Node", f"unknown node {tokens[0]!r}", "a node of the network")
    i = 2 if tokens[1].upper() in SOURCE_TYPES else 1
    if i >= len(tokens):
        raise BadValue("Quality", "missing source strength", "a number")
    _number(tokens[i], "Quality")
    if len(tokens) > i + 1 and tokens[i + 1] != "*" and tokens[i + 1] not in net.patterns:
        raise BadValue("Pattern", f"unknown pattern {tokens[i + 1]!r}", "a pattern defined in [PATTERNS]")


def check_mixing(net: Network, tokens: list[str]) -> None:
    if len(tokens) < 2:
        return
    if not net.has_node(tokens[0]):
        raise BadValue("Tank", f"unknown node {tokens[0]!r}", "a tank of the network")
    if tokens[1].upper() not in MIX_MODELS:
        raise BadValue("Model", f"{tokens[1]!r}", " ".join(MIX_MODELS))
    if len(tokens) > 2:
        _number(tokens[2], "Fraction")


REPORT_WORDS = ("PAGE", "STATUS", "SUMMARY", "MESSAGES", "ENERGY", "NODE", "LINK", "FILE", "ELEVATION", "DEMAND",
                "HEAD", "PRESSURE", "QUALITY", "LENGTH", "DIAMETER", "FLOW", "VELOCITY", "POSITION", "SETTING",
                "REACTION", "F-FACTOR")


def check_report(net: Network, tokens: list[str]) -> None:
    key = tokens[0].upper()
    if not key.startswith(REPORT_WORDS):
        raise BadValue("keyword", f"{tokens[0]!r}", "a [REPORT] keyword: " + " ".join(REPORT_WORDS))
    if key.startswith("PAGE") and len(tokens) > 1:
        value = _number(tokens[-1], "PAGESIZE")
        if not 0 <= value <= 255:
            raise BadValue("PAGESIZE", f"{tokens[-1]} out of range", "0 to 255")
    elif key.startswith("NODE") and len(tokens) > 1 and tokens[-1].upper() not in ("NONE", "ALL"):
        for node_id in tokens[1:]:
            if not net.has_node(node_id):
                raise BadValue("NODES", f"unknown node {node_id!r}", "nodes of the network, NONE or ALL")
    elif key.startswith("LINK") and len(tokens) > 1 and tokens[-1].upper() not in ("NONE", "ALL"):
        for link_id in tokens[1:]:
            if not net.has_link(link_id):
                raise BadValue("LINKS", f"unknown link {link_id!r}", "links of the network, NONE or ALL")


CHECKS = {"REACTIONS": check_reactions, "SOURCES": check_sources, "MIXING": check_mixing, "REPORT": check_report}
