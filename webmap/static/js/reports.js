// 月报 (/stats/reports): the list of the reports written, newest first, with their PDF and Excel links,
// and for the centre the button that writes a month's report now (POST /stats/reports {month}; it takes
// a few seconds: the button is disabled and the page says so meanwhile). Text reaches the page only as
// text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, stamp } = Wangge;
  if (!$("rp-config")) return;
  const config = readJSON("rp-config");
  const t = readJSON("rp-i18n");
  const reason = Wangge.reasons;

  function label(month) {
    const [year, m] = month.split("-");
    return fmt(t.month, { year, month: String(Number(m)) });
  }

  function draw(list) {
    const body = $("rp-list").tBodies[0];
    body.replaceChildren();
    if (!list.length) body.append(el("tr", {}, el("td", { colspan: "3" }, t.none)));
    for (const r of list) {
      const links = el("td", {});
      if (r.pdfUrl) links.append(el("a", { href: r.pdfUrl, class: "desk-btn rp-pdf", target: "_blank" }, t.pdf), " ");
      if (r.xlsxUrl) links.append(el("a", { href: r.xlsxUrl, class: "desk-btn rp-xlsx", download: r.xlsx }, t.xlsx));
      body.append(el("tr", { "data-month": r.month }, el("td", {}, label(r.month)), el("td", {}, stamp(r.written_at)), links));
    }
  }

  const button = $("rp-write");
  if (button) {
    button.addEventListener("click", async () => {
      const month = $("rp-month").value || config.month;
      button.disabled = true;
      $("rp-msg").textContent = fmt(t.writing, { month: label(month) });
      try {
        const { ok, status, answer } = await fetchJSON(config.listUrl, { method: "POST", body: { month } });
        if (ok) {
          draw(answer.reports);
          $("rp-msg").textContent = fmt(t.written, { month: label(answer.month), n: answer.reported, s: answer.seconds });
        } else {
          $("rp-msg").textContent = fmt(t.failed, { reason: reason(answer, status) });
        }
      } catch (exc) {
        $("rp-msg").textContent = fmt(t.failed, { reason: String(exc) });
      } finally {
        button.disabled = false;
      }
    });
  }
  draw(config.reports);
  document.body.dataset.ready = "reports";
})();
