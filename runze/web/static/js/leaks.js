// 漏损: a leak detection run on the stored network (POST /api/analysis/leaks/run, a background job): generated
// 5-minute SCADA data with leaks → detection + localisation → BattLeDIM score. Shows the events with their
// candidate pipes (highlighted on the map), the true leaks (marked on the map), the score and night-flow flags.
import { api, cached } from "./api.js";
import { getLang, t } from "./i18n.js";
import { createNetworkMap } from "./map.js";
import { esc, fmt } from "./views.js";

// this view's labels, zh/en (the shared catalogue in i18n.js covers the common ones: run, failed, loading)
const LABELS = {
  days: ["天数 (7–60)", "Days (7–60)"], n_leaks: ["漏损数 (1–6)", "Leaks (1–6)"], seed: ["随机种子", "Seed"],
  intro: ["在管网模型上生成带漏损的 5 分钟 SCADA 数据 (前若干天无漏损用于训练)，再检测、定位并按 BattLeDIM 规则评分。",
    "Generates 5-minute SCADA data with leaks on the network model (the first days are leak-free training), then detects, localises and scores them by the BattLeDIM rules."],
  events: ["检测到的漏损事件", "Detected leak events"], truth: ["真实漏损 (生成数据)", "True leaks (generated)"],
  dma: ["分区", "DMA"], start: ["开始", "Start"], detected: ["报出时间", "Reported"], size: ["规模 m³/h", "Size m³/h"],
  kind: ["类型", "Kind"], candidates: ["候选管段 (置信度, 距首选)", "Candidate pipes (confidence, distance from best)"],
  outcome: ["结果", "Outcome"], end: ["结束", "End"], peak: ["峰值 m³/h", "Peak m³/h"], pipe: ["管段", "Pipe"],
  score: ["评分", "Score"], found: ["发现漏损", "Leaks found"], fp: ["误报", "False positives"],
  median_dist: ["中位距离 m", "Median distance m"], median_delay: ["中位延迟 h", "Median delay h"],
  pct: ["占满分 %", "% of perfect"], night: ["夜间最小流量", "Minimum night flow"], flagged: ["异常分区", "Flagged DMAs"],
  none: ["无", "none"], no_events: ["未检测到漏损事件", "No leak events detected"], seconds: ["用时 s", "Time s"],
  abrupt: ["突发", "abrupt"], incipient: ["渐增", "incipient"], true_positive: ["命中", "hit"],
  false_positive: ["误报", "false positive"], repeat: ["重复", "repeat"],
  legend: ["橙色: 候选管段; 红点: 真实漏损位置", "Orange: candidate pipes; red dots: true leak positions"],
};
const L = (key) => { const e = LABELS[key]; return e ? e[getLang() === "en" ? 1 : 0] : t(key); };

export async function leaksView(root) {
  root.innerHTML = `<h2>${t("leaks")}</h2><p class="muted">${L("intro")}</p><div class="grid2"><div class="panel">
  <form id="lf" class="form">
    <label>${L("days")}</label><input name="days" type="number" min="7" max="60" value="21" data-testid="lk-days">
    <label>${L("n_leaks")}</label><input name="leaks" type="number" min="1" max="6" value="3" data-testid="lk-leaks">
    <label>${L("seed")}</label><input name="seed" type="number" min="0" max="1000000" value="1" data-testid="lk-seed">
    <span></span><button type="submit" data-testid="lk-run">${t("run")}</button>
  </form>
  <div class="progress"><div id="bar" data-testid="lk-progress"></div></div><div id="msg" class="muted" data-testid="lk-message"></div>
  <div id="score" data-testid="lk-score"></div></div>
  <div class="panel"><p class="muted">${L("legend")}</p><div class="map" id="lmap" style="height:420px;min-height:420px" data-testid="lk-map"></div></div></div>
  <div id="out"></div>`;
  const geo = await cached("/api/analysis/network");
  const map = createNetworkMap(root.querySelector("#lmap"), geo, null, {});
  window.runzeMap = map;
  await map.render();
  let timer = null;
  root.querySelector("#lf").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { days: Number(f.get("days")), leaks: Number(f.get("leaks")), seed: Number(f.get("seed")) };
    const btn = root.querySelector("[data-testid=lk-run]"); btn.disabled = true;
    const bar = root.querySelector("#bar"), msg = root.querySelector("#msg");
    try {
      let job = await api("/api/analysis/leaks/run", { method: "POST", body });
      root.dataset.job = job.id;
      const poll = async () => {
        job = await api(`/api/analysis/leaks/jobs/${job.id}`);
        bar.style.width = `${Math.round(job.progress * 100)}%`;
        msg.textContent = `${Math.round(job.progress * 100)}% · ${job.message || ""}`;
        if (job.status === "done") { btn.disabled = false; show(root, job.result, map, job.seconds); }
        else if (job.status === "failed") { btn.disabled = false; msg.innerHTML = `<span class="error">${t("failed")}: ${esc(job.error)}</span>`; }
        else timer = setTimeout(poll, 700);
      };
      await poll();
    } catch (e) { btn.disabled = false; msg.innerHTML = `<span class="error" data-testid="lk-error">${esc(e.message)}</span>`; }
  });
  return () => { clearTimeout(timer); map.dispose(); window.runzeMap = null; };
}

function show(root, r, map, seconds) {
  const s = r.score;
  const flagged = r.night_flow.filter((n) => n.flagged);
  root.querySelector("#score").innerHTML = `<h3>${L("score")}</h3><table>
  <tr><td>${L("found")}</td><td class="num" data-testid="lk-found">${s.leaks_found} / ${s.leaks}</td></tr>
  <tr><td>${L("fp")}</td><td class="num" data-testid="lk-fp">${s.false_positives}</td></tr>
  <tr><td>${L("median_dist")}</td><td class="num">${fmt(s.median_distance_m, 0)}</td></tr>
  <tr><td>${L("median_delay")}</td><td class="num">${fmt(s.median_delay_h, 1)}</td></tr>
  <tr><td>${L("pct")}</td><td class="num" data-testid="lk-pct">${fmt(s.score_pct_of_perfect, 1)}</td></tr>
  <tr><td>${L("flagged")} (${L("night")})</td><td class="num" data-testid="lk-night">${flagged.length ? esc(flagged.map((n) => n.dma).join(", ")) : L("none")}</td></tr>
  <tr><td>${L("seconds")}</td><td class="num">${fmt(seconds, 1)}</td></tr></table>`;
  const word = (k) => (k ? esc(L(k)) : "—");
  const cand = (e) => e.candidates.map((c) => `${esc(c.pipe)} (${fmt(c.confidence * 100, 1)}%, ${fmt(c.distance_m, 0)} m)`).join("<br>");
  root.querySelector("#out").innerHTML = `<div class="panel"><h3>${L("events")}</h3>
  ${r.events.length ? `<table data-testid="lk-events"><thead><tr><th>${L("dma")}</th><th>${L("start")}</th><th>${L("detected")}</th><th class="num">${L("size")}</th><th>${L("kind")}</th><th>${L("candidates")}</th><th>${L("outcome")}</th></tr></thead><tbody>
  ${r.events.map((e) => `<tr data-pipes="${esc(e.candidates.map((c) => c.pipe).join(" "))}"><td>${esc((r.dma_names || {})[e.dma] || e.dma)}</td><td>${esc(e.start)}</td><td>${esc(e.detected_at)}</td><td class="num">${fmt(e.size_m3h, 1)}</td><td>${word(e.kind)}</td><td>${cand(e)}</td><td>${word(e.outcome)}${e.distance_to_leak_m != null ? ` · ${fmt(e.distance_to_leak_m, 0)} m` : ""}</td></tr>`).join("")}</tbody></table>`
    : `<p class="muted" data-testid="lk-events-none">${L("no_events")}</p>`}
  <h3>${L("truth")}</h3><table data-testid="lk-truth"><thead><tr><th>${L("pipe")}</th><th>${L("dma")}</th><th>${L("start")}</th><th>${L("end")}</th><th>${L("kind")}</th><th class="num">${L("peak")}</th></tr></thead><tbody>
  ${r.truth.map((x) => `<tr><td>${esc(x.pipe)}</td><td>${esc(x.dma || "—")}</td><td>${esc(x.start)}</td><td>${esc(x.end)}</td><td>${word(x.kind)}</td><td class="num">${fmt(x.peak_m3h, 1)}</td></tr>`).join("")}</tbody></table></div>`;
  // candidates of every event on the map (orange), the true leaks' emitter nodes as red marks
  map.highlight(r.events.flatMap((e) => e.candidates.map((c) => c.pipe)), r.truth.map((x) => x.node));
  root.dataset.highlighted = String(r.events.reduce((n, e) => n + e.candidates.length, 0));
}
