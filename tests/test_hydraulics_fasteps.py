"""The compiled whole-run EPS loop (fasteps.eps_nb) against the per-period Python loop it replaces.

Both paths run the same compiled gradient solve per period, so every result array, warning, period time and
iteration count must be identical, not merely close: ky10 (warnings in 21 of 48 periods), Net3 (7 days, tank
and time controls), Anytown (a non-positive pivot hands one period back to Python's LU fallback) and Net2
(pump speed and time controls); and with buffers of one period so that every call returns full and resumes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import runze.hydraulics as rh
from runze.hydraulics import eps, fastkernel

pytestmark = pytest.mark.skipif(not fastkernel.AVAILABLE, reason="needs numba")

WNTR = Path(__file__).resolve().parents[1] / ".venv/lib/python3.11/site-packages/wntr"
if not WNTR.exists():  # installed elsewhere
    import wntr

    WNTR = Path(wntr.__file__).parent
NETS = WNTR / "library" / "networks"
TESTNETS = WNTR / "tests" / "networks_for_testing"


def _run(path: Path, duration, fast_eps: bool, monkeypatch) -> rh.Results:
    with monkeypatch.context() as m:
        if not fast_eps:
            m.setattr(eps.Simulation, "_fast_eps_ok", lambda self: False)
        calls = []
        real = eps.FastEps.run
        m.setattr(eps.FastEps, "run", lambda self: calls.append(1) or real(self))
        res = rh.simulate(path, duration=duration)
    assert bool(calls) == fast_eps, "the compiled loop was (not) used as intended"
    return res


def _assert_identical(a: rh.Results, b: rh.Results) -> None:
    for tables_a, tables_b in ((a.node, b.node), (a.link, b.link)):
        for key in tables_a:
            np.testing.assert_array_equal(tables_a[key].to_numpy(), tables_b[key].to_numpy(), err_msg=key)
    assert [w.as_dict() for w in a.warnings] == [w.as_dict() for w in b.warnings]
    np.testing.assert_array_equal(a.period_times, b.period_times)
    assert a.iterations.equals(b.iterations)
    assert a.ok == b.ok


@pytest.mark.parametrize("path,duration", [(NETS / "ky10.inp", 86400), (NETS / "Net3.inp", None),
                                           (TESTNETS / "Anytown.inp", None), (NETS / "Net2.inp", None)])
def test_compiled_eps_loop_equals_python_loop(path, duration, monkeypatch):
    fast = _run(path, duration, True, monkeypatch)
    slow = _run(path, duration, False, monkeypatch)
    _assert_identical(fast, slow)
    if path.stem == "ky10":
        assert len(fast.warnings) > 0  # the event log was exercised


def test_compiled_eps_loop_resumes_after_full_buffers(monkeypatch):
    path = NETS / "ky10.inp"
    slow = _run(path, 86400, False, monkeypatch)
    monkeypatch.setattr(eps.FastEps, "PERIODS_MIN", 1)
    monkeypatch.setattr(eps.FastEps, "PERIODS_PER_STEP", 0)
    monkeypatch.setattr(eps.FastEps, "EVENT_PERIODS", 1)
    fast = _run(path, 86400, True, monkeypatch)
    _assert_identical(fast, slow)
