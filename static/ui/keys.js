// Keyboard shortcuts, listed in the "?" overlay (templates/ui/base.html):
//   /  search · ?  this help · g then o/r/j/a/l/u/d  go to a page of the header (its data-key)
//   j / k  move the highlighted row of the page's list · Enter or o  open it · Escape  close / clear
// Keys typed into a field, an editor or with a modifier are never taken.
(function () {
  "use strict";
  var pendingG = false;

  function typing(target) {
    var el = target || document.activeElement;
    return !!el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable);
  }

  // The page's list: an element marked data-kbd-list (its [data-kbd-row] children, or its table rows),
  // else the first table.grid in main; rows without a link are skipped.
  function rows() {
    var list = document.querySelector("main [data-kbd-list]") || document.querySelector("main table.grid");
    if (!list) return [];
    var found = list.querySelectorAll("[data-kbd-row]");
    if (!found.length) found = list.querySelectorAll("tbody > tr");
    return Array.prototype.filter.call(found, function (row) { return row.querySelector("a[href]"); });
  }

  function move(delta) {
    var all = rows();
    if (!all.length) return false;
    var at = all.findIndex(function (row) { return row.classList.contains("kbd-current"); });
    var next = at < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, at + delta));
    if (at >= 0) all[at].classList.remove("kbd-current");
    all[next].classList.add("kbd-current");
    all[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function openCurrent() {
    var row = document.querySelector(".kbd-current");
    var link = row && row.querySelector("a[href]");
    if (link) { link.click(); return true; }
    return false;
  }

  function help(show) {
    var box = document.getElementById("kbd-help");
    if (!box) return;
    box.hidden = !show;
    if (show) box.querySelector("[data-close]").focus();
  }

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-kbd-help]")) help(true);
    else if (ev.target.closest("#kbd-help [data-close]") || ev.target.id === "kbd-help") help(false);
  });

  document.addEventListener("keydown", function (ev) {
    var box = document.getElementById("global-search");
    var helpBox = document.getElementById("kbd-help");
    if (ev.key === "Escape") {
      if (helpBox && !helpBox.hidden) { help(false); return; }
      if (box && document.activeElement === box) { document.getElementById("search-results").innerHTML = ""; box.blur(); }
      pendingG = false;
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target) || ev.defaultPrevented) { pendingG = false; return; }
    if (helpBox && !helpBox.hidden) return;
    if (pendingG) {
      pendingG = false;
      // Only a letter goes into the selector: a quote or backslash would make it throw.
      var target = /^[a-z]$/.test(ev.key) && document.querySelector('header nav a[data-key="' + ev.key + '"]');
      if (target) { ev.preventDefault(); window.location.href = target.href; }
      return;
    }
    var focusedControl = /^(A|BUTTON|SUMMARY)$/.test(document.activeElement.tagName) ||
      (document.activeElement.getAttribute && document.activeElement.hasAttribute("tabindex") && document.activeElement !== document.body);
    if (ev.key === "/" && box) { ev.preventDefault(); box.focus(); box.select(); }
    else if (ev.key === "?") { ev.preventDefault(); help(true); }
    else if (ev.key === "g") pendingG = true;
    else if (ev.key === "j") { if (move(1)) ev.preventDefault(); }
    else if (ev.key === "k") { if (move(-1)) ev.preventDefault(); }
    else if ((ev.key === "Enter" && !focusedControl) || ev.key === "o") { if (openCurrent()) ev.preventDefault(); }
  });
})();
