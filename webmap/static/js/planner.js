// The grid planner (网格规划). A planner opens or starts a draft plan (/api/v1/plans), redraws the
// grids of a village with Leaflet-Geoman (reshape, split by a line, merge, create, transfer a part,
// rename, undo), and every edit goes to the server, which does the geometry, keeps the village
// tiled and answers the whole plan again: the page only draws what it is given. The right panel
// shows the server's check (errors and warnings, each with a place), the impact preview and the
// publish / inverse actions; the left panel the plans, the village picker and the workload of its
// grids against the norms. Geometry is GeoJSON in WGS84. All text reaches the page as text nodes.
(function () {
  "use strict";
  const { english, byId: $, readJSON, fmt, num, el, message: reason, fetchJSON, today, polygonsOf, contains, largestRing,
          centre: centroid } = Wangge;
  const config = readJSON("p-config");
  const t = readJSON("p-i18n");
  let inFlight = 0; // body[data-busy] while any request is out: the tests wait on it
  async function call(method, url, body) {
    inFlight += 1;
    document.body.dataset.busy = "1";
    try {
      return await fetchJSON(url, { method, body });
    } catch (err) {
      console.error(err);
      return { ok: false, status: 0, answer: { message_zh: t.failed, message_en: t.failed } };
    } finally {
      inFlight -= 1;
      if (!inFlight) delete document.body.dataset.busy;
    }
  }
  const planUrl = (id, rest) => `${config.plansUrl}/${id}${rest || ""}`;

  // ------------------------------------------------------------ geometry helpers (lon/lat, planar)
  function segmentsCross(a, b, c, d) {
    const side = (p, q, r) => (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
    return (side(c, d, a) > 0) !== (side(c, d, b) > 0) && (side(a, b, c) > 0) !== (side(a, b, d) > 0);
  }
  function crossings(coords, geometry) { // how often a line crosses a grid's boundary
    let n = 0;
    for (const poly of polygonsOf(geometry)) {
      for (const ring of poly) {
        for (let i = 1; i < ring.length; i++) {
          for (let k = 1; k < coords.length; k++) if (segmentsCross(coords[k - 1], coords[k], ring[i - 1], ring[i])) n++;
        }
      }
    }
    return n;
  }
  function centre(geometry) { // the centroid of the largest outer ring, as [lat, lng]
    const at = centroid(geometry);
    if (!at || contains(geometry, at[1], at[0])) return at;
    const best = largestRing(geometry);
    return [best[0][1], best[0][0]]; // a bent grid: somewhere on it rather than outside
  }
  const toLatLngs = (g) => L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === "Polygon" ? 1 : 2);

  // ------------------------------------------------------------ the map
  const map = L.map("map", { zoomSnap: 0.5 });
  window.plannerMap = map; // a handle for the browser tests, which draw on the map at computed points
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  Wangge.baseLayer(map, config);
  map.pm.setLang(english ? "en" : "zh");
  map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });
  map.createPane("labels").style.zIndex = 450;
  const villageLayer = L.geoJSON(null, {
    style: { color: "#1f4e79", weight: 2.5, fill: false }, interactive: false, pmIgnore: true,
  }).addTo(map);
  // The current grids, faint; Geoman snaps to their edges while a boundary is edited.
  const currentLayer = L.geoJSON(null, {
    style: { color: "#8aa4bf", weight: 1, fillColor: "#e8f1fa", fillOpacity: 0.2 }, interactive: false,
  }).addTo(map);
  const STYLE = {
    unchanged: { color: "#5b7fa3", weight: 1.2, fillColor: "#dbe8f5", fillOpacity: 0.3, dashArray: null },
    changed: { color: "#d35400", weight: 2.5, fillColor: "#f5b041", fillOpacity: 0.35, dashArray: null },
    new: { color: "#1e8449", weight: 2.5, fillColor: "#58d68d", fillOpacity: 0.35, dashArray: null },
    retired: { color: "#7f8c8d", weight: 2, fillColor: "#bdc3c7", fillOpacity: 0.15, dashArray: "6 5" },
  };
  const planLayer = L.geoJSON(null, {
    style: (f) => ({ ...STYLE[f.properties.change] || STYLE.unchanged, className: "pg c-" + f.properties.change }),
    interactive: false,
  }).addTo(map);
  const labelLayer = L.layerGroup().addTo(map);
  const problemLayer = L.layerGroup().addTo(map);
  const impactLayer = L.layerGroup().addTo(map);
  const pickLayer = L.layerGroup().addTo(map);
  const editLayer = L.featureGroup().addTo(map);

  let villages = []; // features of the village outlines
  let currentGrids = []; // features of the current grids (properties.village_code)
  let plan = null; // the open plan, as the server last answered it

  // The grids a tool works on: the plan's proposed grids in the villages it touches, the current
  // grids elsewhere (a fresh plan touches no village yet).
  function workingGrids() {
    const out = [];
    const touched = new Set();
    for (const f of (plan ? plan.grids.features : [])) {
      touched.add(f.properties.village);
      if (f.geometry && f.properties.change !== "retired") out.push({ ...f.properties, geometry: f.geometry });
    }
    for (const f of currentGrids) {
      const p = f.properties;
      if (!touched.has(p.village_code) && f.geometry) {
        out.push({ code: p.code, name: p.name, village: p.village_code, change: "unchanged", geometry: f.geometry });
      }
    }
    return out;
  }
  const gridAt = (ll) => workingGrids().find((g) => contains(g.geometry, ll.lng, ll.lat)) || null;
  const gridLabel = (g) => `${g.name} (${g.code.slice(-3)})`;
  function highlight(geometry, style) {
    L.geoJSON(geometry, {
      style: { color: "#1565c0", weight: 3, fillColor: "#64b5f6", fillOpacity: 0.3, ...style },
      interactive: false, pmIgnore: true,
    }).addTo(pickLayer);
  }

  // ------------------------------------------------------------ messages
  function say(text, kind, extra) {
    const box = $("p-message");
    box.className = "p-message " + (kind || "info");
    box.replaceChildren(el("p", {}, text));
    if (extra && extra.length) box.append(el("ul", {}, ...extra.map((s) => el("li", {}, s))));
  }
  const clearMessage = () => { $("p-message").replaceChildren(); $("p-message").className = "p-message"; };
  function describeChanges(changes) {
    return (changes || []).map((c) => fmt(t.change_, {
      version: c.version, by: c.by || "", op: t.ops[c.op] || c.op, codes: (c.codes || []).map((x) => x.slice(-3)).join("、"),
    }));
  }
  // A refusal: 409 (stale version, or grids changed under the plan) reloads the plan and says what
  // changed; 400/422 give the server's reason and, for a publication, the problems it found.
  async function refused(res) {
    const a = res.answer || {};
    if (res.status === 409) {
      const changes = describeChanges(a.changes);
      if (a.current) render(a.current);
      else if (plan) await openPlan(plan.id, { keepMessage: true });
      const lines = changes.length ? changes : (a.problems || []).map((p) => (english ? p.en : p.zh));
      say(a.changes ? fmt(t.stale, { changes: changes.join("; ") || "—" }) : reason(a), "error",
          a.changes ? [] : lines);
      loadPlans();
      return;
    }
    const problems = (a.problems || []).map((p) => (english ? p.en : p.zh));
    say(reason(a) || String(res.status), "error", problems);
    for (const code of a.codes || []) {
      const g = workingGrids().find((x) => x.code === code);
      if (g) highlight(g.geometry, { color: "#c0392b", fillColor: "#e74c3c" });
    }
  }

  // ------------------------------------------------------------ plans
  async function loadPlans() {
    const res = await call("GET", config.plansUrl);
    const list = $("p-list");
    if (!res.ok) {
      $("p-list-msg").textContent = reason(res.answer) || t.failed;
      list.replaceChildren();
      return;
    }
    $("p-list-msg").textContent = res.answer.items.length ? "" : t.noPlans;
    list.replaceChildren(...res.answer.items.map((p) => el("li", {
      "data-id": p.id, "data-status": p.status, class: plan && plan.id === p.id ? "active" : "",
      onclick: () => openPlan(p.id),
    }, el("span", { class: "p-status s-" + p.status }, t.status[p.status] || p.status), " ", el("b", {}, p.title),
    el("div", { class: "meta" }, `#${p.id} · ${p.created_by || ""} · ${fmt(t.planCodes, { n: p.codes.length })}`))));
  }

  async function openPlan(id, opts) {
    const res = await call("GET", planUrl(id));
    if (!res.ok) { say(reason(res.answer) || t.failed, "error"); return; }
    if (!(opts && opts.keepMessage)) clearMessage();
    endTool();
    const first = !plan || plan.id !== res.answer.id;
    render(res.answer);
    if (first) {
      const b = planLayer.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [30, 30], maxZoom: 16 });
      const village = res.answer.grids.features.length ? res.answer.grids.features[0].properties.village : null;
      if (village && $("p-village").value !== village) { $("p-village").value = village; loadWorkload(village); }
    }
    history.replaceState(null, "", "?plan=" + id);
  }

  function render(p) {
    const fresh = !plan || plan.id !== p.id || plan.version !== p.version;
    plan = p;
    document.body.dataset.plan = String(p.id);
    document.body.dataset.version = String(p.version);
    document.body.dataset.status = p.status;
    document.body.dataset.errors = String(p.errors);
    planLayer.clearLayers();
    planLayer.addData(p.grids);
    pickLayer.clearLayers();
    if (fresh) { impactLayer.clearLayers(); $("p-impact-box").replaceChildren(); }
    drawLabels(p.grids.features);
    drawProblems(p.problems);
    $("p-title").textContent = p.title;
    $("p-meta").textContent = fmt(t.planMeta, { id: p.id, status: t.status[p.status] || p.status, version: p.version,
                                                by: p.created_by || "" });
    $("p-check").hidden = false;
    const draft = p.status === "draft";
    if (config.canEdit) {
      $("p-tools").hidden = !draft;
      $("p-publish").hidden = !draft;
      $("p-inverse").hidden = p.status !== "published";
      if (draft && !$("p-date").value) $("p-date").value = today();
      $("p-undo").disabled = !p.edits.some((e) => !e.undone && e.op !== "undo");
    }
    drawChecks(p);
    drawEdits(p.edits);
    for (const li of $("p-list").children) li.classList.toggle("active", li.dataset.id === String(p.id));
  }

  function drawLabels(features) {
    labelLayer.clearLayers();
    for (const f of features) {
      const at = f.geometry && centre(f.geometry);
      if (!at) continue;
      const p = f.properties;
      const text = el("div", { class: "p-label-text c-" + p.change, "data-code": p.code },
        el("b", {}, p.name), " ", p.code.slice(-3),
        p.change !== "unchanged" ? el("span", { class: "badge" }, t.change[p.change]) : null);
      L.marker(at, {
        icon: L.divIcon({ className: "p-label", html: text, iconSize: [0, 0] }),
        interactive: false, keyboard: false, pane: "labels", pmIgnore: true,
      }).addTo(labelLayer);
    }
  }

  function drawProblems(problems) {
    problemLayer.clearLayers();
    for (const pr of problems || []) {
      if (!pr.location) continue;
      L.circleMarker([pr.location.lat, pr.location.lng], {
        radius: pr.severity === "error" ? 8 : 6, color: "#fff", weight: 2, fillColor: "#c0392b",
        fillOpacity: pr.severity === "error" ? 0.95 : 0.55, className: "problem " + pr.severity, pmIgnore: true,
      }).bindTooltip(el("div", {}, english ? pr.en : pr.zh), { direction: "top", className: "p-problem-tip" })
        .addTo(problemLayer);
    }
  }

  function drawChecks(p) {
    const draft = ["draft", "scheduled"].includes(p.status);
    $("p-summary").textContent = !draft ? t.notChecked
      : p.problems.length ? fmt(t.summary, { e: p.errors, w: p.warnings }) : t.noProblems;
    $("p-summary").className = p.errors ? "error" : "";
    $("p-problems").replaceChildren(...p.problems.map((pr) => el("li", {
      class: "sev-" + pr.severity, "data-kind": pr.kind, "data-codes": pr.codes.join(" "), tabindex: "0",
      onclick: () => zoomTo(pr),
      onkeydown: (ev) => { if (ev.key === "Enter") zoomTo(pr); },
    }, el("span", { class: "sev" }, pr.severity === "error" ? t.error : t.warning), " ", english ? pr.en : pr.zh)));
    const others = p.others || [];
    $("p-others").replaceChildren(...(others.length ? [el("p", {}, t.others), el("ul", {}, ...others.map((o) =>
      el("li", {}, fmt(t.otherPlan, { title: o.title, by: o.by || "", codes: o.codes.map((c) => c.slice(-3)).join("、") }))))] : []));
  }

  function zoomTo(pr) {
    if (!pr.location) return;
    map.setView([pr.location.lat, pr.location.lng], Math.max(map.getZoom(), 17));
    problemLayer.eachLayer((m) => {
      const ll = m.getLatLng();
      if (ll.lat === pr.location.lat && ll.lng === pr.location.lng) m.openTooltip();
    });
  }

  function drawEdits(edits) {
    $("p-edits").replaceChildren(...edits.slice().reverse().map((e) => el("li", { class: e.undone ? "undone" : "" },
      fmt(t.change_, { version: e.version, by: e.by || "", op: t.ops[e.op] || e.op,
                       codes: (e.codes || []).map((c) => c.slice(-3)).join("、") }))));
  }

  // ------------------------------------------------------------ edits
  async function edit(payload) {
    if (!plan || plan.status !== "draft") { say(t.openDraft, "error"); return; }
    clearMessage();
    const res = await call("POST", planUrl(plan.id, "/edits"), { ...payload, version: plan.version });
    endTool();
    if (!res.ok) { await refused(res); return; }
    render(res.answer);
    say(fmt(t.done, { op: t.ops[payload.op], codes: (res.answer.codes || []).map((c) => c.slice(-3)).join("、") }), "ok");
    loadPlans();
  }

  let tool = null; // {name, onPick(latlng), onCreate(layer)}
  function startTool(name, hint) {
    endTool();
    tool = { name };
    for (const b of document.querySelectorAll("#p-tools [data-tool]")) b.setAttribute("aria-pressed", String(b.dataset.tool === name));
    $("p-step").hidden = false;
    $("p-hint").textContent = hint;
    document.body.dataset.tool = name;
    return tool;
  }
  function hint(text) { $("p-hint").textContent = text; }
  function endTool() {
    if (!config.canEdit) return;
    tool = null;
    map.pm.disableDraw();
    editLayer.eachLayer((l) => l.pm && l.pm.disable());
    editLayer.clearLayers();
    pickLayer.clearLayers();
    $("p-choose").replaceChildren();
    $("p-finish").hidden = true;
    $("p-step").hidden = true;
    delete document.body.dataset.tool;
    for (const b of document.querySelectorAll("#p-tools [data-tool]")) b.setAttribute("aria-pressed", "false");
  }
  // Several grids fit: the planner says which (a button per grid, named and numbered).
  function choose(question, grids) {
    return new Promise((resolve) => {
      const box = $("p-choose");
      const mine = tool;
      for (const g of grids) highlight(g.geometry, { color: "#8e44ad", fillColor: "#bb8fce" });
      box.replaceChildren(el("p", {}, question), ...grids.map((g) => el("button", {
        type: "button", "data-code": g.code, onclick: () => { box.replaceChildren(); resolve(tool === mine ? g : null); },
      }, gridLabel(g))));
    });
  }
  function pickGrid(onGrid) {
    tool.onPick = (ll) => {
      const g = gridAt(ll);
      if (!g) { hint(t.noGrid); return; }
      tool.onPick = null;
      onGrid(g);
    };
  }
  map.on("click", (ev) => { if (tool && tool.onPick) tool.onPick(ev.latlng); });
  map.on("pm:create", (ev) => {
    const layer = ev.layer;
    const geometry = layer.toGeoJSON(false).geometry; // full precision: no rounding to 6 decimals
    layer.remove();
    if (tool && tool.onCreate) tool.onCreate(geometry);
  });

  const TOOLS = {
    reshape() {
      startTool("reshape", t.hintPickEdit);
      pickGrid((g) => {
        const layer = L.polygon(toLatLngs(g.geometry), { color: "#1565c0", weight: 3, fillOpacity: 0.15 }).addTo(editLayer);
        let changed = false;
        layer.on("pm:edit", () => { changed = true; });
        layer.pm.enable({ snappable: true, snapDistance: 15, allowSelfIntersection: false, draggable: false });
        hint(t.hintEditing);
        $("p-finish").hidden = false;
        tool.finish = () => {
          layer.pm.disable();
          if (!changed) { endTool(); return; }
          edit({ op: "reshape", code: g.code, geometry: layer.toGeoJSON(false).geometry });
        };
      });
    },
    split() {
      const mine = startTool("split", t.hintLine);
      map.pm.enableDraw("Line", { snappable: false }); // a cut line need not follow an edge
      mine.onCreate = async (line) => {
        const hits = workingGrids().filter((g) => crossings(line.coordinates, g.geometry) >= 2);
        if (!hits.length) { endTool(); say(t.noCross, "error"); return; }
        const g = hits.length === 1 ? hits[0] : await choose(t.whichGrid, hits);
        if (g && tool === mine) edit({ op: "split", code: g.code, line });
      };
    },
    merge() {
      startTool("merge", t.hintMerge1);
      pickGrid((a) => {
        highlight(a.geometry);
        hint(t.hintMerge2);
        pickGrid((b) => {
          if (b.code === a.code) { TOOLS.merge(); return; }
          highlight(b.geometry);
          edit({ op: "merge", codes: [a.code, b.code] });
        });
      });
    },
    create() {
      const mine = startTool("create", t.hintPolygon);
      map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 15 });
      mine.onCreate = (geometry) => {
        const [x, y] = geometry.coordinates[0][0];
        const inside = villages.find((v) => contains(v.geometry, x, y));
        const village = $("p-village").value || (inside && inside.properties.code);
        if (!village) { endTool(); say(t.noVillage, "error"); return; }
        highlight(geometry, { color: "#1e8449", fillColor: "#58d68d" });
        const name = window.prompt(t.newGridName, "");
        if (name === null) { endTool(); return; }
        edit({ op: "create", village, geometry, name: name.trim() || undefined });
      };
    },
    transfer() {
      const mine = startTool("transfer", t.hintPart);
      map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 15 });
      mine.onCreate = (area) => {
        highlight(area, { color: "#8e44ad", fillColor: "#bb8fce" });
        hint(t.hintTarget);
        pickGrid(async (to) => {
          const ring = area.coordinates[0];
          const from = workingGrids().filter((g) => g.code !== to.code && (
            ring.some(([x, y]) => contains(g.geometry, x, y))
            || polygonsOf(g.geometry).some((poly) => poly[0].some(([x, y]) => contains(area, x, y)))));
          if (!from.length) { endTool(); say(t.noSource, "error"); return; }
          const src = from.length === 1 ? from[0] : await choose(t.whichSource, from);
          if (src && tool === mine) edit({ op: "transfer", from: src.code, to: to.code, geometry: area });
        });
      };
    },
    rename() {
      startTool("rename", t.hintRename);
      pickGrid((g) => {
        highlight(g.geometry);
        const name = window.prompt(t.newName, g.name);
        if (name === null || !name.trim() || name.trim() === g.name) { endTool(); return; }
        edit({ op: "set", code: g.code, name: name.trim() });
      });
    },
  };

  if (config.canEdit) {
    for (const b of document.querySelectorAll("#p-tools [data-tool]")) {
      b.addEventListener("click", () => {
        if (tool && tool.name === b.dataset.tool) endTool();
        else TOOLS[b.dataset.tool]();
      });
    }
    $("p-finish").addEventListener("click", () => tool && tool.finish && tool.finish());
    $("p-cancel").addEventListener("click", endTool);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && tool) endTool(); });
    $("p-undo").addEventListener("click", async () => {
      if (!plan) return;
      clearMessage();
      endTool();
      const res = await call("POST", planUrl(plan.id, "/undo"), { version: plan.version });
      if (!res.ok) { await refused(res); return; }
      render(res.answer);
      say(fmt(t.done, { op: t.ops.undo, codes: (res.answer.codes || []).map((c) => c.slice(-3)).join("、") }), "ok");
      loadPlans();
    });
    $("p-new").addEventListener("click", async () => {
      const title = window.prompt(t.planTitle, "");
      if (title === null || !title.trim()) return;
      const res = await call("POST", config.plansUrl, { title: title.trim() });
      if (!res.ok) { await refused(res); return; }
      await loadPlans();
      openPlan(res.answer.id);
    });
    $("p-publish").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!plan) return;
      clearMessage();
      const body = { version: plan.version };
      const day = $("p-date").value;
      if (day && day !== today()) body.effective_at = day; // today: from now
      const res = await call("POST", planUrl(plan.id, "/publish"), body);
      if (!res.ok) { await refused(res); return; }
      render(res.answer);
      say(res.answer.status === "scheduled" ? fmt(t.scheduled, { at: day }) : fmt(t.published, { n: res.answer.rerouted }), "ok");
      loadPlans();
      loadGrids();
      workload = null; // the grids changed
      loadWorkload($("p-village").value);
    });
    $("p-discard").addEventListener("click", async () => {
      if (!plan || !window.confirm(t.confirmDiscard)) return;
      const res = await call("POST", planUrl(plan.id, "/discard"), { version: plan.version });
      if (!res.ok) { await refused(res); return; }
      render(res.answer);
      say(t.discarded, "ok");
      loadPlans();
    });
    $("p-inverse").addEventListener("click", async () => {
      if (!plan) return;
      const res = await call("POST", planUrl(plan.id, "/inverse"));
      if (!res.ok) { await refused(res); return; }
      await loadPlans();
      await openPlan(res.answer.id);
      say(t.inverseMade, "ok");
    });
  }

  // ------------------------------------------------------------ impact preview
  $("p-impact").addEventListener("click", async () => {
    if (!plan) return;
    const shown = plan;
    const res = await call("GET", planUrl(plan.id, "/impact"));
    if (!res.ok) { await refused(res); return; }
    if (plan !== shown) return; // another plan or version meanwhile
    drawImpact(res.answer);
  });
  const tail = (code) => (code ? code.slice(-3) : "—"); // a grid's number within its village
  const beforeAfter = (v, round) => {
    const r = (x) => (round && x !== null && x !== undefined ? Math.round(x) : x);
    return `${num(r(v.before))} → ${num(r(v.after))}`;
  };
  function drawImpact(d) {
    const box = $("p-impact-box");
    impactLayer.clearLayers();
    if (!d.grids.length) { box.replaceChildren(el("p", { class: "muted" }, t.noImpact)); return; }
    const head = el("tr", {}, ...[t.grid, t.changeCol, t.area, t.households, t.residents].map((h) => el("th", {}, h)));
    const rows = d.grids.map((g) => el("tr", { class: "c-" + g.change, "data-code": g.code },
      el("td", {}, gridLabel(g)), el("td", {}, t.change[g.change] || g.change),
      el("td", {}, beforeAfter(g.area_m2, true)), el("td", {}, beforeAfter(g.households)), el("td", {}, beforeAfter(g.residents))));
    const flows = d.flows.map((f) => el("li", {}, fmt(t.flow, {
      from: tail(f.from), to: tail(f.to), open: f.open, year: f.last_year })));
    const workers = d.workers.length
      ? el("table", { class: "p-table" }, el("tr", {}, ...[t.grid, t.duty_, t.name, t.changeCol].map((h) => el("th", {}, h))),
        ...d.workers.map((w) => el("tr", {}, el("td", {}, w.grid.slice(-3)), el("td", {}, t.duty[w.duty] || w.duty),
                                   el("td", {}, w.name), el("td", {}, t.change[w.change] || w.change))))
      : el("p", { class: "muted" }, t.noWorkers);
    box.replaceChildren(
      el("h4", {}, t.impactTitle),
      el("table", { class: "p-table", id: "p-impact-table" }, el("thead", {}, head), el("tbody", {}, ...rows)),
      el("p", { id: "p-moved" }, fmt(t.casesMoved, { open: d.open_cases_moved, year: d.last_year_cases_moved })),
      el("ul", { class: "p-flows" }, ...flows), el("h4", {}, t.workers), workers);
    for (const f of d.cases.features) {
      if (!f.properties.open) continue;
      const [lng, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lng], {
        radius: 5, color: "#fff", weight: 1, fillColor: "#8e44ad", fillOpacity: 0.95, className: "moved-case", pmIgnore: true,
      }).bindTooltip(el("div", {}, fmt(t.movedCase, { // a node, not a string: Leaflet sets strings as HTML
        no: f.properties.case_no, state: f.properties.state,
        from: tail(f.properties.from), to: tail(f.properties.to) })))
        .addTo(impactLayer);
    }
  }

  // ------------------------------------------------------------ villages and workload
  // The whole town's workload, filtered here: with ?village= the server takes the median of cases
  // over that village's grids only, not the town's, and flags different grids.
  let workload = null;
  async function loadWorkload(code) {
    const body = $("p-workload").tBodies[0];
    body.replaceChildren();
    $("p-work-msg").textContent = "";
    if (!code) return;
    if (!workload) {
      const res = await call("GET", config.workloadUrl);
      if (!res.ok) { $("p-work-msg").textContent = reason(res.answer) || t.failed; return; }
      workload = res.answer;
    }
    if ($("p-village").value !== code) return; // another village meanwhile
    body.replaceChildren();
    for (const g of workload.grids.filter((x) => x.village.code === code)) {
      const over = g.over.length > 0;
      const action = over && config.canEdit ? el("button", {
        type: "button", class: "p-propose", "data-code": g.code,
        onclick: (ev) => { ev.stopPropagation(); edit({ op: "propose_split", code: g.code, balance: "cases", parts: 2 }); },
      }, t.proposeSplit) : "";
      body.append(el("tr", {
        class: over ? "over" : "", "data-code": g.code, title: g.over.map((o) => (english ? o.en : o.zh)).join("; "),
        onclick: () => {
          const f = currentGrids.find((x) => x.properties.code === g.code);
          if (f) map.fitBounds(L.geoJSON(f).getBounds(), { padding: [40, 40] });
        },
      }, el("td", {}, g.name, " ", el("small", {}, g.code.slice(-3)), action ? el("br") : null, action),
      el("td", {}, num(g.households)), el("td", {}, num(g.residents)),
      el("td", {}, num(g.cases_per_month)), el("td", {}, num(g.patrol_hours_30d))));
    }
  }
  $("p-village").addEventListener("change", () => {
    const code = $("p-village").value;
    const v = villages.find((f) => f.properties.code === code);
    if (v) map.fitBounds(L.geoJSON(v).getBounds(), { padding: [20, 20] });
    loadWorkload(code);
  });

  async function loadGrids() {
    const res = await call("GET", config.gridsUrl);
    if (!res.ok) return;
    currentGrids = res.answer.features;
    currentLayer.clearLayers();
    currentLayer.addData(res.answer);
  }

  // ------------------------------------------------------------ start
  (async () => {
    const [v] = await Promise.all([call("GET", config.villagesUrl), loadGrids()]);
    if (v.ok) {
      villages = v.answer.features;
      villageLayer.addData(v.answer);
      for (const f of villages) $("p-village").append(el("option", { value: f.properties.code }, f.properties.name));
    }
    const b = currentLayer.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
    else map.setView(...Wangge.townView());
    await loadPlans();
    const wanted = new URLSearchParams(location.search).get("plan");
    if (wanted && /^\d+$/.test(wanted)) await openPlan(Number(wanted));
    document.body.dataset.mapReady = "1";
  })();
})();
