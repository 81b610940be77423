"""Best window for a repair: the start that loses the least water for the customers cut off.

Candidates are start times every `step_minutes` whose local clock time lies in [earliest, latest] (00:00–06:00
China Standard Time by default) on each of the next `days` days, no earlier than the notice period allows
(`notice_hours`, 24 h by default).  The cost of a start is the volume the affected nodes (isolated segment and
unintended isolation) would have used over the whole repair, integrated from their demand patterns or a
per-node telemetry series (`telemetry`, see `demand.py`) — all candidates in one vectorised pass.

The best three are returned, each at least `min_separation_h` apart; when daily patterns make a later day
cost exactly the same as an earlier one at the same clock time, only the earliest is kept (no reason to wait).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np

from runze.analysis.isolation.demand import telemetry_index, to_epoch
from runze.analysis.isolation.plan import MAX_HOURS, OutageInputError, OutagePlanner
from runze.i18n import bilingual


@dataclass(slots=True)
class Window:
    start: datetime
    end: datetime
    volume_m3: float  # demand the affected customers would have used: the cost
    mean_rate_m3h: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "volume_m3": round(self.volume_m3, 4), "mean_rate_m3h": round(self.mean_rate_m3h, 4)}


def best_windows(planner: OutagePlanner, pipe: str | None = None, node: str | None = None, hours: float = 4.0,
                 days: int = 7, earliest: time = time(0, 0), latest: time = time(6, 0),
                 step_minutes: int = 15, count: int = 3, broken: Iterable[str] = (),
                 notice_hours: float = 24.0, now: datetime | None = None,
                 telemetry: Mapping[str, Any] | None = None, min_separation_h: float = 1.0
                 ) -> dict[str, Any]:
    """The `count` cheapest repair starts, with the nodes affected and the candidates searched."""
    if not (hours > 0) or hours > MAX_HOURS:
        raise OutageInputError(bilingual("outage.window_duration", hours=hours))
    if not 1 <= days <= 60:
        raise OutageInputError(bilingual("outage.window_days", days=days))
    if step_minutes <= 0:
        raise OutageInputError(bilingual("outage.window_step"))
    tz = planner.tz
    now = datetime.now(tz) if now is None else (now if now.tzinfo else now.replace(tzinfo=tz))
    seg = planner.segmentation(planner.check_broken(broken))
    target, _, s = planner.target_segment(seg, pipe, node)
    affected = np.zeros(planner.graph.n_nodes, dtype=bool)
    affected[seg.segment_nodes([s])] = True
    affected[seg.segment_nodes(seg.cut_off_by(np.array([s])))] = True

    # candidate starts: every step in [earliest, latest] local clock time, days 0..days, after the notice period
    day0 = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    t_first = to_epoch(day0)
    step = step_minutes * 60.0
    lo = earliest.hour * 3600 + earliest.minute * 60
    hi = latest.hour * 3600 + latest.minute * 60
    per_day = lo + step * np.arange(int(((hi - lo) % 86400 if hi != lo else 86400) // step) + 1)
    starts = (t_first + 86400.0 * np.arange(days + 1)[:, None] + per_day[None, :]).ravel()
    earliest_ok = to_epoch(now) + notice_hours * 3600.0
    horizon = to_epoch(now) + days * 86400.0
    starts = starts[(starts >= earliest_ok) & (starts <= horizon)]
    if starts.size == 0:
        raise OutageInputError(bilingual("outage.window_none", earliest=f"{earliest:%H:%M}", latest=f"{latest:%H:%M}",
                                         days=days, notice_hours=notice_hours))
    duration = hours * 3600.0
    cost = planner.demand.volume(affected, starts, duration, grid_step=min(60.0, step),
                                 telemetry=telemetry_index(planner.graph, telemetry))

    order = np.lexsort((starts, np.round(cost, 9)))
    # a later day at the same clock time and the same cost is the same answer: decided once, by its earliest
    clock = np.mod(starts - t_first, 86400.0)
    key = [(float(c), float(v)) for c, v in zip(clock, np.round(cost, 9), strict=True)]
    decided: set[tuple[float, float]] = set()
    chosen: list[int] = []
    for k in order:  # stops after `count` picks
        if key[k] in decided:
            continue
        decided.add(key[k])
        if all(abs(starts[k] - starts[c]) >= min_separation_h * 3600.0 for c in chosen):
            chosen.append(int(k))
        if len(chosen) == count:
            break
    windows = []
    for k in chosen:
        st = datetime.fromtimestamp(starts[k], tz)
        windows.append(Window(st, st + timedelta(hours=hours), float(cost[k]),
                              float(cost[k]) / hours))
    return {
        "target": target,
        "hours": hours,
        "affected_nodes": [planner.graph.node_ids[i] for i in np.flatnonzero(affected)],
        "candidates": int(starts.size),
        "worst_volume_m3": float(cost.max()),
        "windows": [w.to_dict() for w in windows],
    }
