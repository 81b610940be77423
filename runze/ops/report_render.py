"""Rendering the monthly report (runze.ops.reports) to HTML (Jinja2 template) and PDF (reportlab).

Both renderers take the same `sections(report)` rows, so the HTML page and the PDF show the same figures with the
same wording.  The PDF uses reportlab's built-in CID font STSong-Light for Chinese (Adobe's Asian font pack
names it; PDF readers supply the glyphs), so no font file has to be installed or shipped.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
CJK_FONT = "STSong-Light"
KIND_LABELS = {"all": "合计 all", "residential": "居民 residential", "non_residential": "非居民 non-residential",
               "small_business": "小微企业 small business"}
ACTIVITY_LABELS = {"branch_assembly": "支部党员大会", "committee_meeting": "支委会", "group_meeting": "党小组会",
                   "party_lecture": "党课", "theme_day": "主题党日", "micro_lecture": "微党课"}
SOURCE_LABELS = {"telemetry": "实测 measured", "simulation": "模型模拟 simulated", "samples": "化验取样 lab samples",
                 None: "无数据 no data"}


def _num(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def headline_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    h = report["headline"]
    doubt = "" if h["balance_closes"] is not False else "（水量平衡不闭合，存疑 balance open: doubtful）"
    return [
        ("产销差率 NRW", _num(h["nrw_percent"], 1, " %")),
        ("水量平衡闭合 Balance closes", _num(h["balance_closes"])),
        ("漏损指数 ILI", _num(h["ili"], 2) + doubt),
        ("漏损率 CJJ 92 leakage rate", _num(h["leakage_rate_percent"], 1, " %")),
        ("管网压力合格率 Pressure compliance", _num(h["pressure_compliance_percent"], 1, " %")
         + f"（{SOURCE_LABELS.get(h['pressure_source'], h['pressure_source'])}）"),
        ("浊度合格率 Turbidity compliance", _num(h["turbidity_compliance_percent"], 1, " %")),
        ("抢修及时率 Repairs on time", _num(h["repair_on_time_percent"], 1, " %")),
        ("报装通水 Connections completed", _num(h["connections_completed"])),
        ("报装受理 Applications received", _num(h["connections_submitted"])),
        ("获得用水 中位工作日 Median working days", _num(h["getting_water_median_workdays"], 2)),
        ("党员抢修工时占比 Member share of emergency hours", _num(h["member_emergency_hours_percent"], 1, " %")),
        ("党组织活动 Party activities", _num(h["party_activities"])),
    ]


def sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Titled tables: each {"title", "header", "rows", "note"} with every cell already a string."""
    out = [{"title": "核心指标 Headline figures", "header": ["指标 Indicator", "数值 Value"],
            "rows": [list(r) for r in headline_rows(report)], "note": ""}]
    water = report["water"]
    if water.get("available"):
        b = water["balance"]
        rows = [[label, _num(b[key], 0, " m³")] for label, key in (
            ("供水量 System input", "system_input"), ("计费计量 Billed metered", "billed_metered"),
            ("计费未计量 Billed unmetered", "billed_unmetered"), ("免费计量 Unbilled metered", "unbilled_metered"),
            ("免费未计量 Unbilled unmetered", "unbilled_unmetered"), ("表观漏损 Apparent losses", "apparent_losses"),
            ("真实漏损 Real losses", "real_losses"), ("产销差 Non-revenue water", "non_revenue_water"),
            ("不闭合差 Closure difference", "closure_difference"))]
        ili = water.get("ili") or {}
        cjj = water["cjj"]
        rows += [["日均供水 Daily supply", _num(water["daily_supply_m3"] / 1e4, 2, " 万m³/d")],
                 ["平均压力 Mean pressure", _num(water["mean_pressure_m"], 1, " m")],
                 ["UARL", _num(ili.get("uarl_l_per_day"), 0, " L/d")], ["CARL", _num(ili.get("carl_l_per_day"), 0, " L/d")],
                 ["综合漏损率 R_WL", _num(cjj.get("gross_loss_percent"), 2, " %")],
                 ["修正 R1+R2+R3+R4", _num(100 * cjj["total_correction"], 2, " %")],
                 ["漏损率 R_BL", _num(cjj.get("leakage_percent"), 2, " %") + f"（{cjj.get('grade')}）"]]
        out.append({"title": "水量平衡与漏损 Water balance and leakage", "header": ["项目 Item", "数值 Value"],
                    "rows": rows, "note": f"来源 source: {water['source']}"})
    p = report["pressure"]
    if p.get("result"):
        r = p["result"]
        out.append({"title": "供水压力 Service pressure", "header": ["项目 Item", "数值 Value"], "rows": [
            ["来源 Source", SOURCE_LABELS.get(p["source"], str(p["source"])) + (f" · {p.get('network')}" if p.get("network") else "")],
            ["读数 Readings counted", _num(r["counted"])], ["合格 Compliant", _num(r["compliant"])],
            ["合格率 Rate", _num(None if r["rate"] is None else 100 * r["rate"], 2, " %")],
            ["最低 Lowest (MPa)", _num(r["worst_value"], 3)], ["排除 Excluded", _num(r["excluded"])]], "note": ""})
    t = report["turbidity"]
    if t.get("result"):
        r = t["result"]
        rows = [["来源 Source", SOURCE_LABELS.get(t["source"], str(t["source"]))],
                ["样本 Readings", _num(r["counted"])], ["合格率 Rate", _num(None if r["rate"] is None else 100 * r["rate"], 2, " %")],
                ["最高 Worst (NTU)", _num(r["worst_value"], 2)]]
        rows += [[f"合格率 {role}", _num(None if v is None else 100 * v, 2, " %")] for role, v in t["by_role"].items()]
        out.append({"title": "水质浊度 Turbidity", "header": ["项目 Item", "数值 Value"], "rows": rows, "note": ""})
    rep = report["repairs"]["result"]
    out.append({"title": "抢修维修 Repairs", "header": ["项目 Item", "数值 Value"], "rows": [
        ["工单 Orders", _num(report["repairs"]["orders"])], ["已完成 Counted", _num(rep["counted"])],
        ["按时 On time", _num(rep["on_time"])], ["及时率 Rate", _num(rep["rate_percent"], 1, " %")],
        ["中位时长 Median", _num(rep["median_hours"], 1, " h")], ["最长 Worst", _num(rep["worst_hours"], 1, " h")],
        ["平均停水 Mean time without water", _num(report["repairs"]["mean_hours_without_water"], 1, " h")]], "note": ""})
    conn = report["connections"]
    rows = [[KIND_LABELS.get(f["customer_kind"], f["customer_kind"]), _num(f["completed"]),
             _num(f["procedures_median"], 0), _num(f["workdays_median"], 2), _num(f["workdays_max"], 2),
             _num(f["cost_total"], 0), _num(100 * f["free_share"], 0, " %"), _num(f["overdue"])] for f in conn["by_kind"]]
    out.append({"title": "报装与获得用水 New connections (五零)", "header": [
        "类别 Kind", "通水 Done", "环节 Steps", "中位工作日 Median wd", "最长 Worst wd", "费用 Cost ¥", "免费 Free",
        "超时 Late"], "rows": rows, "note": f"受理 {conn['submitted']}，月末在办 {conn['open_at_end']}，"
        f"在办超时 {len(conn['overdue_open'])} / received {conn['submitted']}, open at month end "
        f"{conn['open_at_end']}, open and overdue {len(conn['overdue_open'])}"})
    party = report["party"]
    eh = party["emergency_hours"]
    rows = [["党员 Members", _num(party["members"])],
            ["活动 Activities", _num(party["activities"]["total"])],
            ["三会一课 Regular meetings and lectures", _num(party["activities"]["three_meetings_one_lecture"])],
            ["出勤率 Attendance", _num(None if party["activities"]["attendance_rate"] is None
                                     else 100 * party["activities"]["attendance_rate"], 1, " %")],
            ["抢修工时 Emergency person-hours", _num(eh["person_hours"], 1, " h")],
            ["其中党员 By members", _num(eh["member_hours"], 1, " h")],
            ["先锋队出动 Vanguard call-outs", _num(party["vanguard_callouts"])],
            ["先锋队牵头事件 Incidents led by a vanguard team",
             f"{party['incidents']['led_by_vanguard']} / {party['incidents']['total']}"],
            ["积分合计 Points earned", _num(party["points"]["total"], 0)]]
    rows += [[f"活动 {ACTIVITY_LABELS.get(k, k)}", _num(v)] for k, v in sorted(party["activities"]["by_kind"].items())]
    rows += [[f"积分 {p['name']}", _num(p["points"], 0)] for p in party["points"]["top"][:5]]
    for c in party["competitions"]:
        rows += [[f"{c['title']} {s['prize']}", f"{s['contestant']} {s['score']:.2f}"] for s in c["winners"]]
    out.append({"title": "党建+业务 Party building and the work", "header": ["项目 Item", "数值 Value"], "rows": rows,
                "note": ""})
    return out


def warning_lines(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(severity, zh, en) of every warning, errors first."""
    return [(w.get("severity", "info"), w["message"]["zh"], w["message"]["en"]) for w in report["warnings"]]


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def render_html(report: dict[str, Any]) -> str:
    return _env().get_template("monthly_report.html").render(
        report=report, sections=sections(report), warnings=warning_lines(report))


def render_pdf(report: dict[str, Any]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    title = ParagraphStyle("title", fontName=CJK_FONT, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=CJK_FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=CJK_FONT, fontSize=9, leading=12)
    warn = ParagraphStyle("warn", parent=body, textColor=colors.HexColor("#a40000"))
    cell = ParagraphStyle("cell", fontName=CJK_FONT, fontSize=8.5, leading=11)

    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    story: list[Any] = [Paragraph(f"供水月度考核报告 Monthly evaluation report · {report['month']}", title),
                        Paragraph(esc(f"生成 generated {report['generated_at']}"), body), Spacer(1, 4 * mm)]
    lines = warning_lines(report)
    if lines:
        story.append(Paragraph("提示与警告 Warnings", h2))
        for severity, zh, en in lines:
            style = warn if severity == "error" else body
            story.append(Paragraph(esc(f"[{severity}] {zh}"), style))
            story.append(Paragraph(esc(en), style))
    for section in sections(report):
        story.append(Paragraph(esc(section["title"]), h2))
        data = [[Paragraph(esc(c), cell) for c in section["header"]]]
        data += [[Paragraph(esc(c), cell) for c in row] for row in section["rows"]]
        n = len(section["header"])
        widths = [70 * mm, 100 * mm] if n == 2 else [170 * mm / n] * n
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
        if section["note"]:
            story.append(Paragraph(esc(section["note"]), body))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=f"Runze monthly report {report['month']}",
                      author="Runze 润泽").build(story)
    return buffer.getvalue()
