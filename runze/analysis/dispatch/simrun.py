"""One extended-period PDA run of a prepared network: our engine first, EPANET 2.3 when it fails.

`run_network(net, solver)` returns `Run(node, link, solver, notes)`: node["pressure"|"head"|"demand"] and
link["flow"|"status"] are DataFrames (index: seconds since the run's start, one column per id, SI units), as
`runze.simulate` gives them.  solver: "runze" (only ours), "epanet" (only the toolkit), "auto" (ours, and if it
raises or reports an unsolved period, the same network through EPANET 2.3, with a note saying so).
Warnings that only say a plant's production cap (an FCV) is not binding are dropped: they are expected.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from runze.i18n import bilingual
from runze.network.model import Network
from runze.network.units import unit_system

SOLVERS = ("auto", "runze", "epanet")
BENIGN = ("valve_cannot_deliver",)


@dataclass
class Run:
    node: dict[str, pd.DataFrame]
    link: dict[str, pd.DataFrame]
    solver: str
    notes: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


def choose_solver(solver: str | None) -> str:
    solver = (solver or os.environ.get("RUNZE_DISPATCH_SOLVER") or "auto").lower()
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    return solver


def run_network(net: Network, solver: str | None = None) -> Run:
    """Run `net` as it stands (its own time options and PDA settings)."""
    solver = choose_solver(solver)
    if solver in ("auto", "runze"):
        try:
            return _run_runze(net)
        except Exception as exc:  # noqa: BLE001 - any failure of ours: EPANET is the reference
            if solver == "runze":
                raise
            run = _run_epanet(net)
            run.notes.append(bilingual("dispatch.note.solver_fallback", error=exc))
            return run
    return _run_epanet(net)


def _run_runze(net: Network) -> Run:
    import runze

    res = runze.simulate(net, duration=net.options.time.duration, pda=True)
    if not res.ok:
        severe = [w for w in res.warnings if w.kind in ("cannot_solve", "unbalanced")]
        raise RuntimeError(f"{len(severe)} period(s) unsolved or unbalanced")
    warn = [w.as_dict() for w in res.warnings if w.kind not in BENIGN]
    return Run({k: res.node[k] for k in ("pressure", "head", "demand")},
               {k: res.link[k] for k in ("flow", "status")}, "runze", [], warn)


def _run_epanet(net: Network) -> Run:
    from epanet import toolkit as en

    from runze.network.inp import write_inp

    units = unit_system(net.options.flow_units, net.options.pressure_units)
    t = net.options.time
    rstep = int(t.report_step or 3600)
    with tempfile.TemporaryDirectory(prefix="runze-dispatch-") as tmp:
        path = Path(tmp) / "dispatch.inp"
        write_inp(net, path, sidecar=False)
        ph = en.createproject()
        try:
            rpt = Path(tmp) / "dispatch.rpt"
            en.open(ph, str(path), str(rpt), "")
            en.setreport(ph, "STATUS YES")  # EPANET's warnings, read back below to tell benign ones apart
            o = net.options
            en.setdemandmodel(ph, en.PDA, o.minimum_pressure / units.pressure, o.required_pressure / units.pressure,
                              o.pressure_exponent)
            nn, nl = en.getcount(ph, en.NODECOUNT), en.getcount(ph, en.LINKCOUNT)
            node_ids = [en.getnodeid(ph, i) for i in range(1, nn + 1)]
            link_ids = [en.getlinkid(ph, i) for i in range(1, nl + 1)]
            elev = np.array([en.getnodevalue(ph, i, en.ELEVATION) for i in range(1, nn + 1)])
            rows: dict[str, list[np.ndarray]] = {"head": [], "demand": [], "flow": [], "status": []}
            times: list[int] = []
            arr_n, arr_l = en.doubleArray(nn), en.doubleArray(nl)

            def grab(arr, n, code):
                en.getnodevalues(ph, code, arr) if n == nn else en.getlinkvalues(ph, code, arr)
                return np.fromiter((arr[i] for i in range(n)), dtype=float, count=n)

            en.openH(ph)
            en.initH(ph, 0)
            warned = 0
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    now = en.runH(ph)
                warned += bool(caught)
                if now % rstep == 0:
                    times.append(now)
                    rows["head"].append(grab(arr_n, nn, en.HEAD) * units.length)
                    rows["demand"].append(grab(arr_n, nn, en.DEMAND) * units.flow)
                    rows["flow"].append(grab(arr_l, nl, en.FLOW) * units.flow)
                    rows["status"].append(grab(arr_l, nl, en.STATUS))
                if en.nextH(ph) <= 0:
                    break
            en.closeH(ph)
        finally:
            en.close(ph)
            en.deleteproject(ph)
        lines = [ln.strip() for ln in rpt.read_text(errors="replace").splitlines() if "WARNING" in ln] \
            if rpt.exists() else []
    # an FCV production cap that does not bind is "open but cannot deliver flow": expected, not a problem
    other = sorted({ln.split(" at ")[0] for ln in lines if "FCV" not in ln or "cannot deliver flow" not in ln})
    idx = pd.Index(times, name="time")
    head = pd.DataFrame(np.array(rows["head"]), index=idx, columns=node_ids)
    node = {"head": head, "pressure": head - elev * units.length,
            "demand": pd.DataFrame(np.array(rows["demand"]), index=idx, columns=node_ids)}
    link = {"flow": pd.DataFrame(np.array(rows["flow"]), index=idx, columns=link_ids),
            "status": pd.DataFrame(np.array(rows["status"]), index=idx, columns=link_ids)}
    notes = ([bilingual("dispatch.note.epanet_warned", kinds=len(other), periods=warned,
                        warnings="; ".join(other[:5]))] if other else [])
    return Run(node, link, "epanet", notes)
