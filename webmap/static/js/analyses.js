// 分析研判 (/analyses): the tabs, and the 周分析 / 月汇总 panels (#an-week, #an-month). A panel lists the
// records of its kind in a scope (GET /api/v1/analyses?kind=&scope=), makes the period's record (POST:
// its figures counted now; 409 opens the one that exists), shows its frozen figures, saves the three
// hand-written fields (PATCH with the version), counts again (重新统计) and finalises (定稿), after which
// the fields are read-only. The 民情分析会 tab is js/analyses_meetings.js, which listens for
// "analyses:show". Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, english, stamp } = Wangge;
  if (!$("an-config")) return;
  const config = readJSON("an-config");
  const t = readJSON("an-i18n");
  const FIELDS = ["opinion", "problems", "next_steps"];
  const reason = Wangge.reasons;

  // ------------------------------------------------------------ the tabs
  const tabs = Array.from(document.querySelectorAll(".desk-tabs [role=tab]"));
  function show(name) {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      $("an-" + tab.dataset.tab).hidden = !on;
    }
    document.body.dataset.tab = name;
    document.dispatchEvent(new CustomEvent("analyses:show", { detail: name }));
  }
  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.tab));

  // The scopes the user may choose: the town (not for a village's leader) and the villages; the
  // choice is hidden when there is only one.
  function scopeOptions(select) {
    const options = [];
    if (config.role !== "leader") options.push(el("option", { value: "town" }, t.town + " · " + config.town.name));
    for (const v of config.villages) options.push(el("option", { value: v.code }, v.name));
    select.replaceChildren(...options);
    select.value = config.scope;
    if (options.length < 2) select.closest("label").hidden = true;
  }

  // ------------------------------------------------------------ the figures of a record
  function table(head, rows) {
    return el("table", { class: "desk-table" },
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c, i) => el("td", { "data-label": head[i] }, c))))));
  }

  function figures(f) {
    const totals = [["reported", t.reported, f.cases.reported], ["closed", t.closed, f.cases.closed],
      ["open", t.openCases, f.cases.open], ["void", t.void, f.cases.void], ["overdue", t.overdue, f.cases.overdue],
      ["previous", t.previous, f.cases.previous_reported], ["patrols", t.patrols, f.patrols.count],
      ["patrol_hours", t.patrolHours, f.patrols.hours], ["patrol_km", t.patrolKm, f.patrols.distance_km],
      ["visits", t.visits, f.visits.count], ["households", t.households, f.visits.households]];
    const counts = [t.count, t.closed, t.overdue];
    const caseLink = (o) => el("a", { href: config.caseUrl.replace("ID", o.id), target: "_blank", rel: "noopener" }, o.case_no);
    return el("div", {},
      el("ul", { class: "an-totals-row" }, ...totals.map(([key, label, value]) =>
        el("li", { "data-figure": key }, label, el("b", {}, String(value ?? "—"))))),
      el("div", { class: "an-figure-cols" },
        el("section", { class: "an-by-category" }, el("h3", {}, t.byCategory),
          table([t.category, ...counts], f.by_category.map((c) => [(c.class ? c.class + " · " : "") + c.name,
            String(c.reported), String(c.closed), String(c.overdue)]))),
        el("section", { class: "an-by-grid" }, el("h3", {}, t.byGrid),
          table([t.grid, ...counts], f.by_grid.map((g) => [g.code ? (g.name || g.code) : t.outside,
            String(g.reported), String(g.closed), String(g.overdue)]))),
        el("section", { class: "an-hotspots" }, el("h3", {}, t.hotspots),
          f.hotspots.length ? el("ol", {}, ...f.hotspots.map((h) => el("li", {},
            (h.grid.code ? (h.grid.name || h.grid.code) : t.outside) + " · " + h.category.name + ": " + h.reported)))
            : el("p", {}, t.noHotspot),
          el("h3", {}, t.overdueList),
          f.overdue.length ? el("p", { class: "an-overdue" }, ...f.overdue.flatMap((o, i) =>
            [i ? "; " : "", caseLink(o), " " + o.category]),
            f.cases.overdue > f.overdue.length ? " " + fmt(t.firstOverdue, { n: f.overdue.length, total: f.cases.overdue }) : null)
            : el("p", {}, t.noOverdue))));
  }

  // ------------------------------------------------------------ a panel: one kind of record
  function panel(section) {
    const kind = section.dataset.kind;
    const q = (selector) => section.querySelector(selector);
    const period = q(".an-period"), scope = q(".an-scope"), form = q(".an-texts");
    let items = [], current = null, started = false;
    const say = (text) => { q(".an-msg").textContent = text; };
    const fail = (r) => { q(".an-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); };

    async function load(openPeriod) {
      const r = await fetchJSON(config.analysesUrl + "?" + new URLSearchParams({ kind, scope: scope.value }));
      if (!r.ok) { fail(r); return; }
      q(".an-error").textContent = "";
      items = r.answer.items;
      renderList();
      const match = openPeriod && items.find((a) => a.period === openPeriod);
      if (match) await open(match.id);
      section.dataset.loaded = String(Date.now());
    }

    function renderList() {
      const body = q(".an-list").tBodies[0];
      if (!items.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "7" }, t.none))); return; }
      const head = Array.from(q(".an-list").tHead.rows[0].cells, (c) => c.textContent);
      body.replaceChildren(...items.map((a) => el("tr", { "data-id": String(a.id), "data-period": a.period },
        el("td", { "data-label": head[0] }, english ? a.label_en : a.label),
        el("td", { "data-label": head[1] }, a.scope.name || a.scope.code),
        el("td", { "data-label": head[2] }, t.states[a.state] || a.state),
        el("td", { "data-label": head[3] }, a.cases ? String(a.cases.reported) : "—"),
        el("td", { "data-label": head[4] }, a.cases ? String(a.cases.overdue) : "—"),
        el("td", { "data-label": head[5] }, stamp(a.updated_at)),
        el("td", {}, el("button", { type: "button", class: "desk-btn", onclick: () => open(a.id) }, t.open)))));
    }

    async function open(id) {
      const r = await fetchJSON(config.analysesUrl + "/" + id);
      if (!r.ok) { fail(r); return; }
      current = r.answer;
      renderDetail();
    }

    function renderDetail() {
      const a = current, detail = q(".an-detail");
      detail.hidden = !a;
      if (!a) return;
      Object.assign(detail.dataset, { id: String(a.id), state: a.state, version: String(a.version) });
      q(".an-title").textContent = [a.scope.name, english ? a.label_en : a.label, english ? a.kind_en : a.kind_zh].join(" · ");
      q(".an-meta").textContent = fmt(t.meta, { state: t.states[a.state] || a.state, at: stamp(a.counted_at),
        who: a.created_by ? a.created_by.who : "" })
        + (a.finalized_at ? " " + fmt(t.finalMeta, { who: a.finalized_by ? a.finalized_by.who : "", at: stamp(a.finalized_at) }) : "");
      q(".an-figures").replaceChildren(figures(a.figures));
      const editable = a.actions.includes("edit");
      for (const name of FIELDS) {
        form.elements[name].value = a[name] || "";
        form.elements[name].readOnly = !editable;
      }
      for (const small of form.querySelectorAll(".an-field-error")) small.textContent = "";
      q(".an-save").hidden = !editable;
      q(".an-recount").hidden = !a.actions.includes("recount");
      q(".an-finalize").hidden = !a.actions.includes("finalize");
      q(".an-print").href = config.printUrl.replace("ID", a.id);
      q(".an-xlsx").href = config.analysesUrl + "/" + a.id + ".xlsx";
    }

    function showErrors(answer) {
      for (const small of form.querySelectorAll(".an-field-error")) {
        small.textContent = (answer.errors || []).filter((e) => e.field === small.dataset.for)
          .map((e) => (english ? e.en : e.zh)).join("; ");
      }
    }

    // what was answered replaces the record, in the panel and in the list
    function take(answer, text) {
      current = answer;
      items = items.map((a) => (a.id === answer.id ? { ...answer, cases: answer.figures.cases } : a));
      renderList();
      renderDetail();
      say(text);
      q(".an-error").textContent = "";
    }

    const changed = () => FIELDS.some((n) => (form.elements[n].value.trim()) !== (current[n] || ""));

    async function save() {
      const body = { version: current.version };
      for (const name of FIELDS) body[name] = form.elements[name].value;
      const r = await fetchJSON(config.analysesUrl + "/" + current.id, { method: "PATCH", body });
      if (!r.ok) { showErrors(r.answer); fail(r); return false; }
      take(r.answer, t.saved);
      return true;
    }

    async function act(action) {
      if (action === "finalize") {
        if (!window.confirm(t.confirmFinal)) return;
        if (changed() && !(await save())) return;
      }
      const r = await fetchJSON(config.analysesUrl + "/" + current.id + "/actions",
        { method: "POST", body: { action, version: current.version } });
      if (!r.ok) { showErrors(r.answer); fail(r); return; }
      take(r.answer, action === "recount" ? fmt(t.recounted, { at: stamp(r.answer.counted_at) }) : t.finalized);
    }

    async function create() {
      const r = await fetchJSON(config.analysesUrl, { method: "POST", body: { kind, period: period.value, scope: scope.value } });
      if (r.status === 409 && r.answer.current) {
        await load();
        current = r.answer.current;
        renderDetail();
        say(t.exists);
        return;
      }
      if (!r.ok) { fail(r); return; }
      await load();
      current = r.answer;
      renderDetail();
      say(fmt(t.created, { label: english ? r.answer.label_en : r.answer.label }));
    }

    document.addEventListener("analyses:show", (ev) => {
      if (ev.detail !== kind || started) return;
      started = true;
      period.value = kind === "week" ? config.week : config.month;
      scopeOptions(scope);
      q(".an-show").addEventListener("click", () => { say(""); load(period.value); });
      scope.addEventListener("change", () => { current = null; renderDetail(); load(); });
      if (q(".an-new")) q(".an-new").addEventListener("click", create);
      form.addEventListener("submit", (ev2) => { ev2.preventDefault(); save(); });
      q(".an-recount").addEventListener("click", () => act("recount"));
      q(".an-finalize").addEventListener("click", () => act("finalize"));
      // ?tab=week&open=<id>: the record a 待办 item opens
      const query = new URLSearchParams(location.search);
      const wanted = query.get("tab") === kind ? Number(query.get("open")) : 0;
      load().then(() => (wanted ? open(wanted) : null));
    });
  }

  for (const section of document.querySelectorAll(".an-kind")) panel(section);
  // what the meetings tab (js/analyses_meetings.js, loaded next) shares with this one
  window.WanggeAnalyses = Object.freeze({ config, t, reason, scopeOptions });
  // after every script of the page has registered its listeners
  window.addEventListener("DOMContentLoaded", () => {
    const first = new URLSearchParams(location.search).get("tab");
    show(tabs.some((tab) => tab.dataset.tab === first) ? first : "week");
    document.body.dataset.ready = "1";
  });
})();
