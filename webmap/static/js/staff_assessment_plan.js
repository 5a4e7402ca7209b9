// 队伍管理 · 考核 · 考核方案 (/staff #st-as-plan): the plan in force, and for the town's centre its editor —
// each item's points and its formula's parameters (or the deduction per count), the grade bands, the
// weights of the year, the bonus cap and the pay tiers. The points' sum shows as it is typed; the
// server checks the whole plan (PUT /api/v1/assessment-plan) and every reason it refuses shows here,
// with what was typed kept. A saved plan is a new version (audited); the table is computed again.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, getJSON, message, stamp } = Wangge;
  const t = readJSON("st-as-i18n");
  let answer = null; // the plan in force as the server sent it, with its formulas and counts

  const number = (name, value, attrs) => el("input", { type: "number", name, value: String(value), inputmode: "decimal",
    step: "any", ...attrs });
  const form = () => $("st-as-plan-form");
  const value = (name) => Number(form().elements[name].value);

  function paramInputs(item, n) {
    const rule = item.rule;
    if (rule.formula) {
      const formula = answer.formulas[rule.formula];
      return Object.entries(formula.params).map(([key, p]) => el("label", { class: "st-as-param" }, key + " ",
        number(`items.${n}.params.${key}`, (rule.params || {})[key] ?? p.default, { min: p.min, max: p.max })));
    }
    if (rule.deduct !== undefined) {
      return [el("label", { class: "st-as-param" }, t.deduct + " ", number(`items.${n}.deduct`, rule.deduct, { min: 0, max: 100 }))];
    }
    return [t.hand];
  }

  function ruleText(item) {
    const rule = item.rule;
    if (rule.formula) return Wangge.english ? answer.formulas[rule.formula].en : answer.formulas[rule.formula].zh;
    if (rule.deduct !== undefined) {
      const count = answer.counts[rule.count];
      return `${t.deduct} × ${Wangge.english ? count.en : count.zh}`;
    }
    return t.hand;
  }

  function draw() {
    const plan = answer.plan;
    $("st-as-plan-version").textContent = answer.default ? t.default : fmt(t.version, { id: answer.id, at: stamp(answer.created_at) });
    $("st-as-plan-items").replaceChildren(...plan.items.map((item, n) => el("tr", { "data-code": item.code },
      el("td", { "data-label": t.item }, (Wangge.english && item.name_en) || item.name),
      el("td", {}, number(`items.${n}.points`, item.points, { min: 0, max: 100, class: "st-as-points" })),
      el("td", {}, ...paramInputs(item, n)),
      el("td", { class: "st-as-rule" }, ruleText(item)),
      el("td", { class: "st-as-source" }, item.inputs || ""))));
    $("st-as-plan-bands").replaceChildren(...plan.bands.map((band, n) => el("label", {}, band.grade + " ≥ ",
      number(`bands.${n}.min`, band.min, { min: 0, max: 100, ...(n === plan.bands.length - 1 ? { readonly: "" } : {}) }))));
    form().elements["annual.months"].value = plan.annual.months;
    form().elements["annual.survey"].value = plan.annual.survey;
    form().elements.bonus_cap.value = plan.bonus_cap;
    $("st-as-plan-tiers").replaceChildren(...plan.pay_tiers.map((tier, n) => el("tr", {},
      el("td", {}, el("input", { type: "text", name: `tiers.${n}.tier`, value: tier.tier, maxlength: "20" })),
      el("td", {}, number(`tiers.${n}.min`, tier.min, { min: 0, max: 100 })),
      el("td", {}, number(`tiers.${n}.max`, tier.max, { min: 0, max: 100 })),
      el("td", {}, number(`tiers.${n}.amount`, tier.amount, { min: 0 })))));
    const manage = Wangge.staffConfig.canManage;
    for (const input of form().querySelectorAll("input")) input.disabled = !manage;
    $("st-as-plan-save").hidden = !manage;
    $("st-as-plan-errors").replaceChildren(...(manage ? [] : [el("li", { class: "st-as-readonly" }, t.readOnly)]));
    sum();
  }

  function sum() {
    const total = answer.plan.items.reduce((s, _i, n) => s + value(`items.${n}.points`), 0);
    const shown = Math.round(total * 100) / 100;
    const out = $("st-as-plan-sum");
    out.textContent = fmt(Math.abs(shown - 100) < 1e-9 ? t.sum : t.sumBad, { sum: shown });
    out.classList.toggle("st-as-bad", Math.abs(shown - 100) >= 1e-9);
  }

  // the plan as typed: the one in force with the form's numbers in it
  function typed() {
    const plan = structuredClone(answer.plan);
    plan.items.forEach((item, n) => {
      item.points = value(`items.${n}.points`);
      if (item.rule.formula) {
        for (const key of Object.keys(answer.formulas[item.rule.formula].params)) {
          item.rule.params = { ...(item.rule.params || {}), [key]: value(`items.${n}.params.${key}`) };
        }
      } else if (item.rule.deduct !== undefined) item.rule.deduct = value(`items.${n}.deduct`);
    });
    plan.bands.forEach((band, n) => { band.min = value(`bands.${n}.min`); });
    plan.annual.months = value("annual.months");
    plan.annual.survey = value("annual.survey");
    plan.bonus_cap = value("bonus_cap");
    plan.pay_tiers.forEach((tier, n) => {
      tier.tier = form().elements[`tiers.${n}.tier`].value.trim();
      for (const key of ["min", "max", "amount"]) tier[key] = value(`tiers.${n}.${key}`);
    });
    return plan;
  }

  // a field of the server's error ("items[1].rule.params.quota") in the words of the plan ("上报数量")
  function where(field) {
    const m = /^items\[(\d+)\]/.exec(field);
    return m && answer.plan.items[Number(m[1])] ? answer.plan.items[Number(m[1])].name + ": " : "";
  }

  async function save(ev) {
    ev.preventDefault();
    const button = form().querySelector("button[type=submit]");
    button.disabled = true;
    const note = form().elements.note.value.trim();
    const got = await fetchJSON(Wangge.staffConfig.assessmentPlanUrl, { method: "PUT", body: { plan: typed(), note: note || null } })
      .finally(() => { button.disabled = false; });
    const errors = $("st-as-plan-errors");
    $("st-as-plan-msg").textContent = "";
    if (!got.ok) {
      const reasons = (got.answer.errors || []).map((e) => where(e.field) + (Wangge.english ? e.en : e.zh));
      errors.replaceChildren(el("li", {}, t.notSaved), ...(reasons.length ? reasons : [message(got.answer)]).map((r) => el("li", {}, r)));
      return;
    }
    answer = got.answer;
    form().elements.note.value = "";
    draw();
    $("st-as-plan-msg").textContent = fmt(t.saved, { id: answer.id });
    document.dispatchEvent(new CustomEvent("assessment:plan"));
  }

  async function open() {
    const section = $("st-as-plan");
    const show = section.hidden;
    section.hidden = !show;
    $("st-as-plan-open").setAttribute("aria-expanded", String(show));
    if (!show || answer) return;
    answer = await getJSON(Wangge.staffConfig.assessmentPlanUrl);
    draw();
    section.dataset.ready = "1";
  }

  document.addEventListener("staff:show", (e) => {
    if (e.detail !== "assessment" || form().dataset.bound) return;
    form().dataset.bound = "1";
    $("st-as-plan-open").addEventListener("click", open);
    form().addEventListener("input", (ev) => { if (ev.target.classList.contains("st-as-points")) sum(); });
    form().addEventListener("submit", save);
    $("st-as-plan-reset").addEventListener("click", draw);
  });
})();
