// The administrator's desk (/admin): 网格员配备 (a village's grids with their worker; 调整 gives a grid
// to another worker from a date) and the audit log. Data from /api/v1/admin; text reaches the page
// only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, english, stamp, today, message } = Wangge;
  const config = readJSON("ad-config");
  const t = readJSON("ad-i18n");
  const reason = (answer, status) => (english
    ? (answer.errors || []).map((e) => e.en).join("; ") || message(answer)
    : (answer.errors || []).map((e) => e.zh).join("; ") || message(answer)) || String(status);

  // ------------------------------------------------------------ tabs
  const tabs = Array.from(document.querySelectorAll(".desk-tabs [role=tab]"));
  function show(name) {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    if ($("ad-assign")) $("ad-assign").hidden = name !== "assign";
    if ($("ad-accounts")) $("ad-accounts").hidden = name !== "accounts";
    if ($("ad-holidays")) $("ad-holidays").hidden = name !== "holidays";
    if ($("ad-categories")) $("ad-categories").hidden = name !== "categories";
    if ($("ad-settings")) $("ad-settings").hidden = name !== "settings";
    if (name === "settings") { loadSettings(); loadTown(); }
    if (name === "categories") loadCategories();
    if (name === "holidays") loadYear();
    $("ad-audit").hidden = name !== "audit";
    if (name === "audit") loadAudit(false);
    if (name === "accounts") loadAccounts(false);
  }
  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.tab));

  // ------------------------------------------------------------ 网格员配备
  let workers = [];
  let villageSeq = 0;
  async function loadVillage(code) {
    const mine = ++villageSeq;
    const r = await fetchJSON(config.assignmentsUrl + (code ? "?village=" + encodeURIComponent(code) : ""));
    if (mine !== villageSeq) return;
    if (!r.ok) { $("desk-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    workers = r.answer.workers;
    const select = $("ad-village");
    if (!select.options.length) {
      select.replaceChildren(...r.answer.villages.map((v) => el("option", { value: v.code }, v.name)));
    }
    select.value = r.answer.village;
    $("ad-grids").tBodies[0].replaceChildren(...r.answer.grids.map(row));
    document.body.dataset.village = r.answer.village;
  }

  function row(g) {
    const tr = el("tr", { "data-code": g.code },
      el("td", {}, el("a", { href: config.boardUrl + g.code, target: "_blank" }, g.name), el("div", { class: "muted" }, g.code)),
      el("td", { class: "ad-worker", "data-label": t.worker }, g.worker ? g.worker.name : t.vacant),
      el("td", { "data-label": t.since }, g.since || "—"),
      el("td", { "data-label": t.leader }, g.leader ? g.leader.name : "—"),
      el("td", { class: "ad-row-buttons" },
        el("button", { type: "button", class: "desk-btn", onclick: () => openForm(tr, g) }, t.change), " ",
        el("button", { type: "button", class: "desk-btn", "data-history": g.code, onclick: () => showHistory(tr, g) }, t.history)));
    return tr;
  }

  async function showHistory(tr, g) {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("ad-history-row");
    for (const f of document.querySelectorAll("#ad-grids tr.ad-history-row")) f.remove();
    if (open) return;
    const r = await fetchJSON(config.assignmentsUrl + "/" + encodeURIComponent(g.code));
    if (!r.ok) { $("desk-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    const list = el("ol", { class: "ad-history" }, ...r.answer.items.map((a) => el("li", {},
      (a.duty === "worker" ? t.worker : t.leader) + ": " + a.person.name + " · " + a.from + " — " + (a.to || t.now))));
    tr.after(el("tr", { class: "ad-history-row" }, el("td", { colspan: "5" }, list)));
  }

  function openForm(tr, g) {
    for (const f of document.querySelectorAll("#ad-grids tr.ad-form-row")) f.remove();
    const choices = workers.filter((w) => !g.worker || w.id !== g.worker.id).map((w) => el("option", { value: String(w.id) },
      `${w.name} (${w.username}) · ` + (w.grid ? fmt(t.holds, { grid: w.grid }) : t.free) + (w.active ? "" : " · " + t.disabled)));
    const form = el("form", { class: "desk-form", "data-code": g.code },
      el("label", {}, t.choose, el("select", { name: "person" }, el("option", { value: "" }, "—"), ...choices)),
      el("label", {}, t.start, el("input", { type: "date", name: "start", value: today(), max: today(), required: "required" })),
      el("label", {}, t.note, el("input", { type: "text", name: "note", maxlength: "500" })),
      el("p", { class: "error", role: "alert" }),
      el("div", { class: "ad-buttons" },
        el("button", { type: "submit", class: "desk-btn desk-primary" }, t.submit), " ",
        el("button", { type: "button", class: "desk-btn", onclick: () => formRow.remove() }, t.cancel)));
    const formRow = el("tr", { class: "ad-form-row" }, el("td", { colspan: "5" }, form));
    tr.after(formRow);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const body = { grid_code: g.code, person_id: form.person.value ? Number(form.person.value) : null,
                     start: form.start.value, note: form.note.value || null };
      const r = await fetchJSON(config.assignmentsUrl, { method: "POST", body });
      button.disabled = false;
      if (!r.ok) { form.querySelector(".error").textContent = reason(r.answer, r.status); return; }
      const a = r.answer;
      const lines = [fmt(t.done, { grid: a.grid.name, name: a.worker.name, start: a.start, n: a.cases })];
      if (a.left_grids.length) lines.push(fmt(t.left, { name: a.worker.name, grids: a.left_grids.join(", ") }));
      if (a.disabled_accounts.length) lines.push(fmt(t.off, { names: a.disabled_accounts.join(", ") }));
      $("desk-msg").textContent = lines.join("; ");
      await loadVillage($("ad-village").value);
    });
    form.person.focus();
  }

  // ------------------------------------------------------------ 账号
  let accountsShown = 0;
  let accountsSeq = 0;
  let rolesInfo = [];
  function showSecret(username, password) {
    const box = $("ad-secret");
    box.textContent = fmt(t.secret, { username, password });
    box.hidden = false;
  }
  async function accountAction(a, action) {
    if (action === "disable" && !window.confirm(fmt(t.confirmDisable, { username: a.username }))) return;
    const r = await fetchJSON(config.accountsUrl + "/" + a.id, { method: "POST", body: { action } });
    if (!r.ok) { $("ad-acc-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("ad-secret").hidden = true;
    if (r.answer.password) showSecret(a.username, r.answer.password);
    $("ad-acc-msg").textContent = fmt(t.changed, { action: t.actions[action], username: a.username });
    loadAccounts(false);
  }
  function accountRow(a) {
    const status = !a.active ? t.inactive : a.must_change_password ? t.mustChange : t.active;
    return el("tr", { "data-username": a.username },
      el("td", {}, a.username),
      el("td", {}, a.name || "—"),
      el("td", {}, a.role_label[english ? 1 : 0] + (a.department ? " · " + a.department.name : "")),
      el("td", {}, a.scope),
      el("td", { class: a.active ? "" : "ad-off" }, status),
      el("td", { class: "ad-row-buttons" },
        el("button", { type: "button", class: "desk-btn", "data-action": a.active ? "disable" : "enable",
                       onclick: () => accountAction(a, a.active ? "disable" : "enable") }, a.active ? t.disable : t.enable),
        " ",
        el("button", { type: "button", class: "desk-btn", "data-action": "reset_password",
                       onclick: () => accountAction(a, "reset_password") }, t.reset),
        " ",
        el("button", { type: "button", class: "desk-btn", "data-action": "change_role",
                       onclick: (ev) => roleForm(ev.target.closest("tr"), a) }, t.actions.change_role)));
  }
  let departmentsInfo = [];
  function roleForm(tr, a) {
    for (const f of document.querySelectorAll("#ad-accounts-table tr.ad-form-row")) f.remove();
    const role = el("select", { name: "role" }, ...rolesInfo.map((x) => {
      const o = el("option", { value: x.name }, x.label[english ? 1 : 0]);
      if (x.name === a.role) o.selected = true;
      return o;
    }));
    const dept = el("select", { name: "department" }, el("option", { value: "" }, "—"), ...departmentsInfo.map((d) => {
      const o = el("option", { value: d.code }, d.name);
      if (a.department && d.code === a.department.code) o.selected = true;
      return o;
    }));
    const form = el("form", { class: "desk-form" },
      el("label", {}, t.role, role), el("label", {}, t.scope, el("input", { name: "scope", value: a.scope, maxlength: "15" })),
      el("label", {}, t.department, dept), el("p", { class: "error", role: "alert" }),
      el("div", { class: "ad-buttons" }, el("button", { type: "submit", class: "desk-btn desk-primary" }, t.submit), " ",
        el("button", { type: "button", class: "desk-btn", onclick: () => row.remove() }, t.cancel)));
    const row = el("tr", { class: "ad-form-row" }, el("td", { colspan: "6" }, form));
    tr.after(row);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await fetchJSON(config.accountsUrl + "/" + a.id, { method: "POST", body: {
        action: "change_role", role: role.value, scope: form.scope.value.trim(), department: dept.value || null } });
      if (!r.ok) { form.querySelector(".error").textContent = reason(r.answer, r.status); return; }
      $("ad-acc-msg").textContent = fmt(t.changed, { action: t.actions.change_role, username: a.username });
      loadAccounts(false);
    });
  }
  async function loadAccounts(more) {
    const offset = more ? accountsShown : 0;
    const q = $("ad-q").value.trim();
    const mine = ++accountsSeq;
    const r = await fetchJSON(config.accountsUrl + "?limit=50&offset=" + offset + (q ? "&q=" + encodeURIComponent(q) : ""));
    if (mine !== accountsSeq) return;
    if (!r.ok) { $("ad-acc-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    if (!rolesInfo.length) {
      rolesInfo = r.answer.roles;
      const form = $("ad-create");
      form.role.replaceChildren(...rolesInfo.map((x) => el("option", { value: x.name }, x.label[english ? 1 : 0])));
      form.department.replaceChildren(el("option", { value: "" }, "—"),
        ...r.answer.departments.map((d) => el("option", { value: d.code }, d.name)));
      roleChanged();
    }
    departmentsInfo = r.answer.departments;
    const rows = r.answer.items.map(accountRow);
    const body = $("ad-accounts-table").tBodies[0];
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    accountsShown = offset + rows.length;
    $("ad-acc-more").hidden = accountsShown >= r.answer.total;
    document.body.dataset.accounts = String(r.answer.total);
  }
  function roleChanged() {
    const form = $("ad-create");
    const info = rolesInfo.find((x) => x.name === form.role.value);
    form.scope.placeholder = info ? fmt(t.scopeHint, { n: info.scope_digits }) : "";
    $("ad-dept-label").hidden = form.role.value !== "department";
  }
  if ($("ad-accounts")) {
    $("ad-search").addEventListener("submit", (ev) => { ev.preventDefault(); loadAccounts(false); });
    $("ad-acc-more").addEventListener("click", () => loadAccounts(true));
    $("ad-new").addEventListener("click", () => { $("ad-create").hidden = false; $("ad-create").username.focus(); });
    $("ad-create-cancel").addEventListener("click", () => { $("ad-create").hidden = true; });
    $("ad-create").role.addEventListener("change", roleChanged);
    $("ad-create").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("ad-create");
      const body = { username: form.username.value.trim(), name: form.name.value.trim(), phone: form.phone.value.trim() || null,
                     role: form.role.value, scope: form.scope.value.trim(), department: form.department.value || null };
      const r = await fetchJSON(config.accountsUrl, { method: "POST", body });
      if (!r.ok) { form.querySelector(".error").textContent = reason(r.answer, r.status); return; }
      form.reset();
      form.querySelector(".error").textContent = "";
      form.hidden = true;
      roleChanged();
      showSecret(r.answer.account.username, r.answer.password);
      $("ad-acc-msg").textContent = fmt(t.created, { username: r.answer.account.username });
      $("ad-q").value = r.answer.account.username;
      loadAccounts(false);
    });
  }

  // ------------------------------------------------------------ 类别与部门
  async function loadCategories() {
    const r = await fetchJSON(config.categoriesUrl);
    if (!r.ok) { $("ad-cat-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    const { categories, departments, units } = r.answer;
    const deptOptions = (chosen) => [el("option", { value: "" }, "—"), ...departments.map((d) => {
      const o = el("option", { value: d.code }, d.name);
      if (d.code === chosen) o.selected = true;
      return o;
    })];
    $("ad-cats").tBodies[0].replaceChildren(...categories.map((c) => {
      const limit = el("input", { type: "number", min: "1", step: "1", value: String(c.time_limit), class: "ad-num",
                                  "aria-label": c.name });
      const unit = el("select", {}, ...units.map((u) => {
        const o = el("option", { value: u.name }, u.label[english ? 1 : 0]);
        if (u.name === c.time_unit) o.selected = true;
        return o;
      }));
      const dept = el("select", {}, ...deptOptions(c.department));
      const selfHandle = el("input", { type: "checkbox" });
      selfHandle.checked = c.self_handle;
      const err = el("div", { class: "error", role: "alert" });
      const save = async () => {
        const answer = await fetchJSON(config.categoriesUrl + "/" + encodeURIComponent(c.code), { method: "POST", body: {
          time_limit: Number(limit.value), time_unit: unit.value, department: dept.value || null, self_handle: selfHandle.checked } });
        err.textContent = answer.ok ? "" : reason(answer.answer, answer.status);
        if (answer.ok) $("ad-cat-msg").textContent = fmt(t.savedCategory, { code: c.code });
      };
      return el("tr", { "data-code": c.code },
        el("td", {}, (english && c.name_en) || c.name, el("div", { class: "muted" }, c.code + " · " + c.class)),
        el("td", { class: "ad-limit" }, limit, " ", unit, err),
        el("td", {}, dept), el("td", {}, selfHandle),
        el("td", {}, el("button", { type: "button", class: "desk-btn", onclick: save }, t.save)));
    }));
    $("ad-depts").tBodies[0].replaceChildren(...departments.map((d) => {
      const name = el("input", { type: "text", value: d.name, maxlength: "100", "aria-label": d.code });
      const phone = el("input", { type: "text", value: d.phone || "", maxlength: "32", inputmode: "tel" });
      const err = el("div", { class: "error", role: "alert" });
      const save = async () => {
        const answer = await fetchJSON(config.departmentsUrl + encodeURIComponent(d.code),
                                       { method: "POST", body: { name: name.value, phone: phone.value || null } });
        err.textContent = answer.ok ? "" : reason(answer.answer, answer.status);
        if (answer.ok) $("ad-cat-msg").textContent = fmt(t.savedDept, { code: d.code });
      };
      return el("tr", { "data-code": d.code }, el("td", {}, d.code), el("td", {}, name, err), el("td", {}, phone),
        el("td", {}, d.categories.join(", ") || "—"),
        el("td", {}, el("button", { type: "button", class: "desk-btn", onclick: save }, t.save)));
    }));
    $("ad-new-cat").department.replaceChildren(...deptOptions(null));
    document.body.dataset.categories = String(categories.length);
  }
  async function createFrom(form, url, body, done) {
    const r = await fetchJSON(url, { method: "POST", body });
    form.querySelector(".error").textContent = r.ok ? "" : reason(r.answer, r.status);
    if (!r.ok) return;
    form.reset();
    form.closest("details").open = false;
    $("ad-cat-msg").textContent = fmt(done, { code: body.code });
    loadCategories();
  }
  if ($("ad-categories")) {
    $("ad-new-cat").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = ev.target;
      createFrom(f, config.categoriesUrl, { code: f.code.value.trim(), kind: f.kind.value, class: f.class.value.trim(),
        name: f.name.value.trim(), time_limit: Number(f.time_limit.value), time_unit: f.time_unit.value,
        department: f.department.value || null }, t.createdCat);
    });
    $("ad-new-dept").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = ev.target;
      createFrom(f, config.departmentsUrl.replace(/\/$/, ""), { code: f.code.value.trim(), name: f.name.value.trim(),
        phone: f.phone.value.trim() || null }, t.createdDept);
    });
  }

  // ------------------------------------------------------------ 设置
  let settingsShown = [];
  async function loadSettings() {
    const r = await fetchJSON(config.settingsUrl);
    if (!r.ok) { $("ad-set-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    settingsShown = r.answer.items;
    $("ad-settings-fields").replaceChildren(...settingsShown.map((x) => el("label", { class: "ad-setting" },
      x.label[english ? 1 : 0],
      el("input", { type: "number", name: x.key, min: String(x.low), max: String(x.high), step: "1", value: String(x.value) }),
      el("span", { class: "muted" }, fmt(t.range, { low: x.low, high: x.high, unit: x.unit[english ? 1 : 0], default: x.default })))));
    document.body.dataset.settings = String(settingsShown.length);
  }
  let town = null;
  async function loadTown() {
    const r = await fetchJSON(config.townUrl);
    const form = $("ad-town");
    if (!r.ok) { $("ad-town-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); form.hidden = true; return; }
    town = r.answer;
    for (const [k, v] of Object.entries(town)) if (form.elements[k]) form.elements[k].value = v === null ? "" : String(v);
  }
  if ($("ad-town")) {
    $("ad-town").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("ad-town");
      const body = {};
      for (const [k, v] of Object.entries(town || {})) {
        const raw = form.elements[k].value;
        const value = k.startsWith("map_") ? (raw === "" ? raw : Number(raw)) : (k.endsWith("_en") && raw === "" ? null : raw);
        if (value !== v) body[k] = value;
      }
      if (!Object.keys(body).length) return;
      const r = await fetchJSON(config.townUrl, { method: "POST", body });
      form.querySelector(".error").textContent = r.ok ? "" : reason(r.answer, r.status);
      if (r.ok) { $("ad-town-msg").textContent = t.savedTown; town = r.answer; }
    });
  }
  if ($("ad-settings")) {
    $("ad-settings-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("ad-settings-form");
      const body = {};
      for (const x of settingsShown) {
        const v = form.elements[x.key].value;
        if (Number(v) !== x.value) body[x.key] = /^-?\d+$/.test(v) ? Number(v) : v;
      }
      if (!Object.keys(body).length) return;
      const r = await fetchJSON(config.settingsUrl, { method: "POST", body });
      form.querySelector(".error").textContent = r.ok ? "" : reason(r.answer, r.status);
      if (r.ok) { $("ad-set-msg").textContent = t.savedSettings; loadSettings(); }
    });
  }

  // ------------------------------------------------------------ 节假日
  let yearSeq = 0; // only the latest answer is drawn (a year chosen while another is loading)
  async function loadYear() {
    const year = $("ad-year").value;
    const mine = ++yearSeq;
    const r = await fetchJSON(config.holidaysUrl + "?year=" + encodeURIComponent(year));
    if (mine !== yearSeq) return;
    if (!r.ok) { $("ad-hol-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("ad-provisional").hidden = !r.answer.provisional;
    $("ad-days").tBodies[0].replaceChildren(...r.answer.days.map((d) => el("tr", { "data-day": d.day, "data-source": d.source },
      el("td", {}, d.day + " " + t.weekdays[d.weekday - 1]),
      el("td", { class: d.kind === "workday" ? "ad-work" : "" }, t.kinds[d.kind]),
      el("td", {}, d.name ? d.name[english ? 1 : 0] : d.note || "—"),
      el("td", {}, t.sources[d.source]),
      el("td", {}, d.source === "table"
        ? el("button", { type: "button", class: "desk-btn", onclick: () => removeDay(d.day) }, t.remove) : null))));
    document.body.dataset.year = year;
  }
  async function removeDay(day) {
    const r = await fetchJSON(config.dayUrl + day, { method: "DELETE" });
    $("ad-hol-msg").textContent = r.ok || r.status === 204 ? fmt(t.removed, { day }) : fmt(t.failed, { reason: reason(r.answer, r.status) });
    loadYear();
  }
  if ($("ad-holidays")) {
    $("ad-year").addEventListener("change", loadYear);
    $("ad-confirm").addEventListener("click", async () => {
      const r = await fetchJSON(config.confirmUrl, { method: "POST", body: { year: Number($("ad-year").value) } });
      $("ad-hol-msg").textContent = r.ok ? fmt(t.confirmed, { n: r.answer.added.length }) : fmt(t.failed, { reason: reason(r.answer, r.status) });
      loadYear();
    });
    $("ad-day").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = $("ad-day");
      const r = await fetchJSON(config.dayUrl + encodeURIComponent(form.day.value || "-"),
        { method: "PUT", body: { kind: form.kind.value, note: form.note.value || null } });
      if (!r.ok) { form.querySelector(".error").textContent = reason(r.answer, r.status); return; }
      form.querySelector(".error").textContent = "";
      $("ad-hol-msg").textContent = fmt(t.saved, { day: form.day.value });
      form.reset();
      loadYear();
    });
  }

  // ------------------------------------------------------------ 审计日志
  let shown = 0;
  const describe = (v) => {
    if (!v) return "—";
    const parts = [];
    if (v.worker !== undefined) parts.push(t.worker + ": " + (v.worker ? v.worker.name : t.vacant));
    if (v.start) parts.push(t.start + ": " + v.start);
    if (v.account) parts.push(t.account + ": " + (typeof v.account === "string" ? v.account : v.account.username));
    if (v.open_cases !== undefined) parts.push(t.openCases + ": " + v.open_cases);
    if (v.role) parts.push((rolesInfo.find((x) => x.name === v.role) || { label: [v.role, v.role] }).label[english ? 1 : 0]
      + (v.scope ? " · " + v.scope : ""));
    if (v.active !== undefined) parts.push(v.active ? t.active : t.inactive);
    if (v.password_reset) parts.push(t.reset);
    if (v.kind) parts.push(t.kinds[v.kind] + (v.note ? " · " + v.note : ""));
    if (v.days) parts.push(v.days.length + " " + t.kinds.holiday);
    if (v.value !== undefined) parts.push(String(v.value));
    if (v.ids) parts.push(v.count + ": " + v.ids.slice(0, 10).join(", ") + (v.ids.length > 10 ? "…" : ""));
    if (v.supervision_phone || v.case_prefix || v.center_name) parts.push([v.center_name, v.supervision_phone, v.case_prefix].filter(Boolean).join(" · "));
    if (v.time_limit) parts.push(v.time_limit + " " + v.time_unit + (v.department ? " · " + v.department : ""));
    if (v.name && v.worker === undefined) parts.push(v.name + (v.phone ? " · " + v.phone : ""));
    return parts.join(" · ") || JSON.stringify(v);
  };
  async function loadAudit(more) {
    const offset = more ? shown : 0;
    const r = await fetchJSON(config.auditUrl + "?limit=50&offset=" + offset);
    if (!r.ok) return;
    const rows = r.answer.items.map((e) => el("tr", {},
      el("td", {}, stamp(e.at)),
      el("td", {}, e.actor + " · " + e.role_label[english ? 1 : 0]),
      el("td", {}, t.actions[e.action] || e.action),
      el("td", {}, e.target),
      el("td", {}, describe(e.before)),
      el("td", {}, describe(e.after), e.note ? el("div", { class: "muted" }, e.note) : null)));
    const body = $("ad-log").tBodies[0];
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    shown = offset + rows.length;
    $("ad-more").hidden = shown >= r.answer.total;
    document.body.dataset.audit = String(r.answer.total);
  }
  $("ad-more").addEventListener("click", () => loadAudit(true));

  if ($("ad-village")) $("ad-village").addEventListener("change", () => loadVillage($("ad-village").value));
  const ready = config.canEdit ? loadVillage(null) : loadAudit(false);
  ready.then(() => { document.body.dataset.ready = "1"; });
})();
