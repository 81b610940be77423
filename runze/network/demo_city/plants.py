"""Water plants, the booster station and the service tanks of the demo city, as EPANET elements.

A plant is its clearwell (清水池, a reservoir at the clearwell's water level) and its pump station (送水泵房):
duty pumps plus one standby (CLOSED) in parallel on the same 3-point head curve, discharging into a header,
the metered outlet pipe and one or more trunk mains into the city.  Plants 1-3 take raw water from the river,
plant 4 from the reservoir in the northern hills.  A bigger city (`scale` > 2.5) gets more groups of four.

The booster station (高区加压泵站) lifts main-zone water into the high zone's service tank on the hill; its
duty pumps switch on and off on the tank level.  The main zone's service tank sits on the northern ridge and
floats on the network: it fills at night and drains at the peaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from runze.network.demo_city.terrain import MAIN_TANK_BOTTOM_M, RIVER_HALF_WIDTH_M, Terrain, plant_groups

CAPACITY_M3D = (50_000.0, 40_000.0, 30_000.0, 30_000.0)
RAW_WATER = ("river", "river", "river", "reservoir")
CLEARWELL_DEPTH_M = 3.5  # clearwell water level above the plant's ground
PUMP_UNIT_M3S = 0.20  # about the largest single pump of a county plant
# plant outlet head at the pumps' duty point: below the tank, so that the tank fills when demand falls and
# the pumps run back on their curves, and drains at the peaks (commissioning then trims each plant)
OUTLET_HEAD_M = MAIN_TANK_BOTTOM_M + 3.5 - 8.0
_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(k: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 23 -> 二十三 (enough for plant names)."""
    if k < 10:
        return _CN_DIGITS[k]
    tens, ones = divmod(k, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + ("" if ones == 0 else _CN_DIGITS[ones])


@dataclass(slots=True)
class PlantSpec:
    number: int  # 1-based
    name: str
    capacity_m3d: float
    raw_water: str
    xy: np.ndarray
    ground: float
    n_duty: int
    n_trunks: int
    connect_nodes: list[int] = field(default_factory=list)  # street nodes the trunk mains reach

    @property
    def id(self) -> str:
        return f"P{self.number}"

    @property
    def capacity_m3s(self) -> float:
        return self.capacity_m3d / 86400.0

    @property
    def clearwell_head(self) -> float:
        return round(self.ground + CLEARWELL_DEPTH_M, 2)


def plant_specs(terrain: Terrain, scale: float) -> list[PlantSpec]:
    """Plants in order 1..n: per group of four, three river plants and one reservoir plant."""
    groups = plant_groups(scale)
    hx, hy = terrain.half_x, terrain.half_y
    # river plants along the river, alternating banks; the reservoir plants at the foot of the northern hills
    if groups == 1:
        river_x = np.array([-0.50, -0.93, 0.80]) * hx
        res_x = np.array([0.42]) * hx
    else:
        river_x = np.linspace(-0.93, 0.85, 3 * groups) * hx
        res_x = np.linspace(-0.6, 0.6, groups) * hx
    banks = np.array([1, -1, 1] * groups)[: len(river_x)]
    river_y = terrain.river_y(river_x) + banks * (RIVER_HALF_WIDTH_M + 70.0)
    res_y = np.full(len(res_x), 1.04 * hy)
    specs = []
    for g in range(groups):
        for i in range(4):
            number = 4 * g + i + 1
            cap = CAPACITY_M3D[i] * scale / groups
            if i < 3:
                xy = np.array([river_x[3 * g + i], river_y[3 * g + i]])
            else:
                xy = np.array([res_x[g], res_y[g]])
            ground = float(terrain.elevation(xy[None, :])[0])
            n_duty = int(np.clip(np.ceil(cap / 86400.0 / PUMP_UNIT_M3S), 2, 8))
            n_trunks = int(np.ceil(cap / 86400.0 / 0.9))
            specs.append(PlantSpec(number, f"{chinese_number(number)}水厂", cap, RAW_WATER[i], xy,
                                   round(ground, 2), n_duty, n_trunks))
    return specs


def pump_curve(q_design: float, h_design: float) -> list[tuple[float, float]]:
    """A 3-point head curve through the duty point: shutoff at 1.3 H, 0.6 H at 1.5 Q (m³/s, m)."""
    return [(0.0, round(1.3 * h_design, 2)), (round(q_design, 5), round(h_design, 2)),
            (round(1.5 * q_design, 5), round(0.6 * h_design, 2))]


@dataclass(slots=True)
class TankSpec:
    id: str
    name: str
    xy: np.ndarray
    elevation: float
    min_level: float
    max_level: float
    init_level: float
    diameter: float


def tank_diameter(volume_m3: float, depth_m: float) -> float:
    return round(float(np.sqrt(4.0 * volume_m3 / (np.pi * depth_m))), 1)
