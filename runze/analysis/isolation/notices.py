"""Outage notices (停水通知): who is affected, and the notice text in Chinese and English.

The affected list comes from customer records where the utility has them (`records`: dicts with at least
"node", and optionally "id", "name", "category", "address", "phone"); otherwise it is the counts per node and
category from the network's customer table.  The text names the area (DMA names and the nodes/streets),
the start and end in local time, and reminds customers to store water.  Planned work needs `notice_hours`
(24 h by default, configurable) of notice: a plan starting sooner is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from runze.analysis.isolation.demand import CST
from runze.analysis.isolation.plan import RepairPlan

# user-facing strings of this module, Chinese and English (kept here until moved to runze.i18n)
TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh": "停水通知", "en": "Water supply interruption notice"},
    "body": {
        "zh": ("尊敬的用户：因供水管道维修（{target}），{area}将于 {start} 至 {end} 停止供水，"
               "历时约 {hours:g} 小时。{reminder}由此带来的不便，敬请谅解。"),
        "en": ("Dear customer: because of repair work on a water main ({target}), supply to {area} will be "
               "interrupted from {start} to {end}, about {hours:g} hours. {reminder}"
               "We apologise for the inconvenience."),
    },
    "reminder": {"zh": "请提前做好储水准备，停水期间请关闭水龙头。",
                 "en": "Please store water in advance and keep taps closed during the interruption. "},
    "area_dmas": {"zh": "{dmas}（涉及节点 {nodes}）", "en": "{dmas} (nodes {nodes})"},
    "area_nodes": {"zh": "节点 {nodes} 一带", "en": "the area of nodes {nodes}"},
    "more": {"zh": "等 {n} 处", "en": " and {n} more"},
    "short_notice": {
        "zh": "计划停水须提前 {hours:g} 小时通知，本次开始时间距今仅 {left:.1f} 小时",
        "en": "planned outages need {hours:g} h notice; this one starts in {left:.1f} h",
    },
    "critical": {"zh": "重点用户：{names}", "en": "Critical users: {names}"},
    "time_format": {"zh": "%Y年%m月%d日 %H:%M", "en": "%Y-%m-%d %H:%M"},
}
SEP = {"zh": "、", "en": ", "}


def affected_customers(plan: RepairPlan, records: Iterable[Mapping[str, Any]] | None = None
                       ) -> list[dict[str, Any]]:
    """Rows of the affected-customer list: each record at an affected node, else counts per node/category."""
    nodes = set(plan.affected_nodes)
    unintended = set(plan.unintended_nodes)
    if records is not None:
        out = []
        for r in records:
            node = str(r.get("node", ""))
            if node in nodes:
                row = dict(r)
                row["cause"] = "unintended" if node in unintended else "isolated"
                out.append(row)
        return out
    return [{"node": node, "category": cat, "count": int(count),
             "cause": "unintended" if node in unintended else "isolated"}
            for node, cats in plan.customers_per_node.items() for cat, count in cats.items()]


def _list(items: list[str], lang: str, limit: int) -> str:
    shown = SEP[lang].join(items[:limit])
    if len(items) > limit:
        shown += TEXTS["more"][lang].format(n=len(items) - limit)
    return shown


def notice(plan: RepairPlan, now: datetime | None = None, notice_hours: float = 24.0, tz=CST,
           node_limit: int = 12, street_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The notice for a plan: texts in zh and en, the area, times, and the short-notice flag.

    `street_names` ({node id: street/place name}) names places people recognise instead of node ids.
    """
    now = datetime.now(tz) if now is None else (now if now.tzinfo else now.replace(tzinfo=tz))
    places = [(street_names or {}).get(n, n) for n in plan.affected_nodes]
    places = list(dict.fromkeys(places))  # same street at several nodes: once
    left_h = (plan.start - now).total_seconds() / 3600.0
    short = left_h < notice_hours
    texts: dict[str, str] = {}
    for lang in ("zh", "en"):
        fmt = TEXTS["time_format"][lang]
        nodes = _list(places, lang, node_limit)
        if plan.dmas:
            area = TEXTS["area_dmas"][lang].format(dmas=SEP[lang].join(d["name"] for d in plan.dmas), nodes=nodes)
        else:
            area = TEXTS["area_nodes"][lang].format(nodes=nodes)
        body = TEXTS["body"][lang].format(
            target=plan.target, area=area, start=plan.start.astimezone(tz).strftime(fmt),
            end=plan.end.astimezone(tz).strftime(fmt),
            hours=round((plan.end - plan.start).total_seconds() / 3600.0, 2), reminder=TEXTS["reminder"][lang])
        texts[lang] = f"{TEXTS['title'][lang]}\n{body}"
    flags = []
    if short:
        flags.append({lang: TEXTS["short_notice"][lang].format(hours=notice_hours, left=left_h)
                      for lang in ("zh", "en")})
    critical = [c.get("name", c.get("node")) for c in plan.critical_users]
    return {
        "texts": texts,
        "area": {"dmas": plan.dmas, "nodes": plan.affected_nodes},
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "short_notice": short,
        "hours_of_notice": round(left_h, 2),
        "required_notice_hours": notice_hours,
        "flags": flags,
        "critical_users": {lang: TEXTS["critical"][lang].format(names=SEP[lang].join(map(str, critical)))
                           for lang in ("zh", "en")} if critical else {},
    }
