// 交办任务 on a grid worker's phone (/m/tasks): the tasks given to them (GET /api/v1/tasks?mine=1);
// a task opens with its body and document, and the steps open to them: 签收 at once, 报告进展 and
// 办结反馈 with a text and photos (uploaded first with POST /api/v1/attachments), sent with the task's
// version (POST …/<id>/actions). ?task=<id> opens one. Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, stamp, recount } = Wangge;
  const config = readJSON("mt-config");
  const t = readJSON("mt-i18n");
  const reason = TaskFiles.reason;
  let items = [];
  let open = config.task ? Number(config.task) : null;

  const upload = (files, status) => TaskFiles.upload(config.attachmentsUrl, files, status, t.uploading);

  async function send(task, action, note, attachments) {
    const r = await fetchJSON(config.tasksUrl + "/" + task.id + "/actions", { method: "POST",
      body: { action, version: task.version, note, attachments } });
    $("mt-msg").className = "mc-result " + (r.ok ? "ok" : "error");
    $("mt-msg").textContent = r.ok ? fmt(t.done, { action: t.actions[action] || action })
      : fmt(t.failed, { reason: reason(r.answer, r.status) });
    if (r.ok) {
      items = items.map((i) => (i.id === task.id ? r.answer : i));
      draw();
      recount();
    } else if (r.status === 409) {
      load();
    }
    return r.ok;
  }

  function form(task, action) {
    const status = el("p", { class: "error", role: "alert" });
    const note = el("textarea", { name: "note", rows: "3", maxlength: "2000" });
    const files = el("input", { type: "file", name: "photos", accept: "image/*", multiple: "" });
    const box = el("form", { class: "mt-form mc-form", "data-action": action, novalidate: "" },
      el("label", {}, action === "complete" ? t.completeNote : t.progressNote, note),
      el("label", {}, t.photos, files), status,
      el("div", { class: "mt-buttons" },
        el("button", { type: "submit", class: "mc-btn primary" }, t.send),
        el("button", { type: "button", class: "mc-btn", onclick: () => box.remove() }, t.cancel)));
    box.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!note.value.trim()) { status.textContent = t.needsNote; return; }
      const submit = box.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        const photos = await upload(files.files, status);
        await send(task, action, note.value.trim(), photos);
      } catch (e) {
        status.textContent = fmt(t.failed, { reason: e.message });
      } finally {
        submit.disabled = false;
      }
    });
    return box;
  }

  function card(task) {
    const mine = task.assignees.find((a) => a.mine) || {};
    const late = !!mine.overdue;
    const li = el("li", { class: "mt-item" + (late ? " late" : ""), "data-task": String(task.id), "data-state": mine.state || "" });
    const head = el("button", { type: "button", class: "mt-head", "aria-expanded": String(open === task.id),
      onclick: () => { open = open === task.id ? null : task.id; draw(); } },
    el("strong", {}, task.title), el("span", { class: "mt-state" }, t.states[mine.state] || mine.state || ""));
    li.append(head, el("div", { class: "muted mt-due" }, fmt(t.due, { deadline: stamp(task.deadline) }),
      late ? " · " + t.overdue : "", mine.supervise_count ? " · " + fmt(t.supervised, { n: mine.supervise_count }) : ""));
    if (open !== task.id) return li;
    const body = el("div", { class: "mt-body" },
      el("div", { class: "muted" }, fmt(t.from, { issuer: task.issuer.label || "" })),
      task.body ? el("p", { class: "mc-desc" }, task.body) : null,
      el("div", { class: "tk-files" }, ...TaskFiles.links(config.attachmentsUrl, task.attachments, t.file)),
      mine.report_back === false ? el("p", { class: "muted" }, t.noReport) : null,
      mine.progress_note ? el("p", {}, fmt(t.lastProgress, { note: mine.progress_note })) : null,
      mine.completion_note ? el("p", {}, mine.completion_note) : null);
    const buttons = el("div", { class: "mt-buttons" });
    for (const a of task.actions.filter((x) => x.assignee === mine.id)) {
      buttons.append(el("button", { type: "button", class: "mc-btn" + (a.action === "complete" ? " primary" : ""),
        "data-action": a.action, onclick: () => {
          if (a.action === "acknowledge") { send(task, "acknowledge", null, []); return; }
          li.querySelectorAll("form").forEach((f) => f.remove());
          li.append(form(task, a.action));
        } }, t.actions[a.action] || a.label_zh));
    }
    li.append(body, buttons);
    return li;
  }

  function draw() {
    $("mt-list").replaceChildren(...items.map(card));
    $("mt-empty").hidden = items.length > 0;
    document.body.dataset.tasks = items.map((i) => i.id + ":" + ((i.assignees.find((a) => a.mine) || {}).state || "")).join(",");
  }

  async function load() {
    const r = await fetchJSON(config.tasksUrl + "?mine=1");
    if (!r.ok) { $("mt-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    items = r.answer.items;
    draw();
    document.body.dataset.tasksLoaded = "1";
  }
  load();
})();
