// The launchpad's live parts, over /graphql: the run config (YAML text, which Dagster's RunConfigData takes,
// so the check parses it exactly as the launch will) and the op or asset selection are checked as you type
// with `isPipelineConfigValid`, each error shown at its path (from its stack of fields and list items);
// "Scaffold default config" fills the editor with `runConfigSchemaOrError { rootDefaultYaml }`. The form's
// first paint and Launch are server-rendered; this file only checks and fills. Data is set as text.
(function () {
  "use strict";
  var VALIDATE = "query LaunchpadCheck($pipeline: PipelineSelector!, $runConfigData: RunConfigData) {" +
    " isPipelineConfigValid(pipeline: $pipeline, runConfigData: $runConfigData, mode: \"default\") { __typename" +
    " ... on RunConfigValidationInvalid { errors { message reason stack { entries { __typename" +
    " ... on EvaluationStackPathEntry { fieldName } ... on EvaluationStackListItemEntry { listIndex }" +
    " ... on EvaluationStackMapKeyEntry { mapKey } ... on EvaluationStackMapValueEntry { mapKey } } } } }" +
    " ... on InvalidSubsetError { message } ... on PipelineNotFoundError { message } ... on PythonError { message } } }";
  var DEFAULTS = "query LaunchpadDefaults($selector: PipelineSelector!) {" +
    " runConfigSchemaOrError(selector: $selector, mode: \"default\") { __typename" +
    " ... on RunConfigSchema { rootDefaultYaml }" +
    " ... on InvalidSubsetError { message } ... on PipelineNotFoundError { message } ... on PythonError { message } } }";
  var DELAY = 400;

  function make(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    return node;
  }

  // Dagster's evaluation stack as a path: fields joined with ".", list items as [i], map entries as [key].
  function stackPath(entries) {
    var path = "";
    entries.forEach(function (entry) {
      if (entry.__typename === "EvaluationStackPathEntry") path += (path ? "." : "") + entry.fieldName;
      else if (entry.__typename === "EvaluationStackListItemEntry") path += "[" + entry.listIndex + "]";
      else path += "[" + JSON.stringify(entry.mapKey) + "]";
    });
    return path || "(root)";
  }

  // The line of the YAML text where an error's path is written (block style, as the scaffold writes it):
  // each field searched below the line of the one before, within its block; the deepest found, or -1.
  function lineOf(text, entries) {
    var lines = text.split("\n"), from = 0, indent = -1, found = -1;
    for (var i = 0; i < entries.length && entries[i].__typename === "EvaluationStackPathEntry"; i++) {
      var hit = -1;
      for (var n = from; n < lines.length; n++) {
        var m = /^(\s*)(?:-\s+)?(["']?)([^"':#]+?)\2\s*:(\s|$)/.exec(lines[n]);
        if (!m) continue;
        if (m[1].length <= indent) break;  // back out of the block of the field before
        if (m[3] === entries[i].fieldName) { hit = n; indent = m[1].length; break; }
      }
      if (hit < 0) break;
      found = hit;
      from = hit + 1;
    }
    return found;
  }

  function start(form) {
    var box = form.querySelector("#config-check");
    var editor = form.querySelector("#run_config");
    var ops = form.querySelector("#op_selection");
    var url = form.dataset.graphql, timer = null, sent = 0, inflight = null;

    function selection() {
      var pipeline = { repositoryLocationName: form.dataset.location, repositoryName: form.dataset.repository,
                       pipelineName: form.dataset.job };
      var opNames = (ops ? ops.value : "").split(/[,\n]/).map(function (s) { return s.trim(); })
        .filter(function (s) { return s; });
      var assets = Array.prototype.map.call(form.querySelectorAll("input[name=asset_selection]:checked"),
                                            function (input) { return input.value; });
      if (opNames.length) pipeline.solidSelection = opNames;
      if (assets.length) pipeline.assetSelection = assets.map(function (key) { return { path: key.split("/") }; });
      return { pipeline: pipeline, ops: opNames, assets: assets };
    }

    function show(nodes) {
      var fresh = make("div", null, { id: "config-check", "aria-live": "polite" });
      nodes.forEach(function (node) { fresh.appendChild(node); });
      box.replaceWith(fresh);
      box = fresh;
    }

    function problem(message, errors) {
      var div = make("div", null, { class: "error", role: "alert" });
      div.appendChild(make("p", message));
      if (errors && errors.length) {
        var list = make("ul", null, { class: "config-errors" });
        errors.forEach(function (error) {
          var item = make("li");
          item.appendChild(make("code", stackPath(error.stack.entries)));
          var line = lineOf(editor.value, error.stack.entries);
          if (line >= 0) {  // a button that selects the line in the editor
            var jump = make("button", "line " + (line + 1), { type: "button", class: "config-error-line" });
            jump.addEventListener("click", function () { selectLine(line); });
            item.appendChild(document.createTextNode(" "));
            item.appendChild(jump);
          }
          item.appendChild(document.createTextNode(" " + error.message + " "));
          item.appendChild(make("small", error.reason));
          list.appendChild(item);
        });
        div.appendChild(list);
      }
      show([div]);
    }

    function selectLine(line) {
      var lines = editor.value.split("\n"), start = 0;
      for (var n = 0; n < line; n++) start += lines[n].length + 1;
      editor.focus();
      editor.setSelectionRange(start, start + (lines[line] || "").length);
    }

    function check() {
      var picked = selection(), mine = ++sent;
      if (inflight) inflight.abort();
      inflight = window.AbortController ? new AbortController() : null;
      form.dataset.checking = "true";
      window.orchestraGraphQL(url, VALIDATE, { pipeline: picked.pipeline, runConfigData: editor.value },
                              { signal: inflight && inflight.signal })
        .then(function (data) {
          if (mine !== sent) return;  // a newer check is on its way
          var result = data.isPipelineConfigValid;
          if (result.__typename === "PipelineConfigValidationValid") {
            var what = "✓ Run config is valid" + (picked.ops.length ? " for ops " + picked.ops.join(", ") : "") +
              (picked.assets.length ? " for assets " + picked.assets.join(", ") : "") + ".";
            show([make("p", what, { class: "ok" })]);
          } else if (result.__typename === "RunConfigValidationInvalid") {
            problem("run config is invalid", result.errors);
          } else {
            problem(result.message);
          }
        })
        .catch(function (error) {
          if (mine === sent && error.name !== "AbortError") problem(error.message);
        })
        .finally(function () { if (mine === sent) delete form.dataset.checking; });
    }

    function soon() { clearTimeout(timer); timer = setTimeout(check, DELAY); }
    editor.addEventListener("input", soon);
    if (ops) ops.addEventListener("input", soon);
    form.addEventListener("change", function (ev) {
      if (ev.target.name === "asset_selection") soon();
    });

    var scaffold = form.querySelector("[data-scaffold]");
    if (scaffold) {
      scaffold.closest("[hidden]") && scaffold.closest("[hidden]").removeAttribute("hidden");  // needs this file
      scaffold.addEventListener("click", function () {
        scaffold.disabled = true;
        window.orchestraGraphQL(url, DEFAULTS, { selector: selection().pipeline })
          .then(function (data) {
            var result = data.runConfigSchemaOrError;
            if (result.__typename !== "RunConfigSchema") { problem(result.message); return; }
            var text = result.rootDefaultYaml.trim() === "{}" ? "" : result.rootDefaultYaml;
            if (editor.value.trim() && editor.value !== text &&
                !window.confirm("Replace the run config in the editor with the job's default config?")) return;
            editor.value = text;
            check();
          })
          .catch(function (error) { problem(error.message); })
          .finally(function () { scaffold.disabled = false; });
      });
    }
  }

  function init() { document.querySelectorAll("form.launchpad[data-graphql]").forEach(start); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
