// The phone pages' service worker, served as /m/sw.js (scope /m/), which puts VERSION and PRECACHE
// (the phone pages, their scripts and styles, vendor Leaflet, the grids' map data) above this file.
// Static files and photos: cache first (a release changes VERSION, and the new worker fetches them
// again). Pages and API answers: network first, the copy last synced when the network is cut, so a
// grid worker with no signal opens the app and reads the cases as they were. Writes never pass here:
// the pages queue them on the phone (phone_queue.js) and send them when the network is back.
/* global VERSION, PRECACHE */
"use strict";
const PREFIX = "wangge-m-";
const SHELL = PREFIX + VERSION; // this release's files
const DATA = PREFIX + "data"; // the answers last synced, kept across releases
const MATCH = { ignoreVary: true };

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await Promise.all(PRECACHE.map(async (url) => {
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
        if (response.ok && !response.redirected) await cache.put(url, response);
      } catch (_offline) { /* kept next time */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== SHELL && name !== DATA) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const keep = (response) => response.ok && !response.redirected && response.type === "basic";

async function cacheFirst(request) {
  const cached = await caches.match(request, MATCH);
  if (cached) return cached;
  const response = await fetch(request);
  if (keep(response)) (await caches.open(SHELL)).put(request, response.clone());
  return response;
}

// the page kept for a case's own address (/m/cases/123) is the cases page, which reads the id
function fallbackFor(url) {
  return url.pathname.startsWith("/m/cases/") ? "/m/cases" : url.pathname;
}

async function networkFirst(request, url) {
  try {
    const response = await fetch(request);
    if (keep(response)) {
      const cache = await caches.open(PRECACHE.includes(url.pathname + url.search) ? SHELL : DATA);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (offline) {
    const cached = await caches.match(request, MATCH)
      || (request.mode === "navigate" && (await caches.match(fallbackFor(url), { ...MATCH, ignoreSearch: true })));
    if (cached) return cached;
    throw offline;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/api/v1/stream") return; // live events are never kept
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/api/v1/attachments/")) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" || url.pathname.startsWith("/m/") || url.pathname.startsWith("/api/")
             || url.pathname.startsWith("/ogc/")) {
    event.respondWith(networkFirst(request, url));
  }
});
