// The grid worker's patrol page on the phone: 签到 / 签退 with the phone's position, and a patrol
// (巡查) recorded with navigator.geolocation.watchPosition. Every fix is first written to this
// phone (IndexedDB, with its patrol's client_id), then sent in batches (every 30 s or 60 fixes).
// Offline, the batches wait on the phone and are sent when the network is back; the server keeps
// one fix per patrol and instant, so a batch sent twice is stored once. Starting a patrol and
// signing in carry a client_id too: resent, they are the same patrol, the same sign-in.
// A patrol still recording when the page is reopened goes on recording. Text reaches the page
// only as text nodes.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, el, hex, showNet: netBadge, clockFmt, clock, csrfToken, openDatabase, transact } = Wangge;
  const config = readJSON("mp-config");
  const t = readJSON("mp-i18n");
  const csrf = csrfToken();
  const lang = document.documentElement.lang;
  const GEO = { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; a version-4 UUID from random bytes otherwise
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ------------------------------------------------------------ the phone's store (IndexedDB)
  // patrols: {client_id, started_at, ended_at, id, state: recording|stopping|done|failed, result}
  // fixes: {key, patrol (its client_id), t, lng, lat, accuracy, speed, sent: 0 waiting|1 sent|2 refused}
  // signs: {client_id, kind, lng, lat, accuracy, at}
  let dbPromise = null;
  function openDb() {
    dbPromise = dbPromise || openDatabase("wangge-patrol", 1, (db) => {
      db.createObjectStore("patrols", { keyPath: "client_id" });
      db.createObjectStore("fixes", { keyPath: "key" }).createIndex("patrol", "patrol");
      db.createObjectStore("signs", { keyPath: "client_id" });
    });
    return dbPromise;
  }
  const tx = async (name, mode, fn) => transact(await openDb(), name, mode, fn);
  const put = (name, item) => tx(name, "readwrite", (s) => s.put(item));
  const putAll = (name, items) => tx(name, "readwrite", (s) => { for (const i of items) s.put(i); });
  const remove = (name, key) => tx(name, "readwrite", (s) => s.delete(key));
  const all = (name) => tx(name, "readonly", (s) => s.getAll());
  const get = (name, key) => tx(name, "readonly", (s) => s.get(key));
  // a patrol's record changed in place: the page and a flush both write it, neither may undo the other
  const update = (clientId, changes) => tx("patrols", "readwrite", (s) => {
    const req = s.get(clientId);
    req.onsuccess = () => { if (req.result) s.put({ ...req.result, ...changes }); };
  });
  const fixesOf = (clientId) => tx("fixes", "readonly", (s) => s.index("patrol").getAll(clientId));
  const removeFixesOf = (clientId) => tx("fixes", "readwrite", (s) => {
    const req = s.index("patrol").openKeyCursor(IDBKeyRange.only(clientId));
    req.onsuccess = () => {
      const cursor = req.result;
      if (cursor) { s.delete(cursor.primaryKey); cursor.continue(); }
    };
  });

  // ------------------------------------------------------------ talking to the server
  class Offline extends Error {}
  async function send(url, options) {
    let r;
    try {
      r = await fetch(url, { credentials: "same-origin", ...options,
                             headers: { Accept: "application/json", "X-CSRFToken": csrf, ...(options.headers || {}) } });
    } catch (_networkError) {
      throw new Offline(); // nothing reached the server, or no answer came back: try again later
    }
    const body = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body };
  }
  const postJSON = (url, data) => send(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify(data) });
  const reason = (answer) => (answer.status === 401 ? t.login
    : (answer.body.errors || []).map((e) => e.zh || e.reason).filter(Boolean).join("; ") || answer.body.message_zh
      || String(answer.status));

  const showNet = () => netBadge($("net"), t.online, t.offline);

  // ------------------------------------------------------------ 签到 / 签退
  function signText(kind, record) {
    const d = Math.round(record.distance_m || 0);
    const where = !record.inside ? fmt(t.outside, { d })
      : d > 0 ? fmt(t.insideNear, { d, tol: Math.round(record.tolerance_m || 0) }) : t.inside;
    return `${kind === "in" ? t.signedIn : t.signedOut} ${clock(record.at)} · ${where}`;
  }
  function showSign(text, kind) {
    const box = $("sign-result");
    box.textContent = text;
    box.className = "mp-result " + (kind || "");
  }
  async function sendSigns() {
    for (const item of await all("signs")) {
      let answer;
      try {
        answer = await postJSON(config.attendanceUrl, item);
      } catch (err) {
        if (err instanceof Offline) { showSign(t.signQueued, "wait"); return; }
        throw err;
      }
      if (answer.status === 401) { showSign(t.login, "bad"); return; }
      await remove("signs", item.client_id); // answered: stored, or refused for a reason resending won't change
      if (answer.ok) {
        showSign(signText(item.kind, answer.body), answer.body.inside ? "ok" : "bad");
        $("sign-result").dataset.inside = String(answer.body.inside);
        loadToday();
      } else {
        showSign(fmt(t.failed, { reason: reason(answer) }), "bad");
      }
    }
  }
  function sign(kind) {
    if (!navigator.geolocation) { showSign(t.gpsFailed, "bad"); return; }
    showSign(t.locating);
    navigator.geolocation.getCurrentPosition(async (pos) => {
      // the Geolocation API reports WGS84, which the API takes
      await put("signs", { client_id: uuid(), kind, lng: pos.coords.longitude, lat: pos.coords.latitude,
                           accuracy: Math.round(pos.coords.accuracy), at: new Date().toISOString() });
      sendSigns();
    }, () => showSign(t.gpsFailed, "bad"), GEO);
  }
  $("sign-in").addEventListener("click", () => sign("in"));
  $("sign-out").addEventListener("click", () => sign("out"));

  async function loadToday() {
    const answer = await send(config.attendanceUrl + "?worker=" + encodeURIComponent(config.username), {})
      .catch(() => null);
    if (!answer || !answer.ok) return;
    $("sign-today").replaceChildren(...answer.body.records.map((r) => el("li", { class: r.inside ? "ok" : "error" },
      `${clockFmt.format(new Date(r.at))} ${r.kind === "in" ? t.in : t.out} · `,
      r.inside ? t.inside : fmt(t.outside, { d: Math.round(r.distance_m || 0) }))));
  }

  // ------------------------------------------------------------ recording a patrol
  let current = null; // the patrol being recorded
  let watchId = null;
  let distance = 0; // metres so far, for the display only: the server computes the real one
  let last = null;
  let recorded = 0;
  let pending = 0;

  function metres(a, b) { // haversine, WGS84 degrees → metres
    const rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad, dLng = (b.lng - a.lng) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }
  function count(fix) { // poor fixes and GPS jitter of a few metres add no distance
    if (fix.accuracy !== null && fix.accuracy > 50) return;
    if (!last) { last = fix; return; }
    const d = metres(last, fix);
    if (d >= 5) { distance += d; last = fix; }
  }

  async function onPosition(pos) {
    if (!current) return;
    const c = pos.coords;
    const at = new Date(pos.timestamp || Date.now()).toISOString();
    const fix = { key: current.client_id + "|" + at, patrol: current.client_id, t: at, lng: c.longitude, lat: c.latitude,
                  accuracy: c.accuracy === null || c.accuracy === undefined ? null : Math.round(c.accuracy * 10) / 10,
                  speed: typeof c.speed === "number" && isFinite(c.speed) ? c.speed : null, sent: 0 };
    await put("fixes", fix);
    recorded += 1;
    count(fix);
    await render();
    if (pending >= config.batchFixes) flush();
  }
  function watch() {
    if (watchId !== null) return;
    watchId = navigator.geolocation.watchPosition(onPosition, () => {
      $("patrol-msg").textContent = t.gpsFailed;
    }, GEO);
  }

  async function startPatrol() {
    if (!navigator.geolocation) { $("patrol-msg").textContent = t.gpsFailed; return; }
    current = { client_id: uuid(), started_at: new Date().toISOString(), ended_at: null, id: null, state: "recording" };
    await put("patrols", current);
    distance = 0; last = null; recorded = 0;
    $("patrol-result").hidden = true;
    delete document.body.dataset.stopped;
    $("patrol-msg").textContent = t.starting;
    watch();
    await render();
    flush(); // makes the patrol on the server
  }

  async function stopPatrol() {
    if (!current) return;
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    await update(current.client_id, { state: "stopping", ended_at: new Date().toISOString() });
    current = null;
    $("patrol-msg").textContent = navigator.onLine ? t.stopping : t.stoppedOffline;
    await render();
    flush();
  }
  $("patrol-start").addEventListener("click", startPatrol);
  $("patrol-stop").addEventListener("click", stopPatrol);

  // ------------------------------------------------------------ sending
  let flushing = false;
  let again = false;
  async function flush() {
    if (flushing) { again = true; return; } // one flush at a time; one more after it
    flushing = true;
    try {
      for (const p of await all("patrols")) {
        if (p.state === "done" || p.state === "failed") continue;
        if (!(await sendPatrol(p))) break;
      }
    } catch (err) {
      if (!(err instanceof Offline)) throw err;
    } finally {
      flushing = false;
      await render();
      if (again) { again = false; flush(); }
    }
  }

  // Sends one patrol's start, waiting fixes and stop. False when the server refused for a reason
  // that holds for the others too (signed out); throws Offline.
  async function sendPatrol(p) {
    if (!p.id) {
      const answer = await postJSON(config.patrolsUrl, { client_id: p.client_id, started_at: p.started_at });
      if (!answer.ok) return refused(p, answer);
      p.id = answer.body.id;
      await update(p.client_id, { id: p.id });
      if (current && current.client_id === p.client_id) current.id = p.id;
    }
    for (;;) {
      const waiting = (await fixesOf(p.client_id)).filter((f) => f.sent === 0).sort((a, b) => (a.t < b.t ? -1 : 1))
        .slice(0, config.maxBatch);
      if (!waiting.length) break;
      const answer = await postJSON(`${config.patrolsUrl}/${p.id}/fixes`, {
        fixes: waiting.map((f) => ({ t: f.t, lng: f.lng, lat: f.lat, accuracy: f.accuracy, speed: f.speed })),
      });
      if (answer.ok) {
        await putAll("fixes", waiting.map((f) => ({ ...f, sent: 1 })));
      } else if (answer.status === 400 && Array.isArray(answer.body.errors) && answer.body.errors.some((e) => "index" in e)) {
        // the batch was refused for some of its fixes: set those aside, send the rest again
        const bad = new Set(answer.body.errors.map((e) => e.index));
        await putAll("fixes", waiting.filter((_f, i) => bad.has(i)).map((f) => ({ ...f, sent: 2 })));
      } else {
        return refused(p, answer);
      }
      await render();
    }
    const now = await get("patrols", p.client_id); // stopped meanwhile?
    if (now && now.state === "stopping") {
      const answer = await postJSON(`${config.patrolsUrl}/${p.id}/stop`, { ended_at: now.ended_at });
      if (!answer.ok) return refused(p, answer);
      await update(p.client_id, { state: "done", result: answer.body });
      await removeFixesOf(p.client_id); // the server has them all
      $("patrol-msg").textContent = t.uploaded;
      showResult($("patrol-result"), answer.body);
      document.body.dataset.stopped = String(answer.body.id);
    }
    return true;
  }
  async function refused(p, answer) {
    $("patrol-msg").textContent = fmt(t.failed, { reason: reason(answer) });
    if (answer.status === 401) return false; // signed out: everything waits for the next sign-in
    // kept on the phone, with the reason, not sent again and again
    await update(p.client_id, { state: "failed", reason: reason(answer) });
    if (current && current.client_id === p.client_id) { // refused at the start: stop recording
      if (watchId !== null) navigator.geolocation.clearWatch(watchId);
      watchId = null;
      current = null;
    }
    return true;
  }

  // ------------------------------------------------------------ what the page shows
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }
  function showResult(box, p) {
    const cp = p.checkpoints || {};
    const rows = [
      [t.distance, fmt(t.km, { km: ((p.distance_m || 0) / 1000).toFixed(2) })],
      [t.duration, duration(p.duration_s || 0)],
      [t.moving, fmt(t.minutes, { m: Math.round((p.moving_s || 0) / 60) })],
      [t.coverage, p.coverage === null || p.coverage === undefined ? t.none : (p.coverage * 100).toFixed(1) + "%"],
      [t.outsideTime, fmt(t.minutes, { m: Math.round((p.outside_s || 0) / 60) })],
      [t.places, `${(cp.visited || []).length}/${cp.required || 0}`],
    ];
    if ((cp.visited || []).length) rows.push([t.visited, cp.visited.join("、")]);
    if ((cp.missed || []).length) rows.push([t.missed, cp.missed.join("、")]);
    rows.push([t.flags, (p.flags || []).length ? p.flags.map((f) => (lang === "en" ? f.en : f.zh)).join("; ") : t.none]);
    const dl = el("dl");
    for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
    box.replaceChildren(el("h2", {}, t.result), dl);
    box.hidden = false;
    box.dataset.distance = String(p.distance_m ?? "");
    box.dataset.id = String(p.id);
  }

  async function render() {
    const fixes = await all("fixes");
    pending = fixes.filter((f) => f.sent === 0).length;
    $("pending").textContent = String(pending);
    $("fix-count").textContent = String(recorded);
    $("distance").textContent = fmt(t.km, { km: (distance / 1000).toFixed(2) });
    $("elapsed").textContent = current ? duration((Date.now() - Date.parse(current.started_at)) / 1000) : $("elapsed").textContent;
    $("patrol-start").hidden = Boolean(current);
    $("patrol-stop").hidden = !current;
    if (current && !$("patrol-msg").textContent) $("patrol-msg").textContent = t.recording;
    document.body.dataset.pendingFixes = String(pending);
    document.body.dataset.fixes = String(recorded);
    if (current && current.id) document.body.dataset.patrolId = String(current.id);
    document.body.dataset.recording = current ? "1" : "0";
    showNet();
  }
  setInterval(() => {
    if (current) $("elapsed").textContent = duration((Date.now() - Date.parse(current.started_at)) / 1000);
  }, 1000);

  $("upload-now").addEventListener("click", () => { flush(); sendSigns(); });
  window.addEventListener("online", () => { showNet(); flush(); sendSigns(); });
  window.addEventListener("offline", showNet);
  setInterval(() => { flush(); sendSigns(); }, config.batchSeconds * 1000);

  // ------------------------------------------------------------ GPX (the fallback)
  $("gpx-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = $("gpx-file").files[0];
    if (!file) { $("gpx-msg").textContent = t.needFile; return; }
    const form = new FormData();
    form.append("file", file, file.name);
    $("gpx-msg").textContent = t.sending;
    try {
      const answer = await send(config.gpxUrl, { method: "POST", body: form });
      if (!answer.ok) { $("gpx-msg").textContent = fmt(t.failed, { reason: reason(answer) }); return; }
      $("gpx-msg").textContent = answer.body.created ? t.gpxSent : t.gpxAgain;
      showResult($("gpx-result"), answer.body);
    } catch (_offline) {
      $("gpx-msg").textContent = t.offline;
    }
  });

  // ------------------------------------------------------------ start: go on with an unfinished patrol
  (async function resume() {
    const patrols = await all("patrols");
    current = patrols.find((p) => p.state === "recording") || null;
    if (current) {
      const fixes = (await fixesOf(current.client_id)).sort((a, b) => (a.t < b.t ? -1 : 1));
      recorded = fixes.length;
      for (const f of fixes) count(f);
      watch();
    }
    for (const p of patrols) { // finished long ago: nothing left to keep
      if (p.state === "done" && p.ended_at && Date.now() - Date.parse(p.ended_at) > 7 * 86400000) remove("patrols", p.client_id);
    }
    await render();
    flush();
    sendSigns();
    loadToday();
  })();
})();
