// 统计看板 (/stats): the period's figures from GET /api/v1/stats/dashboard — tiles with 环比 and 同比
// (a rate's change in percentage points), the definition as the tile's tooltip and a link to its cases
// on /dispatch; a choropleth of grids or villages (Leaflet) by a chosen indicator, a click showing the
// unit's figures and its cases; the trend, categories, departments and sources (ECharts, each with a
// PNG download); the workers' ranking and the villages as tables (Excel: GET …/dashboard.xlsx).
// The URL keeps the choice (?since&until&village) so a link can be forwarded. Text reaches the page
// only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, num, readJSON, getJSON, english, today } = Wangge;
  if (!$("sx-config")) return;
  const config = readJSON("sx-config");
  const t = readJSON("sx-i18n");
  // the console's open states that count as overdue (void and parked cases excluded, as the tile's rule)
  const OVERDUE_STATES = "待受理,已立案,立案派遣,处理中,待核查,督办";
  const BAD_WHEN_UP = new Set(["overdue", "rework_rate", "return_rate", "handling_hours_mean",
                               "handling_hours_median", "returned"]);
  const RAMP = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];

  // ------------------------------------------------------------ the period
  const iso = (d) => d.toISOString().slice(0, 10);
  const day = (s) => new Date(s + "T00:00:00Z");
  function periodOf(key) {
    const now = day(today());
    const y = now.getUTCFullYear(), m = now.getUTCMonth();
    if (key === "today") return [iso(now), iso(now)];
    if (key === "week") {
      const monday = new Date(now.getTime() - ((now.getUTCDay() + 6) % 7) * 86400000);
      return [iso(monday), iso(new Date(monday.getTime() + 6 * 86400000))];
    }
    if (key === "month") return [iso(new Date(Date.UTC(y, m, 1))), iso(new Date(Date.UTC(y, m + 1, 0)))];
    if (key === "last_month") return [iso(new Date(Date.UTC(y, m - 1, 1))), iso(new Date(Date.UTC(y, m, 0)))];
    return [iso(new Date(Date.UTC(y, 0, 1))), iso(new Date(Date.UTC(y, 11, 31)))];
  }
  const url = new URLSearchParams(location.search);
  const state = { since: url.get("since"), until: url.get("until"), village: url.get("village") || "" };
  if (!state.since || !state.until) [state.since, state.until] = periodOf("month");

  function params() {
    const p = new URLSearchParams({ since: state.since, until: state.until });
    if (state.village) p.set("village", state.village);
    return p;
  }
  function markPeriod() {
    $("sx-since").value = state.since;
    $("sx-until").value = state.until;
    for (const b of document.querySelectorAll("[data-period]")) {
      const [s, u] = periodOf(b.dataset.period);
      b.setAttribute("aria-pressed", String(s === state.since && u === state.until));
    }
  }
  function choose(since, until) {
    Object.assign(state, { since, until });
    history.replaceState(null, "", location.pathname + "?" + params());
    load();
  }
  for (const b of document.querySelectorAll("[data-period]")) {
    b.addEventListener("click", () => choose(...periodOf(b.dataset.period)));
  }
  $("sx-picker").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("sx-since").value && $("sx-until").value) choose($("sx-since").value, $("sx-until").value);
  });

  // ------------------------------------------------------------ figures
  const casesLink = (query) => config.dispatchUrl + "?" + query;
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  function show(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "rate") return pct(value);
    if (unit === "count") return num(value);
    return Number(value).toFixed(1);
  }
  // the change from `before` to `now`: [arrow, text, direction]; a rate's in percentage points
  function change(now, before, unit) {
    if (now === null || now === undefined || before === null || before === undefined) return ["", "—", 0];
    let delta, text;
    if (unit === "rate") {
      delta = (now - before) * 100;
      text = fmt(t.pp, { v: Math.abs(delta).toFixed(1) });
    } else {
      if (!before) return ["", "—", 0];
      delta = ((now - before) / before) * 100;
      text = Math.abs(delta).toFixed(1) + "%";
    }
    const dir = Math.abs(delta) < 0.05 ? 0 : Math.sign(delta);
    return [dir > 0 ? "↑" : dir < 0 ? "↓" : "→", text, dir];
  }
  function tile(def, value, previous, lastYear, href) {
    const label = english ? def.en : def.zh;
    const box = el(href ? "a" : "div", { class: "sx-tile", "data-key": def.key, title: english ? def.definition_en : def.definition_zh });
    if (href) box.href = href;
    box.append(el("span", { class: "sx-label" }, label), el("b", { class: "sx-value" }, show(value, def.unit)));
    for (const [name, before, cls] of [[t.mom, previous, "sx-mom"], [t.yoy, lastYear, "sx-yoy"]]) {
      const [arrow, text, dir] = change(value, before, def.unit);
      const good = dir === 0 || ["reported", "filed"].includes(def.key) ? "" : (dir > 0) !== BAD_WHEN_UP.has(def.key) ? " up-good" : " up-bad";
      box.append(el("span", { class: "sx-change " + cls + good }, `${name} ${arrow}${text}`));
    }
    return box;
  }
  function drawTiles(data) {
    const hotlineKeys = Object.keys(data.tiles.hotline);
    const defs = data.definitions;
    const main = defs.slice(0, defs.length - hotlineKeys.length);
    const hot = defs.slice(defs.length - hotlineKeys.length);
    const filters = new URLSearchParams();
    if (state.village) filters.set("village", state.village);
    $("sx-tiles").replaceChildren(...main.map((d) => {
      let query = data.tiles.cases[d.key];
      if (d.key === "overdue") query = new URLSearchParams({ state: OVERDUE_STATES, overdue: "1", ...Object.fromEntries(filters) }).toString();
      return tile(d, data.tiles[d.key], data.previous[d.key], data.last_year[d.key], query === undefined ? null : casesLink(query));
    }));
    $("sx-hotline").replaceChildren(...hot.map((d) => tile(d, data.tiles.hotline[d.key], data.previous.hotline[d.key],
                                                          data.last_year.hotline[d.key], config.hotlineUrl)));
  }

  // ------------------------------------------------------------ the map
  const map = L.map("sx-map", { zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  Wangge.baseLayer(map, config);
  let shapes = { grid: null, village: null };
  let figures = { grid: new Map(), village: new Map() };
  let mapLayer = null;
  // the classes' upper bounds: fifths of 0–100% for a rate, whole numbers up to the largest count
  function breaks(values, rate) {
    if (rate) return RAMP.map((_c, i) => (i + 1) / RAMP.length);
    const top = Math.max(RAMP.length, ...values);
    return RAMP.map((_c, i) => Math.ceil((top * (i + 1)) / RAMP.length));
  }
  function colour(value, limits) {
    if (value === null || value === undefined) return "#f4f4f4";
    const i = limits.findIndex((b) => value <= b);
    return RAMP[i < 0 ? RAMP.length - 1 : i];
  }
  function popup(level, code, props) {
    const row = figures[level].get(code);
    const box = el("div", { class: "popup sx-popup" }, el("b", {}, (row && row.name) || props.name || code));
    if (!row) { box.append(el("p", {}, t.noData)); return box; }
    const dl = el("dl", {});
    for (const [label, value] of [[t.reported, num(row.reported)], [t.closed, num(row.closed)],
                                  [t.overdue, num(row.overdue)], [t.onTime, pct(row.closed_on_time_rate)]]) {
      dl.append(el("dt", {}, label), el("dd", {}, value));
    }
    box.append(dl, el("a", { href: casesLink(row.cases), class: "sx-cases" }, t.cases));
    return box;
  }
  function drawMap() {
    const level = $("sx-level").value, key = $("sx-indicator").value;
    const geo = shapes[level];
    if (!geo) return;
    const rows = figures[level];
    const rate = key === "closed_on_time_rate";
    const limits = breaks([...rows.values()].map((r) => r[key] || 0), rate);
    if (mapLayer) mapLayer.remove();
    mapLayer = L.geoJSON(geo, {
      style: (f) => {
        const row = rows.get(f.properties.code);
        return { color: level === "village" ? "#1f4e79" : "#5b7fa3", weight: level === "village" ? 2 : 1,
                 fillOpacity: 0.75, fillColor: colour(row ? row[key] : null, limits), className: "sx-" + level };
      },
      onEachFeature: (f, layer) => {
        layer.bindPopup(() => popup(level, f.properties.code, f.properties));
        layer.bindTooltip(f.properties.name || f.properties.code, { sticky: true });
      },
    }).addTo(map);
    const legend = $("sx-legend");
    legend.replaceChildren();
    let low = 0;
    for (let i = 0; i < RAMP.length; i++) {
      const high = limits[i];
      const text = rate ? `${(low * 100).toFixed(0)}–${(high * 100).toFixed(0)}%` : `${i ? low + 1 : 0}–${high}`;
      legend.append(el("span", {}, el("i", { style: `background:${RAMP[i]}` }), text));
      low = high;
    }
    legend.append(el("span", {}, el("i", { style: "background:#f4f4f4" }), t.none));
  }
  $("sx-indicator").addEventListener("change", drawMap);
  $("sx-level").addEventListener("change", drawMap);

  // ------------------------------------------------------------ charts
  const charts = {};
  function chart(id, option) {
    const node = $("sx-chart-" + id);
    charts[id] = charts[id] || echarts.init(node, null, { renderer: "canvas" });
    const empty = (option.series || []).every((serie) => !serie.data.some((v) => (v && v.value !== undefined ? v.value : v)));
    const note = empty ? { text: t.noData, left: "center", top: "middle", textStyle: { color: "#8a939c", fontSize: 14 } } : undefined;
    charts[id].setOption({ animation: false, title: note, ...option }, true);
    node.dataset.empty = empty ? "1" : "0";
    return charts[id];
  }
  function drawCharts(data) {
    const points = data.trend.points;
    chart("trend", {
      tooltip: { trigger: "axis" }, legend: { data: [t.reported, t.closed] }, grid: { left: 48, right: 16, bottom: 32 },
      xAxis: { type: "category", data: points.map((p) => p.at) }, yAxis: { type: "value", minInterval: 1 },
      series: [{ name: t.reported, type: "line", data: points.map((p) => p.reported) },
               { name: t.closed, type: "line", data: points.map((p) => p.closed) }],
    });
    const cats = data.categories.slice(0, 15).reverse();
    chart("categories", {
      tooltip: {}, grid: { left: 150, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: cats.map((c) => c.name) },
      series: [{ name: t.reported, type: "bar", data: cats.map((c) => c.reported), itemStyle: { color: "#3182bd" } }],
    }).off("click");
    charts.categories.on("click", (e) => { location.href = casesLink(cats[e.dataIndex].cases); });
    const depts = data.departments.slice(0, 15).reverse();
    chart("departments", {
      tooltip: { formatter: (e) => { const d = depts[e.dataIndex]; return `${d.name}<br>${t.onTime} ${pct(d.closed_on_time_rate)} · ${t.dispatched} ${d.dispatched} · ${t.closed} ${d.closed}`; } },
      grid: { left: 130, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: depts.map((d) => d.name) },
      series: [{ name: t.onTime, type: "bar", itemStyle: { color: "#2e8b57" },
                 data: depts.map((d) => (d.closed_on_time_rate === null ? 0 : +(d.closed_on_time_rate * 100).toFixed(1))) }],
    });
    chart("sources", {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" }, legend: { bottom: 0 },
      series: [{ name: t.reported, type: "pie", radius: ["30%", "62%"], data: data.sources.map((s) => ({ name: s.label, value: s.reported })) }],
    }).off("click");
    charts.sources.on("click", (e) => { location.href = casesLink(data.sources[e.dataIndex].cases); });
  }
  function download(id) {
    const dataUrl = charts[id].getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    const bytes = atob(dataUrl.split(",")[1]);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    const link = el("a", { href: URL.createObjectURL(new Blob([buffer], { type: "image/png" })),
                           download: `stats_${id}_${state.since}_${state.until}.png` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
  for (const b of document.querySelectorAll(".sx-png")) b.addEventListener("click", () => download(b.dataset.chart));
  window.addEventListener("resize", () => { for (const c of Object.values(charts)) c.resize(); map.invalidateSize(); });

  // ------------------------------------------------------------ tables
  const heads = (id) => Array.from($("sx-table-" + id).tHead.rows[0].cells, (c) => c.textContent);
  function cells(id, values) {
    const labels = heads(id);
    return values.map((v, i) => el("td", { "data-label": labels[i] }, v));
  }
  function drawTables(data) {
    $("sx-table-workers").tBodies[0].replaceChildren(...data.workers.map((w, i) => el("tr", { "data-username": w.username || "" },
      ...cells("workers", [String(i + 1), w.name || w.username || "—", w.grid || "—", num(w.reported), num(w.closed)]))));
    $("sx-table-villages").tBodies[0].replaceChildren(...data.by_village.map((v) => el("tr", { "data-code": v.code },
      ...cells("villages", [el("a", { href: casesLink(v.cases) }, v.name), num(v.reported), num(v.closed), num(v.overdue),
                            pct(v.closed_on_time_rate)]))));
    for (const a of document.querySelectorAll(".sx-xlsx")) a.href = config.xlsxUrl + "?" + params();
  }

  // ------------------------------------------------------------ loading
  let seq = 0;
  async function load() {
    const mine = ++seq;
    markPeriod();
    delete document.body.dataset.ready;
    $("sx-period").textContent = t.loading;
    try {
      const data = await getJSON(config.dashboardUrl + "?" + params());
      if (mine !== seq) return;
      $("sx-period").textContent = fmt(t.period, { period: data.period.label, previous: data.previous_period.label,
                                                   lastYear: data.last_year_period.label });
      figures = { grid: new Map(data.by_grid.map((r) => [r.code, r])), village: new Map(data.by_village.map((r) => [r.code, r])) };
      drawTiles(data);
      drawCharts(data);
      drawTables(data);
      await shapesReady;
      drawMap();
      document.body.dataset.period = `${state.since}/${state.until}`;
      document.body.dataset.ready = "stats";
    } catch (err) {
      if (mine === seq) $("sx-period").textContent = fmt(t.failed, { reason: String(err.message || err) });
      console.error(err);
    }
  }
  const shapesReady = Promise.all([getJSON(config.gridsUrl), getJSON(config.villagesUrl)]).then(([g, v]) => {
    shapes = { grid: g, village: v };
    const select = $("sx-village");
    if (select) {
      for (const f of v.features) select.append(el("option", { value: f.properties.code }, f.properties.name));
      select.value = state.village;
      select.addEventListener("change", () => { state.village = select.value; choose(state.since, state.until); });
    }
    const bounds = L.geoJSON(g).getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
    else map.setView(...Wangge.townView());
  });
  load();
})();
