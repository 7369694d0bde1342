// The run page's event log filters: by type, step, minimum level and text, applied to the rows on the page
// and to rows that arrive live (run_live.js keeps at most 2,000 of them); kept in the query string so a filtered view can be linked. "Jump to first
// error" scrolls to the first ERROR/CRITICAL row.
(function () {
  "use strict";
  var LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };
  var form = document.getElementById("event-filters");
  var rows = document.getElementById("event-rows");
  if (!form || !rows) return;
  var fields = ["ev_type", "ev_step", "ev_level", "ev_q"];
  var params = new URLSearchParams(window.location.search);
  fields.forEach(function (name) { if (params.has(name)) form.elements[name].value = params.get(name); });

  function apply() {
    var type = form.elements.ev_type.value.trim().toUpperCase();
    var step = form.elements.ev_step.value.trim();
    var level = LEVELS[form.elements.ev_level.value] || 0;
    var text = form.elements.ev_q.value.trim().toLowerCase();
    var shown = 0, total = 0;
    rows.querySelectorAll(".event").forEach(function (row) {
      total += 1;
      var ok = (!type || row.dataset.type === type) && (!step || row.dataset.step === step)
        && (LEVELS[row.dataset.level] || 0) >= level
        && (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    var filtering = type || step || level || text;
    document.getElementById("event-count").textContent = filtering ? shown + " of " + total + " events" : "";
  }
  function remember() {
    var query = new URLSearchParams(window.location.search);
    fields.forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) query.set(name, value); else query.delete(name);
    });
    var qs = query.toString();
    history.replaceState(null, "", window.location.pathname + (qs ? "?" + qs : "") + window.location.hash);
  }
  form.addEventListener("input", function () { apply(); remember(); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  // Rows that arrive live (static/ui/run_live.js) or a page loaded back (htmx) are filtered as they come.
  document.addEventListener("orchestra:rows", apply);
  document.body.addEventListener("htmx:afterSettle", apply);
  document.getElementById("first-error").addEventListener("click", function () {
    var first = rows.querySelector(".event.lvl-error, .event.lvl-critical");
    if (first) {
      first.hidden = false;
      first.scrollIntoView({ block: "center" });
      first.classList.add("flash");
      setTimeout(function () { first.classList.remove("flash"); }, 1500);
    } else {
      document.getElementById("event-count").textContent = document.querySelector("a#event-earlier")
        ? "No error in the events shown; load earlier events to look further back."
        : "No error in the events loaded so far.";
    }
  });
  apply();
})();
