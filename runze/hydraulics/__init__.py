"""Runze's hydraulic engine: EPANET 2.3's gradient method, vectorised, checked against EPANET.

    from runze.hydraulics import simulate
    res = simulate("Net3.inp")              # or a Network; duration in seconds overrides the file's
    res.node["pressure"], res.link["flow"], res.warnings, res.ok

Layers (each reusable on its own, e.g. by batch mode): `compile_network` (Network → arrays, once),
`Kernel` (sparsity pattern, symbolic factorisation, per-trial kernels; once per topology), `HydState` (one
solution), `Simulation` (EPS loop), `build_results` (SI DataFrames).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runze.hydraulics.compile import Compiled, CompileError, compile_network
from runze.hydraulics.controls import SimpleControls
from runze.hydraulics.eps import Simulation, initial_state, set_demands
from runze.hydraulics.results import HydWarning, Results, build_results
from runze.hydraulics.solver import HydState, Kernel, SolveInfo
from runze.network.model import Network


def load_network(network_or_path: Network | str | Path) -> Network:
    if isinstance(network_or_path, Network):
        return network_or_path
    try:
        from runze.network.inp import read_inp  # the public reader
    except ImportError:  # pragma: no cover - older layout
        from runze.network.inp_reader import read_inp_file as read_inp
    return read_inp(network_or_path)


def prepare(net: Network, duration: float | None = None, pda: bool | None = None,
            backend: str | None = None, fast: bool | None = None) -> tuple[Compiled, Kernel, SimpleControls, object]:
    """Compile a network and build everything reusable across runs: (compiled, kernel, controls, rules)."""
    c = compile_network(net, duration=duration, pda=pda)
    kernel, controls, rules = set_up_solver(net, c, backend=backend, fast=fast)
    return c, kernel, controls, rules


def set_up_solver(net: Network, c: Compiled, backend: str | None = None,
                  fast: bool | None = None) -> tuple[Kernel, SimpleControls, object]:
    """What `prepare` builds on a compiled network: (kernel, controls, rules) — EPANET's openH part."""
    controls = SimpleControls(net, c)
    rules = None
    if net.rules:
        try:
            from runze.hydraulics.rules import RuleSet
        except ImportError:  # rule-based controls not available: say so in the results, never silently
            c.warnings.append({"kind": "rules_not_evaluated", "time": 0, "elements": [r.id for r in net.rules]})
        else:
            rules = RuleSet(net, c)
    kernel = Kernel(c, controls, backend=backend, fast=fast)
    return kernel, controls, rules


def simulate(network_or_path: Network | str | Path, duration: float | None = None, pda: bool = False,
             accuracy: float | None = None, backend: str | None = None, fast: bool | None = None,
             progress: Callable[[int, int], None] | None = None) -> Results:
    """Run an extended-period (or steady-state when the duration is 0) hydraulic simulation.

    duration: seconds (None: the file's).  pda: pressure-driven demands with the file's PDA parameters
    (minimum/required pressure, exponent), as EPANET's PDA; False uses the file's demand model.
    accuracy: overrides the file's ACCURACY (Σ|ΔQ|/Σ|Q| convergence limit).
    backend: "ldl" (own compiled LDLᵀ, default with numba), "qdldl" or "splu"; fast=False forces the pure
    numpy kernels (the reference implementation of the compiled ones).
    """
    net = load_network(network_or_path)
    c, kernel, controls, rules = prepare(net, duration, pda=True if pda else None, backend=backend, fast=fast)
    raw = Simulation(c, kernel, controls, rules, accuracy=accuracy, progress=progress).run()
    return build_results(c, raw)


__all__ = [
    "Compiled", "CompileError", "HydState", "HydWarning", "Kernel", "Results", "Simulation", "SimpleControls",
    "SolveInfo", "build_results", "compile_network", "initial_state", "load_network", "prepare", "set_demands",
    "set_up_solver", "simulate", "solve_batch", "Scenario", "BatchResults",
]

from runze.hydraulics.batch import BatchResults, Scenario, solve_batch  # noqa: E402  (batch mode, issue 3)
