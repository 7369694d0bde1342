// The run page, live. The server renders the page once; this file then follows the run through the same
// /graphql schema external clients use: every 500 ms while the run goes on, one POST asks `runOrError`
// (status, times, `stepStats`), `logsForRun` after the last cursor, and `capturedLogs` of the open step log.
// It redraws only what changed — new event rows, the status, the steps and Gantt chart when their stats
// differ, new captures, the tail of the log — with the markup and classes the server renders, built with
// createElement/textContent only: data is never parsed as HTML, with one exception. Markdown metadata is shown
// from `mdHtml` (Orchestra's extension of MarkdownMetadataEntry), the HTML the server's core.markdown made and
// sanitized with nh3's allow-list (no script, style, iframe, event handler or javascript: URL survives it), the
// very HTML the server-rendered page inserts. Metadata links and tables are built as runs.metadata_display renders
// them, links to runs, assets and jobs from the server's own addresses (`cfg.links`).
// Requests go through static/ui/gql.js, the UI's GraphQL client.
// Paging back ("Load earlier events") stays the server's fragment: Dagster's logsForRun pages forward only.
(function () {
  "use strict";
  var node = document.getElementById("run-live");
  if (!node || !window.fetch || !window.orchestraGraphQL) return;
  var cfg = JSON.parse(node.textContent);
  var rows = document.getElementById("event-rows");
  if (!rows) return;

  var POLL_MS = 500, LIMIT = 500, LOG_LIMIT = 65536, MIN_WIDTH = 0.4, MAX_DELAY_MS = 10000;
  var GROW_MAX = 200; // up to this many steps, running bars grow with every poll (a bigger chart waits for events)
  var FINISHED = { SUCCESS: true, FAILURE: true, CANCELED: true };
  var STEP_TYPES = { STEP_START: 1, STEP_SUCCESS: 1, STEP_FAILURE: 1, STEP_SKIPPED: 1, STEP_UP_FOR_RETRY: 1, STEP_RESTARTED: 1 };
  // The GraphQL documents (constant text: the server caches each parsed document), sharing the event fragments.
  var FRAGMENTS = [
    "fragment LiveEvent on DagsterRunEvent { __typename",
    " ... on MessageEvent { message timestamp level stepKey eventType }",
    " ... on ErrorEvent { error { ...ErrorParts causes { ...ErrorParts } } }",
    " ... on DisplayableEvent { metadataEntries { __typename label ...MetadataValue } }",
    " ... on StepExpectationResultEvent { expectationResult { metadataEntries { __typename label ...MetadataValue } } }",
    " ... on LogsCapturedEvent { fileKey stepKeys }",
    "}",
    "fragment ErrorParts on PythonError { message className stack }",
    "fragment MetadataValue on MetadataEntry {",
    " ... on TextMetadataEntry { text } ... on UrlMetadataEntry { url } ... on MarkdownMetadataEntry { mdHtml }",
    " ... on PathMetadataEntry { path } ... on NotebookMetadataEntry { path } ... on JsonMetadataEntry { jsonString }",
    " ... on IntMetadataEntry { intRepr } ... on FloatMetadataEntry { floatRepr } ... on BoolMetadataEntry { boolValue }",
    " ... on TimestampMetadataEntry { timestamp } ... on PipelineRunMetadataEntry { runId }",
    " ... on AssetMetadataEntry { assetKey { path } } ... on JobMetadataEntry { jobName locationName }",
    " ... on PoolMetadataEntry { pool } ... on TableMetadataEntry { table { records schema { ...TableColumns } } }",
    " ... on TableSchemaMetadataEntry { schema { ...TableColumns } }",
    "}",
    "fragment TableColumns on TableSchema { columns { name type description } }"
  ];
  var QUERY = [
    "query RunLive($runId: ID!, $after: String, $limit: Int, $steps: Boolean!, $plan: Boolean!, $tail: Boolean!,",
    "  $logKey: [String!]!, $logCursor: String, $logLimit: Int) {",
    " runOrError(runId: $runId) { __typename ... on Run { status startTime endTime canTerminate",
    "  stepStats @include(if: $steps) { stepKey status startTime endTime attempts { startTime endTime }",
    "   markers { startTime endTime } } executionPlan @include(if: $plan) { steps { key } } } }",
    " logsForRun(runId: $runId, afterCursor: $after, limit: $limit) { __typename",
    "  ... on EventConnection { cursor hasMore events { ...LiveEvent } }",
    "  ... on PythonError { message } }",
    " capturedLogs(logKey: $logKey, cursor: $logCursor, limit: $logLimit) @include(if: $tail) { stdout stderr cursor }",
    "}"
  ].concat(FRAGMENTS).join("\n");
  // The event-log filter on a run bigger than the page: logsForRun's `eventFilter` (Orchestra's extension).
  var SEARCH = [
    "query RunEventSearch($runId: ID!, $after: String, $limit: Int, $filter: OrchestraEventLogFilter) {",
    " logsForRun(runId: $runId, afterCursor: $after, limit: $limit, eventFilter: $filter) { __typename",
    "  ... on EventConnection { cursor hasMore events { ...LiveEvent } }",
    "  ... on PythonError { message } }",
    "}"
  ].concat(FRAGMENTS).join("\n");

  var state = {
    cursor: cfg.cursor || null, hasMore: cfg.hasMore, finished: cfg.finished, status: null, needSteps: false,
    steps: null, stepsSig: null, log: cfg.log, failures: 0, timer: null, inFlight: false, started: 0, stopped: false
  };
  var maxRows = parseInt(rows.dataset.maxRows, 10) || 2000;
  var captured = {};
  document.querySelectorAll("#run-captures li[data-file-key]").forEach(function (li) { captured[li.dataset.fileKey] = true; });
  var morePoll = document.getElementById("event-poll"); // the no-JavaScript "More events…" link: loaded here
  if (morePoll && cfg.follow) morePoll.hidden = true;

  // ------------------------------------------------------------------------------------------ DOM
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function updated(target) {
    target.dispatchEvent(new CustomEvent("orchestra:updated", { bubbles: true }));
  }
  function iso(seconds) { return new Date(seconds * 1000).toISOString(); }
  function clock(seconds) { return seconds === null || seconds === undefined ? "—" : iso(seconds).substr(11, 8); }
  function whenNode(seconds) { // as `{{ value|when }}` renders it; static/ui/time.js localizes it
    var text = iso(seconds);
    return el("time", { datetime: text.replace("Z", "+00:00") }, text.substr(0, 10) + " " + text.substr(11, 8) + " UTC");
  }
  function truncate(text, n) { return text.length > n ? text.substr(0, n - 1) + "…" : text; }

  // ----------------------------------------------------------------------------------- event rows
  function headline(error) {
    var inner = error.causes && error.causes.length ? error.causes[error.causes.length - 1] : error;
    var lines = String(inner.message || "").split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    var cls = inner.className || "";
    if (!lines.length) return cls || "error";
    return !cls || lines[0].indexOf(cls) >= 0 ? lines[0] : cls + ": " + lines[0];
  }
  function errorNode(error) { // as ui/_error.html: the innermost cause as headline, then each error's stack
    var details = el("details", { "class": "error-info" });
    details.appendChild(el("summary", null, truncate(headline(error), 300)));
    [error].concat(error.causes || []).forEach(function (part, i) {
      if (i > 0) details.appendChild(el("p", { "class": "cause" }, "Caused by:"));
      details.appendChild(el("pre", { "class": "stack" }, (part.message || "") + "\n" + (part.stack || []).join("")));
    });
    return details;
  }
  function timestampText(seconds) { // as runs.metadata_display.timestamp_text
    var ms = Math.trunc(seconds * 1000);
    if (!(ms >= -62135596800000 && ms < 253402300800000)) return "timestamp out of range";
    return new Date(ms).toISOString();
  }
  var TABLE_ROWS = 100; // as runs.metadata_display.TABLE_ROWS
  var WEB_URL = /^https?:\/\//i;
  function quoted(part) { // as runs.metadata_display._quoted: Python's quote(part, safe="")
    if (part === "" || part === "." || part === ".." || part.indexOf("/") >= 0) return null;
    try {
      return encodeURIComponent(part).replace(/[!'()*]/g, function (c) { return "%" + c.charCodeAt(0).toString(16).toUpperCase(); });
    } catch (e) { return null; } // a lone surrogate
  }
  function pageLink(kind, text, values) { // as runs.metadata_display._page_link, from the server's link templates
    var paths = values.map(function (path) { return path.map(quoted); });
    if (paths.some(function (path) { return !path.length || path.indexOf(null) >= 0; })) return text;
    var parts = cfg.links[kind], href = parts[0];
    paths.forEach(function (path, i) { href += path.join("/") + parts[i + 1]; });
    return el("a", { href: href }, text);
  }
  function tableNode(headers, rows, more) { // as runs.metadata_display._table_html
    var box = el("div", { "class": "metadata-table" }), table = box.appendChild(el("table"));
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    headers.forEach(function (text) { head.appendChild(el("th", null, text)); });
    var body = table.appendChild(el("tbody"));
    rows.forEach(function (cells) {
      var tr = body.appendChild(el("tr"));
      cells.forEach(function (text) { tr.appendChild(el("td", null, text)); });
    });
    if (more) box.appendChild(el("p", { "class": "metadata-more" }, "… " + more + (more === 1 ? " more row" : " more rows")));
    return box;
  }
  function dataTable(table) { // as runs.metadata_display._table: the columns of the schema, else of the rows shown
    var shown = table.records.slice(0, TABLE_ROWS).map(function (record) { return JSON.parse(record); });
    var has = function (row, key) { return Object.prototype.hasOwnProperty.call(row, key); };
    var columns = table.schema.columns.map(function (column) { return column.name; });
    if (!columns.length) {
      var seen = Object.create(null); // no prototype: a "__proto__" column is a key like any other
      shown.forEach(function (row) {
        Object.keys(row).forEach(function (key) { if (!has(seen, key)) { seen[key] = true; columns.push(key); } });
      });
    }
    var cells = shown.map(function (row) {
      return columns.map(function (column) { return has(row, column) ? String(row[column]) : ""; });
    });
    return tableNode(columns, cells, table.records.length - shown.length);
  }
  function metadataValue(entry) { // as runs.metadata_display.entry_text shows the same GraphQL entry: text or a node
    switch (entry.__typename) {
      case "TextMetadataEntry": return entry.text;
      case "UrlMetadataEntry":
        return WEB_URL.test(entry.url) ? el("a", { href: entry.url, rel: "noopener noreferrer nofollow" }, entry.url) : entry.url;
      case "TableMetadataEntry": return dataTable(entry.table);
      case "TableSchemaMetadataEntry":
        return tableNode(["Column", "Type", "Description"], entry.schema.columns.map(function (column) {
          return [column.name, column.type, column.description || ""];
        }), 0);
      case "PathMetadataEntry": case "NotebookMetadataEntry": return entry.path;
      case "JsonMetadataEntry": return entry.jsonString;
      case "IntMetadataEntry": return entry.intRepr;
      case "FloatMetadataEntry": return entry.floatRepr;
      case "BoolMetadataEntry": return entry.boolValue ? "true" : "false";
      case "TimestampMetadataEntry": return timestampText(entry.timestamp);
      case "PipelineRunMetadataEntry": return pageLink("run", entry.runId, [[entry.runId]]);
      case "AssetMetadataEntry": return pageLink("asset", entry.assetKey.path.join("/"), [entry.assetKey.path]);
      case "JobMetadataEntry": return pageLink("job", entry.jobName, [[entry.locationName], [entry.jobName]]);
      case "PoolMetadataEntry": return entry.pool;
      default: return "null";
    }
  }
  function eventRow(event) { // as runs/templatetags/run_events.py renders a row
    var level = event.level || "INFO", type = event.eventType || "LOG", step = event.stepKey || "";
    var row = el("div", { "class": "event lvl-" + level.toLowerCase(), role: "row", "data-type": type,
      "data-step": step, "data-level": level });
    row.appendChild(el("span", null, event.timestamp ? iso(Number(event.timestamp) / 1000).substr(11, 12) : ""));
    row.appendChild(el("span", null, type));
    row.appendChild(el("span", null, step));
    row.appendChild(el("span", null, level));
    var msg = el("span", { "class": "msg" }, event.message || "");
    if (event.error) msg.appendChild(errorNode(event.error));
    var entries = event.metadataEntries || (event.expectationResult && event.expectationResult.metadataEntries);
    if (entries && entries.length) {
      var dl = el("dl", { "class": "metadata" });
      entries.forEach(function (entry) {
        dl.appendChild(el("dt", null, entry.label));
        if (entry.__typename === "MarkdownMetadataEntry") {
          // As core.markdown.markdown_block: HTML sanitized on the server by nh3's allow-list (see the top).
          var block = el("div", { "class": "markdown" });
          block.innerHTML = entry.mdHtml;
          dl.appendChild(el("dd")).appendChild(block);
        } else {
          var value = metadataValue(entry), dd = dl.appendChild(el("dd"));
          if (typeof value === "string") dd.textContent = value; else dd.appendChild(value);
        }
      });
      msg.appendChild(dl);
    }
    row.appendChild(msg);
    return row;
  }
  function appendEvents(events, after, cursor) {
    if (!events.length) return;
    var batch = document.createDocumentFragment();
    events.forEach(function (event, i) {
      var row = eventRow(event);
      // A live row's storage id is known for the last of its page (the cursor); the first knows the cursor before
      // it. Either bounds "Load earlier events" exactly when the rows above it leave the page.
      if (i === 0 && after) row.dataset.after = after;
      if (i === events.length - 1) row.id = "event-" + cursor;
      batch.appendChild(row);
      if (event.__typename === "LogsCapturedEvent" && event.fileKey) addCapture(event.fileKey, event.stepKeys || []);
    });
    rows.appendChild(batch);
    trim();
    document.dispatchEvent(new CustomEvent("orchestra:rows"));
  }
  // A long run keeps its newest rows only: the oldest leave the page and "Load earlier events" pages back to
  // them by event id, so the page never holds 50,000 rows.
  function trim() {
    var all = rows.children;
    if (all.length <= maxRows) return;
    while (all.length && (all.length > maxRows || !(all[0].id || all[0].dataset.after))) rows.removeChild(all[0]);
    if (!all.length) return;
    var before = all[0].id ? all[0].id.replace("event-", "") : String(Number(all[0].dataset.after) + 1);
    var earlier = document.getElementById("event-earlier");
    if (!earlier || !cfg.earlierUrl) return;
    var link = el("a", { id: "event-earlier", href: window.location.pathname + "?before=" + before,
      "hx-get": cfg.earlierUrl + "?before=" + before, "hx-swap": "outerHTML" }, "Load earlier events");
    earlier.replaceWith(link);
    if (window.htmx) window.htmx.process(link);
  }

  // ----------------------------------------------------------------------------------- the header
  function showStatus(run) {
    if (run.status !== state.status) {
      var box = document.getElementById("run-status");
      if (box) box.replaceChildren(el("span", { "class": "status status-" + run.status.toLowerCase() }, run.status));
      state.status = run.status;
    }
    [["run-started", run.startTime], ["run-ended", run.endTime]].forEach(function (pair) {
      var dd = document.getElementById(pair[0]);
      if (!dd) return;
      var shown = dd.querySelector("time") ? dd.querySelector("time").getAttribute("datetime") : null;
      var want = pair[1] === null || pair[1] === undefined ? null : iso(pair[1]).replace("Z", "+00:00");
      if (shown === want || (shown && want && Math.abs(Date.parse(shown) - Date.parse(want)) < 1)) return;
      dd.replaceChildren(want ? whenNode(pair[1]) : document.createTextNode("—"));
      updated(dd);
    });
    if (FINISHED[run.status]) {
      document.querySelectorAll("#run-actions [data-when]").forEach(function (form) {
        var when = form.dataset.when;
        form.hidden = when === "running" || (when === "failed" && run.status === "SUCCESS");
      });
    }
  }

  // ------------------------------------------------------------------------- steps and Gantt chart
  function stepView(stat) { // the selector's view of a step, as the server renders it
    var attempts = stat.attempts || [];
    var last = attempts.length ? attempts[attempts.length - 1] : null;
    var retrying = stat.status === "IN_PROGRESS" && last && last.endTime !== null && last.endTime !== undefined;
    return {
      key: stat.stepKey, status: retrying ? "UP_FOR_RETRY" : (stat.status || "NOT_STARTED"),
      start: stat.startTime, end: retrying ? last.endTime : stat.endTime, attempts: attempts.length
    };
  }
  function canPick() { return state.finished && !!document.getElementById("reexecute-selected"); }
  function plannedSteps(steps, plan) { // as runs/templatetags/run_gantt.with_planned_steps: never started
    var seen = {};
    steps.forEach(function (s) { seen[s.key] = true; seen[s.key.split("[")[0]] = true; });
    return plan.steps.filter(function (p) { return !seen[p.key]; }).map(function (p) {
      return { key: p.key, status: "NOT_STARTED", start: null, end: null, attempts: 0 };
    });
  }
  function renderSteps(steps, planned) { // as ui/_steps.html (`planned`: the steps the run never started)
    var box = document.getElementById("run-steps");
    if (!box) return;
    var pick = canPick(), picked = {};
    box.querySelectorAll('input[form="reexecute-selected"]:checked').forEach(function (b) { picked[b.value] = true; });
    var table = el("table", { "class": "grid steps" });
    var head = el("tr");
    if (pick) head.appendChild(el("th")).appendChild(el("span", { "class": "visually-hidden" }, "Pick"));
    ["Step", "Status", "Start", "End", "Attempts"].forEach(function (name) { head.appendChild(el("th", null, name)); });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    if (!steps.length) {
      body.appendChild(el("tr")).appendChild(el("td", { colspan: pick ? "6" : "5", "class": "empty" }, "No step has started."));
    }
    steps.concat(planned || []).forEach(function (s) {
      var tr = el("tr", { "data-step": s.key });
      if (pick) {
        var box = el("input", { type: "checkbox", name: "step", value: s.key, id: "pick-" + s.key,
          form: "reexecute-selected", "aria-label": "pick " + s.key });
        box.checked = !!picked[s.key];
        tr.appendChild(el("td")).appendChild(box);
      }
      tr.appendChild(el("td", null, s.key));
      tr.appendChild(el("td")).appendChild(el("span", { "class": "status status-" + s.status.toLowerCase() }, s.status));
      tr.appendChild(el("td", null, clock(s.start)));
      tr.appendChild(el("td", null, clock(s.end)));
      tr.appendChild(el("td", null, String(s.attempts)));
      body.appendChild(tr);
    });
    box.replaceChildren(table);
    var options = document.getElementById("event-steps");
    if (options) options.replaceChildren.apply(options, steps.map(function (s) { return el("option", { value: s.key }); }));
    updated(box);
  }
  function ganttLayout(run, steps) { // as runs/templatetags/run_gantt.step_gantt
    var now = Date.now() / 1000, started = steps.filter(function (s) { return s.start !== null && s.start !== undefined; });
    if (!started.length) return null;
    var begin = Math.min.apply(null, started.map(function (s) { return s.start; }).concat(run.startTime ? [run.startTime] : []));
    var end = Math.max.apply(null, started.map(function (s) { return s.end === null || s.end === undefined ? now : s.end; })
      .concat([run.endTime === null || run.endTime === undefined ? now : run.endTime]));
    var span = Math.max(end - begin, 0.001);
    var ordered = steps.slice().sort(function (a, b) {
      var pa = a.start === null || a.start === undefined, pb = b.start === null || b.start === undefined;
      if (pa !== pb) return pa ? 1 : -1;
      var ta = pa ? now : a.start, tb = pb ? now : b.start;
      return ta !== tb ? ta - tb : (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    });
    return { span: span, rows: ordered.map(function (s) {
      if (s.start === null || s.start === undefined) return { step: s, pending: true };
      var running = s.end === null || s.end === undefined, stop = running ? now : s.end;
      var left = (s.start - begin) / span * 100;
      var width = Math.min(Math.max(MIN_WIDTH, (stop - s.start) / span * 100), 100 - left);
      return { step: s, left: left.toFixed(3), width: width.toFixed(3), seconds: stop - s.start, running: running };
    }) };
  }
  function barTitle(row) {
    var s = row.step;
    return s.key + " · " + s.status + " · " + row.seconds.toFixed(2) + " s" + (s.attempts > 1 ? " · " + s.attempts + " attempts" : "");
  }
  function renderGantt(run, steps) { // as ui/_gantt.html
    var box = document.getElementById("run-gantt");
    if (!box) return;
    var layout = ganttLayout(run, steps);
    if (!layout) { box.replaceChildren(); return; }
    var pick = canPick(), tag = pick ? "label" : "span";
    var chart = el("div", { "class": "gantt", role: "table", "aria-label": "steps over the run's " + layout.span.toFixed(1) + " seconds" });
    layout.rows.forEach(function (row) {
      var key = row.step.key, target = pick ? "pick-" + key : null;
      var line = el("div", { "class": "gantt-row", role: "row", "data-step": key });
      line.appendChild(el(tag, { "class": "gantt-step", role: "rowheader", "for": target }, key));
      var lane = line.appendChild(el(tag, { "class": "gantt-lane", "for": target }));
      if (!row.pending) {
        lane.appendChild(el("span", { "class": "gantt-bar status-bg-" + row.step.status.toLowerCase() + (row.running ? " running" : ""),
          style: "left: " + row.left + "%; width: " + row.width + "%", title: barTitle(row) }));
      }
      chart.appendChild(line);
    });
    box.replaceChildren(chart);
    updated(box);
  }
  function growGantt(run, steps) { // bars of running steps reach "now": moved in place, nothing rebuilt
    var layout = ganttLayout(run, steps), box = document.getElementById("run-gantt");
    if (!layout || !box) return;
    var bars = {};
    box.querySelectorAll(".gantt-row").forEach(function (line) { bars[line.dataset.step] = line.querySelector(".gantt-bar"); });
    layout.rows.forEach(function (row) {
      var bar = bars[row.step.key];
      if (!bar || row.pending) return;
      bar.style.left = row.left + "%";
      bar.style.width = row.width + "%";
      bar.title = barTitle(row);
    });
  }
  function showSteps(run) {
    if (run.stepStats) {
      var sig = JSON.stringify(run.stepStats) + "|" + canPick() + "|" + JSON.stringify(run.executionPlan || null);
      state.steps = run.stepStats.map(stepView);
      if (sig !== state.stepsSig) {
        state.stepsSig = sig;
        // The server lists a finished run's planned steps that never started when the user may re-execute it
        // (cfg.planSteps mirrors that condition); they are asked for once, in the poll reading the final steps.
        renderSteps(state.steps, run.executionPlan && canPick() ? plannedSteps(state.steps, run.executionPlan) : []);
        renderGantt(run, state.steps);
        return;
      }
    }
    if (state.steps && !state.finished && state.steps.length <= GROW_MAX &&
        state.steps.some(function (s) { return s.end === null || s.end === undefined; })) {
      growGantt(run, state.steps);
    }
  }

  // ------------------------------------------------------------------------- captures and log tail
  function addCapture(fileKey, stepKeys) { // as ui/_captures.html
    if (captured[fileKey]) return;
    captured[fileKey] = true;
    var box = document.getElementById("run-captures");
    if (!box) return;
    var list = box.querySelector("ul.captures");
    if (!list) { list = el("ul", { "class": "captures" }); box.replaceChildren(list); }
    var keys = stepKeys.join(", "), encoded = encodeURIComponent(fileKey);
    var download = cfg.downloadBase.replace("FILE_KEY", encoded);
    var li = el("li", { "data-file-key": fileKey }, keys + ": ");
    li.appendChild(el("a", { href: "?logs=" + encoded + "&io=stdout#log" }, "stdout"));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("a", { href: "?logs=" + encoded + "&io=stderr#log" }, "stderr"));
    li.appendChild(document.createTextNode(" "));
    var small = li.appendChild(el("small", null, "download "));
    small.appendChild(el("a", { href: download + "?io=stdout", download: "", "aria-label": "download stdout of " + keys }, "stdout"));
    small.appendChild(document.createTextNode(" "));
    small.appendChild(el("a", { href: download + "?io=stderr", download: "", "aria-label": "download stderr of " + keys }, "stderr"));
    list.appendChild(document.createTextNode("\n"));
    list.appendChild(li);
  }
  function tailLog(chunk, finished) {
    if (!state.log || !chunk) return;
    var text = state.log.io === "stderr" ? chunk.stderr : chunk.stdout;
    state.log.cursor = chunk.cursor || state.log.cursor;
    var pre = document.getElementById("log-text");
    if (text && pre) {
      var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(text));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
    // The run read finished before this chunk was read (fields resolve in order): nothing more will come.
    if (finished && !text) state.log = null;
  }

  // ------------------------------------------------------------------------------------- polling
  function post(query, name, variables) { // static/ui/gql.js: the session cookie and the page's CSRF token
    return window.orchestraGraphQL(cfg.graphql, query, variables, { operationName: name });
  }
  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, delay);
  }
  function poll() {
    if (state.inFlight || state.stopped) return;
    if (document.hidden) return; // hidden tabs pause; `visibilitychange` resumes
    // A run that was finished when the page rendered has its final steps on the page (with the steps it planned
    // but never started, which stepStats cannot tell): only its log is tailed.
    // Step stats change only with step events: a poll that brought some is followed at once by one reading them
    // (one query over the run's step events), so an idle poll reads the run and its new events only.
    var withSteps = !cfg.finished && (state.needSteps || state.finished);
    var withPlan = withSteps && state.finished && !!cfg.planSteps;
    var variables = {
      runId: cfg.runId, after: state.cursor || null, limit: LIMIT, steps: withSteps, plan: withPlan, tail: !!state.log,
      logKey: state.log ? state.log.logKey : [cfg.runId], logCursor: state.log ? state.log.cursor : null, logLimit: LOG_LIMIT
    };
    state.inFlight = true;
    state.started = Date.now();
    post(QUERY, "RunLive", variables).then(function (data) {
      state.inFlight = false;
      state.failures = 0;
      receive(data, withSteps, withPlan);
    }).catch(function () {
      state.inFlight = false;
      state.failures += 1; // the server restarting, a lost connection: try again, less often
      schedule(Math.min(MAX_DELAY_MS, POLL_MS * Math.pow(2, state.failures)));
    });
  }
  function receive(data, withSteps, withPlan) {
    var run = data.runOrError;
    if (!run || run.__typename !== "Run") return stop(); // the run was deleted: nothing left to follow
    state.finished = !!FINISHED[run.status];
    var stepsFinal = cfg.finished || (withSteps && (withPlan || !cfg.planSteps));
    // The run reads finished but its final steps are not read yet: its status, actions and steps show together
    // with the next answer (asked for at once), so the page never offers picking steps from a stale list.
    var settled = !state.finished || stepsFinal;
    if (settled) showStatus(run);
    var logs = data.logsForRun, stepEvents = false;
    if (logs && logs.__typename === "EventConnection") {
      var after = state.cursor;
      appendEvents(logs.events, after, logs.cursor);
      state.cursor = logs.cursor || state.cursor;
      state.hasMore = logs.hasMore;
      stepEvents = logs.events.some(function (e) { return STEP_TYPES[e.eventType]; });
    }
    if (settled) showSteps(run);
    if (withSteps) state.needSteps = false;
    if (stepEvents && !cfg.finished) state.needSteps = true;
    tailLog(data.capturedLogs, state.finished);
    if (state.finished && stepsFinal && !state.hasMore && !state.log) return stop(); // everything is shown
    // Polls start every POLL_MS (a slow answer is followed at once), so an event waits at most POLL_MS plus one
    // answer's time before it shows.
    var now = state.hasMore || state.needSteps || !settled;
    schedule(now ? 0 : Math.max(0, POLL_MS - (Date.now() - state.started)));
  }
  function stop() { // everything is shown; `data-state` is what tests wait on
    state.stopped = true;
    clearTimeout(state.timer);
    node.dataset.state = "stopped";
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.timer !== null && !state.stopped) schedule(0);
  });

  // ------------------------------------------------------------------ the filter on a big run's events
  // The event-log filter (static/ui/events.js) hides the rows on the page that do not match. When the page
  // does not hold the run's earlier events ("Load earlier events" is shown), the same filter is sent to the
  // server (`logsForRun(eventFilter:)`, before the first row shown) and the matching earlier events are listed
  // above the rows, a page of SEARCH_PAGE at a time. The server matches `text` in the message only.
  var SEARCH_PAGE = 200, LEVEL_NAMES = { DEBUG: 1, INFO: 1, WARNING: 1, ERROR: 1, CRITICAL: 1 };
  var form = document.getElementById("event-filters"), matches = document.getElementById("event-matches");
  var search = { seq: 0, timer: null };
  function searchFilter() {
    var f = form.elements, out = {}, any = false;
    var type = f.ev_type.value.trim().toUpperCase(), step = f.ev_step.value.trim();
    var level = f.ev_level.value, text = f.ev_q.value.trim();
    if (type) { out.eventTypes = [type]; any = true; }
    if (step) { out.stepKeys = [step]; any = true; }
    if (LEVEL_NAMES[level]) { out.minLevel = level; any = true; }
    if (text) { out.text = text; any = true; }
    return any ? out : null;
  }
  function earlierCursor() { // the first event on the page: everything before it is not shown
    var link = document.querySelector("a#event-earlier");
    var found = link ? /[?&]before=(\d+)/.exec(link.getAttribute("href") || "") : null;
    return found ? found[1] : null;
  }
  function searchPage(filter, after, seq) {
    var head = matches.querySelector(".matches-head"), list = matches.querySelector(".matches-rows");
    head.textContent = "Searching the earlier events…";
    post(SEARCH, "RunEventSearch", { runId: cfg.runId, after: after, limit: SEARCH_PAGE, filter: filter }).then(function (data) {
      if (seq !== search.seq) return; // the filter changed meanwhile
      var page = data.logsForRun;
      if (page.__typename !== "EventConnection") throw new Error(page.message || page.__typename);
      page.events.forEach(function (event) { list.appendChild(eventRow(event)); });
      var shown = list.children.length;
      head.textContent = shown + (page.hasMore ? "+" : "") + " matching event" + (shown === 1 ? "" : "s") +
        " before those below (searched on the server)" + (shown ? ":" : ".");
      if (page.hasMore) {
        var more = el("button", { type: "button", "class": "matches-more" }, "More matches");
        more.addEventListener("click", function () { more.remove(); searchPage(filter, page.cursor, seq); });
        matches.appendChild(more);
      }
      updated(matches);
    }).catch(function () {
      if (seq === search.seq) head.textContent = "The search of the earlier events failed; change the filter to try again.";
    });
  }
  function runSearch() {
    search.seq += 1;
    var filter = searchFilter(), before = earlierCursor();
    if (!filter || !before) { matches.hidden = true; matches.replaceChildren(); return; }
    filter.beforeCursor = before;
    matches.replaceChildren(el("p", { "class": "matches-head" }), el("div", { "class": "matches-rows" }));
    matches.hidden = false;
    searchPage(filter, null, search.seq);
  }
  if (form && matches) {
    form.addEventListener("input", function () { clearTimeout(search.timer); search.timer = setTimeout(runSearch, 400); });
    if (searchFilter()) runSearch(); // a filter deep-linked in the query string
  }

  if (!cfg.follow) return; // paged back (`?before=`): the page shows a "Newer events…" link instead
  if (state.finished && !state.hasMore && !state.log) return stop(); // a finished run: the page is complete
  state.status = (document.querySelector("#run-status .status") || {}).textContent || null;
  // Steps running when the page rendered: their stats are read once, so their bars grow from now on.
  state.needSteps = !!document.querySelector("#run-gantt .gantt-bar.running");
  schedule(state.hasMore || state.needSteps ? 0 : POLL_MS);
})();
