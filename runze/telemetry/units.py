"""Units of telemetry readings and their conversion to Runze's canonical telemetry units.

Every reading is stored and compared in one canonical unit per kind, the unit the utility's screens use:

========== ========= ==============================================================
kind       canonical  accepted (case-insensitive, ``³``/``3`` and spaces ignored)
========== ========= ==============================================================
pressure   MPa        MPa, kPa, Pa, bar, m / mH2O / m head, psi
flow       m3/h       m³/h, L/s, L/h, m³/s, m³/d, L/min
level      m          m, cm, mm
turbidity  NTU        NTU (FNU is numerically equal for our purposes)
========== ========= ==============================================================

Pressure in metres is *head* of water at 1000 kg/m³ and g = 9.80665 m/s², the same factor as
``runze.network.units.MPA_PER_M`` (1 MPa ≈ 102 m).  The hydraulic model works in SI (m head, m³/s): use
``convert(x, "MPa", "m", kind="pressure")`` and ``convert(x, "m3/h", "m3/s", kind="flow")`` to cross over.

``m`` is both a level and a pressure head, so every conversion takes the reading's *kind*; a unit of another
kind (``NTU`` for a pressure) raises :class:`TelemetryUnitError`, as does an unknown unit.
"""

from __future__ import annotations

from runze.i18n import t
from runze.network.units import MPA_PER_M

PSI_PA = 6894.757293168  # 1 lbf/in², exact from the pound and the inch

# kind -> {normalised unit name -> factor to the canonical unit}
FACTORS: dict[str, dict[str, float]] = {
    "pressure": {
        "mpa": 1.0,
        "kpa": 1.0e-3,
        "pa": 1.0e-6,
        "bar": 0.1,
        "m": MPA_PER_M,
        "mh2o": MPA_PER_M,
        "mhead": MPA_PER_M,
        "mwc": MPA_PER_M,
        "psi": PSI_PA * 1.0e-6,
    },
    "flow": {
        "m3/h": 1.0,
        "cmh": 1.0,
        "l/s": 3.6,
        "lps": 3.6,
        "l/h": 1.0e-3,
        "l/min": 0.06,
        "lpm": 0.06,
        "m3/s": 3600.0,
        "cms": 3600.0,
        "m3/d": 1.0 / 24.0,
        "cmd": 1.0 / 24.0,
        "t/h": 1.0,  # 1 t of water = 1 m³, as the utility counts
    },
    "level": {"m": 1.0, "cm": 0.01, "mm": 1.0e-3},
    "turbidity": {"ntu": 1.0, "fnu": 1.0},
}
CANONICAL: dict[str, str] = {"pressure": "MPa", "flow": "m3/h", "level": "m", "turbidity": "NTU"}
KINDS = tuple(CANONICAL)
KIND_NAMES_ZH = {"pressure": "压力", "flow": "流量", "level": "水位", "turbidity": "浊度"}

# a unit that belongs to exactly one kind tells the kind by itself ("m" does not: level or pressure head)
_UNIT_KINDS: dict[str, set[str]] = {}
for _kind, _table in FACTORS.items():
    for _unit in _table:
        _UNIT_KINDS.setdefault(_unit, set()).add(_kind)


class TelemetryUnitError(ValueError):
    """An unknown unit, or a unit of the wrong kind for the reading."""

    def __init__(self, key: str, **kw: object) -> None:
        self.key = key
        self.params = kw
        zh_kw = {k: KIND_NAMES_ZH.get(v, v) if k in ("kind", "unit_kind") else v for k, v in kw.items()}
        self.message_zh = t(key, "zh", **zh_kw)
        super().__init__(t(key, "en", **kw))


def normalise_unit(unit: str) -> str:
    """Lower-case unit name without spaces, with ``³`` as ``3`` and ``·``/``per`` tolerated."""
    u = str(unit).strip().lower().replace("³", "3").replace(" ", "").replace("_", "")
    u = u.replace("·", "").replace("per", "/").replace("m^3", "m3")
    return u


def _check_kind(kind: str) -> str:
    k = str(kind).strip().lower()
    if k not in FACTORS:
        raise ValueError(f"unknown reading kind {kind!r}; expected one of {', '.join(KINDS)}")
    return k


def kind_of_unit(unit: str) -> str | None:
    """The kind a unit belongs to, or None when it is unknown or ambiguous (``m``)."""
    kinds = _UNIT_KINDS.get(normalise_unit(unit), set())
    return next(iter(kinds)) if len(kinds) == 1 else None


def factor(unit: str, kind: str) -> float:
    """Multiplier from ``unit`` to the canonical unit of ``kind``; raises TelemetryUnitError."""
    k = _check_kind(kind)
    u = normalise_unit(unit)
    table = FACTORS[k]
    if u in table:
        return table[u]
    other = sorted(_UNIT_KINDS.get(u, ()))
    if other:
        raise TelemetryUnitError("telemetry.wrong_kind_unit", unit=unit, unit_kind=other[0], kind=k)
    raise TelemetryUnitError("telemetry.unknown_unit", unit=unit, kind=k, known=", ".join(table))


def to_canonical(values, unit: str, kind: str):
    """``values`` (a number, numpy array or pandas Series) in ``unit`` converted to the canonical unit of ``kind``."""
    return values * factor(unit, kind)


def from_canonical(values, unit: str, kind: str):
    """Inverse of :func:`to_canonical`."""
    return values / factor(unit, kind)


def convert(values, from_unit: str, to_unit: str, kind: str):
    """``values`` from one unit of ``kind`` to another (e.g. head in m to MPa)."""
    return values * (factor(from_unit, kind) / factor(to_unit, kind))


def canonical_unit(kind: str) -> str:
    return CANONICAL[_check_kind(kind)]
