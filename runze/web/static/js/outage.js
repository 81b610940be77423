// 停水计划: pick a pipe (click on the map, or type its id) → best window, valves to close, customers affected,
// critical users, demand lost and the outage notice; the isolated pipes and valves are drawn on the map.
import { api, cached } from "./api.js";
import { getLang, t } from "./i18n.js";
import { createNetworkMap } from "./map.js";
import { esc, fmt } from "./views.js";

export async function outageView(root, { params }) {
  const geo = await cached("/api/analysis/network");
  root.innerHTML = `<h2>${t("outage")}</h2><div class="toolbar">
    <label>${t("pipe")} <input id="pipe" data-testid="outage-pipe" size="10" value="${esc(params.get("pipe") || "")}"></label>
    <label>${t("hours_work")} <input id="hrs" type="number" min="1" max="24" value="4" data-testid="outage-hours"></label>
    <button id="go" type="button" data-testid="outage-run">${t("make_plan")}</button><span id="msg" class="muted" data-testid="outage-message"></span></div>
  <div class="mapwrap"><div class="map" id="omap" data-testid="outage-map"></div><div class="panel" id="res" data-testid="outage-result"><p class="muted">${t("click_pipe")}</p></div></div>`;
  const input = root.querySelector("#pipe");
  const map = createNetworkMap(root.querySelector("#omap"), geo, null, { onPipeClick(id) { input.value = id; run(); } });
  window.runzeMap = map;
  await map.render();
  async function run() {
    const pipe = input.value.trim(); if (!pipe) return;
    const msg = root.querySelector("#msg"); msg.textContent = t("loading");
    root.querySelector("#go").disabled = true;
    try {
      const r = await api("/api/analysis/outage/plan", { method: "POST", body: { pipe, hours: Number(root.querySelector("#hrs").value) } });
      msg.textContent = "";
      show(r);
    } catch (e) { msg.innerHTML = `<span class="error" data-testid="outage-error">${esc(e.message)}</span>`; }
    root.querySelector("#go").disabled = false;
  }
  function show(r) {
    const p = r.plan, w = r.windows.windows || [];
    const lang = getLang();
    root.querySelector("#res").innerHTML = `<h3>${t("pipe")} <span data-testid="plan-pipe">${esc(p.target)}</span></h3><table>
    <tr><td>${t("valves_to_close")}</td><td class="num" data-testid="plan-valves">${p.valves_to_close.length}</td></tr>
    <tr><td>${t("customers_affected")}</td><td class="num" data-testid="plan-customers">${fmt(p.customers_total)}</td></tr>
    <tr><td>${t("isolated")}</td><td class="num">${fmt(p.pipes.count)} · ${fmt(p.pipes.length_m)} m</td></tr>
    <tr><td>${t("unintended")}</td><td class="num">${fmt(p.counts.unintended_nodes)}</td></tr>
    <tr><td>${t("demand_lost")}</td><td class="num" data-testid="plan-lost">${fmt(p.demand_lost_m3, 1)} m³</td></tr></table>
    <p class="muted">${esc(p.valves_to_close.join(", "))}</p>
    ${p.critical_users.length ? `<p class="warn">${t("critical_users")}: ${esc(p.critical_users.map((c) => c.name).join("、"))}</p>` : ""}
    <h3>${t("best_windows")}</h3><ol data-testid="plan-windows">${w.map((x) => `<li>${esc(x.start.slice(0, 16).replace("T", " "))} – ${esc(x.end.slice(11, 16))} · ${fmt(x.volume_m3, 1)} m³</li>`).join("")}</ol>
    <h3>${t("notice")}</h3><pre class="notice" data-testid="plan-notice">${esc(r.notice.texts[lang] || r.notice.texts.zh)}</pre>`;
    map.highlight(p.isolated_links, p.closers.filter((c) => c.node).map((c) => c.node));
  }
  root.querySelector("#go").addEventListener("click", run);
  if (input.value) await run();
  return () => { map.dispose(); window.runzeMap = null; };
}
