// Keyboard: "/" focuses the global search (unless typing in a field); Escape closes its results.
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    var box = document.getElementById("global-search");
    if (!box) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      box.focus();
      box.select();
    } else if (ev.key === "Escape" && document.activeElement === box) {
      document.getElementById("search-results").innerHTML = "";
      box.blur();
    }
  });
})();
