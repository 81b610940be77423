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
from runze.i18n import LANGUAGES, bilingual, both
from runze.i18n import t as _t  # `t` is a tank id in this module
from runze.network.model import Network

Progress = Callable[[str, float], None]
HOT_DAY_FACTOR = 1.3
SCENARIOS = ("commission-plant4", "maintenance", "hot-day")
DEADLINE_RESERVE_S = 6.0  # verifying run + 3 traces + report, measured 2-4 s on the demo city


def _step(key: str) -> str:
    """A progress line of the analysis, "zh en" (shown as the job's message)."""
    return bilingual(f"dispatch.progress.{key}", sep=" ")


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
    say(_step("state"), 0.02)
    w = WhatIf(network, event, start_s, hours, solver=solver, levels=levels)
    spin_mix = None
    if w.spin_run is not None:
        spin_mix = trace_run(w.normal, w.spin_run).tank_mix
    timing["state_s"] = time.perf_counter() - t0
    say(_step("normal"), 0.06)
    normal_run = w.run(normal=True)
    normal = w.metrics(normal_run, normal=True)
    say(_step("no_action"), 0.09)
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
    say(_step("verify"), 0.87)
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
        say(_step("epanet_check"), 0.90)
        check = _epanet_check(w, plan)
    say(_step("tracing"), 0.92)
    sources = {"normal": _sources(w, normal_run, spin_mix, True),
               "no_action": _sources(w, base_run, spin_mix, False),
               "plan": _sources(w, plan_run, spin_mix, False)}
    balance = _capacity_balance(w)
    verdict_row = verdict(no_action, plan_m, balance)
    if check and "plan" in check:
        verdict_row = with_check(verdict_row, check)
    timing["total_s"] = time.perf_counter() - t0
    say(_step("done"), 1.0)
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
    extra = both("dispatch.verdict.epanet_check", unmet_before=na["unmet_demand_m3"],
                 unmet_after=pl["unmet_demand_m3"], unmet_cut=_pct(cu), hours_before=na["customer_hours_below_service"],
                 hours_after=pl["customer_hours_below_service"], hours_cut=_pct(cc))
    for lang in LANGUAGES:
        v[lang] += extra[lang]
    return v


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _cut(before: float, after: float) -> float | None:
    return None if before <= 0 else round(1.0 - after / before, 4)


def verdict(no_action: dict[str, Any], plan: dict[str, Any], balance: dict[str, Any]) -> dict[str, Any]:
    u0, u1 = no_action["unmet_demand_m3"], plan["unmet_demand_m3"]
    c0, c1 = no_action["customer_hours_below_service"], plan["customer_hours_below_service"]
    v: dict[str, Any] = {"unmet_cut": _cut(u0, u1), "customer_hours_cut": _cut(c0, c1)}
    figures = {"plants_m3": balance["plant_capacity_m3"], "storage_m3": balance["usable_storage_m3"],
               "required_m3": balance["required_m3"], "peak_m3h": balance["peak_hour_demand_m3h"],
               "plants_m3h": balance["plant_capacity_m3h"]}
    if u0 < 0.5 and c0 < 0.5:
        v.update(both("dispatch.verdict.no_deficit"))
        v["kind"] = "no_deficit"
    elif (v["unmet_cut"] or 0) >= 0.5 and (v["customer_hours_cut"] or 0) >= 0.5:
        v.update(both("dispatch.verdict.plan_halves", unmet_cut=v["unmet_cut"], hours_cut=v["customer_hours_cut"]))
        v["kind"] = "plan_halves"
    elif not balance["enough_by_volume"]:
        v.update(both("dispatch.verdict.capacity_short", **figures))
        v["kind"] = "capacity_short"
    else:
        capped = [p["id"] for p in plan["plants"] if p["event_cap_m3h"] > 0
                  and p["max_output_m3h"] >= 0.98 * p["event_cap_m3h"]]
        spare = {p["id"]: round(p["event_cap_m3h"] - p["max_output_m3h"]) for p in plan["plants"]
                 if p["event_cap_m3h"] - p["max_output_m3h"] > 0.1 * max(p["event_cap_m3h"], 1.0)}
        head = both("dispatch.verdict.less_than_half", unmet_cut=_pct(v["unmet_cut"]),
                    hours_cut=_pct(v["customer_hours_cut"]))
        v["kind"] = "transfer_limited" if spare else "peak_capacity_short"
        body = both(f"dispatch.verdict.{v['kind']}", capped=", ".join(capped) or "—", spare=spare, **figures)
        v.update({lang: head[lang] + body[lang] for lang in LANGUAGES})
    return v


def scenario(network: Network, kind: str, plant: str | None = None, start_s: int = 0, hours: int = 24,
             **kwargs: Any) -> dict[str, Any]:
    """Planning what-ifs: commission-plant4, maintenance (--plant), hot-day (+30 % demand)."""
    if kind not in SCENARIOS:
        raise EventError(bilingual("dispatch.unknown_scenario", kind=kind, known=", ".join(SCENARIOS)))
    if kind == "commission-plant4":
        p4 = resolve_plant(network, plant or "4")
        event = build_event(network, plant=p4["id"], capacity=0.0)
        event.set_label(both("dispatch.label.before_commissioning", name=p4.get("name", p4["id"])))
        res = analyse(network, event, start_s, hours, optimise=False, epanet_check=False, **kwargs)
        res["verdict"] = commission_verdict(res, p4)
        # before = the city without the plant ("no_action"), after = with it: commissioning is the "plan"
        after = dict(res["normal"])
        after["actions"] = [{"time": res["window"]["start"], "hour": 0, "element": p4["id"], "kind": "plant",
                             "setting": "IN SERVICE",
                             "text": bilingual("dispatch.action.plant_in_service", name=p4.get("name", p4["id"]))}]
        res["plan"] = after
        res["sources"]["plan"] = res["sources"]["normal"]
        res["scenario"] = {"kind": kind, "plant": p4["id"],
                           "before": "no_action (plant not in service)", "after": "normal (plant in service)",
                           **both("dispatch.scenario.commission", name=p4.get("name", p4["id"]))}
        return res
    if kind == "maintenance":
        if plant is None:
            raise EventError(bilingual("dispatch.maintenance_needs_plant"))
        event = build_event(network, plant=plant, capacity=0.0)
        event.set_label({lang: _t("dispatch.label.maintenance", lang, label=event.labels[lang]) for lang in LANGUAGES})
    else:
        event = build_event(network, demand_factor=HOT_DAY_FACTOR)
        event.set_label(both("dispatch.label.hot_day", increase=HOT_DAY_FACTOR - 1))
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
    figures = {"name": plant.get("name", plant["id"]), "unmet_before": before["unmet_demand_m3"],
               "hours_before": before["customer_hours_below_service"], "min_before": before["min_pressure_m"],
               "unmet_after": after["unmet_demand_m3"], "hours_after": after["customer_hours_below_service"],
               "min_after": after["min_pressure_m"]}
    texts = {lang: _t("dispatch.verdict.commission", lang, changed=", ".join(changed) or _t("dispatch.none", lang),
                      served=", ".join(served) or _t("dispatch.none", lang), **figures) for lang in LANGUAGES}
    return {"kind": "commission", "unmet_cut": _cut(before["unmet_demand_m3"], after["unmet_demand_m3"]),
            "customer_hours_cut": _cut(before["customer_hours_below_service"], after["customer_hours_below_service"]),
            "zones_changing_main_source": changed, "zones_served_20pct": served,
            **texts}
