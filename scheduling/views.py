"""Server-rendered automation page: schedules and sensors with their last tick, start and stop, and the
sensor cursor (view, set, clear)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import Conflict, InvalidInput
from core.permissions import Permission, actor_from_request
from core.ui import not_found_as_404, redirect_back, require_permission
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
    require_permission(request, permission, location_name)
    try:
        service(location_name=location_name, name=name, actor=actor_from_request(request))
        messages.success(request, f"{kind.lower()} {name} {'started' if action == 'start' else 'stopped'}.")
    except (InvalidInput, Conflict) as exc:
        messages.error(request, str(exc))
    return redirect_back(request, "automation")


@require_POST
@not_found_as_404
def sensor_cursor(request: HttpRequest, location_name: str, name: str) -> HttpResponse:
    """Set the cursor a sensor's next evaluation gets; an empty value clears it."""
    require_permission(request, Permission.UPDATE_SENSOR_CURSOR, location_name)
    cursor = request.POST.get("cursor", "")
    services.sensor_cursor_set(location_name=location_name, name=name, cursor=cursor or None, actor=actor_from_request(request))
    messages.success(request, f"sensor {name} cursor {'set to ' + repr(cursor) if cursor else 'cleared'}.")
    return redirect_back(request, "automation")
