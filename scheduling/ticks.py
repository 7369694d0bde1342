"""Schedule and sensor ticks: due times computed from the stored state, evaluation in the code location
server, runs submitted through `run_submit` (Dagster's tags), the outcome recorded on the tick.

No network call happens inside a transaction: a tick is claimed (a row insert or a lease), evaluated,
and then its runs, its outcome and the new cursor are written in one transaction, so a daemon that
dies mid-tick leaves nothing half-done and the next one takes the tick over.
"""

from __future__ import annotations

import datetime as dt
import json
import traceback
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.exceptions import Conflict, NotFound
from core.faults import fault_point
from core.permissions import Actor
from orchestra._core.automation.cron import cron_ticks, next_tick
from runs import services as run_services
from runs.models import EventLogEntry, RunTag
from scheduling.conf import DEFAULT_SENSOR_INTERVAL, TICK_LEASE_SECONDS, max_catchup_runs, max_tick_retries
from scheduling.models import (
    InstigatorKind,
    InstigatorState,
    InstigatorStatus,
    SensorRunKey,
    Tick,
    TickStatus,
)
from workspace.client import CodeServerClient, CodeServerError
from workspace.models import CodeLocation, LocationStatus

SCHEDULE_NAME_TAG = "dagster/schedule_name"
SENSOR_NAME_TAG = "dagster/sensor_name"
TICK_TAG = "dagster/tick"
RUN_KEY_TAG = "dagster/run_key"
PARTITION_TAG = "dagster/partition"
SCHEDULED_TIME_TAG = ".dagster/scheduled_execution_time"


def ticks_after(state: InstigatorState, *, default: dt.datetime) -> dt.datetime:
    """Ticks are due strictly after the last one handled and after the schedule (re)started."""
    moments = [t for t in (state.last_scheduled_time, state.started_at) if t is not None]
    return max(moments) if moments else default


# --- schedule ticks -----------------------------------------------------------------------------


def schedule_tick(*, state_id: int, now: dt.datetime | None = None,
                  client: CodeServerClient | None = None) -> list[Tick]:
    """Evaluate every tick of a running schedule due at `now` (default: the current time) and submit its runs.

    Due times are the cron times after the last one handled (or after the schedule started) up to
    `now`, in the schedule's time zone. Catch-up follows Dagster: a schedule whose job is not
    partitioned runs only the latest due tick; a partitioned one up to `max_catchup_runs` (the
    latest ones). A tick another daemon has already claimed is left to it. Returns the ticks this
    call finished.
    """
    now = now or timezone.now()
    state = InstigatorState.objects.filter(pk=state_id, kind=InstigatorKind.SCHEDULE).first()
    if state is None or not state.is_running or not _location_loaded(state):
        return []
    definition = state.definition
    cron, tz = definition["cron_schedule"], definition.get("execution_timezone")
    start = ticks_after(state, default=now).timestamp()
    keep = max_catchup_runs() if definition.get("job_partitioned") else 1
    # Walked back from `now` and cut at the catch-up limit, so a schedule stopped for a year costs
    # `keep` steps, not a year of cron times.
    due: list[dt.datetime] = []
    for moment in cron_ticks(cron, tz, now, ascending=False):
        if moment.timestamp() <= start or len(due) == keep:
            break
        due.append(moment)
    due.reverse()
    ticks = []
    for scheduled_time in due:
        tick = _schedule_tick_at(state, scheduled_time, client)
        if tick is not None:
            ticks.append(tick)
    _supersede_interrupted_ticks(state, before=due[0] if due else now)
    state.refresh_from_db()
    handled = not due or (state.last_scheduled_time is not None and state.last_scheduled_time >= due[-1])
    # While a due tick is unfinished (another daemon holds it) this stays in the past, so the sweep retries.
    next_time = next_tick(cron, tz, now if handled else ticks_after(state, default=now))
    InstigatorState.objects.filter(pk=state.pk).update(next_tick_at=next_time)
    return ticks


def _schedule_tick_at(state: InstigatorState, scheduled_time: dt.datetime,
                      client: CodeServerClient | None) -> Tick | None:
    scheduled_time = scheduled_time.astimezone(dt.UTC)  # an aware time with fold=1 compares unequal across zones
    tick = _schedule_tick_claim(state, scheduled_time)
    if tick is None:
        return None
    fault_point("tick.evaluating")
    try:
        client = client or _client_for(state.location_name)
        result = client.evaluate_schedule(state.name, scheduled_time)
    except (CodeServerError, NotFound, Conflict) as exc:
        return _tick_fail(tick, _exception_data(exc), scheduled_time=scheduled_time)
    if result.get("error"):
        return _tick_fail(tick, result["error"], log_lines=result.get("log_lines"), scheduled_time=scheduled_time)
    requests = result.get("run_requests") or []
    extra = {TICK_TAG: str(tick.pk), SCHEDULED_TIME_TAG: scheduled_time.isoformat(),
             SCHEDULE_NAME_TAG: state.name}
    try:
        with transaction.atomic():
            runs = [_submit(state, request, extra) for request in requests]
            tick.status = TickStatus.SUCCESS if runs else TickStatus.SKIPPED
            tick.skip_reason = None if runs else result.get("skip_message")
            tick.error = None  # a retried tick that now succeeds
            tick.run_ids = [run.run_id for run in runs]
            tick.run_keys = [r["run_key"] for r in requests if r.get("run_key")]
            _tick_finish(tick, log_lines=result.get("log_lines"))
            _schedule_advance(state, scheduled_time)
            fault_point("tick.launching")
    except Exception as exc:  # noqa: BLE001 — any failure to submit is the tick's failure, recorded as data
        return _tick_fail(tick, _exception_data(exc), log_lines=result.get("log_lines"), scheduled_time=scheduled_time)
    fault_point("tick.recorded")
    return tick


def _schedule_tick_claim(state: InstigatorState, scheduled_time: dt.datetime) -> Tick | None:
    """Insert the tick for `scheduled_time`; a second daemon's insert fails on the unique constraint.

    A STARTED tick whose claim has expired (its daemon died) is taken over, and a FAILURE tick is
    evaluated again while it has failed no more than `max_tick_retries` times (Dagster's rule).
    """
    now = timezone.now()
    lease = now + dt.timedelta(seconds=TICK_LEASE_SECONDS)
    try:
        with transaction.atomic():
            return Tick.objects.create(state=state, kind=InstigatorKind.SCHEDULE, scheduled_time=scheduled_time,
                                       status=TickStatus.STARTED, timestamp=now, claimed_until=lease)
    except IntegrityError:
        pass
    retry = Q(status=TickStatus.FAILURE, failure_count__lte=max_tick_retries(), failure_count__gt=0)
    taken = Tick.objects.filter(state=state, scheduled_time=scheduled_time).filter(
        Q(status=TickStatus.STARTED, claimed_until__lt=now) | retry
    ).update(status=TickStatus.STARTED, claimed_until=lease, timestamp=now)
    return Tick.objects.get(state=state, scheduled_time=scheduled_time) if taken else None


def _schedule_advance(state: InstigatorState, scheduled_time: dt.datetime) -> None:
    InstigatorState.objects.filter(pk=state.pk).filter(
        Q(last_scheduled_time__isnull=True) | Q(last_scheduled_time__lt=scheduled_time)
    ).update(last_scheduled_time=scheduled_time, updated_at=timezone.now())


def _supersede_interrupted_ticks(state: InstigatorState, before: dt.datetime) -> None:
    """A tick whose daemon died and that the catch-up policy no longer runs is closed as skipped."""
    Tick.objects.filter(state=state, status=TickStatus.STARTED, scheduled_time__lt=before,
                        claimed_until__lt=timezone.now()).update(
        status=TickStatus.SKIPPED, end_timestamp=timezone.now(),
        skip_reason="The daemon stopped during this tick and a later tick was due; the catch-up policy runs "
                    "only the latest ticks.")


# --- sensor ticks -------------------------------------------------------------------------------


def sensor_tick(*, state_id: int, now: dt.datetime | None = None,
                client: CodeServerClient | None = None) -> Tick | None:
    """Evaluate a running sensor once, if its minimum interval has passed and no other daemon holds it.

    The evaluation gets the stored cursor, last run key and last tick time. Run requests whose run
    key the sensor already used are dropped (one run per sensor and run key, a database constraint);
    the runs, the new cursor and the tick's outcome are written in one transaction. An evaluation
    error, or a run that cannot be submitted, is a FAILURE tick with the error, and the cursor stays.
    Returns the tick, or None when nothing was evaluated.
    """
    now = now or timezone.now()
    real_now = timezone.now()
    state = InstigatorState.objects.filter(pk=state_id, kind=InstigatorKind.SENSOR).first()
    if state is None or not state.is_running or not _location_loaded(state):
        return None
    interval = int(state.definition.get("min_interval") or DEFAULT_SENSOR_INTERVAL)
    # Beat's interval and the task's arrival jitter: a nudge a moment early still ticks.
    earliest_last = now - dt.timedelta(seconds=max(interval - 1, 0))
    claimed = InstigatorState.objects.filter(
        pk=state.pk, status=InstigatorStatus.RUNNING, present=True
    ).filter(Q(tick_lease_until__isnull=True) | Q(tick_lease_until__lt=real_now)).filter(
        Q(last_tick_at__isnull=True) | Q(last_tick_at__lte=earliest_last)
    ).update(tick_lease_until=real_now + dt.timedelta(seconds=TICK_LEASE_SECONDS))
    if not claimed:
        return None
    state.refresh_from_db()
    Tick.objects.filter(state=state, status=TickStatus.STARTED).update(
        status=TickStatus.FAILURE, end_timestamp=real_now,
        error=_error("DaemonInterrupted", "The daemon stopped during this tick; nothing it evaluated was kept."))
    tick = Tick.objects.create(state=state, kind=InstigatorKind.SENSOR, status=TickStatus.STARTED, timestamp=now,
                               cursor_before=state.cursor)
    fault_point("tick.evaluating")
    try:
        client = client or _client_for(state.location_name)
        if state.definition.get("sensor_type") == "RUN_STATUS":
            result = _evaluate_run_status_sensor(state, client)
        else:
            asset_events = _asset_sensor_events(state) if state.definition.get("sensor_type") == "ASSET" else None
            result = client.evaluate_sensor(
                state.name, cursor=state.cursor, last_run_key=state.last_run_key, last_tick_time=state.last_tick_at,
                last_sensor_start_time=state.started_at.timestamp() if state.started_at else None,
                asset_events=asset_events)
    except (CodeServerError, NotFound, Conflict) as exc:
        return _sensor_fail(state, tick, _exception_data(exc))
    if result.get("error"):
        return _sensor_fail(state, tick, result["error"], log_lines=result.get("log_lines"))
    try:
        with transaction.atomic():
            _sensor_apply(state, tick, result)
            fault_point("tick.launching")
    except Exception as exc:  # noqa: BLE001 — recorded as the tick's failure, the cursor stays
        return _sensor_fail(state, tick, _exception_data(exc), log_lines=result.get("log_lines"))
    fault_point("tick.recorded")
    return tick


# The run event that puts a run in each status a run status sensor can watch.
RUN_STATUS_EVENTS = {
    "SUCCESS": "RUN_SUCCESS", "FAILURE": "RUN_FAILURE", "CANCELED": "RUN_CANCELED", "STARTED": "RUN_START",
    "STARTING": "RUN_STARTING", "QUEUED": "RUN_ENQUEUED", "CANCELING": "RUN_CANCELING",
}
RUN_STATUS_BATCH = 25  # runs handed to one evaluation; the rest wait for the next tick


def _evaluate_run_status_sensor(state: InstigatorState, client: CodeServerClient) -> dict[str, Any]:
    """Find the runs that reached the sensor's status after its event-id cursor and have the code
    server evaluate the sensor for each; the cursor advances to the last event handed over.

    A sensor without a cursor starts from the newest event (Dagster's "Initiating" skip), so
    history is not replayed when it is first turned on.
    """
    definition = state.definition
    record_id = _run_status_record_id(state.cursor)
    if record_id is None:
        latest = EventLogEntry.objects.aggregate(latest=Max("id"))["latest"] or 0
        cursor = json.dumps({"record_id": latest})
        return {"run_requests": [], "skip_message": f"Initiating {state.name}. Set cursor to {cursor}",
                "cursor": cursor}
    event_type = RUN_STATUS_EVENTS.get(definition.get("run_status"))
    events = EventLogEntry.objects.filter(id__gt=record_id, event_type=event_type).select_related("run")
    if not definition.get("monitor_all_code_locations"):
        events = events.filter(run__location_name=state.location_name)
    if definition.get("monitored_job_names"):
        events = events.filter(run__job_name__in=definition["monitored_job_names"])
    batch = list(events.order_by("id")[:RUN_STATUS_BATCH])
    if not batch:
        return {"run_requests": [], "skip_message": None, "cursor": state.cursor}
    tags: dict[int, dict[str, str]] = {}
    for run_pk, key, value in RunTag.objects.filter(run__in=[e.run for e in batch]).values_list("run", "key", "value"):
        tags.setdefault(run_pk, {})[key] = value
    runs = [{
        "run": {"job_name": e.run.job_name, "run_id": e.run.run_id, "status": e.run.status,
                "run_config": e.run.run_config, "tags": tags.get(e.run.pk, {}),
                "parent_run_id": e.run.parent_run_id, "root_run_id": e.run.root_run_id},
        "event": {"event_type": e.event_type, "message": e.message},
    } for e in batch]
    result = client.evaluate_sensor(state.name, cursor=state.cursor, last_run_key=state.last_run_key,
                                    last_tick_time=state.last_tick_at, run_status_runs=runs)
    if not result.get("error"):
        result["cursor"] = json.dumps({"record_id": batch[-1].id})
    return result


def _asset_sensor_events(state: InstigatorState) -> list[dict[str, Any]]:
    """The newest materialization of the asset sensor's asset after its cursor (the storage id the
    sensor stored), as the code server hands it to the sensor; older ones are passed over, as in Dagster."""
    path = list(state.definition.get("asset_key") or [])
    rows = EventLogEntry.objects.filter(event_type="ASSET_MATERIALIZATION", asset_key="/".join(path))
    if state.cursor and state.cursor.isdigit():
        rows = rows.filter(id__gt=int(state.cursor))
    row = rows.select_related("run").order_by("-id").first()
    if row is None:
        return []
    payload = row.payload or {}
    return [{
        "storage_id": row.id, "run_id": row.run_id, "job_name": row.run.job_name,
        "timestamp": row.timestamp.timestamp(), "step_key": row.step_key, "asset_key": path,
        "partition": row.partition, "description": payload.get("description"), "metadata": payload.get("metadata"),
        "tags": payload.get("tags"), "message": row.message,
    }]


def _run_status_record_id(cursor: str | None) -> int | None:
    try:
        return int(json.loads(cursor)["record_id"]) if cursor else None
    except (ValueError, KeyError, TypeError):
        return None  # a cursor someone set by hand that is not ours: start again from the newest event


def _sensor_apply(state: InstigatorState, tick: Tick, result: Mapping[str, Any]) -> None:
    for request in result.get("dynamic_partitions_requests") or []:
        if request["action"] == "add":
            run_services.dynamic_partitions_add(partitions_def_name=request["partitions_def_name"],
                                                partition_keys=request["partition_keys"], actor=instigator_actor(state))
        else:
            for key in request["partition_keys"]:
                run_services.dynamic_partition_delete(partitions_def_name=request["partitions_def_name"],
                                                      partition_key=key, actor=instigator_actor(state))
    extra = {TICK_TAG: str(tick.pk), SENSOR_NAME_TAG: state.name}
    runs, run_keys, already = [], [], []
    for request in result.get("run_requests") or []:
        run_key = request.get("run_key")
        if run_key is not None:
            try:
                with transaction.atomic():
                    key_row = SensorRunKey.objects.create(state=state, run_key=run_key, run_id="", tick=tick)
            except IntegrityError:
                already.append(run_key)
                continue
        run = _submit(state, request, extra)
        if run_key is not None:
            key_row.run_id = run.run_id
            key_row.save(update_fields=["run_id"])
            run_keys.append(run_key)
        runs.append(run)
    tick.run_ids = [run.run_id for run in runs]
    tick.run_keys = run_keys
    tick.cursor_after = result.get("cursor")
    if runs:
        tick.status = TickStatus.SUCCESS
    else:
        tick.status = TickStatus.SKIPPED
        tick.skip_reason = result.get("skip_message") or (
            f"Run requests skipped: runs already requested for run keys {', '.join(already)}" if already else None)
    _tick_finish(tick, log_lines=result.get("log_lines"))
    InstigatorState.objects.filter(pk=state.pk).update(
        cursor=result.get("cursor"), last_run_key=run_keys[-1] if run_keys else state.last_run_key,
        last_tick_at=tick.timestamp, tick_lease_until=None, updated_at=timezone.now())


def _sensor_fail(state: InstigatorState, tick: Tick, error: Mapping[str, Any],
                 log_lines: list | None = None) -> Tick:
    with transaction.atomic():
        tick = _tick_fail(tick, error, log_lines=log_lines)
        InstigatorState.objects.filter(pk=state.pk).update(last_tick_at=tick.timestamp, tick_lease_until=None)
    return tick


# --- shared -------------------------------------------------------------------------------------


def instigator_actor(state: InstigatorState) -> Actor:
    """Who acts for a schedule or sensor tick: `schedule:<name>` or `sensor:<name>`."""
    return Actor(kind=state.kind.lower(), name=state.name)


def _submit(state: InstigatorState, request: Mapping[str, Any], extra_tags: Mapping[str, str]) -> Any:
    tags = {str(k): str(v) for k, v in (request.get("tags") or {}).items()}
    tags.update(extra_tags)
    if request.get("run_key"):
        tags[RUN_KEY_TAG] = request["run_key"]
    if request.get("partition_key") and PARTITION_TAG not in tags:
        tags[PARTITION_TAG] = request["partition_key"]
    asset_selection = request.get("asset_selection")
    check_selection = request.get("asset_check_keys")
    return run_services.run_submit(
        job_name=request.get("job_name") or state.definition.get("job_name"),
        location_name=state.location_name,
        repository_name=state.repository_name or None,
        run_config=request.get("run_config") or {},
        tags=tags,
        asset_selection=["/".join(key) for key in asset_selection] if asset_selection is not None else None,
        asset_check_selection=[f"{'/'.join(c['asset_key'])}:{c['name']}" for c in check_selection]
        if check_selection is not None else None,
        actor=instigator_actor(state),
    )


def _tick_finish(tick: Tick, log_lines: list | None = None) -> None:
    tick.end_timestamp = timezone.now()
    tick.claimed_until = None
    tick.log_lines = list(log_lines or [])
    tick.save()


@transaction.atomic
def _tick_fail(tick: Tick, error: Mapping[str, Any], log_lines: list | None = None,
               scheduled_time: dt.datetime | None = None) -> Tick:
    tick.status = TickStatus.FAILURE
    tick.error = dict(error)
    tick.run_ids = []
    tick.run_keys = []
    tick.failure_count += 1
    _tick_finish(tick, log_lines=log_lines)
    if scheduled_time is not None and tick.failure_count > max_tick_retries():
        # Out of retries (Dagster's max_tick_retries, 0 by default): the schedule moves on.
        _schedule_advance(tick.state, scheduled_time)
    return tick


def _location_loaded(state: InstigatorState) -> bool:
    """False while the location (re)loads: its ticks wait (due times are kept), they do not fail."""
    status = CodeLocation.objects.filter(name=state.location_name).values_list("status", flat=True).first()
    return status != LocationStatus.LOADING


def _client_for(location_name: str) -> CodeServerClient:
    location = CodeLocation.objects.filter(name=location_name).only("status", "server").first()
    if location is None:
        raise NotFound("code location", location_name)
    server = location.server or {}
    if location.status != LocationStatus.LOADED or not server.get("host") or not server.get("port"):
        raise Conflict(f"code location {location_name!r} is not loaded (status {location.status}); "
                       "its code server cannot evaluate anything")
    return CodeServerClient(server["host"], int(server["port"]))


def _exception_data(exc: BaseException) -> dict[str, Any]:
    return {"cls_name": type(exc).__name__, "message": str(exc),
            "stack": traceback.format_tb(exc.__traceback__), "cause": None}


def _error(cls_name: str, message: str) -> dict[str, Any]:
    return {"cls_name": cls_name, "message": message, "stack": [], "cause": None}


# --- previews (nothing recorded) -------------------------------------------------------------------


def schedule_preview(*, location_name: str, name: str, scheduled_time: dt.datetime | None = None,
                     client: CodeServerClient | None = None) -> dict[str, Any]:
    """Evaluate a schedule for `scheduled_time` (default: its next tick) without recording a tick or
    submitting runs (Dagster's dry run): `{scheduled_time, run_requests, skip_message, error}`."""
    state = _state(InstigatorKind.SCHEDULE, location_name, name)
    definition = state.definition
    when = scheduled_time or next_tick(definition["cron_schedule"], definition.get("execution_timezone"),
                                       timezone.now())
    result = (client or _client_for(location_name)).evaluate_schedule(name, when)
    return {"scheduled_time": when, **{k: result.get(k) for k in ("run_requests", "skip_message", "error")}}


def sensor_preview(*, location_name: str, name: str, cursor: str | None = None, last_run_key: str | None = None,
                   client: CodeServerClient | None = None) -> dict[str, Any]:
    """Evaluate a sensor with `cursor` without recording a tick, storing the cursor or submitting runs:
    `{run_requests, skip_message, cursor, error}`."""
    state = _state(InstigatorKind.SENSOR, location_name, name)
    result = (client or _client_for(location_name)).evaluate_sensor(
        state.name, cursor=cursor, last_run_key=last_run_key, last_tick_time=None)
    return {k: result.get(k) for k in ("run_requests", "skip_message", "cursor", "error")}


def _state(kind: str, location_name: str, name: str) -> InstigatorState:
    state = InstigatorState.objects.filter(kind=kind, location_name=location_name, name=name, present=True).first()
    if state is None:
        raise NotFound(kind.lower(), f"{name}@{location_name}")
    return state
