"""Unit systems and conversions (runze.network.units) and the `.inp` number format."""

from __future__ import annotations

import random

import pytest

from runze.network.inp_common import fmt, pressure_factor
from runze.network.units import (
    FLOW_FACTORS,
    FLOW_UNITS,
    US_FLOW_UNITS,
    UnitError,
    convert_flow,
    head_to_mpa,
    mpa_to_head,
    unit_system,
)

# m³/s per unit, from independent definitions (NIST: 1 gal = 231 in³, 1 ft = 0.3048 m; imp gal 4.54609 L;
# acre-foot = 43,560 ft³)
EXPECTED = {
    "CFS": 0.028316846592,
    "GPM": 231 * 0.0254**3 / 60,
    "MGD": 1e6 * 231 * 0.0254**3 / 86400,
    "IMGD": 1e6 * 4.54609e-3 / 86400,
    "AFD": 43560 * 0.3048**3 / 86400,
    "LPS": 1e-3,
    "LPM": 1e-3 / 60,
    "MLD": 1e6 * 1e-3 / 86400,
    "CMH": 1 / 3600,
    "CMD": 1 / 86400,
    "CMS": 1.0,
}


def test_every_epanet_flow_unit_has_its_exact_factor():
    assert set(FLOW_UNITS) == set(EXPECTED)
    for unit, factor in EXPECTED.items():
        assert FLOW_FACTORS[unit] == pytest.approx(factor, rel=1e-14), unit


@pytest.mark.parametrize("unit", list(EXPECTED))
def test_unit_system_follows_the_flow_unit(unit):
    system = unit_system(unit.lower())
    assert system.flow_units == unit and system.flow == FLOW_FACTORS[unit]
    if unit in US_FLOW_UNITS:
        assert system.is_us
        assert (system.length, system.diameter, system.volume) == (0.3048, 0.0254, pytest.approx(0.3048**3))
        assert system.pressure == pytest.approx(0.3048 / 0.4333)  # psi -> m with EPANET's 0.4333 psi/ft
        assert system.power == pytest.approx(0.745699872)
        assert system.dw_roughness == pytest.approx(0.3048e-3)
    else:
        assert not system.is_us
        assert (system.length, system.diameter, system.volume, system.pressure, system.power) == (1, 1e-3, 1, 1, 1)
        assert system.dw_roughness == 1e-3
    # emitter coefficient: flow per pressure**exponent
    assert system.emitter(0.5) == pytest.approx(system.flow / system.pressure**0.5)


def test_convert_flow_round_trips_between_all_units():
    for a in FLOW_UNITS:
        for b in FLOW_UNITS:
            assert convert_flow(convert_flow(123.456, a, b), b, a) == pytest.approx(123.456, rel=1e-14)
    assert convert_flow(1.0, "CMS", "LPS") == pytest.approx(1000.0)
    assert convert_flow(3600.0, "CMH", "CMS") == pytest.approx(1.0)


def test_unknown_units_are_refused():
    with pytest.raises(UnitError):
        unit_system("GALLONS")
    with pytest.raises(UnitError):
        convert_flow(1.0, "LPS", "XYZ")


def test_mpa_and_head():
    assert head_to_mpa(102.0) == pytest.approx(1.0003, abs=1e-3)
    assert mpa_to_head(0.14) == pytest.approx(14.28, abs=0.01)
    assert mpa_to_head(head_to_mpa(37.5)) == pytest.approx(37.5)


def test_pressure_factor_follows_the_pressure_option():
    assert pressure_factor("GPM", None, 1.0) == pytest.approx(0.3048 / 0.4333)  # default psi for US units
    assert pressure_factor("LPS", None, 1.0) == 1.0  # default metres for metric units
    assert pressure_factor("GPM", "METERS", 1.0) == 1.0  # EPANET 2.3: the option wins over the flow unit
    assert pressure_factor("LPS", "PSI", 1.0) == pytest.approx(0.3048 / 0.4333)
    assert pressure_factor("LPS", "METERS", 2.0) == 0.5
    assert pressure_factor("CMH", "KPA", 1.0) == pytest.approx(0.3048 / (6.895 * 0.4333))
    assert pressure_factor("CMH", "BAR", 1.0) == pytest.approx(10.2024, rel=1e-5)
    assert pressure_factor("GPM", "FEET", 1.0) == 0.3048


def test_number_format_reads_back_exactly():
    rnd = random.Random(5)
    values = [0.1, 1 / 3, 2.5e-7, 123456789.125, -4.2, 1e20, 3.0]
    values += [rnd.uniform(-1e6, 1e6) for _ in range(500)] + [rnd.lognormvariate(0, 10) for _ in range(500)]
    for value in values:
        text = fmt(value)
        assert abs(float(text) - value) <= 2 * abs(value) * 2.3e-16, (value, text)
    assert fmt(0.1 * 0.3048 / 0.3048) == "0.1" and fmt(3.0) == "3" and fmt(-0.0) == "0"
