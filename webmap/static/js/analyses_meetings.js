// 分析研判 · 民情分析会 tab (/analyses #an-meetings): the meetings of a scope (GET /api/v1/meetings), a
// meeting recorded or changed (POST, PATCH with its version: date, place, participants, the opinions
// raised, what was agreed), and an opinion turned into a case (POST …/opinions/<n>/case with its
// category and grid), after which it links to the case and stays as it is. "→ 任务" waits for the tasks
// page (config.tasksUrl). Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, fetchJSON, english, categoryLabel } = Wangge;
  if (!$("mt-list") || !window.WanggeAnalyses) return;
  const { config, t, reason, scopeOptions } = window.WanggeAnalyses; // js/analyses.js
  const form = $("mt-form");
  let items = [], current = null, editing = null, categories = null, started = false;
  const say = (text) => { $("mt-msg").textContent = text; };

  function gridSelect(value, scopeCode) {
    const grids = config.grids.filter((g) => !scopeCode || scopeCode === "town" || g.code.startsWith(scopeCode));
    const select = el("select", { name: "grid", "aria-label": t.grid },
      el("option", { value: "" }, t.anyGrid), ...grids.map((g) => el("option", { value: g.code }, g.name || g.code)));
    select.value = value || "";
    return select;
  }

  // ------------------------------------------------------------ the list
  async function load() {
    const r = await fetchJSON(config.meetingsUrl + "?" + new URLSearchParams({ scope: $("mt-scope").value }));
    if (!r.ok) { say(fmt(t.failed, { reason: reason(r.answer, r.status) })); return; }
    items = r.answer.items;
    renderList();
    document.body.dataset.meetingsLoaded = String(Date.now());
  }

  function renderList() {
    const body = $("mt-list").tBodies[0];
    if (!items.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "6" }, t.noMeetings))); return; }
    const head = Array.from($("mt-list").tHead.rows[0].cells, (c) => c.textContent);
    body.replaceChildren(...items.map((m) => el("tr", { "data-id": String(m.id) },
      el("td", { "data-label": head[0] }, m.held_on),
      el("td", { "data-label": head[1] }, m.place),
      el("td", { "data-label": head[2] }, m.scope.name || m.scope.code),
      el("td", { "data-label": head[3] }, String(m.opinions.length)),
      el("td", { "data-label": head[4] }, fmt(t.cases, { n: m.opinions.filter((o) => o.incident).length })),
      el("td", {}, el("button", { type: "button", class: "desk-btn", onclick: () => open(m) }, t.open)))));
  }

  // ------------------------------------------------------------ one meeting
  function open(m) {
    current = m;
    form.hidden = true;
    renderDetail();
  }

  function take(m, text) {
    current = m;
    const known = items.some((x) => x.id === m.id);
    items = known ? items.map((x) => (x.id === m.id ? m : x)) : [m, ...items];
    renderList();
    renderDetail();
    say(text);
  }

  function renderDetail() {
    const m = current, detail = $("mt-detail");
    detail.hidden = !m;
    if (!m) return;
    Object.assign(detail.dataset, { id: String(m.id), version: String(m.version) });
    detail.querySelector(".mt-title").textContent = m.scope.name + " · " + m.held_on;
    detail.querySelector(".mt-meta").textContent = fmt(t.meetingMeta, { date: m.held_on, place: m.place,
      scope: m.scope.name || m.scope.code, who: m.created_by ? m.created_by.who : "" });
    detail.querySelector(".mt-participants").textContent = m.participants || "";
    detail.querySelector(".mt-agreed").textContent = m.agreed || "—";
    detail.querySelector(".mt-opinions-view").replaceChildren(...m.opinions.map((o) => opinionItem(m, o)));
    detail.querySelector(".mt-edit").hidden = !m.can_edit;
    detail.querySelector(".mt-print").href = config.meetingPrintUrl.replace("ID", m.id);
    detail.querySelector(".mt-xlsx").href = config.meetingsUrl + "/" + m.id + ".xlsx";
  }

  function opinionItem(m, o) {
    const li = el("li", { "data-n": String(o.n) }, o.body, o.grid_name ? el("small", { class: "mt-link" }, o.grid_name) : null);
    if (o.incident) {
      li.append(" ", el("a", { class: "mt-link mt-case", href: config.caseUrl.replace("ID", o.incident.id), target: "_blank",
        rel: "noopener" }, fmt(t.caseLink, { case_no: o.incident.case_no, state: o.incident.state })));
    } else if (m.can_report) {
      li.append(" ", el("button", { type: "button", class: "desk-btn mt-to-case", onclick: () => caseForm(m, o, li) }, t.toCase));
    }
    if (o.task) li.append(" ", el("span", { class: "mt-link" }, fmt(t.taskLink, { id: o.task.id })));
    else if (config.tasksUrl && m.can_edit) {
      const query = new URLSearchParams({ from: "meeting", meeting: String(m.id), opinion: String(o.n), title: o.body.slice(0, 60) });
      li.append(" ", el("a", { class: "desk-btn mt-to-task", href: config.tasksUrl + "?" + query }, t.toTask));
    }
    return li;
  }

  async function caseForm(m, o, li) {
    if (li.querySelector(".mt-case-form")) return;
    if (!categories) {
      const r = await fetchJSON(config.categoriesUrl);
      categories = r.ok ? r.answer.items : [];
    }
    const category = el("select", { name: "category", "aria-label": t.category },
      el("option", { value: "" }, t.chooseCategory),
      ...categories.map((c) => el("option", { value: c.code }, categoryLabel(c, true))));
    const grid = gridSelect(o.grid_code, m.scope.kind === "village" ? m.scope.code : "town");
    const error = el("small", { class: "an-field-error", role: "alert" });
    const box = el("form", { class: "mt-case-form", novalidate: "" }, category, grid,
      el("button", { type: "submit", class: "desk-btn desk-primary" }, t.send),
      el("button", { type: "button", class: "desk-btn", onclick: () => box.remove() }, t.cancel), error);
    box.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = box.querySelector("button[type=submit]");
      button.disabled = true;
      const body = { category: category.value };
      if (grid.value) body.grid = grid.value;
      const r = await fetchJSON(config.meetingsUrl + "/" + m.id + "/opinions/" + o.n + "/case", { method: "POST", body });
      button.disabled = false;
      if (!r.ok) { error.textContent = reason(r.answer, r.status); return; }
      const made = r.answer.opinions.find((x) => x.n === o.n);
      take(r.answer, fmt(t.caseMade, { n: o.n, case_no: made && made.incident ? made.incident.case_no : "" }));
    });
    li.append(box);
  }

  // ------------------------------------------------------------ the form: a new meeting or a change
  function opinionRow(o, scopeCode) {
    const locked = !!(o && (o.incident || o.task));
    const area = el("textarea", { name: "opinion", rows: "2", maxlength: "1000", "aria-label": t.opinion });
    area.value = o ? o.body : "";
    area.readOnly = locked;
    const grid = gridSelect(o ? o.grid_code : "", scopeCode);
    grid.disabled = locked;
    const li = el("li", o ? { "data-n": String(o.n) } : {}, area, grid,
      locked ? el("small", {}, t.linkedLocked)
        : el("button", { type: "button", class: "desk-btn", onclick: () => li.remove() }, t.remove));
    return li;
  }

  function openForm(m) {
    editing = m;
    form.hidden = false;
    $("mt-detail").hidden = true;
    form.querySelector(".mt-form-title").textContent = m ? t.editMeeting : t.newMeeting;
    const scope = form.elements.scope;
    scopeOptions(scope);
    scope.value = m ? (m.scope.kind === "town" ? "town" : m.scope.code) : $("mt-scope").value;
    scope.disabled = !!m;
    form.elements.held_on.value = m ? m.held_on : config.today;
    form.elements.place.value = m ? m.place : "";
    form.elements.participants.value = m ? m.participants : "";
    form.elements.agreed.value = m ? m.agreed : "";
    const code = scope.value;
    form.querySelector(".mt-opinion-rows").replaceChildren(...(m ? m.opinions.map((o) => opinionRow(o, code)) : [opinionRow(null, code)]));
    for (const small of form.querySelectorAll(".an-field-error")) small.textContent = "";
    form.querySelector("p.error").textContent = "";
    form.elements.place.focus();
  }

  async function submit(ev) {
    ev.preventDefault();
    const rows = Array.from(form.querySelectorAll(".mt-opinion-rows li"));
    const opinions = rows.map((li) => {
      const item = { body: li.querySelector("textarea").value, grid: li.querySelector("select").value || null };
      if (li.dataset.n) item.n = Number(li.dataset.n);
      return item;
    }).filter((o) => o.n || o.body.trim());
    const body = { held_on: form.elements.held_on.value, place: form.elements.place.value,
      participants: form.elements.participants.value, agreed: form.elements.agreed.value, opinions };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const r = editing
      ? await fetchJSON(config.meetingsUrl + "/" + editing.id, { method: "PATCH", body: { ...body, version: editing.version } })
      : await fetchJSON(config.meetingsUrl, { method: "POST", body: { ...body, scope: form.elements.scope.value } });
    button.disabled = false;
    if (!r.ok) {
      for (const small of form.querySelectorAll(".an-field-error")) {
        small.textContent = (r.answer.errors || []).filter((e) => (e.field.startsWith("opinions") ? "opinions" : e.field) === small.dataset.for)
          .map((e) => (english ? e.en : e.zh)).join("; ");
      }
      form.querySelector("p.error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) });
      return;
    }
    form.hidden = true;
    editing = null;
    take(r.answer, t.meetingSaved);
  }

  document.addEventListener("analyses:show", (ev) => {
    if (ev.detail !== "meetings" || started) return;
    started = true;
    scopeOptions($("mt-scope"));
    $("mt-show").addEventListener("click", load);
    $("mt-scope").addEventListener("change", load);
    if ($("mt-new")) $("mt-new").addEventListener("click", () => openForm(null));
    form.querySelector(".mt-add").addEventListener("click", () =>
      form.querySelector(".mt-opinion-rows").append(opinionRow(null, form.elements.scope.value)));
    form.querySelector(".mt-cancel").addEventListener("click", () => { form.hidden = true; renderDetail(); });
    form.addEventListener("submit", submit);
    $("mt-detail").querySelector(".mt-edit").addEventListener("click", () => openForm(current));
    load();
  });
})();
