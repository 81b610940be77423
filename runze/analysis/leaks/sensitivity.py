"""Leak sensitivities and leak what-ifs for localisation, on runze's batch solver (`runze.hydraulics.batch`).

`leak_sensitivity`: the change of the sensor pressures per m³/h of leak at each candidate node, at a few clock
hours — one single-period batch scenario per (candidate, hour) with a small emitter at the candidate, minus the
leak-free solve of that hour, divided by the emitter's actual outflow (finite differences: the batch kernel
solves emitter-only scenarios by a low-rank update of the base factorisation, so this is the "sensitivity
matrix" of issue 5 at the cost of a few triangular solves per column).

`leak_response`: full nonlinear solves of leaks of a given size (m³/h) at a few nodes and hours — the refinement
of the best candidates at the estimated leak size (a burst of 20 m³/h in a DMA fed through one main is far from
linear: the head loss grows with the square of the flow).

Both use each hour's snapshot of the file's patterns with tanks at their initial levels (see `solve_batch`);
emitter coefficients are in SI (m³/s per m^γ) with the file's emitter exponent γ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runze.hydraulics.batch import Scenario, solve_batch
from runze.network.model import Network

H = 3600.0


def _exponent(net: Network) -> float:
    return float(getattr(net.options, "emitter_exponent", 0.5) or 0.5)


def _times(net: Network, clock_hours: Sequence[float]) -> list[float]:
    """Solve times (s from the start) that fall at the given clock hours of the pattern day."""
    start = float(net.options.time.pattern_start or 0.0)
    return [((h * H - start) % 86400.0) for h in clock_hours]


def base_pressures(net: Network, nodes: Sequence[str], clock_hours: Sequence[float]) -> np.ndarray:
    """Leak-free pressures (m) of `nodes` at each clock hour: (n_hours, n_nodes)."""
    res = solve_batch(net, [Scenario(name="base")], times=_times(net, clock_hours))
    col = {n: i for i, n in enumerate(res.node_ids)}
    return res.pressure[0][:, [col[n] for n in nodes]]


def leak_response(net: Network, leak_nodes: Sequence[str], leak_m3h: np.ndarray | float, pressure_nodes: Sequence[str],
                  clock_hours: Sequence[float], base: np.ndarray | None = None, flow_links: Sequence[str] = ()
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pressure change (m) at `pressure_nodes` for a leak of about `leak_m3h` at each of `leak_nodes`.

    The emitter of each leak is sized from its node's mean leak-free pressure over the hours, so its outflow
    varies with the hour's pressure as a real orifice does.  Returns (dp (n_hours, n_pressure, n_leaks), outflow
    (n_hours, n_leaks) m³/h, converged (n_hours, n_leaks)); with `flow_links`, dp has after its pressure rows
    one row per link: the change of its flow in m³/h (positive from its first node to its second).
    """
    leak_nodes = list(leak_nodes)
    times = _times(net, clock_hours)
    sizes = np.broadcast_to(np.asarray(leak_m3h, float), (len(leak_nodes),))
    gamma = _exponent(net)
    if base is None:
        base = base_pressures(net, leak_nodes, clock_hours)
    p_mean = np.maximum(base.mean(axis=0), 1.0)
    coeff = sizes / H / p_mean ** gamma
    scen = [Scenario(name="base")] + [Scenario(emitters={n: float(c)}, name=n)
                                       for n, c in zip(leak_nodes, coeff, strict=True)]
    res = solve_batch(net, scen, times=times)
    col = {n: i for i, n in enumerate(res.node_ids)}
    pidx = np.array([col[n] for n in pressure_nodes], dtype=np.int64)
    lidx = np.array([col[n] for n in leak_nodes], dtype=np.int64)
    p = res.pressure[:, :, pidx]  # (1 + n_leaks, n_hours, n_pressure)
    dp = np.transpose(p[1:] - p[:1], (1, 2, 0))
    if len(flow_links):
        lcol = {k: i for i, k in enumerate(res.link_ids)}
        f = res.flow[:, :, [lcol[k] for k in flow_links]] * H
        dp = np.concatenate([dp, np.transpose(f[1:] - f[:1], (1, 2, 0))], axis=1)
    out = res.leak[1:, :, :][np.arange(len(leak_nodes)), :, lidx].T * H  # (n_hours, n_leaks)
    return dp, out, res.converged[1:].T


def leak_sensitivity(net: Network, candidates: Sequence[str], pressure_nodes: Sequence[str],
                     clock_hours: Sequence[float], leak_m3h: float = 1.0, flow_links: Sequence[str] = ()
                     ) -> np.ndarray:
    """Pressure change (m) per m³/h of leak at each candidate: (n_hours, n_pressure, n_candidates); with
    `flow_links`, one more row per link: its flow change per m³/h of leak (dimensionless).

    A small leak (`leak_m3h`) keeps the finite difference in the linear range; columns whose solve did not
    converge or whose emitter gave nothing are 0 (such a candidate then explains nothing).
    """
    dp, out, ok = leak_response(net, candidates, leak_m3h, pressure_nodes, clock_hours, flow_links=flow_links)
    good = ok & (out > 1e-9)
    return np.where(good[:, None, :], dp / np.where(good, out, 1.0)[:, None, :], 0.0)


__all__ = ["base_pressures", "leak_response", "leak_sensitivity"]
