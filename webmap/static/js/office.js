// 办公室台账 (/office, seed 3-1): four tabs, each loaded when first shown (?tab= opens one; ?certificate=
// marks a certificate, as a reminder in 待办 links it). 证照: the certificates with their days left (red
// under config.red, amber under config.amber), an open reminder acknowledged (知悉), a certificate added,
// changed or renewed (换证: a new valid_to). 印章: the seals and each seal's use log (用印登记, appended
// only). 银行账户: the accounts, every number masked; the centre (config.canManage) shows a whole number
// (GET …/number, written to the audit log). 法人登记要件: the eight documents, each marked 未备/已备 with
// its day, a note and scans (uploaded first to POST /api/v1/attachments, then named in the record).
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, getJSON, message } = Wangge;
  const config = readJSON("of-config");
  const t = readJSON("of-i18n");
  const english = document.documentElement.lang === "en";
  const params = new URLSearchParams(location.search);
  const manage = config.canManage;
  const loaded = {};
  const data = { certificates: [], seals: [], accounts: [], checklist: [] };
  let seal = null; // the seal whose use log is open

  const say = (text) => { $("of-msg").textContent = text; };
  const reason = (answer) => Wangge.reasons(answer) || t.offline;
  const stateLabel = (s) => t.states[s] || s;
  const empty = (cols, text) => el("tr", null, el("td", { colspan: String(cols), class: "of-muted" }, text || t.empty));
  const button = (label, onclick, cls) => el("button", { type: "button", class: "desk-btn " + (cls || ""), onclick }, label);
  const scanLinks = (scans) => el("span", { class: "of-scans" }, ...(scans.length ? scans.map((s, n) =>
    el("a", { href: s.url, target: "_blank", rel: "noopener" }, fmt(t.scan, { n: n + 1 }))) : [t.none]));
  const value = (form, name) => { const v = form.elements[name].value.trim(); return v === "" ? null : v; };

  // ---------------------------------------------------------------- tabs
  const tabs = Array.from(document.querySelectorAll(".desk-tabs [role=tab]"));
  function show(name) {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      $("of-" + tab.dataset.tab).hidden = !on;
    }
    document.body.dataset.tab = name;
    if (!loaded[name]) {
      loaded[name] = true;
      LOADERS[name]().catch(() => say(t.loadFailed));
    }
  }

  // ---------------------------------------------------------------- forms
  const upload = (files) => Wangge.uploadFiles(config.attachmentsUrl, files, { document: true });

  function clear(form) {
    form.querySelector(".error").textContent = "";
    for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
  }
  // the form opened for a record (null: a new one), emptied and titled; its edit-only fields shown for a record
  function open(form, title, record, values) {
    for (const other of document.querySelectorAll(".of-form[id$='-form']:not(#of-use-form)")) other.hidden = true;
    form.reset();
    clear(form);
    form.dataset.id = record ? String(record.id) : "";
    const head = form.querySelector(".of-form-title");
    if (head) head.textContent = title;
    for (const label of form.querySelectorAll(".of-edit-only")) label.hidden = !record;
    for (const [k, v] of Object.entries(values || {})) if (form.elements[k] && v !== null && v !== undefined) form.elements[k].value = v;
    form.hidden = false;
    form.scrollIntoView({ block: "nearest" });
    const first = form.querySelector("input:not([type=file]), select");
    if (first) first.focus();
  }
  function refuse(form, text, answer) {
    form.querySelector(".error").textContent = text;
    for (const e of (answer && answer.errors) || []) {
      const field = form.elements[e.field];
      if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
    }
  }
  // POST body to url from form: the answer, or null (the form says why; a stale version reloads the tab)
  async function send(form, url, body, reload) {
    const submit = form.querySelector("button[type=submit]");
    if (submit.disabled) return null;
    submit.disabled = true;
    try {
      const { ok, status, answer } = await fetchJSON(url, { method: "POST", body });
      if (ok) return answer;
      if (status === 409) {
        form.hidden = true;
        await reload();
        say(t.stale);
      } else {
        refuse(form, fmt(t.failed, { reason: reason(answer) }), answer);
      }
    } catch (_e) {
      refuse(form, t.offline);
    } finally {
      submit.disabled = false;
    }
    return null;
  }
  // the scans chosen in the form, uploaded, after the record's own; null when an upload failed
  async function scans(form, record) {
    try {
      const added = await upload(form.elements.scan.files);
      return [...(record ? record.scans.map((s) => s.id) : []), ...added];
    } catch (e) {
      refuse(form, fmt(t.scanFailed, { reason: e.message }));
      return null;
    }
  }
  const find = (kind, form) => data[kind].find((r) => String(r.id) === form.dataset.id) || null;
  for (const b of document.querySelectorAll(".of-cancel")) b.addEventListener("click", () => { b.closest("form").hidden = true; });

  // ---------------------------------------------------------------- 证照
  function days(c) {
    if (c.state !== "在用") return el("span", { class: "of-days" }, t.cancelled);
    if (c.days_left === null) return el("span", { class: "of-days" }, t.forever);
    const text = c.days_left < 0 ? fmt(t.expired, { n: -c.days_left }) : c.days_left === 0 ? t.today : fmt(t.left, { n: c.days_left });
    return el("span", { class: "of-days of-" + c.colour, "data-colour": c.colour }, text);
  }

  function certRow(c) {
    const reminder = c.reminder ? el("span", { class: "of-reminder" }, fmt(t.reminder, { n: c.reminder.days }),
      manage ? button(t.acknowledge, () => acknowledge(c), "of-ack") : null) : t.noReminder;
    const actions = el("td", { class: "of-actions" });
    if (manage) {
      actions.append(button(t.edit, () => open($("of-cert-form"), fmt(t.editCert, { name: c.name }), c, c)),
        button(t.renew, () => open($("of-cert-form"), fmt(t.renewCert, { name: c.name }), c,
          { ...c, valid_from: null, valid_to: null })));
    }
    return el("tr", { "data-id": String(c.id), class: c.state === "在用" ? "" : "of-off" },
      el("td", {}, c.name), el("td", {}, c.number), el("td", {}, c.issuer),
      el("td", {}, c.valid_from + " – " + (c.valid_to || t.forever)), el("td", { class: "of-left" }, days(c)),
      el("td", {}, scanLinks(c.scans)), el("td", { class: "of-reminder-cell" }, reminder), actions);
  }

  async function loadCertificates() {
    const answer = await getJSON(config.certificatesUrl);
    data.certificates = answer.items;
    const body = $("of-certs").tBodies[0];
    body.replaceChildren(...(answer.items.length ? answer.items.map(certRow) : [empty(8)]));
    const focus = params.get("certificate") && body.querySelector(`tr[data-id="${CSS.escape(params.get("certificate"))}"]`);
    if (focus) {
      focus.classList.add("of-focus");
      focus.scrollIntoView({ block: "center" });
    }
    document.body.dataset.certificatesLoaded = "1";
  }

  async function saveCertificate(event) {
    event.preventDefault();
    const form = $("of-cert-form");
    const record = find("certificates", form);
    clear(form);
    const list = await scans(form, record);
    if (list === null) return;
    const body = { name: value(form, "name"), number: value(form, "number"), issuer: value(form, "issuer"),
      valid_from: value(form, "valid_from"), valid_to: value(form, "valid_to"), note: value(form, "note"), scans: list };
    if (record) Object.assign(body, { state: form.elements.state.value, version: record.version });
    const answer = await send(form, config.certificatesUrl + (record ? "/" + record.id : ""), body, loadCertificates);
    if (!answer) return;
    form.hidden = true;
    await loadCertificates();
    say(fmt(t.savedCert, { name: answer.name }));
  }

  async function acknowledge(c) {
    const { ok, answer } = await fetchJSON(config.remindersUrl + "/" + c.reminder.id + "/acknowledge", { method: "POST", body: {} })
      .catch(() => ({ ok: false, answer: {} }));
    await loadCertificates();
    say(ok ? fmt(t.acknowledged, { name: c.name }) : fmt(t.failed, { reason: reason(answer) }));
    Wangge.recount();
  }

  // ---------------------------------------------------------------- 印章 and 用印登记
  function sealRow(s) {
    const actions = el("td", { class: "of-actions" }, button(t.uses, () => openUses(s), "of-uses-btn"));
    if (manage) actions.append(button(t.edit, () => open($("of-seal-form"), fmt(t.editSeal, { name: s.name }), s, s)));
    return el("tr", { "data-id": String(s.id), class: s.state === "在用" ? "" : "of-off" },
      el("td", {}, s.name), el("td", {}, s.keeper), el("td", {}, s.since || ""), el("td", {}, stateLabel(s.state)),
      el("td", { class: "of-count" }, String(s.uses)), el("td", {}, s.last_use || ""), actions);
  }

  async function loadSeals() {
    const answer = await getJSON(config.sealsUrl);
    data.seals = answer.items;
    $("of-seal-list").tBodies[0].replaceChildren(...(answer.items.length ? answer.items.map(sealRow) : [empty(7)]));
    document.body.dataset.sealsLoaded = "1";
  }

  async function saveSeal(event) {
    event.preventDefault();
    const form = $("of-seal-form");
    const record = find("seals", form);
    clear(form);
    const body = { name: value(form, "name"), keeper: value(form, "keeper"), since: value(form, "since"), note: value(form, "note") };
    if (record) Object.assign(body, { state: form.elements.state.value, version: record.version });
    const answer = await send(form, config.sealsUrl + (record ? "/" + record.id : ""), body, loadSeals);
    if (!answer) return;
    form.hidden = true;
    await loadSeals();
    if (seal && seal.id === answer.id) await openUses(answer);
    say(fmt(t.savedSeal, { name: answer.name }));
  }

  const usesUrl = (s) => config.sealsUrl + "/" + s.id + "/uses";
  async function openUses(s) {
    seal = s;
    const answer = await getJSON(usesUrl(s));
    $("of-uses-title").textContent = fmt(t.usesTitle, { name: answer.seal.name, keeper: answer.seal.keeper });
    $("of-use-list").tBodies[0].replaceChildren(...(answer.items.length ? answer.items.map((u) => el("tr", { "data-id": String(u.id) },
      el("td", {}, u.day), el("td", {}, u.document), el("td", {}, String(u.copies)), el("td", {}, u.approver),
      el("td", {}, u.note || ""), el("td", {}, u.recorded_by || ""), el("td", {}, Wangge.stamp(u.recorded_at)))) : [empty(7, t.noUses)]));
    const form = $("of-use-form");
    if (form) {
      form.hidden = answer.seal.state !== "在用";
      if (!form.elements.day.value) form.elements.day.value = config.today;
      form.elements.day.max = config.today;
    }
    $("of-uses").hidden = false;
    $("of-uses").scrollIntoView({ block: "nearest" });
    document.body.dataset.usesLoaded = String(s.id);
  }

  async function saveUse(event) {
    event.preventDefault();
    const form = $("of-use-form");
    clear(form);
    const copies = form.elements.copies.value === "" ? 1 : Number(form.elements.copies.value);
    const body = { day: value(form, "day"), document: value(form, "document"), copies, approver: value(form, "approver"),
      note: value(form, "note") };
    const answer = await send(form, usesUrl(seal), body, loadSeals);
    if (!answer) return;
    form.reset();
    form.elements.day.value = config.today;
    await Promise.all([loadSeals(), openUses(seal)]);
    say(fmt(t.savedUse, { document: answer.document }));
  }

  // ---------------------------------------------------------------- 银行账户
  const grouped = (number) => number.replace(/(\d{4})(?=\d)/g, "$1 ");
  function accountRow(a) {
    const shown = el("span", { class: "of-number" }, a.number_masked);
    const cell = el("td", { class: "of-number-cell" }, shown);
    if (manage) {
      const toggle = button(t.show, async () => {
        if (toggle.dataset.whole) {
          shown.textContent = a.number_masked;
          toggle.textContent = t.show;
          delete toggle.dataset.whole;
          return;
        }
        const { ok, answer } = await fetchJSON(config.accountsUrl + "/" + a.id + "/number").catch(() => ({ ok: false, answer: {} }));
        if (!ok) { say(fmt(t.failed, { reason: reason(answer) })); return; }
        shown.textContent = grouped(answer.number);
        toggle.textContent = t.hide;
        toggle.dataset.whole = "1";
      }, "of-unmask");
      cell.append(" ", toggle);
    }
    const actions = el("td", { class: "of-actions" });
    if (manage) actions.append(button(t.edit, () => open($("of-account-form"), fmt(t.editAccount, { bank: a.bank, number: a.number_masked }), a,
      { ...a, number: null })));
    return el("tr", { "data-id": String(a.id), class: a.open ? "" : "of-off" },
      el("td", {}, english ? a.kind_en : a.kind), el("td", {}, a.bank), el("td", {}, a.name), cell, el("td", {}, a.opened_on),
      el("td", {}, a.closed_on || t.open), el("td", {}, a.approval || ""), el("td", {}, scanLinks(a.scans)), actions);
  }

  async function loadAccounts() {
    const answer = await getJSON(config.accountsUrl);
    data.accounts = answer.items;
    $("of-account-list").tBodies[0].replaceChildren(...(answer.items.length ? answer.items.map(accountRow) : [empty(9)]));
    document.body.dataset.accountsLoaded = "1";
  }

  async function saveAccount(event) {
    event.preventDefault();
    const form = $("of-account-form");
    const record = find("accounts", form);
    clear(form);
    const list = await scans(form, record);
    if (list === null) return;
    const body = { kind: form.elements.kind.value, bank: value(form, "bank"), name: value(form, "name"),
      opened_on: value(form, "opened_on"), closed_on: value(form, "closed_on"), approval: value(form, "approval"),
      note: value(form, "note"), scans: list };
    const number = value(form, "number");
    if (number !== null || !record) body.number = number;
    if (record) body.version = record.version;
    const answer = await send(form, config.accountsUrl + (record ? "/" + record.id : ""), body, loadAccounts);
    if (!answer) return;
    form.hidden = true;
    await loadAccounts();
    say(fmt(t.savedAccount, { bank: answer.bank }));
  }

  // ---------------------------------------------------------------- 法人登记要件
  const itemName = (i) => (english ? i.en : i.zh);
  function itemRow(i) {
    const actions = el("td", { class: "of-actions" });
    if (manage) actions.append(button(t.record, () => {
      open($("of-item-form"), fmt(t.itemTitle, { name: itemName(i) }), { id: i.code }, { state: i.state, day: i.day, note: i.note });
      const form = $("of-item-form");
      form.elements.day.max = config.today;
    }, "of-item-btn"));
    return el("tr", { "data-id": i.code },
      el("td", {}, String(i.order)), el("td", {}, itemName(i)),
      el("td", { class: i.state === "已备" ? "of-state-ready" : "of-state-missing" }, stateLabel(i.state)),
      el("td", {}, i.day || ""), el("td", {}, i.note || ""), el("td", {}, scanLinks(i.scans)), el("td", {}, i.updated_by || ""), actions);
  }

  async function loadChecklist() {
    const answer = await getJSON(config.checklistUrl);
    data.checklist = answer.items.map((i) => ({ ...i, id: i.code }));
    $("of-ready").textContent = fmt(t.ready, { n: answer.ready, total: answer.total });
    $("of-items").tBodies[0].replaceChildren(...answer.items.map(itemRow));
    document.body.dataset.checklistLoaded = "1";
  }

  async function saveItem(event) {
    event.preventDefault();
    const form = $("of-item-form");
    const record = find("checklist", form);
    clear(form);
    const list = await scans(form, record);
    if (list === null) return;
    const state = form.elements.state.value;
    const body = { state, day: state === "已备" ? value(form, "day") || config.today : null, note: value(form, "note"),
      scans: list, version: record.version };
    const answer = await send(form, config.checklistUrl + "/" + encodeURIComponent(record.code), body, loadChecklist);
    if (!answer) return;
    form.hidden = true;
    await loadChecklist();
    say(fmt(t.savedItem, { name: itemName(answer), state: stateLabel(answer.state) }));
  }

  // ---------------------------------------------------------------- start
  const LOADERS = { certificates: loadCertificates, seals: loadSeals, accounts: loadAccounts, checklist: loadChecklist };
  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.tab));
  const adders = {
    "of-cert-add": () => open($("of-cert-form"), t.addCert, null, {}),
    "of-seal-add": () => open($("of-seal-form"), t.addSeal, null, { since: config.today }),
    "of-account-add": () => open($("of-account-form"), t.addAccount, null, {}),
  };
  for (const [id, fn] of Object.entries(adders)) if ($(id)) $(id).addEventListener("click", fn);
  $("of-cert-form").addEventListener("submit", saveCertificate);
  $("of-seal-form").addEventListener("submit", saveSeal);
  $("of-account-form").addEventListener("submit", saveAccount);
  $("of-item-form").addEventListener("submit", saveItem);
  if ($("of-use-form")) $("of-use-form").addEventListener("submit", saveUse);
  const first = params.get("tab");
  show(tabs.some((tab) => tab.dataset.tab === first) ? first : tabs[0].dataset.tab);
  document.body.dataset.officeReady = "1";
})();
