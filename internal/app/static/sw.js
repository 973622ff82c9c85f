// The service worker keeps the app shell so the app opens offline after
// the first visit. It never touches /api/: records wait in IndexedDB (app.js).
const CACHE = 'kangfu-app-v3';
const SHELL = ['/app/', '/app/app.css', '/app/i18n.js', '/app/app.js', '/app/manifest.webmanifest',
  '/app/icon-192.png', '/app/icon-512.png', '/app/provinces.json',
  '/app/vendor/uuid/v7.js', '/app/vendor/uuid/rng.js', '/app/vendor/uuid/stringify.js', '/app/vendor/uuid/validate.js',
  '/app/vendor/uuid/regex.js'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first (a new release arrives when online), the cache when not.
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) {
    return;
  }
  const key = url.pathname === '/app/index.html' ? '/app/' : url.pathname;
  e.respondWith(fetch(e.request).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(key, copy));
    }
    return resp;
  }).catch(() => caches.match(key).then((r) => r || Response.error())));
});
