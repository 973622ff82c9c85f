// facecore.js — the face check of issue 17, shared word for word by the
// person's app (/app/facecore.js) and the staff console
// (/static/…/facecore.js): the same library, models, settings and
// similarity on both sides, so the console's recomputation of a phone's
// score agrees with it (a Go test keeps the two copies identical).
//
// Library: @vladmandic/human 3.3.6 (MIT) with TensorFlow.js 4.22.0, vendored
// with its models under vendor/human/ — nothing is fetched from elsewhere.
// Backend order: wasm (SIMD where the browser has it) first, then webgl,
// then cpu. wasm first because it computes in float32 on every device, so a
// phone and the staff browser get the same embedding from the same photo
// (a phone GPU's webgl often computes in float16), and because it is the
// fast one where there is no real GPU (headless Chromium, many cheap phones).
(function () {
  'use strict';

  const MODELS = 'human 3.3.6 faceres+antispoof+liveness';
  // A face counts as live when both the anti-spoofing model ("real") and the
  // liveness model ("live") say so with at least this confidence.
  const REAL_MIN = 0.5;
  const LIVE_MIN = 0.5;
  // The active challenge: a blink (an eye seen closed, then open again) or a
  // turn of the head (yaw at least this many radians, about 20°).
  const TURN_YAW = 0.35;

  function settings(base, backend) {
    return {
      backend, modelBasePath: base + 'models/', wasmPath: base + 'wasm/', wasmPlatformFetch: false,
      debug: false, async: true, cacheModels: false, warmup: 'none', cacheSensitivity: 0, skipAllowed: false,
      filter: { enabled: true, equalization: false, flip: false },
      face: {
        enabled: true,
        detector: { enabled: true, modelPath: 'blazeface.json', rotation: true, maxDetected: 3, minConfidence: 0.5, return: false },
        mesh: { enabled: true, modelPath: 'facemesh.json' },
        iris: { enabled: false }, attention: { enabled: false }, emotion: { enabled: false }, gear: { enabled: false },
        description: { enabled: true, modelPath: 'faceres.json' },
        antispoof: { enabled: true, modelPath: 'antispoof.json' },
        liveness: { enabled: true, modelPath: 'liveness.json' },
      },
      body: { enabled: false }, hand: { enabled: false }, object: { enabled: false },
      segmentation: { enabled: false }, gesture: { enabled: true },
    };
  }

  const FULL = { face: { description: { enabled: true }, antispoof: { enabled: true }, liveness: { enabled: true } } };
  const LIGHT = { face: { description: { enabled: false }, antispoof: { enabled: false }, liveness: { enabled: false } } };

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('cannot load ' + src));
      document.head.appendChild(s);
    });
  }

  let loading = null;
  const timing = { load_ms: 0, backend: '' };

  // load starts the library once per page (base: the URL of the folder with
  // human.js, models/ and wasm/) and resolves to the ready instance; it
  // rejects when no backend can run the models (old browser, blocked files).
  function load(base) {
    if (loading) return loading;
    loading = (async () => {
      const t0 = performance.now();
      if (!window.Human) await loadScript(base + 'human.js');
      let last = null;
      for (const backend of ['wasm', 'webgl', 'cpu']) {
        try {
          const h = new window.Human.Human(settings(base, backend));
          await h.load();
          if (h.tf.getBackend() !== backend) throw new Error('backend ' + backend + ' not available');
          const have = h.models.loaded();
          const missing = ['blazeface', 'facemesh', 'faceres', 'antispoof', 'liveness'].filter((m) => !have.includes(m));
          if (missing.length) throw new Error('models not loaded: ' + missing.join(' '));
          // A first run on a blank image compiles the kernels (once).
          const blank = document.createElement('canvas');
          blank.width = 64;
          blank.height = 64;
          const r = await h.detect(blank);
          if (r.error) throw new Error(r.error);
          timing.load_ms = Math.round(performance.now() - t0);
          timing.backend = backend;
          return h;
        } catch (e) {
          last = e;
        }
      }
      throw last || new Error('no backend');
    })();
    // A failed load is tried again on the next call (the files may come
    // back with the network).
    loading.catch(() => { loading = null; });
    return loading;
  }

  // toFloat32 rounds an embedding to float32, the precision it is sent and
  // stored in, so both sides compare the same numbers.
  function toFloat32(emb) { return Array.from(new Float32Array(emb)); }

  function encode(emb) {
    const bytes = new Uint8Array(new Float32Array(emb).buffer); // little-endian on every browser platform
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function decode(b64) {
    if (!b64) return null;
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return Array.from(new Float32Array(bytes.buffer));
  }

  // biggest is the largest face of a result (the person in front of the
  // camera, not someone behind them).
  function biggest(faces) {
    let best = null;
    for (const f of faces || []) if (!best || f.box[2] * f.box[3] > best.box[2] * best.box[3]) best = f;
    return best;
  }

  // analyse runs the models on one still image (an <img>, canvas or
  // ImageBitmap) and returns the face part of a check-in (issue 17 contract):
  // outcome no_face | no_reference | scored, the similarity with the
  // reference embedding, the liveness and the embedding.
  async function analyse(h, image, reference) {
    const t0 = performance.now();
    // All models on (a challenge before may have switched some off: a
    // detect call's settings stay with the instance).
    const r = await h.detect(image, FULL);
    if (r.error) throw new Error(r.error);
    const f = biggest(r.face);
    const out = { models: MODELS, liveness: 'not_run', challenge: '' };
    if (!f || !f.embedding || f.embedding.length === 0) {
      out.outcome = 'no_face';
      out.ms = Math.round(performance.now() - t0);
      return out;
    }
    const emb = toFloat32(f.embedding);
    out.embedding = encode(emb);
    out.liveness = (f.real || 0) >= REAL_MIN && (f.live || 0) >= LIVE_MIN ? 'passed' : 'failed';
    if (reference && reference.length === emb.length) {
      out.outcome = 'scored';
      out.score = h.match.similarity(emb, reference);
    } else out.outcome = 'no_reference';
    out.ms = Math.round(performance.now() - t0);
    return out;
  }

  // similarity of two base64 float32 embeddings (the console's check of a
  // stored embedding), or null when one is missing.
  function similarity(h, a, b) {
    const x = decode(a);
    const y = decode(b);
    if (!x || !y || x.length !== y.length) return null;
    return h.match.similarity(x, y);
  }

  // challenge watches the live video for a blink or a head turn, with the
  // lighter models only (detector and mesh), until seen or until timeoutMs.
  // Resolves to true when seen.
  async function challenge(h, video, kind, timeoutMs, stop) {
    const until = performance.now() + timeoutMs;
    let closed = false;
    while (performance.now() < until && !(stop && stop())) {
      const r = await h.detect(video, LIGHT);
      const f = biggest(r.face);
      if (f) {
        const g = (r.gesture || []).filter((x) => x.face === r.face.indexOf(f)).map((x) => x.gesture);
        if (kind === 'blink') {
          const shut = g.includes('blink left eye') || g.includes('blink right eye');
          if (shut) closed = true;
          else if (closed) return true;
        } else if (kind === 'turn') {
          const yaw = f.rotation && f.rotation.angle ? f.rotation.angle.yaw : 0;
          if (Math.abs(yaw) >= TURN_YAW) return true;
        }
      }
      await new Promise((ok) => setTimeout(ok, 30));
    }
    return false;
  }

  window.KangfuFace = { MODELS, load, analyse, similarity, challenge, encode, decode, timing };
})();
