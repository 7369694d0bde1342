"""The only writer of django-celery-beat rows: one PeriodicTask per schedule and sensor, kept in step with their state.

Beat rows are nudges, not the schedule itself. A schedule's tick task computes every cron time due
since its last tick from the stored state (`scheduling.services.schedule_tick`), so a beat row that
fires late, early or twice changes nothing but latency. That is why a cron string a crontab row
cannot express with the same meaning (a list of cron strings, `@daily`-style aliases, names, `L`/`#`,
day-of-week 7, or both day fields restricted, which cron ORs and Celery ANDs) gets a minute-level
crontab (`* * * * *`) in the schedule's time zone: the task finds nothing due most minutes. A
once-a-minute sweep (`SWEEP_TASK_NAME`) also ticks every running schedule whose `next_tick_at` has
passed, covering a beat that was down or a daylight-saving transition that Celery's crontab
places differently from Dagster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from scheduling.conf import DEFAULT_SENSOR_INTERVAL
from scheduling.models import InstigatorKind, InstigatorState

SCHEDULE_TASK = "scheduling.schedule_tick"
SENSOR_TASK = "scheduling.sensor_tick"
SWEEP_TASK = "scheduling.sweep"
SWEEP_TASK_NAME = "orchestra scheduling sweep"
SWEEP_INTERVAL_SECONDS = 60
BACKFILL_TASK = "scheduling.backfills_sweep"
BACKFILL_TASK_NAME = "orchestra backfills"
BACKFILL_INTERVAL_SECONDS = 30  # Dagster's backfill daemon interval
QUEUE = "daemon"
# A nudge waiting longer than this (no worker was up) is dropped: the next nudge or the sweep
# computes every due tick anyway, so a backlog of identical messages would only repeat no-ops.
SCHEDULE_NUDGE_EXPIRES = 300

_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_EVERY_MINUTE = ("*", "*", "*", "*", "*")


def crontab_fields(cron_schedule: str | list[str]) -> tuple[str, str, str, str, str] | None:
    """The five fields of a cron string a Celery crontab row runs at the same times, else None."""
    if not isinstance(cron_schedule, str):
        return None
    fields = cron_schedule.split()
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        return None
    minute, hour, day_of_month, month, day_of_week = fields
    if day_of_month != "*" and day_of_week != "*":
        return None  # cron fires when either matches; a Celery crontab needs both
    if any(int(n) > 6 for n in re.findall(r"\d+", day_of_week.split("/")[0])):
        return None  # 7 (Sunday) is cron-only
    return minute, hour, day_of_month, month, day_of_week


def task_name(state: InstigatorState) -> str:
    """The PeriodicTask's (unique) name; the state id keeps truncated names apart."""
    return f"{state.kind.lower()} {state.name} @ {state.location_name}"[:180] + f" (#{state.pk})"


def periodic_tasks_sync(*, states: Iterable[InstigatorState]) -> None:
    """Make each state's PeriodicTask match it (created, changed or left alone), idempotently.

    A running schedule or sensor gets an enabled row; a stopped one, or one whose definition is gone,
    a disabled row (operators still see it in the admin). Rows are saved only when they differ, so
    running this twice touches nothing the second time.
    """
    for state in states:
        for attempt in range(2):
            try:
                with transaction.atomic():
                    _sync_one(state)
                break
            except IntegrityError:
                if attempt:  # a concurrent reconcile created the same row twice; the second pass sees it
                    raise


def sweep_task_ensure() -> None:
    """The once-a-minute safety sweep (see the module docstring) and the backfill daemon's pass."""
    sweeps = [
        (SWEEP_TASK_NAME, SWEEP_TASK, SWEEP_INTERVAL_SECONDS,
         "Ticks schedules whose beat row did not fire; reconciles definitions."),
        (BACKFILL_TASK_NAME, BACKFILL_TASK, BACKFILL_INTERVAL_SECONDS,
         "Submits the runs of backfills in progress; settles finished and canceled backfills."),
    ]
    with transaction.atomic():
        for name, task, seconds, description in sweeps:
            _save_if_changed(name, {"task": task, "interval": _interval(seconds), "crontab": None, "queue": QUEUE,
                                    "enabled": True, "kwargs": "{}", "description": description,
                                    "expire_seconds": seconds})


def periodic_tasks_delete(*, state_ids: Iterable[int]) -> None:
    """Remove the rows of deleted states."""
    names = [f"(#{pk})" for pk in state_ids]
    for suffix in names:
        for task in PeriodicTask.objects.filter(name__endswith=suffix, task__in=[SCHEDULE_TASK, SENSOR_TASK]):
            task.delete()


def _sync_one(state: InstigatorState) -> None:
    definition = state.definition or {}
    desired: dict[str, Any] = {
        "queue": QUEUE,
        "enabled": state.is_running,
        "kwargs": json.dumps({"state_id": state.pk}),
        "description": (definition.get("description") or "")[:1000],
    }
    if state.kind == InstigatorKind.SCHEDULE:
        fields = crontab_fields(definition.get("cron_schedule") or "") or _EVERY_MINUTE
        desired.update(task=SCHEDULE_TASK, crontab=_crontab(fields, definition.get("execution_timezone") or "UTC"),
                       interval=None, expire_seconds=SCHEDULE_NUDGE_EXPIRES)
    else:
        every = max(int(definition.get("min_interval") or DEFAULT_SENSOR_INTERVAL), 1)
        desired.update(task=SENSOR_TASK, interval=_interval(every), crontab=None, expire_seconds=every)
    _save_if_changed(task_name(state), desired)


def _save_if_changed(name: str, desired: dict[str, Any]) -> None:
    task = PeriodicTask.objects.select_for_update().filter(name=name).first()
    if task is None:
        # PeriodicTask.save() bumps PeriodicTasks.last_update, which tells beat to reload its schedule.
        PeriodicTask.objects.create(name=name, **desired)
        return
    changed = [key for key, value in desired.items() if getattr(task, key) != value]
    if changed:
        for key in changed:
            setattr(task, key, desired[key])
        task.save()


def _crontab(fields: tuple[str, ...], tz: str) -> CrontabSchedule:
    minute, hour, day_of_month, month, day_of_week = fields
    lookup = {"minute": minute, "hour": hour, "day_of_month": day_of_month, "month_of_year": month,
              "day_of_week": day_of_week, "timezone": tz}
    # No unique constraint on these rows: reuse the oldest equal one.
    return CrontabSchedule.objects.filter(**lookup).order_by("pk").first() or CrontabSchedule.objects.create(**lookup)


def _interval(seconds: int) -> IntervalSchedule:
    lookup = {"every": seconds, "period": IntervalSchedule.SECONDS}
    return IntervalSchedule.objects.filter(**lookup).order_by("pk").first() or IntervalSchedule.objects.create(**lookup)
