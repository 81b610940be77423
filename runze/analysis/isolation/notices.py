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
from runze.i18n import LANGUAGES, both, t


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
    shown = t("outage.notice.separator", lang).join(items[:limit])
    if len(items) > limit:
        shown += t("outage.notice.more", lang, n=len(items) - limit)
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
    for lang in LANGUAGES:
        fmt = t("outage.notice.time_format", lang)
        sep = t("outage.notice.separator", lang)
        nodes = _list(places, lang, node_limit)
        if plan.dmas:
            area = t("outage.notice.area_dmas", lang, dmas=sep.join(d["name"] for d in plan.dmas), nodes=nodes)
        else:
            area = t("outage.notice.area_nodes", lang, nodes=nodes)
        body = t("outage.notice.body", lang,
                 target=plan.target, area=area, start=plan.start.astimezone(tz).strftime(fmt),
                 end=plan.end.astimezone(tz).strftime(fmt),
                 hours=round((plan.end - plan.start).total_seconds() / 3600.0, 2),
                 reminder=t("outage.notice.reminder", lang))
        texts[lang] = f"{t('outage.notice.title', lang)}\n{body}"
    flags = []
    if short:
        flags.append(both("outage.notice.short_notice", hours=notice_hours, left=left_h))
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
        "critical_users": {lang: t("outage.notice.critical", lang,
                                   names=t("outage.notice.separator", lang).join(map(str, critical)))
                           for lang in LANGUAGES} if critical else {},
    }
