"""Message catalogue, part: Operations: alarms, the command line, competition, new connections, analysis jobs, KPIs, telemetry.

Entries as in `runze.i18n` (keyed "<area>.<what>", a "zh" and an "en" text with the same placeholders)."""

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
