"""The scheduling app's REST endpoints (django-ninja): schedules and sensors with their state and recent ticks,
starting and stopping them, sensor cursors, and backfills. Thin: selectors read, services change, each change
behind its permission; domain errors become 404 / 400 / 409 in `orchestra_site.api`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from core.permissions import actor_from_request
from scheduling import backfills, selectors, services
from scheduling.models import Backfill, InstigatorKind, InstigatorState, Tick

router = Router(tags=["schedules, sensors and backfills"])

TICKS_SHOWN = 5


class ErrorOut(Schema):
    detail: str


class TickOut(Schema):
    id: int
    status: str = Field(description="STARTED, SKIPPED, SUCCESS or FAILURE.")
    timestamp: datetime
    end_timestamp: datetime | None
    scheduled_time: datetime | None
    run_ids: list[str]
    run_keys: list[str]
    skip_reason: str | None
    error: dict[str, Any] | None = Field(description="{cls_name, message, stack, cause} of a failed tick.")
    cursor_before: str | None
    cursor_after: str | None


class InstigatorOut(Schema):
    name: str
    location_name: str
    repository_name: str
    status: str = Field(description="RUNNING or STOPPED (the definition's default until someone changes it).")
    default_status: str
    status_overridden: bool
    present: bool = Field(description="False once the definition is gone from its location.")
    job_name: str | None
    description: str | None
    cron_schedule: Any = Field(None, description="Schedules: a cron string or a list of them.")
    execution_timezone: str | None = None
    next_tick_at: datetime | None = None
    min_interval_seconds: int | None = Field(None, description="Sensors: the least time between two ticks.")
    sensor_type: str | None = None
    cursor: str | None = None
    last_run_key: str | None = None
    last_tick_at: datetime | None = None
    recent_ticks: list[TickOut]


class CursorIn(Schema):
    cursor: str | None = Field(description="The cursor the next evaluation gets; null clears it.")


class BackfillIn(Schema):
    location_name: str = Field("", description="Required with job_name; for assets, defaults to the location "
                                                "that has the first asset.")
    job_name: str = Field("", description="A partitioned job; or give asset_selection.")
    asset_selection: list[str] | None = Field(None, description="Asset keys (`a/b`) sharing one partitions "
                                                                "definition, run per partition in their asset job.")
    partition_names: list[str] | None = Field(None, description="The partitions to run.")
    partition_range: tuple[str, str] | None = Field(None, description="First and last partition, inclusive.")
    all_partitions: bool = False
    tags: dict[str, str] = Field(default_factory=dict)
    max_runs_in_flight: int | None = Field(None, ge=1)


class BackfillOut(Schema):
    backfill_id: str
    status: str = Field(description="Dagster's BulkActionStatus: REQUESTED, COMPLETED_SUCCESS, COMPLETED_FAILED, "
                                    "FAILED, CANCELING or CANCELED.")
    location_name: str
    repository_name: str
    job_name: str
    asset_selection: list[str] = Field(description="The asset keys of an asset backfill; empty for a job's.")
    partition_names: list[str]
    submitted: int = Field(description="How many partitions have their run (an asset backfill with backfill "
                                       "policies: how many of its planned runs are submitted or skipped).")
    tags: dict[str, str]
    max_runs_in_flight: int | None
    from_failure_of: str
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


def _tick(tick: Tick) -> dict[str, Any]:
    return {"id": tick.pk, "status": tick.status, "timestamp": tick.timestamp, "end_timestamp": tick.end_timestamp,
            "scheduled_time": tick.scheduled_time, "run_ids": tick.run_ids or [], "run_keys": tick.run_keys or [],
            "skip_reason": tick.skip_reason, "error": tick.error, "cursor_before": tick.cursor_before,
            "cursor_after": tick.cursor_after}


def _out(state: InstigatorState, ticks: list[Tick]) -> dict[str, Any]:
    definition = state.definition or {}
    out = {"name": state.name, "location_name": state.location_name, "repository_name": state.repository_name,
           "status": "RUNNING" if state.is_running else "STOPPED", "default_status": state.default_status,
           "status_overridden": state.status_overridden, "present": state.present,
           "job_name": definition.get("job_name"), "description": definition.get("description"),
           "recent_ticks": [_tick(t) for t in ticks]}
    if state.kind == InstigatorKind.SCHEDULE:
        out.update(cron_schedule=definition.get("cron_schedule"),
                   execution_timezone=definition.get("execution_timezone"), next_tick_at=state.next_tick_at)
    else:
        out.update(min_interval_seconds=int(definition.get("min_interval") or 30),
                   sensor_type=definition.get("sensor_type"), cursor=state.cursor, last_run_key=state.last_run_key,
                   last_tick_at=state.last_tick_at)
    return out


def _list(kind: str, location: str | None, status: str | None, ticks: int) -> list[dict[str, Any]]:
    states = list(selectors.instigator_list(kind=kind, location_name=location))
    if status is not None:
        states = [s for s in states if ("RUNNING" if s.is_running else "STOPPED") == status]
    recent = selectors.ticks_recent_by_state(state_ids=[s.pk for s in states], limit=ticks) if ticks else {}
    return [_out(s, recent.get(s.pk, [])) for s in states]


def _one(kind: str, location: str, name: str, ticks: int) -> dict[str, Any]:
    state = selectors.instigator_get(kind=kind, location_name=location, name=name)
    return _out(state, list(selectors.tick_list(state_id=state.pk, limit=ticks)) if ticks else [])


def _actor(request: HttpRequest) -> Any:
    return actor_from_request(request)


Running = Literal["RUNNING", "STOPPED"]
TicksShown = Query(TICKS_SHOWN, ge=0, le=100, description="How many recent ticks to include.")
StateResponses = {200: InstigatorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


# --- schedules and sensors -------------------------------------------------------------------------
# The two resources answer the same six operations; one builder registers them for each, named as
# handlers (`list_schedules`, `start_sensor`, ...) so operation ids and permission rules can name them.


def _named(name: str, handler: Any) -> Any:
    handler.__name__ = handler.__qualname__ = name
    return handler


def _instigator_routes(kind: str, noun: str, start: Any, stop: Any) -> dict[str, Any]:
    """Register the list, get, ticks, start, stop and reset operations of `/<noun>s`; answer the handlers."""
    plural, base = f"{noun}s", f"/{noun}s/{{location}}/{{name}}"

    def list_states(request: HttpRequest, location: str | None = None, status: Running | None = None,
                    ticks: int = TicksShown):
        return _list(kind, location, status, ticks)

    def get_state(request: HttpRequest, location: str, name: str, ticks: int = Query(20, ge=0, le=1000)):
        return _one(kind, location, name, ticks)

    def state_ticks(request: HttpRequest, location: str, name: str, limit: int = Query(50, ge=1, le=1000),
                    before: int | None = Query(None, description="Only ticks with an id below this one.")):
        state = selectors.instigator_get(kind=kind, location_name=location, name=name)
        return [_tick(t) for t in selectors.tick_list(state_id=state.pk, limit=limit, before_id=before)]

    def start_state(request: HttpRequest, location: str, name: str):
        start(location_name=location, name=name, actor=_actor(request))
        return _one(kind, location, name, TICKS_SHOWN)

    def stop_state(request: HttpRequest, location: str, name: str):
        stop(location_name=location, name=name, actor=_actor(request))
        return _one(kind, location, name, TICKS_SHOWN)

    def reset_state(request: HttpRequest, location: str, name: str):
        services.instigator_reset(kind=kind, location_name=location, name=name, actor=_actor(request))
        return _one(kind, location, name, TICKS_SHOWN)

    handlers = {
        f"list_{plural}": router.get(f"/{plural}", response=list[InstigatorOut],
                                     summary=f"List {plural} with their state and recent ticks")(
            _named(f"list_{plural}", list_states)),
        f"get_{noun}": router.get(base, response={200: InstigatorOut, 404: ErrorOut}, summary=f"Get a {noun}")(
            _named(f"get_{noun}", get_state)),
        f"{noun}_ticks": router.get(f"{base}/ticks", response={200: list[TickOut], 404: ErrorOut},
                                    summary=f"A {noun}'s ticks, newest first")(_named(f"{noun}_ticks", state_ticks)),
        f"start_{noun}": router.post(f"{base}/start", response=StateResponses, summary=f"Start a {noun}")(
            _named(f"start_{noun}", start_state)),
        f"stop_{noun}": router.post(f"{base}/stop", response=StateResponses, summary=f"Stop a {noun}")(
            _named(f"stop_{noun}", stop_state)),
        f"reset_{noun}": router.post(f"{base}/reset", response=StateResponses,
                                     summary=f"Reset a {noun} to its default status")(
            _named(f"reset_{noun}", reset_state)),
    }
    return handlers


_schedules = _instigator_routes(InstigatorKind.SCHEDULE, "schedule", services.schedule_start, services.schedule_stop)
list_schedules, get_schedule, schedule_ticks = (_schedules[k] for k in ("list_schedules", "get_schedule",
                                                                       "schedule_ticks"))
start_schedule, stop_schedule, reset_schedule = (_schedules[k] for k in ("start_schedule", "stop_schedule",
                                                                        "reset_schedule"))
_sensors = _instigator_routes(InstigatorKind.SENSOR, "sensor", services.sensor_start, services.sensor_stop)
list_sensors, get_sensor, sensor_ticks = (_sensors[k] for k in ("list_sensors", "get_sensor", "sensor_ticks"))
start_sensor, stop_sensor, reset_sensor = (_sensors[k] for k in ("start_sensor", "stop_sensor", "reset_sensor"))


@router.put("/sensors/{location}/{name}/cursor", response=StateResponses, summary="Set or clear a sensor's cursor")
def set_sensor_cursor(request: HttpRequest, location: str, name: str, body: CursorIn):
    services.sensor_cursor_set(location_name=location, name=name, cursor=body.cursor, actor=_actor(request))
    return _one(InstigatorKind.SENSOR, location, name, TICKS_SHOWN)


# --- backfills --------------------------------------------------------------------------------------


@router.get("/backfills", response=list[BackfillOut], summary="List backfills, newest first")
def list_backfills(request: HttpRequest, status: str | None = None, limit: int = Query(50, ge=1, le=1000)):
    return selectors.backfill_list(status=status, limit=limit)


@router.post("/backfills", response={201: BackfillOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="Create a backfill of a partitioned job or partitioned assets")
def create_backfill(request: HttpRequest, body: BackfillIn):
    """One run per partition, submitted progressively by the daemon. Give exactly one of `partition_names`,
    `partition_range` or `all_partitions`, and one of `job_name` or `asset_selection`."""
    backfill = backfills.backfill_create(
        location_name=body.location_name, job_name=body.job_name, asset_selection=body.asset_selection,
        partition_names=body.partition_names,
        partition_range=tuple(body.partition_range) if body.partition_range else None,
        all_partitions=body.all_partitions, tags=body.tags, max_runs_in_flight=body.max_runs_in_flight,
        actor=_actor(request))
    return Status(201, backfill)


def _backfill(backfill_id: str) -> Backfill:
    return selectors.backfill_get(backfill_id=backfill_id)


@router.get("/backfills/{backfill_id}", response={200: BackfillOut, 404: ErrorOut}, summary="Get a backfill")
def get_backfill(request: HttpRequest, backfill_id: str):
    return _backfill(backfill_id)


@router.post("/backfills/{backfill_id}/cancel", response={200: BackfillOut, 403: ErrorOut, 404: ErrorOut,
                                                          409: ErrorOut}, summary="Cancel a backfill")
def cancel_backfill(request: HttpRequest, backfill_id: str):
    return backfills.backfill_cancel(backfill_id=backfill_id, actor=_actor(request))


@router.post("/backfills/{backfill_id}/reexecute", response={201: BackfillOut, 400: ErrorOut, 403: ErrorOut,
                                                             404: ErrorOut, 409: ErrorOut},
             summary="Re-execute a finished backfill's failed partitions as a new backfill")
def reexecute_backfill(request: HttpRequest, backfill_id: str):
    return Status(201, backfills.backfill_reexecute_failed(backfill_id=backfill_id, actor=_actor(request)))


@router.post("/backfills/{backfill_id}/resume", response={200: BackfillOut, 403: ErrorOut, 404: ErrorOut,
                                                          409: ErrorOut},
             summary="Resume a failed backfill's submission (failed runs are not retried)")
def resume_backfill(request: HttpRequest, backfill_id: str):
    return backfills.backfill_resume(backfill_id=backfill_id, actor=_actor(request))
