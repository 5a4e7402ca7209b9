// The dispatcher console. The server sends bounded data for the viewport: per-grid or per-hex
// aggregates when zoomed out, single cases when zoomed in (GET /api/v1/map/cases); the list
// follows the viewport and the filters (GET /api/v1/map/list), a page at a time, most urgent or
// newest first, cases of the last 24 hours marked 新; a click opens the case panel (case_panel.js)
// with its timeline and exactly the actions this user may take (from the workflow API).
// Layers (a control, Chinese names): the cases, a heat map (GET /api/v1/map/heat, fetched only
// while it is on), today's patrol tracks (GET /api/v1/map/patrols, offered only to the roles that
// may see them), grid labels at zoom ≥ 14. New cases in the user's scope arrive over SSE and raise
// a badge, the tab title and a short chime (WebAudio; muted state kept in localStorage).
// All text reaches the page as text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, el, stamp, clock, english, getJSON, listen: liveFeed, bboxParam, heatScale,
          centre, categoryLabel } = Wangge;
  const config = readJSON("d-config");
  const t = readJSON("d-i18n");
  const when = (iso) => (iso ? stamp(iso) : t.none);
  const PAGE = 50;
  const NEW_MS = 24 * 3600 * 1000; // reported in the last 24 hours: 新

  // ------------------------------------------------------------ map and base layers
  const map = L.map("map", { zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  const baseLayers = {};
  const tileLayer = Wangge.baseLayer(map, config);
  if (tileLayer) baseLayers[t.layerTiles] = tileLayer;
  const grids = L.geoJSON(null, {
    style: { color: "#5b7fa3", weight: 1, fillColor: "#e8f1fa", fillOpacity: 0.35 },
    interactive: false,
  }).addTo(map);
  const villages = L.geoJSON(null, { style: { color: "#1f4e79", weight: 2.5, fill: false }, interactive: false })
    .addTo(map);
  const caseLayer = L.layerGroup().addTo(map);
  const STATUS_COLOR = { normal: "#2e86c1", yellow: "#f1c40f", red: "#c0392b", done: "#95a5a6" };
  const heatLayer = L.heatLayer([], { radius: 18, blur: 14, minOpacity: 0.25 });
  const patrolLayer = L.layerGroup();
  map.createPane("labels").style.zIndex = 450; // over the grids and cases, under the markers
  const labelLayer = L.layerGroup().addTo(map);
  const LABEL_MIN_ZOOM = 14; // below, the labels of a whole town would cover the map
  const overlays = { [t.layerCases]: caseLayer, [t.layerHeat]: heatLayer };
  if (config.patrolsUrl) overlays[t.layerPatrols] = patrolLayer;
  overlays[t.layerLabels] = labelLayer;
  L.control.layers(baseLayers, overlays, { collapsed: false }).addTo(map);

  // ------------------------------------------------------------ filters
  function filterParams() {
    const p = new URLSearchParams();
    const state = $("f-state").value;
    if (state === "open") p.set("state", "待受理,已立案,立案派遣,处理中,待核查,督办,挂账");
    else if (state) p.set("state", state);
    for (const [id, name] of [["f-village", "village"], ["f-grid", "grid"], ["f-category", "category"], ["f-source", "source"],
                              ["f-since", "since"], ["f-until", "until"]]) {
      if ($(id).value) p.set(name, $(id).value);
    }
    if ($("f-overdue").checked) p.set("overdue", "1");
    return p;
  }
  function viewParams() {
    const p = filterParams();
    p.set("bbox", bboxParam(map));
    p.set("zoom", String(Math.round(map.getZoom())));
    return p;
  }

  // ------------------------------------------------------------ cases on the map
  let seq = 0;
  let offset = 0; // the list's page
  function listParams(params) {
    const p = new URLSearchParams(params);
    p.set("limit", String(PAGE));
    p.set("offset", String(offset));
    p.set("sort", $("f-sort").value);
    return p;
  }
  async function refresh(keepPage) {
    if (keepPage !== true) offset = 0;
    const mine = ++seq;
    const params = viewParams();
    document.body.dataset.loading = "1"; // until the latest view is drawn
    refreshHeat(params);
    try {
      const [cases, list] = await Promise.all([
        getJSON(config.casesUrl + "?" + params), getJSON(config.listUrl + "?" + listParams(params)),
      ]);
      if (mine !== seq) return; // a newer view is on its way
      drawCases(cases);
      drawList(list);
      document.body.dataset.mapReady = "1";
      delete document.body.dataset.loading;
    } catch (err) {
      if (mine === seq) delete document.body.dataset.loading;
      $("d-count").textContent = t.failed;
      console.error(err);
    }
  }

  function drawCases(data) {
    caseLayer.clearLayers();
    $("d-count").textContent = fmt(t[data.mode] || t.cases, { n: data.total });
    for (const f of data.features.features) {
      const [lng, lat] = f.geometry.coordinates;
      const p = f.properties;
      if (data.mode === "cases") {
        const status = ["结案", "作废"].includes(p.state) ? "done" : p.status || "normal";
        L.circleMarker([lat, lng], {
          radius: 6, weight: 1, color: "#fff", fillOpacity: 0.95, fillColor: STATUS_COLOR[status],
          className: "case s-" + status,
        }).on("click", () => openCase(p.id)).bindTooltip(p.case_no + " " + (p.category || "")).addTo(caseLayer);
      } else {
        const n = p.total ?? p.count ?? 0;
        const size = 22 + Math.min(26, Math.sqrt(n) * 1.5);
        L.marker([lat, lng], {
          icon: L.divIcon({ className: "", html: "", iconSize: [size, size] }),
          keyboard: false,
        }).on("add", function () {
          const box = this.getElement();
          box.className = "agg" + (p.overdue ? " hot" : "") + " leaflet-marker-icon leaflet-interactive";
          box.textContent = String(n);
          box.title = `${t.open} ${p.open ?? "-"} · ${t.overdue} ${p.overdue ?? "-"}`;
        }).on("click", () => map.setView([lat, lng], Math.min(map.getZoom() + 2, 18))).addTo(caseLayer);
      }
    }
  }

  // ------------------------------------------------------------ heat map, patrol tracks, grid labels
  let heatSeq = 0;
  async function refreshHeat(params) {
    if (!map.hasLayer(heatLayer)) return; // fetched only while shown
    const mine = ++heatSeq;
    try {
      const heat = await getJSON(config.heatUrl + "?" + (params || viewParams()));
      if (mine !== heatSeq || !map.hasLayer(heatLayer)) return;
      const scale = heatScale(map);
      heatLayer.setOptions({ max: heat.max || 1 });
      heatLayer.setLatLngs(heat.points.map(([lat, lng, w]) => [lat, lng, w * scale]));
      document.body.dataset.heatPoints = String(heat.points.length);
    } catch (err) {
      console.error(err);
    }
  }

  let patrolSeq = 0;
  async function refreshPatrols() {
    if (!config.patrolsUrl || !map.hasLayer(patrolLayer)) return;
    const mine = ++patrolSeq;
    try {
      const data = await getJSON(config.patrolsUrl + "?bbox=" + bboxParam(map));
      if (mine !== patrolSeq) return;
      patrolLayer.clearLayers();
      for (const f of data.features) {
        const p = f.properties;
        const tip = el("div", { class: "patrol-tip" }, el("b", {}, p.worker),
          el("div", {}, clock(p.started_at), "–", p.ended_at ? clock(p.ended_at) : t.walking),
          el("div", {}, fmt(t.km, { km: ((p.distance_m || 0) / 1000).toFixed(2) })));
        const line = L.polyline(f.geometry.coordinates.map(([lng, lat]) => [lat, lng]), {
          color: "#8e44ad", weight: 3, opacity: 0.85, className: "patrol",
        }).bindTooltip(tip, { sticky: true }).addTo(patrolLayer);
        if (line.getElement()) line.getElement().dataset.id = String(f.id);
      }
      document.body.dataset.patrols = String(data.features.length);
    } catch (err) {
      console.error(err);
    }
  }

  const labels = []; // one marker per grid, made once; on the map only at zoom ≥ LABEL_MIN_ZOOM
  function makeLabels(collection) {
    for (const f of collection.features) {
      const at = f.geometry && centre(f.geometry);
      if (!at) continue;
      const text = el("div", { class: "grid-label-text" }, el("b", {}, f.properties.name), el("br"), f.properties.code);
      labels.push(L.marker(at, {
        icon: L.divIcon({ className: "grid-label", html: text, iconSize: [0, 0] }),
        interactive: false, keyboard: false, pane: "labels",
      }));
    }
    syncLabels();
  }
  function syncLabels() {
    const show = map.getZoom() >= LABEL_MIN_ZOOM;
    if (show && !labelLayer.getLayers().length) for (const m of labels) labelLayer.addLayer(m);
    else if (!show && labelLayer.getLayers().length) labelLayer.clearLayers();
  }

  map.on("overlayadd", (ev) => {
    if (ev.layer === heatLayer) refreshHeat();
    else if (ev.layer === patrolLayer) refreshPatrols();
  });
  map.on("overlayremove", (ev) => {
    if (ev.layer === heatLayer) { heatSeq++; delete document.body.dataset.heatPoints; }
    else if (ev.layer === patrolLayer) { patrolSeq++; patrolLayer.clearLayers(); delete document.body.dataset.patrols; }
  });

  function drawList(list) {
    const ol = $("d-list");
    ol.replaceChildren();
    for (const c of list.items) {
      let status = ["结案", "作废"].includes(c.state) ? "done" : (c.status && c.status.code) || "normal";
      let deadline = when(c.deadline) + (c.status ? " · " + (english ? c.status.en : c.status.zh) : "");
      if (c.state === "待核查" && c.deadline) { // off the clock: its deadline as the panel shows it
        const [text, late] = CasePanel.countdown(c);
        deadline = text;
        status = late ? "red" : "normal";
      }
      const fresh = c.reported_at && Date.now() - new Date(c.reported_at) < NEW_MS;
      ol.append(el("li", { "data-id": c.id, class: panel.currentId() === c.id ? "active" : "", onclick: () => openCase(c.id) },
        el("i", { class: "dot s-" + status }), c.case_no, " ", categoryLabel(c.category),
        fresh ? el("span", { class: "fresh", title: t.freshTip }, t.fresh_) : null,
        el("div", { class: "meta" }, (english && c.state_en) || c.state, " · ", c.grid ? c.grid.name : t.outside, " · ",
           t.deadline, " ", deadline)));
    }
    const shown = list.items.length;
    const total = list.total;
    $("d-page").hidden = !(list.offset > 0 || list.offset + shown < total);
    $("d-page-info").textContent = shown
      ? fmt(t.pageInfo, { a: list.offset + 1, b: list.offset + shown, n: total + (list.total_capped ? "+" : "") }) : "";
    $("d-prev").disabled = list.offset <= 0;
    $("d-next").disabled = list.offset + shown >= total;
  }
  $("d-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); refresh(true); });
  $("d-next").addEventListener("click", () => { offset += PAGE; refresh(true); });
  $("f-sort").addEventListener("change", () => refresh());

  // ------------------------------------------------------------ the case panel (case_panel.js)
  const panel = CasePanel({
    config,
    onShow: () => map.invalidateSize(), // the map just got narrower
    onClose: () => map.invalidateSize(),
    onChange: () => refresh(true),
  });
  function openCase(id) {
    for (const li of $("d-list").children) li.classList.toggle("active", li.dataset.id === String(id));
    panel.open(id);
  }

  // ------------------------------------------------------------ search
  $("q").addEventListener("keydown", async (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    const q = $("q").value.trim();
    if (!q) return;
    const found = await getJSON(config.searchUrl + "?q=" + encodeURIComponent(q)).catch(() => ({ items: [] }));
    if (!found.items.length) { $("d-count").textContent = t.searchNone; return; }
    const first = found.items[0];
    if (first.location) map.setView([first.location.lat, first.location.lng], 17);
    openCase(first.id);
  });

  // ------------------------------------------------------------ new-case cue: badge, title, chime
  const MUTE_KEY = "wangge.dispatch.muted";
  const baseTitle = document.title;
  let newCases = 0;
  let muted = false;
  try { muted = localStorage.getItem(MUTE_KEY) === "1"; } catch (_e) { /* storage disabled */ }
  function showNewCases() {
    const badge = $("d-new");
    badge.hidden = newCases === 0;
    badge.dataset.count = String(newCases);
    badge.textContent = fmt(t.newCases, { n: newCases });
    document.title = newCases ? `(${newCases}) ${baseTitle}` : baseTitle;
  }
  // the badge lists the new cases: newest first, from the first page
  $("d-new").addEventListener("click", () => {
    newCases = 0;
    showNewCases();
    $("f-sort").value = "newest";
    refresh();
  });
  function showMute() {
    const b = $("d-mute");
    b.textContent = muted ? "🔕" : "🔔";
    b.setAttribute("aria-pressed", String(!muted)); // pressed: the chime is on
    b.title = muted ? t.chimeOff : t.chimeOn;
  }
  $("d-mute").addEventListener("click", () => {
    muted = !muted;
    try { localStorage.setItem(MUTE_KEY, muted ? "1" : "0"); } catch (_e) { /* kept for this page only */ }
    showMute();
  });
  showMute();

  // Browsers let audio start only after a gesture on the page: the context is made on the first.
  let audio = null;
  function startAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  }
  document.addEventListener("pointerdown", startAudio, { capture: true });
  document.addEventListener("keydown", startAudio, { capture: true });
  let lastChime = 0;
  function chime() {
    if (muted || !audio || audio.state !== "running") return;
    if (Date.now() - lastChime < 1500) return; // a burst of cases: one chime
    lastChime = Date.now();
    const at = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, at);
    osc.frequency.setValueAtTime(1320, at + 0.12);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.4);
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  }
  function newCase() {
    newCases += 1;
    showNewCases();
    chime();
  }

  // ------------------------------------------------------------ live
  let pending = null;
  function listen() {
    liveFeed(config.streamUrl, $("live"), t.fresh, (m) => {
      clearTimeout(pending);
      pending = setTimeout(() => refresh(true), 300); // many changes at once: one refresh, on the same page
      panel.update(m);
      if (m.event === undefined || m.event === "reported") newCase(); // a new case, not a change
    });
  }

  // ------------------------------------------------------------ start
  // ------------------------------------------------------------ 导出: the filters' cases as .xlsx
  // Every case the filters select (not only the viewport). A small export is ready at once (201);
  // a large one (202) is written in the background: the bar shows its progress until the link.
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function showExport(answer) {
    const bar = $("d-export-bar");
    bar.hidden = false;
    bar.max = Math.max(answer.total || 0, 1);
    bar.value = answer.state === "完成" ? bar.max : answer.done || 0;
    const key = { "排队": "exportQueued", "进行中": "exportRunning", "完成": "exportDone", "失败": "exportFailed" }[answer.state];
    $("d-export-state").textContent = fmt(t[key] || "", { done: answer.done, total: answer.total });
    document.body.dataset.exportState = answer.state;
  }
  async function exportCases() {
    const button = $("d-export");
    const link = $("d-export-link");
    button.disabled = true;
    link.hidden = true;
    try {
      let { ok, answer } = await Wangge.fetchJSON(config.exportUrl, { method: "POST", body: Object.fromEntries(filterParams()) });
      while (ok && answer.state !== "完成" && answer.state !== "失败") {
        showExport(answer);
        await sleep(600);
        ({ ok, answer } = await Wangge.fetchJSON(answer.status_url));
      }
      if (!ok) {
        $("d-export-bar").hidden = true;
        $("d-export-state").textContent = Wangge.reasons(answer) || t.exportFailed;
        return;
      }
      showExport(answer);
      if (answer.state === "完成") {
        link.href = answer.url;
        link.hidden = false;
      }
    } catch (err) {
      $("d-export-state").textContent = t.exportFailed;
      console.error(err);
    } finally {
      button.disabled = false;
    }
  }
  $("d-export").addEventListener("click", exportCases);

  // the grid filter offers the grids of the chosen village (all grids when none is chosen)
  let gridFeatures = [];
  function fillGrids() {
    const village = $("f-village").value;
    const select = $("f-grid");
    select.replaceChildren(select.options[0]);
    select.value = "";
    for (const f of gridFeatures) {
      if (!village || f.properties.village_code === village) {
        select.append(el("option", { value: f.properties.code }, `${f.properties.name} (${f.properties.code.slice(-3)})`));
      }
    }
  }
  // a link's filters (from /stats: ?state&since&until&grid&village&category&source&overdue), applied
  // once the choices are filled; a value the select does not offer (a list of states) is added to it
  const OPEN_STATES = "待受理,已立案,立案派遣,处理中,待核查,督办,挂账";
  function filtersFromURL() {
    const q = new URLSearchParams(location.search);
    if (!["state", "since", "until", "grid", "village", "category", "source", "overdue"].some((k) => q.has(k))) return;
    const choose = (id, value) => {
      const select = $(id);
      if (value && select.tagName === "SELECT" && !Array.from(select.options).some((o) => o.value === value)) {
        select.append(el("option", { value }, value));
      }
      select.value = value;
    };
    choose("f-village", q.get("village") || "");
    fillGrids();
    const state = q.get("state") || "";
    choose("f-state", state === OPEN_STATES ? "open" : state);
    for (const [id, name] of [["f-grid", "grid"], ["f-category", "category"], ["f-source", "source"],
                              ["f-since", "since"], ["f-until", "until"]]) choose(id, q.get(name) || "");
    $("f-overdue").checked = q.get("overdue") === "1";
  }
  $("f-village").addEventListener("change", fillGrids);
  for (const id of ["f-village", "f-grid", "f-category", "f-state", "f-source", "f-since", "f-until", "f-overdue"]) {
    $(id).addEventListener("change", refresh);
  }
  map.on("moveend", refresh);
  map.on("moveend", refreshPatrols);
  map.on("zoomend", syncLabels);
  Promise.all([getJSON(config.villagesUrl), getJSON(config.gridsUrl), getJSON(config.categoriesUrl)])
    .then(([v, g, cats]) => {
      villages.addData(v);
      grids.addData(g);
      makeLabels(g);
      gridFeatures = g.features;
      fillGrids();
      for (const f of v.features) $("f-village").append(el("option", { value: f.properties.code }, f.properties.name));
      for (const c of cats.items) $("f-category").append(el("option", { value: c.code }, categoryLabel(c, true)));
      filtersFromURL();
      const b = grids.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
      else map.setView(...Wangge.townView());
      listen();
    });
})();
