"""Server-rendered automation page: schedules and sensors with their last tick, start and stop."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import Conflict, InvalidInput
from core.permissions import Permission
from core.ui import not_found_as_404, require_permission
from scheduling import selectors, services
from scheduling.models import InstigatorKind, InstigatorStatus

ACTIONS = {
    (InstigatorKind.SCHEDULE, "start"): (services.schedule_start, Permission.START_SCHEDULE),
    (InstigatorKind.SCHEDULE, "stop"): (services.schedule_stop, Permission.STOP_RUNNING_SCHEDULE),
    (InstigatorKind.SENSOR, "start"): (services.sensor_start, Permission.EDIT_SENSOR),
    (InstigatorKind.SENSOR, "stop"): (services.sensor_stop, Permission.EDIT_SENSOR),
}


@require_GET
def automation(request: HttpRequest) -> HttpResponse:
    states = list(selectors.instigator_list())
    ticks = selectors.latest_ticks(state_ids=[state.id for state in states])
    rows = [{"state": state, "tick": ticks.get(state.id),
             "action": "stop" if state.status == InstigatorStatus.RUNNING else "start"} for state in states]
    return render(request, "ui/automation.html", {"nav": "automation", "rows": rows})


@require_POST
@not_found_as_404
def instigator_action(request: HttpRequest, kind: str, location_name: str, name: str, action: str) -> HttpResponse:
    entry = ACTIONS.get((kind.upper(), action))
    if entry is None:
        return HttpResponse(f"unknown action {action!r} on {kind!r}", status=404, content_type="text/plain")
    service, permission = entry
    require_permission(request, permission)
    try:
        service(location_name=location_name, name=name, actor=request.user)
        messages.success(request, f"{kind.lower()} {name} {'started' if action == 'start' else 'stopped'}.")
    except (InvalidInput, Conflict) as exc:
        messages.error(request, str(exc))
    return redirect("automation")
