// The phone's cases (/m/cases): 待办 first, then the grid's (a leader: the village's) cases by state,
// search by case number; a case opens as a card (/m/cases/<id>) with its photos, a small map, the
// deadline countdown, the timeline and the actions open to the user. An action that needs photos
// takes or chooses them; every action is first kept on the phone (phone_queue.js) with its own
// idempotency key and sent at once, or when the network is back. Text reaches the page only as
// text nodes.
(function () {
  "use strict";
  const { byId: $, el, readJSON, fmt, showNet, english, dateFormat, message, categoryLabel } = Wangge;
  const config = readJSON("mc-config");
  const t = readJSON("mc-i18n");
  const actionsBox = PhoneQueue.outbox("actions", config.attachmentsUrl, config.username);
  const WORLD = "-180,-90,180,90"; // the list API wants a bbox; the scope is the reader's anyway
  const PAGE = 30;
  const TABS = [
    ["open", "已立案,立案派遣,处理中,督办"], ["reported", "待受理"], ["verifying", "待核查"],
    ["parked", "挂账"], ["closed", "结案"],
  ];
  // where the fallback (no 待办 API) looks for what awaits this role; the detail's actions decide
  const TODO_STATES = { worker: "待受理,待核查", leader: "待受理,处理中" };
  const when = dateFormat({ month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
  const state = (s) => t.states[s] || s;
  const label = (a) => (english ? a.label_en : a.label_zh) || a.label_zh || a.name;
  const reason = (answer) => (answer.errors || []).map((e) => (english ? e.en : e.zh) || e.zh).join("; ")
    || message(answer) || "";

  async function getJSON(url) { // the answer and when the server wrote it (a kept copy is older)
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error(reason(answer) || String(r.status)); e.status = r.status; throw e; }
    return { answer, date: r.headers.get("Date") };
  }
  const scopeParam = () => (config.scope.length === 15 ? "&grid=" + config.scope
    : config.scope.length === 12 ? "&village=" + config.scope : "");
  const listUrl = (states, offset, limit) => config.listUrl + "?bbox=" + WORLD + "&state=" + encodeURIComponent(states)
    + scopeParam() + "&limit=" + (limit || PAGE) + "&offset=" + (offset || 0);
  const caseUrl = (id) => config.incidentsUrl + "/" + id;

  // ------------------------------------------------------------ deadlines
  function span(ms) {
    const m = Math.max(1, Math.round(Math.abs(ms) / 60000));
    if (m >= 2880) return fmt(t.days, { n: Math.floor(m / 1440) }); // days alone: the row stays one line
    if (m >= 1440) return fmt(t.days, { n: 1 }) + (m % 1440 >= 60 ? " " + fmt(t.hours, { n: Math.floor((m % 1440) / 60) }) : "");
    if (m >= 60) return fmt(t.hours, { n: Math.floor(m / 60) }) + (m % 60 ? " " + fmt(t.minutes, { n: m % 60 }) : "");
    return fmt(t.minutes, { n: m });
  }
  function countdown(deadline, closed) {
    if (!deadline || closed) return { text: deadline ? when.format(new Date(deadline)) : t.noDeadline, cls: "" };
    const ms = new Date(deadline) - Date.now();
    return ms < 0 ? { text: fmt(t.overdue, { d: span(ms) }), cls: "s-red" } : { text: fmt(t.left, { d: span(ms) }), cls: "" };
  }

  // ------------------------------------------------------------ lists
  // an item of a list, whichever API it came from: {id, kind, number, title, state, deadline, status, url}
  const fromList = (c) => ({ id: c.id, kind: "incident", number: c.case_no, title: categoryLabel(c.category) + (c.address ? " · " + c.address : ""),
                             state: c.state, deadline: c.deadline, status: c.status, url: config.casesUrl + "/" + c.id });
  const fromInbox = (i) => ({ id: i.id, kind: i.kind, number: i.number, title: (english && i.title_en) || i.title, state: i.state,
                              deadline: i.deadline, status: i.deadline_status, url: i.kind === "incident" ? config.casesUrl + "/" + i.id : i.page || i.url });

  const known = new Map(); // the cases listed since the page opened, to search offline
  function row(item) {
    known.set(item.kind + item.id, item);
    const closed = item.state === "结案" || item.state === "作废";
    const due = countdown(item.deadline, closed);
    const status = item.status === "red" || due.cls ? "s-red" : item.status === "yellow" ? "s-yellow" : "s-normal";
    return el("li", {},
      el("a", { href: item.url, class: "mc-row", "data-id": String(item.id), "data-kind": item.kind,
                onclick: (ev) => { if (item.kind !== "incident") return; ev.preventDefault(); openCase(item.id, true); } },
        el("span", { class: "mc-no" }, el("span", { class: "dot " + status }), item.number,
           item.kind === "hotline" ? " · " + t.order : null),
        el("span", { class: "mc-state" }, state(item.state)),
        el("span", { class: "mc-title" }, item.title || ""),
        el("span", { class: "mc-due " + due.cls }, due.text)));
  }

  function showSynced(date) {
    if (date) localStorage.setItem("wangge-m-synced", date);
    const last = localStorage.getItem("wangge-m-synced");
    $("mc-synced").textContent = last ? fmt(t.synced, { time: when.format(new Date(last)) }) : t.never;
  }

  let warming = Promise.resolve(); // the cards being read for the network cut

  async function loadTodo() {
    let items;
    let date;
    try {
      const got = await getJSON(config.inboxUrl + "?limit=50");
      items = got.answer.items.map(fromInbox);
      date = got.date;
      // the cards of what awaits me are read now, so that they open with the network cut
      warming = Promise.all(items.filter((i) => i.kind === "incident").slice(0, 20)
        .map((i) => getJSON(caseUrl(i.id)).catch(() => null)));
    } catch (e) {
      // (offline, the kept copy of the fallback's lists answers)
      if ((e.status && e.status !== 404) || !TODO_STATES[config.role]) throw e;
      // no 待办 API here: the cases in the states this role acts on, kept where the detail offers an
      // action (the details read are kept for the network cut too)
      const got = await getJSON(listUrl(TODO_STATES[config.role], 0, 50));
      date = got.date;
      const details = await Promise.all(got.answer.items.map((c) => getJSON(caseUrl(c.id)).then((d) => d.answer, () => null)));
      items = got.answer.items.filter((_c, i) => details[i] && details[i].actions.length).map(fromList);
    }
    $("mc-todo").replaceChildren(...items.map(row));
    $("mc-todo-count").textContent = items.length ? String(items.length) : "";
    $("mc-todo-empty").hidden = items.length > 0;
    return date;
  }

  let tab = TABS[0];
  let shown = 0;
  async function loadTab(more) {
    const offset = more ? shown : 0;
    const got = await getJSON(listUrl(tab[1], offset));
    const rows = got.answer.items.map(fromList).map(row);
    if (more) $("mc-list").append(...rows); else $("mc-list").replaceChildren(...rows);
    shown = offset + rows.length;
    $("mc-more").hidden = shown >= got.answer.total;
    $("mc-list-empty").hidden = shown > 0;
    return got.date;
  }

  function drawTabs() {
    $("mc-tabs").replaceChildren(...TABS.map((x) => el("button", {
      type: "button", role: "tab", class: "mc-tab", "data-tab": x[0], "aria-selected": String(x === tab),
      onclick: () => { tab = x; drawTabs(); loadTab(false).catch(showLoadError); },
    }, t.tabs[x[0]])));
  }

  function showLoadError(e) { $("mc-synced").textContent = fmt(t.loadFailed, { reason: e.message }); }

  async function loadLists() {
    try {
      const dates = await Promise.all([loadTodo(), loadTab(false)]);
      const newest = Math.max(...dates.map((d) => (d ? Date.parse(d) : 0)));
      showSynced(newest ? new Date(newest).toISOString() : null);
      await warming; // (listed means kept: the cards of the 待办 too)
      document.body.dataset.listed = String(Number(document.body.dataset.listed || 0) + 1);
    } catch (e) {
      if (e instanceof TypeError) showSynced(null); // no network and nothing kept
      else showLoadError(e);
    }
  }

  $("mc-more").addEventListener("click", () => loadTab(true).catch(showLoadError));
  $("mc-search").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = $("mc-q").value.trim();
    $("mc-found").replaceChildren();
    if (q.length < 2) { $("mc-search-msg").textContent = t.searchShort; return; }
    try {
      const { answer } = await getJSON(config.searchUrl + "?q=" + encodeURIComponent(q));
      $("mc-search-msg").textContent = answer.items.length ? fmt(t.found, { n: answer.items.length }) : t.notFound;
      $("mc-found").replaceChildren(...answer.items.map(fromList).map(row));
      if (answer.items.length === 1 && answer.items[0].matched_by === "case_no") openCase(answer.items[0].id, true);
    } catch (e) {
      if (!(e instanceof TypeError)) { $("mc-search-msg").textContent = fmt(t.loadFailed, { reason: e.message }); return; }
      // no network: among the cases last synced
      const hits = Array.from(known.values()).filter((i) => (i.number || "").includes(q) || (i.title || "").includes(q));
      $("mc-search-msg").textContent = hits.length ? fmt(t.found, { n: hits.length }) : t.notFound;
      $("mc-found").replaceChildren(...hits.slice(0, 20).map(row));
    }
  });

  // ------------------------------------------------------------ the card
  let current = null; // the case as last read
  let map = null;
  let grids = null;

  function showHome() {
    current = null;
    $("mc-card").hidden = true;
    $("mc-home").hidden = false;
  }

  async function openCase(id, push) {
    if (push) history.pushState({ id }, "", config.casesUrl + "/" + id);
    $("mc-home").hidden = true;
    $("mc-card").hidden = false;
    $("mc-result").textContent = "";
    $("mc-result").className = "mc-result";
    $("mc-form").hidden = true;
    window.scrollTo(0, 0);
    try {
      const { answer } = await getJSON(caseUrl(id));
      renderCase(answer);
    } catch (e) {
      $("mc-detail").replaceChildren(el("p", { class: "error" }, e instanceof TypeError ? t.never : fmt(t.loadFailed, { reason: e.message })));
      $("mc-actions").replaceChildren();
      $("mc-timeline").replaceChildren();
    }
  }

  function field(name, value) { return value ? [el("dt", {}, name), el("dd", {}, value)] : []; }

  function renderCase(c) {
    current = c;
    document.body.dataset.caseState = c.state;
    const closed = c.state === "结案" || c.state === "作废";
    const due = countdown(c.deadline, closed);
    const photos = c.photos.length
      ? el("div", { class: "thumbs" }, ...c.photos.map((p) => el("a", { href: p.url, target: "_blank" }, el("img", { src: p.url, alt: t.photos }))))
      : el("p", { class: "muted" }, t.noPhotos);
    $("mc-detail").replaceChildren(
      el("h1", { id: "mc-title" }, c.case_no),
      el("p", { class: "mc-badges" }, el("span", { class: "mc-badge", id: "mc-state" }, state(c.state)),
         el("span", { class: "mc-due " + due.cls, id: "mc-due" }, due.text),
         c.deadline_provisional ? el("span", { class: "muted" }, " · " + t.provisional) : null),
      el("dl", { class: "mc-facts" },
        ...field(t.category, categoryLabel(c.category)), ...field(t.deadline, c.deadline ? when.format(new Date(c.deadline)) : null),
        ...field(t.reported, when.format(new Date(c.reported_at))), ...field(t.address, c.address),
        ...field(t.grid, c.grid ? c.grid.name : null), ...field(t.department, c.department ? c.department.name : null)),
      el("p", { class: "mc-desc" }, c.description || ""),
      el("h2", {}, t.photos), photos);
    renderActions(c);
    renderTimeline(c.timeline || []);
    drawMap(c);
  }

  function renderActions(c) {
    const open = c.actions || [];
    $("mc-actions").replaceChildren(...(open.length
      ? open.map((a) => el("button", { type: "button", class: "mc-btn mc-act", "data-action": a.name,
                                       onclick: () => openForm(a) }, label(a)))
      : [el("p", { class: "muted" }, t.noActions)]));
  }

  function renderTimeline(events) {
    $("mc-timeline").replaceChildren(...events.slice().reverse().map((e) => el("li", {},
      el("span", { class: "mc-when" }, when.format(new Date(e.at))),
      el("strong", {}, english && e.label_en ? e.label_en : e.label_zh),
      el("span", { class: "mc-who" }, (english ? e.who_en : e.who) || e.who || t.system),
      e.note ? el("span", { class: "mc-note" }, e.note) : null,
      e.photos && e.photos.length ? el("span", { class: "thumbs mc-note" }, ...e.photos.map((sha) => {
        const url = config.attachmentsUrl + "/" + sha;
        return el("a", { href: url, target: "_blank" }, el("img", { src: url, alt: fmt(t.photoOf, { action: e.label_zh }) }));
      })) : null)));
  }

  async function drawMap(c) {
    const at = [c.location.lat, c.location.lng];
    if (!map) {
      map = L.map($("mc-map"), { zoomControl: true, attributionControl: false });
      Wangge.baseLayer(map, config);
      try {
        grids = grids || (await getJSON(config.gridsUrl)).answer;
        map.grids = L.geoJSON(grids, { style: { color: "#1f4e79", weight: 1, fillOpacity: 0.05 }, interactive: false }).addTo(map);
      } catch (_e) { /* the point alone */ }
    }
    map.invalidateSize();
    // the case's grid in view, with its point
    const own = map.grids && c.grid && map.grids.getLayers().find((l) => l.feature.properties.code === c.grid.code);
    if (map.grids) map.grids.resetStyle();
    if (own) {
      own.setStyle({ weight: 3, fillOpacity: 0.12 });
      map.fitBounds(own.getBounds().extend(at), { padding: [10, 10] });
    } else {
      map.setView(at, 16);
    }
    if (map.marker) map.marker.setLatLng(at);
    else map.marker = L.circleMarker(at, { radius: 9, color: "#c0392b", weight: 3, fillOpacity: 0.6 }).addTo(map);
  }

  // ------------------------------------------------------------ the action form
  function openForm(action) {
    const needs = new Set(action.needs);
    const form = $("mc-form");
    const parts = [el("h2", {}, label(action))];
    parts.push(el("label", { for: "mc-note" }, t.note, needs.has("note") ? el("span", { class: "req" }, " *") : null),
               el("textarea", { id: "mc-note", name: "note", rows: "3", maxlength: "2000", placeholder: t.notePlaceholder }));
    // every action may carry photos of the site; those that need them say so
    const input = el("input", { id: "mc-photos", name: "photos", type: "file", accept: "image/*", capture: "environment", multiple: "" });
    const thumbs = el("div", { class: "thumbs", id: "mc-thumbs" });
    input.addEventListener("change", () => thumbs.replaceChildren(...Array.from(input.files).slice(0, config.maxPhotos)
      .map((f) => el("img", { src: URL.createObjectURL(f), alt: f.name }))));
    parts.push(el("label", { for: "mc-photos", class: "mc-photo-label" }, t.photosNeeded,
                  needs.has("photos") ? el("span", { class: "req" }, " *") : null), input, thumbs);
    if (needs.has("satisfaction")) {
      parts.push(el("label", { for: "mc-satisfaction" }, t.satisfaction),
                 el("select", { id: "mc-satisfaction", name: "satisfaction" }, el("option", { value: "" }, "—"),
                    ...[5, 4, 3, 2, 1].map((n) => el("option", { value: String(n) }, "★".repeat(n)))));
    }
    if (needs.has("department")) {
      const select = el("select", { id: "mc-department", name: "department" }, el("option", { value: "" }, t.chooseDepartment));
      getJSON("/api/v1/departments").then(({ answer }) => select.append(...answer.items.filter((d) => d.code !== "zongzhi")
        .map((d) => el("option", { value: d.code }, d.name)))).catch(() => null);
      parts.push(el("label", { for: "mc-department" }, t.department), select);
    }
    parts.push(el("p", { class: "error", id: "mc-errors", role: "alert" }),
               el("div", { class: "mc-pair" },
                 el("button", { type: "submit", class: "mc-btn primary" }, t.submit),
                 el("button", { type: "button", class: "mc-btn", onclick: () => { form.hidden = true; } }, t.cancel)));
    form.replaceChildren(...parts);
    form.dataset.action = action.name;
    form.onsubmit = (ev) => { ev.preventDefault(); submit(action, needs); };
    form.hidden = false;
    form.scrollIntoView({ block: "nearest" });
  }

  async function submit(action, needs) {
    const value = (id) => ($(id) ? $(id).value.trim() : "");
    const files = $("mc-photos") ? Array.from($("mc-photos").files) : [];
    const errors = [];
    if (needs.has("note") && !value("mc-note")) errors.push(t.needNote);
    if (needs.has("photos") && !files.length) errors.push(t.needPhotos);
    if (needs.has("department") && !value("mc-department")) errors.push(t.needDepartment);
    if (needs.has("satisfaction") && !value("mc-satisfaction")) errors.push(t.needSatisfaction);
    if (files.length > config.maxPhotos) errors.push(t.tooMany);
    for (const f of files) if (f.size > config.maxPhotoBytes) errors.push(fmt(t.tooBig, { name: f.name }));
    $("mc-errors").textContent = errors.join(" ");
    if (errors.length) return;
    const payload = { action: action.name, version: current.version, note: value("mc-note") || null };
    if (needs.has("department")) payload.department = value("mc-department");
    if (needs.has("satisfaction")) payload.satisfaction = Number(value("mc-satisfaction"));
    const item = {
      key: PhoneQueue.newKey("a"), created: new Date().toISOString(), url: caseUrl(current.id) + "/actions",
      payload, files: files.map((f) => ({ name: f.name, blob: f })), photoIds: [], state: "queued",
      incident: current.id, case_no: current.case_no, label: label(action),
    };
    await actionsBox.put(item);
    $("mc-form").hidden = true;
    say(t.sending, "");
    await flush();
    const still = (await actionsBox.all()).find((i) => i.key === item.key && i.state === "queued");
    if (still) say(fmt(t.queued, { case: item.case_no, action: item.label }), "mc-queued");
  }

  function say(text, cls) {
    $("mc-result").textContent = text;
    $("mc-result").className = "mc-result " + cls;
  }

  // ------------------------------------------------------------ the outbox
  const flush = () => actionsBox.flush({
    sent: (item, answer) => {
      if (current && current.id === item.incident) {
        if (answer.timeline) renderCase(answer);
        say(fmt(t.done, { action: item.label, state: state(answer.state) }), "ok");
      }
    },
    refused: (item, answer) => {
      if (current && current.id === item.incident) {
        say(fmt(t.rejected, { reason: reason(answer) || item.status }), "error");
        if (answer.current) renderCase(answer.current); // the case changed meanwhile: as it now is
      }
    },
    login: () => say(t.login, "error"),
  }).finally(renderOutbox);

  async function renderOutbox() {
    const items = await actionsBox.all();
    const waiting = items.filter((i) => i.state === "queued").length;
    document.body.dataset.pending = String(waiting);
    $("mc-outbox").hidden = !items.length;
    $("mc-queue").replaceChildren(...items.map((i) => el("li", { class: i.state === "queued" ? "" : "error" },
      i.case_no + " 「" + i.label + "」 ",
      i.state === "queued" ? t.waiting : fmt(t.rejected, { reason: reason(i.answer || {}) || i.status }),
      i.state === "queued" ? null : el("button", { type: "button", class: "mc-btn mc-small",
                                                   onclick: () => actionsBox.remove(i.key).then(renderOutbox) }, t.discard))));
    showNet($("net"), t.online, t.offline);
  }

  // ------------------------------------------------------------ start
  function route() {
    const m = location.pathname.match(/\/cases\/(\d+)$/);
    if (m) openCase(Number(m[1]), false); else showHome();
  }
  $("mc-back").addEventListener("click", () => { history.pushState({}, "", config.casesUrl); showHome(); loadLists(); });
  window.addEventListener("popstate", route);
  window.addEventListener("online", () => { flush().then(loadLists); });
  window.addEventListener("offline", renderOutbox);
  // once the service worker controls the page, read the lists again through it, so they are kept
  window.addEventListener("wangge:sw-ready", loadLists);
  // what awaits me changes live: when the stream says a case or an order of my scope changed, the
  // lists are read again (once per burst), and the card shown if it is that case. A phone in a pocket
  // gives its stream back (a server thread each) and reads the lists again when it is looked at.
  let relisting = null;
  const changed = (ev) => {
    if (current && String(current.id) === ev.lastEventId && ev.type === "incident" && $("mc-form").hidden) {
      getJSON(caseUrl(current.id)).then(({ answer }) => { if (current && current.id === answer.id) renderCase(answer); }, () => null);
    }
    clearTimeout(relisting);
    relisting = setTimeout(loadLists, 800);
  };
  function follow() {
    const source = Wangge.stream(config.streamUrl);
    if (source) for (const type of ["incident", "hotline"]) source.addEventListener(type, changed);
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { Wangge.release(config.streamUrl); return; }
    follow();
    if (!current) loadLists();
  });
  follow();
  setInterval(flush, 30000);
  setInterval(() => {
    if (current) { const due = countdown(current.deadline, current.state === "结案"); $("mc-due").textContent = due.text; }
  }, 60000);
  drawTabs();
  route();
  renderOutbox().then(flush).then(loadLists);
})();
