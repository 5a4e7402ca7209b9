// 队伍管理 · 本中心人员 tab (/staff #st-people): the roster of a year (post, establishment, the
// year's training hours and grade), a training recorded, the annual grade of a 事业编制 member
// recorded, a person's history of trainings and grades.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, getJSON, message } = Wangge;
  const t = readJSON("pp-i18n");
  const config = () => Wangge.staffConfig;
  let loaded = false;
  let roster = null;
  let current = null; // the member a form is open for

  function say(text) { $("pp-msg").textContent = text; }
  const reason = (answer) => (answer.errors || []).map((e) => e.zh).join("; ") || message(answer);

  function years() {
    const select = $("pp-year");
    const now = config().year;
    for (let y = now; y >= now - 4; y--) select.append(el("option", { value: String(y) }, String(y)));
    select.addEventListener("change", load);
  }

  async function load() {
    const year = $("pp-year").value;
    $("pp-xlsx").href = config().staffMembersXlsxUrl + "?year=" + year;
    roster = await getJSON(config().staffMembersUrl + "?year=" + year);
    const body = $("pp-roster").tBodies[0];
    body.replaceChildren();
    const items = roster.items.filter((m) => m.in_year);
    if (!items.length) body.append(el("tr", null, el("td", { colspan: "7" }, t.empty)));
    for (const m of items) body.append(row(m));
    document.body.dataset.peopleReady = "1";
  }

  function row(m) {
    const grade = m.grade || (m.appraised ? t.none : t.na);
    const buttons = el("td", { class: "pp-actions" },
      el("button", { type: "button", class: "desk-btn pp-history-btn", onclick: () => history(m) }, t.history));
    if (config().canManage) {
      buttons.prepend(el("button", { type: "button", class: "desk-btn pp-train-btn", onclick: () => openTraining(m) }, t.train));
      if (m.appraised) buttons.append(el("button", { type: "button", class: "desk-btn pp-grade-btn", onclick: () => openGrade(m) }, t.grade));
    }
    return el("tr", { "data-person": String(m.person.id) },
      el("td", { "data-label": t.name }, m.person.name),
      el("td", { "data-label": t.post }, m.post),
      el("td", { "data-label": t.establishment }, m.establishment),
      el("td", { "data-label": t.since }, m.since || "", m.until ? el("div", { class: "muted" }, fmt(t.left, { until: m.until })) : null),
      el("td", { "data-label": t.hoursCol, class: "pp-hours" }, fmt(t.hours, { hours: m.hours, n: m.trainings })),
      el("td", { "data-label": t.gradeCol, class: "pp-grade" }, grade),
      buttons);
  }

  function closeForms() { $("pp-training").hidden = true; $("pp-grade").hidden = true; }

  function openTraining(m) {
    closeForms();
    current = m;
    const form = $("pp-training");
    form.reset();
    form.querySelector(".pp-form-title").textContent = fmt(t.trainTitle, { name: m.person.name });
    form.elements.day.max = config().today;
    form.querySelector(".error").textContent = "";
    form.hidden = false;
    form.elements.course.focus();
  }

  function openGrade(m) {
    closeForms();
    current = m;
    const form = $("pp-grade");
    form.reset();
    const year = $("pp-year").value;
    form.querySelector(".pp-form-title").textContent = fmt(t.gradeTitle, { name: m.person.name, year });
    form.elements.grade.replaceChildren(...roster.grades.map((g) => el("option", { value: g }, g)));
    if (m.grade) form.elements.grade.value = m.grade;
    form.querySelector(".error").textContent = "";
    form.hidden = false;
  }

  async function upload(file) {
    const data = new FormData();
    data.append("file", file);
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const r = await fetch(config().attachmentsUrl, { method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" } });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(reason(answer) || String(r.status));
    return answer.id;
  }

  async function saveTraining(event) {
    event.preventDefault();
    const form = $("pp-training");
    const error = form.querySelector(".error");
    error.textContent = "";
    let attachment = null;
    if (form.elements.scan.files.length) {
      try { attachment = await upload(form.elements.scan.files[0]); } catch (e) {
        error.textContent = fmt(t.scanFailed, { reason: e.message });
        return;
      }
    }
    const body = { person: current.person.id, course: form.elements.course.value, day: form.elements.day.value,
      hours: form.elements.hours.value === "" ? null : Number(form.elements.hours.value),
      certificate: form.elements.certificate.value || null, attachment };
    const { ok, answer } = await fetchJSON(config().staffTrainingsUrl, { method: "POST", body });
    if (!ok) { error.textContent = fmt(t.failed, { reason: reason(answer) }); return; }
    form.hidden = true;
    await load();
    say(fmt(t.saved, { name: answer.person.name, course: answer.course, hours: answer.hours }));
  }

  async function saveGrade(event) {
    event.preventDefault();
    const form = $("pp-grade");
    const error = form.querySelector(".error");
    const body = { person: current.person.id, year: Number($("pp-year").value), grade: form.elements.grade.value,
      note: form.elements.note.value || null };
    const { ok, answer } = await fetchJSON(config().staffAppraisalsUrl, { method: "POST", body });
    if (!ok) { error.textContent = fmt(t.failed, { reason: reason(answer) }); return; }
    form.hidden = true;
    await load();
    say(fmt(t.graded, { name: answer.person.name, year: answer.year, grade: answer.grade }));
  }

  async function history(m) {
    const box = $("pp-history");
    box.querySelector("h3").textContent = fmt(t.historyTitle, { name: m.person.name });
    const [trainings, grades] = await Promise.all([
      getJSON(config().staffTrainingsUrl + "?person=" + m.person.id),
      getJSON(config().staffAppraisalsUrl + "?person=" + m.person.id)]);
    const rows = trainings.items.map((x) => el("tr", null, el("td", null, x.day), el("td", null, x.course),
      el("td", null, String(x.hours)), el("td", null, x.certificate || "",
      x.attachment ? el("a", { href: config().attachmentsUrl + "/" + x.attachment, target: "_blank", rel: "noopener", class: "pp-scan" }, " " + t.scan) : null)));
    $("pp-h-trainings").replaceChildren(...(rows.length ? rows : [el("tr", null, el("td", { colspan: "4" }, t.noTrainings))]));
    const lines = grades.items.map((a) => el("li", null, fmt(t.gradeLine, { year: a.year, grade: a.grade }),
      a.note ? " — " + a.note : null));
    $("pp-h-grades").replaceChildren(...(lines.length ? lines : [el("li", null, t.noGrades)]));
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("staff:show", (event) => {
    if (event.detail !== "people" || loaded) return;
    loaded = true;
    years();
    $("pp-training").addEventListener("submit", saveTraining);
    $("pp-grade").addEventListener("submit", saveGrade);
    for (const b of document.querySelectorAll("#st-people .pp-cancel")) b.addEventListener("click", closeForms);
    load().catch((e) => say(String(e)));
  });
})();
