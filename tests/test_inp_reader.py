"""The reader's SI values agree with what EPANET 2.3 itself reads; EPANET semantics (demands, status, times).

EPANET converts its own project to SI when asked (`setflowunits(CMS)` plus pressure in metres); the values
Runze read must match element by element.  EPANET's internal unit constants are rounded (e.g. 448.831 gpm
per cfs), so flows agree to ~1e-5 relative, lengths exactly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _inp_epanet import NETWORK_FILES, close_project, open_project, simulate
from epanet import toolkit as en

from runze.network.inp import parse_inp, read_inp, write_inp
from runze.network.inp_common import format_time, parse_time
from runze.network.units import FLOW_FACTORS

GOOD_FILES = [p for p in NETWORK_FILES if not p.name.startswith("bad_")]
FLOW_RTOL = 5e-5  # EPANET's rounded flow constants


def _close(ours: float, theirs: float, rtol: float = 1e-9, atol: float = 1e-9) -> bool:
    return math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol)


@pytest.mark.parametrize("path", GOOD_FILES,
                         ids=lambda p: p.name)
def test_si_values_match_epanet(path):
    net = read_inp(path)
    ph = open_project(path)
    try:
        en.setflowunits(ph, en.CMS)
        en.setoption(ph, en.PRESS_UNITS, en.METERS)
        bad: list[str] = []

        def check(what: str, ours: float, theirs: float, rtol: float = 1e-9, atol: float = 1e-9) -> None:
            if not _close(ours, theirs, rtol, atol):
                bad.append(f"{what}: runze {ours!r} epanet {theirs!r}")

        for i in range(1, en.getcount(ph, en.NODECOUNT) + 1):
            node = net.node(en.getnodeid(ph, i))
            kind = en.getnodetype(ph, i)
            if kind == en.JUNCTION:
                check(f"{node.id} elevation", node.elevation, en.getnodevalue(ph, i, en.ELEVATION))
                assert en.getnumdemands(ph, i) == len(node.demands)
                for k, demand in enumerate(node.demands, 1):
                    check(f"{node.id} demand {k}", demand.base, en.getbasedemand(ph, i, k), FLOW_RTOL, 1e-12)
                    pattern_index = en.getdemandpattern(ph, i, k)
                    expected = en.getpatternid(ph, pattern_index) if pattern_index else None
                    assert demand.pattern == expected, node.id  # 0 in EPANET: the default pattern
                check(f"{node.id} emitter", node.emitter, en.getnodevalue(ph, i, en.EMITTER), FLOW_RTOL, 1e-12)
            elif kind == en.TANK:
                for attr, prop in (("init_level", en.TANKLEVEL), ("min_level", en.MINLEVEL),
                                   ("max_level", en.MAXLEVEL)):
                    check(f"{node.id} {attr}", getattr(node, attr), en.getnodevalue(ph, i, prop))
                if node.volume_curve is None:
                    check(f"{node.id} diameter", node.diameter, en.getnodevalue(ph, i, en.TANKDIAM))
                    if node.min_volume:
                        check(f"{node.id} minvol", node.min_volume, en.getnodevalue(ph, i, en.MINVOLUME))
            else:
                check(f"{node.id} head", node.head, en.getnodevalue(ph, i, en.ELEVATION))
        for i in range(1, en.getcount(ph, en.LINKCOUNT) + 1):
            link = net.link(en.getlinkid(ph, i))
            kind = en.getlinktype(ph, i)
            assert (link.node1, link.node2) == tuple(en.getnodeid(ph, n) for n in en.getlinknodes(ph, i))
            if kind in (en.PIPE, en.CVPIPE):
                assert link.check_valve == (kind == en.CVPIPE)
                check(f"{link.id} length", link.length, en.getlinkvalue(ph, i, en.LENGTH))
                check(f"{link.id} diameter", link.diameter * 1000, en.getlinkvalue(ph, i, en.DIAMETER))
                roughness = link.roughness * (1000 if net.options.headloss == "D-W" else 1)
                check(f"{link.id} roughness", roughness, en.getlinkvalue(ph, i, en.ROUGHNESS))
                check(f"{link.id} minor", link.minor_loss, en.getlinkvalue(ph, i, en.MINORLOSS))
                assert (link.initial_status == "OPEN") == (en.getlinkvalue(ph, i, en.INITSTATUS) == 1), link.id
            elif kind == en.PUMP:
                if link.pump_type == "POWER":  # EPANET keeps a US file's power in hp after setflowunits
                    hp = 0.745699872 if net.options.flow_units in ("CFS", "GPM", "MGD", "IMGD", "AFD") else 1.0
                    check(f"{link.id} power", link.power, en.getlinkvalue(ph, i, en.PUMP_POWER) * hp, 1e-12)
                check(f"{link.id} speed", link.speed, en.getlinkvalue(ph, i, en.INITSETTING))
            else:
                check(f"{link.id} diameter", link.diameter * 1000, en.getlinkvalue(ph, i, en.DIAMETER))
                if link.valve_type not in ("GPV",) and link.initial_status == "ACTIVE":
                    rtol = FLOW_RTOL if link.valve_type == "FCV" else 1e-6  # psi per ft rounded in EPANET
                    check(f"{link.id} setting", link.setting, en.getlinkvalue(ph, i, en.INITSETTING), rtol)
        for c in range(1, en.getcount(ph, en.CURVECOUNT) + 1):
            curve = net.curves[en.getcurveid(ph, c)]
            n_points = en.getcurvelen(ph, c)
            assert n_points == len(curve.points)
            kind = {en.PUMP_CURVE: "PUMP", en.EFFIC_CURVE: "EFFICIENCY", en.VOLUME_CURVE: "VOLUME",
                    en.HLOSS_CURVE: "HEADLOSS"}.get(en.getcurvetype(ph, c))
            if kind is not None:
                assert curve.kind == kind, curve.id
            for k, (x, y) in enumerate(curve.points, 1):
                ex, ey = en.getcurvevalue(ph, c, k)
                check(f"curve {curve.id} x{k}", x, ex, FLOW_RTOL)
                check(f"curve {curve.id} y{k}", y, ey, FLOW_RTOL)
        assert en.getcount(ph, en.CONTROLCOUNT) == len(net.controls)
        for k, control in enumerate(net.controls, 1):
            ctype, link_index, setting, node_index, level = en.getcontrol(ph, k)
            assert en.getlinkid(ph, link_index) == control.link
            if control.condition in ("above", "below"):
                assert en.getnodeid(ph, node_index) == control.node
                check(f"control {k} level", control.value, level, 1e-6)
            else:
                check(f"control {k} time", control.value, level)
            if control.setting is not None:
                check(f"control {k} setting", control.setting, setting, FLOW_RTOL)
        assert en.getcount(ph, en.RULECOUNT) == len(net.rules)
        for k, rule in enumerate(net.rules, 1):
            assert en.getruleID(ph, k) == rule.id
            n_premises, n_then, n_else, priority = en.getrule(ph, k)
            assert (n_premises, n_then, n_else) == (len(rule.premises), len(rule.actions), len(rule.else_actions))
        t = net.options.time
        for value, param in ((t.duration, en.DURATION), (t.hydraulic_step, en.HYDSTEP),
                             (t.pattern_step, en.PATTERNSTEP), (t.pattern_start, en.PATTERNSTART),
                             (t.report_step, en.REPORTSTEP), (t.report_start, en.REPORTSTART),
                             (t.start_clocktime, en.STARTTIME)):
            assert value == en.gettimeparam(ph, param)
        for p in range(1, en.getcount(ph, en.PATCOUNT) + 1):
            pattern = net.patterns[en.getpatternid(ph, p)]
            theirs = [en.getpatternvalue(ph, p, k) for k in range(1, en.getpatternlen(ph, p) + 1)]
            assert pattern.multipliers == theirs
        assert not bad, "\n".join(bad[:20])
    finally:
        close_project(ph)


def test_disabled_controls_stay_disabled(tmp_path):
    text = """[JUNCTIONS]
J1 0 1
[RESERVOIRS]
R1 10
[PIPES]
P1 R1 J1 100 200 100
[CONTROLS]
LINK P1 CLOSED AT TIME 1
LINK P1 OPEN AT TIME 2 DISABLED
[TIMES]
Duration 3
[OPTIONS]
Units LPS
"""
    net = parse_inp(text, "c.inp")
    assert [c.enabled for c in net.controls] == [True, False]
    src, out = tmp_path / "c.inp", tmp_path / "out.inp"
    src.write_text(text)
    write_inp(net, out)
    assert "DISABLED" in out.read_text()
    a, b = simulate(src), simulate(out)
    assert a[3][:, 0].tolist() == b[3][:, 0].tolist()
    assert a[3][-1, 0] == 0.0  # the disabled OPEN never fired: the pipe is still closed at 3 h


def test_times_in_every_epanet_form():
    assert parse_time(["1:30"]) == 5400
    assert parse_time(["1.5"]) == 5400
    assert parse_time(["90", "MIN"]) == 5400
    assert parse_time(["90", "minutes"]) == 5400
    assert parse_time(["2", "DAYS"]) == 172800
    assert parse_time(["30", "SEC"]) == 30
    assert parse_time(["1:00:30"]) == 3630
    assert parse_time(["12", "am"]) == 0
    assert parse_time(["12", "PM"]) == 12 * 3600
    assert parse_time(["5", "PM"]) == 17 * 3600
    assert parse_time(["12:30", "AM"]) == 1800
    assert parse_time(["7:00", "AM"]) == 7 * 3600
    assert format_time(3630) == "1:00:30"
    assert parse_time([format_time(86399)]) == 86399


SMALL = """[TITLE]
small test network
[JUNCTIONS]
J1 10 {demand} P1
J2 12 2.5
J3 11 0
[RESERVOIRS]
R1 60
[TANKS]
T1 40 3 1 8 12 0 * YES
[PIPES]
P1 R1 J1 100 {diam} 120
P2 J1 J2 200 {diam} 120 0.5 Open
P3 J2 J3 150 {diam} 120 0 CV
P4 J3 T1 120 {diam} 120
[VALVES]
V1 J1 J3 {diam} PRV {setting} 0
[DEMANDS]
J2 1.5 P1 ;residential
J2 0.5 ;commercial
[PATTERNS]
P1 1.0 1.2 0.8
[CONTROLS]
LINK V1 CLOSED IF NODE T1 ABOVE 7
LINK V1 OPEN AT TIME 2:30
LINK P2 CLOSED AT CLOCKTIME 5 PM
[TIMES]
Duration 6:00
Hydraulic Timestep 0:30
Pattern Timestep 1:00
Start ClockTime 12 am
[OPTIONS]
Units {units}
{extra}
[END]
"""


def _small(units: str, demand: float = 3.0, diam: float = 200.0, setting: float = 30.0, extra: str = "") -> str:
    return SMALL.format(units=units, demand=demand, diam=diam, setting=setting, extra=extra)


@pytest.mark.parametrize("units", list(FLOW_FACTORS))
def test_every_flow_unit_converts_and_round_trips(units, tmp_path):
    us = units in ("CFS", "GPM", "MGD", "IMGD", "AFD")
    diam = 8.0 if us else 200.0
    text = _small(units, demand=3.0, diam=diam, setting=30.0)
    net = parse_inp(text, "small.inp")
    q = FLOW_FACTORS[units]
    assert net.options.flow_units == units
    assert net.junctions["J1"].demands[0].base == pytest.approx(3.0 * q, rel=1e-15)
    assert net.pipes["P1"].diameter == pytest.approx(diam * (0.0254 if us else 1e-3), rel=1e-15)
    assert net.pipes["P1"].length == pytest.approx(100 * (0.3048 if us else 1.0), rel=1e-15)
    psi = 0.3048 / 0.4333
    assert net.valves["V1"].setting == pytest.approx(30.0 * (psi if us else 1.0), rel=1e-15)
    # EPANET agrees on the SI values and runs the rewritten file identically
    src = tmp_path / "small.inp"
    src.write_text(text)
    ph = open_project(src)
    try:
        en.setflowunits(ph, en.CMS)
        en.setoption(ph, en.PRESS_UNITS, en.METERS)
        j1 = en.getnodeindex(ph, "J1")
        # EPANET rounds its flow constants (AFD: 1.9837 per cfs, exact 1.98347), hence 2e-4
        assert en.getbasedemand(ph, j1, 1) == pytest.approx(3.0 * q, rel=2e-4)
        v1 = en.getlinkindex(ph, "V1")
        assert en.getlinkvalue(ph, v1, en.INITSETTING) == pytest.approx(net.valves["V1"].setting, rel=1e-6)
    finally:
        close_project(ph)
    out = tmp_path / "out.inp"
    write_inp(net, out)
    assert read_inp(out).options.flow_units == units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = simulate(src), simulate(out)
    np.testing.assert_allclose(b[2], a[2], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b[3], a[3], rtol=1e-9, atol=1e-9)


def test_demands_section_replaces_the_junction_demand_and_adds_categories():
    net = parse_inp(_small("LPS"), "small.inp")
    j2 = net.junctions["J2"]
    assert [(d.base, d.pattern, d.category) for d in j2.demands] == [
        (pytest.approx(1.5e-3), "P1", "residential"), (pytest.approx(0.5e-3), None, "commercial")]
    assert net.options.default_pattern is None  # no PATTERN option and no pattern named "1"


def test_controls_are_si_and_typed():
    net = parse_inp(_small("GPM", diam=8.0), "small.inp")
    c_level, c_time, c_clock = net.controls
    assert (c_level.condition, c_level.node, c_level.status) == ("above", "T1", "CLOSED")
    assert c_level.value == pytest.approx(7 * 0.3048)  # tank: a level in length units
    assert (c_time.condition, c_time.value, c_time.status) == ("time", 9000.0, "OPEN")
    assert (c_clock.condition, c_clock.value) == ("clocktime", 17 * 3600.0)
    t = net.options.time
    assert (t.duration, t.hydraulic_step, t.start_clocktime) == (21600.0, 1800.0, 0.0)


def test_kpa_pressure_and_specific_gravity_follow_epanet(tmp_path):
    text = _small("LPS", setting=300.0, extra="Pressure KPA\nSpecific Gravity 1.02\n"
                                              "Demand Model PDA\nMinimum Pressure 5\nRequired Pressure 150")
    net = parse_inp(text, "small.inp")
    src = tmp_path / "kpa.inp"
    src.write_text(text)
    ph = open_project(src)
    try:
        en.setoption(ph, en.PRESS_UNITS, en.METERS)
        v1 = en.getlinkindex(ph, "V1")
        assert net.valves["V1"].setting == pytest.approx(en.getlinkvalue(ph, v1, en.INITSETTING), rel=1e-6)
    finally:
        close_project(ph)
    assert net.valves["V1"].setting == pytest.approx(300 / (6.895 * 0.4333 / 0.3048) / 1.02, rel=1e-12)
    out = tmp_path / "out.inp"
    write_inp(net, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = simulate(src), simulate(out)
    np.testing.assert_allclose(b[2], a[2], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("flow_units", ["LPS", "GPM"])
@pytest.mark.parametrize("pressure_units", ["PSI", "KPA", "METERS", "BAR", "FEET"])
def test_pressure_inputs_are_read_in_the_pressure_option_unit(flow_units, pressure_units, tmp_path):
    diam = 8.0 if flow_units == "GPM" else 200.0
    text = _small(flow_units, diam=diam, setting=3.0, extra=f"Pressure {pressure_units}")
    net = parse_inp(text, "p.inp")
    src = tmp_path / "p.inp"
    src.write_text(text)
    ph = open_project(src)
    try:
        en.setoption(ph, en.PRESS_UNITS, en.METERS)
        setting = en.getlinkvalue(ph, en.getlinkindex(ph, "V1"), en.INITSETTING)
    finally:
        close_project(ph)
    assert net.valves["V1"].setting == pytest.approx(setting, rel=1e-9)
    write_inp(net, tmp_path / "out.inp")
    assert read_inp(tmp_path / "out.inp").valves["V1"].setting == pytest.approx(net.valves["V1"].setting, rel=1e-14)


def test_chinese_ids_in_gbk_utf8_and_latin1(tmp_path):
    text = _small("LPS").replace("R1", "一水厂").replace("J1", "节点甲")
    for encoding in ("gbk", "gb18030", "utf-8", "utf-8-sig"):
        path = tmp_path / f"cn_{encoding}.inp"
        path.write_bytes(text.encode(encoding))
        net = read_inp(path)
        assert "一水厂" in net.reservoirs and "节点甲" in net.junctions
        assert net.pipes["P1"].node1 == "一水厂"
    latin = _small("LPS").replace("J3", "Nó3")
    path = tmp_path / "latin.inp"
    path.write_bytes(latin.encode("latin-1"))
    assert "Nó3" in read_inp(path).junctions
    # the written file (UTF-8) opens in EPANET with the same ids
    out = tmp_path / "cn_out.inp"
    write_inp(read_inp(tmp_path / "cn_gbk.inp"), out)
    ph = open_project(out)
    try:
        assert en.getnodeindex(ph, "一水厂") > 0
    finally:
        close_project(ph)


def test_pump_status_and_curve_kinds_follow_usage():
    text = """[JUNCTIONS]
J1 0 1
[RESERVOIRS]
R1 10
[PUMPS]
PU1 R1 J1 HEAD C1 SPEED 1.2
PU2 R1 J1 POWER 5
[CURVES]
;PUMP: head curve
C1 1 20
;VOLUME: mislabelled, usage decides
C2 1 2
C3 5 5
[ENERGY]
PUMP PU1 EFFIC C2
[STATUS]
PU1 OPEN
PU2 CLOSED
[OPTIONS]
Units LPS
"""
    net = parse_inp(text, "pumps.inp")
    assert net.pumps["PU1"].speed == 1.0  # [STATUS] OPEN resets the speed, as EPANET does
    assert (net.pumps["PU2"].initial_status, net.pumps["PU2"].power) == ("CLOSED", 5.0)
    assert [net.curves[c].kind for c in ("C1", "C2", "C3")] == ["PUMP", "EFFICIENCY", "GENERIC"]
    assert net.curves["C1"].points == [(pytest.approx(1e-3), 20.0)]


def test_verbatim_sections_survive_a_round_trip(tmp_path):
    path = next(p for p in NETWORK_FILES if p.name == "Net1.inp")
    net = read_inp(path)
    assert net.verbatim["REACTIONS"] and net.verbatim["REPORT"]
    write_inp(net, tmp_path / "n1.inp")
    again = read_inp(tmp_path / "n1.inp")
    assert again.verbatim == net.verbatim
    assert again.options.quality == "Chlorine mg/L"
    assert again.junctions["10"].initial_quality == 0.5


VALVES = """[TITLE]
every valve type
[JUNCTIONS]
A 10 0
B 10 5
C 8 0
D 8 4
E 6 0
F 6 3
G 5 0
H 5 2
I 4 0
K 4 2
L 3 0
M 3 1
[RESERVOIRS]
R 80
[PIPES]
P0 R A 100 300 120
P1 B C 100 300 120
P2 D E 100 300 120
P3 F G 100 300 120
P4 H I 100 300 120
P5 K L 100 300 120
[VALVES]
V1 A B 300 PRV 40 0
V2 C D 300 PSV 20 0
V3 E F 300 FCV 6 0
V4 G H 300 TCV 5 0
V5 I K 300 GPV HL 0
V6 L M 300 PCV 60 0 VC
[CURVES]
HL 0 0
HL 20 4
VC 0 0
VC 50 20
VC 100 100
[STATUS]
V2 OPEN
[OPTIONS]
Units {units}
"""


@pytest.mark.parametrize("units", ["LPS", "GPM"])
def test_every_valve_type_round_trips_through_epanet(units, tmp_path):
    text = VALVES.format(units=units)
    net = parse_inp(text, "valves.inp")
    assert [v.valve_type for v in net.valves.values()] == ["PRV", "PSV", "FCV", "TCV", "GPV", "PCV"]
    assert net.curves["HL"].kind == "HEADLOSS" and net.curves["VC"].kind == "VALVE"
    assert (net.valves["V6"].curve, net.valves["V6"].setting) == ("VC", 60.0)
    assert net.valves["V2"].initial_status == "OPEN"
    src, out = tmp_path / "v.inp", tmp_path / "out.inp"
    src.write_text(text)
    write_inp(net, out)
    a, b = simulate(src), simulate(out)
    np.testing.assert_allclose(b[2], a[2], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b[3], a[3], rtol=1e-9, atol=1e-9)
    # and the SI setting of the FCV is what EPANET holds
    ph = open_project(src)
    try:
        en.setflowunits(ph, en.CMS)
        fcv = en.getlinkvalue(ph, en.getlinkindex(ph, "V3"), en.INITSETTING)
    finally:
        close_project(ph)
    assert net.valves["V3"].setting == pytest.approx(fcv, rel=FLOW_RTOL)
