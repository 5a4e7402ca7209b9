// 队伍管理 · 本中心人员 tab (/staff #st-people): the roster of a year (post, establishment, the
// year's training hours and grade), a training recorded, the annual grade of a 事业编制 member
// recorded, a person's history of trainings and grades; for a manager (config canManage) a member
// added (a new person: name, phone, post, establishment, since), a member's post and establishment
// changed, a member's time ended (离岗: the day, a note for the audit log).
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, getJSON, message } = Wangge;
  const t = readJSON("pp-i18n");
  const config = () => Wangge.staffConfig;
  let loaded = false;
  let roster = null;
  let current = null; // the member a form is open for
  let busy = false; // a member's form is being sent: a second click sends nothing
  const OTHER = ""; // the post select's 其他岗位 (no post is empty): the post is typed

  function say(text) { $("pp-msg").textContent = text; }
  const reason = (answer) => (answer.errors || []).map((e) => e.zh).join("; ") || message(answer);

  function years() {
    const select = $("pp-year");
    const now = config().year;
    for (let y = now; y >= now - 4; y--) select.append(el("option", { value: String(y) }, String(y)));
    select.addEventListener("change", () => load());
  }

  async function load(focus) {
    const year = $("pp-year").value;
    $("pp-xlsx").href = config().staffMembersXlsxUrl + "?year=" + year;
    roster = await getJSON(config().staffMembersUrl + "?year=" + year);
    const body = $("pp-roster").tBodies[0];
    body.replaceChildren();
    const items = roster.items.filter((m) => m.in_year);
    if (!items.length) body.append(el("tr", null, el("td", { colspan: "7" }, t.empty)));
    for (const m of items) body.append(row(m));
    document.body.dataset.peopleReady = "1";
    const mine = focus && body.querySelector(`tr[data-person="${focus}"]`);
    if (mine) mine.scrollIntoView({ block: "nearest" });
  }

  function row(m) {
    const grade = m.grade || (m.appraised ? t.none : t.na);
    const buttons = el("td", { class: "pp-actions" },
      el("button", { type: "button", class: "desk-btn pp-history-btn", onclick: () => history(m) }, t.history));
    if (config().canManage) {
      buttons.prepend(el("button", { type: "button", class: "desk-btn pp-train-btn", onclick: () => openTraining(m) }, t.train));
      if (m.appraised) buttons.append(el("button", { type: "button", class: "desk-btn pp-grade-btn", onclick: () => openGrade(m) }, t.grade));
      if (!m.until) {
        buttons.append(el("button", { type: "button", class: "desk-btn pp-edit-btn", onclick: () => openMember(m) }, t.edit),
          el("button", { type: "button", class: "desk-btn pp-leave-btn", onclick: () => openLeave(m) }, t.leave));
      }
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

  const FORMS = ["pp-training", "pp-grade", "pp-member", "pp-leave"];
  function closeForms() { for (const id of FORMS) $(id).hidden = true; }
  // The form of id for the member m (null: a new one), emptied, titled, its refusals cleared.
  function openForm(id, m, title) {
    closeForms();
    current = m;
    const form = $(id);
    form.reset();
    clearErrors(form);
    form.querySelector(".pp-form-title").textContent = title;
    return form;
  }
  function show(form, first) {
    form.hidden = false;
    form.scrollIntoView({ block: "nearest" });
    first.focus();
  }

  function openTraining(m) {
    const form = openForm("pp-training", m, fmt(t.trainTitle, { name: m.person.name }));
    form.elements.day.max = config().today;
    show(form, form.elements.course);
  }

  function openGrade(m) {
    const form = openForm("pp-grade", m, fmt(t.gradeTitle, { name: m.person.name, year: $("pp-year").value }));
    form.elements.grade.replaceChildren(...roster.grades.map((g) => el("option", { value: g }, g)));
    if (m.grade) form.elements.grade.value = m.grade;
    show(form, form.elements.grade);
  }

  const upload = async (file) => (await Wangge.uploadFiles(config().attachmentsUrl, [file], { document: true }))[0];

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

  // ------------------------------------------------ a member added, changed, ended
  // The refusal's field errors under their fields (those the form shows), the others and the
  // server's reason on the form's line: what was typed stays.
  function clearErrors(form) {
    form.querySelector(".error").textContent = "";
    for (const e of form.querySelectorAll(".pp-field-error")) e.textContent = "";
    for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  }
  function showErrors(form, errors, lead) {
    const rest = [];
    for (const e of errors) {
      const slot = form.querySelector(`.pp-field-error[data-for="${e.field}"]`);
      if (slot && !slot.closest(".pp-field").hidden) {
        slot.textContent = slot.textContent ? slot.textContent + "; " + e.zh : e.zh;
        for (const i of form.querySelectorAll(`[aria-describedby~="${slot.id}"]`)) i.setAttribute("aria-invalid", "true");
      } else rest.push(e.zh);
    }
    form.querySelector(".error").textContent = rest.length ? fmt(t.failed, { reason: rest.join("; ") }) : lead || "";
    const bad = Array.from(form.querySelectorAll("[aria-invalid]")).find((i) => !i.disabled && i.offsetParent !== null);
    if (bad) bad.focus();
  }
  // Sends once: the button stays disabled until the answer (or the network's failure) is in; the
  // last refusal stays shown meanwhile, so that nothing moves under the pointer.
  async function send(form, url, body) {
    if (busy) return null;
    busy = true;
    const button = form.querySelector(".pp-save");
    button.disabled = true;
    try {
      return await fetchJSON(url, { method: "POST", body });
    } catch (_e) {
      clearErrors(form);
      showErrors(form, [], fmt(t.failed, { reason: t.offline }));
      return null;
    } finally {
      busy = false;
      button.disabled = false;
    }
  }

  function fillChoices(form, m) {
    const posts = [...roster.posts];
    for (const x of roster.items) if (!posts.includes(x.post)) posts.push(x.post);
    form.elements.post.replaceChildren(...posts.map((p) => el("option", { value: p }, p)),
      el("option", { value: OTHER }, t.otherPost));
    form.elements.establishment.replaceChildren(...roster.establishments.map((e) => el("option", { value: e }, e)));
    form.elements.post.value = m ? m.post : posts[0];
    form.elements.establishment.value = m ? m.establishment : roster.establishments[0];
    otherPost();
  }
  function otherPost() {
    const form = $("pp-member");
    const other = form.elements.post.value === OTHER;
    form.querySelector(".pp-post-other").hidden = !other;
    form.elements.postOther.disabled = !other;
  }

  // The form of a new member (m null) or of a member's post, establishment and since (修改).
  function openMember(m) {
    const form = openForm("pp-member", m, m ? fmt(t.editTitle, { name: m.person.name }) : t.addTitle);
    for (const key of ["name", "phone"]) {
      form.querySelector(`.pp-field[data-field="${key}"]`).hidden = !!m;
      form.elements[key].disabled = !!m;
    }
    fillChoices(form, m);
    form.elements.since.max = config().today;
    form.elements.since.value = m ? (m.since || "") : config().today;
    show(form, m ? form.elements.post : form.elements.name);
  }

  async function saveMember(event) {
    event.preventDefault();
    const form = $("pp-member");
    if (busy) return;
    const f = form.elements;
    const post = f.post.value === OTHER ? f.postOther.value : f.post.value;
    if (!f.since.value) { clearErrors(form); showErrors(form, [{ field: "since", zh: t.sinceMissing }]); return; }
    const body = { post, establishment: f.establishment.value, since: f.since.value };
    const editing = current;
    if (!editing) Object.assign(body, { name: f.name.value, phone: f.phone.value });
    const url = editing ? config().staffMembersUrl + "/" + editing.person.id : config().staffMembersUrl;
    const sent = await send(form, url, body);
    if (!sent) return;
    const { ok, status, answer } = sent;
    clearErrors(form);
    if (!ok) { showErrors(form, answer.errors || [], message(answer) || fmt(t.failed, { reason: String(status) })); return; }
    form.hidden = true;
    if (!editing) $("pp-year").value = String(config().year); // a new member is in this year's roster
    await load(answer.person.id);
    say(fmt(editing ? t.changed : t.added, { name: answer.person.name }));
  }

  // 离岗: the day (today or before) and why; the form's title names the person, to be confirmed.
  function openLeave(m) {
    const form = openForm("pp-leave", m, fmt(t.leaveTitle, { name: m.person.name }));
    form.elements.until.max = config().today;
    if (m.since) form.elements.until.min = m.since;
    else form.elements.until.removeAttribute("min");
    form.elements.until.value = config().today;
    show(form, form.elements.until);
  }

  async function saveLeave(event) {
    event.preventDefault();
    const form = $("pp-leave");
    if (busy) return;
    const until = form.elements.until.value;
    const wrong = !until ? t.untilMissing : until > config().today ? t.untilFuture : null;
    if (wrong) { clearErrors(form); showErrors(form, [{ field: "until", zh: wrong }]); return; }
    const body = { until, note: form.elements.note.value || null };
    const sent = await send(form, config().staffMembersUrl + "/" + current.person.id, body);
    if (!sent) return;
    const { ok, status, answer } = sent;
    clearErrors(form);
    if (!ok) { showErrors(form, answer.errors || [], message(answer) || fmt(t.failed, { reason: String(status) })); return; }
    form.hidden = true;
    await load(answer.person.id);
    say(fmt(t.ended, { name: answer.person.name, until: answer.until }));
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
    $("pp-member").addEventListener("submit", saveMember);
    $("pp-member").elements.post.addEventListener("change", otherPost);
    $("pp-leave").addEventListener("submit", saveLeave);
    if ($("pp-add")) $("pp-add").addEventListener("click", () => openMember(null));
    for (const b of document.querySelectorAll("#st-people .pp-cancel")) b.addEventListener("click", closeForms);
    load().catch((e) => say(String(e)));
  });
})();
