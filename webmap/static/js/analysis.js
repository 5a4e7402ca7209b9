// The hotspot analysis page (热点分析). The user picks a period, categories, a method (Getis-Ord
// Gi* or local Moran's I) and an H3 resolution; the server classes the cells (GET
// /api/v1/hotspots) and ranks the hottest with the grids they fall in (GET /api/v1/hotspots/top,
// always Gi*); the page draws them over the village and grid outlines, with a heat map layer (GET
// /api/v1/map/heat, fetched only while it is on), and offers the answer as GeoJSON (the answer
// itself, as a Blob), GeoPackage and PNG (links to the server). All text reaches the page as
// text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, num, el, message, fetchJSON, today, bboxParam, heatScale } = Wangge;
  const config = readJSON("a-config");
  const t = readJSON("a-i18n");
  const fixed = (v, d) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));
  const pValue = (v) => (v === null || v === undefined ? "—" : v < 0.0001 ? "< 0.0001" : Number(v).toFixed(4));
  async function getJSON(url) {
    const r = await fetchJSON(url);
    if (!r.ok) throw new Error(message(r.answer) || t.failed);
    return r.answer;
  }
  function yearBefore(iso) { // 29 February rolls on to 1 March
    const [y, m, d] = iso.split("-").map(Number);
    return new Date(Date.UTC(y - 1, m - 1, d)).toISOString().slice(0, 10);
  }

  // ------------------------------------------------------------ classes and colours
  // The server's PNG (webmap/services/hotspots.py, png) draws with the same colours.
  const COLOURS = {
    "hot-99": "#b2182b", "hot-95": "#ef8a62", "hot-90": "#fddbc7",
    "cold-99": "#2166ac", "cold-95": "#67a9cf", "cold-90": "#d1e5f0",
    hl: "#7b3294", lh: "#5aae61", none: "#e5e5e5",
  };
  const ORDER = ["none", "cold-90", "cold-95", "cold-99", "lh", "hl", "hot-90", "hot-95", "hot-99"]; // drawn last on top
  // Gi* cells come classed; local Moran's I cells are classed here, as in the PNG: HH → hot and
  // LL → cold at the permutation p's level, HL / LH outliers at p < 0.05 (not FDR-corrected).
  function classOf(p) {
    if (p.class) return p.class;
    if (!p.moran_q) return "none";
    const pv = p.moran_p ?? 1;
    if (p.moran_q === "HL" || p.moran_q === "LH") return pv < 0.05 ? p.moran_q.toLowerCase() : "none";
    const level = pv < 0.01 ? "99" : pv < 0.05 ? "95" : pv < 0.10 ? "90" : null;
    const prefix = { HH: "hot-", LL: "cold-" }[p.moran_q];
    return prefix && level ? prefix + level : "none";
  }
  for (const li of document.querySelectorAll("#a-legend li[data-class]")) {
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = COLOURS[li.dataset.class];
    li.prepend(swatch);
  }

  // ------------------------------------------------------------ map and layers
  const map = L.map("map", { zoomSnap: 0.5 }).setView(...Wangge.townView());
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  const baseLayers = {};
  const tileLayer = Wangge.baseLayer(map, config);
  if (tileLayer) baseLayers[t.layerTiles] = tileLayer;
  map.createPane("outlines").style.zIndex = 450; // over the cells; clicks pass through to them
  map.getPane("outlines").style.pointerEvents = "none";
  const grids = L.geoJSON(null, { pane: "outlines", interactive: false, style: { color: "#5b7fa3", weight: 1, fill: false } });
  const villages = L.geoJSON(null, { pane: "outlines", interactive: false, style: { color: "#1f4e79", weight: 2.5, fill: false } });
  const outlines = L.layerGroup([grids, villages]).addTo(map);
  const classes = new Map(); // h3 → class of the drawn answer
  const cellsByH3 = new Map();
  const cellLayer = L.geoJSON(null, {
    style: (f) => {
      const c = classes.get(f.properties.h3) || "none";
      const plain = c === "none";
      return { className: "cell " + c, color: plain ? "#a0a0a0" : "#ffffff", weight: plain ? 0.4 : 0.8,
               fillColor: COLOURS[c], fillOpacity: plain ? 0.35 : 0.85 };
    },
    onEachFeature: (f, layer) => {
      cellsByH3.set(f.properties.h3, layer);
      layer.bindPopup(() => cellPopup(f.properties));
    },
  }).addTo(map);
  const heatLayer = L.heatLayer([], { radius: 18, blur: 14, minOpacity: 0.25 });
  L.control.layers(baseLayers, { [t.layerCells]: cellLayer, [t.layerHeat]: heatLayer, [t.layerGrids]: outlines },
                   { collapsed: false }).addTo(map);

  function cellPopup(p) {
    const c = classes.get(p.h3) || "none";
    const rows = [[t.cell, p.h3], [t.count, num(p.count)]];
    if (p.moran_q !== undefined) {
      rows.push([t.moranI, fixed(p.moran_i, 3)], [t.moranP, pValue(p.moran_p)], [t.quadrant, t[p.moran_q] || p.moran_q]);
    } else {
      rows.push([t.z, fixed(p.gi_z, 2)], [t.pFdr, pValue(p.p_fdr)]);
    }
    rows.push([t.class, t[c]]);
    const dl = el("dl");
    for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = COLOURS[c];
    return el("div", { class: "popup a-popup" }, el("b", {}, swatch, t[c]), dl);
  }

  // ------------------------------------------------------------ the form
  function formQuery() {
    return {
      since: $("a-since").value, until: $("a-until").value,
      categories: [...$("a-categories").selectedOptions].map((o) => o.value),
      method: $("a-method").value, resolution: $("a-resolution").value,
    };
  }
  function queryParams(q) {
    const p = new URLSearchParams();
    if (q.since) p.set("since", q.since);
    if (q.until) p.set("until", q.until);
    if (q.categories.length) p.set("categories", q.categories.join(","));
    p.set("method", q.method);
    p.set("resolution", q.resolution);
    return p;
  }
  const categoryNames = new Map();
  function fillCategories(items) {
    const select = $("a-categories");
    const groups = new Map();
    for (const c of items) {
      categoryNames.set(c.code, c.name);
      if (!groups.has(c.class)) {
        groups.set(c.class, el("optgroup", { label: c.class }));
        select.append(groups.get(c.class));
      }
      groups.get(c.class).append(el("option", { value: c.code }, `${c.name} (${c.code})`));
    }
  }
  $("a-clear").addEventListener("click", () => { for (const o of $("a-categories").options) o.selected = false; });

  // ------------------------------------------------------------ the analysis
  let seq = 0;
  let current = null; // the query of the drawn answer
  let blobUrl = null;
  async function run() {
    const q = formQuery();
    const mine = ++seq;
    const params = queryParams(q);
    const topParams = new URLSearchParams(params);
    topParams.delete("method"); // the ranking is Gi*'s, whatever the map shows
    document.body.dataset.loading = "1";
    $("a-error").textContent = "";
    $("a-summary").textContent = t.running;
    $("a-detail").textContent = "";
    try {
      const [answer, top] = await Promise.all([getJSON(config.hotspotsUrl + "?" + params),
                                               getJSON(config.topUrl + "?" + topParams)]);
      if (mine !== seq) return; // a newer analysis is on its way
      current = q;
      drawCells(answer);
      drawTop(top.items);
      drawSummary(answer, q);
      setExports(answer, q, params);
      if (!document.body.dataset.runs && cellLayer.getBounds().isValid()) {
        map.fitBounds(cellLayer.getBounds(), { padding: [10, 10] }); // the reader's area (a village for its leader)
      }
      refreshHeat();
      document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
    } catch (err) {
      if (mine !== seq) return;
      $("a-summary").textContent = "";
      $("a-error").textContent = err.message || t.failed;
      console.error(err);
    } finally {
      if (mine === seq) delete document.body.dataset.loading;
    }
  }

  function drawCells(answer) {
    cellLayer.clearLayers();
    classes.clear();
    cellsByH3.clear();
    for (const f of answer.features) classes.set(f.properties.h3, classOf(f.properties));
    const rank = (f) => ORDER.indexOf(classes.get(f.properties.h3));
    cellLayer.addData([...answer.features].sort((a, b) => rank(a) - rank(b)));
    const moran = answer.method === "moran";
    for (const li of document.querySelectorAll("#a-legend .moran-only")) li.hidden = !moran;
    $("a-legend-note").textContent = moran ? t.noteMoran : t.noteGi;
  }

  function drawSummary(answer, q) {
    let hot = answer.hot;
    let cold = answer.cold;
    if (answer.method === "moran") {
      const all = [...classes.values()];
      hot = all.filter((c) => c.startsWith("hot")).length;
      cold = all.filter((c) => c.startsWith("cold")).length;
    }
    document.body.dataset.cases = String(answer.cases);
    document.body.dataset.hot = String(hot);
    $("a-summary").textContent = fmt(t.summary, { cases: num(answer.cases), hot: num(hot), cold: num(cold) });
    const kinds = !q.categories.length ? t.allCategories
      : q.categories.length <= 3 ? q.categories.map((c) => categoryNames.get(c) || c).join("、")
        : fmt(t.nCategories, { n: q.categories.length });
    $("a-detail").textContent = fmt(t.detail, {
      since: q.since, until: q.until, categories: kinds, method: t[answer.method] || answer.method,
      resolution: answer.resolution, cells: num(answer.features.filter((f) => f.properties.count > 0).length),
    });
  }

  function drawTop(items) {
    const body = $("a-top").tBodies[0];
    body.replaceChildren();
    if (!items.length) {
      body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, t.noHot)));
      return;
    }
    items.forEach((item, i) => {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = COLOURS[item.class] || COLOURS.none;
      const where = el("td", { class: "a-where" });
      for (const g of item.grids) where.append(el("div", {}, g.name, " ", el("small", { class: "muted" }, g.code)));
      const villageNames = [...new Set(item.grids.map((g) => g.village))];
      where.append(el("div", { class: "a-village" }, villageNames.length ? villageNames.join("、") : t.outside));
      const row = el("tr", { tabindex: "0", "data-h3": item.h3 },
        el("td", {}, String(i + 1)), el("td", {}, swatch, t[item.class] || item.class),
        el("td", { class: "num" }, num(item.count)), el("td", { class: "num" }, fixed(item.gi_z, 2)), where);
      row.addEventListener("click", () => focusCell(item, row));
      row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") focusCell(item, row); });
      body.append(row);
    });
  }

  function focusCell(item, row) {
    for (const r of $("a-top").tBodies[0].rows) r.classList.toggle("active", r === row);
    const layer = cellsByH3.get(item.h3);
    if (layer) {
      map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [60, 60] });
      layer.openPopup();
    } else {
      map.setView([item.centre.lat, item.centre.lng], 16);
    }
    document.body.dataset.focus = item.h3;
  }

  function setExports(answer, q, params) {
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(new Blob([JSON.stringify(answer)], { type: "application/geo+json" }));
    const stem = `hotspots_${q.since.replaceAll("-", "")}_${q.until.replaceAll("-", "")}`;
    const link = (id, href, name) => {
      const a = $(id);
      a.href = href;
      a.download = name;
      a.removeAttribute("aria-disabled");
    };
    link("a-geojson", blobUrl, stem + ".geojson");
    link("a-gpkg", config.hotspotsUrl + "?" + params + "&format=gpkg", stem + ".gpkg");
    link("a-png", config.pngUrl + "?" + params, stem + ".png");
  }

  // ------------------------------------------------------------ the heat map
  // The heat endpoint filters one category: up to HEAT_MAX_REQUESTS categories are fetched one by
  // one and summed (the bins of one view coincide); beyond, the analysed cells' counts are used.
  const HEAT_MAX_REQUESTS = 6;
  function cellCentres() {
    const points = [];
    cellLayer.eachLayer((layer) => {
      const n = layer.feature.properties.count;
      if (!n) return;
      const c = layer.getBounds().getCenter();
      points.push([c.lat, c.lng, n]);
    });
    return points;
  }
  let heatSeq = 0;
  async function refreshHeat() {
    if (!map.hasLayer(heatLayer) || !current) return; // fetched only while shown
    const mine = ++heatSeq;
    const q = current;
    try {
      let points;
      if (q.categories.length <= HEAT_MAX_REQUESTS) {
        const base = new URLSearchParams({ bbox: bboxParam(map), zoom: String(Math.round(map.getZoom())) });
        if (q.since) base.set("since", q.since);
        if (q.until) base.set("until", q.until);
        const answers = await Promise.all((q.categories.length ? q.categories : [null]).map((code) => {
          const p = new URLSearchParams(base);
          if (code) p.set("category", code);
          return getJSON(config.heatUrl + "?" + p);
        }));
        const sum = new Map();
        for (const a of answers) {
          for (const [lat, lng, w] of a.points) {
            const key = lat + "," + lng;
            if (sum.has(key)) sum.get(key)[2] += w;
            else sum.set(key, [lat, lng, w]);
          }
        }
        points = [...sum.values()];
      } else {
        points = cellCentres();
      }
      if (mine !== heatSeq || !map.hasLayer(heatLayer)) return;
      const scale = heatScale(map);
      heatLayer.setOptions({ max: points.reduce((m, p) => Math.max(m, p[2]), 1) });
      heatLayer.setLatLngs(points.map(([lat, lng, w]) => [lat, lng, w * scale]));
      document.body.dataset.heatPoints = String(points.length);
    } catch (err) {
      console.error(err);
    }
  }
  map.on("overlayadd", (ev) => { if (ev.layer === heatLayer) refreshHeat(); });
  map.on("overlayremove", (ev) => {
    if (ev.layer === heatLayer) { heatSeq++; delete document.body.dataset.heatPoints; }
  });
  map.on("moveend", () => {
    document.body.dataset.zoom = String(map.getZoom());
    refreshHeat();
  });

  // ------------------------------------------------------------ start
  $("a-until").value = today();
  $("a-since").value = yearBefore($("a-until").value);
  $("a-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run();
  });
  Promise.all([getJSON(config.villagesUrl), getJSON(config.gridsUrl), getJSON(config.categoriesUrl)])
    .then(([v, g, cats]) => {
      villages.addData(v);
      grids.addData(g);
      fillCategories(cats.items);
      const b = villages.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
      document.body.dataset.mapReady = "1";
      run();
    })
    .catch((err) => {
      $("a-error").textContent = t.failed;
      console.error(err);
    });
})();
