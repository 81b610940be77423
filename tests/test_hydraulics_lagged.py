"""Pipes closed for the whole run left out of the compiled EPS's matrix pattern (solver.Kernel.lagged_pattern):
the same results as with EPANET's 1e-8 closed-link couplings in the matrix, and the pattern really is smaller."""

from __future__ import annotations

import numpy as np
import pytest

import runze.hydraulics as rh
from runze.hydraulics import fastkernel
from runze.hydraulics.eps import initial_state
from runze.hydraulics.solver import Kernel

pytestmark = pytest.mark.skipif(not fastkernel.AVAILABLE, reason="compiled kernels (numba) not available")


def _run(net, lagged: bool, monkeypatch):
    with monkeypatch.context() as m:
        if not lagged:
            m.setattr(Kernel, "lagged_pattern", lambda self, status: None)
        return rh.simulate(net, duration=86400)


def test_demo_city_lagged_closed_pipes_same_results(monkeypatch):
    build = pytest.importorskip("runze.network.demo_city.build")
    net = build.build_demo_city()
    c, kernel, controls, rules = rh.prepare(net, duration=86400)
    st = initial_state(c, kernel)
    lag = kernel.lagged_pattern(st.status)
    assert lag is not None and lag[0].size > 100  # the boundary pipes between zones
    assert lag[1].lp[-1] < 0.6 * kernel.factor._sym.lp[-1]  # far less fill in L
    a = _run(net, True, monkeypatch)
    b = _run(net, False, monkeypatch)
    assert a.ok and b.ok
    assert len(a.node["head"]) == len(b.node["head"])
    dh = np.abs(a.node["head"].to_numpy() - b.node["head"].to_numpy()).max()
    assert dh < 1e-4, dh
    qa, qb = a.link["flow"].to_numpy(), b.link["flow"].to_numpy()
    dq = np.abs(qa - qb)
    assert not ((dq > 1e-7) & (dq > 1e-4 * np.abs(qb))).any(), dq.max()
    np.testing.assert_array_equal(a.link["status"].to_numpy(), b.link["status"].to_numpy())


def test_pocket_behind_closed_pipes_matches_epanet(tmp_path):
    """Net3 with every pipe at junction 101 closed: 101 (and junction 10 whenever pump 10 is off) is held only
    by 1e-8 closed-link couplings.  Lagging those would leave its head far from EPANET's (~1e5 ft here, and
    pump 10's flow 0.4 L/s off); such periods must be solved with the full pattern."""
    from pathlib import Path

    import wntr
    from epanet_reference import run_epanet

    from runze.network.inp import read_inp, write_inp

    net = read_inp(Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp")
    for p in net.pipes.values():
        if "101" in (p.node1, p.node2):
            p.initial_status = "CLOSED"
    path = tmp_path / "net3-pocket.inp"
    write_inp(net, path)
    c, kernel, controls, rules = rh.prepare(read_inp(path), duration=86400)
    assert kernel.lagged_pattern(initial_state(c, kernel).status) is not None
    ref = run_epanet(str(path), duration=86400)
    res = rh.simulate(read_inp(path), duration=86400)
    h = res.node["head"][ref["node_ids"]].to_numpy()
    q = res.link["flow"][ref["link_ids"]].to_numpy()
    assert np.abs(h - ref["head"]).max() <= 0.05
    dq = np.abs(q - ref["flow"])
    assert not ((dq > 1e-5) & (dq > 0.01 * np.abs(ref["flow"]))).any(), dq.max()
