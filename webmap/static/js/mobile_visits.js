// 入户走访 on the worker's phone (/m/visits): the grid's 门牌 (kept on the phone, so the list works with
// no signal) nearest first from the GPS, or searched; what was found, photos, and 发现问题 → 上报. A
// visit is written to the phone's outbox (phone_queue.js, store "visits") with its own idempotency
// key, then sent; with no network it waits and goes once the network is back, so the server stores
// it once. Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, readJSON, fmt, showNet, errorsZh, english, categoryLabel } = Wangge;
  const config = readJSON("mv-config");
  const t = readJSON("mv-i18n");
  const outbox = PhoneQueue.outbox("visits", config.attachmentsUrl, config.username);
  const KEY = "wangge-households-" + config.username; // the grid's register, kept on the phone
  const CATS = "wangge-categories";

  let point = null; // {lng, lat, crs, accuracy_m}
  let households = [];
  let picked = null;

  const stored = (key) => { try { return JSON.parse(localStorage.getItem(key)); } catch (_e) { return null; } };
  const keep = (key, value) => { try { localStorage.setItem(key, JSON.stringify(value)); } catch (_e) { /* full */ } };

  // ------------------------------------------------------------ the household picker
  // metres between two WGS84 points (equirectangular: enough to sort the doors of one grid)
  function metres(a, b) {
    const k = Math.PI / 180;
    const x = (b.lng - a.lng) * k * Math.cos(((a.lat + b.lat) / 2) * k);
    const y = (b.lat - a.lat) * k;
    return 6371000 * Math.hypot(x, y);
  }

  function drawHouseholds() {
    const q = $("mv-q").value.trim();
    let list = households.filter((h) => !q || h.address.includes(q));
    if (point) list = list.map((h) => ({ ...h, d: metres(point, h) })).sort((a, b) => a.d - b.d);
    list = list.slice(0, 12);
    $("mv-households").replaceChildren(...list.map((h) => el("li", {},
      el("button", { type: "button", "data-id": String(h.id), "aria-pressed": picked && picked.id === h.id ? "true" : "false",
        onclick: () => pick(h) },
        el("span", {}, h.address, " ", el("small", {}, fmt(t.households, { n: h.households }))),
        el("span", {}, h.d !== undefined ? fmt(t.metres, { m: Math.round(h.d) }) : ""),
        h.visited_at ? el("span", { class: "mv-seen" }, t.visited) : null))));
    if (!list.length) $("mv-households").append(el("li", { class: "muted" }, t.noHouseholds));
  }

  function pick(h) {
    picked = h;
    $("mv-picked").textContent = fmt(t.picked, { address: h.address });
    drawHouseholds();
  }

  async function loadHouseholds() {
    households = (stored(KEY) || {}).items || [];
    drawHouseholds();
    try {
      const r = await fetch(config.householdsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) throw new Error(String(r.status));
      const fresh = await r.json();
      keep(KEY, fresh);
      households = fresh.items;
      if (picked) picked = households.find((h) => h.id === picked.id) || picked;
      drawHouseholds();
    } catch (_offline) { /* the copy kept on the phone */ }
    document.body.dataset.households = String(households.length);
  }

  function locate() {
    if (!navigator.geolocation) { $("mv-where").textContent = t.gpsFailed; return; }
    $("mv-where").textContent = t.locating;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        // the browser's Geolocation API reports WGS84
        point = { lng: pos.coords.longitude, lat: pos.coords.latitude, crs: "wgs84",
                  accuracy_m: Math.round(pos.coords.accuracy) };
        $("mv-where").textContent = fmt(t.located, { acc: point.accuracy_m });
        document.body.dataset.located = "1";
        drawHouseholds();
      },
      () => { $("mv-where").textContent = t.gpsFailed; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  }

  function fillCategories(items) {
    const select = $("mv-category");
    for (const c of items) select.append(el("option", { value: c.code }, categoryLabel(c, true)));
  }
  async function loadCategories() {
    const kept = stored(CATS);
    try {
      const r = await fetch(config.categoriesUrl, { credentials: "same-origin" });
      if (!r.ok) throw new Error(String(r.status));
      const fresh = (await r.json()).items;
      keep(CATS, fresh);
      fillCategories(fresh);
    } catch (_offline) {
      fillCategories(kept || []);
    }
  }

  // ------------------------------------------------------------ saving and sending
  $("mv-problem").addEventListener("change", () => { $("mv-problem-fields").hidden = !$("mv-problem").checked; });
  $("mv-q").addEventListener("input", drawHouseholds);
  $("mv-gps").addEventListener("click", locate);

  $("mv-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const errors = [];
    const files = Array.from($("mv-photos").files);
    const problem = $("mv-problem").checked;
    if (!picked) errors.push(t.needHousehold);
    if (!point) errors.push(t.needLocation);
    if (problem && !$("mv-category").value) errors.push(t.needCategory);
    if (problem && !$("mv-description").value.trim()) errors.push(t.needDescription);
    if (files.length > config.maxPhotos) errors.push(t.tooMany);
    for (const f of files) if (f.size > config.maxPhotoBytes) errors.push(fmt(t.tooBig, { name: f.name }));
    $("mv-errors").textContent = errors.join(" ");
    if (errors.length) return;
    const item = {
      key: PhoneQueue.newKey("v"),
      created: new Date().toISOString(),
      address: picked.address,
      payload: {
        household: picked.id, location: point, note: $("mv-note").value,
        problem: problem ? { category: $("mv-category").value, description: $("mv-description").value } : null,
      },
      files: files.map((f) => ({ name: f.name, blob: f })),
      photoIds: [],
      state: "queued",
    };
    await outbox.put(item);
    picked.visited_at = item.created; // shown as visited at once
    picked = null;
    $("mv-form").reset();
    $("mv-problem-fields").hidden = true;
    $("mv-picked").textContent = "";
    drawHouseholds();
    lastKey = item.key;
    status(t.queued, "muted");
    await render();
    flush();
  });

  let lastKey = null;
  function status(message, kind) {
    $("mv-status").textContent = message;
    $("mv-status").className = kind;
  }
  function settled(item, message, kind) {
    const li = el("li", { class: kind }, message);
    $("mv-sent").prepend(li);
    if (item.key === lastKey) status(message, kind);
  }
  const flagText = (v) => (v.flag_labels || []).map((f) => (english ? f.en : f.zh)).join("; ");

  const flush = () => outbox.flush({
    sent: (item, visit) => {
      const base = visit.incident ? fmt(t.sentCase, { address: item.address, case: visit.incident.case_no })
        : fmt(t.sent, { address: item.address });
      settled(item, visit.flags && visit.flags.length ? base + " · " + fmt(t.flagged, { flags: flagText(visit) }) : base, "ok");
    },
    refused: (item, answer, code) => settled(item, fmt(t.rejected, { reason: errorsZh(answer) || code }), "error"),
    login: () => settled({}, t.login, "error"),
  }, () => config.visitsUrl).finally(render);

  async function render() {
    const waiting = (await outbox.all()).filter((i) => i.state === "queued").length;
    $("mv-queue").textContent = waiting ? fmt(t.pending, { n: waiting }) : t.none;
    showNet($("net"), t.online, t.offline);
    document.body.dataset.pending = String(waiting);
  }

  window.addEventListener("online", () => { render(); flush(); loadHouseholds(); });
  window.addEventListener("offline", render);
  setInterval(flush, 30000);
  loadCategories();
  loadHouseholds();
  locate();
  render().then(flush);
})();
