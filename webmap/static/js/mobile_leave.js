// 请假 on the phone (/m/leave): a worker asks for leave and cancels or reports back (销假); a leader
// (or the town's centre) approves or refuses what awaits them. Data from /api/v1/leave; text reaches
// the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, english } = Wangge;
  const config = readJSON("lv-config");
  const t = readJSON("lv-i18n");
  const reason = Wangge.reasons;

  function buttons(item, awaiting) {
    const out = [];
    const add = (action, label, needsNote) => out.push(el("button", { type: "button", class: "mc-btn", "data-action": action,
      onclick: () => act(item, action, label, needsNote) }, label));
    if (awaiting) { add("approve", t.approve); add("refuse", t.refuse, true); }
    if (config.role === "worker") {
      if (item.state === "待审批" || (item.state === "已批准" && item.start > config.today)) add("cancel", t.cancel);
      if (item.state === "已批准" && item.start <= config.today) add("report_back", t.back);
    }
    return out;
  }

  async function act(item, action, label, needsNote) {
    let note = null;
    if (needsNote) {
      note = window.prompt(t.refuseWhy) || "";
      if (!note.trim()) return;
    }
    const r = await fetchJSON(config.leaveUrl + "/" + item.id + "/actions", { method: "POST",
      body: { action, version: item.version, note } });
    $("lv-act-msg").textContent = r.ok ? fmt(t.done, { action: label }) : fmt(t.failed, { reason: reason(r.answer, r.status) });
    load();
  }

  async function load() {
    const r = await fetchJSON(config.leaveUrl);
    if (!r.ok) { $("lv-act-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    const awaiting = new Set(r.answer.awaiting_me);
    const items = config.role === "worker" ? r.answer.items : r.answer.items.filter((i) => awaiting.has(i.id));
    $("lv-list").replaceChildren(...items.map((i) => el("li", { class: "lv-item", "data-id": String(i.id) },
      el("div", { class: "mc-no" }, (i.worker.name || "") + " · " + i.kind + " · " + fmt(t.days, { n: i.days })),
      el("div", {}, i.start + " — " + i.end + " · " + (english ? i.state_en : i.state)
        + (i.back_overdue ? " · " + t.overdue : "")),
      el("div", { class: "muted" }, i.reason + " · " + (i.approver_role === "leader" ? t.leader : t.town)),
      el("div", { class: "lv-buttons" }, ...buttons(i, awaiting.has(i.id))))));
    $("lv-empty").hidden = items.length > 0;
    document.body.dataset.leaves = String(items.length);
  }

  const form = $("lv-form");
  if (form) {
    form.start.value = form.end.value = config.today;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { start: form.start.value, end: form.end.value, kind: form.kind.value, reason: form.reason.value };
      const r = await fetchJSON(config.leaveUrl, { method: "POST", body });
      form.querySelector(".error").textContent = r.ok ? "" : reason(r.answer, r.status);
      if (!r.ok) return;
      $("lv-msg").textContent = fmt(t.asked, { n: r.answer.days, who: r.answer.approver_role === "leader" ? t.leader : t.town });
      form.reason.value = "";
      load();
    });
  }
  load();
})();
