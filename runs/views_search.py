"""Global search (press `/` on any page): jobs, assets, schedules and sensors of the loaded code locations,
and runs by id. Answers the results fragment to the header's search box (htmx) or a full page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.ui import is_htmx
from runs import selectors
from workspace import selectors as workspace_selectors
from workspace.search import definitions_search

MAX_QUERY = 200


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:MAX_QUERY].strip()
    hits = definitions_search(workspace_selectors.loaded_snapshots_cached(), query) if query else {}
    runs = selectors.run_id_search(prefix=query) if query else []
    groups = [(label, hits.get(kind, [])) for kind, label in
              (("job", "Jobs"), ("asset", "Assets"), ("schedule", "Schedules"), ("sensor", "Sensors"))]
    context = {"q": query, "groups": [(label, found) for label, found in groups if found], "runs": runs,
               "nav": "search"}
    context["empty"] = not context["groups"] and not runs
    template = "ui/_search_results.html" if is_htmx(request) else "ui/search.html"
    return render(request, template, context)
