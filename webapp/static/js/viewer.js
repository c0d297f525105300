// The staff page viewer: zoom and rotate a page photo; on a laptop, keys for the decision bar (A accept,
// U unreadable, R not accepted, ← → the pages before and after). Without JavaScript the page shows at full size
// and scrolls, and the bar's buttons work as plain forms.
(function () {
  "use strict";
  function tools() {
    var bar = document.querySelector(".viewer-tools");
    var image = document.querySelector("[data-testid=viewer-image]");
    if (!bar || !image) { return; }
    var zoom = 1, turn = 0;
    function draw() {
      var sideways = turn % 180 !== 0;
      image.style.transform = "rotate(" + turn + "deg)";
      image.style.width = (zoom * 100) + "%";
      image.parentNode.classList.toggle("sideways", sideways);
      image.dataset.zoom = String(zoom);
      image.dataset.turn = String(((turn % 360) + 360) % 360);
    }
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-view]");
      if (!button) { return; }
      var view = button.dataset.view;
      if (view === "zoom-in") { zoom = Math.min(zoom * 1.5, 6); }
      if (view === "zoom-out") { zoom = Math.max(zoom / 1.5, 0.5); }
      if (view === "fit") { zoom = 1; turn = 0; }
      if (view === "rotate-left") { turn -= 90; }
      if (view === "rotate-right") { turn += 90; }
      draw();
    });
    bar.hidden = false;
    image.parentNode.classList.add("scripted");
    draw();
  }

  function find(testid) { return document.querySelector("[data-testid=" + testid + "]"); }

  function press(testid) {
    var button = find(testid);
    if (button && !button.disabled) { button.click(); }
  }

  function typing(target) {
    return target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName);
  }

  function keys() {
    var hint = find("viewer-keys");
    if (hint && window.matchMedia("(hover: hover) and (pointer: fine)").matches) {
      hint.hidden = false;
      hint.parentNode.classList.add("keys-on");
    }
    var reason = find("decide-reason");
    var note = find("decide-note");
    if (note && reason) {
      // Enter in the note: with a reason chosen it means "not accepted", not the form's first button (unreadable).
      note.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && reason.value) { event.preventDefault(); press("decide-reject"); }
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (typing(event.target)) {
        if (event.key === "Escape") { event.target.blur(); }
        return;
      }
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (/^Arrow/.test(key) && event.target.closest(".viewer-stage")) { return; }  // scrolling a zoomed page
      if (key === "a") { press("decide-accept"); }
      else if (key === "u") { press("decide-unreadable"); }
      else if (key === "r" && reason) {
        if (reason.value) { press("decide-reject"); } else { reason.focus(); }
      }
      else if (key === "ArrowLeft" && find("viewer-prev")) { window.location.assign(find("viewer-prev").href); }
      else if (key === "ArrowRight" && find("viewer-next")) { window.location.assign(find("viewer-next").href); }
      else { return; }
      event.preventDefault();
    });
  }

  function init() { tools(); keys(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
