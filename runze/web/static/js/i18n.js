// The page's texts, Chinese first (the dispatch centre's language), English switchable.
const TEXTS = {
  brand_sub: ["调度中心", "Dispatch centre"],
  overview: ["总览", "Overview"], network: ["管网", "Network"], plants: ["水厂", "Plants"],
  alarms: ["告警", "Alarms"], dispatch: ["调度预案", "Dispatch what-if"], leaks: ["漏损", "Leaks"],
  outage: ["停水计划", "Outage planning"], workorders: ["工单", "Work orders"], connections: ["报装", "Connections"],
  party: ["党建", "Party building"], reports: ["报表", "Reports"],
  login: ["登录", "Log in"], logout: ["退出", "Log out"], username: ["用户名", "User name"], password: ["密码", "Password"],
  loading: ["加载中…", "Loading…"],
  unavailable: ["尚未开放", "Not yet available"],
  unavailable_note: ["该功能的后台服务尚未上线，此处不显示任何模拟数据。",
    "The service behind this view has not been deployed yet; no made-up figures are shown here."],
  total_supply: ["今日供水量", "Today's supply"], wan_t: ["万吨", "10⁴ m³"],
  pressure_compliance: ["管网压力合格率", "Pressure compliance"], open_alarms: ["未处理告警", "Open alarms"],
  open_workorders: ["未完成工单", "Open work orders"], nrw: ["产销差率", "Non-revenue water"],
  model_note: ["模型计算（24 小时水力模拟）", "From the model (24 h hydraulic simulation)"],
  supply_by_plant: ["各水厂今日供水", "Supply per plant today"],
  plant: ["水厂", "Plant"], capacity: ["设计规模", "Capacity"], supply: ["供水量", "Supply"],
  peak: ["高峰流量", "Peak flow"], load: ["负荷率", "Load"], peak_load: ["高峰负荷率", "Peak load"], m3d: ["m³/日", "m³/d"], m3h: ["m³/h", "m³/h"],
  hourly_outflow: ["逐时出厂流量", "Hourly plant outflow"], tanks: ["清水池/高位水池水位", "Tank levels"],
  colour_by: ["着色", "Colour by"], pressure: ["压力", "Pressure"], flow: ["流量", "Flow"], velocity: ["流速", "Velocity"],
  hour: ["时刻", "Hour"], details: ["详情", "Details"], click_pipe: ["点击管段查看详情", "Click a pipe for details"],
  plan_outage_here: ["对此管段制定停水计划", "Plan an outage on this pipe"],
  pipe: ["管段", "Pipe"], hours_work: ["施工时长（小时）", "Work hours"], make_plan: ["制定计划", "Make plan"],
  valves_to_close: ["需关闭阀门", "Valves to close"], customers_affected: ["受影响用户", "Customers affected"],
  best_windows: ["最佳停水时段", "Best windows"], notice: ["停水通知", "Outage notice"],
  critical_users: ["重要用户", "Critical users"], demand_lost: ["损失水量", "Demand lost"],
  isolated: ["停水管段", "Pipes out"], unintended: ["连带停水节点", "Cut-off nodes"],
  run: ["运行", "Run"], capacity_pct: ["可用产能 %", "Capacity %"], hours: ["持续小时", "Hours"],
  start_hour: ["开始时刻", "Start hour"], search_s: ["方案搜索秒数", "Search seconds"],
  verdict: ["结论", "Verdict"], no_action: ["不采取措施", "No action"], with_plan: ["执行方案", "With plan"],
  unmet: ["缺水量 m³", "Unmet demand m³"], cust_hours: ["低压户时", "Customer-hours < 14 m"],
  dry_hours: ["停水户时", "Customer-hours no water"], min_p: ["最低压力 m", "Min pressure m"],
  actions: ["调度措施", "Actions"], timeline: ["逐时影响", "Timeline"], affected_map: ["受影响区域", "Affected area"],
  customers_below: ["低压用户数", "Customers below service"],
  ack: ["确认", "Acknowledge"], acked: ["已确认", "Acknowledged"],
  status: ["状态", "Status"], kind: ["类型", "Kind"], title: ["标题", "Title"], reported: ["报告时间", "Reported"],
  crew: ["班组", "Crew"], code: ["编号", "Code"], all: ["全部", "All"], open_only: ["仅未完成", "Open only"],
  alarms_source: ["告警来自遥测服务", "Alarms from the telemetry service"],
  render_ms: ["地图渲染", "Map render"], failed: ["失败", "Failed"],
  not_allowed: ["当前角色无权使用此功能", "Your role may not use this view"],
  demo_hint: ["演示账号：dispatcher / runze-demo-2025", "Demo account: dispatcher / runze-demo-2025"],
  getting_water: ["获得用水指标", "Getting-water indicator"],
  month: ["月份", "Month"], submitted: ["受理", "Submitted"], completed: ["完成通水", "Completed"],
  open_at_end: ["月末在办", "Open at month end"], procedures_median: ["办理环节（中位）", "Procedures (median)"],
  workdays_median: ["办理时间（中位）", "Time (median)"], workdays: ["工作日", "working days"],
  free_share: ["免费比例", "Free of charge"], members: ["党员", "Members"], activities: ["组织生活", "Activities"],
  attendance: ["出勤率", "Attendance"], member_hours_share: ["党员抢修工时占比", "Members' share of repair hours"],
  callouts: ["先锋队出动", "Vanguard call-outs"], points_top: ["积分榜", "Points"], points: ["积分", "Points"],
  leakage_rate: ["漏损率", "Leakage rate"], turbidity_compliance: ["浊度合格率", "Turbidity compliance"],
  repair_on_time: ["抢修及时率", "Repairs on time"], open_report: ["查看月报", "Open the monthly report"],
};
let lang = localStorage.getItem("runze.lang") || "zh";
export function t(key) { const e = TEXTS[key]; return e ? e[lang === "en" ? 1 : 0] : key; }
export function getLang() { return lang; }
export function setLang(value) { lang = value; localStorage.setItem("runze.lang", value); document.documentElement.lang = value === "en" ? "en" : "zh-CN"; }
export function pick(obj) { // {zh, en} messages from the API
  if (obj == null) return "";
  if (typeof obj === "string") return obj;
  return obj[lang] ?? obj.zh ?? obj.en ?? "";
}
