"""Pipe sizes from design flows, and pipe materials, ages and Hazen-Williams C.

Design flow: peak-hour demand accumulated along a balanced shortest-path forest from the plants (the flow a
tree edge would carry if the network were a tree).  A pipe gets the smallest standard DN whose velocity and
hydraulic gradient at that flow stay under the limits; the gradient limit is set so that the longest path
from a plant loses no more than the head budget, so a bigger city (longer paths) gets bigger trunks.  Pipes
that close loops (carry no tree flow) get the district's minimum size: DN150 in town (fire flow), DN100 on
dead ends and in the suburbs.
"""

from __future__ import annotations

import numpy as np

DN_SERIES_MM = np.array([100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 1000])
DN_LARGE_MM = np.array([1200, 1400, 1600, 1800, 2000])  # only a city bigger than scale 1 needs these
V_MAX = 1.2  # m/s at the design flow
HEAD_BUDGET_M = 13.0  # head loss allowed from a plant to the farthest node at the design flow
DESIGN_C = 120.0

# material by district kind (old_town, centre, suburb, industrial): (code, C range, install years)
MATERIALS = {
    "CI": ((100.0, 110.0), (1978, 1996)),  # grey cast iron, the old town's first mains
    "DI": ((115.0, 135.0), (1996, 2024)),  # ductile iron, cement lined
    "PE": ((132.0, 140.0), (2006, 2024)),  # polyethylene, small new mains
    "SP": ((110.0, 125.0), (1995, 2020)),  # steel, large trunks and river crossings
}


def hw_gradient(q: np.ndarray, d: np.ndarray, c: float = DESIGN_C) -> np.ndarray:
    """Hazen-Williams head loss per metre (m/m) for flow q (m³/s) in diameter d (m)."""
    return 10.667 * np.abs(q) ** 1.852 / (c**1.852 * d**4.871)


def choose_dn(q: np.ndarray, min_dn: np.ndarray, gradient_limit: float, allow_large: bool) -> np.ndarray:
    """Smallest standard DN (mm) meeting the velocity and gradient limits at flow q, at least `min_dn`."""
    series = np.concatenate([DN_SERIES_MM, DN_LARGE_MM]) if allow_large else DN_SERIES_MM
    d = series[None, :] / 1000.0
    qq = np.abs(q)[:, None]
    ok = (4.0 * qq / (np.pi * d**2) <= V_MAX) & (hw_gradient(qq, d) <= gradient_limit)
    ok &= series[None, :] >= min_dn[:, None]
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), len(series) - 1)
    return series[first]


def gradient_limit_for(max_path_m: float) -> float:
    """Gradient limit (m/m) so that the longest path loses about the head budget (trunks take most of it)."""
    return float(np.clip(HEAD_BUDGET_M / max(max_path_m, 1.0), 0.0006, 0.004))


def materials(rng: np.random.Generator, dn_mm: np.ndarray, kind: np.ndarray, bridge: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Material code, install year and Hazen-Williams C per pipe (C falls with age for metal pipes)."""
    m = len(dn_mm)
    code = np.where(dn_mm >= 300, "DI", np.where(rng.random(m) < 0.55, "PE", "DI")).astype(object)
    code[(kind == 0) & (rng.random(m) < 0.8)] = "CI"
    code[(dn_mm >= 800) | bridge] = "SP"
    code[(code == "PE") & (dn_mm > 250)] = "DI"
    year = np.zeros(m, dtype=np.int64)
    c = np.zeros(m)
    for name, ((c_lo, c_hi), (y0, y1)) in MATERIALS.items():
        sel = code == name
        yr = rng.integers(y0, y1 + 1, sel.sum())
        # newer pipes sit at the top of the range
        age_frac = (yr - y0) / max(y1 - y0, 1)
        year[sel] = yr
        c[sel] = np.round(c_lo + (c_hi - c_lo) * age_frac + rng.uniform(-2.0, 2.0, sel.sum()))
    return code.astype(str), year, np.clip(c, 100.0, 140.0)
