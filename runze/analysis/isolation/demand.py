"""Demand of a set of nodes over wall-clock time, from the model's demand patterns (or telemetry).

Clock mapping: a model's pattern time 0 is its simulation start, whose clock time is
`options.time.start_clocktime` (EPANET's START CLOCKTIME) on a Monday (EPANET files do not say the weekday;
Monday keeps a 168-hour weekly pattern aligned with the week).  So local time t (seconds since Monday 00:00,
China Standard Time by default) reads pattern time t - start_clocktime + pattern_start, wrapping around the
pattern's length.  A daily pattern therefore depends on the time of day only.

Rates are m³/s inside and volumes m³.  The integral over a window is exact for step patterns whose step is a
multiple of the grid step (60 s by default).  Telemetry override: a per-node series of measured demand
(pandas Series, tz-aware DatetimeIndex, m³/s) replaces that node's pattern demand wherever it has data
(held from each reading to the next).  Demand entries whose category is leakage (NON_CUSTOMER_CATEGORIES,
configurable) are left out: an outage stops a leak, it does not deprive a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from runze.network.model import Network
from runze.network.topology import NetworkGraph

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time, no daylight saving
WEEK = 7 * 86400
# demand categories a model may carry that are not water customers use (a leak is not a customer's loss)
NON_CUSTOMER_CATEGORIES = ("leakage", "leak", "losses")
_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, for the weekday anchor


def to_epoch(t: datetime) -> float:
    """Seconds since the Unix epoch; a naive datetime is taken as local China Standard Time."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=CST)
    return t.timestamp()


@dataclass(frozen=True, slots=True)
class DemandModel:
    """Every junction demand as arrays: demand k is `base[k]` m³/s at node `node[k]` on pattern `pattern[k]`."""

    node: np.ndarray  # node index per demand entry
    base: np.ndarray  # m³/s, demand multiplier applied
    pattern: np.ndarray  # pattern row per demand entry (row 0 = constant 1.0)
    multipliers: np.ndarray  # (n_patterns + 1, period_steps): every pattern repeated to a common period
    pattern_step: float  # s
    offset: float  # s: pattern time = local week seconds + offset
    tz: timezone
    n_nodes: int

    @classmethod
    def from_network(cls, network: Network, graph: NetworkGraph, tz: timezone = CST,
                     exclude_categories: tuple[str, ...] = NON_CUSTOMER_CATEGORIES) -> DemandModel:
        """Demands of every junction, leaving out categories that are not customers' use (leakage)."""
        opts = network.options
        excluded = {c.lower() for c in exclude_categories}
        names = list(network.patterns)
        row = {name: i + 1 for i, name in enumerate(names)}
        default = opts.default_pattern if opts.default_pattern in row else ("1" if "1" in row else None)
        lengths = [max(len(network.patterns[n].multipliers), 1) for n in names]
        period = int(np.lcm.reduce(np.array(lengths + [1], dtype=np.int64)))
        if period > 24 * 7 * 12:  # patterns of unrelated lengths: fall back to the longest
            period = max(lengths)
        mult = np.ones((len(names) + 1, period))
        for i, name in enumerate(names):
            values = np.asarray(network.patterns[name].multipliers or [1.0], dtype=float)
            mult[i + 1] = np.resize(values, period)
        nodes, bases, pats = [], [], []
        for j in network.junctions.values():
            for d in j.demands:
                if d.category is not None and d.category.lower() in excluded:
                    continue
                nodes.append(graph.node_index[j.id])
                bases.append(d.base)
                pname = d.pattern if d.pattern is not None else default
                pats.append(row.get(pname, 0) if pname is not None else 0)
        ts = opts.time
        step = ts.pattern_step if ts.pattern_step > 0 else 3600.0
        return cls(np.array(nodes, dtype=np.int64), np.array(bases, dtype=float) * opts.demand_multiplier,
                   np.array(pats, dtype=np.int64), mult, float(step),
                   float(ts.pattern_start - ts.start_clocktime), tz, graph.n_nodes)

    # ---- rates -------------------------------------------------------------------------------------
    def base_per_node(self) -> np.ndarray:
        """Base demand per node, m³/s (sum of its demand entries)."""
        return np.bincount(self.node, weights=self.base, minlength=self.n_nodes)

    def mean_per_node(self) -> np.ndarray:
        """Average demand per node over the pattern period, m³/s."""
        mean_mult = self.multipliers.mean(axis=1)
        return np.bincount(self.node, weights=self.base * mean_mult[self.pattern], minlength=self.n_nodes)

    def pattern_time(self, epoch: np.ndarray) -> np.ndarray:
        """Pattern time (s) of wall-clock instants (epoch seconds)."""
        local = np.asarray(epoch, dtype=float) - _MONDAY.timestamp() + self.tz.utcoffset(None).total_seconds()
        return np.mod(local, WEEK) + self.offset

    def multiplier_at(self, epoch: np.ndarray) -> np.ndarray:
        """(n_patterns + 1, len(epoch)) multipliers at those instants."""
        period = self.multipliers.shape[1]
        idx = np.floor(self.pattern_time(epoch) / self.pattern_step).astype(np.int64) % period
        return self.multipliers[:, idx]

    def rate(self, node_mask: np.ndarray, epoch: np.ndarray,
             telemetry: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
        """Total demand (m³/s) of the nodes in `node_mask` at each instant in `epoch`.

        Demands are first summed per pattern (a few rows), so the cost does not grow with the node count.
        `telemetry`: {node index: (epoch seconds sorted, m³/s)} replaces those nodes' pattern demand.
        """
        epoch = np.asarray(epoch, dtype=float)
        sel = np.asarray(node_mask, dtype=bool)[self.node]
        per_pattern = np.bincount(self.pattern[sel], weights=self.base[sel], minlength=self.multipliers.shape[0])
        mult = self.multiplier_at(epoch)
        total = per_pattern @ mult
        for node, (times, values) in (telemetry or {}).items():
            if not node_mask[node] or len(times) == 0:
                continue
            k = np.searchsorted(times, epoch, side="right") - 1
            have = (k >= 0) & (epoch <= times[-1])
            mine = self.node == node
            modelled = np.bincount(self.pattern[mine], weights=self.base[mine],
                                   minlength=self.multipliers.shape[0]) @ mult
            total = total + np.where(have, np.asarray(values)[np.clip(k, 0, None)] - modelled, 0.0)
        return total

    def volume(self, node_mask: np.ndarray, starts: np.ndarray, duration: float, grid_step: float = 60.0,
               telemetry: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
        """Volume (m³) the nodes in `node_mask` would use over [start, start + duration) for each start."""
        starts = np.atleast_1d(np.asarray(starts, dtype=float))
        if duration <= 0:
            return np.zeros(len(starts))
        t0 = float(starts.min())
        n_steps = int(np.ceil((float(starts.max()) + duration - t0) / grid_step)) + 1
        grid = t0 + grid_step * np.arange(n_steps + 1)
        rate = self.rate(node_mask, grid[:-1], telemetry)  # held over each grid step
        cumulative = np.concatenate([[0.0], np.cumsum(rate * grid_step)])
        return np.interp(starts + duration, grid, cumulative) - np.interp(starts, grid, cumulative)


def telemetry_index(graph: NetworkGraph, series: Mapping[str, object] | None
                    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{node id: pandas Series (tz-aware index, m³/s)} -> {node index: (epoch seconds, values)}."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for node_id, s in (series or {}).items():
        if node_id not in graph.node_index:
            raise KeyError(f"telemetry for unknown node {node_id!r}")
        s = s.sort_index()  # type: ignore[attr-defined]
        idx = s.index  # type: ignore[attr-defined]
        if idx.tz is None:
            idx = idx.tz_localize(CST)
        seconds = idx.tz_convert("UTC").as_unit("ns").asi8 / 1e9
        out[graph.node_index[node_id]] = (seconds, s.to_numpy(dtype=float))  # type: ignore[attr-defined]
    return out
