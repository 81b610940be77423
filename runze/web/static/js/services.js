// 报装 (获得用水), 党建 and 报表 views, on the issue-8 routes when they are deployed (else "尚未开放").
// Each asks for one month (YYYY-MM, local time); the default is the month of the newest connection application.
import { api, findPath } from "./api.js";
import { getLang, pick, t } from "./i18n.js";
import { esc, fmt, local, unavailable } from "./views.js";

async function defaultMonth() {
  try {
    const page = await api("/api/connections?limit=1");
    const at = page.items?.[0]?.submitted_at;
    if (at) return local(at).slice(0, 7);
  } catch { /* no connections service: fall back to this month */ }
  return local(new Date().toISOString()).slice(0, 7);
}

function monthBar(root, id, month, onChange) {
  root.innerHTML = `<h2>${t(id)}</h2><div class="toolbar"><label>${t("month")} <input type="month" id="month" value="${month}" data-testid="month"></label></div><div id="body"></div>`;
  root.querySelector("#month").addEventListener("change", (e) => onChange(e.target.value));
  return root.querySelector("#body");
}
const card = (label, value, unit = "", testid = "") =>
  `<div class="card"><div class="label">${label}</div><div class="value"${testid ? ` data-testid="${testid}"` : ""}>${value}<span class="unit">${unit}</span></div></div>`;
const pct = (v) => (v === null || v === undefined ? "—" : fmt(v * 100, 1));

export async function connectionsView(root) {
  if (!(await findPath(/\/api\/connections\/figures$/))) { unavailable(root, "connections", t("getting_water")); return; }
  const draw = async (month) => {
    const body = monthBar(root, "connections", month, draw);
    const f = await api(`/api/connections/figures?month=${month}`);
    const all = (f.by_kind || []).find((k) => k.customer_kind === "all") || {};
    const en = getLang() === "en";
    body.innerHTML = `<div class="cards">${card(t("submitted"), fmt(f.submitted), "", "conn-submitted")}${card(t("completed"), fmt(f.completed), "", "conn-completed")}
      ${card(t("open_at_end"), fmt(f.open_at_end))}${card(t("procedures_median"), fmt(all.procedures_median, 1))}
      ${card(t("workdays_median"), fmt(all.workdays_median, 2), t("workdays"), "conn-workdays")}${card(t("free_share"), pct(all.free_share), "%")}</div>
    <div class="panel"><h3>${t("getting_water")} · 五零</h3><table data-testid="conn-zeros"><thead><tr><th></th>${(f.zeros || []).map((z) => `<th class="num">${esc(en ? z.label_en : z.label_zh)}</th>`).join("")}</tr></thead><tbody>
    ${(f.by_kind || []).map((k) => `<tr><td>${esc(k.customer_kind)} (${k.completed})</td>${(f.zeros || []).map((z) => `<td class="num">${pct(k.zeros_met?.[z.key])}%</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
  };
  await draw(await defaultMonth());
}

export async function partyView(root) {
  if (!(await findPath(/\/api\/party\/report$/))) { unavailable(root, "party"); return; }
  const draw = async (month) => {
    const body = monthBar(root, "party", month, draw);
    const r = await api(`/api/party/report?month=${month}`);
    const a = r.activities || {}, e = r.emergency_hours || {};
    body.innerHTML = `<div class="cards">${card(t("members"), fmt(r.members), "", "party-members")}${card(t("activities"), fmt(a.total))}
      ${card("三会一课", fmt(a.three_meetings_one_lecture))}${card(t("attendance"), pct(a.attendance_rate), "%")}
      ${card(t("member_hours_share"), pct(e.member_share), "%", "party-share")}${card(t("callouts"), fmt(r.vanguard_callouts))}</div>
    <div class="panel"><h3>${t("points_top")}</h3><table><thead><tr><th></th><th class="num">${t("points")}</th></tr></thead><tbody>
    ${(r.points?.top || []).map((p) => `<tr><td>${esc(p.name)}</td><td class="num">${fmt(p.points, 1)}</td></tr>`).join("")}</tbody></table></div>`;
  };
  await draw(await defaultMonth());
}

export async function reportsView(root) {
  if (!(await findPath(/\/api\/reports\/monthly$/))) { unavailable(root, "reports"); return; }
  let url = null;
  const draw = async (month) => {
    const body = monthBar(root, "reports", month, draw);
    const r = await api(`/api/reports/monthly?month=${month}`);
    const h = r.headline || {};
    body.innerHTML = `<div class="cards">${card(t("nrw"), fmt(h.nrw_percent, 1), "%", "report-nrw")}${card(t("leakage_rate"), fmt(h.leakage_rate_percent, 1), "%")}
      ${card("ILI", fmt(h.ili, 2))}${card(t("pressure_compliance"), fmt(h.pressure_compliance_percent, 1), "%")}
      ${card(t("turbidity_compliance"), fmt(h.turbidity_compliance_percent, 1), "%")}${card(t("repair_on_time"), fmt(h.repair_on_time_percent, 1), "%")}</div>
    <div class="panel">${(r.warnings || []).map((w) => `<p class="warn">${esc(pick(w.message))}</p>`).join("")}
      <button type="button" id="html" data-testid="report-html">${t("open_report")}</button></div><iframe id="frame" title="report" style="width:100%;height:70vh;border:0;background:#fff;display:none"></iframe>`;
    body.querySelector("#html").addEventListener("click", async () => {
      // the report needs the token, so it is fetched and shown from a blob, not linked
      const res = await fetch(`/api/reports/monthly.html?month=${month}`, { headers: { Authorization: `Bearer ${sessionStorage.getItem("runze.token")}` } });
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(new Blob([await res.text()], { type: "text/html" }));
      const frame = body.querySelector("#frame"); frame.src = url; frame.style.display = "block";
    });
  };
  await draw(await defaultMonth());
  return () => { if (url) URL.revokeObjectURL(url); };
}
