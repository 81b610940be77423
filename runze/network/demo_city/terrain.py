"""Terrain of the demo city: the river, the ground elevation field, the hills and the sites on them.

The city lies in a river valley (ground about 40 m at the river) that rises gently away from the water; a big
hill south-east of the centre (summit about 95 m, a park above 84 m) carries the high pressure zone and its
service tank; a ridge north of the city, outside the built-up area, carries the main zone's service tank.
Plants 1-3 stand on the river banks (raw water from the river), plant 4 at the foot of the northern hills
next to the reservoir.  All lengths are metres on a local grid with the origin at the city centre; `scale`
grows the city's area, so every horizontal length is multiplied by sqrt(scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VALLEY_FLOOR_M = 40.0  # ground at the river
VALLEY_RISE_M = 16.0  # how far the plain rises away from the river
HIGH_ZONE_FROM_M = 62.0  # ground above which the main zone can no longer give 14 m at the peak
PARK_ABOVE_M = 84.0  # hill tops above this are parks: no streets
MAIN_TANK_BOTTOM_M = 92.0  # ground-level service reservoir on the northern ridge (heads 92.5-99)
RIVER_HALF_WIDTH_M = 90.0


@dataclass(frozen=True, slots=True)
class Terrain:
    """Parameters of the ground and water features; `elevation` evaluates the ground at any point."""

    half_x: float  # m, half-axes of the built-up ellipse
    half_y: float
    lin: float  # sqrt(scale)
    river_y0: float
    river_amp: float
    river_wavelength: float
    river_phase: float
    hill_xy: tuple[float, float]  # the high zone's hill
    hill_sigma: float
    hill_height: float
    ridge_sites: np.ndarray  # (k, 2) tops of the northern ridge, one main service tank on each
    ridge_sigma: float
    ridge_height: np.ndarray  # (k,)
    waves: np.ndarray  # (k, 4): amplitude, kx, ky, phase of small undulations

    def river_y(self, x: np.ndarray) -> np.ndarray:
        """Centre line of the river (it flows west to east)."""
        return self.river_y0 + self.river_amp * np.sin(2.0 * np.pi * x / self.river_wavelength + self.river_phase)

    def river_side(self, xy: np.ndarray) -> np.ndarray:
        """+1 north of the river, -1 south of it."""
        return np.where(xy[:, 1] >= self.river_y(xy[:, 0]), 1, -1)

    def river_distance(self, xy: np.ndarray) -> np.ndarray:
        """Approximate distance to the river's centre line (vertical offset corrected by the bank slope)."""
        x = xy[:, 0]
        slope = self.river_amp * 2.0 * np.pi / self.river_wavelength * np.cos(
            2.0 * np.pi * x / self.river_wavelength + self.river_phase)
        return np.abs(xy[:, 1] - self.river_y(x)) / np.sqrt(1.0 + slope**2)

    def elevation(self, xy: np.ndarray) -> np.ndarray:
        """Ground elevation in m at the points xy (n, 2)."""
        d = self.river_distance(xy)
        ground = VALLEY_FLOOR_M + VALLEY_RISE_M * (1.0 - np.exp(-d / (1500.0 * self.lin)))
        # small undulations, at most ~3 m, vanishing at the river so the banks stay low
        w = self.waves
        und = (w[:, 0] * np.sin(np.outer(xy[:, 0], w[:, 1]) + np.outer(xy[:, 1], w[:, 2]) + w[:, 3])).sum(axis=1)
        ground = ground + und * np.minimum(1.0, d / 600.0)
        r2 = ((xy - np.asarray(self.hill_xy)) ** 2).sum(axis=1)
        ground = ground + self.hill_height * np.exp(-r2 / (2.0 * self.hill_sigma**2))
        for site, height in zip(self.ridge_sites, self.ridge_height, strict=True):
            r2 = ((xy - site) ** 2).sum(axis=1)
            ground = ground + height * np.exp(-r2 / (2.0 * self.ridge_sigma**2))
        return ground

    def hill_summit(self) -> np.ndarray:
        return np.asarray(self.hill_xy, dtype=float)


def plant_groups(scale: float) -> int:
    """Groups of four plants (and main service tanks) a city of this scale gets: one up to scale 2.5."""
    return max(1, int(np.ceil(scale / 2.5)))


def make_terrain(rng: np.random.Generator, scale: float, size_factor: float = 1.0) -> Terrain:
    """Draw the terrain for a city of `scale` (area multiplier); `size_factor` stretches the built-up area."""
    lin = float(np.sqrt(scale))
    half_x, half_y = 4300.0 * lin * size_factor, 3300.0 * lin * size_factor
    river_y0 = -0.12 * half_y + rng.uniform(-0.04, 0.04) * half_y
    river_amp = rng.uniform(0.07, 0.10) * half_y
    river_wavelength = rng.uniform(0.9, 1.2) * half_x
    river_phase = rng.uniform(0.0, 2.0 * np.pi)
    hill_xy = (rng.uniform(0.38, 0.48) * half_x, -rng.uniform(0.50, 0.60) * half_y)
    ridge_x = -rng.uniform(0.10, 0.25) * half_x
    groups = plant_groups(scale)
    xs = np.array([ridge_x]) if groups == 1 else np.linspace(-0.75, 0.45, groups) * half_x
    ridge_sites = np.column_stack([xs, np.full(groups, 1.45 * half_y)])
    # undulations with 1.5-3 km wavelengths and ~1 m amplitude each
    k = 4
    wl = rng.uniform(1500.0, 3000.0, k) * lin
    ang = rng.uniform(0.0, np.pi, k)
    waves = np.column_stack([rng.uniform(0.6, 1.0, k), 2 * np.pi / wl * np.cos(ang), 2 * np.pi / wl * np.sin(ang),
                             rng.uniform(0.0, 2 * np.pi, k)])
    terrain = Terrain(half_x, half_y, lin, river_y0, river_amp, river_wavelength, river_phase, hill_xy,
                      950.0 * lin * size_factor, 0.0, ridge_sites, 520.0 * lin * size_factor, np.zeros(groups),
                      waves)
    # heights chosen so that the hill summit stands at ~96 m and the ridge top at the main tank's bottom
    base_hill = float(terrain.elevation(np.array([hill_xy]))[0])
    base_ridge = terrain.elevation(ridge_sites)
    return Terrain(half_x, half_y, lin, river_y0, river_amp, river_wavelength, river_phase, hill_xy,
                   terrain.hill_sigma, 96.0 - base_hill, ridge_sites, terrain.ridge_sigma,
                   MAIN_TANK_BOTTOM_M + 0.5 - base_ridge, waves)
