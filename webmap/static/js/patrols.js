// The patrol desk page (巡查): the reports of seed 5-1 for a village and a day — 日走访 (daily
// visits), 周分析 (the week of that day, with the sign-in hours against the 40-hour rule of seed
// 7-2), 月汇总 (its month) — each with its Excel export; a worker's patrols of the day; the
// playback of one patrol on the map (its grid, key places, track, a marker driven by a time
// slider); and, for the town, the review of flagged tracks. All times are shown in Asia/Shanghai.
// Data reaches the page as text nodes only.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, dateFormat, clock, errorsZh, fetchJSON } = Wangge;
  const config = readJSON("pt-config");
  const t = readJSON("pt-i18n");
  const lang = document.documentElement.lang;
  const secondsFmt = dateFormat({ hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const dayFmt = dateFormat({ hour12: false, month: "2-digit", day: "2-digit" });
  const DASH = "—";

  // Wangge.el, but an attribute null, undefined or false is left out and one true is set empty.
  function el(tag, attrs, ...children) {
    const kept = {};
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      kept[k] = v === true && k !== "class" && !k.startsWith("on") ? "" : v;
    }
    return Wangge.el(tag, kept, ...children);
  }
  async function request(url, options) {
    const r = await fetchJSON(url, options);
    if (!r.ok) throw new Error(errorsZh(r.answer) || String(r.status));
    return r.answer;
  }
  const getJSON = (url) => request(url);
  const query = (params) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
    return p.toString();
  };

  // ------------------------------------------------------------ numbers
  const num = (v, digits) => (v === null || v === undefined ? DASH : Number(v).toFixed(digits));
  const int = (v) => (v === null || v === undefined ? DASH : String(v));
  const pct = (v) => (v === null || v === undefined ? DASH : (v * 100).toFixed(1) + "%");
  const signed = (v, digits) => (v === null || v === undefined ? DASH : (v > 0 ? "+" : "") + Number(v).toFixed(digits));
  const flagName = (code) => t["flag_" + code] || code;
  const weekday = (iso) => { // "11-24 (一)" for a YYYY-MM-DD day
    const d = new Date(iso + "T12:00:00+08:00");
    return dayFmt.format(d) + " " + dateFormat({ weekday: "short" }).format(d);
  };

  // ------------------------------------------------------------ the period
  function mondayOf(iso) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    return d.toISOString().slice(0, 10);
  }
  function period(kind) {
    const day = $("pt-date").value || config.today;
    const village = $("pt-village").value;
    if (kind === "daily") return { date: day, village };
    if (kind === "weekly") return { week: mondayOf(day), village };
    return { month: day.slice(0, 7), village };
  }

  // ------------------------------------------------------------ tables
  // A column: [header, value(row) → text or node, class(row)?]. The totals row goes through the same
  // columns, so every value function copes with the keys a totals object lacks.
  function table(node, columns, rows, total, onRow) {
    const head = el("tr", {}, ...columns.map(([h]) => el("th", { scope: "col" }, h)));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", {}, ...columns.map(([_h, value, cls]) => el("td", { class: cls ? cls(row) : null }, value(row))));
      if (onRow && row.worker) {
        tr.dataset.worker = row.worker;
        tr.classList.add("pt-click");
        tr.tabIndex = 0;
        tr.addEventListener("click", () => onRow(row, tr));
        tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onRow(row, tr); });
      }
      body.append(tr);
    }
    const foot = el("tfoot");
    if (total) foot.append(el("tr", { class: "pt-total" }, ...columns.map(([_h, value], i) => el("td", {},
      i === 0 ? `${t.total} (${total.workers})` : value(total)))));
    node.replaceChildren(el("thead", {}, head), body, foot);
  }
  const who = (r) => (r.worker_name === undefined ? "" :
    el("span", {}, r.worker_name, " ", el("small", { class: "muted" }, r.worker || t.noWorker)));
  const gridOf = (r) => (r.grid_code === undefined ? "" : el("span", { title: r.grid_code }, r.grid_name || r.grid_code));
  const flagsOf = (r) => {
    if (!r.flags) return "0";
    const box = el("span", {}, String(r.flags));
    if (r.flag_codes && r.flag_codes.length) box.append(" ", el("small", {}, r.flag_codes.map(flagName).join("、")));
    if (r.unreviewed_flagged) box.append(" ", el("span", { class: "pt-badge" }, fmt(t.pending, { n: r.unreviewed_flagged })));
    return box;
  };
  const hoursVsRule = (rule) => (r) => {
    if (r.attendance_hours === undefined) return DASH;
    const box = el("span", {}, num(r.attendance_hours, 2));
    // the week asks 40 hours less 8 for each working day of approved leave
    const asked = r.required_hours === undefined ? rule : r.required_hours;
    if (r.below_rule === true) box.append(" ", el("small", {}, fmt(t.below, { h: asked })));
    return box;
  };
  const missingDays = (r) => {
    if (!Array.isArray(r.missing_days)) return DASH;
    const box = el("span", {}, r.missing_days.length ? r.missing_days.map(weekday).join("、") : t.none);
    if (r.leave_days && r.leave_days.length) {
      box.append(" ", el("small", { class: "pt-leave" }, fmt(t.onLeave, { days: r.leave_days.map(weekday).join("、") })));
    }
    return box;
  };

  // ------------------------------------------------------------ reports
  const reports = {}; // kind → the last report shown
  const loadSeq = { daily: 0, weekly: 0, monthly: 0, review: 0 };
  async function loadReport(kind) {
    const mine = ++loadSeq[kind];
    const params = period(kind);
    const msg = $(kind + "-msg");
    msg.textContent = t.loading;
    msg.classList.remove("error");
    const link = $(kind + "-xlsx");
    link.href = config.reportUrls[kind] + "?" + query({ ...params, format: "xlsx" });
    delete document.body.dataset[kind];
    try {
      const report = await getJSON(config.reportUrls[kind] + "?" + query(params));
      // 月汇总 shows each grid's 入户走访 coverage of the month beside its patrols (/api/v1/visits/coverage)
      if (kind === "monthly") report.visitCoverage = await getJSON(config.visitCoverageUrl + "?" + query(params)).catch(() => null);
      if (mine !== loadSeq[kind]) return;
      reports[kind] = report;
      $(kind + "-title").textContent = (lang === "en" ? report.title_en : report.title) + " " + report.period;
      ({ daily: drawDaily, weekly: drawWeekly, monthly: drawMonthly })[kind](report);
      document.body.dataset[kind] = "ready";
    } catch (err) {
      if (mine !== loadSeq[kind]) return;
      msg.textContent = t.failed + ": " + err.message;
      msg.classList.add("error");
    }
  }

  function drawDaily(r) {
    $("daily-msg").textContent = fmt(t.dailyMeta, { scope: r.scope_name, date: weekday(r.date), n: r.workers.length,
                                                     tz: r.timezone });
    table($("daily-table"), [
      [t.worker, who], [t.grid, gridOf], [t.patrols, (x) => int(x.patrols)], [t.km, (x) => num(x.distance_km, 2)],
      [t.moving, (x) => num(x.moving_hours, 2)], [t.coverage, (x) => pct(x.best_coverage ?? x.mean_coverage)],
      [t.places, (x) => (x.places_required ? `${x.places_visited}/${x.places_required}` : DASH)],
      [t.flags, flagsOf, (x) => (x.unreviewed_flagged ? "pt-warn" : null)], [t.cases, (x) => int(x.cases)],
      [t.signed, (x) => (x.signed_in === undefined ? DASH
        : typeof x.signed_in === "number" ? String(x.signed_in)
          : (x.signed_in ? t.yes : t.no) + (x.attendance_hours ? ` (${num(x.attendance_hours, 2)})` : "")),
       (x) => (x.signed_in === false ? "pt-warn" : null)],
    ], r.workers, r.totals, showWorkerPatrols);
    $("daily-patrols").hidden = true;
  }

  function drawWeekly(r) {
    $("weekly-msg").textContent = fmt(t.weeklyMeta, { scope: r.scope_name, period: r.period, h: r.rule_hours });
    const findings = $("weekly-findings");
    findings.replaceChildren(...r.findings.map((f) => el("li", { "data-code": f.code }, lang === "en" ? f.en : f.zh)));
    const below = (x) => (x.below_rule === true ? "pt-below" : null);
    table($("weekly-table"), [
      [t.worker, who], [t.grid, gridOf], [t.daysPatrolled, (x) => int(x.days_patrolled)],
      [t.patrols, (x) => int(x.patrols)], [t.km, (x) => num(x.distance_km, 2)], [t.moving, (x) => num(x.moving_hours, 2)],
      [t.meanCoverage, (x) => pct(x.mean_coverage)], [t.placeRate, (x) => pct(x.place_visit_rate)],
      [t.flagged, (x) => int(x.flagged), (x) => (x.unreviewed_flagged ? "pt-warn" : null)],
      [t.hours, hoursVsRule(r.rule_hours), below],
      [t.missing, missingDays, (x) => (x.missing_days && x.missing_days.length ? "pt-days pt-warn" : "pt-days")],
      [t.cases, (x) => int(x.cases)],
    ], r.workers, r.totals, null);
    table($("weekly-villages"), [
      [t.village, (x) => x.village_name || x.village_code || ""], [t.workers, (x) => int(x.workers)],
      [t.patrols, (x) => int(x.patrols)], [t.km, (x) => num(x.distance_km, 2)], [t.moving, (x) => num(x.moving_hours, 2)],
      [t.meanCoverage, (x) => pct(x.mean_coverage)], [t.placeRate, (x) => pct(x.place_visit_rate)],
      [t.flagged, (x) => int(x.flagged)], [t.hours, (x) => num(x.attendance_hours, 2)],
      [t.belowRule, (x) => int(x.below_rule), (x) => (x.below_rule ? "pt-below" : null)], [t.cases, (x) => int(x.cases)],
    ], r.villages, null, null);
  }

  // a grid's share of households visited (the totals row: the whole scope's), "—" with no register
  const visitCoverage = (answer) => {
    const byGrid = Object.fromEntries(((answer && answer.items) || []).map((i) => [i.grid_code, i]));
    return (x) => {
      const row = x.grid_code === undefined ? answer && answer.totals : byGrid[x.grid_code];
      return row ? `${pct(row.coverage)} (${row.visited_households}/${row.households})` : DASH;
    };
  };

  function drawMonthly(r) {
    $("monthly-msg").textContent = fmt(t.monthlyMeta, { scope: r.scope_name, month: r.month, previous: r.previous_month,
                                                         days: r.working_days });
    const change = (key, digits) => (x) => signed(x.change ? x.change[key] : null, digits);
    table($("monthly-table"), [
      [t.worker, who], [t.grid, gridOf], [t.daysPatrolled, (x) => int(x.days_patrolled)],
      [t.patrols, (x) => int(x.patrols)], [t.km, (x) => num(x.distance_km, 2)], [t.avgKm, (x) => num(x.avg_distance_km, 2)],
      [t.moving, (x) => num(x.moving_hours, 2)], [t.meanCoverage, (x) => pct(x.mean_coverage)],
      [t.placeRate, (x) => pct(x.place_visit_rate)], [t.flagged, (x) => int(x.flagged)],
      [t.hours, (x) => num(x.attendance_hours, 2)], [t.daysSigned, (x) => int(x.days_signed)],
      [t.daysMissing, (x) => int(x.days_missing), (x) => (x.days_missing ? "pt-warn" : null)],
      [t.cases, (x) => int(x.cases)], [t.kmChange, change("distance_km", 2)], [t.hoursChange, change("attendance_hours", 2)],
      [t.visitCoverage, visitCoverage(r.visitCoverage)],
    ], r.workers, r.totals, null);
    table($("monthly-villages"), [
      [t.village, (x) => x.village_name || x.village_code || ""], [t.workers, (x) => int(x.workers)],
      [t.patrols, (x) => int(x.patrols)], [t.km, (x) => num(x.distance_km, 2)], [t.perKm, (x) => num(x.avg_distance_km, 2)],
      [t.hours, (x) => num(x.attendance_hours, 2)], [t.perHours, (x) => num(x.avg_attendance_hours, 2)],
      [t.meanCoverage, (x) => pct(x.mean_coverage)], [t.cases, (x) => int(x.cases)],
      [t.kmChange, change("distance_km", 2)],
    ], r.villages, null, null);
  }

  // ------------------------------------------------------------ a worker's patrols of the day
  function patrolLine(p) {
    const times = `${clock(p.started_at)}–${p.ended_at ? clock(p.ended_at) : t.recording}`;
    const parts = [times, fmt(t.kmShort, { km: num((p.distance_m || 0) / 1000, 2) })];
    if (p.duration_s) parts.push(fmt(t.minutes, { m: Math.round(p.duration_s / 60) }));
    if (p.coverage !== null && p.coverage !== undefined) parts.push(t.coverage + " " + pct(p.coverage));
    return parts.join(" · ");
  }
  function reviewBadge(p) {
    if (p.review === "accepted") return el("span", { class: "pt-badge ok" }, t.accepted);
    if (p.review === "rejected") return el("span", { class: "pt-badge bad" }, t.rejected);
    return p.flags && p.flags.length ? el("span", { class: "pt-badge" }, t.awaiting) : null;
  }
  async function showWorkerPatrols(row, tr) {
    for (const other of $("daily-table").querySelectorAll("tbody tr")) other.classList.toggle("active", other === tr);
    const box = $("daily-patrols");
    const list = $("daily-patrol-list");
    box.hidden = false;
    const day = reports.daily ? reports.daily.date : period("daily").date;
    $("daily-patrols-title").textContent = fmt(t.patrolsOf, { name: row.worker_name, date: weekday(day) });
    list.replaceChildren(el("li", { class: "muted" }, t.loading));
    try {
      const items = await getJSON(config.patrolsUrl + "?" + query({ worker: row.worker, date: day }));
      list.replaceChildren();
      if (!items.length) list.append(el("li", { class: "muted" }, t.noPatrols));
      for (const p of items) {
        const flags = (p.flags || []).map((f) => el("span", { class: "pt-flag" }, flagName(f.code)));
        list.append(el("li", { "data-id": p.id, class: "pt-click", tabindex: 0, onclick: () => openPatrol(p.id),
                               onkeydown: (ev) => { if (ev.key === "Enter") openPatrol(p.id); } },
          patrolLine(p), " ", ...flags, " ", reviewBadge(p)));
      }
      document.body.dataset.workerPatrols = String(items.length);
    } catch (err) {
      list.replaceChildren(el("li", { class: "error" }, t.failed + ": " + err.message));
    }
  }

  // ------------------------------------------------------------ map
  const map = L.map("map", { zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  Wangge.baseLayer(map, config);
  const villageLayer = L.geoJSON(null, { style: { color: "#1f4e79", weight: 2, fill: false }, interactive: false }).addTo(map);
  const gridsLayer = L.geoJSON(null, { style: { color: "#9fb3c8", weight: 1, fillColor: "#e8f1fa", fillOpacity: 0.25 },
                                       interactive: false }).addTo(map);
  const gridLayer = L.geoJSON(null, { style: { color: "#1f4e79", weight: 3, fillColor: "#d6e6f5", fillOpacity: 0.3 },
                                      interactive: false }).addTo(map);
  const placesLayer = L.layerGroup().addTo(map);
  const trackLayer = L.layerGroup().addTo(map);
  map.setView(...Wangge.townView());
  let gridFeatures = [];
  let villageFeatures = [];

  function fitVillage() {
    const code = $("pt-village").value;
    villageLayer.clearLayers();
    const chosen = villageFeatures.filter((f) => !code || f.properties.code === code);
    villageLayer.addData({ type: "FeatureCollection", features: chosen });
    const b = villageLayer.getBounds();
    if (b.isValid() && !playback) map.fitBounds(b, { padding: [10, 10] });
  }

  // ------------------------------------------------------------ playback
  let playback = null; // {patrol, times: [ms], points: [[lat, lng]], marker}
  let timer = null;
  const slider = $("pb-slider");

  function positionAt(seconds) {
    const { times, points } = playback;
    const at = times[0] + seconds * 1000;
    if (at <= times[0]) return points[0];
    if (at >= times[times.length - 1]) return points[points.length - 1];
    let lo = 0, hi = times.length - 1; // times[lo] <= at < times[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (times[mid] <= at) lo = mid; else hi = mid;
    }
    const f = (at - times[lo]) / (times[hi] - times[lo] || 1);
    return [points[lo][0] + f * (points[hi][0] - points[lo][0]), points[lo][1] + f * (points[hi][1] - points[lo][1])];
  }
  function showPosition() {
    if (!playback || !playback.times.length) return;
    const seconds = Number(slider.value);
    const [lat, lng] = positionAt(seconds);
    playback.marker.setLatLng([lat, lng]);
    const now = new Date(playback.times[0] + seconds * 1000);
    $("pb-time").value = dayFmt.format(now) + " " + secondsFmt.format(now);
    const box = $("pb");
    box.dataset.lat = lat.toFixed(6);
    box.dataset.lng = lng.toFixed(6);
  }
  function pause() {
    clearInterval(timer);
    timer = null;
    $("pb-play").textContent = t.play;
    $("pb-play").setAttribute("aria-pressed", "false");
  }
  function play() {
    if (!playback || !playback.times.length) return;
    if (Number(slider.value) >= Number(slider.max)) slider.value = "0";
    $("pb-play").textContent = t.pause;
    $("pb-play").setAttribute("aria-pressed", "true");
    const TICK = 100; // ms of wall time per step
    timer = setInterval(() => {
      const next = Number(slider.value) + Number($("pb-speed").value) * TICK / 1000;
      slider.value = String(Math.min(next, Number(slider.max)));
      showPosition();
      if (next >= Number(slider.max)) pause();
    }, TICK);
  }
  $("pb-play").addEventListener("click", () => (timer ? pause() : play()));
  slider.addEventListener("input", showPosition);
  slider.addEventListener("change", showPosition);

  function seek(iso) {
    if (!playback || !playback.times.length || !iso) return;
    const seconds = Math.round((Date.parse(iso) - playback.times[0]) / 1000);
    slider.value = String(Math.max(0, Math.min(seconds, Number(slider.max))));
    showPosition();
  }

  async function drawPlaces(p) {
    placesLayer.clearLayers();
    if (!p.grid_code) return;
    const visited = new Set((p.checkpoints && p.checkpoints.visited) || []);
    try {
      const data = await getJSON(config.checkpointsUrl + encodeURIComponent(p.grid_code) + "/checkpoints");
      if (!playback || playback.patrol.id !== p.id) return;
      for (const c of data.checkpoints) {
        if (!c.active) continue;
        const ok = visited.has(c.name);
        L.circle([c.lat, c.lng], { radius: c.radius_m || 30, color: ok ? "#1e7b34" : "#c0392b", weight: 2,
                                   fillOpacity: 0.2, className: "pt-place " + (ok ? "visited" : "missed") })
          .bindTooltip(el("span", {}, c.name, " · ", ok ? t.visited : t.missed)).addTo(placesLayer);
      }
    } catch (err) {
      console.error(err);
    }
  }

  async function openPatrol(id) {
    pause();
    for (const li of document.querySelectorAll(".pt-list li[data-id]")) li.classList.toggle("active", li.dataset.id === String(id));
    delete document.body.dataset.playback;
    let p;
    try {
      p = await getJSON(config.patrolUrl + encodeURIComponent(id) + "?fixes=1");
    } catch (err) {
      $("pb").hidden = false;
      $("pb-title").textContent = t.failed + ": " + err.message;
      return;
    }
    trackLayer.clearLayers();
    gridLayer.clearLayers();
    const grid = gridFeatures.find((f) => f.properties.code === p.grid_code);
    if (grid) gridLayer.addData(grid);
    const fixes = p.fixes || [];
    const points = fixes.map((f) => [f.lat, f.lng]);
    playback = { patrol: p, times: fixes.map((f) => Date.parse(f.t)), points, marker: null };
    drawPlaces(p);
    const box = $("pb");
    box.hidden = false;
    box.dataset.id = String(p.id);
    $("pb-title").textContent = fmt(t.pbTitle, { name: p.worker_name || p.worker || "" });
    const cp = p.checkpoints || {};
    $("pb-meta").textContent = fmt(t.pbMeta, {
      start: (p.started_at ? weekday(p.started_at.slice(0, 10)) + " " : "") + clock(p.started_at),
      end: p.ended_at ? clock(p.ended_at) : t.recording, km: num((p.distance_m || 0) / 1000, 2),
      cov: pct(p.coverage), visited: (cp.visited || []).length, required: cp.required ?? 0,
    });
    if (points.length) {
      L.polyline(points, { color: "#8e44ad", weight: 3, opacity: 0.85, className: "pt-track" }).addTo(trackLayer);
      playback.marker = L.marker(points[0], {
        icon: L.divIcon({ className: "pt-marker", iconSize: [16, 16] }), keyboard: false, interactive: false,
      }).addTo(trackLayer);
      slider.max = String(Math.max(0, Math.round((playback.times[playback.times.length - 1] - playback.times[0]) / 1000)));
      slider.value = "0";
      slider.disabled = false;
      $("pb-play").disabled = false;
    } else {
      slider.max = "0";
      slider.disabled = true;
      $("pb-play").disabled = true;
      $("pb-time").value = t.noFixes;
    }
    const flags = $("pb-flags");
    flags.replaceChildren();
    if (!(p.flags || []).length) flags.append(el("li", { class: "muted" }, t.noFlags));
    for (const f of p.flags || []) {
      const text = [flagName(f.code), f.at ? secondsFmt.format(new Date(f.at)) : "", lang === "en" ? f.en : f.zh];
      flags.append(el("li", {}, el("button", { type: "button", class: "pt-flag", "data-code": f.code, disabled: !f.at || null,
                                               onclick: () => seek(f.at) }, text.filter(Boolean).join(" · "))));
      if (f.at && points.length) {
        const [lat, lng] = positionAt((Date.parse(f.at) - playback.times[0]) / 1000);
        L.circleMarker([lat, lng], { radius: 7, color: "#c0392b", weight: 2, fillOpacity: 0.6, className: "pt-flag-at" })
          .bindTooltip(flagName(f.code)).on("click", () => seek(f.at)).addTo(trackLayer);
      }
    }
    map.invalidateSize();
    const bounds = L.featureGroup([...trackLayer.getLayers(), ...gridLayer.getLayers()]).getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
    showPosition();
    document.body.dataset.playback = String(p.id);
  }

  // ------------------------------------------------------------ review (the town)
  async function loadReview(done) {
    if (!config.canReview) return;
    const mine = ++loadSeq.review;
    const msg = $("review-msg");
    msg.textContent = t.loading;
    delete document.body.dataset.review;
    let items;
    try {
      items = await getJSON(config.patrolsUrl + "?" + query({ flagged: "1", village: $("pt-village").value }));
    } catch (err) {
      if (mine === loadSeq.review) msg.textContent = t.failed + ": " + err.message;
      return;
    }
    if (mine !== loadSeq.review) return;
    msg.textContent = (done ? done + " · " : "") + (items.length ? fmt(t.reviewCount, { n: items.length }) : t.reviewNone);
    const list = $("review-list");
    list.replaceChildren();
    for (const p of items.slice().reverse()) list.append(reviewItem(p)); // newest first
    document.body.dataset.review = String(items.length);
  }
  function reviewItem(p) {
    const note = el("input", { type: "text", name: "note", maxlength: 1000, placeholder: t.note, "aria-label": t.note });
    const error = el("p", { class: "error", role: "alert" });
    const decide = async (verdict, buttons) => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await request(config.patrolUrl + encodeURIComponent(p.id) + "/review", {
          method: "POST", body: { verdict, note: note.value },
        });
        await loadReview(fmt(t.reviewed, { id: p.id }));
      } catch (err) {
        error.textContent = err.message;
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    const accept = el("button", { type: "button", class: "pt-accept", "data-verdict": "accepted" }, t.accept);
    const reject = el("button", { type: "button", class: "pt-reject", "data-verdict": "rejected" }, t.reject);
    accept.addEventListener("click", () => decide("accepted", [accept, reject]));
    reject.addEventListener("click", () => decide("rejected", [accept, reject]));
    const day = p.started_at ? weekday(p.started_at.slice(0, 10)) : "";
    return el("li", { "data-id": p.id },
      el("div", {}, el("b", {}, p.worker_name || p.worker || ""), " ", el("small", { class: "muted" }, p.grid_code || ""),
         " · ", day, " ", patrolLine(p)),
      el("ul", { class: "pt-flags" }, ...(p.flags || []).map((f) => el("li", {}, el("span", { class: "pt-flag" }, flagName(f.code)),
        " ", f.at ? secondsFmt.format(new Date(f.at)) : "", " ", lang === "en" ? f.en : f.zh))),
      el("div", { class: "pt-decide" },
         el("button", { type: "button", class: "pt-view", onclick: () => openPatrol(p.id) }, t.playback),
         note, accept, reject),
      error);
  }

  // ------------------------------------------------------------ tabs
  const TABS = ["daily", "weekly", "monthly", "review"].filter((k) => $("tab-" + k));
  let active = "daily";
  document.body.dataset.tab = active;
  const stale = new Set(TABS);
  function loadTab(kind) {
    stale.delete(kind);
    if (kind === "review") loadReview();
    else loadReport(kind);
  }
  function select(kind) {
    active = kind;
    document.body.dataset.tab = kind; // the wide reports take more of the page, the map less
    setTimeout(() => map.invalidateSize(), 0);
    for (const k of TABS) {
      $("tab-" + k).setAttribute("aria-selected", String(k === kind));
      $("pane-" + k).hidden = k !== kind;
    }
    if (stale.has(kind)) loadTab(kind);
  }
  for (const k of TABS) $("tab-" + k).addEventListener("click", () => select(k));
  function changed() {
    for (const k of TABS) stale.add(k);
    loadTab(active);
  }
  $("pt-date").addEventListener("change", () => { if ($("pt-date").value) changed(); });
  $("pt-village").addEventListener("change", () => { fitVillage(); changed(); });

  // ------------------------------------------------------------ start
  $("pt-date").value = config.today;
  $("pt-date").max = config.today;
  const scope = config.user.scope;
  Promise.all([getJSON(config.villagesUrl), getJSON(config.gridsUrl)]).then(([v, g]) => {
    // the villages of the reader's area: a leader's village, a worker's grid's, all of a town
    villageFeatures = v.features.filter((f) => f.properties.code.startsWith(scope) || scope.startsWith(f.properties.code));
    gridFeatures = g.features;
    gridsLayer.addData({ type: "FeatureCollection",
                         features: g.features.filter((f) => f.properties.code.startsWith(scope) || scope.startsWith(f.properties.code)) });
    const select = $("pt-village");
    for (const f of villageFeatures) select.append(el("option", { value: f.properties.code }, f.properties.name));
    if (villageFeatures.length === 1) select.value = villageFeatures[0].properties.code;
    fitVillage();
    document.body.dataset.villages = String(villageFeatures.length);
    changed();
  }).catch((err) => {
    $("daily-msg").textContent = t.failed + ": " + err.message;
    changed();
  });
})();
