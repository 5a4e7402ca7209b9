// The desk of what awaits me (待办): departments, leaders, the town and the district. The items are
// GET /api/v1/inbox (at most 500, most urgent first: {items, total, overdue}); the filters (type,
// state, overdue only, number or title) and the pages of PAGE rows work on them here. A case opens
// in the case panel (case_panel.js); a 12345 order opens on the order desk (/hotline?order=<id>).
// A server without the inbox (404) lists the open cases of the user's scope (GET /api/v1/map/list),
// newest first. The list is read again, once per burst, when the stream says something changed.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, el, stamp, english, getJSON, stream, categoryLabel } = Wangge;
  const config = readJSON("ib-config");
  const t = readJSON("ib-i18n");
  const PAGE = 30;
  const MAX = 500; // the inbox's page limit
  const OPEN = "待受理,已立案,立案派遣,处理中,待核查,督办,挂账";
  const WORLD = "-180,-90,180,90";

  let items = [];
  let total = 0;
  let overdue = 0;
  let page = 0;
  let fallback = false;

  // A case of the map list in the inbox's shape.
  function fromList(c) {
    return {
      kind: "incident", id: c.id, number: c.case_no, title: [categoryLabel(c.category), c.address].filter(Boolean).join(" · "),
      state: c.state, state_en: c.state_en, deadline: c.deadline,
      deadline_status: (c.status && c.status.code) || "normal", actions: [], supervised: c.state === "督办", note: null,
      reported_at: c.reported_at,
    };
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const kind = $("f-kind").value;
    let answer;
    try {
      if (!fallback) {
        const r = await fetch(config.inboxUrl + "?limit=" + MAX + (kind ? "&kind=" + kind : ""),
                              { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.status === 404) fallback = true;
        else if (!r.ok) throw new Error(String(r.status));
        else answer = await r.json();
      }
      if (fallback) {
        const list = kind === "hotline" ? { items: [], total: 0 }
          : await getJSON(config.listUrl + "?bbox=" + WORLD + "&state=" + encodeURIComponent(OPEN) + "&limit=200&sort=newest");
        const mapped = list.items.map(fromList);
        answer = { items: mapped, total: list.total, overdue: mapped.filter((i) => i.deadline_status === "red").length };
      }
    } catch (_e) {
      if (mine === seq) $("ib-total").textContent = t.failed;
      return;
    }
    if (mine !== seq) return;
    items = answer.items;
    total = answer.total;
    overdue = answer.overdue || 0;
    fillStates();
    draw();
    document.body.dataset.inboxReady = "1";
  }

  function fillStates() {
    const select = $("f-state");
    const chosen = select.value;
    const states = [...new Set(items.map((i) => i.state))];
    select.replaceChildren(select.options[0]);
    for (const s of states) {
      const shown = items.find((i) => i.state === s);
      select.append(el("option", { value: s }, (english && shown.state_en) || s));
    }
    select.value = states.includes(chosen) ? chosen : "";
  }

  function filtered() {
    const state = $("f-state").value;
    const late = $("f-overdue").checked;
    const q = $("f-q").value.trim().toLowerCase();
    return items.filter((i) => (!state || i.state === state) && (!late || i.deadline_status === "red")
      && (!q || String(i.number).toLowerCase().includes(q) || [i.title, i.title_en].some((x) => String(x || "").toLowerCase().includes(q))));
  }

  // where an item is worked: a case in the panel here, an order on the 12345 desk, any other kind
  // (a task, a reminder) on the page its item names (item.page)
  const pageOf = (item) => (item.kind === "hotline" ? config.hotlineUrl + "?order=" + encodeURIComponent(item.id) : item.page);

  function open(item) {
    if (item.kind !== "incident") {
      window.location.href = pageOf(item);
      return;
    }
    for (const tr of $("ib-rows").children) tr.classList.toggle("active", tr.dataset.id === String(item.id) && tr.dataset.kind === item.kind);
    panel.open(item.id);
  }

  function row(item) {
    const status = item.deadline_status || "normal";
    const number = item.kind !== "incident" ? el("a", { href: pageOf(item) }, item.number)
      : el("button", { type: "button", class: "link-like" }, item.number);
    const title = el("td", { class: "title" }, (english && item.title_en) || item.title || "");
    if (item.supervised) {
      title.append(el("div", { class: "supervised" }, el("span", { class: "mark" }, t.supervised),
                      item.note ? " " + item.note : ""));
    }
    const actions = (item.actions || []).map((a) => (english ? a.label_en || a.label_zh : a.label_zh)).join(" · ");
    const tr = el("tr", { "data-id": item.id, "data-kind": item.kind, class: "st-" + status, onclick: () => open(item) },
      el("td", { class: "kind" }, t[item.kind] || item.kind), el("td", { class: "number" }, number), title,
      el("td", {}, (english && item.state_en) || item.state),
      el("td", { class: "deadline" }, el("i", { class: "dot st-" + status }), item.deadline ? stamp(item.deadline) : t.none,
         el("span", { class: "status" }, t[status] || "")),
      el("td", { class: "acts muted" }, actions));
    if (panel.currentId() === item.id && item.kind === "incident") tr.classList.add("active");
    return tr;
  }

  function draw() {
    const shown = filtered();
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const slice = shown.slice(page * PAGE, page * PAGE + PAGE);
    $("ib-rows").replaceChildren(...slice.map(row));
    $("ib-total").textContent = fmt(t.total, { n: total });
    $("ib-overdue").textContent = overdue ? fmt(t.overdue, { n: overdue }) : "";
    $("ib-overdue").dataset.count = String(overdue);
    const note = fallback ? t.fallback : total > items.length ? fmt(t.capped, { n: total, m: items.length }) : "";
    $("ib-note").textContent = note;
    $("ib-note").hidden = !note;
    $("ib-empty").hidden = shown.length > 0;
    $("ib-page").hidden = shown.length <= PAGE;
    $("ib-page-info").textContent = shown.length
      ? fmt(t.pageInfo, { a: page * PAGE + 1, b: page * PAGE + slice.length, n: shown.length }) : "";
    $("ib-prev").disabled = page === 0;
    $("ib-next").disabled = page >= pages - 1;
  }

  const panel = CasePanel({ config, onChange: () => later(300) });

  let pending = null;
  function later(ms) {
    clearTimeout(pending);
    pending = setTimeout(load, ms);
  }
  $("ib-prev").addEventListener("click", () => { page = Math.max(0, page - 1); draw(); });
  $("ib-next").addEventListener("click", () => { page += 1; draw(); });
  $("f-kind").addEventListener("change", () => { page = 0; load(); });
  for (const id of ["f-state", "f-overdue"]) $(id).addEventListener("change", () => { page = 0; draw(); });
  $("f-q").addEventListener("input", () => { page = 0; draw(); });
  $("ib-filters").addEventListener("submit", (ev) => ev.preventDefault());

  const source = stream(config.streamUrl);
  if (source) {
    for (const type of ["incident", "hotline"]) {
      source.addEventListener(type, (ev) => {
        later(800);
        if (type === "incident") panel.update(JSON.parse(ev.data)); // an order's id is not a case's
      });
    }
  }
  load();
  // /inbox?case=<id> (the 12345 desk links a linked case here): that case's panel at once
  const asked = new URLSearchParams(location.search).get("case");
  if (asked && /^\d+$/.test(asked)) panel.open(Number(asked));
})();
