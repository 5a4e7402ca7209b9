// 队伍管理 · 请假 tab (/staff #st-leave): the leaves within the reader's scope (a leader's village, the
// town's all); 批准 / 不批准 what awaits the reader; the town's centre names the stand-in (顶岗: the
// village's grid leader) of a leave to come or running. Data from /api/v1/leave; text nodes only.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, english } = Wangge;
  const config = Wangge.staffConfig;
  const t = readJSON("st-leave-i18n");
  const reason = Wangge.reasons;
  let answer = null;

  const shown = (i, awaiting, show) => ({
    awaiting: awaiting.has(i.id),
    open: i.state === "待审批" || (i.state === "已批准" && i.end >= config.today),
    overdue: i.back_overdue,
    all: true,
  })[show];

  async function act(item, body, label) {
    const r = await fetchJSON(config.leaveUrl + "/" + item.id + "/actions", { method: "POST",
      body: { version: item.version, ...body } });
    $("st-leave-msg").textContent = r.ok ? fmt(t.done, { action: label, name: item.worker.name || "" })
      : fmt(t.failed, { reason: reason(r.answer, r.status) });
    load();
  }

  function standIn(item) {
    const box = el("span", { class: "st-standin" }, item.stand_in ? item.stand_in.name : t.none);
    const open = item.state === "待审批" || (item.state === "已批准" && item.end >= config.today);
    if (!answer.may_name_stand_in || !open) return box;
    const choices = answer.stand_in_candidates[item.grid_code.slice(0, 12)] || [];
    const select = el("select", { "aria-label": t.choose, "data-leave": String(item.id) },
      el("option", { value: "" }, t.choose), ...choices.map((c) => el("option", { value: c.username }, c.name + " (" + c.username + ")")));
    select.addEventListener("change", () => {
      if (select.value) act(item, { action: "name_stand_in", stand_in: select.value }, t.name);
    });
    box.append(" ", select);
    if (item.stand_in) {
      box.append(" ", el("button", { type: "button", class: "desk-btn", "data-action": "clear_stand_in",
        onclick: () => act(item, { action: "name_stand_in", stand_in: null }, t.clear) }, t.clear));
    }
    return box;
  }

  function row(i, awaiting) {
    const buttons = [];
    if (awaiting.has(i.id)) {
      buttons.push(el("button", { type: "button", class: "desk-btn desk-primary", "data-action": "approve",
        onclick: () => act(i, { action: "approve" }, t.approve) }, t.approve));
      buttons.push(el("button", { type: "button", class: "desk-btn", "data-action": "refuse", onclick: () => {
        const note = window.prompt(t.refuseWhy) || "";
        if (note.trim()) act(i, { action: "refuse", note }, t.refuse);
      } }, t.refuse));
    }
    const state = (english ? i.state_en : i.state) + (i.back_overdue ? " · " + t.overdue : "");
    return el("tr", { "data-id": String(i.id), class: i.back_overdue ? "st-late" : null },
      el("td", {}, i.worker.name || ""), el("td", {}, i.grid_code),
      el("td", {}, i.start + " — " + i.end), el("td", {}, String(i.days)), el("td", {}, i.kind),
      el("td", {}, i.reason), el("td", {}, i.approver_role === "leader" ? t.leader + " · " + t.filed : t.town),
      el("td", { class: "st-state" }, state), el("td", {}, standIn(i)), el("td", { class: "st-row-buttons" }, ...buttons));
  }

  function draw() {
    const show = document.querySelector("input[name=lv-show]:checked").value;
    const awaiting = new Set(answer.awaiting_me);
    const items = answer.items.filter((i) => shown(i, awaiting, show));
    $("st-leave-table").tBodies[0].replaceChildren(...items.map((i) => row(i, awaiting)));
    $("st-leave-empty").hidden = items.length > 0;
    document.body.dataset.leaves = String(items.length);
  }

  async function load() {
    const r = await fetchJSON(config.leaveUrl);
    if (!r.ok) { $("st-leave-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    answer = r.answer;
    draw();
  }

  for (const input of document.querySelectorAll("input[name=lv-show]")) input.addEventListener("change", () => answer && draw());
  let loaded = false;
  document.addEventListener("staff:show", (ev) => {
    if (ev.detail === "leave" && !loaded) { loaded = true; load(); }
  });
})();
