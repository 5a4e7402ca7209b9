// 我的考核 on the phone (/m/staff #ms-assessment): this month's total, grade, ranks and items with
// their formula and inputs.
(function () {
  "use strict";
  const { el, fetchJSON } = Wangge;
  const config = () => Wangge.staffConfig;
  document.addEventListener("staff:show", async () => {
    const cfg = config();
    const r = await fetchJSON(`${cfg.assessmentsUrl}?month=${cfg.month}`);
    if (!r.ok) return;
    const table = r.answer;
    const row = (table.items || [])[0];
    if (!row) return;
    document.getElementById("ms-as-total").textContent =
      `${table.period}: ${row.total} · ${row.grade} · ${row.rank_in_village} / ${row.rank_in_town} · ${row.pay_tier.tier}`;
    document.getElementById("ms-as-items").replaceChildren(...row.items.map((i) => el("li", {}, ...[
      el("b", {}, ...[`${i.name} ${i.score} / ${i.points}`]), el("small", {}, ...[i.formula]),
      el("small", {}, ...[Object.entries(i.inputs).map(([k, v]) => `${k} = ${v}`).join(", ")])])));
  });
})();
