// The network map: ECharts on canvas, pipes as large `lines` series (one per colour class, because a large
// lines series draws all its lines in one style), plants/tanks/valves/sensors as symbols, DMAs shaded.
// Zoom and pan with the wheel and drag (inside dataZoom on both axes, same window, so scale stays equal).
import { t } from "./i18n.js";

const CLASSES = {
  pressure: { unit: "MPa", edges: [0.14, 0.2, 0.28, 0.35, 0.45], digits: 2 },
  flow: { unit: "L/s", edges: [1, 5, 20, 50, 150], digits: 0 },
  velocity: { unit: "m/s", edges: [0.1, 0.3, 0.6, 1.0, 1.5], digits: 1 },
  dn: { unit: "mm", edges: [150, 200, 300, 500, 800], digits: 0, prefix: "DN" },
};
const COLOURS = ["#ff4d4f", "#fadb14", "#52c41a", "#13c2c2", "#1677ff", "#9254de"];
const DN_COLOURS = ["#5b7089", "#7f97b5", "#40a9ff", "#13c2c2", "#fadb14", "#ff7a45"];
const DMA_FILL = ["#1f3b5c", "#2b3f2a", "#3d2f4a", "#4a3a22", "#213f44", "#442a2a"];

function label(quantity, k) {
  const { edges, unit, digits } = CLASSES[quantity];
  const f = (v) => v.toFixed(digits);
  if (quantity === "dn") {
    if (k === 0) return `< DN${edges[0]}`;
    if (k === edges.length) return `≥ DN${edges[edges.length - 1]}`;
    return `DN${edges[k - 1]}–${edges[k] - 1}`;
  }
  if (k === 0) return `< ${f(edges[0])} ${unit}`;
  if (k === edges.length) return `≥ ${f(edges[edges.length - 1])} ${unit}`;
  return `${f(edges[k - 1])}–${f(edges[k])} ${unit}`;
}

function classOf(value, edges) { let k = 0; while (k < edges.length && value >= edges[k]) k++; return k; }

export function createNetworkMap(el, geo, sim, { onPipeClick } = {}) {
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const N = geo.nodes, L = geo.links;
  const nLinks = L.ids.length;
  const coords = new Array(nLinks);
  for (let i = 0; i < nLinks; i++) {
    const a = L.n1[i], b = L.n2[i];
    const v = L.vertices[i];
    coords[i] = v ? [[N.x[a], N.y[a]], ...v, [N.x[b], N.y[b]]] : [[N.x[a], N.y[a]], [N.x[b], N.y[b]]];
  }
  const xs = N.x, ys = N.y;
  const bbox = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // without a simulation (what-if and outage maps) pipes are coloured by diameter, never by made-up values
  const state = { quantity: sim ? "pressure" : "dn", hour: 8, highlight: null, seriesLinks: {} };

  function axes() { // equal scale on both axes: pad the shorter side to the element's aspect ratio
    const w = el.clientWidth || 800, h = el.clientHeight || 600;
    let [x0, x1, y0, y1] = bbox; const pad = 0.03 * Math.max(x1 - x0, y1 - y0);
    x0 -= pad; x1 += pad; y0 -= pad; y1 += pad;
    const sx = (x1 - x0) / w, sy = (y1 - y0) / h;
    if (sx > sy) { const c = (y0 + y1) / 2, half = (sx * h) / 2; y0 = c - half; y1 = c + half; }
    else { const c = (x0 + x1) / 2, half = (sy * w) / 2; x0 = c - half; x1 = c + half; }
    return { x0, x1, y0, y1 };
  }

  function linkValues(hour) {
    const q = state.quantity; const out = new Float64Array(nLinks);
    if (q === "dn") { for (let i = 0; i < nLinks; i++) out[i] = L.dn_mm[i]; return out; }
    if (!sim) return out;
    const row = Math.min(hour, sim.times_s.length - 1);
    if (q === "pressure") {
      const p = sim.pressure_m[row];
      for (let i = 0; i < nLinks; i++) out[i] = ((p[L.n1[i]] ?? 0) + (p[L.n2[i]] ?? 0)) / 2 / 102.0;
    } else {
      const src = q === "flow" ? sim.flow_lps[row] : sim.velocity_ms[row];
      for (let i = 0; i < nLinks; i++) out[i] = Math.abs(src[i] ?? 0);
    }
    return out;
  }

  function pipeSeries() {
    const { edges } = CLASSES[state.quantity];
    const values = linkValues(state.hour);
    const groups = [];
    for (let k = 0; k <= edges.length; k++) groups.push({ thin: [], thick: [], thinIdx: [], thickIdx: [] });
    const closed = [], closedIdx = [];
    for (let i = 0; i < nLinks; i++) {
      if (L.closed[i]) { closed.push({ coords: coords[i] }); closedIdx.push(i); continue; }
      const g = groups[classOf(values[i], edges)];
      if (L.dn_mm[i] >= 300) { g.thick.push({ coords: coords[i] }); g.thickIdx.push(i); }
      else { g.thin.push({ coords: coords[i] }); g.thinIdx.push(i); }
    }
    const series = [];
    state.seriesLinks = {};
    groups.forEach((g, k) => {
      const name = label(state.quantity, k);
      for (const [part, width] of [["thin", 1.2], ["thick", 3]]) {
        const id = `pipes-${k}-${part}`;
        state.seriesLinks[id] = g[part + "Idx"];
        series.push({ id, name, type: "lines", coordinateSystem: "cartesian2d", polyline: true, large: true,
          largeThreshold: 200, silent: false, data: g[part], z: part === "thick" ? 4 : 3,
          lineStyle: { color: (state.quantity === "dn" ? DN_COLOURS : COLOURS)[k], width, opacity: 0.9 } });
      }
    });
    state.seriesLinks["pipes-closed"] = closedIdx;
    series.push({ id: "pipes-closed", name: t("closed_pipes") === "closed_pipes" ? "关闭管段 closed" : t("closed_pipes"),
      type: "lines", coordinateSystem: "cartesian2d", polyline: true, large: true, largeThreshold: 200, data: closed,
      lineStyle: { color: "#56657a", width: 1, type: "dashed", opacity: 0.6 }, z: 2 });
    state.values = values;
    return series;
  }

  function dmaSeries() {
    return { id: "dmas", name: "DMA", type: "custom", coordinateSystem: "cartesian2d", silent: false, z: 1,
      data: geo.dmas.map((d, i) => ({ value: [0, 0, i], name: d.name })),
      renderItem(params, api) {
        const d = geo.dmas[params.dataIndex];
        if (!d.hull || d.hull.length < 3) return null;
        return { type: "polygon", shape: { points: d.hull.map((p) => api.coord(p)) },
          style: { fill: DMA_FILL[params.dataIndex % DMA_FILL.length], opacity: 0.55, stroke: "#2c4a70", lineWidth: 1 } };
      },
      tooltip: { formatter: (p) => `${geo.dmas[p.dataIndex].id} ${geo.dmas[p.dataIndex].name}<br>${geo.dmas[p.dataIndex].nodes} nodes` } };
  }

  function symbolSeries() {
    const valves = geo.valves.map((v) => ({ value: v.xy, id: v.id, info: `${v.id} DN${v.dn} ${v.status}` }));
    return [
      { id: "valves", name: "阀门 valves", type: "scatter", large: true, largeThreshold: 500, symbolSize: 3, z: 5,
        data: valves.map((v) => v.value), itemStyle: { color: "#d9d9d9" } },
      { id: "sensors", name: "监测点 sensors", type: "scatter", symbol: "pin", symbolSize: 12, z: 7,
        data: geo.sensors.filter((s) => s.xy).map((s) => ({ value: s.xy, name: s.name, info: `${s.id} ${s.kind} (${s.unit})` })),
        itemStyle: { color: "#eb2f96" } },
      { id: "tanks", name: "水池 tanks", type: "scatter", symbol: "triangle", symbolSize: 16, z: 8,
        data: geo.tanks.map((s) => ({ value: s.xy, name: s.name, info: s.id })), itemStyle: { color: "#40a9ff" } },
      { id: "plants", name: "水厂 plants", type: "scatter", symbol: "roundRect", symbolSize: 20, z: 9,
        data: geo.plants.filter((p) => p.xy).map((p) => ({ value: p.xy, name: p.name, info: `${p.id} ${p.capacity_m3d} m³/d` })),
        itemStyle: { color: "#ffffff", borderColor: "#1677ff", borderWidth: 3 },
        label: { show: true, formatter: "{b}", position: "right", color: "#fff" } },
      { id: "highlight", name: "highlight", type: "lines", coordinateSystem: "cartesian2d", polyline: true, z: 10,
        data: [], lineStyle: { color: "#ff7a45", width: 5 }, silent: true },
      { id: "marks", name: "marks", type: "scatter", z: 11, data: [], symbolSize: 9, itemStyle: { color: "#ff4d4f" }, silent: true },
    ];
  }

  function option() {
    const a = axes();
    return {
      animation: false, backgroundColor: "transparent",
      grid: { left: 0, right: 0, top: 0, bottom: 0 },
      xAxis: { type: "value", min: a.x0, max: a.x1, show: false, scale: true },
      yAxis: { type: "value", min: a.y0, max: a.y1, show: false, scale: true },
      // throttle 16 ms: a frame per screen refresh while dragging (the default 100 ms feels jerky)
      dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "none", throttle: 16 },
        { type: "inside", yAxisIndex: 0, filterMode: "none", throttle: 16 }],
      legend: { top: 6, left: 8, textStyle: { color: "#c9d7ea" }, data: [...new Set(pipeNames())], selectedMode: true },
      tooltip: { trigger: "item", confine: true, formatter: tooltip },
      series: [dmaSeries(), ...pipeSeries(), ...symbolSeries()],
    };
  }
  function pipeNames() { return [0, 1, 2, 3, 4, 5].map((k) => label(state.quantity, k)); }

  function linkIndex(params) {
    const list = state.seriesLinks[params.seriesId];
    return list ? list[params.dataIndex] : undefined;
  }
  function tooltip(p) {
    if (p.seriesType === "lines") {
      const i = linkIndex(p); if (i === undefined) return "";
      const v = state.values ? state.values[i] : null;
      const row = sim ? Math.min(state.hour, sim.times_s.length - 1) : 0;
      const lines = [`<b>${L.ids[i]}</b> ${L.kind[i]} DN${L.dn_mm[i]} · ${L.length_m[i]} m`];
      if (sim) lines.push(`${t("flow")}: ${sim.flow_lps[row][i]} L/s · ${t("velocity")}: ${sim.velocity_ms[row][i]} m/s`);
      if (L.closed[i]) lines.push("CLOSED");
      else if (v !== null && state.quantity === "pressure") lines.push(`${t("pressure")}: ${v.toFixed(3)} MPa`);
      return lines.join("<br>");
    }
    if (p.seriesId === "dmas") return p.name;
    if (p.data && p.data.info) return `<b>${p.name || ""}</b><br>${p.data.info}`;
    if (p.seriesId === "valves") { const v = geo.valves[p.dataIndex]; return v ? `阀门 ${v.id} DN${v.dn} ${v.status}` : ""; }
    return p.name || "";
  }

  chart.on("click", (p) => {
    if (p.seriesType !== "lines") return;
    const i = linkIndex(p);
    if (i !== undefined && onPipeClick) onPipeClick(L.ids[i], i);
  });

  const timing = {};
  function render() {
    const t0 = performance.now();
    return new Promise((resolve) => {
      chart.off("finished");
      chart.on("finished", () => {
        chart.off("finished");
        timing.finished_ms = performance.now() - t0;
        resolve(timing);
      });
      chart.setOption(option(), { notMerge: true, lazyUpdate: false });
      timing.setOption_ms = performance.now() - t0;
    });
  }
  function recolour() {
    const t0 = performance.now();
    chart.setOption({ legend: { data: pipeNames() }, series: pipeSeries() }, { replaceMerge: [] });
    timing.recolour_ms = performance.now() - t0;
  }
  function highlight(linkIds = [], nodeIds = []) {
    const li = new Set(linkIds); const ni = new Set(nodeIds);
    const lines = []; const marks = [];
    L.ids.forEach((id, i) => { if (li.has(id)) lines.push({ coords: coords[i] }); });
    N.ids.forEach((id, i) => { if (ni.has(id)) marks.push([N.x[i], N.y[i]]); });
    chart.setOption({ series: [{ id: "highlight", data: lines }, { id: "marks", data: marks }] });
  }
  const onResize = () => chart.resize();
  window.addEventListener("resize", onResize);
  return {
    chart, timing, render, highlight,
    setHour(h) { state.hour = h; recolour(); },
    setQuantity(q) { state.quantity = q; recolour(); },
    /** pixel position of a pipe's midpoint (tests click there) */
    pipePixel(id) {
      const i = L.ids.indexOf(id); if (i < 0) return null;
      const c = coords[i]; const m = [(c[0][0] + c[c.length - 1][0]) / 2, (c[0][1] + c[c.length - 1][1]) / 2];
      return chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, m);
    },
    dispose() { window.removeEventListener("resize", onResize); chart.dispose(); },
  };
}
