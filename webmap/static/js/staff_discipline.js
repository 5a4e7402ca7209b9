// 队伍管理 · 执纪 tab (/staff #st-discipline): the discipline cases (GET /api/v1/discipline) with their
// step and clock (剩余 N 天), their events; the town's centre (canManage) records a correction with
// evidence (photos uploaded to /api/v1/attachments), the talk held and the decision on a dismissal
// proposed; the district may record a correction (POST …/<id>/actions). Text only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, stamp, message } = Wangge;
  if (!$("dc-list")) return;
  const t = readJSON("dc-i18n");
  let config = null, cases = [], openId = null, loaded = false;
  const reason = Wangge.reasons;
  const ALLOWED = { 通报批评: ["correct", "talk"], 诫勉谈话: ["correct", "talk"], 建议辞退: ["decide_keep", "decide_dismiss", "correct"] };

  function clockText(c) {
    if (!c.open) return t.closed;
    if (!c.clock.next_step) return t.waiting;
    const next = t.steps[c.clock.next_step];
    return c.clock.days_left > 0 ? fmt(t.left, { n: c.clock.days_left, next }) : fmt(t.today, { next });
  }

  async function load() {
    const r = await fetchJSON(config.disciplineUrl + ($("dc-only-open").checked ? "?state=open" : ""));
    if (!r.ok) { $("dc-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("dc-error").textContent = "";
    cases = r.answer.items;
    $("dc-rule").textContent = fmt(t.rule, { days: r.answer.days });
    const body = $("dc-list").tBodies[0];
    body.replaceChildren(...(cases.length ? cases.map((c) => el("tr", { "data-case": String(c.id), "data-step": c.step },
      el("td", {}, c.worker.name || "—"),
      el("td", {}, c.grid_code),
      el("td", {}, c.finding),
      el("td", {}, t.steps[c.step] || c.step),
      el("td", { class: "dc-clock" }, clockText(c)),
      el("td", {}, el("button", { type: "button", class: "desk-btn", onclick: () => { openId = c.id; renderDetail(); } }, t.open))))
      : [el("tr", {}, el("td", { colspan: "6" }, t.none))]));
    renderDetail();
    document.body.dataset.disciplineLoaded = String(Date.now());
  }

  function renderDetail() {
    const c = cases.find((x) => x.id === openId);
    $("dc-detail").hidden = !c;
    if (!c) return;
    $("dc-detail-title").textContent = fmt(t.title, { name: c.worker.name || "", step: t.steps[c.step] || c.step });
    $("dc-events").replaceChildren(...c.events.map((e) => el("li", {},
      stamp(e.at), " ", t.events[e.action] || e.action, " → ", t.steps[e.step] || e.step,
      e.note ? " · " + e.note : "", e.evidence.length ? " · " + fmt(t.evidence, { n: e.evidence.length }) : "")),
      ...(c.loses_merit_year ? [el("li", { class: "dc-merit" }, fmt(t.merit, { year: c.loses_merit_year }))] : []));
    const actions = (ALLOWED[c.step] || []).filter((a) => config.canManage || (a === "correct" && config.canSpotCheck));
    $("dc-form").hidden = !actions.length;
    $("dc-action").replaceChildren(...actions.map((a) => el("option", { value: a }, t.actions[a])));
  }

  async function upload(files) {
    const ids = await Wangge.uploadFiles(config.attachmentsUrl, files, { document: true,
      progress: (i, n) => { $("dc-msg").textContent = fmt(t.uploading, { i, n }); } });
    $("dc-msg").textContent = "";
    return ids;
  }


  async function submit(ev) {
    ev.preventDefault();
    const c = cases.find((x) => x.id === openId);
    if (!c) return;
    $("dc-form-error").textContent = "";
    let evidence = [];
    try { evidence = await upload($("dc-files").files); } catch (e) {
      $("dc-form-error").textContent = fmt(t.failed, { reason: e.message }); return;
    }
    const r = await fetchJSON(config.disciplineUrl + "/" + c.id + "/actions", { method: "POST",
      body: { action: $("dc-action").value, version: c.version, note: $("dc-note").value, evidence } });
    if (!r.ok) { $("dc-form-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("dc-note").value = "";
    $("dc-files").value = "";
    await load();
    $("dc-msg").textContent = fmt(t.done, { step: t.steps[r.answer.step] || r.answer.step });
  }

  document.addEventListener("staff:show", (ev) => {
    if (ev.detail !== "discipline" || loaded) return;
    loaded = true;
    config = Wangge.staffConfig;
    $("dc-only-open").addEventListener("change", load);
    $("dc-form").addEventListener("submit", submit);
    load();
  });
})();
