"""Unit systems of EPANET files and their conversion to Runze's internal SI units.

Inside Runze every quantity is SI: metres, m³/s, seconds, m³, kW.  A `.inp` file states its flow unit in
[OPTIONS] Units; that flow unit also decides the unit system of every other quantity (US customary for CFS,
GPM, MGD, IMGD and AFD; metric for the others), exactly as EPANET does.

Each factor below converts *file units to SI* (multiply when reading, divide when writing).  The flow factors
are exact definitions (1 US gallon = 3.785411784 L, 1 imperial gallon = 4.54609 L, 1 acre-foot =
1233.48183754752 m³), so values survive a read-write round trip to the last bit or so.
"""

from __future__ import annotations

from dataclasses import dataclass

FT = 0.3048  # m
INCH = 0.0254  # m
US_GAL = 3.785411784e-3  # m³
IMP_GAL = 4.54609e-3  # m³
ACRE_FT = 1233.48183754752  # m³
PSI_PER_FT = 0.4333  # psi per ft of water at SG 1, as EPANET uses (PSIperFT)
HP = 0.745699872  # kW
KPA_PER_PSI = 6.895  # EPANET's rounded constants, so inputs read exactly as EPANET reads them
BAR_PER_PSI = 0.068948
DAY = 86400.0
MINUTE = 60.0
HOUR = 3600.0

# flow unit -> m³/s per file unit
FLOW_FACTORS: dict[str, float] = {
    "CFS": FT**3,
    "GPM": US_GAL / MINUTE,
    "MGD": 1.0e6 * US_GAL / DAY,
    "IMGD": 1.0e6 * IMP_GAL / DAY,
    "AFD": ACRE_FT / DAY,
    "LPS": 1.0e-3,
    "LPM": 1.0e-3 / MINUTE,
    "MLD": 1.0e3 / DAY,
    "CMH": 1.0 / HOUR,
    "CMD": 1.0 / DAY,
    "CMS": 1.0,
}
US_FLOW_UNITS = frozenset({"CFS", "GPM", "MGD", "IMGD", "AFD"})
FLOW_UNITS = tuple(FLOW_FACTORS)


class UnitError(ValueError):
    """An unknown or inconsistent unit."""


@dataclass(frozen=True, slots=True)
class UnitSystem:
    """Factors from one EPANET file's units to SI.

    Attributes are multipliers: ``si_value = file_value * factor``.
    """

    flow_units: str
    flow: float  # flow -> m³/s
    length: float  # elevation, head, pipe length, tank level -> m
    diameter: float  # pipe/tank... pipe and valve diameter -> m (in or mm)
    tank_diameter: float  # tank diameter -> m (ft or m)
    volume: float  # -> m³
    pressure: float  # pressure-valued inputs in file units -> m of head (see pressure_factor)
    power: float  # pump power -> kW (hp or kW)
    dw_roughness: float  # Darcy-Weisbach roughness -> m (millifeet or mm)

    @property
    def is_us(self) -> bool:
        return self.flow_units in US_FLOW_UNITS

    def emitter(self, exponent: float) -> float:
        """Factor for an emitter coefficient (flow / pressure**exponent) to m³/s / m**exponent."""
        return self.flow / self.pressure**exponent


def unit_system(flow_units: str, pressure_units: str | None = None, specific_gravity: float = 1.0) -> UnitSystem:
    """The unit system EPANET uses for a file whose flow unit is ``flow_units``.

    ``pressure_units`` (EPANET's [OPTIONS] Pressure: PSI, KPA, METERS, BAR, FEET) and ``specific_gravity``
    set the factor of pressure-valued inputs (valve settings, control pressures, emitter coefficients, PDA
    pressures): EPANET 2.3 reads those in the Pressure unit whatever the flow unit (see `pressure_factor`).
    """
    fu = flow_units.upper()
    if fu not in FLOW_FACTORS:
        raise UnitError(f"unknown flow unit {flow_units!r}; expected one of {', '.join(FLOW_UNITS)}")
    if fu in US_FLOW_UNITS:
        return UnitSystem(
            flow_units=fu,
            flow=FLOW_FACTORS[fu],
            length=FT,
            diameter=INCH,
            tank_diameter=FT,
            volume=FT**3,
            pressure=pressure_factor(fu, pressure_units, specific_gravity),
            power=HP,
            dw_roughness=1.0e-3 * FT,
        )
    return UnitSystem(
        flow_units=fu,
        flow=FLOW_FACTORS[fu],
        length=1.0,
        diameter=1.0e-3,
        tank_diameter=1.0,
        volume=1.0,
        pressure=pressure_factor(fu, pressure_units, specific_gravity),
        power=1.0,
        dw_roughness=1.0e-3,
    )


def pressure_factor(flow_units: str, pressure_units: str | None, specific_gravity: float) -> float:
    """Metres of water head per file pressure unit, as EPANET 2.3 reads pressure-valued inputs.

    EPANET 2.3 reads them in the [OPTIONS] Pressure unit whatever the flow unit (PSI by default for US flow
    units, METERS for metric ones), with its own constants, divided by the specific gravity.
    """
    sg = specific_gravity if specific_gravity > 0 else 1.0
    unit = (pressure_units or ("PSI" if flow_units.upper() in US_FLOW_UNITS else "METERS")).upper()
    if unit == "PSI":
        return FT / (PSI_PER_FT * sg)
    if unit == "KPA":
        return FT / (KPA_PER_PSI * PSI_PER_FT * sg)
    if unit == "BAR":
        return FT / (BAR_PER_PSI * PSI_PER_FT * sg)
    if unit == "FEET":
        return FT / sg
    return 1.0 / sg  # METERS


def convert_flow(value: float, from_units: str, to_units: str) -> float:
    """Convert a flow between two EPANET flow units."""
    try:
        return value * FLOW_FACTORS[from_units.upper()] / FLOW_FACTORS[to_units.upper()]
    except KeyError as exc:
        raise UnitError(f"unknown flow unit {exc.args[0]!r}; expected one of {', '.join(FLOW_UNITS)}") from None


MPA_PER_M = 9.80665e-3  # 1 m of water head at 1000 kg/m³ = 9.80665 kPa


def head_to_mpa(head_m: float) -> float:
    """Pressure head in metres of water to MPa (1 MPa ≈ 102 m), as the utility's screens show it."""
    return head_m * MPA_PER_M


def mpa_to_head(mpa: float) -> float:
    return mpa / MPA_PER_M
