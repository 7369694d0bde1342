"""Backfill pages: the list (`/runs/?view=backfills`, Dagster's tab of the runs page), a backfill with the
status of each partition (`/runs/b/<id>/`), cancel and re-execute failed partitions. Thin over
`scheduling.selectors` and `scheduling.backfills`; a constant number of queries whatever the partitions."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import Conflict, InvalidInput
from core.permissions import Permission, actor_from_request
from core.ui import not_found_as_404, require_permission
from runs import views as run_views
from runs.models import RunStatus
from scheduling import backfills, selectors
from scheduling.models import BackfillStatus
from workspace.client import CodeServerError

PAGE_SIZE = 50
NOT_SUBMITTED = "NOT_SUBMITTED"
FINISHED = (BackfillStatus.COMPLETED_SUCCESS, BackfillStatus.COMPLETED_FAILED, BackfillStatus.FAILED,
            BackfillStatus.CANCELED)


def runs_or_backfills(request: HttpRequest) -> HttpResponse:
    """`/runs/`: the runs list, or with `?view=backfills` the backfills (the runs app cannot see them)."""
    if request.GET.get("view") == "backfills":
        return backfill_list(request)
    return run_views.runs_list(request)


@require_GET
def backfill_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "").strip().upper() or None
    if status is not None and status not in BackfillStatus.values:
        return render(request, "ui/backfills_list.html", {
            "nav": "runs", "rows": [], "statuses": BackfillStatus.values,
            "error": f"unknown backfill status {status!r}: expected one of {', '.join(BackfillStatus.values)}",
        }, status=400)
    cursor = request.GET.get("cursor") or None
    rows = selectors.backfill_list(status=status, cursor=cursor, limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(request, "ui/backfills_list.html", {
        "nav": "runs", "rows": rows, "statuses": BackfillStatus.values, "status": status or "",
        "next_cursor": rows[-1].backfill_id if more else None,
    })


def _partitions(backfill) -> tuple[list[dict[str, str]], Counter]:
    """Each partition with the status of its latest run (or NOT_SUBMITTED), and the counts by status."""
    runs = selectors.backfill_partition_runs(backfill_id=backfill.backfill_id)
    cells = []
    for name in backfill.partition_names:
        latest = runs.get(name, [])[-1:] or None
        cells.append({"name": name, "status": latest[0].status if latest else NOT_SUBMITTED,
                      "run_id": latest[0].run_id if latest else "", "attempts": len(runs.get(name, []))})
    return cells, Counter(cell["status"] for cell in cells)


@require_GET
@not_found_as_404
def backfill_detail(request: HttpRequest, backfill_id: str) -> HttpResponse:
    backfill = selectors.backfill_get(backfill_id=backfill_id)
    cells, counts = _partitions(backfill)
    order = [RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED, RunStatus.STARTED, RunStatus.STARTING,
             RunStatus.QUEUED, RunStatus.NOT_STARTED, RunStatus.CANCELING, NOT_SUBMITTED]
    return render(request, "ui/backfill_detail.html", {
        "nav": "runs", "backfill": backfill, "cells": cells,
        "counts": [(status, counts[status]) for status in order if counts.get(status)],
        "can_cancel_state": backfill.status == BackfillStatus.REQUESTED,
        "can_reexecute_state": backfill.status in FINISHED
        and (counts.get(RunStatus.FAILURE) or counts.get(RunStatus.CANCELED) or counts.get(NOT_SUBMITTED)),
    })


@require_POST
@not_found_as_404
def backfill_cancel(request: HttpRequest, backfill_id: str) -> HttpResponse:
    backfill = selectors.backfill_get(backfill_id=backfill_id)
    require_permission(request, Permission.CANCEL_PARTITION_BACKFILL, backfill.location_name)
    try:
        backfills.backfill_cancel(backfill_id=backfill_id, actor=actor_from_request(request))
        messages.success(request, f"Backfill {backfill_id} is being canceled: its unfinished runs are terminated.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("backfill-detail", backfill_id=backfill_id)


@require_POST
@not_found_as_404
def backfill_reexecute(request: HttpRequest, backfill_id: str) -> HttpResponse:
    backfill = selectors.backfill_get(backfill_id=backfill_id)
    require_permission(request, Permission.LAUNCH_PARTITION_BACKFILL, backfill.location_name)
    try:
        child = backfills.backfill_reexecute_failed(backfill_id=backfill_id, actor=actor_from_request(request))
    except (Conflict, InvalidInput, CodeServerError) as exc:
        messages.error(request, str(exc))
        return redirect("backfill-detail", backfill_id=backfill_id)
    messages.success(request, f"Re-executing {len(child.partition_names)} failed partitions of {backfill_id}.")
    return redirect("backfill-detail", backfill_id=child.backfill_id)
