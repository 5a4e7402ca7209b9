// 队伍管理 · 抽查 tab (/staff #st-spot): the month's spot checks (GET /api/v1/spot-checks?month=…);
// the district's checker (canSpotCheck) draws the month (POST) and walks each worker's sample,
// recording 合格/不合格 with a reason (POST …/items/<item>); a village's leader and the town read the
// results. Text reaches the page only as text nodes.
(function () {
  "use strict";
  const { byId: $, el, fmt, readJSON, fetchJSON, stamp } = Wangge;
  if (!$("sp-list")) return;
  const t = readJSON("sp-i18n");
  let config = null, checks = [], openId = null, loaded = false;
  const reason = Wangge.reasons;
  const pct = (share) => (share === null || share === undefined ? "—" : Math.round(share * 100) + "%");

  function previousMonth(month) {
    const [y, m] = month.split("-").map(Number);
    return m === 1 ? (y - 1) + "-12" : y + "-" + String(m - 1).padStart(2, "0");
  }

  async function load() {
    const month = $("sp-month").value;
    const r = await fetchJSON(config.spotChecksUrl + "?month=" + encodeURIComponent(month));
    if (!r.ok) { $("sp-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("sp-error").textContent = "";
    checks = r.answer.items;
    $("sp-summary").textContent = checks.length
      ? fmt(t.summary, { month, n: checks.length, done: r.answer.finished, share: pct(r.answer.share_passed) })
      : fmt(t.none, { month });
    renderList();
    if (openId !== null) renderDetail();
    document.body.dataset.spotLoaded = String(Date.now());
  }

  function renderList() {
    const body = $("sp-list").tBodies[0];
    body.replaceChildren(...checks.map((c) => el("tr", { "data-check": String(c.id), "data-worker": c.worker.name || "" },
      el("td", {}, c.worker.name || "—"),
      el("td", {}, c.grid_code),
      el("td", {}, t.states[c.state] || c.state),
      el("td", {}, c.recorded + " / " + c.total),
      el("td", {}, c.total ? pct(c.share_passed) : t.empty),
      el("td", {}, c.total ? el("button", { type: "button", class: "desk-btn", onclick: () => { openId = c.id; renderDetail(); } },
        config.canSpotCheck && c.state !== "已完成" ? t.walk : t.view) : null))));
  }

  function renderDetail() {
    const c = checks.find((x) => x.id === openId);
    $("sp-detail").hidden = !c;
    if (!c) return;
    $("sp-detail-title").textContent = fmt(t.title, { name: c.worker.name || "", month: c.month, done: c.recorded, total: c.total });
    const body = $("sp-items").tBodies[0];
    body.replaceChildren(...c.items.map((i) => {
      const input = el("input", { type: "text", maxlength: "500", "aria-label": t.reason, placeholder: t.reason });
      const editable = config.canSpotCheck && c.state !== "已完成";
      const send = (result) => record(c, i, result, input.value);
      return el("tr", { "data-item": String(i.item), "data-result": i.result || "" },
        el("td", {}, String(i.item)),
        el("td", {}, i.kind_zh),
        el("td", {}, i.url ? el("a", { href: i.url, target: "_blank", rel: "noopener" }, i.label || String(i.ref_id))
          : (i.label || String(i.ref_id)), " ", el("small", {}, stamp(i.at))),
        el("td", {}, i.result ? (i.result === "pass" ? t.pass : t.fail) : "—"),
        el("td", {}, i.result ? (i.reason || "") : (editable ? input : "")),
        el("td", { class: "sp-acts" }, editable && !i.result ? el("span", {},
          el("button", { type: "button", class: "desk-btn", "data-result": "pass", onclick: () => send("pass") }, t.pass),
          el("button", { type: "button", class: "desk-btn sp-fail", "data-result": "fail", onclick: () => send("fail") }, t.fail))
          : null));
    }));
  }

  async function record(c, item, result, text) {
    const r = await fetchJSON(config.spotChecksUrl + "/" + c.id + "/items/" + item.item,
      { method: "POST", body: { result, reason: text, version: c.version } });
    if (!r.ok) { $("sp-msg").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    checks = checks.map((x) => (x.id === c.id ? r.answer : x));
    $("sp-msg").textContent = r.answer.state === "已完成" ? fmt(t.finished, { share: pct(r.answer.share_passed) })
      : fmt(t.recorded, { item: item.item, result: result === "pass" ? t.pass : t.fail });
    renderList();
    renderDetail();
  }

  async function draw() {
    const month = $("sp-month").value;
    const r = await fetchJSON(config.spotChecksUrl, { method: "POST", body: { month } });
    if (!r.ok) { $("sp-error").textContent = fmt(t.failed, { reason: reason(r.answer, r.status) }); return; }
    $("sp-error").textContent = "";
    $("sp-msg").textContent = fmt(t.drawn, { month, n: r.answer.items.length });
    await load();
  }

  document.addEventListener("staff:show", (ev) => {
    if (ev.detail !== "spot" || loaded) return;
    loaded = true;
    config = Wangge.staffConfig;
    $("sp-month").value = previousMonth(config.month);
    $("sp-draw").hidden = !config.canSpotCheck;
    $("sp-draw").addEventListener("click", draw);
    $("sp-show").addEventListener("click", () => { openId = null; load(); });
    load();
  });
})();
