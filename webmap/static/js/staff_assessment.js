// 队伍管理 · 考核 tab (/staff #st-assessment): the month's or the year's table; a worker's drill-down
// (each item's formula and inputs, the printable sheet; for a year the months, the survey and the
// town's decisions with their history); a hand score with its reason and a decision (the town's
// centre); the Excel download. The plan's editor is js/staff_assessment_plan.js; when it saves a plan
// ("assessment:plan" on document) the table is computed again.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, getJSON, reasons, stamp, english } = Wangge;
  const t = readJSON("st-as-i18n");
  let loaded = false, period = null, kind = "month", survey = null;

  const nameOf = (item) => (english && item.name_en) || item.name;
  const td = (text, label) => el("td", label ? { "data-label": label } : {}, String(text ?? ""));
  const sheetUrl = (worker) => Wangge.staffConfig.assessmentSheetUrl.replace("WORKER", encodeURIComponent(worker))
    .replace("PERIOD", period);

  // the table's columns of a month and of a year: (heading, the cell's text of a row)
  const COLUMNS = {
    month: [[t.worker, (r) => r.worker.name], [t.grid, (r) => r.grid_name || r.grid], [t.total, (r) => r.total],
            [t.grade, (r) => r.grade], [t.rankVillage, (r) => r.rank_in_village], [t.rankTown, (r) => r.rank_in_town],
            [t.tier, (r) => r.pay_tier.tier]],
    year: [[t.worker, (r) => r.worker.name], [t.grid, (r) => r.grid_name || r.grid],
           [t.monthMean, (r) => `${r.inputs.month_mean} (${fmt(t.months, { n: r.inputs.months })})`],
           [t.survey, (r) => (r.survey ? r.survey.score : t.noSurvey)], [t.total, (r) => r.total],
           [t.grade, (r) => r.grade], [t.why, (r) => r.why || ""], [t.rankTown, (r) => r.rank_in_town],
           [t.tier, (r) => r.pay_tier.tier]],
  };

  function itemRows(row) {
    if (kind === "month") {
      return row.items.map((i) => el("tr", {}, td(nameOf(i)), td(i.points), td(i.score),
        td(((english && i.formula_en) || i.formula) + (i.hand ? ` (${i.hand.reason})` : "")),
        td(Object.entries(i.inputs).map(([k, v]) => `${k} = ${v}`).join(", "))));
    }
    const scored = row.survey;
    return [el("tr", {}, td(t.monthMean), td(100), td(row.inputs.month_mean), td(fmt(t.monthsLine, {
      list: row.months.join(", ") || "—" })), td(`months = ${row.inputs.months}`)),
    el("tr", {}, td(t.surveyItem), td(100), td(scored ? scored.score : t.noSurvey), td(scored ? scored.reason : ""),
      td(`survey = ${row.inputs.survey ?? "—"}`))];
  }

  async function history(row) {
    const list = $("st-as-history");
    const got = await getJSON(Wangge.staffConfig.assessmentHistoryUrl.replace("WORKER", encodeURIComponent(row.worker.username)));
    const lines = got.years.map((y) => el("li", { class: "st-as-computed" }, fmt(t.yearLine, {
      year: y.year, total: y.total, grade: y.grade, why: y.why ? ` (${y.why})` : "" })));
    const decided = got.decisions.map((d) => el("li", { class: "st-as-decision" }, fmt(t.decidedLine, {
      year: d.year, decision: d.decision, total: d.total, grade: d.grade, who: d.decided_by || "",
      at: stamp(d.decided_at), note: d.note ? ` · ${d.note}` : "" })));
    list.replaceChildren(...lines, ...(decided.length ? decided : [el("li", {}, t.noDecisions)]));
  }

  function detail(row) {
    const cfg = Wangge.staffConfig;
    $("st-as-detail").hidden = false;
    $("st-as-detail").dataset.worker = row.worker.username;
    $("st-as-who").textContent = `${row.worker.name} · ${period} · ${row.total} · ${row.grade}`;
    $("st-as-sheet").href = sheetUrl(row.worker.username);
    $("st-as-year-formula").textContent = kind === "year" ? row.formula + (row.why ? ` · ${row.why}` : "") : "";
    $("st-as-items").replaceChildren(...itemRows(row));
    const form = $("st-as-hand");
    form.hidden = !cfg.canManage;
    form.dataset.worker = row.worker.username;
    $("st-as-msg").textContent = "";
    const choices = kind === "month" ? [...row.items.filter((i) => i.code !== "bonus"), { code: "bonus", name: t.bonus }]
      : [survey];
    $("st-as-item").replaceChildren(...choices.map((i) => el("option", { value: i.code }, nameOf(i))));
    $("st-as-decisions").hidden = kind !== "year";
    $("st-as-decide").hidden = !cfg.canManage;
    $("st-as-decided").textContent = "";
    if (kind === "year") history(row);
    $("st-as-detail").scrollIntoView({ block: "nearest" });
  }

  async function load() {
    const cfg = Wangge.staffConfig;
    kind = $("st-as-kind").value;
    period = kind === "month" ? ($("st-as-month").value || cfg.month) : String($("st-as-year").value || cfg.year);
    $("st-as-xlsx").href = `${cfg.assessmentXlsxUrl}?${kind}=${period}`;
    $("st-as-status").textContent = "";
    const got = await fetchJSON(`${cfg.assessmentsUrl}?${kind}=${period}`);
    const table = $("st-as-table");
    if (!got.ok) {
      $("st-as-status").textContent = reasons(got.answer) || "";
      table.querySelector("tbody").replaceChildren();
      return;
    }
    survey = got.answer.survey_item || null;
    const columns = COLUMNS[kind];
    table.querySelector("thead tr").replaceChildren(...columns.map(([head]) => el("th", {}, head)));
    const rows = got.answer.items.map((r) => {
      const tr = el("tr", { class: "st-as-row", tabindex: "0", "data-worker": r.worker.username },
        ...columns.map(([head, cell]) => td(cell(r), head)));
      tr.addEventListener("click", () => detail(r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") detail(r); });
      return tr;
    });
    table.querySelector("tbody").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: String(columns.length) }, t.empty))]));
    const open = $("st-as-detail").dataset.worker;
    const again = open && got.answer.items.find((r) => r.worker.username === open);
    if (again && !$("st-as-detail").hidden) detail(again);
    document.body.dataset.assessment = period;
  }

  function pickKind() {
    const year = $("st-as-kind").value === "year";
    $("st-as-month-l").hidden = year;
    $("st-as-year-l").hidden = !year;
    $("st-as-detail").hidden = true;
  }

  async function handScore(ev) {
    ev.preventDefault();
    const button = ev.target.querySelector("button[type=submit]");
    button.disabled = true;
    const { ok, answer } = await fetchJSON(Wangge.staffConfig.assessmentScoresUrl, { method: "POST", body: {
      period, worker: ev.target.dataset.worker, item: $("st-as-item").value, score: Number($("st-as-score").value),
      reason: $("st-as-reason").value } }).finally(() => { button.disabled = false; });
    $("st-as-msg").textContent = ok ? "✓" : reasons(answer) || "";
    if (ok) { $("st-as-reason").value = ""; load(); }
  }

  async function decide(ev) {
    ev.preventDefault();
    const button = ev.target.querySelector("button[type=submit]");
    button.disabled = true;
    const worker = $("st-as-detail").dataset.worker;
    const note = $("st-as-decision-note").value.trim();
    const { ok, answer } = await fetchJSON(Wangge.staffConfig.assessmentDecisionsUrl, { method: "POST", body: {
      worker, year: Number(period), decision: $("st-as-decision").value, note: note || null } })
      .finally(() => { button.disabled = false; });
    $("st-as-decided").textContent = ok ? "✓" : reasons(answer) || "";
    if (ok) {
      $("st-as-decision-note").value = "";
      const row = { worker: answer.worker };
      history(row);
    }
  }

  document.addEventListener("staff:show", (e) => {
    if (e.detail !== "assessment" || loaded) return;
    loaded = true;
    const cfg = Wangge.staffConfig;
    $("st-as-month").value = cfg.month;
    $("st-as-year").value = cfg.year;
    $("st-as-year").max = cfg.year;
    $("st-as-decision").replaceChildren(...cfg.decisions.map((d) => el("option", { value: d }, d)));
    $("st-as-kind").addEventListener("change", () => { pickKind(); load(); });
    $("st-as-pick").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
    $("st-as-hand").addEventListener("submit", handScore);
    $("st-as-decide").addEventListener("submit", decide);
    document.addEventListener("assessment:plan", load);
    load();
  });
})();
