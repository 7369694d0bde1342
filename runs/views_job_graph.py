"""A sub-graph of a job (`/locations/<loc>/jobs/<job>/<graph>/<graph>/…/`, Dagster's explorer path): its
nodes, its inputs and outputs, and a trail back to the job. Read from the stored snapshot only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.ui import not_found_as_404
from runs import selectors
from runs.views import _job
from workspace.graphs import job_graph


@require_GET
@not_found_as_404
def job_subgraph(request: HttpRequest, location_name: str, job_name: str, graph_path: str) -> HttpResponse:
    job = _job(location_name, job_name)
    path = [part for part in graph_path.split("/") if part]
    base = reverse("job-detail", args=[location_name, job_name])
    try:
        graph = job_graph(job, path, href_base=base)
    except KeyError:
        raise selectors.NotFound("graph", f"{'/'.join(path)} in {job_name}@{location_name}") from None
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
            "graph": graph,
            "trail": trail,
            "job_href": base,
        },
    )
