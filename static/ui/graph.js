// Op graphs and asset lineage: reads the graph from /graphql — a job's (or sub-graph's) nodes from Dagster's
// `solidHandles`, the lineage from `assetLineage` — lays it out (dagre) and draws it as SVG, with pan (drag),
// zoom (wheel, buttons), fit, search, and for lineage a selection that can grow to upstream/downstream
// assets and be materialized. Every string is set as text, never as HTML.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var NODE_H = 40, CHAR_W = 7.2, PAD = 28, MIN_W = 90, MAX_W = 300, READABLE = 0.75;

  var JOB_GRAPH = "query JobGraph($selector: PipelineSelector!, $parent: String!, $handle: String!, $inGraph: Boolean!) {" +
    " pipelineOrError(params: $selector) { __typename ... on Pipeline {" +
    " solidHandles(parentHandleID: $parent) { solid { name" +
    " definition { __typename name ... on CompositeSolidDefinition { solids { name } } }" +
    " inputs { dependsOn { solid { name } } } } }" +
    " solidHandle(handleID: $handle) @include(if: $inGraph) { solid { definition {" +
    " ... on CompositeSolidDefinition { inputDefinitions { name } outputDefinitions { name }" +
    " inputMappings { definition { name } mappedInput { solid { name } } }" +
    " outputMappings { definition { name } mappedOutput { solid { name } } } } } } } }" +
    " ... on PipelineNotFoundError { message } ... on InvalidSubsetError { message } ... on PythonError { message } } }";
  var LINEAGE = "query Lineage($group: String) { assetLineage(group: $group) {" +
    " nodes { id label kind detail href location selectable } edges { fromId toId } } }";

  // A job's graph (or the sub-graph at data-path, a dotted handle) as nodes and edges: graphs are one node
  // linking to their own page; inside a sub-graph its inputs and outputs are nodes too (ids input:<name>,
  // output:<name>, which no node name can take), so the edges crossing its border stay visible.
  function jobGraph(figure, pipeline) {
    var path = figure.dataset.path ? figure.dataset.path.split(".") : [];
    var nodes = [], edges = [], seen = {};
    function edge(from, to) {
      var key = from + "\u0000" + to;
      if (!seen[key]) { seen[key] = true; edges.push([from, to]); }
    }
    pipeline.solidHandles.forEach(function (handle) {
      var solid = handle.solid, def = solid.definition;
      var node = { id: solid.name, label: solid.name, kind: "op", detail: "" };
      if (def.__typename === "CompositeSolidDefinition") {
        var count = def.solids.length;
        node.kind = "graph";
        node.detail = "graph · " + count + " node" + (count !== 1 ? "s" : "") + " · open";
        node.href = figure.dataset.hrefBase + path.concat([solid.name]).map(encodeURIComponent).join("/") + "/";
      } else if (def.name !== solid.name) {
        node.detail = def.name;
      }
      nodes.push(node);
      solid.inputs.forEach(function (input) {
        input.dependsOn.forEach(function (output) { edge(output.solid.name, solid.name); });
      });
    });
    var graph = pipeline.solidHandle && pipeline.solidHandle.solid.definition;
    if (graph && graph.inputDefinitions) {
      graph.inputDefinitions.forEach(function (d) {
        nodes.push({ id: "input:" + d.name, label: d.name, kind: "graph-input", detail: "graph input" });
      });
      graph.outputDefinitions.forEach(function (d) {
        nodes.push({ id: "output:" + d.name, label: d.name, kind: "graph-output", detail: "graph output" });
      });
      graph.inputMappings.forEach(function (m) { edge("input:" + m.definition.name, m.mappedInput.solid.name); });
      graph.outputMappings.forEach(function (m) { edge(m.mappedOutput.solid.name, "output:" + m.definition.name); });
    }
    return { nodes: nodes, edges: edges, rankdir: "LR" };
  }

  function load(figure) {
    var url = figure.dataset.graphql;
    if (figure.dataset.source === "lineage") {
      return window.orchestraGraphQL(url, LINEAGE, { group: figure.dataset.group || null }).then(function (data) {
        var lineage = data.assetLineage;
        return { rankdir: "LR", nodes: lineage.nodes,
                 edges: lineage.edges.map(function (e) { return [e.fromId, e.toId]; }) };
      });
    }
    var parent = figure.dataset.path || "";
    var selector = { repositoryLocationName: figure.dataset.location, repositoryName: figure.dataset.repository,
                     pipelineName: figure.dataset.job };
    return window.orchestraGraphQL(url, JOB_GRAPH, { selector: selector, parent: parent, handle: parent,
                                                     inGraph: parent !== "" }).then(function (data) {
      var answer = data.pipelineOrError;
      if (answer.__typename !== "Pipeline") throw new Error(answer.message);
      return jobGraph(figure, answer);
    });
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function draw(figure, data) {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: data.rankdir || "LR", nodesep: 18, ranksep: 56, marginx: 24, marginy: 24 });
    g.setDefaultEdgeLabel(function () { return {}; });
    var byId = {};
    data.nodes.forEach(function (n) {
      var chars = Math.max(n.label.length, (n.detail || "").length * 0.85);
      byId[n.id] = n;
      g.setNode(n.id, { width: Math.min(MAX_W, Math.max(MIN_W, chars * CHAR_W + PAD)), height: NODE_H });
    });
    var up = {}, down = {};
    data.edges.forEach(function (e) {
      if (!byId[e[0]] || !byId[e[1]]) return;
      g.setEdge(e[0], e[1]);
      (down[e[0]] = down[e[0]] || []).push(e[1]);
      (up[e[1]] = up[e[1]] || []).push(e[0]);
    });
    dagre.layout(g);
    var size = g.graph();

    var svg = el("svg", { class: "graph-svg", role: "img", "aria-label": figure.dataset.label || "graph" });
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: figure.dataset.graph + "-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
                                markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "graph-arrow" }, marker);
    var world = el("g", {}, svg);
    g.edges().forEach(function (e) {
      var pts = g.edge(e).points;
      var d = "M" + pts.map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join(" L");
      el("path", { d: d, class: "graph-edge", "data-from": e.v, "data-to": e.w,
                   "marker-end": "url(#" + figure.dataset.graph + "-arrow)" }, world);
    });
    var shapes = {};
    g.nodes().forEach(function (id) {
      var box = g.node(id), n = byId[id];
      var group = el(n.href ? "a" : "g", { class: "graph-node kind-" + n.kind, tabindex: "0" }, world);
      if (n.href) group.setAttribute("href", n.href);
      el("rect", { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 6 }, group);
      var label = el("text", { x: box.x, y: box.y - (n.detail ? 4 : -4), class: "graph-label" }, group);
      label.textContent = n.label;
      if (n.detail) {
        var detail = el("text", { x: box.x, y: box.y + 12, class: "graph-detail" }, group);
        detail.textContent = n.detail;
      }
      var title = el("title", {}, group);
      title.textContent = id;
      shapes[id] = group;
    });

    var canvas = figure.querySelector(".graph-canvas");
    canvas.appendChild(svg);
    var view = { x: 0, y: 0, k: 1 };
    function apply() { world.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")"); }
    function fit() {
      var w = canvas.clientWidth || 800, h = canvas.clientHeight || 480;
      view.k = Math.min(1.2, w / (size.width || 1), h / (size.height || 1));
      view.x = (w - size.width * view.k) / 2;
      view.y = (h - size.height * view.k) / 2;
      apply();
    }
    // A big graph fitted whole is too small to read (labels under ~5 px). It opens instead at a readable
    // scale on its first node (the left- or top-most source), with a hint; Fit still shows it all.
    function openReadable() {
      var w = canvas.clientWidth || 800, h = canvas.clientHeight || 480;
      var fitted = Math.min(1.2, w / (size.width || 1), h / (size.height || 1));
      var hint = figure.querySelector(".graph-hint");
      if (fitted >= READABLE) { fit(); if (hint) hint.hidden = true; return; }
      var lr = (data.rankdir || "LR") === "LR", first = null;
      g.nodes().forEach(function (id) {
        var box = g.node(id), f = first && g.node(first);
        if (!first || (lr ? box.x < f.x || (box.x === f.x && box.y < f.y) : box.y < f.y || (box.y === f.y && box.x < f.x))) first = id;
      });
      var box = g.node(first);
      view.k = READABLE;
      view.x = lr ? 24 - (box.x - box.width / 2) * view.k : w / 2 - box.x * view.k;
      view.y = lr ? h / 2 - box.y * view.k : 24 - (box.y - box.height / 2) * view.k;
      apply();
      if (hint) {
        hint.hidden = false;
        hint.textContent = "Showing part of " + data.nodes.length + " nodes at a readable size: drag or use the arrow keys to move, " +
          "+/− to zoom, search to find a node, Fit to see all.";
      }
    }
    function zoom(factor, cx, cy) {
      var k = Math.max(0.05, Math.min(4, view.k * factor));
      view.x = cx - (cx - view.x) * (k / view.k);
      view.y = cy - (cy - view.y) * (k / view.k);
      view.k = k;
      apply();
    }
    function center(id) {
      var box = g.node(id), w = canvas.clientWidth, h = canvas.clientHeight;
      view.k = Math.max(view.k, 0.8);
      view.x = w / 2 - box.x * view.k;
      view.y = h / 2 - box.y * view.k;
      apply();
    }
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = canvas.getBoundingClientRect();
      zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    var drag = null, moved = false;
    canvas.addEventListener("pointerdown", function (ev) { drag = { x: ev.clientX, y: ev.clientY }; moved = false; });
    window.addEventListener("pointerup", function () { drag = null; });
    window.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
      view.x += dx; view.y += dy; drag = { x: ev.clientX, y: ev.clientY };
      apply();
    });
    figure.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.dataset.zoom;
        if (how === "fit") fit();
        else zoom(how === "in" ? 1.25 : 0.8, canvas.clientWidth / 2, canvas.clientHeight / 2);
      });
    });
    var search = figure.querySelector(".graph-search");
    if (search) {
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase(), first = null;
        Object.keys(shapes).forEach(function (id) {
          var hit = q && id.toLowerCase().indexOf(q) >= 0;
          shapes[id].classList.toggle("match", !!hit);
          if (hit && !first) first = id;
        });
        if (first) center(first);
      });
    }

    // Selection (lineage): click selects, the buttons grow it, the form materializes it.
    var form = figure.querySelector("form.graph-selection");
    var selected = {};
    function refresh() {
      var ids = Object.keys(selected);
      Object.keys(shapes).forEach(function (id) { shapes[id].classList.toggle("selected", !!selected[id]); });
      if (!form) return;
      form.querySelectorAll("input[name=key]").forEach(function (input) { input.remove(); });
      ids.forEach(function (id) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "key"; input.value = id;
        form.appendChild(input);
      });
      form.querySelector(".count").textContent = String(ids.length);
      form.querySelectorAll("button").forEach(function (b) { b.disabled = ids.length === 0; });
    }
    function grow(edges) {
      var todo = Object.keys(selected);
      while (todo.length) {
        (edges[todo.pop()] || []).forEach(function (next) {
          if (!selected[next] && byId[next] && byId[next].selectable) { selected[next] = true; todo.push(next); }
        });
      }
      refresh();
    }
    if (form) {
      Object.keys(shapes).forEach(function (id) {
        if (!byId[id].selectable) return;
        shapes[id].addEventListener("click", function (ev) {
          if (ev.metaKey || ev.ctrlKey) return;  // open the asset's page as a link would
          ev.preventDefault();
          if (moved) return;
          if (selected[id]) delete selected[id]; else selected[id] = true;
          refresh();
        });
      });
      figure.querySelectorAll("[data-select]").forEach(function (button) {
        button.addEventListener("click", function (ev) {
          ev.preventDefault();
          var how = button.dataset.select;
          if (how === "upstream") grow(up);
          else if (how === "downstream") grow(down);
          else if (how === "all") { Object.keys(byId).forEach(function (id) { if (byId[id].selectable) selected[id] = true; }); refresh(); }
          else { selected = {}; refresh(); }
        });
      });
      refresh();
    }
    // Keyboard: on the canvas, arrows pan, + and - zoom, 0 fits; a node that takes focus comes into view.
    canvas.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var step = 60, moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (moves[ev.key]) { view.x += moves[ev.key][0]; view.y += moves[ev.key][1]; apply(); }
      else if (ev.key === "+" || ev.key === "=") zoom(1.25, canvas.clientWidth / 2, canvas.clientHeight / 2);
      else if (ev.key === "-") zoom(0.8, canvas.clientWidth / 2, canvas.clientHeight / 2);
      else if (ev.key === "0") fit();
      else return;
      ev.preventDefault();
    });
    Object.keys(shapes).forEach(function (id) {
      shapes[id].addEventListener("focus", function () {
        var r = shapes[id].getBoundingClientRect(), c = canvas.getBoundingClientRect();
        if (r.left < c.left || r.right > c.right || r.top < c.top || r.bottom > c.bottom) center(id);
      });
    });
    openReadable();
    var focus = figure.dataset.focus;  // a node the URL names (Dagster's explorer path ending with an op)
    if (focus && shapes[focus]) { shapes[focus].classList.add("match"); center(focus); }
    figure.dataset.ready = "true";
  }

  function start() {
    document.querySelectorAll("figure.graph[data-graph]").forEach(function (figure) {
      var status = figure.querySelector(".graph-status");
      load(figure).then(function (data) {
        if (status) status.remove();
        draw(figure, data);
      }).catch(function (error) {
        if (status) { status.textContent = "The graph could not be loaded: " + error.message; status.classList.add("error"); }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
