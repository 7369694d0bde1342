// The run page's step picker: steps ticked in the step list (or picked by clicking their row on the Gantt
// chart, whose labels point at the same checkboxes) are marked on both and counted on "Re-execute selected",
// which stays disabled until a step is picked. The form works without this file; it only shows the choice.
(function () {
  "use strict";
  function boxes() { return document.querySelectorAll('input[type=checkbox][form="reexecute-selected"]'); }
  function show() {
    var picked = 0;
    boxes().forEach(function (box) {
      if (box.checked) picked += 1;
      document.querySelectorAll('[data-step="' + CSS.escape(box.value) + '"]').forEach(function (el) {
        el.classList.toggle("picked", box.checked);
      });
    });
    var form = document.getElementById("reexecute-selected");
    if (!form) return;
    form.querySelector("[data-picked-count]").textContent = picked ? "(" + picked + ")" : "";
    form.querySelector("button").disabled = picked === 0;
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches('input[form="reexecute-selected"]')) show();
  });
  document.body.addEventListener("htmx:afterSettle", show);
  document.addEventListener("orchestra:updated", show); // the step list redrawn by run_live.js
  show();
})();
