// The 12345 desk (/hotline): the list of orders with their countdowns, the Excel import, and the
// order panel with the steps open to the signed-in role. Data from /api/v1/hotline; text reaches
// the page only as text nodes.
(function () {
  "use strict";
  const { byId, readJSON, el, fmt, english, dateFormat, fetchJSON, getJSON, message, errorsZh, csrfToken, stream } = Wangge;
  const config = readJSON("h-config");
  const t = readJSON("h-i18n");
  const PAGE = 20;
  const list = byId("h-list");
  const panel = byId("h-panel");
  let offset = 0;
  let total = 0;
  let items = [];
  let current = null; // the order open in the panel
  let departments = null;
  let map = null;

  const thisYear = new Date().getFullYear();
  const shortFmt = dateFormat({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const longFmt = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const when = (iso) => {
    if (!iso) return "—";
    const d = new Date(iso);
    return (d.getFullYear() === thisYear ? shortFmt : longFmt).format(d);
  };
  const label = (x) => (english ? x.label_en || x.label_zh : x.label_zh);
  const stateText = (o) => (english ? o.state_en || o.state : o.state);
  const reason = (answer, status) => (english ? message(answer) : errorsZh(answer)) || String(status);

  // ------------------------------------------------------------ countdowns
  function span(ms) {
    const m = Math.max(0, Math.round(ms / 60000));
    if (m < 60) return fmt(t.minutes, { m });
    const h = Math.floor(m / 60);
    if (h < 48) return fmt(t.hours, { h, m: m % 60 });
    return fmt(t.days, { d: Math.floor(h / 24), h: h % 24 });
  }
  // One deadline as a badge: "签收 剩 12 分钟" (its colour from the server's working clock)
  function countdown(kind, c) {
    let text;
    if (c.status === "done") text = c.on_time ? t.done : t.doneLate;
    else if (c.status === "stopped") text = t.stopped;
    else {
      const ms = new Date(c.deadline) - Date.now();
      text = ms >= 0 ? fmt(t.left, { t: span(ms) }) : fmt(t.late, { t: span(-ms) });
    }
    const status = c.status === "done" && !c.on_time ? "late" : c.status;
    return el("span", { class: "cd c-" + status, "data-kind": kind, "data-status": c.status,
      title: (kind === "accept" ? t.acceptBy : t.replyBy) + " " + when(c.deadline) + (c.working ? " · " + t.onWorkClock : "") },
    (kind === "accept" ? t.accept : t.reply) + " " + text);
  }

  function limitsLegend() {
    const parts = config.limits.map((l) => fmt(l.unit === "minutes" ? t.limitMinutes : t.limitWorkDays,
      { label: label(l), n: l.amount }));
    byId("h-limits").textContent = fmt(t.limits, { list: parts.join(english ? ", " : "、"), days: config.replyDays });
  }

  // ------------------------------------------------------------ the list
  function query() {
    const p = new URLSearchParams({ limit: PAGE, offset });
    const state = byId("h-state").value;
    if (state) p.set("state", state);
    if (byId("h-overdue").checked) p.set("overdue", "true");
    return config.ordersUrl + "?" + p;
  }

  function row(o) {
    const li = el("li", { "data-id": o.id, tabindex: "0", class: o.overdue ? "late" : "" },
      el("div", { class: "h-row1" },
        el("strong", { class: "no" }, o.order_no), " ",
        el("span", { class: "st" }, stateText(o)), " ",
        el("span", { class: "urg u-" + o.urgency.code }, label(o.urgency))),
      el("div", { class: "h-row2" }, countdown("accept", o.deadlines.accept), " ", countdown("reply", o.deadlines.reply)),
      el("div", { class: "h-row3 muted" }, o.content.length > 60 ? o.content.slice(0, 60) + "…" : o.content));
    if (current && current.id === o.id) li.classList.add("active");
    const open = () => openOrder(o.id, true);
    li.addEventListener("click", open);
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") open(); });
    return li;
  }

  function renderList() {
    list.replaceChildren(...(items.length ? items.map(row) : [el("li", { class: "muted empty" }, t.none)]));
    const pages = Math.max(1, Math.ceil(total / PAGE));
    byId("h-total").textContent = fmt(t.total, { n: total });
    byId("h-page").textContent = fmt(t.page, { p: Math.floor(offset / PAGE) + 1, pages });
    byId("h-prev").disabled = offset === 0;
    byId("h-next").disabled = offset + PAGE >= total;
  }

  let listSeq = 0; // only the latest request draws the list: an older answer arriving late is dropped
  async function loadList() {
    const mine = ++listSeq;
    document.body.dataset.loading = "1";
    try {
      const answer = await getJSON(query());
      if (mine !== listSeq) return;
      items = answer.items;
      total = answer.total;
      renderList();
    } catch (e) {
      if (mine === listSeq) list.replaceChildren(el("li", { class: "error" }, t.failed));
    } finally {
      if (mine === listSeq) delete document.body.dataset.loading;
    }
  }

  // ------------------------------------------------------------ the panel
  function field(name, ...value) {
    return [el("dt", {}, name), el("dd", {}, ...value)];
  }

  function linkedCase(o) {
    if (!o.incident) return t.noCase;
    const c = o.incident;
    const where = c.grid ? " · " + t.grid + " " + c.grid.name : "";
    return el("span", {}, el("a", { class: "h-case", href: config.caseUrl + c.id }, c.case_no), " " + c.state + where);
  }

  function timeline(o) {
    return el("ol", { class: "h-timeline" }, ...o.timeline.map((e) => {
      const who = (english ? e.who_en : e.who) || e.who || "";
      const caseNote = e.data && e.data.case ? (english ? e.data.case.message_en : e.data.case.message_zh) : null;
      return el("li", { "data-action": e.action },
        el("time", { datetime: e.at }, when(e.at)), " ",
        el("strong", {}, english ? e.label_en : e.label_zh), " ",
        el("span", { class: "who" }, who),
        e.department ? el("span", { class: "dept" }, " → " + e.department.name) : null,
        e.note ? el("div", { class: "note" }, e.note) : null,
        caseNote ? el("div", { class: "note case-note" }, t.settled + ": " + caseNote) : null);
    }));
  }

  function showMap(o) {
    if (map) { map.remove(); map = null; }
    if (!o.location || !window.L) return;
    map = L.map("h-map", { zoomControl: true, attributionControl: false }).setView([o.location.lat, o.location.lng], 16);
    Wangge.baseLayer(map, config);
    L.circleMarker([o.location.lat, o.location.lng], { radius: 8, color: "#c0392b", fillOpacity: 0.8 }).addTo(map);
  }

  function say(text, kind) {
    const box = byId("h-msg");
    if (!box) return;
    box.textContent = text;
    box.className = "h-msg " + (kind || "ok");
  }

  function renderOrder(o, note) {
    current = o;
    const p = o.petitioner;
    const actions = el("div", { class: "h-actions" }, ...(o.actions.length
      ? o.actions.map((a) => el("button", { type: "button", "data-action": a.name, onclick: () => startAction(a) }, label(a)))
      : [el("span", { class: "muted" }, t.noActions)]));
    const dl = el("dl", { class: "h-fields" },
      ...field(t.channel, label(o.channel)),
      ...field(t.urgency, label(o.urgency)),
      ...field(t.petitioner, (p.name || "—") + " · " + (p.phone || "—") + (p.masked ? " (" + t.masked + ")" : "")),
      ...field(t.dispatchedAt, when(o.dispatched_at)),
      ...field(t.address, o.address || "—"),
      ...field(t.case, linkedCase(o)),
      ...(o.department ? field(t.department, o.department.name) : []),
      ...(o.instruction ? field(t.instruction, o.instruction) : []),
      ...(o.draft ? field(t.draft, o.draft) : []),
      ...(o.reply ? field(t.replyText, o.reply) : []));
    const counters = [o.return_count ? fmt(t.returns, { n: o.return_count }) : null,
      o.supervise_count ? fmt(t.supervised, { n: o.supervise_count }) : null].filter(Boolean).join(" · ");
    panel.replaceChildren(
      el("h2", {}, o.order_no, " ", el("span", { class: "st" }, stateText(o))),
      el("div", { id: "h-msg", class: "h-msg", role: "status", "aria-live": "polite" }),
      el("section", { class: "h-act", "aria-label": t.actions }, el("h3", {}, t.actions), actions,
        el("div", { id: "h-form-slot" })),
      el("p", { class: "h-content" }, o.content),
      el("div", { class: "h-deadlines" }, countdown("accept", o.deadlines.accept), " ", countdown("reply", o.deadlines.reply),
        el("span", { class: "muted" }, " " + t.acceptBy + " " + when(o.deadlines.accept.deadline) + " · " + t.replyBy + " "
          + when(o.deadlines.reply.deadline) + (counters ? " · " + counters : ""))),
      dl,
      o.location ? el("div", { id: "h-map", class: "h-map", "aria-label": t.map }) : null,
      el("h3", {}, t.timeline), timeline(o));
    showMap(o);
    if (note) say(note.text, note.kind);
    for (const li of list.children) li.classList.toggle("active", li.dataset.id === String(o.id));
  }

  async function openOrder(id, scroll) {
    const r = await fetchJSON(config.orderUrl + encodeURIComponent(id));
    if (!r.ok) {
      panel.replaceChildren(el("p", { class: "error" }, r.status === 404 ? t.notFound : reason(r.answer, r.status)));
      return;
    }
    renderOrder(r.answer);
    const url = new URL(location.href);
    url.searchParams.set("order", id);
    history.replaceState(null, "", url);
    if (scroll && window.matchMedia("(max-width: 900px)").matches) panel.scrollIntoView({ block: "start" });
  }

  // the open order as another desk left it (this desk's own step is drawn already, with its message)
  async function refreshOpen() {
    const shown = current;
    const r = await fetchJSON(config.orderUrl + encodeURIComponent(shown.id));
    if (r.ok && current === shown && r.answer.version !== shown.version && !byId("h-form-slot").children.length) {
      renderOrder(r.answer);
    }
  }

  // ------------------------------------------------------------ actions
  async function deptOptions() {
    if (!departments) departments = (await getJSON(config.departmentsUrl)).items.filter((d) => d.code !== "zongzhi");
    return [el("option", { value: "" }, t.chooseDept), ...departments.map((d) => el("option", { value: d.code }, d.name))];
  }

  async function startAction(a) {
    const slot = byId("h-form-slot");
    if (!a.needs.length) { slot.replaceChildren(); return send(a, {}); }
    const form = el("form", { class: "h-form", "data-action": a.name },
      el("h4", {}, label(a)),
      a.needs.includes("department")
        ? el("label", {}, t.department, el("select", { name: "department" }, ...(await deptOptions()))) : null,
      a.needs.includes("text")
        ? el("label", {}, t.text, el("textarea", { name: "text", rows: "4", maxlength: "4000" })) : null,
      el("div", { class: "error", role: "alert" }),
      el("div", { class: "h-form-buttons" },
        el("button", { type: "submit" }, t.submit), " ",
        el("button", { type: "button", class: "secondary", onclick: () => slot.replaceChildren() }, t.cancel)));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = {};
      if (form.text) body.text = form.text.value;
      if (form.department) body.department = form.department.value;
      send(a, body, form);
    });
    slot.replaceChildren(form);
    (form.querySelector("textarea, select") || form).focus();
  }

  async function send(a, fields, form) {
    const r = await fetchJSON(config.orderUrl + current.id + "/actions",
      { method: "POST", body: { action: a.name, version: current.version, ...fields } });
    if (r.ok) {
      let text = fmt(t.acted, { label: label(a) });
      if (r.answer.case_settlement) {
        const s = r.answer.case_settlement;
        text += "; " + t.settled + ": " + (english ? s.message_en : s.message_zh);
      }
      if (r.answer.visible === false) panel.replaceChildren(el("p", { id: "h-msg", class: "h-msg ok", role: "status" }, text));
      else renderOrder(r.answer, { text, kind: "ok" });
      loadList();
    } else if (r.status === 409) {
      renderOrder(r.answer.current, { text: t.stale, kind: "warn" });
      loadList();
    } else if (form) {
      form.querySelector(".error").textContent = reason(r.answer, r.status);
    } else {
      say(reason(r.answer, r.status), "error");
    }
  }

  // ------------------------------------------------------------ the import
  const importForm = byId("h-import");
  if (importForm) {
    importForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = byId("h-import-result");
      const dry = byId("h-dry").checked;
      out.className = "h-result";
      out.replaceChildren(dry ? t.checking : t.importing);
      const data = new FormData();
      data.append("file", byId("h-file").files[0]);
      if (dry) data.append("dry_run", "true");
      let r;
      try {
        r = await fetch(config.importUrl, { method: "POST", body: data, credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
      } catch (e) {
        out.replaceChildren(t.failed);
        return;
      }
      const answer = await r.json().catch(() => ({}));
      if (!r.ok) {
        out.className = "h-result error";
        const head = el("p", {}, english ? message(answer) : answer.message_zh || String(r.status));
        const rows = (answer.errors || []).map((e) => el("li", {}, english ? e.en : e.zh));
        out.replaceChildren(head, rows.length ? el("ul", {}, ...rows) : "");
        return;
      }
      const created = answer.items.filter((i) => i.created).length;
      out.className = "h-result ok";
      out.replaceChildren(
        el("p", {}, fmt(dry ? t.checked : t.imported, { created, existing: answer.items.length - created, rows: answer.rows })),
        el("ul", {}, ...answer.items.map((i) => {
          const text = fmt(i.created ? (dry ? t.rowWillCreate : t.rowCreated) : t.rowExisting, { row: i.row, no: i.order_no });
          return el("li", {}, i.id && !dry
            ? el("a", { href: "?order=" + i.id, "data-id": i.id, onclick: (e) => { e.preventDefault(); openOrder(i.id, true); } }, text)
            : text);
        })));
      if (!dry) { offset = 0; loadList(); }
    });
  }

  // ------------------------------------------------------------ wiring
  byId("h-state").addEventListener("change", () => { offset = 0; loadList(); });
  byId("h-overdue").addEventListener("change", () => { offset = 0; loadList(); });
  byId("h-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadList(); });
  byId("h-next").addEventListener("click", () => { offset += PAGE; loadList(); });
  setInterval(() => { renderList(); }, 30000); // the countdowns' words move on
  // orders change while the desk is open (the platform pushes, another desk acts): the list is read
  // again once per burst, and the open order too unless a form is being written in its panel
  const source = stream(config.streamUrl);
  let relisting = null;
  if (source) {
    source.addEventListener("hotline", (ev) => {
      clearTimeout(relisting);
      relisting = setTimeout(() => {
        loadList();
        if (current && String(current.id) === ev.lastEventId) refreshOpen();
      }, 800);
    });
  }

  limitsLegend();
  loadList().then(() => {
    if (config.order) openOrder(config.order, false);
    document.body.dataset.ready = "1";
  });
})();
