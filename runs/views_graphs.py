"""The asset lineage page and "materialize selected": thin over `workspace.graphs` and `runs.services`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import InvalidInput
from core.permissions import Permission, actor_from_request, has_permission
from core.ui import require_permission
from runs import services
from workspace import graphs
from workspace import selectors as workspace_selectors


@require_GET
def asset_lineage(request: HttpRequest) -> HttpResponse:
    """`/asset-groups/`: the lineage of every asset, or of one group (`?group=name@location`)."""
    group = request.GET.get("group", "").strip() or None
    snapshots = workspace_selectors.loaded_snapshots_cached()
    graph = graphs.lineage_summary(snapshots, group=group)  # the graph itself: GraphQL's assetLineage
    status = 200
    if group and group not in graph["groups"]:
        status = 404
    return render(request, "ui/asset_lineage.html", {
        "nav": "lineage", "graph": graph, "group": group or "",
        "selectable": graph["mode"] == "assets",
        "can_materialize": any(has_permission(request, Permission.LAUNCH_PIPELINE_EXECUTION, location)
                               for location in snapshots),
    }, status=status)


@require_POST
def asset_lineage_materialize(request: HttpRequest) -> HttpResponse:
    """Launch one run per code location materializing the selected assets; go to the run (or the runs)."""
    keys = [key for key in request.POST.getlist("key") if key]
    back = reverse("asset-lineage") + (f"?group={request.POST['group']}" if request.POST.get("group") else "")
    if not keys:
        messages.error(request, "Select at least one asset to materialize.")
        return redirect(back)
    snapshots = workspace_selectors.loaded_snapshots_cached()
    try:
        plan = graphs.asset_jobs_for_selection(snapshots, keys)
    except KeyError as exc:
        messages.error(request, f"No loaded code location defines asset {exc.args[0]!r}.")
        return redirect(back)
    for location_name, (job_name, selected) in plan.items():
        require_permission(request, Permission.LAUNCH_PIPELINE_EXECUTION, location_name)
        if job_name is None:
            messages.error(request, f"No one job in {location_name} materializes all of "
                                    f"{', '.join(selected)}: select fewer assets.")
            return redirect(back)
    actor = actor_from_request(request)
    run_ids = []
    for location_name, (job_name, selected) in plan.items():
        try:
            run = services.run_submit(job_name=job_name, location_name=location_name, asset_selection=selected,
                                      actor=actor)
        except InvalidInput as exc:
            messages.error(request, f"{location_name}: {exc}")
            return redirect(back)
        run_ids.append(run.run_id)
    if len(run_ids) == 1:
        return redirect("run-detail", run_id=run_ids[0])
    messages.success(request, f"Launched {len(run_ids)} runs, one per code location.")
    return redirect("runs-list")
