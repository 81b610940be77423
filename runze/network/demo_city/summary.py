"""Figures of a demo city (or any network with Runze's sidecar): plants, mains by size band, DMAs, customers.

`city_summary(network)` returns plain data (numbers and lists) so that the CLI, the dashboard and the tests
show the same figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runze.network.model import Network

DN_BANDS_MM = ((0, 150, "DN100-150"), (151, 300, "DN200-300"), (301, 600, "DN400-600"), (601, 1000, "DN700-1000"),
               (1001, 10_000, "DN1200+"))


def city_summary(net: Network) -> dict[str, Any]:
    """Plants, capacity, km of mains by DN band, DMAs, customers by category, tanks, zones."""
    u = net.utility
    dn = np.array([round(p.diameter * 1000.0) for p in net.pipes.values()], dtype=float)
    length = np.array([p.length for p in net.pipes.values()], dtype=float)
    bands = {name: float(length[(dn >= lo) & (dn <= hi)].sum() / 1000.0) for lo, hi, name in DN_BANDS_MM}
    categories: dict[str, int] = {}
    for counts in u.customers.values():
        for cat, c in counts.items():
            categories[cat] = categories.get(cat, 0) + int(c)
    plants = [{"id": p["id"], "name": p["name"], "capacity_m3d": float(p["capacity_m3d"]),
               "raw_water": p.get("raw_water", ""), "duty_pumps": len(p.get("duty_pumps", p.get("pumps", []))),
               "standby_pumps": len(p.get("standby_pumps", []))} for p in u.plants]
    tanks = [{"id": t.id, "name": t.tag or t.id, "zone": u.zones.get(t.id, ""), "diameter_m": t.diameter,
              "levels_m": (t.min_level, t.max_level), "volume_m3": float(np.pi / 4 * t.diameter**2
                                                                         * (t.max_level - t.min_level))}
             for t in net.tanks.values()]
    zones: dict[str, int] = {}
    for z in u.zones.values():
        zones[z] = zones.get(z, 0) + 1
    demand = sum(j.base_demand for j in net.junctions.values())
    return {
        "name": net.name,
        "plants": plants,
        "capacity_m3d": float(sum(p["capacity_m3d"] for p in plants)),
        "average_demand_m3d": float(demand * 86400.0),
        "mains_km": float(length.sum() / 1000.0),
        "mains_km_by_dn": bands,
        "junctions": len(net.junctions),
        "pipes": len(net.pipes),
        "dmas": len(u.dmas),
        "customers": int(sum(categories.values())),
        "customers_by_category": categories,
        "critical_users": len(u.critical_users),
        "isolation_valves": len(u.valves),
        "sensors": len(u.sensors),
        "tanks": tanks,
        "zones": zones,
    }
