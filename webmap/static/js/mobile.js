// The grid worker's report page. A report is first written to this phone (IndexedDB) with its own
// idempotency key, then sent; if the network is down it waits and is resent later with the same
// key, so the server never stores it twice. Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, showNet, errorsZh, english, categoryLabel } = Wangge;
  const config = readJSON("m-config");
  const t = readJSON("m-i18n");

  // the queue on the phone (IndexedDB), shared with the cases page: phone_queue.js
  const reports = PhoneQueue.outbox("reports", config.attachmentsUrl, config.username);

  // ------------------------------------------------------------ form
  let point = null; // {lng, lat, crs, accuracy_m}
  const where = $("where");

  fetch(config.categoriesUrl, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const groups = new Map();
      for (const c of data.items) {
        if (!groups.has(c.class)) {
          const g = document.createElement("optgroup");
          g.label = (english && c.class_en) || c.class;
          groups.set(c.class, g);
          $("category").appendChild(g);
        }
        const o = document.createElement("option");
        o.value = c.code;
        o.textContent = categoryLabel(c) + (c.self_handle ? " ✓" : "");
        groups.get(c.class).appendChild(o);
      }
    });

  $("gps").addEventListener("click", () => {
    if (!navigator.geolocation) {
      where.textContent = t.gpsFailed;
      return;
    }
    where.textContent = t.locating;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        // the browser's Geolocation API reports WGS84
        point = { lng: pos.coords.longitude, lat: pos.coords.latitude, crs: "wgs84",
                  accuracy_m: Math.round(pos.coords.accuracy) };
        where.textContent = fmt(t.located, { lat: point.lat.toFixed(6), lng: point.lng.toFixed(6),
                                             acc: point.accuracy_m });
      },
      () => { where.textContent = t.gpsFailed; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });

  // The grids are fetched while online and kept on the phone, so the map works in the field.
  const GRIDS_KEY = "wangge-grids";
  let grids = null;
  try { grids = JSON.parse(localStorage.getItem(GRIDS_KEY)); } catch (_e) { grids = null; }
  fetch(config.gridsUrl, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((fresh) => {
      grids = fresh;
      try { localStorage.setItem(GRIDS_KEY, JSON.stringify(fresh)); } catch (_e) { /* storage full */ }
      document.body.dataset.gridsCached = "1";
    })
    .catch(() => { if (grids) document.body.dataset.gridsCached = "1"; });

  let pickMap = null;
  let pickMarker = null;
  $("tap").addEventListener("click", () => {
    const box = $("pickmap");
    box.hidden = false;
    if (pickMap) return;
    pickMap = L.map(box, { zoomSnap: 0.5 });
    Wangge.baseLayer(pickMap, config);
    const layer = L.geoJSON(grids, { style: { color: "#1f4e79", weight: 1, fillOpacity: 0.08 } }).addTo(pickMap);
    if (layer.getBounds().isValid()) pickMap.fitBounds(layer.getBounds());
    else pickMap.setView(...Wangge.townView());
    pickMap.on("click", (e) => {
      point = { lng: e.latlng.lng, lat: e.latlng.lat, crs: "wgs84" };
      if (pickMarker) pickMarker.setLatLng(e.latlng);
      else pickMarker = L.circleMarker(e.latlng, { radius: 8, color: "#c0392b" }).addTo(pickMap);
      where.textContent = fmt(t.picked, { lat: point.lat.toFixed(6), lng: point.lng.toFixed(6) });
    });
  });

  $("photos").addEventListener("change", () => {
    const thumbs = $("thumbs");
    thumbs.replaceChildren();
    for (const f of Array.from($("photos").files).slice(0, config.maxPhotos)) {
      const img = document.createElement("img");
      img.alt = f.name;
      img.src = URL.createObjectURL(f);
      thumbs.appendChild(img);
    }
  });

  $("report").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const errors = [];
    const files = Array.from($("photos").files);
    if (!$("category").value) errors.push(t.needCategory);
    if (!point) errors.push(t.needLocation);
    if (files.length > config.maxPhotos) errors.push(t.tooMany);
    for (const f of files) if (f.size > config.maxPhotoBytes) errors.push(fmt(t.tooBig, { name: f.name }));
    $("errors").textContent = errors.join(" ");
    if (errors.length) return;

    const item = {
      key: PhoneQueue.newKey("m"),
      created: new Date().toISOString(),
      payload: {
        category: $("category").value,
        description: $("description").value,
        address: $("address").value || null,
        location: point,
      },
      files: files.map((f) => ({ name: f.name, blob: f })),
      photoIds: [],
      state: "queued",
    };
    await reports.put(item);
    $("report").reset();
    $("thumbs").replaceChildren();
    point = null;
    where.textContent = t.notLocated;
    lastKey = item.key;
    showStatus(t.queued, "muted");
    await render();
    flush();
  });

  // ------------------------------------------------------------ sending
  // The line under the form says what became of the last report: saved and waiting, then sent
  // (or refused); it never goes on saying "waiting" once the report has been sent.
  let lastKey = null;
  function showStatus(message, kind) {
    $("report-status").textContent = message;
    $("report-status").className = kind;
  }
  function settled(item, message, kind) {
    addSent(message, kind);
    if (item.key === lastKey) showStatus(message, kind);
  }

  const flush = () => reports.flush({
    sent: (item, body) => settled(item, body.grid
      ? fmt(t.sent, { case: body.case_no, grid: body.grid.name, worker: body.worker ? body.worker.name : "" })
      : body.case_no + " " + t.outside, "ok"),
    // refused: kept on the phone, marked, with the reasons, so nothing is lost
    refused: (item, body, status) => {
      item.reason = errorsZh(body) || status;
      settled(item, fmt(t.rejected, { reason: item.reason }), "error");
    },
    login: () => addSent(t.login, "error"),
  }, () => config.incidentsUrl).finally(render);

  function addSent(message, kind) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = message;
    $("sent").prepend(li);
  }

  async function render() {
    const items = await reports.all();
    const waiting = items.filter((i) => i.state === "queued").length;
    $("queue-status").textContent = waiting ? fmt(t.pending, { n: waiting }) : t.none;
    showNet($("net"), t.online, t.offline);
    document.body.dataset.pending = String(waiting);
  }

  window.addEventListener("online", () => { render(); flush(); });
  window.addEventListener("offline", render);
  setInterval(flush, 30000);
  render().then(flush);
})();
