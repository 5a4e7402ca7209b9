// 我的考核 on the phone (/m/staff #ms-checks): the worker's own spot checks (GET
// /api/v1/spot-checks?mine=1) with each item's result, their notices (GET /api/v1/notices; tapping an
// unread one marks it read) and their open discipline case with its clock. Text only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, stamp, message } = Wangge;
  if (!$("ms-checks")) return;
  const t = readJSON("ms-checks-i18n");
  const reason = (answer, status) => message(answer) || String(status);

  function notices(items) {
    const unread = items.filter((n) => !n.read_at).length;
    $("ms-unread").textContent = unread ? fmt(t.unread, { n: unread }) : "";
    $("ms-notices").replaceChildren(...(items.length ? items.map((n) => {
      const li = el("li", { class: "ms-notice" + (n.read_at ? "" : " unread"), "data-notice": String(n.id) },
        el("strong", {}, n.title), " ", el("small", {}, stamp(n.at)), el("p", {}, n.body));
      if (!n.read_at) {
        li.append(el("button", { type: "button", class: "ms-read", onclick: async () => {
          const r = await fetchJSON(config.noticesUrl + "/" + n.id + "/read", { method: "POST" });
          if (r.ok) { Object.assign(n, r.answer); notices(items); }
        } }, t.read));
      }
      return li;
    }) : [el("li", {}, t.noNotices)]));
  }

  function checks(items) {
    $("ms-spot").replaceChildren(...(items.length ? items.map((c) => el("li", { "data-check": String(c.id) },
      el("strong", {}, fmt(t.check, { month: c.month, state: t.states[c.state] || c.state, passed: c.passed, total: c.total })),
      el("ul", {}, ...c.items.filter((i) => i.result).map((i) => el("li", { class: "ms-item " + i.result },
        i.kind_zh, " ", i.label || "", ": ", i.result === "pass" ? t.pass : t.fail, i.reason ? " · " + i.reason : "")))))
      : [el("li", {}, t.noChecks)]));
  }

  function discipline(items) {
    const c = items[0];
    $("ms-case").hidden = !c;
    if (!c) return;
    const clock = c.clock.next_step ? fmt(t.left, { n: Math.max(c.clock.days_left, 0) }) : t.waiting;
    $("ms-case").replaceChildren(el("strong", {}, fmt(t.case, { step: c.step, clock })), el("p", {}, c.finding),
      c.loses_merit_year ? el("p", {}, fmt(t.merit, { year: c.loses_merit_year })) : "");
  }

  let config = null;
  document.addEventListener("staff:show", async () => {
    if (config) return;
    config = Wangge.staffConfig;
    const [n, s, d] = await Promise.all([fetchJSON(config.noticesUrl), fetchJSON(config.spotChecksUrl + "?mine=1"),
                                         fetchJSON(config.disciplineUrl + "?state=open")]);
    const bad = [n, s, d].find((r) => !r.ok);
    if (bad) $("ms-error").textContent = fmt(t.failed, { reason: reason(bad.answer, bad.status) });
    if (n.ok) notices(n.answer.items);
    if (s.ok) checks(s.answer.items);
    if (d.ok) discipline(d.answer.items);
    document.body.dataset.checksLoaded = "1";
  });
})();
