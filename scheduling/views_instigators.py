"""A schedule's or sensor's page (Dagster's `/locations/<location>/schedules/<name>` and `…/sensors/<name>`):
its state and definition, the next ticks of a schedule, the sensor cursor, and the tick history (filter by
status, paged by tick id) with each tick's runs, skip reason or error. Thin over `scheduling.selectors`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.ui import not_found_as_404
from orchestra._core.automation.cron import next_tick
from scheduling import selectors
from scheduling.models import InstigatorKind, InstigatorStatus, TickStatus
from scheduling.ticks import SCHEDULE_NAME_TAG, SENSOR_NAME_TAG

TICK_PAGE = 25
NEXT_TICKS = 5
KINDS = {"schedules": InstigatorKind.SCHEDULE, "sensors": InstigatorKind.SENSOR}


def _next_ticks(definition: dict, count: int) -> list:
    cron, tz = definition.get("cron_schedule"), definition.get("execution_timezone")
    if not cron:
        return []
    ticks, after = [], timezone.now()
    for _ in range(count):
        after = next_tick(cron, tz, after)
        ticks.append(after)
    return ticks


@require_GET
@not_found_as_404
def instigator_detail(request: HttpRequest, location_name: str, kind: str, name: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404(f"no {kind!r} in a code location: expected schedules or sensors")
    state = selectors.instigator_get(kind=KINDS[kind], location_name=location_name, name=name)
    status = request.GET.get("status", "").upper()
    statuses = [status] if status in TickStatus.values else None
    before = request.GET.get("before", "")
    ticks = list(selectors.tick_list(state_id=state.id, limit=TICK_PAGE + 1, statuses=statuses,
                                     before_id=int(before) if before.isdigit() else None))
    more = len(ticks) > TICK_PAGE
    ticks = ticks[:TICK_PAGE]
    is_schedule = state.kind == InstigatorKind.SCHEDULE
    return render(request, "ui/instigator_detail.html", {
        "nav": "automation", "state": state, "definition": state.definition or {}, "is_schedule": is_schedule,
        "ticks": ticks, "tick_statuses": TickStatus.values, "status": status if statuses else "",
        "older": ticks[-1].id if more else None,
        "next_ticks": _next_ticks(state.definition or {}, NEXT_TICKS)
        if is_schedule and state.status == InstigatorStatus.RUNNING else [],
        "action": "stop" if state.status == InstigatorStatus.RUNNING else "start",
        "runs_tag": f"{SCHEDULE_NAME_TAG if is_schedule else SENSOR_NAME_TAG}={state.name}",
    })
