// The staff page viewer: zoom and rotate a page photo. Without JavaScript the page shows at full size and scrolls.
(function () {
  "use strict";
  function init() {
    var tools = document.querySelector(".viewer-tools");
    var image = document.querySelector("[data-testid=viewer-image]");
    if (!tools || !image) { return; }
    var zoom = 1, turn = 0;
    function draw() {
      var sideways = turn % 180 !== 0;
      image.style.transform = "rotate(" + turn + "deg)";
      image.style.width = (zoom * 100) + "%";
      image.parentNode.classList.toggle("sideways", sideways);
      image.dataset.zoom = String(zoom);
      image.dataset.turn = String(((turn % 360) + 360) % 360);
    }
    tools.addEventListener("click", function (event) {
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
    tools.hidden = false;
    image.parentNode.classList.add("scripted");
    draw();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
