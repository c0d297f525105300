/* Application forms: a live field check (htmx) swaps in the field's error line; the controls it describes follow
   it: the red border and aria-invalid go as soon as the field is right, and come with an error (on the control
   just changed, unless one is marked already). One listener on the document. Without JavaScript the whole page
   comes back with the errors marked. Loaded twice, it runs once. */
(function () {
  'use strict';
  if (document.documentElement.hasAttribute('data-fields-ready')) { return; }
  document.documentElement.setAttribute('data-fields-ready', '');
  document.addEventListener('htmx:afterSwap', function (event) {
    var error = event.target;
    if (!error.classList || !error.classList.contains('field-error') || !error.id) { return; }
    var controls = document.querySelectorAll('[aria-describedby~="' + error.id + '"]');
    var wrong = error.textContent.trim() !== '';
    var marked = false;
    for (var i = 0; i < controls.length; i += 1) {
      if (!wrong) { controls[i].removeAttribute('aria-invalid'); }
      marked = marked || controls[i].getAttribute('aria-invalid') === 'true';
    }
    if (wrong && !marked && controls.length) {
      var asked = event.detail && event.detail.elt;
      (Array.prototype.indexOf.call(controls, asked) >= 0 ? asked : controls[0]).setAttribute('aria-invalid', 'true');
    }
  });
}());
