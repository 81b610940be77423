"""Pieces shared by the `.inp` reader and writer: section names, text decoding, tokens, times, number format.

EPANET reads times as decimal hours (``1.5``), ``h:mm[:ss]`` (``1:30``), a number and a unit (``90 MIN``,
``2 DAYS``) or, for clock times, a number with AM/PM (``12 am``, ``5 PM``, ``12:30 PM``).  All become seconds
here.  Pressure-valued inputs follow EPANET 2.3: they are in the [OPTIONS] Pressure unit (PSI, KPA, METERS,
BAR, FEET; default psi for US flow units, metres for metric ones) whatever the flow unit, divided by the
specific gravity, so a file that states them reads as EPANET reads it (checked against EPANET in the tests).
"""

from __future__ import annotations

import math

from runze.network.units import UnitSystem, pressure_factor, unit_system

# Every section EPANET 2.3 reads, in the order the writer emits them.
SECTIONS = (
    "TITLE", "JUNCTIONS", "RESERVOIRS", "TANKS", "PIPES", "PUMPS", "VALVES", "TAGS", "DEMANDS", "STATUS",
    "PATTERNS", "CURVES", "CONTROLS", "RULES", "ENERGY", "EMITTERS", "QUALITY", "SOURCES", "REACTIONS",
    "MIXING", "TIMES", "REPORT", "OPTIONS", "COORDINATES", "VERTICES", "LABELS", "BACKDROP", "LEAKAGE",
    "ROUGHNESS", "END",
)
SECTION_SET = frozenset(SECTIONS)
# Sections Runze keeps as text and writes back unchanged.
VERBATIM_SECTIONS = ("SOURCES", "REACTIONS", "MIXING", "REPORT", "LABELS", "BACKDROP", "ROUGHNESS")

# EPANET's own constants (exact: 6.894757 kPa and 0.0689476 bar per psi), so inputs read as EPANET reads them
PRESSURE_UNITS = ("PSI", "KPA", "METERS", "BAR", "FEET")
TIME_UNITS = {"SEC": 1.0, "MIN": 60.0, "HOU": 3600.0, "DAY": 86400.0}


class BadValue(ValueError):
    """One field that cannot be read; the reader adds file, line and section."""

    def __init__(self, field: str, message: str, expected: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.expected = expected


def decode_bytes(data: bytes) -> str:
    """Text of a file in UTF-8 (with or without BOM), else GB18030 (a superset of GBK), else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def split_tokens(text: str) -> list[str]:
    """Split a data line (comment already removed) into tokens; double quotes group a token with spaces."""
    if '"' not in text:
        return text.split()
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = text.find('"', i + 1)
            if j < 0:  # EPANET rejects a lone quote too
                raise BadValue("line", "unmatched double quote", 'a quoted id closed with "')
            tokens.append(text[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] != '"':
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def to_float(token: str, field: str, expected: str = "a number") -> float:
    try:
        value = float(token)
    except ValueError:
        raise BadValue(field, f"{token!r} is not a number", expected) from None
    if value - value != 0.0:  # NaN or infinite: nan - nan and inf - inf are NaN
        raise BadValue(field, f"{token!r} is not a finite number", expected)
    return value


def parse_time(tokens: list[str], field: str = "time", clock: bool = False) -> float:
    """Seconds from EPANET time tokens: ``['1:30']``, ``['1.5']``, ``['90', 'MIN']``, ``['5', 'PM']``."""
    if not tokens:
        raise BadValue(field, "missing time value", "hours, h:mm[:ss], or a number and a unit")
    text = tokens[0]
    unit = tokens[1].upper() if len(tokens) > 1 else ""
    expected = "hours, h:mm[:ss], a number with SEC/MIN/HOURS/DAYS, or a clock time with AM/PM"
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or any(p == "" for p in parts):
            raise BadValue(field, f"{text!r} is not a time", expected)
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise BadValue(field, f"{text!r} is not a time", expected) from None
        hours = nums[0] + nums[1] / 60.0 + (nums[2] / 3600.0 if len(nums) == 3 else 0.0)
        unit_factor = None
    else:
        try:
            hours = float(text)
        except ValueError:
            raise BadValue(field, f"{text!r} is not a time", expected) from None
        unit_factor = None
        if unit and unit not in ("AM", "PM"):
            unit_factor = TIME_UNITS.get(unit[:3])
            if unit_factor is None:
                raise BadValue(field, f"unknown time unit {tokens[1]!r}", expected)
    if hours < 0 or not math.isfinite(hours):
        raise BadValue(field, f"{text!r} is not a usable time", expected)
    if unit in ("AM", "PM"):
        if hours >= 13.0:
            raise BadValue(field, f"{text} {tokens[1]} is not a clock time", "1-12 with AM/PM")
        if hours >= 12.0:
            hours -= 12.0
        if unit == "PM":
            hours += 12.0
        return float(round(hours * 3600.0))
    if unit_factor is not None:
        return float(round(hours * unit_factor))
    return float(round(hours * 3600.0))


def format_time(seconds: float) -> str:
    """``h:mm:ss`` for a number of seconds (EPANET reads it back exactly)."""
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def fmt(value: float) -> str:
    """A float at full precision: 15 significant digits when that reads back within an ulp (so 0.1 read,
    converted to SI and back, is written as 0.1 again), else the shortest exact text."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    short = f"{value:.15g}"
    back = float(short)
    if back == value or abs(back - value) <= 2.0 * math.ulp(value):
        return short
    return repr(value)


class FileUnits:
    """The factors (file value × factor = SI) of one file, including the pressure factor EPANET applies."""

    __slots__ = ("system", "flow", "length", "diameter", "volume", "power", "pressure", "roughness", "is_us")

    def __init__(self, flow_units: str, pressure_units: str | None, specific_gravity: float, headloss: str):
        system: UnitSystem = unit_system(flow_units)
        self.system = system
        self.flow = system.flow
        self.length = system.length
        self.diameter = system.diameter
        self.volume = system.volume
        self.power = system.power
        self.pressure = pressure_factor(flow_units, pressure_units, specific_gravity)
        self.roughness = system.dw_roughness if headloss == "D-W" else 1.0
        self.is_us = system.is_us

    def emitter(self, exponent: float) -> float:
        return self.flow / self.pressure**exponent
