// fgaesq annotate: keyboard choices (← → ↓) and synchronised 100 % zoom. No dependencies, no build.
(function () {
  "use strict";
  var form = document.getElementById("vote-form");
  if (!form) return;
  var KEYS = { ArrowLeft: "choose-left", ArrowRight: "choose-right", ArrowDown: "choose-tie" };
  var sent = false;

  form.addEventListener("submit", function (e) {
    if (sent) { e.preventDefault(); return; }   // one vote per page, whatever is pressed twice
    sent = true;
    document.body.classList.add("sending");
  });

  var panes = Array.prototype.slice.call(document.querySelectorAll(".pane"));
  var imgs = panes.map(function (p) { return p.querySelector("img"); });

  function zoomed() { return document.body.classList.contains("zoomed"); }

  function zoomTo(fx, fy) {
    var dpr = window.devicePixelRatio || 1;
    document.body.classList.add("zoomed");
    imgs.forEach(function (img) {                // 1 image pixel = 1 screen pixel
      img.style.width = (img.naturalWidth / dpr) + "px";
      img.style.height = (img.naturalHeight / dpr) + "px";
    });
    panes.forEach(function (p, i) {
      var img = imgs[i];
      panScroll.set(p, fx * img.clientWidth - p.clientWidth / 2, fy * img.clientHeight - p.clientHeight / 2);
    });
  }

  function unzoom() {
    document.body.classList.remove("zoomed");
    imgs.forEach(function (img) { img.style.width = ""; img.style.height = ""; });
  }

  imgs.forEach(function (img) {
    img.addEventListener("click", function (e) {
      if (zoomed()) { unzoom(); return; }
      zoomTo(e.offsetX / img.clientWidth, e.offsetY / img.clientHeight);
    });
  });

  panes.forEach(function (p, i) {                // keep both panes on the same spot while zoomed
    p.addEventListener("scroll", function () {
      if (panScroll.own(p) || !zoomed()) return;
      var o = panes[1 - i];
      var fx = (p.scrollLeft + p.clientWidth / 2) / Math.max(1, imgs[i].clientWidth);
      var fy = (p.scrollTop + p.clientHeight / 2) / Math.max(1, imgs[i].clientHeight);
      panScroll.set(o, fx * imgs[1 - i].clientWidth - o.clientWidth / 2, fy * imgs[1 - i].clientHeight - o.clientHeight / 2);
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key === "Escape") { unzoom(); return; }
    var id = KEYS[e.key];
    if (!id) return;
    e.preventDefault();
    if (e.repeat || sent) return;
    var button = document.getElementById(id);
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  });
})();
