"""Simulation results: preallocated arrays filled during the run, SI DataFrames built once at the end.

`Results.node[...]` and `Results.link[...]` are DataFrames indexed by reporting time in seconds, one column per
element id as in the file, SI units:

* node: head (m), pressure (m of water above the node), demand (m³/s: junction outflow = delivered demand +
  emitter flow, as EPANET's EN_DEMAND; tank/reservoir net inflow, negative when supplying), leak (m³/s, emitter
  outflow).
* link: flow (m³/s, 0 when closed, as EPANET reports), velocity (m/s, 0 for pumps and closed links), headloss
  (m, H_start − H_end for open links, 0 when closed; pumps negative = head gain), status (EPANET's status codes:
  0 closed/cannot deliver head, 1 temporarily closed, 2 closed, 3 open, 4 active, 5 open beyond flow limit,
  6 FCV cannot hold its flow, 7 PRV/PSV cannot hold its pressure), setting (pump speed, valve setting in SI,
  pipe roughness; NaN when a valve is fixed open/closed).

`Results.warnings` lists `HydWarning(kind, time, elements, message)`; `Results.ok` is False when any period
could not be solved or did not converge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runze.hydraulics.compile import CLOSED, MISSING, PUMP, Compiled, valve_setting_si
from runze.network.units import FT

SEVERE = ("cannot_solve", "unbalanced", "rules_not_evaluated")

# User-facing warning texts, Chinese first (kind -> (zh, en)); placeholders filled by `warning_message`.
WARNING_TEXT: dict[str, tuple[str, str]] = {
    "cannot_solve": ("水力方程无法求解（EPANET 错误 110）", "hydraulic equations could not be solved (EPANET error 110)"),
    "unbalanced": ("{trials} 次迭代后仍未收敛（相对流量变化 {relerr:.3g}）",
                   "not converged after {trials} trials (relative flow change {relerr:.3g})"),
    "unstable": ("系统不稳定：状态反复切换", "system unstable: statuses kept changing"),
    "negative_pressure": ("有需水量的节点出现负压", "negative pressures at junctions with demand"),
    "valve_cannot_deliver": ("阀门无法达到其流量或压力设定", "valves cannot deliver their flow or pressure setting"),
    "pump_cannot_deliver_head": ("水泵无法提供所需扬程（暂时关闭）", "pumps cannot deliver the head asked of them (closed)"),
    "pump_cannot_deliver_flow": ("水泵运行超出其特性曲线范围", "pumps run beyond the end of their curves"),
    "disconnected": ("有需水量的节点与所有水池、水源断开", "junctions with demand cut off from every tank and reservoir"),
    "pipe_leakage_ignored": ("管道漏损（[LEAKAGE]）未计算", "pipe leakage ([LEAKAGE]) is not modelled"),
    "rules_not_evaluated": ("规则控制（[RULES]）未计算", "rule-based controls ([RULES]) are not evaluated"),
}


def warning_message(kind: str, **fields) -> str:
    zh, en = WARNING_TEXT.get(kind, (kind, kind))
    return f"{zh.format(**fields)} / {en.format(**fields)}"


@dataclass
class HydWarning:
    kind: str
    time: int
    elements: list[str] = field(default_factory=list)
    message: str = ""

    def __post_init__(self) -> None:
        if not self.message:
            self.message = warning_message(self.kind)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "time": self.time, "elements": list(self.elements), "message": self.message}


@dataclass
class RawResults:
    """Internal-unit arrays, one row per reporting time."""

    times: np.ndarray
    H: np.ndarray
    node_demand: np.ndarray
    E: np.ndarray
    Q: np.ndarray
    status: np.ndarray
    setting: np.ndarray
    iters: np.ndarray
    relerr: np.ndarray
    rows_filled: int = 0
    failed_from: int | None = None
    warnings: list = field(default_factory=list)
    iterations: int = 0
    final_state: object = None
    period_times: np.ndarray | None = None  # start of every hydraulic period solved

    @classmethod
    def allocate(cls, c: Compiled, times: np.ndarray) -> RawResults:
        r = times.size
        return cls(times=times, H=np.full((r, c.nn), np.nan), node_demand=np.full((r, c.nn), np.nan),
                   E=np.full((r, c.nj), np.nan), Q=np.full((r, c.nl), np.nan),
                   status=np.full((r, c.nl), -1, np.int8), setting=np.full((r, c.nl), np.nan),
                   iters=np.zeros(r, np.int64), relerr=np.full(r, np.nan))

    def store(self, row: int, st, info) -> None:
        self.H[row] = st.H
        self.node_demand[row] = st.node_demand
        self.E[row] = st.E
        self.Q[row] = st.Q
        self.status[row] = st.status
        self.setting[row] = st.setting
        self.iters[row] = info.iterations
        self.relerr[row] = info.relerr


class LazyFrames(Mapping):
    """{quantity: DataFrame}, each frame built on first access (most callers read two or three of nine)."""

    def __init__(self, makers: dict[str, Callable[[], pd.DataFrame]]) -> None:
        self._makers = makers
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = self._makers[key]()
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


@dataclass
class Results:
    node: Mapping[str, pd.DataFrame]
    link: Mapping[str, pd.DataFrame]
    warnings: list[HydWarning]
    ok: bool
    iterations: pd.Series
    compiled: Compiled | None = None
    period_times: np.ndarray | None = None

    @property
    def times(self) -> np.ndarray:
        return self.node["head"].index.to_numpy()

    def warnings_frame(self) -> pd.DataFrame:
        return pd.DataFrame([w.as_dict() for w in self.warnings], columns=["kind", "time", "elements", "message"])

    def to_long(self) -> pd.DataFrame:
        """All results in one long table: time, element kind, id, quantity, value (for parquet/csv)."""
        parts = []
        for kind, tables in (("node", self.node), ("link", self.link)):
            for name, df in tables.items():
                long = df.rename_axis("time").reset_index().melt(id_vars="time", var_name="id", value_name="value")
                long.insert(1, "element", kind)
                long.insert(3, "quantity", name)
                long["value"] = long["value"].astype(float)
                parts.append(long)
        return pd.concat(parts, ignore_index=True)


def build_results(c: Compiled, raw: RawResults) -> Results:
    """Convert to SI and wrap in DataFrames (done once per run)."""
    idx = pd.Index(raw.times, name="time")
    # column indexes built once and shared; arrays handed over without copies (they are ours alone)
    nodes = pd.Index(c.node_ids, dtype=object)
    links = pd.Index(c.link_ids, dtype=object)
    closed = raw.status <= CLOSED
    unfilled = np.isnan(raw.H[:, 0]) if raw.H.shape[1] else np.zeros(len(raw.times), bool)

    def frame(make, cols):
        return lambda: pd.DataFrame(make(), index=idx, columns=cols, copy=False)

    def leak():
        out = np.zeros_like(raw.node_demand)
        out[:, : c.nj] = raw.E * c.qcf
        return out

    def flow():
        return np.where(closed, 0.0, raw.Q) * c.qcf

    def velocity():
        area = np.pi * (c.diam * FT) ** 2 / 4.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((c.ltype == PUMP) | closed | (area <= 0), 0.0, np.abs(raw.Q * c.qcf) / area)

    def setting():
        out = raw.setting.copy()
        valves = c.valves
        out[:, valves] = valve_setting_si(c.ltype[valves], raw.setting[:, valves], c.qcf)
        if c.headloss == "D-W":
            out[:, c.pipes] = raw.setting[:, c.pipes] * FT
        out[raw.setting == MISSING] = np.nan
        return out

    node = LazyFrames({
        "head": frame(lambda: raw.H * FT, nodes),
        "pressure": frame(lambda: (raw.H - c.elev) * FT, nodes),
        "demand": frame(lambda: raw.node_demand * c.qcf, nodes),
        "leak": frame(leak, nodes),
    })
    link = LazyFrames({
        "flow": frame(flow, links),
        "velocity": frame(velocity, links),
        "headloss": frame(lambda: np.where(closed, 0.0, (raw.H[:, c.n1] - raw.H[:, c.n2]) * FT), links),
        "status": frame(lambda: raw.status, links),
        "setting": frame(setting, links),
    })
    ok = not any(w.kind in SEVERE for w in raw.warnings) and not unfilled.any()
    return Results(node=node, link=link, warnings=list(raw.warnings), ok=ok,
                   iterations=pd.Series(raw.iters, index=idx, name="iterations"), compiled=c,
                   period_times=raw.period_times)
