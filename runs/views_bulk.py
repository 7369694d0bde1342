"""Bulk actions on the runs list: terminate or delete the selected runs (each checked against the permission
of its code location before anything changes), then back to the list as it was filtered."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from core.exceptions import Conflict, NotFound
from core.permissions import Permission, actor_from_request
from core.ui import redirect_back, require_permission
from runs import selectors, services

MAX_BULK = 500
ACTIONS = {"terminate": Permission.TERMINATE_PIPELINE_EXECUTION, "delete": Permission.DELETE_PIPELINE_RUN}


@require_POST
def runs_bulk(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    run_ids = list(dict.fromkeys(request.POST.getlist("run_id")))
    if action not in ACTIONS:
        messages.error(request, f"unknown bulk action {action!r}: expected terminate or delete")
        return redirect_back(request, "runs-list")
    if not run_ids:
        messages.error(request, f"Select the runs to {action} first.")
        return redirect_back(request, "runs-list")
    if len(run_ids) > MAX_BULK:
        messages.error(request, f"At most {MAX_BULK} runs at once, got {len(run_ids)}.")
        return redirect_back(request, "runs-list")
    locations = selectors.run_locations(run_ids=run_ids)
    for location in sorted(set(locations.values())):
        require_permission(request, ACTIONS[action], location or None)  # all or nothing: refuse before acting
    actor = actor_from_request(request)
    done, problems = 0, []
    for run_id in run_ids:
        try:
            if run_id not in locations:
                raise NotFound("run", run_id)
            if action == "terminate":
                services.run_terminate(run_id=run_id, actor=actor)
            else:
                services.run_delete(run_id=run_id, actor=actor)
            done += 1
        except (Conflict, NotFound) as exc:
            problems.append(f"{run_id[:8]}: {exc}")
    verb = "Termination requested for" if action == "terminate" else "Deleted"
    if done:
        messages.success(request, f"{verb} {done} run{'s' if done != 1 else ''}.")
    if problems:
        messages.warning(request, f"{len(problems)} not {action}d: " + "; ".join(problems[:10])
                         + (" …" if len(problems) > 10 else ""))
    return redirect_back(request, "runs-list")
