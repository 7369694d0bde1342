"""Every change to schedules and sensors: reconciling them with the stored snapshots (and their beat
rows), starting and stopping them, sensor cursors, and the sweep. Their ticks live in
`scheduling.ticks` and are re-exported here, so callers use one module.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import Conflict, InvalidInput, NotFound
from core.services import audit_record
from orchestra._core.automation.cron import next_tick
from scheduling import beat
from scheduling.models import InstigatorKind, InstigatorState, InstigatorStatus
from scheduling.ticks import schedule_preview as schedule_preview
from scheduling.ticks import schedule_tick as schedule_tick
from scheduling.ticks import sensor_preview as sensor_preview
from scheduling.ticks import sensor_tick as sensor_tick
from scheduling.ticks import ticks_after
from workspace.models import CodeLocation, LocationStatus

logger = logging.getLogger(__name__)

# --- reconciling with the stored snapshots -----------------------------------------------------


def instigators_reconcile(*, location_name: str | None = None, force: bool = False, actor: Any = None
                          ) -> list[InstigatorState]:
    """Make the stored schedule and sensor states (and their beat rows) match the stored snapshots.

    For one location or all. A loaded location's definitions get a state each (new ones follow their
    `default_status`); definitions gone from it, and every definition of a location that failed to
    load or was removed, are marked absent (their beat rows disabled). A location still loading is
    left alone. Without `force`, a location whose snapshot id the states already carry is skipped.
    Idempotent: a second call changes no row. Returns the states of the reconciled locations.
    """
    locations = CodeLocation.objects.values_list("name", "status", "snapshot_id")
    if location_name is not None:
        locations = locations.filter(name=location_name)
    known = {name: (status, snapshot_id) for name, status, snapshot_id in locations}
    reconciled: list[InstigatorState] = []
    for name, (status, snapshot_id) in known.items():
        if status == LocationStatus.LOADING:
            continue
        if status == LocationStatus.LOADED:
            if not force and _in_step(name, snapshot_id):
                continue
            reconciled.extend(_reconcile_location(name))
        else:
            reconciled.extend(_mark_absent(InstigatorState.objects.filter(location_name=name, present=True)))
    if location_name is None:
        gone = InstigatorState.objects.filter(present=True).exclude(location_name__in=list(known))
    else:
        gone = InstigatorState.objects.none() if location_name in known else InstigatorState.objects.filter(
            location_name=location_name, present=True)
    reconciled.extend(_mark_absent(gone))
    beat.sweep_task_ensure()
    return reconciled


def _in_step(location_name: str, snapshot_id: str) -> bool:
    states = InstigatorState.objects.filter(location_name=location_name, present=True)
    if not snapshot_id or states.exclude(snapshot_id=snapshot_id).exists():
        return False
    if states.exists():
        return True
    # No states: in step only if the snapshot defines none (read without loading the whole snapshot).
    defined = CodeLocation.objects.filter(name=location_name).values_list("snapshot__schedules", "snapshot__sensors")
    return all(not part for row in defined for part in row)


def _reconcile_location(location_name: str) -> list[InstigatorState]:
    for attempt in range(2):
        try:
            with transaction.atomic():
                states = _reconcile_location_once(location_name)
            break
        except IntegrityError:
            if attempt:  # another process created the same states at the same moment; the retry sees them
                raise
    beat.periodic_tasks_sync(states=states)
    return states


def _reconcile_location_once(location_name: str) -> list[InstigatorState]:
    location = CodeLocation.objects.filter(name=location_name, status=LocationStatus.LOADED).first()
    if location is None or location.snapshot is None:
        return []
    snapshot = location.snapshot
    partitioned_jobs = {job["name"] for job in snapshot.get("jobs", []) if job.get("partitions")}
    definitions = [(InstigatorKind.SCHEDULE, s) for s in snapshot.get("schedules", [])]
    definitions += [(InstigatorKind.SENSOR, s) for s in snapshot.get("sensors", [])]
    existing = {(s.kind, s.name): s for s in
                InstigatorState.objects.select_for_update().filter(location_name=location_name)}
    now = timezone.now()
    states = []
    for kind, definition in definitions:
        definition = dict(definition)
        if kind == InstigatorKind.SCHEDULE:
            definition["job_partitioned"] = definition.get("job_name") in partitioned_jobs
        state = existing.pop((kind, definition["name"]), None)
        if state is None:
            state = InstigatorState(kind=kind, location_name=location_name, name=definition["name"], created_at=now)
        before = _comparable(state)
        timing = (state.definition.get("cron_schedule"), state.definition.get("execution_timezone"), state.is_running)
        state.repository_name = snapshot.get("repository_name") or ""
        state.definition = definition
        state.snapshot_id = location.snapshot_id
        state.default_status = definition.get("default_status") or InstigatorStatus.STOPPED
        was_running = state.pk is not None and state.is_running
        state.present = True
        if not state.status_overridden:
            state.status = state.default_status
        if state.is_running and not was_running:
            state.started_at = now
        if state.next_tick_at is None or timing != (definition.get("cron_schedule"),
                                                     definition.get("execution_timezone"), state.is_running):
            _set_next_tick(state, now)  # a cron walk: only when the timing changed (1,000 schedules add up)
        if state.pk is None or _comparable(state) != before:
            state.updated_at = now
            state.save()
        states.append(state)
    states.extend(_mark_absent_rows(list(existing.values()), now))
    return states


def _comparable(state: InstigatorState) -> tuple:
    return (state.repository_name, state.definition, state.snapshot_id, state.default_status, state.status,
            state.present, state.started_at, state.next_tick_at)


def _mark_absent(queryset) -> list[InstigatorState]:
    with transaction.atomic():
        states = _mark_absent_rows(list(queryset.select_for_update()), timezone.now())
    beat.periodic_tasks_sync(states=states)
    return states


def _mark_absent_rows(states: list[InstigatorState], now: dt.datetime) -> list[InstigatorState]:
    for state in states:
        if state.present:
            state.present = False
            state.next_tick_at = None
            state.updated_at = now
            state.save(update_fields=["present", "next_tick_at", "updated_at"])
    return states


def _set_next_tick(state: InstigatorState, now: dt.datetime) -> None:
    if state.kind != InstigatorKind.SCHEDULE or not state.is_running:
        state.next_tick_at = None
        return
    state.next_tick_at = next_tick(state.definition["cron_schedule"], state.definition.get("execution_timezone"),
                                   ticks_after(state, default=now))


# --- starting, stopping, cursors ----------------------------------------------------------------


def schedule_start(*, location_name: str, name: str, actor: Any = None) -> InstigatorState:
    """Start a schedule: ticks are due from now on (never from before, so no back-fill of old ticks)."""
    return _status_set(kind=InstigatorKind.SCHEDULE, location_name=location_name, name=name,
                       status=InstigatorStatus.RUNNING, actor=actor)


def schedule_stop(*, location_name: str, name: str, actor: Any = None) -> InstigatorState:
    return _status_set(kind=InstigatorKind.SCHEDULE, location_name=location_name, name=name,
                       status=InstigatorStatus.STOPPED, actor=actor)


def sensor_start(*, location_name: str, name: str, actor: Any = None) -> InstigatorState:
    return _status_set(kind=InstigatorKind.SENSOR, location_name=location_name, name=name,
                       status=InstigatorStatus.RUNNING, actor=actor)


def sensor_stop(*, location_name: str, name: str, actor: Any = None) -> InstigatorState:
    return _status_set(kind=InstigatorKind.SENSOR, location_name=location_name, name=name,
                       status=InstigatorStatus.STOPPED, actor=actor)


def instigator_reset(*, kind: str, location_name: str, name: str, actor: Any = None) -> InstigatorState:
    """Forget a start or stop: the definition's `default_status` applies again (Dagster's reset)."""
    with transaction.atomic():
        state = _state_for_update(kind=kind, location_name=location_name, name=name)
        state.status_overridden = False
        _apply_status(state, state.default_status)
        audit_record(actor=actor, action=f"{kind.lower()}.reset", target_type=kind.lower(), target_id=name,
                     location_name=location_name, details={"status": state.status})
    beat.periodic_tasks_sync(states=[state])
    return state


@transaction.atomic
def sensor_cursor_set(*, location_name: str, name: str, cursor: str | None, actor: Any = None) -> InstigatorState:
    """Set (or with None, clear) the cursor the sensor's next evaluation gets."""
    if cursor is not None and not isinstance(cursor, str):
        raise InvalidInput(f"a sensor cursor must be a string or null, got {type(cursor).__name__}")
    state = _state_for_update(kind=InstigatorKind.SENSOR, location_name=location_name, name=name)
    audit_record(actor=actor, action="sensor.cursor_set", target_type="sensor", target_id=name,
                 location_name=location_name, details={"cursor": cursor, "previous": state.cursor})
    state.cursor = cursor
    state.updated_at = timezone.now()
    state.save(update_fields=["cursor", "updated_at"])
    return state


def _status_set(*, kind: str, location_name: str, name: str, status: str, actor: Any = None) -> InstigatorState:
    with transaction.atomic():
        state = _state_for_update(kind=kind, location_name=location_name, name=name)
        if not state.present:
            raise Conflict(f"{kind.lower()} {name!r} is no longer defined in code location {location_name!r}")
        state.status_overridden = True
        _apply_status(state, status)
        verb = "start" if status == InstigatorStatus.RUNNING else "stop"
        audit_record(actor=actor, action=f"{kind.lower()}.{verb}", target_type=kind.lower(), target_id=name,
                     location_name=location_name)
    beat.periodic_tasks_sync(states=[state])
    return state


def _apply_status(state: InstigatorState, status: str) -> None:
    now = timezone.now()
    if status == InstigatorStatus.RUNNING and state.status != InstigatorStatus.RUNNING:
        state.started_at = now
        state.tick_lease_until = None
    state.status = status
    _set_next_tick(state, now)
    state.updated_at = now
    state.save()


def _state_for_update(*, kind: str, location_name: str, name: str) -> InstigatorState:
    try:
        return InstigatorState.objects.select_for_update().get(kind=kind, location_name=location_name, name=name)
    except InstigatorState.DoesNotExist:
        raise NotFound(kind.lower(), f"{name}@{location_name}") from None


def scheduling_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Reconcile locations whose snapshot changed, and answer the running schedules with a tick due.

    The safety net under beat's per-schedule rows (see `scheduling.beat`); its caller enqueues a
    tick task for each id (a tick already handled is a no-op).
    """
    now = now or timezone.now()
    instigators_reconcile()
    return list(InstigatorState.objects.filter(
        kind=InstigatorKind.SCHEDULE, status=InstigatorStatus.RUNNING, present=True, next_tick_at__lte=now,
    ).order_by("next_tick_at").values_list("pk", flat=True))


def schedules_wipe(*, actor: Any = None) -> int:
    """Turn off every schedule and delete every schedule tick (Dagster's `schedule wipe`); answers how many
    ticks were deleted."""
    from scheduling.models import Tick

    for state in InstigatorState.objects.filter(kind=InstigatorKind.SCHEDULE, present=True,
                                                status=InstigatorStatus.RUNNING):
        schedule_stop(location_name=state.location_name, name=state.name, actor=actor)
    with transaction.atomic():
        deleted, _ = Tick.objects.filter(kind=InstigatorKind.SCHEDULE).delete()
        audit_record(actor=actor, action="schedule.wipe", target_type="instance", target_id="",
                     details={"ticks": deleted})
    return deleted
