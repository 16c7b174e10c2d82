// The tablet's service worker: the app shell from the device, so the tablet page opens with no network.
//
// Served by server/offline.py, which puts two lines above this text: BUILD, a hash of every file the pages are
// made of, and SHELL, the files to keep (tablet.html, every file under js/ and css/, pdf.js with its worker, idb).
// The cache is named after BUILD: a new build is a new worker script, the browser installs it, it fills a new
// cache and deletes the old one, so a tablet never mixes files of two builds.
//
// Registered by the tablet page only, with the scope "/tablet" (js/offline.js): the chair's, the secretariat's
// and the public pages are never served from a cache. The document copies are not here: js/sync.js keeps them
// (Cache API "kyhop-docs", checked against their SHA-256) and they outlive any build. /api and /ws never go
// through this cache: the session's state comes from the server, or from IndexedDB when the server is away.
/* global BUILD, SHELL */

const SHELL_CACHE = `kyhop-shell-${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // "reload": past the browser's HTTP cache, so the new cache holds this build's files and not older ones.
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("kyhop-shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function isShell(url) {
  return url.origin === self.location.origin && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/ws/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!isShell(url)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // The page's address carries ?session=…: the cached page is the same whatever the query.
      const hit = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
      if (hit) return hit;
      const response = await fetch(request);
      // A file of the build that was not listed (e.g. a module added by a later page): kept for the next time.
      if (response.ok && response.type === "basic") await cache.put(request, response.clone());
      return response;
    })(),
  );
});
