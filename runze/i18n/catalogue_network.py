"""Message catalogue, part: Leak detection input and scoring, and outage planning with its customer notice.

Entries as in `runze.i18n` (keyed "<area>.<what>", a "zh" and an "en" text with the same placeholders)."""

MESSAGES: dict[str, dict[str, str]] = {
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
}
