// The town map: villages, grids (code, name, worker, leader on click) and the latest incidents.
// Everything is fetched from this app; text goes into the page as text nodes, never as HTML.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, el, dateFormat, getJSON, listen, categoryLabel } = Wangge;
  const config = readJSON("map-config");
  const t = readJSON("map-i18n");
  const status = $("status");
  const timeFmt = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                               hour12: false });

  const map = L.map("map", { zoomSnap: 0.25 });  // SVG: a few hundred shapes, each clickable and testable
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  Wangge.baseLayer(map, config);

  // A popup body from [label, value] rows, built with DOM nodes (escaped by construction).
  function table(title, rows) {
    const dl = el("dl");
    for (const [label, value] of rows) {
      dl.append(el("dt", {}, label), el("dd", {}, value === null || value === undefined || value === "" ? t.none : value));
    }
    return el("div", { class: "popup" }, el("strong", {}, title), dl);
  }

  function fmtTime(iso) {
    return iso ? timeFmt.format(new Date(iso)) : null;
  }

  const villageLayer = L.geoJSON(null, {
    style: { color: "#1f4e79", weight: 2.5, fill: false },
    interactive: false,
  }).addTo(map);

  const palette = ["#e8f1fa", "#eaf6ec", "#fdf3e1", "#f6e9f3", "#eef0fb", "#f9ece8"];
  const gridLayer = L.geoJSON(null, {
    style: (f) => ({
      color: "#5b7fa3", weight: 1, fillOpacity: 0.55,
      fillColor: palette[parseInt(f.properties.village_code.slice(-2), 10) % palette.length],
    }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindPopup(() => table(p.name, [
        [t.code, p.code],
        [t.village, p.village_name],
        [t.worker, p.worker ? p.worker + (p.worker_phone ? " " + p.worker_phone : "") : null],
        [t.leader, p.leader ? p.leader + (p.leader_phone ? " " + p.leader_phone : "") : null],
        [t.households, p.households],
        [t.residents, p.residents],
        [t.area, p.area_km2 + " km²"],
      ]));
      layer.on("mouseover", () => layer.setStyle({ weight: 2.5, color: "#c0392b" }));
      layer.on("mouseout", () => gridLayer.resetStyle(layer));
    },
  }).addTo(map);

  const incidentLayer = L.layerGroup().addTo(map);
  const OPEN = new Set(["待受理", "立案派遣", "处理中", "待核查", "督办", "挂账"]);

  L.control.layers(null, { [t.village]: villageLayer, [t.grid]: gridLayer }, { collapsed: true }).addTo(map);

  function addIncident(inc, isNew) {
    const open = OPEN.has(inc.state);
    const marker = L.circleMarker([inc.location.lat, inc.location.lng], {
      radius: isNew ? 8 : 5, weight: isNew ? 2 : 1, color: isNew ? "#c0392b" : "#fff", fillOpacity: 0.9,
      fillColor: open ? "#d35400" : "#7f8c8d",
      className: "incident " + (open ? "open" : "closed") + (isNew ? " new" : ""),
    }).bindPopup(() => table(categoryLabel(inc.category, true), [
      [t.caseNo, inc.case_no],
      [t.state, inc.state],
      [t.grid, inc.grid ? inc.grid.name + " (" + inc.grid.code + ")" : t.outside],
      [t.reported, fmtTime(inc.reported_at)],
      [t.deadline, fmtTime(inc.deadline)],
    ])).addTo(incidentLayer);
    return marker;
  }

  // Live: new incidents within this user's scope arrive as server-sent events.
  function listenLive() {
    if (!config.streamUrl) return;
    listen(config.streamUrl, $("live"), t.fresh, (m) => addIncident({
      case_no: m.case_no, state: m.state, reported_at: m.reported_at, deadline: null,
      category: { class: "", name: m.category },
      grid: m.grid_code ? { code: m.grid_code, name: m.grid_code } : null,
      location: { lng: m.lng, lat: m.lat },
    }, true));
  }

  Promise.all([getJSON(config.villagesUrl), getJSON(config.gridsUrl), getJSON(config.incidentsUrl)])
    .then(([villages, grids, incidents]) => {
      gridLayer.addData(grids);
      villageLayer.addData(villages);
      villageLayer.bringToFront();
      const bounds = gridLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
      else map.setView(...Wangge.townView());
      for (const inc of incidents.items) addIncident(inc, false);
      listenLive();
      status.textContent = fmt(t.loaded, { v: villages.numberReturned, g: grids.numberReturned, i: incidents.items.length });
      document.body.dataset.mapReady = "1";
    })
    .catch((err) => {
      status.textContent = t.failed;
      status.classList.add("error");
      console.error(err);
    });
})();
