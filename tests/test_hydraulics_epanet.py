"""Runze's solver against EPANET 2.3 (owa-epanet) on the classic networks: heads, flows, statuses, warnings.

Tolerances (the project's acceptance criteria): every node head within 0.05 m and every link flow within 1 %
or 0.01 L/s of EPANET at every reporting time; the same pump and valve status (closed/open/active) sequence.
Where a network needs a documented exception, the test says why next to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from epanet_reference import run_epanet

import runze.hydraulics as rh
from runze.network.inp_reader import read_inp_file

WNTR = Path(__file__).resolve().parents[1] / ".venv/lib/python3.11/site-packages/wntr"
if not WNTR.exists():  # installed elsewhere
    import wntr

    WNTR = Path(wntr.__file__).parent
NETS = WNTR / "library" / "networks"
TESTNETS = WNTR / "tests" / "networks_for_testing"
DAY = 86400


def _status_code(status: np.ndarray) -> np.ndarray:
    """Our status codes mapped to EPANET's EN_STATUS (0 closed, 1 open, 2 active)."""
    return np.where(status <= 2, 0, np.where(status == 4, 2, 1))


def compare(path, duration=None, flow_abs=1e-5, pda=None, demand_mult=None, net=None, accuracy=None):
    ref = run_epanet(str(path), duration=duration, pda=pda, demand_mult=demand_mult, accuracy=accuracy)
    res = rh.simulate(net if net is not None else path, duration=duration, pda=pda is not None, accuracy=accuracy)
    assert list(res.times) == list(ref["times"]), "reporting times differ"
    h = res.node["head"][ref["node_ids"]].to_numpy()
    q = res.link["flow"][ref["link_ids"]].to_numpy()
    st = _status_code(res.link["status"][ref["link_ids"]].to_numpy())
    return ref, res, h, q, st


def check(ref, res, h, q, st, flow_abs=1e-5, head_tol=0.05, mask_heads=None):
    dh = np.abs(h - ref["head"])
    if mask_heads is not None:
        dh = np.where(mask_heads, 0.0, dh)
    assert np.nanmax(dh) <= head_tol, f"max head difference {np.nanmax(dh):.4g} m"
    dq = np.abs(q - ref["flow"])
    bad = (dq > flow_abs) & (dq > 0.01 * np.abs(ref["flow"]))
    assert not bad.any(), f"{bad.sum()} flows off, max {dq.max():.3g} m³/s"
    c = res.compiled
    pv = np.concatenate([c.pumps, c.valves])
    ids = [c.link_ids[k] for k in pv]
    cols = [ref["link_ids"].index(i) for i in ids]
    assert np.array_equal(st[:, cols], ref["status"][:, cols]), "pump/valve status sequence differs"


@pytest.mark.parametrize("name", ["Net1", "Net2", "Net3"])
def test_classic_networks_match_epanet(name):
    """Net1-Net3 for the file's own duration (Net3: 7 days, pumps, tanks, controls)."""
    ref, res, h, q, st = compare(NETS / f"{name}.inp")
    check(ref, res, h, q, st)
    assert res.ok and not ref["warnings"]


@pytest.mark.parametrize("name,duration", [("Net3", None), ("Net6", DAY)])
def test_tight_accuracy_matches_epanet(name, duration):
    """Both solvers with ACCURACY 1e-6 instead of the file's 1e-3: heads agree to ~1e-4 m or better."""
    ref, res, h, q, st = compare(NETS / f"{name}.inp", duration=duration, accuracy=1e-6)
    check(ref, res, h, q, st, head_tol=0.01, flow_abs=3e-5)


def test_anytown_matches_epanet_including_its_warning():
    """Anytown as shipped has its pumps closed and every junction cut off: EPANET warns at every period and
    reports heads of about -1e25 ft that are numerical garbage.  We give the same flows and statuses, and the
    same huge heads to 1 % (they are rounding residue of a singular system: how close they come depends on the
    elimination order — 0.14 % at worst with our minimum-degree order, which solves the whole day).  If our
    factorisation meets a non-positive pivot in that garbage, we stop pretending: the periods after it are
    reported as unbalanced (ok=False, rows NaN), never as numbers; at least 15 hours must match before that."""
    ref, res, h, q, st = compare(TESTNETS / "Anytown.inp")
    assert ref["warnings"], "EPANET itself warns on this network"
    severe = [w.time for w in res.warnings if w.kind in ("unbalanced", "cannot_solve")]
    cut = min(severe) if severe else DAY + 1
    rows = ref["times"] < cut
    assert rows.sum() >= 15
    huge = np.abs(ref["head"]) > 1e6
    assert np.all((np.abs(h - ref["head"]) <= 1e-2 * np.abs(ref["head"]))[rows][huge[rows]])
    ref_cut = {**ref, "head": ref["head"][rows], "flow": ref["flow"][rows], "status": ref["status"][rows]}
    check(ref_cut, res, h[rows], q[rows], st[rows], mask_heads=huge[rows], flow_abs=3e-5)
    kinds = {w.kind for w in res.warnings}
    assert {"negative_pressure", "disconnected"} <= kinds
    if severe:
        assert not res.ok


@pytest.mark.parametrize("name", ["ky4", "Net6"])
def test_large_networks_24h_match_epanet(name):
    """ky4 has no duration in its file: run 24 h.  Net6 24 h (3323 junctions, 124 tank controls).

    Net6: some tank fill/drain and control times differ from EPANET's by 1-3 s (the rounding of v/q to whole
    seconds flips), which moves tank levels by < 1 mm; pipes with ~1 L/s in 20-inch mains then differ by up
    to 0.02 L/s, so the absolute flow tolerance there is 0.03 L/s instead of 0.01 L/s."""
    ref, res, h, q, st = compare(NETS / f"{name}.inp", duration=DAY)
    check(ref, res, h, q, st, flow_abs=3e-5 if name == "Net6" else 1e-5)


# ky10's dead pockets: junctions reachable only through a constant-power pump and a PRV that are both shut,
# so their heads are set by EPANET's 1e-8 closed-link conductances alone (rounding noise), and the statuses of
# the links around them follow those heads.
KY10_POCKET_NODES = ("I-RV-4", "O-Pump-11", "I-RV-5", "O-RV-5", "O-Pump-10")
KY10_POCKET_LINKS = ("~@RV-4", "~@Pump-11", "~@Pump-10", "P-75")


def test_ky10_24h_matches_epanet_outside_dead_pockets():
    """ky10 24 h: every flow and every other head/status as EPANET; the five pocket junctions and four pocket
    links are excluded (see KY10_POCKET_*); EPANET itself warns (negative pressures) at some periods."""
    ref, res, h, q, st = compare(NETS / "ky10.inp", duration=DAY)
    pocket = np.isin(ref["node_ids"], KY10_POCKET_NODES)
    dh = np.abs(h - ref["head"])[:, ~pocket]
    assert dh.max() <= 0.05, f"max head difference {dh.max():.4g} m outside the pockets"
    dq = np.abs(q - ref["flow"])
    assert not ((dq > 1e-5) & (dq > 0.01 * np.abs(ref["flow"]))).any(), "flows differ"
    c = res.compiled
    ids = [c.link_ids[k] for k in np.concatenate([c.pumps, c.valves]) if c.link_ids[k] not in KY10_POCKET_LINKS]
    cols = [ref["link_ids"].index(i) for i in ids]
    assert np.array_equal(st[:, cols], ref["status"][:, cols])


def _pda_net(path, mult, preq_psi):
    net = read_inp_file(path)
    f = 0.3048 / 0.4333  # psi -> m, as the reader converts US pressures
    net.options.demand_multiplier = mult
    net.options.minimum_pressure = 0.0
    net.options.required_pressure = preq_psi * f
    net.options.pressure_exponent = 0.5
    return net


@pytest.mark.parametrize("name,mult,preq,duration", [("Net1", 3.0, 120.0, None), ("ky4", 3.0, 60.0, 0),
                                                     ("Net6", 2.0, 60.0, 0)])
def test_pda_matches_epanet(name, mult, preq, duration):
    """Pressure-driven demands (EPANET 2.2 formula) with demands multiplied so that many junctions fall short."""
    path = NETS / f"{name}.inp"
    net = _pda_net(path, mult, preq)
    ref, res, h, q, st = compare(path, duration=duration, pda=(0.0, preq, 0.5), demand_mult=mult, net=net)
    check(ref, res, h, q, st)
    nj = len(net.junctions)
    full = np.array([j.base_demand for j in net.junctions.values()]) * mult
    delivered = res.node["demand"].to_numpy()[0, :nj]
    assert (delivered < 0.99 * full).sum() >= 5, "the case must actually be pressure deficient"
    np.testing.assert_allclose(delivered, ref["demand"][0, :nj], atol=1e-5)


def test_demo_city_matches_epanet(tmp_path):
    """The generated demo city (4 plants, 17 pumps, tank controls), 24 h, written to .inp for EPANET."""
    build = pytest.importorskip("runze.network.demo_city.build")
    inp_mod = pytest.importorskip("runze.network.inp")
    net = build.build_demo_city()
    path = tmp_path / "demo-city.inp"
    inp_mod.write_inp(net, path)
    dur = net.options.time.duration or DAY
    ref, res, h, q, st = compare(path, duration=dur)
    check(ref, res, h, q, st)
    assert res.ok


NET1_RULES = """
[RULES]
RULE 1
IF TANK 2 LEVEL < 110
THEN PUMP 9 STATUS IS OPEN
PRIORITY 1

RULE 2
IF TANK 2 LEVEL > 140
THEN PUMP 9 STATUS IS CLOSED
PRIORITY 1

RULE 3
IF SYSTEM CLOCKTIME >= 10:00 AM
AND SYSTEM CLOCKTIME < 2:00 PM
THEN PIPE 11 STATUS IS CLOSED
ELSE PIPE 11 STATUS IS OPEN

"""


def test_rules_match_epanet(tmp_path):
    """Net1 with its tank controls rewritten as rules, plus a clock-time rule with an ELSE clause."""
    text = (NETS / "Net1.inp").read_text()
    i = text.index("[CONTROLS]")
    j = text.index("[", i + 3)
    path = tmp_path / "net1_rules.inp"
    path.write_text(text[:i] + "[CONTROLS]\n" + NET1_RULES + text[j:])
    ref, res, h, q, st = compare(path)
    check(ref, res, h, q, st)
    closed = res.link["status"]["11"].to_numpy() <= 2
    assert closed.any() and not closed.all(), "the clock-time rule must actually switch pipe 11"


def test_rules_net6_plus_match_epanet():
    """WNTR's Net6_plus: Net6 with valves driven by rules on tank level, link status and clock time.  Same
    small-flow caveat as Net6 (event times rounded to whole seconds flip by 1 s), hence 0.05 L/s absolute."""
    ref, res, h, q, st = compare(TESTNETS / "Net6_plus.inp", duration=DAY)
    check(ref, res, h, q, st, flow_abs=5e-5)


WNTR_TEST_NETS = [
    "Anytown_multipointcurves", "Awumah_layout1", "Awumah_layout8", "CCWI17-HermanMahmoud",
    "Todini_Fig2_optCost_CMH", "Todini_Fig2_optCost_GPM", "Todini_Fig2_solA_CMH", "Todini_Fig2_solA_GPM",
    "conditional_controls_1", "conditional_controls_2", "control_comb", "cv_controls", "epanet_leaks",
    "fcv_open_no_downstream_sources", "latin1", "leaks", "msx_example", "prv_open_no_upstream_sources",
    "psv_open_no_downstream_sources", "simulator", "skeletonize", "tank_controls_1", "tank_controls_2",
    "time_controls", "times", "io",
]
DEGENERATE = {
    "fcv_open_no_upstream_sources": "FCV with no source upstream: statuses inside the cut-off part differ "
                                    "(EPANET warns at every period, as we do)",
    "prv_closed_no_upstream_sources": "PRV with no source upstream: statuses inside the cut-off part differ "
                                      "(EPANET warns at every period, as we do)",
}


@pytest.mark.parametrize("name", WNTR_TEST_NETS)
def test_wntr_test_networks_match_epanet(name):
    """WNTR's own EPANET test networks (controls, valves, curves, emitters, CMH/GPM units, odd time options)."""
    ref, res, h, q, st = compare(TESTNETS / f"{name}.inp")
    sane = np.abs(ref["head"]) > 1e6  # EPANET's own ~-1e25 ft heads at junctions cut off from every source
    check(ref, res, h, q, st, mask_heads=sane)


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_networks_documented(name):
    """Networks where the answer depends on how a solver treats junctions cut off from all sources."""
    ref, res, h, q, st = compare(TESTNETS / f"{name}.inp")
    with pytest.raises(AssertionError):
        check(ref, res, h, q, st)
    pytest.xfail(DEGENERATE[name])
