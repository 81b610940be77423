// The dashboard's views.  Each: {id, needs: [actions], render(root, ctx) -> cleanup?}.  A view whose service
// is not deployed (no path in the API's OpenAPI spec) shows "尚未开放" and no figures.
import { api, cached, findPath } from "./api.js";
import { pick, t } from "./i18n.js";
import { createNetworkMap } from "./map.js";
import { dispatchView } from "./dispatch.js";
import { leaksView } from "./leaks.js";
import { outageView } from "./outage.js";
import { connectionsView, partyView, reportsView } from "./services.js";

export const OPEN_STATES = ["reported", "dispatched", "on_site", "isolated", "repaired", "restored"];
const fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? "—" : Number(v).toLocaleString("zh-CN", { minimumFractionDigits: d, maximumFractionDigits: d }));
export { fmt };
/** An ISO time shown in China Standard Time (times are stored in UTC). */
export const local = (iso) => (iso ? new Date(iso).toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", hour12: false }).slice(0, 16) : "");
export const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

export function unavailable(root, id, note) {
  root.innerHTML = `<h2>${t(id)}</h2><div class="unavailable" data-testid="unavailable"><h3>${t("unavailable")}</h3>
    <p>${t("unavailable_note")}</p>${note ? `<p class="muted">${note}</p>` : ""}</div>`;
}

export function chartIn(el, option) {
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption({ animation: false, backgroundColor: "transparent", textStyle: { color: "#c9d7ea" }, ...option });
  return c;
}
const axisStyle = { axisLine: { lineStyle: { color: "#4a5d78" } }, splitLine: { lineStyle: { color: "#23344d" } } };
export { axisStyle };

async function openWorkOrders() {
  const q = OPEN_STATES.map((s) => `status=${s}`).join("&");
  return (await api(`/api/workorders?${q}&limit=1`)).total;
}

async function alarmPaths() {
  return { list: await findPath(/\/alarms\/?$/), ack: await findPath(/\/alarms\/\{[^}]+\}\/(ack|acknowledge)/, "post") };
}

function alarmItems(data) { return Array.isArray(data) ? data : data.items || []; }
// needing attention: raised and not acknowledged, or cleared before anyone acknowledged it
const isOpenAlarm = (a) => ["raised", "cleared_unacknowledged"].includes(a.status) && !a.acknowledged_at;
async function openAlarmCount(path) { // 未处理 = not yet acknowledged: raised, or cleared before anyone acknowledged
  const totals = await Promise.all(["raised", "cleared_unacknowledged"].map((st) => api(`${path}?status=${st}&limit=1`)));
  return totals.reduce((n, page) => n + (Array.isArray(page) ? page.filter(isOpenAlarm).length : page.total), 0);
}

async function overview(root) {
  const [ov, openWo, paths] = await Promise.all([cached("/api/analysis/overview"), openWorkOrders(), alarmPaths()]);
  let alarms = null;
  if (paths.list) { try { alarms = await openAlarmCount(paths.list); } catch { alarms = null; } }
  const nrw = ov.nrw ? ov.nrw.nrw_fraction * 100 : null;
  root.innerHTML = `<h2>${t("overview")} <span class="tag">${esc(ov.name)}</span></h2>
  <div class="cards">
    <div class="card"><div class="label">${t("total_supply")}</div><div class="value" data-testid="total-supply">${fmt(ov.total_supply_m3 / 1e4, 2)}<span class="unit">${t("wan_t")}</span></div><div class="note">${t("model_note")}</div></div>
    <div class="card"><div class="label">${t("pressure_compliance")} (≥0.14 MPa)</div><div class="value" data-testid="pressure-compliance">${fmt(ov.pressure_compliance * 100, 1)}<span class="unit">%</span></div><div class="note">${t("model_note")}</div></div>
    <div class="card"><div class="label">${t("open_alarms")}</div><div class="value" data-testid="open-alarms">${alarms === null ? `<span class="muted" style="font-size:16px">${t("unavailable")}</span>` : alarms}</div><div class="note">${t("alarms_source")}</div></div>
    <div class="card"><div class="label">${t("open_workorders")}</div><div class="value" data-testid="open-workorders">${fmt(openWo)}</div></div>
    <div class="card"><div class="label">${t("nrw")}</div><div class="value" data-testid="nrw">${fmt(nrw, 1)}<span class="unit">%</span></div><div class="note">${t("model_note")}</div></div>
  </div>
  <div class="panel"><h3>${t("supply_by_plant")}</h3><div class="grid2"><div class="chart" id="plant-chart"></div>
  <table data-testid="plant-table"><thead><tr><th>${t("plant")}</th><th class="num">${t("capacity")} ${t("m3d")}</th><th class="num">${t("supply")} m³</th><th class="num">${t("load")}</th></tr></thead><tbody>
  ${ov.plants.map((p) => `<tr data-plant="${esc(p.id)}"><td>${esc(p.name)}</td><td class="num">${fmt(p.capacity_m3d)}</td><td class="num" data-testid="supply-${esc(p.id)}">${fmt(p.supply_m3)}</td><td class="num">${fmt((p.supply_m3 / p.capacity_m3d) * 100, 0)}%</td></tr>`).join("")}
  </tbody></table></div></div>`;
  const c = chartIn(root.querySelector("#plant-chart"), {
    tooltip: {}, grid: { left: 60, right: 10, top: 20, bottom: 30 },
    xAxis: { type: "category", data: ov.plants.map((p) => p.name), ...axisStyle },
    yAxis: { type: "value", name: "m³", ...axisStyle },
    series: [{ type: "bar", name: t("supply"), data: ov.plants.map((p) => p.supply_m3), itemStyle: { color: "#1677ff" } },
      { type: "bar", name: t("capacity"), data: ov.plants.map((p) => p.capacity_m3d), itemStyle: { color: "#2a3d58" } }],
  });
  return () => c.dispose();
}

async function networkView(root) {
  const [geo, sim] = await Promise.all([cached("/api/analysis/network"), cached("/api/analysis/simulation")]);
  const hours = sim.times_s.length - 1;
  root.innerHTML = `<h2>${t("network")} <span class="tag">${esc(geo.name)}</span></h2>
  <div class="toolbar">
    <label>${t("colour_by")} <select id="q" data-testid="colour-by"><option value="pressure">${t("pressure")}</option><option value="flow">${t("flow")}</option><option value="velocity">${t("velocity")}</option></select></label>
    <label>${t("hour")} <input id="hour" data-testid="time-slider" type="range" min="0" max="${hours}" value="8" step="1"> <span id="hour-label" data-testid="hour-label"></span></label>
    <span class="muted" id="render-ms" data-testid="render-ms"></span>
  </div>
  <div class="mapwrap"><div class="map" id="map" data-testid="network-map"></div>
  <div class="panel" id="side"><h3>${t("details")}</h3><p class="muted">${t("click_pipe")}</p></div></div>`;
  const side = root.querySelector("#side");
  const canPlan = (window.runzeMe?.permissions || []).includes("outage:plan");
  const map = createNetworkMap(root.querySelector("#map"), geo, sim, {
    onPipeClick(id, i) {
      const L = geo.links; const row = Math.min(map._hour ?? 8, hours);
      side.innerHTML = `<h3>${t("pipe")} <span data-testid="selected-pipe">${esc(id)}</span></h3><table>
      <tr><td>DN</td><td class="num">${L.dn_mm[i]}</td></tr><tr><td>m</td><td class="num">${L.length_m[i]}</td></tr>
      <tr><td>${t("flow")} L/s</td><td class="num">${sim.flow_lps[row][i]}</td></tr>
      <tr><td>${t("velocity")} m/s</td><td class="num">${sim.velocity_ms[row][i]}</td></tr></table>
      ${canPlan && L.kind[i] === "pipe" ? `<p><a href="#/outage?pipe=${encodeURIComponent(id)}"><button type="button">${t("plan_outage_here")}</button></a></p>` : ""}`;
      map.highlight([id], []);
    },
  });
  window.runzeMap = map;
  const label = root.querySelector("#hour-label");
  const showHour = (h) => { label.textContent = `${String(sim.clock_hours[h] ?? h).padStart(2, "0")}:00`; };
  showHour(8); map._hour = 8;
  const timing = await map.render();
  root.querySelector("#render-ms").textContent = `${t("render_ms")} ${timing.finished_ms.toFixed(0)} ms`;
  root.querySelector("#hour").addEventListener("input", (e) => { const h = +e.target.value; map._hour = h; showHour(h); map.setHour(h); });
  root.querySelector("#q").addEventListener("change", (e) => map.setQuantity(e.target.value));
  return () => { map.dispose(); window.runzeMap = null; };
}

async function plantsView(root) {
  const [ov, sim] = await Promise.all([cached("/api/analysis/overview"), cached("/api/analysis/simulation")]);
  const clocks = sim.clock_hours.map((h) => `${String(h).padStart(2, "0")}:00`);
  root.innerHTML = `<h2>${t("plants")}</h2><div class="panel"><table data-testid="plants-table"><thead><tr><th>${t("plant")}</th>
  <th class="num">${t("capacity")} ${t("m3d")}</th><th class="num">${t("supply")} m³</th><th class="num">${t("peak")} ${t("m3h")}</th><th class="num">${t("peak_load")}</th></tr></thead><tbody>
  ${ov.plants.map((p) => `<tr><td>${esc(p.name)} <span class="muted">${esc(p.id)}</span></td><td class="num">${fmt(p.capacity_m3d)}</td><td class="num">${fmt(p.supply_m3)}</td><td class="num">${fmt(p.peak_m3h)}</td><td class="num">${fmt((p.peak_m3h * 24 / p.capacity_m3d) * 100, 0)}%</td></tr>`).join("")}
  </tbody></table><p class="muted">${t("model_note")}</p></div>
  <div class="grid2"><div class="panel"><h3>${t("hourly_outflow")} (${t("m3h")})</h3><div class="chart" id="c1"></div></div>
  <div class="panel"><h3>${t("tanks")} (m)</h3><div class="chart" id="c2"></div></div></div>`;
  const c1 = chartIn(root.querySelector("#c1"), { tooltip: { trigger: "axis" }, legend: { textStyle: { color: "#c9d7ea" } }, grid: { left: 50, right: 10, top: 30, bottom: 30 },
    xAxis: { type: "category", data: clocks, ...axisStyle }, yAxis: { type: "value", ...axisStyle },
    series: ov.plants.map((p) => ({ type: "line", name: p.name, data: sim.plant_outflow_m3h[p.id] || [] })) });
  const c2 = chartIn(root.querySelector("#c2"), { tooltip: { trigger: "axis" }, legend: { textStyle: { color: "#c9d7ea" } }, grid: { left: 50, right: 10, top: 30, bottom: 30 },
    xAxis: { type: "category", data: clocks, ...axisStyle }, yAxis: { type: "value", ...axisStyle },
    series: Object.entries(sim.tank_level_m).map(([id, v]) => ({ type: "line", name: id, data: v })) });
  return () => { c1.dispose(); c2.dispose(); };
}

async function alarmsView(root, { me }) {
  const paths = await alarmPaths();
  if (!paths.list) { unavailable(root, "alarms", "GET /api/.../alarms"); return; }
  const draw = async () => {
    const items = alarmItems(await api(`${paths.list}?limit=100`));
    const mayAck = paths.ack && me.permissions.some((a) => /alarm/.test(a) && /ack|manage|write/.test(a));
    root.innerHTML = `<h2>${t("alarms")} <span class="tag" data-testid="alarms-open">${items.filter(isOpenAlarm).length}</span></h2><div class="panel"><table data-testid="alarms-table"><thead><tr><th>ID</th><th>${t("kind")}</th><th>${t("status")}</th><th>${t("title")}</th><th>${t("reported")}</th><th></th></tr></thead><tbody>
    ${items.map((a) => `<tr data-alarm="${esc(a.id)}"><td>${esc(a.code || a.id)}</td><td>${esc(a.rule_id || a.kind || "")} ${esc(a.sensor_id || "")}</td><td data-testid="alarm-status-${esc(a.id)}">${esc(a.status)}</td>
      <td>${esc(pick(a.message) || `${a.condition || ""} ${a.raise_value == null ? "" : Number(a.raise_value).toPrecision(3)}`)} <span class="muted">${esc(a.message_key || "")}</span></td><td>${esc(local(a.raised_at || a.started_at || a.created_at))}</td>
      <td>${mayAck && isOpenAlarm(a) ? `<button type="button" data-ack="${esc(a.id)}" data-testid="ack-${esc(a.id)}">${t("ack")}</button>` : ""}</td></tr>`).join("")}
    </tbody></table>${items.length ? "" : `<p class="muted">—</p>`}</div>`;
    root.querySelectorAll("button[data-ack]").forEach((b) => b.addEventListener("click", async () => {
      b.disabled = true;
      try { await api(paths.ack.replace(/\{[^}]+\}/, encodeURIComponent(b.dataset.ack)), { method: "POST", body: {} }); await draw(); }
      catch (e) { b.disabled = false; b.insertAdjacentHTML("afterend", `<span class="error">${esc(e.message)}</span>`); }
    }));
  };
  await draw();
}

async function workordersView(root, { params }) {
  const openOnly = params.get("all") !== "1";
  const q = openOnly ? OPEN_STATES.map((s) => `status=${s}`).join("&") : "";
  const page = await api(`/api/workorders?${q}&limit=100`);
  root.innerHTML = `<h2>${t("workorders")} <span class="tag" data-testid="wo-total">${page.total}</span></h2>
  <div class="toolbar"><a href="#/workorders${openOnly ? "?all=1" : ""}"><button class="secondary" type="button">${openOnly ? t("all") : t("open_only")}</button></a></div>
  <div class="panel"><table data-testid="wo-table"><thead><tr><th>${t("code")}</th><th>${t("kind")}</th><th>${t("status")}</th><th>${t("title")}</th><th>${t("crew")}</th><th>${t("reported")}</th></tr></thead><tbody>
  ${page.items.map((w) => `<tr><td>${esc(w.code)}</td><td>${esc(w.kind)}</td><td>${esc(w.status)}</td><td>${esc(w.title)}</td><td>${esc(w.crew_name || "")}</td><td>${esc(local(w.reported_at))}</td></tr>`).join("")}
  </tbody></table></div>`;
}

export const VIEWS = [
  { id: "overview", needs: ["analysis:read"], render: overview },
  { id: "network", needs: ["analysis:read"], render: networkView },
  { id: "plants", needs: ["analysis:read"], render: plantsView },
  { id: "alarms", needs: [], render: alarmsView },
  { id: "dispatch", needs: ["dispatch:whatif"], render: dispatchView },
  { id: "leaks", needs: ["analysis:read"], render: leaksView },
  { id: "outage", needs: ["outage:plan"], render: outageView },
  { id: "workorders", needs: ["workorders:read"], render: workordersView },
  { id: "connections", needs: [], render: connectionsView },
  { id: "party", needs: [], render: partyView },
  { id: "reports", needs: [], render: reportsView },
];
