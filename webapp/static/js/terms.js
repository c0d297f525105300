/* "What does this mean?" tips next to insurance terms (templates/_terms.html): a tap opens or closes the plain
   meaning and keeps aria-expanded true to what is shown. One listener on the document, so tips swapped in by
   htmx work without setup. Loaded twice, it runs once. */
(function () {
  'use strict';
  if (document.documentElement.hasAttribute('data-terms-ready')) { return; }
  document.documentElement.setAttribute('data-terms-ready', '');
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button[data-tip]');
    if (!button) { return; }
    var meaning = button.nextElementSibling;
    var open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    meaning.hidden = !open;
  });
}());
