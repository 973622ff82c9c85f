// The console's face check (issue 17 item 4), on top of facecore.js (the
// same code, library and models as the person's app). The library (about
// 13 MB) loads only on a page that uses one of the two hooks below.
//
// 1. The recomputation hook, for a spot check's side-by-side look:
//      <div data-face-compare data-ref-src="URL of the reference photo"
//           data-selfie-src="URL of the selfie" data-phone-score="0.83"
//           data-post="URL"> … <span data-face-console-score></span> … </div>
//    The staff browser computes the similarity of the two photos itself,
//    shows it in [data-face-console-score] and POSTs it as the form field
//    console_score to data-post (same-origin, the session cookie; the
//    server's cross-origin protection needs no token), where the server
//    compares it with the phone's score (tampering flag). The element gets
//    data-face-state: working | done | no_face | unavailable, and
//    data-face-posted: ok | failed.
//
// 2. The reference helper, for the reference-photo page:
//      <input type="hidden" name="embedding" data-face-embed-source="#photo">
//    where #photo is an <input type="file">, <img>, <canvas> or <video>.
//    When a photo is chosen (file input change, img load, or the event
//    "kangfu:captured" dispatched on the source after a capture) the
//    embedding (base64 float32, little-endian) goes into the hidden field,
//    a hidden field name="models" in the same form gets the model version,
//    and an element [data-face-embed-status] in the form says in words what
//    happened. window.KangfuFaceConsole.embed(image) does the same for
//    page code of its own.
(function () {
  'use strict';

  const script = document.currentScript;
  const humanURL = script && script.dataset.human;
  const base = humanURL ? humanURL.slice(0, humanURL.lastIndexOf('/') + 1) : '';
  const en = document.documentElement.lang === 'en';
  const W = en ? {
    working: 'Computing the match in this browser…',
    score: 'Recomputed in this browser: {s}',
    no_face: 'No face found in one of the two photos; nothing to compare.',
    unavailable: 'This browser cannot run the face model; compare the photos by eye.',
    post_failed: 'The recomputed score could not be saved; reload the page to try again.',
    embed_working: 'Reading the face in the photo…',
    embed_ok: 'Face found: the photo can be saved as the reference.',
    embed_no_face: 'No face found in this photo: take another, facing the camera in good light.',
    embed_many: 'More than one face in this photo: take one with the person alone.',
    embed_unavailable: 'This browser cannot run the face model; the photo is saved without face features.',
  } : {
    working: '正在本浏览器中重新计算比对分数……',
    score: '本浏览器重新计算的分数：{s}',
    no_face: '两张照片中有一张没有找到人脸，无法比对。',
    unavailable: '本浏览器无法运行面部模型，请人工比对两张照片。',
    post_failed: '重新计算的分数没有保存成功，请刷新页面重试。',
    embed_working: '正在读取照片中的人脸……',
    embed_ok: '已找到人脸，可以保存为登记照片。',
    embed_no_face: '这张照片里没有找到人脸：请正对镜头、在光线好的地方重拍。',
    embed_many: '这张照片里不止一张人脸：请只拍本人。',
    embed_unavailable: '本浏览器无法运行面部模型，照片将不带面部特征保存。',
  };
  const say = (k, s) => W[k].replace('{s}', s === undefined ? '' : s);

  function ready() {
    if (!window.KangfuFace || !base) return Promise.reject(new Error('face check not loaded'));
    return window.KangfuFace.load(base);
  }

  // serial runs one model call at a time (several hooks on one page).
  let queue = Promise.resolve();
  function serial(fn) {
    const p = queue.then(fn);
    queue = p.catch(() => {});
    return p;
  }

  function image(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('cannot load ' + src));
      img.src = src;
    });
  }

  // embed returns { outcome: 'ok' | 'no_face' | 'many', embedding, models }
  // for one image; it rejects when the model cannot run.
  async function embed(img) {
    const h = await ready();
    const r = await serial(() => window.KangfuFace.analyse(h, img, null));
    if (r.outcome === 'no_face') return { outcome: 'no_face', models: r.models };
    if (h.result && h.result.face && h.result.face.length > 1) return { outcome: 'many', models: r.models };
    return { outcome: 'ok', embedding: r.embedding, models: r.models };
  }

  async function compare(el) {
    const out = el.querySelector('[data-face-console-score]') || el;
    el.dataset.faceState = 'working';
    out.textContent = say('working');
    let score;
    try {
      const h = await ready();
      const [ref, selfie] = await Promise.all([image(el.dataset.refSrc), image(el.dataset.selfieSrc)]);
      const a = await serial(() => window.KangfuFace.analyse(h, ref, null));
      const b = await serial(() => window.KangfuFace.analyse(h, selfie, null));
      if (!a.embedding || !b.embedding) {
        el.dataset.faceState = 'no_face';
        out.textContent = say('no_face');
        return;
      }
      score = window.KangfuFace.similarity(h, a.embedding, b.embedding);
    } catch (e) {
      el.dataset.faceState = 'unavailable';
      out.textContent = say('unavailable');
      return;
    }
    el.dataset.faceState = 'done';
    el.dataset.consoleScore = score.toFixed(2);
    out.textContent = say('score', score.toFixed(2));
    if (!el.dataset.post) return;
    try {
      const resp = await fetch(el.dataset.post, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true' },
        body: new URLSearchParams({ console_score: score.toFixed(4) }),
      });
      el.dataset.facePosted = resp.ok ? 'ok' : 'failed';
      el.dataset.facePostStatus = String(resp.status);
      if (!resp.ok) out.textContent += ' ' + say('post_failed');
    } catch (e) {
      el.dataset.facePosted = 'failed';
      out.textContent += ' ' + say('post_failed');
    }
  }

  function hookEmbed(field) {
    const src = document.querySelector(field.dataset.faceEmbedSource);
    if (!src || field.dataset.faceHooked) return;
    field.dataset.faceHooked = '1';
    const form = field.form || document;
    const status = form.querySelector('[data-face-embed-status]');
    const models = form.querySelector('input[name=models]');
    const tell = (state, key) => {
      field.dataset.faceState = state;
      if (status) status.textContent = say(key);
    };
    let run = 0;
    const from = async (img) => {
      const mine = ++run;
      field.value = '';
      tell('working', 'embed_working');
      try {
        const r = await embed(img);
        if (mine !== run) return;
        if (r.outcome === 'ok') {
          field.value = r.embedding;
          if (models) models.value = r.models;
          tell('ok', 'embed_ok');
        } else if (r.outcome === 'many') tell('many', 'embed_many');
        else tell('no_face', 'embed_no_face');
      } catch (e) {
        if (mine === run) tell('unavailable', 'embed_unavailable');
      }
    };
    if (src.tagName === 'INPUT' && src.type === 'file') {
      src.addEventListener('change', () => {
        const f = src.files && src.files[0];
        if (!f) return;
        const url = URL.createObjectURL(f);
        image(url).then((img) => from(img).finally(() => URL.revokeObjectURL(url)),
          () => { URL.revokeObjectURL(url); tell('no_face', 'embed_no_face'); });
      });
    } else {
      src.addEventListener('kangfu:captured', () => from(src));
      if (src.tagName === 'IMG') {
        src.addEventListener('load', () => from(src));
        if (src.complete && src.naturalWidth) from(src);
      }
    }
  }

  function start() {
    document.querySelectorAll('[data-face-compare]').forEach((el) => compare(el));
    document.querySelectorAll('input[data-face-embed-source]').forEach(hookEmbed);
  }
  window.KangfuFaceConsole = { embed, compare, ready, hookEmbed };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  // Pages that swap in content with htmx get their hooks too.
  document.addEventListener('htmx:afterSettle', (ev) => {
    const root = ev.target || document;
    root.querySelectorAll('[data-face-compare]:not([data-face-state])').forEach((el) => compare(el));
    root.querySelectorAll('input[data-face-embed-source]:not([data-face-hooked])').forEach(hookEmbed);
  });
})();
