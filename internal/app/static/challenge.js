// challenge.js: the in-app timed check-in (人机分离, issue 17 §4). The
// server words the challenge in the person's language in today's
// "spot_challenge" (GET /api/v1/app/today, which app.js keeps in
// localStorage as kf_today); this file only shows it on the today screen,
// apart from app.js. Not answering is never a violation by itself (R32).
(function () {
  'use strict';
  function render() {
    const box = document.querySelector('[data-testid=today-challenge]');
    if (!box) return;
    let d = null;
    try { d = JSON.parse(localStorage.getItem('kf_today') || 'null'); } catch (e) { d = null; }
    const c = d && d.spot_challenge;
    if (!c || !c.text) {
      box.hidden = true;
      box.textContent = '';
      return;
    }
    const open = c.open && Date.parse(c.deadline) >= Date.now();
    box.hidden = false;
    box.classList.toggle('notice', !!open);
    box.textContent = c.text;
    const go = document.querySelector('[data-testid=go-checkin]');
    if (go && open) go.classList.add('primary');
  }
  document.addEventListener('DOMContentLoaded', render);
  document.addEventListener('visibilitychange', render);
  window.addEventListener('storage', render);
  setInterval(render, 2000);
})();
