"""Service-level KPIs for reports: pressure compliance, water-quality (turbidity) compliance, repair timeliness.

Pure functions on pandas objects; results are dataclasses with ``.to_dict()`` and :class:`KpiWarning` lists
(defined in :mod:`runze.analysis.kpi`).

* **Pressure compliance** (管网压力合格率): share of readings ≥ 0.14 MPa (at or above counts as compliant),
  target ≥ 97 %, readings during source shortage or force majeure excluded.  Both figures are configurable.
* **Turbidity compliance**: share of readings ≤ 1 NTU (GB 5749-2022 at the tap; plant outlets commonly aim lower:
  pass their own limit).
* **Repair timeliness**: share of repairs finished within a target time (per category if wanted), with median,
  90th percentile and worst durations.

Readings may come as a Series of values or as a DataFrame with a ``value`` column and optionally ``timestamp``,
``sensor_id`` and ``exclusion`` (a reason string, empty/None when the reading counts).  Exclusion *periods*
(:class:`ExclusionPeriod`) need timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from runze.analysis.kpi import KpiWarning

EXCLUSION_REASONS = ("source_shortage", "force_majeure")


@dataclass(frozen=True, slots=True)
class ExclusionPeriod:
    """A time span whose readings do not count (e.g. the raw-water source failed); ``sensor_ids=None`` = all."""

    start: pd.Timestamp
    end: pd.Timestamp
    reason: str = "force_majeure"
    sensor_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    indicator: str  # "pressure" or "turbidity"
    rule: str  # ">= 0.14" / "<= 1.0": which side of the limit is compliant
    limit: float
    target: float
    total_readings: int
    missing: int
    excluded: int
    counted: int
    compliant: int
    rate: float | None
    meets_target: bool | None
    worst_value: float | None
    excluded_by_reason: dict = field(default_factory=dict)
    per_point: dict = field(default_factory=dict)  # sensor id -> {"counted", "compliant", "rate"}
    warnings: list[KpiWarning] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        d["rate_percent"] = None if self.rate is None else 100.0 * self.rate
        return d


def _as_frame(readings: pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(readings, pd.Series):
        frame = pd.DataFrame({"value": readings.to_numpy(dtype=float)})
        if isinstance(readings.index, pd.DatetimeIndex):
            frame["timestamp"] = readings.index
        return frame
    if "value" not in readings.columns:
        raise ValueError("readings: a DataFrame needs a 'value' column")
    return readings.reset_index(drop=True)


def _compliance(indicator: str, readings, limit: float, target: float, compliant_at_or_above: bool,
                exclusions: Sequence[ExclusionPeriod], allowed_reasons: Sequence[str]) -> ComplianceResult:
    frame = _as_frame(readings)
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    n = len(values)
    warnings: list[KpiWarning] = []
    reason = np.full(n, None, dtype=object)
    if "exclusion" in frame.columns:
        flags = frame["exclusion"].to_numpy(dtype=object)
        flagged = pd.notna(flags) & (flags != "")
        reason[flagged] = flags[flagged]
    if exclusions:
        if "timestamp" not in frame.columns:
            raise ValueError("exclusion periods need readings with timestamps")
        ts = pd.DatetimeIndex(frame["timestamp"])
        sensors = frame["sensor_id"].to_numpy(dtype=object) if "sensor_id" in frame.columns else None
        for period in exclusions:
            sel = (ts >= pd.Timestamp(period.start)) & (ts < pd.Timestamp(period.end))
            if period.sensor_ids is not None and sensors is not None:
                sel &= np.isin(sensors, list(period.sensor_ids))
            reason[sel & pd.isna(reason)] = period.reason
    has_reason = pd.notna(reason)
    allowed = has_reason & np.isin(reason.astype(str), list(allowed_reasons))
    for bad in pd.unique(reason[has_reason & ~allowed]):
        count = int(((reason == bad) & has_reason).sum())
        warnings.append(KpiWarning("kpi.exclusion_reason_not_allowed",
                                   {"reason": bad, "count": count, "allowed": ", ".join(allowed_reasons)}))
    missing = ~np.isfinite(values)
    if missing.any():
        warnings.append(KpiWarning("kpi.missing_values", {"count": int(missing.sum())}))
    counted = ~missing & ~allowed
    ok = (values >= limit) if compliant_at_or_above else (values <= limit)
    ok &= counted
    n_counted, n_ok = int(counted.sum()), int(ok.sum())
    if n_counted == 0:
        warnings.append(KpiWarning("kpi.no_readings", {}))
    rate = n_ok / n_counted if n_counted else None
    worst = None
    if n_counted:
        worst = float(values[counted].min() if compliant_at_or_above else values[counted].max())
    per_point = {}
    if "sensor_id" in frame.columns and n_counted:
        grp = pd.DataFrame({"sensor": frame["sensor_id"].to_numpy()[counted], "ok": ok[counted]})
        agg = grp.groupby("sensor")["ok"].agg(["size", "sum"])
        per_point = {str(s): {"counted": int(r["size"]), "compliant": int(r["sum"]), "rate": r["sum"] / r["size"]}
                     for s, r in agg.iterrows()}
    by_reason = pd.Series(reason[allowed]).value_counts().astype(int).to_dict() if allowed.any() else {}
    return ComplianceResult(
        indicator, (">= " if compliant_at_or_above else "<= ") + f"{limit:g}", float(limit), float(target), n,
        int(missing.sum()), int(allowed.sum()), n_counted, n_ok, rate,
        None if rate is None else rate >= target, worst, {str(k): int(v) for k, v in by_reason.items()},
        per_point, warnings)


def pressure_compliance(readings: pd.Series | pd.DataFrame, *, threshold_mpa: float = 0.14, target: float = 0.97,
                        exclusions: Sequence[ExclusionPeriod] = (),
                        allowed_reasons: Sequence[str] = EXCLUSION_REASONS) -> ComplianceResult:
    """Share of pressure readings (MPa) at or above ``threshold_mpa``, excluding flagged readings/periods."""
    return _compliance("pressure", readings, threshold_mpa, target, True, exclusions, allowed_reasons)


def turbidity_compliance(readings: pd.Series | pd.DataFrame, *, limit_ntu: float = 1.0, target: float = 1.0,
                         exclusions: Sequence[ExclusionPeriod] = (),
                         allowed_reasons: Sequence[str] = EXCLUSION_REASONS) -> ComplianceResult:
    """Share of turbidity readings (NTU) at or below ``limit_ntu`` (GB 5749-2022: 1 NTU)."""
    return _compliance("turbidity", readings, limit_ntu, target, False, exclusions, allowed_reasons)


def water_quality_compliance(readings: pd.DataFrame, sensor_roles: Mapping[str, str],
                             limits: Mapping[str, float] | None = None, target: float = 1.0
                             ) -> dict[str, ComplianceResult]:
    """Turbidity compliance per sampling role (``tap``, ``plant_outlet``; limits default 1 NTU each)."""
    limits = dict(limits or {"tap": 1.0, "plant_outlet": 1.0})
    roles = readings["sensor_id"].map(dict(sensor_roles))
    return {role: turbidity_compliance(readings[(roles == role).to_numpy()], limit_ntu=lim, target=target)
            for role, lim in limits.items()}


# ----------------------------------------------------------------------------- repairs


@dataclass(frozen=True, slots=True)
class RepairTimeliness:
    total: int
    open_or_unknown: int
    counted: int
    on_time: int
    rate: float | None
    median_hours: float | None
    p90_hours: float | None
    worst_hours: float | None
    by_category: dict = field(default_factory=dict)
    warnings: list[KpiWarning] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        d["rate_percent"] = None if self.rate is None else 100.0 * self.rate
        return d


def _hours(durations) -> np.ndarray:
    s = pd.Series(durations)
    if pd.api.types.is_timedelta64_dtype(s):
        return s.dt.total_seconds().to_numpy(dtype=float) / 3600.0
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def repair_timeliness(durations, *, target_hours: float | Mapping[str, float] = 24.0,
                      categories=None) -> RepairTimeliness:
    """Share of repairs done within target.

    ``durations``: hours (numbers) or Timedeltas, one per repair; NaN/NaT = still open or unknown (not counted,
    reported).  ``target_hours``: one target, or a mapping category → hours used with ``categories`` (one label
    per repair; a category missing from the mapping uses the mapping's ``"default"`` entry, else 24 h).
    """
    hours = _hours(durations)
    n = len(hours)
    if categories is not None:
        cats = pd.Series(categories).astype(object).to_numpy()
        if len(cats) != n:
            raise ValueError(f"repair timeliness: {len(cats)} categories for {n} durations")
    else:
        cats = np.full(n, "all", dtype=object)
    if isinstance(target_hours, Mapping):
        default = float(target_hours.get("default", 24.0))
        targets = pd.Series(cats).map(lambda c: float(target_hours.get(c, default))).to_numpy(dtype=float)
    else:
        targets = np.full(n, float(target_hours))
    known = np.isfinite(hours)
    if (hours[known] < 0).any():
        raise ValueError("repair timeliness: a negative duration (finished before it started)")
    warnings = []
    if (~known).any():
        warnings.append(KpiWarning("kpi.repairs_open", {"count": int((~known).sum())}))
    on_time = known & (hours <= targets)
    by_cat = {}
    for c in pd.unique(cats):
        sel = (cats == c) & known
        k = int(sel.sum())
        by_cat[str(c)] = {"counted": k, "on_time": int((on_time & sel).sum()),
                          "rate": (on_time & sel).sum() / k if k else None,
                          "median_hours": float(np.median(hours[sel])) if k else None}
    counted = int(known.sum())
    kh = hours[known]
    return RepairTimeliness(
        n, int((~known).sum()), counted, int(on_time.sum()), on_time.sum() / counted if counted else None,
        float(np.median(kh)) if counted else None, float(np.percentile(kh, 90)) if counted else None,
        float(kh.max()) if counted else None, by_cat, warnings)
