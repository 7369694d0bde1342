// Every <time datetime> in the viewer's time zone, with the relative time and UTC on hover; re-applied to
// fragments htmx swaps in and parts the live run page redraws.
(function () {
  "use strict";
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  var relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        var n = Math.round(seconds / units[i][1]);
        return relative ? relative.format(n, units[i][0]) : Math.abs(n) + " " + units[i][0] + "s " + (n < 0 ? "ago" : "from now");
      }
    }
    return "";
  }
  function local(root) {
    (root || document).querySelectorAll("time[datetime]:not([data-local])").forEach(function (node) {
      var date = new Date(node.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      var utc = node.textContent;
      node.textContent = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
        pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
      node.title = ago(date) + " · " + utc;
      node.dataset.local = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { local(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { local(ev.target); });
  document.addEventListener("orchestra:updated", function (ev) { local(ev.target); }); // run_live.js redraws
  if (document.readyState !== "loading") local(document);
})();
