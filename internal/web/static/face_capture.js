// The reference photo from the worker's camera (issue 17 §1): on the
// identity-check page, a form marked data-face-capture gets a camera view
// (getUserMedia, the front camera when there is one); "take photo" draws the
// frame on the canvas, turns it into a JPEG and puts it in the form's file
// input #photo, as if it had been chosen — face.js then reads the face
// features from it into the hidden field "embedding". Without a camera (or
// permission) the page keeps the plain file upload.
(function () {
  'use strict';
  const en = document.documentElement.lang === 'en';
  const W = en ? {
    denied: 'The camera could not be opened (no camera, or permission refused): upload a photo instead.',
    taken: 'Photo taken. Check it below, then save.',
    live: 'Ask the person to face the camera in good light, alone, then take the photo.',
  } : {
    denied: '无法打开摄像头（没有摄像头或未允许使用）：请改为上传照片。',
    taken: '已拍照。请查看下方照片，然后保存。',
    live: '请当事人正对镜头、在光线好的地方单独入镜，然后拍照。',
  };

  function setup(form) {
    const start = form.querySelector('[data-face-start]');
    const box = form.querySelector('[data-face-camera]');
    const video = form.querySelector('[data-face-video]');
    const snap = form.querySelector('[data-face-snap]');
    const stop = form.querySelector('[data-face-stop]');
    const canvas = form.querySelector('[data-face-canvas]');
    const file = form.querySelector('#photo');
    const status = form.querySelector('[data-face-camera-status]');
    if (!start || !video || !canvas || !file) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof DataTransfer === 'undefined') return;
    start.hidden = false;
    let stream = null;
    const off = () => {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      box.hidden = true;
      start.hidden = false;
    };
    start.addEventListener('click', async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      } catch (e) {
        status.textContent = W.denied;
        return;
      }
      video.srcObject = stream;
      await video.play().catch(() => {});
      box.hidden = false;
      start.hidden = true;
      status.textContent = W.live;
    });
    stop.addEventListener('click', off);
    snap.addEventListener('click', () => {
      const w = video.videoWidth || 640, h = video.videoHeight || 480;
      canvas.width = w;
      canvas.height = h;
      canvas.getContext('2d').drawImage(video, 0, 0, w, h);
      canvas.hidden = false;
      canvas.toBlob((b) => {
        if (!b) return;
        const dt = new DataTransfer();
        dt.items.add(new File([b], 'reference.jpg', { type: 'image/jpeg' }));
        file.files = dt.files;
        file.dispatchEvent(new Event('change', { bubbles: true }));
        status.textContent = W.taken;
        off();
      }, 'image/jpeg', 0.92);
    });
  }

  const run = () => document.querySelectorAll('form[data-face-capture]').forEach(setup);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
  else run();
})();
