"""Message catalogue, part: Emergency dispatch: events, progress, actions, notes, verdicts and the duty manager's report.

Entries as in `runze.i18n` (keyed "<area>.<what>", a "zh" and an "en" text with the same placeholders)."""

MESSAGES: dict[str, dict[str, str]] = {
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
}
