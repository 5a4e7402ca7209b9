// 队伍管理 · 考核 tab (/staff #st-assessment): the month's table, a worker's items with their formula
// and inputs, a hand score with its reason (the town's centre), the Excel download.
(function () {
  "use strict";
  const { el, fetchJSON, readJSON } = Wangge;
  const config = () => Wangge.staffConfig || readJSON("st-config");
  const $ = (id) => document.getElementById(id);
  let loaded = false, month = null;
  function csrf() { const m = document.querySelector("meta[name=csrf-token]"); return m ? m.content : ""; }
  function detail(row) {
    const cfg = config();
    $("st-as-detail").hidden = false;
    $("st-as-who").textContent = `${row.worker.name} · ${row.total} · ${row.grade}`;
    const body = $("st-as-items");
    body.replaceChildren(...row.items.map((i) => el("tr", {}, ...[el("td", {}, ...[i.name]), el("td", {}, ...[String(i.points)]),
      el("td", {}, ...[String(i.score)]), el("td", {}, ...[i.formula + (i.hand ? ` (${i.hand.reason})` : "")]),
      el("td", {}, ...[Object.entries(i.inputs).map(([k, v]) => `${k} = ${v}`).join(", ")])])));
    const form = $("st-as-hand");
    form.hidden = !cfg.canManage;
    form.dataset.worker = row.worker.username;
    $("st-as-item").replaceChildren(...row.items.map((i) => el("option", { value: i.code }, ...[i.name])));
  }
  async function load() {
    const cfg = config();
    month = $("st-as-month").value || cfg.month;
    $("st-as-xlsx").href = `${cfg.assessmentXlsxUrl}?month=${month}`;
    const got = await fetchJSON(`${cfg.assessmentsUrl}?month=${month}`);
    if (!got.ok) { $("st-as-msg").textContent = (got.answer.errors || []).map((x) => x.zh).join("; ") || got.answer.message_zh || ""; return; }
    const table = got.answer;
    $("st-as-table").querySelector("tbody").replaceChildren(...table.items.map((r) => {
      const tr = el("tr", { class: "st-as-row", tabindex: "0" }, ...[el("td", {}, ...[r.worker.name]), el("td", {}, ...[r.grid_name || r.grid]),
        el("td", {}, ...[String(r.total)]), el("td", {}, ...[r.grade]), el("td", {}, ...[String(r.rank_in_village)]),
        el("td", {}, ...[String(r.rank_in_town)]), el("td", {}, ...[r.pay_tier.tier])]);
      tr.addEventListener("click", () => detail(r));
      return tr;
    }));
    document.body.dataset.assessment = month;
  }
  document.addEventListener("staff:show", (e) => {
    if (e.detail !== "assessment" || loaded) return;
    loaded = true;
    $("st-as-month").value = config().month;
    $("st-as-pick").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
    $("st-as-hand").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const answer = await fetch(config().assessmentScoresUrl, { method: "POST", headers: {
        "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify({ period: month,
        worker: ev.target.dataset.worker, item: $("st-as-item").value, score: Number($("st-as-score").value),
        reason: $("st-as-reason").value }) });
      const data = await answer.json();
      $("st-as-msg").textContent = answer.ok ? "✓" : (data.errors || []).map((x) => x.zh).join("; ") || data.message_zh;
      if (answer.ok) load();
    });
    load();
  });
})();
