// 交办任务 on the desk (/tasks): the tasks the reader may see (GET /api/v1/tasks) with filters; a new
// task (issuers: title, kind, source, deadline as a day or in working days, the assignees picked
// among villages, departments and grid workers, the document as attachments uploaded first with
// POST /api/v1/attachments); the district's queue of 待区审批 (批准 / 不批准 with a reason); a task's
// detail with its per-assignee table and the steps the reader may take (POST …/<id>/actions, the
// task's version carried). ?task=<id> opens one. ?from=meeting&meeting=&opinion=&title= (民情分析会's
// 转为任务) opens the new task filled from the opinion, and links the task made back to it. Text
// reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, english, stamp, recount } = Wangge;
  if (!$("tk-list")) return;
  const config = readJSON("tk-config");
  const t = readJSON("tk-i18n");
  const reason = TaskFiles.reason;
  const stateLabel = (s) => t.states[s] || s;
  const actionLabel = (a) => t.actions[a] || a;
  const say = (text) => { $("tk-msg").textContent = text; };
  const FORM_ACTIONS = new Set(["progress", "complete", "return", "refuse", "close", "supervise"]);
  let items = [], current = null, choices = null, pending = [];
  const picked = new Map(); // the workers chosen for a new task: username → worker
  const asked = new URLSearchParams(location.search);
  // the meeting's opinion this new task comes from (民情分析会 → 转为任务), or null
  const opinion = asked.get("from") === "meeting" && /^\d+$/.test(asked.get("meeting") || "")
    && /^\d+$/.test(asked.get("opinion") || "") ? { meeting: asked.get("meeting"), n: asked.get("opinion") } : null;

  // ------------------------------------------------------------ tabs
  const tabs = Array.from(document.querySelectorAll(".desk-tabs [role=tab]"));
  function show(tab) {
    for (const b of tabs) {
      const on = b.dataset.tab === tab;
      b.setAttribute("aria-selected", String(on));
      $("tk-" + b.dataset.tab + "-panel").hidden = !on;
    }
    if (tab === "new") loadChoices();
    if (tab === "pending") loadPending();
  }
  for (const b of tabs) b.addEventListener("click", () => show(b.dataset.tab));

  // ------------------------------------------------------------ the list
  function query() {
    const q = new URLSearchParams();
    const scope = $("tk-f-scope").value;
    if (scope) q.set(scope, "1");
    if ($("tk-f-state").value) q.set("state", $("tk-f-state").value);
    if ($("tk-f-kind").value) q.set("kind", $("tk-f-kind").value);
    if ($("tk-f-overdue").checked) q.set("overdue", "1");
    return q.toString();
  }

  async function load() {
    const r = await fetchJSON(config.tasksUrl + "?" + query());
    if (!r.ok) { $("tk-list-error").textContent = fmt(t.loadFailed, { reason: reason(r.answer, r.status) }); return; }
    $("tk-list-error").textContent = "";
    items = r.answer.items;
    draw();
    document.body.dataset.tasksLoaded = String(Date.now());
  }

  function draw() {
    const q = $("tk-f-q").value.trim().toLowerCase();
    const shown = items.filter((i) => !q || i.number.toLowerCase().includes(q) || i.title.toLowerCase().includes(q));
    $("tk-list").tBodies[0].replaceChildren(...shown.map((i) => el("tr", {
      "data-task": String(i.id), "data-state": i.state, class: (i.overdue ? "tk-late" : "") + (current && current.id === i.id ? " active" : ""),
      onclick: () => openTask(i.id) },
    el("td", {}, el("button", { type: "button", class: "link-like" }, i.number)),
    el("td", {}, i.title),
    el("td", {}, english ? i.kind_en : i.kind_zh),
    el("td", {}, stateLabel(i.state)),
    el("td", {}, i.issuer.label || i.issuer.username || ""),
    el("td", {}, stamp(i.deadline)),
    el("td", {}, fmt(t.counts, { ack: i.counts.acknowledged, done: i.counts.completed, total: i.counts.total })),
    el("td", { class: "tk-state" }, i.counts.overdue ? t.overdue + " " + i.counts.overdue : ""))));
    $("tk-empty").hidden = shown.length > 0;
  }

  // ------------------------------------------------------------ a task
  async function openTask(id) {
    const r = await fetchJSON(config.tasksUrl + "/" + id);
    if (!r.ok) { say(fmt(t.loadFailed, { reason: reason(r.answer, r.status) })); return; }
    current = r.answer;
    const url = new URL(window.location.href);
    url.searchParams.set("task", String(id));
    window.history.replaceState(null, "", url);
    renderDetail();
    draw();
    $("tk-detail").scrollIntoView({ block: "start" });
  }

  const fileLinks = (shas) => TaskFiles.links(config.attachmentsUrl, shas, t.file);
  const upload = (files, status) => TaskFiles.upload(config.attachmentsUrl, files, status, t.uploading);

  function actionButton(a) {
    return el("button", { type: "button", class: "desk-btn" + (a.action === "approve" || a.action === "complete" ? " desk-primary" : ""),
      "data-action": a.action, "data-assignee": a.assignee === null ? "" : String(a.assignee),
      onclick: () => start(a) }, actionLabel(a.action));
  }

  function renderDetail() {
    const c = current;
    $("tk-detail").hidden = false;
    $("tk-detail").dataset.task = String(c.id);
    $("tk-detail").dataset.state = c.state;
    $("tk-d-title").textContent = c.number + " · " + c.title;
    $("tk-d-meta").textContent = fmt(t.meta, { number: c.number, kind: english ? c.kind_en : c.kind_zh,
      issuer: c.issuer.label || "", deadline: stamp(c.deadline), state: stateLabel(c.state) })
      + (c.source ? " · " + fmt(t.source, { source: c.source_zh, ref: c.source_ref || "" }) : "")
      + (c.approved_by && c.kind === "info_collection" ? " · " + fmt(t.approvedBy, { who: c.approved_by.label, at: stamp(c.approved_at) }) : "");
    $("tk-d-refusal").hidden = !c.refusal;
    $("tk-d-refusal").textContent = c.refusal ? fmt(t.refusal, { reason: c.refusal }) : "";
    $("tk-d-body").textContent = c.body || "";
    $("tk-d-files").replaceChildren(...fileLinks(c.attachments));
    $("tk-d-actions").replaceChildren(...c.actions.filter((a) => a.assignee === null).map(actionButton));
    $("tk-assignees").tBodies[0].replaceChildren(...c.assignees.map((a) => el("tr", {
      "data-assignee": String(a.id), "data-kind": a.kind, "data-code": a.code, "data-state": a.state,
      class: (a.overdue ? "tk-late" : "") + (a.mine ? " tk-mine" : "") },
    el("td", { "data-label": t.kinds[a.kind] }, a.name, a.grid_code ? el("small", {}, " " + a.grid_code) : null),
    el("td", {}, t.kinds[a.kind] || a.kind),
    el("td", {}, a.report_back ? t.yes : t.no),
    el("td", { class: "tk-state" }, stateLabel(a.state), a.return_count ? el("small", {}, " " + fmt(t.returned, { n: a.return_count })) : null),
    el("td", {}, a.acknowledged_at ? stamp(a.acknowledged_at) : t.none),
    el("td", {}, a.progress_note ? stamp(a.progress_at) + " " + a.progress_note : t.none),
    el("td", {}, a.completed_at ? stamp(a.completed_at) : t.none,
      a.completion_note ? el("div", { class: "tk-note" }, a.completion_note) : null, ...fileLinks(a.state === "已完成" ? a.completion_attachments : [])),
    el("td", { class: "tk-late-cell" }, a.overdue ? t.overdue : "", a.supervise_count ? " " + fmt(t.supervised, { n: a.supervise_count }) : ""),
    el("td", { class: "tk-row-actions" }, ...c.actions.filter((x) => x.assignee === a.id).map(actionButton)))));
    const names = Object.fromEntries(c.assignees.map((a) => [a.id, a.name]));
    $("tk-events").replaceChildren(...(c.events || []).map((e) => el("li", {},
      fmt(t.event, { at: stamp(e.at), by: e.by, label: actionLabel(e.action) }),
      e.assignee ? " " + fmt(t.onAssignee, { name: names[e.assignee] || "" }) : "",
      e.note && e.action !== "create" ? el("div", { class: "tk-note" }, e.note) : null,
      ...fileLinks(e.action === "create" ? [] : e.attachments))));
    $("tk-act").hidden = true;
    document.body.dataset.taskOpen = c.id + ":" + c.version;
  }

  let pendingAction = null;
  function start(a) {
    if (!FORM_ACTIONS.has(a.action)) { send(a, null, []); return; }
    pendingAction = a;
    const form = $("tk-act");
    const row = current.assignees.find((x) => x.id === a.assignee);
    $("tk-act-title").textContent = actionLabel(a.action) + (row && !row.mine ? " · " + row.name : "");
    form.note.value = "";
    form.files.value = "";
    form.files.closest("label").hidden = !(a.action === "progress" || a.action === "complete");
    form.querySelector(".error").textContent = "";
    form.hidden = false;
    form.note.focus();
  }

  async function send(a, note, attachments, errorBox) {
    const r = await fetchJSON(config.tasksUrl + "/" + current.id + "/actions", { method: "POST",
      body: { action: a.action, version: current.version, note, attachments, assignee: a.assignee } });
    if (!r.ok) {
      const text = fmt(t.failed, { reason: reason(r.answer, r.status) });
      if (errorBox) errorBox.textContent = text; else say(text);
      if (r.status === 409 && r.answer.current) { current = { ...current, ...r.answer.current }; renderDetail(); }
      return false;
    }
    current = r.answer;
    renderDetail();
    say(fmt(t.done, { action: actionLabel(a.action), number: current.number }));
    recount();
    load();
    if (config.canApprove) loadPending();
    return true;
  }

  $("tk-act").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = $("tk-act");
    const error = form.querySelector(".error");
    const note = form.note.value.trim();
    if (pendingAction.needs_note && !note) { error.textContent = pendingAction.action === "refuse" ? t.refuseWhy : t.needsNote; return; }
    let attachments = [];
    try { attachments = await upload(form.files.files, error); } catch (e) { error.textContent = fmt(t.failed, { reason: e.message }); return; }
    await send(pendingAction, note || null, attachments, error);
  });
  $("tk-act-cancel").addEventListener("click", () => { $("tk-act").hidden = true; });

  // ------------------------------------------------------------ a new task
  async function loadChoices() {
    if (choices) return;
    const r = await fetchJSON(config.assigneesUrl);
    if (!r.ok) { $("tk-form-error").textContent = fmt(t.loadFailed, { reason: reason(r.answer, r.status) }); return; }
    choices = r.answer;
    const boxes = (id, list, kind) => {
      $(id).hidden = list.length === 0;
      $(id).querySelector("div").replaceChildren(...list.map((x) => el("label", { class: "tk-box" },
        el("input", { type: "checkbox", "data-kind": kind, value: x.code }), x.name)));
    };
    boxes("tk-pick-villages", choices.villages, "village");
    boxes("tk-pick-departments", choices.departments, "department");
    $("tk-pick-workers").hidden = choices.workers.length === 0;
    $("tk-worker-list").replaceChildren(...choices.workers.map((w) => el("option", { value: w.username }, w.name + " · " + w.grid_code)));
    if (choices.general_only) {
      const kind = $("tk-form").kind;
      for (const o of kind.options) o.disabled = o.value !== "general";
    }
    document.body.dataset.choicesLoaded = "1";
  }

  function drawWorkers() {
    $("tk-workers").replaceChildren(...[...picked.values()].map((w) => el("li", { "data-username": w.username },
      w.name + " · " + w.grid_code + " ",
      el("button", { type: "button", class: "desk-btn", onclick: () => { picked.delete(w.username); drawWorkers(); } }, t.remove))));
  }

  function addWorker() {
    const q = $("tk-worker-q").value.trim();
    if (!q) return;
    const found = choices.workers.filter((w) => w.username === q || w.name === q || w.grid_code === q);
    if (found.length !== 1) { $("tk-form-error").textContent = t.noWorker; return; }
    $("tk-form-error").textContent = "";
    picked.set(found[0].username, found[0]);
    $("tk-worker-q").value = "";
    drawWorkers();
  }

  function assigneesOf(form) {
    const boxes = Array.from(form.querySelectorAll(".tk-pick input[type=checkbox]:checked"))
      .map((b) => ({ kind: b.dataset.kind, code: b.value }));
    return boxes.concat([...picked.keys()].map((username) => ({ kind: "worker", username })));
  }

  async function create(ev) {
    ev.preventDefault();
    const form = $("tk-form");
    const error = $("tk-form-error");
    error.textContent = "";
    const assignees = assigneesOf(form);
    if (!assignees.length) { error.textContent = t.noAssignees; return; }
    const days = form.work_days.value ? Number(form.work_days.value) : null;
    $("tk-submit").disabled = true;
    try {
      let attachments;
      try { attachments = await upload(form.files.files, error); } catch (e) { error.textContent = fmt(t.failed, { reason: e.message }); return; }
      const body = { title: form.title.value, body: form.body.value, kind: form.kind.value,
        source: form.source.value || null, source_ref: form.source_ref.value || null,
        deadline: days ? { work_days: days } : form.deadline.value, report_back: form.report_back.checked,
        attachments, assignees };
      const r = await fetchJSON(config.tasksUrl, { method: "POST", body });
      if (!r.ok) { error.textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
      if (opinion && form.dataset.opinion) await linkOpinion(r.answer);
      say(fmt(r.answer.state === "待区审批" ? t.pendingCreated : t.created, { number: r.answer.number, state: stateLabel(r.answer.state) }));
      form.reset();
      picked.clear();
      drawWorkers();
      $("tk-rule").hidden = true;
      show("list");
      await load();
      await openTask(r.answer.id);
    } finally {
      $("tk-submit").disabled = false;
    }
  }

  // the task made from a meeting's opinion, recorded on the opinion (it then shows the task)
  async function linkOpinion(task) {
    const url = config.meetingOpinionTaskUrl.replace("MEETING", opinion.meeting).replace("OPINION", opinion.n);
    const r = await fetchJSON(url, { method: "POST", body: { task_id: task.id } });
    delete $("tk-form").dataset.opinion;
    if (!r.ok) say(fmt(t.opinionNotLinked, { reason: reason(r.answer, r.status) }));
  }

  function fromOpinion() {
    const form = $("tk-form");
    form.title.value = (asked.get("title") || "").slice(0, 200);
    form.body.value = fmt(t.fromOpinion, { meeting: opinion.meeting, n: opinion.n, text: asked.get("title") || "" });
    form.source.value = "meeting";
    form.source_ref.value = fmt(t.opinionRef, { meeting: opinion.meeting, n: opinion.n });
    form.dataset.opinion = `${opinion.meeting}:${opinion.n}`;
    show("new");
  }

  if ($("tk-form")) {
    $("tk-form").addEventListener("submit", create);
    $("tk-form").kind.addEventListener("change", (ev) => { $("tk-rule").hidden = ev.target.value !== "info_collection"; });
    $("tk-worker-add").addEventListener("click", addWorker);
    $("tk-worker-q").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); addWorker(); } });
  }

  // ------------------------------------------------------------ 待区审批 (the district)
  async function loadPending() {
    if (!$("tk-pending")) return;
    const r = await fetchJSON(config.tasksUrl + "?pending=1");
    if (!r.ok) { say(fmt(t.loadFailed, { reason: reason(r.answer, r.status) })); return; }
    pending = r.answer.items;
    $("tk-pending-count").textContent = pending.length ? String(pending.length) : "";
    $("tk-pending").tBodies[0].replaceChildren(...pending.map((task) => {
      const why = el("input", { type: "text", maxlength: "2000", "aria-label": t.refuseWhy, placeholder: t.refuseWhy });
      const decide = async (action) => {
        if (action === "refuse" && !why.value.trim()) { say(t.refuseWhy); why.focus(); return; }
        current = task;
        await send({ action, assignee: null }, why.value.trim() || null, []);
      };
      return el("tr", { "data-task": String(task.id) },
        el("td", {}, el("button", { type: "button", class: "link-like", onclick: () => openTask(task.id) }, task.number)),
        el("td", {}, task.title, task.body ? el("div", { class: "tk-note" }, task.body) : null),
        el("td", {}, task.issuer.label || ""),
        el("td", {}, task.assignees.map((a) => (t.kinds[a.kind] || a.kind) + " " + a.name).join("、")),
        el("td", {}, stamp(task.deadline)),
        el("td", {}, why),
        el("td", { class: "tk-row-actions" },
          el("button", { type: "button", class: "desk-btn desk-primary", "data-action": "approve", onclick: () => decide("approve") }, t.approve),
          el("button", { type: "button", class: "desk-btn tk-refuse", "data-action": "refuse", onclick: () => decide("refuse") }, t.refuse)));
    }));
    $("tk-pending-empty").hidden = pending.length > 0;
    document.body.dataset.pendingLoaded = String(pending.length);
  }

  for (const id of ["tk-f-scope", "tk-f-state", "tk-f-kind", "tk-f-overdue"]) $(id).addEventListener("change", load);
  $("tk-f-q").addEventListener("input", draw);
  load().then(() => { if (config.task) openTask(config.task); });
  if (opinion && $("tk-form")) fromOpinion();
  if (config.canApprove) loadPending();
})();
