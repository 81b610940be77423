// 调度预案: a plant at reduced capacity for some hours → the what-if runs as a background job (progress bar),
// then the verdict, no-action vs plan figures, hourly timeline, the plan's actions and the affected nodes.
import { api, cached } from "./api.js";
import { pick, t } from "./i18n.js";
import { createNetworkMap } from "./map.js";
import { axisStyle, chartIn, esc, fmt } from "./views.js";

export async function dispatchView(root) {
  const plants = await api("/api/analysis/dispatch/plants");
  root.innerHTML = `<h2>${t("dispatch")}</h2><div class="grid2"><div class="panel">
  <form id="wf" class="form">
    <label>${t("plant")}</label><select name="plant" data-testid="wf-plant">${plants.map((p) => `<option value="${esc(p.id)}">${esc(p.name)} (${esc(p.id)})</option>`).join("")}</select>
    <label>${t("capacity_pct")}</label><input name="capacity" type="number" min="0" max="100" value="0" data-testid="wf-capacity">
    <label>${t("hours")}</label><input name="hours" type="number" min="1" max="24" value="6" data-testid="wf-hours">
    <label>${t("start_hour")}</label><input name="start_hour" type="number" min="0" max="23" value="6" data-testid="wf-start">
    <label>${t("search_s")}</label><input name="search_seconds" type="number" min="0" max="60" value="15" data-testid="wf-search">
    <span></span><button type="submit" data-testid="wf-run">${t("run")}</button>
  </form>
  <div class="progress"><div id="bar" data-testid="wf-progress"></div></div><div id="msg" class="muted" data-testid="wf-message"></div>
  <div id="verdict"></div></div><div class="panel"><h3>${t("affected_map")}</h3><div class="map" id="wmap" style="height:380px;min-height:380px"></div></div></div>
  <div id="out"></div>`;
  const geo = await cached("/api/analysis/network");
  const map = createNetworkMap(root.querySelector("#wmap"), geo, null, {});
  await map.render();
  let timer = null; let charts = [];
  root.querySelector("#wf").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { plant: f.get("plant"), capacity: Number(f.get("capacity")) / 100, hours: Number(f.get("hours")),
      start_hour: Number(f.get("start_hour")), search_seconds: Number(f.get("search_seconds")) };
    const btn = root.querySelector("[data-testid=wf-run]"); btn.disabled = true;
    const bar = root.querySelector("#bar"), msg = root.querySelector("#msg");
    try {
      let job = await api("/api/analysis/dispatch/jobs", { method: "POST", body });
      root.dataset.job = job.id;
      const poll = async () => {
        job = await api(`/api/analysis/dispatch/jobs/${job.id}`);
        bar.style.width = `${Math.round(job.progress * 100)}%`;
        msg.textContent = `${Math.round(job.progress * 100)}% · ${job.message || ""}`;
        if (job.status === "done") { btn.disabled = false; charts.forEach((c) => c.dispose()); charts = show(root, job.result, map, geo); }
        else if (job.status === "failed") { btn.disabled = false; msg.innerHTML = `<span class="error">${t("failed")}: ${esc(job.error)}</span>`; }
        else timer = setTimeout(poll, 500);
      };
      await poll();
    } catch (e) { btn.disabled = false; msg.innerHTML = `<span class="error">${esc(e.message)}</span>`; }
  });
  return () => { clearTimeout(timer); charts.forEach((c) => c.dispose()); map.dispose(); };
}

function show(root, r, map, geo) {
  const na = r.no_action, pl = r.plan;
  root.querySelector("#verdict").innerHTML = `<h3>${t("verdict")}</h3><p data-testid="wf-verdict">${esc(pick(r.verdict))}</p>
  <p class="muted">${esc(r.event.label)} · ${esc(r.window.start)} +${r.window.hours} h</p>`;
  const row = (k, key, d = 0) => `<tr><td>${t(k)}</td><td class="num" data-testid="na-${key}">${fmt(na[key], d)}</td><td class="num" data-testid="plan-${key}">${fmt(pl[key], d)}</td></tr>`;
  const actions = pl.actions || [];
  root.querySelector("#out").innerHTML = `<div class="grid2"><div class="panel"><table data-testid="wf-table"><thead><tr><th></th><th class="num">${t("no_action")}</th><th class="num">${t("with_plan")}</th></tr></thead><tbody>
  ${row("unmet", "unmet_demand_m3", 1)}${row("cust_hours", "customer_hours_below_service")}${row("dry_hours", "customer_hours_no_water")}${row("min_p", "min_pressure_m", 1)}</tbody></table>
  <h3>${t("actions")}</h3><ol data-testid="wf-actions">${actions.length ? actions.map((a) => `<li>${esc(a.time || "")} ${esc(a.text || JSON.stringify(a))}</li>`).join("") : "<li class=muted>—</li>"}</ol></div>
  <div class="panel"><h3>${t("timeline")}</h3><div class="chart" id="tl"></div></div></div>`;
  const clocks = (na.hourly || []).map((h) => h.clock);
  const c = chartIn(root.querySelector("#tl"), { tooltip: { trigger: "axis" }, legend: { top: 0, right: 0, textStyle: { color: "#c9d7ea" } },
    grid: { left: 60, right: 10, top: 40, bottom: 30 }, xAxis: { type: "category", data: clocks, ...axisStyle },
    yAxis: { type: "value", name: t("customers_below"), ...axisStyle },
    series: [{ type: "line", name: t("no_action"), data: (na.hourly || []).map((h) => h.customers_below_service), itemStyle: { color: "#ff4d4f" } },
      { type: "line", name: t("with_plan"), data: (pl.hourly || []).map((h) => h.customers_below_service), itemStyle: { color: "#52c41a" } }] });
  map.highlight([], Object.keys(na.nodes_with_deficit || {}));
  return [c];
}
