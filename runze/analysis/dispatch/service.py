"""The whole dispatch analysis as the CLI (and later the API) calls it: what-if, plan, sources, scenarios.

`analyse(network, event, start_s, hours)` runs, in order: the current state (normal operation up to the
start), normal operation over the window, the event with no action, the re-dispatch search, the plan verified
by a full simulation, and source tracing for normal operation, the event and the plan.  It returns one
JSON-ready dict (keys: event, window, normal, no_action, plan, sources, capacity_balance, verdict, timing).
`scenario(network, kind, ...)` builds the planning what-ifs on the same machinery: commissioning plant 4
(before = plant 4 not in service, after = in service), a plant closed for maintenance, a hot day (+30 %).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from runze.analysis.dispatch.events import Event, EventError, build_event, resolve_plant
from runze.analysis.dispatch.optimise import Optimiser, objective, plan_actions
from runze.analysis.dispatch.trace import STORAGE, trace_run, zone_shares
from runze.analysis.dispatch.whatif import Plan, WhatIf, clock_label
from runze.network.model import Network

Progress = Callable[[str, float], None]
HOT_DAY_FACTOR = 1.3
SCENARIOS = ("commission-plant4", "maintenance", "hot-day")
DEADLINE_RESERVE_S = 6.0  # verifying run + 3 traces + report, measured 2-4 s on the demo city


def _sources(w: WhatIf, run, spin_mix, normal: bool) -> dict[str, Any]:
    net = w.normal if normal else w.event_net
    tr = trace_run(net, run, spin_mix, hours=w.hours)
    table = w.demand_normal if normal else w.demand_event
    req_c, _ = table.at(w.times, w.start_s)
    pos = {n: i for i, n in enumerate(tr.node_ids)}
    juncs = table.junctions
    zones = zone_shares(w.source, tr, req_c, juncs)
    node_mean = tr.mean_shares()[[pos[j] for j in juncs]]
    plant_labels = [lab for lab in tr.labels if lab != STORAGE]
    main = np.nanargmax(np.nan_to_num(node_mean[:, : len(plant_labels)], nan=-1.0), axis=1)
    top = np.nanmax(np.nan_to_num(node_mean[:, : len(plant_labels)], nan=0.0), axis=1)
    return {"labels": tr.labels, "zones": zones,
            "single_source_zones": [z["id"] for z in zones if z["single_source"]],
            "nodes_single_source": int((top > 0.95).sum()),
            "node_main_source": {j: plant_labels[m] for j, m in zip(juncs, main, strict=True)},
            "node_top_share": dict(zip(juncs, np.round(top, 3).tolist(), strict=True))}


def _capacity_balance(w: WhatIf) -> dict[str, Any]:
    """Whether the capacity left can carry the window at all: plant volume + usable storage vs demand."""
    cap = sum(p["capacity_m3d"] / 24.0 * w.event.capacity.get(p["id"], 1.0) * w.hours for p in w.source.utility.plants)
    req_c, req_l = w.demand_event.at(w.times, w.start_s)
    required = float((req_c.sum() + req_l.sum()) * 3600.0)
    storage = 0.0
    for t, tk in w.source.tanks.items():
        area = np.pi / 4 * tk.diameter**2
        storage += area * max(w.state["levels"][t] - tk.min_level, 0.0)
    peak = float((req_c + req_l).sum(axis=1).max() * 3600.0)
    cap_h = cap / w.hours
    return {"plant_capacity_m3": round(cap, 1), "required_m3": round(required, 1),
            "usable_storage_m3": round(storage, 1), "peak_hour_demand_m3h": round(peak, 1),
            "plant_capacity_m3h": round(cap_h, 1),
            "enough_by_volume": bool(cap + storage >= required)}


def analyse(network: Network, event: Event, start_s: int, hours: int, *, optimise: bool = True,
            n_blocks: int = 3, max_evals: int = 120, time_budget_s: float = 30.0, solver: str | None = None,
            levels: dict[str, float] | None = None, progress: Progress | None = None,
            deadline_s: float | None = 50.0, epanet_check: bool = True) -> dict[str, Any]:
    """deadline_s: the whole analysis should answer within it; the plan search gets what is left after the
    runs before it, less a reserve for the verifying run, the tracing and the report (a busy machine then gets
    a plan found with fewer runs rather than a late answer)."""
    say = progress or (lambda _m, _f: None)
    t0 = time.perf_counter()
    timing: dict[str, float] = {}
    say("当前状态 current state", 0.02)
    w = WhatIf(network, event, start_s, hours, solver=solver, levels=levels)
    spin_mix = None
    if w.spin_run is not None:
        spin_mix = trace_run(w.normal, w.spin_run).tank_mix
    timing["state_s"] = time.perf_counter() - t0
    say("正常运行 normal operation", 0.06)
    normal_run = w.run(normal=True)
    normal = w.metrics(normal_run, normal=True)
    say("无措施 no action", 0.09)
    base_run = w.run(None)
    no_action = w.metrics(base_run)
    timing["runs_s"] = time.perf_counter() - t0 - timing["state_s"]
    t1 = time.perf_counter()
    log = None
    if optimise:
        budget = time_budget_s
        if deadline_s is not None:
            budget = max(3.0, min(budget, deadline_s - (t1 - t0) - DEADLINE_RESERVE_S))
        opt = Optimiser(w, n_blocks=n_blocks, max_evals=max_evals, time_budget_s=budget,
                        progress=lambda m, f: say(m, 0.10 + 0.75 * f))
        plan, _, log = opt.optimise(base_run)
    else:
        plan = Plan.no_action(w.hours)
    timing["search_s"] = time.perf_counter() - t1
    say("方案校核 verifying the plan", 0.87)
    plan_run = w.run(plan)
    plan_m = w.metrics(plan_run)
    plan_m["actions"] = plan_actions(w, plan)
    plan_m["objective"] = objective(plan_m)
    if log is not None:
        plan_m["search"] = {"evaluations": log.evaluations, "seconds": round(log.seconds, 2), "stopped": log.stopped,
                            "blocks": [[clock_label(w.source.options.time.start_clocktime + start_s + a * 3600),
                                        clock_label(w.source.options.time.start_clocktime + start_s + b * 3600)]
                                       for a, b in plan.blocks]}
    check = None
    if epanet_check and plan_m["solver"] != "epanet":
        say("EPANET 2.3 复核 cross-check", 0.90)
        check = _epanet_check(w, plan)
    say("水源追踪 source tracing", 0.92)
    sources = {"normal": _sources(w, normal_run, spin_mix, True),
               "no_action": _sources(w, base_run, spin_mix, False),
               "plan": _sources(w, plan_run, spin_mix, False)}
    balance = _capacity_balance(w)
    verdict_row = verdict(no_action, plan_m, balance)
    if check and "plan" in check:
        verdict_row = with_check(verdict_row, check)
    timing["total_s"] = time.perf_counter() - t0
    say("完成 done", 1.0)
    out = {
        "event": event.describe(),
        "window": {"start": clock_label(w.source.options.time.start_clocktime + start_s), "start_s": start_s,
                   "hours": w.hours, "service_pressure_m": w.service_m, "no_water_m": w.no_water_m,
                   "state": w.state["from"], "tank_levels_at_start": w.state["levels"]},
        "normal": normal, "no_action": no_action, "plan": plan_m, "sources": sources,
        "capacity_balance": balance, "verdict": verdict_row,
        "solver": sorted({normal["solver"], no_action["solver"], plan_m["solver"]}),
        "notes": list(dict.fromkeys(w.notes + normal["notes"] + no_action["notes"] + plan_m["notes"])),
        "epanet_check": check,
        "timing": {k: round(v, 2) for k, v in timing.items()},
        "critical_users": [c.get("name") for c in w.critical],
    }
    return out


def _epanet_check(w: WhatIf, plan: Plan) -> dict[str, Any] | None:
    """No action and the plan once more through EPANET 2.3 (the reference), totals only."""
    keys = ("unmet_demand_m3", "customer_hours_below_service", "customer_hours_no_water", "min_pressure_m")
    saved = w.solver
    try:
        w.solver = "epanet"
        return {name: {k: m[k] for k in keys} | {"notes": w_run.notes}
                for name, p in (("no_action", None), ("plan", plan))
                for w_run in [w.run(p)] for m in [w.metrics(w_run, detail=False)]}
    except Exception as exc:  # noqa: BLE001 - the check is extra information, never a reason to fail
        return {"error": str(exc)}
    finally:
        w.solver = saved


def with_check(v: dict[str, Any], check: dict[str, Any]) -> dict[str, Any]:
    """Add EPANET 2.3's view of the same two runs to the verdict (both are reported; ours decides)."""
    na, pl = check["no_action"], check["plan"]
    cu = _cut(na["unmet_demand_m3"], pl["unmet_demand_m3"])
    cc = _cut(na["customer_hours_below_service"], pl["customer_hours_below_service"])
    v = dict(v, epanet_unmet_cut=cu, epanet_customer_hours_cut=cc)
    if cu is None and cc is None:
        return v
    pct = lambda x: "—" if x is None else f"{x:.0%}"  # noqa: E731
    v["zh"] += (f" EPANET 2.3 复核：缺水 {na['unmet_demand_m3']:.0f} → {pl['unmet_demand_m3']:.0f} m³（减少 {pct(cu)}），"
                f"低压户时 {na['customer_hours_below_service']:.0f} → {pl['customer_hours_below_service']:.0f}"
                f"（减少 {pct(cc)}）。")
    v["en"] += (f" EPANET 2.3 check: unmet {na['unmet_demand_m3']:.0f} → {pl['unmet_demand_m3']:.0f} m³ (−{pct(cu)}), "
                f"customer-hours {na['customer_hours_below_service']:.0f} → {pl['customer_hours_below_service']:.0f} "
                f"(−{pct(cc)}).")
    return v


def _cut(before: float, after: float) -> float | None:
    return None if before <= 0 else round(1.0 - after / before, 4)


def verdict(no_action: dict[str, Any], plan: dict[str, Any], balance: dict[str, Any]) -> dict[str, Any]:
    u0, u1 = no_action["unmet_demand_m3"], plan["unmet_demand_m3"]
    c0, c1 = no_action["customer_hours_below_service"], plan["customer_hours_below_service"]
    v: dict[str, Any] = {"unmet_cut": _cut(u0, u1), "customer_hours_cut": _cut(c0, c1)}
    if u0 < 0.5 and c0 < 0.5:
        v["zh"] = "无需调度：不采取措施时各节点压力均不低于服务压力，需水全部满足。"
        v["en"] = "No re-dispatch needed: with no action every node stays at or above service pressure."
        v["kind"] = "no_deficit"
    elif (v["unmet_cut"] or 0) >= 0.5 and (v["customer_hours_cut"] or 0) >= 0.5:
        v["zh"] = (f"调度方案使缺水量减少 {v['unmet_cut']:.0%}，低压户时减少 {v['customer_hours_cut']:.0%}"
                   "（全时段水力模拟校核）。")
        v["en"] = (f"The plan cuts unmet demand by {v['unmet_cut']:.0%} and customer-hours below service by "
                   f"{v['customer_hours_cut']:.0%} (verified by a full simulation).")
        v["kind"] = "plan_halves"
    elif not balance["enough_by_volume"]:
        v["zh"] = (f"剩余产能不足：水厂可供 {balance['plant_capacity_m3']:.0f} m³ + 可用调蓄 "
                   f"{balance['usable_storage_m3']:.0f} m³ < 时段需水(含漏损) {balance['required_m3']:.0f} m³；"
                   f"高峰时需水 {balance['peak_hour_demand_m3h']:.0f} m³/h，水厂最多 {balance['plant_capacity_m3h']:.0f} m³/h。")
        v["en"] = (f"Capacity left cannot do it: plants {balance['plant_capacity_m3']:.0f} m³ + usable storage "
                   f"{balance['usable_storage_m3']:.0f} m³ < {balance['required_m3']:.0f} m³ required (incl. "
                   f"leakage); peak hour {balance['peak_hour_demand_m3h']:.0f} m³/h against "
                   f"{balance['plant_capacity_m3h']:.0f} m³/h of plants.")
        v["kind"] = "capacity_short"
    else:
        capped = [p["id"] for p in plan["plants"] if p["event_cap_m3h"] > 0
                  and p["max_output_m3h"] >= 0.98 * p["event_cap_m3h"]]
        spare = {p["id"]: round(p["event_cap_m3h"] - p["max_output_m3h"]) for p in plan["plants"]
                 if p["event_cap_m3h"] - p["max_output_m3h"] > 0.1 * max(p["event_cap_m3h"], 1.0)}
        cut_u = "—" if v["unmet_cut"] is None else f"{v['unmet_cut']:.0%}"
        cut_c = "—" if v["customer_hours_cut"] is None else f"{v['customer_hours_cut']:.0%}"
        head_zh = f"方案使缺水量减少 {cut_u}、低压户时减少 {cut_c}，未达一半："
        head_en = f"The plan cuts unmet demand by {cut_u} and customer-hours below service by {cut_c}, less than half: "
        if not spare:
            v["zh"] = head_zh + (f"剩余各水厂 ({', '.join(capped)}) 高峰时均已满负荷，共 {balance['plant_capacity_m3h']:.0f}"
                                 f" m³/h，高峰需水 {balance['peak_hour_demand_m3h']:.0f} m³/h，调蓄 "
                                 f"{balance['usable_storage_m3']:.0f} m³ 不足以补齐高峰缺口。")
            v["en"] = head_en + (f"every remaining plant ({', '.join(capped)}) runs at capacity at the peak, "
                                 f"{balance['plant_capacity_m3h']:.0f} m³/h against a peak of "
                                 f"{balance['peak_hour_demand_m3h']:.0f} m³/h, and {balance['usable_storage_m3']:.0f}"
                                 " m³ of usable storage cannot fill the gap.")
            v["kind"] = "peak_capacity_short"
            return v
        v["zh"] = head_zh + (f"总量够用（水厂 {balance['plant_capacity_m3']:.0f} m³ + 调蓄 "
                             f"{balance['usable_storage_m3']:.0f} m³ ≥ 需水 {balance['required_m3']:.0f} m³），但受输水"
                             f"能力限制：{', '.join(capped) or '—'} 已达产能上限，其余水厂富余 {spare} m³/h 送不到缺水区。")
        v["en"] = head_en + (f"the volume is there (plants {balance['plant_capacity_m3']:.0f} m³ + storage "
                             f"{balance['usable_storage_m3']:.0f} m³ ≥ {balance['required_m3']:.0f} m³) but transfer "
                             f"limits bind: {', '.join(capped) or '—'} at capacity while spare capacity {spare} m³/h "
                             "cannot reach the area short of water through the mains.")
        v["kind"] = "transfer_limited"
    return v


def scenario(network: Network, kind: str, plant: str | None = None, start_s: int = 0, hours: int = 24,
             **kwargs: Any) -> dict[str, Any]:
    """Planning what-ifs: commission-plant4, maintenance (--plant), hot-day (+30 % demand)."""
    if kind not in SCENARIOS:
        raise EventError(f"未知情景 / unknown scenario {kind!r}; known: {', '.join(SCENARIOS)}")
    if kind == "commission-plant4":
        p4 = resolve_plant(network, plant or "4")
        event = build_event(network, plant=p4["id"], capacity=0.0)
        event.label = f"{p4.get('name', p4['id'])} 投产前 before commissioning (out of service)"
        res = analyse(network, event, start_s, hours, optimise=False, epanet_check=False, **kwargs)
        res["verdict"] = commission_verdict(res, p4)
        # before = the city without the plant ("no_action"), after = with it: commissioning is the "plan"
        after = dict(res["normal"])
        after["actions"] = [{"time": res["window"]["start"], "hour": 0, "element": p4["id"], "kind": "plant",
                             "setting": "IN SERVICE", "text": f"{p4.get('name', p4['id'])}投产 / plant in service"}]
        res["plan"] = after
        res["sources"]["plan"] = res["sources"]["normal"]
        res["scenario"] = {"kind": kind, "plant": p4["id"],
                           "before": "no_action (plant not in service)", "after": "normal (plant in service)",
                           "zh": f"{p4.get('name')}投产前后对比：before = 未投产，after = 投产（正常运行）",
                           "en": "before = plant not in service; after = plant in service (normal operation)"}
        return res
    if kind == "maintenance":
        if plant is None:
            raise EventError("检修情景需要 --plant / maintenance needs --plant")
        event = build_event(network, plant=plant, capacity=0.0)
        event.label = f"{event.label} 检修 maintenance"
    else:
        event = build_event(network, demand_factor=HOT_DAY_FACTOR)
        event.label = f"高温日需水 +{HOT_DAY_FACTOR - 1:.0%} hot day"
    res = analyse(network, event, start_s, hours, **kwargs)
    res["scenario"] = {"kind": kind, "plant": plant}
    return res


def commission_verdict(res: dict[str, Any], plant: dict[str, Any]) -> dict[str, Any]:
    """Before (plant out) against after (normal): pressures, shortfall and which DMAs change main source."""
    before, after = res["no_action"], res["normal"]
    zb = {z["id"]: z for z in res["sources"]["no_action"]["zones"]}
    changed = [z["id"] for z in res["sources"]["normal"]["zones"]
               if z["id"] in zb and z["main_source"] != zb[z["id"]]["main_source"]]
    served = [z["id"] for z in res["sources"]["normal"]["zones"] if (z["shares"].get(plant["id"]) or 0) >= 0.2]
    name = plant.get("name", plant["id"])
    return {"kind": "commission", "unmet_cut": _cut(before["unmet_demand_m3"], after["unmet_demand_m3"]),
            "customer_hours_cut": _cut(before["customer_hours_below_service"], after["customer_hours_below_service"]),
            "zones_changing_main_source": changed, "zones_served_20pct": served,
            "zh": (f"{name}投产前：缺水 {before['unmet_demand_m3']:.0f} m³、低压户时 "
                   f"{before['customer_hours_below_service']:.0f}、最低压力 {before['min_pressure_m']:.1f} m；投产后："
                   f"缺水 {after['unmet_demand_m3']:.0f} m³、低压户时 {after['customer_hours_below_service']:.0f}、最低压力 "
                   f"{after['min_pressure_m']:.1f} m。主供水厂改变的分区：{', '.join(changed) or '无'}；"
                   f"该厂供水 ≥ 20 % 的分区：{', '.join(served) or '无'}。"),
            "en": (f"Before {plant['id']}: unmet {before['unmet_demand_m3']:.0f} m³, customer-hours below 14 m "
                   f"{before['customer_hours_below_service']:.0f}, min pressure {before['min_pressure_m']:.1f} m; after: "
                   f"unmet {after['unmet_demand_m3']:.0f} m³, {after['customer_hours_below_service']:.0f} "
                   f"customer-hours, min {after['min_pressure_m']:.1f} m. DMAs whose main plant changes: "
                   f"{', '.join(changed) or 'none'}; DMAs taking ≥ 20 % from it: {', '.join(served) or 'none'}.")}
