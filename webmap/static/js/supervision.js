// The supervision desk (/supervision): the counts the town reports upward, the red and yellow cases
// and 12345 orders per village, department or category, and 督办 with a note for the roles that may.
// Data from /api/v1/supervision (cases), /orders and /summary; 督办 posts the workflow's action.
(function () {
  "use strict";
  const { el, fmt, num, byId: $, readJSON, getJSON, fetchJSON, errorsZh, message, english, dateFormat, categoryLabel } = Wangge;
  const config = readJSON("sv-config");
  const t = readJSON("sv-i18n");
  const PAGE = 50;
  const stamp = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });

  const stateLabel = (x) => (english && x.state_en) || x.state;
  const state = { grouping: "village", chosen: null, status: "red,yellow", offset: 0, summary: null };
  const groupLabel = { village: t.village, department: t.department, category: t.category };
  const noneLabel = { village: t.noVillage, department: t.noDepartment, category: "" };

  // ------------------------------------------------------------ the counts and the groups
  async function loadSummary() {
    try {
      state.summary = await getJSON(config.summaryUrl);
    } catch (_e) {
      $("sv-totals").replaceChildren(el("dd", { class: "error" }, t.failed));
      return;
    }
    $("sv-now").textContent = stamp.format(new Date(state.summary.now));
    const total = state.summary.total;
    const cells = [["open", t.open], ["red", t.red], ["yellow", t.yellow], ["supervised", t.supervised],
      ["parked", t.parked]];
    if (state.summary.orders) cells.push(["orders_red", t.ordersRed], ["orders_yellow", t.ordersYellow]);
    $("sv-totals").replaceChildren(...cells.map(([key, label]) => el("div", { class: "sv-total k-" + key, "data-key": key },
      el("dt", {}, label), el("dd", {}, num(total[key])))));
    $("sv-orders-title").hidden = $("sv-orders").hidden = !state.summary.orders;
    renderGroups();
  }

  function renderGroups() {
    $("sv-group-name").textContent = groupLabel[state.grouping];
    for (const tab of document.querySelectorAll(".sv-tabs [role=tab]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.group === state.grouping));
    }
    const rows = (state.summary ? state.summary.by[state.grouping] : []).filter(
      (g) => g.red + g.yellow + g.orders_red + g.orders_yellow + g.supervised + g.parked > 0);
    $("sv-group-table").tBodies[0].replaceChildren(...rows.map((g) => {
      const name = g.code === "none" ? noneLabel[state.grouping] : g.name;
      const chosen = state.chosen && state.chosen.code === g.code;
      return el("tr", { "data-code": g.code, class: chosen ? "chosen" : "" },
        el("th", { scope: "row" }, el("button", { type: "button", class: "sv-group", onclick: () => choose(g, name) }, name)),
        el("td", { class: g.red ? "n-red" : "" }, num(g.red)), el("td", { class: g.yellow ? "n-yellow" : "" }, num(g.yellow)),
        el("td", {}, num(g.supervised)), el("td", {}, num(g.parked)), el("td", {}, num(g.open)),
        el("td", {}, `${num(g.orders_red)} / ${num(g.orders_yellow)}`));
    }));
  }

  function choose(group, name) {
    state.chosen = group ? { code: group.code, name } : null;
    $("sv-chosen").textContent = group ? `${groupLabel[state.grouping]} · ${name}` : t.all;
    $("sv-all").hidden = !group;
    renderGroups();
    loadCases(true);
    loadOrders();
  }

  for (const tab of document.querySelectorAll(".sv-tabs [role=tab]")) {
    tab.addEventListener("click", () => { state.grouping = tab.dataset.group; choose(null); });
  }
  $("sv-all").addEventListener("click", () => choose(null));
  $("sv-status").addEventListener("change", () => { state.status = $("sv-status").value; loadCases(true); loadOrders(); });

  // ------------------------------------------------------------ the lists
  function query(extra) {
    const q = new URLSearchParams({ status: state.status, ...extra });
    if (state.chosen) q.set(state.grouping, state.chosen.code);
    return q.toString();
  }
  const hours = (h) => (Math.abs(h) >= 48 ? fmt(t.days, { d: (h / 24).toFixed(1) }) : fmt(t.hours, { h: h.toFixed(1) }));
  const dot = (status) => el("i", { class: "dot s-" + status, "aria-label": status === "red" ? t.red : t.yellow });

  function pressedNote(item) {
    const s = item.supervision;
    if (!s) return null;
    return el("p", { class: "sv-pressed" }, el("b", { class: "sv-badge" }, t.supervised),
      " ", s.count > 1 ? fmt(t.pressed, { n: s.count }) + " · " : "", stamp.format(new Date(s.at)), s.note ? " — " + s.note : "");
  }

  function caseItem(c) {
    const where = [c.village ? c.village.name : t.noVillage, c.grid ? c.grid.name : null].filter(Boolean).join(" · ");
    const left = c.status === "red" ? fmt(t.late, { t: hours(c.overdue_by.hours) }) : fmt(t.left, { t: hours(c.remaining_hours) });
    const li = el("li", { class: "sv-item st-" + c.status, "data-id": String(c.id), "data-no": c.case_no },
      el("div", { class: "sv-main" }, dot(c.status), el("b", { class: "code" }, c.case_no), " ",
        categoryLabel(c.category, true)),
      el("div", { class: "meta" }, where, " · ", c.department ? c.department.name : t.noDepartment, " · ",
        el("span", { class: "sv-state" }, stateLabel(c))),
      el("div", { class: "meta" }, `${t.deadline} ${stamp.format(new Date(c.deadline))} · `, el("span", { class: "sv-left" }, left)),
      pressedNote(c));
    actions(li, c, "incident");
    return li;
  }

  function orderItem(o) {
    const late = (Date.now() - Date.parse(o.deadline)) / 3.6e6;
    const left = o.status === "red" ? fmt(t.late, { t: hours(late) }) : fmt(t.left, { t: hours(-late) });
    const li = el("li", { class: "sv-item st-" + o.status, "data-id": String(o.id), "data-no": o.order_no },
      el("div", { class: "sv-main" }, dot(o.status), el("b", { class: "code" }, o.order_no), " ",
        english ? o.urgency.label_en : o.urgency.label_zh),
      el("p", { class: "sv-content" }, o.content || ""),
      el("div", { class: "meta" }, o.village ? o.village.name : t.noVillage, " · ",
        o.department ? o.department.name : t.noDepartment, " · ", el("span", { class: "sv-state" }, stateLabel(o)),
        o.incident && o.incident.case_no ? " · " + fmt(t.linked, { no: o.incident.case_no }) : ""),
      el("div", { class: "meta" }, `${o.clock === "accept" ? t.acceptClock : t.replyClock} ${stamp.format(new Date(o.deadline))} · `,
        el("span", { class: "sv-left" }, left)),
      pressedNote(o));
    actions(li, o, "hotline");
    return li;
  }

  // 督办: a button for the roles that may, opening a form with the note and 提交
  function actions(li, item, kind) {
    if (!item.can_supervise) return;
    const box = el("div", { class: "sv-actions" });
    box.append(el("button", { type: "button", class: "sv-press", "data-action": "supervise", onclick: () => form(li, box, item, kind) }, t.supervise));
    li.append(box);
  }

  function form(li, box, item, kind) {
    box.querySelectorAll("form").forEach((f) => f.remove());
    const note = el("textarea", { name: "note", rows: 3, maxlength: 2000, placeholder: t.note, "aria-label": t.note });
    const error = el("p", { class: "error", role: "alert" });
    const f = el("form", { class: "sv-form" }, note, error,
      el("div", { class: "sv-buttons" }, el("button", { type: "submit" }, t.send),
        el("button", { type: "button", class: "secondary", onclick: () => f.remove() }, t.cancel)));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = note.value.trim();
      if (!text) { error.textContent = t.needNote; return; }
      const body = kind === "incident" ? { action: "supervise", version: item.version, note: text }
        : { action: "supervise", version: item.version, text };
      const url = (kind === "incident" ? config.incidentUrl : config.orderUrl) + item.id + "/actions";
      f.querySelector("button[type=submit]").disabled = true;
      const r = await fetchJSON(url, { method: "POST", body }).catch(() => ({ ok: false, status: 0, answer: {} }));
      f.querySelector("button[type=submit]").disabled = false;
      if (r.ok) {
        const updated = { ...item, version: r.answer.version ?? item.version, state: r.answer.state || item.state,
          state_en: r.answer.state_en || item.state_en,
          can_supervise: false,
          supervision: { at: new Date().toISOString(), note: text, count: ((item.supervision || {}).count || 0) + 1 } };
        const fresh = kind === "incident" ? caseItem(updated) : orderItem(updated);
        fresh.append(el("p", { class: "sv-ok", role: "status" }, t.done));
        li.replaceWith(fresh);
        loadSummary();
      } else if (r.status === 409) {
        error.textContent = t.stale;
        loadCases(true);
        loadOrders();
      } else {
        error.textContent = (english ? message(r.answer) : errorsZh(r.answer)) || String(r.status || t.failed);
      }
    });
    box.append(f);
    note.focus();
  }

  let caseRequest = 0;
  async function loadCases(reset) {
    if (reset) state.offset = 0;
    const mine = ++caseRequest;
    document.body.dataset.loading = "1";
    let page;
    try {
      page = await getJSON(`${config.listUrl}?${query({ limit: PAGE, offset: state.offset })}`);
    } catch (_e) {
      if (mine === caseRequest) { $("sv-case-count").textContent = t.failed; delete document.body.dataset.loading; }
      return;
    }
    if (mine !== caseRequest) return;
    const list = $("sv-cases");
    if (reset) list.replaceChildren();
    list.append(...page.items.map(caseItem));
    state.offset += page.items.length;
    $("sv-case-count").textContent = fmt(t.count, { n: num(page.total) });
    if (!page.total) list.replaceChildren(el("li", { class: "muted" }, t.none));
    $("sv-more").hidden = state.offset >= page.total;
    delete document.body.dataset.loading;
    document.body.dataset.ready = "1";
  }
  $("sv-more").addEventListener("click", () => loadCases(false));

  let orderRequest = 0;
  async function loadOrders() {
    const list = $("sv-orders");
    if (list.hidden) return;
    const mine = ++orderRequest;
    if (state.chosen && state.grouping === "category" && state.chosen.code !== "12345") {
      list.replaceChildren(el("li", { class: "muted" }, t.noOrders));
      $("sv-order-count").textContent = "";
      return;
    }
    const extra = state.grouping === "category" ? { status: state.status } : {};
    const q = state.grouping === "category" ? new URLSearchParams(extra).toString() : query({});
    let page;
    try {
      page = await getJSON(`${config.ordersUrl}?${q}`);
    } catch (_e) {
      if (mine === orderRequest) $("sv-order-count").textContent = t.failed;
      return;
    }
    if (mine !== orderRequest) return;
    list.replaceChildren(...(page.items.length ? page.items.map(orderItem) : [el("li", { class: "muted" }, t.noOrders)]));
    $("sv-order-count").textContent = fmt(t.count, { n: num(page.total) });
  }

  loadSummary().then(() => { loadCases(true); loadOrders(); });
})();
