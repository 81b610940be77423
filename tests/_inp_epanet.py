"""Test helper: run an `.inp` through EPANET 2.3 (owa-epanet) and collect heads and flows at reporting times."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from epanet import toolkit as en

WNTR = Path(__import__("wntr").__file__).parent
NETWORK_FILES = sorted([*(WNTR / "library" / "networks").glob("*.inp"),
                        *(WNTR / "tests" / "networks_for_testing").glob("*.inp")])


class EpanetRejects(Exception):
    """EPANET could not open or run the file."""


def open_project(inp: str | Path):
    """An opened EPANET project (caller closes it with `close_project`)."""
    ph = en.createproject()
    rpt = tempfile.NamedTemporaryFile(suffix=".rpt", delete=False)
    rpt.close()
    try:
        en.open(ph, str(inp), rpt.name, "")
    except Exception as exc:
        text = Path(rpt.name).read_text(errors="replace")
        en.deleteproject(ph)
        Path(rpt.name).unlink(missing_ok=True)
        raise EpanetRejects(f"{exc}: {' '.join(line.strip() for line in text.splitlines() if 'Error' in line)}") from None
    Path(rpt.name).unlink(missing_ok=True)
    return ph


def close_project(ph) -> None:
    en.close(ph)
    en.deleteproject(ph)


def simulate(inp: str | Path, max_hours: float = 168.0) -> tuple[list[str], list[str], np.ndarray, np.ndarray,
                                                                  list[int]]:
    """Node ids, link ids, heads [time, node], flows [time, link] at every reporting time, and the times.

    The run stops at the file's duration or `max_hours` (one week: every weekly pattern and control cycle),
    whichever comes first, to keep the tests quick; both files of a comparison get the same cap.
    """
    ph = open_project(inp)
    try:
        if en.gettimeparam(ph, en.DURATION) > max_hours * 3600:
            en.settimeparam(ph, en.DURATION, int(max_hours * 3600))
        n_nodes = en.getcount(ph, en.NODECOUNT)
        n_links = en.getcount(ph, en.LINKCOUNT)
        node_ids = [en.getnodeid(ph, i) for i in range(1, n_nodes + 1)]
        link_ids = [en.getlinkid(ph, i) for i in range(1, n_links + 1)]
        report_step = en.gettimeparam(ph, en.REPORTSTEP)
        report_start = en.gettimeparam(ph, en.REPORTSTART)
        nodes, links = range(1, n_nodes + 1), range(1, n_links + 1)
        getnode, getlink, HEAD, FLOW = en.getnodevalue, en.getlinkvalue, en.HEAD, en.FLOW
        heads, flows, times = [], [], []
        en.openH(ph)
        en.initH(ph, 0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # EPANET's warnings (disconnected nodes...) are the network's
                while True:
                    t = en.runH(ph)
                    # only reporting times are compared: the solver still takes every intermediate step
                    if t >= report_start and (t - report_start) % report_step == 0:
                        times.append(t)
                        heads.append([getnode(ph, i, HEAD) for i in nodes])
                        flows.append([getlink(ph, i, FLOW) for i in links])
                    if en.nextH(ph) <= 0:
                        break
        except Exception as exc:
            raise EpanetRejects(f"hydraulics failed: {exc}") from None
        en.closeH(ph)
        return node_ids, link_ids, np.array(heads), np.array(flows), times
    finally:
        close_project(ph)
