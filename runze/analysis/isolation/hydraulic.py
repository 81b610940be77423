"""Pressure-driven run of the network during an outage: which nodes still supplied drop below service pressure.

The outage is modelled by shutting every link of the isolated segments and every link cut by a closed valve,
and by setting the demand of the isolated and cut-off nodes to zero (they get no water; their pressures are
not reported).  Solvers, chosen by `solver` (or the environment variable RUNZE_OUTAGE_SOLVER):

- "runze": our engine, `runze.simulate(network, pda=True)` (runze.hydraulics);
- "epanet": the EPANET 2.3 toolkit (owa-epanet) in PDA mode, on the network written with
  `runze.network.inp.write_inp` (or on the `.inp` file the network came from);
- "auto" (default): "runze" when runze.hydraulics exists (falling back to "epanet", with a message, if it
  fails on the network), else "epanet";
- "none": no run.

PDA pressures: the model's own when its demand model is PDA, else minimum 0 m and required = the service
threshold (14 m by default, configurable), exponent 0.5.  The run is an extended period over the repair
(hydraulic step 1 h or the repair duration if shorter), starting at the pattern time of the repair start; the
lowest pressure each node sees is reported, next to its lowest over the same period without the outage
(`newly_low` marks nodes the outage pushes below the threshold).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runze.i18n import bilingual
from runze.network.model import Network
from runze.network.units import unit_system

SOLVERS = ("auto", "runze", "epanet", "none")


@dataclass(slots=True)
class PressureRun:
    solver: str  # which one ran ("runze", "epanet") or "none"
    threshold_m: float
    min_pressure_m: dict[str, float] = field(default_factory=dict)  # supplied nodes only
    low_nodes: list[dict[str, float | str]] = field(default_factory=list)  # below threshold, lowest first
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"solver": self.solver, "threshold_m": self.threshold_m, "low_pressure_nodes": self.low_nodes,
                "n_low_pressure_nodes": len(self.low_nodes),
                "n_newly_low": sum(1 for r in self.low_nodes if r.get("newly_low")), "message": self.message}


def choose_solver(solver: str | None = None) -> str:
    solver = (solver or os.environ.get("RUNZE_OUTAGE_SOLVER") or "auto").lower()
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    if solver == "auto":
        solver = "runze" if importlib.util.find_spec("runze.hydraulics") is not None else "epanet"
    return solver


def outage_pressures(network: Network, closed_links: Sequence[str], off_nodes: Sequence[str],
                     pattern_time: float, clock_time: float, duration: float, threshold_m: float = 14.0,
                     solver: str | None = None, inp_path: str | Path | None = None) -> PressureRun:
    """Lowest pressure (m) at every still-supplied junction over the outage; nodes below `threshold_m`."""
    auto = (solver or os.environ.get("RUNZE_OUTAGE_SOLVER") or "auto").lower() == "auto"
    chosen = choose_solver(solver)
    run = PressureRun(chosen, threshold_m)
    if chosen == "none":
        run.message = bilingual("outage.pressure.not_requested")
        return run
    args = (pattern_time, clock_time, duration, threshold_m, inp_path)
    notes: list[str] = []
    try:  # the outage, and the same period without it, so that nodes already low are told apart
        try:
            solve = _run_runze if chosen == "runze" else _run_epanet
            pressures = solve(network, closed_links, off_nodes, *args, notes=notes)
            baseline = solve(network, (), (), *args)
        except Exception as exc:
            if not (auto and chosen == "runze"):
                raise
            # "auto": our engine failed on this network, EPANET 2.3 is the reference: use it and say so
            run.solver = "epanet"
            notes.append(bilingual("outage.pressure.solver_fallback", error=exc))
            pressures = _run_epanet(network, closed_links, off_nodes, *args, notes=notes)
            baseline = _run_epanet(network, (), (), *args)
    except Exception as exc:  # the plan is still useful without pressures: say why they are missing
        run.message = bilingual("outage.pressure.failed", solver=run.solver, error=exc)
        return run
    run.message = "; ".join(notes)
    off = set(off_nodes)
    keep = [n for n in network.junctions if n not in off and n in pressures]
    run.min_pressure_m = {n: float(pressures[n]) for n in keep}
    low = sorted((pressures[n], n) for n in keep if pressures[n] < threshold_m)
    run.low_nodes = [{"node": n, "min_pressure_m": round(float(p), 3),
                      "baseline_min_pressure_m": round(float(baseline.get(n, np.nan)), 3),
                      "newly_low": bool(baseline.get(n, np.inf) >= threshold_m)} for p, n in low]
    return run


def _pda_params(network: Network, threshold_m: float) -> tuple[float, float, float]:
    o = network.options
    if o.demand_model == "PDA":
        return o.minimum_pressure, o.required_pressure, o.pressure_exponent
    return 0.0, threshold_m, 0.5


def _outage_copy(network: Network, closed_links: Sequence[str], off_nodes: Sequence[str],
                 pattern_time: float, clock_time: float, duration: float, threshold_m: float) -> Network:
    net = network.copy()
    for link_id in closed_links:
        net.link(link_id).initial_status = "CLOSED"  # type: ignore[union-attr]
    for node_id in off_nodes:
        if node_id in net.junctions:
            for d in net.junctions[node_id].demands:
                d.base = 0.0
    t = net.options.time
    t.duration = float(duration)
    t.hydraulic_step = min(3600.0, float(duration)) if duration > 0 else 3600.0
    t.report_step = t.hydraulic_step
    t.report_start = 0.0
    t.pattern_start = float(pattern_time)
    t.start_clocktime = float(clock_time) % 86400.0
    pmin, preq, pexp = _pda_params(network, threshold_m)
    net.options.demand_model = "PDA"
    net.options.minimum_pressure, net.options.required_pressure, net.options.pressure_exponent = pmin, preq, pexp
    # controls that would reopen a shut link are dropped: the crew's valves stay shut
    closed = set(closed_links)
    net.controls = [c for c in net.controls if c.link not in closed]
    return net


def _run_runze(network: Network, closed_links: Sequence[str], off_nodes: Sequence[str], pattern_time: float,
               clock_time: float, duration: float, threshold_m: float, inp_path: object = None,
               notes: list[str] | None = None) -> dict[str, float]:
    import runze

    net = _outage_copy(network, closed_links, off_nodes, pattern_time, clock_time, duration, threshold_m)
    results = runze.simulate(net, duration=net.options.time.duration, pda=True)
    if notes is not None and not getattr(results, "ok", True):
        notes.append(bilingual("outage.pressure.not_converged"))
    pressure = results.node["pressure"]  # DataFrame: time x node, m
    return {str(k): float(v) for k, v in pressure.min(axis=0).items()}


def _run_epanet(network: Network, closed_links: Sequence[str], off_nodes: Sequence[str], pattern_time: float,
                clock_time: float, duration: float, threshold_m: float,
                inp_path: str | Path | None, notes: list[str] | None = None) -> dict[str, float]:
    from epanet import toolkit as en

    with tempfile.TemporaryDirectory(prefix="runze-outage-") as tmp:
        path = Path(tmp) / "outage.inp"
        try:
            from runze.network.inp import write_inp
        except ImportError:
            write_inp = None
        if write_inp is not None:
            write_inp(network, path, sidecar=False)
        elif inp_path is not None:
            path = Path(inp_path)
        else:
            raise RuntimeError("runze.network.inp.write_inp is not available and no .inp file was given")
        units = unit_system(network.options.flow_units, network.options.pressure_units, network.options.specific_gravity)
        ph = en.createproject()
        try:
            en.open(ph, str(path), str(Path(tmp) / "outage.rpt"), "")
            for link_id in closed_links:
                idx = en.getlinkindex(ph, link_id)
                en.setlinkvalue(ph, idx, en.INITSTATUS, 0)
            for c in range(en.getcount(ph, en.CONTROLCOUNT), 0, -1):  # keep crew-closed links shut
                ctype, lidx, *_ = en.getcontrol(ph, c)
                if en.getlinkid(ph, lidx) in set(closed_links):
                    en.deletecontrol(ph, c)
            for node_id in off_nodes:
                idx = en.getnodeindex(ph, node_id)
                if en.getnodetype(ph, idx) == en.JUNCTION:
                    for k in range(1, en.getnumdemands(ph, idx) + 1):
                        en.setbasedemand(ph, idx, k, 0.0)
            pmin, preq, pexp = _pda_params(network, threshold_m)
            en.setdemandmodel(ph, en.PDA, pmin / units.pressure, preq / units.pressure, pexp)
            step = int(min(3600.0, duration)) if duration > 0 else 3600
            en.settimeparam(ph, en.DURATION, int(duration))
            en.settimeparam(ph, en.HYDSTEP, step)
            en.settimeparam(ph, en.REPORTSTEP, step)
            en.settimeparam(ph, en.REPORTSTART, 0)
            en.settimeparam(ph, en.PATTERNSTART, int(pattern_time))
            en.settimeparam(ph, en.STARTTIME, int(clock_time) % 86400)
            n = en.getcount(ph, en.NODECOUNT)
            ids = [en.getnodeid(ph, i) for i in range(1, n + 1)]
            elev = np.array([en.getnodevalue(ph, i, en.ELEVATION) for i in range(1, n + 1)])
            lowest = np.full(n, np.inf)
            head = en.doubleArray(n)
            en.openH(ph)
            en.initH(ph, 0)
            steps = warned = 0
            while True:
                with warnings.catch_warnings(record=True) as caught:  # owa-epanet turns EPANET warnings
                    warnings.simplefilter("always")  # into Python warnings: count them, do not print
                    en.runH(ph)
                steps += 1
                warned += bool(caught)
                en.getnodevalues(ph, en.HEAD, head)
                h = np.fromiter((head[i] for i in range(n)), dtype=float, count=n)
                lowest = np.minimum(lowest, (h - elev) * units.length)
                if en.nextH(ph) <= 0:
                    break
            en.closeH(ph)
            if warned and notes is not None:
                notes.append(bilingual("outage.pressure.epanet_warned", warned=warned, steps=steps))
        finally:
            en.close(ph)
            en.deleteproject(ph)
    return dict(zip(ids, lowest.tolist(), strict=True))
