// Every phone page registers the service worker (/m/sw.js, scope /m/), which keeps the phone pages,
// their scripts and the last synced data for a phone without signal. body[data-sw] says how far it
// got: "ready" once this page is controlled by it.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="wangge-sw"]');
  if (!meta || !("serviceWorker" in navigator)) return;
  // another account on this phone: the answers kept for the previous one are dropped (its queued
  // items stay, and are sent only in its name: phone_queue.js)
  if (localStorage.getItem("wangge-m-user") !== meta.dataset.user) {
    if (window.caches) caches.delete("wangge-m-data");
    localStorage.removeItem("wangge-m-synced");
    localStorage.setItem("wangge-m-user", meta.dataset.user);
  }
  const mark = () => { if (navigator.serviceWorker.controller) document.body.dataset.sw = "ready"; };
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    mark();
    window.dispatchEvent(new Event("wangge:sw-ready"));
  });
  navigator.serviceWorker.register(meta.content, { scope: meta.dataset.scope })
    .then(() => { document.body.dataset.sw = document.body.dataset.sw || "registered"; mark(); })
    .catch(() => { document.body.dataset.sw = "failed"; });
})();
