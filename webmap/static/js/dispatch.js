// The dispatcher console. The server sends bounded data for the viewport: per-grid or per-hex
// aggregates when zoomed out, single cases when zoomed in (GET /api/v1/map/cases); the list
// follows the viewport and the filters (GET /api/v1/map/list); a click opens the case panel
// with its timeline and exactly the actions this user may take (from the workflow API).
// All text reaches the page as text nodes.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("d-config").textContent);
  const t = JSON.parse(document.getElementById("d-i18n").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (_m, k) => (v[k] ?? ""));
  const timeFmt = new Intl.DateTimeFormat(document.documentElement.lang, {
    timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const when = (iso) => (iso ? timeFmt.format(new Date(iso)) : t.none);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(url + " → " + r.status);
    return r.json();
  }

  // ------------------------------------------------------------ map and base layers
  const map = L.map("map", { zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
  const grids = L.geoJSON(null, {
    style: { color: "#5b7fa3", weight: 1, fillColor: "#e8f1fa", fillOpacity: 0.35 },
    interactive: false,
  }).addTo(map);
  const villages = L.geoJSON(null, { style: { color: "#1f4e79", weight: 2.5, fill: false }, interactive: false })
    .addTo(map);
  const caseLayer = L.layerGroup().addTo(map);
  const STATUS_COLOR = { normal: "#2e86c1", yellow: "#f1c40f", red: "#c0392b", done: "#95a5a6" };

  // ------------------------------------------------------------ filters
  function filterParams() {
    const p = new URLSearchParams();
    const state = $("f-state").value;
    if (state === "open") p.set("state", "待受理,已立案,立案派遣,处理中,待核查,督办,挂账");
    else if (state) p.set("state", state);
    for (const [id, name] of [["f-village", "village"], ["f-category", "category"], ["f-source", "source"],
                              ["f-since", "since"], ["f-until", "until"]]) {
      if ($(id).value) p.set(name, $(id).value);
    }
    if ($("f-overdue").checked) p.set("overdue", "1");
    return p;
  }
  function viewParams() {
    const p = filterParams();
    const b = map.getBounds();
    p.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(","));
    p.set("zoom", String(Math.round(map.getZoom())));
    return p;
  }

  // ------------------------------------------------------------ cases on the map
  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    const params = viewParams();
    try {
      const [cases, list] = await Promise.all([
        getJSON(config.casesUrl + "?" + params), getJSON(config.listUrl + "?" + params + "&limit=50"),
      ]);
      if (mine !== seq) return; // a newer view is on its way
      drawCases(cases);
      drawList(list);
      document.body.dataset.mapReady = "1";
    } catch (err) {
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

  function drawList(list) {
    const ol = $("d-list");
    ol.replaceChildren();
    for (const c of list.items) {
      const status = ["结案", "作废"].includes(c.state) ? "done" : (c.status && c.status.code) || "normal";
      ol.append(el("li", { "data-id": c.id, onclick: () => openCase(c.id) },
        el("i", { class: "dot s-" + status }), c.case_no, " ", c.category.name,
        el("div", { class: "meta" }, c.state, " · ", c.grid ? c.grid.name : t.outside, " · ",
           t.deadline, " ", when(c.deadline), c.status ? " · " + c.status.zh : "")));
    }
  }

  // ------------------------------------------------------------ the case panel
  let current = null;
  async function openCase(id) {
    const panel = $("d-panel");
    if (panel.hidden) {
      panel.hidden = false;
      map.invalidateSize(); // the map just got narrower
    }
    for (const li of $("d-list").children) li.classList.toggle("active", li.dataset.id === String(id));
    try {
      current = await getJSON(config.incidentUrl + id);
    } catch (err) {
      $("d-case").replaceChildren(el("p", { class: "error" }, t.failed));
      return;
    }
    renderCase(current);
  }

  function person(p) {
    return p ? p.name + (p.phone ? " " + p.phone : "") : t.none;
  }

  function countdown(c) {
    if (!c.deadline || ["结案", "作废"].includes(c.state)) return when(c.deadline);
    const ms = new Date(c.deadline) - Date.now();
    const h = Math.abs(ms) / 3600000;
    const span = h >= 48 ? fmt(t.days_, { d: Math.round(h / 24) }) : fmt(t.hours, { h: h.toFixed(1) });
    return when(c.deadline) + " (" + fmt(ms >= 0 ? t.left : t.late, { t: span }) + ")";
  }

  function renderCase(c) {
    const rows = [
      [t.grid, c.grid ? `${c.grid.name} (${c.grid.code})` : t.outside],
      [t.worker, person(c.worker)], [t.leader, person(c.leader)],
      [t.department, c.department ? c.department.name : t.none],
      [t.deadline, countdown(c)],
      [t.reporter, c.reporter && c.reporter.name ? `${c.reporter.name} ${c.reporter.phone || ""}` : t.none],
    ];
    const dl = el("dl");
    for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
    const photos = el("div", { class: "photos" });
    for (const ph of c.photos || []) photos.append(el("img", { src: ph.url, alt: t.photos, loading: "lazy" }));
    const timeline = el("ol", { class: "d-timeline" });
    for (const e of c.timeline || []) {
      timeline.append(el("li", {}, when(e.at), " ", e.label_zh, " ", e.actor || e.role || "",
                         e.note ? " — " + e.note : ""));
    }
    const actions = el("div", { class: "d-actions" });
    if (!c.actions.length) actions.append(el("p", { class: "muted" }, t.noActions));
    for (const a of c.actions) {
      actions.append(el("button", { type: "button", "data-action": a.name, onclick: () => actionForm(c, a, actions) },
                        document.documentElement.lang === "en" ? a.label_en : a.label_zh));
    }
    $("d-case").replaceChildren(
      el("h2", {}, `${c.category.class} · ${c.category.name}`),
      el("p", { class: "muted" }, `${c.case_no} · ${c.state} · ${c.source_label || c.source}`),
      el("p", {}, c.description || ""), el("p", { class: "muted" }, c.address || ""),
      photos, dl, actions, el("h3", {}, t.timeline), timeline,
    );
  }

  let departments = null;
  async function actionForm(c, a, box) {
    box.querySelectorAll("form").forEach((f) => f.remove());
    const form = el("form", {});
    const needs = new Set(a.needs);
    if (needs.has("department")) {
      departments = departments || (await getJSON(config.departmentsUrl)).items;
      const sel = el("select", { name: "department", "aria-label": t.pickDept }, el("option", { value: "" }, t.pickDept));
      for (const d of departments) if (d.code !== "zongzhi") sel.append(el("option", { value: d.code }, d.name));
      form.append(sel);
    }
    if (needs.has("satisfaction")) form.append(el("input", { name: "satisfaction", type: "number", min: 1, max: 5,
                                                             placeholder: t.satisfaction }));
    if (a.name === "request_extension") form.append(el("input", { name: "days", type: "number", min: 1, max: 30,
                                                                  placeholder: t.days }));
    form.append(el("textarea", { name: "note", rows: 2, maxlength: 2000, placeholder: t.note }));
    const error = el("p", { class: "error", role: "alert" });
    form.append(error, el("button", { type: "submit" }, t.send),
                el("button", { type: "button", onclick: () => form.remove() }, t.cancel));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { action: a.name, version: c.version, note: form.note.value };
      if (form.department) body.department = form.department.value;
      if (form.satisfaction) body.satisfaction = parseInt(form.satisfaction.value, 10);
      if (form.days) body.days = parseInt(form.days.value, 10);
      const r = await fetch(config.incidentUrl + c.id + "/actions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
      });
      const answer = await r.json().catch(() => ({}));
      if (r.ok) {
        if (answer.case_no) { current = answer; renderCase(answer); } else $("d-panel").hidden = true;
        refresh();
      } else if (r.status === 409) {
        error.textContent = t.stale;
        current = answer.current;
        renderCase(current);
      } else {
        error.textContent = (answer.errors || []).map((e) => e.zh).join("; ") || answer.message_zh || r.status;
      }
    });
    box.append(form);
  }
  $("d-close").addEventListener("click", () => { $("d-panel").hidden = true; map.invalidateSize(); });

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

  // ------------------------------------------------------------ live
  let fresh = 0;
  let pending = null;
  function listen() {
    if (!window.EventSource) return;
    const source = new EventSource(config.streamUrl);
    const badge = $("live");
    source.addEventListener("open", () => { badge.dataset.state = "on"; });
    source.addEventListener("error", () => { badge.dataset.state = "off"; });
    source.addEventListener("incident", (ev) => {
      const m = JSON.parse(ev.data);
      fresh += 1;
      badge.dataset.count = String(fresh);
      badge.textContent = fmt(t.fresh, { n: fresh });
      clearTimeout(pending);
      pending = setTimeout(refresh, 300); // many changes at once: one refresh
      if (current && current.id === m.id) openCase(m.id);
    });
  }

  // ------------------------------------------------------------ start
  for (const id of ["f-village", "f-category", "f-state", "f-source", "f-since", "f-until", "f-overdue"]) {
    $(id).addEventListener("change", refresh);
  }
  map.on("moveend", refresh);
  Promise.all([getJSON(config.villagesUrl), getJSON(config.gridsUrl), getJSON(config.categoriesUrl)])
    .then(([v, g, cats]) => {
      villages.addData(v);
      grids.addData(g);
      for (const f of v.features) $("f-village").append(el("option", { value: f.properties.code }, f.properties.name));
      for (const c of cats.items) $("f-category").append(el("option", { value: c.code }, `${c.class} · ${c.name}`));
      const b = grids.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
      else map.setView([39.318, 117.745], 12);
      listen();
    });
})();
