// The case panel of the desks (/dispatch, /inbox; markup and texts in templates/pages/_case_panel.html):
// one case from the workflow API (GET incidentUrl + id) with its people, deadline, photos and timeline
// (each entry's person and 职务), and exactly the actions this user may take. An action whose `needs`
// holds "photos" takes photos (file input, several): each is sent to POST attachmentsUrl, then the
// action with their ids. 派遣 preselects the department the category routes to; a pending extension
// request (days, reason, who) is shown beside 同意延期 / 不同意延期. Every action that succeeds says so
// (「已办理: 派遣」) before the panel shows the case as it now is. Text only as text nodes.
//
//   const panel = CasePanel({ config, onChange, onClose });  panel.open(id); panel.update(message)
// config: incidentUrl (the id and "/actions" are appended), departmentsUrl, categoriesUrl, attachmentsUrl.
(function () {
  "use strict";
  const { byId: $, readJSON, fmt, el, stamp, errorsZh, getJSON, fetchJSON, csrfToken, english, recount, categoryLabel } = Wangge;
  const t = readJSON("case-i18n");
  const DONE_STATES = ["结案", "作废"];
  const label = (a) => (english ? a.label_en || a.label_zh : a.label_zh);
  const stateOf = (c) => (english ? c.state_en || c.state : c.state);
  // The server's reasons in the page's language (fields first, then its message).
  const reasons = (answer) => (english
    ? (answer.errors || []).map((e) => e.en).join("; ") || answer.message_en
    : errorsZh(answer)) || "";

  const when = (iso) => (iso ? stamp(iso) : t.none);
  // A case's deadline as the panel shows it: [the deadline and the time left or past it, "late" or ""].
  // The desk lists show a case waiting for verification (待核查, off the clock) the same way.
  function countdown(c) {
    if (!c.deadline || DONE_STATES.includes(c.state)) return [when(c.deadline), ""];
    const ms = new Date(c.deadline) - Date.now();
    const h = Math.abs(ms) / 3600000;
    const span = h >= 48 ? fmt(t.days_, { d: Math.round(h / 24) }) : fmt(t.hours, { h: h.toFixed(1) });
    return [when(c.deadline) + " (" + fmt(ms >= 0 ? t.left : t.late, { t: span }) + ")"
            + (c.deadline_provisional ? " · " + t.provisional : ""), ms >= 0 ? "" : "late"];
  }

  function CasePanel(options) {
    const { config } = options;
    const panel = $("d-panel");
    const body = $("d-case");
    const done = $("d-done");
    let current = null;
    let departments = null;
    let categories = null;
    let doneTimer = null;

    const person = (p) => (p ? p.name + (p.phone ? " " + p.phone : "") : t.none);

    // The pending extension request: the detail's extension_request, else the latest request in the timeline.
    function extensionOf(c) {
      if (!c.extension_pending) return null;
      if (c.extension_request) return c.extension_request;
      const asked = (c.timeline || []).filter((e) => e.action === "request_extension").pop();
      return asked ? { days: null, note: asked.note, at: asked.at, who: (english && asked.who_en) || asked.who || asked.actor || asked.role } : {};
    }

    function render(c) {
      const [deadline, late] = countdown(c);
      const rows = [
        [t.grid, c.grid ? `${c.grid.name} (${c.grid.code})` : t.outside],
        [t.worker, person(c.worker)], [t.leader, person(c.leader)],
        [t.department, c.department ? c.department.name : t.none],
        [t.deadline, deadline],
        [t.reporter, c.reporter && c.reporter.name ? `${c.reporter.name} ${c.reporter.phone || ""}` : t.none],
      ];
      const dl = el("dl");
      for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", k === t.deadline && late ? { class: late } : {}, v));
      const photos = el("div", { class: "photos" });
      for (const ph of c.photos || []) photos.append(el("img", { src: ph.url, alt: t.photos, loading: "lazy" }));
      const timeline = el("ol", { class: "d-timeline" });
      for (const e of c.timeline || []) {
        const who = (english ? e.who_en : e.who) || e.who || e.actor || e.role || "";
        const li = el("li", {}, el("span", { class: "at" }, when(e.at)), " ",
                      el("b", {}, english ? e.label_en || e.label_zh : e.label_zh), " ", who,
                      e.note ? " — " + e.note : "");
        if ((e.photos || []).length) {
          const strip = el("div", { class: "photos" });
          for (const sha of e.photos) strip.append(el("img", { src: config.attachmentsUrl + "/" + sha, alt: t.photos, loading: "lazy" }));
          li.append(strip);
        }
        timeline.append(li);
      }
      const actions = el("div", { class: "d-actions" });
      const extension = extensionOf(c);
      if (extension && c.actions.some((a) => a.name === "approve_extension" || a.name === "refuse_extension")) {
        actions.append(el("div", { class: "d-extension" }, el("b", {}, t.extension),
          extension.days ? el("div", { class: "days" }, fmt(t.extensionDays, { d: extension.days })) : null,
          extension.note ? el("div", { class: "why" }, fmt(t.extensionWhy, { n: extension.note })) : null,
          extension.who ? el("div", { class: "muted" }, fmt(t.extensionWho, { w: extension.who }), " · ", when(extension.at)) : null));
      }
      if (!c.actions.length) actions.append(el("p", { class: "muted" }, t.noActions));
      for (const a of c.actions) {
        actions.append(el("button", { type: "button", "data-action": a.name, onclick: () => actionForm(c, a, actions) }, label(a)));
      }
      body.replaceChildren(
        el("h2", {}, categoryLabel(c.category, true)),
        el("p", { class: "muted" }, `${c.case_no} · `, el("span", { class: "state" }, stateOf(c)), ` · ${c.source_label || c.source}`),
        el("p", {}, c.description || ""), el("p", { class: "muted" }, c.address || ""),
        photos, dl, actions, el("h3", {}, t.timeline), timeline,
      );
    }

    // The code of the department the case's category routes to: the detail's, else the category's name matched.
    async function routedDepartment(c) {
      if (c.category.department) return c.category.department;
      try {
        categories = categories || (await getJSON(config.categoriesUrl)).items;
      } catch (_e) {
        return "";
      }
      const cat = categories.find((x) => x.code === c.category.code);
      const dept = cat && departments.find((d) => d.name === cat.department);
      return dept ? dept.code : "";
    }

    async function upload(files, status) {
      const ids = [];
      for (let i = 0; i < files.length; i++) {
        status.textContent = fmt(t.uploading, { i: i + 1, n: files.length });
        const form = new FormData();
        form.append("file", files[i], files[i].name || "photo.jpg");
        const r = await fetch(config.attachmentsUrl, { method: "POST", body: form, credentials: "same-origin",
                                                       headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
        const answer = await r.json().catch(() => ({}));
        if (!r.ok) throw new Error(reasons(answer) || t.uploadFailed);
        ids.push(answer.id);
      }
      status.textContent = "";
      return ids;
    }

    async function actionForm(c, a, box) {
      box.querySelectorAll("form").forEach((f) => f.remove());
      const form = el("form", { "data-action": a.name });
      const needs = new Set(a.needs);
      if (needs.has("department")) {
        departments = departments || (await getJSON(config.departmentsUrl)).items;
        const sel = el("select", { name: "department", "aria-label": t.pickDept }, el("option", { value: "" }, t.pickDept));
        for (const d of departments) if (d.code !== "zongzhi") sel.append(el("option", { value: d.code }, d.name));
        const routed = await routedDepartment(c);
        if (routed && sel.querySelector(`option[value="${CSS.escape(routed)}"]`)) {
          sel.value = routed;
          form.append(sel, el("p", { class: "muted hint" }, fmt(t.routed, { d: sel.selectedOptions[0].textContent })));
        } else {
          form.append(sel);
        }
      }
      if (needs.has("satisfaction")) form.append(el("input", { name: "satisfaction", type: "number", min: 1, max: 5,
                                                               placeholder: t.satisfaction, "aria-label": t.satisfaction }));
      if (a.name === "request_extension") form.append(el("input", { name: "days", type: "number", min: 1, max: 30,
                                                                    placeholder: t.days, "aria-label": t.days }));
      const notePrompt = needs.has("note") ? t.noteNeeded : t.note;
      form.append(el("textarea", { name: "note", rows: 2, maxlength: 2000, placeholder: notePrompt, "aria-label": notePrompt }));
      let files = null;
      if (needs.has("photos")) {
        files = el("input", { type: "file", name: "photos", accept: "image/*", multiple: "", "aria-label": t.photosNeeded });
        const thumbs = el("div", { class: "thumbs" });
        files.addEventListener("change", () => {
          thumbs.replaceChildren(...Array.from(files.files, (f) => el("img", { src: URL.createObjectURL(f), alt: f.name })));
        });
        form.append(el("label", { class: "d-photos" }, t.photosNeeded, files), thumbs);
      }
      const status = el("p", { class: "muted", "aria-live": "polite" });
      const error = el("p", { class: "error", role: "alert" });
      const submit = el("button", { type: "submit" }, t.send);
      form.append(status, error, submit, el("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t.cancel));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        error.textContent = "";
        submit.disabled = true;
        try {
          await send(c, a, form, files, status, error);
        } catch (_e) {
          error.textContent = t.offline;
        } finally {
          submit.disabled = false;
        }
      });
      box.append(form);
      (form.querySelector("select, input, textarea") || submit).focus();
    }

    async function send(c, a, form, files, status, error) {
      const body = { action: a.name, version: c.version, note: form.note.value };
      if (form.department) body.department = form.department.value;
      if (form.satisfaction) body.satisfaction = parseInt(form.satisfaction.value, 10);
      if (form.days) body.days = parseInt(form.days.value, 10);
      if (files && files.files.length) {
        try {
          body.photos = await upload(files.files, status);
        } catch (err) {
          status.textContent = "";
          error.textContent = err.message;
          return;
        }
      }
      const r = await fetchJSON(config.incidentUrl + c.id + "/actions", { method: "POST", body });
      const answer = r.answer;
      if (r.ok) {
        said(fmt(t.done, { a: label(a) }) + (answer.state ? " · " + fmt(t.nowState, { s: stateOf(answer) }) : ""));
        if (answer.case_no) {
          current = answer;
          render(answer);
        } else { // no longer in this user's scope (a department's 回退)
          current = null;
          body.replaceChildren(el("p", { class: "muted" }, t.gone));
          setTimeout(close, 2500);
        }
        recount();
        if (options.onChange) options.onChange(answer);
      } else if (r.status === 409) {
        error.textContent = t.stale;
        current = answer.current;
        if (current) render(current);
      } else {
        error.textContent = reasons(answer) || String(r.status);
      }
    }

    // The success line at the top of the panel; it stays a while, across the case's re-render.
    function said(text) {
      clearTimeout(doneTimer);
      done.textContent = text;
      done.hidden = false;
      doneTimer = setTimeout(() => { done.hidden = true; }, 8000);
    }

    async function open(id) {
      if (panel.hidden) {
        panel.hidden = false;
        if (options.onShow) options.onShow();
      }
      if (!current || current.id !== id) { done.hidden = true; }
      try {
        current = await getJSON(config.incidentUrl + id);
      } catch (_e) {
        body.replaceChildren(el("p", { class: "error" }, t.failed));
        return;
      }
      render(current);
    }

    function close() {
      panel.hidden = true;
      current = null;
      if (options.onClose) options.onClose();
    }
    $("d-close").addEventListener("click", close);

    return {
      open, close,
      // A live message about a case: the open one is read again.
      update(message) {
        if (current && message && current.id === message.id && !body.querySelector("form")) open(message.id);
      },
      currentId: () => (current ? current.id : null),
    };
  }

  CasePanel.countdown = countdown;
  window.CasePanel = CasePanel;
})();
