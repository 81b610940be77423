"""Repair plans: what to shut for work on a pipe, and what the outage does to customers and the network.

`OutagePlanner` prepares a network once (graph arrays, valve layer, segments, demand model) and answers
`plan(pipe=..., start=..., hours=...)`.  A plan lists the valves to close (and pumps/control valves to shut
where they bound the segment), the isolated segment, the unintended isolation (segments cut off from every
reservoir and tank once the segment is shut), pipes and water to drain, customers by category and critical
users affected, demand lost (m³/h at the start, m³ over the work), and a pressure-driven run of the rest of
the network (`hydraulic.outage_pressures`).  Broken or inaccessible valves are skipped: the segments on their
two sides merge and the plan shows the larger outage and what it would have been.  `find_conflicts` flags
planned outages that overlap in time and place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from runze.analysis.isolation.demand import (
    CST,
    NON_CUSTOMER_CATEGORIES,
    DemandModel,
    telemetry_index,
    to_epoch,
)
from runze.analysis.isolation.hydraulic import outage_pressures
from runze.analysis.isolation.segments import (
    Closable,
    Segmentation,
    ValveLayer,
    backfeed_opening,
    build_segments,
)
from runze.i18n import bilingual
from runze.network.errors import NetworkError
from runze.network.model import Network
from runze.network.topology import NetworkGraph

MAX_HOURS = 7 * 24.0


class OutageInputError(NetworkError):
    """A request the planner cannot answer as asked (unknown pipe, bad duration, ...), said plainly."""


@dataclass(slots=True)
class RepairPlan:
    target: str  # the pipe (or node) under repair
    target_kind: str
    position: float | None  # where on the pipe (0 at node1 .. 1 at node2), as given; same segment anywhere
    start: datetime
    end: datetime
    valves_to_close: list[str]
    closers: list[dict[str, Any]]  # every valve/link to shut, with kind, link, node, diameter
    already_closed: list[str]  # boundary closers shut in normal operation: check, do not operate
    pumps_to_stop: list[str]
    valves_to_open: list[str]  # normally closed valves to open to back-feed what would be cut off (backfeed)
    backfed_nodes: list[str]  # nodes kept in supply by opening them
    isolated_segments: list[int]
    isolated_nodes: list[str]
    isolated_links: list[str]
    unintended_segments: list[int]
    unintended_nodes: list[str]
    unintended_links: list[str]
    broken_skipped: list[str]  # broken valves on the way that forced a larger outage
    segment_without_broken: dict[str, Any] | None  # the outage with every valve working, for comparison
    pipes: dict[str, float]  # count, length_m, volume_m3 (isolated segment); unintended count/length
    customers: dict[str, int]  # category -> count over isolated + unintended nodes
    customers_per_node: dict[str, dict[str, int]]
    critical_users: list[dict[str, Any]]
    dmas: list[dict[str, str]]
    demand_lost_m3h: float  # at the start of the work
    demand_lost_m3: float  # over the work
    share_of_network: float  # share of total pipe length out of service
    pressure: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    short_notice: bool = False

    @property
    def affected_nodes(self) -> list[str]:
        return self.isolated_nodes + self.unintended_nodes

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        out["hours"] = (self.end - self.start).total_seconds() / 3600.0
        return out


class OutagePlanner:
    """One network prepared for outage questions; segments are cached per set of broken valves."""

    def __init__(self, network: Network, valves: Iterable[Mapping[str, Any]] | None = None,
                 closable: Closable = "boundary", tz=CST, inp_path: str | Path | None = None,
                 max_share: float = 0.10, valve_source: str = "valve layer",
                 exclude_categories: tuple[str, ...] = NON_CUSTOMER_CATEGORIES) -> None:
        self.network = network
        self.graph = NetworkGraph.from_network(network)
        rows = list(network.utility.valves if valves is None else valves)
        self.valves = ValveLayer.from_rows(self.graph, rows, source=valve_source)
        self.closable = closable
        self.tz = tz
        self.inp_path = inp_path
        self.max_share = max_share
        self.demand = DemandModel.from_network(network, self.graph, tz, exclude_categories)
        self._segmentations: dict[frozenset[str], Segmentation] = {}
        self.node_dma = self._node_dma()
        self.total_pipe_length = float(self.graph.length[self.graph.is_pipe].sum())

    # ---- building blocks ---------------------------------------------------------------------------
    def segmentation(self, broken: Iterable[str] = ()) -> Segmentation:
        key = frozenset(str(b) for b in broken)
        if key not in self._segmentations:
            self._segmentations[key] = build_segments(self.graph, self.valves, key, self.closable)
        return self._segmentations[key]

    def _node_dma(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for dma_id, dma in self.network.utility.dmas.items():
            for n in dma.get("nodes", []) or []:
                out[str(n)] = str(dma_id)
        return out

    def check_broken(self, broken: Iterable[str]) -> list[str]:
        known = set(self.valves.ids) | set(self.graph.link_ids)
        broken = [str(b).strip() for b in broken if str(b).strip()]
        unknown = [b for b in broken if b not in known]
        if unknown:
            raise OutageInputError(bilingual("outage.unknown_broken_valves", valves=", ".join(unknown)))
        return broken

    def target_segment(self, seg: Segmentation, pipe: str | None, node: str | None) -> tuple[str, str, int]:
        if (pipe is None) == (node is None):
            raise OutageInputError(bilingual("outage.pipe_or_node"))
        if pipe is not None:
            if pipe not in self.graph.link_index:
                raise OutageInputError(bilingual("outage.unknown_pipe", pipe=pipe))
            s = int(seg.link_segment[self.graph.link_index[pipe]])
            if s < 0:  # a pump or control valve: it is shut itself; repair isolates its two sides' closers
                raise OutageInputError(bilingual("outage.not_a_pipe", pipe=pipe, kind=self.network.link_kind(pipe)))
            return pipe, "pipe", s
        if node not in self.graph.node_index:
            raise OutageInputError(bilingual("outage.unknown_node", node=node))
        return str(node), "node", int(seg.node_segment[self.graph.node_index[node]])

    # ---- the plan ----------------------------------------------------------------------------------
    def plan(self, pipe: str | None = None, node: str | None = None, start: datetime | None = None,
             hours: float = 4.0, broken: Iterable[str] = (), solver: str | None = None,
             threshold_m: float = 14.0, notice_hours: float = 24.0, now: datetime | None = None,
             telemetry: Mapping[str, Any] | None = None, position: float | None = None,
             backfeed: bool = False) -> RepairPlan:
        """The repair plan for work on `pipe` (or `node`) from `start` for `hours`.

        `backfeed`: open normally closed valves (DMA boundaries, closed pipes) to keep supplying what the
        shut-off would otherwise cut off; they are listed in `valves_to_open`.
        `position` (0..1 along the pipe from its first node) records a point on the pipe: valves sit only at
        pipe ends, so the whole pipe is in one segment and the point does not change what is shut.
        """
        if position is not None and not (0.0 <= position <= 1.0):
            raise OutageInputError(bilingual("outage.bad_position", position=position))
        if not (hours > 0):
            raise OutageInputError(bilingual("outage.duration_not_positive", hours=hours))
        if hours > MAX_HOURS:
            raise OutageInputError(bilingual("outage.duration_too_long", hours=hours, max_hours=MAX_HOURS))
        broken = self.check_broken(broken)
        now = datetime.now(self.tz) if now is None else _aware(now, self.tz)
        start = _next_midnight(now, self.tz) if start is None else _aware(start, self.tz)
        end = start + timedelta(hours=hours)
        seg = self.segmentation(broken)
        target, kind, s = self.target_segment(seg, pipe, node)
        g = self.graph
        isolated = np.array([s])
        to_open = rescued = np.zeros(0, dtype=np.int64)
        if backfeed:  # open normally closed boundary valves where that brings water back
            to_open, rescued, unintended = backfeed_opening(seg, isolated)
        else:
            unintended = seg.cut_off_by(isolated)
        iso_nodes = seg.segment_nodes(isolated)
        iso_links = seg.segment_links(isolated)
        un_nodes = seg.segment_nodes(unintended)
        un_links = seg.segment_links(unintended)

        closers = seg.boundary_closers(isolated)
        closer_rows = [self._closer_row(seg, k) for k in closers]
        valves_to_close = [r["id"] for r in closer_rows if r["kind"] in ("valve", "control valve")
                           and r["normally_open"]]
        pumps_to_stop = [r["id"] for r in closer_rows if r["kind"] == "pump" and r["normally_open"]]
        already_closed = [r["id"] for r in closer_rows if not r["normally_open"]]

        # what broken valves cost: the segment(s) with every valve working, inside the merged one
        without = None
        skipped: list[str] = []
        if broken or any(st in ("BROKEN", "INACCESSIBLE", "STUCK", "INOPERABLE") for st in self.valves.status):
            base = self.segmentation(())
            if kind == "pipe":
                s0 = int(base.link_segment[g.link_index[target]])
            else:
                s0 = int(base.node_segment[g.node_index[target]])
            un0 = base.cut_off_by(np.array([s0]))
            n0 = len(base.segment_nodes([s0])) + len(base.segment_nodes(un0))
            if n0 != len(iso_nodes) + len(un_nodes):
                broken_all = set(broken) | {v for v, st in zip(self.valves.ids, self.valves.status, strict=True)
                                            if st in ("BROKEN", "INACCESSIBLE", "STUCK", "INOPERABLE")}
                skipped = sorted(broken_all & set(self._valves_between(iso_nodes, iso_links)))
                b0 = base.boundary_closers([s0])
                without = {
                    "valves_to_close": [base.closer_ids[k] for k in b0],
                    "isolated_nodes": [g.node_ids[i] for i in base.segment_nodes([s0])],
                    "isolated_links": [g.link_ids[i] for i in base.segment_links([s0])],
                    "unintended_nodes": [g.node_ids[i] for i in base.segment_nodes(un0)],
                }

        affected = np.zeros(g.n_nodes, dtype=bool)
        affected[iso_nodes] = True
        affected[un_nodes] = True
        t0 = to_epoch(start)
        tel = telemetry_index(g, telemetry)
        rate = float(self.demand.rate(affected, np.array([t0]), tel)[0])
        volume = float(self.demand.volume(affected, np.array([t0]), hours * 3600.0, telemetry=tel)[0])

        vol = np.pi * g.diameter**2 / 4.0 * g.length
        pipes_iso = iso_links[g.is_pipe[iso_links]]
        pipes_un = un_links[g.is_pipe[un_links]]
        out_len = float(g.length[pipes_iso].sum() + g.length[pipes_un].sum())
        share = out_len / self.total_pipe_length if self.total_pipe_length > 0 else 0.0
        affected_ids = [g.node_ids[i] for i in np.flatnonzero(affected)]
        per_node, by_cat = self._customers(affected_ids)
        critical = [dict(c) for c in self.network.utility.critical_users if str(c.get("node")) in set(affected_ids)]

        warnings: list[str] = []
        if share > self.max_share:
            warnings.append(
                f"large outage: {share:.0%} of the network's pipe length ({out_len / 1000:.2f} km) is out of "
                f"service, above the {self.max_share:.0%} limit — few or no valves around {target!r}; "
                "check the valve layer or plan temporary supply")
        if len(self.valves) == 0:
            warnings.append("the valve layer is empty: segments are bounded only by pumps and control valves")
        if not valves_to_close and not pumps_to_stop:
            warnings.append(f"no valve or pump bounds the segment of {target!r}: it cannot be isolated")
        if broken and without is None:
            warnings.append("the broken valve(s) given do not change this outage")
        short = (start - now).total_seconds() < notice_hours * 3600.0
        if short:
            warnings.append(f"starts {((start - now).total_seconds() / 3600.0):.1f} h from now: planned work "
                            f"needs {notice_hours:g} h notice to customers")
        if unintended.size:
            warnings.append(f"unintended isolation: {len(un_nodes)} node(s) lose every source")

        off_nodes = affected_ids
        closed_links = sorted({g.link_ids[i] for i in iso_links} | {g.link_ids[seg.closer_link[k]]
                                                                       for k in closers})
        pattern_time = float(self.demand.pattern_time(np.array([t0]))[0])
        local = start.astimezone(self.tz)
        clock = local.hour * 3600 + local.minute * 60 + local.second
        pressure = outage_pressures(self.network, closed_links, off_nodes, pattern_time, clock,
                                    hours * 3600.0, threshold_m, solver, self.inp_path)
        if pressure.message and pressure.solver != "none":
            warnings.append(pressure.message)

        dmas = sorted({self.node_dma[n] for n in affected_ids if n in self.node_dma})
        return RepairPlan(
            target=target, target_kind=kind, position=position, start=start, end=end,
            valves_to_close=valves_to_close, closers=closer_rows, already_closed=already_closed,
            pumps_to_stop=pumps_to_stop, valves_to_open=[seg.closer_ids[k] for k in to_open],
            backfed_nodes=[g.node_ids[i] for i in seg.segment_nodes(rescued)], isolated_segments=[s], unintended_segments=unintended.tolist(),
            isolated_nodes=[g.node_ids[i] for i in iso_nodes], isolated_links=[g.link_ids[i] for i in iso_links],
            unintended_nodes=[g.node_ids[i] for i in un_nodes], unintended_links=[g.link_ids[i] for i in un_links],
            broken_skipped=skipped, segment_without_broken=without,
            pipes={"count": int(len(pipes_iso)), "length_m": float(g.length[pipes_iso].sum()),
                   "volume_m3": float(vol[pipes_iso].sum()), "unintended_count": int(len(pipes_un)),
                   "unintended_length_m": float(g.length[pipes_un].sum()),
                   "unintended_volume_m3": float(vol[pipes_un].sum())},
            customers=by_cat, customers_per_node=per_node, critical_users=critical,
            dmas=[{"id": d, "name": str(self.network.utility.dmas[d].get("name", d))} for d in dmas],
            demand_lost_m3h=rate * 3600.0, demand_lost_m3=volume, share_of_network=share,
            pressure=pressure.to_dict(), warnings=warnings, short_notice=short,
        )

    def _closer_row(self, seg: Segmentation, k: int) -> dict[str, Any]:
        g = self.graph
        row: dict[str, Any] = {"id": seg.closer_ids[k], "kind": str(seg.closer_kind[k]),
                               "link": g.link_ids[seg.closer_link[k]], "normally_open": bool(seg.closer_carries[k])}
        if row["kind"] == "valve":
            v = self.valves.ids.index(row["id"])
            row["node"] = g.node_ids[self.valves.node[v]]
            d = self.valves.diameter[v]
            row["diameter_m"] = None if np.isnan(d) else float(d)
        return row

    def _valves_between(self, nodes: np.ndarray, links: np.ndarray) -> list[str]:
        """Valves of the layer lying inside the merged outage (on one of its links, at one of its nodes)."""
        in_nodes = np.isin(self.valves.node, nodes)
        in_links = np.isin(self.valves.link, links)
        return [v for v, ok in zip(self.valves.ids, in_nodes & in_links, strict=True) if ok]

    def _customers(self, nodes: Sequence[str]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        table = self.network.utility.customers
        per_node = {n: dict(table[n]) for n in nodes if n in table}
        by_cat: dict[str, int] = {}
        for cats in per_node.values():
            for cat, count in cats.items():
                by_cat[cat] = by_cat.get(cat, 0) + int(count)
        return per_node, by_cat


def _footprint(plan: RepairPlan | Mapping[str, Any]) -> tuple[datetime, datetime, str, set, set, set]:
    """(start, end, target, nodes, links, valves) of a plan or of its JSON form (`RepairPlan.to_dict`)."""
    if isinstance(plan, RepairPlan):
        d: Mapping[str, Any] = {"start": plan.start, "end": plan.end, "target": plan.target,
                                "isolated_nodes": plan.isolated_nodes, "unintended_nodes": plan.unintended_nodes,
                                "isolated_links": plan.isolated_links, "unintended_links": plan.unintended_links,
                                "valves_to_close": plan.valves_to_close}
    else:
        d = plan
    start, end = (t if isinstance(t, datetime) else datetime.fromisoformat(str(t)) for t in (d["start"], d["end"]))
    nodes = set(d.get("isolated_nodes", [])) | set(d.get("unintended_nodes", []))
    links = set(d.get("isolated_links", [])) | set(d.get("unintended_links", []))
    return _aware(start, CST), _aware(end, CST), str(d.get("target", "?")), nodes, links, set(
        d.get("valves_to_close", []))


def find_conflicts(plans: Sequence[RepairPlan | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pairs of planned outages that overlap in time and share nodes, pipes or valves to close."""
    prints = [_footprint(p) for p in plans]
    out = []
    for i in range(len(prints)):
        for j in range(i + 1, len(prints)):
            (s1, e1, t1, n1, l1, v1), (s2, e2, t2, n2, l2, v2) = prints[i], prints[j]
            lo, hi = max(s1, s2), min(e1, e2)
            if lo >= hi:
                continue
            nodes, links, valves = sorted(n1 & n2), sorted(l1 & l2), sorted(v1 & v2)
            if nodes or links or valves:
                out.append({"plans": [i, j], "targets": [t1, t2], "overlap_start": lo.isoformat(),
                            "overlap_end": hi.isoformat(), "shared_nodes": nodes, "shared_links": links,
                            "shared_valves": valves})
    return out


def _aware(t: datetime, tz) -> datetime:
    return t.replace(tzinfo=tz) if t.tzinfo is None else t


def _next_midnight(now: datetime, tz) -> datetime:
    local = now.astimezone(tz)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
