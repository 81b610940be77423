"""Message catalogue for user-facing text: Chinese first, English second.

Usage::

    from runze.i18n import t
    t("alarm.pressure_low", sensor="P-12", value=0.12, limit=0.14)            # Chinese
    t("alarm.pressure_low", lang="en", sensor="P-12", value=0.12, limit=0.14)

How to add a key (anyone may): add one entry to ``MESSAGES`` below, keyed ``"<area>.<what>"`` (area = the
module or feature: ``alarm``, ``kpi``, ``workday``, ``connection``, ``competition``, ``telemetry``...), with both
a ``"zh"`` and an ``"en"`` text.  Placeholders use ``str.format`` syntax (``{sensor}``, ``{value:.3f}``); both
languages must use the same placeholder names (``tests`` check that every entry has both languages and the same
fields).  Keep the file a flat dict, sorted by area; never remove a key another module uses.

A missing key or language never raises in production code paths: ``t`` falls back to the other language and
then to the key itself, so a typo shows up as a visible key on screen instead of a crash.  A missing
placeholder value is left as ``{name}`` in the text for the same reason.
"""

from __future__ import annotations

import string

LANGUAGES = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    # --- alarms (runze/telemetry/alarms.py) ---
    "alarm.pressure_low": {
        "zh": "测点 {sensor} 压力过低：{value:.3f} MPa，低于 {limit:.3f} MPa",
        "en": "Sensor {sensor}: pressure low, {value:.3f} MPa below {limit:.3f} MPa",
    },
    "alarm.pressure_high": {
        "zh": "测点 {sensor} 压力过高：{value:.3f} MPa，高于 {limit:.3f} MPa",
        "en": "Sensor {sensor}: pressure high, {value:.3f} MPa above {limit:.3f} MPa",
    },
    "alarm.tank_low": {
        "zh": "水池/水塔 {sensor} 水位过低：{value:.2f} m，低于最低水位 {limit:.2f} m",
        "en": "Tank {sensor}: level low, {value:.2f} m below its minimum {limit:.2f} m",
    },
    "alarm.raw_turbidity_high": {
        "zh": "原水浊度 {sensor} 超限：{value:.1f} NTU，高于水厂处理上限 {limit:.1f} NTU",
        "en": "Raw-water turbidity {sensor}: {value:.1f} NTU above the plant's limit {limit:.1f} NTU",
    },
    "alarm.outlet_turbidity_high": {
        "zh": "出厂水浊度 {sensor} 超标：{value:.2f} NTU，高于 {limit:.2f} NTU",
        "en": "Plant-outlet turbidity {sensor}: {value:.2f} NTU above {limit:.2f} NTU",
    },
    "alarm.value_low": {
        "zh": "测点 {sensor} 数值过低：{value:.3f}，低于 {limit:.3f}",
        "en": "Sensor {sensor}: value low, {value:.3f} below {limit:.3f}",
    },
    "alarm.value_high": {
        "zh": "测点 {sensor} 数值过高：{value:.3f}，高于 {limit:.3f}",
        "en": "Sensor {sensor}: value high, {value:.3f} above {limit:.3f}",
    },
    "alarm.flatline": {
        "zh": "测点 {sensor} 数据不变化：连续 {count} 个读数相同（{value:.3f}），传感器可能故障",
        "en": "Sensor {sensor}: flat-lined, {count} readings without change ({value:.3f}); the sensor may be faulty",
    },
    "alarm.silent": {
        "zh": "测点 {sensor} 无数据：已超过 {minutes:.0f} 分钟未收到读数",
        "en": "Sensor {sensor}: silent, no reading for more than {minutes:.0f} minutes",
    },
    "alarm.flow_step": {
        "zh": "测点 {sensor} 流量突变：{previous:.2f} → {value:.2f}（变化 {percent:.0f}%，阈值 {limit_percent:.0f}%）",
        "en": "Sensor {sensor}: flow step {previous:.2f} → {value:.2f} ({percent:.0f}% change, limit {limit_percent:.0f}%)",
    },
    "alarm.cleared": {
        "zh": "报警已恢复：{message}",
        "en": "Alarm cleared: {message}",
    },
    "alarm.status.raised": {"zh": "报警中", "en": "raised"},
    "alarm.status.acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "alarm.status.cleared": {"zh": "已恢复", "en": "cleared"},
    "alarm.status.cleared_unacknowledged": {"zh": "已恢复（未确认）", "en": "cleared, not acknowledged"},
    # --- command line (runze/cli/common.py) ---
    "cli.bad_table_output": {
        "zh": "输出文件须为 .parquet 或 .csv：{path}",
        "en": "output must end in .parquet or .csv: {path}",
    },
    "cli.bad_network": {"zh": "无法读取管网：{error}", "en": "cannot read network: {error}"},
    # --- competition (runze/ops/competition.py) ---
    "competition.weights_normalised": {
        "zh": "评分项权重之和为 {total:.4f}，不等于 1，已按比例归一化",
        "en": "Criterion weights sum to {total:.4f}, not 1; they were normalised",
    },
    "competition.missing_score": {
        "zh": "评委 {judge} 未给选手 {contestant} 的“{criterion}”打分",
        "en": "Judge {judge} gave no '{criterion}' score to contestant {contestant}",
    },
    "competition.score_out_of_range": {
        "zh": "评委 {judge} 给选手 {contestant} 的“{criterion}”得分 {score} 超出范围 {low}–{high}",
        "en": "Judge {judge} scored contestant {contestant} {score} on '{criterion}', outside {low}–{high}",
    },
    "competition.tie_unbroken": {
        "zh": "选手 {contestants} 得分完全相同，名次并列",
        "en": "Contestants {contestants} are tied on every tie-break; they share the rank",
    },
    # --- new connections (runze/ops/connections_logic.py) ---
    "connection.step.application": {"zh": "申请受理", "en": "application"},
    "connection.step.survey": {"zh": "现场踏勘", "en": "site survey"},
    "connection.step.scheme": {"zh": "方案设计", "en": "connection scheme"},
    "connection.step.construction": {"zh": "工程施工", "en": "construction"},
    "connection.step.meter_installation": {"zh": "装表", "en": "meter installation"},
    "connection.step.water_on": {"zh": "通水", "en": "water on"},
    "connection.step.cancelled": {"zh": "已撤销", "en": "cancelled"},
    "connection.step.rejected": {"zh": "不予受理", "en": "rejected"},
    "connection.zero.visits": {"zh": "零跑腿", "en": "zero visits"},
    "connection.zero.paperwork": {"zh": "零资料", "en": "zero paperwork"},
    "connection.zero.approvals": {"zh": "零审批", "en": "zero approvals"},
    "connection.zero.cost": {"zh": "零费用", "en": "zero cost"},
    "connection.zero.waiting": {"zh": "零等待", "en": "zero waiting"},
    "connection.illegal_transition": {
        "zh": "报装流程不能从“{from_step}”转到“{to_step}”（允许：{allowed}）",
        "en": "A connection cannot go from '{from_step}' to '{to_step}' (allowed: {allowed})",
    },
    "connection.unknown_step": {
        "zh": "未知的报装环节“{step}”",
        "en": "Unknown connection step '{step}'",
    },
    "connection.overdue": {
        "zh": "报装 {application} 的“{step}”环节已超时：用时 {used:.1f} 个工作日，限时 {limit:.1f} 个工作日",
        "en": "Connection {application}: step '{step}' overdue, {used:.1f} working days used, limit {limit:.1f}",
    },
    # --- emergency dispatch (runze/analysis/dispatch/*) ---
    "dispatch.no_plants": {
        "zh": "管网附属数据中没有水厂清单 (sidecar 'plants')",
        "en": "the network's sidecar lists no plants ('plants')",
    },
    "dispatch.unknown_plant": {"zh": "未知水厂：{plant!r}；已有：{known}", "en": "unknown plant: {plant!r}; known: {known}"},
    "dispatch.bad_capacity": {
        "zh": "产能比例须在 0 到 1 之间：{capacity}",
        "en": "capacity fraction must be between 0 and 1: {capacity}",
    },
    "dispatch.capacity_needs_plant": {"zh": "给出 --capacity 时须同时给出 --plant", "en": "--capacity needs --plant"},
    "dispatch.unknown_link": {"zh": "未知管段：{link!r}", "en": "unknown link: {link!r}"},
    "dispatch.unknown_station": {
        "zh": "未知泵站：{station!r}；已有：{known}",
        "en": "unknown pump station: {station!r}; known: {known}",
    },
    "dispatch.unknown_source": {"zh": "未知水源：{source!r}；已有：{known}", "en": "unknown source: {source!r}; known: {known}"},
    "dispatch.bad_factor": {
        "zh": "需水倍数须大于 0、不超过 3：{factor}",
        "en": "demand factor must be above 0 and at most 3: {factor}",
    },
    "dispatch.bad_start": {"zh": "开始时间格式应为 HH:MM 或 Nd HH:MM：{text!r}", "en": "start must be HH:MM or 'Nd HH:MM': {text!r}"},
    "dispatch.start_past": {
        "zh": "开始时间早于数据起点：{text} < {clock}（START CLOCKTIME）；次日请写 '1d {text}'",
        "en": "start is before the data begins: {text} < {clock} (START CLOCKTIME); use '1d {text}' for the next day",
    },
    "dispatch.start_late": {
        "zh": "开始时间太晚：{text} 距数据起点超过 {days} 天",
        "en": "start is too far after the data begins: {text}: more than {days} days",
    },
    "dispatch.bad_hours": {
        "zh": "事件时长须为 1 到 {max_hours} 小时的整数：{hours}",
        "en": "event hours must be a whole number from 1 to {max_hours}: {hours}",
    },
    "dispatch.event_too_long": {
        "zh": "事件长于模拟时段：{hours} h > {horizon} h",
        "en": "event longer than the simulation: {hours} h > {horizon} h",
    },
    "dispatch.unknown_tank": {"zh": "未知水池：{tank!r}", "en": "unknown tank: {tank!r}"},
    "dispatch.unknown_scenario": {
        "zh": "未知情景：{kind!r}；可选：{known}",
        "en": "unknown scenario {kind!r}; known: {known}",
    },
    "dispatch.maintenance_needs_plant": {"zh": "检修情景需要 --plant", "en": "maintenance needs --plant"},
    "dispatch.none": {"zh": "无", "en": "none"},
    "dispatch.state.spin_up": {
        "zh": "正常运行 0 → {hours:g} h（{solver}）",
        "en": "normal operation 0 → {hours:g} h ({solver})",
    },
    "dispatch.state.measured_levels": {"zh": "实测水位", "en": "measured levels"},
    # event labels (joined with "; " per language)
    "dispatch.label.plant_out": {"zh": "{name} {id} 停产", "en": "{name} {id} out"},
    "dispatch.label.plant_capacity": {"zh": "{name} {id} 产能 {fraction:.0%}", "en": "{name} {id} at {fraction:.0%}"},
    "dispatch.label.main_out": {"zh": "{link} 停用", "en": "{link} out"},
    "dispatch.label.station_out": {"zh": "{name} {id} 泵站停运", "en": "{name} {id} pump station out"},
    "dispatch.label.source_lost": {"zh": "水源 {source} 失去", "en": "source {source} lost"},
    "dispatch.label.demand_factor": {"zh": "需水 ×{factor:g}", "en": "demand ×{factor:g}"},
    "dispatch.label.normal": {"zh": "正常运行", "en": "normal operation"},
    "dispatch.label.before_commissioning": {
        "zh": "{name} 投产前（未投产）",
        "en": "{name} before commissioning (out of service)",
    },
    "dispatch.label.maintenance": {"zh": "{label} 检修", "en": "{label} maintenance"},
    "dispatch.label.hot_day": {"zh": "高温日需水 +{increase:.0%}", "en": "hot day, demand +{increase:.0%}"},
    # progress of a what-if job (shown "zh en")
    "dispatch.progress.state": {"zh": "当前状态", "en": "current state"},
    "dispatch.progress.normal": {"zh": "正常运行", "en": "normal operation"},
    "dispatch.progress.no_action": {"zh": "无措施", "en": "no action"},
    "dispatch.progress.search": {
        "zh": "方案搜索：{runs} 次水力计算，最优 {best:.0f}",
        "en": "search: {runs} runs, best {best:.0f}",
    },
    "dispatch.progress.verify": {"zh": "方案校核", "en": "verifying the plan"},
    "dispatch.progress.epanet_check": {"zh": "EPANET 2.3 复核", "en": "EPANET 2.3 cross-check"},
    "dispatch.progress.tracing": {"zh": "水源追踪", "en": "source tracing"},
    "dispatch.progress.done": {"zh": "完成", "en": "done"},
    # the plan's actions for the duty manager
    "dispatch.action.open_valve": {"zh": "开启分区边界阀 {valve}", "en": "open DMA boundary valve {valve}"},
    "dispatch.action.standby_on": {"zh": "{station} 备用泵 {pump} 开", "en": "{station}: standby pump {pump} on"},
    "dispatch.action.standby_off": {"zh": "{station} 备用泵 {pump} 停", "en": "{station}: standby pump {pump} off"},
    "dispatch.action.pump_speed": {"zh": "{station} 送水泵转速 {speed:.0%}", "en": "{station}: pump speed {speed:.0%}"},
    "dispatch.action.plant_in_service": {"zh": "{name}投产", "en": "{name}: plant in service"},
    # notes on how a run was solved
    "dispatch.note.solver_fallback": {
        "zh": "runze 求解失败（{error}），改用 EPANET 2.3",
        "en": "runze solver failed ({error}); EPANET 2.3 used",
    },
    "dispatch.note.epanet_warned": {
        "zh": "EPANET 警告（{kinds} 类，{periods} 个时段）：{warnings}",
        "en": "EPANET warned ({kinds} kinds, {periods} periods): {warnings}",
    },
    # verdicts (runze/analysis/dispatch/service.py)
    "dispatch.verdict.no_deficit": {
        "zh": "无需调度：不采取措施时各节点压力均不低于服务压力，需水全部满足。",
        "en": "No re-dispatch needed: with no action every node stays at or above service pressure.",
    },
    "dispatch.verdict.plan_halves": {
        "zh": "调度方案使缺水量减少 {unmet_cut:.0%}，低压户时减少 {hours_cut:.0%}（全时段水力模拟校核）。",
        "en": "The plan cuts unmet demand by {unmet_cut:.0%} and customer-hours below service by {hours_cut:.0%} "
              "(verified by a full simulation).",
    },
    "dispatch.verdict.capacity_short": {
        "zh": "剩余产能不足：水厂可供 {plants_m3:.0f} m³ + 可用调蓄 {storage_m3:.0f} m³ < 时段需水(含漏损) "
              "{required_m3:.0f} m³；高峰时需水 {peak_m3h:.0f} m³/h，水厂最多 {plants_m3h:.0f} m³/h。",
        "en": "Capacity left cannot do it: plants {plants_m3:.0f} m³ + usable storage {storage_m3:.0f} m³ < "
              "{required_m3:.0f} m³ required (incl. leakage); peak hour {peak_m3h:.0f} m³/h against "
              "{plants_m3h:.0f} m³/h of plants.",
    },
    "dispatch.verdict.less_than_half": {
        "zh": "方案使缺水量减少 {unmet_cut}、低压户时减少 {hours_cut}，未达一半：",
        "en": "The plan cuts unmet demand by {unmet_cut} and customer-hours below service by {hours_cut}, "
              "less than half: ",
    },
    "dispatch.verdict.peak_capacity_short": {
        "zh": "剩余各水厂 ({capped}) 高峰时均已满负荷，共 {plants_m3h:.0f} m³/h，高峰需水 {peak_m3h:.0f} m³/h，"
              "调蓄 {storage_m3:.0f} m³ 不足以补齐高峰缺口。",
        "en": "every remaining plant ({capped}) runs at capacity at the peak, {plants_m3h:.0f} m³/h against a peak "
              "of {peak_m3h:.0f} m³/h, and {storage_m3:.0f} m³ of usable storage cannot fill the gap.",
    },
    "dispatch.verdict.transfer_limited": {
        "zh": "总量够用（水厂 {plants_m3:.0f} m³ + 调蓄 {storage_m3:.0f} m³ ≥ 需水 {required_m3:.0f} m³），"
              "但受输水能力限制：{capped} 已达产能上限，其余水厂富余 {spare} m³/h 送不到缺水区。",
        "en": "the volume is there (plants {plants_m3:.0f} m³ + storage {storage_m3:.0f} m³ ≥ {required_m3:.0f} m³) "
              "but transfer limits bind: {capped} at capacity while spare capacity {spare} m³/h cannot reach the "
              "area short of water through the mains.",
    },
    "dispatch.verdict.epanet_check": {
        "zh": " EPANET 2.3 复核：缺水 {unmet_before:.0f} → {unmet_after:.0f} m³（减少 {unmet_cut}），"
              "低压户时 {hours_before:.0f} → {hours_after:.0f}（减少 {hours_cut}）。",
        "en": " EPANET 2.3 check: unmet {unmet_before:.0f} → {unmet_after:.0f} m³ (−{unmet_cut}), "
              "customer-hours {hours_before:.0f} → {hours_after:.0f} (−{hours_cut}).",
    },
    "dispatch.verdict.commission": {
        "zh": "{name}投产前：缺水 {unmet_before:.0f} m³、低压户时 {hours_before:.0f}、最低压力 {min_before:.1f} m；"
              "投产后：缺水 {unmet_after:.0f} m³、低压户时 {hours_after:.0f}、最低压力 {min_after:.1f} m。"
              "主供水厂改变的分区：{changed}；该厂供水 ≥ 20 % 的分区：{served}。",
        "en": "Before {name}: unmet {unmet_before:.0f} m³, customer-hours below 14 m {hours_before:.0f}, "
              "min pressure {min_before:.1f} m; after: unmet {unmet_after:.0f} m³, {hours_after:.0f} "
              "customer-hours, min {min_after:.1f} m. DMAs whose main plant changes: {changed}; "
              "DMAs taking ≥ 20 % from it: {served}.",
    },
    "dispatch.scenario.commission": {
        "zh": "{name}投产前后对比：before = 未投产，after = 投产（正常运行）",
        "en": "{name}: before = plant not in service; after = plant in service (normal operation)",
    },
    # the duty manager's report (runze/analysis/dispatch/report.py; shown "zh en")
    "dispatch.report.title": {"zh": "应急调度分析", "en": "Emergency dispatch"},
    "dispatch.report.event": {"zh": "事件", "en": "Event"},
    "dispatch.report.window": {"zh": "时段", "en": "Window"},
    "dispatch.report.verdict": {"zh": "结论", "en": "Verdict"},
    "dispatch.report.scenario": {"zh": "情景", "en": "Scenario"},
    "dispatch.report.summary": {"zh": "对比（全时段水力模拟校核）", "en": "Comparison (verified by full simulation)"},
    "dispatch.report.normal": {"zh": "正常运行", "en": "normal"},
    "dispatch.report.no_action": {"zh": "无措施", "en": "no action"},
    "dispatch.report.plan": {"zh": "调度方案", "en": "plan"},
    "dispatch.report.epanet_check": {"zh": "{row}（EPANET 2.3 复核）", "en": "{row} (EPANET 2.3 check)"},
    "dispatch.report.unmet": {"zh": "缺水量 (m³)", "en": "unmet demand (m³)"},
    "dispatch.report.cust_h": {"zh": "低压户时 < {service_m:g} m", "en": "customer-hours < {service_m:g} m"},
    "dispatch.report.dry_h": {"zh": "停水户时 < {no_water_m:g} m", "en": "customer-hours < {no_water_m:g} m"},
    "dispatch.report.min_p": {"zh": "最低压力 (m)", "en": "min pressure (m)"},
    "dispatch.report.actions": {"zh": "调度指令", "en": "Actions"},
    "dispatch.report.no_actions": {"zh": "无需操作", "en": "no action needed"},
    "dispatch.report.search": {
        "zh": "搜索：{runs} 次水力计算，{seconds} s，{stopped}；分段 {blocks}",
        "en": "search: {runs} runs, {seconds} s, {stopped}; blocks {blocks}",
    },
    "dispatch.report.hourly": {"zh": "逐时", "en": "Hour by hour"},
    "dispatch.report.by_category": {
        "zh": "按类别（无措施，低于 {service_m:g} m 的用户）",
        "en": "by category (no action, customers below {service_m:g} m)",
    },
    "dispatch.report.area": {"zh": "受影响区域", "en": "Affected area"},
    "dispatch.report.tanks": {"zh": "水池", "en": "Tanks"},
    "dispatch.report.plants": {"zh": "水厂出水", "en": "Plant output"},
    "dispatch.report.sources": {"zh": "水源构成", "en": "Source shares by DMA/zone"},
    "dispatch.report.critical": {"zh": "重点用户", "en": "Critical users"},
    "dispatch.report.balance": {"zh": "产能平衡", "en": "Capacity balance"},
    "dispatch.report.notes": {"zh": "说明", "en": "Notes"},
    "dispatch.report.single_source": {
        "zh": "★ 单一水厂供水 (> 95 %)；storage = 事件开始前池中存水",
        "en": "★ single-plant dependent (> 95 %); storage = water held in tanks at the start",
    },
    "dispatch.report.col.time": {"zh": "时间", "en": "time"},
    "dispatch.report.col.element": {"zh": "设备", "en": "element"},
    "dispatch.report.col.setting": {"zh": "设定", "en": "setting"},
    "dispatch.report.col.action": {"zh": "说明", "en": "action"},
    "dispatch.report.col.clock": {"zh": "时刻", "en": "clock"},
    "dispatch.report.col.required": {"zh": "需水 m³", "en": "required m³"},
    "dispatch.report.col.unmet_no_action": {"zh": "缺水（无措施）", "en": "unmet (no action)"},
    "dispatch.report.col.unmet_plan": {"zh": "缺水（方案）", "en": "unmet (plan)"},
    "dispatch.report.col.nodes_low_no_action": {
        "zh": "低压节点 <{service_m:g}（无措施）",
        "en": "nodes <{service_m:g} (no action)",
    },
    "dispatch.report.col.nodes_low_plan": {"zh": "低压节点（方案）", "en": "nodes (plan)"},
    "dispatch.report.col.customers_low_no_action": {
        "zh": "低压户 <{service_m:g}（无措施）",
        "en": "customers <{service_m:g} (no action)",
    },
    "dispatch.report.col.customers_low_plan": {"zh": "低压户（方案）", "en": "customers (plan)"},
    "dispatch.report.col.customers_dry_no_action": {
        "zh": "停水户 <{no_water_m:g}（无措施）",
        "en": "customers <{no_water_m:g} (no action)",
    },
    "dispatch.report.col.customers_dry_plan": {"zh": "停水户（方案）", "en": "customers (plan)"},
    "dispatch.report.col.critical_low_no_action": {
        "zh": "重点用户低压 <{service_m:g}（无措施）",
        "en": "critical <{service_m:g} (no action)",
    },
    "dispatch.report.col.tank": {"zh": "水池", "en": "tank"},
    "dispatch.report.col.name": {"zh": "名称", "en": "name"},
    "dispatch.report.col.start_level": {"zh": "起始 m", "en": "start m"},
    "dispatch.report.col.lowest_no_action": {"zh": "最低 m（无措施）", "en": "lowest m (no action)"},
    "dispatch.report.col.empty_at_no_action": {"zh": "放空时刻（无措施）", "en": "empty at (no action)"},
    "dispatch.report.col.hours_to_empty_no_action": {"zh": "至放空小时（无措施）", "en": "hours to empty (no action)"},
    "dispatch.report.col.lowest_plan": {"zh": "最低 m（方案）", "en": "lowest m (plan)"},
    "dispatch.report.col.hours_to_empty_plan": {"zh": "至放空小时（方案）", "en": "hours to empty (plan)"},
    "dispatch.report.col.plant": {"zh": "水厂", "en": "plant"},
    "dispatch.report.col.capacity": {"zh": "能力 m³/h", "en": "capacity m³/h"},
    "dispatch.report.col.event_cap": {"zh": "事件上限 m³/h", "en": "event cap m³/h"},
    "dispatch.report.col.mean_no_action": {"zh": "平均出水（无措施）", "en": "mean (no action)"},
    "dispatch.report.col.max_no_action": {"zh": "最大（无措施）", "en": "max (no action)"},
    "dispatch.report.col.mean_plan": {"zh": "平均出水（方案）", "en": "mean (plan)"},
    "dispatch.report.col.max_plan": {"zh": "最大（方案）", "en": "max (plan)"},
    "dispatch.report.col.user": {"zh": "用户", "en": "user"},
    "dispatch.report.col.category": {"zh": "类别", "en": "category"},
    "dispatch.report.col.node": {"zh": "节点", "en": "node"},
    "dispatch.report.col.min_p_no_action": {"zh": "最低压力（无措施）", "en": "min p (no action)"},
    "dispatch.report.col.hours_low_no_action": {
        "zh": "低压小时 <{service_m:g}（无措施）",
        "en": "h<{service_m:g} (no action)",
    },
    "dispatch.report.col.min_p_plan": {"zh": "最低压力（方案）", "en": "min p (plan)"},
    "dispatch.report.col.hours_low_plan": {"zh": "低压小时 <{service_m:g}（方案）", "en": "h<{service_m:g} (plan)"},
    "dispatch.report.col.zone": {"zh": "分区", "en": "DMA/zone"},
    "dispatch.report.col.plant_capacity": {"zh": "水厂可供 m³", "en": "plant capacity m³"},
    "dispatch.report.col.usable_storage": {"zh": "可用调蓄 m³", "en": "usable storage m³"},
    "dispatch.report.col.required_incl_leakage": {"zh": "需水(含漏损) m³", "en": "required m³ (incl. leakage)"},
    "dispatch.report.col.peak": {"zh": "高峰时需水 m³/h", "en": "peak m³/h"},
    "dispatch.report.col.plants_m3h": {"zh": "水厂能力 m³/h", "en": "plants m³/h"},
    "dispatch.category.residential": {"zh": "居民", "en": "residential"},
    "dispatch.category.commercial": {"zh": "商业", "en": "commercial"},
    "dispatch.category.industrial": {"zh": "工业", "en": "industrial"},
    "dispatch.category.institutional": {"zh": "机关单位", "en": "institutional"},
    "dispatch.category.hospital": {"zh": "医院", "en": "hospital"},
    "dispatch.category.school": {"zh": "学校", "en": "school"},
    # --- analysis jobs (runze/ops/jobs.py) ---
    "job.queued": {"zh": "排队", "en": "queued"},
    "job.stale": {
        "zh": "计算该任务的服务进程已停止（超过 {minutes} 分钟无进度），请重新提交",
        "en": "the worker computing this job stopped (no progress for over {minutes} minutes): start it again",
    },
    "job.busy": {"zh": "已有同类任务（{kind}）在排队或运行", "en": "a {kind} job is already queued or running"},
    # --- KPIs (runze/analysis/kpi.py) ---
    "kpi.negative_volume": {
        "zh": "水量平衡项“{component}”为负值：{value:.1f} m³",
        "en": "Water-balance component '{component}' is negative: {value:.1f} m³",
    },
    "kpi.balance_not_closed": {
        "zh": "水量平衡不闭合：供水总量 {system_input:.1f} m³，各分项之和 {components:.1f} m³，差 {difference:.1f} m³（{percent:.2f}%，允许 {tolerance_percent:.2f}%）",
        "en": "Water balance does not close: system input {system_input:.1f} m³, components sum to {components:.1f} m³, difference {difference:.1f} m³ ({percent:.2f}%, tolerance {tolerance_percent:.2f}%)",
    },
    "kpi.negative_real_losses": {
        "zh": "计算得到的物理漏失为负值（{value:.1f} m³）：注册用水量与表观漏损之和超过了供水总量，请检查数据",
        "en": "Real losses come out negative ({value:.1f} m³): authorised consumption plus apparent losses exceed system input; check the data",
    },
    "kpi.zero_system_input": {
        "zh": "供水总量为零或缺失，无法计算比率",
        "en": "System input is zero or missing; ratios cannot be computed",
    },
    "kpi.ili_connections": {
        "zh": "用户连接数 {connections} 少于 {minimum}，ILI 不可靠",
        "en": "{connections} service connections is fewer than {minimum}; the ILI is not reliable",
    },
    "kpi.ili_density": {
        "zh": "连接密度 {density:.1f} 个/km 不高于 {minimum:.0f} 个/km，ILI 不可靠",
        "en": "Connection density {density:.1f}/km is not above {minimum:.0f}/km; the ILI is not reliable",
    },
    "kpi.ili_pressure": {
        "zh": "平均压力 {pressure:.1f} m 不在 {low:.0f}–{high:.0f} m 范围内，ILI 不可靠",
        "en": "Average pressure {pressure:.1f} m is outside {low:.0f}–{high:.0f} m; the ILI is not reliable",
    },
    "kpi.cjj_unconfirmed": {
        "zh": "CJJ 92-2016 修正系数为未经确认的默认值，请供水单位按标准原文核对",
        "en": "CJJ 92-2016 correction coefficients are unconfirmed defaults; the utility must check them against the standard",
    },
    "kpi.cjj_r2_capped": {
        "zh": "单位供水量管长修正值 R2={value:.2%} 超过上限，按 {cap:.2%} 计",
        "en": "Pipe-length correction R2={value:.2%} exceeds its cap; {cap:.2%} used",
    },
    "kpi.cjj_registered_exceeds_input": {
        "zh": "注册用户用水量 {registered:.1f} m³ 大于供水总量 {system_input:.1f} m³",
        "en": "Registered consumption {registered:.1f} m³ exceeds system input {system_input:.1f} m³",
    },
    "kpi.exclusion_reason_not_allowed": {
        "zh": "{count} 个读数标注的剔除原因“{reason}”不在允许范围内（{allowed}），仍计入统计",
        "en": "{count} readings flagged '{reason}', which is not an allowed exclusion ({allowed}); they were counted",
    },
    "kpi.missing_values": {
        "zh": "{count} 个读数为空值，未计入统计",
        "en": "{count} readings are empty and were not counted",
    },
    "kpi.repairs_open": {
        "zh": "{count} 项维修没有完成时长（未完成或缺数据），未计入及时率",
        "en": "{count} repairs have no duration (open or missing data) and were not counted",
    },
    "kpi.no_readings": {
        "zh": "没有可用于统计的读数",
        "en": "No readings to evaluate",
    },
    "workday.naive_datetime": {
        "zh": "时间 {value} 缺少时区信息，请使用带时区的时间（Asia/Shanghai）",
        "en": "Time {value} has no time zone; use an offset-aware time (Asia/Shanghai)",
    },
    "workday.outside_calendar": {
        "zh": "{year} 年的节假日安排未配置，按周一至周五工作日处理",
        "en": "Holidays for {year} are not configured; Monday to Friday are treated as working days",
    },
    # --- SCADA input and scoring for leak detection (runze/analysis/leaks/data.py, score.py) ---
    "leaks.scada.layout": {
        "zh": "{f}: 文件格式无法识别 (第1行: {head!r}); 应为 BattLeDIM (Timestamp;传感器;...) 或 "
              "timestamp,sensor_id,value,unit",
        "en": "{f}: file layout not recognised (line 1: {head!r}); expected BattLeDIM "
              "(Timestamp;<sensor>;...) or timestamp,sensor_id,value,unit",
    },
    "leaks.scada.unknown": {
        "zh": "{f}: 列 {col!r} 不是已知的{kind}传感器, 也不是管网中的{what}",
        "en": "{f}: column {col!r} is no known {kind} sensor nor a {what} of the network",
    },
    "leaks.scada.wrong_kind": {
        "zh": "{f}: 传感器 {col!r} 是{other}传感器, 不应在{kind}文件中 (单位不符)",
        "en": "{f}: sensor {col!r} is a {other} sensor, not {kind} (unit mismatch)",
    },
    "leaks.scada.magnitude": {
        "zh": "{f}: 列 {col!r} 中位数 {med:.1f} 不像以 {unit} 计 (单位不符?)",
        "en": "{f}: column {col!r} has median {med:.1f}, implausible in {unit} (unit mismatch?)",
    },
    "leaks.scada.empty": {
        "zh": "{d}: 没有 SCADA 文件 (Pressures.csv/Flows.csv/Levels.csv 或 tidy CSV)",
        "en": "{d}: no SCADA files (Pressures.csv/Flows.csv/Levels.csv or tidy CSV)",
    },
    "leaks.score.missing_columns": {
        "zh": "{name}: 缺少列 {missing}；应有 {expected}",
        "en": "{name}: missing column(s) {missing}; expected {expected}",
    },
    "leaks.score.unknown_pipe": {"zh": "{name}: 未知管段 {pipe!r}", "en": "{name}: unknown pipe {pipe!r}"},
    # --- outage planning (runze/analysis/isolation/*) ---
    "outage.unknown_broken_valves": {"zh": "未知的故障阀门：{valves}", "en": "unknown broken valve(s): {valves}"},
    "outage.pipe_or_node": {"zh": "请给出一处维修位置：管段或节点，二者只选其一", "en": "give exactly one of a pipe or a node to repair"},
    "outage.unknown_pipe": {
        "zh": "未知管段 {pipe!r}：管网中没有该编号的管段",
        "en": "unknown pipe {pipe!r}: no link of that id in the network",
    },
    "outage.not_a_pipe": {
        "zh": "{pipe!r} 是{kind}，不是管道：请直接关闭它，或在相邻管段上安排维修",
        "en": "{pipe!r} is a {kind}, not a pipe: shut it directly, or plan the repair on a pipe next to it",
    },
    "outage.unknown_node": {"zh": "未知节点 {node!r}", "en": "unknown node {node!r}"},
    "outage.bad_position": {
        "zh": "位置 {position}：请给出 0 到 1 之间的管长比例",
        "en": "position {position}: give a fraction of the pipe's length between 0 and 1",
    },
    "outage.duration_not_positive": {
        "zh": "时长 {hours} 小时：维修时长须大于 0 小时",
        "en": "duration {hours} h: a repair must last more than 0 hours",
    },
    "outage.duration_too_long": {
        "zh": "时长 {hours} 小时超过 7 天（{max_hours:.0f} 小时）：请分阶段安排",
        "en": "duration {hours} h is over 7 days ({max_hours:.0f} h): plan it in stages",
    },
    "outage.window_duration": {
        "zh": "时长 {hours} 小时：维修时长须大于 0 小时且不超过 7 天",
        "en": "duration {hours} h: a repair must last more than 0 h and at most 7 days",
    },
    "outage.window_days": {"zh": "搜索范围 {days} 天：请给出 1 到 60 天", "en": "search horizon {days} days: give 1 to 60 days"},
    "outage.window_step": {"zh": "步长须为正的分钟数", "en": "step must be a positive number of minutes"},
    "outage.window_none": {
        "zh": "未来 {days} 天内 {earliest}–{latest} 之间没有满足 {notice_hours:g} 小时提前通知期的开始时间：请扩大搜索天数",
        "en": "no start between {earliest} and {latest} in the next {days} day(s) leaves the {notice_hours:g} h "
              "notice period: search more days",
    },
    "outage.valves.repeated": {
        "zh": "{source}：第 {row} 行（阀门 {valve!r}）：字段 'valve'：编号重复",
        "en": "{source}: row {row} (valve {valve!r}): field 'valve': id repeated",
    },
    "outage.valves.unknown_link": {
        "zh": "{source}：第 {row} 行（阀门 {valve!r}）：字段 'link'：未知管段 {link!r}",
        "en": "{source}: row {row} (valve {valve!r}): field 'link': unknown link {link!r}",
    },
    "outage.valves.unknown_node": {
        "zh": "{source}：第 {row} 行（阀门 {valve!r}）：字段 'node'：未知节点 {node!r}",
        "en": "{source}: row {row} (valve {valve!r}): field 'node': unknown node {node!r}",
    },
    "outage.valves.not_an_end": {
        "zh": "{source}：第 {row} 行（阀门 {valve!r}）：字段 'node'：{node!r} 不是管段 {link!r} 的端点",
        "en": "{source}: row {row} (valve {valve!r}): field 'node': {node!r} is not an end of link {link!r}",
    },
    "outage.valves.missing_columns": {
        "zh": "{path}：第 1 行：缺少列 {missing}（应为 valve,link,node）",
        "en": "{path}: line 1: missing column(s) {missing} (expected valve,link,node)",
    },
    "outage.valves.unreadable": {"zh": "{path}：无法读取阀门文件：{error}", "en": "{path}: cannot read valve file: {error}"},
    "outage.output_suffix": {
        "zh": "{path}：输出文件须以 .csv 或 .geojson 结尾",
        "en": "{path}: output must end in .csv or .geojson",
    },
    "outage.pressure.not_requested": {"zh": "未要求压力计算", "en": "no pressure run requested"},
    "outage.pressure.solver_fallback": {
        "zh": "runze 求解失败（{error}），已改用 EPANET 2.3",
        "en": "runze solver failed ({error}); EPANET 2.3 used instead",
    },
    "outage.pressure.failed": {
        "zh": "压力计算失败（{solver}）：{error}",
        "en": "pressure run failed ({solver}): {error}",
    },
    "outage.pressure.not_converged": {
        "zh": "runze 求解器：部分时间步未收敛，请核对结果",
        "en": "runze solver: the run did not converge at every step; check the results",
    },
    "outage.pressure.epanet_warned": {
        "zh": "EPANET 在 {steps} 个水力时间步中有 {warned} 个发出警告（不平衡、负压或节点断开）：请核对结果",
        "en": "EPANET warned in {warned} of {steps} hydraulic step(s) (unbalanced, negative pressures or "
              "disconnected nodes): check the results",
    },
    # the outage notice to customers (runze/analysis/isolation/notices.py)
    "outage.notice.title": {"zh": "停水通知", "en": "Water supply interruption notice"},
    "outage.notice.body": {
        "zh": "尊敬的用户：因供水管道维修（{target}），{area}将于 {start} 至 {end} 停止供水，"
              "历时约 {hours:g} 小时。{reminder}由此带来的不便，敬请谅解。",
        "en": "Dear customer: because of repair work on a water main ({target}), supply to {area} will be "
              "interrupted from {start} to {end}, about {hours:g} hours. {reminder}"
              "We apologise for the inconvenience.",
    },
    "outage.notice.reminder": {
        "zh": "请提前做好储水准备，停水期间请关闭水龙头。",
        "en": "Please store water in advance and keep taps closed during the interruption. ",
    },
    "outage.notice.area_dmas": {"zh": "{dmas}（涉及节点 {nodes}）", "en": "{dmas} (nodes {nodes})"},
    "outage.notice.area_nodes": {"zh": "节点 {nodes} 一带", "en": "the area of nodes {nodes}"},
    "outage.notice.more": {"zh": "等 {n} 处", "en": " and {n} more"},
    "outage.notice.separator": {"zh": "、", "en": ", "},
    "outage.notice.short_notice": {
        "zh": "计划停水须提前 {hours:g} 小时通知，本次开始时间距今仅 {left:.1f} 小时",
        "en": "planned outages need {hours:g} h notice; this one starts in {left:.1f} h",
    },
    "outage.notice.critical": {"zh": "重点用户：{names}", "en": "Critical users: {names}"},
    "outage.notice.time_format": {"zh": "%Y年%m月%d日 %H:%M", "en": "%Y-%m-%d %H:%M"},
    # --- telemetry parsing (runze/telemetry/parse.py, units.py) ---
    "telemetry.field_count": {
        "zh": "应有 {expected} 个以“{sep}”分隔的字段，实际 {found} 个",
        "en": "expected {expected} fields separated by '{sep}', found {found}",
    },
    "telemetry.unreadable_csv": {"zh": "无法解析的 CSV 行：{error}", "en": "unreadable CSV: {error}"},
    "telemetry.bad_header": {"zh": "表头应为“{expected}”", "en": "expected header '{expected}'"},
    "telemetry.repeated_columns": {
        "zh": "测点列名为空或重复：{columns}",
        "en": "empty or repeated sensor column names: {columns}",
    },
    "telemetry.bad_timestamp": {
        "zh": "不是有效的日期时间（示例：{example}）",
        "en": "not a date-time (expected e.g. {example})",
    },
    "telemetry.empty_sensor": {"zh": "测点编号为空", "en": "empty sensor id"},
    "telemetry.empty_value": {"zh": "数值为空", "en": "empty value"},
    "telemetry.not_a_number": {"zh": "数值不是数字", "en": "not a number"},
    "telemetry.unit_without_kind": {
        "zh": "单位“{unit}”无法判断读数类型（水位还是压力水头），请配置该测点的类型",
        "en": "unit '{unit}' does not tell the kind of reading (level or pressure head); give the sensor's kind",
    },
    "telemetry.kind_not_known": {
        "zh": "测点配置的类型不在 {known} 之中",
        "en": "the sensor's configured kind is not one of {known}",
    },
    "telemetry.implausible": {
        "zh": "{kind}数值不合理（允许范围 {low}..{high} {unit}）",
        "en": "implausible {kind} value (allowed {low}..{high} {unit})",
    },
    "telemetry.duplicate": {
        "zh": "重复读数，与第 {first_line} 行相同",
        "en": "duplicate reading, same value as line {first_line}",
    },
    "telemetry.duplicate_conflict": {
        "zh": "同一时刻的读数与第 {first_line} 行不一致，保留第一条",
        "en": "conflicting duplicate reading (differs from line {first_line}); first kept",
    },
    "telemetry.bad_quality": {
        "zh": "读数质量标记为“{flag}”，未使用",
        "en": "reading flagged '{flag}' quality; not used",
    },
    "telemetry.unknown_unit": {
        "zh": "未知单位“{unit}”（{kind} 可用：{known}）",
        "en": "Unknown unit '{unit}' (for {kind}: {known})",
    },
    "telemetry.wrong_kind_unit": {
        "zh": "单位“{unit}”是{unit_kind}的单位，不能用于{kind}",
        "en": "Unit '{unit}' measures {unit_kind}, not {kind}",
    },
}


class _KeepMissing(dict):
    """Leaves an unknown placeholder visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_FORMATTER = string.Formatter()


def t(key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """The text for ``key`` in ``lang`` ("zh" or "en"), with ``kw`` filled into its placeholders."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    template = entry.get(lang) or entry.get(DEFAULT_LANG) or next(iter(entry.values()), key)
    try:
        return _FORMATTER.vformat(template, (), _KeepMissing(kw))
    except (ValueError, TypeError):
        # a value of the wrong type for a format spec (e.g. None for {value:.3f}): show it unformatted
        parts = []
        for literal, name, _spec, _conv in _FORMATTER.parse(template):
            parts.append(literal)
            if name is not None:
                parts.append(str(kw[name]) if name in kw else "{" + name + "}")
        return "".join(parts)


def both(key: str, **kw: object) -> dict[str, str]:
    """The text in every language, e.g. ``{"zh": ..., "en": ...}`` for storing with an event."""
    return {lang: t(key, lang, **kw) for lang in LANGUAGES}


def bilingual(key: str, sep: str = " / ", **kw: object) -> str:
    """Chinese and English in one line, Chinese first (``"zh / en"``): for a text that has a single slot, such as
    an exception message, a job's progress line or a note in a result."""
    return sep.join(t(key, lang, **kw) for lang in LANGUAGES)


def placeholders(template: str) -> set[str]:
    """Placeholder names used in one template (for the catalogue consistency test)."""
    return {name for _lit, name, _spec, _conv in _FORMATTER.parse(template) if name}
