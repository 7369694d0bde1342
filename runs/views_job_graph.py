"""A sub-graph of a job (`/locations/<loc>/jobs/<job>/<graph>/<graph>/…/`, Dagster's explorer path): its
nodes, its inputs and outputs, and a trail back to the job. As in Dagster, a path may end with an op's name:
that op is shown picked out in the graph around it. The path is checked here against the stored snapshot;
the browser draws the graph from GraphQL's `solidHandles(parentHandleID: <path>)`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.ui import not_found_as_404
from runs import selectors
from workspace import selectors as workspace_selectors
from workspace.graphs import subgraph_at


@require_GET
@not_found_as_404
def job_subgraph(request: HttpRequest, location_name: str, job_name: str, graph_path: str) -> HttpResponse:
    job = workspace_selectors.cached_job(location_name=location_name, job_name=job_name)
    path = [part for part in graph_path.split("/") if part]
    base = reverse("job-detail", args=[location_name, job_name])
    focus = ""
    try:
        subgraph_at(job, path)
    except KeyError:
        try:
            around = subgraph_at(job, path[:-1])
        except KeyError:
            around = None
        if around is None or not any(node["name"] == path[-1] for node in around.get("nodes") or []):
            raise selectors.NotFound("graph", f"{'/'.join(path)} in {job_name}@{location_name}") from None
        path, focus = path[:-1], path[-1]
    trail = [
        {"name": name, "href": base + "".join(f"{part}/" for part in path[: i + 1])}
        for i, name in enumerate(path)
    ]
    return render(
        request,
        "ui/job_graph.html",
        {
            "nav": "jobs",
            "location_name": location_name,
            "job": job,
            "trail": trail,
            "job_href": base,
            "focus": focus,
            # drawn from GraphQL's solidHandles under this handle (static/ui/graph.js); checked here
            "graph_source": "job",
            "graph_path": ".".join(path),
            "repository_name": workspace_selectors.location_repository_name(location_name=location_name),
        },
    )
