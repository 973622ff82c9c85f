// The person's app (issue 4 §3, §4). Plain JS, no framework. It talks only
// to /api/v1/app/… (the app contract): a device token in Authorization,
// and state-changing requests signed with the device's ECDSA P-256 key
// (kept non-extractable in IndexedDB) over the exact body bytes.
// Check-ins wait in IndexedDB (the outbox) and go out oldest first when
// the phone is online; the client id makes a re-send idempotent.
'use strict';

(function () {
  const W = window.KF_I18N;
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const MAX_PHOTO = 200 * 1024;
  // Record ids are UUIDv7 (npm uuid, vendored under /app/vendor/uuid/):
  // they start with the time, so the server's id index grows at its end
  // instead of at a random place for every check-in. The server takes any
  // UUID; an older app's random ones still work.
  let uuidv7 = null;
  async function newID() {
    if (!uuidv7) uuidv7 = (await import('/app/vendor/uuid/v7.js')).default;
    return uuidv7();
  }

  // ---- words ----
  let lang = localStorage.getItem('kf_lang') || 'zh';
  // t words a key with its {name} arguments. English counts choose their
  // noun with {name:one|other} ("{n} {n:day|days}"): "one" when the
  // argument is 1 (issue 18 item 13); Chinese has no plural forms.
  function t(key, args) {
    let s = (W[lang] && W[lang][key]) || W.zh[key] || key;
    args = args || {};
    s = s.replace(/\{(\w+):([^{}|]*)\|([^{}|]*)\}/g, (m, k, one, other) => (Number(args[k]) === 1 ? one : other));
    for (const k in args) s = s.split('{' + k + '}').join(args[k]);
    return s;
  }
  function applyWords() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    $$('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $$('[data-i18n-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nLabel)); });
    $$('[data-lang-toggle]').forEach((b) => { b.textContent = lang === 'zh' ? 'English' : '中文'; });
    document.title = t('app_name');
    showNet();
  }

  // ---- IndexedDB: keys (the device key pair), outbox (unsent check-ins, oldest first), records ----
  let dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const rq = indexedDB.open('kangfu-app', 1);
        rq.onupgradeneeded = () => {
          const d = rq.result;
          d.createObjectStore('keys');
          d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
          d.createObjectStore('records', { keyPath: 'id' });
        };
        rq.onsuccess = () => resolve(rq.result);
        rq.onerror = () => reject(rq.error);
      });
    }
    return dbp;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const x = d.transaction(store, mode);
      let out;
      const r = fn(x.objectStore(store));
      if (r) r.onsuccess = () => { out = r.result; };
      x.oncomplete = () => resolve(out);
      x.onerror = () => reject(x.error);
      x.onabort = () => reject(x.error);
    });
  }
  const idbGet = (s, k) => tx(s, 'readonly', (o) => o.get(k));
  const idbPut = (s, v, k) => tx(s, 'readwrite', (o) => (k === undefined ? o.put(v) : o.put(v, k)));
  const idbDel = (s, k) => tx(s, 'readwrite', (o) => o.delete(k));
  const idbAll = (s) => tx(s, 'readonly', (o) => o.getAll());
  const idbClear = (s) => tx(s, 'readwrite', (o) => o.clear());

  // ---- bytes ----
  const enc = new TextEncoder();
  function b64(buf) {
    const b = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s);
  }
  function hex(buf) {
    return Array.from(new Uint8Array(buf)).map((x) => x.toString(16).padStart(2, '0')).join('');
  }
  // RFC 3339 with the phone's offset, e.g. 2026-11-28T20:30:00+08:00.
  function rfc3339(d) {
    const p = (n) => String(n).padStart(2, '0');
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? '+' : '-';
    const a = Math.abs(off);
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) +
      ':' + p(d.getSeconds()) + sign + p(Math.floor(a / 60)) + ':' + p(a % 60);
  }
  function localDate(d) {
    return rfc3339(d).slice(0, 10);
  }

  // ---- the device ----
  const dev = {
    get token() { return localStorage.getItem('kf_token'); },
    get id() { return localStorage.getItem('kf_device'); },
    get name() { return localStorage.getItem('kf_name') || ''; },
  };
  async function sign(bytes) {
    const keys = await idbGet('keys', 'device');
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, bytes);
    return b64(sig); // IEEE P1363 r||s, 64 bytes
  }

  class HTTPError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  // api calls the app API. A network failure throws a TypeError (offline).
  async function api(method, path, body, opts) {
    opts = opts || {};
    const h = { 'Accept-Language': lang === 'zh' ? 'zh-CN' : 'en' };
    if (dev.token && !opts.open) h.Authorization = 'Bearer ' + dev.token;
    let bytes;
    if (body !== undefined) {
      bytes = body instanceof ArrayBuffer || body instanceof Uint8Array ? body : enc.encode(body);
      h['Content-Type'] = opts.type || 'application/json';
    }
    if (opts.sig) h['X-Kangfu-Signature'] = opts.sig;
    else if (opts.signed) h['X-Kangfu-Signature'] = await sign(bytes);
    Object.assign(h, opts.headers || {});
    const resp = await fetch('/api/v1/app/' + path, { method, headers: h, body: bytes, credentials: 'omit', cache: 'no-store' });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = (data && data.error) || {};
      if (resp.status === 401 && dev.token && !opts.open) notice(t('device_retired') + ' ' + (err.message || ''), true);
      throw new HTTPError(resp.status, err.code || String(resp.status), err.message || resp.statusText);
    }
    return data;
  }

  // ---- screens ----
  let current = '';
  function notice(msg, isErr) {
    const n = $('[data-testid=notice]');
    n.textContent = msg || '';
    n.hidden = !msg;
    n.classList.toggle('err', !!isErr);
  }
  function show(name) {
    if (current === 'checkin' && name !== 'checkin') stopCamera();
    current = name;
    notice('');
    $$('.screen').forEach((s) => { s.hidden = s.id !== 's-' + name; });
    $('.tabs').hidden = name === 'activate' || name === 'lock';
    $$('.tabs button').forEach((b) => b.classList.toggle('on', b.dataset.go === name));
    document.body.dataset.screen = name;
    const fn = { today: showToday, checkin: showCheckin, records: showRecords, leave: showLeave, settings: showSettings, help: showHelp, points: showPoints }[name];
    // body[data-loaded] names the screen once its data is drawn, so a tap
    // (or a test) can wait for the layout to settle before aiming.
    document.body.dataset.loaded = '';
    if (fn) {
      fn().catch((e) => notice(t('error', { m: e.message }), true))
        .finally(() => { if (current === name) document.body.dataset.loaded = name; });
    } else {
      document.body.dataset.loaded = name;
    }
  }
  function showNet() {
    const el = $('[data-testid=net]');
    el.textContent = t(navigator.onLine ? 'online' : 'offline');
    el.classList.toggle('off', !navigator.onLine);
  }

  // Activation: a key pair made here (private key not extractable), the
  // public key registered with the code and the PIN.
  function showActivate(code) {
    if (code) $('[data-testid=code]').value = code;
    show('activate');
  }
  async function activate(ev) {
    ev.preventDefault();
    const f = ev.target;
    const code = f.code.value.replace(/[\s-]/g, '').toUpperCase();
    if (!/^[A-Z0-9]{8}$/.test(code)) return notice(t('err_code'), true);
    if (!/^[0-9]{6}$/.test(f.pin.value)) return notice(t('err_pin'), true);
    if (f.pin.value !== f.pin2.value) return notice(t('err_pin_same'), true);
    if (weakPIN(f.pin.value)) return notice(t('err_pin_weak'), true);
    if (!window.crypto || !crypto.subtle) return notice(t('err_crypto'), true);
    notice(t('activating'));
    const btn = $('[data-testid=activate]');
    btn.disabled = true;
    try {
      const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
      const out = await api('POST', 'activate', JSON.stringify({ code, public_key: b64(spki), pin: f.pin.value, lang }), { open: true });
      await idbPut('keys', { privateKey: keys.privateKey, publicKey: keys.publicKey }, 'device');
      localStorage.setItem('kf_token', out.token);
      localStorage.setItem('kf_device', out.device_id);
      localStorage.setItem('kf_name', out.person_name);
      localStorage.removeItem('kf_lang_unsent'); // sent with the activation
      await keepPIN(f.pin.value);
      touch();
      f.reset();
      history.replaceState(null, '', '/app/');
      show('today');
      notice(t('activated'));
    } catch (e) {
      notice(e instanceof TypeError ? t('need_online') : t('error', { m: e.message }), true);
    } finally {
      btn.disabled = false;
    }
  }

  async function showToday() {
    $('[data-testid=person-name]').textContent = dev.name;
    let d = null;
    try {
      if (!navigator.onLine) throw new TypeError('offline');
      d = await api('GET', 'today');
      localStorage.setItem('kf_today', JSON.stringify(d));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      d = JSON.parse(localStorage.getItem('kf_today') || 'null');
      notice(t('today_offline'));
    }
    if (!d) return;
    $('[data-testid=today-date]').textContent = d.date;
    const st = $('[data-testid=today-state]');
    const c = d.checkin || {};
    // Green only for a check-in that counts; one that did not pass says
    // what failed and, while the window is open, to check in again.
    if (c.done) {
      st.textContent = t('today_done', { v: c.verdict_label || '' });
      st.className = 'state done';
    } else if (c.due && c.count > 0) {
      st.textContent = t(!c.window_over ? 'today_retry' : 'today_failed_closed', { why: c.checks_label || c.verdict_label || '', w: c.window || '' });
      st.className = 'state retry';
    } else {
      st.textContent = c.due ? t('today_due') : t('today_not_due');
      st.className = 'state ' + (c.due ? 'todo' : '');
    }
    // The check-in frequency (policy checkin.every_days, issue 13 §4): when
    // it is not daily, say when the next check-in is due.
    const ev = $('[data-testid=today-every]');
    ev.hidden = !(c.every_days > 1 && c.next_due);
    ev.textContent = ev.hidden ? '' : t('today_every', { n: c.every_days, d: c.next_due });
    const tt = $('[data-testid=today-tests]');
    const tests = d.tests || [];
    tt.hidden = !tests.length;
    tt.textContent = tests.map((x) => x.text).join(' ');
    tt.className = 'card state ' + (tests.length && !tests[0].done ? 'todo' : 'done');
    // Planned visits of the next 30 days (issue 11 §10).
    const ta = $('[data-testid=today-appointments]');
    const appts = d.appointments || [];
    ta.hidden = !appts.length;
    ta.textContent = appts.length ? t('appointments') + appts.map((x) => x.text).join(' · ') : '';
    const lv = $('[data-testid=today-leave]');
    lv.hidden = !d.leave;
    if (d.leave) lv.textContent = t('leave_title') + t('colon') + (d.leave.state_label || t('ls_' + d.leave.state)) + ' · ' + d.leave.from + ' — ' + d.leave.to + ' · ' + (d.leave.destination_province || '') + ' ' + (d.leave.destination_city || '');
    $('[data-testid=unread]').textContent = d.messages_unread ? String(d.messages_unread) : '';
    if (navigator.onLine) await showMessages().catch((e) => { if (!(e instanceof TypeError)) throw e; });
  }

  async function showMessages() {
    const ul = $('[data-testid=messages]');
    const m = await api('GET', 'messages');
    ul.textContent = '';
    if (!m.items.length) {
      const li = document.createElement('li');
      li.textContent = t('no_messages');
      ul.appendChild(li);
    }
    for (const it of m.items) {
      const li = document.createElement('li');
      li.className = it.read ? '' : 'unread';
      const p = document.createElement('p');
      p.textContent = it.body;
      const s = document.createElement('span');
      s.className = 'sub';
      s.textContent = (it.system ? t('system_sender') : it.sender_name) + ' · ' + new Date(it.sent_at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en');
      li.append(p, s);
      if (!it.read) {
        const b = document.createElement('button');
        b.className = 'big';
        b.textContent = t('mark_read');
        b.addEventListener('click', async () => {
          try {
            await api('POST', 'messages/' + encodeURIComponent(it.id) + '/read', '{}', { signed: true });
            showToday();
          } catch (e) { notice(e instanceof TypeError ? t('need_online') : t('error', { m: e.message }), true); }
        });
        li.appendChild(b);
      }
      ul.appendChild(li);
    }
  }

  // ---- check in ----
  let stream = null;
  let fix = null;
  function stopCamera() {
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    stream = null;
    $('#cam').srcObject = null;
  }
  function locate() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) return reject(new Error(t('err_location')));
      navigator.geolocation.getCurrentPosition(resolve, () => reject(new Error(t('err_location'))),
        { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
    });
  }
  async function showCheckin() {
    $('[data-testid=checkin-result]').textContent = '';
    $('[data-testid=face-line]').hidden = true;
    // The face check starts loading now (the library and its models, about
    // 13 MB the first time, then from the service worker's cache), with the
    // reference for this person, while the person looks at the camera.
    faceRef = faceReference();
    faceReady().catch(() => {});
    // How long the face data is kept (policy identity.retention_days).
    faceRef.then((r) => {
      const p = $('[data-testid=face-notice-retention]');
      const n = r && r.retention_days;
      p.textContent = n ? t('face_notice_retention', { n }) : '';
      p.hidden = !n;
    });
    const where = $('[data-testid=where]');
    where.textContent = t('locating');
    fix = null;
    locate().then((p) => { fix = p; where.textContent = t('located', { m: Math.round(p.coords.accuracy) }); })
      .catch((e) => { where.textContent = e.message; });
    if (!stream) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
        $('#cam').srcObject = stream;
      } catch (e) {
        notice(t('err_camera'), true);
      }
    }
  }
  function toBlob(canvas, q) {
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', q));
  }
  // selfie draws the current frame, downscaled, as a JPEG of at most 200 KB.
  async function selfie() {
    const v = $('#cam');
    if (!stream || !v.videoWidth) throw new Error(t('err_camera'));
    let w = Math.min(480, v.videoWidth);
    for (let tries = 0; tries < 6; tries++) {
      const h = Math.round(v.videoHeight * w / v.videoWidth);
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      c.getContext('2d').drawImage(v, 0, 0, w, h);
      for (const q of [0.8, 0.65, 0.5]) {
        const b = await toBlob(c, q);
        if (b && b.size <= MAX_PHOTO) return new Uint8Array(await b.arrayBuffer());
      }
      w = Math.round(w * 0.75);
    }
    throw new Error(t('err_photo'));
  }
  // ---- the face check (issue 17 item 2) ----
  // After the selfie the phone runs face detection, the face embedding,
  // anti-spoofing and liveness (facecore.js, the same code as the staff
  // console's), compares the embedding with the person's reference and puts
  // the result in the signed check-in. When the model cannot load or run
  // (an old phone, no WebAssembly/WebGL, an error) the check-in goes out all
  // the same with face.outcome "model_unavailable": never lost, never held up.
  const FACE_BASE = '/app/vendor/human/';
  const FACE_WAIT_MS = 45000; // the longest a check-in waits for the model to load
  const CHALLENGE_MS = 20000; // the time given for a blink or a head turn
  let faceModel = null;
  let faceRef = null;
  function faceReady() {
    if (!window.KangfuFace) return Promise.reject(new Error('face check not loaded'));
    if (!faceModel) {
      faceModel = window.KangfuFace.load(FACE_BASE);
      faceModel.catch(() => { faceModel = null; }); // the next check-in tries again
    }
    return faceModel;
  }
  function within(p, ms) {
    return Promise.race([p, new Promise((ok, bad) => setTimeout(() => bad(new Error('timeout')), ms))]);
  }
  // faceReference is this person's reference embedding and the challenge
  // the policy asks for (GET face/reference), kept for offline check-ins.
  async function faceReference() {
    try {
      const r = await api('GET', 'face/reference');
      localStorage.setItem('kf_face_ref', JSON.stringify(r));
      return r;
    } catch (e) {
      if (e instanceof HTTPError && e.status === 404) localStorage.removeItem('kf_face_ref');
      return JSON.parse(localStorage.getItem('kf_face_ref') || 'null');
    }
  }
  // runChallenge asks for a blink or a head turn on the live camera: true
  // when seen, false when not seen in time, null when the model cannot run.
  async function runChallenge(kind) {
    const line = $('[data-testid=face-challenge]');
    try {
      line.textContent = t('face_loading');
      line.hidden = false;
      const h = await within(faceReady(), FACE_WAIT_MS);
      line.textContent = t(kind === 'blink' ? 'face_challenge_blink' : 'face_challenge_turn');
      return await window.KangfuFace.challenge(h, $('#cam'), kind, CHALLENGE_MS);
    } catch (e) {
      return null;
    } finally {
      line.hidden = true;
    }
  }
  function jpegImage(bytes) {
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
      const img = new Image();
      img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error(t('err_photo'))); };
      img.src = url;
    });
  }
  // faceCheck analyses the JPEG exactly as sent (the console recomputes
  // from the same bytes) and returns the check-in's "face" part.
  async function faceCheck(photo, ref, kind, challenged) {
    const t0 = performance.now();
    try {
      const h = await within(faceReady(), FACE_WAIT_MS);
      const img = await jpegImage(photo);
      const f = await window.KangfuFace.analyse(h, img, ref && ref.embedding ? window.KangfuFace.decode(ref.embedding) : null);
      f.challenge = kind;
      // A challenge the policy asked for and the person did not pass (or the
      // model could not watch) fails liveness, whatever the models said.
      if (kind && f.outcome !== 'no_face' && challenged !== true) f.liveness = 'failed';
      return f;
    } catch (e) {
      return { outcome: 'model_unavailable', liveness: 'not_run', challenge: kind,
        models: window.KangfuFace ? window.KangfuFace.MODELS : '', ms: Math.round(performance.now() - t0) };
    }
  }
  // mockLocation is what the browser says about a mocked position, or
  // undefined when it says nothing (standard browsers do not; some Android
  // WebViews add a flag).
  function mockLocation(pos) {
    for (const v of [pos && pos.coords && pos.coords.isMock, pos && pos.isMock, pos && pos.mocked]) {
      if (typeof v === 'boolean') return v;
    }
    return undefined;
  }
  function faceLine(face) {
    const line = $('[data-testid=face-line]');
    const key = { scored: 'face_done', no_face: 'face_no_face', model_unavailable: 'face_notice_unavailable' }[face.outcome];
    line.textContent = key ? t(key) : '';
    if (key && face.challenge && face.liveness === 'failed') line.textContent = t('face_challenge_missed');
    line.hidden = !key;
    line.dataset.outcome = face.outcome;
  }

  async function takeCheckin() {
    if (appPolicy().each && !pinFresh) {
      lock('checkin');
      notice(t('lock_checkin'));
      return;
    }
    pinFresh = false;
    const btn = $('#take');
    const out = $('[data-testid=checkin-result]');
    btn.disabled = true;
    notice('');
    out.className = 'result';
    try {
      const pos = fix || await locate();
      fix = null;
      const ref = await (faceRef || faceReference());
      const kind = ref && (ref.challenge === 'blink' || ref.challenge === 'turn') ? ref.challenge : '';
      const challenged = kind ? await runChallenge(kind) : null;
      const photo = await selfie();
      const takenAt = rfc3339(new Date());
      out.textContent = t('face_checking');
      const face = await faceCheck(photo, ref, kind, challenged);
      const sha = hex(await crypto.subtle.digest('SHA-256', photo));
      const rec = {
        id: await newID(), taken_at: takenAt, lat: pos.coords.latitude, lng: pos.coords.longitude,
        accuracy_m: Math.max(0.1, Math.round(pos.coords.accuracy * 10) / 10), photo_sha256: sha, face,
      };
      const mock = mockLocation(pos);
      if (mock !== undefined) rec.mock_location = mock;
      faceLine(face);
      const body = JSON.stringify(rec);
      const sig = await sign(enc.encode(body)); // signed now: the exact bytes that will be sent
      await idbPut('records', { id: rec.id, taken_at: rec.taken_at, state: 'queued', label: '' });
      await idbPut('outbox', { id: rec.id, body, sig, photo: photo.buffer, sha, added: Date.now() });
      await countQueue();
      await flush();
      const r = await idbGet('records', rec.id);
      let state = r.state;
      if (r.state === 'sent' && r.counts === false) {
        // Sent, but it does not count: say what failed and what to do.
        let day = JSON.parse(localStorage.getItem('kf_today') || 'null');
        try {
          day = await api('GET', 'today');
          localStorage.setItem('kf_today', JSON.stringify(day));
        } catch (e) { if (!(e instanceof TypeError)) throw e; }
        const c = (day && day.checkin) || {};
        out.textContent = t(!c.window_over ? 'saved_retry' : 'saved_failed_closed', { why: r.why || r.label, w: c.window || '' });
        out.className = 'result retry';
        state = 'retry';
      } else if (r.state === 'sent') out.textContent = t('saved_sent', { v: r.label });
      else if (r.state === 'failed') out.textContent = t('error', { m: r.error });
      else out.textContent = t('saved_queued');
      out.dataset.state = state;
    } catch (e) {
      notice(e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  // ---- the outbox ----
  async function countQueue() {
    const n = (await idbAll('outbox')).length;
    document.body.dataset.queue = String(n);
    const line = $('[data-testid=queue-line]');
    line.textContent = n ? t('queue_some', { n }) : t('queue_none');
    return n;
  }
  let flushing = null;
  function flush() {
    if (!flushing) flushing = doFlush().finally(() => { flushing = null; });
    return flushing;
  }
  async function doFlush() {
    if (!dev.token || !navigator.onLine) return countQueue();
    const items = (await idbAll('outbox')).sort((a, b) => a.seq - b.seq); // oldest first
    for (const it of items) {
      try {
        await api('POST', 'photos', new Uint8Array(it.photo), { type: 'image/jpeg', headers: { 'X-Photo-SHA256': it.sha } });
        const r = await api('POST', 'checkins', it.body, { sig: it.sig });
        await idbPut('records', { id: it.id, taken_at: it.taken_at || JSON.parse(it.body).taken_at, state: 'sent', label: r.verdict_label, verdict: r.verdict,
          counts: r.counts, why: r.checks_label });
        await idbDel('outbox', it.seq);
      } catch (e) {
        if (e instanceof TypeError || e.status >= 500 || e.status === 401 || e.status === 429) break; // try again later, in order
        // Refused for good (400, 409): keep the record with the reason, stop retrying it.
        await idbPut('records', { id: it.id, taken_at: JSON.parse(it.body).taken_at, state: 'failed', label: '', error: e.message });
        await idbDel('outbox', it.seq);
      }
    }
    const n = await countQueue();
    if (current === 'records') showRecords();
    return n;
  }

  // My records: the month's check-ins from the server (with verdicts), the
  // duty, leave and test outcomes, merged with the check-ins still waiting
  // on this phone (marked "waiting to send"); offline, the last copy fetched.
  let recMonth = '';
  function shiftMonth(m, n) {
    const y = +m.slice(0, 4), mo = +m.slice(5, 7) - 1 + n;
    const d = new Date(y, mo, 1);
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0');
  }
  async function fetchMonth(month) {
    const key = 'kf_records_' + month;
    try {
      if (!navigator.onLine) throw new TypeError('offline');
      const d = await api('GET', 'checkins?month=' + encodeURIComponent(month));
      localStorage.setItem(key, JSON.stringify(d));
      return { d, stale: false };
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      return { d: JSON.parse(localStorage.getItem(key) || 'null'), stale: true };
    }
  }
  function li(text, cls) {
    const el = document.createElement('li');
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }
  async function showRecords() {
    await countQueue();
    if (!recMonth) recMonth = localDate(new Date()).slice(0, 7);
    $('[data-testid=records-month]').textContent = recMonth;
    const { d, stale } = await fetchMonth(recMonth);
    $('[data-testid=records-stale]').hidden = !stale || !d;
    const duty = $('[data-testid=records-duty]');
    duty.textContent = d ? t('duty_line', { due: d.duty.due, done: d.duty.done, missed: d.duty.missed }) : t('records_none_fetched');
    // Server records first (each id once), then local ones the copy lacks.
    const rows = [];
    const seen = new Set();
    for (const c of (d && d.checkins) || []) {
      seen.add(c.id);
      const label = c.counts === false ? (c.checks_label || c.verdict_label) + ' · ' + t('rec_not_counted') : c.verdict_label;
      rows.push({ id: c.id, taken_at: c.taken_at, state: 'sent', label, verdict: c.verdict, counts: c.counts, source: 'server' });
    }
    for (const r of await idbAll('records')) {
      if (seen.has(r.id) || (r.taken_at || '').slice(0, 7) !== recMonth) continue;
      if (r.state === 'sent' && d && !stale) continue; // sent but outside this month's server answer: trust the server
      rows.push(Object.assign({ source: 'phone' }, r));
    }
    rows.sort((a, b) => (a.taken_at < b.taken_at ? 1 : -1));
    const ul = $('[data-testid=records]');
    ul.textContent = '';
    if (!rows.length) ul.appendChild(li(t('no_records')));
    for (const r of rows) {
      const el = document.createElement('li');
      el.dataset.state = r.state;
      el.dataset.id = r.id;
      el.dataset.source = r.source;
      if (r.verdict) el.dataset.verdict = r.verdict;
      const when = document.createElement('span');
      when.textContent = new Date(r.taken_at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en') + ' ';
      const tag = document.createElement('span');
      tag.className = 'tag ' + r.state + ((r.verdict && r.verdict !== 'ok') || r.counts === false ? ' warn' : '');
      tag.textContent = r.state === 'sent' ? (r.label || t('st_sent')) : t('st_' + r.state);
      el.append(when, tag);
      if (r.error) {
        const sub = document.createElement('span');
        sub.className = 'sub';
        sub.textContent = r.error;
        el.appendChild(sub);
      }
      ul.appendChild(el);
    }
    const lv = $('[data-testid=records-leaves]');
    lv.textContent = '';
    for (const l of (d && d.leaves) || []) {
      lv.appendChild(li(t('ls_' + l.effective_state) + ' · ' + l.from + ' — ' + l.to + ' · ' + (l.province_name || '') + ' ' + (l.destination_city || '')));
    }
    if (!lv.children.length) lv.appendChild(li(t('no_leave')));
    const ts = $('[data-testid=records-tests]');
    ts.textContent = '';
    for (const x of (d && d.tests) || []) ts.appendChild(li(x.tested_on + ' · ' + x.sample_label + ' · ' + x.outcome_label, 'test-' + x.outcome));
    if (!ts.children.length) ts.appendChild(li(t('no_tests')));
  }

  // My points (issue 14 §5): the balance, the streak and the next negative
  // test's value in plain words, the rewards I can get, the history, and a
  // one-time code to show the worker when redeeming at the office.
  async function showPoints() {
    $('[data-testid=points-code]').hidden = true;
    $('[data-testid=points-code-until]').hidden = true;
    const d = await api('GET', 'incentives');
    $('[data-testid=points-balance]').textContent = t('points_balance', { n: d.balance });
    let next = '';
    if (!d.enabled && !d.balance) next = t('points_off');
    else if (!d.consent) next = t('points_no_consent');
    else {
      const sep = lang === 'zh' ? '' : ' '; // Chinese sentences end in 。 and run on
      next = t('points_next', { v: d.next_negative_value });
      if (d.streak > 0) next = t('points_streak', { n: d.streak }) + sep + next;
      if (d.negatives_to_return) next += sep + t('points_to_return', { n: d.negatives_to_return, v: d.return_value });
    }
    $('[data-testid=points-next]').textContent = next;
    const hist = $('[data-testid=points-history]');
    hist.textContent = '';
    for (const r of d.ledger || []) hist.appendChild(li(r.day + ' · ' + t('rule_' + r.rule) + ' · ' + (r.points > 0 ? '+' : '') + r.points));
    if (!hist.children.length) hist.appendChild(li(t('points_none')));
    const cat = $('[data-testid=points-catalogue]');
    cat.textContent = '';
    const c = await api('GET', 'rewards');
    for (const r of c.rewards || []) {
      cat.appendChild(li(t(r.kind === 'service' ? 'points_item_service' : 'points_item', { name: r.name, p: r.points, s: r.stock }), r.stock > 0 && r.points <= d.balance ? '' : 'muted'));
    }
    if (!cat.children.length) cat.appendChild(li(t('points_no_items')));
  }
  async function showCode() {
    const c = await api('POST', 'incentives/code');
    const el = $('[data-testid=points-code]');
    el.textContent = c.code.slice(0, 3) + ' ' + c.code.slice(3);
    el.hidden = false;
    const until = new Date(c.expires_at);
    const u = $('[data-testid=points-code-until]');
    u.textContent = t('points_code_until', { t: String(until.getHours()).padStart(2, '0') + ':' + String(until.getMinutes()).padStart(2, '0') });
    u.hidden = false;
  }

  // My help plan (issue 11 §10): read-only — goals with their deadlines,
  // the next review and the days it was reviewed; offline, the last copy.
  async function showHelp() {
    let d = null, stale = false;
    try {
      if (!navigator.onLine) throw new TypeError('offline');
      d = await api('GET', 'help-plan');
      localStorage.setItem('kf_help', JSON.stringify(d));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      d = JSON.parse(localStorage.getItem('kf_help') || 'null');
      stale = true;
    }
    $('[data-testid=help-stale]').hidden = !stale || !d;
    const p = d && d.plan;
    $('[data-testid=help-next]').textContent = p ? t('help_next', { d: p.next_review }) : t(d ? 'help_none' : 'records_none_fetched');
    $('[data-testid=help-start]').textContent = p ? t('help_start', { d: p.start_on }) : '';
    const ul = $('[data-testid=help-goals]');
    ul.textContent = '';
    for (const g of (p && p.goals) || []) {
      const el = li(g.goal);
      const sub = document.createElement('span');
      sub.className = 'sub';
      sub.textContent = [g.actions, g.due ? t('help_due', { d: g.due }) : '', g.owner ? t('help_owner', { o: g.owner }) : ''].filter(Boolean).join(' · ');
      el.appendChild(sub);
      ul.appendChild(el);
    }
    if (!ul.children.length) ul.appendChild(li(t('help_none')));
    const rv = $('[data-testid=help-reviews]');
    rv.textContent = '';
    for (const day of (p && p.reviewed_on) || []) rv.appendChild(li(day));
    if (!rv.children.length) rv.appendChild(li(t('help_no_reviews')));
    await showDuties();
  }

  // What is asked of me (issue 13 §6): the duties in plain words and that
  // they follow from the last review, with the next; never a score or tier.
  async function showDuties() {
    let d = null;
    try {
      if (!navigator.onLine) throw new TypeError('offline');
      d = await api('GET', 'duties');
      localStorage.setItem('kf_duties', JSON.stringify(d));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      d = JSON.parse(localStorage.getItem('kf_duties') || 'null');
    }
    const ul = $('[data-testid=duties-list]');
    ul.textContent = '';
    const why = $('[data-testid=duties-why]');
    why.textContent = '';
    if (!d) return;
    ul.appendChild(li(d.checkin_every_days > 1 ? t('duties_checkin_every', { n: d.checkin_every_days, w: d.checkin_window.replace('-', '–') })
      : t('duties_checkin', { w: d.checkin_window.replace('-', '–') })));
    const per = (p) => t('per_' + p);
    if (d.home_visit_period && d.home_visit_period !== 'off') ul.appendChild(li(t('duties_home', { p: per(d.home_visit_period) })));
    if (d.contact_period && d.contact_period !== 'off') ul.appendChild(li(t('duties_contact', { p: per(d.contact_period) })));
    const zero = (x) => !x || x.startsWith('0001');
    if (!zero(d.last_review)) why.textContent = t('duties_why', { d: d.last_review, n: d.next_review });
    else why.textContent = t('duties_why_first');
  }

  // ---- leave ----
  let provinces = null;
  async function showLeave() {
    const f = $('#f-leave');
    if (!provinces) {
      provinces = await (await fetch('/app/provinces.json')).json();
      const sel = f.destination_province;
      for (const p of provinces) {
        const o = document.createElement('option');
        o.value = p.code;
        o.textContent = lang === 'zh' ? p.zh : p.en;
        sel.appendChild(o);
      }
      sel.value = '460000';
      fillCities();
    }
    if (!f.from.value) f.from.value = localDate(new Date());
    const ul = $('[data-testid=leaves]');
    ul.textContent = '';
    let ls;
    try { ls = await api('GET', 'leave'); } catch (e) { if (e instanceof TypeError) return; throw e; }
    const items = (ls && ls.items) || [];
    if (!items.length) {
      const li = document.createElement('li');
      li.textContent = t('no_leave');
      ul.appendChild(li);
    }
    for (const l of items) {
      const li = document.createElement('li');
      li.textContent = t('ls_' + l.effective_state) + ' · ' + l.from + ' — ' + l.to + ' · ' + (l.province_name || '') + ' ' + (l.destination_city || '');
      if ((l.actions || []).includes('report_return')) {
        const b = document.createElement('button');
        b.className = 'big';
        b.textContent = t('leave_return');
        b.addEventListener('click', async () => {
          try {
            await api('POST', 'leave/' + encodeURIComponent(l.id) + '/return', '{}', { signed: true });
            notice(t('leave_returned'));
            showLeave();
          } catch (e) { notice(e instanceof TypeError ? t('need_online') : t('error', { m: e.message }), true); }
        });
        li.appendChild(b);
      }
      ul.appendChild(li);
    }
  }
  function fillCities() {
    const f = $('#f-leave');
    const p = (provinces || []).find((x) => x.code === f.destination_province.value);
    const dl = $('#cities');
    dl.textContent = '';
    for (const c of (p && p.cities) || []) {
      const o = document.createElement('option');
      o.value = c.name;
      dl.appendChild(o);
    }
  }
  async function sendLeave(ev) {
    ev.preventDefault();
    const f = ev.target;
    const body = {
      id: await newID(), kind: f.kind.value, destination_province: f.destination_province.value,
      destination_city: f.destination_city.value.trim(), from: f.from.value, to: f.to.value, reason: f.reason.value.trim(),
    };
    if (body.kind === 'work_away') {
      body.employer = f.employer.value.trim();
      body.address = f.address.value.trim();
    }
    try {
      await api('POST', 'leave', JSON.stringify(body), { signed: true });
      f.reset();
      notice(t('leave_sent'));
      showLeave();
    } catch (e) {
      notice(e instanceof TypeError ? t('need_online') : t('error', { m: e.message }), true);
    }
  }

  // ---- settings ----
  async function showSettings() {
    $('[data-testid=device-id]').textContent = dev.id || '';
  }
  // weakPIN mirrors casework.WeakPIN: one digit six times or a run up or down.
  function weakPIN(pin) {
    let same = true, up = true, down = true;
    for (let i = 1; i < pin.length; i++) {
      const d = pin.charCodeAt(i) - pin.charCodeAt(i - 1);
      same = same && d === 0;
      up = up && d === 1;
      down = down && d === -1;
    }
    return same || up || down;
  }
  // changePIN sends the old PIN and the new one twice, signed; the server
  // checks the old PIN and counts wrong tries.
  async function changePIN(ev) {
    ev.preventDefault();
    const f = ev.target;
    const old = f.old_pin.value, pin = f.new_pin.value, again = f.new_pin_again.value;
    if (!/^[0-9]{6}$/.test(old) || !/^[0-9]{6}$/.test(pin)) return notice(t('err_pin'), true);
    if (pin !== again) return notice(t('err_pin_same'), true);
    if (weakPIN(pin)) return notice(t('err_pin_weak'), true);
    if (pin === old) return notice(t('err_pin_old_same'), true);
    const btn = $('[data-testid=pin-change]');
    btn.disabled = true;
    try {
      await api('POST', 'pin', JSON.stringify({ old_pin: old, new_pin: pin, new_pin_again: again }), { signed: true });
      await keepPIN(pin);
      f.reset();
      notice(t('pin_changed'));
    } catch (e) {
      notice(e instanceof TypeError ? t('need_online') : t('error', { m: e.message }), true);
    } finally {
      btn.disabled = false;
    }
  }
  async function forget() {
    if (!confirm(t('forget_confirm'))) return;
    ['kf_token', 'kf_device', 'kf_name', 'kf_today', 'kf_pin', 'kf_pin_fail', 'kf_active'].forEach((k) => localStorage.removeItem(k));
    await idbClear('keys');
    showActivate('');
  }

  // ---- the PIN lock (issue 18 §3) ----
  // The app asks for the PIN when it opens after being closed or idle for
  // the policy's app.pin_idle_minutes (default 5), and before every
  // check-in when app.pin_each_checkin is on. Online the server checks it,
  // with the lockout of a PIN change (5 wrong, then 15 minutes). Offline
  // the app checks a salted PBKDF2-SHA-256 hash (200,000 iterations,
  // WebCrypto) it keeps after activation and each unlock, with its own
  // count of wrong tries: the person can still check in with no network.
  // A 6-digit PIN's local hash only slows down someone who copies the
  // phone's storage; the server's check and lockout are the real guard,
  // and every check-in is still signed by the device key.
  const PIN_ITER = 200000, LOCAL_TRIES = 5, LOCAL_LOCK = 15 * 60000;
  let locked = false;
  let afterUnlock = 'today';
  let pinFresh = false;
  function appPolicy() {
    const d = JSON.parse(localStorage.getItem('kf_today') || 'null');
    const a = (d && d.app) || {};
    return { idle: (a.pin_idle_minutes || 5) * 60000, each: !!a.pin_each_checkin };
  }
  function touch() {
    if (locked || !dev.token) return;
    // A tap after the idle time locks rather than counting as activity.
    if (current && current !== 'activate' && current !== 'lock' && localStorage.getItem('kf_active') && idleTooLong()) return lock(current);
    localStorage.setItem('kf_active', String(Date.now()));
  }
  function idleTooLong() {
    return Date.now() - Number(localStorage.getItem('kf_active') || 0) >= appPolicy().idle;
  }
  function lock(then) {
    locked = true;
    afterUnlock = then || 'today';
    show('lock');
    document.body.dataset.locked = '1';
    setTimeout(() => $('[data-testid=lock-pin]').focus(), 0);
  }
  function checkIdle() {
    if (dev.token && !locked && current !== 'activate' && idleTooLong()) lock(current || 'today');
  }
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  async function pinHash(pin, salt) {
    const k = await crypto.subtle.importKey('raw', enc.encode(pin), 'PBKDF2', false, ['deriveBits']);
    return b64(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PIN_ITER }, k, 256));
  }
  async function keepPIN(pin) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    localStorage.setItem('kf_pin', JSON.stringify({ salt: b64(salt), hash: await pinHash(pin, salt) }));
    localStorage.removeItem('kf_pin_fail');
  }
  // checkLocalPIN answers '' when the PIN matches the kept hash (or none is
  // kept yet), else the message to show.
  async function checkLocalPIN(pin) {
    const fail = JSON.parse(localStorage.getItem('kf_pin_fail') || '{"n":0,"until":0}');
    if (Date.now() < fail.until) return t('lock_locked_local', { n: Math.ceil((fail.until - Date.now()) / 60000) });
    const kept = JSON.parse(localStorage.getItem('kf_pin') || 'null');
    if (!kept || (await pinHash(pin, unb64(kept.salt))) === kept.hash) return '';
    fail.n = fail.until ? 1 : fail.n + 1;
    fail.until = 0;
    if (fail.n >= LOCAL_TRIES) fail.until = Date.now() + LOCAL_LOCK;
    localStorage.setItem('kf_pin_fail', JSON.stringify(fail));
    return fail.until ? t('lock_locked_local', { n: LOCAL_LOCK / 60000 }) : t('lock_wrong_local', { n: LOCAL_TRIES - fail.n });
  }
  async function unlock(ev) {
    ev.preventDefault();
    const f = ev.target;
    const pin = f.pin.value;
    if (!/^[0-9]{6}$/.test(pin)) return notice(t('err_pin'), true);
    const btn = $('[data-testid=lock-submit]');
    btn.disabled = true;
    let after = '';
    try {
      try {
        if (!navigator.onLine) throw new TypeError('offline');
        await api('POST', 'pin/verify', JSON.stringify({ pin }), { signed: true });
        await keepPIN(pin);
      } catch (e) {
        if (!(e instanceof TypeError)) {
          f.pin.value = '';
          return notice(e.message, true); // wrong PIN (tries left) or locked, from the server
        }
        const wrong = await checkLocalPIN(pin);
        if (wrong) {
          f.pin.value = '';
          return notice(wrong, true);
        }
        after = t(localStorage.getItem('kf_pin') ? 'lock_offline_ok' : 'lock_offline_none');
      }
      f.reset();
      locked = false;
      delete document.body.dataset.locked;
      localStorage.setItem('kf_active', String(Date.now()));
      pinFresh = afterUnlock === 'checkin';
      show(afterUnlock);
      if (after) notice(after);
    } catch (e) {
      notice(t('error', { m: e.message }), true);
    } finally {
      btn.disabled = false;
    }
  }

  // ---- start ----
  function route() {
    if (locked) return;
    const m = /^#activate=([A-Za-z0-9 -]+)$/.exec(location.hash);
    if (m) return showActivate(decodeURIComponent(m[1]));
    if (!dev.token) return showActivate('');
    const name = location.hash.replace('#', '');
    const to = ['today', 'checkin', 'records', 'leave', 'settings', 'help', 'points'].includes(name) ? name : 'today';
    if (idleTooLong()) return lock(to);
    show(to);
  }

  // sendLang tells the server the app's language; offline it waits in
  // kf_lang_unsent for the next flush.
  async function sendLang() {
    const l = localStorage.getItem('kf_lang_unsent');
    if (!l || !dev.token || !navigator.onLine) return;
    try {
      await api('POST', 'lang', JSON.stringify({ lang: l }), { signed: true });
      if (localStorage.getItem('kf_lang_unsent') === l) localStorage.removeItem('kf_lang_unsent');
    } catch (e) { /* kept for the next try */ }
  }

  function start() {
    applyWords();
    $('#f-activate').addEventListener('submit', activate);
    $('#f-leave').addEventListener('submit', sendLeave);
    $('#f-leave').destination_province.addEventListener('change', fillCities);
    $('#f-leave').kind.addEventListener('change', (e) => { $('.work-away').hidden = e.target.value !== 'work_away'; });
    $('#take').addEventListener('click', takeCheckin);
    $('#points-code').addEventListener('click', () => showCode().catch((e) => notice(t('error', { m: e.message }), true)));
    $('#forget').addEventListener('click', forget);
    $('#f-pin').addEventListener('submit', changePIN);
    $('#f-lock').addEventListener('submit', unlock);
    ['pointerdown', 'keydown'].forEach((e) => document.addEventListener(e, touch, { passive: true }));
    document.addEventListener('visibilitychange', () => { if (document.hidden) touch(); else checkIdle(); });
    setInterval(checkIdle, 15000);
    $('#rec-prev').addEventListener('click', () => { recMonth = shiftMonth(recMonth, -1); showRecords(); });
    $('#rec-next').addEventListener('click', () => { recMonth = shiftMonth(recMonth, 1); showRecords(); });
    // The language switch: in settings, and on the activation and PIN
    // screens (before the tabs exist). The server is told, so its notices
    // to the person come in this language (issue 18 item 13).
    $$('[data-lang-toggle]').forEach((b) => b.addEventListener('click', () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('kf_lang', lang);
      provinces = null;
      $('#f-leave').destination_province.textContent = '';
      applyWords();
      show(current);
      if (dev.token) {
        localStorage.setItem('kf_lang_unsent', lang);
        sendLang();
      }
    }));
    $$('[data-go]').forEach((b) => b.addEventListener('click', () => {
      if (dev.token && !locked) show(b.dataset.go);
    }));
    window.addEventListener('hashchange', route);
    window.addEventListener('online', () => { showNet(); flush(); sendLang(); });
    window.addEventListener('offline', showNet);
    setInterval(() => { if (navigator.onLine) flush(); }, 30000);
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
    }
    route();
    flush(); // records left from an earlier start go out now
    document.body.dataset.ready = '1';
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
