/* Photos of papers from a phone: each chosen photo goes up on its own request, one after another (kind to a
   slow link), with a progress bar, a preview and a retry button; the server's answer (the paper's part of the
   checklist, or why the photo was refused) is swapped in by htmx. Large photos are scaled to 2048 px on the
   phone first, when the browser can, so a 4 MB photo does not take minutes on a weak signal.
   Without this script the same forms post all chosen photos at once and come back to the checklist.
   XMLHttpRequest, not fetch(): it reports upload progress, and older WeChat webviews have it.
   The same forms serve an application's checklist and a request's proofs; the words shown come from the
   nearest list carrying data-msg-* attributes. Loaded twice (a page and a partial both asking), it runs once. */
(function () {
  'use strict';
  if (document.documentElement.hasAttribute('data-upload-ready')) { return; }
  document.documentElement.setAttribute('data-upload-ready', '');
  document.documentElement.className += ' js';

  var MAX_SIDE = 2048;  // what the server keeps (services/papers/photos.py, Limits.max_long_side)
  var SHRINK_OVER = 1536 * 1024;
  var queue = [];
  var busy = false;

  function words(form) {  // read when the photo is chosen: a swap may take the form out of the page later
    var list = form.closest('[data-msg-sending]') || document.getElementById('checklist');
    return list ? list.dataset : {};
  }

  function row(progressList, file, texts) {
    var li = document.createElement('li');
    li.className = 'up';
    li.setAttribute('data-testid', 'upload-row');
    var img = document.createElement('img');
    img.alt = '';
    img.className = 'mini';
    if (window.URL && URL.createObjectURL) {
      img.src = URL.createObjectURL(file);
      img.onerror = function () { img.remove(); };
      img.onload = function () { URL.revokeObjectURL(img.src); };
    }
    var name = document.createElement('span');
    name.className = 'fname';
    name.textContent = file.name || '';
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('data-testid', 'upload-bar');
    bar.setAttribute('aria-label', file.name || '');
    var note = document.createElement('span');
    note.className = 'unote';
    note.setAttribute('data-testid', 'upload-note');
    note.textContent = texts.msgPreparing || '';
    li.appendChild(img);
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(note);
    progressList.appendChild(li);
    return { li: li, bar: bar, note: note };
  }

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < SHRINK_OVER) {
        resolve(file);
        return;
      }
      createImageBitmap(file, { imageOrientation: 'from-image' }).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement('canvas');
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        if (bitmap.close) { bitmap.close(); }
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size ? blob : file);
        }, 'image/jpeg', 0.9);
      }).catch(function () { resolve(file); });
    });
  }

  function send(job) {
    busy = true;
    job.ui.note.textContent = job.words.msgPreparing || '';
    shrink(job.file).then(function (body) {
      var data = new FormData();
      data.append('csrf_token', job.csrf);
      if (job.replaces) { data.append('replaces', job.replaces); }
      data.append('photos', body, job.file.name || 'photo.jpg');
      var xhr = new XMLHttpRequest();
      xhr.open('POST', job.action);
      xhr.setRequestHeader('HX-Request', 'true');
      xhr.setRequestHeader('X-CSRFToken', job.csrf);
      xhr.timeout = 10 * 60 * 1000;
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { job.ui.bar.value = Math.round(e.loaded * 100 / e.total); }
      };
      xhr.onload = function () { done(job, xhr); };
      xhr.onerror = xhr.ontimeout = function () { failed(job, null); };
      job.ui.note.textContent = job.words.msgSending || '';
      xhr.send(data);
    });
  }

  function done(job, xhr) {
    var target = document.getElementById(job.target);
    var away = xhr.getResponseHeader('HX-Redirect');
    if (away && away.charAt(0) === '/' && away.charAt(1) !== '/') {  // signed out meanwhile: sign in, then come back
      window.location.href = away;
      return;
    }
    if (xhr.status === 200 && target) {
      job.ui.bar.value = 100;
      job.ui.note.textContent = job.words.msgDone || '';
      job.ui.li.className = 'up ok';
      htmx.swap(target, xhr.responseText, { swapStyle: 'outerHTML' });
      setTimeout(function () { job.ui.li.remove(); }, 4000);
    } else if (xhr.status >= 400 && xhr.status < 500) {
      var holder = document.createElement('div');
      holder.innerHTML = xhr.responseText;  // our own server-rendered, escaped fragment
      job.ui.bar.remove();
      job.ui.li.className = 'up refused';
      job.ui.note.textContent = holder.textContent.trim();
      job.ui.note.setAttribute('role', 'alert');
      job.ui.li.setAttribute('data-testid', 'upload-refused-row');
    } else {
      failed(job, xhr);
    }
    next();
  }

  function failed(job) {
    job.ui.li.className = 'up failed';
    job.ui.note.textContent = job.words.msgFailed || '';
    var retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'link';
    retry.textContent = job.words.msgRetry || 'Retry';
    retry.setAttribute('data-testid', 'upload-retry');
    retry.onclick = function () {
      retry.remove();
      job.ui.li.className = 'up';
      job.ui.bar.value = 0;
      queue.push(job);
      if (!busy) { next(); }
    };
    job.ui.note.appendChild(document.createTextNode(' '));
    job.ui.note.appendChild(retry);
    next();
  }

  function next() {
    busy = false;
    var job = queue.shift();
    if (job) { send(job); }
  }

  document.addEventListener('change', function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('form[data-upload] input[type=file]') || !input.files.length) { return; }
    var form = input.form;
    var doc = form.closest('.doc');
    var body = form.closest('[data-testid=document]');
    var replaces = form.querySelector('input[name=replaces]');
    Array.prototype.forEach.call(input.files, function (file) {
      var job = {
        file: file, action: form.action, target: body.id, words: words(form),
        csrf: form.querySelector('input[name=csrf_token]').value,
        replaces: replaces ? replaces.value : ''
      };
      job.ui = row(doc.querySelector('.progress'), file, job.words);
      queue.push(job);
    });
    input.value = '';
    if (!busy) { next(); }
  });
})();
