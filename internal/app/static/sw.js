// The service worker keeps the app shell so the app opens offline after
// the first visit. It never touches /api/: records wait in IndexedDB (app.js).
const CACHE = 'kangfu-app-v4';
const SHELL = ['/app/', '/app/app.css', '/app/i18n.js', '/app/facecore.js', '/app/app.js', '/app/challenge.js', '/app/manifest.webmanifest',
  '/app/icon-192.png', '/app/icon-512.png', '/app/provinces.json',
  '/app/vendor/uuid/v7.js', '/app/vendor/uuid/rng.js', '/app/vendor/uuid/stringify.js', '/app/vendor/uuid/validate.js',
  '/app/vendor/uuid/regex.js'];
// The face check's library, models and WebAssembly (issue 17; about 13 MB):
// kept in a cache of their own, named by the library's version, and served
// from it first (these files change only with a new version), so a check-in
// offline still runs the face check.
const FACE_CACHE = 'kangfu-face-human-3.3.6-v1';
const FACE = ['/app/vendor/human/human.js',
  '/app/vendor/human/models/blazeface.json', '/app/vendor/human/models/blazeface.bin',
  '/app/vendor/human/models/facemesh.json', '/app/vendor/human/models/facemesh.bin',
  '/app/vendor/human/models/faceres.json', '/app/vendor/human/models/faceres.bin',
  '/app/vendor/human/models/antispoof.json', '/app/vendor/human/models/antispoof.bin',
  '/app/vendor/human/models/liveness.json', '/app/vendor/human/models/liveness.bin',
  '/app/vendor/human/wasm/tfjs-backend-wasm.wasm', '/app/vendor/human/wasm/tfjs-backend-wasm-simd.wasm'];

self.addEventListener('install', (e) => {
  // The shell must be cached; the face files are fetched too, but a failure
  // there (a full disk, a dropped connection) does not stop the app: they
  // are cached again when the check-in screen loads them.
  e.waitUntil(Promise.all([
    caches.open(CACHE).then((c) => c.addAll(SHELL)),
    caches.open(FACE_CACHE).then((c) => c.addAll(FACE)).catch(() => {}),
  ]).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE && k !== FACE_CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) {
    return;
  }
  // The face files: the cache first, the network when not cached yet.
  if (url.pathname.startsWith('/app/vendor/human/')) {
    e.respondWith(caches.open(FACE_CACHE).then((c) => c.match(url.pathname).then((hit) => hit || fetch(e.request).then((resp) => {
      if (resp.ok) c.put(url.pathname, resp.clone());
      return resp;
    }))));
    return;
  }
  // Network first (a new release arrives when online), the cache when not.
  const key = url.pathname === '/app/index.html' ? '/app/' : url.pathname;
  e.respondWith(fetch(e.request).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(key, copy));
    }
    return resp;
  }).catch(() => caches.match(key).then((r) => r || Response.error())));
});
