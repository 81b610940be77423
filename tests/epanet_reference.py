"""Run EPANET 2.3 (owa-epanet) in process and collect results at reporting times, SI units, for the tests."""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
from epanet import toolkit as en

FT = 0.3048


def run_epanet(path: str, duration: float | None = None, accuracy: float | None = None, pda: tuple | None = None,
               demand_mult: float | None = None) -> dict:
    """Heads (m), flows (m³/s), link status (0/1) and pump/valve status at each reporting time."""
    ph = en.createproject()
    tmp = tempfile.mkdtemp()
    en.open(ph, str(path), os.path.join(tmp, "r.rpt"), "")
    if duration is not None:
        en.settimeparam(ph, en.DURATION, int(duration))
    if accuracy is not None:
        en.setoption(ph, en.ACCURACY, accuracy)
    if demand_mult is not None:
        en.setoption(ph, en.DEMANDMULT, demand_mult)
    if pda is not None:
        en.setdemandmodel(ph, en.PDA, *pda)
    units = en.getflowunits(ph)
    # flow factor to m³/s: EPANET reports in file units
    fac = {en.CFS: FT**3, en.GPM: 3.785411784e-3 / 60, en.MGD: 3.785411784e3 / 86400, en.IMGD: 4.54609e3 / 86400,
           en.AFD: 1233.48183754752 / 86400, en.LPS: 1e-3, en.LPM: 1e-3 / 60, en.MLD: 1e3 / 86400,
           en.CMH: 1 / 3600, en.CMD: 1 / 86400}[units]
    us = units in (en.CFS, en.GPM, en.MGD, en.IMGD, en.AFD)
    lfac = FT if us else 1.0
    nn = en.getcount(ph, en.NODECOUNT)
    nl = en.getcount(ph, en.LINKCOUNT)
    node_ids = [en.getnodeid(ph, i) for i in range(1, nn + 1)]
    link_ids = [en.getlinkid(ph, i) for i in range(1, nl + 1)]
    rstep = en.gettimeparam(ph, en.REPORTSTEP)
    rstart = en.gettimeparam(ph, en.REPORTSTART)
    times, heads, flows, status, demand, warns = [], [], [], [], [], []
    en.openH(ph)
    en.initH(ph, 0)
    while True:
        with warnings.catch_warnings(record=True) as caught:  # EPANET's warnings come as Python warnings
            warnings.simplefilter("always")
            t = en.runH(ph)
        if caught:
            warns.append((t, str(caught[0].message)))
        if t >= rstart and (t - rstart) % rstep == 0:
            times.append(t)
            heads.append([en.getnodevalue(ph, i, en.HEAD) * lfac for i in range(1, nn + 1)])
            demand.append([en.getnodevalue(ph, i, en.DEMAND) * fac for i in range(1, nn + 1)])
            flows.append([en.getlinkvalue(ph, i, en.FLOW) * fac for i in range(1, nl + 1)])
            status.append([en.getlinkvalue(ph, i, en.STATUS) for i in range(1, nl + 1)])
        dt = en.nextH(ph)
        if dt <= 0:
            break
    en.closeH(ph)
    en.close(ph)
    en.deleteproject(ph)
    return {"times": np.array(times), "node_ids": node_ids, "link_ids": link_ids, "head": np.array(heads),
            "flow": np.array(flows), "status": np.array(status), "demand": np.array(demand), "warnings": warns}
