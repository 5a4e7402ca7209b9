// 日走访 on the desk (/visits): for a month and a village, each grid's share of households visited
// (a table and the grids coloured on a small map), the visits with their flags and the cases they
// reported, and the register of 门牌 as a spreadsheet (export; import for the village and the town).
// Data from /api/v1/visits, /api/v1/visits/coverage, /api/v1/households…; text nodes only.
(function () {
  "use strict";
  const { byId: $, el, readJSON, fmt, fetchJSON, stamp, english, message, csrfToken } = Wangge;
  const config = readJSON("vs-config");
  const t = readJSON("vs-i18n");
  const DASH = "—";
  const pct = (v) => (v === null || v === undefined ? DASH : (v * 100).toFixed(1) + "%");
  const reason = Wangge.reasons;
  let grid = null; // the grid the visits are filtered by (a row clicked)
  let coverage = {};

  // ------------------------------------------------------------ the map
  const map = L.map("vs-map", { zoomSnap: 0.5 });
  Wangge.baseLayer(map, config);
  map.setView(...Wangge.townView());
  let gridLayer = null;
  const colour = (c) => (c === null || c === undefined ? "#9aa5b1" : c >= config.target ? "#27ae60" : c >= config.target / 2 ? "#f39c12" : "#c0392b");
  function paint() {
    if (!gridLayer) return;
    gridLayer.setStyle((f) => {
      const row = coverage[f.properties.code];
      return { color: "#1f4e79", weight: 1, fillOpacity: row ? 0.55 : 0.05, fillColor: colour(row ? row.coverage : null) };
    });
  }
  fetch(config.gridsUrl, { credentials: "same-origin" }).then((r) => r.json()).then((fc) => {
    gridLayer = L.geoJSON(fc, {
      onEachFeature: (f, layer) => layer.bindTooltip(() => {
        const row = coverage[f.properties.code];
        return f.properties.name + " · " + (row ? pct(row.coverage) : DASH);
      }),
    }).addTo(map);
    paint();
    const villages = new Set(fc.features.map((f) => f.properties.village_code));
    const select = $("vs-village");
    const seen = new Set();
    for (const f of fc.features) {
      const code = f.properties.village_code;
      if (seen.has(code) || !code.startsWith(config.scope.slice(0, Math.min(config.scope.length, 12)))) continue;
      seen.add(code);
      select.append(el("option", { value: code }, f.properties.village_name || code));
    }
    if (config.scope.length === 12 && villages.has(config.scope)) select.value = config.scope;
    fitScope();
  });
  function fitScope() {
    if (!gridLayer) return;
    const prefix = $("vs-village").value || config.scope;
    const layers = gridLayer.getLayers().filter((l) => l.feature.properties.code.startsWith(prefix));
    if (layers.length) map.fitBounds(L.featureGroup(layers).getBounds(), { padding: [10, 10] });
  }

  // ------------------------------------------------------------ coverage
  function query() {
    const p = new URLSearchParams({ month: $("vs-month").value || config.month });
    if ($("vs-village").value) p.set("village", $("vs-village").value);
    return p;
  }

  async function loadCoverage() {
    $("vs-error").textContent = "";
    $("vs-summary").textContent = t.loading;
    const r = await fetchJSON(config.coverageUrl + "?" + query());
    if (!r.ok) {
      $("vs-summary").textContent = "";
      $("vs-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) });
      return;
    }
    const a = r.answer;
    coverage = Object.fromEntries(a.items.map((i) => [i.grid_code, i]));
    $("vs-summary").textContent = fmt(t.summary, { month: a.month, grids: a.grids, households: a.totals.households,
      visited: a.totals.visited_households, coverage: pct(a.totals.coverage), target: pct(a.target) });
    $("vs-grids").tBodies[0].replaceChildren(...a.items.map((i) => {
      const cls = i.coverage === null ? "muted" : i.coverage >= a.target ? "vs-ok" : "vs-low";
      return el("tr", { "data-grid": i.grid_code, tabindex: "0", "aria-selected": grid === i.grid_code ? "true" : "false",
        onclick: () => pickGrid(i), onkeydown: (ev) => { if (ev.key === "Enter") pickGrid(i); } },
        el("td", { title: i.grid_code }, i.grid_name), el("td", {}, i.worker_name || DASH), el("td", {}, String(i.addresses)),
        el("td", {}, i.households ? String(i.households) : t.noRegister), el("td", {}, String(i.visited_households)),
        el("td", { class: cls }, pct(i.coverage)), el("td", {}, String(i.visits)),
        el("td", { class: i.flagged ? "vs-low" : null }, String(i.flagged)));
    }));
    paint();
    fitScope();
    document.body.dataset.coverage = a.month;
  }

  function pickGrid(row) {
    grid = grid === row.grid_code ? null : row.grid_code;
    $("vs-grid-filter").textContent = grid ? fmt(t.grid, { name: row.grid_name }) : "";
    $("vs-all").hidden = !grid;
    for (const tr of $("vs-grids").tBodies[0].rows) tr.setAttribute("aria-selected", tr.dataset.grid === grid ? "true" : "false");
    loadVisits();
  }

  // ------------------------------------------------------------ the visits
  async function loadVisits() {
    const p = query();
    if (grid) { p.delete("village"); p.set("grid", grid); }
    if ($("vs-flagged").checked) p.set("flagged", "1");
    p.set("limit", "200");
    const r = await fetchJSON(config.visitsUrl + "?" + p);
    if (!r.ok) { $("vs-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    const { items, total } = r.answer;
    const rows = items.map((v) => el("tr", { "data-visit": String(v.id) },
      el("td", {}, stamp(v.visited_at)), el("td", { title: v.grid_code }, v.grid_name || v.grid_code),
      el("td", {}, v.worker.name || DASH), el("td", {}, v.household.address || DASH), el("td", {}, v.note || DASH),
      el("td", {}, ...(v.flag_labels.length ? v.flag_labels.map((f) => el("span", { class: "vs-flag", "data-flag": f.code },
        english ? f.en : f.zh)) : [t.none])),
      el("td", {}, v.incident ? el("a", { href: config.casesUrl + v.incident.id }, v.incident.case_no + " · " + v.incident.state)
        : DASH)));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "7", class: "muted" }, t.noVisits)));
    $("vs-visits").tBodies[0].replaceChildren(...rows);
    $("vs-more").textContent = total > items.length ? fmt(t.more, { total, n: items.length }) : "";
    document.body.dataset.visits = String(items.length);
  }

  // ------------------------------------------------------------ the register
  function xlsxLink() {
    const p = new URLSearchParams();
    if ($("vs-village").value) p.set("village", $("vs-village").value);
    $("vs-xlsx").href = config.householdsXlsxUrl + (p.toString() ? "?" + p : "");
  }
  const importButton = $("vs-import");
  if (importButton) {
    importButton.addEventListener("click", async () => {
      const file = $("vs-file").files[0];
      $("vs-import-error").textContent = "";
      $("vs-import-msg").textContent = "";
      $("vs-import-errors").replaceChildren();
      if (!file) { $("vs-import-error").textContent = t.needFile; return; }
      const form = new FormData();
      form.append("file", file, file.name);
      importButton.disabled = true;
      try {
        const r = await fetch(config.importUrl, { method: "POST", body: form, credentials: "same-origin",
                                                  headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" } });
        const a = await r.json().catch(() => ({}));
        if (!r.ok) {
          $("vs-import-error").textContent = fmt(t.importFailed, { reason: message(a) || String(r.status) });
          $("vs-import-errors").replaceChildren(...(a.errors || []).map((e) => el("li", {}, english ? e.en : e.zh)));
          return;
        }
        $("vs-import-msg").textContent = fmt(t.imported, a);
        loadCoverage();
      } finally {
        importButton.disabled = false;
      }
    });
  }

  function show() {
    xlsxLink();
    loadCoverage();
    loadVisits();
  }
  $("vs-month").value = config.month;
  $("vs-show").addEventListener("click", () => { grid = null; $("vs-grid-filter").textContent = ""; $("vs-all").hidden = true; show(); });
  $("vs-village").addEventListener("change", () => { grid = null; $("vs-grid-filter").textContent = ""; $("vs-all").hidden = true; show(); });
  $("vs-flagged").addEventListener("change", loadVisits);
  $("vs-all").addEventListener("click", () => pickGrid({ grid_code: grid }));
  show();
})();
