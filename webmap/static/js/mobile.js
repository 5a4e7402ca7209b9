// The grid worker's report page. A report is first written to this phone (IndexedDB) with its own
// idempotency key, then sent; if the network is down it waits and is resent later with the same
// key, so the server never stores it twice. Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, hex, showNet, csrfToken, errorsZh, openDatabase, transact } = Wangge;
  const config = readJSON("m-config");
  const t = readJSON("m-i18n");
  const csrf = csrfToken();

  // ------------------------------------------------------------ the queue on the phone (IndexedDB)
  const DB_NAME = "wangge-outbox";
  const openDb = () => openDatabase(DB_NAME, 1, (db) => db.createObjectStore("reports", { keyPath: "key" }));
  const store = async (mode, fn) => transact(await openDb(), "reports", mode, fn);
  const putReport = (item) => store("readwrite", (s) => s.put(item));
  const deleteReport = (key) => store("readwrite", (s) => s.delete(key));
  const allReports = () => store("readonly", (s) => s.getAll());

  function newKey() {
    // crypto.randomUUID needs a secure context; intranets often serve plain http
    return "m-" + hex(crypto.getRandomValues(new Uint8Array(16)));
  }

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
          g.label = c.class;
          groups.set(c.class, g);
          $("category").appendChild(g);
        }
        const o = document.createElement("option");
        o.value = c.code;
        o.textContent = c.name + (c.self_handle ? " ✓" : "");
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
      key: newKey(),
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
    await putReport(item);
    $("report").reset();
    $("thumbs").replaceChildren();
    point = null;
    where.textContent = t.queued;
    await render();
    flush();
  });

  // ------------------------------------------------------------ sending
  let flushing = false;

  async function send(item) {
    // photos first (each upload is idempotent by content), remembering ids between attempts
    for (let i = item.photoIds.length; i < item.files.length; i++) {
      const form = new FormData();
      form.append("file", item.files[i].blob, item.files[i].name);
      const r = await fetch(config.attachmentsUrl, { method: "POST", body: form, credentials: "same-origin",
                                                     headers: { "X-CSRFToken": csrf } });
      if (!r.ok) return r;
      item.photoIds.push((await r.json()).id);
      await putReport(item);
    }
    return fetch(config.incidentsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrf },
      body: JSON.stringify({ ...item.payload, photos: item.photoIds }),
    });
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (const item of await allReports()) {
        if (item.state !== "queued") continue;
        let response;
        try {
          response = await send(item);
        } catch (_networkError) {
          break; // offline: keep everything, try again later
        }
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          await deleteReport(item.key);
          addSent(body.grid
            ? fmt(t.sent, { case: body.case_no, grid: body.grid.name, worker: body.worker ? body.worker.name : "" })
            : body.case_no + " " + t.outside, "ok");
        } else if (response.status === 401) {
          addSent(t.login, "error");
          break;
        } else {
          // refused: keep it on the phone, marked, with the reasons, so nothing is lost
          item.state = "rejected";
          item.reason = errorsZh(body) || response.status;
          await putReport(item);
          addSent(fmt(t.rejected, { reason: item.reason }), "error");
        }
      }
    } finally {
      flushing = false;
      render();
    }
  }

  function addSent(message, kind) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = message;
    $("sent").prepend(li);
  }

  async function render() {
    const items = await allReports();
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
