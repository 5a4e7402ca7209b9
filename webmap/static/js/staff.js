// 队伍管理 (/staff, /m/staff): the tabs. Each tab's script listens for "staff:show" (detail: the tab's
// name) on document to load its data when first shown, and reads the page's config with
// Wangge.staffConfig (common.js).
(function () {
  "use strict";
  const tabs = Array.from(document.querySelectorAll(".desk-tabs [role=tab]"));
  function show(name) {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      document.getElementById("st-" + tab.dataset.tab).hidden = !on;
    }
    document.body.dataset.tab = name;
    document.dispatchEvent(new CustomEvent("staff:show", { detail: name }));
  }
  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.tab));
  const first = new URLSearchParams(location.search).get("tab");
  // after the tabs' scripts have registered their listeners
  window.addEventListener("DOMContentLoaded", () => show(tabs.some((t) => t.dataset.tab === first) ? first
    : (tabs[0] ? tabs[0].dataset.tab : "")));
  if (!tabs.length) window.addEventListener("DOMContentLoaded",
    () => document.dispatchEvent(new CustomEvent("staff:show", { detail: "phone" })));
})();
