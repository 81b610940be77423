"""The duty manager's report: JSON for the API and a self-contained HTML page (Chinese first, English labels).

Plots are rendered with matplotlib (Agg) as base64 PNG inside the page, so the file opens anywhere offline:
timeline of unmet demand (no action vs plan), tank levels, and maps of the affected area (node coordinates
coloured by the worst pressure deficit below the service pressure).  Plot labels are English only when no
CJK font is installed (matplotlib would draw boxes); the page's text carries the Chinese.
The dashboard helper may later replace the PNGs with ECharts; the JSON already holds every plotted number.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from runze.i18n import MESSAGES, bilingual
from runze.network.model import Network


def _l(key: str, **kw: object) -> str:
    """A label of the page, Chinese then English ("调度方案 plan"), from the message catalogue."""
    return bilingual(f"dispatch.report.{key}", sep=" ", **kw)


def _category(category: str) -> str:
    key = f"dispatch.category.{category}"
    return bilingual(key, sep=" ") if key in MESSAGES else category


def write_json(result: dict[str, Any], path: str | Path) -> None:
    """Write atomically (a temporary file renamed), so a failed run never leaves half a report."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_clean(result), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else round(v, 4)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(result: dict[str, Any], network: Network) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs: dict[str, str] = {}
    na, pl = result["no_action"], result["plan"]
    clocks = [h["clock"] for h in na["hourly"]]
    x = np.arange(len(clocks))
    fig, ax = plt.subplots(1, 2, figsize=(12, 3.6))
    ax[0].bar(x - 0.2, [h["unmet_m3"] for h in na["hourly"]], 0.4, label="no action", color="#d9534f")
    ax[0].bar(x + 0.2, [h["unmet_m3"] for h in pl["hourly"]], 0.4, label="plan", color="#337ab7")
    ax[0].set_title("Unmet demand per hour (m3)")
    ax[1].plot(x, [h["customers_below_service"] for h in na["hourly"]], "o-", color="#d9534f", label="no action")
    ax[1].plot(x, [h["customers_below_service"] for h in pl["hourly"]], "s-", color="#337ab7", label="plan")
    ax[1].set_title("Customers below 14 m")
    for a in ax:
        a.set_xticks(x, clocks, rotation=60, fontsize=7)
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
    figs["timeline"] = _png(fig)
    fig, ax = plt.subplots(figsize=(12, 3.4))
    for k, t in enumerate(network.tanks):
        colour = f"C{k}"  # one colour per tank: dashed no action, solid plan
        ax.plot(x, [h["tank_level_m"][t] for h in na["hourly"]], "--", color=colour, label=f"{t} no action")
        ax.plot(x, [h["tank_level_m"][t] for h in pl["hourly"]], "-", color=colour, label=f"{t} plan")
        ax.axhline(network.tanks[t].min_level, color="grey", lw=0.6)
    ax.set_xticks(x, clocks, rotation=60, fontsize=7)
    ax.set_title("Tank levels (m); grey: minimum level")
    ax.legend(fontsize=7, ncol=4)
    ax.grid(alpha=0.3)
    figs["tanks"] = _png(fig)
    juncs = [j for j in network.junctions.values() if j.x is not None and j.id in na["node_max_deficit_m"]]
    if juncs:
        xy = np.array([[j.x, j.y] for j in juncs])
        fig, ax = plt.subplots(1, 2, figsize=(12, 5))
        vmax = max(1.0, max(na["node_max_deficit_m"].values()))
        for a, key, title in ((ax[0], "no_action", "No action"), (ax[1], "plan", "Plan")):
            d = np.array([result[key]["node_max_deficit_m"][j.id] for j in juncs])
            a.scatter(xy[:, 0], xy[:, 1], s=3, c="#cccccc")
            hit = d > 0
            sc = a.scatter(xy[hit, 0], xy[hit, 1], s=8, c=d[hit], cmap="Reds", vmin=0, vmax=vmax)
            for p in network.utility.plants:
                a.plot(p["x"], p["y"], "b^", ms=8)
                a.annotate(p["id"], (p["x"], p["y"]), fontsize=8)
            a.set_title(f"{title}: worst deficit below 14 m ({int(hit.sum())} nodes)")
            a.set_aspect("equal")
            a.set_xticks([])
            a.set_yticks([])
        fig.colorbar(sc, ax=ax, shrink=0.7, label="m below 14 m")
        figs["map"] = _png(fig)
    return figs


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


def render_html(result: dict[str, Any], network: Network) -> str:
    figs = _figures(result, network)
    na, pl, nm = result["no_action"], result["plan"], result["normal"]
    e = html.escape
    # the pressures the page's headers name (the what-if's own, 14 m and 3 m by default)
    lim = {"service_m": result["window"].get("service_pressure_m", 14.0),
           "no_water_m": result["window"].get("no_water_m", 3.0)}
    svc = {"service_m": lim["service_m"]}
    parts = [f"<h1>{_l('title')}</h1>",
             f"<p><b>{_l('event')}:</b> {e(result['event']['label'])} &nbsp; <b>{_l('window')}:</b> "
             f"{e(result['window']['start'])} + {result['window']['hours']} h "
             f"({e(str(result['window']['state']))})</p>",
             (f"<p><b>{_l('scenario')}:</b> {e(result['scenario'].get('zh', result['scenario']['kind']))}<br>"
              f"{e(result['scenario'].get('en', ''))}</p>" if result.get("scenario") else ""),
             f"<p class='verdict'><b>{_l('verdict')}:</b> {e(result['verdict']['zh'])}<br>"
             f"{e(result['verdict']['en'])}</p>", f"<h2>{_l('summary')}</h2>"]
    rows = [[_l(k), m["unmet_demand_m3"], m["customer_hours_below_service"], m["customer_hours_no_water"],
             m["min_pressure_m"]] for k, m in (("normal", nm), ("no_action", na), ("plan", pl))]
    chk = result.get("epanet_check") or {}
    for k in ("no_action", "plan"):
        if k in chk:
            m = chk[k]
            rows.append([_l("epanet_check", row=_l(k)), m["unmet_demand_m3"], m["customer_hours_below_service"],
                         m["customer_hours_no_water"], m["min_pressure_m"]])
    parts.append(_table(["", _l("unmet"), _l("cust_h", **svc), _l("dry_h", no_water_m=lim["no_water_m"]),
                         _l("min_p")], rows))
    parts.append(f"<h2>{_l('actions')}</h2>")
    acts = pl.get("actions", [])
    parts.append(_table([_l("col.time"), _l("col.element"), _l("col.setting"), _l("col.action")],
                        [[a["time"], a["element"], a["setting"], a["text"]] for a in acts])
                 if acts else f"<p>{_l('no_actions')}</p>")
    if "search" in pl:
        s = pl["search"]
        line = _l("search", runs=s["evaluations"], seconds=s["seconds"], stopped=s["stopped"], blocks=str(s["blocks"]))
        parts.append(f"<p class='small'>{e(line)}</p>")
    parts.append(f"<h2>{_l('hourly')}</h2>")
    parts += [f"<img src='{figs['timeline']}'>", f"<img src='{figs['tanks']}'>"]
    hr = [[a["clock"], a["required_m3"], a["unmet_m3"], b["unmet_m3"], a["nodes_below_service"],
           b["nodes_below_service"], a["customers_below_service"], b["customers_below_service"],
           a["customers_no_water"], b["customers_no_water"], ", ".join(a["critical_below_service"][:4])]
          for a, b in zip(na["hourly"], pl["hourly"], strict=True)]
    parts.append(_table([_l("col.clock"), _l("col.required"), _l("col.unmet_no_action"), _l("col.unmet_plan"),
                         _l("col.nodes_low_no_action", **svc), _l("col.nodes_low_plan"),
                         _l("col.customers_low_no_action", **svc), _l("col.customers_low_plan"),
                         _l("col.customers_dry_no_action", no_water_m=lim["no_water_m"]), _l("col.customers_dry_plan"),
                         _l("col.critical_low_no_action", **svc)], hr))
    cats = sorted({c for h in na["hourly"] for c in h["customers_below_service_by_category"]})
    parts.append(f"<h3>{_l('by_category', **svc)}</h3>")
    parts.append(_table([_l("col.clock")] + [_category(c) for c in cats],
                        [[h["clock"]] + [h["customers_below_service_by_category"].get(c, 0) for c in cats]
                         for h in na["hourly"]]))
    if "map" in figs:
        parts += [f"<h2>{_l('area')}</h2>", f"<img src='{figs['map']}'>"]
    parts.append(f"<h2>{_l('tanks')}</h2>")
    parts.append(_table([_l("col.tank"), _l("col.name"), _l("col.start_level"), _l("col.lowest_no_action"),
                         _l("col.empty_at_no_action"), _l("col.hours_to_empty_no_action"), _l("col.lowest_plan"),
                         _l("col.hours_to_empty_plan")],
                        [[a["id"], a["name"], a["start_level_m"], a["lowest_level_m"], a.get("empty_at_clock", "—"),
                          a["hours_to_empty"], b["lowest_level_m"], b["hours_to_empty"]]
                         for a, b in zip(na["tanks"], pl["tanks"], strict=True)]))
    parts.append(f"<h2>{_l('plants')}</h2>")
    parts.append(_table([_l("col.plant"), _l("col.name"), _l("col.capacity"), _l("col.event_cap"),
                         _l("col.mean_no_action"), _l("col.max_no_action"), _l("col.mean_plan"), _l("col.max_plan")],
                        [[a["id"], a["name"], a["capacity_m3h"], a["event_cap_m3h"], a["mean_output_m3h"],
                          a["max_output_m3h"], b["mean_output_m3h"], b["max_output_m3h"]]
                         for a, b in zip(na["plants"], pl["plants"], strict=True)]))
    parts.append(f"<h2>{_l('critical')}</h2>")
    parts.append(_table([_l("col.user"), _l("col.category"), _l("col.node"), _l("col.min_p_no_action"),
                         _l("col.hours_low_no_action", **svc), _l("col.min_p_plan"), _l("col.hours_low_plan", **svc)],
                        [[a["name"], a.get("category"), a["node"], a["min_pressure_m"], a["hours_below_service"],
                          b["min_pressure_m"], b["hours_below_service"]]
                         for a, b in zip(na["critical_users"], pl["critical_users"], strict=True)]))
    parts.append(f"<h2>{_l('sources')}</h2>")
    src = result["sources"]
    labels = src["normal"]["labels"]
    zrows = []
    by_id = {k: {z["id"]: z for z in src[k]["zones"]} for k in ("normal", "no_action", "plan")}
    for z in src["normal"]["zones"]:
        row = [z["id"], z["name"]]
        for k in ("normal", "no_action", "plan"):
            zz = by_id[k].get(z["id"])
            row.append(" ".join(f"{lab} {zz['shares'][lab]:.0%}" for lab in labels
                                if zz and (zz["shares"].get(lab) or 0) >= 0.005) + (" ★" if zz and zz["single_source"]
                                                                                    else ""))
        zrows.append(row)
    parts.append(f"<p class='small'>{e(_l('single_source'))}</p>")
    parts.append(_table([_l("col.zone"), _l("col.name"), _l("normal"), _l("no_action"), _l("plan")], zrows))
    bal = result["capacity_balance"]
    parts.append(f"<h2>{_l('balance')}</h2>")
    parts.append(_table([_l("col.plant_capacity"), _l("col.usable_storage"), _l("col.required_incl_leakage"),
                         _l("col.peak"), _l("col.plants_m3h")],
                        [[bal["plant_capacity_m3"], bal["usable_storage_m3"], bal["required_m3"],
                          bal["peak_hour_demand_m3h"], bal["plant_capacity_m3h"]]]))
    notes = result.get("notes", []) + [f"solver: {', '.join(result.get('solver', []))}",
                                       f"timing: {json.dumps(result.get('timing', {}))}"]
    parts.append(f"<h2>{_l('notes')}</h2><ul>" + "".join(f"<li>{e(str(n))}</li>" for n in notes) + "</ul>")
    style = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:20px;max-width:1300px}"
             "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
             "text-align:right}th{background:#f2f2f2}td:first-child{text-align:left}img{max-width:100%}"
             ".verdict{background:#fff8e1;padding:8px;border-left:4px solid #f0ad4e}.small{color:#666;font-size:12px}")
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{_l('title')}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_html(result: dict[str, Any], network: Network, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(result, network), encoding="utf-8")
    tmp.replace(path)
