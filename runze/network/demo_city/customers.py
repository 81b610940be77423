"""Service connections, their water use and diurnal patterns, the named critical users, and leakage.

About 100,000 connections per unit of scale, split into residential, commercial, industrial and institutional
customers; each category has an average use per connection (m³/d) and its own hourly pattern (mean 1).
Connections are spread over street nodes by frontage (half the length of the streets meeting there) times a
density that depends on the district: dense old town and centre, loose suburbs, industry in the industrial
estates.  Trunk nodes get none (service pipes hang off distribution mains).  Real losses are a demand
category "leakage" with a flat pattern, spread by pipe length, sized to `LEAKAGE_SHARE` of the system input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES = ("residential", "commercial", "industrial", "institutional")
CONNECTIONS_PER_SCALE = 100_000
CATEGORY_SHARE = np.array([0.920, 0.063, 0.005, 0.012])  # of connections
USE_M3D = np.array([0.60, 2.0, 30.0, 8.0])  # average use per connection, m³/d
LEAKAGE_SHARE = 0.10  # real losses as a share of system input

# density of each category by district kind (old_town, centre, suburb, industrial)
DENSITY = np.array([
    [2.2, 1.6, 0.8, 0.15],  # residential
    [3.0, 2.0, 0.4, 0.3],  # commercial
    [0.0, 0.02, 0.05, 1.0],  # industrial
    [1.5, 1.2, 0.6, 0.2],  # institutional
])

_RAW_PATTERNS = {
    # two peaks: getting up (07-08) and the evening (19-21); lowest at 02-04
    "residential": [0.45, 0.38, 0.35, 0.35, 0.40, 0.62, 1.15, 1.62, 1.45, 1.12, 1.02, 1.15,
                    1.22, 1.05, 0.92, 0.90, 0.98, 1.20, 1.52, 1.65, 1.50, 1.20, 0.88, 0.60],
    # shops and offices: open 08-21
    "commercial": [0.30, 0.25, 0.22, 0.22, 0.25, 0.35, 0.60, 0.95, 1.35, 1.55, 1.60, 1.65,
                   1.55, 1.45, 1.50, 1.55, 1.50, 1.40, 1.30, 1.20, 1.00, 0.80, 0.55, 0.40],
    # three-shift factories: nearly flat, a little more on the day shift
    "industrial": [0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.90, 1.10, 1.15, 1.15, 1.15, 1.10,
                   1.00, 1.10, 1.15, 1.15, 1.10, 1.05, 0.95, 0.95, 0.95, 0.90, 0.90, 0.85],
    # schools, hospitals, government: daytime
    "institutional": [0.35, 0.30, 0.30, 0.30, 0.30, 0.40, 0.70, 1.30, 1.80, 1.90, 1.80, 1.60,
                      1.30, 1.50, 1.70, 1.70, 1.50, 1.10, 0.80, 0.70, 0.60, 0.50, 0.40, 0.35],
    "leakage": [1.0] * 24,
}
PATTERNS = {k: (np.array(v) / np.mean(v)).round(4) for k, v in _RAW_PATTERNS.items()}

CRITICAL_USERS = (  # (name, category, district kinds where it may stand)
    ("县人民医院", "hospital", (0, 1)),
    ("县中医院", "hospital", (0, 1)),
    ("县妇幼保健院", "hospital", (1,)),
    ("县第一中学", "school", (1, 2)),
    ("县第二中学", "school", (1, 2)),
    ("实验小学", "school", (0, 1)),
    ("城东小学", "school", (1, 2)),
    ("县职业中专", "school", (2,)),
    ("县消防救援大队", "fire_station", (1,)),
    ("县疾控中心", "public_health", (1, 2)),
    ("高铁站", "transport", (2,)),
)


@dataclass(slots=True)
class Customers:
    counts: np.ndarray  # (n_nodes, 4) connections per category
    use_m3s: np.ndarray  # (n_nodes, 4) average use per category, m³/s
    leakage_m3s: np.ndarray  # (n_nodes,)
    critical: list[dict]  # {"name", "category", "node" (index)}

    @property
    def total_m3s(self) -> np.ndarray:
        return self.use_m3s.sum(axis=1) + self.leakage_m3s


def frontage(n: int, edges: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Half the length of the streets meeting at each node, m."""
    return 0.5 * (np.bincount(edges[:, 0], weights=length, minlength=n)
                  + np.bincount(edges[:, 1], weights=length, minlength=n))


def place_customers(rng: np.random.Generator, scale: float, node_kind: np.ndarray, front: np.ndarray,
                    eligible: np.ndarray, pipe_front: np.ndarray) -> Customers:
    """Connections per node and category; `eligible` marks nodes that may have customers."""
    n = len(node_kind)
    total = int(round(CONNECTIONS_PER_SCALE * scale))
    per_cat = np.round(CATEGORY_SHARE * total).astype(np.int64)
    counts = np.zeros((n, len(CATEGORIES)), dtype=np.int64)
    for c in range(len(CATEGORIES)):
        w = DENSITY[c][node_kind] * front * eligible
        counts[:, c] = rng.multinomial(per_cat[c], w / w.sum())
    critical = []
    for name, category, kinds in CRITICAL_USERS:
        cand = np.flatnonzero(eligible & np.isin(node_kind, kinds))
        if len(cand) == 0:  # a small city may lack that kind of district
            cand = np.flatnonzero(eligible)
        node = int(rng.choice(cand))
        critical.append({"name": name, "category": category, "node": node})
        counts[node, 3] += 1  # the critical user is itself an institutional connection
    use = counts * (USE_M3D / 86400.0)
    billed = use.sum()
    leakage_total = billed * LEAKAGE_SHARE / (1.0 - LEAKAGE_SHARE)
    leakage = leakage_total * pipe_front / pipe_front.sum()
    return Customers(counts=counts, use_m3s=use, leakage_m3s=leakage, critical=critical)


def combined_pattern(customers: Customers) -> np.ndarray:
    """The city's hourly demand multiplier (mean 1) from the category mix."""
    per_cat = customers.use_m3s.sum(axis=0)
    pats = np.array([PATTERNS[c] for c in CATEGORIES])
    total = per_cat @ pats + customers.leakage_m3s.sum() * PATTERNS["leakage"]
    return total / total.mean()
