"""The overview page: runs in flight and recent on a timeline by job, failing schedules and sensors,
daemon health and code locations that failed to load. Thin over the selectors of each app; a constant
number of queries whatever the number of runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from runs.daemon_health import daemon_statuses
from runs.timeline import Timeline, run_timeline
from scheduling import selectors
from scheduling.models import InstigatorStatus, TickStatus
from workspace import selectors as workspace_selectors
from workspace.models import LocationStatus

# Zoom levels of the timeline: query-string value -> (window, spacing of the axis labels).
WINDOWS = {
    "1h": (timedelta(hours=1), timedelta(minutes=10)),
    "6h": (timedelta(hours=6), timedelta(hours=1)),
    "24h": (timedelta(hours=24), timedelta(hours=3)),
    "7d": (timedelta(days=7), timedelta(days=1)),
}
DEFAULT_WINDOW = "24h"
MIN_BAR_PERCENT = 0.25  # a run of a few seconds in a day's window stays visible and clickable


def _window(request: HttpRequest) -> tuple[str, datetime, datetime, str | None]:
    """The zoom level, the window's start and end, and an error for a bad `end`."""
    zoom = request.GET.get("window", DEFAULT_WINDOW)
    if zoom not in WINDOWS:
        zoom = DEFAULT_WINDOW
    now, error = timezone.now(), None
    end = now
    if request.GET.get("end"):
        parsed = parse_datetime(request.GET["end"])
        if parsed is None:
            error = f"end must be a date and time like 2026-11-25T10:00, got {request.GET['end']!r}"
        else:
            end = min(now, timezone.make_aware(parsed, UTC) if timezone.is_naive(parsed) else parsed)
    return zoom, end - WINDOWS[zoom][0], end, error


STATUS_ORDER = ("FAILURE", "CANCELED", "CANCELING", "STARTED", "STARTING", "QUEUED", "NOT_STARTED", "SUCCESS")


def _place(began: datetime, finished: datetime, start: datetime, span: float) -> tuple[str, str]:
    left = max(0.0, (began - start).total_seconds() / span * 100)
    right = min(100.0, (finished - start).total_seconds() / span * 100)
    return f"{left:.3f}", f"{max(MIN_BAR_PERCENT, right - left):.3f}"


def _bars(timeline: Timeline, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per (location, job): its runs as bars, or its buckets of runs, placed in percent of the window."""
    span = (end - start).total_seconds()
    runs_list = reverse("runs-list")
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in timeline.runs:
        began = run["started_at"] or run["created_at"]
        finished = run["ended_at"] or now
        if finished < start or began >= end:
            continue
        left, width = _place(began, finished, start, span)
        rows.setdefault((run["location_name"] or "", run["job_name"]), []).append({
            **run, "left": left, "width": width, "running": run["ended_at"] is None,
        })
    for bucket in timeline.buckets:
        finished = bucket.ended or now
        if finished < start or bucket.began >= end:
            continue
        left, width = _place(bucket.began, finished, start, span)
        mix = sorted(bucket.statuses.items(), key=lambda item: STATUS_ORDER.index(item[0])
                     if item[0] in STATUS_ORDER else len(STATUS_ORDER))
        counts = ", ".join(f"{n} {status}" for status, n in mix)
        when = bucket.began.strftime("%Y-%m-%d %H:%M") + (f" → {bucket.ended:%H:%M}" if bucket.ended else "")
        query = urlencode({"job": bucket.job_name,
                           "created_after": bucket.created_first.strftime("%Y-%m-%dT%H:%M:%S"),
                           "created_before": (bucket.created_last + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")})
        # Text prepared here, not in template loops: a day of buckets is ~100 bars, each with its mix.
        rows.setdefault((bucket.location_name, bucket.job_name), []).append({
            "bucket": True, "left": left, "width": width, "running": bucket.ended is None, "mix": mix,
            "label": f"{bucket.count} runs: {counts}", "title": f"{bucket.job_name} · {bucket.count} runs · {counts} · {when}",
            "href": f"{runs_list}?{query}",
        })
    return [{"location": location, "job": job, "bars": sorted(bars, key=lambda bar: float(bar["left"]))}
            for (location, job), bars in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0]))]


def _axis(start: datetime, end: datetime, step: timedelta) -> list[dict[str, str]]:
    span = (end - start).total_seconds()
    first = datetime.fromtimestamp((start.timestamp() // step.total_seconds() + 1) * step.total_seconds(), tz=start.tzinfo)
    marks, mark = [], first
    while mark < end:
        label = mark.strftime("%a %d %b" if step >= timedelta(days=1) else "%H:%M")
        marks.append({"left": f"{(mark - start).total_seconds() / span * 100:.3f}", "label": label})
        mark += step
    return marks


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    zoom, start, end, error = _window(request)
    now = timezone.now()
    timeline = run_timeline(start=start, end=end)
    states = [state for state in selectors.instigator_list() if state.status == InstigatorStatus.RUNNING]
    ticks = selectors.latest_ticks(state_ids=[state.id for state in states])
    failing = [{"state": state, "tick": ticks[state.id]} for state in states
               if state.id in ticks and ticks[state.id].status == TickStatus.FAILURE]
    locations = list(workspace_selectors.location_list())
    shift = WINDOWS[zoom][0] / 2
    return render(request, "ui/overview.html", {
        "nav": "overview", "error": error, "zoom": zoom, "zooms": list(WINDOWS), "start": start, "end": end,
        "rows": _bars(timeline, start, end, now), "axis": _axis(start, end, WINDOWS[zoom][1]),
        "in_flight": timeline.in_flight,
        "earlier": (end - shift).strftime("%Y-%m-%dT%H:%M:%S"),
        "later": (end + shift).strftime("%Y-%m-%dT%H:%M:%S") if end + shift < now else None,
        "at_now": end >= now - timedelta(seconds=5),
        "failing": failing, "daemons": daemon_statuses(),
        "broken": [location for location in locations if location.status == LocationStatus.ERROR],
        "locations": locations,
    }, status=400 if error else 200)
