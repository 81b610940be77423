"""[OPTIONS] and [TIMES] of an `.inp` file, read as EPANET 2.3 reads them.

Options are stored in file units here; `inp_reader` converts the unit-bearing ones (pressures, head error,
flow change) once the flow unit is known.  Options Runze does not interpret (DIFFUSIVITY, TOLERANCE, MAP,
HYDRAULICS ...) are kept in `Options.extra` and written back.
"""

from __future__ import annotations

from collections.abc import Callable

from runze.network.inp_common import PRESSURE_UNITS, BadValue, parse_time, split_tokens, to_float
from runze.network.model import HEADLOSS_FORMULAS, Options, TimeOptions
from runze.network.units import FLOW_UNITS

EXTRA_NUMERIC = ("DIFFUSIVITY", "TOLERANCE", "HTOL", "QTOL", "RQTOL", "SEGMENTS")
EXTRA_TEXT = ("MAP", "VERIFY", "HYDRAULICS")
STATISTICS = ("NONE", "NO", "AV", "MIN", "MAX", "RANGE")  # EPANET matches keyword prefixes


def _comment_split(raw: str) -> list[str]:
    semi = raw.find(";")
    return split_tokens(raw if semi < 0 else raw[:semi])


def _need(tokens: list[str], count: int, expected: str) -> None:
    if len(tokens) < count:
        raise BadValue("line", f"{len(tokens)} field(s), at least {count} needed", expected)


def _nonneg(token: str, field: str) -> float:
    value = to_float(token, field)
    if value < 0:
        raise BadValue(field, f"negative value {token}", "a number >= 0")
    return value


def _count(tokens: list[str], field: str) -> int:
    """A whole number >= 1 (EPANET truncates the value to an int; 0 trials would be meaningless)."""
    value = to_float(tokens[1] if len(tokens) > 1 else "", field)
    if value < 1:
        raise BadValue(field, f"{tokens[1]} is less than 1", "a whole number >= 1")
    return int(value)


def _positive(token: str, field: str) -> float:
    value = to_float(token, field)
    if value <= 0:
        raise BadValue(field, f"{token} is not positive", "a number > 0")
    return value


# ---- options and times -----------------------------------------------------------------------------
def read_options(opts: Options, lines: list[tuple[int, str]], report: Callable[..., None]) -> None:
    """Fill `opts` from [OPTIONS] lines, in file units (the reader converts pressures etc. afterwards)."""
    pmin_set = preq_set = False
    for lineno, raw in lines:
        try:
            tokens = _comment_split(raw)
            if not tokens:
                continue
            key = tokens[0].upper()
            sub = tokens[1].upper() if len(tokens) > 1 else ""
            if key == "UNITS":
                if sub not in FLOW_UNITS:
                    raise BadValue("Units", f"unknown flow unit {tokens[1] if len(tokens) > 1 else ''!r}",
                                   " ".join(FLOW_UNITS))
                opts.flow_units = sub
            elif key == "PRESSURE" and sub not in ("EXPONENT", ""):
                if sub not in PRESSURE_UNITS:
                    raise BadValue("Pressure", f"unknown pressure unit {tokens[1]!r}", " ".join(PRESSURE_UNITS))
                opts.pressure_units = sub
            elif key == "PRESSURE":
                _need(tokens, 3, "PRESSURE EXPONENT value")
                opts.pressure_exponent = _nonneg(tokens[2], "Pressure Exponent")
            elif key == "HEADLOSS":
                if sub not in HEADLOSS_FORMULAS:
                    raise BadValue("Headloss", f"unknown formula {sub!r}", "H-W, D-W or C-M")
                opts.headloss = sub
            elif key == "DEMAND" and sub == "MODEL":
                _need(tokens, 3, "DEMAND MODEL DDA|PDA")
                model = tokens[2].upper()
                if model not in ("DDA", "PDA"):
                    raise BadValue("Demand Model", f"unknown model {tokens[2]!r}", "DDA or PDA")
                opts.demand_model = model  # type: ignore[assignment]
            elif key == "DEMAND":
                _need(tokens, 3, "DEMAND MULTIPLIER value")
                opts.demand_multiplier = _positive(tokens[2], "Demand Multiplier")
            elif key == "MINIMUM":
                _need(tokens, 3, "MINIMUM PRESSURE value")
                opts.minimum_pressure = _nonneg(tokens[2], "Minimum Pressure")
                pmin_set = True
            elif key == "REQUIRED":
                _need(tokens, 3, "REQUIRED PRESSURE value")
                opts.required_pressure = _nonneg(tokens[2], "Required Pressure")
                preq_set = True
            elif key == "EMITTER":
                _need(tokens, 3, "EMITTER EXPONENT value")
                opts.emitter_exponent = _positive(tokens[2], "Emitter Exponent")
            elif key == "BACKFLOW":
                _need(tokens, 3, "BACKFLOW ALLOWED YES|NO")
                opts.emitter_backflow = tokens[2].upper() != "NO"
            elif key == "SPECIFIC":
                _need(tokens, 3, "SPECIFIC GRAVITY value")
                opts.specific_gravity = _positive(tokens[2], "Specific Gravity")
            elif key == "VISCOSITY":
                opts.viscosity = _positive(tokens[1] if len(tokens) > 1 else "", "Viscosity")
            elif key == "TRIALS":
                opts.trials = _count(tokens, "Trials")
            elif key == "ACCURACY":
                opts.accuracy = _positive(tokens[1] if len(tokens) > 1 else "", "Accuracy")
            elif key == "HEADERROR":
                opts.head_error = _nonneg(tokens[1] if len(tokens) > 1 else "", "HeadError")
            elif key == "FLOWCHANGE":
                opts.flow_change = _nonneg(tokens[1] if len(tokens) > 1 else "", "FlowChange")
            elif key == "CHECKFREQ":
                opts.check_freq = _count(tokens, "CheckFreq")
            elif key == "MAXCHECK":
                opts.max_check = _count(tokens, "MaxCheck")
            elif key == "DAMPLIMIT":
                opts.damp_limit = to_float(tokens[1] if len(tokens) > 1 else "", "DampLimit")
            elif key == "UNBALANCED":
                if sub.startswith("STOP"):
                    opts.unbalanced, opts.unbalanced_extra = "STOP", 0
                elif sub.startswith("CONT"):
                    opts.unbalanced = "CONTINUE"
                    opts.unbalanced_extra = int(to_float(tokens[2], "Unbalanced")) if len(tokens) > 2 else 0
                else:
                    raise BadValue("Unbalanced", f"{sub!r}", "STOP or CONTINUE [n]")
            elif key == "PATTERN":
                if len(tokens) > 1:
                    opts.default_pattern = tokens[1]
            elif key == "QUALITY":
                opts.quality = " ".join(tokens[1:]) or "NONE"
            elif key in EXTRA_NUMERIC:  # water-quality and solver-tuning options, kept as written
                if len(tokens) > 1:
                    _nonneg(tokens[1], tokens[0])
                opts.extra[tokens[0]] = " ".join(tokens[1:])
            elif key in EXTRA_TEXT:
                opts.extra[tokens[0]] = " ".join(tokens[1:])
            else:
                raise BadValue("option", f"unknown option {tokens[0]!r}", "an EPANET 2.3 option keyword")
        except BadValue as exc:
            report(lineno, "OPTIONS", exc, raw)
    # EPANET: required pressure defaults to minimum + 0.1 and must exceed it by 0.1
    if pmin_set and not preq_set:
        opts.required_pressure = opts.minimum_pressure + 0.1

def read_time(t: TimeOptions, tokens: list[str]) -> None:
    """One [TIMES] line into `t` (seconds)."""
    key = tokens[0].upper()
    if key.startswith("STAT"):
        _need(tokens, 2, "STATISTIC NONE|AVERAGE|MINIMUM|MAXIMUM|RANGE")
        stat = tokens[-1].upper()
        if not stat.startswith(STATISTICS):
            raise BadValue("Statistic", f"{tokens[-1]!r}", "NONE, AVERAGED, MINIMUM, MAXIMUM or RANGE")
        t.statistic = stat
        return
    two = key in ("HYDRAULIC", "HYDRAULICS", "QUALITY", "RULE", "PATTERN", "REPORT", "START", "MINIMUM")
    _need(tokens, 3 if two else 2, "keyword and a time")
    sub = tokens[1].upper() if two else ""
    seconds = parse_time(tokens[2:] if two else tokens[1:], " ".join(tokens[: 2 if two else 1]))
    if key == "DURATION":
        t.duration = seconds
    elif key.startswith("HYDRAULIC"):
        t.hydraulic_step = seconds
    elif key == "QUALITY":
        t.quality_step = seconds
    elif key == "RULE":
        t.rule_step = seconds
    elif key == "PATTERN" and sub.startswith("TIME"):
        t.pattern_step = seconds
    elif key == "PATTERN" and sub == "START":
        t.pattern_start = seconds
    elif key == "REPORT" and sub.startswith("TIME"):
        t.report_step = seconds
    elif key == "REPORT" and sub == "START":
        t.report_start = seconds
    elif key == "START":
        t.start_clocktime = seconds % 86400.0
    elif key == "MINIMUM":
        pass  # MINIMUM TRAVELTIME: obsolete, EPANET ignores it
    else:
        raise BadValue("keyword", f"unknown time option {' '.join(tokens[:2])!r}",
                       "DURATION, HYDRAULIC TIMESTEP, QUALITY TIMESTEP, RULE TIMESTEP, PATTERN TIMESTEP, "
                       "PATTERN START, REPORT TIMESTEP, REPORT START, START CLOCKTIME, STATISTIC")

