// The helpers the page scripts share, defined once on one global object, window.Wangge; each page
// script takes what it needs at the top of its function (const { el, fmt } = Wangge;). Load this
// file before the page's own script. Plain ES2017, no modules: every page includes it with a
// <script> tag. Text reaches the page only as text nodes, never as HTML.
(function () {
  "use strict";
  if (window.Wangge) return; // base.html loads this file for every page; a page that loads it again changes nothing
  const TIME_ZONE = "Asia/Shanghai"; // every time the pages show is the town's
  const english = document.documentElement.lang === "en";

  // ------------------------------------------------------------ the page
  const byId = (id) => document.getElementById(id);
  // The JSON a template put in a <script type="application/json" id="…">: the config, the texts.
  const readJSON = (id) => JSON.parse(byId(id).textContent);
  // The token of <meta name="csrf-token">, which the server wants back in X-CSRFToken.
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // ------------------------------------------------------------ text and nodes
  // "{name}" placeholders filled from values; a missing value leaves nothing.
  const fmt = (s, values) => s.replace(/\{(\w+)\}/g, (_m, k) => (values[k] ?? ""));
  const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(document.documentElement.lang));
  // An element: attrs "class" → className, "on…" → a listener, the others attributes; children are
  // nodes or text (null and undefined are left out), never HTML.
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
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  // The connection's state on a badge: its text and class "net on" / "net off".
  function showNet(node, onlineText, offlineText) {
    node.textContent = navigator.onLine ? onlineText : offlineText;
    node.className = "net " + (navigator.onLine ? "on" : "off");
  }

  // A category in the page's language: its name, or "class · name" with withClass; the English
  // names where the town gave them (name_en, class_en), the Chinese otherwise.
  function categoryLabel(c, withClass) {
    if (!c) return "";
    const name = (english && c.name_en) || c.name;
    const klass = (english && c.class_en) || c.class;
    return withClass && klass ? klass + " · " + name : name;
  }

  // ------------------------------------------------------------ times (Asia/Shanghai)
  // A formatter in the page's language and the town's time zone; options as Intl.DateTimeFormat's.
  const dateFormat = (options) => new Intl.DateTimeFormat(document.documentElement.lang, { timeZone: TIME_ZONE, ...options });
  const clockFmt = dateFormat({ hour: "2-digit", minute: "2-digit", hour12: false });
  const clock = (iso) => (iso ? clockFmt.format(new Date(iso)) : ""); // "08:30", or "" for no time
  // A moment as lists show it: month, day and time, with the year when it is not this year's.
  const stampFmt = dateFormat({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const stampYearFmt = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                                    hour12: false });
  const yearOf = (d) => dateFormat({ year: "numeric" }).format(d);
  function stamp(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return (yearOf(d) === yearOf(new Date()) ? stampFmt : stampYearFmt).format(d);
  }
  // Today in the town, as YYYY-MM-DD.
  const today = () => new Intl.DateTimeFormat("en-CA", {
    timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date());

  // ------------------------------------------------------------ the server
  // The server's reason for a refusal, in the page's language (message_en / message_zh), or "".
  const message = (answer) => (english ? answer.message_en : answer.message_zh) || answer.message_zh || "";
  // The server's reason in Chinese: the fields' errors, else its message (undefined when it has none).
  const errorsZh = (answer) => (answer.errors || []).map((e) => e.zh).join("; ") || answer.message_zh;
  // The server's reasons in the page's language: the fields' errors, else its message, else the HTTP
  // status when given ("" when none).
  const reasons = (answer, status) => (answer.errors || []).map((e) => (english ? e.en : e.zh) || e.zh).join("; ")
    || message(answer) || (status ? String(status) : "");
  // A JSON GET that throws unless the answer is 2xx JSON.
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(url + " → " + r.status);
    return r.json();
  }
  // A request in this session asking for JSON; any method but GET sends a JSON body (when given)
  // with the CSRF token. Resolves to {ok, status, answer} (answer {} when the reply is not JSON);
  // rejects only when no answer came (the network).
  async function fetchJSON(url, options) {
    const { method = "GET", body } = options || {};
    const headers = { Accept: "application/json" };
    if (method !== "GET") Object.assign(headers, { "Content-Type": "application/json", "X-CSRFToken": csrfToken() });
    const r = await fetch(url, {
      method, credentials: "same-origin", headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, answer };
  }
  // Files sent one by one to POST /api/v1/attachments (url) in this session; `document`: a PDF or a
  // photo of the page (a task's document, a register's scan), else photos only. `progress(i, n)` is
  // called before each. Resolves to their ids; rejects with the server's reasons on the first refused.
  async function uploadFiles(url, files, { document = false, progress } = {}) {
    const ids = [];
    const list = Array.from(files || []);
    for (let i = 0; i < list.length; i++) {
      if (progress) progress(i + 1, list.length);
      const data = new FormData();
      data.append("file", list[i], list[i].name || "photo.jpg");
      if (document) data.append("kind", "document");
      const r = await fetch(url, { method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
      const answer = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(reasons(answer) || String(r.status));
      ids.push(answer.id);
    }
    return ids;
  }
  // One EventSource per stream URL and page, shared by every listener on it (the page's own and the
  // header's 待办 badge): each open stream holds a connection and a server thread, so only a page that
  // shows things live opens one (stream(url)); the badge listens on it where there is one. Closed when
  // the page goes away, or by release(url). Null where the browser has no EventSource. A stream the
  // server refuses (503: its live connections are all taken) stays closed: the page works on.
  const streams = {};
  const opened = []; // called with (url, source) for each stream opened
  function stream(url) {
    if (!window.EventSource) return null;
    if (!streams[url] || streams[url].readyState === 2) {
      streams[url] = new EventSource(url);
      for (const f of opened) f(url, streams[url]);
    }
    return streams[url];
  }
  function release(url) {
    if (streams[url]) streams[url].close();
    delete streams[url];
  }
  const live = (url) => !!streams[url] && streams[url].readyState !== 2;
  window.addEventListener("pagehide", () => { for (const url of Object.keys(streams)) release(url); });
  // New cases over server-sent events: the badge shows the connection (data-state on / off) and
  // counts the incidents (data-count, and the text made from `text` with {n}); onIncident gets each
  // message.
  function listen(url, badge, text, onIncident) {
    const source = stream(url);
    if (!source) return;
    if (source.readyState === 1) badge.dataset.state = "on";
    let fresh = 0;
    source.addEventListener("open", () => { badge.dataset.state = "on"; });
    source.addEventListener("error", () => { badge.dataset.state = "off"; });
    source.addEventListener("incident", (ev) => {
      const m = JSON.parse(ev.data);
      fresh += 1;
      badge.dataset.count = String(fresh);
      badge.textContent = fmt(text, { n: fresh });
      onIncident(m);
    });
  }

  // ------------------------------------------------------------ the header: 待办 badge, menu button
  // The header's 待办 link (base.html #inbox-badge) shows how many items await the user (GET its
  // data-src, the inbox with limit=0: {total, overdue}), red (data-overdue) when some are overdue.
  // On a page with a live stream it counts again, once per burst, when the stream says a case or an
  // order changed; elsewhere (and when the stream is refused or lost) every minute while the page is
  // seen, and when it is seen again. On a phone a role with a phone page of cases (data-phone-href) is
  // sent there. Without an inbox on the server the link stays, without a number.
  function inboxBadge(link) {
    if (!link || link.dataset.started) return;
    link.dataset.started = "1";
    if (link.dataset.phoneHref && window.matchMedia && window.matchMedia("(max-width: 600px)").matches) {
      link.href = link.dataset.phoneHref;
    }
    const number = link.querySelector("b");
    let seq = 0;
    async function count() {
      const mine = ++seq;
      try {
        const r = await fetch(link.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!r.ok) throw new Error(String(r.status));
        const answer = await r.json();
        if (mine !== seq) return;
        number.textContent = String(answer.total);
        link.dataset.total = String(answer.total);
        link.dataset.overdue = String(answer.overdue || 0);
      } catch (_e) {
        number.textContent = "";
        delete link.dataset.total;
        link.dataset.overdue = "0";
      }
    }
    let pending = null;
    const later = () => { clearTimeout(pending); pending = setTimeout(count, 800); };
    const url = link.dataset.stream;
    const follow = (u, source) => {
      if (u !== url) return;
      for (const type of ["incident", "hotline"]) source.addEventListener(type, later);
      source.addEventListener("open", later); // (re)connected: what changed meanwhile
    };
    opened.push(follow);
    if (streams[url]) follow(url, streams[url]);
    setInterval(() => { if (!document.hidden && !live(url)) count(); }, 60000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) later(); });
    link.addEventListener("wangge:recount", count); // a page that just acted asks at once
    count();
  }
  // Ask the header's badge to count again now (after this user acted).
  const recount = () => { const link = byId("inbox-badge"); if (link) link.dispatchEvent(new Event("wangge:recount")); };
  // On narrow screens (CSS ≤ 600 px) the menu folds behind a button.
  function menuButton(button, nav) {
    if (!button || !nav) return;
    button.addEventListener("click", () => {
      const open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      button.setAttribute("aria-expanded", String(open));
    });
  }

  // ------------------------------------------------------------ IndexedDB, as promises
  function openDatabase(name, version, upgrade) {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(name, version);
      req.onupgradeneeded = () => upgrade(req.result);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  // fn(store) in one transaction; resolves, once it is complete, to the result of fn's request.
  function transact(db, name, mode, fn) {
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const result = fn(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  }

  // ------------------------------------------------------------ maps (Leaflet)
  // The view's bounds as "west,south,east,north", clamped to the world.
  function bboxParam(map) {
    const b = map.getBounds();
    const clamp = (v, lim) => Math.max(-lim, Math.min(lim, v));
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
      .map((v) => v.toFixed(6)).join(",");
  }
  // The server already sums the cases per zoom (hexagons of a few pixels), but the heat plugin scales
  // every weight by 1 / 2^(maxZoom − zoom) (capped at 2^12): weights times this undo that, so that
  // max is the answer's.
  const heatScale = (map) => 2 ** Math.max(0, Math.min(map.getMaxZoom() - map.getZoom(), 12));
  // The town's first view, from its record (base.html's <body data-map-view>): [[lat, lng], zoom],
  // spread into map.setView(...townView()).
  function townView() {
    const view = JSON.parse(document.body.dataset.mapView);
    return [view.center, view.zoom];
  }

  // ------------------------------------------------------------ geometry (GeoJSON lon/lat, planar)
  const polygonsOf = (g) => (!g ? [] : g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : []);
  function inRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function contains(geometry, x, y) { // even-odd over every ring: holes and parts included
    let inside = false;
    for (const poly of polygonsOf(geometry)) for (const ring of poly) if (inRing(x, y, ring)) inside = !inside;
    return inside;
  }
  function ringArea(ring) { // in degrees²: only to compare rings of one geometry
    let a = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    return a / 2;
  }
  function largestRing(geometry) { // the largest outer ring, or null
    let best = null;
    for (const poly of polygonsOf(geometry)) if (poly[0] && (!best || Math.abs(ringArea(poly[0])) > Math.abs(ringArea(best)))) best = poly[0];
    return best;
  }
  function centre(geometry) { // the centroid of the largest outer ring, as [lat, lng]
    const best = largestRing(geometry);
    if (!best) return null;
    const a = ringArea(best);
    if (!a) return [best[0][1], best[0][0]];
    let x = 0, y = 0;
    for (let i = 0, j = best.length - 1; i < best.length; j = i++) {
      const k = best[j][0] * best[i][1] - best[i][0] * best[j][1];
      x += (best[j][0] + best[i][0]) * k;
      y += (best[j][1] + best[i][1]) * k;
    }
    return [y / (6 * a), x / (6 * a)];
  }

  // ------------------------------------------------------------ the base map
  // The page's base layer under the grids (config.tileUrl: the offline base map at /tiles/, or the
  // intranet's tile server), with its attribution (plain text from the server, escaped here, since
  // Leaflet writes attributions as HTML); null when the page has none. A map without an
  // attribution control gets one as soon as there is something to credit.
  const escapeHTML = (s) => String(s).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";");
  function baseLayer(map, config) {
    if (!config || !config.tileUrl) return null;
    const attribution = config.tileAttribution ? escapeHTML(config.tileAttribution) : "";
    if (attribution && !map.attributionControl) {
      map.attributionControl = L.control.attribution({ prefix: false }).addTo(map);
    }
    return L.tileLayer(config.tileUrl, {
      maxZoom: 19, minNativeZoom: config.tileMinNativeZoom || 0, maxNativeZoom: config.tileMaxNativeZoom ?? 19,
      attribution,
    }).addTo(map);
  }

  let staffConfig = null;
  window.Wangge = Object.freeze({
    TIME_ZONE, english, byId, readJSON, csrfToken, fmt, num, el, hex, showNet, categoryLabel,
    dateFormat, clockFmt, clock, stamp, today, message, errorsZh, reasons, getJSON, fetchJSON, uploadFiles, stream, release, listen, inboxBadge, recount,
    openDatabase, transact, bboxParam, heatScale, townView, polygonsOf, inRing, contains, ringArea, largestRing, centre,
    baseLayer,
    // 队伍管理 (/staff, /m/staff): the page's config, read once from its st-config block
    get staffConfig() { staffConfig = staffConfig || readJSON("st-config"); return staffConfig; },
  });
  menuButton(byId("menu-toggle"), byId("menu"));
  inboxBadge(byId("inbox-badge"));
  // the login form tells whether it was read on a phone: the role then lands on its phone page
  const device = document.querySelector("form input[name=device]");
  if (device && window.matchMedia) device.value = window.matchMedia("(max-width: 600px)").matches ? "phone" : "desk";
})();
