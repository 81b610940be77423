"""The monthly evaluation report's data (月度考核报告): KPIs from runze.analysis fed by the database.

Sections: water balance (IWA) with NRW, ILI (UARL) and the CJJ 92-2016 leakage rate from the month's booked
volumes; pressure compliance (telemetry, else a labelled 24 h simulation of the stored network); turbidity
compliance (telemetry, else lab samples); repair timeliness from work orders; 获得用水 from connection
applications; and the "党建+业务" figures.  Every section says where its numbers come from, and every problem
(a water balance that does not close, a formula outside its validity range, missing data) is listed in
`warnings` with both languages: the report never prints a number it cannot stand behind without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.analysis import kpi
from runze.analysis import kpi_report_data as kd
from runze.ops import connections, party_figures, report_pressure
from runze.ops.months import days_in, month_bounds, parse_month
from runze.store import Incident, WorkOrder
from runze.store.report_models import MonthlyVolumes

# user-facing text of this module (zh, en)
TEXT = {
    "no_volumes": ("本月没有水量数据（出厂水量/售水量），无法计算水量平衡、产销差和漏损指标",
                   "no volumes booked for the month (plant outflow, billing): no water balance, NRW or leakage"),
    "balance_not_closed": ("水量平衡不闭合：供水量 {si:,.0f} m³，各分项合计 {comp:,.0f} m³，差 {diff:,.0f} m³（{pct:.1f}%），"
                           "超出允许的 {tol:.1f}%。漏损、产销差数据不可信，请核对出厂水量、售水量和漏损估算",
                           "the water balance does not close: system input {si:,.0f} m³, components {comp:,.0f} m³, "
                           "difference {diff:,.0f} m³ ({pct:.1f} %), over the {tol:.1f} % allowed. Check plant "
                           "meters, billing and the leakage estimate before using NRW or leakage figures"),
    "pressure_simulated": ("压力合格率来自管网模型24小时模拟（无实测压力数据），不是实测值",
                           "pressure compliance from a 24 h simulation of the network model (no measured pressure "
                           "for the month): a model figure, not a measurement"),
    "no_pressure": ("本月无压力数据，也无可模拟的管网", "no pressure data for the month and no network to simulate"),
    "turbidity_samples": ("浊度合格率来自化验取样（无在线浊度监测数据）",
                          "turbidity compliance from lab samples (no online turbidity telemetry for the month)"),
    "no_turbidity": ("本月无浊度数据", "no turbidity data for the month"),
}


def message(key: str, **kw: Any) -> dict[str, str]:
    zh, en = TEXT[key]
    return {"zh": zh.format(**kw), "en": en.format(**kw)}


@dataclass(frozen=True)
class ReportOptions:
    """Targets and limits the report judges against (the utility's, configurable)."""

    pressure_threshold_mpa: float = 0.14
    pressure_target: float = 0.97
    turbidity_limit_ntu: float = 1.0
    turbidity_target: float = 1.0
    repair_targets_h: dict = field(default_factory=lambda: {"emergency_repair": 24.0, "planned_repair": 72.0,
                                                            "default": 24.0})
    balance_tolerance: float = 0.005
    simulate_when_no_telemetry: bool = True
    exclusion_reasons: dict = field(default_factory=lambda: {"supply_shortage": "source_shortage",
                                                             "weather": "force_majeure"})


def water_section(session: Session, month: str, opts: ReportOptions, pressure_m: float | None
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = session.scalar(select(MonthlyVolumes).where(MonthlyVolumes.month == month))
    if row is None:
        return {"available": False}, [{"section": "water", "code": "report.no_volumes", "severity": "warning",
                                       "message": message("no_volumes")}]
    days = days_in(month)
    balance = kpi.water_balance(
        row.system_input_m3, row.billed_metered_m3, row.billed_unmetered_m3, row.unbilled_metered_m3,
        row.unbilled_unmetered_m3, row.unauthorised_m3, row.meter_inaccuracy_m3, row.data_errors_m3,
        row.real_losses_m3, period_days=days, tolerance=opts.balance_tolerance)
    warnings: list[dict[str, Any]] = []
    for w in balance.warnings:
        if w.code == "kpi.balance_not_closed":
            p = w.params
            warnings.append({"section": "water", "code": w.code, "severity": "error", "message": message(
                "balance_not_closed", si=p["system_input"], comp=p["components"], diff=p["difference"],
                pct=p["percent"], tol=p["tolerance_percent"])})
        else:
            warnings.append({"section": "water", **w.to_dict()})
    pressure = row.mean_pressure_m if row.mean_pressure_m is not None else pressure_m
    ili = None
    if pressure is not None:
        ili_res = kpi.ili_from_balance(balance, row.mains_km, row.service_connections, row.private_pipe_km, pressure)
        ili = ili_res.to_dict()
        warnings += [{"section": "ili", **w.to_dict()} for w in ili_res.warnings if w.code != "kpi.balance_not_closed"]
    annual_1e4 = row.system_input_m3 * 365.0 / days / 1e4
    cjj = kpi.cjj_loss_rates(row.system_input_m3, balance.authorised_consumption, kpi.CjjInputs(
        household_metered_share=row.household_metered_share,
        pipe_length_per_supply=row.mains_km / annual_1e4 if annual_1e4 > 0 else None,
        mean_outlet_pressure_mpa=row.mean_outlet_pressure_mpa))
    warnings += [{"section": "cjj", **w.to_dict()} for w in cjj.warnings]
    return {"available": True, "source": row.source, "days": days, "balance": balance.to_dict(),
            "closes": balance.closes, "nrw_percent": balance.to_dict()["nrw_percent"],
            "daily_supply_m3": row.system_input_m3 / days, "mean_pressure_m": pressure,
            "ili": ili, "cjj": cjj.to_dict(),
            "facts": {"mains_km": row.mains_km, "service_connections": row.service_connections}}, warnings


def _exclusions(session: Session, start: datetime, end: datetime, opts: ReportOptions) -> list[kd.ExclusionPeriod]:
    rows = session.scalars(select(Incident).where(Incident.kind.in_(list(opts.exclusion_reasons)),
                                                  Incident.started_at < end,
                                                  (Incident.ended_at.is_(None)) | (Incident.ended_at >= start)))
    return [kd.ExclusionPeriod(pd.Timestamp(i.started_at), pd.Timestamp(i.ended_at or end),
                               opts.exclusion_reasons[i.kind]) for i in rows]


def pressure_section(session: Session, month: str, opts: ReportOptions) -> tuple[dict[str, Any], list[dict]]:
    start, end = month_bounds(month)
    measured = report_pressure.telemetry_readings(session, "pressure", ("network", "tap", None), start, end)
    if not measured.empty:
        measured["timestamp"] = pd.to_datetime(measured["timestamp"], utc=True)
        res = kd.pressure_compliance(measured, threshold_mpa=opts.pressure_threshold_mpa,
                                     target=opts.pressure_target, exclusions=_exclusions(session, start, end, opts))
        return ({"source": "telemetry", "result": res.to_dict(), "mean_pressure_m": float(
            measured["value"].mean() / report_pressure.MPA_PER_M)},
                [{"section": "pressure", **w.to_dict()} for w in res.warnings])
    version = report_pressure.latest_network(session) if opts.simulate_when_no_telemetry else None
    if version is None:
        return {"source": None, "result": None}, [{"section": "pressure", "code": "report.no_pressure",
                                                   "severity": "warning", "message": message("no_pressure")}]
    sim = report_pressure.simulated_pressures(version)
    res = kd.pressure_compliance(sim["readings"], threshold_mpa=opts.pressure_threshold_mpa,
                                 target=opts.pressure_target)
    return ({"source": "simulation", "network": f"{version.name} v{version.number}", "points": sim["points"],
             "hours": sim["hours"], "at_loggers": sim["at_loggers"], "result": res.to_dict(),
             "mean_pressure_m": sim["mean_pressure_m"]},
            [{"section": "pressure", "code": "report.pressure_simulated", "severity": "info",
              "message": message("pressure_simulated")}] + [{"section": "pressure", **w.to_dict()}
                                                            for w in res.warnings])


def turbidity_section(session: Session, month: str, opts: ReportOptions) -> tuple[dict[str, Any], list[dict]]:
    start, end = month_bounds(month)
    readings = report_pressure.telemetry_readings(session, "turbidity", ("plant_outlet", "tap"), start, end)
    source, notes = "telemetry", []
    if readings.empty:
        readings, source = report_pressure.quality_samples(session, start, end), "samples"
        notes = [{"section": "turbidity", "code": "report.turbidity_samples", "severity": "info",
                  "message": message("turbidity_samples")}]
    if readings.empty:
        return {"source": None, "result": None}, [{"section": "turbidity", "code": "report.no_turbidity",
                                                   "severity": "warning", "message": message("no_turbidity")}]
    res = kd.turbidity_compliance(readings[["sensor_id", "value"]], limit_ntu=opts.turbidity_limit_ntu,
                                  target=opts.turbidity_target)
    by_role = {role: kd.turbidity_compliance(g[["sensor_id", "value"]], limit_ntu=opts.turbidity_limit_ntu,
                                             target=opts.turbidity_target).rate
               for role, g in readings.groupby("role")}
    return ({"source": source, "result": res.to_dict(), "by_role": by_role},
            notes + [{"section": "turbidity", **w.to_dict()} for w in res.warnings])


def repair_section(session: Session, month: str, opts: ReportOptions) -> tuple[dict[str, Any], list[dict]]:
    """Repairs reported in the month: hours from report to supply back (restored, else repaired)."""
    start, end = month_bounds(month)
    orders = list(session.scalars(select(WorkOrder).where(
        WorkOrder.kind.in_(["emergency_repair", "planned_repair"]), WorkOrder.status != "cancelled",
        WorkOrder.reported_at >= start, WorkOrder.reported_at < end)))
    done = [o.restored_at or o.repaired_at for o in orders]
    hours = np.array([np.nan if d is None else (d - o.reported_at).total_seconds() / 3600
                      for o, d in zip(orders, done, strict=True)], dtype=float)
    res = kd.repair_timeliness(hours, target_hours=opts.repair_targets_h, categories=[o.kind for o in orders])
    outage = [(o.restored_at - o.isolated_at).total_seconds() / 3600 for o in orders
              if o.isolated_at is not None and o.restored_at is not None]
    return ({"result": res.to_dict(), "orders": len(orders),
             "mean_hours_without_water": float(np.mean(outage)) if outage else None},
            [{"section": "repairs", **w.to_dict()} for w in res.warnings])


def monthly_report(session: Session, month: str, *, options: ReportOptions | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """Everything the monthly report shows, JSON-ready apart from datetimes."""
    parse_month(month)
    opts = options or ReportOptions()
    pressure, w_pressure = pressure_section(session, month, opts)
    water, w_water = water_section(session, month, opts, pressure.get("mean_pressure_m"))
    turbidity, w_turbidity = turbidity_section(session, month, opts)
    repairs, w_repairs = repair_section(session, month, opts)
    conn = connections.monthly_figures(session, month, now=now)
    party = party_figures.monthly_party_report(session, month)
    all_kinds = next((f for f in conn["by_kind"] if f["customer_kind"] == "all"), None)
    pr, tr, rr = pressure.get("result") or {}, turbidity.get("result") or {}, repairs["result"]
    headline = {
        "nrw_percent": water.get("nrw_percent"),
        "balance_closes": water.get("closes"),
        "ili": (water.get("ili") or {}).get("ili"),
        "leakage_rate_percent": (water.get("cjj") or {}).get("leakage_percent"),
        "cjj_grade": (water.get("cjj") or {}).get("grade"),
        "pressure_compliance_percent": None if pr.get("rate") is None else 100 * pr["rate"],
        "pressure_source": pressure.get("source"),
        "turbidity_compliance_percent": None if tr.get("rate") is None else 100 * tr["rate"],
        "repair_on_time_percent": rr.get("rate_percent"),
        "connections_completed": conn["completed"],
        "connections_submitted": conn["submitted"],
        "getting_water_median_workdays": all_kinds["workdays_median"] if all_kinds else None,
        "member_emergency_hours_percent": None if party["emergency_hours"]["member_share"] is None
        else 100 * party["emergency_hours"]["member_share"],
        "party_activities": party["activities"]["total"],
    }
    warnings = w_water + w_pressure + w_turbidity + w_repairs
    warnings.sort(key=lambda w: {"error": 0, "warning": 1}.get(w.get("severity"), 2))
    return {"month": month, "generated_at": (now or datetime.now(UTC)).isoformat(), "headline": headline,
            "warnings": warnings, "water": water, "pressure": pressure, "turbidity": turbidity, "repairs": repairs,
            "connections": conn, "party": party}


def jsonable(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, tuples to lists, datetimes to ISO, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
