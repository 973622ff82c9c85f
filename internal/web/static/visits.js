// The visit field form's offline queue (issue 11 §2). A worker records a
// visit on a phone: on submit the form (text fields and photos) is put in
// IndexedDB first, then sent. Without network it waits and is sent when the
// phone is back online (the "online" event, every 15 s, and on every console
// page load). The record's id is a UUIDv7 made here, so a form sent twice
// is stored once. The send carries the console's session cookie and is a
// same-origin request (the server's cross-origin check passes it); if the
// session expired meanwhile the server redirects to sign-in: the record
// stays queued, the page asks the worker to sign in, and after signing in
// (which returns to this page) the queue is sent. A record the server
// refuses (a field error) is kept as "rejected" and can be put back into
// the form to be corrected. No inline script: the CSP forbids it.
"use strict";
(function () {
  var DB = "kangfu-console", STORE = "visits";
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  var T = {
    zh: {
      queued: "已保存在手机上，联网后自动发送（待发送 %d 条）",
      sending: "正在发送…",
      sent: "已发送到服务器",
      signin: "登录已过期：记录仍保存在手机上。请重新登录，登录后自动发送。",
      signin_link: "重新登录",
      rejected: "服务器未接受此记录：%s",
      restore: "放回表单修改",
      locating: "正在定位…",
      located: "已定位（精度约 %d 米）",
      no_location: "无法获取位置：%s（可手动填写地点）",
      none: "",
    },
    en: {
      queued: "Saved on this phone; it will be sent when online (%d waiting)",
      sending: "Sending…",
      sent: "Sent to the server",
      signin: "Your session has expired: the record is still on this phone. Sign in again and it will be sent.",
      signin_link: "Sign in again",
      rejected: "The server did not accept this record: %s",
      restore: "Put it back in the form",
      locating: "Locating…",
      located: "Located (about %d m)",
      no_location: "No location: %s (type the place instead)",
      none: "",
    },
  }[lang];
  function t(k, v) { return T[k].replace(/%[ds]/, v); }

  // uuidv7: 48-bit Unix milliseconds, version 7, variant 10, random rest.
  function uuidv7() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    var ms = Date.now();
    for (var i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (ok, fail) {
        var rq = indexedDB.open(DB, 1);
        rq.onupgradeneeded = function () { rq.result.createObjectStore(STORE, { keyPath: "id" }); };
        rq.onsuccess = function () { ok(rq.result); };
        rq.onerror = function () { fail(rq.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var x = d.transaction(STORE, mode), s = x.objectStore(STORE), out;
        var r = fn(s);
        if (r) r.onsuccess = function () { out = r.result; };
        x.oncomplete = function () { ok(out); };
        x.onerror = function () { fail(x.error); };
      });
    });
  }
  var put = function (item) { return tx("readwrite", function (s) { return s.put(item); }); };
  var del = function (id) { return tx("readwrite", function (s) { return s.delete(id); }); };
  var all = function () { return tx("readonly", function (s) { return s.getAll(); }); };

  var statusEl = document.querySelector("[data-visit-status]");
  function show(text, cls, extra) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = "visit-status " + (cls || "");
    if (extra) statusEl.appendChild(extra);
    document.body.dataset.visitStatus = cls || "";
  }
  function setQueueCount() {
    return all().then(function (items) {
      var n = items.filter(function (i) { return i.state === "queued"; }).length;
      document.body.dataset.queue = String(n);
      return items;
    });
  }

  // send posts one queued record; it answers "sent", "signin", "offline" or "rejected".
  function send(item) {
    var fd = new FormData();
    item.fields.forEach(function (f) { fd.append(f[0], f[1]); });
    (item.photos || []).forEach(function (p, i) { fd.append("photos", p, "photo" + (i + 1)); });
    return fetch(item.action, { method: "POST", body: fd, credentials: "same-origin", redirect: "manual",
      headers: { "X-Kangfu-Queue": "1", "Accept": "application/json" } }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401) return "signin";
      if (res.status === 200 || res.status === 201) return del(item.id).then(function () { return "sent"; });
      if (res.status >= 500) return "offline";
      return res.json().catch(function () { return {}; }).then(function (body) {
        item.state = "rejected";
        item.error = (body.error && body.error.message) || String(res.status);
        return put(item).then(function () { return "rejected"; });
      });
    }, function () { return "offline"; });
  }

  var flushing = false;
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    return all().then(function (items) {
      var queued = items.filter(function (i) { return i.state === "queued"; });
      var chain = Promise.resolve("none");
      queued.forEach(function (item) {
        chain = chain.then(function (prev) {
          if (prev === "signin" || prev === "offline") return prev;
          return send(item);
        });
      });
      return chain.then(function (last) {
        return setQueueCount().then(function (rest) {
          var waiting = rest.filter(function (i) { return i.state === "queued"; }).length;
          var rejected = rest.filter(function (i) { return i.state === "rejected"; });
          if (last === "signin") {
            var a = document.createElement("a");
            a.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
            a.textContent = " " + T.signin_link;
            a.setAttribute("data-testid", "visit-signin");
            show(T.signin, "signin", a);
          } else if (waiting > 0) {
            show(t("queued", waiting), "queued");
          } else if (rejected.length > 0) {
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = T.restore;
            b.addEventListener("click", function () { restore(rejected[0]); });
            show(t("rejected", rejected[0].error), "rejected", b);
          } else if (last === "sent") {
            show(T.sent, "sent");
          }
        });
      });
    }).then(function () { flushing = false; }, function (e) { flushing = false; throw e; });
  }

  var form = document.querySelector("form[data-visit-form]");
  function restore(item) {
    if (!form) { location.href = item.page; return; }
    item.fields.forEach(function (f) {
      var els = form.querySelectorAll("[name='" + f[0] + "']");
      for (var i = 0; i < els.length; i++) {
        if (els[i].dataset.filled) continue;
        if (els[i].type === "checkbox") els[i].checked = f[1] === els[i].value;
        else els[i].value = f[1];
        els[i].dataset.filled = "1";
        break;
      }
    });
    form.querySelectorAll("[data-filled]").forEach(function (e) { delete e.dataset.filled; });
    del(item.id).then(function () { show("", ""); setQueueCount(); });
  }

  if (form) {
    var idEl = form.querySelector("[name=id]");
    if (!idEl.value) idEl.value = uuidv7();
    // The time defaults to now on the phone's clock, in the phone's zone
    // (the server's default assumes the office's zone).
    var atEl = form.querySelector("[name=at]");
    if (!form.querySelector(".error")) {
      var now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
      atEl.value = now.toISOString().slice(0, 16);
    }
    var locStatus = form.querySelector("[data-loc-status]");
    var locate = function () {
      if (!navigator.geolocation) return;
      locStatus.textContent = T.locating;
      navigator.geolocation.getCurrentPosition(function (p) {
        form.querySelector("[name=lat]").value = p.coords.latitude.toFixed(6);
        form.querySelector("[name=lng]").value = p.coords.longitude.toFixed(6);
        form.querySelector("[name=accuracy]").value = Math.round(p.coords.accuracy);
        locStatus.textContent = t("located", Math.round(p.coords.accuracy));
        document.body.dataset.located = "1";
      }, function (e) { locStatus.textContent = t("no_location", e.message); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    };
    form.querySelector("[data-locate]").addEventListener("click", locate);
    var kindEl = form.querySelector("[name=kind]");
    kindEl.addEventListener("change", function () {
      form.querySelector("input[type=checkbox][name=face_to_face]").checked = kindEl.value === "home" || kindEl.value === "office";
      if (kindEl.value === "home") locate();
    });
    if (form.querySelector("[name=kind]").value === "home") locate();
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fields = [], photos = [];
      new FormData(form).forEach(function (v, k) {
        if (k === "photos") { if (v && v.size > 0) photos.push(v); } else fields.push([k, v]);
      });
      // The instant as the phone saw it, so the server needs no guess of the zone.
      var at = form.querySelector("[name=at]").value;
      if (at) {
        fields = fields.filter(function (f) { return f[0] !== "at"; });
        fields.push(["at", new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z")]);
      }
      var item = { id: idEl.value, action: form.action, page: location.pathname + location.search, fields: fields, photos: photos, state: "queued", saved: Date.now() };
      put(item).then(function () {
        form.reset();
        idEl.value = uuidv7();
        atEl.value = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
        return setQueueCount();
      }).then(function () {
        show(navigator.onLine ? T.sending : t("queued", document.body.dataset.queue), navigator.onLine ? "sending" : "queued");
        return flush();
      });
    });
  }
  window.addEventListener("online", function () { flush(); });
  setInterval(function () { if (navigator.onLine) flush(); }, 15000);
  if ("indexedDB" in window) {
    setQueueCount().then(function (items) { if (items.length) flush(); document.body.dataset.visitQueueReady = "1"; });
  }
})();
